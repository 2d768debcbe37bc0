"""Every link of a built site, followed: each `href` and `src` of every page, anchors too.

`broken_links(site_dir, base_url)` reads every HTML file the build wrote (generated HTML
included: markdown-exec's tables and figures, what hooks add), requests each same-site
target from the server at `base_url`, and checks that the part after `#` names an `id` (or
a legacy `name`) on the page it lands on. It returns one line per broken link, naming the
page, the link as written and what is wrong. Links to other hosts are not followed (the
site's own test already refuses any request to them); `mailto:`, `data:` and
`javascript:` URLs are left alone.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

LINK_ATTRIBUTES = {"href", "src"}
SKIPPED_SCHEMES = {"mailto", "data", "javascript", "tel", "blob"}


class _Links(HTMLParser):
    """The page's link targets (href/src of any element) and the ids it carries."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in LINK_ATTRIBUTES:
                self.links.append(value)
            elif name == "id" or (name == "name" and tag == "a"):
                self.ids.add(value)


def _parse(text: str) -> _Links:
    parser = _Links()
    parser.feed(text)
    parser.close()
    return parser


def _page_url(site_dir: Path, file: Path, base_url: str) -> str:
    rel = file.relative_to(site_dir).as_posix()
    if rel == "index.html":
        rel = ""
    elif rel.endswith("/index.html"):
        rel = rel[: -len("index.html")]
    return urljoin(base_url, rel)


def broken_links(site_dir: Path, base_url: str, timeout: float = 30.0) -> list[str]:
    """One line per link on the built site that does not resolve (empty when all do)."""
    base = urlsplit(base_url)
    fetched: dict[str, tuple[int, _Links | None]] = {}

    def fetch(url: str) -> tuple[int, _Links | None]:
        if url not in fetched:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    body = response.read()
                    kind = response.headers.get_content_type()
                    parsed = _parse(body.decode("utf8", "replace")) if kind == "text/html" else None
                    fetched[url] = (response.status, parsed)
            except urllib.error.HTTPError as error:
                fetched[url] = (error.code, None)
        return fetched[url]

    problems = []
    for file in sorted(site_dir.rglob("*.html")):
        page_url = _page_url(site_dir, file, base_url)
        page = _parse(file.read_text("utf8"))
        for link in dict.fromkeys(page.links):
            parts = urlsplit(link)
            if parts.scheme in SKIPPED_SCHEMES:
                continue
            target = urlsplit(urljoin(page_url, link))
            if (target.scheme, target.netloc) != (base.scheme, base.netloc):
                continue
            where = f"{file.relative_to(site_dir)}: {link!r}"
            resource = urlunsplit((target.scheme, target.netloc, target.path, target.query, ""))
            status, landed = fetch(resource)
            if status != 200:
                problems.append(f"{where} -> HTTP {status}")
                continue
            anchor = unquote(target.fragment)
            if anchor and (landed is None or anchor not in landed.ids):
                problems.append(f"{where} -> no element with id {anchor!r} on that page")
    return problems
