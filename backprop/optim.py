"""Optimizers: turn gradients into parameter updates, with PyTorch's update rules.

Each optimizer holds a list of parameters; `step()` updates their `.data` from their
`.grad`, and `zero_grad()` resets the gradients (which accumulate, see
`Value.backward`). The learning rate is the attribute `lr`, which may be changed
between steps (a schedule).

```python
from backprop import Value
from backprop.optim import SGD

x = Value(3.0)
opt = SGD([x], lr=0.25)
for _ in range(50):  # minimise x**2
    opt.zero_grad()
    (x * x).backward()
    opt.step()
assert abs(x.data) < 1e-9
```
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

from backprop.scalar import Value

__all__ = ["SGD", "Adam", "Optimizer"]


def _check_number(name: str, x: object, low: float, high: float = math.inf) -> float:
    """`x` as a float in `[low, high)`, or a clear error."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    x = float(x)
    if not low <= x < high:
        raise ValueError(f"{name} must be in [{low}, {high}), got {x!r}")
    return x


def _check_finite(params: list[Value]) -> None:
    for p in params:
        if not math.isfinite(p.data):
            raise OverflowError(
                f"a parameter became {p.data!r} after the step: training diverged "
                f"(try a smaller learning rate)"
            )


class Optimizer:
    """Base class: holds the parameters and the learning rate.

    Raises:
        TypeError: a parameter is not a `Value`.
        ValueError: there are no parameters, or `lr` is negative.
    """

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("the optimizer got an empty parameter list")
        for p in self.params:
            if not isinstance(p, Value):
                raise TypeError(f"parameters must be Values, got {type(p).__name__}")
        self.lr = lr

    @property
    def lr(self) -> float:
        """The learning rate; assign to it to change it between steps."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _check_number("lr", value, 0.0)

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum and weight decay.

    With gradient `g` of a parameter `p` (as in `torch.optim.SGD`, no dampening):

        g = g + weight_decay * p                        (if weight_decay)
        v = g on the first step, else momentum * v + g  (if momentum)
        p = p - lr * v                                  (v = g without momentum)

    Args:
        params: The parameters to update, e.g. `model.parameters()`.
        lr: Learning rate, `>= 0`.
        momentum: Momentum factor in `[0, 1)`.
        weight_decay: L2 penalty factor, `>= 0`.
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _check_number("momentum", momentum, 0.0, 1.0)
        self.weight_decay = _check_number("weight_decay", weight_decay, 0.0)
        self.velocity: list[float] | None = None  # created by the first step with momentum

    def step(self) -> None:
        """Update every parameter once from its current gradient."""
        lr, momentum, wd = self._lr, self.momentum, self.weight_decay
        if momentum == 0.0:
            for p in self.params:
                g = p.grad + wd * p.data if wd else p.grad
                p.data -= lr * g
            _check_finite(self.params)
            return
        first = self.velocity is None
        velocity = [0.0] * len(self.params) if first else self.velocity
        assert velocity is not None
        for i, p in enumerate(self.params):
            g = p.grad + wd * p.data if wd else p.grad
            v = g if first else momentum * velocity[i] + g
            velocity[i] = v
            p.data -= lr * v
        self.velocity = velocity
        _check_finite(self.params)


class Adam(Optimizer):
    """Adam: per-parameter steps scaled by running averages of the gradient and its square.

    With gradient `g` of a parameter `p` at step `t = 1, 2, ...` (as in `torch.optim.Adam`):

        m = beta1 * m + (1 - beta1) * g          (m, v start at 0)
        v = beta2 * v + (1 - beta2) * g**2
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    Args:
        params: The parameters to update.
        lr: Learning rate, `>= 0`.
        betas: Decay rates `(beta1, beta2)` of the two averages, each in `[0, 1)`.
        eps: Added to the denominator for stability, `>= 0`.
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr)
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (
            _check_number("beta1", betas[0], 0.0, 1.0),
            _check_number("beta2", betas[1], 0.0, 1.0),
        )
        self.eps = _check_number("eps", eps, 0.0)
        if self.eps == 0.0:
            raise ValueError("eps must be positive (with eps = 0 a zero gradient gives 0 / 0)")
        self.t = 0
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    def step(self) -> None:
        """Update every parameter once from its current gradient."""
        beta1, beta2 = self.betas
        self.t += 1
        step_size = self._lr / (1.0 - beta1**self.t)
        correction2 = math.sqrt(1.0 - beta2**self.t)
        m, v, eps = self.m, self.v, self.eps
        for i, p in enumerate(self.params):
            g = p.grad
            m[i] = beta1 * m[i] + (1.0 - beta1) * g
            v[i] = beta2 * v[i] + (1.0 - beta2) * g * g
            p.data -= step_size * m[i] / (math.sqrt(v[i]) / correction2 + eps)
        _check_finite(self.params)
