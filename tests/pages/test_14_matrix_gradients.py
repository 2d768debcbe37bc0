"""Page 14, the gradient of a matrix product: X^T G and G W^T, and what the shapes tell.

The page derives dL/dW = X^T G and dL/dX = G W^T for Y = XW, says that with sizes that
are all different only one product of the available matrices has the right shape (and
that with square matrices several do, so the shapes are a shortcut, not a proof), and
that the engine's `linear` stores W as (out_features, in_features), as PyTorch's
nn.Linear does. These tests check the claims at other sizes, with uneven upstream
gradients, and against PyTorch.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest
from markdown.extensions.toc import slugify

from backprop import Tensor
from backprop.tensor import linear

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGE = DOCS / "tutorial" / "14-matrix-gradients.md"
SIZES = [(4, 3, 2), (1, 5, 3), (6, 2, 7)]  # (B, m, n_out)


@pytest.mark.parametrize(("B", "m", "n_out"), SIZES)
def test_the_two_gradients_of_a_matrix_product(B: int, m: int, n_out: int) -> None:
    rng = np.random.default_rng(B * m * n_out)
    X = Tensor(rng.normal(size=(B, m)), requires_grad=True)
    W = Tensor(rng.normal(size=(m, n_out)), requires_grad=True)
    G = rng.normal(size=(B, n_out))
    (X @ W).backward(G)
    assert np.allclose(W.grad, X.data.T @ G, rtol=1e-12, atol=1e-15)
    assert np.allclose(X.grad, G @ W.data.T, rtol=1e-12, atol=1e-15)


def _fitting_products(shape, A, C):
    """Products of one factor from {A, A.T} and one from {C, C.T}, either order, of `shape`."""
    found = set()
    for (a, left), (c, right) in itertools.product(
        [("A", A), ("A.T", A.T)], [("C", C), ("C.T", C.T)]
    ):
        for name, x, y in ((f"{a} @ {c}", left, right), (f"{c} @ {a}", right, left)):
            if x.shape[1] == y.shape[0] and (x @ y).shape == shape:
                found.add(name)
    return found


@pytest.mark.parametrize(("B", "m", "n_out"), SIZES[:1] + SIZES[2:])
def test_with_sizes_all_different_only_the_right_product_fits(B, m, n_out) -> None:
    X, W, G = np.ones((B, m)), np.ones((m, n_out)), np.ones((B, n_out))
    assert _fitting_products(W.shape, X, G) == {"A.T @ C"}  # X.T @ G
    assert _fitting_products(X.shape, G, W) == {"A @ C.T"}  # G @ W.T


def test_with_square_matrices_several_products_fit() -> None:
    X, G = np.ones((3, 3)), np.ones((3, 3))
    assert len(_fitting_products((3, 3), X, G)) > 1  # the shapes no longer decide


def test_the_engines_layout_is_torchs() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    X, V, b, G = (rng.normal(size=s) for s in ((5, 3), (4, 3), (4,), (5, 4)))
    Xt, Vt, bt = (Tensor(a, requires_grad=True) for a in (X, V, b))
    linear(Xt, Vt, bt).backward(G)

    layer = torch.nn.Linear(3, 4, dtype=torch.float64)
    assert tuple(layer.weight.shape) == (4, 3)  # (out_features, in_features)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(V))
        layer.bias.copy_(torch.from_numpy(b))
    x = torch.tensor(X, requires_grad=True)
    layer(x).backward(torch.from_numpy(G))
    assert np.allclose(Vt.grad, layer.weight.grad.numpy(), rtol=1e-12, atol=0)
    assert np.allclose(Vt.grad, G.T @ X, rtol=1e-12, atol=0)  # G^T X, the page's formula
    assert np.allclose(bt.grad, layer.bias.grad.numpy(), rtol=1e-12, atol=0)
    assert np.allclose(Xt.grad, x.grad.numpy(), rtol=1e-12, atol=0)


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
