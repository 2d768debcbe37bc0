"""Cross-checks against PyTorch in float64: ops, random expressions, losses, an MLP."""

from __future__ import annotations

import numpy as np
import pytest

from backprop import Value
from backprop.losses import binary_cross_entropy_with_logits, hinge, mse, softmax_cross_entropy
from backprop.nn import MLP

torch = pytest.importorskip("torch")
F = torch.nn.functional

RTOL = 1e-12


def t(x: float):
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def softplus(z):
    if isinstance(z, Value):
        return z.softplus()
    return F.softplus(z, threshold=50.0)  # torch's default (20) returns z itself above 20


def logsumexp(zs):
    if isinstance(zs[0], Value):
        return Value.logsumexp(zs)
    return torch.logsumexp(torch.stack(zs), dim=0)


def total(zs):
    return Value.sum(zs) if isinstance(zs[0], Value) else torch.stack(zs).sum()


def dot(ws, xs):
    if isinstance(ws[0], Value):
        return Value.dot(ws, xs)
    return (torch.stack(ws) * torch.stack(xs)).sum()


OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "pow_number": lambda a, b: a**3 + b**-2 + a**0.5,
    "rops": lambda a, b: 2.0 - a + 3.0 / b + 1.5**a,
    "neg": lambda a, b: -a * b,
    "exp": lambda a, b: a.exp() + b.exp(),
    "log": lambda a, b: a.log() + b.log(),
    "tanh": lambda a, b: a.tanh() * b.tanh(),
    "sigmoid": lambda a, b: a.sigmoid() - b.sigmoid(),
    "softplus": lambda a, b: softplus(a) + softplus(-b),
    "relu": lambda a, b: a.relu() + (-b).relu() + (a - b).relu(),
    "sum": lambda a, b: total([a, b, a * b]),
    "dot": lambda a, b: dot([a, b, a], [b, b, a]),
    "logsumexp": lambda a, b: logsumexp([a, b, a * b]),
}


@pytest.mark.parametrize("name", OPS)
@pytest.mark.parametrize(("a", "b"), [(0.7, 1.3), (2.5, 0.4), (1.1, 3.0)])
def test_op_matches_torch(name, a, b):
    f = OPS[name]
    va, vb = Value(a), Value(b)
    out = f(va, vb)
    out.backward()
    ta, tb = t(a), t(b)
    tout = f(ta, tb)
    tout.backward()
    assert out.data == pytest.approx(tout.item(), rel=RTOL)
    assert va.grad == pytest.approx(ta.grad.item(), rel=RTOL, abs=1e-300)
    assert vb.grad == pytest.approx(tb.grad.item(), rel=RTOL, abs=1e-300)


def random_expression(rng: np.random.Generator, xs: list, depth: int):
    """The same random smooth expression, built from Values or from tensors."""
    if depth == 0 or rng.random() < 0.2:
        return xs[rng.integers(len(xs))] if rng.random() < 0.8 else float(rng.uniform(-2, 2))
    kind = rng.integers(12)
    a = random_expression(rng, xs, depth - 1)
    b = random_expression(rng, xs, depth - 1)
    if isinstance(a, float) and isinstance(b, float):
        return xs[0] * a + b
    if isinstance(a, float):
        a, b = b, a
    match kind:
        case 0:
            return a + b
        case 1:
            return a - b
        case 2:
            return a * b
        case 3:
            return a / ((b * b) + 1.0)
        case 4:
            return a.tanh() * b
        case 5:
            return a.sigmoid() + b
        case 6:
            return softplus(a) - b
        case 7:
            return (a.sigmoid() + 0.5) ** (b if isinstance(b, float) else b.tanh())
        case 8:
            return (a * a + 1.0).log() * b
        case 9:
            return a.tanh().exp() - b
        case 10:
            return logsumexp([a, a * 0.5 + b])
        case _:
            return -a * 2.0 + b


@pytest.mark.parametrize("seed", range(60))
def test_random_expressions_match_torch(seed):
    point = np.random.default_rng(1000 + seed).uniform(-2, 2, size=3)
    vs = [Value(float(p)) for p in point]
    ts = [t(float(p)) for p in point]
    # `+ 0.5 * x`: a graph even when the random expression comes out a constant
    ours = random_expression(np.random.default_rng(seed), vs, 5) + 0.5 * vs[seed % 3]
    theirs = random_expression(np.random.default_rng(seed), ts, 5) + 0.5 * ts[seed % 3]
    ours.backward()
    theirs.backward()
    assert ours.data == pytest.approx(theirs.item(), rel=RTOL, abs=1e-14)
    for v, tt in zip(vs, ts, strict=True):
        expected = 0.0 if tt.grad is None else tt.grad.item()
        assert v.grad == pytest.approx(expected, rel=1e-10, abs=1e-12)


# --------------------------------------------------------------------------- losses


def leaves_and_tensor(values):
    vs = [Value(float(v)) for v in values]
    return vs, torch.tensor(values, dtype=torch.float64, requires_grad=True)


def check(loss, vs, tloss, tt):
    loss.backward()
    tloss.backward()
    assert np.isfinite(loss.data) and all(np.isfinite(v.grad) for v in vs)
    assert loss.data == pytest.approx(tloss.item(), rel=RTOL, abs=1e-300)
    np.testing.assert_allclose([v.grad for v in vs], tt.grad.numpy(), rtol=RTOL, atol=1e-300)


def test_mse_matches_torch():
    vs, tt = leaves_and_tensor([0.5, -1.0, 2.0, 3.5])
    targets = [1.0, 0.0, 2.5, -1.0]
    check(mse(vs, targets), vs, F.mse_loss(tt, torch.tensor(targets, dtype=torch.float64)), tt)


def test_hinge_matches_torch():
    vs, tt = leaves_and_tensor([0.5, -1.0, 2.0, -0.2, 0.9])
    y = [1, 1, -1, -1, 1]
    ty = torch.tensor(y, dtype=torch.float64)
    check(hinge(vs, y), vs, torch.relu(1 - ty * tt).mean(), tt)


@pytest.mark.parametrize("logits", [[0.5, -1.0, 2.0, 0.0], [1000.0, -1000.0, 1000.0, -1000.0]])
def test_bce_with_logits_matches_torch(logits):
    vs, tt = leaves_and_tensor(logits)
    y = [1, 0, 0, 1]
    tloss = F.binary_cross_entropy_with_logits(tt, torch.tensor(y, dtype=torch.float64))
    check(binary_cross_entropy_with_logits(vs, y), vs, tloss, tt)


@pytest.mark.parametrize(
    "logits",
    [
        [[0.5, -1.0, 2.0], [0.0, 0.0, 0.0], [3.0, 1.0, -2.0]],
        [[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0], [1000.0, 1000.0, -1000.0]],
    ],
)
def test_softmax_cross_entropy_matches_torch(logits):
    rows = [[Value(v) for v in row] for row in logits]
    tt = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    y = [2, 0, 1]
    tloss = F.cross_entropy(tt, torch.tensor(y))
    loss = softmax_cross_entropy(rows, y)
    loss.backward()
    tloss.backward()
    assert loss.data == pytest.approx(tloss.item(), rel=RTOL)
    np.testing.assert_allclose([[v.grad for v in r] for r in rows], tt.grad.numpy(), rtol=RTOL)


# --------------------------------------------------------------------------- an MLP


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_mlp_forward_and_backward_match_torch(activation):
    model = MLP(3, [5, 4, 2], activation=activation, seed=7)
    x = [0.3, -1.1, 0.8]
    outs = model(x)
    loss = softmax_cross_entropy([outs], [1])
    loss.backward()

    act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[activation]
    h = torch.tensor(x, dtype=torch.float64)
    weights = []
    for i, layer in enumerate(model.layers):
        W = torch.tensor(
            [[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64, requires_grad=True
        )
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        weights.append((W, b))
        h = W @ h + b
        if i < len(model.layers) - 1:
            h = act(h)
    tloss = F.cross_entropy(h.unsqueeze(0), torch.tensor([1]))
    tloss.backward()

    assert loss.data == pytest.approx(tloss.item(), rel=RTOL)
    np.testing.assert_allclose([o.data for o in outs], h.detach().numpy(), rtol=RTOL)
    for layer, (W, b) in zip(model.layers, weights, strict=True):
        ours_W = [[w.grad for w in n.w] for n in layer.neurons]
        np.testing.assert_allclose(ours_W, W.grad.numpy(), rtol=1e-11, atol=1e-15)
        np.testing.assert_allclose(
            [n.b.grad for n in layer.neurons], b.grad.numpy(), rtol=1e-11, atol=1e-15
        )
