"""Neural networks out of `Value`s: `Neuron`, `Layer` and `MLP`, as in micrograd.

A neuron computes `activation(b + w0*x0 + w1*x1 + ...)`. The weighted sum is one fused
`Value.dot` node rather than a chain of `*` and `+` nodes: the numbers are bitwise the
same (the sum is accumulated left to right from the bias, exactly like micrograd's
`sum((wi*xi for ...), self.b)`), but the graph is about ten times smaller and so
backward is about ten times faster.

Weights start uniform in `[-1, 1]` and biases at 0 (micrograd's initialisation), drawn
from a `numpy.random.Generator`, so the same `seed` gives the same network.

```python
from backprop.nn import MLP

model = MLP(2, [16, 16, 1], seed=0)
assert len(model.parameters()) == (2 * 16 + 16) + (16 * 16 + 16) + (16 + 1)
score = model([0.5, -1.0])  # one output neuron: a single Value
assert MLP(2, [16, 16, 1], seed=0)([0.5, -1.0]).data == score.data
```
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from backprop.scalar import Value

__all__ = ["ACTIVATIONS", "MLP", "Layer", "Module", "Neuron"]

#: Names accepted by `activation=`; `"linear"` (or `None`) applies nothing.
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")

Seed = int | np.random.Generator | None


class Module:
    """Something with parameters: the base class of `Neuron`, `Layer` and `MLP`."""

    def parameters(self) -> list[Value]:
        """All trainable `Value`s, in a fixed order (for a neuron: weights, then bias)."""
        return []

    def zero_grad(self) -> None:
        """Set the gradient of every parameter to 0 (leaf gradients accumulate)."""
        for p in self.parameters():
            p.grad = 0.0

    def set_parameters(self, values: Iterable[float]) -> None:
        """Overwrite the parameters' `.data`, in `parameters()` order.

        Use it to start from given weights, e.g. another library's, to compare runs.

        Raises:
            ValueError: the number of values differs from the number of parameters.
            TypeError: a value is not a real number.
        """
        params = self.parameters()
        values = list(values)
        if len(values) != len(params):
            raise ValueError(f"expected {len(params)} parameter values, got {len(values)}")
        checked = [Value(v).data for v in values]  # the checks of Value(...), all first
        for p, v in zip(params, checked, strict=True):
            p.data = v


def _check_activation(activation: str | None) -> str:
    if activation is None:
        return "linear"
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS} or None, got {activation!r}")
    return activation


def _check_size(name: str, n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"{name} must be a positive int, got {n!r}")
    return int(n)


def _as_values(x: Sequence[Value | float], n: int) -> list[Value]:
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
        rng = np.random.default_rng(seed)
        self.w = [Value(float(u), f"{label}w{i}") for i, u in enumerate(rng.uniform(-1, 1, nin))]
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
        rng = np.random.default_rng(seed)
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
        if len(nouts) == 0:
            raise ValueError("nouts must list at least one layer size")
        sizes = [self.nin] + [_check_size("a layer size", n) for n in nouts]
        self.activation = _check_activation(activation)
        self.output_activation = _check_activation(output_activation)
        rng = np.random.default_rng(seed)
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
