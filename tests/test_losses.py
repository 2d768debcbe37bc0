"""Tests of backprop.losses: values and gradients by hand, stability at logits of +-1000."""

from __future__ import annotations

import math

import pytest

from backprop import Value
from backprop.losses import binary_cross_entropy_with_logits as bce
from backprop.losses import hinge, l2, mse, softmax_cross_entropy


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def leaves(xs: list[float]) -> list[Value]:
    return [Value(x) for x in xs]


def test_mse_value_and_gradient():
    p = leaves([1.0, -2.0, 0.5])
    t = [0.0, 1.0, 0.5]
    loss = mse(p, t)
    loss.backward()
    assert loss.data == pytest.approx((1 + 9 + 0) / 3, rel=1e-15)
    assert [v.grad for v in p] == pytest.approx([2 / 3 * 1, 2 / 3 * -3, 0.0], rel=1e-15)


def test_mse_with_value_targets_gets_their_gradient_too():
    p, t = Value(3.0), Value(1.0)
    mse([p], [t]).backward()
    assert (p.grad, t.grad) == (4.0, -4.0)


def test_hinge_value_and_gradient():
    s = leaves([2.0, 0.5, -0.25, -3.0])
    y = [1, 1, 1, -1]
    loss = hinge(s, y)
    loss.backward()
    # margins: max(0, 1 - 2) = 0, 1 - 0.5 = 0.5, 1 + 0.25 = 1.25, max(0, 1 - 3) = 0
    assert loss.data == pytest.approx((0 + 0.5 + 1.25 + 0) / 4, rel=1e-15)
    assert [v.grad for v in s] == [0.0, -0.25, -0.25, 0.0]


def test_hinge_is_bitwise_micrograd_demo():
    s = leaves([0.123456789, -1.7, 0.99999, 2.5, -0.3])
    y = [1, -1, -1, 1, 1]
    theirs = sum((1 + -yi * si).relu() for yi, si in zip(y, s, strict=True)) * (1.0 / len(s))
    assert hinge(s, y).data == theirs.data


def test_bce_value_and_gradient():
    z = leaves([0.3, -1.2, 2.0, 0.0])
    y = [1, 0, 0, 1]
    loss = bce(z, y)
    loss.backward()
    expected = [
        -math.log(sigmoid(zi.data)) if yi else -math.log(1 - sigmoid(zi.data))
        for zi, yi in zip(z, y, strict=True)
    ]
    assert loss.data == pytest.approx(sum(expected) / 4, rel=1e-14)
    for zi, yi in zip(z, y, strict=True):
        assert zi.grad == pytest.approx((sigmoid(zi.data) - yi) / 4, rel=1e-14)


@pytest.mark.parametrize(
    ("logit", "target", "value", "grad"),
    [
        (1000.0, 1, 0.0, 0.0),
        (1000.0, 0, 1000.0, 1.0),
        (-1000.0, 1, 1000.0, -1.0),
        (-1000.0, 0, 0.0, 0.0),
    ],
)
def test_bce_is_exact_at_extreme_logits(logit, target, value, grad):
    z = Value(logit)
    loss = bce([z], [target])
    loss.backward()
    assert math.isfinite(loss.data) and math.isfinite(z.grad)
    assert (loss.data, z.grad) == (value, grad)


def test_softmax_cross_entropy_value_and_gradient():
    logits = [leaves([1.0, 2.0, 0.5]), leaves([-1.0, 0.0, 3.0])]
    targets = [1, 0]
    loss = softmax_cross_entropy(logits, targets)
    loss.backward()
    expected = 0.0
    for z, y in zip(logits, targets, strict=True):
        exps = [math.exp(v.data) for v in z]
        total = sum(exps)
        expected += -math.log(exps[y] / total) / 2
        for j, v in enumerate(z):
            assert v.grad == pytest.approx((exps[j] / total - (j == y)) / 2, rel=1e-13)
    assert loss.data == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize(
    ("logits", "target", "value", "grads"),
    [
        ([1000.0, -1000.0], 0, 0.0, [0.0, 0.0]),
        ([1000.0, -1000.0], 1, 2000.0, [1.0, -1.0]),
        ([-1000.0, -1000.0, 1000.0], 0, 2000.0, [-1.0, 0.0, 1.0]),
        ([1000.0, 1000.0], 0, math.log(2), [-0.5, 0.5]),
    ],
)
def test_softmax_cross_entropy_is_exact_at_extreme_logits(logits, target, value, grads):
    z = leaves(logits)
    loss = softmax_cross_entropy([z], [target])
    loss.backward()
    assert math.isfinite(loss.data) and all(math.isfinite(v.grad) for v in z)
    assert loss.data == pytest.approx(value, rel=1e-15)
    assert [v.grad for v in z] == grads


def test_softmax_cross_entropy_accepts_number_logits():
    loss = softmax_cross_entropy([[0.0, 0.0]], [1])
    assert loss.data == pytest.approx(math.log(2), rel=1e-15)


def test_l2():
    ps = leaves([3.0, -4.0])
    reg = l2(ps)
    reg.backward()
    assert reg.data == 25.0 and [p.grad for p in ps] == [6.0, -8.0]


def test_l2_is_bitwise_micrograd_sum_of_squares():
    ps = leaves([0.1, -0.7, 0.33, 1.9, -0.05])
    assert l2(ps).data == sum(p * p for p in ps).data


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: mse([Value(1.0)], [1.0, 2.0]), ValueError, "1 predictions but 2 targets"),
        (lambda: mse([], []), ValueError, "at least one"),
        (lambda: hinge([Value(1.0)], [0]), ValueError, "y \\* 2 - 1|-1, 1"),
        (lambda: hinge([Value(1.0)], [True]), ValueError, "hinge"),
        (lambda: bce([Value(1.0)], [-1]), ValueError, "0, 1"),
        (lambda: bce([Value(1.0)], [0.5]), ValueError, "0, 1"),
        (lambda: softmax_cross_entropy([[Value(1.0)] * 2], [2]), ValueError, "\\[0, 2\\)"),
        (lambda: softmax_cross_entropy([[Value(1.0)] * 2], [0.0]), ValueError, "class"),
        (lambda: softmax_cross_entropy([[]], [0]), ValueError, "class"),
    ],
)
def test_bad_batches_and_targets(call, error, match):
    with pytest.raises(error, match=match):
        call()
