"""Tiny two-dimensional toy data sets for training classifiers.

Every generator returns a pair `(X, y)` of NumPy arrays: `X` has shape `(n, 2)` and
dtype `float64`, `y` has shape `(n,)` and dtype `int64` with class labels
`0, 1, ..., n_classes - 1`. The points come out shuffled, classes are as balanced as
`n` allows, and the same `seed` always gives the same arrays (a
`numpy.random.Generator` seeded with it draws every random number).

Losses such as the SVM hinge loss want labels in `{-1, +1}` instead; convert with
`y * 2 - 1`:

```python
from backprop.datasets import make_moons

X, y = make_moons(n=100, noise=0.1, seed=0)
assert X.shape == (100, 2) and y.shape == (100,)
assert set((y * 2 - 1).tolist()) == {-1, 1}
```
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["make_circles", "make_moons", "make_spirals"]


def make_moons(
    n: int = 100, noise: float = 0.1, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles ("moons"), a classic non-linearly-separable set.

    Class 0 is the upper moon, the arc of the unit circle centred at `(0, 0)`; class 1
    is the lower moon, the same arc flipped and shifted to centre `(1, 0.5)`. Each gets
    `n // 2` points (class 0 one more when `n` is odd), evenly spaced along the arc,
    then Gaussian noise of standard deviation `noise` is added to both coordinates.

    Args:
        n: Number of points, a positive integer.
        noise: Standard deviation of the Gaussian noise, `>= 0`.
        seed: Seed of the random generator; `None` draws fresh entropy (not reproducible).

    Returns:
        `(X, y)`: `X` of shape `(n, 2)`, `float64`; `y` of shape `(n,)`, `int64` in `{0, 1}`.

    Raises:
        TypeError: If `n`, `noise` or `seed` has the wrong type.
        ValueError: If `n < 1` or `noise` is negative or not finite.

    ```python
    import numpy as np
    from backprop.datasets import make_moons

    X, y = make_moons(n=7, noise=0.0, seed=1)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [4, 3]
    # Without noise every point of class 0 lies on the unit circle.
    assert np.allclose(np.hypot(X[y == 0, 0], X[y == 0, 1]), 1.0)
    ```
    """
    n = _check_n(n)
    noise = _check_noise(noise)
    rng = _rng(seed)
    n_upper = n - n // 2
    n_lower = n // 2
    t_upper = np.linspace(0.0, math.pi, n_upper)
    t_lower = np.linspace(0.0, math.pi, n_lower)
    upper = np.column_stack([np.cos(t_upper), np.sin(t_upper)])
    lower = np.column_stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)])
    X = np.concatenate([upper, lower])
    y = np.concatenate([np.zeros(n_upper, np.int64), np.ones(n_lower, np.int64)])
    return _finish(X, y, noise, rng)


def make_circles(
    n: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A small circle inside a large one: no straight line separates them.

    Class 0 lies on the circle of radius 1, class 1 on the circle of radius `factor`,
    both centred at the origin, points evenly spaced by angle, then Gaussian noise of
    standard deviation `noise` is added to both coordinates. Class 0 gets `n // 2`
    points (one more when `n` is odd), class 1 the rest.

    Args:
        n: Number of points, a positive integer.
        noise: Standard deviation of the Gaussian noise, `>= 0`.
        factor: Radius of the inner circle relative to the outer one, `0 < factor < 1`.
        seed: Seed of the random generator; `None` draws fresh entropy (not reproducible).

    Returns:
        `(X, y)`: `X` of shape `(n, 2)`, `float64`; `y` of shape `(n,)`, `int64` in `{0, 1}`.

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If `n < 1`, `noise` is negative or not finite, or `factor` is
            outside `(0, 1)`.

    ```python
    import numpy as np
    from backprop.datasets import make_circles

    X, y = make_circles(n=10, noise=0.0, factor=0.25)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert np.allclose(radius[y == 0], 1.0) and np.allclose(radius[y == 1], 0.25)
    ```
    """
    n = _check_n(n)
    noise = _check_noise(noise)
    factor = _check_real("factor", factor)
    if not 0.0 < factor < 1.0:
        raise ValueError(f"factor must be strictly between 0 and 1, got {factor!r}")
    rng = _rng(seed)
    n_outer = n - n // 2
    n_inner = n // 2
    # endpoint=False: the angle 2*pi is the same point as 0.
    t_outer = np.linspace(0.0, 2.0 * math.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0.0, 2.0 * math.pi, n_inner, endpoint=False)
    outer = np.column_stack([np.cos(t_outer), np.sin(t_outer)])
    inner = factor * np.column_stack([np.cos(t_inner), np.sin(t_inner)])
    X = np.concatenate([outer, inner])
    y = np.concatenate([np.zeros(n_outer, np.int64), np.ones(n_inner, np.int64)])
    return _finish(X, y, noise, rng)


def make_spirals(
    n: int = 100,
    n_classes: int = 2,
    noise: float = 0.05,
    turns: float = 1.0,
    seed: int | None = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class, winding out from the origin.

    Arm `k` starts at the origin and winds `turns` times around it, its radius growing
    linearly to 1; the arms are rotated `2*pi*k / n_classes` apart. Points are evenly
    spaced along each arm, then Gaussian noise of standard deviation `noise` is added
    to both coordinates. The `n` points are split as evenly as possible (the first
    `n % n_classes` classes get one more).

    Args:
        n: Number of points, a positive integer.
        n_classes: Number of arms (and classes), an integer `>= 2`.
        noise: Standard deviation of the Gaussian noise, `>= 0`.
        turns: How many times each arm winds around the origin, `> 0`.
        seed: Seed of the random generator; `None` draws fresh entropy (not reproducible).

    Returns:
        `(X, y)`: `X` of shape `(n, 2)`, `float64`; `y` of shape `(n,)`, `int64` in
        `{0, ..., n_classes - 1}`.

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If `n < 1`, `n_classes < 2`, `noise` is negative or not finite, or
            `turns` is not positive and finite.

    ```python
    import numpy as np
    from backprop.datasets import make_spirals

    X, y = make_spirals(n=301, n_classes=3, noise=0.0)
    assert np.bincount(y).tolist() == [101, 100, 100]
    assert np.hypot(X[:, 0], X[:, 1]).max() <= 1.0 + 1e-12
    ```
    """
    n = _check_n(n)
    n_classes = _check_int("n_classes", n_classes)
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2, got {n_classes}")
    noise = _check_noise(noise)
    turns = _check_real("turns", turns)
    if not (turns > 0.0 and math.isfinite(turns)):
        raise ValueError(f"turns must be positive and finite, got {turns!r}")
    rng = _rng(seed)
    arms, labels = [], []
    for k in range(n_classes):
        count = n // n_classes + (1 if k < n % n_classes else 0)
        radius = np.linspace(0.0, 1.0, count)
        angle = 2.0 * math.pi * (turns * radius + k / n_classes)
        arms.append(radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)]))
        labels.append(np.full(count, k, np.int64))
    return _finish(np.concatenate(arms), np.concatenate(labels), noise, rng)


# --- helpers ----------------------------------------------------------------------


def _finish(
    X: np.ndarray, y: np.ndarray, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Add the noise, then shuffle points and labels together."""
    X = X + rng.normal(0.0, noise, size=X.shape) if noise > 0 else X.copy()
    order = rng.permutation(len(y))
    return np.ascontiguousarray(X[order], dtype=np.float64), y[order]


def _check_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    return int(value)


def _check_real(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    return float(value)


def _check_n(n: object) -> int:
    n = _check_int("n", n)
    if n < 1:
        raise ValueError(f"n (the number of points) must be at least 1, got {n}")
    return n


def _check_noise(noise: object) -> float:
    noise = _check_real("noise", noise)
    if not (noise >= 0.0 and math.isfinite(noise)):
        raise ValueError(f"noise (a standard deviation) must be finite and >= 0, got {noise!r}")
    return noise


def _rng(seed: object) -> np.random.Generator:
    if seed is not None:
        seed = _check_int("seed", seed)
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer or None, got {seed}")
    return np.random.default_rng(seed)
