"""Optimisers: turn gradients into parameter updates, with PyTorch's update rules.

Each optimiser holds a list of parameters; `step()` updates their `.data` from their
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

The same classes train the tensor engine: a parameter may be a `Value` or a `Tensor`
created with `requires_grad=True` (one list may even hold both). A `Tensor` is updated
in place, entry by entry, with the same formulas; its dtype is kept (float32 stays
float32, in the momentum and Adam buffers too), and one whose `.grad` is `None` (no
`backward()` reached it) is skipped, as in `torch.optim`.

```python
import numpy as np
from backprop import Tensor
from backprop.optim import Adam

w = Tensor(np.array([3.0, -2.0], dtype=np.float32), requires_grad=True)
opt = Adam([w], lr=0.1)
for _ in range(200):  # minimise |w|², the minimum at 0
    opt.zero_grad()
    (w * w).sum().backward()
    opt.step()
assert np.abs(w.data).max() < 0.05 and w.data.dtype == np.float32
assert opt.m[0].dtype == np.float32 and opt.v[0].dtype == np.float32
```
"""

from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Iterable, Sequence
from typing import TypeAlias

from backprop._numpy import numpy as np  # None without numpy: then every parameter is a Value
from backprop.nn import Parameter, _clear_grad
from backprop.scalar import Value

if np is None:
    from backprop._numpy import NoTensor as Tensor
else:
    from backprop.tensor import Tensor

__all__ = ["SGD", "Adam", "Optimizer"]

#: A number for a `Value` parameter, an array for a `Tensor` one.
State: TypeAlias = "float | np.ndarray"


def _check_number(name: str, x: object, low: float, high: float = math.inf) -> float:
    """`x` as a float in `[low, high)`, or a clear error."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    x = float(x)
    if not low <= x < high:
        raise ValueError(f"{name} must be in [{low}, {high}), got {x!r}")
    return x


def _check_params(params: Iterable[Parameter]) -> list[Parameter]:
    """The parameters as a list: each a `Value` or a leaf `Tensor` requiring gradients,
    each once."""
    if isinstance(params, Value | Tensor | str) or not isinstance(params, Iterable):
        raise TypeError(
            f"params must be a list of parameters (e.g. model.parameters()), "
            f"got {type(params).__name__}"
        )
    params = list(params)
    if not params:
        raise ValueError("the optimizer got an empty parameter list")
    seen: set[int] = set()
    for i, p in enumerate(params):
        if isinstance(p, Tensor):
            if not p.requires_grad:
                raise ValueError(
                    f"parameter {i} is a Tensor that does not require gradients, so it would "
                    f"never get a .grad; create it with Tensor(..., requires_grad=True)"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"parameter {i} is a Tensor computed by an operation ({p._op!r}), not a "
                    f"leaf: only tensors created directly can be optimized"
                )
        elif not isinstance(p, Value):
            raise TypeError(f"parameters must be Values or Tensors, got {type(p).__name__}")
        if id(p) in seen:
            raise ValueError(f"parameter {i} appears twice in the list: it would be updated twice")
        seen.add(id(p))
    return params


def _grad(p: Parameter, i: int) -> State | None:
    """The gradient of parameter `i`, `p`, or `None` to skip it (a Tensor without one)."""
    g = p.grad
    if (
        isinstance(p, Tensor)
        and g is not None
        and (g.shape != p.data.shape or g.dtype != p.data.dtype)
    ):
        raise ValueError(
            f"parameter {i} has shape {p.data.shape} and dtype {p.data.dtype}, but its "
            f".grad has shape {g.shape} and dtype {g.dtype}"
        )
    return g


def _copy(x: State) -> State:
    """A copy we own of a gradient (a float needs none)."""
    return x.copy() if np is not None and isinstance(x, np.ndarray) else x


def _sqrt(x: State) -> State:
    return np.sqrt(x) if np is not None and isinstance(x, np.ndarray) else math.sqrt(x)


def _check_finite(params: list[Parameter]) -> None:
    """Raise if a parameter is no longer finite. For a tensor, the sum of its squares (one
    BLAS call) is finite unless an entry is NaN or infinite or the sum overflows; only
    then are its entries looked at one by one."""
    # One np.errstate for all parameters, not one each; nothing to silence without numpy.
    quiet = contextlib.nullcontext() if np is None else np.errstate(over="ignore", invalid="ignore")
    with quiet:
        for i, p in enumerate(params):
            if isinstance(p, Tensor):
                flat = p.data.reshape(-1)
                if np.isfinite(np.dot(flat, flat)) or np.isfinite(flat).all():
                    continue
                bad = int(flat.size - np.count_nonzero(np.isfinite(flat)))
                raise OverflowError(
                    f"parameter {i} (shape {p.data.shape}) has {bad} entries that are NaN or "
                    f"infinite after the step: training diverged (try a smaller learning rate)"
                )
            if not math.isfinite(p.data):
                raise OverflowError(
                    f"a parameter became {p.data!r} after the step: training diverged "
                    f"(try a smaller learning rate)"
                )


class Optimizer:
    """Base class: holds the parameters and the learning rate.

    Raises:
        TypeError: `params` is not a list, or a parameter is neither a `Value` nor a `Tensor`.
        ValueError: there are no parameters, a parameter appears twice, a `Tensor` does not
            require gradients or is not a leaf, or `lr` is negative.
    """

    def __init__(self, params: Iterable[Parameter], lr: float) -> None:
        self.params = _check_params(params)
        self.lr = lr

    @property
    def lr(self) -> float:
        """The learning rate; assign to it to change it between steps."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _check_number("lr", value, 0.0)

    def zero_grad(self) -> None:
        """Reset every parameter's gradient: `0.0` for a `Value`, `None` for a `Tensor`
        (as `torch.optim`'s `zero_grad(set_to_none=True)`)."""
        for p in self.params:
            _clear_grad(p)

    def step(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum and weight decay.

    With gradient `g` of a parameter `p` (as in `torch.optim.SGD`, no dampening):

        g = g + weight_decay * p                        (if weight_decay)
        v = g on the first step, else momentum * v + g  (if momentum)
        p = p - lr * v                                  (v = g without momentum)

    For a `Tensor` every line holds entry by entry, and `v` is an array of `p`'s shape
    and dtype (`velocity[i]`, `None` until parameter `i` first has a gradient).

    Args:
        params: The parameters to update, e.g. `model.parameters()`.
        lr: Learning rate, `>= 0`.
        momentum: Momentum factor in `[0, 1)`.
        weight_decay: L2 penalty factor, `>= 0`.
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _check_number("momentum", momentum, 0.0, 1.0)
        self.weight_decay = _check_number("weight_decay", weight_decay, 0.0)
        self.velocity: list[State | None] = [None] * len(self.params)

    def step(self) -> None:
        """Update every parameter once from its current gradient."""
        lr, momentum, wd, velocity = self._lr, self.momentum, self.weight_decay, self.velocity
        for i, p in enumerate(self.params):
            g = _grad(p, i)
            if g is None:
                continue
            if wd:
                g = g + wd * p.data
            if momentum:
                v = velocity[i]
                g = _copy(g) if v is None else momentum * v + g
                velocity[i] = g
            p.data -= lr * g  # in place for an array
        _check_finite(self.params)


class Adam(Optimizer):
    """Adam: per-parameter steps scaled by running averages of the gradient and its square.

    With gradient `g` of a parameter `p` at its step `t = 1, 2, ...` (as in
    `torch.optim.Adam`):

        g = g + weight_decay * p                 (if weight_decay)
        m = beta1 * m + (1 - beta1) * g          (m, v start at 0)
        v = beta2 * v + (1 - beta2) * g**2
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    For a `Tensor` every line holds entry by entry, and `m[i]`, `v[i]` are arrays of its
    shape and dtype. Each parameter counts its own steps in `steps[i]`: one skipped for
    want of a gradient does not advance (as in PyTorch); `t` counts the calls of `step()`.

    Args:
        params: The parameters to update.
        lr: Learning rate, `>= 0`.
        betas: Decay rates `(beta1, beta2)` of the two averages, each in `[0, 1)`.
        eps: Added to the denominator for stability, `> 0`.
        weight_decay: L2 penalty factor, `>= 0` (added to the gradient, as in
            `torch.optim.Adam`; not AdamW's decoupled decay).
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if isinstance(betas, str) or not isinstance(betas, Sequence):
            raise TypeError(
                f"betas must be a pair (beta1, beta2), got {type(betas).__name__}: {betas!r}"
            )
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (
            _check_number("beta1", betas[0], 0.0, 1.0),
            _check_number("beta2", betas[1], 0.0, 1.0),
        )
        self.eps = _check_number("eps", eps, 0.0)
        if self.eps == 0.0:
            raise ValueError("eps must be positive (with eps = 0 a zero gradient gives 0 / 0)")
        self.weight_decay = _check_number("weight_decay", weight_decay, 0.0)
        self.t = 0
        self.steps = [0] * len(self.params)
        # 0.0 to start: beta * 0.0 + (1 - beta) * g takes g's type, a float or an array.
        self.m: list[State] = [0.0] * len(self.params)
        self.v: list[State] = [0.0] * len(self.params)

    def step(self) -> None:
        """Update every parameter once from its current gradient."""
        beta1, beta2 = self.betas
        self.t += 1
        m, v, eps, wd = self.m, self.v, self.eps, self.weight_decay
        for i, p in enumerate(self.params):
            g = _grad(p, i)
            if g is None:
                continue
            if wd:
                g = g + wd * p.data
            self.steps[i] += 1
            t = self.steps[i]
            step_size = self._lr / (1.0 - beta1**t)
            correction2 = math.sqrt(1.0 - beta2**t)
            m[i] = beta1 * m[i] + (1.0 - beta1) * g
            v[i] = beta2 * v[i] + (1.0 - beta2) * g * g
            p.data -= step_size * m[i] / (_sqrt(v[i]) / correction2 + eps)  # in place
        _check_finite(self.params)
