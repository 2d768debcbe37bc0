"""Page 15, broadcasting and reductions: a broadcast sums backward, a reduction copies.

The page says that a bias added to every row gets the upstream gradient summed over the
batch; that `unbroadcast` sums the axes broadcasting added on the left and the axes it
stretched from length 1; that sum, mean and max send the gradient back by copying
(divided by N for the mean, to the largest entry for max, shared equally at a tie); and
that centring a batch gives a gradient whose columns add up to 0. These tests check the
claims at other shapes and against PyTorch (`sum_to_size`, `amax`).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from markdown.extensions.toc import slugify

from backprop import Tensor
from backprop.tensor import unbroadcast

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGE = DOCS / "tutorial" / "15-broadcasting-and-reductions.md"
PAIRS = [((3,), (4, 3)), ((4, 1), (4, 3)), ((), (2, 3)), ((5, 1), (2, 5, 3)), ((1, 3), (2, 1))]


@pytest.mark.parametrize(("B", "n_out"), [(4, 3), (1, 5), (7, 2)])
def test_a_bias_gets_the_upstream_gradient_summed_over_the_batch(B: int, n_out: int) -> None:
    rng = np.random.default_rng(B + n_out)
    XW = Tensor(rng.normal(size=(B, n_out)))
    b = Tensor(rng.normal(size=n_out), requires_grad=True)
    G = rng.normal(size=(B, n_out))
    (XW + b).backward(G)
    assert b.grad.shape == b.shape
    assert np.allclose(b.grad, G.sum(axis=0), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("small", "big"), PAIRS)
def test_unbroadcast_is_torchs_sum_to_size(small, big) -> None:
    torch = pytest.importorskip("torch")
    out_shape = np.broadcast_shapes(small, big)
    g = np.random.default_rng(len(big)).normal(size=out_shape)
    ours = unbroadcast(g, small)
    theirs = torch.from_numpy(g).sum_to_size(small).numpy()
    assert ours.shape == small
    assert np.allclose(ours, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("small", "big"), PAIRS)
def test_the_engine_gives_a_broadcast_input_the_sum_over_its_copies(small, big) -> None:
    rng = np.random.default_rng(7)
    a = Tensor(rng.normal(size=small), requires_grad=True)
    c = Tensor(rng.normal(size=big), requires_grad=True)
    out = a * c
    G = rng.normal(size=out.shape)
    out.backward(G)
    assert a.grad.shape == a.shape and c.grad.shape == c.shape
    assert np.allclose(a.grad, unbroadcast(G * c.data, small), rtol=1e-12, atol=1e-15)


def test_reductions_copy_the_gradient_back() -> None:
    rng = np.random.default_rng(8)
    data = rng.normal(size=(4, 6))
    g = rng.normal(size=4)
    grads = {}
    for name in ("sum", "mean", "max"):
        X = Tensor(data, requires_grad=True)
        getattr(X, name)(axis=1).backward(g)
        grads[name] = X.grad
    assert np.allclose(grads["sum"], np.broadcast_to(g[:, None], data.shape))
    assert np.allclose(grads["mean"], np.broadcast_to(g[:, None] / 6, data.shape))
    winner = data == data.max(axis=1, keepdims=True)
    assert np.array_equal(grads["max"], winner * g[:, None])


def test_a_tie_for_the_maximum_shares_the_gradient_as_torchs_amax_does() -> None:
    torch = pytest.importorskip("torch")
    data = [[3.0, 1.0, 3.0, 3.0], [2.0, 5.0, 0.0, 5.0]]
    g = np.array([1.5, -2.0])
    X = Tensor(data, requires_grad=True)
    X.max(axis=1).backward(g)
    t = torch.tensor(data, dtype=torch.float64, requires_grad=True)
    t.amax(dim=1).backward(torch.from_numpy(g))
    assert np.allclose(X.grad, t.grad.numpy(), rtol=1e-15, atol=0)
    assert np.allclose(X.grad[0], [0.5, 0, 0.5, 0.5])  # 1.5 shared by three winners


def test_centring_gives_columns_that_add_up_to_zero_for_any_gradient() -> None:
    rng = np.random.default_rng(9)
    for B in (2, 5, 9):
        x = Tensor(rng.normal(size=(B, 3)), requires_grad=True)
        g = rng.normal(size=(B, 3)) * rng.uniform(0.1, 10, size=(B, 3))
        (x - x.mean(axis=0, keepdims=True)).backward(g)
        assert np.allclose(x.grad, g - g.mean(axis=0), rtol=0, atol=1e-13)
        assert np.allclose(x.grad.sum(axis=0), 0.0, rtol=0, atol=1e-12)


def _anchors(text: str) -> set[str]:
    anchors = set()
    for title in re.findall(r"^#{1,6} (.+?)\s*$", text, re.M):
        explicit = re.search(r"\{\s*#([\w-]+)\s*\}$", title)
        anchors.add(explicit.group(1) if explicit else slugify(title, "-"))
    return anchors


def test_every_anchor_other_pages_link_to_exists() -> None:
    linked = set()
    for page in DOCS.rglob("*.md"):
        linked |= set(re.findall(rf"{PAGE.name}#([\w-]+)", page.read_text("utf8")))
    assert linked, "no page links into this one: the test lost its subject"
    assert linked <= _anchors(PAGE.read_text("utf8"))
