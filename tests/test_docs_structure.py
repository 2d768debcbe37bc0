"""What every tutorial page promises a learner, checked on the Markdown source.

Each page of the learning path says what we will build, names its prerequisites, draws at
least one figure at build time, ends with at least two exercises whose solutions are
collapsible and contain code the tests run, and links onward. The draft's known mistakes
must not come back.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from docs_harness import scan_fences

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TUTORIAL = sorted((DOCS / "tutorial").glob("[0-9][0-9]-*.md"))


def _nav_files(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [f for item in node for f in _nav_files(item)]
    if isinstance(node, dict):
        return [f for value in node.values() for f in _nav_files(value)]
    return []


def _mkdocs_config() -> dict:
    class Loader(yaml.SafeLoader):
        pass

    # mkdocs.yml uses !ENV and !!python/name tags: read them as plain values here.
    Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    return yaml.load((ROOT / "mkdocs.yml").read_text("utf8"), Loader=Loader)


def test_the_tutorial_pages_are_the_numbered_pages_of_the_nav_in_order() -> None:
    nav = _nav_files(_mkdocs_config()["nav"])
    numbered = [f for f in nav if re.fullmatch(r"tutorial/[0-9][0-9]-[^/]+\.md", f)]
    assert numbered == [str(page.relative_to(DOCS)) for page in TUTORIAL], (
        "the nav must list every numbered tutorial page, in the order of their numbers"
    )
    assert len(TUTORIAL) >= 8


def test_every_page_in_docs_is_in_the_nav() -> None:
    nav = set(_nav_files(_mkdocs_config()["nav"]))
    pages = {
        str(p.relative_to(DOCS))
        for p in DOCS.rglob("*.md")
        if not {"includes", "vendor"} & set(p.parts)
    }
    assert pages - nav == set()


@pytest.mark.parametrize("page", TUTORIAL, ids=lambda p: p.stem)
def test_a_tutorial_page_keeps_its_promises(page: Path) -> None:
    text = page.read_text("utf8")
    head = text[:1500]
    assert re.search(r'^!!! abstract "What we will build"', head, re.M), "no 'What we will build'"
    assert "**Prerequisites:**" in head or "Prerequisites" in head, "no prerequisites line"

    fences = list(scan_fences(text))
    figures = [
        f
        for f in fences
        if f.is_python and f.is_markdown_exec and re.search(r"(figure|plot)_html\(", f.content)
    ]
    assert figures, "no figure drawn at build time"

    exercises = re.findall(r'^\?\?\? question "Exercise', text, re.M)
    assert len(exercises) >= 2, "fewer than two exercises"
    solutions = re.split(r'^\s+\?\?\? success "Solution"', text, flags=re.M)[1:]
    assert len(solutions) >= len(exercises), "an exercise has no collapsible solution"
    for number, solution in enumerate(solutions, start=1):
        body = solution.split("??? question", 1)[0]
        assert re.search(r"^\s+```(python|\{\.python)", body, re.M), (
            f"solution {number} has no Python code for the tests to run"
        )

    if page != TUTORIAL[-1]:
        following = TUTORIAL[TUTORIAL.index(page) + 1].name
        assert following in text, f"no link to the next page, {following}"


DRAFT_MISTAKES = [
    r"with respect to 3\b",
    r"constant values of 0",
    r"Gradient's",
    r"simplier",
    r"partial derivation",
    r"it's key points",
    r"represented in three-dimensions",
    r"ðŸ",
    r"The gradient of a line \(function\) shows how steep it is",
    r"Gradient Descent algorithm to pass a loss value backwards",
]


@pytest.mark.parametrize("pattern", DRAFT_MISTAKES)
def test_the_drafts_mistakes_stay_fixed(pattern: str) -> None:
    for page in DOCS.rglob("*.md"):
        if "vendor" in page.parts:
            continue
        assert not re.search(pattern, page.read_text("utf8")), f"{page}: {pattern!r}"
