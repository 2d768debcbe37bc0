"""Claims of tutorial page 9, the summary, that its code blocks cannot check.

The page is a summary: on its main path it runs one program (and draws it), tabulates the
pieces with the pages that teach them, and points each new topic (symmetry breaking, the
loss landscape, kinks) to the page that teaches it; the depth it keeps (why a network's
loss is not convex, what the engine does at a kink) sits in collapsed blocks under the
anchors other pages link to. Its PyTorch claims are checked against PyTorch.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from markdown.extensions.toc import slugify

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGE = DOCS / "tutorial" / "09-summary.md"

FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,})(.*?)$(.*?)^\1\2[ \t]*$", re.M | re.S)
LINK = re.compile(r"\[([^\]]*)\]\(([^)\s#]*\.md)?(?:#([\w-]+))?\)")
COLLAPSED = re.compile(r"^([ \t]*)\?\?\?(?!\+)[^\n]*\n((?:\1[ \t]+[^\n]*\n|[ \t]*\n)*)", re.M)


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


def _headings(text: str) -> dict[str, int]:
    return {
        slugify(m.group(1), "-"): m.start()
        for m in re.finditer(r"^## (.+?)\s*$", _prose(text), re.M)
    }


def test_sections_come_in_order() -> None:
    offsets = _headings(_text())
    assert sorted(offsets, key=offsets.get) == [
        "the-whole-path-in-one-program",
        "what-each-piece-does",
        "how-the-pieces-fit-together",
        "from-one-neuron-to-a-network",
        "kinks-where-a-derivative-does-not-exist",
        "exercises",
        "where-to-go-next",
    ]


def test_the_main_path_runs_only_the_summary_program() -> None:
    """Every demonstration after the program is depth, in a collapsed block."""
    text = _text()
    top_level = [m for m in FENCE.finditer(text) if m.group(1) == "" and "python" in m.group(3)]
    program_ends = _headings(text)["what-each-piece-does"]
    assert len(top_level) >= 2  # the program and its figure
    assert all(m.start() < program_ends for m in top_level)
    collapsed = "".join(m.group(0) for m in COLLAPSED.finditer(text))
    assert "loss_at(halfway)" in collapsed and "relu_slope(0.0)" in collapsed


def test_new_topics_point_to_the_pages_that_teach_them() -> None:
    text = _text()
    start = _headings(text)["from-one-neuron-to-a-network"]
    section = text[start : _headings(text)["exercises"]]
    targets = {(target, anchor) for _, target, anchor in LINK.findall(_prose(section))}
    assert ("11-layers-and-networks.md", "why-the-weights-start-random") in targets
    assert ("19-loss-landscape.md", "the-loss-is-not-a-bowl") in targets
    assert any(target == "10-a-neuron.md" for target, _ in targets)
    assert ("../how-to/check-a-gradient.md", "at-a-kink") in targets


def test_links_from_the_page_resolve() -> None:
    links = LINK.findall(_prose(_text()))
    assert links
    for _, target, anchor in links:
        page = (PAGE.parent / target).resolve() if target else PAGE
        assert page.is_file(), target
        if anchor:
            assert anchor in anchors(page), f"{target}#{anchor}"
    assert "10-a-neuron.md" in {target for _, target, _ in links}  # the next page


def test_the_table_names_each_piece_by_the_page_that_teaches_it() -> None:
    """A link whose text is a page number goes to the file of that number."""
    checked = 0
    for text, target, _ in LINK.findall(_prose(_text())):
        number = re.fullmatch(r"(?:[Pp]age )?(\d+)", text.strip())
        if number and re.match(r"\d\d-", target):
            assert int(number.group(1)) == int(target[:2]), (text, target)
            checked += 1
    assert checked >= 8


def test_anchors_other_pages_link_to_exist() -> None:
    own = anchors(PAGE)
    cited = set()
    for page in DOCS.rglob("*"):
        if page.suffix not in {".md", ".py"} or "vendor" in page.parts or page == PAGE:
            continue
        for anchor in re.findall(r"09-summary(?:\.md|/)#([\w-]+)", _text(page)):
            cited.add((page.relative_to(DOCS).as_posix(), anchor))
    assert ("reference/glossary.md", "kinks-where-a-derivative-does-not-exist") in cited
    missing = sorted((page, anchor) for page, anchor in cited if anchor not in own)
    assert not missing, missing


def test_exercises_make_the_reader_derive_or_predict_first() -> None:
    parts = re.split(r'^\?\?\? question "Exercise', _text(), flags=re.M)[1:]
    assert len(parts) >= 2
    for part in parts:
        question, solution = part.split('??? success "Solution"', 1)
        assert re.search(r"predict|derive|on paper|before\s+you", question, re.I), question[:60]
        assert "```python" in solution


def test_every_assert_checks_something() -> None:
    for m in FENCE.finditer(_text()):
        if "python" not in m.group(3):
            continue
        code = "\n".join(line[len(m.group(1)) :] for line in m.group(4).split("\n"))
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Assert):
                assert any(isinstance(n, ast.Name) for n in ast.walk(node.test)), ast.unparse(node)


def test_engine_relu_at_the_kink() -> None:
    from backprop import Value

    x = Value(0.0)
    x.relu().backward()
    assert x.grad == 0.0
    y = Value(0.0)
    (y.relu() - (-y).relu()).backward()
    assert y.grad == 0.0  # relu(y) - relu(-y) is y, yet the two zeros add up to 0


def test_pytorch_relu_at_the_kink_matches_the_page() -> None:
    """The page: PyTorch's relu uses 0 at the kink too, and relu(x) - relu(-x) gives 0."""
    torch = pytest.importorskip("torch")
    x = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    torch.relu(x).backward()
    assert x.grad.item() == 0.0
    y = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    (torch.relu(y) - torch.relu(-y)).backward()
    assert y.grad.item() == 0.0
