"""Page 23, the whole path: what its exercise says about updating parameters in each engine."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from page_links import check_links, nav_pages

from backprop import Tensor


def test_writing_data_in_our_engine_is_not_recorded() -> None:
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    (w * w).sum().backward()
    w.data -= 0.5 * w.grad  # the exercise's update, without no_grad()
    assert np.array_equal(w.data, [0.0, 0.0])
    assert w.is_leaf  # still a leaf: the update made no node
    w.zero_grad()
    (w * Tensor(np.array([3.0, 5.0]))).sum().backward()
    assert np.array_equal(w.grad, [3.0, 5.0])  # the new loss's gradient, nothing else


def test_pytorch_needs_no_grad_for_an_in_place_update_of_a_leaf() -> None:
    torch = pytest.importorskip("torch")
    p = torch.tensor([1.0, -2.0], requires_grad=True)
    (p * p).sum().backward()
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        p -= 0.5 * p.grad
    with torch.no_grad():
        p -= 0.5 * p.grad
    assert torch.equal(p.detach(), torch.tensor([0.0, 0.0]))


DOCS = Path(__file__).resolve().parents[2] / "docs"
LAST_PAGE = DOCS / "tutorial" / "23-the-whole-path.md"


def test_the_last_page_sums_up_every_page_before_it_in_order() -> None:
    pages = nav_pages()
    assert pages[-1] == "tutorial/23-the-whole-path.md"
    text = LAST_PAGE.read_text("utf8")
    table = text.split("## What each page does", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| [")]
    linked = [re.search(r"\]\(([^)]+)\)", row).group(1) for row in rows]
    expected = [str(Path(os.path.relpath(DOCS / p, LAST_PAGE.parent))) for p in pages[:-1]]
    assert linked == expected, "one row per page of the path, in the nav's order"
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 3 and all(cells), f"a row needs a page, an idea and a rule: {row}"


def test_the_last_page_points_on_to_pytorch_jax_and_micrograd() -> None:
    text = LAST_PAGE.read_text("utf8")
    where = text.split("## Where to go next", 1)[1].split("\n## ", 1)[0]
    assert "../explanation/backprop-to-pytorch.md" in where
    for name in ["PyTorch", "JAX", "micrograd", "Further reading"]:
        assert name in where


def test_every_link_on_the_last_page_has_its_page_and_anchor() -> None:
    assert check_links(LAST_PAGE) >= 25


def test_the_last_pages_pytorch_namesakes_exist_and_agree_with_ours() -> None:
    """Page 23: `torch.nn.Linear`, `Tanh`, `Sequential` and `torch.optim.Adam` are the
    namesakes of the modules and optimiser of its program, with `zero_grad()` and `step()`."""
    torch = pytest.importorskip("torch")
    import numpy as np

    from backprop.nn import Linear, Sequential, Tanh
    from backprop.optim import Adam
    from backprop.tensor import cross_entropy

    rng = np.random.default_rng(0)
    ours = Sequential(Linear(2, 4, seed=rng), Tanh(), Linear(4, 3, seed=rng))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3))
    theirs = theirs.double()
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
            assert tuple(q.shape) == p.shape  # weights (out, in) in both
            q.copy_(torch.from_numpy(p.data))
    X, labels = rng.normal(size=(5, 2)), np.array([0, 2, 1, 1, 0])
    adam_ours = Adam(ours.parameters(), lr=0.1)
    adam_theirs = torch.optim.Adam(theirs.parameters(), lr=0.1)
    for _ in range(3):
        adam_ours.zero_grad()
        adam_theirs.zero_grad()
        cross_entropy(ours(X), labels).backward()
        torch.nn.functional.cross_entropy(
            theirs(torch.from_numpy(X)), torch.from_numpy(labels)
        ).backward()
        for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
            assert np.allclose(p.grad, q.grad.numpy(), rtol=1e-10, atol=1e-12)
        adam_ours.step()
        adam_theirs.step()
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert np.allclose(p.data, q.detach().numpy(), rtol=1e-10, atol=1e-12)
