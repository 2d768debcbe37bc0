"""Claims of the glossary: every link into it has an entry, its entries are in order, its
links go to the page of the number they name, and the facts its entries state about
mathematics, the engine and the package hold.

Each fact test names the entry that states it; if a test fails, the entry (or the code)
is wrong. No test pins an entry's wording.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from markdown.extensions.toc import slugify

from backprop import Value, numerical_derivative

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
GLOSSARY = DOCS / "reference" / "glossary.md"
ENTRY = re.compile(r"^([^\n]+?) \{ #([a-z0-9-]+) \}\n:   (.*?)(?=\n\n|\Z)", re.M | re.S)
FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,})(.*?)$(.*?)^\1\2[ \t]*$", re.M | re.S)
PAGE_LINK = re.compile(r"\[[Pp]age (\d+)[^\]]*\]\(\.\./tutorial/([\w-]+)\.md(?:#([\w-]+))?\)")


def _entries() -> dict[str, tuple[str, str]]:
    """anchor -> (term, definition)."""
    text = GLOSSARY.read_text("utf8")
    return {a: (term, " ".join(d.split())) for term, a, d in ENTRY.findall(text)}


def _anchors(page: Path) -> set[str]:
    prose = FENCE.sub("", page.read_text("utf8"))
    ids = set(re.findall(r"\{\s*#([\w-]+)[^}]*\}", prose))
    for heading in re.findall(r"^#{1,6}[ \t]+(.+?)[ \t]*$", prose, re.M):
        if not re.search(r"\{\s*#[\w-]+[^}]*\}\s*$", heading):
            ids.add(slugify(heading.replace("`", ""), "-"))
    return ids


def test_every_link_into_the_glossary_has_an_entry() -> None:
    entries = _entries()
    missing = []
    for path in DOCS.rglob("*"):
        if path.suffix not in {".md", ".py"} or "vendor" in path.parts:
            continue
        for anchor in re.findall(r"glossary(?:\.md|/)#([a-z0-9-]+)\)", path.read_text("utf8")):
            if anchor not in entries:
                missing.append(f"{path.relative_to(DOCS)}: #{anchor}")
        if path == GLOSSARY:
            for anchor in re.findall(r"\]\(#([a-z0-9-]+)\)", path.read_text("utf8")):
                if anchor not in entries:
                    missing.append(f"glossary.md: #{anchor}")
    assert not missing, missing


def test_entries_are_alphabetical() -> None:
    terms = [term.lower() for term, _ in _entries().values()]
    assert len(terms) > 100
    assert terms == sorted(terms)


def test_the_home_pages_automatic_differentiation_has_an_entry() -> None:
    home = (DOCS / "index.md").read_text("utf8").lower()
    assert "automatic-differentiation" in home or "automatic differentiation" in home
    assert "automatic-differentiation" in _entries()


def test_page_links_go_to_the_page_of_that_number_and_resolve() -> None:
    links = PAGE_LINK.findall(GLOSSARY.read_text("utf8"))
    assert len(links) > 30
    for number, target, anchor in links:
        assert int(number) == int(target[:2]), (number, target)
        page = DOCS / "tutorial" / f"{target}.md"
        assert page.is_file(), target
        if anchor:
            assert anchor in _anchors(page), f"{target}#{anchor}"


# --- central difference: it averages across a kink only when centred on it ----------------


def test_central_difference_across_a_kink() -> None:
    def relu(z: float) -> float:
        return max(0.0, z)

    h = 1e-3
    assert numerical_derivative(relu, 0.0, h=h) == 0.5  # centred: the average of 0 and 1
    assert numerical_derivative(abs, 0.0, h=h) == 0.0  # centred: the average of -1 and 1
    for offset in (-0.8, -0.3, 0.4, 0.9):  # off centre, one point on each side
        estimate = numerical_derivative(relu, offset * h, h=h)
        assert math.isclose(estimate, (1 + offset) / 2, rel_tol=1e-9)
        assert 0.0 < estimate < 1.0 and estimate != 0.5


# --- Hessian: positive eigenvalues suffice; >= 0 is needed; zeros leave it open -----------


def _second_derivative(f, x: float, h: float = 1e-3) -> float:
    return (f(x + h) - 2 * f(x) + f(x - h)) / h**2


def test_a_zero_second_derivative_leaves_the_question_open() -> None:
    near = np.linspace(-0.1, 0.1, 21)
    cases = {
        "minimum": lambda x: x**4,
        "maximum": lambda x: -(x**4),
        "neither": lambda x: x**3,
    }
    for name, f in cases.items():
        assert abs(_second_derivative(f, 0.0)) < 1e-5, name  # f''(0) = 0 for all three
        values = np.array([f(x) for x in near])
        if name == "minimum":
            assert (values >= 0).all()
        elif name == "maximum":
            assert (values <= 0).all()
        else:
            assert values.min() < 0 < values.max()


def test_positive_eigenvalues_make_a_strict_minimum_and_mixed_signs_a_saddle() -> None:
    rng = np.random.default_rng(0)
    directions = rng.normal(size=(200, 2))
    for hessian, kind in (
        (np.array([[3.0, 1.0], [1.0, 2.0]]), "minimum"),
        (np.array([[1.0, 2.0], [2.0, 1.0]]), "saddle"),
    ):
        quadratic = np.einsum("ij,jk,ik->i", directions, hessian, directions) / 2
        eigenvalues = np.linalg.eigvalsh(hessian)
        if kind == "minimum":
            assert (eigenvalues > 0).all() and (quadratic > 0).all()
        else:
            assert eigenvalues.min() < 0 < eigenvalues.max()
            assert quadratic.min() < 0 < quadratic.max()


# --- condition number: the Hessian's extreme eigenvalues, not the diagonal ----------------


def test_the_condition_number_is_a_ratio_of_eigenvalues() -> None:
    """For w1^2 + 10 w2^2 the Hessian is diag(2, 20): kappa = 10. Tilted by 45 degrees the
    diagonal is (11, 11), a ratio of 1, yet the eigenvalues and plain gradient descent's
    best factor (kappa - 1) / (kappa + 1) are unchanged."""
    turn = np.array([[1.0, -1.0], [1.0, 1.0]]) / math.sqrt(2)
    for hessian in (np.diag([2.0, 20.0]), turn @ np.diag([2.0, 20.0]) @ turn.T):
        low, high = np.linalg.eigvalsh(hessian)
        kappa = high / low
        assert math.isclose(kappa, 10.0)
        eta = 2 / (low + high)  # the best rate
        factor = np.abs(np.linalg.eigvals(np.eye(2) - eta * hessian)).max()
        assert math.isclose(factor, (kappa - 1) / (kappa + 1))
    assert math.isclose(hessian[0, 0] / hessian[1, 1], 1.0)


# --- automatic differentiation: exact up to rounding, unlike a finite difference -----------


def test_automatic_differentiation_is_exact_up_to_rounding() -> None:
    x = Value(0.7)
    y = (x * x * x).tanh()
    y.backward()
    exact = (1 - math.tanh(0.343) ** 2) * 3 * 0.49
    assert math.isclose(x.grad, exact, rel_tol=1e-14)
    estimate = numerical_derivative(lambda t: math.tanh(t**3), 0.7)
    assert 1e-14 < abs(estimate - exact) / exact < 1e-6  # the estimate is only close


# --- a computational graph is a data structure: the nodes are linked objects ----------------


def test_the_graph_is_a_data_structure_the_forward_pass_builds() -> None:
    a, b, c, f = Value(2.0), Value(-3.0), Value(10.0), Value(-2.0)
    e = a * b
    d = e + c
    L = d * f
    children = {id(n) for n in getattr(L, "_prev", getattr(L, "_children", ()))}
    assert children == {id(d), id(f)}


# --- facts of other entries, checked against the package ----------------------------------


def test_adam_defaults_and_initialisation_bounds() -> None:
    """Adam: betas (0.9, 0.999), eps 1e-8. Initialisation: MLP uniform in [-1, 1],
    Linear within +-1/sqrt(n_in). Momentum: a decaying sum of past gradients."""
    from backprop.nn import MLP, Linear
    from backprop.optim import SGD, Adam

    adam = Adam([MLP(1, [1], seed=0).parameters()[0]])
    assert (adam.betas, adam.eps) == ((0.9, 0.999), 1e-8)
    weights = [p.data for p in MLP(3, [50, 50], seed=1).parameters()]
    assert max(abs(w) for w in weights) <= 1.0
    layer = Linear(9, 4, seed=0)
    assert np.abs(layer.weight.data).max() <= 1 / 3 and np.abs(layer.bias.data).max() <= 1 / 3

    w = Value(0.0)
    optimiser = SGD([w], lr=1.0, momentum=0.5)
    gradients = [1.0, 2.0, 4.0]
    for g in gradients:
        w.grad = g
        optimiser.step()
    velocity = 4.0 + 0.5 * 2.0 + 0.25 * 1.0  # the decaying sum after three steps
    assert math.isclose(-w.data, 1.0 + (2.0 + 0.5) + velocity)


def test_saturation_and_dtype_numbers() -> None:
    """tanh's slope is 0.01 at |z| = arcosh 10 (about 3), the sigmoid's at 2 arcosh 5
    (about 4.6); float32's machine epsilon is about 1e-7, float64's about 1e-16."""
    assert math.isclose(1 - math.tanh(math.acosh(10)) ** 2, 0.01)
    s = 1 / (1 + math.exp(-2 * math.acosh(5)))
    assert math.isclose(s * (1 - s), 0.01)
    assert round(math.acosh(10)) == 3 and round(2 * math.acosh(5), 1) == 4.6
    assert 1e-7 < np.finfo(np.float32).eps < 2e-7 and 1e-16 < np.finfo(np.float64).eps < 3e-16


def test_weight_decay_is_the_l2_penalty_with_half_lambda() -> None:
    """Weight decay lambda adds lambda theta: the gradient of (lambda / 2) sum theta^2."""
    lam, theta = 0.1, 0.8
    penalty = Value(theta)
    (lam / 2 * penalty * penalty).backward()
    assert math.isclose(penalty.grad, lam * theta)


@pytest.mark.parametrize("anchor", ["kink", "subgradient", "central-difference"])
def test_kink_entries_link_to_where_kinks_are_explained(anchor: str) -> None:
    text = GLOSSARY.read_text("utf8")
    entries = {a: d for _, a, d in ENTRY.findall(text)}
    related = entries[anchor] + entries["kink"]
    assert "09-summary.md#kinks-where-a-derivative-does-not-exist" in related
    assert "kinks-where-a-derivative-does-not-exist" in _anchors(
        DOCS / "tutorial" / "09-summary.md"
    )
