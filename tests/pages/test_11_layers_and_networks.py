"""Claims of tutorial page 11 (Layers and networks), checked more widely than its own code.

- Twins: neurons that start equal, and that the next layer weighs equally, stay equal
  under every optimiser of `backprop.optim` (the page says so of `SGD` and `Adam`); unequal
  outgoing weights break the symmetry.
- The parameter-count formula, and the exact power-of-two scaling of a ReLU network's
  first-layer gradient (Exercise 4), for several depths and seeds.
- Initialisation: `backprop.nn.Linear` and `torch.nn.Linear` draw from
  +-1/sqrt(n_in), which is `kaiming_uniform_(w, a=sqrt(5))`, sqrt(6) below He's bound and
  sqrt(3) below Glorot's; the `torch.nn.init` functions the page names have the bounds and
  standard deviations of its table; with the default, the gradient reaching the first
  layer of a wide network still vanishes with depth, on both engines, and He's scale
  keeps it.
- The page's structure: the variance refresher before the argument that uses it, the
  derivation collapsed, links and the anchors other pages use.
"""

from __future__ import annotations

import math
import re
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from markdown.extensions.toc import slugify

from backprop import Tensor
from backprop.datasets import make_moons
from backprop.losses import mse
from backprop.nn import MLP, Linear, ReLU, Sequential, Tanh
from backprop.optim import SGD, Adam, Optimizer

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
TUTORIAL = DOCS / "tutorial"
PAGE = TUTORIAL / "11-layers-and-networks.md"


# --- twins ------------------------------------------------------------------------------


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


# --- counting and scaling -------------------------------------------------------------------


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


# --- initialisation: our Linear ----------------------------------------------------------


def test_our_linear_draws_from_one_over_root_n_in() -> None:
    n_in, n_out = 400, 300
    layer = Linear(n_in, n_out, seed=0)
    bound = 1 / math.sqrt(n_in)
    for p in (layer.weight.data, layer.bias.data):
        assert np.abs(p).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.999 * bound  # the whole range is used
    assert math.isclose(layer.weight.data.var(), bound**2 / 3, rel_tol=0.02)  # uniform


def _tensor_first_layer_gradient(activation: type, depth: int, scale: float, seed: int) -> float:
    """The norm of dL/dW of the first layer of a Sequential of `depth` Linear(64, 64)
    layers (the last Linear(64, 1)) with `activation` between them, backprop.nn.Linear's
    default start with every weight multiplied by `scale`, on 32 random inputs and a
    non-uniform upstream gradient."""
    rng = np.random.default_rng(seed)
    modules: list = []
    for _ in range(depth - 1):
        modules += [Linear(64, 64, seed=rng), activation()]
    modules.append(Linear(64, 1, seed=rng))
    for m in modules:
        if isinstance(m, Linear):
            m.weight.data = m.weight.data * scale
    x = Tensor(rng.normal(size=(32, 64)))
    Sequential(*modules)(x).backward(rng.normal(size=(32, 1)))
    return float(np.linalg.norm(modules[0].weight.grad))


def _typical(activation: type, depth: int, scale: float) -> float:
    logs = [math.log(_tensor_first_layer_gradient(activation, depth, scale, s)) for s in range(3)]
    return math.exp(sum(logs) / len(logs))


@pytest.mark.parametrize(("activation", "shrink"), [(ReLU, 1e-4), (Tanh, 1e-3)])
def test_with_the_default_start_a_wide_networks_gradient_still_vanishes(
    activation: type, shrink: float
) -> None:
    shallow, deep = _typical(activation, 2, 1.0), _typical(activation, 20, 1.0)
    assert deep < shrink * shallow


def test_he_scale_keeps_a_wide_relu_networks_gradient() -> None:
    sizes = [_typical(ReLU, d, math.sqrt(6)) for d in (2, 6, 10, 20)]  # sqrt(6) above default
    assert max(sizes) < 3 * min(sizes)
    glorot = [_typical(ReLU, d, math.sqrt(3)) for d in (2, 20)]
    assert glorot[1] < glorot[0] / 100  # Glorot's scale is too small for ReLU


# --- initialisation: PyTorch ----------------------------------------------------------------


def _torch():
    return pytest.importorskip("torch")


def test_torch_linear_is_kaiming_uniform_with_a_root_5_and_a_bias_of_the_same_bound() -> None:
    torch = _torch()
    n_in, n_out = 50, 30
    torch.manual_seed(0)
    layer = torch.nn.Linear(n_in, n_out, dtype=torch.float64)
    torch.manual_seed(0)
    weight = torch.empty(n_out, n_in, dtype=torch.float64)
    torch.nn.init.kaiming_uniform_(weight, a=math.sqrt(5))
    bound = 1 / math.sqrt(n_in)
    bias = torch.empty(n_out, dtype=torch.float64).uniform_(-bound, bound)
    assert torch.equal(layer.weight, weight) and torch.equal(layer.bias, bias)


def _bound(init, *args, **kwargs) -> tuple[float, float]:
    """The largest |entry| and the standard deviation of a (1000, 400) tensor drawn by
    `init`: fan_in 400, fan_out 1000."""
    torch = _torch()
    torch.manual_seed(1)
    w = torch.empty(1000, 400, dtype=torch.float64)
    init(w, *args, **kwargs)
    return w.abs().max().item(), w.std().item()


FAN_IN, FAN_OUT = 400, 1000


def test_the_bounds_of_the_uniform_starts() -> None:
    init = _torch().nn.init
    default = 1 / math.sqrt(FAN_IN)
    cases = [
        (_bound(init.kaiming_uniform_, a=math.sqrt(5)), default),
        (_bound(init.kaiming_uniform_), math.sqrt(6 / FAN_IN)),  # its defaults are He's
        (_bound(init.kaiming_uniform_, mode="fan_out"), math.sqrt(6 / FAN_OUT)),
        (_bound(init.xavier_uniform_), math.sqrt(6 / (FAN_IN + FAN_OUT))),
    ]
    for (largest, std), bound in cases:
        assert 0.999 * bound < largest <= bound
        assert math.isclose(std, bound / math.sqrt(3), rel_tol=0.01)  # variance a^2 / 3
    assert math.isclose(math.sqrt(6 / FAN_IN), math.sqrt(6) * default)  # He: sqrt 6 above
    equal_widths = math.sqrt(6 / (FAN_IN + FAN_IN))  # Glorot, n_in = n_out
    assert math.isclose(equal_widths, math.sqrt(3) * default)  # Glorot: sqrt 3 above


def test_the_normal_starts_and_the_gains() -> None:
    init = _torch().nn.init
    for (_, std), expected in [
        (_bound(init.kaiming_normal_), math.sqrt(2 / FAN_IN)),
        (_bound(init.xavier_normal_), math.sqrt(2 / (FAN_IN + FAN_OUT))),
    ]:
        assert math.isclose(std, expected, rel_tol=0.01)
    assert math.isclose(init.calculate_gain("relu"), math.sqrt(2))
    assert math.isclose(init.calculate_gain("leaky_relu", 0), math.sqrt(2))
    assert math.isclose(init.calculate_gain("leaky_relu", math.sqrt(5)), math.sqrt(2 / 6))
    assert math.isclose(init.calculate_gain("tanh"), 5 / 3)
    largest, _ = _bound(init.xavier_uniform_, gain=5 / 3)  # the gain multiplies the bound
    bound = 5 / 3 * math.sqrt(6 / (FAN_IN + FAN_OUT))
    assert 0.999 * bound < largest <= bound


def test_with_torchs_default_the_gradient_vanishes_and_he_keeps_it() -> None:
    torch = _torch()

    def first_layer_gradient(depth: int, he: bool, seed: int) -> float:
        torch.manual_seed(seed)
        layers: list = []
        for _ in range(depth - 1):
            layers += [torch.nn.Linear(64, 64, dtype=torch.float64), torch.nn.ReLU()]
        layers.append(torch.nn.Linear(64, 1, dtype=torch.float64))
        if he:
            for m in layers:
                if isinstance(m, torch.nn.Linear):
                    torch.nn.init.kaiming_uniform_(m.weight)
        x = torch.randn(32, 64, dtype=torch.float64)
        torch.nn.Sequential(*layers)(x).backward(torch.randn(32, 1, dtype=torch.float64))
        return layers[0].weight.grad.norm().item()

    def typical(depth: int, he: bool) -> float:
        return math.exp(np.mean([math.log(first_layer_gradient(depth, he, s)) for s in range(3)]))

    assert typical(20, he=False) < 1e-4 * typical(2, he=False)
    he = [typical(d, he=True) for d in (2, 10, 20)]
    assert max(he) < 3 * min(he)


# --- the page --------------------------------------------------------------------------------


def _prose(page: Path) -> str:
    return re.sub(r"```.*?```", "", page.read_text("utf8"), flags=re.S)


def _anchors(page: Path) -> set[str]:
    text = _prose(page)
    explicit = set(re.findall(r"\{ *#([\w-]+) *\}", text))
    titles = [re.sub(r"\{.*\}", "", h).strip() for h in re.findall(r"^#+ (.+)$", text, re.M)]
    return explicit | {slugify(title, "-") for title in titles}


def test_links_from_the_page_to_tutorial_sections_resolve() -> None:
    links = re.findall(r"\]\(([0-9]{2}-[\w-]+\.md)(?:#([\w-]+))?\)", _prose(PAGE))
    assert ("12-loss-functions.md", "") in links  # the next page
    for target, anchor in links:
        assert (TUTORIAL / target).exists(), target
        if anchor:
            assert anchor in _anchors(TUTORIAL / target), f"{target}#{anchor}"


def test_every_anchor_other_pages_use_exists() -> None:
    anchors = _anchors(PAGE)
    used = set()
    for md in DOCS.rglob("*.md"):
        used |= set(re.findall(rf"{PAGE.name}#([\w-]+)", md.read_text("utf8")))
    assert "how-large-should-the-starting-weights-be" in used
    assert used <= anchors, used - anchors


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + 1)
    return text[start:end]


def test_the_variance_refresher_comes_before_the_argument_and_the_derivation_is_collapsed() -> None:
    section = _section(PAGE.read_text("utf8"), "## How large should the starting weights be?")
    blocks = [(m.start(), m.group(1)) for m in re.finditer(r"^\?\?\?\+? (\w+)", section, re.M)]
    kinds = [kind for _, kind in blocks]
    assert kinds[:2] == ["info", "note"]  # a refresher, then the derivation, both collapsed
    refresher_at = blocks[0][0]
    argument_at = section.index("$$")  # the first displayed formula: the backward recursion
    assert refresher_at < argument_at
    # the layer-indexed names (superscript (l)) are introduced before that formula
    assert len(re.findall(r"\^\{\(l\)\}", section[refresher_at:argument_at])) >= 3
    subsections = re.findall(r"^### (.+)$", section, re.M)
    assert len(subsections) == 1  # PyTorch's default, Glorot and He: after the measurement
    assert section.index(subsections[0]) > argument_at
