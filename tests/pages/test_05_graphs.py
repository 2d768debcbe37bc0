"""Claims of tutorial page 5, graphs and their gradients, that its code blocks cannot check.

The page draws the graph before and after `backward()`, says what the gradient of a middle
node means (and measures it) before the engine shows one, leaves accumulating gradients to
page 7 and links there, keeps the anchors other pages link to, and its exercises make the
learner derive and predict rather than hand over formulas. The gradients themselves, and
their agreement with nudges, are asserted by the page's code.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from markdown.extensions.toc import slugify

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGE = DOCS / "tutorial" / "05-graphs.md"
ACCUMULATION_PAGE = DOCS / "tutorial" / "07-backprop-automated.md"

# A fenced block at any indent, closed by the same fence at the same indent.
FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,})(.*?)$(.*?)^\1\2[ \t]*$", re.M | re.S)
LINK = re.compile(r"\]\(([^)\s#]*\.md)?(?:#([\w-]+))?\)")
BACKWARD_CALL = re.compile(r"^[ \t]*(\w+)\.backward\(", re.M)


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


def heading_offsets(text: str) -> dict[str, int]:
    prose = _prose(text)
    return {
        slugify(m.group(1).replace("`", ""), "-"): m.start()
        for m in re.finditer(r"^#{2,6}[ \t]+(.+)$", prose, re.M)
    }


def first_backward_call(text: str) -> int:
    """Where the first code block that calls backward() starts."""
    return min(m.start() for m in FENCE.finditer(text) if BACKWARD_CALL.search(m.group(4)))


def exercise_questions(text: str) -> list[str]:
    """What each exercise asks, up to its collapsed solution."""
    parts = re.split(r'^\?\?\? question "Exercise', text, flags=re.M)[1:]
    return [part.split('??? success "Solution"', 1)[0] for part in parts]


def test_sections_come_in_teaching_order() -> None:
    offsets = heading_offsets(_text())
    expected = [
        "a-calculation-drawn-as-a-graph",
        "what-we-want-to-know",
        "the-gradient-of-a-middle-node",
        "one-call-fills-in-every-gradient",
        "exercises",
        "next",
    ]
    assert [h for h in sorted(offsets, key=offsets.get) if h in expected] == expected


def test_a_middle_nodes_gradient_is_defined_and_measured_before_the_engine_shows_it() -> None:
    text = _text()
    defined = heading_offsets(text)["the-gradient-of-a-middle-node"]
    first_backward = first_backward_call(text)
    first_middle_grad = min(text.index(name) for name in ("e.grad", "d.grad"))
    assert defined < first_backward
    assert defined < first_middle_grad
    section = text[defined:first_backward]
    measuring = [
        m.group(0) for m in FENCE.finditer(section) if "numerical_derivative(" in m.group(0)
    ]
    assert measuring, "the middle nodes' gradients are not measured by nudging"


def test_the_graph_is_drawn_before_and_after_backward() -> None:
    text = _text()
    first_backward = first_backward_call(text)
    drawn = [
        m.start() for m in FENCE.finditer(text) if re.search(r"figure_html\(\s*draw\(", m.group(0))
    ]
    assert any(at < first_backward for at in drawn)
    assert any(at > first_backward for at in drawn)


def test_accumulation_is_left_to_page_7() -> None:
    text = _text()
    # no demonstration of a second backward pass on one graph: per block, and per session
    roots: Counter[tuple[str, str]] = Counter()
    for number, m in enumerate(FENCE.finditer(text)):
        session = re.search(r'session="([^"]+)"', m.group(3))
        scope = session.group(1) if session else f"block {number}"
        for root in BACKWARD_CALL.findall(m.group(4)):
            roots[(scope, root)] += 1
    assert roots, "no backward() call found"
    assert all(count == 1 for count in roots.values()), roots
    # and a link to where accumulation is explained, which resolves
    to_page_7 = [a for t, a in LINK.findall(_prose(text)) if t == ACCUMULATION_PAGE.name and a]
    assert to_page_7, "no link to page 7's section on adding up gradients"
    assert set(to_page_7) <= anchors(ACCUMULATION_PAGE), to_page_7


REQUIRED_ANCHORS = {
    "what-we-want-to-know",  # the notation page: v^T
    "one-call-fills-in-every-gradient",  # the glossary and the notation page: .grad
}


def test_anchors_other_pages_link_to_exist() -> None:
    own = anchors(PAGE)
    assert own >= REQUIRED_ANCHORS, REQUIRED_ANCHORS - own
    linked = {
        (page.relative_to(DOCS).as_posix(), anchor)
        for page in DOCS.rglob("*.md")
        if "vendor" not in page.parts
        for anchor in re.findall(r"05-graphs\.md#([\w-]+)", _text(page))
    }
    assert linked  # the search finds the links it should check
    missing = sorted((page, anchor) for page, anchor in linked if anchor not in own)
    assert not missing, missing


def test_links_from_the_page_resolve() -> None:
    links = LINK.findall(_prose(_text()))
    assert links
    for target, anchor in links:
        page = (PAGE.parent / target).resolve() if target else PAGE
        assert page.is_file(), target
        if anchor:
            assert anchor in anchors(page), f"{target}#{anchor}"
    assert "06-chain-rule.md" in {target for target, _ in links}  # the next page


def test_exercises_ask_for_derivation_and_prediction_without_handing_over_formulas() -> None:
    questions = exercise_questions(_text())
    assert len(questions) >= 2
    assert any(re.search(r"derive|on paper", q, re.I) for q in questions)
    assert any(re.search(r"predict", q, re.I) for q in questions)
    for question in questions:  # no question states a partial derivative's formula
        assert not re.search(r"\\partial [a-z]\}\s*=", question), question[:80]
