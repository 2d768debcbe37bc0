"""Unit tests of backprop.scalar: every op's value and gradient against its hand-derived
formula, backward's accumulation rules, the graph contract, and the errors."""

from __future__ import annotations

import gc
import math
import weakref
from fractions import Fraction

import numpy as np
import pytest

from backprop import Value, topological_order
from backprop.scalar import Value as EngineValue


def grad_of(f, *xs: float) -> tuple[float, tuple[float, ...]]:
    """`f` applied to fresh leaves: its value and the leaves' gradients."""
    leaves = [Value(x) for x in xs]
    out = f(*leaves)
    out.backward()
    return out.data, tuple(v.grad for v in leaves)


# --------------------------------------------------------------------------- the draft


def test_draft_node_graph_exact():
    a, b, c, f = Value(2.0, "a"), Value(-3.0, "b"), Value(10.0, "c"), Value(-2.0, "f")
    e = a * b
    d = e + c
    L = d * f
    L.backward()
    assert L.data == -8.0
    assert (a.grad, b.grad, c.grad, f.grad) == (6.0, -4.0, -2.0, 4.0)
    assert (e.grad, d.grad, L.grad) == (-2.0, -2.0, 1.0)


def test_value_attributes_and_repr():
    v = Value(3, label="x")
    assert v.data == 3.0 and type(v.data) is float
    assert v.grad == 0.0 and v.label == "x"
    assert v._children == () and v._op == ""
    a, b, c, f = Value(2.0), Value(-3.0), Value(10.0), Value(-2.0)
    L = (a * b + c) * f
    L.label = "L"
    assert repr(L) == "Value(data=-8.0, grad=0.0, label='L')"
    assert repr(Value(1.5)) == "Value(data=1.5, grad=0.0, label='')"
    assert EngineValue is Value


def test_repr_svg_uses_draw_lazily(monkeypatch):
    import importlib

    draw_module = importlib.import_module("backprop.draw")  # `backprop.draw` is the function
    seen = []
    monkeypatch.setattr(draw_module, "draw", lambda v: seen.append(v) or "<svg/>")
    v = Value(1.0)
    assert v._repr_svg_() == "<svg/>"
    assert seen == [v]


# --------------------------------------------------------------------------- binary ops

BINARY = [
    # name, op, value, d/da, d/db
    ("add", lambda a, b: a + b, lambda a, b: a + b, lambda a, b: 1.0, lambda a, b: 1.0),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, lambda a, b: 1.0, lambda a, b: -1.0),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, lambda a, b: b, lambda a, b: a),
    ("div", lambda a, b: a / b, lambda a, b: a / b, lambda a, b: 1 / b, lambda a, b: -a / b**2),
    (
        "pow",
        lambda a, b: a**b,
        lambda a, b: a**b,
        lambda a, b: b * a ** (b - 1),
        lambda a, b: a**b * math.log(a),
    ),
]
PAIRS = [(2.0, 3.0), (0.5, -1.25), (3.0, 0.5), (1.7, 2.0)]


@pytest.mark.parametrize(("name", "op", "value", "da", "db"), BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_binary_op_value_and_gradient(name, op, value, da, db, a, b):
    out, (ga, gb) = grad_of(op, a, b)
    assert out == pytest.approx(value(a, b), rel=1e-15)
    assert ga == pytest.approx(da(a, b), rel=1e-14)
    assert gb == pytest.approx(db(a, b), rel=1e-14)


@pytest.mark.parametrize(("name", "op", "value", "da", "db"), BINARY, ids=[b[0] for b in BINARY])
def test_binary_op_with_a_number_on_either_side(name, op, value, da, db):
    a, b = 1.5, 2.5
    x = Value(a)
    left = op(x, b)  # Value op number
    left.backward()
    assert left.data == pytest.approx(value(a, b), rel=1e-15)
    assert x.grad == pytest.approx(da(a, b), rel=1e-14)
    y = Value(b)
    right = op(a, y)  # number op Value
    right.backward()
    assert right.data == pytest.approx(value(a, b), rel=1e-15)
    assert y.grad == pytest.approx(db(a, b), rel=1e-14)


def test_ops_are_exact_where_floats_are():
    assert (Value(1.0) / Value(3.0)).data == 1.0 / 3.0  # correctly rounded, not 1 * 3**-1
    assert (Value(0.1) - Value(0.3)).data == 0.1 - 0.3
    assert (2 ** Value(10)).data == 1024.0
    assert (Value(3.0) ** 2).data == 9.0


def test_graph_contract_children_and_ops():
    a, b = Value(2.0), Value(3.0)
    assert (a * a)._children == (a, a)
    cases = {
        "+": a + b,
        "*": a * b,
        "/": a / b,
        "**": a**b,
        "exp": a.exp(),
        "log": a.log(),
        "tanh": a.tanh(),
        "sigmoid": a.sigmoid(),
        "softplus": a.softplus(),
        "relu": a.relu(),
    }
    for op, v in cases.items():
        assert v._op == op
        assert v._children[0] is a
        assert len(v._children) == len(v._local)
    assert (a - b)._op == "-" and (a - b)._children == (a, b)
    assert (-a)._op == "-" and (-a)._children == (a,)
    assert (a**2)._children == (a,)  # a plain-number exponent is not a node
    assert (a**b)._children == (a, b)
    c = 2.0 + a  # a number operand becomes a constant leaf
    assert c._children[1] is a and c._children[0].data == 2.0 and c._children[0]._op == ""
    s = Value.sum([a, b], start=a)
    assert s._op == "sum" and s._children == (a, a, b)
    d = Value.dot([a, b], [b, a], start=a)
    assert d._op == "dot" and d._children == (a, a, b, b, a)
    assert Value.logsumexp([a, b])._children == (a, b)


def test_unary_plus_is_identity():
    a = Value(2.0)
    assert +a is a


# --------------------------------------------------------------------------- unary ops


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


UNARY = [
    # name, op, value, derivative
    ("neg", lambda a: -a, lambda x: -x, lambda x: -1.0),
    ("exp", lambda a: a.exp(), math.exp, math.exp),
    ("log", lambda a: a.log(), math.log, lambda x: 1 / x),
    ("tanh", lambda a: a.tanh(), math.tanh, lambda x: 1 - math.tanh(x) ** 2),
    ("sigmoid", lambda a: a.sigmoid(), sigmoid, lambda x: sigmoid(x) * (1 - sigmoid(x))),
    ("softplus", lambda a: a.softplus(), lambda x: math.log(1 + math.exp(x)), sigmoid),
    ("relu", lambda a: a.relu(), lambda x: max(x, 0.0), lambda x: float(x > 0)),
    ("square", lambda a: a**2, lambda x: x * x, lambda x: 2 * x),
    ("cube", lambda a: a**3, lambda x: x**3, lambda x: 3 * x**2),
    ("sqrt", lambda a: a**0.5, math.sqrt, lambda x: 0.5 / math.sqrt(x)),
    ("inverse", lambda a: a**-1, lambda x: 1 / x, lambda x: -1 / x**2),
    ("rpow", lambda a: 2**a, lambda x: 2**x, lambda x: 2**x * math.log(2)),
    ("rsub", lambda a: 1 - a, lambda x: 1 - x, lambda x: -1.0),
    ("rdiv", lambda a: 1 / a, lambda x: 1 / x, lambda x: -1 / x**2),
]


@pytest.mark.parametrize(("name", "op", "value", "deriv"), UNARY, ids=[u[0] for u in UNARY])
@pytest.mark.parametrize("x", [0.3, 1.0, 2.5, 7.0])
def test_unary_op_value_and_gradient(name, op, value, deriv, x):
    out, (g,) = grad_of(op, x)
    assert out == pytest.approx(value(x), rel=1e-14)
    assert g == pytest.approx(deriv(x), rel=1e-13)


@pytest.mark.parametrize("name", ["neg", "exp", "tanh", "sigmoid", "softplus", "relu", "cube"])
@pytest.mark.parametrize("x", [-0.3, -2.5])
def test_unary_op_at_negative_inputs(name, x):
    _, op, value, deriv = next(u for u in UNARY if u[0] == name)
    out, (g,) = grad_of(op, x)
    assert out == pytest.approx(value(x), rel=1e-14, abs=1e-300)
    assert g == pytest.approx(deriv(x), rel=1e-13, abs=1e-300)


def test_relu_at_zero_has_zero_gradient():
    assert grad_of(lambda a: a.relu(), 0.0) == (0.0, (0.0,))


@pytest.mark.parametrize("x", [1000.0, -1000.0, 40.0, -40.0])
def test_saturating_ops_stay_finite(x):
    for op in (lambda a: a.sigmoid(), lambda a: a.tanh(), lambda a: a.softplus()):
        out, (g,) = grad_of(op, x)
        assert math.isfinite(out) and math.isfinite(g)
    assert grad_of(lambda a: a.sigmoid(), 1000.0) == (1.0, (0.0,))
    assert grad_of(lambda a: a.sigmoid(), -1000.0) == (0.0, (0.0,))
    assert grad_of(lambda a: a.softplus(), 1000.0) == (1000.0, (1.0,))
    assert grad_of(lambda a: a.softplus(), -1000.0) == (0.0, (0.0,))


def test_pow_with_value_exponent_special_points():
    # a == 0: d/db taken as 0 (a**b is 0 for every b > 0), d/da = b * 0**(b-1)
    assert grad_of(lambda a, b: a**b, 0.0, 2.0) == (0.0, (0.0, 0.0))
    # a ** 0 == 1 for every a, including 0: both derivatives defined
    assert grad_of(lambda a, b: a**b, 0.0, 0.0) == (1.0, (0.0, 0.0))
    # negative base, integer exponent: the value and d/da exist
    a, b = Value(-2.0), Value(3.0)
    out = a**b
    assert out.data == -8.0 and out._local[0] == 12.0
    # ... but d/db = a**b ln(a) does not: backward says so, and leaves leaf grads alone
    a.grad = 5.0
    with pytest.raises(ValueError, match="does not exist"):
        out.backward()
    assert (a.grad, b.grad) == (5.0, 0.0)
    # with a plain number exponent there is no d/db, so it works
    c = Value(-2.0)
    (c**3).backward()
    assert c.grad == 12.0


def test_infinite_slope_raises_only_when_needed():
    x = Value(0.0)
    root = x**0.5
    assert root.data == 0.0
    with pytest.raises(ValueError, match="does not exist"):
        root.backward()
    assert x.grad == 0.0
    # no gradient flows through it: fine
    y = Value(0.0)
    z = (y**0.5) * 0.0
    z.backward()
    assert y.grad == 0.0


# --------------------------------------------------------------------------- fused ops


def test_sum_matches_python_sum_bitwise():
    xs = [Value(x) for x in (0.1, 0.2, 0.3, 1e16, -1e16, 0.7)]
    start = Value(0.25)
    fused = Value.sum(xs, start=start)
    chained = sum(xs, start)
    assert fused.data == chained.data
    fused.backward()
    assert [x.grad for x in xs] == [1.0] * 6 and start.grad == 1.0
    assert Value.sum([]).data == 0.0
    assert Value.sum([1.5, Value(2.0)]).data == 3.5


def test_dot_matches_micrograd_neuron_bitwise():
    rng = np.random.default_rng(0)
    ws = [Value(float(w)) for w in rng.uniform(-1, 1, 17)]
    xs = [Value(float(x)) for x in rng.normal(size=17)]
    b = Value(0.3)
    fused = Value.dot(ws, xs, start=b)
    chained = sum((w * x for w, x in zip(ws, xs, strict=True)), b)
    assert fused.data == chained.data
    fused.backward()
    assert [w.grad for w in ws] == [x.data for x in xs]
    assert [x.grad for x in xs] == [w.data for w in ws]
    assert b.grad == 1.0


def test_dot_with_repeated_and_number_operands():
    a = Value(3.0)
    d = Value.dot([a, 2.0], [a, a])  # a*a + 2*a
    d.backward()
    assert d.data == 15.0 and a.grad == 2 * 3.0 + 2.0


def test_logsumexp_value_and_gradient():
    zs = [0.5, -1.0, 2.0]
    vs = [Value(z) for z in zs]
    out = Value.logsumexp(vs)
    out.backward()
    total = sum(math.exp(z) for z in zs)
    assert out.data == pytest.approx(math.log(total), rel=1e-15)
    for v, z in zip(vs, zs, strict=True):
        assert v.grad == pytest.approx(math.exp(z) / total, rel=1e-14)


# --------------------------------------------------------------------------- backward


def test_value_used_twice_accumulates():
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0
    b = Value(3.0)
    (b * b).backward()
    assert b.grad == 6.0
    c = Value(-1.5)
    (c * c * c + c).backward()
    assert c.grad == 3 * 1.5**2 + 1


def test_backward_twice_doubles_leaves_exactly_and_resets_intermediates():
    # x gets three contributions, 1 and twice 1e-16. Added one by one to the gradient of
    # a first pass (micrograd's way), they give 2.0, not 2 * 1.0000000000000002: doubling is
    # only exact if each pass is summed on its own and then added to the leaf.
    x = Value(1.0, "x")
    h = x * 1.0  # intermediate
    out = Value.sum([h, x * 1e-16, x * 1e-16])
    out.backward()
    first_x, first_h = x.grad, h.grad
    assert first_x == 1.0000000000000002
    out.backward()
    assert x.grad == 2 * first_x
    assert h.grad == first_h  # the latest pass only
    out.backward()
    assert x.grad == 2 * first_x + first_x  # still accumulating
    assert h.grad == first_h


def test_intermediate_shared_between_two_outputs_shows_latest_pass():
    x = Value(2.0)
    h = x * x
    y1, y2 = h * 3.0, h * 5.0
    y1.backward()
    assert h.grad == 3.0 and x.grad == 12.0
    y2.backward()
    assert h.grad == 5.0 and x.grad == 12.0 + 20.0


def test_backward_on_a_leaf_accumulates_one():
    x = Value(4.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0


def test_zero_gradient_paths_are_skipped_but_counted():
    x = Value(-1.0)
    y = x.relu() * 5.0 + x
    y.backward()
    assert x.grad == 1.0


def test_gradient_overflow_raises_and_leaves_leaves_alone():
    x = Value(1e-200)
    x.grad = 7.0
    y = (x * 1e200) * 1e200  # finite value 1e200, but dy/dx = 1e400
    assert y.data == pytest.approx(1e200)
    with pytest.raises(OverflowError, match="gradient overflow"):
        y.backward()
    assert x.grad == 7.0


def test_huge_local_derivative_raises_overflow_in_backward():
    a, b = Value(1.0), Value(1e-200)
    q = a / b  # 1e200 is fine, but d/db = -1e400 is not a float
    assert q.data == pytest.approx(1e200)
    with pytest.raises(OverflowError, match="gradient overflow"):
        q.backward()
    assert b.grad == 0.0
    c = Value(1e-200)
    inverse = c**-1  # 1e200 is fine, but d/dc = -c**-2 = -1e400 is not a float
    assert inverse._local == (math.inf,)
    with pytest.raises(OverflowError, match="gradient overflow"):
        inverse.backward()
    assert c.grad == 0.0


def test_graph_has_no_reference_cycles():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        a, b = Value(2.0), Value(-3.0)
        c = Value.dot([a, b], [b, a], start=1.0)
        d = (a * b + c).tanh() ** 2 / (c.exp() + 1.0)
        e = Value.logsumexp([d, c]).softplus() - d.sigmoid()
        e.backward()
        nodes = topological_order(e)
        refs = [weakref.ref(v) for v in nodes]
        assert len(refs) > 10
        del a, b, c, d, e, nodes
        assert all(r() is None for r in refs)  # freed by reference counting alone
    finally:
        if was_enabled:
            gc.enable()


# --------------------------------------------------------------------------- topological order


def test_topological_order_diamond():
    a = Value(1.0, "a")
    b = a * 2.0
    c = a + 3.0
    d = b * c
    order = topological_order(d)
    assert len(order) == len({id(v) for v in order}) == 6  # a, b, c, d and two constants
    pos = {id(v): i for i, v in enumerate(order)}
    for v in order:
        for child in v._children:
            assert pos[id(child)] < pos[id(v)]
    assert order[-1] is d


def test_topological_order_children_in_order_and_leaf():
    a, b = Value(2.0), Value(3.0)
    c = a * b
    d = c + a
    assert topological_order(d) == [a, b, c, d]
    assert topological_order(a) == [a]
    sq = a * a
    assert topological_order(sq) == [a, sq]  # a duplicate child is listed once


def test_topological_order_again_and_of_overlapping_graphs():
    # The sort marks the nodes; marks left by earlier sorts must not count.
    a, b = Value(2.0), Value(3.0)
    c = a * b
    d = c + a
    assert topological_order(d) == [a, b, c, d]
    assert topological_order(d) == [a, b, c, d]
    assert topological_order(c) == [a, b, c]
    e = d * c
    assert topological_order(e) == [a, b, c, d, e]
    broken = e * 1.0
    broken._children = (e, "not a node")  # type: ignore[assignment]
    with pytest.raises(AttributeError):  # a sort abandoned halfway leaves marks behind
        topological_order(broken)
    assert topological_order(e) == [a, b, c, d, e]
    e.backward()  # e = (ab + a) * ab
    assert (a.grad, b.grad) == ((b.data + 1) * 6.0 + 8.0 * b.data, 2.0 * 6.0 + 8.0 * 2.0)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("bad", "name"),
    [("x", "str"), (None, "NoneType"), (1 + 2j, "complex"), ([1.0], "list"), (True, "bool")],
)
def test_value_rejects_non_real_data(bad, name):
    with pytest.raises(TypeError, match=name):
        Value(bad)


def test_value_rejects_a_value_and_a_bad_label():
    with pytest.raises(TypeError, match=r"\.data"):
        Value(Value(1.0))
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, np.float64("nan")])
def test_value_rejects_non_finite_data(bad):
    with pytest.raises(ValueError, match="finite"):
        Value(bad)


@pytest.mark.parametrize(
    "good", [3, 2.5, np.float64(1.5), np.float32(0.25), np.int64(7), Fraction(1, 4)]
)
def test_value_accepts_real_numbers(good):
    v = Value(good)
    assert type(v.data) is float and v.data == float(good)


def test_numpy_scalars_on_the_left_give_values():
    v = Value(3.0)
    for out in (np.float64(2.0) * v, np.float64(2.0) + v, np.int64(2) - v):
        assert isinstance(out, Value)
    assert (np.float64(2.0) * v).data == 6.0


@pytest.mark.parametrize("other", ["a", None, [1.0], True, 1j])
def test_wrong_operand_types_raise_type_error(other):
    v = Value(1.0)
    for op in (
        lambda: v + other,
        lambda: other + v,
        lambda: v - other,
        lambda: other - v,
        lambda: v * other,
        lambda: other * v,
        lambda: v / other,
        lambda: other / v,
        lambda: v**other,
        lambda: other**v,
    ):
        with pytest.raises(TypeError):
            op()


def test_type_error_names_the_operand_type():
    with pytest.raises(TypeError, match="str"):
        Value(1.0) + "a"
    with pytest.raises(TypeError, match="str"):
        Value.sum([Value(1.0), "a"])
    with pytest.raises(TypeError, match="NoneType"):
        Value.dot([Value(1.0)], [None])


def test_comparisons_are_not_defined():
    with pytest.raises(TypeError):
        Value(1.0) < Value(2.0)  # noqa: B015


def test_log_of_non_positive_raises_naming_the_value():
    with pytest.raises(ValueError, match=r"log\(0\.0\)"):
        Value(0.0).log()
    with pytest.raises(ValueError, match=r"log\(-2\.5\)"):
        Value(-2.5).log()


def test_division_by_zero_raises_naming_the_values():
    with pytest.raises(ZeroDivisionError, match=r"1\.0 / 0\.0"):
        Value(1.0) / Value(0.0)
    with pytest.raises(ZeroDivisionError, match=r"3\.0 / 0\.0"):
        3 / Value(0.0)
    with pytest.raises(ZeroDivisionError):
        Value(3.0) / 0


def test_zero_to_a_negative_power_raises():
    with pytest.raises(ZeroDivisionError, match=r"0\.0 \*\* -1\.0"):
        Value(0.0) ** -1
    with pytest.raises(ZeroDivisionError, match=r"0\.0 \*\* -0\.5"):
        Value(0.0) ** Value(-0.5)
    with pytest.raises(ZeroDivisionError):
        0 ** Value(-2.0)


def test_negative_base_to_a_non_integer_power_raises():
    with pytest.raises(ValueError, match=r"-8\.0 \*\* 0\.5"):
        Value(-8.0) ** Value(0.5)
    with pytest.raises(ValueError, match=r"-8\.0 \*\* 0\.3"):
        Value(-8.0) ** 0.3
    with pytest.raises(ValueError, match="non-integer"):
        (-2) ** Value(1.5)


def test_overflow_raises_instead_of_inf():
    with pytest.raises(OverflowError, match=r"exp\(1000\.0\)"):
        Value(1000.0).exp()
    with pytest.raises(OverflowError, match="not a finite float"):
        Value(1e300) * Value(1e300)
    with pytest.raises(OverflowError, match="not a finite float"):
        Value(1e308) + Value(1e308)
    with pytest.raises(OverflowError, match="overflows"):
        Value(10.0) ** 400
    with pytest.raises(OverflowError):
        Value(1e300) / Value(1e-300)


def test_fused_ops_check_their_inputs():
    with pytest.raises(ValueError, match="equal lengths"):
        Value.dot([Value(1.0)], [Value(1.0), Value(2.0)])
    with pytest.raises(ValueError, match="at least one"):
        Value.logsumexp([])


# ---------------------------------------------------------------- custom operations


def _softsign(a: Value) -> Value:
    d = 1.0 + abs(a.data)
    return Value.from_op(a.data / d, (a,), (1.0 / d**2,), "softsign")


def test_from_op_makes_a_node_backward_understands() -> None:
    x = Value(-1.0, "x")
    y = _softsign(x) * 2
    y.backward()
    assert y.data == -1.0 and x.grad == 0.5
    node = y._children[0]
    assert (node._op, node._children, node._local) == ("softsign", (x,), (0.25,))


def test_from_op_with_two_children_and_a_missing_derivative() -> None:
    a, b = Value(2.0), Value(3.0)
    out = Value.from_op(6.0, [a, b], [3.0, None], "odd")
    with pytest.raises(ValueError):
        out.backward()
    assert (a.grad, b.grad) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((1.0, ["a"], [1.0], "f"), TypeError, "child 0 of 'f' must be a Value"),
        ((1.0, [Value(1.0)], ["1"], "f"), TypeError, "local derivative 0 of 'f'"),
        ((1.0, [Value(1.0)], [math.nan], "f"), ValueError, "is NaN"),
        ((1.0, [Value(1.0)], [1.0, 2.0], "f"), ValueError, "1 children but 2 local"),
        ((1.0, [Value(1.0)], [1.0], ""), TypeError, "op must be a non-empty str"),
        (("1", [Value(1.0)], [1.0], "f"), TypeError, "data of 'f' must be a real number"),
        ((math.inf, [Value(1.0)], [1.0], "f"), OverflowError, "not a finite float"),
    ],
)
def test_from_op_rejects_bad_input(args, error, message) -> None:
    with pytest.raises(error, match=message):
        Value.from_op(*args)
