"""Page 3, partial derivatives: the derivations its refreshers give, checked beyond the
page's own blocks, the rules it leaves to page 2, its names and its links."""

from __future__ import annotations

import itertools
import math
import random
import re
from fractions import Fraction
from pathlib import Path

import pytest
from markdown.extensions.toc import slugify

from backprop import Value, numerical_derivative

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGE = DOCS / "tutorial" / "03-partial-derivatives.md"
TEXT = PAGE.read_text("utf8")


def anchors(page: Path) -> set[str]:
    """The ids of a page's headings: an attribute list's id, else MkDocs's default slug."""
    ids = set()
    for line in page.read_text("utf8").splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*(?:\{\s*#([\w-]+)\s*\})?\s*$", line)
        if m and not line.startswith("# "):
            ids.add(m.group(2) or slugify(m.group(1).replace("`", ""), "-"))
        ids.update(re.findall(r"\{\s*#([\w-]+)", line))  # attribute lists anywhere
    return ids


def test_the_product_rule_expansion_is_exact() -> None:
    """(u + du)(v + dv) - uv = du v + u dv + du dv, in exact arithmetic."""
    rng = random.Random(3)
    for _ in range(50):
        u, v, du, dv = (Fraction(rng.randint(-99, 99), rng.randint(1, 99)) for _ in range(4))
        assert (u + du) * (v + dv) - u * v == du * v + u * dv + du * dv


def test_the_leftover_of_the_product_rule_vanishes_faster_than_h() -> None:
    def u(x: float) -> float:
        return math.sin(x)

    def v(x: float) -> float:
        return math.exp(x)

    x = 0.7
    ratios = []
    for h in [1e-1, 1e-2, 1e-3, 1e-4]:
        du, dv = u(x + h) - u(x), v(x + h) - v(x)
        ratios.append(du * dv / h)
    assert all(abs(b) < abs(a) / 5 for a, b in itertools.pairwise(ratios))  # tends to 0 like h


def test_the_reciprocal_rule_from_its_limit() -> None:
    """The quotient rule's refresher derives (1/v)' = -v'/v^2 from the limit, then the
    quotient rule from the product rule: check both for functions the page does not use."""
    cases = [
        (lambda t: t**3 - 2, lambda t: 3 * t**2, lambda t: math.cos(t) + 2, lambda t: -math.sin(t)),
        (math.tanh, lambda t: 1 - math.tanh(t) ** 2, lambda t: t**2 + 1, lambda t: 2 * t),
    ]
    for u, du, v, dv in cases:

        def reciprocal(t: float, v=v) -> float:
            return 1 / v(t)

        def ratio(t: float, u=u, v=v) -> float:
            return u(t) / v(t)

        for x in [-1.3, 0.2, 2.1]:
            assert math.isclose(
                numerical_derivative(reciprocal, x), -dv(x) / v(x) ** 2, rel_tol=1e-7
            )
            quotient = (du(x) * v(x) - u(x) * dv(x)) / v(x) ** 2
            product = du(x) * (1 / v(x)) + u(x) * (-dv(x) / v(x) ** 2)
            assert math.isclose(quotient, product, rel_tol=1e-12)
            assert math.isclose(
                numerical_derivative(ratio, x), quotient, rel_tol=1e-7, abs_tol=1e-9
            )


def test_backward_gives_the_partial_derivatives_by_hand() -> None:
    """d = ab + c with an upstream gradient that is not 1: each partial scales with it."""
    for upstream in [2.5, -0.75]:
        a, b, c = Value(2.0), Value(-3.0), Value(10.0)
        (((a * b) + c) * upstream).backward()
        assert (a.grad, b.grad, c.grad) == (-3.0 * upstream, 2.0 * upstream, upstream)


RULES = ["product-rule", "quotient-rule", "tanh-derivative", "sigmoid-derivative"]


@pytest.mark.parametrize("anchor", RULES)
def test_each_rule_is_derived_in_a_refresher_and_checked(anchor: str) -> None:
    match = re.search(rf"^### .*\{{ #{anchor} \}}$", TEXT, re.M)
    assert match, anchor
    body = re.split(r"^##+ ", TEXT[match.end() :], maxsplit=1, flags=re.M)[0]
    assert re.search(r'^\?\?\? info "Refresher', body, re.M)
    assert re.search(r"^\s+```python", body, re.M)


def test_page_2s_rules_are_linked_not_retold() -> None:
    refreshers = re.findall(r'^\?\?\? info "Refresher: ([^"]+)"', TEXT, re.M)
    assert not [r for r in refreshers if re.search(r"constant|sum rule|of \$x\$", r)]
    rules = TEXT[TEXT.index("## The rules we need") : TEXT.index("## Working them out")]
    assert "02-derivatives.md#power-rule" in rules
    assert "02-derivatives.md#sum-and-constant-multiple-rules" in rules


def test_exercise_1_reuses_the_product_rule_expansion() -> None:
    exercise = TEXT[TEXT.index('??? question "Exercise 1') : TEXT.index('??? question "Exercise 2')]
    assert "(#product-rule)" in exercise


def test_no_function_takes_a_name_of_the_graph() -> None:
    """d = ab + c is the draft's graph, whose names run a, b, c, d, e, f, L: no other
    function on the page is called e or f."""
    assert not re.search(r"def (e|f)(_of)?\(", TEXT)
    assert not re.search(r"\$e = |\\partial e\b", TEXT)


def test_links_land_on_existing_anchors() -> None:
    links = re.findall(r"\]\(([\w./-]+\.md)#([\w-]+)\)", TEXT)
    assert links
    for target, anchor in links:
        path = (PAGE.parent / target).resolve()
        assert path.exists(), target
        assert anchor in anchors(path), f"{target}#{anchor}"
    for anchor in re.findall(r"\]\(#([\w-]+)\)", TEXT):
        assert anchor in anchors(PAGE), anchor


def test_anchors_other_pages_link_to_still_exist() -> None:
    here = anchors(PAGE)
    for page in DOCS.rglob("*.md"):
        for anchor in re.findall(r"03-partial-derivatives\.md#([\w-]+)", page.read_text("utf8")):
            assert anchor in here, f"{page.relative_to(DOCS)} links to #{anchor}"
