"""Page 13, from scalars to tensors: what it claims about Jacobians, their numbering and VJPs.

The page numbers the entries of a tensor row by row (row-major, `reshape(-1)`), says that
the Jacobian of a batch layer is zero outside its diagonal blocks (a fraction 1/B can be
non-zero, and 1/n_out of the Jacobian with respect to the weights), that a VJP is g^T J,
and asks for the softmax Jacobian diag(p) - p p^T. These tests check the claims at other
sizes than the page's, and the softmax one against PyTorch.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from markdown.extensions.toc import slugify

from backprop import Tensor

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGE = DOCS / "tutorial" / "13-from-scalars-to-tensors.md"
SIZES = [(3, 4, 2), (2, 3, 5), (4, 1, 3)]  # (B, m, n_out)


def _jacobian(f, x: Tensor, out_shape: tuple[int, ...]) -> np.ndarray:
    """The Jacobian of f at x, one row per output entry (row-major), from one-hot VJPs."""
    size = int(np.prod(out_shape))
    rows = []
    for a in range(size):
        x.zero_grad()
        f(x).backward(np.eye(size)[a].reshape(out_shape))
        rows.append(x.grad.reshape(-1).copy())
    return np.array(rows)


@pytest.mark.parametrize(("B", "m", "n_out"), SIZES)
def test_row_major_numbering_is_what_reshape_does(B: int, m: int, n_out: int) -> None:
    Y = np.random.default_rng(B).normal(size=(B, n_out))
    flat = Y.reshape(-1)
    for i in range(B):
        for k in range(n_out):
            assert flat[i * n_out + k] == Y[i, k]  # a = i * n_out + k


@pytest.mark.parametrize(("B", "m", "n_out"), SIZES)
def test_a_batch_layer_jacobian_is_zero_outside_its_diagonal_blocks(
    B: int, m: int, n_out: int
) -> None:
    rng = np.random.default_rng(10 * B + m)
    X = Tensor(rng.normal(size=(B, m)), requires_grad=True)
    W = rng.normal(size=(m, n_out))
    J = _jacobian(lambda x: (x @ Tensor(W)).tanh(), X, (B, n_out))
    blocks = J.reshape(B, n_out, B, m)
    for i in range(B):
        for i2 in range(B):
            if i != i2:
                assert not blocks[i, :, i2, :].any()
    # the diagonal blocks: tanh'(z_ik) * W[j, k]
    Z = X.data @ W
    for i in range(B):
        expected = (1 - np.tanh(Z[i]) ** 2)[:, None] * W.T
        assert np.allclose(blocks[i, :, i, :], expected, rtol=1e-12, atol=1e-15)
    assert np.count_nonzero(J) == J.size // B  # a fraction 1/B


@pytest.mark.parametrize(("B", "m", "n_out"), SIZES)
def test_the_weight_jacobian_has_a_fraction_one_over_n_out_non_zero(
    B: int, m: int, n_out: int
) -> None:
    rng = np.random.default_rng(20 + B)
    X = rng.normal(size=(B, m))
    W = Tensor(rng.normal(size=(m, n_out)), requires_grad=True)
    J = _jacobian(lambda w: Tensor(X) @ w, W, (B, n_out))
    assert J.shape == (B * n_out, m * n_out)
    assert np.count_nonzero(J) == J.size // n_out


def test_a_vjp_with_an_uneven_gradient_is_g_transpose_j() -> None:
    rng = np.random.default_rng(3)
    B, m, n_out = 3, 4, 2
    X = Tensor(rng.normal(size=(B, m)), requires_grad=True)
    W = Tensor(rng.normal(size=(m, n_out)))
    J = _jacobian(lambda x: (x @ W).tanh(), X, (B, n_out))
    G = rng.normal(size=(B, n_out))
    X.zero_grad()
    (X @ W).tanh().backward(G)
    assert np.allclose(X.grad.reshape(-1), G.reshape(-1) @ J, rtol=1e-12, atol=1e-15)


def test_the_softmax_jacobian_is_diag_p_minus_p_p_transpose_as_in_torch() -> None:
    torch = pytest.importorskip("torch")
    z = np.array([1.0, 2.0, 0.5, -1.0, 3.0])
    ours = Tensor(z, requires_grad=True)
    J = _jacobian(lambda t: t.softmax(), ours, (5,))
    p = np.exp(z) / np.exp(z).sum()
    assert np.allclose(J, np.diag(p) - np.outer(p, p), rtol=0, atol=1e-15)
    theirs = torch.autograd.functional.jacobian(
        lambda t: torch.softmax(t, dim=0), torch.tensor(z, dtype=torch.float64)
    )
    assert np.allclose(J, theirs.numpy(), rtol=0, atol=1e-15)


def _headings(text: str) -> list[tuple[int, str]]:
    """(position, anchor) of every heading, honouring an explicit {#id}."""
    found = []
    for match in re.finditer(r"^#{1,6} (.+?)\s*$", text, re.M):
        title = match.group(1)
        explicit = re.search(r"\{\s*#([\w-]+)\s*\}$", title)
        found.append((match.start(), explicit.group(1) if explicit else slugify(title, "-")))
    return found


def test_the_numbering_is_shown_before_the_chain_rule_uses_it() -> None:
    text = PAGE.read_text("utf8")
    anchors = dict((a, pos) for pos, a in _headings(text))
    numbering = text.index("np.arange(B * n_out).reshape(B, n_out)")
    assert (
        anchors["the-jacobian-every-output-against-every-input"]
        < numbering
        < anchors["the-chain-rule-with-a-jacobian-the-vector-jacobian-product"]
    )


def test_every_anchor_other_pages_link_to_exists() -> None:
    anchors = {a for _, a in _headings(PAGE.read_text("utf8"))}
    linked = set()
    for page in DOCS.rglob("*.md"):
        linked |= set(re.findall(rf"{PAGE.name}#([\w-]+)", page.read_text("utf8")))
    assert linked, "no page links into this one: the test lost its subject"
    assert linked <= anchors
