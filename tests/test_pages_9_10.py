"""Claims of tutorial pages 9 (A neuron) and 10 (Layers and networks) that their own code
shows for one case only, checked here more widely.

- Page 9: a stack of affine layers is one affine map, whatever its depth and widths.
- Page 10: neurons that start as twins stay twins under every optimiser of
  `backprop.optim` (the page says so of `SGD` and `Adam`), with momentum and weight
  decay too; the parameter-count formula; and the exact power-of-two scaling of a ReLU
  network's first-layer gradient (Exercise 4), for several depths and seeds.
- Both pages link to each other and to the sections they cite.
"""

from __future__ import annotations

import math
import re
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from markdown.extensions.toc import slugify

from backprop.datasets import make_moons
from backprop.losses import mse
from backprop.nn import MLP
from backprop.optim import SGD, Adam, Optimizer

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial"
PAGE9 = TUTORIAL / "09-a-neuron.md"
PAGE10 = TUTORIAL / "10-layers-and-networks.md"


@pytest.mark.parametrize(("sizes", "seed"), [([3, 1], 0), ([5, 2, 7, 1], 1), ([1, 1, 1, 1], 2)])
def test_affine_layers_collapse_into_one_affine_map(sizes: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    stack = MLP(3, sizes, activation="linear", seed=seed)
    stack.set_parameters(rng.uniform(-2, 2, len(stack.parameters())))

    def f(x: np.ndarray) -> float:
        out = stack([float(t) for t in x])
        return out.data

    d = f(np.zeros(3))
    u = [f(e) - d for e in np.eye(3)]
    for x in rng.normal(size=(10, 3)) * 4:
        assert math.isclose(f(x), float(np.dot(u, x)) + d, rel_tol=1e-10, abs_tol=1e-10)


def _twins(activation: str) -> MLP:
    """MLP(2, [3, 3, 1]) whose neurons are equal within each layer."""
    model = MLP(2, [3, 3, 1], activation=activation, seed=0)
    model.set_parameters([0.4, -0.7, 0.1] * 3 + [0.3, 0.3, 0.3, -0.2] * 3 + [0.6, 0.6, 0.6, 0.05])
    return model


OPTIMISERS = {
    "sgd": lambda ps: SGD(ps, lr=0.1),
    "sgd-momentum-decay": lambda ps: SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01),
    "adam": lambda ps: Adam(ps, lr=0.01),
    "adam-decay": lambda ps: Adam(ps, lr=0.01, weight_decay=0.01),
}


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("name", sorted(OPTIMISERS))
def test_twins_stay_twins_under_every_optimiser(activation: str, name: str) -> None:
    X, y = make_moons(n=12, noise=0.1, seed=3)
    inputs, targets = X.tolist(), (2 * y - 1).tolist()
    model = _twins(activation)
    before = [p.data for p in model.parameters()]
    optimizer: Optimizer = OPTIMISERS[name](model.parameters())
    for _ in range(15):
        loss = mse([model(x) for x in inputs], targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert [p.data for p in model.parameters()] != before  # it trained
    for layer in model.layers[:-1]:
        first, *others = [[p.data for p in n.parameters()] for n in layer.neurons]
        assert all(other == first for other in others)  # bitwise equal


def test_unequal_outgoing_weights_break_the_symmetry() -> None:
    X, y = make_moons(n=12, noise=0.1, seed=3)
    model = _twins("tanh")
    out = model.layers[-1].neurons[0]
    out.w[1].data = -0.6  # the output neuron weighs the second-layer neurons unequally
    mse([model(x) for x in X.tolist()], (2 * y - 1).tolist()).backward()
    grads = [[p.grad for p in n.parameters()] for n in model.layers[1].neurons]
    assert grads[0] == grads[2] != grads[1]


@pytest.mark.parametrize("nin, nouts", [(1, [1]), (3, [7]), (4, [2, 9, 3]), (10, [1, 1, 1, 1, 5])])
def test_the_parameter_count_formula(nin: int, nouts: list[int]) -> None:
    sizes = [nin, *nouts]
    formula = sum(n * (before + 1) for before, n in pairwise(sizes))
    assert len(MLP(nin, nouts, seed=0).parameters()) == formula


@pytest.mark.parametrize(("depth", "seed", "k"), [(2, 0, 2.0), (4, 1, 4.0), (6, 2, 0.5)])
def test_scaling_relu_weights_scales_first_layer_gradients_exactly(
    depth: int, seed: int, k: float
) -> None:
    def grads(scale: float) -> list[float]:
        model = MLP(3, [6] * (depth - 1) + [1], seed=seed)
        for layer in model.layers:
            for neuron in layer.neurons:
                for w in neuron.w:
                    w.data *= scale
        model([0.3, -1.2, 0.7]).backward()
        return [w.grad for n in model.layers[0].neurons for w in n.w]

    once = grads(1.0)
    assert any(once)
    assert grads(k) == [k ** (depth - 1) * g for g in once]


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text("utf8"), flags=re.S)
    explicit = set(re.findall(r"\{ *#([\w-]+) *\}", text))
    titles = [re.sub(r"\{.*\}", "", h).strip() for h in re.findall(r"^#+ (.+)$", text, re.M)]
    headings = {slugify(title, "-") for title in titles}
    return explicit | headings


@pytest.mark.parametrize("page", [PAGE9, PAGE10], ids=lambda p: p.stem)
def test_links_to_tutorial_sections_exist(page: Path) -> None:
    text = re.sub(r"```.*?```", "", page.read_text("utf8"), flags=re.S)
    links = re.findall(r"\]\(([0-9]{2}-[\w-]+\.md)(?:#([\w-]+))?\)", text)
    assert links
    for target, anchor in links:
        assert (TUTORIAL / target).exists(), target
        if anchor:
            assert anchor in _anchors(TUTORIAL / target), f"{target}#{anchor}"


def test_the_pages_link_onwards() -> None:
    assert "10-layers-and-networks.md" in PAGE9.read_text("utf8")
    assert "11-loss-functions.md" in PAGE10.read_text("utf8")
