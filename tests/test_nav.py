"""The built site's navigation: every tutorial entry carries its page number.

mkdocs.yml numbers the tutorial's entries ("21. Reading handwritten digits"), but a
plugin may retitle a page when it renders it: mkdocs-jupyter replaces a notebook's title
with the notebook's first heading unless `ignore_h1_titles` is set. So the numbers are
checked in the nav the build actually wrote, on the home page and on the notebook's own
page (where its entry is the active one).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest

pytestmark = [pytest.mark.site, pytest.mark.xdist_group("site")]

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


class _Nav(HTMLParser):
    """The links of each titled section of Material's primary nav: {title: [(href, text)]}."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []  # the open elements' tags
        self.titles: list[str | None] = []  # of the open <nav> elements, innermost last
        # The link or section title being read: its depth in `stack`, kind, href and text.
        self.reading: tuple[int, str, str, list[str]] | None = None
        self.sections: dict[str, list[tuple[str, str]]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        self.stack.append(tag)
        if tag == "nav":
            self.titles.append(None)
        elif self.titles and self.reading is None:
            kind = {"a": "md-nav__link", "label": "md-nav__title"}.get(tag)
            if kind in classes:
                self.reading = (len(self.stack), tag, a.get("href") or "", [])

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.stack:
            return
        while True:  # close whatever the page left open inside this element
            depth = len(self.stack)
            closed = self.stack.pop()
            if self.reading and self.reading[0] == depth:
                self._read()
            if closed == "nav":
                self.titles.pop()
            if closed == tag:
                break

    def _read(self) -> None:
        assert self.reading is not None
        _, kind, href, parts = self.reading
        self.reading = None
        text = " ".join("".join(parts).split())
        if kind == "label":
            self.titles[-1] = text
        elif self.titles[-1] is not None:
            self.sections.setdefault(self.titles[-1], []).append((href, text))

    def handle_data(self, data: str) -> None:
        if self.reading is not None:
            self.reading[3].append(data)


def nav_sections(page_html: str) -> dict[str, list[tuple[str, str]]]:
    parser = _Nav()
    parser.feed(page_html)
    return parser.sections


_NUMBERED = re.compile(r"(\d+)\. \S")


@pytest.mark.parametrize("page", ["index.html", "notebooks/digits/index.html"])
def test_every_tutorial_entry_starts_with_its_number(built_site: Any, page: str) -> None:
    entries = nav_sections((built_site.path / page).read_text("utf8"))["Tutorial"]
    numbers = []
    for href, text in entries:
        match = _NUMBERED.match(text)
        assert match, f"the tutorial's nav entry {text!r} ({href}) has no number"
        numbers.append(int(match[1]))
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 20
    digits = [text for href, text in entries if "notebooks/digits/" in href or href in {".", "./"}]
    assert digits == ["21. Reading handwritten digits"]


def test_the_nav_parser_sees_sections_and_their_entries() -> None:
    page = (
        '<nav class="md-nav"><label class="md-nav__title">Tutorial</label><ul>'
        '<li><a href="t/1/" class="md-nav__link"><span>1. One</span></a></li>'
        '<li><a href="n/2/" class="md-nav__link md-nav__link--active">Two<input></a>'
        '<nav class="md-nav md-nav--secondary"><label class="md-nav__title">Table</label>'
        '<a href="#x" class="md-nav__link">A heading</a></nav></li></ul></nav>'
    )
    assert nav_sections(page) == {
        "Tutorial": [("t/1/", "1. One"), ("n/2/", "Two")],
        "Table": [("#x", "A heading")],
    }
