"""The scalar engine: `Value` nodes and reverse-mode differentiation, one number at a time.

Every arithmetic operation on a `Value` returns a new `Value` that remembers

* `_children`: its operands, in order (duplicates allowed: `a * a` has `(a, a)`),
* `_op`: a short name of the operation (`""` for leaves),
* `_local`: the *local derivatives* `d out / d child`, one per child, computed in the
  forward pass right next to the forward value.

`backward()` then applies the chain rule once per edge, in reverse topological order:
`child.grad += local * node.grad`. Storing plain numbers instead of a closure (as
micrograd does) keeps nodes small and creates no reference cycles, so a graph is freed
by reference counting the moment it is dropped, without waiting for the cyclic garbage
collector.

Operations and their `_op` names: `+`, `-` (two children: subtraction; one child:
negation), `*`, `/`, `**`, `exp`, `log`, `tanh`, `sigmoid`, `softplus`, `relu`, and
the fused n-ary `sum`, `dot` and `logsumexp`. Subtraction and division are operations of
their own (not composed of `+`, `*` and `** -1`), so `a - b` and `a / b` are one node
each and `a / b` is the correctly rounded quotient. A number operand is wrapped in a
constant leaf `Value`, except the exponent of `a ** n`, which stays a plain number (one child).

```python
from backprop import Value

a, b, c, f = Value(2.0, "a"), Value(-3.0, "b"), Value(10.0, "c"), Value(-2.0, "f")
L = (a * b + c) * f
L.backward()
assert L.data == -8.0
assert (a.grad, b.grad, c.grad, f.grad) == (6.0, -4.0, -2.0, 4.0)
```

Errors: bad input raises instead of producing a silent NaN or infinity. A non-real
operand raises `TypeError`; `log` of a non-positive number and a negative base to a
non-integer power raise `ValueError`; division by zero and `0 ** negative` raise
`ZeroDivisionError`; a result that is not a finite float raises `OverflowError`. Where a
local derivative does not exist (the slope of `a ** b` in `b` for `a < 0`, or the
infinite slope of `sqrt` at 0), the forward pass records `None` and `backward()` raises
`ValueError` if a nonzero gradient has to flow through it; a local derivative too large
for a float makes `backward()` raise `OverflowError`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import TypeAlias

__all__ = ["Value", "topological_order"]

Operand: TypeAlias = "Value | int | float"

_isfinite = math.isfinite


def _to_float(x: object) -> float:
    """Check that `x` is a real number (not a bool) and return it as a finite float."""
    if type(x) is float:
        data = x
    elif isinstance(x, bool) or not isinstance(x, numbers.Real):
        if isinstance(x, Value):
            raise TypeError("Value(...) got a Value; pass its .data to make a new leaf")
        raise TypeError(
            f"Value data must be a real number (int, float or numpy float), "
            f"got {type(x).__name__}: {x!r}"
        )
    else:
        data = float(x)
    if not _isfinite(data):
        raise ValueError(f"Value data must be finite, got {data!r}")
    return data


def _is_number(x: object) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


class Value:
    """A scalar in a computation graph: `data`, and `grad`, the derivative of the node that
    `backward()` was called on with respect to this one (summed over calls for leaves).

    Args:
        data: The number. An `int`, `float` or numpy float; `bool` is rejected because a
            flag passed where a number is expected is almost always a bug (pass
            `float(flag)` if you mean it). It must be finite.
        label: An optional name, shown by `repr` and in drawings.

    Raises:
        TypeError: `data` is not a real number, or is a `bool`.
        ValueError: `data` is NaN or infinite.
    """

    __slots__ = ("__weakref__", "_children", "_local", "_mark", "_op", "data", "grad", "label")

    # numpy scalars defer to our reflected operators (`np.float64(2) * v` is a Value);
    # a numpy array operand raises TypeError instead of becoming an array of Values.
    __array_ufunc__ = None

    data: float
    grad: float
    label: str
    _children: tuple[Value, ...]
    _local: tuple[float | None, ...]
    _op: str
    _mark: object

    def __init__(self, data: float, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {type(label).__name__}")
        self.data = _to_float(data)
        self.grad = 0.0
        self.label = label
        self._children = ()
        self._local = ()
        self._op = ""
        self._mark = None

    def __repr__(self) -> str:
        return f"Value(data={self.data!r}, grad={self.grad!r}, label={self.label!r})"

    def _repr_svg_(self) -> str | None:
        """The graph below this node as SVG, for Jupyter.

        A graph too large to draw gives ``None``, so Jupyter falls back to the text repr
        instead of printing a traceback.
        """
        from backprop.draw import draw

        try:
            return draw(self)
        except ValueError:
            return None

    # ------------------------------------------------------------------ binary ops

    def __add__(self, other: Operand) -> Value:
        """`a + b`. Derivatives: `d/da = 1`, `d/db = 1`."""
        if not isinstance(other, Value):
            if not _is_number(other):
                return NotImplemented
            other = Value(other)
        return _node(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __radd__(self, other: float) -> Value:
        """`n + a`, with `n` a number."""
        if not _is_number(other):
            return NotImplemented
        return Value(other) + self

    def __sub__(self, other: Operand) -> Value:
        """`a - b`. Derivatives: `d/da = 1`, `d/db = -1`."""
        if not isinstance(other, Value):
            if not _is_number(other):
                return NotImplemented
            other = Value(other)
        return _node(self.data - other.data, (self, other), (1.0, -1.0), "-")

    def __rsub__(self, other: float) -> Value:
        """`n - a`, with `n` a number."""
        if not _is_number(other):
            return NotImplemented
        return Value(other) - self

    def __mul__(self, other: Operand) -> Value:
        """`a * b`. Derivatives: `d/da = b`, `d/db = a`."""
        if not isinstance(other, Value):
            if not _is_number(other):
                return NotImplemented
            other = Value(other)
        return _node(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __rmul__(self, other: float) -> Value:
        """`n * a`, with `n` a number."""
        if not _is_number(other):
            return NotImplemented
        return Value(other) * self

    def __truediv__(self, other: Operand) -> Value:
        """`a / b`. Derivatives: `d/da = 1/b`, `d/db = -a/b**2 = -(a/b)/b`.

        Raises:
            ZeroDivisionError: `b` is zero.
        """
        if not isinstance(other, Value):
            if not _is_number(other):
                return NotImplemented
            other = Value(other)
        a, b = self.data, other.data
        if b == 0.0:
            raise ZeroDivisionError(f"division by zero: {a!r} / {b!r} ({self!r} / {other!r})")
        out = a / b
        return _node(out, (self, other), (1.0 / b, -out / b), "/")

    def __rtruediv__(self, other: float) -> Value:
        """`n / a`, with `n` a number."""
        if not _is_number(other):
            return NotImplemented
        return Value(other) / self

    def __pow__(self, other: Operand) -> Value:
        """`a ** b`, with `b` a `Value` or a plain number.

        Derivatives: `d/da = b * a**(b-1)`; if `b` is a `Value`, also
        `d/db = a**b * ln(a)` (taken as 0 at `a = 0`, as PyTorch does; it does not exist for
        `a < 0`). A plain-number exponent is not a node: the result has one child.

        Raises:
            ValueError: `a < 0` and `b` is not an integer (the result would be complex).
            ZeroDivisionError: `a == 0` and `b < 0`.
            OverflowError: the result is too large for a float.
        """
        if isinstance(other, Value):
            out, d_da = _pow_forward(self.data, other.data)
            a = self.data
            if a > 0.0:
                d_db = out * math.log(a)
            elif a == 0.0:
                d_db = 0.0
            else:
                d_db = None
            return _node(out, (self, other), (d_da, d_db), "**")
        if not _is_number(other):
            return NotImplemented
        out, d_da = _pow_forward(self.data, float(other))
        return _node(out, (self,), (d_da,), "**")

    def __rpow__(self, other: float) -> Value:
        """`n ** a`, with `n` a number: `n` becomes a constant leaf."""
        if not _is_number(other):
            return NotImplemented
        return Value(other) ** self

    # ------------------------------------------------------------------ unary ops

    def __neg__(self) -> Value:
        """`-a`. Derivative: `d/da = -1`."""
        return _node(-self.data, (self,), (-1.0,), "-")

    def __pos__(self) -> Value:
        """`+a` is `a` itself (no new node)."""
        return self

    def exp(self) -> Value:
        """`e**a`. Derivative: `d/da = e**a`.

        Raises:
            OverflowError: `a > 709.78...`, where `e**a` exceeds the largest float.
        """
        try:
            out = math.exp(self.data)
        except OverflowError:
            raise OverflowError(
                f"exp({self.data!r}) overflows a float (the limit is about exp(709.78)); "
                f"for losses use backprop.losses, which never exponentiates large numbers"
            ) from None
        return _node(out, (self,), (out,), "exp")

    def log(self) -> Value:
        """`ln(a)`. Derivative: `d/da = 1/a`.

        Raises:
            ValueError: `a <= 0`.
        """
        a = self.data
        if a <= 0.0:
            raise ValueError(f"log of a non-positive number: log({a!r}) for {self!r}")
        return _node(math.log(a), (self,), (1.0 / a,), "log")

    def tanh(self) -> Value:
        """`tanh(a)`. Derivative: `d/da = 1 - tanh(a)**2`."""
        t = math.tanh(self.data)
        return _node(t, (self,), (1.0 - t * t,), "tanh")

    def sigmoid(self) -> Value:
        """`s(a) = 1 / (1 + e**-a)`. Derivative: `d/da = s(a) * (1 - s(a))`.

        Computed without overflow for any finite `a`.
        """
        a = self.data
        if a >= 0.0:
            s = 1.0 / (1.0 + math.exp(-a))
        else:
            e = math.exp(a)
            s = e / (1.0 + e)
        return _node(s, (self,), (s * (1.0 - s),), "sigmoid")

    def softplus(self) -> Value:
        """`softplus(a) = ln(1 + e**a)`. Derivative: `d/da = sigmoid(a)`.

        Computed as `max(a, 0) + ln(1 + e**-|a|)`, which never overflows; it is the
        building block of a stable binary cross-entropy.
        """
        a = self.data
        e = math.exp(-abs(a))  # in (0, 1]
        out = max(a, 0.0) + math.log1p(e)
        s = 1.0 / (1.0 + e) if a >= 0.0 else e / (1.0 + e)
        return _node(out, (self,), (s,), "softplus")

    def relu(self) -> Value:
        """`max(0, a)`. Derivative: `d/da = 1` if `a > 0` else `0` (0 at the kink)."""
        a = self.data
        if a > 0.0:
            return _node(a, (self,), (1.0,), "relu")
        return _node(0.0, (self,), (0.0,), "relu")

    # ------------------------------------------------------------------ fused n-ary ops

    @staticmethod
    def sum(values: Iterable[Operand], start: Operand | None = None) -> Value:
        """`start + v0 + v1 + ...` as one node. Derivatives: `d/dv_i = 1`, `d/dstart = 1`.

        The sum is accumulated left to right from `start`, exactly like Python's
        `sum(values, start)` on `Value`s, so the result is bitwise the same, but one node
        replaces a chain of `len(values)` additions. Children are `(start, v0, v1, ...)`,
        without `start` when it is `None`.

        ```python
        from backprop import Value

        a, b = Value(1.5), Value(2.0)
        s = Value.sum([a, b, a])
        s.backward()
        assert s.data == 5.0 and (a.grad, b.grad) == (2.0, 1.0)
        ```

        Raises:
            TypeError: `values` is not an iterable of Values or numbers.
        """
        children = [v if type(v) is Value else _as_value(v) for v in _iterable(values, "sum")]
        if start is not None:
            children.insert(0, _as_value(start))
        acc = 0.0
        for v in children:
            acc += v.data
        return _node(acc, tuple(children), (1.0,) * len(children), "sum")

    @staticmethod
    def dot(ws: Sequence[Operand], xs: Sequence[Operand], start: Operand | None = None) -> Value:
        """`start + w0*x0 + w1*x1 + ...` as one node.

        Derivatives: `d/dw_i = x_i`, `d/dx_i = w_i`, `d/dstart = 1`.

        Accumulated left to right from `start`, so the result is bitwise the same as
        `sum((w * x for w, x in zip(ws, xs, strict=True)), start)` (a neuron in micrograd), with one
        node instead of `2 * len(ws)`. Children are `(start, w0, x0, w1, x1, ...)`,
        without `start` when it is `None`.

        ```python
        from backprop import Value

        w, x, b = Value(3.0), Value(-2.0), Value(0.5)
        y = Value.dot([w], [x], start=b)
        y.backward()
        assert y.data == -5.5 and (w.grad, x.grad, b.grad) == (-2.0, 3.0, 1.0)
        ```

        Raises:
            TypeError: `ws` or `xs` is not a list of Values or numbers.
            ValueError: `ws` and `xs` have different lengths.
        """
        try:
            n, m = len(ws), len(xs)
        except TypeError:  # checked only on failure: dot is the hot path of a network
            _sized(ws, "dot", "ws")
            _sized(xs, "dot", "xs")
            raise
        if n != m:
            raise ValueError(f"Value.dot needs equal lengths, got {n} and {m}")
        children: list[Value] = []
        local: list[float | None] = []
        if start is None:
            acc = 0.0
        else:
            s = _as_value(start)
            acc = s.data
            children.append(s)
            local.append(1.0)
        for w, x in zip(ws, xs, strict=False):  # lengths checked above
            if type(w) is not Value:  # `type(...) is` first: much faster than isinstance
                w = _as_value(w)
            if type(x) is not Value:
                x = _as_value(x)
            wd, xd = w.data, x.data
            acc += wd * xd
            children.append(w)  # list.append is faster than `children += (w, x)`
            children.append(x)
            local += (xd, wd)  # d/dw = x, d/dx = w (one tuple: the drift detector's site)
        return _node(acc, tuple(children), tuple(local), "dot")

    @staticmethod
    def logsumexp(values: Sequence[Operand]) -> Value:
        """`ln(e**v0 + e**v1 + ...)` as one node. Derivatives: `d/dv_i = e**v_i / sum_j e**v_j`
        (the softmax).

        Computed as `m + ln(sum_j e**(v_j - m))` with `m = max_j v_j`, so no exponential
        overflows; it is the building block of a stable softmax cross-entropy.

        ```python
        import math
        from backprop import Value

        a, b = Value(1000.0), Value(-1000.0)
        lse = Value.logsumexp([a, b])
        lse.backward()
        assert lse.data == 1000.0 and (a.grad, b.grad) == (1.0, 0.0)
        ```

        Raises:
            TypeError: `values` is not an iterable of Values or numbers.
            ValueError: `values` is empty.
        """
        values = _iterable(values, "logsumexp")
        children = tuple([v if type(v) is Value else _as_value(v) for v in values])
        if not children:
            raise ValueError("Value.logsumexp needs at least one value")
        m = max(v.data for v in children)
        exps = [math.exp(v.data - m) for v in children]  # each in [0, 1], the max is 1
        total = math.fsum(exps)  # in [1, n]
        out = m + math.log(total)
        return _node(out, children, tuple(e / total for e in exps), "logsumexp")

    @staticmethod
    def from_op(
        data: float,
        children: Sequence[Value],
        local_derivatives: Sequence[float | None],
        op: str,
    ) -> Value:
        """A node for an operation of your own: its value, its operands and the local
        derivatives `d out / d child`, one per child, computed where you compute `data`.

        This is how every built-in operation is made, so `backward()`, `gradcheck` and
        `draw` treat yours like theirs. A local derivative may be `None` where it does not
        exist (see the module docstring).

        ```python
        from backprop import Value, gradcheck


        def softsign(a: Value) -> Value:
            # a / (1 + |a|); derivative: 1 / (1 + |a|)**2
            d = 1.0 + abs(a.data)
            return Value.from_op(a.data / d, (a,), (1.0 / d**2,), "softsign")


        x = Value(3.0, "x")
        y = softsign(x)
        y.backward()
        assert (y.data, x.grad) == (0.75, 0.0625)
        assert gradcheck(softsign, [x])
        ```

        Raises:
            TypeError: a child is not a `Value`, a local derivative is not a real number
                (or `None`), or `op` is not a non-empty `str`.
            ValueError: the numbers of children and local derivatives differ, or a local
                derivative is NaN.
            OverflowError: `data` is not a finite float.
        """
        if not isinstance(op, str) or not op:
            raise TypeError(f"op must be a non-empty str naming the operation, got {op!r}")
        kids = tuple(_iterable(children, "from_op", "children"))
        for i, child in enumerate(kids):
            if not isinstance(child, Value):
                raise TypeError(f"child {i} of {op!r} must be a Value, got {type(child).__name__}")
        local: list[float | None] = []
        for i, d in enumerate(_iterable(local_derivatives, "from_op", "local_derivatives")):
            if d is None:
                local.append(None)
                continue
            if not _is_number(d):
                raise TypeError(
                    f"local derivative {i} of {op!r} must be a real number or None, "
                    f"got {type(d).__name__}"
                )
            if math.isnan(d):
                raise ValueError(f"local derivative {i} of {op!r} is NaN")
            local.append(float(d))
        if len(local) != len(kids):
            raise ValueError(
                f"{op!r} has {len(kids)} children but {len(local)} local derivatives: "
                "give one d out / d child per child"
            )
        if not _is_number(data):
            raise TypeError(f"data of {op!r} must be a real number, got {type(data).__name__}")
        return _node(float(data), kids, tuple(local), op)

    # ------------------------------------------------------------------ backward

    def backward(self) -> None:
        """Compute `d self / d v` for every node `v` that `self` depends on.

        Gradients follow PyTorch's rules for leaves: a leaf (a node with no children, such
        as a parameter) *adds* this pass's gradient to its `.grad`, so call
        `zero_grad()` between steps. Intermediate nodes are reset first and show the
        gradient of the latest pass only. Each pass is computed from scratch and then added
        to the leaves, so a second `backward()` doubles leaf gradients exactly.

        ```python
        from backprop import Value

        x = Value(3.0, "x")
        h = x * x  # intermediate
        y = h + x
        y.backward()
        assert (x.grad, h.grad) == (7.0, 1.0)
        y.backward()
        assert (x.grad, h.grad) == (14.0, 1.0)  # the leaf accumulates, h does not
        ```

        The order is found without recursion, so graphs of any depth work.

        Raises:
            ValueError: a gradient must flow through a local derivative that does not
                exist (see the module docstring). Leaf gradients are then left unchanged.
            OverflowError: a gradient is not a finite float. Leaf gradients are then left
                unchanged.
        """
        order = topological_order(self)
        leaves = [v for v in order if not v._children]
        previous = [v.grad for v in leaves]
        try:
            _propagate(self, order)
            for v, g in zip(leaves, previous, strict=True):
                total = g + v.grad
                if not _isfinite(total):
                    raise OverflowError(f"gradient overflow: {g!r} + {v.grad!r} at {v!r}")
                v.grad = total
        except BaseException:
            for v, g in zip(leaves, previous, strict=True):
                v.grad = g
            raise


def _propagate(root: Value, order: list[Value]) -> None:
    """One backward pass from scratch: the chain rule applied in reverse topological order."""
    for v in order:
        v.grad = 0.0
    root.grad = 1.0
    isfinite = _isfinite
    for node in reversed(order):
        g = node.grad
        if g == 0.0:  # nothing flows down this node; skipping it changes no gradient
            continue
        if not isfinite(g):
            raise OverflowError(f"gradient overflow: d root / d node = {g!r} at {node!r}")
        try:
            # One local derivative per child, by construction. A plain counter is faster
            # than zip() (about 3x on a chain) or enumerate(): both allocate per node.
            local, i = node._local, 0
            for child in node._children:
                child.grad += local[i] * g  # type: ignore[operator]
                i += 1  # noqa: SIM113
        except TypeError:
            bad = [i for i, d in enumerate(node._local) if d is None]
            if not bad:
                raise
            raise ValueError(
                f"the derivative of the {node._op!r} node {node!r} with respect to its "
                f"operand(s) {[node._children[i] for i in bad]!r} does not exist here "
                f"(e.g. d(a**b)/db with a < 0, or an infinite slope), so no gradient "
                f"can flow through it"
            ) from None


def _iterable(x: object, op: str, name: str = "values") -> Iterable[object]:
    """`x` if it can be iterated over (and is not a single Value or a string), else a
    TypeError naming the argument of `Value.<op>`."""
    if isinstance(x, Value | str | bytes) or not hasattr(x, "__iter__"):
        raise TypeError(
            f"Value.{op}: {name} must be a list (or another iterable) of Values or numbers, "
            f"got {type(x).__name__}: {x!r}"
        )
    return x  # type: ignore[return-value]


def _sized(x: object, op: str, name: str) -> Sequence[object]:
    """`x` if it has a length (a list, tuple or array), else a TypeError naming it."""
    if isinstance(x, Value | str | bytes) or not hasattr(x, "__len__"):
        raise TypeError(
            f"Value.{op}: {name} must be a list (or tuple) of Values or numbers, "
            f"got {type(x).__name__}: {x!r}"
        )
    return x  # type: ignore[return-value]


def _as_value(x: object) -> Value:
    """An operand of `sum`/`dot`/`logsumexp` as a `Value`: itself, or a number wrapped in
    a constant leaf, with a clear error otherwise."""
    if isinstance(x, Value):
        return x
    if not _is_number(x):
        raise TypeError(f"operands must be Values or real numbers, got {type(x).__name__}")
    return Value(x)  # type: ignore[arg-type]


def _pow_forward(a: float, b: float) -> tuple[float, float | None]:
    """`a ** b` and its derivative in `a`, `b * a ** (b - 1)`, with clear errors."""
    if a < 0.0 and not b.is_integer():
        raise ValueError(
            f"negative base to a non-integer power: {a!r} ** {b!r} is not a real number"
        )
    if a == 0.0 and b < 0.0:
        raise ZeroDivisionError(f"0.0 ** {b!r}: zero cannot be raised to a negative power")
    try:
        out = a**b
    except OverflowError:
        raise OverflowError(f"{a!r} ** {b!r} overflows a float") from None
    if b == 0.0:
        return out, 0.0  # a ** 0 == 1 is constant in a (also at a == 0)
    d_da: float | None
    try:
        d_da = b * a ** (b - 1.0)
    except ZeroDivisionError:
        d_da = None  # an infinite slope, e.g. sqrt at 0: the derivative does not exist
    except OverflowError:
        d_da = math.inf  # exists but is too large: backward() raises OverflowError
    return out, d_da


_new = object.__new__


def _node(
    data: float, children: tuple[Value, ...], local: tuple[float | None, ...], op: str
) -> Value:
    """Make a non-leaf node (skipping `Value.__init__`'s checks of user input)."""
    if not _isfinite(data):
        raise OverflowError(
            f"{op!r} of {[c.data for c in children]!r} gives {data!r}, not a finite float"
        )
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = ""
    v._children = children
    v._local = local
    v._op = op
    v._mark = None
    return v


def topological_order(root: Value) -> list[Value]:
    """Every node `root` depends on (itself included), each once, children before parents.

    Found by an iterative depth-first search (no recursion, so any depth works). Children
    are visited in order, so for a tree the result is its post-order. The search keeps
    its marks in the nodes' `_mark` slots, fresh ones per call, so two threads must not
    sort graphs that share nodes at the same time.

    ```python
    from backprop import Value, topological_order

    a, b = Value(2.0, "a"), Value(3.0, "b")
    c = a * b
    d = c + a
    assert topological_order(d) == [a, b, c, d]
    ```
    """
    order: list[Value] = []
    # Marks unique to this call, kept on the nodes themselves (a dict of a million nodes
    # costs more to fill and search): `_mark` is `entered` once the node's children are on
    # the stack, `placed` once the node is in `order`.
    entered, placed = object(), object()
    stack = [root]
    while stack:
        node = stack[-1]
        mark = node._mark
        if mark is not entered and mark is not placed:  # first visit: children go on top
            node._mark = entered
            for child in reversed(node._children):
                if child._mark is not placed:
                    stack.append(child)
        else:  # all its children are placed (or it is a duplicate entry): pop it
            stack.pop()
            if mark is entered:
                node._mark = placed
                order.append(node)
    return order
