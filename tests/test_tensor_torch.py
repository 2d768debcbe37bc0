"""The tensor engine against PyTorch (float64): every op's value and gradients with
random upstream gradients, a small MLP, and every claim the engine's docstrings make
about PyTorch's semantics. Skipped without torch; CI installs torch==2.13.0."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pytest

from backprop import Tensor, no_grad
from backprop.tensor import concatenate, cross_entropy, linear, maximum, stack

torch = pytest.importorskip("torch")
F = torch.nn.functional

RTOL, ATOL = 1e-10, 1e-12


def compare(
    ours: Callable[..., Tensor],
    theirs: Callable[..., object],
    *arrays: np.ndarray,
    seed: int = 0,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> None:
    """Same value, and the same gradients for two random upstream gradients."""
    rng = np.random.default_rng(seed)
    mine = [Tensor(a, requires_grad=True) for a in arrays]
    ref = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out, expected = ours(*mine), theirs(*ref)
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=rtol, atol=atol)
    for _ in range(2):
        g = rng.standard_normal(out.shape)
        for t in mine:
            t.zero_grad()
        for t in ref:
            t.grad = None
        out.backward(g)
        expected.backward(torch.tensor(g), retain_graph=True)
        for i, (t, r) in enumerate(zip(mine, ref, strict=True)):
            np.testing.assert_allclose(
                t.grad, r.grad.numpy(), rtol=rtol, atol=atol, err_msg=f"input {i}"
            )


def positive(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(0.5, 2.0, shape)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (3, 4)), ((3, 1), (1, 4)), ((2, 3, 1), (4,))]


@pytest.mark.parametrize(("sa", "sb"), PAIRS)
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda a, b: a + b, lambda a, b: a + b),
        (lambda a, b: a - b, lambda a, b: a - b),
        (lambda a, b: a * b, lambda a, b: a * b),
        (lambda a, b: a / b, lambda a, b: a / b),
        (lambda a, b: a**b, lambda a, b: a**b),
        (maximum, torch.maximum),
    ],
)
def test_binary_ops(ours, theirs, sa, sb, rng):
    compare(ours, theirs, positive(rng, sa), positive(rng, sb) * 1.01)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda a: 3.0 - a * 2.5 + 1.0, lambda a: 3.0 - a * 2.5 + 1.0),
        (lambda a: 2.0 / a - a / 4.0, lambda a: 2.0 / a - a / 4.0),
        (lambda a: a**3 + a**-1.5 + 2.0**a, lambda a: a**3 + a**-1.5 + 2.0**a),
        (lambda a: -a, lambda a: -a),
        (lambda a: a.exp(), torch.exp),
        (lambda a: a.log(), torch.log),
        (lambda a: a.sqrt(), torch.sqrt),
        (lambda a: (a - 1.2).tanh(), lambda a: torch.tanh(a - 1.2)),
        (lambda a: (a - 1.2).sigmoid(), lambda a: torch.sigmoid(a - 1.2)),
        (lambda a: (a - 1.2).relu(), lambda a: torch.relu(a - 1.2)),
        (lambda a: abs(a - 1.2), lambda a: torch.abs(a - 1.2)),
        (lambda a: a.clip(0.8, 1.5), lambda a: a.clamp(0.8, 1.5)),
        (lambda a: a.clip(low=1.0), lambda a: a.clamp(min=1.0)),
        (lambda a: a.clip(high=1.0), lambda a: a.clamp(max=1.0)),
        (lambda a: maximum(a, 1.0), lambda a: torch.clamp(a, min=1.0)),
    ],
)
def test_unary_ops(ours, theirs, rng):
    compare(ours, theirs, positive(rng, (3, 4)))


@pytest.mark.parametrize(
    ("sa", "sb"),
    [
        ((4,), (4,)),
        ((4,), (4, 2)),
        ((3, 4), (4,)),
        ((3, 4), (4, 2)),
        ((2, 3, 4), (2, 4, 5)),
        ((2, 1, 3, 4), (5, 4, 2)),
        ((4,), (3, 4, 2)),
        ((2, 3, 4), (4,)),
    ],
)
def test_matmul(sa, sb, rng):
    compare(lambda a, b: a @ b, torch.matmul, rng.standard_normal(sa), rng.standard_normal(sb))


@pytest.mark.parametrize("x_shape", [(3,), (5, 3), (2, 5, 3)])
def test_linear(x_shape, rng):
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal((4, 3)), rng.standard_normal(4)
    compare(linear, F.linear, x, w, b)
    compare(linear, F.linear, x, w)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2), (2, 1)])
def test_reductions(axis, keepdims, rng):
    x = rng.standard_normal((2, 3, 4))
    kw = {"dim": (0, 1, 2) if axis is None else axis}
    compare(lambda t: t.sum(axis, keepdims), lambda t: t.sum(**kw, keepdim=keepdims), x)
    compare(lambda t: t.mean(axis, keepdims), lambda t: t.mean(**kw, keepdim=keepdims), x)
    compare(lambda t: t.max(axis, keepdims), lambda t: t.amax(**kw, keepdim=keepdims), x)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda t: t.reshape(4, 6), lambda t: t.reshape(4, 6)),
        (lambda t: t.reshape(-1), lambda t: t.reshape(-1)),
        (lambda t: t.permute(1, 2, 0), lambda t: t.permute(1, 2, 0)),
        (lambda t: t.permute(-1, 0, 1), lambda t: t.permute(-1, 0, 1)),
        (lambda t: t.transpose(0, 2), lambda t: t.transpose(0, 2)),
        (lambda t: t.transpose(-1, 1), lambda t: t.transpose(-1, 1)),
        (lambda t: t.T, lambda t: t.permute(2, 1, 0)),
        (lambda t: t[1], lambda t: t[1]),
        (lambda t: t[:, 1:, ::2], lambda t: t[:, 1:, ::2]),
        (lambda t: t[..., -1], lambda t: t[..., -1]),
        (lambda t: t[None, 0, :, 1], lambda t: t[None, 0, :, 1]),
        (lambda t: t[[0, 0, 1]], lambda t: t[[0, 0, 1]]),
        (lambda t: t[:, [2, 0, 2, 2]], lambda t: t[:, [2, 0, 2, 2]]),
        (lambda t: t[[0, 1, 1], [2, 2, 2]], lambda t: t[[0, 1, 1], [2, 2, 2]]),
        (
            lambda t: t[Tensor(np.array([[1, 1], [0, 1]]))],
            lambda t: t[torch.tensor([[1, 1], [0, 1]])],
        ),
        (lambda t: t[t.data > 0], lambda t: t[t > 0]),
        (lambda t: t[np.array([True, False])], lambda t: t[torch.tensor([True, False])]),
    ],
)
def test_shape_ops_and_indexing(ours, theirs, rng):
    compare(ours, theirs, rng.standard_normal((2, 3, 4)))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_and_stack(axis, rng):
    arrays = [rng.standard_normal((2, 3)) for _ in range(3)]
    compare(lambda *ts: concatenate(ts, axis), lambda *ts: torch.cat(ts, axis), *arrays)
    compare(lambda *ts: stack(ts, axis), lambda *ts: torch.stack(ts, axis), *arrays)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax(axis, rng):
    x = rng.standard_normal((3, 4, 2)) * 3
    compare(lambda t: t.softmax(axis), lambda t: t.softmax(axis), x)
    compare(lambda t: t.log_softmax(axis), lambda t: t.log_softmax(axis), x)


def test_cross_entropy(rng):
    z = rng.standard_normal((6, 5)) * 4
    y = np.array([0, 4, 4, 2, 1, 0])
    compare(lambda t: cross_entropy(t, y), lambda t: F.cross_entropy(t, torch.tensor(y)), z)
    far = np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]])  # stable at large logits
    labels = np.array([2, 1])
    compare(
        lambda t: cross_entropy(t, labels), lambda t: F.cross_entropy(t, torch.tensor(labels)), far
    )


def test_mlp(rng):
    """linear -> tanh -> linear -> relu -> linear -> cross_entropy, then SGD steps."""
    x = rng.standard_normal((8, 5))
    y = rng.integers(0, 3, 8)
    shapes = [(6, 5), (6,), (4, 6), (4,), (3, 4), (3,)]
    params = [rng.standard_normal(s) * 0.7 for s in shapes]

    def forward(lib: str, p: list, xs: object) -> object:
        if lib == "ours":
            h = linear(xs, p[0], p[1]).tanh()
            h = linear(h, p[2], p[3]).relu()
            return cross_entropy(linear(h, p[4], p[5]), y)
        h = torch.tanh(F.linear(xs, p[0], p[1]))
        h = torch.relu(F.linear(h, p[2], p[3]))
        return F.cross_entropy(F.linear(h, p[4], p[5]), torch.tensor(y))

    compare(
        lambda xs, *p: forward("ours", list(p), xs),
        lambda xs, *p: forward("torch", list(p), xs),
        x,
        *params,
    )

    ours = [Tensor(p, requires_grad=True) for p in params]
    theirs = [torch.tensor(p, requires_grad=True) for p in params]
    for _ in range(5):
        loss, ref = forward("ours", ours, x), forward("torch", theirs, torch.tensor(x))
        np.testing.assert_allclose(loss.item(), ref.item(), rtol=RTOL)
        loss.backward()
        ref.backward()
        with no_grad(), torch.no_grad():
            for p, q in zip(ours, theirs, strict=True):
                np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=RTOL, atol=ATOL)
                p.data -= 0.5 * p.grad
                q -= 0.5 * q.grad
                p.zero_grad()
                q.grad = None


def test_mlp_float32(rng):
    x = rng.standard_normal((16, 5)).astype(np.float32)
    y = rng.integers(0, 3, 16)
    w1, w2 = (rng.standard_normal(s).astype(np.float32) for s in [(8, 5), (3, 8)])
    a1, a2 = Tensor(w1, requires_grad=True), Tensor(w2, requires_grad=True)
    t1, t2 = torch.tensor(w1, requires_grad=True), torch.tensor(w2, requires_grad=True)
    loss = cross_entropy(linear(linear(x, a1).relu() * 0.5, a2), y)
    ref = F.cross_entropy(F.linear(F.linear(torch.tensor(x), t1).relu() * 0.5, t2), torch.tensor(y))
    loss.backward()
    ref.backward()
    assert loss.dtype == np.float32 and a1.grad.dtype == np.float32
    assert ref.dtype == torch.float32
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-5)
    np.testing.assert_allclose(a1.grad, t1.grad.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(a2.grad, t2.grad.numpy(), rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------------------- semantics claims


def both(values: list[float], requires_grad: bool = True) -> tuple[Tensor, object]:
    return (
        Tensor(np.array(values), requires_grad=requires_grad),
        torch.tensor(values, dtype=torch.float64, requires_grad=requires_grad),
    )


def test_non_leaf_grad_is_none_unless_retained():
    a, t = both([1.0, 2.0])
    h, k = a * 2.0, t * 2.0
    r, s = h * 3.0, k * 3.0
    r.retain_grad()
    s.retain_grad()
    (r * h).sum().backward()
    (s * k).sum().backward(retain_graph=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns when a non-leaf .grad is read
        assert h.grad is None and k.grad is None
    np.testing.assert_array_equal(r.grad, s.grad.numpy())
    (r * h).sum().backward()  # retained gradients accumulate in both
    (s * k).sum().backward()
    np.testing.assert_array_equal(r.grad, s.grad.numpy())
    np.testing.assert_array_equal(a.grad, t.grad.numpy())
    assert not h.is_leaf and not k.is_leaf and a.is_leaf and t.is_leaf
    c, u = both([1.0], requires_grad=False)
    for tensor in (c, u):
        with pytest.raises(RuntimeError):
            tensor.retain_grad()


def test_leaf_grads_accumulate():
    a, t = both([1.0, -2.0])
    for _ in range(3):
        (a * a).sum().backward()
        (t * t).sum().backward()
    np.testing.assert_array_equal(a.grad, t.grad.numpy())
    np.testing.assert_array_equal(a.grad, [6.0, -12.0])


def test_no_grad_records_nothing():
    a, t = both([1.0, 2.0])
    with no_grad(), torch.no_grad():
        y, z = a * 2.0, t * 2.0
    assert y.requires_grad == z.requires_grad is False
    assert y.is_leaf and z.is_leaf and z.grad_fn is None and y._vjp is None
    with no_grad(), torch.no_grad():
        p, q = both([1.0])  # a leaf made inside still requires gradients
    assert p.requires_grad and q.requires_grad


def test_backward_twice_and_on_a_non_scalar():
    a, t = both([1.0, 2.0])
    y, z = (a * a).sum(), (t * t).sum()
    y.backward()
    y.backward()  # our graph is kept after backward()...
    z.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        z.backward()  # ...PyTorch's is freed unless retain_graph=True
    with pytest.raises(RuntimeError, match="grad= for a tensor of shape"):
        (a * a).backward()
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        (t * t).backward()


def kink_grads(op_ours: Callable, op_torch: Callable, values: list, g: list) -> None:
    a, t = both(values)
    op_ours(a).backward(np.array(g))
    op_torch(t).backward(torch.tensor(g, dtype=torch.float64))
    np.testing.assert_array_equal(a.grad, t.grad.numpy())


def test_derivatives_at_kinks_and_ties():
    g = [3.0, 5.0, 7.0, 11.0]
    kink_grads(lambda a: a.relu(), torch.relu, [-1.0, 0.0, 2.0, 0.0], g)  # relu'(0) = 0
    kink_grads(lambda a: a.abs(), torch.abs, [-1.0, 0.0, 2.0, -0.0], g)  # abs'(0) = 0
    # clamp passes the gradient at the bound
    kink_grads(lambda a: a.clip(-1.0, 2.0), lambda t: t.clamp(-1.0, 2.0), [-1.0, 0.0, 2.0, 3.0], g)
    kink_grads(lambda a: a.clip(low=0.0), lambda t: t.clamp(min=0.0), [-1.0, 0.0, 2.0, 0.0], g)
    # maximum: ties split 0.5 / 0.5 between the two inputs, also when one is broadcast
    for x, y in [([1.0, 2.0, 3.0, 4.0], [1.0, 0.0, 5.0, 4.0]), ([2.0, 0.0, 2.0, 1.0], [2.0])]:
        a, t = both(x)
        b, u = both(y)
        maximum(a, b).backward(np.array(g))
        torch.maximum(t, u).backward(torch.tensor(g, dtype=torch.float64))
        np.testing.assert_array_equal(a.grad, t.grad.numpy())
        np.testing.assert_array_equal(b.grad, u.grad.numpy())
        assert 0.5 * g[0] in a.grad.tolist()


def test_max_ties_are_shared_like_amax():
    x = [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]
    for axis in (None, 0, 1, (0, 1)):
        a = Tensor(np.array(x), requires_grad=True)
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        out = a.max(axis)
        ref = t.amax() if axis is None else t.amax(dim=axis)
        g = np.arange(1.0, out.size + 1).reshape(out.shape)
        out.backward(g)
        ref.backward(torch.tensor(g))
        np.testing.assert_allclose(a.grad, t.grad.numpy(), rtol=1e-15)
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    t.max().backward()  # torch.max() without a dim shares ties equally too
    a = Tensor(np.array(x), requires_grad=True)
    a.max().backward()
    np.testing.assert_array_equal(a.grad, t.grad.numpy())


def test_where_derivatives_do_not_exist():
    # d(a**b)/db at a = 0 is 0 in both
    e, f = both([2.0, 0.5, 0.0])
    (Tensor(np.zeros(3)) ** e).backward(np.ones(3))
    (torch.zeros(3, dtype=torch.float64) ** f).backward(torch.ones(3, dtype=torch.float64))
    np.testing.assert_array_equal(e.grad, f.grad.numpy())
    # PyTorch gives inf for sqrt'(0) and NaN for d(a**b)/db at a < 0: we raise instead
    _, t = both([0.0, 4.0])
    t.sqrt().backward(torch.ones(2, dtype=torch.float64))
    assert torch.isinf(t.grad[0])
    _, t = both([2.0])
    (torch.tensor([-3.0], dtype=torch.float64) ** t).backward()
    assert torch.isnan(t.grad[0])
    a = Tensor(np.array([0.0, 4.0]), requires_grad=True)
    with pytest.raises(ValueError, match="sqrt"):
        a.sqrt().backward(np.ones(2))


def test_dtypes_follow_torch():
    f32 = np.ones(3, np.float32)
    a, t = Tensor(f32), torch.tensor(f32)
    ints = np.arange(3)
    cases = [
        (a * 2.5, t * 2.5),
        (2**a, 2**t),
        (a * Tensor(ints), t * torch.tensor(ints)),
        (a + Tensor(ints > 0), t + torch.tensor(ints > 0)),
        (a * Tensor(np.ones(3)), t * torch.ones(3, dtype=torch.float64)),
        (a.sum(), t.sum()),
        (a.max(), t.amax()),
    ]
    names = {torch.float32: np.float32, torch.float64: np.float64}
    for ours, theirs in cases:
        assert ours.dtype == names[theirs.dtype]
