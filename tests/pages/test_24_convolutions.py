"""Page 24, convolutions: a sliding dot product, its two backward rules, im2col, pooling.

The page says that deep learning's "convolution" is the cross-correlation (the kernel is
not flipped), that padding P and stride s give floor((n + 2P - k) / s) + 1 outputs, that
the kernel's gradient is the input correlated with the upstream gradient and the input's
gradient the full convolution of the upstream gradient with the flipped kernel (with s - 1
zeros between its entries at stride s), that this is M^T g for the banded matrix M of the
convolution, that max pooling routes each window's gradient to its first winner as PyTorch
does while average pooling spreads it, and that the layers load a PyTorch state dict.
These tests check those claims at other sizes, with uneven upstream gradients, and against
PyTorch.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from page_links import anchors, links

from backprop import Tensor
from backprop.tensor import avg_pool2d, conv2d, max_pool2d

PAGE = Path(__file__).resolve().parents[2] / "docs" / "tutorial" / "24-convolutions.md"
NEXT = "25-normalisation.md"


def _corr2d(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """The 'valid' cross-correlation of two 2-D arrays, by loops."""
    ho, wo = x.shape[0] - k.shape[0] + 1, x.shape[1] - k.shape[1] + 1
    return np.array(
        [
            [(x[i : i + k.shape[0], j : j + k.shape[1]] * k).sum() for j in range(wo)]
            for i in range(ho)
        ]
    )


def test_the_convolution_of_deep_learning_does_not_flip_the_kernel() -> None:
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=9), np.array([3.0, -1.0, 0.5, 2.0])  # not symmetric
    ours = conv2d(Tensor(x.reshape(1, 1, 1, -1)), Tensor(w.reshape(1, 1, 1, -1))).data.ravel()
    assert np.allclose(ours, np.correlate(x, w, mode="valid"), rtol=1e-12, atol=1e-12)
    assert not np.allclose(ours, np.convolve(x, w, mode="valid"))  # the flipped one differs


def test_pytorch_conv2d_is_a_cross_correlation_too() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, k = rng.normal(size=(6, 7)), rng.normal(size=(3, 2))
    theirs = torch.nn.functional.conv2d(
        torch.tensor(x).reshape(1, 1, 6, 7), torch.tensor(k).reshape(1, 1, 3, 2)
    )
    assert np.allclose(theirs.numpy()[0, 0], _corr2d(x, k), rtol=1e-12, atol=1e-12)


SIZES = list(itertools.product((5, 8, 11), (1, 2, 3, 5), (0, 1, 2), (1, 2, 3)))


@pytest.mark.parametrize(("n", "k", "p", "s"), SIZES)
def test_the_output_size_formula(n: int, k: int, p: int, s: int) -> None:
    expected = (n + 2 * p - k) // s + 1
    x = Tensor(np.zeros((1, 1, n, n + 1)))
    y = conv2d(x, Tensor(np.zeros((1, 1, k, k))), stride=s, padding=p)
    assert y.shape[2] == expected
    assert y.shape[3] == (n + 1 + 2 * p - k) // s + 1  # each direction on its own
    assert max_pool2d(x, k, stride=s).shape[2] == (n - k) // s + 1


@pytest.mark.parametrize(("n", "k", "p", "s"), SIZES[::5])
def test_the_output_size_formula_is_pytorchs(n: int, k: int, p: int, s: int) -> None:
    torch = pytest.importorskip("torch")
    y = torch.nn.functional.conv2d(
        torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), stride=s, padding=p
    )
    assert y.shape[2] == (n + 2 * p - k) // s + 1


def _dilate(g: np.ndarray, s: int) -> np.ndarray:
    """g with s - 1 zeros between neighbouring entries in both directions."""
    b, c, h, w = g.shape
    out = np.zeros((b, c, s * (h - 1) + 1, s * (w - 1) + 1))
    out[:, :, ::s, ::s] = g
    return out


CASES = [  # (B, C_in, C_out, H, W, kh, kw, stride)
    (1, 1, 1, 5, 6, 3, 2, 1),
    (2, 3, 4, 7, 7, 3, 3, 2),
    (3, 2, 5, 9, 8, 2, 3, 3),
    (2, 2, 3, 6, 9, 4, 1, 1),
]


@pytest.mark.parametrize("case", CASES)
def test_the_two_backward_rules(case: tuple[int, ...]) -> None:
    b, c_in, c_out, h, w, kh, kw, s = case
    rng = np.random.default_rng(sum(case))
    # sizes where the last window ends at the last entry, so stride drops no input
    h, w = h - (h - kh) % s, w - (w - kw) % s
    X = Tensor(rng.normal(size=(b, c_in, h, w)), requires_grad=True)
    K = Tensor(rng.normal(size=(c_out, c_in, kh, kw)), requires_grad=True)
    beta = Tensor(rng.normal(size=c_out), requires_grad=True)
    Y = conv2d(X, K, beta, stride=s)
    G = rng.normal(size=Y.shape)
    assert len(np.unique(G)) == G.size
    Y.backward(G)

    # the kernel's gradient: the input correlated with G (dilated at stride s), over the batch
    Gs = _dilate(G, s)
    dK = np.array(
        [
            [sum(_corr2d(X.data[n, c], Gs[n, o]) for n in range(b)) for c in range(c_in)]
            for o in range(c_out)
        ]
    )
    assert np.allclose(K.grad, dK, rtol=1e-10, atol=1e-12)
    # the input's gradient: the full convolution of G (dilated) with the flipped kernel
    padded = np.pad(Gs, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
    flipped = K.data[:, :, ::-1, ::-1]
    dX = np.array(
        [
            [sum(_corr2d(padded[n, o], flipped[o, c]) for o in range(c_out)) for c in range(c_in)]
            for n in range(b)
        ]
    )
    assert np.allclose(X.grad, dX, rtol=1e-10, atol=1e-12)
    assert np.allclose(beta.grad, G.sum(axis=(0, 2, 3)), rtol=1e-12)


def test_the_input_gradient_is_the_transposed_banded_matrix_times_g() -> None:
    rng = np.random.default_rng(4)
    n, k = 7, 3
    x, w, g = rng.normal(size=n), rng.normal(size=k), rng.normal(size=n - k + 1)
    M = np.zeros((n - k + 1, n))
    for i in range(n - k + 1):
        M[i, i : i + k] = w  # row i holds the kernel from column i
    xt = Tensor(x.reshape(1, 1, 1, n), requires_grad=True)
    y = conv2d(xt, Tensor(w.reshape(1, 1, 1, k)))
    assert np.allclose(y.data.ravel(), M @ x, rtol=1e-12)
    y.backward(g.reshape(1, 1, 1, -1))
    assert np.allclose(xt.grad.ravel(), M.T @ g, rtol=1e-12)
    assert np.allclose(M[:, k - 1][:k][::-1], w)  # column k-1 holds the kernel reversed


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (2, 1), (3, 2)])
def test_conv2d_matches_pytorch_forward_and_backward(stride: int, padding: int) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(stride + 10 * padding)
    x = Tensor(rng.normal(size=(2, 3, 9, 8)), requires_grad=True)
    k = Tensor(rng.normal(size=(4, 3, 3, 2)), requires_grad=True)
    beta = Tensor(rng.normal(size=4), requires_grad=True)
    y = conv2d(x, k, beta, stride=stride, padding=padding)
    G = rng.normal(size=y.shape)
    y.backward(G)
    tx, tk, tb = (torch.tensor(t.data, requires_grad=True) for t in (x, k, beta))
    ty = torch.nn.functional.conv2d(tx, tk, tb, stride=stride, padding=padding)
    ty.backward(torch.tensor(G))
    assert np.allclose(ty.detach().numpy(), y.data, rtol=1e-12, atol=1e-12)
    for ours, theirs in ((x, tx), (k, tk), (beta, tb)):
        assert np.allclose(ours.grad, theirs.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("kernel", "stride", "padding"), [(2, None, 0), (2, 1, 0), (3, 2, 1), (3, 1, 1)]
)
def test_pooling_gradients_match_pytorch_with_ties(kernel, stride, padding) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(kernel * 7 + (stride or 0) + padding)
    data = rng.integers(0, 3, size=(2, 3, 6, 7)).astype(float)  # three values: many ties
    for ours_op, theirs_op in (
        (max_pool2d, torch.nn.functional.max_pool2d),
        (avg_pool2d, torch.nn.functional.avg_pool2d),
    ):
        x = Tensor(data, requires_grad=True)
        y = ours_op(x, kernel, stride, padding)
        G = rng.normal(size=y.shape)
        y.backward(G)
        tx = torch.tensor(data, requires_grad=True)
        ty = theirs_op(tx, kernel, stride, padding)
        ty.backward(torch.tensor(G))
        assert np.allclose(ty.detach().numpy(), y.data, rtol=1e-12)
        assert np.allclose(tx.grad.numpy(), x.grad, rtol=1e-12, atol=1e-15)


def test_max_pooling_gives_each_window_gradient_to_its_first_winner_only() -> None:
    rng = np.random.default_rng(5)
    data = rng.integers(0, 2, size=(1, 1, 6, 6)).astype(float)
    x = Tensor(data, requires_grad=True)
    G = rng.normal(size=(1, 1, 3, 3))
    max_pool2d(x, 2).backward(G)
    for i, j in np.ndindex(3, 3):
        window = data[0, 0, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2]
        expected = np.zeros((2, 2))
        expected[np.unravel_index(np.argmax(window), (2, 2))] = G[0, 0, i, j]
        assert np.array_equal(x.grad[0, 0, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2], expected)


def test_the_layers_load_a_pytorch_state_dict_and_agree() -> None:
    torch = pytest.importorskip("torch")
    from backprop.nn import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential

    torch.manual_seed(0)
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(96, 10),
    ).double()
    ours = Sequential(
        Conv2d(1, 6, 3, padding=1, seed=1), ReLU(), MaxPool2d(2), Flatten(), Linear(96, 10, seed=2)
    )
    ours.load_state_dict(theirs.state_dict())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(6)
    batch = rng.normal(size=(4, 1, 8, 8))
    G = rng.normal(size=(4, 10))
    y = ours(Tensor(batch))
    y.backward(G)
    ty = theirs(torch.tensor(batch))
    ty.backward(torch.tensor(G))
    assert np.allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert np.allclose(p.grad, q.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_the_page_links_its_prerequisites_and_the_next_page() -> None:
    targets = {path for path, _ in links(PAGE)}
    for prerequisite in (
        "13-from-scalars-to-tensors.md",
        "14-matrix-gradients.md",
        "15-broadcasting-and-reductions.md",
    ):
        assert prerequisite in targets
    assert NEXT in targets
    for path, anchor in links(PAGE):
        target = (PAGE.parent / path).resolve() if path else PAGE
        if path == NEXT and not target.is_file():
            continue  # the next page is being written; the strict build checks it
        assert target.is_file(), f"no page {path}"
        if anchor:
            assert anchor in anchors(target), f"no anchor #{anchor} in {path}"


def test_the_page_derives_the_backward_before_im2col_and_pooling_comes_last() -> None:
    text = PAGE.read_text("utf8")
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    order = [
        next(i for i, h in enumerate(headings) if word in h.lower())
        for word in ("1-d", "2-d", "backward", "im2col", "pooling", "exercises")
    ]
    assert order == sorted(order)
