"""Loss functions: one number that says how wrong a batch of predictions is.

Every loss takes one prediction per example and one target per example and returns the
mean over the batch as a `Value`, so `loss.backward()` gives the gradient of the mean.
The mean is computed as `sum * (1 / n)`, as in micrograd's demo.

Bad input is refused, never turned into a silent wrong number: a `TypeError` names the
argument when the predictions or the targets are not a list (or array) with one scalar per
example (for `softmax_cross_entropy`, one list of class scores per example), and a
`ValueError` when their lengths differ, the batch is empty or a target is out of range.

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


def _sequence(name: str, x: object, expected: str) -> Sequence[object]:
    """`x` if it is a list or tuple (or another sequence, not a string), else a TypeError
    naming the argument, what it should hold and what came."""
    is_array = hasattr(x, "__len__") and getattr(x, "ndim", 1) >= 1  # e.g. a numpy array
    if isinstance(x, str | bytes) or not (isinstance(x, Sequence) or is_array):
        raise TypeError(f"{name} must be a list of {expected}, got {type(x).__name__}: {x!r}")
    return x


def _check_scalars(name: str, xs: Sequence[object]) -> None:
    """Each entry of `xs` a `Value` or a real number (not a bool), else a TypeError."""
    for i, x in enumerate(xs):
        if not isinstance(x, Value) and (isinstance(x, bool) or not isinstance(x, numbers.Real)):
            raise TypeError(
                f"{name}[{i}] must be a Value or a real number, got {type(x).__name__}: {x!r}"
            )


def _check_batch(
    predictions: Sequence[object], targets: Sequence[object], name: str = "predictions"
) -> int:
    """The batch size, after checking both are sequences of the same, nonzero length."""
    _sequence(name, predictions, "Values, one per example")
    _sequence("targets", targets, "numbers, one per example")
    n = len(predictions)
    if n != len(targets):
        raise ValueError(f"got {n} predictions but {len(targets)} targets")
    if n == 0:
        raise ValueError("a loss needs at least one example")
    return n


def _check_values(name: str, xs: Sequence[object]) -> None:
    """Each entry of `xs` a `Value`, else a TypeError."""
    for i, x in enumerate(xs):
        if not isinstance(x, Value):
            raise TypeError(f"{name}[{i}] must be a Value, got {type(x).__name__}: {x!r}")


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
    _check_scalars("predictions", predictions)
    _check_scalars("targets", targets)
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
    n = _check_batch(scores, targets, "scores")
    _check_scalars("scores", scores)
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
    n = _check_batch(logits, targets, "logits")
    _check_values("logits", logits)
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
        TypeError: `logits` is not a list of lists of Values or numbers.
        ValueError: a row of logits is empty, or a target is not a valid class index.
    """
    _sequence("logits", logits, "lists of class scores, one list per example")
    for i, z in enumerate(logits):
        _sequence(f"logits[{i}]", z, "class scores (Values or numbers)")
        if not z:
            raise ValueError(f"logits[{i}] is empty: an example needs at least one class score")
        _check_scalars(f"logits[{i}]", z)
    n = _check_batch(logits, targets, "logits")
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
    if isinstance(parameters, Value) or not isinstance(parameters, Iterable):
        raise TypeError(
            f"parameters must be an iterable of Values (e.g. model.parameters()), "
            f"got {type(parameters).__name__}"
        )
    ps = list(parameters)
    for i, p in enumerate(ps):
        if not isinstance(p, Value):
            raise TypeError(f"parameters[{i}] must be a Value, got {type(p).__name__}: {p!r}")
    return Value.dot(ps, ps)
