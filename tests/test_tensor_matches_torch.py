"""Where `Tensor` and `torch.Tensor` share a spelling, they give the same answer.

Each test is one of the silent disagreements a PyTorch learner would otherwise meet, or one
of the names they reach for first: the result is PyTorch's, or a clear error that says what
to write instead, never a different answer given quietly.
"""

from __future__ import annotations

import numpy as np
import pytest

from backprop import Tensor
from backprop.tensor import minimum, where

torch = pytest.importorskip("torch")


def both(x: np.ndarray, grad: bool = False) -> tuple[Tensor, object]:
    return Tensor(x, requires_grad=grad), torch.tensor(x, requires_grad=grad)


def same(ours: Tensor, theirs: object) -> None:
    expected = theirs.detach().numpy()
    assert ours.shape == expected.shape
    assert ours.dtype == expected.dtype, (ours.dtype, expected.dtype)
    if expected.dtype.kind == "f":  # the same up to rounding (sums may add in another order)
        np.testing.assert_allclose(ours.data, expected, rtol=1e-12, atol=1e-15)
    else:  # bools and indices: exactly
        np.testing.assert_array_equal(ours.data, expected)


@pytest.fixture
def x() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(3, 4))


def test_transpose_of_a_matrix_swaps_its_axes(x) -> None:
    a, t = both(x)
    same(a.transpose(0, 1), t.transpose(0, 1))  # numpy's transpose((0, 1)) would not
    same(a.transpose(1, 0), t.transpose(1, 0))
    same(a.transpose(-1, -2), t.transpose(-1, -2))
    cube = np.arange(24.0).reshape(2, 3, 4)
    same(Tensor(cube).transpose(0, 2), torch.tensor(cube).transpose(0, 2))


def test_equality_is_elementwise_and_tensors_stay_hashable(x) -> None:
    a, t = both(x)
    same(a == a[0], t == t[0])
    same(a != 0.5, t != 0.5)
    for op in ("__lt__", "__le__", "__gt__", "__ge__"):
        same(getattr(a, op)(a[1]), getattr(t, op)(t[1]))
    assert {a: "a"}[a] == "a" and hash(a) == object.__hash__(a)
    b = Tensor(x.copy())
    assert len({a, b}) == 2  # equal values, two tensors: hashed by identity, as in torch
    assert (a == None) is False and (a != None) is True  # noqa: E711
    assert (t == None) is False  # noqa: E711


def test_the_truth_of_a_tensor_needs_one_entry(x) -> None:
    a, t = both(x)
    with pytest.raises(RuntimeError):
        bool(t == t)
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(a == a)
    assert bool(Tensor(2.0) > 1) is bool(torch.tensor(2.0) > 1) is True
    assert bool((a == a).all()) and not bool((a != a).any())


def test_an_empty_tuple_of_axes_is_refused_since_torch_reduces_everything(x) -> None:
    a, t = both(x)
    assert t.sum(dim=()).shape == ()  # PyTorch: every axis
    assert np.sum(x, axis=()).shape == x.shape  # numpy: no axis
    with pytest.raises(ValueError, match="ambiguous"):
        a.sum(())
    with pytest.raises(ValueError, match="ambiguous"):
        a.mean(dim=())


def test_dim_and_keepdim_spell_the_same_reductions(x) -> None:
    a, t = both(x)
    same(a.sum(dim=1, keepdim=True), t.sum(dim=1, keepdim=True))
    same(a.sum(dim=[0, 1]), t.sum(dim=[0, 1]))
    same(a.mean(dim=0), t.mean(dim=0))
    same(a.amax(dim=1), t.amax(dim=1))
    same(a.amin(dim=(0, 1)), t.amin(dim=(0, 1)))
    same(a.softmax(dim=0), t.softmax(dim=0))
    same(a.log_softmax(dim=1), t.log_softmax(dim=1))
    same(a.argmax(dim=1, keepdim=True), t.argmax(dim=1, keepdim=True))
    same(a.argmax(), t.argmax())


def test_max_with_dim_returns_values_and_indices_in_torch_so_ours_refuses(x) -> None:
    a, t = both(x)
    values, indices = t.max(dim=1)
    same(a.amax(dim=1), values)
    same(a.argmax(dim=1), indices)
    with pytest.raises(TypeError, match="amax"):
        a.max(dim=1)
    same(a.max(), t.max())  # without dim both return the largest value


def test_argmax_takes_the_first_of_tied_entries() -> None:
    ties = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    a, t = both(ties)
    same(a.argmax(dim=1), t.argmax(dim=1))
    same(a.argmin(axis=0), t.argmin(dim=0))


def test_a_tensor_index_works_inside_a_tuple() -> None:
    x = np.arange(60.0).reshape(3, 4, 5)
    a, t = both(x)
    i = np.array([2, 0, 2])
    j = np.array([1, 3, 3])
    same(a[:, Tensor(i), :], t[:, torch.tensor(i), :])
    same(a[Tensor(i), Tensor(j)], t[torch.tensor(i), torch.tensor(j)])
    same(a[(Tensor(i), 1)], t[(torch.tensor(i), 1)])
    mask = x[:, 0, 0] > 10
    same(a[Tensor(mask)], t[torch.tensor(mask)])


def test_gradients_flow_through_a_tensor_index_in_a_tuple() -> None:
    x = np.arange(12.0).reshape(3, 4)
    a, t = both(x, grad=True)
    i = np.array([2, 0, 2])
    g = np.random.default_rng(1).normal(size=(3, 3))
    a[:, Tensor(i)][:3].backward(g)
    t[:, torch.tensor(i)][:3].backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad, t.grad.numpy())


def test_mixed_advanced_indexing_keeps_numpys_axis_order() -> None:
    """Documented difference: advanced indices split by a slice go first in numpy (and here),
    while PyTorch keeps them in place when they are next to each other in its own order."""
    x = np.arange(2 * 3 * 12 * 4 * 3.0).reshape(2, 3, 12, 4, 3)
    d = np.array([0, 2, 1])
    ours = Tensor(x)[1, :, 3:11:2, d, 0:2]
    theirs = torch.tensor(x)[1, :, 3:11:2, torch.tensor(d), 0:2]
    assert ours.shape == x[1, :, 3:11:2, d, 0:2].shape == (3, 3, 4, 2)  # numpy's
    assert tuple(theirs.shape) != ours.shape
    assert Tensor.__getitem__.__doc__ and "PyTorch" in Tensor.__getitem__.__doc__


def test_an_integer_tensor_keeps_its_width_with_a_python_int() -> None:
    for dtype in (np.int32, np.int64, np.int16):
        ours = Tensor(np.array([1, 2], dtype=dtype)) * 3
        theirs = torch.tensor(np.array([1, 2], dtype=dtype)) * 3
        same(ours, theirs)
    floated = Tensor(np.array([1, 2], dtype=np.int32)) * 2.5
    assert floated.dtype == np.float64  # torch gives its default float (float32) here
    assert (torch.tensor(np.array([1, 2], dtype=np.int32)) * 2.5).dtype == torch.float32


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda a: a.view(-1, 2), lambda t: t.view(-1, 2)),
        (lambda a: a.permute(1, 0), lambda t: t.permute(1, 0)),
        (lambda a: a.flatten(), lambda t: t.flatten()),
        (lambda a: a.unsqueeze(0).unsqueeze(-1), lambda t: t.unsqueeze(0).unsqueeze(-1)),
        (lambda a: a.unsqueeze(1).squeeze(), lambda t: t.unsqueeze(1).squeeze()),
        (lambda a: a.squeeze(0), lambda t: t.squeeze(0)),  # size 3: left as it is
        (lambda a: a[:1].expand(5, -1), lambda t: t[:1].expand(5, -1)),
        (lambda a: a.expand(2, 3, 4), lambda t: t.expand(2, 3, 4)),
        (lambda a: a.matmul(a.T), lambda t: t.matmul(t.T)),
        (lambda a: a.masked_fill(a < 0, -1.0), lambda t: t.masked_fill(t < 0, -1.0)),
        (lambda a: where(a > 0, a, a * 2), lambda t: torch.where(t > 0, t, t * 2)),
        (
            lambda a: minimum(a, 0.1),
            lambda t: torch.minimum(t, torch.tensor(0.1, dtype=torch.float64)),
        ),
        (lambda a: a.min(axis=1), lambda t: t.amin(dim=1)),
    ],
)
def test_new_operations_match_torch_with_their_gradients(ours, theirs, x) -> None:
    a, t = both(x, grad=True)
    ya, yt = ours(a), theirs(t)
    same(ya, yt)
    g = np.random.default_rng(2).normal(size=ya.shape)
    ya.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad, t.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_the_behaviours_the_side_by_side_page_lists_as_different() -> None:
    """docs/reference/tensor-and-torch.md, "Behaviour that differs"."""
    assert Tensor([1.0]).dtype == np.float64 and torch.tensor([1.0]).dtype == torch.float32
    # backward() twice: our graph is kept, PyTorch's is freed unless retain_graph=True
    a, t = Tensor([2.0], requires_grad=True), torch.tensor([2.0], requires_grad=True)
    ya, yt = (a * a).sum(), (t * t).sum()
    ya.backward()
    ya.backward()
    assert a.grad.tolist() == [8.0]
    yt.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        yt.backward()
    # the same seed gives the same numbers, numpy's, not PyTorch's
    from backprop.tensor import randn

    assert np.array_equal(randn(3, seed=7).data, np.random.default_rng(7).standard_normal(3))
    # no in-place operations here; PyTorch has them
    assert not hasattr(Tensor, "add_") and hasattr(torch.Tensor, "add_")
    # view shares memory where numpy can, as PyTorch's does
    m = Tensor(np.zeros((2, 3)))
    v = m.view(-1)
    m.data[0, 0] = 5.0
    assert v.data[0] == 5.0
