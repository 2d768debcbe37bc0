"""Check derivatives against finite differences.

A derivative is the limit of a difference quotient, so the quotient itself, taken with
a small step `h`, is an independent estimate of it: slow (two evaluations of `f` per
input) and only approximate, but it needs no calculus and so catches a wrong
backward rule. [`numerical_derivative`][backprop.gradcheck.numerical_derivative]
computes that estimate for a function of one number;
[`gradcheck`][backprop.gradcheck.gradcheck] compares it with the gradients the engine's
`backward()` produces for every input of an expression.

```python
from backprop import Value, gradcheck

assert gradcheck(lambda a, b: (a * b + b.tanh()) ** 2, [Value(0.5), Value(-1.5)])
```

For the tensor engine the same function checks the whole Jacobian: pass `Tensor`s and
let `f` return a `Tensor` of any shape.

```python
import numpy as np
from backprop import Tensor, gradcheck

x = Tensor(np.random.default_rng(0).normal(size=(2, 3)), requires_grad=True)
w = Tensor(np.random.default_rng(1).normal(size=(3, 4)), requires_grad=True)
assert gradcheck(lambda x, w: (x @ w).tanh(), [x, w])  # all 8 x (6 + 12) entries
```
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal, TypeVar

from backprop import scalar
from backprop._numpy import numpy as np  # None without numpy: then only Values are checked
from backprop.scalar import Value

if np is None:
    from backprop._numpy import NoTensor as Tensor
else:
    from backprop import tensor
    from backprop.tensor import Tensor, no_grad

__all__ = ["GradcheckError", "gradcheck", "numerical_derivative"]

Method = Literal["central", "forward", "backward"]
_METHODS = ("central", "forward", "backward")


class GradcheckError(AssertionError):
    """Raised by [`gradcheck`][backprop.gradcheck.gradcheck] when gradients disagree.

    It subclasses `AssertionError`, so a failing check reads like a failed `assert`
    in a test. The message lists every failing input; the same facts are in
    `failures`, one `dict` per failing input with the keys `index`, `label`,
    `analytic`, `numeric`, `abs_diff` and `rel_diff`. For `Tensor` inputs these describe
    the worst entry of the input's Jacobian, and the dict also has `output_index` and
    `input_index` (where that entry is), `mismatches` and `entries` (how many entries
    disagree, out of how many), and the two Jacobians `analytic_jacobian` and
    `numeric_jacobian` (one row per output entry, one column per input entry). In fast
    mode `analytic` and `numeric` are the two estimates of `vᵀ J u`.
    """

    def __init__(self, message: str, failures: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.failures: list[dict[str, Any]] = failures or []


def numerical_derivative(
    f: Callable[[float], Any], x: float, h: float = 1e-6, method: Method = "central"
) -> float:
    """Estimate `f'(x)` with a finite difference quotient.

    The three quotients and their truncation errors (from Taylor's theorem) are:

    | `method`     | quotient                     | error   |
    |--------------|------------------------------|---------|
    | `"forward"`  | `(f(x + h) - f(x)) / h`      | `O(h)`  |
    | `"backward"` | `(f(x) - f(x - h)) / h`      | `O(h)`  |
    | `"central"`  | `(f(x + h) - f(x - h)) / 2h` | `O(h²)` |

    Halving `h` roughly halves the error of the one-sided quotients but quarters the
    error of the central one, until floating-point round-off (which grows like
    `1/h`) takes over; `h` around `1e-6` is a good compromise for the central
    quotient in double precision.

    Args:
        f: A function of one float returning a float, or a `Value` (its `.data` is used).
        x: The point, a real number.
        h: The step, a positive finite number.
        method: `"central"`, `"forward"` or `"backward"`.

    Returns:
        The estimate of `f'(x)`, a float.

    Raises:
        TypeError: If `f` is not callable, `x` or `h` is not a real number, or `f`
            returns something that is neither a number nor a `Value`.
        ValueError: If `x` is not finite, `h` is not positive and finite, `method` is
            unknown, or `f` returns NaN or infinity (`x ± h` may be outside its domain).

    ```python
    from backprop import numerical_derivative


    def f(x):
        return 3 * x**2 - 4 * x + 5  # f'(x) = 6x - 4, so f'(3) = 14


    forward = numerical_derivative(f, 3.0, h=0.001, method="forward")
    central = numerical_derivative(f, 3.0, h=0.001)
    assert abs(forward - 14.003) < 1e-9  # off by 3h: the error is O(h)
    assert abs(central - 14.0) < 1e-9  # exact for a quadratic, up to round-off
    ```
    """
    _check_callable(f)
    x = _real("x", x)
    if not math.isfinite(x):
        raise ValueError(f"x must be finite, got {x!r}")
    h = _real("h", h)
    if not (h > 0.0 and math.isfinite(h)):
        raise ValueError(f"h must be a positive finite step, got {h!r}")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, _METHODS))}; got {method!r}")

    def at(point: float) -> float:
        y = _as_float(f(point), "f")
        if not math.isfinite(y):
            raise ValueError(
                f"f({point!r}) returned {y!r}; is x ± h outside the domain of f? "
                "Try a smaller h or another method."
            )
        return y

    # Divide by the step actually taken: x + h - x is not always exactly h in floats.
    if method == "central":
        hi, lo = x + h, x - h
    elif method == "forward":
        hi, lo = x + h, x
    else:
        hi, lo = x, x - h
    return (at(hi) - at(lo)) / (hi - lo)


def gradcheck(
    f: Callable[..., Value | Tensor],
    inputs: Sequence[Value | float] | Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    *,
    raise_exception: bool = True,
    fast: bool = False,
    seed: int | np.random.Generator | None = 2718,
) -> bool:
    """Compare the gradients from `backward()` with central differences.

    **Values.** `f(*inputs)` is evaluated once and `backward()` run on its result to get
    the analytic gradient of every input. Then, for each input in turn, its `.data` is
    moved to `data + eps` and `data - eps` and `f` evaluated again, giving the
    numeric derivative `(f₊ - f₋) / 2eps`. Input `i` passes when
    `|analytic - numeric| <= atol + rtol * |numeric|`. The defaults are PyTorch's; they
    are loose: a rule off by one part in 10,000 (a constant typed with four digits)
    passes them, while a correct float64 gradient usually agrees to about 1e-10
    relative. Pass `atol=1e-8, rtol=1e-6` to catch such small errors in smooth
    functions (the [check-a-gradient how-to](../how-to/check-a-gradient.md) measures both).

    **Tensors.** When the inputs are `Tensor`s, `f` may return a `Tensor` of any shape
    `y`, and the check covers the full Jacobian `J[j, i] = ∂y_j / ∂x_i` of every input
    that requires a gradient (the others are held fixed). Its rows come from
    `backward()`, which computes vector-Jacobian products `vᵀ J`: with `v` the basis
    vector `e_j`, that is row `j`. Its columns come from central differences, moving one
    entry `x_i` by `±eps`: column `i` is `(y₊ - y₋) / 2eps`. Each entry must pass the
    test above; an input fails with its worst entry reported. That costs one
    `backward()` per output entry and two evaluations of `f` per input entry: keep the
    shapes small (a few dozen entries).

    With `fast=True` only one number per input is compared, `vᵀ J u` for random unit
    vectors `u` (an input's shape) and `v` (the output's shape), as PyTorch's
    `gradcheck(fast_mode=True)` does: analytically `(vᵀ J) · u` from one `backward(v)`,
    numerically `v · (f(x + eps u) - f(x - eps u)) / 2eps`. A wrong rule almost surely
    changes that number, so this catches the same bugs for one `backward()` in all and
    two evaluations per input, whatever the shapes; it just cannot say which entry is
    wrong (run the full check on a small shape for that).

    The numeric side is only an estimate: its truncation error grows like `eps²` and
    its round-off error like `|f| · 1e-16 / eps`, so where `f` is large (say `1e8`)
    pass a larger `eps` or looser tolerances rather than trusting a failure blindly. For
    the same reason Tensor inputs must be float64: float32 round-off (about `1e-7`
    relative) would swamp differences taken with `eps = 1e-6`.

    `gradcheck` leaves everything as it found it: the inputs' `.data` is restored after
    each perturbation, and the `.grad` of every node that its `backward()` reaches (the
    inputs, and also any `Value` or `Tensor` that `f` uses from outside, such as a
    model's parameters) is put back to what it was before the check, even when the check
    fails or `f` raises. Like `torch.autograd.gradcheck`, it leaves no gradients behind.
    (Tensor inputs are never touched at all: `f` gets fresh leaf copies of them, so an
    input passed twice is checked as two variables.)

    Args:
        f: A function taking `len(inputs)` arguments and returning one scalar `Value`
            (for `Value` inputs) or a `Tensor` (for `Tensor` inputs). It must not depend
            on anything that changes between calls.
        inputs: The point at which to check: a non-empty sequence of `Value`s or real
            numbers (numbers are wrapped in fresh `Value`s), or of float64 `Tensor`s.
        eps: The step of the central differences, positive and finite.
        atol: Absolute tolerance, `>= 0`.
        rtol: Relative tolerance, `>= 0`.
        raise_exception: If `False`, return `False` on disagreement instead of raising.
        fast: Tensors only: compare `vᵀ J u` for random `u`, `v` instead of every entry.
        seed: The seed of the random `u` and `v` of the fast mode: an int, a
            `numpy.random.Generator`, or `None` for fresh entropy. The default is a
            fixed, unusual number, so that a check gives the same verdict on every run
            and `u`, `v` are not the very numbers of test data drawn with seed 0 (with
            `v` proportional to the input `x` of `x @ w`, a transposed gradient of `w`
            goes unseen).

    Returns:
        `True` if every gradient agrees (and `False` if not and `raise_exception` is
        `False`).

    Raises:
        GradcheckError: If any gradient disagrees; the message names each failing
            input by index (and label) with its analytic and numeric derivative and
            their absolute and relative difference (for a Tensor: at its worst entry).
        TypeError: If `f` is not callable, `inputs` is not a sequence of `Value`s or numbers, or of
            `Tensor`s (the two engines do not mix), a Tensor is not float64, or `f`
            does not return a `Value` (a `Tensor`).
        ValueError: If `inputs` is empty, no Tensor input requires a gradient, `f`
            returns several values (not a scalar) for `Value` inputs, its output changes
            shape at a moved point, or a tolerance is invalid.

    A deliberate bug: using `.data` cuts the graph, so `backward()` treats the second
    factor of `x * x` as a constant and finds half the true derivative.

    ```python
    from backprop import GradcheckError, Value, gradcheck

    x = Value(3.0, label="x")
    assert gradcheck(lambda x: x * x, [x])  # d(x²)/dx = 6 at x = 3
    try:
        gradcheck(lambda x: x * Value(x.data), [x])
    except GradcheckError as error:
        assert "input 0 'x'" in str(error)  # analytic 3, numeric 6
        assert error.failures[0]["analytic"] == 3.0
    else:
        raise AssertionError("the bug went unnoticed")
    assert x.data == 3.0 and x.grad == 0.0  # left as it was found
    assert gradcheck(lambda x: x * Value(x.data), [x], raise_exception=False) is False
    ```

    The same bug in the tensor engine: the Jacobian of `x * x` is diagonal, `2 x_i`,
    and the check finds `x_i` on the diagonal instead.

    ```python
    import numpy as np
    from backprop import GradcheckError, Tensor, gradcheck

    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert gradcheck(lambda x: x * x, [x]) and gradcheck(lambda x: x * x, [x], fast=True)
    try:
        gradcheck(lambda x: x * x.detach(), [x])
    except GradcheckError as error:
        worst = error.failures[0]
        assert worst["mismatches"] == 3 and worst["entries"] == 9  # the 3 diagonal entries
        assert worst["output_index"] == worst["input_index"] == (2,)  # d y[2] / d x[2]
        assert (worst["analytic"], round(worst["numeric"], 6)) == (3.0, 6.0)
        assert np.allclose(worst["numeric_jacobian"], np.diag([2.0, 4.0, 6.0]))
    else:
        raise AssertionError("the bug went unnoticed")
    assert x.grad is None  # left as it was found
    ```
    """
    _check_callable(f)
    eps = _real("eps", eps)
    if not (eps > 0.0 and math.isfinite(eps)):
        raise ValueError(f"eps must be a positive finite step, got {eps!r}")
    for name, tol in (("atol", atol), ("rtol", rtol)):
        if not (_real(name, tol) >= 0.0 and math.isfinite(tol)):
            raise ValueError(f"{name} must be finite and >= 0, got {tol!r}")
    items = _as_sequence(inputs)
    settings = f"eps={eps:g}, atol={atol:g}, rtol={rtol:g}"
    if any(isinstance(x, Tensor) for x in items):
        tensors = _as_tensors(items)
        checked = [i for i, t in enumerate(tensors) if t.requires_grad]
        if fast:
            failures = _check_tensors_fast(f, tensors, checked, eps, atol, rtol, seed)
        else:
            failures = _check_tensors(f, tensors, checked, eps, atol, rtol)
        count = f"{len(failures)} of {len(checked)} inputs"
        if fast:
            header = (
                f"gradcheck (fast): vᵀ J u, for random unit vectors u and v, disagrees for "
                f"{count} with central differences along u ({settings}); rerun with "
                f"fast=False to find the entries:"
            )
        else:
            header = (
                f"gradcheck: the Jacobian of {count} disagrees with central differences "
                f"({settings}):"
            )
        return _verdict(failures, header, raise_exception)
    if fast:
        raise ValueError(
            "fast=True is for Tensor inputs; with Values the check already costs one "
            "backward() and two evaluations of f per input"
        )
    values = _as_values(items)
    failures = _check_values(f, values, eps, atol, rtol)
    header = (
        f"gradcheck: the gradient of {len(failures)} of {len(values)} inputs disagrees with "
        f"central differences ({settings}):"
    )
    return _verdict(failures, header, raise_exception)


# --- the scalar engine ----------------------------------------------------------------


def _check_values(
    f: Callable[..., Value], values: list[Value], eps: float, atol: float, rtol: float
) -> list[dict[str, Any]]:
    """The failures of `gradcheck` for Value inputs, one per failing input."""
    # Analytic gradients. backward() accumulates into leaf grads, so zero the inputs'
    # grads first; every grad it touches is put back afterwards.
    out = _scalar_result(_evaluate(f, values))
    with _grads_restored([*values, *scalar.topological_order(out)]):
        for v in values:
            v.grad = 0.0
        out.backward()
        analytic = [float(v.grad) for v in values]

    # Numeric gradients, one input at a time.
    failures: list[dict[str, Any]] = []
    for i, v in enumerate(values):
        original = v.data
        try:
            numeric = _central(_value_moved(f, values, i), original, eps)
        finally:
            v.data = original
        if _disagree(analytic[i], numeric, atol, rtol):
            fail = _failure(i, v.label, analytic[i], numeric)
            fail["name"] = f"input {i}" + (f" {v.label!r}" if v.label else "")
            failures.append(fail)
    return failures


def _value_moved(f: Callable[..., Value], values: list[Value], i: int) -> Callable[[float], float]:
    """`f` as a function of input `i` alone, which it moves (the caller restores it)."""
    original = values[i].data

    def at(point: float) -> float:
        values[i].data = point
        where = f"input {i} moved from {original!r} to {point!r}"
        return _scalar_result(_evaluate(f, values, where)).data

    return at


def _as_values(inputs: Sequence[object]) -> list[Value]:
    values = []
    for i, x in enumerate(inputs):
        if isinstance(x, Value):
            values.append(x)
        elif isinstance(x, numbers.Real) and not isinstance(x, bool):
            values.append(Value(float(x)))
        else:
            raise TypeError(
                f"inputs[{i}] must be a Value or a real number, got {type(x).__name__} {x!r}"
            )
    return values


def _scalar_result(out: object) -> Value:
    """`out` if it is one `Value`, else an error that says what `f` returned instead."""
    if isinstance(out, Value):
        return out
    if not isinstance(out, str | bytes) and (
        isinstance(out, Sequence | set | frozenset) or hasattr(out, "__array__")
    ):
        try:
            size = f" of {len(out)} items"
        except TypeError:  # a 0-d NumPy array
            size = ""
        raise ValueError(
            f"f must return a single scalar Value, got a {type(out).__name__}{size}; "
            "reduce it to one Value first, e.g. with sum(...)"
        )
    raise TypeError(
        f"f must return a Value, got {type(out).__name__} {out!r}; build the result "
        "from the Value arguments so that backward() can reach them"
    )


# --- the tensor engine ----------------------------------------------------------------


def _check_tensors(
    f: Callable[..., Tensor],
    tensors: list[Tensor],
    checked: list[int],
    eps: float,
    atol: float,
    rtol: float,
) -> list[dict[str, Any]]:
    """The failures of the full Jacobian check, one per failing input (its worst entry)."""
    args = _fresh_leaves(tensors)
    out = _tensor_result(_evaluate(f, args))
    shape = out.shape

    # Analytic: row j of every Jacobian is the VJP with the basis vector e_j.
    analytic = {k: np.zeros((out.size, args[k].size)) for k in checked}
    if out.requires_grad:
        with _grads_restored(tensor.topological_order(out)):
            for j in range(out.size):
                basis = np.zeros(shape)
                basis.flat[j] = 1.0
                for k in checked:
                    args[k].grad = None
                out.backward(basis)
                for k in checked:
                    if args[k].grad is not None:
                        analytic[k][j] = args[k].grad.reshape(-1)
    del out  # the graph holds the arrays of the analytic pass: free it

    # Numeric: column i of input k's Jacobian moves entry i of input k by ±eps.
    failures: list[dict[str, Any]] = []
    for k in checked:
        x = args[k].data
        numeric = np.zeros_like(analytic[k])
        for i in range(x.size):
            numeric[:, i] = _central(_entry_moved(f, args, k, i, shape), float(x.flat[i]), eps)
        bad = _disagree(analytic[k], numeric, atol, rtol)
        if bad.any():
            failures.append(_worst(k, analytic[k], numeric, bad, atol, rtol, shape, x.shape))
    return failures


def _check_tensors_fast(
    f: Callable[..., Tensor],
    tensors: list[Tensor],
    checked: list[int],
    eps: float,
    atol: float,
    rtol: float,
    seed: int | np.random.Generator | None,
) -> list[dict[str, Any]]:
    """The failures of the fast check: `vᵀ J u` from `backward(v)` and along `u`."""
    rng = np.random.default_rng(seed)
    args = _fresh_leaves(tensors)
    out = _tensor_result(_evaluate(f, args))
    shape = out.shape
    v = _unit(rng.standard_normal(shape))
    directions = {k: _unit(rng.standard_normal(args[k].shape)) for k in checked}

    vjps = {k: np.zeros(args[k].shape) for k in checked}  # vᵀ J for every input
    if out.requires_grad:
        with _grads_restored(tensor.topological_order(out)):
            for k in checked:
                args[k].grad = None
            out.backward(v)
            for k in checked:
                if args[k].grad is not None:
                    vjps[k] = args[k].grad
    del out

    failures: list[dict[str, Any]] = []
    for k in checked:
        u = directions[k]
        analytic = float(np.vdot(vjps[k], u))
        numeric = float(np.vdot(v, _central(_direction_moved(f, args, k, u, shape), 0.0, eps)))
        if _disagree(analytic, numeric, atol, rtol):
            fail = _failure(k, "", analytic, numeric)
            fail["name"] = f"input {k} of shape {u.shape}: vᵀ J u"
            failures.append(fail)
    return failures


def _as_tensors(inputs: Sequence[object]) -> list[Tensor]:
    """The inputs, all Tensors, those to check float64, at least one to check."""
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(
                f"inputs[{i}] must be a Tensor like the other inputs (the scalar and tensor "
                f"engines do not mix), got {type(x).__name__}"
            )
        if x.requires_grad and x.dtype != np.float64:
            raise TypeError(
                f"inputs[{i}] is {x.dtype}: gradcheck needs float64 tensors, since float32 "
                f"round-off (about 1e-7) swamps central differences; pass "
                f"Tensor(x.data, requires_grad=True, dtype=np.float64)"
            )
    tensors = list(inputs)
    if not any(t.requires_grad for t in tensors):
        raise ValueError(
            "no input requires a gradient: create the tensors to check with requires_grad=True "
            "(the others are held fixed)"
        )
    return tensors


def _fresh_leaves(tensors: list[Tensor]) -> list[Tensor]:
    """Copies of the tensors to check as new leaves (the inputs are never touched), and
    the others as they are."""
    return [Tensor(t.data.copy(), requires_grad=True) if t.requires_grad else t for t in tensors]


def _entry_moved(
    f: Callable[..., Tensor], args: list[Tensor], k: int, i: int, shape: tuple[int, ...]
) -> Callable[[float], np.ndarray]:
    """`f`'s output, flattened, as a function of entry `i` of input `k` alone."""
    x = args[k].data
    index = _at("", tuple(int(a) for a in np.unravel_index(i, x.shape)))

    def at(point: float) -> np.ndarray:
        moved = x.copy()
        moved.flat[i] = point
        where = f"input {k} entry {index} moved from {float(x.flat[i])!r} to {point!r}"
        return _numeric_output(f, args, k, moved, shape, where)

    return at


def _direction_moved(
    f: Callable[..., Tensor], args: list[Tensor], k: int, u: np.ndarray, shape: tuple[int, ...]
) -> Callable[[float], np.ndarray]:
    """`f`'s output, flattened, as a function of `t` with input `k` moved to `x + t u`."""
    x = args[k].data

    def at(t: float) -> np.ndarray:
        where = f"input {k} moved by {t:g} along a random direction"
        return _numeric_output(f, args, k, x + t * u, shape, where)

    return at


def _numeric_output(
    f: Callable[..., Tensor],
    args: list[Tensor],
    k: int,
    moved: np.ndarray,
    shape: tuple[int, ...],
    where: str,
) -> np.ndarray:
    """`f`'s output, flattened (a copy: it may be a view of an input), with input `k`
    replaced by `moved`. No graph is recorded: only the numbers are needed."""
    point = list(args)
    point[k] = Tensor(moved, requires_grad=True)
    with no_grad():
        y = _tensor_result(_evaluate(f, point, where))
    if y.shape != shape:
        raise ValueError(
            f"f returned shape {y.shape} with {where}, but shape {shape} at the point itself"
        )
    return np.array(y.data, dtype=np.float64).reshape(-1)


def _tensor_result(out: object) -> Tensor:
    if not isinstance(out, Tensor):
        raise TypeError(
            f"f must return a Tensor for Tensor inputs, got {type(out).__name__}; build the "
            "result from the Tensor arguments so that backward() can reach them"
        )
    if out.dtype != np.float64:
        raise TypeError(
            f"f returned a {out.dtype} Tensor: gradcheck needs float64 throughout, since "
            "float32 round-off swamps central differences"
        )
    return out


def _worst(
    k: int,
    analytic: np.ndarray,
    numeric: np.ndarray,
    bad: np.ndarray,
    atol: float,
    rtol: float,
    out_shape: tuple[int, ...],
    in_shape: tuple[int, ...],
) -> dict[str, Any]:
    """The failure of input `k`: its entry furthest outside the tolerance."""
    excess = np.abs(analytic - numeric) / (atol + rtol * np.abs(numeric) + 1e-300)
    excess = np.where(bad, np.nan_to_num(excess, nan=np.inf), -1.0)
    j, i = np.unravel_index(int(np.argmax(excess)), analytic.shape)
    out_index = tuple(int(a) for a in np.unravel_index(j, out_shape))
    in_index = tuple(int(a) for a in np.unravel_index(i, in_shape))
    fail = _failure(k, "", float(analytic[j, i]), float(numeric[j, i]))
    mismatches = int(np.count_nonzero(bad))
    fail.update(
        output_index=out_index,
        input_index=in_index,
        mismatches=mismatches,
        entries=bad.size,
        analytic_jacobian=analytic,
        numeric_jacobian=numeric,
        name=(
            f"input {k} of shape {in_shape}: {mismatches} of {bad.size} Jacobian entries, "
            f"the worst d {_at('out', out_index)} / d {_at(f'x{k}', in_index)}"
        ),
    )
    return fail


def _at(name: str, index: tuple[int, ...]) -> str:
    """`name[1, 2]`, or just `name` for the one entry of a 0-d array."""
    return f"{name}[{', '.join(map(str, index))}]" if index else name or "[]"


def _unit(x: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(x))
    return x / norm if norm > 0 else x


# --- shared by both engines -------------------------------------------------------------

_Y = TypeVar("_Y", float, "np.ndarray")


def _central(at: Callable[[float], _Y], x: float, eps: float) -> _Y:
    """`(at(x + eps) - at(x - eps)) / 2eps`, the central difference quotient of `at`.

    It divides by the step actually taken: `x + eps - x` is not always exactly `eps`
    in floats."""
    hi, lo = x + eps, x - eps
    return (at(hi) - at(lo)) / (hi - lo)


def _disagree(analytic: Any, numeric: Any, atol: float, rtol: float) -> Any:
    """Where `|analytic - numeric| > atol + rtol * |numeric|` (or either is NaN)."""
    if isinstance(analytic, numbers.Real) and isinstance(numeric, numbers.Real):
        return not abs(analytic - numeric) <= atol + rtol * abs(numeric)  # no numpy needed
    return ~(np.abs(analytic - numeric) <= atol + rtol * np.abs(numeric))


def _failure(index: int, label: str, analytic: float, numeric: float) -> dict[str, Any]:
    diff = abs(analytic - numeric)
    return {
        "index": index,
        "label": label,
        "analytic": analytic,
        "numeric": numeric,
        "abs_diff": diff,
        "rel_diff": diff / abs(numeric) if numeric != 0 else math.inf,
    }


def _verdict(failures: list[dict[str, Any]], header: str, raise_exception: bool) -> bool:
    """`True`, or `False`, or the `GradcheckError` listing every failure under `header`."""
    if not failures:
        return True
    if not raise_exception:
        return False
    lines = [header]
    for fail in failures:
        lines.append(
            f"  {fail.pop('name')}: analytic {fail['analytic']:.8g}, numeric "
            f"{fail['numeric']:.8g}, abs diff {fail['abs_diff']:.3g}, "
            f"rel diff {fail['rel_diff']:.3g}"
        )
    raise GradcheckError("\n".join(lines), failures)


@contextmanager
def _grads_restored(nodes: Iterable[Value | Tensor]) -> Iterator[None]:
    """Put back the `.grad` of every node on leaving, whatever happened inside."""
    saved = [(node, node.grad) for node in nodes]
    try:
        yield
    finally:
        for node, grad in saved:
            node.grad = grad


def _evaluate(f: Callable[..., object], args: list[Any], where: str | None = None) -> object:
    """`f(*args)`; if it raises at a moved point, a note on the error says `where`."""
    try:
        return f(*args)
    except Exception as error:
        if where is not None:
            error.add_note(
                f"gradcheck: raised while evaluating f with {where}; if that is outside "
                "the domain of f, pass a smaller eps"
            )
        raise


def _check_callable(f: object) -> None:
    """Refuse an `f` that cannot be called (a common slip: passing `f(x)` for `f`)."""
    if not callable(f):
        raise TypeError(
            f"f must be a function (callable) of the inputs, got {type(f).__name__}: {f!r}; "
            "pass the function itself, e.g. lambda x: x * x, not its result"
        )


def _real(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    return float(value)


def _as_float(y: object, who: str) -> float:
    """The float in a number or a Value returned by `who`."""
    if isinstance(y, Value):
        y = y.data
    if isinstance(y, bool) or not isinstance(y, numbers.Real):
        raise TypeError(f"{who} must return a number or a Value, got {type(y).__name__} {y!r}")
    return float(y)


def _as_sequence(inputs: object) -> Sequence[object]:
    if isinstance(inputs, Value | Tensor):
        raise TypeError(
            f"inputs must be a sequence of {type(inputs).__name__}s, e.g. [x] rather than x"
        )
    if isinstance(inputs, str | bytes) or not isinstance(inputs, Sequence):
        raise TypeError(
            f"inputs must be a sequence (list or tuple) of Values or numbers, or of Tensors, "
            f"got {type(inputs).__name__}"
        )
    if len(inputs) == 0:
        raise ValueError("inputs is empty: gradcheck needs at least one input to check")
    return inputs
