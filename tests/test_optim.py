"""Tests of backprop.optim: update rules by hand and against torch.optim in float64."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backprop import Value
from backprop.optim import SGD, Adam


def test_plain_sgd_step_by_hand():
    p, q = Value(1.0), Value(-2.0)
    opt = SGD([p, q], lr=0.1)
    p.grad, q.grad = 0.5, -4.0
    opt.step()
    assert p.data == 1.0 - 0.1 * 0.5 and q.data == -2.0 - 0.1 * -4.0
    assert (p.grad, q.grad) == (0.5, -4.0)  # step does not touch gradients
    opt.zero_grad()
    assert (p.grad, q.grad) == (0.0, 0.0)


def test_sgd_momentum_by_hand():
    p = Value(1.0)
    opt = SGD([p], lr=0.1, momentum=0.9)
    p.grad = 0.5
    opt.step()  # v = 0.5
    assert p.data == pytest.approx(0.95, rel=1e-15)
    p.grad = 0.25
    opt.step()  # v = 0.9 * 0.5 + 0.25 = 0.7
    assert p.data == pytest.approx(0.95 - 0.07, rel=1e-15)


def test_sgd_weight_decay_by_hand():
    p = Value(2.0)
    opt = SGD([p], lr=0.1, weight_decay=0.01)
    p.grad = 0.5
    opt.step()  # g = 0.5 + 0.01 * 2
    assert p.data == pytest.approx(2.0 - 0.1 * 0.52, rel=1e-15)


def test_sgd_matches_micrograd_update_exactly():
    p = Value(0.123456789)
    p.grad = 0.987654321
    expected = p.data
    expected -= 0.37 * p.grad
    SGD([p], lr=0.37).step()
    assert p.data == expected


def test_adam_by_hand():
    p = Value(1.0)
    opt = Adam([p], lr=0.1)
    p.grad = 0.5
    opt.step()
    # m = 0.05, v = 0.00025; bias-corrected: m_hat = 0.5, v_hat = 0.25
    assert p.data == pytest.approx(1.0 - 0.1 * 0.5 / (0.5 + 1e-8), rel=1e-14)
    p.grad = -1.0
    opt.step()
    m = 0.9 * 0.05 + 0.1 * -1.0
    v = 0.999 * 0.00025 + 0.001 * 1.0
    m_hat, v_hat = m / (1 - 0.9**2), v / (1 - 0.999**2)
    expected = 1.0 - 0.1 * 0.5 / (0.5 + 1e-8) - 0.1 * m_hat / (math.sqrt(v_hat) + 1e-8)
    assert p.data == pytest.approx(expected, rel=1e-14)


def test_adam_first_step_moves_each_parameter_by_about_lr():
    ps = [Value(0.0) for _ in range(3)]
    opt = Adam(ps, lr=0.01)
    for p, g in zip(ps, [1e-6, 3.0, -200.0], strict=True):
        p.grad = g
    opt.step()
    assert [p.data for p in ps] == pytest.approx([-0.01, -0.01, 0.01], rel=1e-2)


def test_lr_can_change_between_steps():
    p = Value(1.0)
    opt = SGD([p], lr=1.0)
    p.grad = 1.0
    opt.step()
    opt.lr = 0.5
    opt.step()
    assert p.data == -0.5 and opt.lr == 0.5
    with pytest.raises(ValueError, match="lr"):
        opt.lr = -1.0


def test_minimises_a_quadratic():
    for opt_cls, kwargs in [(SGD, {"lr": 0.1, "momentum": 0.5}), (Adam, {"lr": 0.1})]:
        x, y = Value(3.0), Value(-2.0)
        opt = opt_cls([x, y], **kwargs)
        for _ in range(300):
            opt.zero_grad()
            ((x - 1.0) ** 2 + 10.0 * (y + 0.5) ** 2).backward()
            opt.step()
        assert x.data == pytest.approx(1.0, abs=1e-3) and y.data == pytest.approx(-0.5, abs=1e-3)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda p: SGD([], lr=0.1), ValueError, "empty"),
        (lambda p: SGD([1.0], lr=0.1), TypeError, "Values"),
        (lambda p: SGD([p], lr=-0.1), ValueError, "lr"),
        (lambda p: SGD([p], lr="0.1"), TypeError, "lr"),
        (lambda p: SGD([p], lr=0.1, momentum=1.0), ValueError, "momentum"),
        (lambda p: SGD([p], lr=0.1, weight_decay=-1), ValueError, "weight_decay"),
        (lambda p: Adam([p], lr=0.1, betas=(0.9,)), ValueError, "betas"),
        (lambda p: Adam([p], lr=0.1, betas=(1.0, 0.999)), ValueError, "beta1"),
        (lambda p: Adam([p], lr=0.1, betas=(0.9, -0.1)), ValueError, "beta2"),
        (lambda p: Adam([p], lr=0.1, eps=0.0), ValueError, "eps"),
    ],
)
def test_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make(Value(1.0))


def test_divergence_raises_instead_of_inf():
    p = Value(1e300)
    opt = SGD([p], lr=1e10)
    p.grad = 1e300
    with pytest.raises(OverflowError, match="diverged"):
        opt.step()


# --------------------------------------------------------------------------- against torch


def run_both(make_ours, make_theirs, steps: int = 6, lrs: list[float] | None = None):
    """The same parameters and gradients through our optimizer and torch's, in float64."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    init = rng.normal(size=5)
    ours = [Value(float(v)) for v in init]
    theirs = torch.tensor(init, dtype=torch.float64, requires_grad=True)
    opt, topt = make_ours(ours), make_theirs([theirs])
    for k in range(steps):
        grads = rng.normal(size=5) * 10.0 ** rng.integers(-3, 3, size=5)
        for p, g in zip(ours, grads, strict=True):
            p.grad = float(g)
        theirs.grad = torch.tensor(grads, dtype=torch.float64)
        if lrs is not None:
            opt.lr = lrs[k]
            topt.param_groups[0]["lr"] = lrs[k]
        opt.step()
        topt.step()
        np.testing.assert_allclose(
            [p.data for p in ours], theirs.detach().numpy(), rtol=1e-13, atol=1e-15
        )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": 0.1},
        {"lr": 0.05, "momentum": 0.9},
        {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.01},
    ],
)
def test_sgd_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    run_both(lambda ps: SGD(ps, **kwargs), lambda ps: torch.optim.SGD(ps, **kwargs))


@pytest.mark.parametrize(
    "kwargs", [{"lr": 0.01}, {"lr": 0.1, "betas": (0.8, 0.99), "eps": 1e-6}, {"lr": 1e-3}]
)
def test_adam_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    run_both(lambda ps: Adam(ps, **kwargs), lambda ps: torch.optim.Adam(ps, **kwargs), steps=10)


def test_lr_schedule_matches_torch():
    torch = pytest.importorskip("torch")
    lrs = [1.0 - 0.9 * k / 100 for k in range(6)]
    run_both(lambda ps: SGD(ps, lr=1.0), lambda ps: torch.optim.SGD(ps, lr=1.0), lrs=lrs)
    run_both(lambda ps: Adam(ps, lr=0.1), lambda ps: torch.optim.Adam(ps, lr=0.1), lrs=lrs)
