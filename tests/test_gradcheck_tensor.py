"""Tests of backprop.gradcheck on Tensors: the full Jacobian and the fast vᵀJu mode pass on
correct operations, fail with a clear message on broken ones, and leave everything as found."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis.extra import numpy as hnp

from backprop import GradcheckError, Tensor, Value, gradcheck
from backprop.tensor import _result, concatenate, cross_entropy, linear, stack, unbroadcast


def t(*shape: int, seed: int = 0, low: float | None = None) -> Tensor:
    """A float64 tensor of normal entries (or uniform in [low, low + 1]) to check."""
    rng = np.random.default_rng(seed)
    data = rng.normal(size=shape) if low is None else low + rng.uniform(size=shape)
    return Tensor(data, requires_grad=True)


LABELS = np.array([0, 2, 1, 2])

CORRECT = {
    "matmul": (lambda x, w: x @ w, [t(2, 3), t(3, 4, seed=1)]),
    "batched matmul": (lambda x, w: x @ w, [t(2, 2, 3), t(3, 2, seed=1)]),
    "matrix @ vector": (lambda x, v: x @ v, [t(2, 3), t(3, seed=1)]),
    "vector @ matrix": (lambda v, w: v @ w, [t(3), t(3, 2, seed=1)]),
    "dot": (lambda u, v: u @ v, [t(3), t(3, seed=1)]),
    "broadcast add": (lambda x, b: x + b, [t(2, 3), t(3, seed=1)]),
    "broadcast mul column": (lambda x, c: x * c, [t(2, 3), t(2, 1, seed=1)]),
    "broadcast sub and div": (lambda x, c: (x - c) / (c * c + 1), [t(2, 3), t(1, 3, seed=1)]),
    "power and sqrt": (lambda x: x**3 + x.sqrt(), [t(2, 2, low=0.5)]),
    "exp log tanh sigmoid": (
        lambda x: x.exp() + (x * x + 1).log() + x.tanh() * x.sigmoid(),
        [t(2, 3)],
    ),
    "softmax": (lambda z: z.softmax(axis=-1), [t(2, 3)]),
    "softmax axis 0": (lambda z: z.softmax(axis=0), [t(3, 2)]),
    "log_softmax": (lambda z: z.log_softmax(), [t(2, 3)]),
    "cross_entropy": (lambda z: cross_entropy(z, LABELS), [t(4, 3)]),
    "sum mean max": (
        lambda x: x.sum(axis=0) * x.mean(axis=1, keepdims=True) + x.max(axis=1, keepdims=True),
        [t(3, 2)],
    ),
    "reshape transpose": (lambda x: (x.reshape(3, 2).T * x).transpose(), [t(2, 3)]),
    "indexing, repeated": (lambda x: x[[0, 0, 1]] * x[:, 1:].sum(), [t(2, 3)]),
    "concatenate stack": (
        lambda a, b: concatenate([a, b], axis=1) + stack([a, b[:, 1:]]).sum(axis=0).mean(),
        [t(2, 2), t(2, 3, seed=1)],
    ),
    "linear": (lambda x, w, b: linear(x, w, b).tanh(), [t(4, 3), t(2, 3, seed=1), t(2, seed=2)]),
    "0-d in and out": (lambda s: (s * s).exp(), [t()]),
}


@pytest.mark.parametrize("fast", [False, True], ids=["full", "fast"])
@pytest.mark.parametrize("name", CORRECT)
def test_correct_operations_pass(name, fast):
    f, inputs = CORRECT[name]
    assert gradcheck(f, inputs, fast=fast) is True


def test_inputs_that_do_not_require_a_gradient_are_held_fixed():
    x = Tensor(np.random.default_rng(0).normal(size=(4, 3)))  # the data: fixed
    w = t(3, 2)
    assert gradcheck(lambda x, w: (x @ w).tanh(), [x, w])


def test_a_non_leaf_input_is_checked_at_its_value():
    x = t(2, 2)
    y = x * 3
    assert gradcheck(lambda y: y.tanh(), [y])
    assert x.grad is None and y.grad is None


def test_the_same_tensor_twice_is_two_variables():
    x = t(3)
    assert gradcheck(lambda a, b: a * b.exp(), [x, x])


def test_a_constant_function_has_a_zero_jacobian():
    assert gradcheck(lambda x: Tensor([1.0, 2.0]) * 3, [t(2)])
    assert gradcheck(lambda x: Tensor([1.0, 2.0]) * 3, [t(2)], fast=True)


@settings(max_examples=25, deadline=None)
@given(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
def test_broadcasting_operations_pass_for_any_broadcastable_shapes(shapes):
    a, b = t(*shapes.input_shapes[0]), t(*shapes.input_shapes[1], seed=1, low=1.0)
    assert gradcheck(lambda a, b: a * b + a / b - b, [a, b])


# ------------------------------------------------------------------- broken operations


def transposed_matmul(a: Tensor, b: Tensor) -> Tensor:
    """`a @ b` whose VJP for `b` is transposed: right shape for a square `b`, wrong numbers."""
    x, y = a.data, b.data

    def vjp(g):
        return g @ y.T, (x.T @ g).T

    return _result(x @ y, (a, b), vjp, "bad @")


def add_without_summing(a: Tensor, b: Tensor) -> Tensor:
    """`a + b` for a bias `b`, whose VJP takes the first row of `g` instead of the sum."""
    x, y = a.data, b.data

    def vjp(g):
        return g, g[0]

    return _result(x + y, (a, b), vjp, "bad +")


def negated_tanh(a: Tensor) -> Tensor:
    s = np.tanh(a.data)

    def vjp(g):
        return (-g * (1 - s * s),)

    return _result(s, (a,), vjp, "bad tanh")


def mul_ignoring_upstream(a: Tensor, b: Tensor) -> Tensor:
    """`a * b` whose VJP forgets to multiply by `g`: right when every `g` is 1."""
    x, y = a.data, b.data

    def vjp(g):
        return y.copy(), x.copy()

    return _result(x * y, (a, b), vjp, "bad *")


def test_a_transposed_matmul_gradient_is_caught_and_located():
    x, w = t(2, 3), t(3, 3, seed=1)
    with pytest.raises(GradcheckError) as info:
        gradcheck(transposed_matmul, [x, w])
    message = str(info.value)
    assert message.startswith("gradcheck: the Jacobian of 1 of 2 inputs disagrees")
    assert "input 1 of shape (3, 3)" in message and "input 0" not in message
    (fail,) = info.value.failures
    assert fail["index"] == 1 and fail["entries"] == 6 * 9
    # Off-diagonal entries of w's gradient are swapped; the diagonal (j == k) is right:
    # d out[i, k] / d w[j, k] = x[i, j], and the bug puts it at w[k, j].
    assert fail["mismatches"] == 24
    (i, k), (j, kk) = fail["output_index"], fail["input_index"]
    assert j != kk and (kk == k or j == k)
    assert f"d out[{i}, {k}] / d x1[{j}, {kk}]" in message
    numeric, analytic = fail["numeric_jacobian"], fail["analytic_jacobian"]
    assert fail["numeric"] == pytest.approx(numeric.reshape(2, 3, 3, 3)[i, k, j, kk])
    assert fail["analytic"] == analytic.reshape(2, 3, 3, 3)[i, k, j, kk]
    assert fail["abs_diff"] == pytest.approx(abs(fail["analytic"] - fail["numeric"]))


def test_the_fast_mode_catches_it_too():
    x, w = t(2, 3), t(3, 3, seed=1)
    with pytest.raises(GradcheckError) as info:
        gradcheck(transposed_matmul, [x, w], fast=True)
    message = str(info.value)
    assert message.startswith("gradcheck (fast): vᵀ J u")
    assert "rerun with fast=False" in message
    assert "input 1 of shape (3, 3): vᵀ J u: analytic" in message
    assert [fail["index"] for fail in info.value.failures] == [1]


def test_a_bias_gradient_that_is_not_summed_is_caught():
    x, b = t(4, 3), t(3, seed=1)
    with pytest.raises(GradcheckError, match=r"input 1 of shape \(3,\): 9 of 36 Jacobian"):
        gradcheck(add_without_summing, [x, b])
    assert not gradcheck(add_without_summing, [x, b], fast=True, raise_exception=False)


def test_a_bias_gradient_of_the_wrong_shape_is_an_engine_error():
    def forgot_to_unbroadcast(a, b):
        def vjp(g):
            return g, g  # g has the batch's shape, not the bias's

        return _result(a.data + b.data, (a, b), vjp, "bad +")

    with pytest.raises(RuntimeError, match=r"gradient of shape \(4, 3\) for an input of shape"):
        gradcheck(forgot_to_unbroadcast, [t(4, 3), t(3, seed=1)])
    assert unbroadcast(np.ones((4, 3)), (3,)).tolist() == [4.0] * 3  # the right rule


def test_a_negated_gradient_is_caught_in_both_modes():
    x = t(2, 2)
    for fast in (False, True):
        with pytest.raises(GradcheckError, match="input 0 of shape"):
            gradcheck(negated_tanh, [x], fast=fast)


def test_a_bug_that_sum_backward_cannot_see():
    """With `.sum()` every upstream gradient is 1 and the missing factor g goes unseen;
    the full Jacobian (and the fast mode's random v) sees it."""
    x, w = t(2, 3), t(2, 3, seed=1)
    assert gradcheck(lambda x, w: mul_ignoring_upstream(x, w).sum(), [x, w])
    assert not gradcheck(lambda x, w: mul_ignoring_upstream(x, w), [x, w], raise_exception=False)
    assert not gradcheck(mul_ignoring_upstream, [x, w], fast=True, raise_exception=False)
    # Row j of the Jacobian came out as all of w instead of w_j at entry j alone.
    with pytest.raises(GradcheckError, match=r"input 0 of shape \(2, 3\): 30 of 36 Jacobian"):
        gradcheck(mul_ignoring_upstream, [x, w])


def test_the_message_for_a_0_d_output_and_input():
    s = t()
    with pytest.raises(GradcheckError, match=r"1 of 1 Jacobian entries, the worst d out / d x0"):
        gradcheck(lambda s: s * s.detach(), [s])


def test_tolerances_apply_entry_by_entry():
    def scaled_exp(a, delta):
        e = np.exp(a.data)

        def vjp(g):
            return (g * e * (1 + delta),)

        return _result(e, (a,), vjp, "exp")

    x = Tensor([3.0, -12.0], requires_grad=True)  # exp: about 20 and 6e-6
    assert gradcheck(lambda x: scaled_exp(x, 1e-4), [x])  # within rtol
    assert not gradcheck(lambda x: scaled_exp(x, 1e-2), [x], raise_exception=False)
    with pytest.raises(GradcheckError, match=r"eps=0\.0001, atol=1e-07, rtol=0\.01"):
        gradcheck(lambda x: scaled_exp(x, 0.5), [x], eps=1e-4, atol=1e-7, rtol=1e-2)


# -------------------------------------------------------------- everything left as found


def test_inputs_and_captured_parameters_are_left_as_found():
    x, w = t(2, 3), t(3, 2, seed=1)
    b = t(2, seed=2)  # used by f, not checked
    x.grad, b.grad = np.full((2, 3), 7.0), np.array([1.0, 2.0])
    data_x, copy_x = x.data, x.data.copy()
    for fast in (False, True):
        assert gradcheck(lambda x, w: (x @ w + b).tanh(), [x, w], fast=fast)
        assert not gradcheck(
            lambda x, w: negated_tanh(x @ w + b), [x, w], fast=fast, raise_exception=False
        )
    assert x.data is data_x and np.array_equal(x.data, copy_x)
    assert x.grad.tolist() == [[7.0] * 3] * 2 and w.grad is None
    assert b.grad.tolist() == [1.0, 2.0]


def test_an_output_that_is_a_view_of_the_input_is_copied():
    x = t(2, 3)
    assert gradcheck(lambda x: x.reshape(3, 2), [x])
    assert gradcheck(lambda x: x[0], [x])
    assert gradcheck(lambda x: x, [x])


def test_inputs_are_left_as_found_when_f_raises_at_a_moved_point():
    x = Tensor([1.0, 1e-7], requires_grad=True)
    with pytest.raises(ValueError, match="log of non-positive entries") as info:
        gradcheck(lambda x: x.log(), [x], eps=1e-6)
    assert x.data.tolist() == [1.0, 1e-7] and x.grad is None
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "input 0 entry [1] moved from 1e-07 to" in notes and "smaller eps" in notes
    assert gradcheck(lambda x: x.log(), [x], eps=1e-9)


def test_the_fast_mode_is_reproducible_and_seedable():
    x, w = t(2, 3), t(3, 3, seed=1)
    failures = []
    for seed in (2718, 2718, 1, np.random.default_rng(5)):
        with pytest.raises(GradcheckError) as info:
            gradcheck(transposed_matmul, [x, w], fast=True, seed=seed)
        failures.append(info.value.failures[0]["analytic"])
    assert failures[0] == failures[1] != failures[2]


# ------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("inputs", "error", "match"),
    [
        ([t(2), Value(1.0)], TypeError, r"inputs\[1\] must be a Tensor .* do not mix"),
        ([Value(1.0), t(2)], TypeError, r"inputs\[0\] must be a Tensor"),
        ([t(2), np.zeros(2)], TypeError, r"inputs\[1\] must be a Tensor"),
        (
            [Tensor(np.zeros(2, dtype=np.float32), requires_grad=True)],
            TypeError,
            "needs float64",
        ),
        ([Tensor([1.0, 2.0])], ValueError, "no input requires a gradient"),
    ],
)
def test_bad_inputs(inputs, error, match):
    with pytest.raises(error, match=match):
        gradcheck(lambda *xs: xs[0] * 2, inputs)


def test_a_single_tensor_instead_of_a_sequence():
    with pytest.raises(TypeError, match=r"sequence of Tensors, e\.g\. \[x\] rather than x"):
        gradcheck(lambda x: x, t(2))


@pytest.mark.parametrize("result", [1.0, None, Value(1.0), np.zeros(2)])
def test_f_must_return_a_tensor(result):
    with pytest.raises(TypeError, match="f must return a Tensor for Tensor inputs"):
        gradcheck(lambda x: result, [t(2)])


def test_f_must_return_float64():
    with pytest.raises(TypeError, match="f returned a float32 Tensor"):
        gradcheck(lambda x: Tensor(x.data, dtype=np.float32), [t(2)])


def test_f_must_keep_its_output_shape():
    shapes = iter([(2,), (1,), (1,)])

    def f(x):
        return x[: next(shapes)[0]]

    with pytest.raises(ValueError, match=r"f returned shape \(1,\) with input 0 entry \[0\]"):
        gradcheck(f, [t(2)])


def test_fast_mode_is_for_tensors():
    with pytest.raises(ValueError, match="fast=True is for Tensor inputs"):
        gradcheck(lambda x: x * x, [Value(1.0)], fast=True)
