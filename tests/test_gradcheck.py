"""Tests for backprop.gradcheck: numerical_derivative and gradcheck."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop import GradcheckError, Value, gradcheck, numerical_derivative

# --- numerical_derivative -----------------------------------------------------------


def quadratic(x):
    return 3 * x**2 - 4 * x + 5  # f'(x) = 6x - 4


@pytest.mark.parametrize(
    ("method", "expected"), [("forward", 14.003), ("backward", 13.997), ("central", 14.0)]
)
def test_quadratic_from_the_guide(method, expected):
    # Forward/backward differences of a quadratic are off by exactly ±3h (f'' / 2 * h).
    assert numerical_derivative(quadratic, 3.0, h=0.001, method=method) == pytest.approx(
        expected, abs=1e-9
    )


def test_default_is_central_with_small_step():
    assert numerical_derivative(math.sin, 0.3) == pytest.approx(math.cos(0.3), abs=1e-9)


def test_f_may_return_a_value():
    def f(x):
        v = Value(x)
        return v * v * v  # 3x^2

    assert numerical_derivative(f, 2.0) == pytest.approx(12.0, rel=1e-8)


@pytest.mark.parametrize("x", [2, np.float64(2.0), np.int64(2), np.float32(2.0)])
def test_numeric_types_of_x(x):
    assert numerical_derivative(quadratic, x) == pytest.approx(8.0, rel=1e-8)


def _errors(method, x=1.0):
    exact = math.exp(x)
    return [
        abs(numerical_derivative(math.exp, x, h=h, method=method) - exact)
        for h in (1e-2, 5e-3, 2.5e-3)
    ]


@pytest.mark.parametrize("method", ["forward", "backward"])
def test_one_sided_differences_are_first_order(method):
    e1, e2, e3 = _errors(method)
    # Halving h halves the error: O(h).
    assert 1.9 < e1 / e2 < 2.1
    assert 1.9 < e2 / e3 < 2.1


def test_central_difference_is_second_order():
    e1, e2, e3 = _errors("central")
    # Halving h quarters the error: O(h^2).
    assert 3.9 < e1 / e2 < 4.1
    assert 3.9 < e2 / e3 < 4.1


def test_central_beats_forward_at_the_same_step():
    assert _errors("central")[0] < _errors("forward")[0] / 100


def test_round_off_dominates_for_tiny_steps():
    # The guide's point that h cannot shrink forever: with h = 1e-15 the quotient is
    # mostly round-off noise, far worse than with h = 1e-6.
    good = abs(numerical_derivative(quadratic, 3.0, h=1e-6) - 14.0)
    bad = abs(numerical_derivative(quadratic, 3.0, h=1e-15, method="forward") - 14.0)
    assert bad > 1000 * good


def test_divides_by_the_step_actually_taken():
    # At x = 1e8, x + 1e-6 is not x + 1e-6 exactly (floats are 1.5e-8 apart there).
    # Dividing by the representable step makes the identity's slope exactly 1.
    for method in ("central", "forward", "backward"):
        assert numerical_derivative(lambda x: x, 1e8, h=1e-6, method=method) == 1.0


@pytest.mark.parametrize("method", ["Central", "centred", "", None, "symmetric"])
def test_unknown_method(method):
    with pytest.raises(ValueError, match="method must be one of 'central', 'forward', 'backward'"):
        numerical_derivative(quadratic, 1.0, method=method)


@pytest.mark.parametrize("h", [0.0, -1e-6, math.inf, math.nan])
def test_bad_step_value(h):
    with pytest.raises(ValueError, match="h must be a positive finite step"):
        numerical_derivative(quadratic, 1.0, h=h)


@pytest.mark.parametrize("h", ["1e-6", None, True])
def test_bad_step_type(h):
    with pytest.raises(TypeError, match="h must be a real number"):
        numerical_derivative(quadratic, 1.0, h=h)


@pytest.mark.parametrize("x", ["3", None, True, [3.0], Value(3.0), 3 + 0j])
def test_bad_x_type(x):
    with pytest.raises(TypeError, match="x must be a real number"):
        numerical_derivative(quadratic, x)


@pytest.mark.parametrize("x", [math.inf, -math.inf, math.nan])
def test_non_finite_x(x):
    with pytest.raises(ValueError, match="x must be finite"):
        numerical_derivative(quadratic, x)


@pytest.mark.parametrize("result", ["1.0", None, [1.0], True])
def test_f_returning_a_non_number(result):
    with pytest.raises(TypeError, match="f must return a number or a Value"):
        numerical_derivative(lambda x: result, 1.0)


def test_f_returning_nan_points_at_the_domain():
    # math.sqrt raises below 0, but numpy returns nan: that must not become a number.
    with pytest.raises(ValueError, match="outside the domain"), np.errstate(invalid="ignore"):
        numerical_derivative(lambda x: float(np.sqrt(x)), 0.0, h=1e-3)


# --- gradcheck: agreement -------------------------------------------------------------

CORRECT = {
    "add": (lambda a, b: a + b, [1.5, -2.0]),
    "sub": (lambda a, b: a - b, [1.5, -2.0]),
    "mul": (lambda a, b: a * b, [1.5, -2.0]),
    "div": (lambda a, b: a / b, [1.5, -2.0]),
    "neg": (lambda a: -a, [0.7]),
    "pow_number": (lambda a: a**3, [1.3]),
    "pow_fraction": (lambda a: a**0.5, [2.0]),
    "pow_value": (lambda a, b: a**b, [1.7, 0.6]),
    "rpow": (lambda a: 2**a, [0.4]),
    "exp": (lambda a: a.exp(), [0.3]),
    "log": (lambda a: a.log(), [2.5]),
    "tanh": (lambda a: a.tanh(), [0.4]),
    "sigmoid": (lambda a: a.sigmoid(), [-0.8]),
    "relu_positive": (lambda a: a.relu(), [0.5]),
    "relu_negative": (lambda a: a.relu(), [-0.5]),
    "sum": (lambda a, b, c: Value.sum([a, b, a, c]), [0.1, 0.2, 0.3]),
    "dot": (lambda a, b, c: Value.dot([a, b], [c, a], start=b), [0.5, -1.5, 2.0]),
    "draft_graph": (lambda a, b, c, f: (a * b + c) * f, [2.0, -3.0, 10.0, -2.0]),
    "neuron": (
        lambda x1, x2, w1, w2, b: (x1 * w1 + x2 * w2 + b).tanh(),
        [2.0, 0.0, -3.0, 1.0, 6.8813735870195432],
    ),
    "reuse": (lambda a, b: (a * b).exp() / (a + b * b).log() - a, [0.3, 1.2]),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_gradients_pass(name):
    f, point = CORRECT[name]
    inputs = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    assert gradcheck(f, inputs) is True


def test_numbers_are_accepted_as_inputs():
    assert gradcheck(lambda a, b: a * b.tanh(), [1.5, np.float64(-0.3)]) is True
    assert gradcheck(lambda a: a * a, (3,)) is True  # a tuple, an int


@settings(max_examples=200, deadline=None)
@given(
    st.floats(-2.0, 2.0),
    st.floats(-2.0, 2.0),
    st.floats(0.5, 3.0),
)
def test_smooth_expressions_pass_everywhere(a, b, c):
    # The values stay moderate (|f| < 100): round-off in f, about |f| * 1e-16 / eps,
    # must stay well below atol for central differences to be trusted.
    def f(a, b, c):
        return (a * b).tanh() * c.log() + (a - b).sigmoid() * c**1.5 + (b / c).exp()

    assert gradcheck(f, [Value(a), Value(b), Value(c)])


def test_same_value_twice_in_inputs():
    x = Value(1.5)
    # Both entries are the same node: its gradient is the total derivative, 2x.
    assert gradcheck(lambda a, b: a * b, [x, x])


def test_non_leaf_input():
    x = Value(0.5, label="x")
    y = x * 3
    assert gradcheck(lambda y: y.tanh(), [y])


def test_constant_function_has_zero_gradient():
    assert gradcheck(lambda a: Value(2.0) * 3, [Value(1.0)])


# --- gradcheck: disagreement ------------------------------------------------------------


def wrong_tanh(x: Value) -> Value:
    """tanh with a wrong backward rule: it forgot the factor 1 - tanh(x)^2."""
    out = x.tanh()
    out._local = (1.0,)
    return out


def test_a_wrong_backward_rule_is_caught_and_named():
    a, b = Value(0.8, label="a"), Value(-1.5, label="b")
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: wrong_tanh(a) * b, [a, b])
    message = str(info.value)
    assert "1 of 2 inputs" in message
    assert "input 0 'a'" in message
    assert "input 1" not in message  # b's gradient is right
    # analytic: d/da = 1 * b = -1.5; numeric: (1 - tanh(0.8)^2) * b
    numeric = (1 - math.tanh(0.8) ** 2) * -1.5
    assert "analytic -1.5," in message
    assert f"numeric {numeric:.8g}" in message
    assert "abs diff" in message and "rel diff" in message
    (failure,) = info.value.failures
    assert failure["index"] == 0 and failure["label"] == "a"
    assert failure["analytic"] == -1.5
    assert failure["numeric"] == pytest.approx(numeric, rel=1e-8)
    assert failure["abs_diff"] == pytest.approx(abs(-1.5 - numeric), rel=1e-6)
    assert failure["rel_diff"] == pytest.approx(abs(-1.5 - numeric) / abs(numeric), rel=1e-6)


def test_a_wrong_method_monkeypatched_into_value_is_caught(monkeypatch):
    def wrong_sigmoid(self):
        s = 1.0 / (1.0 + math.exp(-self.data))
        out = self.exp()  # a node with the right forward value below...
        out.data, out._op, out._local = s, "sigmoid", (s,)  # ...but slope s, not s(1-s)
        return out

    monkeypatch.setattr(Value, "sigmoid", wrong_sigmoid)
    x = Value(0.25, label="x")
    with pytest.raises(GradcheckError, match="input 0 'x'"):
        gradcheck(lambda x: x.sigmoid(), [x])


def test_cutting_the_graph_with_data_is_caught():
    x = Value(3.0, label="x")
    with pytest.raises(GradcheckError, match=r"input 0 'x': analytic 3, numeric 6"):
        gradcheck(lambda x: x * Value(x.data), [x])


def test_every_failing_input_is_listed():
    inputs = [Value(0.5, label="p"), Value(0.2), Value(-0.4, label="r")]
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda p, q, r: wrong_tanh(p) + q * q + wrong_tanh(r), inputs)
    message = str(info.value)
    assert "2 of 3 inputs" in message
    assert "input 0 'p'" in message and "input 2 'r'" in message
    assert "input 1" not in message
    assert [f["index"] for f in info.value.failures] == [0, 2]


def test_unlabelled_inputs_are_named_by_index():
    with pytest.raises(GradcheckError, match=r"(?m)^  input 0: analytic"):
        gradcheck(lambda x: wrong_tanh(x), [0.5])


def test_gradcheck_error_is_an_assertion_error():
    assert issubclass(GradcheckError, AssertionError)
    with pytest.raises(AssertionError):
        gradcheck(wrong_tanh, [0.5])


def test_raise_exception_false_returns_false():
    assert gradcheck(wrong_tanh, [0.5], raise_exception=False) is False
    assert gradcheck(lambda x: x.tanh(), [0.5], raise_exception=False) is True


def scaled_exp(delta: float):
    """exp whose backward rule is off by the factor (1 + delta)."""

    def f(x: Value) -> Value:
        out = x.exp()
        out._local = (out.data * (1 + delta),)
        return out

    return f


def test_relative_tolerance():
    # At x = 3, exp(x) is about 20: the relative error is what matters.
    assert gradcheck(scaled_exp(1e-4), [3.0])  # within rtol=1e-3
    assert not gradcheck(scaled_exp(1e-2), [3.0], raise_exception=False)
    assert gradcheck(scaled_exp(1e-2), [3.0], rtol=2e-2)


def test_absolute_tolerance():
    # At x = -12, exp(x) is about 6e-6: a 50% error is below the default atol=1e-5...
    assert gradcheck(scaled_exp(0.5), [-12.0])
    # ...but not with a stricter atol.
    assert not gradcheck(scaled_exp(0.5), [-12.0], atol=1e-8, raise_exception=False)


def test_message_reports_the_tolerances():
    with pytest.raises(GradcheckError, match=r"eps=0\.0001, atol=1e-07, rtol=0\.01"):
        gradcheck(wrong_tanh, [0.5], eps=1e-4, atol=1e-7, rtol=1e-2)


# --- gradcheck leaves inputs as it found them ------------------------------------------


def test_inputs_data_and_grad_are_restored():
    a, b = Value(0.3, label="a"), Value(-1.1, label="b")
    a.grad, b.grad = 5.0, -7.0  # leftovers from an earlier backward()
    assert gradcheck(lambda a, b: (a * b).tanh(), [a, b])
    assert (a.data, b.data) == (0.3, -1.1)  # bitwise: restored, not recomputed
    assert (a.grad, b.grad) == (5.0, -7.0)


def test_captured_parameters_grads_are_restored():
    w = Value(2.0, label="w")  # used by f, but not checked
    w.grad = 0.25
    x = Value(1.5)
    assert gradcheck(lambda x: (w * x).tanh(), [x])
    assert w.grad == 0.25 and x.grad == 0.0


def test_intermediate_grads_of_an_existing_graph_are_restored():
    x = Value(0.5, label="x")
    z = x * 2
    y = z + 1
    y.backward()
    before = (x.grad, z.grad, y.grad)
    assert gradcheck(lambda y: y**2, [y])
    assert (x.grad, z.grad, y.grad) == before


def test_inputs_restored_when_the_check_fails():
    a = Value(0.6, label="a")
    a.grad = 1.0
    assert not gradcheck(wrong_tanh, [a], raise_exception=False)
    with pytest.raises(GradcheckError):
        gradcheck(wrong_tanh, [a])
    assert (a.data, a.grad) == (0.6, 1.0)


def test_inputs_restored_when_f_raises_at_a_perturbed_point():
    x = Value(1e-7, label="x")
    x.grad = 3.0
    with pytest.raises(ValueError, match="log of a non-positive number") as info:
        gradcheck(lambda x: x.log(), [x], eps=1e-6)
    assert (x.data, x.grad) == (1e-7, 3.0)
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "input 0 moved from 1e-07 to" in notes and "smaller eps" in notes
    assert gradcheck(lambda x: x.log(), [x], eps=1e-9)  # a smaller step works


def test_gradients_of_the_check_do_not_accumulate_across_calls():
    x = Value(0.9)
    for _ in range(3):
        assert gradcheck(lambda x: x * x * x, [x])
    assert x.grad == 0.0


# --- gradcheck: bad arguments ------------------------------------------------------


def test_empty_inputs():
    with pytest.raises(ValueError, match="inputs is empty"):
        gradcheck(lambda: Value(1.0), [])


def test_single_value_instead_of_a_sequence():
    with pytest.raises(TypeError, match=r"e\.g\. \[x\] rather than x"):
        gradcheck(lambda x: x, Value(1.0))


@pytest.mark.parametrize("inputs", [1.0, "ab", (x for x in [1.0]), {1.0}, None])
def test_inputs_not_a_sequence(inputs):
    with pytest.raises(TypeError, match="inputs must be a sequence"):
        gradcheck(lambda x: x, inputs)


@pytest.mark.parametrize("bad", ["1.0", None, True, [1.0]])
def test_bad_input_element_is_named_by_index(bad):
    with pytest.raises(TypeError, match=r"inputs\[1\] must be a Value or a real number"):
        gradcheck(lambda a, b: a, [Value(1.0), bad])


@pytest.mark.parametrize("result", [1.0, None, "x", True])
def test_f_must_return_a_value(result):
    with pytest.raises(TypeError, match="f must return a Value"):
        gradcheck(lambda x: result, [Value(1.0)])


@pytest.mark.parametrize(
    "make", [lambda x: [x, x * 2], lambda x: (x,), lambda x: np.array([x, x]), lambda x: {x}]
)
def test_f_must_return_a_scalar(make):
    with pytest.raises(ValueError, match="f must return a single scalar Value"):
        gradcheck(make, [Value(1.0)])


def test_non_scalar_message_counts_items():
    with pytest.raises(ValueError, match="got a list of 3 items"):
        gradcheck(lambda x: [x, x, x], [Value(1.0)])


@pytest.mark.parametrize("eps", [0.0, -1e-6, math.inf, math.nan])
def test_bad_eps(eps):
    with pytest.raises(ValueError, match="eps must be a positive finite step"):
        gradcheck(lambda x: x, [1.0], eps=eps)


@pytest.mark.parametrize(
    ("name", "tol"), [("atol", -1.0), ("rtol", -1e-3), ("rtol", math.nan), ("atol", math.inf)]
)
def test_bad_tolerances(name, tol):
    with pytest.raises(ValueError, match=f"{name} must be finite and >= 0"):
        gradcheck(lambda x: x, [1.0], **{name: tol})


@pytest.mark.parametrize("name", ["eps", "atol", "rtol"])
def test_tolerance_types(name):
    with pytest.raises(TypeError, match=f"{name} must be a real number"):
        gradcheck(lambda x: x, [1.0], **{name: "0.1"})


def test_wrong_number_of_arguments_is_python_s_own_error():
    with pytest.raises(TypeError):
        gradcheck(lambda a, b: a * b, [1.0])
