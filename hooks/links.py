"""mkdocs hook: links in HTML made at build time resolve like links in Markdown.

MkDocs rewrites a link to a source file (`../reference/ops.md#anchor`) into the built
page's URL while it converts a page's Markdown. HTML that a page's code prints at build
time (markdown-exec's output: the evidence page's and the ops page's tables, figures) is
kept aside during that conversion, so its links still name `.md` files and 404 in the
browser. This hook passes every such link left in a page's final HTML through MkDocs's own
resolver, the one its Markdown conversion uses: the same URLs, the same warnings for a
missing file (which `--strict` turns into a failed build), and anchors registered for the
same end-of-build check. Ids that only the generated HTML carries are added to the page's
known anchors, so links to them are checked too rather than reported as missing.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlsplit

from mkdocs.structure.pages import _RelativePathTreeprocessor

# href/src attributes of <a> and <img>, the two MkDocs's own pass rewrites.
LINK = re.compile(
    r"""(<(?:a|img)\b[^>]*?\b(?:href|src)=)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL
)
ID = re.compile(r"""\bid=(["'])(.*?)\1""")


def _is_source_link(url: str) -> bool:
    """A relative link to a Markdown page's source file.

    Only `.md`: a notebook's own HTML links to its `.py` source as a file to download
    (mkdocs-jupyter copies it beside the page), which must stay a link to that file.
    """
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith(("/", "\\")):
        return False
    return parts.path.endswith(".md")


def resolve_links(html_text: str, page: Any, config: Any, files: Any) -> str:
    """The page's HTML with every link to a source file replaced by the built URL."""
    resolver = _RelativePathTreeprocessor(page.file, files, config)

    def replace(match: re.Match[str]) -> str:
        prefix, quote, raw = match.groups()
        url = html.unescape(raw)
        if not _is_source_link(url):
            return match.group(0)
        return f"{prefix}{quote}{html.escape(resolver.path_to_url(url), quote=True)}{quote}"

    out = LINK.sub(replace, html_text)
    if resolver.links_to_anchors:
        known = page.links_to_anchors if page.links_to_anchors is not None else {}
        for target, anchors in resolver.links_to_anchors.items():
            for anchor, original in anchors.items():
                known.setdefault(target, {}).setdefault(anchor, original)
        page.links_to_anchors = known
    return out


def on_page_content(html_text: str, page: Any, config: Any, files: Any) -> str:
    out = resolve_links(html_text, page, config, files)
    # Anchors that only generated HTML carries (markdown-exec output) are real anchors too.
    if page.present_anchor_ids is not None:
        page.present_anchor_ids.update(html.unescape(m.group(2)) for m in ID.finditer(out))
    return out
