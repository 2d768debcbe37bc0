"""Property tests (hypothesis): random expressions against finite differences, fused ops
against their unfused chains, accumulation rules and topological order on random graphs."""

from __future__ import annotations

import math

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from backprop import Value, topological_order

NVARS = 3
coords = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False)

# An expression is a nested tuple: ("x", i), ("c", number), (op, child, ...).
leaf = st.one_of(
    st.integers(0, NVARS - 1).map(lambda i: ("x", i)),
    coords.map(lambda c: ("c", c)),
)
UNARY = ["tanh", "sigmoid", "softplus", "neg", "square", "exp_tanh", "log_pos", "sqrt_pos"]
BINARY = ["+", "-", "*", "/", "pow", "rsub", "rmul"]
NARY = ["sum", "dot", "logsumexp"]


def extend(children):
    return st.one_of(
        st.tuples(st.sampled_from(UNARY), children),
        st.tuples(st.sampled_from(BINARY), children, children),
        st.tuples(st.sampled_from(NARY), st.lists(children, min_size=1, max_size=4)).map(
            lambda t: (t[0], *t[1])
        ),
    )


expressions = st.recursive(leaf, extend, max_leaves=12)


def build(tree, xs: list[Value]) -> Value:
    """The expression as a graph over the leaves `xs` (smooth everywhere)."""
    kind = tree[0]
    if kind == "x":
        return xs[tree[1]]
    if kind == "c":
        return Value(tree[1])
    args = [build(t, xs) for t in tree[1:]]
    a = args[0]
    match kind:
        case "tanh":
            return a.tanh()
        case "sigmoid":
            return a.sigmoid()
        case "softplus":
            return a.softplus()
        case "neg":
            return -a
        case "square":
            return a**2
        case "exp_tanh":
            return a.tanh().exp()
        case "log_pos":
            return (a.sigmoid() + 0.5).log()
        case "sqrt_pos":
            return (a * a + 1.0) ** 0.5
        case "+":
            return a + args[1]
        case "-":
            return a - args[1]
        case "*":
            return a * args[1]
        case "/":
            return a / (args[1].tanh() + 1.5)
        case "pow":
            return (a.sigmoid() + 0.5) ** args[1].tanh()
        case "rsub":
            return 0.5 - a
        case "rmul":
            return 1.5 * a
        case "sum":
            return Value.sum(args)
        case "dot":
            return Value.dot(args, args[::-1])
        case "logsumexp":
            return Value.logsumexp(args)
    raise AssertionError(kind)


def evaluate(tree, point: list[float]) -> float:
    return build(tree, [Value(p) for p in point]).data


@settings(max_examples=300, deadline=None)
@given(expressions, st.lists(coords, min_size=NVARS, max_size=NVARS))
def test_gradients_match_central_differences(tree, point):
    xs = [Value(p) for p in point]
    out = build(tree, xs)
    assume(abs(out.data) < 1e6)
    out.backward()
    for i in range(NVARS):
        h = 1e-6 * max(1.0, abs(point[i]))
        up, down = list(point), list(point)
        up[i] += h
        down[i] -= h
        numeric = (evaluate(tree, up) - evaluate(tree, down)) / (up[i] - down[i])
        assert math.isclose(xs[i].grad, numeric, rel_tol=1e-4, abs_tol=1e-6 * (1 + abs(out.data)))


@settings(max_examples=200, deadline=None)
@given(expressions, st.lists(coords, min_size=NVARS, max_size=NVARS))
def test_backward_twice_doubles_leaf_gradients_exactly(tree, point):
    xs = [Value(p) for p in point]
    out = build(tree, xs)
    out.backward()
    first = [x.grad for x in xs]
    inner = [v.grad for v in topological_order(out) if v._children]
    out.backward()
    assert [x.grad for x in xs] == [2 * g for g in first]
    assert [v.grad for v in topological_order(out) if v._children] == inner


@settings(max_examples=200, deadline=None)
@given(st.lists(coords, min_size=0, max_size=20), st.one_of(st.none(), coords))
def test_fused_sum_is_python_sum(values, start):
    vs = [Value(v) for v in values]
    s = None if start is None else Value(start)
    fused = Value.sum(vs, start=s)
    chained = sum(vs, s if s is not None else 0.0)
    assert fused.data == (chained.data if isinstance(chained, Value) else chained)
    fused.backward()
    assert all(v.grad == 1.0 for v in vs)
    assert s is None or s.grad == 1.0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(coords, coords), min_size=1, max_size=20),
    st.one_of(st.none(), coords),
)
def test_fused_dot_is_a_chain_of_products(pairs, start):
    ws = [Value(w) for w, _ in pairs]
    xs = [Value(x) for _, x in pairs]
    s = None if start is None else Value(start)
    fused = Value.dot(ws, xs, start=s)
    chained = sum((w * x for w, x in zip(ws, xs, strict=True)), s if s is not None else 0.0)
    assert fused.data == chained.data
    fused.backward()
    grads = [v.grad for v in ws + xs]
    for v in ws + xs:
        v.grad = 0.0
    chained.backward()
    assert grads == [v.grad for v in ws + xs]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 1000), min_size=0, max_size=3), min_size=1, max_size=40))
def test_topological_order_of_random_dags(spec):
    # Node i's children are earlier nodes, picked by the integers modulo i.
    nodes: list[Value] = []
    for i, picks in enumerate(spec):
        v = Value(float(i), label=str(i))
        if i and picks:
            v._children = tuple(nodes[p % i] for p in picks)
            v._local = (1.0,) * len(picks)
            v._op = "+"
        nodes.append(v)
    root = nodes[-1]
    order = topological_order(root)
    position = {id(v): k for k, v in enumerate(order)}
    assert len(position) == len(order)  # each node once
    assert order[-1] is root
    reachable, stack = {id(root)}, [root]
    while stack:
        for c in stack.pop()._children:
            if id(c) not in reachable:
                reachable.add(id(c))
                stack.append(c)
    assert set(position) == reachable
    for v in order:
        assert all(position[id(c)] < position[id(v)] for c in v._children)


@settings(max_examples=200, deadline=None)
@given(coords, coords.filter(lambda b: abs(b) > 1e-3))
def test_algebraic_identities(a, b):
    x, y = Value(a), Value(b)
    assert (x - y).data == (x + -y).data
    assert math.isclose((x / y).data, (x * y**-1).data, rel_tol=1e-15)
    assert (x * y).data == (y * x).data
    assert math.isclose(x.exp().log().data, a, rel_tol=1e-15, abs_tol=1e-15)
