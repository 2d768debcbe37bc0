"""Claims of tutorial page 10 (A neuron), checked more widely than its own code.

- A stack of affine layers is one affine map, whatever its depth and widths; with tanh
  between the layers it is not.
- tanh is a stretched sigmoid, the sigmoid's slope is at most 1/4, and the slopes fall
  below 0.01 past |z| = 2 acosh(5) (sigmoid) and acosh(10) (tanh) everywhere, not only
  at the edge the page checks.
- Every gradient of a neuron carries the activation's slope: for each activation, the
  gradients of the weights are slope times input.
- The page links to the sections it cites and to the next page, and every anchor other
  pages link to exists.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from markdown.extensions.toc import slugify

from backprop import Value
from backprop.nn import MLP, Neuron

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
TUTORIAL = DOCS / "tutorial"
PAGE = TUTORIAL / "10-a-neuron.md"


@pytest.mark.parametrize(("sizes", "seed"), [([3, 1], 0), ([5, 2, 7, 1], 1), ([1, 1, 1, 1], 2)])
def test_affine_layers_collapse_into_one_affine_map(sizes: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    stack = MLP(3, sizes, activation="linear", seed=seed)
    stack.set_parameters(rng.uniform(-2, 2, len(stack.parameters())))

    def f(x: np.ndarray) -> float:
        return stack([float(t) for t in x]).data

    d = f(np.zeros(3))
    u = [f(e) - d for e in np.eye(3)]
    for x in rng.normal(size=(10, 3)) * 4:
        assert math.isclose(f(x), float(np.dot(u, x)) + d, rel_tol=1e-10, abs_tol=1e-10)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_a_bending_activation_breaks_the_collapse(activation: str) -> None:
    rng = np.random.default_rng(5)
    net = MLP(2, [4, 4, 1], activation=activation, seed=5)
    net.set_parameters(rng.uniform(-1, 1, len(net.parameters())))

    def f(x: np.ndarray) -> float:
        return net([float(t) for t in x]).data

    d = f(np.zeros(2))
    u = [f(e) - d for e in np.eye(2)]
    misses = [abs(f(x) - float(np.dot(u, x)) - d) for x in rng.uniform(-5, 5, (20, 2))]
    assert max(misses) > 1e-3


def _slope(activation: str, z: float) -> float:
    v = Value(z)
    getattr(v, activation)().backward()
    return v.grad


def test_the_activations_slopes_and_where_they_go_flat() -> None:
    zs = np.linspace(-12, 12, 481)
    tanh_edge, sigmoid_edge = math.acosh(10), 2 * math.acosh(5)
    for z in map(float, zs):
        assert math.isclose(math.tanh(z), 2 / (1 + math.exp(-2 * z)) - 1, abs_tol=1e-15)
        assert 0 < _slope("sigmoid", z) <= 0.25
        assert 0 < _slope("tanh", z) <= 1
        if abs(z) > tanh_edge:
            assert _slope("tanh", z) < 0.01
        if abs(z) > sigmoid_edge:
            assert _slope("sigmoid", z) < 0.01
        if z != 0:
            assert _slope("relu", z) == (1.0 if z > 0 else 0.0)  # never small: 1 or 0
    assert _slope("sigmoid", 0.0) == 0.25 and _slope("tanh", 0.0) == 1.0


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_every_weight_gradient_is_the_slope_times_its_input(activation: str) -> None:
    rng = np.random.default_rng(7)
    for _ in range(5):
        x = rng.normal(size=3).tolist()
        params = rng.normal(size=4).tolist()
        neuron = Neuron(3, activation=activation)
        neuron.set_parameters(params)
        neuron(x).backward()
        z = float(np.dot(params[:3], x) + params[3])
        slope = _slope(activation, z)
        for w, xi in zip(neuron.w, x, strict=True):
            assert math.isclose(w.grad, slope * xi, rel_tol=1e-12, abs_tol=1e-15)
        assert math.isclose(neuron.b.grad, slope, rel_tol=1e-12, abs_tol=1e-15)


def _prose(page: Path) -> str:
    return re.sub(r"```.*?```", "", page.read_text("utf8"), flags=re.S)


def _anchors(page: Path) -> set[str]:
    text = _prose(page)
    explicit = set(re.findall(r"\{ *#([\w-]+) *\}", text))
    titles = [re.sub(r"\{.*\}", "", h).strip() for h in re.findall(r"^#+ (.+)$", text, re.M)]
    return explicit | {slugify(title, "-") for title in titles}


def test_links_from_the_page_to_tutorial_sections_resolve() -> None:
    links = re.findall(r"\]\(([0-9]{2}-[\w-]+\.md)(?:#([\w-]+))?\)", _prose(PAGE))
    assert ("11-layers-and-networks.md", "") in links  # the next page
    for target, anchor in links:
        assert (TUTORIAL / target).exists(), target
        if anchor:
            assert anchor in _anchors(TUTORIAL / target), f"{target}#{anchor}"


def test_every_anchor_other_pages_use_exists() -> None:
    used = set()
    for md in DOCS.rglob("*.md"):
        used |= set(re.findall(rf"{PAGE.name}#([\w-]+)", md.read_text("utf8")))
    assert {"weighted-sum-bias-activation", "where-they-go-flat"} <= used
    assert used <= _anchors(PAGE), used - _anchors(PAGE)
