"""Tests for the toy data sets in backprop.datasets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backprop import datasets
from backprop.datasets import make_circles, make_moons, make_spirals

GENERATORS = [make_moons, make_circles, make_spirals]


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("n", [1, 2, 3, 10, 101])
def test_shapes_and_dtypes(make, n):
    X, y = make(n=n)
    assert X.shape == (n, 2)
    assert y.shape == (n,)
    assert X.dtype == np.float64
    assert y.dtype == np.int64
    assert np.all(np.isfinite(X))
    assert X.flags.c_contiguous


@pytest.mark.parametrize("make", GENERATORS)
def test_same_seed_same_data(make):
    X1, y1 = make(n=50, noise=0.2, seed=7)
    X2, y2 = make(n=50, noise=0.2, seed=7)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)


@pytest.mark.parametrize("make", GENERATORS)
def test_different_seed_different_data(make):
    X1, _ = make(n=50, noise=0.2, seed=0)
    X2, _ = make(n=50, noise=0.2, seed=1)
    assert not np.array_equal(X1, X2)


@pytest.mark.parametrize("make", GENERATORS)
def test_seed_none_is_allowed(make):
    X, y = make(n=20, seed=None)
    assert X.shape == (20, 2) and y.shape == (20,)


@pytest.mark.parametrize("make", GENERATORS)
def test_does_not_touch_global_numpy_random_state(make):
    state = np.random.get_state()
    make(n=30, noise=0.1, seed=3)
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1])


@pytest.mark.parametrize("make", [make_moons, make_circles])
@pytest.mark.parametrize(("n", "counts"), [(1, [1]), (2, [1, 1]), (7, [4, 3]), (100, [50, 50])])
def test_two_class_balance(make, n, counts):
    _, y = make(n=n)
    assert np.bincount(y).tolist() == counts
    assert set(y.tolist()) <= {0, 1}


@pytest.mark.parametrize(
    ("n", "k", "counts"),
    [(2, 2, [1, 1]), (10, 3, [4, 3, 3]), (11, 3, [4, 4, 3]), (100, 4, [25] * 4)],
)
def test_spiral_class_balance(n, k, counts):
    _, y = make_spirals(n=n, n_classes=k)
    assert np.bincount(y, minlength=k).tolist() == counts


@pytest.mark.parametrize("make", GENERATORS)
def test_points_are_shuffled(make):
    _, y = make(n=200)
    # Unshuffled output would be all 0s, then all 1s: exactly one label change.
    assert np.count_nonzero(np.diff(y)) > 10


def test_moons_geometry_without_noise():
    X, y = make_moons(n=200, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    assert upper[:, 1].min() >= -1e-12  # upper half circle
    assert lower[:, 1].max() <= 0.5 + 1e-12  # lower half circle
    # The ends of the arcs are included.
    assert np.isclose(upper[:, 0].min(), -1.0) and np.isclose(upper[:, 0].max(), 1.0)
    assert np.isclose(lower[:, 0].min(), 0.0) and np.isclose(lower[:, 0].max(), 2.0)


def test_moons_are_not_linearly_separable():
    X, y = make_moons(n=400, noise=0.1, seed=0)
    # The least-squares linear classifier gets most points right, but not all.
    A = np.column_stack([X, np.ones(len(X))])
    w, *_ = np.linalg.lstsq(A, y * 2.0 - 1.0, rcond=None)
    accuracy = np.mean((A @ w > 0) == (y == 1))
    assert 0.7 < accuracy < 0.95


def test_noise_has_the_requested_standard_deviation():
    # Every point of class 0 of the circles sits on the unit circle before noise; the
    # radial residual of many points estimates the noise level.
    X, y = make_circles(n=20000, noise=0.03, factor=0.5, seed=5)
    radius = np.hypot(X[:, 0], X[:, 1])
    residual = np.where(y == 0, radius - 1.0, radius - 0.5)
    assert abs(residual.std() - 0.03) < 0.002
    assert abs(residual.mean()) < 0.002


def test_circles_geometry_without_noise():
    X, y = make_circles(n=50, noise=0.0, factor=0.3)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], 0.3)
    # Evenly spaced angles, none repeated (2*pi is not a second copy of 0).
    angles = np.sort(np.arctan2(X[y == 0, 1], X[y == 0, 0]))
    np.testing.assert_allclose(np.diff(angles), 2 * math.pi / 25)


def test_spirals_geometry_without_noise():
    X, y = make_spirals(n=300, n_classes=3, noise=0.0, turns=1.0)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert radius.min() == pytest.approx(0.0)
    assert radius.max() == pytest.approx(1.0)
    # Each arm ends at radius 1 at angle 2*pi*(turns + k/3), i.e. rotated 120 degrees apart.
    for k in range(3):
        arm = X[y == k]
        end = arm[np.argmax(np.hypot(arm[:, 0], arm[:, 1]))]
        angle = 2 * math.pi * k / 3
        np.testing.assert_allclose(end, [math.cos(angle), math.sin(angle)], atol=1e-12)


def test_numpy_integer_arguments_are_accepted():
    X, y = make_spirals(n=np.int64(12), n_classes=np.int32(3), seed=np.int64(2))
    assert X.shape == (12, 2)
    assert set(y.tolist()) == {0, 1, 2}


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n": 0}, ValueError, "n .*at least 1"),
        ({"n": -5}, ValueError, "at least 1"),
        ({"n": 2.0}, TypeError, "n must be an integer"),
        ({"n": True}, TypeError, "n must be an integer"),
        ({"n": "10"}, TypeError, "n must be an integer"),
        ({"noise": -0.1}, ValueError, "noise"),
        ({"noise": math.nan}, ValueError, "noise"),
        ({"noise": math.inf}, ValueError, "noise"),
        ({"noise": "0.1"}, TypeError, "noise must be a real number"),
        ({"seed": 1.5}, TypeError, "seed must be an integer"),
        ({"seed": -1}, ValueError, "seed"),
    ],
)
def test_common_validation(make, kwargs, error, match):
    with pytest.raises(error, match=match):
        make(**kwargs)


@pytest.mark.parametrize("factor", [0.0, 1.0, -0.5, 2.0, math.nan])
def test_circles_factor_validation(factor):
    with pytest.raises(ValueError, match="factor"):
        make_circles(factor=factor)


def test_circles_factor_type():
    with pytest.raises(TypeError, match="factor"):
        make_circles(factor=None)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"n_classes": 1}, ValueError),
        ({"n_classes": 0}, ValueError),
        ({"n_classes": 2.0}, TypeError),
        ({"turns": 0.0}, ValueError),
        ({"turns": -1.0}, ValueError),
        ({"turns": math.inf}, ValueError),
        ({"turns": "1"}, TypeError),
    ],
)
def test_spirals_validation(kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        make_spirals(**kwargs)


def test_module_exports():
    assert set(datasets.__all__) == {"make_moons", "make_circles", "make_spirals"}
