"""Claims of the notation page: each row's "Introduced" link goes to the page of the number
it names, at a section that exists; within each table the rows follow the order in which
the tutorial introduces them; and the symbols the guide fixed for every page (the batch
size B, the draft's graph) have their rows, pointing where they are introduced.
"""

from __future__ import annotations

import re
from pathlib import Path

from markdown.extensions.toc import slugify

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
NOTATION = DOCS / "reference" / "notation.md"
FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,})(.*?)$(.*?)^\1\2[ \t]*$", re.M | re.S)
INTRODUCED = re.compile(r"\[[Pp]age (\d+)\]\(\.\./tutorial/([\w-]+)\.md#([\w-]+)\) \|\s*$")


def _anchors(page: Path) -> set[str]:
    prose = FENCE.sub("", page.read_text("utf8"))
    ids = set(re.findall(r"\{\s*#([\w-]+)[^}]*\}", prose))
    for heading in re.findall(r"^#{1,6}[ \t]+(.+?)[ \t]*$", prose, re.M):
        if not re.search(r"\{\s*#[\w-]+[^}]*\}\s*$", heading):
            ids.add(slugify(heading.replace("`", ""), "-"))
    return ids


def _tables() -> dict[str, list[tuple[str, int, str, str]]]:
    """section -> rows as (symbol cell, page number, file, anchor)."""
    tables: dict[str, list[tuple[str, int, str, str]]] = {}
    section = ""
    for line in NOTATION.read_text("utf8").splitlines():
        if line.startswith("## "):
            section = line[3:]
        elif line.startswith("| ") and not line.startswith(("| Symbol", "| ---")):
            found = INTRODUCED.search(line)
            assert found, f"a row without an 'Introduced' link: {line[:60]}"
            number, target, anchor = found.groups()
            symbol = line.split(" | ")[0][2:]
            tables.setdefault(section, []).append((symbol, int(number), target, anchor))
    return tables


def test_every_row_links_to_the_page_of_its_number_at_a_section_that_exists() -> None:
    tables = _tables()
    assert sum(len(rows) for rows in tables.values()) > 60
    for rows in tables.values():
        for symbol, number, target, anchor in rows:
            assert number == int(target[:2]), (symbol, number, target)
            page = DOCS / "tutorial" / f"{target}.md"
            assert page.is_file(), target
            assert anchor in _anchors(page), f"{symbol}: {target}#{anchor}"


def test_rows_follow_the_order_of_introduction() -> None:
    for section, rows in _tables().items():
        numbers = [number for _, number, _, _ in rows]
        assert numbers == sorted(numbers), section


def test_the_guides_fixed_symbols_have_rows_where_they_are_introduced() -> None:
    rows = {symbol: target for table in _tables().values() for symbol, _, target, _ in table}
    assert rows["$B$"].startswith("13-")  # the batch size, from the first page with a batch
    text = NOTATION.read_text("utf8")
    graph = DOCS / "tutorial" / "05-graphs.md"
    assert "05-graphs.md#a-calculation-drawn-as-a-graph" in text
    assert "a-calculation-drawn-as-a-graph" in _anchors(graph)
    drafted = graph.read_text("utf8")
    for node in ("e = a * b", "d = e + c", "L = d * f"):  # the draft's names, in its code
        assert node in drafted, node
