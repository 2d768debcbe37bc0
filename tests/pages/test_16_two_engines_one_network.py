"""Page 16, two engines, one network: the same numbers from `Value` and from `Tensor`.

The page says that a 2-16-16-2 network gives the same loss and gradients on both engines
to 1e-12 (but not always to the last bit), that the tensor graph has 12 nodes whatever
the batch size while the scalar graph grows with it, and (Exercise 3) that a batch with
every point twice has the same mean loss and gradients. Its prerequisites must be pages a
reader has met on the path; the moons notebook, which is not on it, only as an option.
These tests check the claims on other data, and the prerequisites line.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from markdown.extensions.toc import slugify

import backprop
from backprop import Tensor
from backprop.datasets import make_moons
from backprop.losses import softmax_cross_entropy
from backprop.nn import MLP
from backprop.tensor import cross_entropy, linear, topological_order

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGE = DOCS / "tutorial" / "16-two-engines-one-network.md"


def _both_engines(X: np.ndarray, y: np.ndarray, seed: int):
    model = MLP(2, [16, 16, 2], activation="tanh", seed=seed)
    scalar_loss = softmax_cross_entropy([model(list(x)) for x in X], y.tolist())
    scalar_loss.backward()
    params = []
    for layer in model.layers:
        params.append(Tensor([[w.data for w in n.w] for n in layer.neurons], requires_grad=True))
        params.append(Tensor([n.b.data for n in layer.neurons], requires_grad=True))
    W1, b1, W2, b2, W3, b3 = params
    h = linear(linear(Tensor(X), W1, b1).tanh(), W2, b2).tanh()
    loss = cross_entropy(linear(h, W3, b3), y)
    loss.backward()
    scalar_grads = []
    for layer in model.layers:
        scalar_grads.append(np.array([[w.grad for w in n.w] for n in layer.neurons]))
        scalar_grads.append(np.array([n.b.grad for n in layer.neurons]))
    return scalar_loss, scalar_grads, loss, params


@pytest.mark.parametrize(("B", "seed"), [(8, 1), (40, 2)])
def test_both_engines_agree_to_1e_12_on_other_data(B: int, seed: int) -> None:
    X, y = make_moons(n=B, noise=0.2, seed=seed)
    scalar_loss, scalar_grads, loss, params = _both_engines(X, y, seed)
    assert abs(scalar_loss.data - loss.item()) <= 1e-12
    for g, p in zip(scalar_grads, params, strict=True):
        assert g.shape == p.shape
        assert np.abs(g - p.grad).max() <= 1e-12
    assert len(topological_order(loss)) == 12  # whatever the batch size
    assert len(backprop.topological_order(scalar_loss)) > 70 * B  # 70 nodes a point, and more


def test_every_point_twice_leaves_the_mean_loss_and_gradients() -> None:
    X, y = make_moons(n=24, noise=0.1, seed=3)
    _, _, once, p1 = _both_engines(X, y, 0)
    _, _, twice, p2 = _both_engines(np.concatenate([X, X]), np.concatenate([y, y]), 0)
    assert abs(once.item() - twice.item()) < 1e-14
    for a, b in zip(p1, p2, strict=True):
        assert np.abs(a.grad - b.grad).max() < 1e-14


def _tutorial_nav() -> list[str]:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    nav = yaml.load((ROOT / "mkdocs.yml").read_text("utf8"), Loader=Loader)["nav"]

    def files(node):
        if isinstance(node, str):
            return [node]
        if isinstance(node, list):
            return [f for item in node for f in files(item)]
        if isinstance(node, dict):
            return [f for value in node.values() for f in files(value)]
        return []

    return files(nav)


def test_the_prerequisites_are_on_the_reading_path_before_this_page() -> None:
    text = PAGE.read_text("utf8")
    line = text[text.index("**Prerequisites:**") :].split("\n\n", 1)[0]
    path = [f for f in _tutorial_nav() if f.startswith(("tutorial/", "notebooks/digits"))]
    before = path[: path.index("tutorial/16-two-engines-one-network.md")]
    required, _, optional = line.partition("Optional")
    targets = re.findall(r"\]\(([^)#]+)", required)
    assert targets, "the prerequisites link to nothing"
    for target in targets:
        assert f"tutorial/{target}" in before, f"{target} is not on the path before page 16"
    assert "notebooks/train-moons.py" not in required  # off the path: optional only
    assert "notebooks/train-moons.py" in optional


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
