"""The guide's claims about PyTorch's gradient semantics, checked against PyTorch itself.

Page 7 (Backpropagation, automated) and "Inside the engine" compare `backprop.Value`'s
rules for `.grad` with PyTorch's. Each test below checks one claim, on both sides, with
the graph the pages use: x = 3, h = x * x (an intermediate node), y = h + x.

Where they match: a leaf adds each pass's gradient to its `.grad` (two passes double it
exactly), and a value used twice gets the sum of its paths' gradients.
Where they differ: PyTorch keeps no `.grad` on an intermediate tensor (None, with a
warning on access) unless `retain_grad()` is called, and a retained one then accumulates
like a leaf; ours holds the latest pass's gradient. PyTorch refuses a second `backward()`
through a graph that saved tensors for its backward pass (a product, even by a constant,
or a tanh) unless the first call passed `retain_graph=True`; a graph of additions saves
nothing and can be run twice. Ours can always be run again. PyTorch's optimizers'
`zero_grad()` sets `.grad` to None; ours sets it to 0.0.
"""

from __future__ import annotations

import warnings

import pytest

from backprop import Value
from backprop.optim import SGD

torch = pytest.importorskip("torch")


def torch_graph():
    x = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    h = x * x
    y = h + x
    return x, h, y


def our_graph():
    x = Value(3.0, "x")
    h = x * x
    y = h + x
    return x, h, y


def test_the_installed_torch_is_the_version_the_pages_name() -> None:
    assert torch.__version__.startswith("2.13")


# --- where the two agree -------------------------------------------------------------------


def test_leaves_accumulate_across_backward_calls_in_both() -> None:
    x, _, y = torch_graph()
    y.backward(retain_graph=True)
    assert x.grad.item() == 7.0  # dy/dx = 2x + 1
    y.backward()
    assert x.grad.item() == 14.0  # added, not replaced: exactly twice

    x, _, y = our_graph()
    y.backward()
    assert x.grad == 7.0
    y.backward()
    assert x.grad == 14.0


def test_a_value_used_twice_sums_its_paths_in_both() -> None:
    a = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(-2.0, dtype=torch.float64, requires_grad=True)
    (a * b + a).backward()
    assert a.grad.item() == -2.0 + 1.0

    a_v, b_v = Value(3.0), Value(-2.0)
    (a_v * b_v + a_v).backward()
    assert a_v.grad == a.grad.item()


# --- where they differ: intermediate nodes -------------------------------------------------


def test_a_non_leaf_grad_is_none_in_torch_with_a_warning() -> None:
    x, h, y = torch_graph()
    y.backward()
    assert x.is_leaf and not h.is_leaf
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert h.grad is None


def test_retain_grad_keeps_a_non_leaf_grad_in_torch_and_it_accumulates() -> None:
    _, h, y = torch_graph()
    h.retain_grad()
    y.backward(retain_graph=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning once retain_grad() was called
        assert h.grad.item() == 1.0
    y.backward()
    assert h.grad.item() == 2.0  # accumulated like a leaf's


def test_our_intermediate_nodes_show_the_latest_pass_only() -> None:
    _, h, y = our_graph()
    y.backward()
    assert h.grad == 1.0  # present without asking
    y.backward()
    assert h.grad == 1.0  # reset at the start of each pass, not accumulated


# --- where they differ: a second backward() ------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda x: x * x,  # a product saves its operands
        lambda x: x * 2.0,  # even a product with a constant saves something
        lambda x: x.tanh(),  # tanh saves its output
    ],
    ids=["x*x", "x*2", "tanh"],
)
def test_torch_refuses_a_second_backward_through_saved_tensors(make) -> None:
    x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    y = make(x)
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()

    x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    y = make(x)
    y.backward(retain_graph=True)
    first = x.grad.item()
    y.backward()  # allowed after retain_graph=True
    assert x.grad.item() == 2 * first


def test_torch_runs_a_graph_of_additions_twice_without_retain_graph() -> None:
    x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    y = (x + x) + 1.0
    y.backward()
    y.backward()  # additions save no tensors: nothing was freed
    assert x.grad.item() == 4.0


def test_ours_runs_any_graph_again() -> None:
    for make in (lambda x: x * x, lambda x: x * 2.0, lambda x: x.tanh()):
        x = Value(0.5)
        y = make(x)
        y.backward()
        first = x.grad
        y.backward()
        assert x.grad == 2 * first


# --- zeroing -------------------------------------------------------------------------------


def test_zero_grad_sets_none_in_torch_and_zero_in_ours() -> None:
    w = torch.nn.Parameter(torch.tensor(2.0))
    (w * w).backward()
    optimizer = torch.optim.SGD([w], lr=0.1)
    optimizer.zero_grad()
    assert w.grad is None  # set_to_none=True is the default

    v = Value(2.0)
    (v * v).backward()
    ours = SGD([v], lr=0.1)
    ours.zero_grad()
    assert v.grad == 0.0
