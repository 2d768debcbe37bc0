"""From backprop to PyTorch: the page builds without PyTorch, and every statement it makes
about PyTorch holds in PyTorch 2.13 (skipped without torch; CI installs it)."""

from __future__ import annotations

import contextlib
import inspect
import io
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from docs_harness import scan_fences
from page_links import nav_pages

import backprop
from backprop import GradcheckError, Tensor, Value, gradcheck
from backprop.nn import Linear, ReLU, Sequential, Sigmoid, Tanh
from backprop.optim import SGD, Adam
from backprop.tensor import concatenate, cross_entropy, maximum, stack

ROOT = Path(__file__).resolve().parents[2]

EXPLANATION = ROOT / "docs" / "explanation"


BRIDGE = EXPLANATION / "backprop-to-pytorch.md"


def _torch():
    return pytest.importorskip("torch")


def test_the_page_is_in_the_nav_and_the_index() -> None:
    page = BRIDGE
    assert f"explanation/{page.name}" in nav_pages("Explanation")
    assert f"]({page.name})" in (EXPLANATION / "index.md").read_text("utf8")


def test_the_page_names_its_prerequisites() -> None:
    page = BRIDGE
    assert '!!! abstract "Prerequisites"' in page.read_text("utf8")


def _sessions(page: Path) -> dict[str, list[str]]:
    sessions: dict[str, list[str]] = {}
    for fence in scan_fences(page.read_text("utf8")):
        if fence.lang == "python" and fence.options.get("exec") == "on":
            sessions.setdefault(fence.options["session"], []).append(fence.content)
    return sessions


def test_the_pytorch_page_runs_without_pytorch(monkeypatch: pytest.MonkeyPatch) -> None:
    """`import torch` fails (as on a machine without it): every block still runs, and each
    session that wanted PyTorch says it is not installed."""
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    with pytest.raises(ImportError):
        import torch  # noqa: F401
    sessions = _sessions(BRIDGE)
    assert set(sessions) == {"bt-model", "bt-semantics", "bt-museum"}
    for name, blocks in sessions.items():
        namespace: dict[str, object] = {"__name__": f"page_{name}"}
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            for block in blocks:
                exec(compile(block, f"{BRIDGE.name}:{name}", "exec"), namespace)
        assert namespace["torch"] is None
        assert "PyTorch not installed" in out.getvalue(), name


def test_every_pytorch_block_of_the_page_guards_its_import() -> None:
    """The first block of a session that mentions torch imports it inside a guard."""
    for name, blocks in _sessions(BRIDGE).items():
        first = next((b for b in blocks if "torch" in b), None)
        if first is not None:
            assert "except ImportError:" in first and "torch = None" in first, name


def test_the_same_model_gives_the_same_loss_gradients_and_training() -> None:
    torch = _torch()
    F = torch.nn.functional
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 4))
    y = np.array([0, 2, 1, 2, 0])
    ours = Sequential(Linear(4, 8, seed=rng), Tanh(), Linear(8, 3, seed=rng))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)
    ).double()
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
            q.copy_(torch.from_numpy(p.data))
    optimizer = Adam(ours.parameters(), lr=0.05)
    toptimizer = torch.optim.Adam(theirs.parameters(), lr=0.05)
    for _ in range(5):
        optimizer.zero_grad()
        toptimizer.zero_grad()
        loss = cross_entropy(ours(X), y)
        tloss = F.cross_entropy(theirs(torch.from_numpy(X)), torch.from_numpy(y))
        loss.backward()
        tloss.backward()
        assert loss.item() == pytest.approx(tloss.item(), rel=1e-12)
        for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
            np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-11, atol=1e-15)
        optimizer.step()
        toptimizer.step()
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_every_name_in_the_map_exists_on_both_sides() -> None:
    torch = _torch()
    for name in ("retain_grad", "detach", "item", "numpy", "backward", "sum", "mean", "max"):
        assert hasattr(Tensor, name) and hasattr(torch.Tensor, name), name
    for name in ("softmax", "log_softmax", "transpose", "clip", "reshape"):
        assert hasattr(Tensor, name) and hasattr(torch.Tensor, name), name
    for name in ("amax", "permute", "clamp"):
        assert hasattr(torch.Tensor, name), name
    assert callable(backprop.no_grad) and callable(torch.no_grad)
    assert callable(concatenate) and callable(torch.cat)
    assert callable(stack) and callable(torch.stack)
    assert callable(maximum) and callable(torch.maximum)
    for ours, theirs in [
        (Linear, torch.nn.Linear),
        (Sequential, torch.nn.Sequential),
        (ReLU, torch.nn.ReLU),
        (Tanh, torch.nn.Tanh),
        (Sigmoid, torch.nn.Sigmoid),
        (SGD, torch.optim.SGD),
        (Adam, torch.optim.Adam),
    ]:
        assert ours.__name__ == theirs.__name__
    for name in ("zero_grad", "step"):
        assert hasattr(SGD, name) and hasattr(torch.optim.SGD, name)
    assert hasattr(backprop.nn.Module, "zero_grad") and hasattr(torch.nn.Module, "zero_grad")
    assert callable(torch.autograd.gradcheck)
    assert hasattr(torch.autograd.Function, "forward") and hasattr(torch.autograd.Function, "apply")


def test_tensor_attributes_mean_the_same() -> None:
    torch = _torch()
    data = [1.0, -2.0]
    a = Tensor(data, requires_grad=True)
    t = torch.tensor(data, dtype=torch.float64, requires_grad=True)
    assert a.requires_grad and t.requires_grad and a.is_leaf and t.is_leaf
    assert a.grad is None and t.grad is None
    assert tuple(t.shape) == a.shape == (2,)
    assert not a.detach().requires_grad and not t.detach().requires_grad
    assert (a * 2).sum().item() == (t * 2).sum().item() == -2.0


def test_only_floating_point_tensors_require_gradients() -> None:
    torch = _torch()
    with pytest.raises(RuntimeError, match="floating point and complex"):
        torch.tensor([1, 2], requires_grad=True)
    assert torch.tensor([1j], requires_grad=True).requires_grad  # complex: allowed in torch
    with pytest.raises(TypeError, match="only float32 and float64"):
        Tensor([1, 2], requires_grad=True)


def test_a_value_corresponds_to_a_0_dimensional_tensor() -> None:
    torch = _torch()
    t = torch.tensor(3.0, requires_grad=True)
    assert t.ndim == 0 and t.shape == torch.Size([])
    (t * t).backward()
    v = Value(3.0)
    (v * v).backward()
    assert t.grad.item() == v.grad == 6.0


def test_numpy_refuses_a_tensor_that_requires_gradients_in_torch_only() -> None:
    torch = _torch()
    t = torch.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Use tensor.detach\(\).numpy\(\)"):
        t.numpy()
    assert t.detach().numpy().tolist() == [1.0]
    assert Tensor([1.0], requires_grad=True).numpy().tolist() == [1.0]


def test_axis_and_keepdims_are_dim_and_keepdim() -> None:
    torch = _torch()
    x = np.arange(6.0).reshape(2, 3)
    a, t = Tensor(x), torch.tensor(x)
    for op in ("sum", "mean"):
        ours = getattr(a, op)(axis=1, keepdims=True)
        theirs = getattr(t, op)(dim=1, keepdim=True)
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-15)
    np.testing.assert_array_equal(a.softmax(axis=0).data, t.softmax(dim=0).numpy())
    np.testing.assert_allclose(a.log_softmax(axis=-1).data, t.log_softmax(dim=-1).numpy())


def test_max_with_a_dim_returns_indices_and_gives_a_tie_to_one_entry() -> None:
    torch = _torch()
    x = [[1.0, 3.0, 3.0]]
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    result = t.max(dim=1)
    assert result.values.tolist() == [3.0] and result.indices.tolist()[0] in (1, 2)
    result.values.sum().backward()
    assert sorted(t.grad[0].tolist()) == [0.0, 0.0, 1.0]  # all to one of the tied entries
    t.grad = None
    t.amax(dim=1).sum().backward()
    a = Tensor(np.array(x), requires_grad=True)
    a.max(axis=1).sum().backward()
    assert t.grad.tolist() == a.grad.tolist() == [[0.0, 0.5, 0.5]]  # shared


def test_transpose_swaps_two_axes_and_permute_takes_an_order_in_both() -> None:
    torch = _torch()
    x = np.arange(24.0).reshape(2, 3, 4)
    a, t = Tensor(x), torch.tensor(x)
    np.testing.assert_array_equal(a.permute(2, 0, 1).data, t.permute(2, 0, 1).numpy())
    assert tuple(t.transpose(0, 2).shape) == (4, 3, 2)  # axes 0 and 2 swapped
    np.testing.assert_array_equal(a.transpose(0, 2).data, t.transpose(0, 2).numpy())
    m = np.arange(6.0).reshape(2, 3)  # numpy's transpose((0, 1)) would leave it as it is
    np.testing.assert_array_equal(Tensor(m).transpose(0, 1).data, torch.tensor(m).T.numpy())


def test_clip_is_clamp() -> None:
    torch = _torch()
    x = [-2.0, 0.5, 3.0]
    t = torch.tensor(x, dtype=torch.float64)
    assert t.clip(-1.0, 1.0).tolist() == t.clamp(min=-1.0, max=1.0).tolist()
    assert Tensor(x).clip(-1.0, 1.0).data.tolist() == t.clamp(-1.0, 1.0).tolist()


def test_concatenate_stack_and_maximum_match_cat_stack_and_maximum() -> None:
    torch = _torch()
    x, y = np.arange(6.0).reshape(2, 3), np.ones((2, 3)) * 2
    a, b, t, u = Tensor(x), Tensor(y), torch.tensor(x), torch.tensor(y)
    np.testing.assert_array_equal(concatenate([a, b], axis=1).data, torch.cat([t, u], 1).numpy())
    np.testing.assert_array_equal(stack([a, b]).data, torch.stack([t, u]).numpy())
    np.testing.assert_array_equal(maximum(a, b).data, torch.maximum(t, u).numpy())


def test_cross_entropy_is_the_mean_over_the_batch_by_default() -> None:
    torch = _torch()
    F = torch.nn.functional
    assert inspect.signature(F.cross_entropy).parameters["reduction"].default == "mean"
    z = np.random.default_rng(0).normal(size=(4, 3))
    labels = np.array([0, 2, 1, 1])
    per_row = F.cross_entropy(torch.tensor(z), torch.tensor(labels), reduction="none")
    mean = F.cross_entropy(torch.tensor(z), torch.tensor(labels))
    assert mean.item() == pytest.approx(per_row.mean().item(), rel=1e-15)
    assert cross_entropy(Tensor(z), labels).item() == pytest.approx(mean.item(), rel=1e-13)
    # class probabilities as targets, as PyTorch takes them too
    q = np.full((4, 3), 1 / 3)
    theirs = F.cross_entropy(torch.tensor(z), torch.tensor(q)).item()
    assert cross_entropy(Tensor(z), q).item() == pytest.approx(theirs, rel=1e-13)


def test_parameters_is_a_list_in_ours_and_a_generator_in_torch() -> None:
    torch = _torch()
    assert isinstance(Linear(2, 3, seed=0).parameters(), list)
    params = torch.nn.Linear(2, 3).parameters()
    assert inspect.isgenerator(params)
    assert len(list(params)) == 2 and list(params) == []  # used up after one pass


def test_module_zero_grad_sets_none_and_set_to_none_false_sets_zeros() -> None:
    torch = _torch()
    for zero_grad in (torch.nn.Module.zero_grad, torch.optim.Optimizer.zero_grad):
        assert inspect.signature(zero_grad).parameters["set_to_none"].default is True
    layer = torch.nn.Linear(2, 1)
    layer(torch.ones(1, 2)).sum().backward()
    layer.zero_grad(set_to_none=False)
    assert layer.weight.grad is not None and not layer.weight.grad.any()
    layer.zero_grad()
    assert layer.weight.grad is None
    # ours: None for a Tensor, 0.0 for a Value, on a module and on an optimiser alike
    ours = Linear(2, 1, seed=0)
    ours([[1.0, 2.0]]).sum().backward()
    ours.zero_grad()
    assert ours.weight.grad is None and ours.bias.grad is None
    v = Value(2.0)
    (v * v).backward()
    SGD([v], lr=0.1).zero_grad()
    assert v.grad == 0.0


def test_sgd_takes_the_same_keywords_and_torch_has_more() -> None:
    torch = _torch()
    ours = set(inspect.signature(SGD).parameters)
    theirs = set(inspect.signature(torch.optim.SGD).parameters)
    assert {"params", "lr", "momentum", "weight_decay"} <= ours & theirs
    assert {"dampening", "nesterov"} <= theirs - ours


def test_adam_has_the_same_defaults() -> None:
    torch = _torch()
    ours = inspect.signature(Adam).parameters
    theirs = inspect.signature(torch.optim.Adam).parameters
    for name, value in [("lr", 1e-3), ("betas", (0.9, 0.999)), ("eps", 1e-8)]:
        assert ours[name].default == theirs[name].default == value, name
    assert ours["weight_decay"].default == theirs["weight_decay"].default == 0


def test_gradcheck_has_the_same_defaults_and_both_raise_on_a_mismatch() -> None:
    torch = _torch()
    ours = inspect.signature(gradcheck).parameters
    theirs = inspect.signature(torch.autograd.gradcheck).parameters
    for name, value in [("eps", 1e-6), ("atol", 1e-5), ("rtol", 1e-3)]:
        assert ours[name].default == theirs[name].default == value, name
    assert ours["raise_exception"].default is theirs["raise_exception"].default is True
    assert ours["fast"].default is False and theirs["fast_mode"].default is False

    class Half(torch.autograd.Function):  # x * x with half its derivative
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x

    x = torch.tensor([0.5, -1.5], dtype=torch.float64, requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        torch.autograd.gradcheck(Half.apply, (x,))
    assert type(info.value).__name__ == "GradcheckError"
    assert torch.autograd.gradcheck(Half.apply, (x,), raise_exception=False) is False
    assert issubclass(GradcheckError, AssertionError)
    assert torch.autograd.gradcheck(lambda x: x * x, (x,), fast_mode=True)


def test_torch_manual_seed_fixes_the_initial_weights() -> None:
    torch = _torch()
    torch.manual_seed(0)
    first = torch.nn.Linear(4, 8).weight.detach().clone()
    torch.manual_seed(0)
    assert torch.equal(first, torch.nn.Linear(4, 8).weight)
    assert np.array_equal(Linear(4, 8, seed=0).weight.data, Linear(4, 8, seed=0).weight.data)


def test_torch_in_place_operations_bump_the_version_counter() -> None:
    torch = _torch()
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    y = x * 2
    same, version = y, y._version
    y += 1
    assert y is same and y._version == version + 1
    y.mul_(3)
    assert y._version == version + 2
    y.sum().backward()  # x * 2 saved no tensor that changed: allowed
    assert x.grad.tolist() == [6.0, 6.0]


def test_torch_refuses_a_changed_saved_tensor_and_an_in_place_leaf() -> None:
    torch = _torch()
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    y = x.exp()  # saves its output
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    w = torch.tensor([3.0, 4.0], dtype=torch.float64, requires_grad=True)
    out = (x * w).sum()  # saves x and w
    with torch.no_grad():
        w.zero_()  # allowed on a leaf inside no_grad, and still counted
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        w += 1
    for name in ("add_", "mul_", "zero_"):
        assert hasattr(torch.Tensor, name)


def test_ours_has_no_in_place_operations_and_does_not_see_writes_to_data() -> None:
    assert not hasattr(Tensor, "__iadd__")
    public_in_place = [n for n in dir(Tensor) if n.endswith("_") and not n.startswith("_")]
    assert public_in_place == []
    x = Tensor([1.0, 2.0], requires_grad=True)
    w = Tensor([3.0, 4.0], requires_grad=True)
    y = x * w
    before = y
    y += 1
    assert y is not before and before.data.tolist() == [3.0, 8.0]
    w.data[...] = 0.0
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]  # silently the gradient for the new w


def test_default_dtypes() -> None:
    torch = _torch()
    assert torch.get_default_dtype() == torch.float32
    assert torch.tensor([1.0]).dtype == torch.float32
    assert torch.nn.Linear(2, 2).weight.dtype == torch.float32
    assert Tensor([1.0]).dtype == np.float64 and Linear(2, 2, seed=0).weight.dtype == np.float64
    assert torch.nn.Linear(2, 2).double().weight.dtype == torch.float64
    assert np.finfo(np.float32).eps == pytest.approx(1.19e-7, rel=1e-2)


def test_promotion_agrees_except_for_a_0_dimensional_float64_tensor() -> None:
    torch = _torch()
    f32 = np.ones(3, dtype=np.float32)
    a, t = Tensor(f32), torch.tensor(f32)
    same = [
        (a * 2.5, t * 2.5, torch.float32),
        (a * np.float64(2.0), t * np.float64(2.0), torch.float32),
        (a * Tensor(np.arange(3)), t * torch.arange(3), torch.float32),
        (a * Tensor(np.ones(3)), t * torch.ones(3, dtype=torch.float64), torch.float64),
    ]
    names = {torch.float32: np.float32, torch.float64: np.float64}
    for ours, theirs, dtype in same:
        assert theirs.dtype == dtype and ours.dtype == names[dtype]
    assert (f32 * np.arange(3)).dtype == np.float64  # numpy alone promotes
    zero_d_ours = a * Tensor(np.float64(2.0))
    zero_d_theirs = t * torch.tensor(2.0, dtype=torch.float64)
    assert Tensor(np.float64(2.0)).ndim == 0
    assert zero_d_ours.dtype == np.float64 and zero_d_theirs.dtype == torch.float32


def test_a_layer_refuses_a_tensor_of_another_dtype_in_both() -> None:
    torch = _torch()
    with pytest.raises(RuntimeError, match="same dtype"):
        torch.nn.Linear(2, 1)(torch.ones(1, 2, dtype=torch.float64))
    layer = Linear(2, 1, seed=0, dtype=np.float32)
    with pytest.raises(TypeError, match="float32 parameters but got a float64 input"):
        layer(Tensor(np.ones((1, 2))))
    assert layer(np.ones((1, 2))).dtype == np.float32  # a plain array is converted


def test_torch_warns_for_a_non_leaf_grad_with_the_words_the_page_prints() -> None:
    torch = _torch()
    x = torch.tensor([1.0], requires_grad=True)
    h = x * 2
    h.sum().backward()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert h.grad is None
    message = str(caught[0].message)
    assert message.startswith("The .grad attribute of a Tensor that is not a leaf Tensor")
    assert " Its " in message
