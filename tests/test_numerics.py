"""Numerics at the edges: finite values and gradients at inputs of ±1000 (±1e4 for logits),
without a single numpy warning, in both engines; `log` and `sqrt` near zero as documented."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from backprop import Tensor, Value, losses
from backprop.tensor import cross_entropy

EXTREMES = [-1000.0, -40.0, 0.0, 40.0, 1000.0]
LOGITS = [[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [0.0, 0.0, 0.0], [1e4, 1e4, -1e4]]


@pytest.fixture(autouse=True)
def no_warnings():
    """Any warning (numpy's RuntimeWarning for overflow or 0/0 among them) fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def finite(*xs: float) -> bool:
    return all(math.isfinite(x) for x in xs)


@pytest.mark.parametrize("x", EXTREMES)
@pytest.mark.parametrize("op", ["sigmoid", "tanh", "softplus"])
def test_scalar_activations_at_extreme_inputs(op: str, x: float) -> None:
    v = Value(x)
    y = getattr(v, op)()
    y.backward()
    assert finite(y.data, v.grad)
    if op == "softplus":
        assert y.data == pytest.approx(max(x, 0.0) + math.log1p(math.exp(-abs(x))))
    if op == "sigmoid" and x == -1000.0:
        assert y.data == 0.0 and v.grad == 0.0  # e^-1000 underflows to 0: the true value rounded


@pytest.mark.parametrize("row", LOGITS)
def test_scalar_cross_entropies_at_extreme_logits(row: list[float]) -> None:
    for target in range(3):
        logits = [Value(z) for z in row]
        loss = losses.softmax_cross_entropy([logits], [target])
        loss.backward()
        assert finite(loss.data, *(z.grad for z in logits))
        assert sum(z.grad for z in logits) == pytest.approx(0.0, abs=1e-12)  # p - y sums to 0
    for z in row:
        for target in (0, 1):
            logit = Value(z)
            loss = losses.binary_cross_entropy_with_logits([logit], [target])
            loss.backward()
            assert finite(loss.data, logit.grad)


def test_tensor_activations_at_extreme_inputs() -> None:
    x = Tensor(EXTREMES, requires_grad=True)
    g = np.linspace(-1.0, 2.0, len(EXTREMES))  # non-uniform upstream gradient
    for op in ("sigmoid", "tanh"):
        x.zero_grad()
        y = getattr(x, op)()
        y.backward(g)
        assert np.isfinite(y.data).all() and np.isfinite(x.grad).all(), op


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_tensor_softmaxes_at_extreme_logits(op: str) -> None:
    z = Tensor(LOGITS, requires_grad=True)
    y = getattr(z, op)(axis=1)
    y.backward(np.arange(12.0).reshape(4, 3) - 5.0)
    assert np.isfinite(y.data).all() and np.isfinite(z.grad).all()
    if op == "softmax":
        np.testing.assert_allclose(y.data.sum(axis=1), 1.0)


def test_tensor_cross_entropy_at_extreme_logits() -> None:
    z = Tensor(LOGITS, requires_grad=True)
    loss = cross_entropy(z, [1, 0, 2, 2])
    loss.backward()
    assert np.isfinite(loss.data) and np.isfinite(z.grad).all()
    np.testing.assert_allclose(z.grad.sum(axis=1), 0.0, atol=1e-12)
    # Rows 0, 1: the label's logit is 2e4 below the top one; row 2: three equal logits;
    # row 3: two tied top logits 2e4 above the label's.
    expected = (2e4 + 2e4 + math.log(3) + 2e4 + math.log(2)) / 4
    assert loss.item() == pytest.approx(expected, rel=1e-15)


def test_log_near_zero_is_finite_and_at_zero_refused() -> None:
    tiny = 5e-324  # the smallest positive float
    v = Value(tiny)
    y = v.log()
    assert y.data == pytest.approx(-744.44, abs=0.01)
    with pytest.raises(ValueError, match="non-positive"):
        Value(0.0).log()
    with pytest.raises(OverflowError):  # d log(x)/dx = 1/x is too large for a float
        y.backward()
    t = Tensor([tiny, 1.0], requires_grad=True)
    with pytest.raises(OverflowError, match="log"):
        t.log().backward(np.ones(2))
    assert t.grad is None  # nothing half-written
    t.log().backward(np.array([0.0, 1.0]))  # no gradient asks for the huge slope: fine
    assert t.grad.tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="non-positive"):
        Tensor([0.0, 1.0]).log()


def test_sqrt_at_zero_has_a_value_but_no_gradient() -> None:
    v = Value(0.0)
    y = v**0.5
    assert y.data == 0.0
    with pytest.raises(ValueError, match="does not exist"):
        y.backward()
    t = Tensor([0.0, 4.0], requires_grad=True)
    root = t.sqrt()
    assert root.data.tolist() == [0.0, 2.0]
    root.backward(np.array([0.0, 1.0]))  # no gradient asks for the slope at 0: fine
    assert t.grad.tolist() == [0.0, 0.25]
    with pytest.raises(ValueError, match="does not exist at 0"):
        t.sqrt().backward(np.array([1.0, 1.0]))
