"""Property tests (hypothesis) of the tensor engine over random broadcasting shapes.

For every binary op, over random shape pairs that broadcast (size-1 axes, missing
leading axes, scalars), the gradient of each input has that input's shape and equals
the broadcast rule computed independently: each input entry collects the upstream
gradient of every output entry it was copied to (counted with `np.bincount`, not with
the engine's `unbroadcast`). A directional central difference checks the same
gradients against the forward pass. Then matmul batch axes, reductions, and random
graphs against the full finite-difference Jacobian.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes
from test_tensor import check_gradients

from backprop import Tensor, no_grad
from backprop.tensor import maximum

SETTINGS = settings(max_examples=80, deadline=None)
H = 1e-6

pairs = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3)


def collect(values: np.ndarray, shape: tuple[int, ...], out_shape: tuple[int, ...]) -> np.ndarray:
    """Sum `values` (of `out_shape`) onto the entries of an input of `shape` broadcast to
    `out_shape`: entry `i` of the input gets the values of every copy of it."""
    size = int(np.prod(shape))
    owner = np.broadcast_to(np.arange(size).reshape(shape), out_shape)
    return np.bincount(owner.ravel(), weights=values.ravel(), minlength=size).reshape(shape)


def directional(f: Callable[..., np.ndarray], arrays: list[np.ndarray], i: int, v: np.ndarray):
    """`d f / d arrays[i]` in the direction `v`, by a central difference."""
    plus, minus = list(arrays), list(arrays)
    plus[i], minus[i] = arrays[i] + H * v, arrays[i] - H * v
    return (f(*plus) - f(*minus)) / (2 * H)


def forward(op: Callable[..., Tensor]) -> Callable[..., np.ndarray]:
    def f(*arrays: np.ndarray) -> np.ndarray:
        with no_grad():
            return op(*[Tensor(a) for a in arrays]).data

    return f


# The local derivatives of each op, written out: d out / d a and d out / d b, broadcast.
BINARY = {
    "+": (lambda a, b: a + b, lambda a, b: np.ones_like(a * b), lambda a, b: np.ones_like(a * b)),
    "-": (lambda a, b: a - b, lambda a, b: np.ones_like(a * b), lambda a, b: -np.ones_like(a * b)),
    "*": (lambda a, b: a * b, lambda a, b: b + 0 * a, lambda a, b: a + 0 * b),
    "/": (lambda a, b: a / b, lambda a, b: 1 / b + 0 * a, lambda a, b: -a / b**2),
    "**": (lambda a, b: a.abs() ** b, None, None),
    "maximum": (
        maximum,
        lambda a, b: (a > b) + 0.5 * (a == b),
        lambda a, b: (b > a) + 0.5 * (a == b),
    ),
}


@SETTINGS
@given(
    shapes=pairs,
    name=st.sampled_from(sorted(BINARY)),
    seed=st.integers(0, 2**32 - 1),
    ties=st.booleans(),
)
def test_binary_gradients_over_broadcast_shapes(shapes, name, seed, ties):
    (sa, sb), out_shape = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 2.0, sa) * rng.choice([-1.0, 1.0], sa)
    b = rng.uniform(0.5, 2.0, sb) * rng.choice([-1.0, 1.0], sb)
    if ties and name == "maximum":  # rounded values: many ties, derivative by convention
        a, b = np.round(a), np.round(b)
    op, da, db = BINARY[name]
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    out = op(ta, tb)
    assert out.shape == out_shape
    g = rng.standard_normal(out_shape)
    out.backward(g)
    assert ta.grad.shape == sa and tb.grad.shape == sb
    if da is not None:
        np.testing.assert_allclose(ta.grad, collect(g * da(a, b), sa, out_shape), rtol=1e-12)
        np.testing.assert_allclose(tb.grad, collect(g * db(a, b), sb, out_shape), rtol=1e-12)
    if ties and name == "maximum":
        return  # no finite difference across a tie
    f = forward(op)
    for i, (x, grad) in enumerate([(a, ta.grad), (b, tb.grad)]):
        v = rng.standard_normal(x.shape)
        np.testing.assert_allclose(
            np.sum(g * directional(f, [a, b], i, v)), np.sum(grad * v), rtol=1e-6, atol=1e-8
        )


@SETTINGS
@given(
    batch=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    m=st.integers(1, 3),
    n=st.integers(1, 3),
    k=st.integers(1, 3),
    vector=st.sampled_from([None, "left", "right"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_matmul_gradients_over_batch_shapes(batch, m, n, k, vector, seed):
    ba, bb = batch.input_shapes
    sa = (n,) if vector == "left" else (*ba, m, n)
    sb = (n,) if vector == "right" else (*bb, n, k)
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    out = ta @ tb
    np.testing.assert_allclose(out.data, np.matmul(a, b), rtol=1e-13)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    assert ta.grad.shape == sa and tb.grad.shape == sb
    # independently: treat vectors as (1, n) and (n, 1), broadcast both to the full
    # batch, take the matrix rule per batch entry, and collect back with bincount
    a2 = a[None, :] if vector == "left" else a
    b2 = b[:, None] if vector == "right" else b
    full_batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    g2 = g.reshape((*full_batch, a2.shape[-2], b2.shape[-1]))
    ab = np.broadcast_to(a2, (*full_batch, *a2.shape[-2:]))
    bb_ = np.broadcast_to(b2, (*full_batch, *b2.shape[-2:]))
    ga = collect(g2 @ np.swapaxes(bb_, -1, -2), a2.shape, ab.shape).reshape(sa)
    gb = collect(np.swapaxes(ab, -1, -2) @ g2, b2.shape, bb_.shape).reshape(sb)
    np.testing.assert_allclose(ta.grad, ga, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tb.grad, gb, rtol=1e-12, atol=1e-14)


@st.composite
def shape_and_axes(draw: st.DrawFn) -> tuple[tuple[int, ...], object]:
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=4)))
    ndim = len(shape)
    if draw(st.booleans()) or ndim == 0:
        return shape, None
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    axes = [a - ndim if draw(st.booleans()) else a for a in axes]  # some negative
    return shape, axes[0] if len(axes) == 1 and draw(st.booleans()) else tuple(axes)


@SETTINGS
@given(
    case=shape_and_axes(),
    name=st.sampled_from(["sum", "mean", "max"]),
    keepdims=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_reductions_over_random_axes(case, name, keepdims, seed):
    shape, axis = case
    rng = np.random.default_rng(seed)
    x = rng.permutation(np.arange(float(np.prod(shape)))).reshape(shape) * 0.1  # no ties
    t = Tensor(x, requires_grad=True)
    out = getattr(t, name)(axis=axis, keepdims=keepdims)
    ref = getattr(np, "amax" if name == "max" else name)(x, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.data, ref, rtol=1e-14)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    assert t.grad.shape == shape
    g_kept = np.reshape(g, np.shape(np.amax(x, axis=axis, keepdims=True)))
    if name == "sum":
        expected = np.broadcast_to(g_kept, shape)
    elif name == "mean":
        expected = np.broadcast_to(g_kept, shape) * (ref.size / x.size)
    else:
        expected = np.where(x == np.amax(x, axis=axis, keepdims=True), g_kept, 0.0)
    np.testing.assert_allclose(t.grad, expected, rtol=1e-13)


# ---------------------------------------------------------------------- random graphs

UNARY: dict[str, Callable[[Tensor], Tensor]] = {
    "tanh": lambda t: t.tanh(),
    "sigmoid": lambda t: t.sigmoid(),
    "exp": lambda t: (t * 0.3).exp(),
    "square": lambda t: t**2,
    "neg": lambda t: -t,
    "scale": lambda t: 1.5 * t - 0.25,
    "softmax": lambda t: t.softmax(axis=-1),
    "log_softmax": lambda t: t.log_softmax(axis=0),
    "T.T": lambda t: t.T.reshape(3, 2).reshape(2, 3),
    "row": lambda t: t[1] + t[[0, 0]],
    "mean0": lambda t: t.mean(axis=0, keepdims=True),
    "sum1": lambda t: t.sum(axis=1, keepdims=True),
}
BINARY_NODES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / (b * b + 1.0),
    "@": lambda a, b: (a @ b.T) @ b * 0.3,
}

ANY_SHAPE = {"tanh", "sigmoid", "exp", "square", "neg", "scale", "softmax", "+", "-", "*", "/"}

step = st.one_of(
    st.tuples(st.just("unary"), st.sampled_from(sorted(UNARY)), st.integers(0, 99)),
    st.tuples(
        st.just("binary"),
        st.sampled_from(sorted(BINARY_NODES)),
        st.integers(0, 99),
        st.integers(0, 99),
    ),
)


def run(program: list[tuple], leaves: list[Tensor]) -> Tensor:
    """Apply each step to nodes picked from everything computed so far."""
    nodes = list(leaves)
    for kind, name, *picks in program:
        # elementwise ops take any node (broadcasting (1, 3), (2, 1) and (2, 3));
        # the ops written for a (2, 3) input take only those
        pool = nodes if name in ANY_SHAPE else [n for n in nodes if n.shape == (2, 3)]
        args = [pool[p % len(pool)] for p in picks]
        out = UNARY[name](*args) if kind == "unary" else BINARY_NODES[name](*args)
        nodes.append(out)
    # every node of shape (2, 3) reaches the root: shared subgraphs, several paths
    root = nodes[0] * 0.0
    for i, node in enumerate(nodes):
        root = root + node * (0.5 + 0.1 * i) if node.shape == (2, 3) else root + node.sum()
    return root.tanh()


@settings(max_examples=40, deadline=None)
@given(
    program=st.lists(step, min_size=1, max_size=8),
    n_leaves=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_graphs_against_the_full_jacobian(program, n_leaves, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-1.0, 1.0, (2, 3)) for _ in range(n_leaves)]
    check_gradients(lambda *ts: run(program, list(ts)), *arrays, seed=seed % 1000, n_random=2)
