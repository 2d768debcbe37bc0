"""Page 26, deep networks that train: the claims its blocks cannot check themselves.

The page measures per-layer gradient norms at initialisation for twenty-layer stacks
(plain, LayerNorm, BatchNorm1d, residual) for seeds 0 to 4 and trains the plain and the
residual stack; here the same inequalities are checked for other seeds, so that they are
not an accident of the page's. It also says that the engine's residual block backpropagates
as PyTorch's does, that a pre-norm transformer block (PyTorch's norm_first=True) computes
x + F(LayerNorm(x)) twice, and that Adam's first step is about the learning rate
whatever the gradient's size, until the gradient falls below its eps, where a plain stack
of thirty layers puts its first layer's gradient. It links back to
the pages it builds on, and its sections come in teaching order.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from markdown.extensions.toc import slugify

from backprop import Tensor
from backprop.datasets import make_moons
from backprop.nn import BatchNorm1d, LayerNorm, Linear, Module, ReLU, Sequential
from backprop.optim import SGD, Adam
from backprop.tensor import cross_entropy

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGE = DOCS / "tutorial" / "26-deep-networks.md"
FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,}).*?^\1\2[ \t]*$", re.M | re.S)
LINK = re.compile(r"\]\(([^)\s#]*\.md)?(?:#([\w-]+))?\)")
WIDTH, DEPTH = 16, 20


def _prose(text: str) -> str:
    return FENCE.sub(lambda m: " " * len(m.group(0)), text)


def _anchors(page: Path) -> set[str]:
    prose = _prose(page.read_text("utf8"))
    ids = set(re.findall(r"\{\s*#([\w-]+)[^}]*\}", prose))
    for heading in re.findall(r"^#{1,6}[ \t]+(.+?)[ \t]*$", prose, re.M):
        if not re.search(r"\{\s*#[\w-]+[^}]*\}\s*$", heading):
            ids.add(slugify(heading.replace("`", ""), "-"))
    return ids


def _links() -> list[tuple[str, str]]:
    text = _prose(PAGE.read_text("utf8"))
    return [(m.group(1) or "", m.group(2) or "") for m in LINK.finditer(text)]


# ---------------------------------------------------------------- links and structure


def test_the_prerequisites_link_to_pages_11_and_25() -> None:
    head = PAGE.read_text("utf8").split("**Prerequisites:**", 1)[1].split("\n## ", 1)[0]
    linked = {target for target, _ in LINK.findall(head)}
    assert {"11-layers-and-networks.md", "25-normalisation.md"} <= linked


def test_every_link_resolves_to_a_page_and_a_section_that_exist() -> None:
    for target, anchor in _links():
        page = PAGE if not target else (PAGE.parent / target).resolve()
        assert page.is_file(), target
        if anchor:
            assert anchor in _anchors(page), f"{target}#{anchor}"


def test_the_page_links_back_to_normalisation_in_its_last_section() -> None:
    last = _prose(PAGE.read_text("utf8")).rsplit("\n## ", 1)[1]
    assert "25-normalisation.md" in {target for target, _ in LINK.findall(last)}


def test_the_sections_come_in_teaching_order() -> None:
    headings = re.findall(r"^## (.+)$", _prose(PAGE.read_text("utf8")), re.M)
    order = ["Twenty layers", "gradient highway", "Training", "Exercises", "Next"]
    found = [next(i for i, h in enumerate(headings) if key in h) for key in order]
    assert found == sorted(found)


# ---------------------------------------------------------------- the stacks, other seeds


class Residual(Module):
    def __init__(self, branch: Sequential) -> None:
        self.branch = branch

    def __call__(self, x: object) -> Tensor:
        return x + self.branch(x)

    def parameters(self) -> list:
        return self.branch.parameters()

    def children(self) -> list:
        return [("branch", self.branch)]


def _build(kind: str, seed: int, depth: int = DEPTH) -> tuple[Sequential, list[Linear]]:
    rng = np.random.default_rng(seed)
    first = Linear(2, WIDTH, seed=rng)
    layers, linears = [first, ReLU()], [first]
    if kind == "residual":
        for _ in range((depth - 2) // 2):
            a, b = Linear(WIDTH, WIDTH, seed=rng), Linear(WIDTH, WIDTH, seed=rng)
            layers.append(Residual(Sequential(a, ReLU(), b)))
            linears += [a, b]
    else:
        norm = {"plain": None, "LayerNorm": LayerNorm, "BatchNorm1d": BatchNorm1d}[kind]
        for _ in range(depth - 2):
            layer = Linear(WIDTH, WIDTH, seed=rng)
            layers += [layer] + ([norm(WIDTH)] if norm else []) + [ReLU()]
            linears.append(layer)
    last = Linear(WIDTH, 2, seed=rng)
    return Sequential(*layers, last), [*linears, last]


X_TRAIN, Y_TRAIN = make_moons(n=200, noise=0.2, seed=1)


@pytest.mark.parametrize("seed", range(5, 25))
def test_the_gradient_norm_claims_hold_for_other_seeds(seed: int) -> None:
    ratio = {}
    for kind in ("plain", "LayerNorm", "BatchNorm1d", "residual"):
        model, linears = _build(kind, seed)
        cross_entropy(model(X_TRAIN), Y_TRAIN).backward()
        norms = [np.linalg.norm(layer.weight.grad) for layer in linears]
        assert len(norms) == DEPTH
        ratio[kind] = norms[0] / norms[-1]
    assert ratio["plain"] < 1e-4
    assert 100 * ratio["plain"] < ratio["LayerNorm"] < 0.9
    assert ratio["BatchNorm1d"] > 1
    assert 0.05 < ratio["residual"] < 2


@pytest.mark.parametrize("seed", [1, 2])
def test_plain_sgd_stays_at_ln_2_and_the_residual_stack_learns_for_other_seeds(seed) -> None:
    final = {}
    for kind, lr in (("plain", 0.1), ("residual", 0.03)):
        model, _ = _build(kind, seed)
        optimizer = SGD(model.parameters(), lr=lr)
        for _ in range(500):
            optimizer.zero_grad()
            loss = cross_entropy(model(X_TRAIN), Y_TRAIN)
            loss.backward()
            optimizer.step()
        final[kind] = float(loss.data)
    assert abs(final["plain"] - np.log(2)) < 0.01
    assert final["residual"] < final["plain"] / 3


@pytest.mark.parametrize("seed", range(5))
def test_a_few_more_plain_layers_put_the_first_layers_gradient_far_below_adams_eps(seed) -> None:
    model, linears = _build("plain", seed, depth=30)
    cross_entropy(model(X_TRAIN), Y_TRAIN).backward()
    assert np.abs(linears[0].weight.grad).max() < 1e-8 / 100


# ---------------------------------------------------------------- PyTorch


def test_a_residual_block_backpropagates_as_in_pytorch() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(21)
    a, b = Linear(4, 4, seed=rng), Linear(4, 4, seed=rng)
    x0, G = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))  # non-uniform upstream
    x = Tensor(x0, requires_grad=True)
    (x + Sequential(a, ReLU(), b)(x)).backward(G)

    ta, tb = torch.nn.Linear(4, 4).double(), torch.nn.Linear(4, 4).double()
    with torch.no_grad():
        for t, ours in ((ta, a), (tb, b)):
            t.weight.copy_(torch.from_numpy(ours.weight.data))
            t.bias.copy_(torch.from_numpy(ours.bias.data))
    tx = torch.tensor(x0, requires_grad=True)
    (tx + tb(torch.relu(ta(tx)))).backward(torch.from_numpy(G))
    assert np.allclose(x.grad, tx.grad.numpy(), rtol=1e-13, atol=1e-14)
    assert np.allclose(a.weight.grad, ta.weight.grad.numpy(), rtol=1e-13, atol=1e-14)


def test_a_pre_norm_transformer_block_computes_x_plus_f_of_layer_norm_x_twice() -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    block = torch.nn.TransformerEncoderLayer(
        d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, batch_first=True, norm_first=True
    ).double()
    block.eval()
    x = torch.randn(2, 5, 8, dtype=torch.float64)
    with torch.no_grad():
        n1 = block.norm1(x)
        h = x + block.self_attn(n1, n1, n1, need_weights=False)[0]
        expected = h + block.linear2(torch.relu(block.linear1(block.norm2(h))))
        assert torch.allclose(block(x), expected, rtol=1e-12, atol=1e-12)


def test_adams_first_step_is_about_the_learning_rate_until_the_gradient_nears_eps() -> None:
    torch = pytest.importorskip("torch")
    lr = 0.01
    for size in (1.0, 1e-6, 1e-10):
        p = Tensor(np.zeros(3), requires_grad=True)
        p.grad = np.array([1.0, -2.0, 0.5]) * size
        Adam([p], lr=lr).step()
        tp = torch.zeros(3, dtype=torch.float64, requires_grad=True)
        tp.grad = torch.from_numpy(np.array([1.0, -2.0, 0.5]) * size)
        torch.optim.Adam([tp], lr=lr).step()
        assert np.allclose(p.data, tp.detach().numpy(), rtol=1e-12, atol=0)
        g = np.abs(p.grad)
        assert np.allclose(np.abs(p.data), lr * g / (g + 1e-8), rtol=1e-12)
        if size >= 1e-6:
            assert np.all(np.abs(p.data) > 0.98 * lr)  # about the learning rate
        else:
            assert np.all(np.abs(p.data) < 0.03 * lr)  # far below eps: far below lr
