"""The tensor engine: reverse-mode differentiation over whole numpy arrays.

It is the scalar engine (`backprop.scalar`) with arrays in place of numbers. Each
operation computes its result and, right beside it, its *vector-Jacobian product*
(VJP): a small function `vjp(g)` that turns the gradient `g = dL/d out` arriving from
above into the gradients `dL/d input`, one per input, each of its input's shape. No
Jacobian is ever built: for `y = x * w` elementwise the Jacobian is a diagonal matrix
with `x.size**2` entries, while its VJP is one product, `g * w`.

`backward()` visits the graph in reverse topological order (found without recursion)
and applies each VJP once, summing the gradients of a tensor used several times.
A VJP closes over arrays only, never over its output tensor, so a graph holds no
reference cycles and is freed by reference counting as soon as it is dropped.

Broadcasting: numpy stretches a `(3,)` bias across a `(4, 3)` batch without copying
it. Every output entry then depends on the bias, so the bias's gradient is the sum of
the upstream gradient over the stretched axes, done by [`unbroadcast`][backprop.tensor.unbroadcast]
in the VJP of every broadcasting operation.

```python
import numpy as np
from backprop import Tensor

x = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # a batch of two inputs
w = Tensor([0.5, -1.0, 2.0], requires_grad=True)  # broadcast over the batch
y = (x * w).sum()
y.backward()
assert y.item() == 0.5 * 5 - 7 + 2 * 9
assert np.array_equal(w.grad, [5.0, 7.0, 9.0])  # summed over the batch axis
```

Semantics follow PyTorch: only tensors created with `requires_grad=True` (leaves)
receive a `.grad`, which accumulates across `backward()` calls until reset with
`zero_grad()`; an intermediate tensor's `.grad` stays `None` unless `retain_grad()`
was called on it. Unlike PyTorch, the graph is kept after `backward()`, so calling it
twice needs no `retain_graph=True`. Inside `with no_grad():` no graph is recorded.

Data is float64 by default; float32 stays float32 through every operation, the
backward pass and the optimisers: a Python number operand takes the tensor's dtype,
and an integer or bool tensor meeting a float one takes the float's dtype, as in
PyTorch (numpy alone would turn float32 and int64 into float64). float32 meeting
float64 gives float64.

Errors: bad input raises instead of producing a silent NaN or infinity, as in the
scalar engine. Data that is not real numbers raises `TypeError`, data with NaN or
infinity `ValueError`; shapes that do not broadcast or multiply raise `ValueError`
naming the operation and both shapes; `log` or `sqrt` of negative entries raises
`ValueError` and division by zero `ZeroDivisionError`, each saying how many entries
are at fault; `exp`, `/` and `**`, which overflow on ordinary inputs, raise
`OverflowError` when they do. `+`, `-`, `*`, `@` and `linear` follow IEEE arithmetic
(numpy warns if they overflow, which needs entries near 1e308, or 3e38 in float32)
and `backward()` refuses to start from a tensor that is not finite. Mixing a `Tensor`
with a scalar-engine `Value` raises `TypeError`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeAlias

import numpy as np

__all__ = [
    "Tensor",
    "arange",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy_with_logits",
    "concatenate",
    "conv2d",
    "cross_entropy",
    "dropout",
    "embedding",
    "eye",
    "full",
    "full_like",
    "is_grad_enabled",
    "layer_norm",
    "linear",
    "max_pool2d",
    "maximum",
    "minimum",
    "mse_loss",
    "nll_loss",
    "no_grad",
    "one_hot",
    "ones",
    "ones_like",
    "pad",
    "rand",
    "rand_like",
    "randn",
    "randn_like",
    "scaled_dot_product_attention",
    "stack",
    "topological_order",
    "unbroadcast",
    "where",
    "zeros",
    "zeros_like",
]

Array: TypeAlias = np.ndarray
Operand: TypeAlias = "Tensor | float | int | np.ndarray"
Axis: TypeAlias = "int | tuple[int, ...] | None"
#: A VJP: the upstream gradient in, one gradient per input out (`None`: no gradient).
VJP: TypeAlias = Callable[[Array], tuple["Array | None", ...]]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_grad_enabled = True


# ---------------------------------------------------------------------- recording


@contextmanager
def no_grad() -> Iterator[None]:
    """Record no graph inside the block: results are plain tensors without parents.

    Use it for evaluation and for parameter updates, where no gradient is wanted; it
    saves the memory the graph would hold.

    ```python
    from backprop import Tensor, no_grad

    w = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        y = w * 3
    assert not y.requires_grad
    ```
    """
    global _grad_enabled
    previous = _grad_enabled
    _grad_enabled = False
    try:
        yield
    finally:
        _grad_enabled = previous


def is_grad_enabled() -> bool:
    """`False` inside `with no_grad():`, `True` elsewhere."""
    return _grad_enabled


# ---------------------------------------------------------------------- the tensor


def _as_array(data: object, dtype: object = None) -> Array:
    """`data` as a numpy array of real numbers, or a `TypeError` that says what it got.

    The data is checked before any `dtype` conversion, so strings are refused even when
    numpy could parse them as numbers. An array of the right dtype is not copied.
    """
    if isinstance(data, Tensor):
        raise TypeError("Tensor(...) got a Tensor; use .detach() or pass its .data")
    try:
        array = np.asarray(data)
    except (TypeError, ValueError) as error:
        raise TypeError(f"Tensor data must be real numbers, got {data!r:.80}: {error}") from None
    if array.dtype.kind == "O":
        _refuse_objects(array)
    if not _is_real(array.dtype):
        raise TypeError(
            f"Tensor data must be real numbers (float32, float64, integers or bools), "
            f"got dtype {array.dtype} from {type(data).__name__}"
        )
    if dtype is not None:
        target = np.dtype(dtype)  # type: ignore[call-overload]
        if not _is_real(target):
            raise TypeError(
                f"Tensor dtype must be float32, float64, an integer or bool, got {target}"
            )
        with np.errstate(over="ignore"):  # a float64 too big for float32: refused below
            array = array.astype(target, copy=False)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = int(array.size - np.count_nonzero(np.isfinite(array)))
        raise ValueError(
            f"Tensor data must be finite: {bad} of {array.size} entries are NaN or inf"
        )
    return array


def _is_real(dtype: np.dtype) -> bool:
    """float32, float64, integers and bools (float16 and long doubles are refused)."""
    if dtype.kind == "f":
        return dtype in _FLOATS
    return dtype.kind in "iub" and dtype.itemsize <= 8


def _refuse_objects(array: Array) -> None:
    """The `TypeError` for an object array, naming a `Value` or `Tensor` hidden in it."""
    from backprop.scalar import Value

    kinds = {type(item) for item in array.flat}
    if any(issubclass(k, Value) for k in kinds):
        raise TypeError(
            "a Tensor cannot hold scalar-engine Values: the two engines do not mix "
            "(pass numbers, e.g. [v.data for v in values])"
        )
    if any(issubclass(k, Tensor) for k in kinds):
        raise TypeError(
            "Tensor data cannot be a list of Tensors: use backprop.tensor.stack(...) to "
            "join them in the graph, or pass their .data"
        )
    names = sorted(k.__name__ for k in kinds)
    raise TypeError(f"Tensor data must be real numbers, got objects of type {', '.join(names)}")


class Tensor:
    """An n-dimensional array in a computation graph: `data`, and `grad`, `dL/d data`.

    Args:
        data: Numbers: a nested list, a number or a numpy array of floats, integers or
            bools. Python floats become float64; float32 arrays stay float32. A numpy
            array is wrapped without a copy, unless `requires_grad=True`: a parameter
            gets its own copy, so updating it never changes the caller's array.
        requires_grad: Record operations on this tensor and give it a `.grad` in
            `backward()`. Only float32 and float64 tensors can require gradients.
        dtype: Convert the data to this numpy dtype first.

    Raises:
        TypeError: `data` is not real numbers (strings, complex, objects, `Value`s), or
            an integer tensor is asked to require gradients.
        ValueError: `data` holds NaN or infinity.

    ```python
    import numpy as np
    from backprop import Tensor

    a = np.array([1.0, 2.0], dtype=np.float32)
    w = Tensor(a, requires_grad=True)
    assert w.dtype == np.float32 and w.data is not a  # a parameter owns its data
    assert Tensor(a).data is a  # a constant wraps the array as it is
    ```
    """

    __slots__ = (
        "__weakref__",
        "_op",
        "_parents",
        "_retain",
        "_vjp",
        "data",
        "grad",
        "requires_grad",
    )

    # numpy defers to our operators: `array * tensor` calls `Tensor.__rmul__`.
    __array_ufunc__ = None

    data: Array
    grad: Array | None
    requires_grad: bool
    _parents: tuple[Tensor, ...]
    _vjp: VJP | None
    _op: str
    _retain: bool

    def __init__(self, data: object, requires_grad: bool = False, dtype: object = None) -> None:
        array = _as_array(data, dtype)
        if not isinstance(requires_grad, bool):
            raise TypeError(f"requires_grad must be a bool, got {type(requires_grad).__name__}")
        if requires_grad and array.dtype not in _FLOATS:
            raise TypeError(
                f"only float32 and float64 tensors can require gradients, got dtype "
                f"{array.dtype} (integers have no derivative); pass floats or dtype=float"
            )
        # A parameter owns its data: an optimiser updates it in place, and the caller's
        # array must not change with it. Other tensors wrap the array without a copy.
        self.data = array.copy() if requires_grad else array
        self.grad = None
        self.requires_grad = requires_grad
        self._parents = ()
        self._vjp = None
        self._op = ""
        self._retain = False

    # -------------------------------------------------------------- plain properties

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """`True` for a tensor made by the user rather than by an operation."""
        return self._vjp is None

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        if self.data.dtype != np.float64:
            extra += f", dtype={self.data.dtype}"
        return f"Tensor({body}{extra})"

    def item(self) -> float:
        """The single number in a one-element tensor, as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item() needs a tensor with one element, this one has shape {self.shape}"
            )
        return self.data.item()

    def numpy(self) -> Array:
        """The data as a numpy array (the same array, not a copy)."""
        return self.data

    def detach(self) -> Tensor:
        """The same data as a new leaf that is not part of any graph."""
        return _constant(self.data)

    def retain_grad(self) -> None:
        """Keep this intermediate tensor's gradient in `.grad` during `backward()`
        (accumulated across calls, as for a leaf). A no-op on a leaf.

        Raises:
            RuntimeError: the tensor does not require gradients (as in PyTorch).
        """
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require gradients")
        if self._vjp is not None:
            self._retain = True

    def zero_grad(self) -> None:
        """Reset the gradient to `None` (gradients accumulate across `backward()` calls)."""
        self.grad = None

    # -------------------------------------------------------------- comparisons

    # `==` compares entry by entry, as in PyTorch and numpy, so a tensor is hashed by
    # identity, as PyTorch's are: the graph code and any dict of tensors rely on it.
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        """`a == b` entry by entry: a bool tensor, outside the graph (no gradient)."""
        if not _comparable(other):
            return NotImplemented  # `t == None` is False, as in PyTorch
        return _compare("==", np.equal, self, other)

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        """`a != b` entry by entry: a bool tensor, outside the graph."""
        if not _comparable(other):
            return NotImplemented
        return _compare("!=", np.not_equal, self, other)

    def __lt__(self, other: Operand) -> Tensor:
        """`a < b` entry by entry: a bool tensor, outside the graph."""
        return _compare("<", np.less, self, other)

    def __le__(self, other: Operand) -> Tensor:
        """`a <= b` entry by entry: a bool tensor, outside the graph."""
        return _compare("<=", np.less_equal, self, other)

    def __gt__(self, other: Operand) -> Tensor:
        """`a > b` entry by entry: a bool tensor, outside the graph."""
        return _compare(">", np.greater, self, other)

    def __ge__(self, other: Operand) -> Tensor:
        """`a >= b` entry by entry: a bool tensor, outside the graph."""
        return _compare(">=", np.greater_equal, self, other)

    def __bool__(self) -> bool:
        """The truth of a one-element tensor; any other tensor refuses, as in PyTorch.

        Raises:
            RuntimeError: the tensor has more than one element (or none): write
                `.all()` or `.any()` to say which truth you mean.
        """
        if self.data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous: "
                "use .all() or .any() (for example `if (a == b).all():`)"
            )
        return bool(self.data)

    def all(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Whether every entry (along `axis`) is nonzero: a bool tensor, no gradient."""
        axes, keep = _reduce_args("all", self.data.ndim, axis, keepdims, dim, keepdim)
        return _constant(np.all(self.data, axis=axes, keepdims=keep))

    def any(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Whether some entry (along `axis`) is nonzero: a bool tensor, no gradient."""
        axes, keep = _reduce_args("any", self.data.ndim, axis, keepdims, dim, keepdim)
        return _constant(np.any(self.data, axis=axes, keepdims=keep))

    def masked_fill(self, mask: object, value: float) -> Tensor:
        """`a` with `value` where the bool `mask` is true (as PyTorch's `masked_fill`).

        VJP: `g` where the mask is false, 0 where it is true (those entries no longer
        depend on `a`). The mask broadcasts to `a`'s shape; the value takes `a`'s dtype.

        Raises:
            TypeError: `mask` is not bool, or `value` is not a real number.
            ValueError: `mask` does not broadcast to `a`'s shape.
        """
        m = _bool_mask("masked_fill", mask)
        x = self.data
        try:
            m = np.broadcast_to(m, x.shape)
        except ValueError:
            raise ValueError(
                f"masked_fill: a mask of shape {np.shape(mask)} does not broadcast to the "
                f"tensor's shape {x.shape}"
            ) from None
        if isinstance(value, Tensor):
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"masked_fill: value must be a real number, got {value!r}")
        fill = _as_array(value, x.dtype)
        keep = ~m

        def vjp(g: Array) -> tuple[Array]:
            return (g * keep,)

        return _result(np.where(m, fill, x), (self,), vjp, "masked_fill")

    # -------------------------------------------------------------- elementwise ops

    def __add__(self, other: Operand) -> Tensor:
        """`a + b`. VJP: `g` to both, each summed back to its own shape."""
        b, x, y = _pair(self, other)
        out = _broadcasting("+", np.add, x, y)
        need_a, need_b = self.requires_grad, b.requires_grad  # skip what nobody needs

        def vjp(g: Array) -> tuple[Array | None, Array | None]:
            return (
                unbroadcast(g, x.shape) if need_a else None,
                unbroadcast(g, y.shape) if need_b else None,
            )

        return _result(out, (self, b), vjp, "+")

    def __radd__(self, other: Operand) -> Tensor:
        return _operand(other, self) + self

    def __sub__(self, other: Operand) -> Tensor:
        """`a - b`. VJP: `g` to `a`, `-g` to `b`."""
        b, x, y = _pair(self, other)
        out = _broadcasting("-", np.subtract, x, y)
        need_a, need_b = self.requires_grad, b.requires_grad

        def vjp(g: Array) -> tuple[Array | None, Array | None]:
            return (
                unbroadcast(g, x.shape) if need_a else None,
                unbroadcast(-g, y.shape) if need_b else None,
            )

        return _result(out, (self, b), vjp, "-")

    def __rsub__(self, other: Operand) -> Tensor:
        return _operand(other, self) - self

    def __mul__(self, other: Operand) -> Tensor:
        """`a * b`. VJP: `g * b` to `a`, `g * a` to `b`."""
        b, x, y = _pair(self, other)
        out = _broadcasting("*", np.multiply, x, y)
        need_a, need_b = self.requires_grad, b.requires_grad

        def vjp(g: Array) -> tuple[Array | None, Array | None]:
            return (
                unbroadcast(g * y, x.shape) if need_a else None,
                unbroadcast(g * x, y.shape) if need_b else None,
            )

        return _result(out, (self, b), vjp, "*")

    def __rmul__(self, other: Operand) -> Tensor:
        return _operand(other, self) * self

    def __truediv__(self, other: Operand) -> Tensor:
        """`a / b`. VJP: `g / b` to `a`, `-g * a / b**2 = -g * out / b` to `b`.

        Raises:
            ZeroDivisionError: some entries of `b` are zero (as the scalar engine does,
                rather than numpy's silent infinity).
            OverflowError: some quotients overflow.
        """
        b, x, y = _pair(self, other)
        zeros = y.size - np.count_nonzero(y)
        if zeros:
            _check_broadcast("/", x, y)  # a shape error comes first
            raise ZeroDivisionError(
                f"/: division by zero in {zeros} of {y.size} entries of the divisor"
            )
        with np.errstate(over="ignore"):
            out = _finite("/", _broadcasting("/", np.true_divide, x, y))
        need_a, need_b = self.requires_grad, b.requires_grad

        def vjp(g: Array) -> tuple[Array | None, Array | None]:
            gb = g / y
            return (
                unbroadcast(gb, x.shape) if need_a else None,
                unbroadcast(-gb * out, y.shape) if need_b else None,
            )

        return _result(out, (self, b), vjp, "/")

    def __rtruediv__(self, other: Operand) -> Tensor:
        return _operand(other, self) / self

    def __pow__(self, other: Operand) -> Tensor:
        """`a ** b`. VJP: `g * b * a**(b-1)` to `a`; `g * a**b * ln(a)` to `b`.

        The derivative in `b` needs `a > 0`; it is taken as 0 at `a = 0`, as PyTorch
        does. Where `a < 0` (an integer `b`) it does not exist: PyTorch gives NaN, we
        raise, as the scalar engine does.

        Raises:
            ValueError: a negative entry of `a` meets a non-integer exponent; in
                `backward()`, a nonzero gradient reaches a point where the derivative
                does not exist.
            ZeroDivisionError: a zero entry of `a` meets a negative exponent.
            OverflowError: some powers overflow.
        """
        b, x, y = _pair(self, other)
        _check_broadcast("**", x, y)
        frac = (x < 0) & (y != np.round(y))
        if frac.any():
            raise ValueError(
                f"**: a negative base to a non-integer power is not real "
                f"({int(np.count_nonzero(frac))} entries)"
            )
        pole = (x == 0) & (y < 0)
        if pole.any():
            raise ZeroDivisionError(
                f"**: 0 to a negative power in {int(np.count_nonzero(pole))} entries"
            )
        with np.errstate(over="ignore"):
            out = _finite("**", _broadcasting("**", np.power, x, y))
        need_a, need_b = self.requires_grad, b.requires_grad

        def vjp(g: Array) -> tuple[Array | None, Array | None]:
            ga = gb = None
            if need_a:
                with np.errstate(divide="ignore", over="ignore"):  # 0 ** (b - 1), 0 < b < 1
                    slope = y * np.power(x, y - 1, where=y != 0, out=np.zeros_like(out))
                stuck = np.count_nonzero(~np.isfinite(slope) & (g != 0))
                if stuck:
                    raise ValueError(
                        f"the derivative of ** does not exist at 0 for an exponent between 0 "
                        f"and 1 ({stuck} entries), so no gradient can flow through them"
                    )
                ga = unbroadcast(g * slope, x.shape)
            if need_b:
                stuck = np.count_nonzero((x < 0) & (g != 0))
                if stuck:
                    raise ValueError(
                        f"the derivative of a ** b in the exponent b needs a base a >= 0 "
                        f"({stuck} entries have a < 0), so no gradient can flow through them"
                    )
                log_x = np.log(x, where=x > 0, out=np.zeros_like(out, shape=np.shape(x)))
                gb = unbroadcast(g * out * log_x, y.shape)
            return ga, gb

        return _result(out, (self, b), vjp, "**")

    def __rpow__(self, other: Operand) -> Tensor:
        return _operand(other, self) ** self

    def __neg__(self) -> Tensor:
        """`-a`. VJP: `-g`."""
        return _result(-self.data, (self,), _neg_vjp, "neg")

    def __pos__(self) -> Tensor:
        return self

    def exp(self) -> Tensor:
        """`e**a`. VJP: `g * e**a`."""
        with np.errstate(over="ignore"):
            out = _finite("exp", np.exp(self.data))

        def vjp(g: Array) -> tuple[Array]:
            return (g * out,)

        return _result(out, (self,), vjp, "exp")

    def log(self) -> Tensor:
        """`ln(a)`. VJP: `g / a`.

        Raises:
            ValueError: some entries are zero or negative (numpy would give NaN or -inf;
                the scalar engine raises too).
        """
        x = self.data
        bad = np.count_nonzero(x <= 0)
        if bad:
            raise ValueError(f"log of non-positive entries: {bad} of {x.size} entries are <= 0")

        def vjp(g: Array) -> tuple[Array]:
            with np.errstate(over="ignore"):  # 1/x overflows for x below about 1e-308
                grad = g / x
            return (_finite("the gradient of log", grad),)

        return _result(np.log(x), (self,), vjp, "log")

    def sqrt(self) -> Tensor:
        """`√a`. VJP: `g / (2√a)`, which does not exist at `a = 0` (PyTorch gives inf
        there; we raise when a nonzero gradient arrives, and pass 0 for a zero one).

        Raises:
            ValueError: some entries are negative (in the forward pass), or a nonzero
                gradient reaches an entry that is 0 (in `backward()`).
        """
        x = self.data
        bad = np.count_nonzero(x < 0)
        if bad:
            raise ValueError(f"sqrt of negative entries: {bad} of {x.size} entries are < 0")
        out = np.sqrt(x)

        def vjp(g: Array) -> tuple[Array]:
            stuck = np.count_nonzero((out == 0) & (g != 0))
            if stuck:
                raise ValueError(
                    f"the derivative of sqrt does not exist at 0 ({stuck} entries), "
                    "so no gradient can flow through them"
                )
            return (np.divide(g, 2 * out, where=out != 0, out=np.zeros_like(out)),)

        return _result(out, (self,), vjp, "sqrt")

    def tanh(self) -> Tensor:
        """`tanh(a)`. VJP: `g * (1 - tanh(a)**2)`."""
        out = np.tanh(self.data)

        def vjp(g: Array) -> tuple[Array]:
            return (g * (1 - out * out),)

        return _result(out, (self,), vjp, "tanh")

    def sigmoid(self) -> Tensor:
        """`s(a) = 1 / (1 + e**-a)`. VJP: `g * s(a) * (1 - s(a))`.

        Computed without overflow for any finite `a`.
        """
        x = self.data
        e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
        out = np.where(x >= 0, 1 / (1 + e), e / (1 + e))

        def vjp(g: Array) -> tuple[Array]:
            return (g * out * (1 - out),)

        return _result(out, (self,), vjp, "sigmoid")

    def relu(self) -> Tensor:
        """`max(0, a)`. VJP: `g` where `a > 0`, else 0 (0 at the kink, as in PyTorch)."""
        x = self.data
        positive = x > 0

        def vjp(g: Array) -> tuple[Array]:
            return (g * positive,)

        return _result(np.maximum(x, 0), (self,), vjp, "relu")

    def abs(self) -> Tensor:
        """`|a|`. VJP: `g * sign(a)` (0 at the kink, as in PyTorch)."""
        x = self.data

        def vjp(g: Array) -> tuple[Array]:
            return (g * np.sign(x),)

        return _result(np.abs(x), (self,), vjp, "abs")

    __abs__ = abs

    def sin(self) -> Tensor:
        """`sin(a)`. VJP: `g * cos(a)`."""
        x = self.data

        def vjp(g: Array) -> tuple[Array]:
            return (g * np.cos(x),)

        return _result(np.sin(x), (self,), vjp, "sin")

    def cos(self) -> Tensor:
        """`cos(a)`. VJP: `-g * sin(a)`."""
        x = self.data

        def vjp(g: Array) -> tuple[Array]:
            return (-g * np.sin(x),)

        return _result(np.cos(x), (self,), vjp, "cos")

    def square(self) -> Tensor:
        """`a**2`, entry by entry. VJP: `2 * g * a`."""
        x = self.data

        def vjp(g: Array) -> tuple[Array]:
            return (2 * g * x,)

        return _result(x * x, (self,), vjp, "square")

    def rsqrt(self) -> Tensor:
        """`1 / sqrt(a)`. VJP: `-g / (2 a^{3/2}) = -g * out**3 / 2`.

        Raises:
            ValueError: some entries are zero or negative (PyTorch gives inf or NaN).
        """
        x = self.data
        bad = np.count_nonzero(x <= 0)
        if bad:
            raise ValueError(f"rsqrt of non-positive entries: {bad} of {x.size} entries are <= 0")
        with np.errstate(over="ignore"):
            out = _finite("rsqrt", 1 / np.sqrt(x))

        def vjp(g: Array) -> tuple[Array]:
            return (-0.5 * g * out**3,)

        return _result(out, (self,), vjp, "rsqrt")

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        """`a` where `a > 0`, else `negative_slope * a` (PyTorch's default slope 0.01).
        VJP: `g` where `a > 0`, else `negative_slope * g` (the slope at 0 is
        `negative_slope`, as in PyTorch)."""
        slope = _number("leaky_relu", "negative_slope", negative_slope)
        x = self.data
        factor = np.where(x > 0, 1.0, slope).astype(x.dtype)

        def vjp(g: Array) -> tuple[Array]:
            return (g * factor,)

        return _result(x * factor, (self,), vjp, "leaky_relu")

    def elu(self, alpha: float = 1.0) -> Tensor:
        """`a` where `a > 0`, else `alpha * (e**a - 1)`. VJP: `g` where `a > 0`, else
        `g * alpha * e**a` (the left slope at 0, as in PyTorch)."""
        alpha = _number("elu", "alpha", alpha)
        x = self.data
        em1 = np.expm1(np.minimum(x, 0))  # e**a - 1, exact for small a, no overflow

        def vjp(g: Array) -> tuple[Array]:
            return (g * np.where(x > 0, 1.0, alpha * (em1 + 1)),)

        return _result(np.where(x > 0, x, alpha * em1), (self,), vjp, "elu")

    def softplus(self) -> Tensor:
        """`ln(1 + e**a)`, computed without overflow. VJP: `g * sigmoid(a)`."""
        x = self.data
        out = np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))
        e = np.exp(-np.abs(x))
        s = np.where(x >= 0, 1 / (1 + e), e / (1 + e))

        def vjp(g: Array) -> tuple[Array]:
            return (g * s,)

        return _result(out, (self,), vjp, "softplus")

    def silu(self) -> Tensor:
        """`a * sigmoid(a)` (also called swish). VJP: `g * s * (1 + a * (1 - s))`, with
        `s = sigmoid(a)`."""
        x = self.data
        e = np.exp(-np.abs(x))
        s = np.where(x >= 0, 1 / (1 + e), e / (1 + e))

        def vjp(g: Array) -> tuple[Array]:
            return (g * s * (1 + x * (1 - s)),)

        return _result(x * s, (self,), vjp, "silu")

    def gelu(self) -> Tensor:
        """`a * Phi(a)`, `Phi` the standard normal's distribution function (PyTorch's
        exact `gelu`, not the tanh approximation). VJP: `g * (Phi(a) + a * phi(a))`,
        `phi` the normal density."""
        x = self.data
        cdf = 0.5 * (1 + _erf(x / math.sqrt(2)))
        pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)

        def vjp(g: Array) -> tuple[Array]:
            return (g * (cdf + x * pdf),)

        return _result(x * cdf, (self,), vjp, "gelu")

    def clip(self, low: float | None = None, high: float | None = None) -> Tensor:
        """`a` limited to `[low, high]`. VJP: `g` where `low <= a <= high`, else 0.

        At a bound the gradient passes, as in PyTorch's `clamp`. The bounds are numbers
        and do not change the tensor's dtype.

        Raises:
            TypeError: a bound is not a real number.
            ValueError: no bound is given, a bound is NaN, or `low > high`.
        """
        low, high = _bound(low, "low"), _bound(high, "high")
        if low is None and high is None:
            raise ValueError("clip needs low, high or both")
        if low is not None and high is not None and low > high:
            raise ValueError(f"clip needs low <= high, got {low!r} > {high!r}")
        x = self.data
        inside = np.ones(x.shape, dtype=bool)
        if low is not None:
            inside &= x >= low
        if high is not None:
            inside &= x <= high

        def vjp(g: Array) -> tuple[Array]:
            return (g * inside,)

        return _result(np.clip(x, low, high), (self,), vjp, "clip")

    # -------------------------------------------------------------- matrix product

    def __matmul__(self, other: Operand) -> Tensor:
        """`a @ b`, with numpy's rules: 1-D operands and batches of matrices too.

        For matrices, VJP: `g @ b.T` to `a` and `a.T @ g` to `b`, from
        `out[i, k] = sum_j a[i, j] * b[j, k]`. A 1-D operand is treated as a matrix
        with one row (`a`) or one column (`b`); batch axes are summed back.
        """
        b = _operand(other, self)
        x, y = self.data, b.data
        if x.ndim == 0 or y.ndim == 0:
            raise ValueError(f"@: needs at least 1-D operands, got shapes {x.shape} and {y.shape}")
        try:
            out = x @ y
        except ValueError:
            inner = y.shape[0] if y.ndim == 1 else y.shape[-2]
            why = (
                f"their batch axes {x.shape[:-2]} and {y.shape[:-2]} do not broadcast"
                if x.shape[-1] == inner
                else f"the last axis of the first must equal the "
                f"{'only' if y.ndim == 1 else 'second-to-last'} axis of the second"
            )
            raise ValueError(f"@: shapes {x.shape} and {y.shape} do not multiply: {why}") from None

        need_x, need_y = self.requires_grad, b.requires_grad  # skip products nobody needs

        def vjp(g: Array) -> tuple[Array | None, Array | None]:
            x2 = x[None, :] if x.ndim == 1 else x  # a row
            y2 = y[:, None] if y.ndim == 1 else y  # a column
            if x.ndim == 1 and y.ndim == 1:  # a dot product: g is one number
                g2 = g.reshape(1, 1)
            elif x.ndim == 1:  # put back the row axis that @ dropped
                g2 = np.expand_dims(g, -2)
            elif y.ndim == 1:  # put back the column axis that @ dropped
                g2 = np.expand_dims(g, -1)
            else:
                g2 = g
            gx = gy = None
            if need_x:
                gx = unbroadcast(g2 @ np.swapaxes(y2, -1, -2), x2.shape).reshape(x.shape)
            if need_y:
                gy = unbroadcast(np.swapaxes(x2, -1, -2) @ g2, y2.shape).reshape(y.shape)
            return gx, gy

        return _result(out, (self, b), vjp, "@")

    def __rmatmul__(self, other: Operand) -> Tensor:
        return _operand(other, self) @ self

    # -------------------------------------------------------------- reductions

    # Every reduction takes numpy's `axis=`/`keepdims=` or PyTorch's `dim=`/`keepdim=`.

    def sum(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Sum over `axis` (all axes by default). VJP: `g` copied back over the summed axes."""
        x = self.data
        axes, keepdims = _reduce_args("sum", x.ndim, axis, keepdims, dim, keepdim)

        def vjp(g: Array) -> tuple[Array]:
            if not keepdims:
                g = np.expand_dims(g, axes)
            return (np.broadcast_to(g, x.shape),)

        return _result(x.sum(axis=axes, keepdims=keepdims), (self,), vjp, "sum")

    def mean(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Mean over `axis`. VJP: `g / n` copied back, `n` the number of entries averaged."""
        x = self.data
        axes, keepdims = _reduce_args("mean", x.ndim, axis, keepdims, dim, keepdim)
        n = int(np.prod([x.shape[a] for a in axes]))
        if n == 0:
            raise ValueError(f"mean over an empty axis of a tensor of shape {x.shape}")

        def vjp(g: Array) -> tuple[Array]:
            if not keepdims:
                g = np.expand_dims(g, axes)
            return (np.broadcast_to(g / n, x.shape),)

        return _result(x.mean(axis=axes, keepdims=keepdims), (self,), vjp, "mean")

    def max(self, axis: Axis = None, keepdims: bool = False, **torch_style: object) -> Tensor:
        """Maximum over `axis`, numpy's `max` (PyTorch's `amax`). VJP: `g` to the entry
        that is the maximum, shared equally among ties (as PyTorch's `amax` does).

        PyTorch's `max(dim=...)` returns the values *and* their indices; ours returns
        the values only, so `dim=` is refused with a message saying what to write.
        """
        _refuse_torch_max("max", torch_style)
        return self.amax(axis, keepdims)

    def min(self, axis: Axis = None, keepdims: bool = False, **torch_style: object) -> Tensor:
        """Minimum over `axis`, numpy's `min` (PyTorch's `amin`). VJP: `g` to the entry
        that is the minimum, shared equally among ties. `dim=` is refused, as for `max`."""
        _refuse_torch_max("min", torch_style)
        return self.amin(axis, keepdims)

    def amax(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Maximum over `axis` (PyTorch's `amax`). VJP: `g` to the maximum, ties share it."""
        return _extreme(self, "amax", axis, keepdims, dim, keepdim)

    def amin(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Minimum over `axis` (PyTorch's `amin`). VJP: `g` to the minimum, ties share it."""
        return _extreme(self, "amin", axis, keepdims, dim, keepdim)

    def argmax(
        self,
        axis: int | None = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """The index of the largest entry along `axis` (of the flattened tensor by
        default), the first one among ties, as int64: outside the graph (no gradient)."""
        return _arg_extreme(self, "argmax", np.argmax, axis, keepdims, dim, keepdim)

    def argmin(
        self,
        axis: int | None = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """The index of the smallest entry along `axis`, the first among ties, as int64:
        outside the graph (no gradient)."""
        return _arg_extreme(self, "argmin", np.argmin, axis, keepdims, dim, keepdim)

    def var(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
        correction: int = 1,
    ) -> Tensor:
        """The variance `sum((a - mean)**2) / (n - correction)` over `axis`, with
        PyTorch's default `correction=1` (the unbiased estimate; numpy's `var` uses 0).
        VJP: `2 * g * (a - mean) / (n - correction)`.

        Raises:
            ValueError: `n - correction` is not positive.
        """
        x = self.data
        axes, keepdims = _reduce_args("var", x.ndim, axis, keepdims, dim, keepdim)
        if isinstance(correction, bool) or not isinstance(correction, int | np.integer):
            raise TypeError(f"var: correction must be an int, got {correction!r}")
        n = int(np.prod([x.shape[a] for a in axes]))
        dof = n - int(correction)
        if dof <= 0:
            raise ValueError(
                f"var: {n} entries with correction={correction} leave no degrees of freedom"
            )
        centred = x - x.mean(axis=axes, keepdims=True)
        out = (centred * centred).sum(axis=axes, keepdims=keepdims) / dof

        def vjp(g: Array) -> tuple[Array]:
            if not keepdims:
                g = np.expand_dims(g, axes)
            return (g * (2 / dof) * centred,)

        return _result(out, (self,), vjp, "var")

    def std(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
        correction: int = 1,
    ) -> Tensor:
        """The standard deviation, `sqrt(var(...))`, with PyTorch's default
        `correction=1`. VJP through `var` and `sqrt` (which needs a nonzero spread)."""
        return self.var(axis, keepdims, dim=dim, keepdim=keepdim, correction=correction).sqrt()

    def logsumexp(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """`ln(sum(e**a))` over `axis`, computed without overflow. VJP: `g * softmax(a)`
        over the same axes."""
        x = self.data
        axes, keepdims = _reduce_args("logsumexp", x.ndim, axis, keepdims, dim, keepdim)
        top = x.max(axis=axes, keepdims=True)
        e = np.exp(x - top)
        total = e.sum(axis=axes, keepdims=True)
        out = np.log(total) + top
        s = e / total

        def vjp(g: Array) -> tuple[Array]:
            if not keepdims:
                g = np.expand_dims(g, axes)
            return (g * s,)

        return _result(out if keepdims else np.squeeze(out, axis=axes), (self,), vjp, "logsumexp")

    def prod(
        self,
        axis: int | None = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """The product over `axis` (all entries by default). VJP: `g` times the product
        of the *other* entries, computed without dividing (so zeros are fine)."""
        x = self.data
        axes, keepdims = _reduce_args("prod", x.ndim, axis, keepdims, dim, keepdim)
        moved = np.moveaxis(x, axes, tuple(range(-len(axes), 0)))
        flat = moved.reshape(*moved.shape[: moved.ndim - len(axes)], -1)
        out = flat.prod(axis=-1)
        # the product of all but entry k: the products before it times those after it
        before = np.cumprod(np.concatenate([np.ones_like(flat[..., :1]), flat[..., :-1]], -1), -1)
        after = np.flip(
            np.cumprod(
                np.flip(np.concatenate([flat[..., 1:], np.ones_like(flat[..., :1])], -1), -1), -1
            ),
            -1,
        )
        others = (before * after).reshape(moved.shape)
        others = np.moveaxis(others, tuple(range(-len(axes), 0)), axes)
        shape = x.shape

        def vjp(g: Array) -> tuple[Array]:
            g = np.reshape(g, tuple(1 if i in axes else n for i, n in enumerate(shape)))
            return (g * others,)

        if keepdims:
            out = out.reshape(tuple(1 if i in axes else n for i, n in enumerate(shape)))
        return _result(out, (self,), vjp, "prod")

    def cumsum(self, dim: int = -1, *, axis: int | None = None) -> Tensor:
        """Running sums along `dim` (PyTorch's `cumsum(dim)`). VJP: running sums of `g`
        taken from the other end."""
        if axis is not None:
            dim = axis
        x = self.data
        (d,) = _axes(dim, x.ndim, "cumsum")

        def vjp(g: Array) -> tuple[Array]:
            return (np.flip(np.cumsum(np.flip(g, d), axis=d), d),)

        return _result(np.cumsum(x, axis=d), (self,), vjp, "cumsum")

    # -------------------------------------------------------------- shapes

    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        """The same entries in a new shape. VJP: `g` reshaped back."""
        new = shape[0] if len(shape) == 1 and isinstance(shape[0], tuple | list) else shape
        x = self.data
        try:
            out = x.reshape(new)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape shape {x.shape} into {tuple(new)}") from None

        def vjp(g: Array) -> tuple[Array]:
            return (g.reshape(x.shape),)

        return _result(out, (self,), vjp, "reshape")

    def view(self, *shape: int | tuple[int, ...]) -> Tensor:
        """PyTorch's name for `reshape`: like PyTorch's `view`, the result shares memory
        with `a` where numpy can arrange it. VJP: `g` reshaped back."""
        return self.reshape(*shape)

    def permute(self, *dims: int) -> Tensor:
        """The axes in the order `dims`, a permutation of all of them (PyTorch's
        `permute`, numpy's `transpose(axes)`). VJP: `g` permuted back.

        Raises:
            ValueError: `dims` is not a permutation of the tensor's axes.
        """
        order = dims[0] if len(dims) == 1 and isinstance(dims[0], tuple | list) else dims
        x = self.data
        try:
            positive = [int(a) % x.ndim if -x.ndim <= a < x.ndim else None for a in order]
        except TypeError:
            raise TypeError(f"permute: dims must be ints, got {order!r}") from None
        if None in positive or sorted(positive) != list(range(x.ndim)):  # type: ignore[type-var]
            raise ValueError(
                f"permute: dims {tuple(order)} are not a permutation of the {x.ndim} axes "
                f"of a tensor of shape {x.shape}"
            )
        out = x.transpose(positive)
        inverse = tuple(np.argsort(positive).tolist())

        def vjp(g: Array) -> tuple[Array]:
            return (g.transpose(inverse),)

        return _result(out, (self,), vjp, "permute")

    def transpose(self, *dims: int) -> Tensor:
        """Two axes swapped, as in PyTorch: `a.transpose(0, 1)`; no axes given, all of
        them reversed (as `a.T`). VJP: `g` with the same axes swapped back.

        numpy's `transpose(axes)` takes a whole order instead, so `(0, 1)` would mean
        "leave a matrix as it is"; this engine follows PyTorch, where our learners go,
        and asks for `permute(...)` for a whole order.

        Raises:
            TypeError: not zero or two axes are given.
            ValueError: an axis is out of range.
        """
        x = self.data
        if not dims:
            return self.permute(tuple(range(x.ndim))[::-1])
        if len(dims) != 2 or not all(isinstance(d, int | np.integer) for d in dims):
            raise TypeError(
                f"transpose(dim0, dim1) swaps two axes, as in PyTorch; got {dims!r}: for a "
                f"whole order of the axes (numpy's transpose(axes)) write permute(...)"
            )
        d0, d1 = _axes(dims[0], x.ndim, "transpose")[0], _axes(dims[1], x.ndim, "transpose")[0]
        order = list(range(x.ndim))
        order[d0], order[d1] = order[d1], order[d0]
        return self.permute(order)

    @property
    def T(self) -> Tensor:
        """The axes reversed (a matrix transposed)."""
        return self.transpose()

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Axes `start_dim` to `end_dim` (both included) merged into one, as in PyTorch.
        VJP: `g` reshaped back."""
        x = self.data
        if x.ndim == 0:
            return self.reshape(1)
        (start,) = _axes(start_dim, x.ndim, "flatten")
        (end,) = _axes(end_dim, x.ndim, "flatten")
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        merged = int(np.prod(x.shape[start : end + 1]))
        return self.reshape((*x.shape[:start], merged, *x.shape[end + 1 :]))

    def squeeze(self, dim: int | tuple[int, ...] | None = None) -> Tensor:
        """Axes of size 1 removed: all of them, or those among `dim` (an axis in `dim`
        whose size is not 1 is left as it is, as in PyTorch). VJP: `g` reshaped back."""
        x = self.data
        axes = _axes(dim, x.ndim, "squeeze") if dim is not None else tuple(range(x.ndim))
        keep = [n for i, n in enumerate(x.shape) if not (i in axes and n == 1)]
        return self.reshape(tuple(keep))

    def unsqueeze(self, dim: int) -> Tensor:
        """A new axis of size 1 at position `dim` (from `-ndim - 1` to `ndim`), as in
        PyTorch. VJP: `g` reshaped back."""
        x = self.data
        if isinstance(dim, bool) or not isinstance(dim, int | np.integer):
            raise TypeError(f"unsqueeze: dim must be an int, got {dim!r}")
        if not -x.ndim - 1 <= dim <= x.ndim:
            raise ValueError(
                f"unsqueeze: dim {dim} is out of range for a tensor with {x.ndim} axes "
                f"(from {-x.ndim - 1} to {x.ndim})"
            )
        position = int(dim) % (x.ndim + 1)
        return self.reshape((*x.shape[:position], 1, *x.shape[position:]))

    def expand(self, *sizes: int) -> Tensor:
        """The tensor stretched to `sizes` along its axes of size 1 (and new leading
        axes), without copying, as in PyTorch; -1 keeps an axis's size. VJP: `g` summed
        back over the stretched axes (`unbroadcast`).

        Raises:
            ValueError: an axis whose size is not 1 is asked for another size.
        """
        new = sizes[0] if len(sizes) == 1 and isinstance(sizes[0], tuple | list) else sizes
        x = self.data
        lead = len(new) - x.ndim
        if lead < 0:
            raise ValueError(f"expand: {len(new)} sizes for a tensor with {x.ndim} axes")
        target = tuple(
            x.shape[i - lead] if n == -1 and i >= lead else int(n) for i, n in enumerate(new)
        )
        try:
            out = np.broadcast_to(x, target)
        except ValueError:
            raise ValueError(
                f"expand: shape {x.shape} cannot be expanded to {tuple(new)} (only axes "
                f"of size 1 stretch)"
            ) from None
        shape = x.shape

        def vjp(g: Array) -> tuple[Array]:
            return (unbroadcast(g, shape),)

        return _result(out, (self,), vjp, "expand")

    def matmul(self, other: Operand) -> Tensor:
        """`a @ b`, as a method (PyTorch's `matmul`)."""
        return self @ other

    def gather(self, dim: int, index: object) -> Tensor:
        """`out[i][j] = a[i][index[i][j]]` for `dim=1` (and likewise along any `dim`),
        as PyTorch's `gather`: `index` has the output's shape and, off `dim`, must fit
        inside `a`. VJP: `g` added back at the gathered places (an entry gathered
        twice gets both).

        Raises:
            TypeError: `index` is not integers.
            ValueError: `index` has another number of axes, or does not fit.
            IndexError: an index is out of range.
        """
        x = self.data
        (d,) = _axes(dim, x.ndim, "gather")
        idx = index.data if isinstance(index, Tensor) else np.asarray(index)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"gather: index must be integers, got dtype {idx.dtype}")
        if idx.ndim != x.ndim or any(idx.shape[k] > x.shape[k] for k in range(x.ndim) if k != d):
            raise ValueError(
                f"gather: an index of shape {idx.shape} does not fit a tensor of shape "
                f"{x.shape} along dim {dim} (same number of axes, no larger off dim)"
            )
        bad = (idx < -x.shape[d]) | (idx >= x.shape[d])
        if bad.any():
            raise IndexError(
                f"gather: indices {idx[bad][:5].tolist()} are out of range for dim {dim} "
                f"of size {x.shape[d]}"
            )
        idx = idx % x.shape[d]
        part = x[tuple(slice(0, n) if k != d else slice(None) for k, n in enumerate(idx.shape))]
        out = np.take_along_axis(part, idx, axis=d)

        def vjp(g: Array) -> tuple[Array]:
            full = np.zeros_like(x)
            region = full[
                tuple(slice(0, n) if k != d else slice(None) for k, n in enumerate(idx.shape))
            ]
            grids = list(np.indices(idx.shape, sparse=True))
            grids[d] = idx
            np.add.at(region, tuple(grids), g)
            return (full,)

        return _result(out, (self,), vjp, "gather")

    def flip(self, *dims: int) -> Tensor:
        """The entries in reverse order along `dims` (PyTorch's `flip(dims)`). VJP: `g`
        flipped back."""
        order = dims[0] if len(dims) == 1 and isinstance(dims[0], tuple | list) else dims
        x = self.data
        if not order:
            raise TypeError("flip needs the axes to reverse, e.g. a.flip(0) or a.flip(0, 1)")
        axes = _axes(tuple(order), x.ndim, "flip")

        def vjp(g: Array) -> tuple[Array]:
            return (np.flip(g, axes),)

        return _result(np.flip(x, axes), (self,), vjp, "flip")

    def repeat(self, *sizes: int) -> Tensor:
        """The tensor tiled `sizes[k]` times along axis `k` (PyTorch's `repeat`, numpy's
        `tile`; extra leading sizes add axes). VJP: `g` cut into the tiles and summed."""
        reps = sizes[0] if len(sizes) == 1 and isinstance(sizes[0], tuple | list) else sizes
        x = self.data
        if len(reps) < x.ndim or any(int(r) < 0 for r in reps):
            raise ValueError(
                f"repeat: needs one non-negative count per axis of shape {x.shape} "
                f"(or more, for new leading axes), got {tuple(reps)}"
            )
        reps = tuple(int(r) for r in reps)
        out = np.tile(x, reps)
        shape = (1,) * (len(reps) - x.ndim) + x.shape

        def vjp(g: Array) -> tuple[Array]:
            split = g.reshape(tuple(v for r, n in zip(reps, shape, strict=True) for v in (r, n)))
            return (split.sum(axis=tuple(range(0, 2 * len(reps), 2))).reshape(x.shape),)

        return _result(out, (self,), vjp, "repeat")

    def split(self, split_size: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
        """Pieces along `dim`, as PyTorch's `split`: of `split_size` entries each (the last
        may be shorter), or of the listed sizes. Each piece is an index of `a`, so its
        gradient flows back into the right slice."""
        x = self.data
        (d,) = _axes(dim, x.ndim, "split")
        n = x.shape[d]
        if isinstance(split_size, int | np.integer) and not isinstance(split_size, bool):
            if split_size <= 0:
                raise ValueError(f"split: split_size must be positive, got {split_size}")
            sizes = [min(int(split_size), n - start) for start in range(0, n, int(split_size))]
        else:
            sizes = [int(k) for k in split_size]
            if sum(sizes) != n or any(k < 0 for k in sizes):
                raise ValueError(
                    f"split: sizes {sizes} must be non-negative and add up to {n}, the "
                    f"size of dim {dim}"
                )
        pieces, start = [], 0
        for k in sizes:
            where_ = [slice(None)] * x.ndim
            where_[d] = slice(start, start + k)
            pieces.append(self[tuple(where_)])
            start += k
        return tuple(pieces)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """`chunks` pieces along `dim` (fewer if the axis is short), each of
        `ceil(n / chunks)` entries but the last, as PyTorch's `chunk`."""
        if isinstance(chunks, bool) or not isinstance(chunks, int | np.integer) or chunks <= 0:
            raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
        (d,) = _axes(dim, self.data.ndim, "chunk")
        n = self.data.shape[d]
        return self.split(max(1, -(-n // int(chunks))), dim)

    def to(self, dtype: object) -> Tensor:
        """The tensor in another dtype (float32, float64, an integer or bool). Between
        floats the gradient flows back, cast to the input's dtype; a cast to an integer
        or bool is outside the graph, as in PyTorch."""
        x = self.data
        target = np.dtype(dtype)  # type: ignore[call-overload]
        if not _is_real(target):
            raise TypeError(f"to: dtype must be float32, float64, an integer or bool, got {target}")
        if target == x.dtype:
            return self
        with np.errstate(over="ignore"):
            out = x.astype(target)
        if target.kind == "f":
            out = _finite("to", out)
        if target not in _FLOATS:
            return _constant(out)

        def vjp(g: Array) -> tuple[Array]:
            return (g.astype(x.dtype),)

        return _result(out, (self,), vjp, "to")

    def float(self) -> Tensor:
        """The tensor as float32 (PyTorch's `.float()`)."""
        return self.to(np.float32)

    def double(self) -> Tensor:
        """The tensor as float64 (PyTorch's `.double()`)."""
        return self.to(np.float64)

    def long(self) -> Tensor:
        """The tensor as int64, outside the graph (PyTorch's `.long()`)."""
        return self.to(np.int64)

    def __getitem__(self, index: object) -> Tensor:
        """Indexing and slicing, as in numpy. VJP: `g` scattered back into zeros; an
        entry picked several times (integer-array indexing) gets the sum of its `g`s.

        A `Tensor` of integers or bools works as an index alone or inside a tuple
        (`x[t]`, `x[:, t]`, `x[t1, t2]`). One difference from PyTorch: when integer-array
        indices are separated by a slice (`x[1, :, d]`), numpy, and so this engine, puts
        the indexed axes first in the result, while PyTorch can keep them in place; the
        values agree, the order of the axes may not.
        """
        index = _plain_index(index)
        x = self.data
        try:
            out = x[index]
        except IndexError as error:
            raise IndexError(f"index {index!r} does not fit shape {x.shape}: {error}") from None
        basic = _is_basic(index)

        def vjp(g: Array) -> tuple[Array]:
            full = np.zeros_like(x)
            if basic:
                full[index] = g  # each entry picked at most once
            else:
                np.add.at(full, index, g)  # repeated picks accumulate
            return (full,)

        return _result(out, (self,), vjp, "index")

    # -------------------------------------------------------------- softmax

    def softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        """`e**a / sum(e**a)` along `axis`, computed without overflow.

        VJP: `s * (g - sum(g * s))`, with `s` the softmax: the Jacobian
        `diag(s) - s sᵀ` applied to `g` without building it.
        """
        x = self.data
        axis = _one_axis("softmax", axis, dim)
        _axes(axis, x.ndim, "softmax")
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        s = e / e.sum(axis=axis, keepdims=True)

        def vjp(g: Array) -> tuple[Array]:
            return (s * (g - (g * s).sum(axis=axis, keepdims=True)),)

        return _result(s, (self,), vjp, "softmax")

    def log_softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        """`a - log(sum(e**a))` along `axis`, computed without overflow.

        VJP: `g - s * sum(g)`, with `s` the softmax.
        """
        x = self.data
        axis = _one_axis("log_softmax", axis, dim)
        _axes(axis, x.ndim, "log_softmax")
        shifted = x - x.max(axis=axis, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

        def vjp(g: Array) -> tuple[Array]:
            return (g - np.exp(out) * g.sum(axis=axis, keepdims=True),)

        return _result(out, (self,), vjp, "log_softmax")

    # -------------------------------------------------------------- your own ops

    @staticmethod
    def from_op(data: object, parents: Sequence[Tensor], vjp: VJP, op: str) -> Tensor:
        """A tensor made by an operation of your own: its value, its inputs, and its VJP.

        `vjp(g)` receives the upstream gradient `g` (an array of the output's shape) and
        returns one gradient per parent, each of that parent's shape (or `None` for no
        gradient). This is how every built-in operation is made, so `backward()` and
        `gradcheck` treat yours like theirs; `backward()` checks the shapes you return.

        ```python
        import numpy as np
        from backprop import Tensor, gradcheck


        def cube(x: Tensor) -> Tensor:
            xd = x.data

            def vjp(g):  # d(x**3)/dx = 3x**2, entry by entry
                return (g * 3 * xd**2,)

            return Tensor.from_op(xd**3, (x,), vjp, "cube")


        x = Tensor([1.0, -2.0], requires_grad=True)
        cube(x).backward(np.array([1.0, 0.5]))
        assert x.grad.tolist() == [3.0, 6.0]
        assert gradcheck(cube, [x])
        ```

        Raises:
            TypeError: a parent is not a `Tensor`, `vjp` is not callable, `op` is not a
                non-empty `str`, or `data` is not real numbers.
        """
        if not isinstance(op, str) or not op:
            raise TypeError(f"op must be a non-empty str naming the operation, got {op!r}")
        kids = tuple(parents)
        for i, p in enumerate(kids):
            if not isinstance(p, Tensor):
                raise TypeError(f"parent {i} of {op!r} must be a Tensor, got {type(p).__name__}")
        if not callable(vjp):
            raise TypeError(f"vjp of {op!r} must be callable, got {type(vjp).__name__}")
        return _result(_as_array(data), kids, vjp, op)

    # -------------------------------------------------------------- backward

    def backward(self, grad: object = None) -> None:
        """Compute `d self / d t` for every leaf `t` that requires a gradient.

        `self` must have one element, or `grad` must be given: the upstream gradient
        `dL/d self` of `self`'s shape (so `y.backward(g)` computes the gradients of
        `(y * g).sum()`). Leaves add this pass's gradient to their `.grad`.

        ```python
        import numpy as np
        from backprop import Tensor

        x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * x
        y.backward(np.array([1.0, 0.0, -1.0]))  # a non-uniform upstream gradient
        assert np.array_equal(x.grad, [2.0, 0.0, -6.0])
        ```

        Raises:
            RuntimeError: `self` does not require gradients, or has several elements and
                no `grad` was given.
            ValueError: `grad` has the wrong shape, or is not finite.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require gradients: no input of it "
                "was created with requires_grad=True (or it was computed under no_grad())"
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() needs grad= for a tensor of shape {self.shape}: pass the "
                    f"upstream gradient, an array of shape {self.shape}, or reduce to one "
                    f"number first, e.g. y.sum().backward()"
                )
            seed = np.ones_like(self.data)
        else:
            if isinstance(grad, Tensor):
                grad = grad.data
            seed = np.array(_as_array(grad), dtype=self.data.dtype)  # a copy we own
            if seed.shape != self.shape:
                raise ValueError(
                    f"backward(grad=...) needs shape {self.shape} like the tensor, got {seed.shape}"
                )
        if not np.isfinite(self.data).all():
            raise OverflowError(f"backward() from a tensor that is not finite: {self!r:.200}")

        grads: dict[int, Array] = {id(self): seed}
        owned: set[int] = set()  # arrays already stored in some .grad: copy before reuse
        # New .grad values are written only once the whole pass has succeeded, so an
        # error half-way leaves every gradient as it was.
        updates: list[tuple[Tensor, Array]] = []
        for node in reversed(topological_order(self)):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            if node._vjp is None:  # a leaf: accumulate across calls
                if id(g) in owned or not g.flags.owndata or not g.flags.writeable:
                    g = g.copy()
                new = g if node.grad is None else node.grad + g
                owned.add(id(new))
                updates.append((node, new))
                continue
            if node._retain:
                updates.append((node, g.copy() if node.grad is None else node.grad + g))
            for parent, pg in zip(node._parents, node._vjp(g), strict=True):
                if pg is None or not parent.requires_grad:
                    continue
                if pg.shape != parent.data.shape:
                    raise RuntimeError(
                        f"internal error: the VJP of {node._op!r} gave a gradient of shape "
                        f"{pg.shape} for an input of shape {parent.data.shape}"
                    )
                if pg.dtype != parent.data.dtype:
                    pg = pg.astype(parent.data.dtype)
                key = id(parent)
                if key in grads:
                    grads[key] = grads[key] + pg  # used more than once: sum the paths
                else:
                    grads[key] = pg
        for node, new in updates:
            node.grad = new


# ---------------------------------------------------------------------- functions


def unbroadcast(g: Array, shape: tuple[int, ...]) -> Array:
    """Sum `g` back to `shape`: the gradient of broadcasting an input of `shape`.

    Broadcasting adds leading axes and stretches axes of size 1. Every copy made that
    way feeds the output, so the input's gradient adds up the gradients of all its
    copies: sum over the added leading axes, then over the stretched ones (keeping them).

    ```python
    import numpy as np
    from backprop.tensor import unbroadcast

    g = np.ones((4, 3))
    assert unbroadcast(g, (3,)).tolist() == [4.0, 4.0, 4.0]  # a bias over 4 rows
    assert unbroadcast(g, (4, 1)).shape == (4, 1)
    ```
    """
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g


def maximum(a: Operand, b: Operand) -> Tensor:
    """The larger of `a` and `b`, entry by entry. VJP: `g` to the larger one; at a tie,
    half to each (as PyTorch does)."""
    first = a if isinstance(a, Tensor) else _operand(a, b if isinstance(b, Tensor) else None)
    second, x, y = _pair(first, b)
    out = _broadcasting("maximum", np.maximum, x, y)
    need_a, need_b = first.requires_grad, second.requires_grad

    def vjp(g: Array) -> tuple[Array | None, Array | None]:
        share = np.where(x > y, 1.0, np.where(x == y, 0.5, 0.0)).astype(out.dtype)
        return (
            unbroadcast(g * share, x.shape) if need_a else None,
            unbroadcast(g * (1 - share), y.shape) if need_b else None,
        )

    return _result(out, (first, second), vjp, "maximum")


def minimum(a: Operand, b: Operand) -> Tensor:
    """The smaller of `a` and `b`, entry by entry. VJP: `g` to the smaller one; at a tie,
    half to each (as PyTorch does)."""
    first = a if isinstance(a, Tensor) else _operand(a, b if isinstance(b, Tensor) else None)
    second, x, y = _pair(first, b)
    out = _broadcasting("minimum", np.minimum, x, y)
    need_a, need_b = first.requires_grad, second.requires_grad

    def vjp(g: Array) -> tuple[Array | None, Array | None]:
        share = np.where(x < y, 1.0, np.where(x == y, 0.5, 0.0)).astype(out.dtype)
        return (
            unbroadcast(g * share, x.shape) if need_a else None,
            unbroadcast(g * (1 - share), y.shape) if need_b else None,
        )

    return _result(out, (first, second), vjp, "minimum")


def where(condition: object, a: Operand, b: Operand) -> Tensor:
    """`a` where the bool `condition` is true, else `b`, entry by entry (PyTorch's
    `torch.where(condition, a, b)`). The three broadcast together.

    VJP: `g` where the condition holds to `a`, elsewhere to `b`, each summed back to its
    own shape.

    Raises:
        TypeError: `condition` is not bool.
        ValueError: the shapes do not broadcast.
    """
    c = _bool_mask("where", condition)
    first = a if isinstance(a, Tensor) else _operand(a, b if isinstance(b, Tensor) else None)
    second, x, y = _pair(first, b)
    try:
        shape = np.broadcast_shapes(c.shape, x.shape, y.shape)
    except ValueError:
        raise ValueError(
            f"where: shapes {c.shape} (condition), {x.shape} and {y.shape} do not broadcast"
        ) from None
    out = np.where(c, x, y)
    need_a, need_b = first.requires_grad, second.requires_grad
    pick = np.broadcast_to(c, shape)

    def vjp(g: Array) -> tuple[Array | None, Array | None]:
        return (
            unbroadcast(np.where(pick, g, 0.0).astype(g.dtype), x.shape) if need_a else None,
            unbroadcast(np.where(pick, 0.0, g).astype(g.dtype), y.shape) if need_b else None,
        )

    return _result(out, (first, second), vjp, "where")


def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """The tensors joined along an existing `axis`. VJP: `g` cut back into pieces."""
    parts = _tensors(tensors, "concatenate")
    try:
        out = np.concatenate([t.data for t in parts], axis=axis)
    except (ValueError, IndexError) as error:
        shapes = [t.shape for t in parts]
        raise ValueError(
            f"concatenate: shapes {shapes} do not join along axis {axis}: {error}"
        ) from None
    ends = np.cumsum([t.shape[axis] for t in parts])[:-1]

    def vjp(g: Array) -> tuple[Array, ...]:
        return tuple(np.split(g, ends, axis=axis))

    return _result(out, tuple(parts), vjp, "concatenate")


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """The tensors stacked along a new `axis`. VJP: `g` sliced back along that axis."""
    parts = _tensors(tensors, "stack")
    try:
        out = np.stack([t.data for t in parts], axis=axis)
    except (ValueError, IndexError) as error:
        shapes = [t.shape for t in parts]
        raise ValueError(
            f"stack: shapes {shapes} do not stack along axis {axis}: {error}"
        ) from None

    def vjp(g: Array) -> tuple[Array, ...]:
        return tuple(np.moveaxis(g, axis, 0))

    return _result(out, tuple(parts), vjp, "stack")


def linear(x: Operand, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """`x @ weight.T + bias` as one node, the layer of `backprop.nn.Linear`.

    `weight` has shape `(out_features, in_features)`, as in PyTorch. With `G` the
    upstream gradient (one row per input row), the VJP is `G @ weight` to `x`,
    `G.T @ x` to `weight` and `G` summed over the rows to `bias`.
    """
    if not isinstance(weight, Tensor):
        raise TypeError(f"linear: weight must be a Tensor, got {type(weight).__name__}")
    xt = _operand(x, weight)
    xd, w = xt.data, weight.data
    if xd.dtype != w.dtype:
        xd, w = _common(xd, w)
    if w.ndim != 2 or xd.ndim == 0 or xd.shape[-1] != w.shape[1]:
        raise ValueError(
            f"linear: input of shape {xd.shape} does not fit a weight of shape {w.shape} "
            f"(the input's last axis must be {w.shape[1] if w.ndim == 2 else 'in_features'})"
        )
    out = xd @ w.T
    parents: tuple[Tensor, ...] = (xt, weight)
    if bias is not None:
        if not isinstance(bias, Tensor):
            raise TypeError(f"linear: bias must be a Tensor or None, got {type(bias).__name__}")
        if bias.shape != (w.shape[0],):
            raise ValueError(f"linear: bias of shape {bias.shape} must have shape ({w.shape[0]},)")
        if bias.data.dtype == out.dtype:
            out += bias.data
        else:  # a float64 bias on a float32 product: promote, as `+` does
            out = out + bias.data
        parents = (xt, weight, bias)

    # The network's input needs no gradient, a frozen weight neither: skip their products.
    need_x, need_w, has_bias = xt.requires_grad, weight.requires_grad, bias is not None

    def vjp(g: Array) -> tuple[Array | None, ...]:
        rows = g.reshape(-1, g.shape[-1])
        gx = g @ w if need_x else None
        gw = rows.T @ xd.reshape(-1, xd.shape[-1]) if need_w else None
        return (gx, gw, rows.sum(axis=0)) if has_bias else (gx, gw)

    return _result(out, parents, vjp, "linear")


_REDUCTIONS = ("mean", "sum", "none")


def _reduction(op: str, reduction: object) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return str(reduction)


def _reduce(per: Array, reduction: str, count: int) -> tuple[Array, Callable[[Array], Array]]:
    """A loss's per-entry values reduced as PyTorch does, and the factor each entry's
    gradient is multiplied by, as a function of the upstream gradient `g`."""
    if reduction == "none":
        return per, lambda g: g
    if reduction == "sum":
        return np.asarray(per.sum(), dtype=per.dtype), lambda g: g
    return np.asarray(per.sum() / count, dtype=per.dtype), lambda g: g / count


def cross_entropy(
    logits: Tensor,
    labels: object,
    *,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
    ignore_index: int = -100,
) -> Tensor:
    """The softmax cross-entropy of logits and targets, as PyTorch's `cross_entropy`.

    For one row of logits `z` with class `y`, the loss is `log(sum_j e**z_j) - z_y`,
    computed without overflow. Its gradient is `p - onehot(y)`, with `p` the softmax of
    `z`; the mean over the `N` rows divides it by `N`.

    Like PyTorch it takes logits of shape `(N, C)` or `(N, C, d1, ...)` (classes on axis
    1); targets that are class indices (integers, shape `(N,)` or `(N, d1, ...)`) or
    class probabilities (floats, the logits' shape); `reduction` `"mean"` (over the
    targets not ignored), `"sum"` or `"none"`; `label_smoothing` `e`, which mixes the
    target with the uniform distribution, `(1 - e) q + e / C`; and `ignore_index`, a class
    index whose targets count for nothing.

    ```python
    import numpy as np
    from backprop import Tensor
    from backprop.tensor import cross_entropy

    z = Tensor([[2.0, 0.0, 0.0]], requires_grad=True)
    loss = cross_entropy(z, [0])
    loss.backward()
    p = np.exp([2.0, 0.0, 0.0]) / np.exp([2.0, 0.0, 0.0]).sum()
    assert np.isclose(loss.item(), -np.log(p[0]))
    assert np.allclose(z.grad, [p - [1, 0, 0]])
    ```

    Raises:
        TypeError: `logits` is not a Tensor, or index targets are not integers.
        ValueError: the shapes do not fit, a class index is out of range, probabilities
            are negative, every target is ignored, or a keyword is out of its domain.
    """
    if not isinstance(logits, Tensor):
        raise TypeError(f"cross_entropy: logits must be a Tensor, got {type(logits).__name__}")
    reduction = _reduction("cross_entropy", reduction)
    smoothing = _number("cross_entropy", "label_smoothing", label_smoothing)
    if not 0.0 <= smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {smoothing}")
    z = logits.data
    if z.ndim < 2 or 0 in z.shape:
        raise ValueError(
            f"cross_entropy: logits must have shape (N, C) or (N, C, d1, ...) with every "
            f"size >= 1, got {z.shape}"
        )
    target = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    if (
        z.ndim == 2
        and target.dtype.kind in "iu"
        and reduction == "mean"
        and smoothing == 0.0
        and not (target == ignore_index).any()
    ):
        return _cross_entropy_rows(logits, _labels(target, z.shape))  # the common case, fused
    return _cross_entropy_general(logits, labels, target, reduction, smoothing, ignore_index)


def _cross_entropy_rows(logits: Tensor, y: Array) -> Tensor:
    """Mean cross-entropy of (N, C) logits and N class indices: one node, one softmax."""
    z = logits.data
    n = z.shape[0]
    rows = np.arange(n)
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=1, keepdims=True)
    loss = (np.log(total[:, 0]) - shifted[rows, y]).mean()

    def vjp(g: Array) -> tuple[Array]:
        grad = e / total  # the softmax p
        grad[rows, y] -= 1  # p - onehot(y)
        return (grad * (g / n),)

    return _result(np.asarray(loss, dtype=e.dtype), (logits,), vjp, "cross_entropy")


def _cross_entropy_general(
    logits: Tensor, labels: object, target: Array, reduction: str, smoothing: float, ignore: int
) -> Tensor:
    z = np.moveaxis(logits.data, 1, -1)  # (N, d1, ..., C)
    c = z.shape[-1]
    shifted = z - z.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    p = np.exp(log_p)
    parents: tuple[Tensor, ...] = (logits,)
    if target.dtype.kind in "iu":  # class indices
        expected = (z.shape[0], *z.shape[1:-1])
        if target.shape != expected:
            raise ValueError(
                f"cross_entropy: class-index targets for logits of shape {logits.shape} must "
                f"have shape {expected}, got {target.shape}"
            )
        keep = target != ignore
        bad = keep & ((target < 0) | (target >= c))
        if bad.any():
            raise ValueError(
                f"cross_entropy: labels must be in [0, {c}) (or ignore_index={ignore}), got "
                f"{target[bad][:5].tolist()} ({int(bad.sum())} out of range)"
            )
        count = int(keep.sum())
        if count == 0 and reduction == "mean":
            raise ValueError("cross_entropy: every target is ignore_index: the mean is 0 / 0")
        q = np.eye(c, dtype=z.dtype)[np.where(keep, target, 0)] * (1 - smoothing) + smoothing / c
        q *= keep[..., None]
        target_tensor = None
    else:  # class probabilities, the logits' shape
        if target.shape != logits.shape:
            raise TypeError(
                f"cross_entropy: labels must be integers (class indices), or class "
                f"probabilities of the logits' shape {logits.shape}; got dtype {target.dtype} "
                f"and shape {target.shape}"
            )
        if target.dtype.kind != "f":
            raise ValueError(
                f"cross_entropy: probability targets must be floats of the logits' shape "
                f"{logits.shape}, got dtype {target.dtype} and shape {target.shape}"
            )
        if (target < 0).any():
            raise ValueError("cross_entropy: probability targets must not be negative")
        t = np.moveaxis(target.astype(z.dtype), 1, -1)
        q = t * (1 - smoothing) + smoothing / c
        count = int(np.prod(z.shape[:-1]))
        target_tensor = labels if isinstance(labels, Tensor) and labels.requires_grad else None
        if target_tensor is not None:
            parents = (logits, target_tensor)
    per = -(q * log_p).sum(axis=-1)
    out, scale = _reduce(per, reduction, count)

    def vjp(g: Array) -> tuple[Array | None, ...]:
        w = scale(g)[..., None] if reduction == "none" else scale(g)
        gz = np.moveaxis((p * q.sum(axis=-1, keepdims=True) - q) * w, -1, 1)
        if target_tensor is None:
            return (gz,)
        return gz, np.moveaxis(-(1 - smoothing) * log_p * w, -1, 1)

    return _result(out, parents, vjp, "cross_entropy")


def nll_loss(
    log_probs: Tensor, labels: object, *, reduction: str = "mean", ignore_index: int = -100
) -> Tensor:
    """The negative log-likelihood of class indices under log-probabilities (PyTorch's
    `nll_loss`): `-log_probs[n, y_n]`, averaged over the targets not ignored. Shapes as
    `cross_entropy`'s. VJP: `-g` at each target's entry, 0 elsewhere.

    Raises:
        TypeError: `log_probs` is not a Tensor or the labels are not integers.
        ValueError: the shapes do not fit or a label is out of range.
    """
    if not isinstance(log_probs, Tensor):
        raise TypeError(f"nll_loss: log_probs must be a Tensor, got {type(log_probs).__name__}")
    reduction = _reduction("nll_loss", reduction)
    x = np.moveaxis(log_probs.data, 1, -1) if log_probs.ndim >= 2 else None
    y = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    if x is None or 0 in log_probs.shape:
        raise ValueError(f"nll_loss: log_probs must have shape (N, C, ...), got {log_probs.shape}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: labels must be integers (class indices), got dtype {y.dtype}")
    c = x.shape[-1]
    if y.shape != x.shape[:-1]:
        raise ValueError(
            f"nll_loss: labels for log_probs of shape {log_probs.shape} must have shape "
            f"{x.shape[:-1]}, got {y.shape}"
        )
    keep = y != ignore_index
    bad = keep & ((y < 0) | (y >= c))
    if bad.any():
        raise ValueError(f"nll_loss: labels must be in [0, {c}), got {y[bad][:5].tolist()}")
    count = int(keep.sum())
    if count == 0 and reduction == "mean":
        raise ValueError("nll_loss: every target is ignore_index: the mean is 0 / 0")
    safe = np.where(keep, y, 0)
    picked = np.take_along_axis(x, safe[..., None], axis=-1)[..., 0]
    per = -picked * keep
    out, scale = _reduce(per, reduction, count)

    def vjp(g: Array) -> tuple[Array]:
        grad = np.zeros_like(x)
        w = scale(g) * keep
        np.put_along_axis(grad, safe[..., None], -np.asarray(w, dtype=x.dtype)[..., None], -1)
        return (np.moveaxis(grad, -1, 1),)

    return _result(out, (log_probs,), vjp, "nll_loss")


def mse_loss(prediction: Tensor, target: Operand, *, reduction: str = "mean") -> Tensor:
    """The squared error `(prediction - target)**2`, averaged (PyTorch's `mse_loss`).
    VJP: `2 g (prediction - target) / n` to the prediction and its negative to the target.

    The shapes must be equal: PyTorch broadcasts different shapes with only a warning,
    which turns predictions of shape (n, 1) and targets of shape (n,) into an (n, n)
    comparison (the museum of bugs, exhibit 9); here it is an error.

    Raises:
        ValueError: the shapes differ.
    """
    if not isinstance(prediction, Tensor):
        raise TypeError(f"mse_loss: prediction must be a Tensor, got {type(prediction).__name__}")
    reduction = _reduction("mse_loss", reduction)
    t, x, y = _pair(prediction, target)
    if x.shape != y.shape:
        raise ValueError(
            f"mse_loss: prediction of shape {x.shape} and target of shape {y.shape} differ "
            f"(they would broadcast to {_broadcast_or_none(x.shape, y.shape)}): reshape one"
        )
    diff = x - y
    out, scale = _reduce(diff * diff, reduction, diff.size)
    need_x, need_y = prediction.requires_grad, t.requires_grad

    def vjp(g: Array) -> tuple[Array | None, Array | None]:
        gd = 2 * scale(g) * diff
        return (gd if need_x else None, -gd if need_y else None)

    return _result(out, (prediction, t), vjp, "mse_loss")


def binary_cross_entropy_with_logits(
    logits: Tensor, target: Operand, *, reduction: str = "mean"
) -> Tensor:
    """`-(y ln s(z) + (1 - y) ln(1 - s(z)))` with `s` the sigmoid, computed from the logits
    `z` without overflow as `max(z, 0) - z y + ln(1 + e^{-|z|})` (PyTorch's
    `binary_cross_entropy_with_logits`). VJP: `g (s(z) - y) / n` to the logits, `-g z / n`
    to the target.

    Raises:
        ValueError: the shapes differ (as in PyTorch), or a target is outside [0, 1].
    """
    if not isinstance(logits, Tensor):
        raise TypeError(
            f"binary_cross_entropy_with_logits: logits must be a Tensor, got "
            f"{type(logits).__name__}"
        )
    op = "binary_cross_entropy_with_logits"
    reduction = _reduction(op, reduction)
    t, z, y = _pair(logits, target)
    if z.shape != y.shape:
        raise ValueError(f"{op}: target of shape {y.shape} must have the logits' shape {z.shape}")
    if ((y < 0) | (y > 1)).any():
        raise ValueError(f"{op}: targets must be in [0, 1]")
    e = np.exp(-np.abs(z))
    per = np.maximum(z, 0) - z * y + np.log1p(e)
    s = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    out, scale = _reduce(per, reduction, per.size)
    need_z, need_y = logits.requires_grad, t.requires_grad

    def vjp(g: Array) -> tuple[Array | None, Array | None]:
        w = scale(g)
        return (w * (s - y) if need_z else None, -w * z if need_y else None)

    return _result(out, (logits, t), vjp, op)


def _broadcast_or_none(a: tuple[int, ...], b: tuple[int, ...]) -> object:
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        return "nothing: they do not broadcast"


# ---------------------------------------------------------------------- convolutions
# Images are (N, C, H, W), kernels (C_out, C_in, kh, kw), as in PyTorch.


def _pair_arg(op: str, name: str, value: object) -> tuple[int, int]:
    items = value if isinstance(value, tuple | list) else (value, value)
    if len(items) != 2 or not all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) for v in items
    ):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    return int(items[0]), int(items[1])


def _windows(
    op: str,
    x: Array,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    fill: float = 0.0,
) -> tuple[Array, Array]:
    """The padded image and its (kh, kw) windows at `stride`: (N, C, H_out, W_out, kh, kw),
    a view of the padded image (nothing is copied yet)."""
    if x.ndim != 4:
        raise ValueError(f"{op}: input must have shape (N, C, H, W), got {x.shape}")
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    if min(kh, kw, sh, sw) < 1 or min(ph, pw) < 0:
        raise ValueError(
            f"{op}: kernel {kernel} and stride {stride} must be positive, padding {padding} "
            f"not negative"
        )
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    if xp.shape[2] < kh or xp.shape[3] < kw:
        raise ValueError(
            f"{op}: a {kh}x{kw} kernel does not fit an input of shape {x.shape} padded by {padding}"
        )
    view = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))
    return xp, view[:, :, ::sh, ::sw]


def _col2im(cols: Array, shape: tuple[int, ...], stride: tuple[int, int]) -> Array:
    """The adjoint of `_windows`: each window's gradient (N, C, H_out, W_out, kh, kw)
    added back at its place in a padded image of `shape`; overlapping windows add up.
    One slice-add per kernel offset (kh * kw of them), faster than `np.add.at`."""
    out = np.zeros(shape, dtype=cols.dtype)
    _, _, ho, wo, kh, kw = cols.shape
    sh, sw = stride
    for i in range(kh):
        for j in range(kw):
            out[:, :, i : i + sh * ho : sh, j : j + sw * wo : sw] += cols[:, :, :, :, i, j]
    return out


def conv2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> Tensor:
    """The 2-D cross-correlation of PyTorch's `conv2d`:
    `Y[n, o, i, j] = b[o] + sum_{c, u, v} X[n, c, s i + u, s j + v] W[o, c, u, v]` on the
    zero-padded input.

    Computed as real libraries do: the windows gathered into a matrix (im2col), then one
    matrix product. VJP, with `G` the upstream gradient in the same layout: `dW` is the
    windows' matrix times `G` (a correlation of the input with `G`); `dX` is `G` times
    `W`, each window's share added back where it came from (col2im: a full convolution of
    `G` with the flipped kernel); `db` is `G` summed over everything but the channel.

    Raises:
        TypeError: the arguments are not Tensors / ints.
        ValueError: the shapes do not fit (naming both).
    """
    op = "conv2d"
    if not isinstance(x, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: input and weight must be Tensors")
    w = weight.data
    if w.ndim != 4:
        raise ValueError(f"{op}: weight must have shape (C_out, C_in, kh, kw), got {w.shape}")
    if x.ndim != 4 or x.shape[1] != w.shape[1]:
        raise ValueError(
            f"{op}: an input of shape {x.shape} does not fit a weight of shape {w.shape} "
            f"(the input must be (N, {w.shape[1]}, H, W))"
        )
    stride2, padding2 = _pair_arg(op, "stride", stride), _pair_arg(op, "padding", padding)
    xd = x.data if x.dtype == w.dtype else x.data.astype(w.dtype)
    xp, win = _windows(op, xd, w.shape[2:], stride2, padding2)
    n, c, ho, wo, kh, kw = win.shape
    cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * kh * kw)  # im2col
    w2 = w.reshape(w.shape[0], -1)
    out = cols @ w2.T
    parents: tuple[Tensor, ...] = (x, weight)
    if bias is not None:
        if not isinstance(bias, Tensor) or bias.shape != (w.shape[0],):
            raise ValueError(f"{op}: bias must be a Tensor of shape ({w.shape[0]},)")
        out = out + bias.data
        parents = (x, weight, bias)
    out = out.reshape(n, ho, wo, -1).transpose(0, 3, 1, 2)
    need_x, need_w, has_bias = x.requires_grad, weight.requires_grad, bias is not None
    ph, pw = padding2
    xshape = x.shape

    def vjp(g: Array) -> tuple[Array | None, ...]:
        g2 = g.transpose(0, 2, 3, 1).reshape(-1, g.shape[1])  # (N Ho Wo, C_out)
        gx = gw = None
        if need_w:
            gw = (g2.T @ cols).reshape(w.shape)
        if need_x:
            gcols = (g2 @ w2).reshape(n, ho, wo, c, kh, kw).transpose(0, 3, 1, 2, 4, 5)
            gxp = _col2im(gcols, xp.shape, stride2)
            gx = gxp[:, :, ph : ph + xshape[2], pw : pw + xshape[3]]
        if has_bias:
            return gx, gw, g.sum(axis=(0, 2, 3))
        return gx, gw

    return _result(np.ascontiguousarray(out), parents, vjp, op)


def max_pool2d(
    x: Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
) -> Tensor:
    """The largest entry of each window (PyTorch's `max_pool2d`; `stride` defaults to the
    kernel size, padding counts as -infinity). VJP: each window's `g` to its winner, the
    first one in the window among ties, as PyTorch does; overlapping windows add up."""
    op = "max_pool2d"
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor")
    kernel = _pair_arg(op, "kernel_size", kernel_size)
    stride2 = kernel if stride is None else _pair_arg(op, "stride", stride)
    padding2 = _pair_arg(op, "padding", padding)
    if padding2[0] > kernel[0] // 2 or padding2[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding2} must be at most half the kernel {kernel}")
    xp, win = _windows(op, x.data, kernel, stride2, padding2, fill=-np.inf)
    n, c, ho, wo, kh, kw = win.shape
    flat = win.reshape(n, c, ho, wo, kh * kw)
    winner = flat.argmax(axis=-1)  # the first largest
    out = np.take_along_axis(flat, winner[..., None], axis=-1)[..., 0]
    ph, pw = padding2
    xshape = x.shape

    def vjp(g: Array) -> tuple[Array]:
        cols = np.zeros((n, c, ho, wo, kh * kw), dtype=g.dtype)
        np.put_along_axis(cols, winner[..., None], g[..., None], axis=-1)
        gxp = _col2im(cols.reshape(n, c, ho, wo, kh, kw), xp.shape, stride2)
        return (gxp[:, :, ph : ph + xshape[2], pw : pw + xshape[3]],)

    return _result(np.ascontiguousarray(out), (x,), vjp, op)


def avg_pool2d(
    x: Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
) -> Tensor:
    """The mean of each window (PyTorch's `avg_pool2d`, zero padding counted in the mean).
    VJP: each window's `g`, divided by the window's size, spread over the window."""
    op = "avg_pool2d"
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor")
    kernel = _pair_arg(op, "kernel_size", kernel_size)
    stride2 = kernel if stride is None else _pair_arg(op, "stride", stride)
    padding2 = _pair_arg(op, "padding", padding)
    xp, win = _windows(op, x.data, kernel, stride2, padding2)
    n, c, ho, wo, kh, kw = win.shape
    out = win.mean(axis=(-2, -1))
    ph, pw = padding2
    xshape = x.shape

    def vjp(g: Array) -> tuple[Array]:
        cols = np.broadcast_to((g / (kh * kw))[..., None, None], (n, c, ho, wo, kh, kw))
        gxp = _col2im(np.ascontiguousarray(cols), xp.shape, stride2)
        return (gxp[:, :, ph : ph + xshape[2], pw : pw + xshape[3]],)

    return _result(out, (x,), vjp, op)


# ---------------------------------------------------------------------- normalisation


def batch_norm(
    x: Tensor,
    running_mean: Array | None,
    running_var: Array | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation over every axis but the channel axis 1 (PyTorch's
    `batch_norm`): `y = gamma (x - mean) / sqrt(var + eps) + beta`.

    In training the mean and the (biased) variance are the batch's own, and the running
    statistics, if given, move towards them in place by `momentum` (the variance's unbiased
    estimate, as PyTorch does); in evaluation the running statistics are used. VJP in
    training, the compact formula: with `xh` the normalised input and `m` the entries per
    channel, `dx = gamma / (m sigma) (m dy - sum(dy) - xh sum(dy xh))`; `dgamma =
    sum(dy xh)`, `dbeta = sum(dy)`. In evaluation `dx = gamma dy / sigma`.

    Raises:
        ValueError: the input has fewer than 2 axes, or the statistics or parameters do
            not have one entry per channel, or a training batch has one entry per channel.
    """
    op = "batch_norm"
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor")
    xd = x.data
    if xd.ndim < 2:
        raise ValueError(f"{op}: input must have shape (N, C, ...), got {xd.shape}")
    c = xd.shape[1]
    axes = tuple(k for k in range(xd.ndim) if k != 1)
    shape = tuple(c if k == 1 else 1 for k in range(xd.ndim))
    m = xd.size // c
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (not isinstance(t, Tensor) or t.shape != (c,)):
            raise ValueError(f"{op}: {name} must be a Tensor of shape ({c},)")
    for name, a in (("running_mean", running_mean), ("running_var", running_var)):
        if a is not None and np.shape(a) != (c,):
            raise ValueError(f"{op}: {name} must have shape ({c},), got {np.shape(a)}")
    if training:
        if m < 2:
            raise ValueError(f"{op}: a training batch needs more than one entry per channel")
        mean = xd.mean(axis=axes, keepdims=True)
        var = xd.var(axis=axes, keepdims=True)
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean.reshape(c)
        if running_var is not None:
            running_var *= 1 - momentum
            running_var += momentum * var.reshape(c) * m / (m - 1)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(f"{op}: evaluation needs running_mean and running_var")
        mean = np.asarray(running_mean, dtype=xd.dtype).reshape(shape)
        var = np.asarray(running_var, dtype=xd.dtype).reshape(shape)
    sigma = np.sqrt(var + eps)
    xh = (xd - mean) / sigma
    gamma = weight.data.reshape(shape) if weight is not None else np.ones(shape, xd.dtype)
    out = gamma * xh + (bias.data.reshape(shape) if bias is not None else 0)
    parents = tuple(t for t in (x, weight, bias) if t is not None)
    has_w, has_b = weight is not None, bias is not None

    def vjp(g: Array) -> tuple[Array, ...]:
        sum_g = g.sum(axis=axes, keepdims=True)
        sum_gx = (g * xh).sum(axis=axes, keepdims=True)
        if training:  # the batch's statistics depend on x too: the compact formula
            grads: list[Array] = [gamma / (m * sigma) * (m * g - sum_g - xh * sum_gx)]
        else:  # fixed statistics: a scale and a shift
            grads = [gamma * g / sigma]
        if has_w:
            grads.append(sum_gx.reshape(c))
        if has_b:
            grads.append(sum_g.reshape(c))
        return tuple(grads)

    return _result(out, parents, vjp, op)


def layer_norm(
    x: Tensor,
    normalized_shape: int | tuple[int, ...],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Layer normalisation over the last axes `normalized_shape` (PyTorch's
    `layer_norm`): each example's entries normalised by their own mean and (biased)
    variance, then scaled by `weight` and shifted by `bias`, entry by entry. VJP: the
    batch-norm formula, with the sums taken over the normalised axes of each example."""
    op = "layer_norm"
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor")
    dims = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    xd = x.data
    k = len(dims)
    if xd.shape[xd.ndim - k :] != dims:
        raise ValueError(f"{op}: input of shape {xd.shape} does not end in {dims}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (not isinstance(t, Tensor) or t.shape != dims):
            raise ValueError(f"{op}: {name} must be a Tensor of shape {dims}")
    axes = tuple(range(xd.ndim - k, xd.ndim))
    m = int(np.prod(dims))
    mean = xd.mean(axis=axes, keepdims=True)
    sigma = np.sqrt(xd.var(axis=axes, keepdims=True) + eps)
    xh = (xd - mean) / sigma
    gamma = weight.data if weight is not None else np.ones(dims, xd.dtype)
    out = gamma * xh + (bias.data if bias is not None else 0)
    parents = tuple(t for t in (x, weight, bias) if t is not None)
    lead = tuple(range(xd.ndim - k))
    has_w, has_b = weight is not None, bias is not None

    def vjp(g: Array) -> tuple[Array, ...]:
        gh = g * gamma
        sum_g = gh.sum(axis=axes, keepdims=True)
        sum_gx = (gh * xh).sum(axis=axes, keepdims=True)
        grads: list[Array] = [(m * gh - sum_g - xh * sum_gx) / (m * sigma)]
        if has_w:
            grads.append((g * xh).sum(axis=lead))
        if has_b:
            grads.append(g.sum(axis=lead))
        return tuple(grads)

    return _result(out, parents, vjp, op)


def dropout(x: Tensor, p: float = 0.5, training: bool = True, *, seed: object = None) -> Tensor:
    """Inverted dropout (PyTorch's `dropout`): in training each entry is zeroed with
    probability `p` and the others are divided by `1 - p`, so the expected value is
    unchanged; in evaluation `x` itself. The mask comes from a seeded Generator. VJP: `g`
    times the same mask, divided by `1 - p`."""
    if not isinstance(x, Tensor):
        raise TypeError("dropout: input must be a Tensor")
    rate = _number("dropout", "p", p)
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout: p must be in [0, 1), got {rate}")
    if not training or rate == 0.0:
        return x
    keep = (_rng(seed).random(x.shape) >= rate).astype(x.dtype) / (1 - rate)

    def vjp(g: Array) -> tuple[Array]:
        return (g * keep,)

    return _result(x.data * keep, (x,), vjp, "dropout")


def embedding(indices: object, weight: Tensor) -> Tensor:
    """The rows of `weight` picked by integer `indices` (PyTorch's `embedding`): output
    shape `indices.shape + (embedding_dim,)`. VJP: a scatter-add, so a token that appears
    several times gets the sum of its rows' gradients."""
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError("embedding: weight must be a Tensor of shape (num_embeddings, dim)")
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    if idx.size and (idx.min() < 0 or idx.max() >= weight.shape[0]):
        raise IndexError(
            f"embedding: indices must be in [0, {weight.shape[0]}), got "
            f"{int(idx.min())}..{int(idx.max())}"
        )
    return weight[idx]


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: object = None,
    is_causal: bool = False,
) -> Tensor:
    """`softmax(Q K^T / sqrt(d) + mask) V` over the last two axes (PyTorch's
    `scaled_dot_product_attention`), built from the engine's own operations, so its
    backward pass is theirs: the matrix products' and the softmax's VJPs. A bool
    `attn_mask` keeps the entries that are true; `is_causal` keeps each position's past.

    Raises:
        ValueError: the shapes do not fit, or a row is masked entirely.
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor) or t.ndim < 2:
            raise ValueError(f"scaled_dot_product_attention: {name} must be a Tensor (..., L, d)")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(
            f"scaled_dot_product_attention: query {query.shape}, key {key.shape} and value "
            f"{value.shape} do not fit (query and key share d, key and value share S)"
        )
    scores = (query @ key.transpose(-2, -1)) * (1 / math.sqrt(query.shape[-1]))
    keep = None
    if is_causal:
        lq, lk = query.shape[-2], key.shape[-2]
        keep = np.tril(np.ones((lq, lk), dtype=bool))
    if attn_mask is not None:
        m = _bool_mask("scaled_dot_product_attention", attn_mask)
        keep = m if keep is None else keep & m
    if keep is not None:
        if not np.broadcast_to(keep, scores.shape).any(axis=-1).all():
            raise ValueError("scaled_dot_product_attention: a row of the mask keeps nothing")
        scores = scores.masked_fill(~keep, -1e30)
    return scores.softmax(axis=-1) @ value


# ---------------------------------------------------------------------- creation
# PyTorch's names; float64 by default (PyTorch's default is float32), leaves that require a
# gradient only when asked. Random tensors come from a seeded numpy Generator.


def _shape(op: str, size: tuple[object, ...]) -> tuple[int, ...]:
    dims = size[0] if len(size) == 1 and isinstance(size[0], tuple | list) else size
    out = []
    for n in dims:
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise ValueError(f"{op}: sizes must be non-negative ints, got {tuple(dims)!r}")
        out.append(int(n))
    return tuple(out)


def _made(data: Array, dtype: object, requires_grad: bool) -> Tensor:
    return Tensor(data if dtype is None else data.astype(dtype), requires_grad=requires_grad)


def zeros(*size: int, dtype: object = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros of shape `size` (float64 unless `dtype` says otherwise)."""
    return _made(np.zeros(_shape("zeros", size)), dtype, requires_grad)


def ones(*size: int, dtype: object = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones of shape `size`."""
    return _made(np.ones(_shape("ones", size)), dtype, requires_grad)


def full(
    size: tuple[int, ...], fill_value: float, *, dtype: object = None, requires_grad: bool = False
) -> Tensor:
    """A tensor of shape `size` filled with `fill_value`."""
    value = _number("full", "fill_value", fill_value)
    return _made(np.full(_shape("full", (size,)), value), dtype, requires_grad)


def arange(
    start: float, end: float | None = None, step: float = 1, *, dtype: object = None
) -> Tensor:
    """`start, start + step, ...` below `end` (one argument: `0, 1, ..., start - 1`), as
    PyTorch's `arange`: integers give int64, any float gives float64."""
    if end is None:
        start, end = 0, start
    values = [_number("arange", n, v) for n, v in (("start", start), ("end", end), ("step", step))]
    if values[2] == 0:
        raise ValueError("arange: step must not be 0")
    ints = all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) for v in (start, end, step)
    )
    out = np.arange(start, end, step, dtype=np.int64 if ints else np.float64)
    return Tensor(out if dtype is None else out.astype(dtype))


def eye(
    n: int, m: int | None = None, *, dtype: object = None, requires_grad: bool = False
) -> Tensor:
    """The `n` by `m` identity matrix (square by default)."""
    rows, cols = _shape("eye", (n, n if m is None else m))
    return _made(np.eye(rows, cols), dtype, requires_grad)


def _rng(seed: object) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, int | np.integer) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise TypeError(f"seed must be an int, a numpy Generator or None, got {seed!r}")


def randn(
    *size: int, seed: object = None, dtype: object = None, requires_grad: bool = False
) -> Tensor:
    """Standard normal numbers of shape `size`, from `numpy.random.default_rng(seed)` (or
    the Generator passed as `seed`): the same seed gives the same numbers (not PyTorch's:
    the generators differ)."""
    data = _rng(seed).standard_normal(_shape("randn", size))
    return _made(data, dtype, requires_grad)


def rand(
    *size: int, seed: object = None, dtype: object = None, requires_grad: bool = False
) -> Tensor:
    """Numbers uniform in `[0, 1)` of shape `size`, from a seeded Generator, as `randn`."""
    data = _rng(seed).random(_shape("rand", size))
    return _made(data, dtype, requires_grad)


def _like(t: object, op: str) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expects a Tensor, got {type(t).__name__}")
    return t


def zeros_like(t: Tensor, *, dtype: object = None, requires_grad: bool = False) -> Tensor:
    """Zeros of `t`'s shape and dtype."""
    t = _like(t, "zeros_like")
    return Tensor(np.zeros_like(t.data, dtype=dtype), requires_grad=requires_grad)


def ones_like(t: Tensor, *, dtype: object = None, requires_grad: bool = False) -> Tensor:
    """Ones of `t`'s shape and dtype."""
    t = _like(t, "ones_like")
    return Tensor(np.ones_like(t.data, dtype=dtype), requires_grad=requires_grad)


def full_like(
    t: Tensor, fill_value: float, *, dtype: object = None, requires_grad: bool = False
) -> Tensor:
    """`fill_value` in `t`'s shape and dtype."""
    t = _like(t, "full_like")
    value = _number("full_like", "fill_value", fill_value)
    return Tensor(np.full_like(t.data, value, dtype=dtype), requires_grad=requires_grad)


def randn_like(t: Tensor, *, seed: object = None, requires_grad: bool = False) -> Tensor:
    """Standard normal numbers in `t`'s shape and float dtype, from a seeded Generator."""
    t = _like(t, "randn_like")
    dtype = t.dtype if t.dtype in _FLOATS else np.float64
    return randn(*t.shape, seed=seed, dtype=dtype, requires_grad=requires_grad)


def rand_like(t: Tensor, *, seed: object = None, requires_grad: bool = False) -> Tensor:
    """Uniform numbers in `[0, 1)` in `t`'s shape and float dtype."""
    t = _like(t, "rand_like")
    dtype = t.dtype if t.dtype in _FLOATS else np.float64
    return rand(*t.shape, seed=seed, dtype=dtype, requires_grad=requires_grad)


# ---------------------------------------------------------------------- more functions


def one_hot(labels: object, num_classes: int = -1) -> Tensor:
    """Integer labels as one-hot rows (int64, as PyTorch's `one_hot`): a new last axis of
    `num_classes` entries (the largest label + 1 by default), 1 at the label. No gradient.

    Raises:
        TypeError: the labels are not integers.
        ValueError: a label is negative or not below `num_classes`.
    """
    y = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    if y.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got dtype {y.dtype}")
    if y.size and y.min() < 0:
        raise ValueError(f"one_hot: labels must be >= 0, got {int(y.min())}")
    c = int(y.max()) + 1 if num_classes == -1 else int(num_classes)
    if y.size and y.max() >= c:
        raise ValueError(f"one_hot: label {int(y.max())} does not fit {c} classes")
    return _constant(np.eye(c, dtype=np.int64)[y])


def pad(t: Tensor, pad: Sequence[int], value: float = 0.0) -> Tensor:
    """`t` padded with `value`, as PyTorch's `nn.functional.pad` (constant mode): `pad`
    lists (before, after) pairs for the last axis first, then the one before it, ...
    VJP: `g` with the padding cut away.

    Raises:
        ValueError: `pad` has an odd length, more pairs than axes, or a negative width.
    """
    if not isinstance(t, Tensor):
        raise TypeError(f"pad: expects a Tensor, got {type(t).__name__}")
    widths = [int(w) for w in pad]
    x = t.data
    if len(widths) % 2 or len(widths) // 2 > x.ndim or any(w < 0 for w in widths):
        raise ValueError(
            f"pad: needs (before, after) pairs of non-negative widths, last axis first, at "
            f"most one pair per axis of shape {x.shape}, got {tuple(widths)}"
        )
    pairs = [(0, 0)] * x.ndim
    for k in range(len(widths) // 2):
        pairs[x.ndim - 1 - k] = (widths[2 * k], widths[2 * k + 1])
    fill = _number("pad", "value", value)
    out = np.pad(x, pairs, constant_values=fill)
    inside = tuple(slice(b, b + n) for (b, _), n in zip(pairs, x.shape, strict=True))

    def vjp(g: Array) -> tuple[Array]:
        return (g[inside],)

    return _result(out, (t,), vjp, "pad")


def topological_order(root: Tensor) -> list[Tensor]:
    """Every tensor that `root` depends on and that requires a gradient, each once,
    inputs before the results computed from them. Iterative: any depth works."""
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for parent in node._parents:
            if parent.requires_grad and id(parent) not in seen:
                stack.append((parent, False))
    return order


# ---------------------------------------------------------------------- helpers

_new = object.__new__


def _constant(data: Array) -> Tensor:
    """A leaf around an array already checked (no copy, no gradient)."""
    t = _new(Tensor)
    t.data = data
    t.grad = None
    t.requires_grad = False
    t._parents = ()
    t._vjp = None
    t._op = ""
    t._retain = False
    return t


def _result(data: Array, parents: tuple[Tensor, ...], vjp: VJP, op: str) -> Tensor:
    """The output of an operation: in the graph if any input requires a gradient."""
    t = _new(Tensor)
    t.data = data
    t.grad = None
    t._op = op
    t._retain = False
    if _grad_enabled:
        for p in parents:
            if p.requires_grad:
                t.requires_grad = True
                t._parents = parents
                t._vjp = vjp
                return t
    t.requires_grad = False
    t._parents = ()
    t._vjp = None
    return t


def _operand(x: object, like: Tensor | None) -> Tensor:
    """`x` as a Tensor: a number takes `like`'s float dtype, so float32 stays float32."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        dtype = None
        if like is not None:
            kind = like.data.dtype
            # A number takes the tensor's dtype: float32 stays float32, and an integer
            # meeting an integer tensor keeps its width (int32 * 2 is int32, as in PyTorch).
            if kind in _FLOATS or (kind.kind in "iu" and isinstance(x, numbers.Integral)):
                dtype = kind
        return _constant(_as_array(x, dtype))
    if isinstance(x, np.ndarray):
        return _constant(_as_array(x))
    from backprop.scalar import Value

    if isinstance(x, Value):
        raise TypeError(
            "cannot mix a Tensor with a scalar-engine Value: the engines do not share "
            "graphs (use Tensor(value.data) for a constant)"
        )
    raise TypeError(
        f"operands must be Tensors, numpy arrays or real numbers, got {type(x).__name__}"
    )


def _pair(a: Tensor, other: object) -> tuple[Tensor, Array, Array]:
    """The operand `other` as a Tensor, and both arrays in a common float dtype."""
    b = _operand(other, a)
    x, y = a.data, b.data
    if x.dtype != y.dtype:
        x, y = _common(x, y)
    return b, x, y


def _common(x: Array, y: Array) -> tuple[Array, Array]:
    """An integer or bool array meeting a float one takes the float's dtype, as in
    PyTorch (numpy would turn float32 and int64 into float64)."""
    if x.dtype in _FLOATS and y.dtype.kind in "iub":
        return x, y.astype(x.dtype)
    if y.dtype in _FLOATS and x.dtype.kind in "iub":
        return x.astype(y.dtype), y
    return x, y


def _check_broadcast(op: str, x: Array, y: Array) -> None:
    try:
        np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise ValueError(f"{op}: shapes {x.shape} and {y.shape} do not broadcast") from None


def _broadcasting(op: str, fn: Callable[[Array, Array], Array], x: Array, y: Array) -> Array:
    """`fn(x, y)`, or a `ValueError` naming `op` and both shapes when they don't broadcast."""
    try:
        return fn(x, y)
    except ValueError as error:
        _check_broadcast(op, x, y)
        raise ValueError(f"{op}: {error} (shapes {x.shape} and {y.shape})") from None


def _bound(value: object, name: str) -> int | float | None:
    """A bound of `clip` as a Python number (so it never changes the tensor's dtype)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"clip: {name} must be a real number or None, got {value!r}")
    if isinstance(value, numbers.Integral):
        return int(value)
    number = float(value)
    if math.isnan(number):
        raise ValueError(f"clip: {name} is NaN")
    return number


def _finite(op: str, out: Array) -> Array:
    if not np.isfinite(out).all():
        bad = int(out.size - np.count_nonzero(np.isfinite(out)))
        raise OverflowError(f"{op} overflows: {bad} of {out.size} entries are not finite")
    return out


def _neg_vjp(g: Array) -> tuple[Array]:
    return (-g,)


def _axes(axis: Axis, ndim: int, op: str) -> tuple[int, ...]:
    """`axis` as a tuple of non-negative axes, or a `ValueError` naming `op`."""
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, tuple) else (axis,)
    out = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, int | np.integer):
            raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} axes")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: axis {axis!r} repeats an axis")
    return tuple(out)


def _reduce_args(
    op: str,
    ndim: int,
    axis: Axis | list[int],
    keepdims: bool,
    dim: Axis | list[int],
    keepdim: bool | None,
) -> tuple[tuple[int, ...], bool]:
    """The axes and `keepdims` of a reduction, from numpy's or PyTorch's keywords."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{op}: give axis= or dim=, not both")
        axis = dim
    if keepdim is not None:
        if keepdims and not keepdim:
            raise TypeError(f"{op}: keepdims=True and keepdim=False disagree")
        keepdims = keepdim
    if not isinstance(keepdims, bool | np.bool_):
        raise TypeError(f"{op}: keepdims must be a bool, got {keepdims!r}")
    if isinstance(axis, list):
        axis = tuple(axis)
    if axis == ():
        raise ValueError(
            f"{op}: an empty tuple of axes is ambiguous (numpy reduces no axis, PyTorch "
            f"every axis): write {op}() to reduce every axis, or leave the tensor as it is"
        )
    return _axes(axis, ndim, op), bool(keepdims)


def _refuse_torch_max(op: str, torch_style: dict[str, object]) -> None:
    if not torch_style:
        return
    if set(torch_style) <= {"dim", "keepdim"}:
        raise TypeError(
            f"{op}(dim=...) in PyTorch returns the values and their indices; ours returns "
            f"the values only: write a.a{op}(dim=...) or a.{op}(axis=...) for the values "
            f"and a.arg{op}(dim=...) for the indices"
        )
    raise TypeError(f"{op}() got unexpected keyword arguments {sorted(torch_style)}")


def _extreme(
    t: Tensor, op: str, axis: Axis, keepdims: bool, dim: Axis, keepdim: bool | None
) -> Tensor:
    """amax/amin. VJP: `g` to the entries equal to the extreme, shared among ties."""
    x = t.data
    axes, keepdims = _reduce_args(op, x.ndim, axis, keepdims, dim, keepdim)
    if any(x.shape[a] == 0 for a in axes):
        raise ValueError(f"{op} over an empty axis of a tensor of shape {x.shape}")
    top = (x.max if op == "amax" else x.min)(axis=axes, keepdims=True)

    def vjp(g: Array) -> tuple[Array]:
        if not keepdims:
            g = np.expand_dims(g, axes)
        winners = x == top
        ties = winners.sum(axis=axes, keepdims=True, dtype=g.dtype)
        return (winners * (g / ties),)

    out = top if keepdims else np.squeeze(top, axis=axes)
    return _result(out, (t,), vjp, op)


def _arg_extreme(
    t: Tensor,
    op: str,
    fn: Callable[..., Array],
    axis: int | None,
    keepdims: bool,
    dim: int | None,
    keepdim: bool | None,
) -> Tensor:
    x = t.data
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{op}: give axis= or dim=, not both")
        axis = dim
    if keepdim is not None:
        keepdims = keepdim
    if x.size == 0:
        raise ValueError(f"{op} of an empty tensor (shape {x.shape})")
    if axis is None:
        out = np.asarray(fn(x), dtype=np.int64)
        if keepdims:
            out = out.reshape((1,) * x.ndim)
    else:
        (a,) = _axes(axis, x.ndim, op)
        out = fn(x, axis=a, keepdims=keepdims).astype(np.int64)
    return _constant(out)


def _compare(op: str, fn: Callable[[Array, Array], Array], a: Tensor, other: object) -> Tensor:
    """A comparison entry by entry: a bool tensor outside the graph."""
    _, x, y = _pair(a, other)
    return _constant(_broadcasting(op, fn, x, y))


def _one_axis(op: str, axis: int, dim: int | None) -> int:
    """`axis`, or PyTorch's `dim=` in its place."""
    if dim is None:
        return axis
    if axis != -1:
        raise TypeError(f"{op}: give axis= or dim=, not both")
    return dim


def _number(op: str, name: str, value: object) -> float:
    """A real, finite parameter of an operation (a slope, a scale), as a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a real number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{op}: {name} must be finite, got {number}")
    return number


_erf = np.vectorize(math.erf, otypes=[float])


def _comparable(other: object) -> bool:
    return isinstance(other, Tensor | np.ndarray) or (
        isinstance(other, numbers.Real) and not isinstance(other, bool)
    )


def _bool_mask(op: str, mask: object) -> Array:
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"{op}: the mask must be bool (for example a < 0), got dtype {m.dtype}")
    return m


def _plain_index(index: object) -> object:
    """An index with every `Tensor` in it (alone, in a tuple or in a list) replaced by its
    array, so that `x[t]`, `x[:, t]` and `x[t1, t2]` all index as numpy does."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, list) and any(isinstance(i, Tensor) for i in index):
        return [i.data if isinstance(i, Tensor) else i for i in index]
    return index


def _is_basic(index: object) -> bool:
    """`True` for numpy's basic indexing (ints, slices, None, ...), where no entry
    can be picked twice."""
    items = index if isinstance(index, tuple) else (index,)
    return all(
        i is None
        or i is Ellipsis
        or (isinstance(i, slice | int | np.integer) and not isinstance(i, bool))
        for i in items
    )


def _tensors(tensors: Sequence[Tensor], op: str) -> tuple[Tensor, ...]:
    parts = tuple(tensors)
    if not parts:
        raise ValueError(f"{op} needs at least one tensor")
    for i, t in enumerate(parts):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: item {i} must be a Tensor, got {type(t).__name__}")
    return parts


def _labels(labels: object, shape: tuple[int, ...]) -> Array:
    """Class labels as an int array, one per row, each in `[0, C)`."""
    if isinstance(labels, Tensor):
        labels = labels.data
    y = np.asarray(labels)
    if y.dtype.kind not in "iu":
        raise TypeError(
            f"cross_entropy: labels must be integers (class indices), got dtype {y.dtype}"
        )
    n, c = shape
    if y.shape != (n,):
        raise ValueError(
            f"cross_entropy: expected {n} labels (one per row of logits), got shape {y.shape}"
        )
    bad = (y < 0) | (y >= c)
    if bad.any():
        raise ValueError(
            f"cross_entropy: labels must be in [0, {c}), got {y[bad][:5].tolist()} "
            f"({int(bad.sum())} out of range)"
        )
    return y
