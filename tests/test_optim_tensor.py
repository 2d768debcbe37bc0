"""Tests of backprop.optim on Tensor parameters: the update rules of torch.optim, in place,
float32 kept float32, parameters without a gradient skipped, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from backprop import Tensor, Value
from backprop.optim import SGD, Adam

SHAPES = [(3, 4), (4,), ()]


def make_params(dtype, seed: int = 0) -> list[Tensor]:
    rng = np.random.default_rng(seed)
    return [Tensor(rng.normal(size=s), requires_grad=True, dtype=dtype) for s in SHAPES]


# ------------------------------------------------------------------------- by hand


def test_sgd_step_by_hand_in_place():
    w = Tensor([1.0, -2.0], requires_grad=True)
    data = w.data
    opt = SGD([w], lr=0.1)
    w.grad = np.array([0.5, -4.0])
    opt.step()
    assert w.data is data  # updated in place
    assert w.data.tolist() == [1.0 - 0.1 * 0.5, -2.0 - 0.1 * -4.0]
    assert w.grad.tolist() == [0.5, -4.0]  # step does not touch gradients
    opt.zero_grad()
    assert w.grad is None  # set to None, as torch.optim's zero_grad does by default


def test_sgd_momentum_and_weight_decay_by_hand():
    w = Tensor([2.0, 1.0], requires_grad=True)
    opt = SGD([w], lr=0.1, momentum=0.9, weight_decay=0.01)
    w.grad = np.array([0.5, 0.0])
    opt.step()  # g = grad + 0.01 w, v = g
    g1 = np.array([0.5 + 0.02, 0.01])
    expected = np.array([2.0, 1.0]) - 0.1 * g1
    np.testing.assert_allclose(w.data, expected, rtol=1e-15)
    w.grad = np.array([0.25, -1.0])
    opt.step()  # v = 0.9 v + g
    g2 = np.array([0.25, -1.0]) + 0.01 * expected
    np.testing.assert_allclose(w.data, expected - 0.1 * (0.9 * g1 + g2), rtol=1e-15)


def test_the_momentum_buffer_is_a_copy_of_the_gradient():
    w = Tensor([1.0], requires_grad=True)
    opt = SGD([w], lr=0.1, momentum=0.5)
    w.grad = np.array([1.0])
    opt.step()
    w.grad[0] = 100.0  # changing the gradient in place afterwards...
    assert opt.velocity[0].tolist() == [1.0]  # ...does not change the buffer


def test_adam_first_step_moves_every_entry_by_about_lr():
    w = Tensor(np.zeros(3), requires_grad=True)
    opt = Adam([w], lr=0.01)
    w.grad = np.array([1e-6, 3.0, -200.0])
    opt.step()
    np.testing.assert_allclose(w.data, [-0.01, -0.01, 0.01], rtol=1e-2)


def test_values_and_tensors_in_one_optimizer():
    x, w = Value(3.0), Tensor([3.0, -1.0], requires_grad=True)
    for opt in (SGD([x, w], lr=0.1, momentum=0.5), Adam([x, w], lr=0.1)):
        for _ in range(300):
            opt.zero_grad()
            assert x.grad == 0.0 and w.grad is None
            (x * x).backward()
            (w * w).sum().backward()
            opt.step()
        assert abs(x.data) < 1e-3 and np.abs(w.data).max() < 1e-3


def test_a_tensor_without_a_gradient_is_skipped():
    w, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([5.0], requires_grad=True)
    for opt in (SGD([w, b], lr=0.1, momentum=0.9, weight_decay=0.1), Adam([w, b], lr=0.1)):
        w.grad, b.grad = np.array([1.0, 1.0]), None
        opt.step()
        assert b.data.tolist() == [5.0]  # not even weight decay touches it
    assert opt.steps == [1, 0]


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_divergence_raises_instead_of_inf():
    w = Tensor(np.array([1e38, 1.0], dtype=np.float32), requires_grad=True)
    opt = SGD([w], lr=10.0)
    w.grad = np.array([-1e38, 0.0], dtype=np.float32)
    with pytest.raises(
        OverflowError, match=r"parameter 0 \(shape \(2,\)\) has 1 entries .* diverged"
    ):
        opt.step()


def test_large_finite_parameters_are_not_divergence():
    # The quick finiteness test (a sum of squares) overflows here; the exact one does not.
    w = Tensor(np.full(4, 1e30, dtype=np.float32), requires_grad=True)
    opt = SGD([w], lr=1.0)
    w.grad = np.zeros(4, dtype=np.float32)
    opt.step()
    assert np.all(w.data == np.float32(1e30))


# ----------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: SGD([Tensor([1.0])], lr=0.1), ValueError, "does not require gradients"),
        (
            lambda: Adam([Tensor([1.0], requires_grad=True) * 2], lr=0.1),
            ValueError,
            "not a leaf",
        ),
        (lambda: SGD([np.zeros(3)], lr=0.1), TypeError, "Values or Tensors, got ndarray"),
        (lambda: SGD([], lr=0.1), ValueError, "empty"),
        (lambda: SGD([Tensor([1.0], requires_grad=True)], lr=-1.0), ValueError, "lr"),
        (lambda: Adam([Tensor([1.0], requires_grad=True)], weight_decay=-1), ValueError, "weight"),
    ],
)
def test_bad_parameters(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_a_parameter_twice_is_an_error():
    w = Tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="parameter 1 appears twice"):
        SGD([w, w], lr=0.1)


@pytest.mark.parametrize(
    "grad", [np.zeros(3), np.zeros((2, 1)), np.zeros(2, dtype=np.float32)], ids=str
)
def test_a_gradient_of_the_wrong_shape_or_dtype_is_an_error(grad):
    w = Tensor([1.0, 2.0], requires_grad=True)
    opt = SGD([w], lr=0.1)
    w.grad = grad
    with pytest.raises(ValueError, match=r"parameter 0 has shape \(2,\) and dtype float64"):
        opt.step()
    assert w.data.tolist() == [1.0, 2.0]


# ------------------------------------------------------------------------ against torch


def run_both(make_ours, make_theirs, dtype, steps: int, none_at=()):
    """The same tensors and gradients through our optimizer and torch's; `none_at` lists
    the (step, parameter) pairs whose gradient is None. Returns our optimizer and params."""
    torch = pytest.importorskip("torch")
    tdtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    ours = make_params(dtype)
    theirs = [torch.tensor(p.data.copy(), requires_grad=True) for p in ours]
    assert all(t.dtype == tdtype for t in theirs)
    opt, topt = make_ours(ours), make_theirs(theirs)
    rng = np.random.default_rng(1)
    for k in range(steps):
        for j, (p, t) in enumerate(zip(ours, theirs, strict=True)):
            scale = 10.0 ** rng.integers(-3, 3, size=p.shape)
            g = (rng.normal(size=p.shape) * scale).astype(dtype)
            p.grad, t.grad = (None, None) if (k, j) in none_at else (g, torch.tensor(g.copy()))
        opt.step()
        topt.step()
        rtol, atol = (1e-12, 1e-14) if dtype == np.float64 else (1e-6, 1e-7)
        for p, t in zip(ours, theirs, strict=True):
            assert p.data.dtype == dtype and (p.grad is None or p.grad.dtype == dtype)
            np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=rtol, atol=atol)
    return opt, ours


SGD_KWARGS = [
    {"lr": 0.1},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.01},
    {"lr": 0.1, "weight_decay": 0.1},
]
ADAM_KWARGS = [
    {"lr": 0.01},
    {"lr": 0.1, "betas": (0.8, 0.99), "eps": 1e-6},
    {"lr": 1e-3, "weight_decay": 0.01},
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", SGD_KWARGS)
def test_sgd_matches_torch(kwargs, dtype):
    torch = pytest.importorskip("torch")
    opt, _ = run_both(
        lambda ps: SGD(ps, **kwargs), lambda ps: torch.optim.SGD(ps, **kwargs), dtype, steps=6
    )
    if kwargs.get("momentum"):
        assert all(v.dtype == dtype for v in opt.velocity)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", ADAM_KWARGS)
def test_adam_matches_torch(kwargs, dtype):
    torch = pytest.importorskip("torch")
    opt, _ = run_both(
        lambda ps: Adam(ps, **kwargs), lambda ps: torch.optim.Adam(ps, **kwargs), dtype, steps=10
    )
    assert all(m.dtype == dtype for m in opt.m) and all(v.dtype == dtype for v in opt.v)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_skipped_parameters_match_torch(dtype):
    """A None gradient skips the parameter in torch too: no momentum update, and Adam's
    bias correction uses that parameter's own step count."""
    torch = pytest.importorskip("torch")
    none_at = {(0, 1), (1, 1), (2, 0), (4, 2)}
    opt, _ = run_both(
        lambda ps: SGD(ps, lr=0.05, momentum=0.9),
        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9),
        dtype,
        steps=6,
        none_at=none_at,
    )
    opt, _ = run_both(
        lambda ps: Adam(ps, lr=0.01),
        lambda ps: torch.optim.Adam(ps, lr=0.01),
        dtype,
        steps=6,
        none_at=none_at,
    )
    assert opt.t == 6 and opt.steps == [5, 4, 5]


def test_training_a_layer_matches_torch_float32():
    """Forward, backward and Adam steps on a float32 linear layer, against torch."""
    torch = pytest.importorskip("torch")
    from backprop.nn import Linear
    from backprop.tensor import cross_entropy

    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 5)).astype(np.float32)
    y = rng.integers(0, 3, size=8)
    layer = Linear(5, 3, seed=0, dtype=np.float32)
    tlayer = torch.nn.Linear(5, 3)
    with torch.no_grad():
        tlayer.weight.copy_(torch.tensor(layer.weight.data))
        tlayer.bias.copy_(torch.tensor(layer.bias.data))
    opt, topt = Adam(layer.parameters(), lr=0.05), torch.optim.Adam(tlayer.parameters(), lr=0.05)
    for _ in range(20):
        opt.zero_grad()
        topt.zero_grad()
        loss = cross_entropy(layer(x), y)
        tloss = torch.nn.functional.cross_entropy(tlayer(torch.tensor(x)), torch.tensor(y))
        loss.backward()
        tloss.backward()
        opt.step()
        topt.step()
        assert loss.dtype == np.float32
        assert loss.item() == pytest.approx(tloss.item(), rel=1e-5)
    np.testing.assert_allclose(layer.weight.data, tlayer.weight.detach().numpy(), atol=1e-5)
    assert layer.weight.data.dtype == np.float32 and opt.m[0].dtype == np.float32
