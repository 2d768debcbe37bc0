"""Neural networks for both engines, on one `Module` base class.

**Scalar engine** (`Value`s, one number per node): `Neuron`, `Layer` and `MLP`, as in
micrograd. A neuron computes `activation(b + w0*x0 + w1*x1 + ...)`. The weighted sum is
one fused `Value.dot` node rather than a chain of `*` and `+` nodes: the numbers are
bitwise the same (the sum is accumulated left to right from the bias, exactly like
micrograd's `sum((wi*xi for ...), self.b)`), but the graph is about ten times smaller and
so backward is about ten times faster. Weights start uniform in `[-1, 1]` and biases at 0
(micrograd's initialisation).

```python
from backprop.nn import MLP

model = MLP(2, [16, 16, 1], seed=0)
assert len(model.parameters()) == (2 * 16 + 16) + (16 * 16 + 16) + (16 + 1)
score = model([0.5, -1.0])  # one output neuron: a single Value
assert MLP(2, [16, 16, 1], seed=0)([0.5, -1.0]).data == score.data
```

**Tensor engine** (`Tensor`s, a whole batch per node): `Linear`, the activations
`ReLU`, `Tanh` and `Sigmoid`, and `Sequential` to chain them, as in PyTorch's `torch.nn`.
A `Linear` layer maps a batch `X` of shape `(N, in_features)` to `X @ W.T + b`, one
graph node ([`backprop.tensor.linear`][backprop.tensor.linear]); its weight and bias
start uniform in `[-1/sqrt(in_features), 1/sqrt(in_features)]`, PyTorch's default.

```python
import numpy as np
from backprop.nn import Linear, Sequential, Tanh

rng = np.random.default_rng(0)
model = Sequential(Linear(2, 16, seed=rng), Tanh(), Linear(16, 1, seed=rng))
scores = model([[0.5, -1.0], [1.0, 2.0]])  # a batch of two inputs
assert scores.shape == (2, 1)
assert [p.shape for p in model.parameters()] == [(16, 2), (16,), (1, 16), (1,)]
```

Both families draw their initial weights from numpy's default random generator, so the
same `seed` gives the same network, and both share `parameters()`, `zero_grad()` and
`set_parameters()` from `Module`. The scalar modules need no numpy: for an int seed they
draw from a pure-Python copy of that generator, which gives the same numbers bit for bit.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Iterator, Sequence
from typing import TypeAlias, overload

from backprop import _random
from backprop._numpy import missing
from backprop._numpy import numpy as np  # None without numpy: only the scalar modules work
from backprop.scalar import Value

if np is None:
    from backprop._numpy import NoTensor as Tensor
else:
    from backprop.tensor import Tensor, linear

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "Layer",
    "Linear",
    "Module",
    "Neuron",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
]

#: Names accepted by `activation=`; `"linear"` (or `None`) applies nothing.
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")

Seed: TypeAlias = "int | np.random.Generator | None"
#: A trainable parameter: a scalar-engine `Value` or a `Tensor` that requires gradients.
Parameter: TypeAlias = Value | Tensor


class Module:
    """Something with parameters: the base class of every network piece, for both engines.

    Subclasses override `parameters()`; `zero_grad()` and `set_parameters()` work from it
    for `Value` and `Tensor` parameters alike.
    """

    def parameters(self) -> list[Parameter]:
        """All trainable parameters in a fixed order (for a neuron: weights, then bias;
        for a `Linear` layer: weight, then bias)."""
        return []

    def zero_grad(self) -> None:
        """Reset every parameter's gradient (leaf gradients accumulate across `backward()`).

        A `Value`'s `grad` becomes `0.0`; a `Tensor`'s becomes `None`, as with PyTorch's
        `zero_grad(set_to_none=True)`: the next `backward()` stores a fresh array.
        """
        for p in self.parameters():
            _clear_grad(p)

    def set_parameters(self, values: Iterable[object]) -> None:
        """Overwrite the parameters' `.data`, in `parameters()` order, all or nothing.

        One value per parameter: a number for a `Value`; for a `Tensor`, an array of the
        parameter's shape (it is copied in, converted to the parameter's dtype). Use it to
        start from given weights, e.g. another library's, to compare runs.

        ```python
        import numpy as np
        from backprop.nn import Linear

        layer = Linear(2, 1, seed=0)
        layer.set_parameters([[[0.5, -1.0]], [0.25]])  # weight (1, 2), bias (1,)
        assert layer([[2.0, 1.0]]).item() == 0.5 * 2.0 - 1.0 * 1.0 + 0.25
        ```

        Raises:
            ValueError: the number of values differs from the number of parameters, or an
                array has the wrong shape.
            TypeError: `values` is not a list, or a value is not real numbers.
        """
        params = self.parameters()
        if isinstance(values, str) or not isinstance(values, Iterable):
            raise TypeError(
                f"set_parameters takes a list of values, one per parameter, got "
                f"{type(values).__name__}"
            )
        values = list(values)
        if len(values) != len(params):
            raise ValueError(f"expected {len(params)} parameter values, got {len(values)}")
        pairs = enumerate(zip(params, values, strict=True))
        checked = [_checked_value(p, v, i) for i, (p, v) in pairs]
        for p, v in zip(params, checked, strict=True):  # every check passed: now assign
            if isinstance(p, Tensor):
                p.data[...] = v
            else:
                p.data = v


def _clear_grad(p: Parameter) -> None:
    """The reset of `zero_grad`: `0.0` for a `Value`, `None` for a `Tensor`."""
    if isinstance(p, Tensor):
        p.grad = None
    else:
        p.grad = 0.0


def _checked_value(p: Parameter, value: object, i: int) -> float | np.ndarray:
    """`value` checked to replace the data of parameter `i`, `p`."""
    if not isinstance(p, Tensor):
        return Value(value).data  # the checks of Value(...)
    if isinstance(value, Tensor):
        value = value.data
    array = Tensor(value, dtype=p.dtype).data  # the checks of Tensor(...)
    if array.shape != p.shape:
        raise ValueError(f"parameter {i} has shape {p.shape}, got a value of shape {array.shape}")
    return array


def _check_activation(activation: str | None) -> str:
    if activation is None:
        return "linear"
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS} or None, got {activation!r}")
    return activation


def _check_size(name: str, n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{name} must be a positive int, got {n!r}")
    return int(n)


def _uniform_source(seed: Seed) -> _random.Generator | np.random.Generator:
    """What the scalar modules draw their weights from: a numpy `Generator` passed in, or
    for an int or `None` the pure-Python copy of `numpy.random.default_rng(seed)`."""
    if isinstance(seed, _random.Generator) or (
        np is not None and isinstance(seed, np.random.Generator)
    ):
        return seed
    return _random.Generator(seed)


def _uniforms(rng: _random.Generator | np.random.Generator, n: int) -> list[float]:
    """`n` initial weights, uniform in `[-1, 1]`."""
    return [float(u) for u in rng.uniform(-1, 1, n)]


def _as_values(x: Sequence[Value | float], n: int) -> list[Value]:
    """One input, `n` Values or numbers, as a list of Values (numbers become leaves)."""
    if isinstance(x, Value | str | bytes) or not hasattr(x, "__len__"):
        raise TypeError(
            f"the input must be a list of {n} Values or numbers, got {type(x).__name__}: {x!r}"
        )
    if len(x) != n:
        raise ValueError(f"expected {n} inputs, got {len(x)}")
    return [v if isinstance(v, Value) else Value(v) for v in x]


class Neuron(Module):
    """`activation(b + sum_i w_i * x_i)`.

    Args:
        nin: Number of inputs.
        activation: `"relu"`, `"tanh"`, `"sigmoid"`, or `"linear"`/`None` for none.
        seed: An int or a `numpy.random.Generator` for the initial weights
            (uniform in `[-1, 1]`; the bias starts at 0). `None` draws fresh entropy.
        label: Prefix of the parameters' labels (`"w0"`, `"w1"`, ..., `"b"`).
    """

    def __init__(
        self, nin: int, activation: str | None = "relu", *, seed: Seed = None, label: str = ""
    ) -> None:
        self.nin = _check_size("nin", nin)
        self.activation = _check_activation(activation)
        rng = _uniform_source(seed)
        self.w = [Value(u, f"{label}w{i}") for i, u in enumerate(_uniforms(rng, nin))]
        self.b = Value(0.0, f"{label}b")

    def __call__(self, x: Sequence[Value | float]) -> Value:
        """The neuron's output for inputs `x` (`nin` Values or numbers)."""
        return self._forward(_as_values(x, self.nin))

    def _forward(self, x: list[Value]) -> Value:
        act = Value.dot(self.w, x, start=self.b)
        if self.activation == "relu":
            return act.relu()
        if self.activation == "tanh":
            return act.tanh()
        if self.activation == "sigmoid":
            return act.sigmoid()
        return act

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def __repr__(self) -> str:
        return f"Neuron({self.nin}, activation={self.activation!r})"


class Layer(Module):
    """`nout` neurons that all see the same inputs.

    Args:
        nin: Number of inputs.
        nout: Number of neurons (outputs).
        activation: The neurons' activation (see `Neuron`).
        seed: An int or a `numpy.random.Generator`; the neurons draw from it in turn.
        label: Prefix of the parameters' labels.
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str | None = "relu",
        *,
        seed: Seed = None,
        label: str = "",
    ) -> None:
        self.nin = _check_size("nin", nin)
        self.nout = _check_size("nout", nout)
        self.activation = _check_activation(activation)
        rng = _uniform_source(seed)
        self.neurons = [
            Neuron(nin, activation, seed=rng, label=f"{label}n{j}.") for j in range(nout)
        ]

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        """The outputs of all neurons (always a list, even for one neuron)."""
        x = _as_values(x, self.nin)
        return [n._forward(x) for n in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer({self.nin}, {self.nout}, activation={self.activation!r})"


class MLP(Module):
    """A multi-layer perceptron: layers of sizes `nouts`, the last one linear.

    Args:
        nin: Number of inputs.
        nouts: Sizes of the layers, e.g. `[16, 16, 1]`.
        activation: Activation of every layer but the last (see `Neuron`).
        output_activation: Activation of the last layer; linear by default, so the outputs
            are raw scores (logits) for the losses in `backprop.losses`.
        seed: An int or a `numpy.random.Generator` for the initial weights.

    Calling it returns a single `Value` if the last layer has one neuron, else a list.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str | None = "relu",
        output_activation: str | None = None,
        *,
        seed: Seed = None,
    ) -> None:
        self.nin = _check_size("nin", nin)
        if isinstance(nouts, str) or not isinstance(nouts, Sequence):
            raise TypeError(
                f"nouts must be a list of layer sizes, e.g. [16, 16, 1], got "
                f"{type(nouts).__name__}: {nouts!r}"
            )
        if len(nouts) == 0:
            raise ValueError("nouts must list at least one layer size")
        sizes = [self.nin] + [_check_size("a layer size", n) for n in nouts]
        self.activation = _check_activation(activation)
        self.output_activation = _check_activation(output_activation)
        rng = _uniform_source(seed)
        last = len(nouts) - 1
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                output_activation if i == last else activation,
                seed=rng,
                label=f"l{i}.",
            )
            for i in range(len(nouts))
        ]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        """The network's output for one input `x` (`nin` Values or numbers)."""
        h = _as_values(x, self.nin)
        for layer in self.layers:
            h = [n._forward(h) for n in layer.neurons]
        return h[0] if len(h) == 1 else h

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        sizes = [layer.nout for layer in self.layers]
        return (
            f"MLP({self.nin}, {sizes}, activation={self.activation!r}, "
            f"output_activation={self.output_activation!r})"
        )


# ---------------------------------------------------------------------- tensor modules


def _as_tensor(x: object) -> Tensor:
    """`x` itself if it is a Tensor, else `Tensor(x)` (which checks it)."""
    return x if isinstance(x, Tensor) else Tensor(x)


def _check_dtype(dtype: object) -> np.dtype:
    float_dtypes = (np.dtype(np.float32), np.dtype(np.float64))
    try:
        checked = np.dtype(dtype)
    except TypeError:
        checked = None
    if checked is None or checked not in float_dtypes:
        raise TypeError(f"dtype must be np.float32 or np.float64, got {dtype!r}")
    return checked


class Linear(Module):
    """A fully connected layer: `y = x @ W.T + b` for a batch `x` of shape
    `(..., in_features)`, as PyTorch's `torch.nn.Linear`.

    `W` has shape `(out_features, in_features)` and `b` shape `(out_features,)`. The
    product and the bias form one graph node, [`backprop.tensor.linear`][backprop.tensor.linear];
    with `G` the upstream gradient (one row per input row) its backward rule is
    `dL/dx = G @ W`, `dL/dW = G.T @ x` and `dL/db = sum of the rows of G`.

    Initialisation, PyTorch's default: every entry of `W` and `b` is drawn uniformly
    from `[-k, k]` with `k = 1/sqrt(in_features)`. (PyTorch writes it as
    `kaiming_uniform_(W, a=sqrt(5))`, whose bound is
    `sqrt(6 / ((1 + a**2) * in_features)) = 1/sqrt(in_features)`; a test checks the bound
    against `torch.nn.Linear`.) The numbers differ from PyTorch's, which uses its own
    random generator; pass weights with `set_parameters` to compare the two.

    Args:
        in_features: Size of each input (its last axis).
        out_features: Size of each output.
        bias: Add a learnable bias `b` (default `True`).
        seed: An int or a `numpy.random.Generator` for the initial weights (the weight is
            drawn first, then the bias). `None` draws fresh entropy.
        dtype: `np.float64` (the default, spelt `"float64"`) or `np.float32`; the
            parameters, outputs and gradients all keep it.

    ```python
    import numpy as np
    from backprop import Tensor
    from backprop.nn import Linear

    layer = Linear(3, 2, seed=0)
    assert layer.weight.shape == (2, 3) and layer.bias.shape == (2,)
    assert np.abs(layer.weight.data).max() <= 1 / np.sqrt(3)
    x = Tensor([[1.0, 2.0, 3.0], [0.0, -1.0, 1.0]])
    y = layer(x)
    assert np.allclose(y.data, x.data @ layer.weight.data.T + layer.bias.data)
    y.backward(np.array([[1.0, 0.0], [0.0, 2.0]]))  # a non-uniform upstream gradient
    assert np.allclose(layer.bias.grad, [1.0, 2.0])  # dL/db: G summed over the rows
    ```

    Inputs may be Tensors or array-likes; an array-like is converted to a Tensor of the
    layer's dtype, while a Tensor of another dtype raises `TypeError` (no silent
    conversion, as in PyTorch).

    Raises:
        ValueError: a size is not a positive int; an input's last axis is not
            `in_features` long.
        TypeError: `dtype` is not float32 or float64, or an input Tensor has another dtype.
    """

    weight: Tensor
    bias: Tensor | None

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        seed: Seed = None,
        dtype: object = "float64",
    ) -> None:
        if np is None:
            raise missing("nn.Linear")
        self.in_features = _check_size("in_features", in_features)
        self.out_features = _check_size("out_features", out_features)
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be a bool, got {type(bias).__name__}")
        self.dtype = _check_dtype(dtype)
        rng = np.random.default_rng(seed)
        bound = 1.0 / math.sqrt(self.in_features)
        shape = (self.out_features, self.in_features)
        self.weight = Tensor(rng.uniform(-bound, bound, shape), True, dtype=self.dtype)
        self.bias = None
        if bias:
            self.bias = Tensor(rng.uniform(-bound, bound, self.out_features), True, self.dtype)

    def __call__(self, x: object) -> Tensor:
        """The layer's output `x @ W.T + b` for a batch `x` (or one input, a 1-D `x`)."""
        if not isinstance(x, Tensor):
            x = Tensor(x, dtype=self.dtype)
        elif x.dtype != self.dtype:
            raise TypeError(
                f"{self._name()} has {self.dtype} parameters but got a {x.dtype} input; "
                f"convert it first, e.g. Tensor(x.data, dtype=np.{self.dtype})"
            )
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"{self._name()} expects inputs with {self.in_features} features in the "
                f"last axis, got shape {x.shape}"
            )
        return linear(x, self.weight, self.bias)

    def _name(self) -> str:
        return f"Linear({self.in_features}, {self.out_features})"

    def parameters(self) -> list[Tensor]:
        return [self.weight] if self.bias is None else [self.weight, self.bias]

    def __repr__(self) -> str:
        extra = "" if self.dtype == np.float64 else f", dtype={self.dtype}"
        return (
            f"Linear(in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}{extra})"
        )


class ReLU(Module):
    """`max(x, 0)` entry by entry; no parameters. Derivative: 1 where `x > 0`, else 0."""

    def __call__(self, x: object) -> Tensor:
        return _as_tensor(x).relu()

    def __repr__(self) -> str:
        return "ReLU()"


class Tanh(Module):
    """`tanh(x)` entry by entry; no parameters. Derivative: `1 - tanh(x)**2`."""

    def __call__(self, x: object) -> Tensor:
        return _as_tensor(x).tanh()

    def __repr__(self) -> str:
        return "Tanh()"


class Sigmoid(Module):
    """`1 / (1 + e**-x)` entry by entry; no parameters. Derivative: `s * (1 - s)`."""

    def __call__(self, x: object) -> Tensor:
        return _as_tensor(x).sigmoid()

    def __repr__(self) -> str:
        return "Sigmoid()"


class Sequential(Module):
    """Modules applied one after the other: `Sequential(f, g, h)(x)` is `h(g(f(x)))`.

    Its parameters are those of its modules, in order. It can be indexed (a slice gives
    a `Sequential`), measured with `len` and iterated over, like a list of its modules.

    ```python
    import numpy as np
    from backprop.nn import Linear, ReLU, Sequential

    rng = np.random.default_rng(0)
    mlp = Sequential(Linear(4, 8, seed=rng), ReLU(), Linear(8, 3, seed=rng))
    assert len(mlp) == 3 and isinstance(mlp[1], ReLU)
    assert mlp.parameters()[0] is mlp[0].weight
    x = np.ones((5, 4))
    assert np.array_equal(mlp(x).data, mlp[2](mlp[:2](x)).data)
    assert repr(mlp).splitlines()[1] == "  (0): Linear(in_features=4, out_features=8, bias=True)"
    ```

    Raises:
        TypeError: an argument is not a `Module`.
    """

    def __init__(self, *modules: Module) -> None:
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(
                    f"Sequential: argument {i} must be a Module (e.g. Linear(2, 3) or "
                    f"ReLU()), got {type(m).__name__}"
                    + ("; did you forget the parentheses?" if isinstance(m, type) else "")
                )
        self.modules: tuple[Module, ...] = modules

    def __call__(self, x: object) -> object:
        """`x` through every module in turn (an empty `Sequential` returns `x`)."""
        for m in self.modules:
            x = m(x)  # type: ignore[operator]
        return x

    def parameters(self) -> list[Parameter]:
        return [p for m in self.modules for p in m.parameters()]

    @overload
    def __getitem__(self, index: int) -> Module: ...
    @overload
    def __getitem__(self, index: slice) -> Sequential: ...
    def __getitem__(self, index: int | slice) -> Module | Sequential:
        if isinstance(index, slice):
            return Sequential(*self.modules[index])
        return self.modules[index]

    def __len__(self) -> int:
        return len(self.modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.modules)

    def __repr__(self) -> str:
        if not self.modules:
            return "Sequential()"
        lines = [f"  ({i}): {m!r}" for i, m in enumerate(self.modules)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"
