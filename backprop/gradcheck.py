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
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, Literal

from backprop.scalar import Value, topological_order

__all__ = ["GradcheckError", "gradcheck", "numerical_derivative"]

Method = Literal["central", "forward", "backward"]
_METHODS = ("central", "forward", "backward")


class GradcheckError(AssertionError):
    """Raised by [`gradcheck`][backprop.gradcheck.gradcheck] when gradients disagree.

    It subclasses `AssertionError`, so a failing check reads like a failed `assert`
    in a test. The message lists every failing input; the same facts are in
    `failures`, one `dict` per failing input with the keys `index`, `label`,
    `analytic`, `numeric`, `abs_diff` and `rel_diff`.
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
        TypeError: If `x` or `h` is not a real number, or `f` returns something that
            is neither a number nor a `Value`.
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
    f: Callable[..., Value],
    inputs: Sequence[Value | float],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    *,
    raise_exception: bool = True,
) -> bool:
    """Compare the gradients from `backward()` with central differences.

    `f(*inputs)` is evaluated once and `backward()` run on its result to get the
    analytic gradient of every input. Then, for each input in turn, its `.data` is
    moved to `data + eps` and `data - eps` and `f` evaluated again, giving the
    numeric derivative `(f₊ - f₋) / 2eps`. Input `i` passes when
    `|analytic - numeric| <= atol + rtol * |numeric|`.

    The numeric side is only an estimate: its truncation error grows like `eps²` and
    its round-off error like `|f| · 1e-16 / eps`, so where `f` is large (say `1e8`)
    pass a larger `eps` or looser tolerances rather than trusting a failure blindly.

    `gradcheck` leaves everything as it found it: the inputs' `.data` is restored after
    each perturbation, and the `.grad` of every node that its `backward()` reaches (the
    inputs, and also any `Value` that `f` uses from outside, such as a model's
    parameters) is put back to what it was before the check, even when the check
    fails or `f` raises. Like `torch.autograd.gradcheck`, it leaves no gradients behind.

    Args:
        f: A function taking `len(inputs)` `Value` arguments and returning one scalar
            `Value`. It must not depend on anything that changes between calls.
        inputs: The point at which to check, a non-empty sequence of `Value`s or real
            numbers (numbers are wrapped in fresh `Value`s).
        eps: The step of the central differences, positive and finite.
        atol: Absolute tolerance, `>= 0`.
        rtol: Relative tolerance, `>= 0`.
        raise_exception: If `False`, return `False` on disagreement instead of raising.

    Returns:
        `True` if every gradient agrees (and `False` if not and `raise_exception` is
        `False`).

    Raises:
        GradcheckError: If any gradient disagrees; the message names each failing
            input by index and label with its analytic and numeric derivative and
            their absolute and relative difference.
        TypeError: If `inputs` is not a sequence of `Value`s or numbers, or `f` does
            not return a `Value`.
        ValueError: If `inputs` is empty, `f` returns several values (not a scalar),
            or a tolerance is invalid.

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
    """
    eps = _real("eps", eps)
    if not (eps > 0.0 and math.isfinite(eps)):
        raise ValueError(f"eps must be a positive finite step, got {eps!r}")
    for name, tol in (("atol", atol), ("rtol", rtol)):
        if not (_real(name, tol) >= 0.0 and math.isfinite(tol)):
            raise ValueError(f"{name} must be finite and >= 0, got {tol!r}")
    values = _as_values(inputs)

    # Analytic gradients. backward() accumulates into leaf grads, so zero the inputs'
    # grads first; remember every grad it will touch, to put them back afterwards.
    out = _evaluate(f, values)
    saved = [(node, node.grad) for node in _reachable(out, values)]
    try:
        for v in values:
            v.grad = 0.0
        out.backward()
        analytic = [float(v.grad) for v in values]
    finally:
        for node, grad in saved:
            node.grad = grad

    # Numeric gradients, one input at a time.
    failures: list[dict[str, Any]] = []
    for i, v in enumerate(values):
        original = v.data
        try:
            hi, lo = original + eps, original - eps
            v.data = hi
            f_hi = _evaluate(f, values, moved=(i, original, hi)).data
            v.data = lo
            f_lo = _evaluate(f, values, moved=(i, original, lo)).data
        finally:
            v.data = original
        numeric = (f_hi - f_lo) / (hi - lo)
        diff = abs(analytic[i] - numeric)
        ok = diff <= atol + rtol * abs(numeric)  # False when either side is NaN
        if not ok:
            failures.append(
                {
                    "index": i,
                    "label": getattr(v, "label", ""),
                    "analytic": analytic[i],
                    "numeric": numeric,
                    "abs_diff": diff,
                    "rel_diff": diff / abs(numeric) if numeric != 0 else math.inf,
                }
            )

    if not failures:
        return True
    if not raise_exception:
        return False
    lines = [
        f"gradcheck: the gradient of {len(failures)} of {len(values)} inputs disagrees with "
        f"central differences (eps={eps:g}, atol={atol:g}, rtol={rtol:g}):"
    ]
    for fail in failures:
        name = f"input {fail['index']}" + (f" {fail['label']!r}" if fail["label"] else "")
        lines.append(
            f"  {name}: analytic {fail['analytic']:.8g}, numeric {fail['numeric']:.8g}, "
            f"abs diff {fail['abs_diff']:.3g}, rel diff {fail['rel_diff']:.3g}"
        )
    raise GradcheckError("\n".join(lines), failures)


# --- helpers ----------------------------------------------------------------------


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


def _as_values(inputs: object) -> list[Value]:
    if isinstance(inputs, Value):
        raise TypeError("inputs must be a sequence of Values, e.g. [x] rather than x")
    if isinstance(inputs, str | bytes) or not isinstance(inputs, Sequence):
        raise TypeError(
            f"inputs must be a sequence (list or tuple) of Values or numbers, "
            f"got {type(inputs).__name__}"
        )
    if len(inputs) == 0:
        raise ValueError("inputs is empty: gradcheck needs at least one input to check")
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


def _evaluate(
    f: Callable[..., Value],
    values: list[Value],
    moved: tuple[int, float, float] | None = None,
) -> Value:
    """Call `f(*values)` and check that it returned one scalar Value.

    `moved` is `(index, original, perturbed)` when an input has been moved by ±eps, to
    explain an exception raised by `f` there.
    """
    try:
        out = f(*values)
    except Exception as error:
        if moved is not None:
            i, original, now = moved
            error.add_note(
                f"gradcheck: raised while evaluating f with input {i} moved from "
                f"{original!r} to {now!r}; if that is outside the domain of f, "
                "pass a smaller eps"
            )
        raise
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


def _reachable(out: Value, values: list[Value]) -> list[Value]:
    """The inputs and every node of out's graph: all the grads backward() may change."""
    nodes = {v: None for v in values}  # a dict keeps the order; Values hash by identity
    nodes.update(dict.fromkeys(topological_order(out)))
    return list(nodes)
