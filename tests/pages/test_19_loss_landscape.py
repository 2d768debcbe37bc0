"""Page 19, the loss landscape: valleys, a saddle, the Hessian test, flat directions.

The page says that f(u, v) = u^4 - 2u^2 + u/2 + v^2 has two minima and a saddle between
them; that the curvature along any direction is a weighted average of the Hessian's
eigenvalues; that the test at a zero gradient is: all eigenvalues positive, a strict
minimum; any negative, no minimum; zeros with the rest positive, inconclusive (u^4 and
-u^4); that an L2 penalty (λ/2)Σθ² adds exactly λ to every eigenvalue; and that a two-class
softmax network with H hidden neurons has H + 1 flat directions, at any parameters.
These tests check the claims on other matrices and sizes, and the page's structure.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from markdown.extensions.toc import slugify

from backprop import Value
from backprop.nn import Linear, Sequential, Tanh
from backprop.tensor import cross_entropy

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGE = DOCS / "tutorial" / "19-loss-landscape.md"
FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,}).*?^\1\2[ \t]*$", re.M | re.S)
LINK = re.compile(r"\]\(([^)\s#]*\.md)?(?:#([\w-]+))?\)")


def _prose(text: str) -> str:
    return FENCE.sub(lambda m: " " * len(m.group(0)), text)


def anchors(page: Path) -> set[str]:
    prose = _prose(page.read_text("utf8"))
    ids = set(re.findall(r"\{\s*#([\w-]+)[^}]*\}", prose))
    for heading in re.findall(r"^#{1,6}[ \t]+(.+?)[ \t]*$", prose, re.M):
        if not re.search(r"\{\s*#[\w-]+[^}]*\}\s*$", heading):
            ids.add(slugify(heading.replace("`", ""), "-"))
    return ids


def test_the_function_has_two_minima_and_a_saddle() -> None:
    def hessian(u: float, v: float) -> np.ndarray:
        # second derivatives from the scalar engine: the gradient of each first derivative
        a, b = Value(u), Value(v)
        du = 4 * a**3 - 4 * a + 0.5
        du.backward()
        return np.array([[a.grad, b.grad], [0.0, 2.0]])

    roots = sorted(np.roots([4, 0, -4, 0.5]).real)
    signs = [np.sign(np.linalg.eigvalsh(hessian(u, 0.0))).tolist() for u in roots]
    assert signs == [[1.0, 1.0], [-1.0, 1.0], [1.0, 1.0]]


@pytest.mark.parametrize("seed", range(5))
def test_curvature_along_a_direction_is_a_weighted_average_of_the_eigenvalues(seed) -> None:
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(6, 6))
    H = (A + A.T) / 2
    mu, vectors = np.linalg.eigh(H)
    d = rng.normal(size=6)
    d /= np.linalg.norm(d)
    weights = (vectors.T @ d) ** 2
    assert np.isclose(weights.sum(), 1.0, rtol=1e-12)
    assert np.isclose(d @ H @ d, weights @ mu, rtol=1e-10, atol=1e-12)
    assert mu.min() <= d @ H @ d <= mu.max()


def test_zero_second_derivatives_leave_the_test_inconclusive() -> None:
    for sign in (1.0, -1.0):
        a = Value(0.0)
        (sign * a**4).backward()
        assert a.grad == 0.0  # a zero slope; the second derivative 12u^2 is 0 at 0, too
    us = np.linspace(-0.1, 0.1, 21)
    assert np.all(us**4 >= 0) and np.all(-(us**4) <= 0)  # a minimum, and a maximum


@pytest.mark.parametrize("lam", [1e-3, 0.5])
def test_an_l2_penalty_adds_lambda_to_every_eigenvalue(lam) -> None:
    rng = np.random.default_rng(7)
    A = rng.normal(size=(5, 5))
    H = (A + A.T) / 2  # eigenvalues of both signs: the shift does not need them positive
    shifted = np.linalg.eigvalsh(H + lam * np.eye(5))
    assert np.allclose(shifted, np.linalg.eigvalsh(H) + lam, rtol=0, atol=1e-12)


@pytest.mark.parametrize("hidden", [2, 5])
def test_a_two_class_softmax_network_has_hidden_plus_one_flat_directions(hidden) -> None:
    rng = np.random.default_rng(hidden)
    X, y = rng.normal(size=(40, 2)), rng.integers(0, 2, size=40)
    model = Sequential(Linear(2, hidden, seed=rng), Tanh(), Linear(hidden, 2, seed=rng))
    before = cross_entropy(model(X), y).item()
    out = model[2]
    for k in range(hidden):  # the same number added to column k of both rows
        out.weight.data[:, k] += rng.normal()
    out.bias.data += rng.normal()
    assert np.isclose(cross_entropy(model(X), y).item(), before, rtol=1e-12)
    out.weight.data[0, 0] += 0.5  # one row alone: not flat
    assert not np.isclose(cross_entropy(model(X), y).item(), before, rtol=1e-6)


def test_the_refresher_comes_before_the_section_that_uses_the_hessian() -> None:
    prose = _prose(PAGE.read_text("utf8"))
    refresher = re.search(r'^\?\?\? info "[^"]*Hessian[^"]*"', prose, re.M)
    assert refresher
    assert refresher.start() < prose.index("### Different starts, different valleys")
    exercises = re.findall(r'^\?\?\? question "Exercise', prose, re.M)
    assert len(exercises) >= 2


def test_anchors_other_pages_link_to_exist_and_the_page_links_resolve() -> None:
    own = anchors(PAGE)
    incoming = {
        anchor
        for page in DOCS.rglob("*.md")
        if "vendor" not in page.parts
        for anchor in re.findall(r"19-loss-landscape\.md#([\w-]+)", page.read_text("utf8"))
    }
    assert incoming and incoming <= own, incoming - own
    links = LINK.findall(_prose(PAGE.read_text("utf8")))
    for target, anchor in links:
        page = (PAGE.parent / target).resolve() if target else PAGE
        assert page.is_file(), target
        if anchor:
            assert anchor in anchors(page), f"{target}#{anchor}"
    assert "20-optimisers.md" in {target for target, _ in links}  # the next page
