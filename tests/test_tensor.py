"""The tensor engine, op by op: values against numpy formulas, gradients against a
central-difference Jacobian built in the test, with non-uniform upstream gradients.

`check_gradients` builds the full Jacobian `J` of every input by central differences,
one column per input entry. It then backpropagates several random upstream gradients
`g` and checks each input's `.grad` against `g @ J`, and backpropagates every basis
vector `e_k` of the output (small outputs) to check `J` itself, row by row. A test
that only backpropagates `.sum()` would feed every output a gradient of 1.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable

import numpy as np
import pytest
from test_deep_graph import tight_recursion_limit

import backprop
from backprop import Tensor, no_grad
from backprop.tensor import (
    concatenate,
    cross_entropy,
    is_grad_enabled,
    linear,
    maximum,
    stack,
    topological_order,
    unbroadcast,
)

Array = np.ndarray
H = 1e-6  # central differences: truncation ~H**2, round-off ~1e-16 / H


# ---------------------------------------------------------------------- helpers


def numerical_jacobian(f: Callable[..., Array], arrays: list[Array], i: int) -> Array:
    """`J[k, m] = d f(...).flat[k] / d arrays[i].flat[m]`, column by column."""
    base = f(*arrays)
    jac = np.empty((base.size, arrays[i].size))
    for m in range(arrays[i].size):
        plus = [a.copy() for a in arrays]
        minus = [a.copy() for a in arrays]
        plus[i].flat[m] += H
        minus[i].flat[m] -= H
        jac[:, m] = (f(*plus) - f(*minus)).ravel() / (2 * H)
    return jac


def check_gradients(
    op: Callable[..., Tensor],
    *arrays: object,
    seed: int = 0,
    n_random: int = 3,
    rtol: float = 1e-6,
    atol: float = 1e-8,
) -> Tensor:
    """Check every input's VJP of `op` against its finite-difference Jacobian.

    Returns the output (built from leaves that require gradients) for value checks.
    """
    rng = np.random.default_rng(seed)
    inputs = [np.array(a, dtype=np.float64) for a in arrays]

    def f(*xs: Array) -> Array:
        with no_grad():
            return np.array(op(*[Tensor(x) for x in xs]).data, dtype=np.float64)

    leaves = [Tensor(x, requires_grad=True) for x in inputs]
    out = op(*leaves)
    assert out.requires_grad
    jacobians = [numerical_jacobian(f, inputs, i) for i in range(len(inputs))]
    upstream = [rng.standard_normal(out.shape) for _ in range(n_random)]
    if out.size <= 24:  # the identity basis: every row of J on its own
        upstream += [row.reshape(out.shape) for row in np.eye(out.size)]
    for g in upstream:
        for leaf in leaves:
            leaf.zero_grad()
        out.backward(np.array(g))
        for i, (leaf, jac) in enumerate(zip(leaves, jacobians, strict=True)):
            assert leaf.grad is not None, f"input {i} got no gradient"
            assert leaf.grad.shape == leaf.shape and leaf.grad.dtype == np.float64
            expected = (np.reshape(g, -1) @ jac).reshape(leaf.shape)
            np.testing.assert_allclose(
                leaf.grad, expected, rtol=rtol, atol=atol, err_msg=f"input {i}"
            )
    return out


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...], low: float = 0.3) -> Array:
    """Random entries with |x| in [low, low + 1.5], random signs."""
    return rng.uniform(low, low + 1.5, shape) * rng.choice([-1.0, 1.0], shape)


def distinct(rng: np.random.Generator, shape: tuple[int, ...], gap: float = 0.05) -> Array:
    """Entries at least `gap` apart, shuffled: no ties, no kinks within H."""
    n = int(np.prod(shape))
    return rng.permutation(np.arange(n) * gap * 3 - n * gap * 1.5 + gap / 2).reshape(shape)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240608)


# Shape pairs that broadcast: equal, added leading axes (both directions), size-1 axes
# stretched (both directions, both at once), scalars on either side.
BROADCAST_PAIRS = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((4,), (3, 4)),
    ((3, 1), (1, 4)),
    ((1, 4), (3, 1)),
    ((2, 3, 4), (3, 1)),
    ((3, 1), (2, 1, 4)),
    ((2, 1, 3), (4, 1)),
    ((1,), (2, 3)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((1, 1), (2, 3)),
]


# ---------------------------------------------------------------------- binary ops


@pytest.mark.parametrize(("sa", "sb"), BROADCAST_PAIRS)
@pytest.mark.parametrize(
    ("name", "op", "ref"),
    [
        ("+", lambda a, b: a + b, np.add),
        ("-", lambda a, b: a - b, np.subtract),
        ("*", lambda a, b: a * b, np.multiply),
        ("/", lambda a, b: a / b, np.divide),
        ("maximum", maximum, np.maximum),
    ],
)
def test_binary_broadcasting(name, op, ref, sa, sb, rng):
    a = away_from_zero(rng, sa)
    b = away_from_zero(rng, sb)
    if name == "maximum":  # no ties within H
        both = distinct(rng, (a.size + b.size,))
        a, b = both[: a.size].reshape(sa), both[a.size :].reshape(sb)
    out = check_gradients(op, a, b, seed=len(sa) + 7 * len(sb))
    assert out.shape == np.broadcast_shapes(sa, sb)
    np.testing.assert_allclose(out.data, ref(a, b), rtol=1e-15)


@pytest.mark.parametrize(("sa", "sb"), BROADCAST_PAIRS)
def test_power_broadcasting(sa, sb, rng):
    a = rng.uniform(0.5, 2.0, sa)  # a positive base: both derivatives exist
    b = rng.uniform(-2.0, 2.0, sb)
    out = check_gradients(lambda x, y: x**y, a, b)
    np.testing.assert_allclose(out.data, a**b, rtol=1e-14)


def test_power_by_numbers(rng):
    x = away_from_zero(rng, (3, 4))
    for p in (2, 3, -1, 0.0, 1.0):
        out = check_gradients(lambda t, p=p: t**p, x)
        np.testing.assert_allclose(out.data, x**p, rtol=1e-14)
    y = rng.uniform(0.5, 2.0, (3, 4))
    for p in (0.5, -1.5, 2.5):
        check_gradients(lambda t, p=p: t**p, y)
    out = check_gradients(lambda t: 2.0**t, x)  # __rpow__
    np.testing.assert_allclose(out.data, 2.0**x, rtol=1e-14)
    # The exponent's gradient for a negative base and an integer exponent is refused
    # only where a gradient reaches it; the base's gradient is fine.
    base = Tensor([-2.0, 3.0], requires_grad=True)
    (base ** Tensor([2.0, 2.0])).backward(np.array([1.0, 1.0]))
    np.testing.assert_allclose(base.grad, [-4.0, 6.0])


def test_power_at_zero():
    x = Tensor([0.0, 0.0, 2.0], requires_grad=True)
    (x**2).backward(np.array([1.0, 2.0, 3.0]))
    assert x.grad.tolist() == [0.0, 0.0, 12.0]
    x.zero_grad()
    (x**0).backward(np.array([1.0, 2.0, 3.0]))  # d/dx x**0 = 0, even at 0
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    # d(a**b)/db at a = 0 is taken as 0 (as in PyTorch)
    b = Tensor([2.0, 0.0, 1.0], requires_grad=True)
    (Tensor([0.0, 0.0, 2.0]) ** b).backward(np.array([1.0, 1.0, 1.0]))
    np.testing.assert_allclose(b.grad, [0.0, 0.0, 2.0 * np.log(2.0)])


@pytest.mark.parametrize(
    ("op", "ref"),
    [
        (lambda t: t + 2.5, lambda x: x + 2.5),
        (lambda t: 2.5 + t, lambda x: 2.5 + x),
        (lambda t: t - 2.5, lambda x: x - 2.5),
        (lambda t: 2.5 - t, lambda x: 2.5 - x),
        (lambda t: t * -1.5, lambda x: x * -1.5),
        (lambda t: -1.5 * t, lambda x: -1.5 * x),
        (lambda t: t / 4.0, lambda x: x / 4.0),
        (lambda t: 4.0 / t, lambda x: 4.0 / x),
        (lambda t: t * np.arange(4.0), lambda x: x * np.arange(4.0)),
        (lambda t: np.arange(4.0) - t, lambda x: np.arange(4.0) - x),
        (lambda t: np.arange(1.0, 5.0) / t, lambda x: np.arange(1.0, 5.0) / x),
        (lambda t: t + np.float64(1.0), lambda x: x + 1.0),
        (lambda t: t * Tensor(np.array([1, 2, 3, 4])), lambda x: x * [1, 2, 3, 4]),
        (lambda t: -t, lambda x: -x),
        (lambda t: +t, lambda x: x),
    ],
)
def test_numbers_and_arrays_on_either_side(op, ref, rng):
    x = away_from_zero(rng, (3, 4))
    out = check_gradients(op, x)
    np.testing.assert_allclose(out.data, ref(x), rtol=1e-15)


def test_same_tensor_on_both_sides(rng):
    x = away_from_zero(rng, (2, 3))
    check_gradients(lambda t: t * t, x)
    check_gradients(lambda t: t / t, x)
    check_gradients(lambda t: t - t, x)
    check_gradients(lambda t: maximum(t, t), x)  # a tie everywhere: 0.5 + 0.5


# ---------------------------------------------------------------------- unary ops


@pytest.mark.parametrize(
    ("name", "op", "ref", "domain"),
    [
        ("exp", lambda t: t.exp(), np.exp, "any"),
        ("log", lambda t: t.log(), np.log, "positive"),
        ("sqrt", lambda t: t.sqrt(), np.sqrt, "positive"),
        ("tanh", lambda t: t.tanh(), np.tanh, "any"),
        ("sigmoid", lambda t: t.sigmoid(), lambda x: 1 / (1 + np.exp(-x)), "any"),
        ("relu", lambda t: t.relu(), lambda x: np.maximum(x, 0), "any"),
        ("abs", lambda t: t.abs(), np.abs, "any"),
        ("abs()", abs, np.abs, "any"),
        ("clip", lambda t: t.clip(-0.8, 0.9), lambda x: np.clip(x, -0.8, 0.9), "any"),
        ("clip low", lambda t: t.clip(low=0.1), lambda x: np.maximum(x, 0.1), "any"),
        ("clip high", lambda t: t.clip(high=-0.1), lambda x: np.minimum(x, -0.1), "any"),
        ("neg", lambda t: -t, np.negative, "any"),
    ],
)
@pytest.mark.parametrize("shape", [(), (5,), (2, 3)])
def test_unary(name, op, ref, domain, shape, rng):
    x = distinct(rng, shape, gap=0.13) + 0.02  # away from every kink and bound
    if domain == "positive":
        x = np.abs(x) + 0.2
    out = check_gradients(op, x)
    np.testing.assert_allclose(out.data, ref(x), rtol=1e-14)
    assert out.shape == shape


def test_sigmoid_is_stable_at_large_inputs():
    x = Tensor([-800.0, -40.0, 0.0, 40.0, 800.0], requires_grad=True)
    y = x.sigmoid()
    assert np.all(np.isfinite(y.data))
    np.testing.assert_allclose(y.data, [0.0, np.exp(-40.0) / (1 + np.exp(-40.0)), 0.5, 1.0, 1.0])
    y.backward(np.ones(5))
    assert np.all(np.isfinite(x.grad)) and x.grad[2] == 0.25


def test_kinks_and_ties_by_hand():
    x = Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    g = np.array([3.0, 5.0, 7.0])
    x.relu().backward(g)
    assert x.grad.tolist() == [0.0, 0.0, 7.0]  # relu'(0) = 0
    x.zero_grad()
    x.abs().backward(g)
    assert x.grad.tolist() == [-3.0, 0.0, 7.0]  # abs'(0) = 0
    x.zero_grad()
    x.clip(-1.0, 2.0).backward(g)
    assert x.grad.tolist() == [3.0, 5.0, 7.0]  # both bounds pass the gradient
    x.zero_grad()
    x.clip(0.0, 1.0).backward(g)
    assert x.grad.tolist() == [0.0, 5.0, 0.0]
    # maximum: a tie splits the gradient half and half, also when broadcast
    a = Tensor([[1.0, 2.0], [3.0, 0.0]], requires_grad=True)
    b = Tensor([2.0], requires_grad=True)
    maximum(a, b).backward(np.array([[1.0, 10.0], [100.0, 1000.0]]))
    assert a.grad.tolist() == [[0.0, 5.0], [100.0, 0.0]]
    assert b.grad.tolist() == [1.0 + 5.0 + 1000.0]
    # maximum with a number
    y = maximum(x, 0.0)
    assert y.data.tolist() == [0.0, 0.0, 2.0]
    assert maximum(0.0, x).data.tolist() == [0.0, 0.0, 2.0]


def test_sqrt_at_zero_with_zero_gradient_passes_zero():
    x = Tensor([0.0, 4.0], requires_grad=True)
    x.sqrt().backward(np.array([0.0, 1.0]))
    assert x.grad.tolist() == [0.0, 0.25]


# ---------------------------------------------------------------------- matmul and linear


@pytest.mark.parametrize(
    ("sa", "sb"),
    [
        ((4,), (4,)),  # a dot product
        ((4,), (4, 2)),  # a row vector
        ((3, 4), (4,)),  # a column vector
        ((3, 4), (4, 2)),
        ((2, 3, 4), (2, 4, 5)),  # a batch
        ((2, 3, 4), (4, 5)),  # a batch times one matrix
        ((3, 4), (2, 4, 5)),
        ((2, 1, 3, 4), (5, 4, 2)),  # batch axes broadcast both ways
        ((4,), (3, 4, 2)),  # 1-D times a batch
        ((2, 3, 4), (4,)),
        ((1, 3, 4), (2, 4, 1)),
    ],
)
def test_matmul(sa, sb, rng):
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    out = check_gradients(lambda x, y: x @ y, a, b)
    np.testing.assert_allclose(out.data, np.matmul(a, b), rtol=1e-13)
    assert out.shape == np.matmul(a, b).shape


def test_matmul_with_arrays(rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    out = check_gradients(lambda x: x @ b, a)
    np.testing.assert_allclose(out.data, a @ b, rtol=1e-13)
    out = check_gradients(lambda y: a @ y, b)  # __rmatmul__
    np.testing.assert_allclose(out.data, a @ b, rtol=1e-13)


def test_matmul_gradient_is_g_times_transposes(rng):
    # dL/dX = G Wᵀ, dL/dW = Xᵀ G, stated with shapes
    x, w = rng.standard_normal((5, 3)), rng.standard_normal((3, 2))
    g = rng.standard_normal((5, 2))
    xt, wt = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    (xt @ wt).backward(g)
    np.testing.assert_allclose(xt.grad, g @ w.T, rtol=1e-14)
    np.testing.assert_allclose(wt.grad, x.T @ g, rtol=1e-14)


@pytest.mark.parametrize("x_shape", [(3,), (5, 3), (2, 4, 3)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear(x_shape, with_bias, rng):
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((4, 3))
    b = rng.standard_normal(4)
    if with_bias:
        out = check_gradients(linear, x, w, b)
        np.testing.assert_allclose(out.data, x @ w.T + b, rtol=1e-13)
    else:
        out = check_gradients(linear, x, w)
        np.testing.assert_allclose(out.data, x @ w.T, rtol=1e-13)
    assert out.shape == (*x_shape[:-1], 4)


def test_linear_with_a_constant_input_or_frozen_weight(rng):
    x, w, b = rng.standard_normal((5, 3)), rng.standard_normal((4, 3)), rng.standard_normal(4)
    g = rng.standard_normal((5, 4))
    wt, bt = Tensor(w, requires_grad=True), Tensor(b, requires_grad=True)
    linear(x, wt, bt).backward(g)  # a plain array input
    np.testing.assert_allclose(wt.grad, g.T @ x, rtol=1e-14)
    np.testing.assert_allclose(bt.grad, g.sum(axis=0), rtol=1e-14)
    xt = Tensor(x, requires_grad=True)
    linear(xt, Tensor(w)).backward(g)  # a frozen weight
    np.testing.assert_allclose(xt.grad, g @ w, rtol=1e-14)


# ---------------------------------------------------------------------- reductions

AXES = [None, 0, 1, 2, -1, -2, (0, 2), (2, 0), (-1, 0), (0, 1, 2)]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("name", ["sum", "mean", "max"])
def test_reductions(name, axis, keepdims, rng):
    x = distinct(rng, (2, 3, 4))  # no ties: max is differentiable
    op = lambda t: getattr(t, name)(axis=axis, keepdims=keepdims)  # noqa: E731
    out = check_gradients(op, x, seed=hash((name, str(axis), keepdims)) % 1000)
    expected = getattr(np, {"sum": "sum", "mean": "mean", "max": "amax"}[name])(
        x, axis=axis, keepdims=keepdims
    )
    np.testing.assert_allclose(out.data, expected, rtol=1e-14)
    assert out.shape == expected.shape


def test_reduction_positional_arguments(rng):
    x = rng.standard_normal((2, 3))
    t = Tensor(x)
    np.testing.assert_allclose(t.sum(1).data, x.sum(1))
    np.testing.assert_allclose(t.mean(0, True).data, x.mean(0, keepdims=True))
    np.testing.assert_allclose(t.max(-1).data, x.max(-1))
    assert t.sum().shape == () and t.mean().shape == () and t.max().shape == ()


def test_reductions_of_a_scalar_and_of_an_empty_tensor():
    s = Tensor(3.0, requires_grad=True)
    s.sum().backward()
    s.mean().backward()
    s.max().backward()
    assert s.grad == 3.0
    e = Tensor(np.zeros((0, 3)), requires_grad=True)
    assert e.sum().item() == 0.0
    assert e.sum(axis=1).shape == (0,)
    assert e.mean(axis=1).shape == (0,)  # 0 rows, each an average of 3 entries
    assert e.max(axis=1).shape == (0,)
    e.sum().backward()
    assert e.grad.shape == (0, 3)


def test_max_ties_are_shared_equally():
    x = Tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    x.max(axis=1).backward(np.array([6.0, 9.0]))
    assert x.grad.tolist() == [[0.0, 3.0, 3.0], [3.0, 3.0, 3.0]]
    x.zero_grad()
    x.max().backward()
    assert x.grad.tolist() == [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]]
    x.zero_grad()
    x.max(axis=0, keepdims=True).backward(np.array([[1.0, 2.0, 4.0]]))
    assert x.grad.tolist() == [[0.0, 2.0, 4.0], [1.0, 0.0, 0.0]]


# ---------------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    ("op", "ref"),
    [
        (lambda t: t.reshape(4, 3), lambda x: x.reshape(4, 3)),
        (lambda t: t.reshape((2, 6)), lambda x: x.reshape(2, 6)),
        (lambda t: t.reshape([2, 2, 3]), lambda x: x.reshape(2, 2, 3)),
        (lambda t: t.reshape(-1), lambda x: x.reshape(-1)),
        (lambda t: t.T, lambda x: x.T),
        (lambda t: t.transpose(), lambda x: x.T),
        (lambda t: t.transpose(1, 0), lambda x: x.T),
    ],
)
def test_reshape_and_transpose(op, ref, rng):
    x = rng.standard_normal((3, 4))
    out = check_gradients(op, x)
    np.testing.assert_array_equal(out.data, ref(x))


@pytest.mark.parametrize(
    "axes", [(1, 0, 2), ((2, 0, 1),), ([1, 2, 0],), (-1, 0, 1), (0, -1, -2), (-3, -1, 1)]
)
def test_permute_3d_with_negative_axes(axes, rng):
    x = rng.standard_normal((2, 3, 4))
    out = check_gradients(lambda t: t.permute(*axes), x)
    np.testing.assert_array_equal(out.data, x.transpose(*axes))


@pytest.mark.parametrize(
    "index",
    [
        1,
        -1,
        (1, 2),
        (-1, -2),
        slice(1, None),
        (slice(None), slice(None, None, 2)),
        (slice(None, None, -1), 1),
        (Ellipsis, 1),
        (None, 0),
        [0, 0, 2],  # repeated rows accumulate
        np.array([[0, 1], [1, 1]]),
        ([0, 2, 0, 0], [1, 1, 1, 3]),  # repeated (row, column) pairs accumulate
        (slice(None), [3, 3, 0]),
        (slice(1, 3), np.array([2, 2])),
        np.array([True, False, True]),  # a boolean mask of rows
        [True, False, True],  # the same as a list
        [],  # picks nothing: a zero gradient
        "mask",  # a boolean mask of entries
        "tensor",  # a Tensor of integer indices
        "tensor mask",
    ],
)
def test_indexing(index, rng):
    x = rng.standard_normal((3, 4))
    if isinstance(index, str):
        index = {
            "mask": x > 0,
            "tensor": Tensor(np.array([2, 0, 2])),
            "tensor mask": Tensor(x < 0.5),
        }[index]
    out = check_gradients(lambda t: t[index], x)
    numpy_index = index.data if isinstance(index, Tensor) else index
    np.testing.assert_array_equal(out.data, x[numpy_index])


def test_repeated_indices_accumulate_by_hand():
    x = Tensor([10.0, 20.0, 30.0], requires_grad=True)
    x[[0, 2, 0, 0]].backward(np.array([1.0, 2.0, 4.0, 8.0]))
    assert x.grad.tolist() == [13.0, 0.0, 2.0]


def test_iteration_uses_indexing():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(x)
    assert len(rows) == len(x) == 2
    (rows[0] * 2.0 + rows[1] * 3.0).sum().backward()
    assert x.grad.tolist() == [[2.0, 2.0], [3.0, 3.0]]


@pytest.mark.parametrize("axis", [0, 1, -1, -2])
def test_concatenate(axis, rng):
    shapes = [(2, 3), (2, 3), (2, 3)]
    arrays = [rng.standard_normal(s) for s in shapes]
    out = check_gradients(lambda *ts: concatenate(ts, axis=axis), *arrays)
    np.testing.assert_array_equal(out.data, np.concatenate(arrays, axis=axis))


def test_concatenate_unequal_pieces(rng):
    a, b, c = rng.standard_normal((2, 1)), rng.standard_normal((2, 3)), rng.standard_normal((2, 2))
    out = check_gradients(lambda *ts: concatenate(list(ts), 1), a, b, c)
    np.testing.assert_array_equal(out.data, np.concatenate([a, b, c], 1))
    # one piece a constant: only the others get a gradient
    t = Tensor(a, requires_grad=True)
    concatenate([t, Tensor(b)], axis=1).backward(np.arange(8.0).reshape(2, 4))
    assert t.grad.tolist() == [[0.0], [4.0]]


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_stack(axis, rng):
    arrays = [rng.standard_normal((2, 3)) for _ in range(3)]
    out = check_gradients(lambda *ts: stack(ts, axis=axis), *arrays)
    np.testing.assert_array_equal(out.data, np.stack(arrays, axis=axis))


# ---------------------------------------------------------------------- softmax and loss


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax(name, axis, rng):
    x = rng.standard_normal((3, 4)) * 2
    out = check_gradients(lambda t: getattr(t, name)(axis=axis), x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    s = e / e.sum(axis=axis, keepdims=True)
    np.testing.assert_allclose(out.data, s if name == "softmax" else np.log(s), rtol=1e-13)


def test_softmax_default_axis_and_3d(rng):
    x = rng.standard_normal((2, 3, 4))
    out = check_gradients(lambda t: t.softmax(), x)
    np.testing.assert_allclose(out.data.sum(axis=-1), 1.0, rtol=1e-14)
    check_gradients(lambda t: t.log_softmax(1), x)


def test_softmax_is_stable():
    x = Tensor([[1000.0, 0.0, -1000.0]], requires_grad=True)
    s = x.softmax(axis=1)
    np.testing.assert_allclose(s.data, [[1.0, 0.0, 0.0]])
    ls = x.log_softmax(axis=1)
    np.testing.assert_allclose(ls.data, [[0.0, -1000.0, -2000.0]])
    ls.backward(np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(x.grad, [[1.0 - 6.0, 2.0, 3.0]])


def test_cross_entropy_value_and_gradient_is_p_minus_y(rng):
    z = rng.standard_normal((5, 4)) * 3
    y = np.array([0, 2, 1, 3, 3])
    out = check_gradients(lambda t: cross_entropy(t, y), z)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(out.item(), -np.log(p[np.arange(5), y]).mean(), rtol=1e-14)
    t = Tensor(z, requires_grad=True)
    cross_entropy(t, y).backward()
    np.testing.assert_allclose(t.grad, (p - np.eye(4)[y]) / 5, rtol=1e-13, atol=1e-16)
    # a non-uniform upstream gradient scales it
    t.zero_grad()
    cross_entropy(t, list(y)).backward(np.array(-2.5))
    np.testing.assert_allclose(t.grad, -2.5 * (p - np.eye(4)[y]) / 5, rtol=1e-13, atol=1e-16)


def test_cross_entropy_is_stable_and_accepts_label_tensors():
    z = Tensor([[1000.0, 0.0], [0.0, -1000.0], [5.0, 5.0]], requires_grad=True)
    loss = cross_entropy(z, Tensor(np.array([0, 1, 1])))
    np.testing.assert_allclose(loss.item(), (0.0 + 1000.0 + np.log(2.0)) / 3, rtol=1e-14)
    loss.backward()
    np.testing.assert_allclose(z.grad, [[0.0, 0.0], [1 / 3, -1 / 3], [1 / 6, -1 / 6]], atol=1e-16)


def test_unbroadcast():
    g = np.arange(24.0).reshape(2, 3, 4)
    assert unbroadcast(g, (2, 3, 4)) is g
    np.testing.assert_array_equal(unbroadcast(g, (4,)), g.sum(axis=(0, 1)))
    np.testing.assert_array_equal(unbroadcast(g, (3, 1)), g.sum(axis=(0, 2))[:, None])
    np.testing.assert_array_equal(unbroadcast(g, (2, 1, 4)), g.sum(axis=1, keepdims=True))
    np.testing.assert_array_equal(unbroadcast(g, (1, 1, 1)), g.sum().reshape(1, 1, 1))
    assert unbroadcast(g, ()) == g.sum()


# ---------------------------------------------------------------------- a small network


def test_mlp_gradients_against_finite_differences(rng):
    x = rng.standard_normal((6, 3))
    labels = np.array([0, 1, 2, 1, 0, 2])

    def loss(w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor) -> Tensor:
        h = linear(x, w1, b1).tanh()
        return cross_entropy(linear(h, w2, b2).relu() + h @ w2.T * 0.5, labels)

    check_gradients(
        loss,
        rng.standard_normal((4, 3)),
        rng.standard_normal(4),
        rng.standard_normal((3, 4)),
        rng.standard_normal(3) + 1.0,
    )


# ---------------------------------------------------------------------- backward semantics


def test_leaf_gradients_accumulate_and_zero_grad_resets():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.backward(np.array([1.0, 1.0]))
    y.backward(np.array([1.0, -1.0]))  # the graph is kept: a second pass works
    assert x.grad.tolist() == [4.0, 0.0]
    (x * 3.0).sum().backward()
    assert x.grad.tolist() == [7.0, 3.0]
    x.zero_grad()
    assert x.grad is None
    (x * 3.0).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_a_tensor_used_many_times_sums_its_gradients(rng):
    x = rng.standard_normal((2, 3))
    g = rng.standard_normal((2, 3))
    t = Tensor(x, requires_grad=True)
    y = t * t + t * 3.0 + t.exp() - t[:, :].tanh()
    y.backward(g)
    np.testing.assert_allclose(t.grad, g * (2 * x + 3 + np.exp(x) - (1 - np.tanh(x) ** 2)))
    check_gradients(lambda u: u * u + u * 3.0 + u.exp() - u[:, :].tanh(), x)
    # a diamond: two paths from the root to x through shared nodes
    s = Tensor(2.0, requires_grad=True)
    a = s * 3.0
    b = a * a + a
    b.backward()
    assert s.grad == 3.0 * (2 * 6.0 + 1)
    assert topological_order(b)[0] is s and len(topological_order(b)) == 4


def test_backward_on_a_one_element_tensor_and_from_a_leaf():
    x = Tensor([[2.0]], requires_grad=True)
    (x * x).backward()  # one element: no grad needed, whatever its shape
    assert x.grad.tolist() == [[4.0]]
    v = Tensor([1.0, 2.0], requires_grad=True)
    g = np.array([3.0, 4.0])
    v.backward(g)
    assert v.grad.tolist() == [3.0, 4.0] and v.grad is not g
    v.backward(Tensor(g))  # a Tensor as the upstream gradient
    assert v.grad.tolist() == [6.0, 8.0]


def test_non_leaf_grad_is_none_unless_retained():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    k = h * 3.0
    k.retain_grad()
    y = (k * h).sum()
    y.backward()
    assert h.grad is None and y.grad is None
    assert k.grad.tolist() == [2.0, 4.0]
    y.backward()
    assert k.grad.tolist() == [4.0, 8.0]  # retained gradients accumulate too
    assert x.grad.tolist() == [48.0, 96.0]
    x.retain_grad()  # a no-op on a leaf
    assert x.is_leaf and not h.is_leaf


def test_no_grad_records_nothing_and_nests():
    w = Tensor([1.0, 2.0], requires_grad=True)
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        y = w * 3.0 + w.exp()
        with no_grad():
            z = w @ w
        assert not is_grad_enabled()  # the inner block restored the outer state
        inside = Tensor([1.0], requires_grad=True)  # a leaf can still require gradients
    assert is_grad_enabled()
    for t in (y, z):
        assert not t.requires_grad and t._parents == () and t._vjp is None and t.is_leaf
    assert inside.requires_grad
    with pytest.raises(RuntimeError, match="does not require gradients"):
        y.sum().backward()
    assert w.grad is None
    with pytest.raises(KeyError), no_grad():
        raise KeyError("boom")
    assert is_grad_enabled()  # restored after an exception

    @no_grad()
    def evaluate(t: Tensor) -> Tensor:
        return t * 2.0

    assert not evaluate(w).requires_grad and is_grad_enabled()
    assert backprop.no_grad is no_grad


def test_gradients_never_alias(rng):
    a = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    c = Tensor(rng.standard_normal(3), requires_grad=True)
    g = rng.standard_normal((2, 3))
    keep = g.copy()
    h = a + b  # the same upstream array flows to both inputs
    h.retain_grad()
    (h + c.reshape(1, 3) + a.reshape(2, 3).T.T).backward(g)
    grads = [a.grad, b.grad, c.grad, h.grad]
    for i, p in enumerate(grads):
        assert p.flags.writeable
        assert not np.shares_memory(p, g)
        for q in grads[i + 1 :]:
            assert not np.shares_memory(p, q)
    a.grad += 100.0  # mutating one gradient changes no other, nor the user's array
    np.testing.assert_array_equal(b.grad, g)
    np.testing.assert_array_equal(h.grad, g)
    np.testing.assert_array_equal(g, keep)
    g *= 0.0
    np.testing.assert_array_equal(b.grad, keep)
    # the data of a parameter is its own too
    data = np.ones(3)
    p = Tensor(data, requires_grad=True)
    p.data -= 1.0
    assert data.tolist() == [1.0, 1.0, 1.0]
    d = p.detach()
    assert d.data is p.data and not d.requires_grad and d.is_leaf and d.grad is None


# ---------------------------------------------------------------------- float32


F32_OPS: list[tuple[str, Callable[[Tensor, Tensor], Tensor]]] = [
    ("+", lambda a, b: a + b),
    ("-", lambda a, b: a - b),
    ("*", lambda a, b: a * b),
    ("/", lambda a, b: a / b),
    ("**", lambda a, b: a.abs() ** b),
    ("number +", lambda a, b: 1.5 + a * 2.0 - 0.5 / b),
    ("number **", lambda a, b: a**2 + 2.0**b + a ** np.float64(3.0)),
    ("int operand", lambda a, b: a * Tensor(np.arange(3)) + b / np.arange(1, 4)),
    ("maximum", lambda a, b: maximum(a, b) + maximum(a, 0.5)),
    ("@", lambda a, b: a @ b.T),
    ("@ 1-D", lambda a, b: a[0] @ b[1]),
    ("@ batched", lambda a, b: a.reshape(2, 1, 3) @ stack([b.T, b.T])),
    ("linear", lambda a, b: linear(a, b, b[:, 0])),
    ("unary", lambda a, b: a.exp() + a.tanh() + a.sigmoid() + b.relu() + abs(a) - b),
    ("log sqrt", lambda a, b: a.abs().log() + b.abs().sqrt()),
    ("clip", lambda a, b: a.clip(np.float64(-0.5), np.float64(0.5)) * b.clip(0, 1)),
    ("sum", lambda a, b: a.sum(axis=0) + b.sum(axis=(0, 1), keepdims=True)),
    ("mean", lambda a, b: a.mean(axis=1) + b.mean()),
    ("max", lambda a, b: a.max(axis=0) + b.max()),
    ("shapes", lambda a, b: a.reshape(3, 2).T + b.transpose(1, 0).T[::-1]),
    ("index", lambda a, b: a[[0, 0, 1]] + b[b.data > 0].sum()),
    ("concatenate", lambda a, b: concatenate([a, b], axis=1)),
    ("stack", lambda a, b: stack([a, b], axis=-1)),
    ("softmax", lambda a, b: a.softmax(axis=0) + b.log_softmax()),
    ("cross_entropy", lambda a, b: cross_entropy(a * b, [0, 2])),
]


@pytest.mark.parametrize(("name", "op"), F32_OPS)
def test_float32_stays_float32(name, op, rng):
    a = Tensor(away_from_zero(rng, (2, 3)).astype(np.float32), requires_grad=True)
    b = Tensor(away_from_zero(rng, (2, 3)).astype(np.float32), requires_grad=True)
    out = op(a, b)
    assert out.dtype == np.float32, name
    # every node's data, and every VJP's output, is float32: no silent promotion
    for node in topological_order(out):
        assert node.dtype == np.float32, (name, node._op)
        if node._vjp is not None:
            g = rng.standard_normal(node.shape).astype(np.float32)
            for parent, pg in zip(node._parents, node._vjp(g), strict=True):
                if pg is not None and parent.requires_grad:
                    assert pg.dtype == np.float32, (name, node._op)
    out.backward(rng.standard_normal(out.shape))  # a float64 seed is cast
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float32


def test_float32_values_match_float64(rng):
    x = rng.standard_normal((4, 3))
    w = rng.standard_normal((2, 3))
    results = []
    for dtype in (np.float32, np.float64):
        xt = Tensor(x, dtype=dtype, requires_grad=True)
        wt = Tensor(w.astype(dtype), requires_grad=True)
        cross_entropy(linear(xt, wt).tanh() * 3.0, [0, 1, 1, 0]).backward()
        results.append((xt.grad, wt.grad))
    for g32, g64 in zip(results[0], results[1], strict=True):
        assert g32.dtype == np.float32
        np.testing.assert_allclose(g32, g64, rtol=1e-5, atol=1e-6)


def test_mixed_float_dtypes_promote_like_numpy():
    a = Tensor(np.ones(2, np.float32), requires_grad=True)
    b = Tensor(np.ones(2), requires_grad=True)
    out = a * b
    assert out.dtype == np.float64
    out.backward(np.ones(2))
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    assert (Tensor([1, 2]) * 0.5).dtype == np.float64  # integers and a number
    assert (Tensor([1, 2]) + Tensor([True, False])).dtype == np.int64


# ---------------------------------------------------------------------- memory


def test_a_dropped_graph_is_freed_by_reference_counting(rng):
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        x = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
        w = Tensor(rng.standard_normal((5, 4)), requires_grad=True)
        h = linear(x, w).relu()
        y = (h * 2.0 + 1.0) / 3.0
        y = concatenate([y, stack([y[0], y[1]])], axis=0).softmax(axis=0)
        y = maximum(y, 0.1).max(axis=0).sum() + (x**2).mean() + x.T.sigmoid().sum()
        loss = y + cross_entropy(h, [0, 1, 4]) + (x @ x.T).clip(-1.0, 1.0).abs().sum()
        loss.backward()
        probes = [weakref.ref(t) for t in topological_order(loss)]
        assert len(probes) > 20
        del x, w, h, y, loss
        assert all(p() is None for p in probes)
        # also without calling backward()
        t = Tensor(np.ones(3), requires_grad=True)
        probe = weakref.ref(((t * t).exp() + t).log())
        leaf = weakref.ref(t)
        del t
        assert probe() is None and leaf() is None
    finally:
        if was_enabled:
            gc.enable()


def test_a_graph_10000_ops_deep_needs_no_recursion(rng):
    n = 10_000
    x0 = rng.uniform(0.1, 0.5, 3)
    x = Tensor(x0, requires_grad=True)
    w = Tensor(1.0001, requires_grad=True)
    y = x
    for _ in range(n // 2):
        y = (y * w).tanh()
    g = np.array([1.0, -2.0, 0.5])
    with tight_recursion_limit():
        order = topological_order(y)
        y.backward(g)
    assert len(order) == n + 2 and order[-1] is y
    # the same chain by forward mode on plain arrays
    value, d = x0.copy(), np.ones(3)
    for _ in range(n // 2):
        value = np.tanh(value * 1.0001)
        d = d * 1.0001 * (1 - value**2)
    np.testing.assert_array_equal(y.data, value)
    np.testing.assert_allclose(x.grad, g * d, rtol=1e-10)


def test_tensor_uses_slots():
    assert not hasattr(Tensor(1.0), "__dict__")


# ---------------------------------------------------------------------- the API


def test_attributes_and_conversions():
    t = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and t.dtype == np.float64
    assert len(t) == 2 and t.T.shape == (3, 2)
    assert t.numpy() is t.data
    assert t[1, 2].item() == 6.0 and isinstance(t[1, 2].item(), float)
    assert Tensor(3).dtype == np.int64 and Tensor(3).item() == 3
    assert Tensor(True).dtype == np.bool_
    assert Tensor([1, 2], dtype=np.float32).dtype == np.float32
    assert Tensor(np.float32(1.5)).dtype == np.float32
    assert repr(t) == "Tensor([[1., 2., 3.],\n        [4., 5., 6.]], requires_grad=True)"
    assert repr(Tensor([1, 2])) == "Tensor([1, 2], dtype=int64)"
    assert t.is_leaf and t.grad is None
    assert (t * 1.0).is_leaf is False
