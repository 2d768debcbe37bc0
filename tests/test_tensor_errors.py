"""Bad input to the tensor engine: each case raises a clear error (its type, and a
message naming the operation, the shapes or the count of bad entries), and leaves
the inputs' data and gradients as they were. None returns a silent wrong number."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from backprop import Tensor, Value
from backprop.tensor import concatenate, cross_entropy, linear, maximum, stack


def raises_cleanly(
    exception: type[Exception], fn: Callable[[], object], *tensors: Tensor, match: str
) -> str:
    """`fn()` raises `exception` with a message containing every `;`-separated part of
    `match`, and every tensor's data and grad are unchanged afterwards."""
    before = [(t.data.copy(), None if t.grad is None else t.grad.copy()) for t in tensors]
    with pytest.raises(exception) as info:
        fn()
    message = str(info.value)
    for part in match.split(";"):
        assert part in message, f"{part!r} not in {message!r}"
    for t, (data, grad) in zip(tensors, before, strict=True):
        np.testing.assert_array_equal(t.data, data)
        if grad is None:
            assert t.grad is None
        else:
            np.testing.assert_array_equal(t.grad, grad)
    return message


def leaf(*shape: int, fill: float = 1.0, grad: bool = True) -> Tensor:
    """A leaf with a gradient already stored, so the tests see it unchanged."""
    t = Tensor(np.full(shape, fill), requires_grad=True)
    if grad:
        t.grad = np.arange(float(t.size)).reshape(shape)
    return t


# ---------------------------------------------------------------------- shapes

BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
    "maximum": maximum,
}


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize(("sa", "sb"), [((3, 4), (3,)), ((2, 3), (3, 2)), ((4,), (2, 3))])
def test_shapes_that_do_not_broadcast(name, sa, sb):
    a, b = leaf(*sa, fill=2.0), leaf(*sb, fill=0.5)
    shapes = f"{sa} and {sb}"
    raises_cleanly(
        ValueError, lambda: BINARY[name](a, b), a, b, match=f"{name}: ;{shapes};broadcast"
    )
    # with an array on either side too
    raises_cleanly(ValueError, lambda: BINARY[name](a, b.data), a, match=f"{name}: ;{shapes}")


def test_division_by_zero_with_bad_shapes_reports_the_shapes_first():
    a, b = leaf(3, 4), leaf(3, fill=0.0)
    raises_cleanly(ValueError, lambda: a / b, a, b, match="/: ;(3, 4) and (3,)")


@pytest.mark.parametrize(
    ("sa", "sb", "hint"),
    [
        ((3, 4), (3, 4), "second-to-last"),
        ((3,), (4,), "only"),
        ((2, 3, 4), (5, 2), "second-to-last"),
        ((2, 3, 4), (3, 4, 5), "batch axes (2,) and (3,) do not broadcast"),
        ((4, 3), (4,), "only"),
    ],
)
def test_shapes_that_do_not_multiply(sa, sb, hint):
    a, b = leaf(*sa), leaf(*sb)
    raises_cleanly(
        ValueError,
        lambda: a @ b,
        a,
        b,
        match=f"@: ;{sa} and {sb};multiply;{hint}",
    )


def test_matmul_of_a_scalar():
    a, b = leaf(3), Tensor(2.0)
    raises_cleanly(ValueError, lambda: a @ b, a, b, match="@: ;1-D;(3,) and ()")


def test_linear_shapes():
    x, w, b = leaf(5, 3), leaf(4, 2), leaf(4)
    raises_cleanly(ValueError, lambda: linear(x, w, b), x, w, b, match="linear;(5, 3);(4, 2)")
    w = leaf(4, 3)
    raises_cleanly(ValueError, lambda: linear(x, w, leaf(3)), x, w, match="bias;(3,);(4,)")
    raises_cleanly(ValueError, lambda: linear(x, leaf(4, 3, 1)), x, match="linear;(4, 3, 1)")
    raises_cleanly(TypeError, lambda: linear(x, w.data), x, match="weight must be a Tensor")
    raises_cleanly(TypeError, lambda: linear(x, w, b.data), x, w, match="bias must be a Tensor")


def test_shape_operations():
    a = leaf(2, 3)
    raises_cleanly(ValueError, lambda: a.reshape(4, 2), a, match="reshape;(2, 3);(4, 2)")
    raises_cleanly(ValueError, lambda: a.transpose(0, 2), a, match="transpose: axis 2;2 axes")
    raises_cleanly(TypeError, lambda: a.transpose(1, 0, 2), a, match="transpose;permute")
    raises_cleanly(ValueError, lambda: a.permute(0, 0), a, match="permute;(0, 0);(2, 3)")
    raises_cleanly(ValueError, lambda: a.permute(1, 0, 2), a, match="permute;(2, 3)")
    raises_cleanly(IndexError, lambda: a[2], a, match="index 2;(2, 3)")
    raises_cleanly(IndexError, lambda: a[[0, 5]], a, match="(2, 3)")
    raises_cleanly(IndexError, lambda: a[0.5], a, match="(2, 3)")
    raises_cleanly(IndexError, lambda: a[np.array([True, False, True])], a, match="(2, 3)")
    b = leaf(3, 3)
    raises_cleanly(
        ValueError,
        lambda: concatenate([a, b], axis=1),
        a,
        b,
        match="concatenate;(2, 3), (3, 3)",
    )
    raises_cleanly(ValueError, lambda: stack([a, b]), a, b, match="stack;[(2, 3), (3, 3)]")
    raises_cleanly(ValueError, lambda: concatenate([a, a], axis=2), a, match="axis 2")
    raises_cleanly(ValueError, lambda: concatenate([]), match="at least one")
    raises_cleanly(ValueError, lambda: stack([]), match="at least one")
    raises_cleanly(TypeError, lambda: stack([a, a.data]), a, match="item 1 must be a Tensor")
    raises_cleanly(ValueError, lambda: concatenate([Tensor(1.0), Tensor(2.0)]), match="concat")


# ---------------------------------------------------------------------- axes


@pytest.mark.parametrize("name", ["sum", "mean", "max"])
def test_bad_axes(name):
    a = leaf(2, 3)
    op = getattr(a, name)
    raises_cleanly(ValueError, lambda: op(axis=2), a, match=f"{name}: axis 2;out of range;2 axes")
    raises_cleanly(ValueError, lambda: op(axis=-3), a, match=f"{name}: axis -3")
    raises_cleanly(ValueError, lambda: op(axis=(0, -2)), a, match=f"{name}: ;repeats")
    raises_cleanly(TypeError, lambda: op(axis=1.0), a, match=f"{name}: axis must be an int")
    raises_cleanly(TypeError, lambda: op(axis=True), a, match=f"{name}: axis must be an int")
    raises_cleanly(TypeError, lambda: op(axis=[0.5]), a, match=f"{name}: axis must be an int")
    raises_cleanly(ValueError, lambda: op(axis=()), a, match=f"{name}: an empty tuple;ambiguous")
    if name != "max":  # max refuses dim= altogether (see test_max_refuses_pytorchs_dim)
        raises_cleanly(TypeError, lambda: op(axis=0, dim=1), a, match=f"{name}: give axis=")


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_bad_softmax_axis(name):
    a = leaf(2, 3)
    raises_cleanly(ValueError, lambda: getattr(a, name)(axis=2), a, match=f"{name}: axis 2")


def test_reductions_over_an_empty_axis():
    e = leaf(0, 3, grad=False)
    raises_cleanly(ValueError, lambda: e.mean(), e, match="mean;empty;(0, 3)")
    raises_cleanly(ValueError, lambda: e.mean(axis=0), e, match="mean;empty")
    raises_cleanly(ValueError, lambda: e.max(), e, match="max;empty;(0, 3)")
    raises_cleanly(ValueError, lambda: e.max(axis=(1, 0)), e, match="max;empty")


# ---------------------------------------------------------------------- data


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ("abc", "real numbers;<U3"),
        (["1.0", "2.0"], "real numbers;<U3"),
        (None, "real numbers;object"),
        ([1.0, None], "real numbers;NoneType"),
        (1 + 2j, "real numbers;complex"),
        ([1.0, 2j], "real numbers;complex"),
        ({"a": 1}, "real numbers;dict"),
        ([[1.0, 2.0], [3.0]], "real numbers;inhomogeneous"),
        (object(), "real numbers;object"),
        (np.array([1.0], dtype=np.float16), "real numbers;float16"),
        (np.array([1.0], dtype=np.longdouble), "real numbers;"),
        (np.array(["2024-01-01"], dtype="datetime64[D]"), "real numbers;datetime64"),
        (Tensor([1.0]), "got a Tensor;detach"),
        ([Tensor(1.0), Tensor(2.0)], "list of Tensors;stack"),
    ],
)
def test_non_numeric_data(data, match):
    raises_cleanly(TypeError, lambda: Tensor(data), match=match)


def test_strings_are_refused_even_with_a_float_dtype():
    raises_cleanly(TypeError, lambda: Tensor(["1.0"], dtype=np.float64), match="<U3")
    raises_cleanly(TypeError, lambda: Tensor([1.0], dtype=np.float16), match="float16")
    raises_cleanly(TypeError, lambda: Tensor([1.0], dtype=np.complex128), match="complex128")


@pytest.mark.parametrize(
    ("data", "count"),
    [
        ([1.0, np.nan], "1 of 2"),
        ([[np.inf, -np.inf], [np.nan, 0.0]], "3 of 4"),
        (np.array([np.nan], dtype=np.float32), "1 of 1"),
        (float("inf"), "1 of 1"),
        ([1e300], "1 of 1"),  # finite as float64, infinite as float32 (below)
    ],
)
def test_nan_and_inf_data(data, count):
    dtype = np.float32 if data == [1e300] else None
    raises_cleanly(ValueError, lambda: Tensor(data, dtype=dtype), match=f"finite;{count}")


def test_nan_and_inf_operands():
    a = leaf(2)
    raises_cleanly(ValueError, lambda: a + float("nan"), a, match="finite")
    raises_cleanly(ValueError, lambda: a * np.array([1.0, np.inf]), a, match="finite;1 of 2")
    raises_cleanly(ValueError, lambda: a.backward(np.array([np.nan, 1.0])), a, match="finite")


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_integer_tensors_cannot_require_gradients(dtype):
    data = np.array([1, 0, 1], dtype=dtype)
    raises_cleanly(
        TypeError,
        lambda: Tensor(data, requires_grad=True),
        match=f"only float32 and float64;{np.dtype(dtype)};dtype=float",
    )
    raises_cleanly(TypeError, lambda: Tensor([1, 2], requires_grad=True), match="int64")
    raises_cleanly(TypeError, lambda: Tensor([1.0], requires_grad=1), match="must be a bool")


def test_bad_operands():
    a = leaf(2)
    for bad, name in [("x", "str"), ([1.0, 2.0], "list"), (None, "NoneType"), (1j, "complex")]:
        raises_cleanly(TypeError, lambda bad=bad: a + bad, a, match=f"operands must be;{name}")
        raises_cleanly(TypeError, lambda bad=bad: bad * a, a, match=f"operands must be;{name}")
    raises_cleanly(TypeError, lambda: a + True, a, match="bool")
    raises_cleanly(TypeError, lambda: a * np.array(["x", "y"]), a, match="real numbers")


# ---------------------------------------------------------------------- scalar-engine Values


@pytest.mark.parametrize(
    "op",
    [
        lambda t, v: t + v,
        lambda t, v: v + t,
        lambda t, v: t - v,
        lambda t, v: v - t,
        lambda t, v: t * v,
        lambda t, v: v * t,
        lambda t, v: t / v,
        lambda t, v: v / t,
        lambda t, v: t**v,
        lambda t, v: v**t,
        lambda t, v: maximum(t, v),
        lambda t, v: maximum(v, t),
        lambda t, v: t @ v,
        lambda t, v: linear(v, t),
    ],
)
def test_a_tensor_and_a_value_do_not_mix(op):
    t, v = leaf(2, 2, fill=2.0), Value(3.0)
    raises_cleanly(TypeError, lambda: op(t, v), t, match="Tensor;Value")
    assert v.data == 3.0 and v.grad == 0.0


def test_values_cannot_be_tensor_data():
    v = Value(1.0)
    raises_cleanly(TypeError, lambda: Tensor(v), match="scalar-engine Values")
    raises_cleanly(TypeError, lambda: Tensor([[v, 2.0]]), match="scalar-engine Values")
    raises_cleanly(TypeError, lambda: Tensor([v], dtype=np.float64), match="scalar-engine")


# ---------------------------------------------------------------------- domains


def test_log_of_non_positive_entries():
    a = Tensor([[1.0, 0.0, -2.0], [3.0, -1.0, 4.0]], requires_grad=True)
    raises_cleanly(ValueError, lambda: a.log(), a, match="log;3 of 6 entries")


def test_sqrt_of_negative_entries_and_its_slope_at_zero():
    a = Tensor([1.0, -4.0, -1e-300, 0.0], requires_grad=True)
    raises_cleanly(ValueError, lambda: a.sqrt(), a, match="sqrt;2 of 4 entries")
    z = Tensor([0.0, 0.0, 4.0], requires_grad=True)
    y = z.sqrt()
    raises_cleanly(
        ValueError, lambda: y.backward(np.array([1.0, 2.0, 1.0])), z, match="sqrt;at 0;2 entries"
    )


def test_division_by_zero():
    a, b = leaf(2, 3), Tensor([[1.0, 0.0, 2.0], [0.0, 0.0, 1.0]], requires_grad=True)
    raises_cleanly(ZeroDivisionError, lambda: a / b, a, b, match="/: ;division by zero;3 of 6")
    raises_cleanly(ZeroDivisionError, lambda: 1.0 / b, b, match="3 of 6")
    raises_cleanly(ZeroDivisionError, lambda: a / 0.0, a, match="1 of 1")
    raises_cleanly(ZeroDivisionError, lambda: a / np.zeros(3), a, match="3 of 3")


def test_power_domain():
    a = Tensor([-2.0, 0.0, 3.0], requires_grad=True)
    raises_cleanly(ValueError, lambda: a**0.5, a, match="**;negative base;1 entries")
    raises_cleanly(ZeroDivisionError, lambda: a**-1.0, a, match="**;0 to a negative;1 ent")
    raises_cleanly(ZeroDivisionError, lambda: Tensor(0.0) ** a, a, match="0 to a negative")
    raises_cleanly(ValueError, lambda: Tensor([2, 3]) ** -1, match="**: ;nteger")
    # slopes that do not exist: 0 ** b with 0 < b < 1, and d/db of a negative base
    z = Tensor([0.0, 1.0], requires_grad=True)
    y = z**0.5
    raises_cleanly(ValueError, lambda: y.backward(np.ones(2)), z, match="**;at 0;1 entries")
    e = Tensor([2.0, 2.0], requires_grad=True)
    y = Tensor([-3.0, 3.0]) ** e
    raises_cleanly(ValueError, lambda: y.backward(np.ones(2)), e, match="exponent;1 entries")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_overflow(dtype):
    big = 1000.0 if dtype == np.float64 else 100.0
    a = Tensor(np.array([1.0, big, big], dtype=dtype), requires_grad=True)
    raises_cleanly(OverflowError, lambda: a.exp(), a, match="exp;overflows;2 of 3")
    huge = np.finfo(dtype).max
    b = Tensor(np.array([huge, 1.0], dtype=dtype), requires_grad=True)
    raises_cleanly(OverflowError, lambda: b / 1e-3, b, match="/ overflows;1 of 2")
    raises_cleanly(OverflowError, lambda: b**2, b, match="** overflows;1 of 2")
    raises_cleanly(OverflowError, lambda: 10.0**a, a, match="** overflows;2 of 3")


def test_backward_from_an_overflowed_tensor():
    a = Tensor([1e308, 1.0], requires_grad=True)
    with np.errstate(over="ignore"):
        y = (a * 10.0).sum()  # IEEE arithmetic: inf (numpy would warn)
    raises_cleanly(OverflowError, lambda: y.backward(), a, match="not finite")


def test_clip_bounds():
    a = leaf(3)
    raises_cleanly(ValueError, lambda: a.clip(), a, match="low, high or both")
    raises_cleanly(ValueError, lambda: a.clip(1.0, 0.0), a, match="low <= high;1.0 > 0.0")
    raises_cleanly(ValueError, lambda: a.clip(float("nan"), 1.0), a, match="low is NaN")
    raises_cleanly(TypeError, lambda: a.clip("0", 1.0), a, match="low must be a real number")
    raises_cleanly(TypeError, lambda: a.clip(0.0, Tensor(1.0)), a, match="high must be")


# ---------------------------------------------------------------------- backward


def test_backward_on_a_non_scalar_says_what_to_pass():
    a = leaf(2, 3)
    y = a * 2.0
    message = raises_cleanly(RuntimeError, lambda: y.backward(), a, match="grad=;(2, 3)")
    assert "y.sum().backward()" in message and "upstream gradient" in message


@pytest.mark.parametrize("shape", [(3, 2), (6,), (2, 3, 1), ()])
def test_backward_with_a_gradient_of_the_wrong_shape(shape):
    a = leaf(2, 3)
    y = a * 2.0
    raises_cleanly(
        ValueError,
        lambda: y.backward(np.ones(shape)),
        a,
        match=f"(2, 3);got {shape}",
    )


def test_backward_with_a_bad_gradient():
    a = leaf(2)
    y = a * 2.0
    raises_cleanly(TypeError, lambda: y.backward("ones"), a, match="real numbers")
    raises_cleanly(TypeError, lambda: y.backward(np.array([1j, 1])), a, match="complex")


def test_backward_without_gradients_to_compute():
    c = Tensor([1.0, 2.0])
    raises_cleanly(RuntimeError, lambda: c.sum().backward(), c, match="does not require grad")
    raises_cleanly(RuntimeError, lambda: c.retain_grad(), c, match="does not require grad")


def test_item_of_several_elements():
    a = leaf(2)
    raises_cleanly(ValueError, lambda: a.item(), a, match="one element;(2,)")


# ---------------------------------------------------------------------- cross-entropy


def test_cross_entropy_bad_labels():
    z = Tensor(np.zeros((3, 4)), requires_grad=True)
    z.grad = np.ones((3, 4))
    raises_cleanly(
        ValueError, lambda: cross_entropy(z, [0, 4, -1]), z, match="[0, 4);[4, -1];2 out of"
    )
    raises_cleanly(TypeError, lambda: cross_entropy(z, [0.0, 1.0, 2.0]), z, match="integers;float")
    raises_cleanly(TypeError, lambda: cross_entropy(z, [True, False, True]), z, match="bool")
    raises_cleanly(ValueError, lambda: cross_entropy(z, [0, 1]), z, match="expected 3 labels;(2,)")
    raises_cleanly(ValueError, lambda: cross_entropy(z, [[0, 1, 2]]), z, match="3 labels;(1, 3)")
    raises_cleanly(TypeError, lambda: cross_entropy(z, ["a", "b", "c"]), z, match="integers")


def test_cross_entropy_bad_logits():
    raises_cleanly(TypeError, lambda: cross_entropy(np.zeros((2, 3)), [0, 1]), match="a Tensor")
    z = leaf(3)
    raises_cleanly(ValueError, lambda: cross_entropy(z, [0]), z, match="(N, C);(3,)")
    e = Tensor(np.zeros((0, 3)))
    raises_cleanly(ValueError, lambda: cross_entropy(e, []), e, match="(0, 3)")
