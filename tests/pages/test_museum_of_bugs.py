"""A museum of classic bugs: the page keeps its promises (every exhibit shows the bug, its
symptom, the check that catches it and the lesson), and what its exhibits say about PyTorch
and our engine holds."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from docs_harness import scan_fences
from page_links import nav_pages

from backprop import Tensor, gradcheck
from backprop.optim import SGD

ROOT = Path(__file__).resolve().parents[2]

EXPLANATION = ROOT / "docs" / "explanation"

MUSEUM = EXPLANATION / "museum-of-bugs.md"


def _torch():
    return pytest.importorskip("torch")


def test_the_page_is_in_the_nav_and_the_index() -> None:
    page = MUSEUM
    assert f"explanation/{page.name}" in nav_pages("Explanation")
    assert f"]({page.name})" in (EXPLANATION / "index.md").read_text("utf8")


def test_the_page_names_its_prerequisites() -> None:
    page = MUSEUM
    assert '!!! abstract "Prerequisites"' in page.read_text("utf8")


def test_the_museums_exhibits_each_show_bug_symptom_check_and_lesson_in_order() -> None:
    text = MUSEUM.read_text("utf8")
    sections = re.split(r"^## ", text, flags=re.M)
    exhibits = [s for s in sections if s.startswith("Exhibit ")]
    numbers = [int(re.match(r"Exhibit (\d+):", s)[1]) for s in exhibits]
    assert numbers == list(range(1, len(exhibits) + 1)) and len(exhibits) >= 11
    glance = text.split("## The collection at a glance", 1)[1]
    assert len(re.findall(r"^\| \d+\. ", glance, flags=re.M)) == len(exhibits)
    for exhibit in exhibits:
        title = exhibit.splitlines()[0]
        for label in ("**The bug.**", "**The symptom", "**The check", "**The lesson.**"):
            assert label in exhibit, f"{title}: no {label}"
        # the bug is shown in code, and the code is run and asserts
        fences = [f for f in scan_fences(exhibit) if f.lang == "python"]
        assert fences and all('exec="on"' in f.info for f in fences), title
        assert any("assert" in f.content for f in fences), title


def test_every_exhibit_with_a_tensor_op_says_how_it_is_built() -> None:
    """The tensor exhibits are built with the public Tensor.from_op, introduced up front."""
    text = MUSEUM.read_text("utf8")
    assert "_result" not in text  # no internal function on a page readers copy from
    intro = text.split("## Exhibit 1")[0]
    assert "`Tensor.from_op(data, parents, vjp, op)`" in intro


def test_torch_gradcheck_is_blind_through_a_sum_like_ours() -> None:
    torch = _torch()

    class BadSoftmax(torch.autograd.Function):
        @staticmethod
        def forward(ctx, z):
            s = torch.softmax(z, dim=-1)
            ctx.save_for_backward(s)
            return s

        @staticmethod
        def backward(ctx, g):
            (s,) = ctx.saved_tensors
            return s * (g - g.mean(dim=-1, keepdim=True))

    generator = torch.Generator().manual_seed(1)
    z = torch.randn(3, 5, dtype=torch.float64, generator=generator, requires_grad=True)
    check = torch.autograd.gradcheck
    assert check(lambda z: BadSoftmax.apply(z).sum(), (z,))
    assert not check(BadSoftmax.apply, (z,), raise_exception=False)
    assert not check(BadSoftmax.apply, (z,), fast_mode=True, raise_exception=False)
    ours = Tensor(z.detach().numpy(), requires_grad=True)
    assert gradcheck(lambda z: z.softmax(axis=-1), [ours])
    assert check(lambda z: torch.softmax(z, dim=-1), (z,))


def test_pytorch_mse_loss_warns_about_a_broadcast_target_but_still_broadcasts() -> None:
    torch = pytest.importorskip("torch")
    pred, target = torch.zeros(5, 1), torch.arange(5.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loss = torch.nn.functional.mse_loss(pred, target)
    assert any("different to the input size" in str(w.message) for w in caught)
    # it computed the (5, 5) comparison anyway: the mean over all pairs, not over rows
    assert loss.item() == pytest.approx(((0 - np.arange(5.0)) ** 2).mean())
    assert loss.item() != pytest.approx(0.0)


def test_pytorch_losses_average_by_default() -> None:
    torch = pytest.importorskip("torch")
    for loss in (torch.nn.MSELoss(), torch.nn.CrossEntropyLoss(), torch.nn.L1Loss()):
        assert loss.reduction == "mean"


def test_pytorch_optimisers_skip_a_parameter_without_a_gradient_as_ours_do() -> None:
    torch = pytest.importorskip("torch")

    w = torch.nn.Parameter(torch.ones(3))
    torch.optim.SGD([w], lr=0.1).step()  # w.grad is None: no error, no change
    assert torch.equal(w.detach(), torch.ones(3))

    ours = Tensor(np.ones(3), requires_grad=True)
    SGD([ours], lr=0.1).step()
    assert ours.grad is None and np.array_equal(ours.data, np.ones(3))


def test_a_loss_that_no_parameter_reaches_is_refused() -> None:
    cut = Tensor(np.tanh(Tensor(np.ones(2), requires_grad=True).data))
    with pytest.raises(RuntimeError, match="does not require gradients"):
        (cut * 2).sum().backward()
