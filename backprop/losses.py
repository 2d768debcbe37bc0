"""Loss functions: one number that says how wrong a batch of predictions is.

Every loss takes one prediction per example and one target per example and returns the
mean over the batch as a `Value`, so `loss.backward()` gives the gradient of the mean.
The mean is computed as `sum * (1 / n)`, as in micrograd's demo.

The two cross-entropies never exponentiate a large number: they are built from the
engine's `softplus` and `logsumexp`, which are exact and finite even for logits of
`+-1000`, where the textbook formulas `-log(sigmoid(z))` and `-log(softmax(z)[y])`
overflow or take the log of 0.

```python
from backprop import Value
from backprop.losses import binary_cross_entropy_with_logits, softmax_cross_entropy

z = Value(-1000.0)
loss = binary_cross_entropy_with_logits([z], [1])
loss.backward()
assert loss.data == 1000.0 and z.grad == -1.0  # d/dz = sigmoid(z) - y

a, b = Value(1000.0), Value(-1000.0)
loss = softmax_cross_entropy([[a, b]], [1])
loss.backward()
assert loss.data == 2000.0 and (a.grad, b.grad) == (1.0, -1.0)  # softmax - onehot
```
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence

from backprop.scalar import Value

__all__ = [
    "binary_cross_entropy_with_logits",
    "hinge",
    "l2",
    "mse",
    "softmax_cross_entropy",
]

Operand = Value | float


def _check_batch(predictions: Sequence[object], targets: Sequence[object]) -> int:
    n = len(predictions)
    if n != len(targets):
        raise ValueError(f"got {n} predictions but {len(targets)} targets")
    if n == 0:
        raise ValueError("a loss needs at least one example")
    return n


def _check_targets(targets: Sequence[object], allowed: tuple[int, ...], loss: str) -> None:
    for t in targets:
        if isinstance(t, bool) or not isinstance(t, numbers.Real) or t not in allowed:
            raise ValueError(f"{loss} targets must be in {allowed}, got {t!r}")


def mse(predictions: Sequence[Value], targets: Sequence[Operand]) -> Value:
    """Mean squared error, `(1/n) * sum_i (p_i - t_i)**2`.

    Derivative: `d/dp_i = (2/n) * (p_i - t_i)`.

    ```python
    from backprop import Value
    from backprop.losses import mse

    p = Value(3.0)
    loss = mse([p, Value(1.0)], [1.0, 1.0])
    loss.backward()
    assert loss.data == 2.0 and p.grad == 2.0
    ```
    """
    n = _check_batch(predictions, targets)
    diffs = [p - t for p, t in zip(predictions, targets, strict=True)]
    return Value.dot(diffs, diffs) * (1.0 / n)


def hinge(scores: Sequence[Value], targets: Sequence[int]) -> Value:
    """The SVM max-margin loss, `(1/n) * sum_i max(0, 1 - y_i * s_i)`, `y_i` in `{-1, +1}`.

    A score on the right side by a margin of at least 1 costs nothing. Derivative:
    `d/ds_i = -y_i / n` where the margin is violated (`y_i * s_i < 1`), else 0. This is
    the loss of micrograd's demo, computed in the same order, so the numbers match it.

    Raises:
        ValueError: a target is not -1 or +1 (labels in `{0, 1}` are a common slip:
            convert them with `y * 2 - 1`).
    """
    n = _check_batch(scores, targets)
    _check_targets(targets, (-1, 1), "hinge")
    margins = [(1.0 - y * s).relu() for s, y in zip(scores, targets, strict=True)]
    return Value.sum(margins) * (1.0 / n)


def binary_cross_entropy_with_logits(logits: Sequence[Value], targets: Sequence[int]) -> Value:
    """Binary cross-entropy of `sigmoid(z_i)` against labels `y_i` in `{0, 1}`, from logits.

    Per example `-y*log(sigmoid(z)) - (1-y)*log(1 - sigmoid(z))`, which simplifies to
    `softplus(z) - y*z`. Derivative: `d/dz_i = (sigmoid(z_i) - y_i) / n`.

    Raises:
        ValueError: a target is not 0 or 1.
    """
    n = _check_batch(logits, targets)
    _check_targets(targets, (0, 1), "binary cross-entropy")
    per_example = [
        z.softplus() - z if y else z.softplus() for z, y in zip(logits, targets, strict=True)
    ]
    return Value.sum(per_example) * (1.0 / n)


def softmax_cross_entropy(logits: Sequence[Sequence[Operand]], targets: Sequence[int]) -> Value:
    """Cross-entropy of `softmax(z_i)` against class indices `y_i`, from logits.

    Per example `-log(softmax(z)[y]) = logsumexp(z) - z[y]`. Derivative:
    `d/dz_ij = (softmax(z_i)_j - [j == y_i]) / n`.

    Args:
        logits: One sequence of class scores per example.
        targets: One class index per example, `0 <= y_i < len(logits[i])`.

    Raises:
        ValueError: a target is not a valid class index.
    """
    n = _check_batch(logits, targets)
    per_example: list[Value] = []
    for z, y in zip(logits, targets, strict=True):
        k = len(z)
        if isinstance(y, bool) or not isinstance(y, numbers.Integral) or not 0 <= y < k:
            raise ValueError(f"targets must be class indices in [0, {k}), got {y!r}")
        per_example.append(Value.logsumexp(z) - z[y])
    return Value.sum(per_example) * (1.0 / n)


def l2(parameters: Iterable[Value]) -> Value:
    """The sum of squares `sum_i p_i**2`, for weight decay as a loss term.

    Derivative: `d/dp_i = 2 * p_i`. Add `alpha * l2(model.parameters())` to a loss.

    ```python
    from backprop import Value
    from backprop.losses import l2

    p = Value(3.0)
    reg = l2([p, Value(4.0)])
    reg.backward()
    assert reg.data == 25.0 and p.grad == 6.0
    ```
    """
    ps = list(parameters)
    return Value.dot(ps, ps)
