"""Claims of tutorial page 4, the gradient, that the page's own code blocks cannot check.

The page defines length and the dot product before the first-order approximation and the
steepest-ascent argument use them, keeps the anchors other pages link to, introduces
radians in prose before code uses them, keeps its main-path paragraphs short, leaves
`backward()` to page 5, and asks for a derivation or a prediction before code confirms it.
The numbers themselves (the gradient, the leftover that quarters, the two thousand random
directions) are asserted by the page's code.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from markdown.extensions.toc import slugify

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGE = DOCS / "tutorial" / "04-gradients.md"

# A fenced block at any indent, closed by the same fence at the same indent.
FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,}).*?^\1\2[ \t]*$", re.M | re.S)
LINK = re.compile(r"\]\(([^)\s#]*\.md)?(?:#([\w-]+))?\)")


def _load_budget():
    spec = importlib.util.spec_from_file_location("prose_budget", ROOT / "tools/prose_budget.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("prose_budget", module)
    spec.loader.exec_module(module)
    return module


def _text(page: Path = PAGE) -> str:
    return page.read_text("utf8")


def _prose(text: str) -> str:
    """The page with every fenced block blanked out, keeping every other offset."""
    return FENCE.sub(lambda m: " " * len(m.group(0)), text)


def anchors(page: Path) -> set[str]:
    """The ids MkDocs gives a page: its headings' slugs and explicit `{ #id }` ids."""
    prose = _prose(_text(page))
    ids = set(re.findall(r"\{\s*#([\w-]+)[^}]*\}", prose))
    for heading in re.findall(r"^#{1,6}[ \t]+(.+?)[ \t]*$", prose, re.M):
        if not re.search(r"\{\s*#[\w-]+[^}]*\}\s*$", heading):
            ids.add(slugify(heading.replace("`", ""), "-"))
    return ids


def headings(page: Path = PAGE) -> list[str]:
    """The slugs of the page's headings, in order."""
    prose = _prose(_text(page))
    return [
        slugify(h.replace("`", ""), "-") for h in re.findall(r"^#{2,6}[ \t]+(.+)$", prose, re.M)
    ]


def exercise_questions(text: str) -> list[str]:
    """What each exercise asks, up to its collapsed solution."""
    parts = re.split(r'^\?\?\? question "Exercise', text, flags=re.M)[1:]
    return [part.split('??? success "Solution"', 1)[0] for part in parts]


def test_length_and_dot_product_come_before_the_arguments_that_use_them() -> None:
    order = headings()
    expected = [
        "from-partial-derivatives-to-the-gradient",
        "length-direction-and-the-dot-product",
        "the-first-order-approximation",
        "which-way-is-steepest",
        "exercises",
        "next",
    ]
    assert [h for h in order if h in expected] == expected
    # the first norm sign of the page stands in the section that defines the length
    text = _text()
    length_section = text.index("## Length, direction and the dot product")
    assert text.index(r"\|") > length_section
    assert text.index(r"\|") < text.index("## The first-order approximation")


REQUIRED_ANCHORS = {
    # linked from pages 2, 3, 6, 8 and 23, the glossary and the notation page
    "from-partial-derivatives-to-the-gradient",
    "length-direction-and-the-dot-product",
    "the-first-order-approximation",
    "which-way-is-steepest",
}


def test_anchors_other_pages_link_to_exist() -> None:
    own = anchors(PAGE)
    assert own >= REQUIRED_ANCHORS, REQUIRED_ANCHORS - own
    linked = {
        (page.relative_to(DOCS).as_posix(), anchor)
        for page in DOCS.rglob("*.md")
        if "vendor" not in page.parts
        for anchor in re.findall(r"04-gradients\.md#([\w-]+)", _text(page))
    }
    assert len(linked) >= 5  # the search finds the links it should check
    missing = sorted((page, anchor) for page, anchor in linked if anchor not in own)
    assert not missing, missing


def test_links_from_the_page_resolve() -> None:
    prose = _prose(_text())
    links = LINK.findall(prose)
    assert links
    for target, anchor in links:
        page = (PAGE.parent / target).resolve() if target else PAGE
        assert page.is_file(), target
        if anchor:
            assert anchor in anchors(page), f"{target}#{anchor}"
    assert "05-graphs.md" in {target for target, _ in links}  # the next page


def test_page_4_leaves_backward_to_page_5() -> None:
    code = [m.group(0) for m in FENCE.finditer(_text())]
    assert code
    assert not [block for block in code if ".backward(" in block]


def test_radians_are_explained_in_prose_before_code_uses_them() -> None:
    text = _text()
    prose = _prose(text)
    first_use = min(
        m.start()
        for m in FENCE.finditer(text)
        if re.search(r"math\.(cos|sin|radians|degrees|pi)", m.group(0))
    )
    assert re.search(r"radian", prose[:first_use], re.I), "radians first appear in code"


def test_the_dot_product_formula_does_not_lean_on_the_law_of_cosines() -> None:
    assert not re.search(r"law of cosines", _text(), re.I)


def test_main_path_paragraphs_are_short() -> None:
    budget = _load_budget()
    main, _ = budget.split(_text())
    for paragraph in re.split(r"\n\s*\n", main):
        assert budget.count_words(paragraph) <= 100, paragraph[:80]


@pytest.mark.parametrize("pattern", [r"predict", r"on paper|derive|work out"])
def test_an_exercise_asks_first_and_checks_after(pattern: str) -> None:
    questions = exercise_questions(_text())
    assert len(questions) >= 2
    assert any(re.search(pattern, q, re.I) for q in questions), pattern
