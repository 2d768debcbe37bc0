"""Links and anchors of the guide's Markdown pages, as MkDocs will resolve them.

Shared by the page tests: `anchors(page)` (the ids MkDocs gives a page's headings and
`{ #id }` attributes), `links(page)` (every relative link outside code),
`check_links(page)` (each link's page and anchor exist) and `nav_pages(section)` (the
files a nav section lists, in order). The built site's own test follows every link of
every page too (`tests/site_links.py`); these checks run without a build.
"""

from __future__ import annotations

import re
from pathlib import Path

import markdown
import yaml
from docs_harness import scan_fences

ROOT = Path(__file__).resolve().parents[1]


def anchors(page: Path) -> set[str]:
    """The ids of a page's headings and `{ #id }` attributes, as MkDocs makes them."""
    md = markdown.Markdown(
        extensions=[
            "toc",
            "attr_list",
            "def_list",
            "admonition",
            "tables",
            "md_in_html",
            "pymdownx.details",
            "pymdownx.superfences",
            "pymdownx.arithmatex",
        ],
        extension_configs={"pymdownx.arithmatex": {"generic": True}},
    )
    html = md.convert(without_code(page.read_text("utf8")))
    return set(re.findall(r'\bid="([^"]+)"', html))


def without_code(text: str) -> str:
    """The page with every fenced block blanked out (a `# comment` is no heading)."""
    lines = text.splitlines()
    for fence in scan_fences(text):
        for i in range(fence.opener_line, fence.closer_line + 1):
            lines[i] = ""
    return "\n".join(lines)


def links(page: Path) -> list[tuple[str, str]]:
    """Every relative Markdown link `[text](target#anchor)` on a page, outside code."""
    prose = re.sub(r"`[^`\n]*`", "", without_code(page.read_text("utf8")))
    links = []
    for target in re.findall(r"\]\(([^)\s]+)\)", prose):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        links.append((path, anchor))
    return links


def check_links(page: Path) -> int:
    checked = 0
    for path, anchor in links(page):
        target = (page.parent / path).resolve() if path else page
        assert target.is_file(), f"{page.name}: no page {path}"
        if anchor and target.suffix == ".md":
            assert anchor in anchors(target), f"{page.name}: no anchor #{anchor} in {path}"
        checked += 1
    return checked


def nav_pages(section: str = "Tutorial") -> list[str]:
    class Loader(yaml.SafeLoader):
        pass

    # mkdocs.yml uses !ENV and !!python/name tags: read them as plain values here.
    Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    nav = yaml.load((ROOT / "mkdocs.yml").read_text("utf8"), Loader=Loader)["nav"]
    tutorial = next(item[section] for item in nav if isinstance(item, dict) and section in item)
    return [next(iter(item.values())) for item in tutorial if isinstance(item, dict)]
