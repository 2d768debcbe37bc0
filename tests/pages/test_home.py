"""The home page: its links land, its list of part 1 follows the nav, and what it says
about the derivative rules (each derived, not just stated, and checked) holds."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from markdown.extensions.toc import slugify

DOCS = Path(__file__).resolve().parents[2] / "docs"
HOME = DOCS / "index.md"
TEXT = HOME.read_text("utf8")


def anchors(page: Path) -> set[str]:
    """The ids of a page's headings: an attribute list's id, else MkDocs's default slug."""
    ids = set()
    for line in page.read_text("utf8").splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*(?:\{\s*#([\w-]+)\s*\})?\s*$", line)
        if m and not line.startswith("# "):
            ids.add(m.group(2) or slugify(m.group(1).replace("`", ""), "-"))
        ids.update(re.findall(r"\{\s*#([\w-]+)", line))  # attribute lists anywhere
    return ids


def nav_titles() -> dict[str, str]:
    """file -> title of every page in the nav."""

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    config = yaml.load((DOCS.parent / "mkdocs.yml").read_text("utf8"), Loader=Loader)
    titles: dict[str, str] = {}

    def walk(node: object) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, str):
                    titles[value] = key
                else:
                    walk(value)

    walk(config["nav"])
    return titles


def test_links_land_on_existing_pages_and_anchors() -> None:
    links = re.findall(r"\]\(([\w./-]+\.md)(?:#([\w-]+))?\)", TEXT)
    assert links
    for target, anchor in links:
        path = DOCS / target
        assert path.exists(), target
        if anchor:
            assert anchor in anchors(path), f"{target}#{anchor}"


def test_the_list_of_part_1_numbers_its_pages_as_the_nav_does() -> None:
    items = re.findall(r"^(\d+)\. \[([^\]]+)\]\((tutorial/[\w-]+\.md)\)", TEXT, re.M)
    assert len(items) >= 9
    titles = nav_titles()
    for number, title, target in items:
        assert Path(target).name.startswith(f"{int(number):02d}-"), target
        assert titles[target] == f"{number}. {title}", target


def test_the_pages_the_introduction_names() -> None:
    """'your own engine (page 7)', 'trains a neuron (page 9)'."""
    engine = re.search(r"engine of your own\s+\(page (\d+)\)", TEXT)
    neuron = re.search(r"trains a neuron \(page (\d+)\)", TEXT)
    assert engine and neuron
    tutorial = DOCS / "tutorial"
    engine_page = next(tutorial.glob(f"{int(engine.group(1)):02d}-*.md")).read_text("utf8")
    neuron_page = next(tutorial.glob(f"{int(neuron.group(1)):02d}-*.md")).read_text("utf8")
    assert re.search(r"^class Value", engine_page, re.M)
    assert re.search(r"\bneuron\b", neuron_page[:1500]) and "backward()" in neuron_page


def heading_id(title: str) -> str:
    m = re.search(r"\{\s*#([\w-]+)\s*\}\s*$", title)
    return m.group(1) if m else slugify(title.replace("`", ""), "-")


def test_every_derivative_rule_it_promises_is_derived_and_checked() -> None:
    """Every rule heading in the sections the home page links to has a refresher that
    derives it, with code the tests run."""
    sections = re.findall(r"\]\((tutorial/0[23]-[\w-]+\.md)#([\w-]+)\)", TEXT)
    assert len(sections) >= 3
    rules = 0
    for target, anchor in sections:
        text = (DOCS / target).read_text("utf8")
        heading = next(
            m for m in re.finditer(r"^(##+) (.*)$", text, re.M) if heading_id(m.group(2)) == anchor
        )
        level = len(heading.group(1))
        rest = text[heading.end() :]
        end = re.search(rf"^#{{2,{level}}} ", rest, re.M)
        body = rest[: end.start()] if end else rest
        # a link to one rule, or to a section of rules
        parts = [body] if level == 3 else re.split(r"^### ", body, flags=re.M)[1:]
        for part in parts:
            rules += 1
            assert re.search(r'^\?\?\? info "Refresher', part, re.M), part[:60]
            assert re.search(r"^\s+```python", part, re.M), part[:60]
    assert rules >= 8  # sums, powers, e^x, ln x; products, quotients, tanh, sigmoid
