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
    import backprop.tensor as _t
    from backprop.tensor import Tensor, linear

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "Dropout",
    "Embedding",
    "Flatten",
    "Layer",
    "LayerNorm",
    "Linear",
    "MaxPool2d",
    "Module",
    "MultiheadAttention",
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
    for `Value` and `Tensor` parameters alike. As in PyTorch, a module is in training mode
    until `eval()` (batch normalisation and dropout behave differently in the two), and a
    tensor module's `state_dict()` names its parameters and buffers as PyTorch's does, so
    `load_state_dict()` takes a PyTorch model's state dict as it is.
    """

    #: Training mode (`train()`) or evaluation mode (`eval()`).
    training: bool = True
    #: Names of the tensor attributes that are parameters, in `parameters()` order.
    _param_names: tuple[str, ...] = ()
    #: Names of the array attributes that are state but not trained (running statistics).
    _buffer_names: tuple[str, ...] = ()

    def children(self) -> list[tuple[str, Module]]:
        """The modules inside this one, with the names PyTorch would give them."""
        return []

    def train(self, mode: bool = True) -> Module:
        """Training mode (or evaluation mode with `mode=False`), for this module and every
        module inside it; returns the module, as PyTorch's does."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be a bool, got {mode!r}")
        self.training = mode
        for _, child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: `train(False)`."""
        return self.train(False)

    def named_parameters(self) -> list[tuple[str, Tensor]]:
        """Every tensor parameter with PyTorch's name for it (`"0.weight"`, ...)."""
        out = [(n, getattr(self, n)) for n in self._param_names if getattr(self, n) is not None]
        for prefix, child in self.children():
            out += [(f"{prefix}.{name}", t) for name, t in child.named_parameters()]
        return out

    def state_dict(self) -> dict[str, np.ndarray]:
        """Every parameter and buffer by PyTorch's name (`"0.weight"`, `"bn.running_mean"`),
        as copies of their arrays."""
        out: dict[str, np.ndarray] = {}
        for name in self._param_names:
            t = getattr(self, name)
            if t is not None:
                out[name] = t.data.copy()
        for name in self._buffer_names:
            out[name] = np.array(getattr(self, name))
        for prefix, child in self.children():
            for key, value in child.state_dict().items():
                out[f"{prefix}.{key}"] = value
        return out

    def load_state_dict(self, state: dict[str, object]) -> None:
        """Copy every entry of `state` (ours or a PyTorch model's: tensors are read with
        numpy) into the parameter or buffer of that name, all or nothing.

        Raises:
            KeyError: a name is missing from `state`, or `state` has names we lack.
            ValueError: an array has the wrong shape.
        """
        own = self.state_dict()
        given = dict(state)
        missing_names = sorted(set(own) - set(given))
        unexpected = sorted(set(given) - set(own))
        if missing_names or unexpected:
            raise KeyError(f"load_state_dict: missing {missing_names}, unexpected {unexpected}")
        arrays = {}
        for key, current in own.items():
            value = given[key]
            if hasattr(value, "detach"):  # a PyTorch tensor
                value = value.detach().cpu().numpy()
            array = np.asarray(value, dtype=current.dtype)
            if array.shape != current.shape:
                raise ValueError(
                    f"load_state_dict: {key} has shape {current.shape}, got {array.shape}"
                )
            arrays[key] = array
        for key, array in arrays.items():  # every check passed: now assign
            self._assign(key.split("."), array)

    def _assign(self, path: list[str], array: np.ndarray) -> None:
        if len(path) > 1:
            dict(self.children())[path[0]]._assign(path[1:], array)
            return
        target = getattr(self, path[0])
        if isinstance(target, Tensor):
            target.data[...] = array
        else:
            target[...] = array

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
    _param_names = ("weight", "bias")

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

    def children(self) -> list[tuple[str, Module]]:
        return [(str(i), m) for i, m in enumerate(self.modules)]

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


# ---------------------------------------------------------------------- the next chapter's
# layers: images, normalisation, dropout, tokens. Parameter names and shapes are PyTorch's,
# so a PyTorch model's state_dict() loads with load_state_dict().


def _pair_size(name: str, value: object) -> tuple[int, int]:
    items = value if isinstance(value, tuple | list) else (value, value)
    if len(items) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return _check_size(name, items[0]), _check_size(name, items[1])


def _image(module: str, x: object, channels: int | None, dtype: np.dtype | None) -> Tensor:
    t = _as_tensor(x) if dtype is None else (x if isinstance(x, Tensor) else Tensor(x, dtype=dtype))
    if t.ndim != 4 or (channels is not None and t.shape[1] != channels):
        want = f"(N, {channels}, H, W)" if channels is not None else "(N, C, H, W)"
        raise ValueError(f"{module} expects input of shape {want}, got {t.shape}")
    return t


class Conv2d(Module):
    """A 2-D convolution layer (PyTorch's `torch.nn.Conv2d`): `weight` of shape
    `(out_channels, in_channels, kh, kw)`, `bias` of shape `(out_channels,)`, both
    initialised as PyTorch does, uniform in `±1/sqrt(in_channels * kh * kw)`. The forward
    pass is [`backprop.tensor.conv2d`][backprop.tensor.conv2d]: im2col and one matrix
    product.

    Raises:
        ValueError: a size is not positive, or an input is not `(N, in_channels, H, W)`.
    """

    _param_names = ("weight", "bias")

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
        *,
        seed: Seed = None,
        dtype: object = "float64",
    ) -> None:
        self.in_channels = _check_size("in_channels", in_channels)
        self.out_channels = _check_size("out_channels", out_channels)
        self.kernel_size = _pair_size("kernel_size", kernel_size)
        self.stride = _pair_size("stride", stride)
        self.padding = padding
        self.dtype = _check_dtype(dtype)
        rng = np.random.default_rng(seed)
        fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / math.sqrt(fan_in)
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        self.weight = Tensor(rng.uniform(-bound, bound, shape), True, dtype=self.dtype)
        self.bias = (
            Tensor(rng.uniform(-bound, bound, self.out_channels), True, dtype=self.dtype)
            if bias
            else None
        )

    def __call__(self, x: object) -> Tensor:
        t = _image(repr(self), x, self.in_channels, self.dtype)
        return _t.conv2d(t, self.weight, self.bias, self.stride, self.padding)

    def parameters(self) -> list[Tensor]:
        return [self.weight] if self.bias is None else [self.weight, self.bias]

    def __repr__(self) -> str:
        return (
            f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding})"
        )


class MaxPool2d(Module):
    """The largest entry of each window (PyTorch's `torch.nn.MaxPool2d`); no parameters."""

    def __init__(self, kernel_size: int, stride: int | None = None, padding: int = 0) -> None:
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def __call__(self, x: object) -> Tensor:
        t = _image(repr(self), x, None, None)
        return _t.max_pool2d(t, self.kernel_size, self.stride, self.padding)

    def __repr__(self) -> str:
        return (
            f"MaxPool2d(kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size})"
        )


class AvgPool2d(Module):
    """The mean of each window (PyTorch's `torch.nn.AvgPool2d`); no parameters."""

    def __init__(self, kernel_size: int, stride: int | None = None, padding: int = 0) -> None:
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def __call__(self, x: object) -> Tensor:
        t = _image(repr(self), x, None, None)
        return _t.avg_pool2d(t, self.kernel_size, self.stride, self.padding)

    def __repr__(self) -> str:
        return (
            f"AvgPool2d(kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size})"
        )


class _BatchNorm(Module):
    """Batch normalisation with a learnable scale `weight` (ones) and shift `bias`
    (zeros), and running statistics `running_mean` (zeros) and `running_var` (ones) that
    training updates and evaluation uses, as PyTorch's."""

    _param_names = ("weight", "bias")
    _buffer_names = ("running_mean", "running_var", "num_batches_tracked")
    _ndim: tuple[int, ...] = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        *,
        dtype: object = "float64",
    ) -> None:
        self.num_features = _check_size("num_features", num_features)
        self.eps, self.momentum = float(eps), float(momentum)
        self.dtype = _check_dtype(dtype)
        self.weight = Tensor(np.ones(self.num_features), True, dtype=self.dtype)
        self.bias = Tensor(np.zeros(self.num_features), True, dtype=self.dtype)
        self.running_mean = np.zeros(self.num_features, dtype=self.dtype)
        self.running_var = np.ones(self.num_features, dtype=self.dtype)
        self.num_batches_tracked = np.array(0, dtype=np.int64)

    def __call__(self, x: object) -> Tensor:
        t = _as_tensor(x)
        if t.ndim not in self._ndim or t.shape[1] != self.num_features:
            raise ValueError(
                f"{self!r} expects input with {self.num_features} channels on axis 1 and "
                f"{' or '.join(map(str, self._ndim))} axes, got shape {t.shape}"
            )
        if self.training:
            self.num_batches_tracked += 1
        return _t.batch_norm(
            t, self.running_mean, self.running_var, self.weight, self.bias,
            training=self.training, momentum=self.momentum, eps=self.eps,
        )  # fmt: skip

    def parameters(self) -> list[Tensor]:
        return [self.weight, self.bias]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.num_features})"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of `(N, C)` or `(N, C, L)` inputs (PyTorch's `BatchNorm1d`)."""

    _ndim = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of `(N, C, H, W)` images, per channel (PyTorch's `BatchNorm2d`)."""

    _ndim = (4,)


class LayerNorm(Module):
    """Layer normalisation over the last axes `normalized_shape` (PyTorch's `LayerNorm`),
    with a scale `weight` (ones) and a shift `bias` (zeros) of that shape."""

    _param_names = ("weight", "bias")

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float = 1e-5,
        *,
        dtype: object = "float64",
    ) -> None:
        dims = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape = tuple(_check_size("normalized_shape", n) for n in dims)
        self.eps = float(eps)
        self.dtype = _check_dtype(dtype)
        self.weight = Tensor(np.ones(self.normalized_shape), True, dtype=self.dtype)
        self.bias = Tensor(np.zeros(self.normalized_shape), True, dtype=self.dtype)

    def __call__(self, x: object) -> Tensor:
        t = _as_tensor(x)
        k = len(self.normalized_shape)
        if t.shape[t.ndim - k :] != self.normalized_shape:
            raise ValueError(
                f"{self!r} expects inputs ending in {self.normalized_shape}, got {t.shape}"
            )
        return _t.layer_norm(t, self.normalized_shape, self.weight, self.bias, self.eps)

    def parameters(self) -> list[Tensor]:
        return [self.weight, self.bias]

    def __repr__(self) -> str:
        return f"LayerNorm({self.normalized_shape})"


class Dropout(Module):
    """Inverted dropout in training, the identity in evaluation (PyTorch's `Dropout`). Its
    masks come from its own Generator, seeded by `seed`, so a run can be repeated."""

    def __init__(self, p: float = 0.5, *, seed: Seed = None) -> None:
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p < 1:
            raise ValueError(f"Dropout: p must be a number in [0, 1), got {p!r}")
        self.p = float(p)
        self._rng = np.random.default_rng(seed)

    def __call__(self, x: object) -> Tensor:
        return _t.dropout(_as_tensor(x), self.p, self.training, seed=self._rng)

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"


class Embedding(Module):
    """A table of `num_embeddings` vectors of `embedding_dim` numbers, looked up by
    integer tokens (PyTorch's `Embedding`, initialised like it, standard normal)."""

    _param_names = ("weight",)

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        *,
        seed: Seed = None,
        dtype: object = "float64",
    ) -> None:
        self.num_embeddings = _check_size("num_embeddings", num_embeddings)
        self.embedding_dim = _check_size("embedding_dim", embedding_dim)
        self.dtype = _check_dtype(dtype)
        rng = np.random.default_rng(seed)
        shape = (self.num_embeddings, self.embedding_dim)
        self.weight = Tensor(rng.standard_normal(shape), True, dtype=self.dtype)

    def __call__(self, tokens: object) -> Tensor:
        return _t.embedding(tokens, self.weight)

    def parameters(self) -> list[Tensor]:
        return [self.weight]

    def __repr__(self) -> str:
        return f"Embedding({self.num_embeddings}, {self.embedding_dim})"


class Flatten(Module):
    """Axes `start_dim` to `end_dim` merged (PyTorch's `Flatten`: from axis 1 by default,
    keeping the batch axis)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        self.start_dim, self.end_dim = start_dim, end_dim

    def __call__(self, x: object) -> Tensor:
        return _as_tensor(x).flatten(self.start_dim, self.end_dim)

    def __repr__(self) -> str:
        return f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim})"


class MultiheadAttention(Module):
    """Multi-head self- or cross-attention, as PyTorch's `torch.nn.MultiheadAttention`:
    the same parameters (`in_proj_weight` (3E, E) and `in_proj_bias` (3E,) for the query,
    key and value projections; `out_proj`, a `Linear(E, E)`), the same `batch_first`
    default (`False`: inputs (L, N, E)) and the same masks (a bool `attn_mask` marks what
    may NOT be attended to, as in PyTorch's module; `is_causal` with it hides the future).

    Each head is scaled dot-product attention on its `E / num_heads` columns, done for
    all heads at once by a reshape and a permute; the backward pass is the engine's, through
    the matrix products and the softmax. Returns `(output, weights)`, the weights averaged
    over the heads, or `(output, None)` with `need_weights=False`.

    Raises:
        ValueError: `embed_dim` is not a multiple of `num_heads`, or an input does not fit.
    """

    _param_names = ("in_proj_weight", "in_proj_bias")

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        *,
        batch_first: bool = False,
        seed: Seed = None,
        dtype: object = "float64",
    ) -> None:
        self.embed_dim = _check_size("embed_dim", embed_dim)
        self.num_heads = _check_size("num_heads", num_heads)
        if self.embed_dim % self.num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim {embed_dim} is not a multiple of num_heads "
                f"{num_heads}"
            )
        self.batch_first = bool(batch_first)
        self.dtype = _check_dtype(dtype)
        rng = np.random.default_rng(seed)
        e = self.embed_dim
        bound = math.sqrt(6 / (e + 3 * e))  # xavier_uniform_ on (3E, E), as PyTorch
        self.in_proj_weight = Tensor(rng.uniform(-bound, bound, (3 * e, e)), True, self.dtype)
        self.in_proj_bias = Tensor(np.zeros(3 * e), True, dtype=self.dtype)
        self.out_proj = Linear(e, e, seed=rng, dtype=self.dtype)
        self.out_proj.bias.data[...] = 0.0  # PyTorch starts both biases at 0

    def children(self) -> list[tuple[str, Module]]:
        return [("out_proj", self.out_proj)]

    def parameters(self) -> list[Tensor]:
        return [self.in_proj_weight, self.in_proj_bias, *self.out_proj.parameters()]

    def __call__(
        self,
        query: object,
        key: object,
        value: object,
        *,
        attn_mask: object = None,
        is_causal: bool = False,
        need_weights: bool = True,
    ) -> tuple[Tensor, Tensor | None]:
        q, k, v = (_as_tensor(t) for t in (query, key, value))
        e, h = self.embed_dim, self.num_heads
        for name, t in (("query", q), ("key", k), ("value", v)):
            if t.ndim != 3 or t.shape[-1] != e:
                raise ValueError(
                    f"{self!r}: {name} must have shape "
                    f"{'(N, L, E)' if self.batch_first else '(L, N, E)'} with E = {e}, "
                    f"got {t.shape}"
                )
        if not self.batch_first:  # (L, N, E) -> (N, L, E)
            q, k, v = (t.transpose(0, 1) for t in (q, k, v))
        w, b = self.in_proj_weight, self.in_proj_bias
        n, lq, ls, d = q.shape[0], q.shape[1], k.shape[1], e // h

        def heads(x: Tensor, part: int, length: int) -> Tensor:  # (N, L, E) -> (N, H, L, d)
            rows = slice(part * e, (part + 1) * e)
            projected = linear(x, w[rows], b[rows])
            return projected.reshape(n, length, h, d).permute(0, 2, 1, 3)

        qh, kh, vh = heads(q, 0, lq), heads(k, 1, ls), heads(v, 2, ls)
        scores = (qh @ kh.transpose(-2, -1)) * (1 / math.sqrt(d))
        hidden = np.zeros((lq, ls), dtype=bool)
        if is_causal:
            hidden |= np.triu(np.ones((lq, ls), dtype=bool), k=1)
        if attn_mask is not None:
            m = attn_mask.data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
            if m.dtype != np.bool_ or m.shape != (lq, ls):
                raise ValueError(
                    f"{self!r}: attn_mask must be bool of shape {(lq, ls)} (True: may not "
                    f"attend, as in PyTorch's module), got {m.dtype} {m.shape}"
                )
            hidden |= m
        if hidden.any():
            scores = scores.masked_fill(hidden, -1e30)
        weights = scores.softmax(axis=-1)
        out = (weights @ vh).permute(0, 2, 1, 3).reshape(n, lq, e)
        out = self.out_proj(out)
        if not self.batch_first:
            out = out.transpose(0, 1)
        return out, (weights.mean(axis=1) if need_weights else None)

    def __repr__(self) -> str:
        return f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"
