"""Page 17, training: the loop, mini-batches, the noise of a batch gradient, diagnostics.

The page says that `backward()` adds into `.grad` (within one pass by the chain rule,
across calls by a convention that PyTorch shares, which makes gradient accumulation
work), that PyTorch's loop is the same five lines doing the same thing, that a random
batch gradient is unbiased with a spread of sigma/sqrt(B) times sqrt((N-B)/(N-1)), and
that PyTorch keeps an intermediate tensor's gradient with `retain_grad()`. These tests
check those claims away from the page's own numbers, and the page's structure: the
expected value is defined before it is used, and the links resolve.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest
from markdown.extensions.toc import slugify

from backprop.nn import Linear, ReLU, Sequential, Tanh
from backprop.optim import SGD
from backprop.tensor import cross_entropy

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGE = DOCS / "tutorial" / "17-training.md"
FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,}).*?^\1\2[ \t]*$", re.M | re.S)
LINK = re.compile(r"\]\(([^)\s#]*\.md)?(?:#([\w-]+))?\)")


def _prose(text: str) -> str:
    """The page with every fenced block blanked out, keeping every other offset."""
    return FENCE.sub(lambda m: " " * len(m.group(0)), text)


def anchors(page: Path) -> set[str]:
    """The ids MkDocs gives a page: its headings' slugs and explicit `{ #id }` ids."""
    prose = _prose(page.read_text("utf8"))
    ids = set(re.findall(r"\{\s*#([\w-]+)[^}]*\}", prose))
    for heading in re.findall(r"^#{1,6}[ \t]+(.+?)[ \t]*$", prose, re.M):
        if not re.search(r"\{\s*#[\w-]+[^}]*\}\s*$", heading):
            ids.add(slugify(heading.replace("`", ""), "-"))
    return ids


def _data(n: int = 60, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2)), rng.integers(0, 2, size=n)


def test_sections_come_in_teaching_order_and_the_expected_value_before_its_symbol() -> None:
    text = PAGE.read_text("utf8")
    prose = _prose(text)
    order = [slugify(h.replace("`", ""), "-") for h in re.findall(r"^##[ \t]+(.+)$", prose, re.M)]
    expected = [
        "the-loop",
        "mini-batches-epochs-and-shuffling",
        "why-a-noisy-gradient-works",
        "looking-inside-a-training-run",
        "exercises",
        "next",
    ]
    assert [h for h in order if h in expected] == expected
    assert prose.lower().index("expected value") < prose.index(r"\mathbb{E}")


def test_anchors_other_pages_link_to_exist_and_the_page_links_resolve() -> None:
    own = anchors(PAGE)
    incoming = {
        anchor
        for page in DOCS.rglob("*.md")
        if "vendor" not in page.parts
        for anchor in re.findall(r"17-training\.md#([\w-]+)", page.read_text("utf8"))
    }
    assert incoming and incoming <= own, incoming - own
    links = LINK.findall(_prose(PAGE.read_text("utf8")))
    for target, anchor in links:
        page = (PAGE.parent / target).resolve() if target else PAGE
        assert page.is_file(), target
        if anchor:
            assert anchor in anchors(page), f"{target}#{anchor}"
    targets = {target for target, _ in links}
    assert "07-backprop-automated.md" in targets  # where accumulation is explained
    assert "18-generalisation.md" in targets  # the next page


def test_gradients_add_up_across_backward_calls_in_both_engines() -> None:
    torch = pytest.importorskip("torch")
    X, y = _data()
    model = Sequential(Linear(2, 5, seed=0), ReLU(), Linear(5, 2, seed=1))
    cross_entropy(model(X), y).backward()
    once = [p.grad.copy() for p in model.parameters()]
    cross_entropy(model(X), y).backward()  # no zero_grad: the second pass adds
    assert all(
        np.allclose(p.grad, 2 * g, rtol=1e-14)
        for p, g in zip(model.parameters(), once, strict=True)
    )

    w = torch.tensor(model[0].weight.data, requires_grad=True)
    x = torch.tensor(X)
    for _ in range(2):
        (x @ w.T).tanh().sum().backward()
    single = torch.autograd.grad((x @ w.T).tanh().sum(), w)[0]
    assert torch.allclose(w.grad, 2 * single, rtol=1e-14, atol=0)


@pytest.mark.parametrize("pieces", [2, 3, 5])
def test_gradient_accumulation_of_pieces_gives_the_whole_batch_gradient(pieces: int) -> None:
    X, y = _data(n=47)  # pieces of unequal sizes
    model = Sequential(Linear(2, 4, seed=2), Tanh(), Linear(4, 2, seed=3))
    cross_entropy(model(X), y).backward()
    whole = [p.grad.copy() for p in model.parameters()]
    model.zero_grad()
    for rows in np.array_split(np.arange(len(y)), pieces):
        (len(rows) / len(y) * cross_entropy(model(X[rows]), y[rows])).backward()
    for p, g in zip(model.parameters(), whole, strict=True):
        assert np.allclose(p.grad, g, rtol=1e-12, atol=1e-15)


def test_pytorchs_five_line_loop_takes_the_same_steps() -> None:
    torch = pytest.importorskip("torch")
    X, y = _data()
    rng = np.random.default_rng(0)
    ours = Sequential(Linear(2, 6, seed=rng), ReLU(), Linear(6, 2, seed=rng))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2))
    theirs = theirs.double()
    with torch.no_grad():
        for t, p in zip(theirs.parameters(), ours.parameters(), strict=True):
            t.copy_(torch.tensor(p.data))
    optimizer, torch_optimizer = (
        SGD(ours.parameters(), lr=0.7),
        torch.optim.SGD(theirs.parameters(), lr=0.7),
    )
    xt, yt = torch.tensor(X), torch.tensor(y, dtype=torch.int64)
    for _ in range(5):
        optimizer.zero_grad()
        cross_entropy(ours(X), y).backward()
        optimizer.step()
        torch_optimizer.zero_grad()
        torch.nn.functional.cross_entropy(theirs(xt), yt).backward()
        torch_optimizer.step()
    for t, p in zip(theirs.parameters(), ours.parameters(), strict=True):
        assert np.allclose(t.detach().numpy(), p.data, rtol=1e-10, atol=1e-12)


def test_a_random_batch_gradient_is_unbiased_with_the_stated_spread() -> None:
    # Exact expectations over every batch of B different examples out of N, on made-up
    # per-example gradients: no sampling error, so the formulas must hold to rounding.
    rng = np.random.default_rng(5)
    N, B = 9, 4
    G = rng.normal(size=(N, 3)) * rng.uniform(0.1, 3.0, size=(N, 1))
    full = G.mean(axis=0)
    batches = np.array([G[list(c)].mean(axis=0) for c in itertools.combinations(range(N), B)])
    assert np.allclose(batches.mean(axis=0), full, rtol=1e-12, atol=1e-14)
    sigma = np.sqrt(((G - full) ** 2).sum(axis=1).mean())
    spread = np.sqrt(((batches - full) ** 2).sum(axis=1).mean())
    assert np.isclose(spread, sigma / np.sqrt(B) * np.sqrt((N - B) / (N - 1)), rtol=1e-12)


def test_pytorch_keeps_an_intermediate_gradient_with_retain_grad_as_ours_does() -> None:
    torch = pytest.importorskip("torch")
    X, _ = _data()
    layer = Linear(2, 3, seed=4)
    h = layer(X).tanh()
    h.retain_grad()
    (h * h).sum().backward()
    assert np.allclose(h.grad, 2 * h.data, rtol=1e-14)

    w = torch.tensor(layer.weight.data, requires_grad=True)
    ht = (torch.tensor(X) @ w.T + torch.tensor(layer.bias.data)).tanh()
    ht.retain_grad()
    (ht * ht).sum().backward()
    assert np.allclose(ht.grad.numpy(), h.grad, rtol=1e-12)
