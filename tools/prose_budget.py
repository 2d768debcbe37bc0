"""The prose budget of the tutorial: how many words a reader meets on each page.

A tutorial page is a ten-minute read on its main path and about a quarter of an hour in
full. This script counts, page by page, the words of prose outside code:

- **main path**: what a reader sees without opening anything. Collapsed blocks (`??? note
  "..."`, whose body is hidden until clicked) are left out, but their titles count;
  admonitions shown open (`!!!`, `???+`) and content tabs count in full;
- **whole page**: everything, collapsed blocks included.

Code is never counted: fenced blocks, inline `code`, math (`$...$`, `$$...$$`), HTML tags,
link targets, abbreviation definitions and HTML comments are removed first. A word is a run
of letters (with inner apostrophes or hyphens) or a number. Jupytext notebooks (`.py`,
percent format) are counted by their Markdown cells.

    python tools/prose_budget.py          # report; exit 1 if any page is over budget
    python tools/prose_budget.py --json   # the counts as JSON

The limits live here, and only here: `MAIN_PATH_LIMIT`, `PAGE_LIMIT`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAIN_PATH_LIMIT = 2000
PAGE_LIMIT = 3000

# The tutorial path: every numbered page and the notebook that sits in it.
TUTORIAL_GLOBS = ("docs/tutorial/[0-9]*.md", "docs/notebooks/digits.py")

FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})")
# An admonition's first line: its kind, its classes and, in quotes, the title a reader sees
# (without one, Material shows the kind). `???` collapsed, `???+` and `!!!` shown open.
ADMONITION = re.compile(
    r'^\s*(?P<mark>!!!|\?\?\?\+?)\s*(?P<kind>[\w-]+)(?:\s+[\w-]+)*\s*(?:"(?P<title>[^"]*)")?\s*$'
)
WORD = re.compile(r"[A-Za-z]+(?:['’-][A-Za-z]+)*|\d[\d,.]*")


@dataclass(frozen=True)
class Count:
    page: str
    main_path: int
    whole_page: int

    @property
    def over(self) -> bool:
        return self.main_path > MAIN_PATH_LIMIT or self.whole_page > PAGE_LIMIT


def notebook_markdown(source: str) -> str:
    """The Markdown cells of a jupytext percent-format notebook, comment marks removed."""
    out: list[str] = []
    in_markdown = False
    for line in source.splitlines():
        if line.startswith("# %%"):
            in_markdown = "[markdown]" in line
            continue
        if in_markdown:
            out.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
    return "\n".join(out)


def strip_code(text: str) -> str:
    """Prose only: no inline code, math, HTML, link targets, comments or abbreviations."""
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.DOTALL)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.DOTALL)
    text = re.sub(r"(?<![\\$])\$[^$\n]+\$", " ", text)
    text = re.sub(r"`[^`\n]+`", " ", text)
    text = re.sub(r"^\*\[[^\]]+\]:.*$", " ", text, flags=re.MULTILINE)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # [text](target) -> text
    text = re.sub(r"\[([^\]]*)\]\[[^\]]*\]", r"\1", text)  # [text][ref] -> text
    text = re.sub(r"^\s*\[[^\]]+\]:\s*\S+.*$", " ", text, flags=re.MULTILINE)
    text = re.sub(r"\{[:.#][^}]*\}", " ", text)  # attribute lists
    text = re.sub(r"<[^>]+>", " ", text)
    return text


def count_words(text: str) -> int:
    return len(WORD.findall(strip_code(text)))


def split(markdown: str) -> tuple[str, str]:
    """(main path, whole page) of a page's Markdown, fenced code removed from both."""
    main: list[str] = []
    whole: list[str] = []
    fence: str | None = None
    collapsed_indent: int | None = None
    for line in markdown.splitlines():
        indent = len(line) - len(line.lstrip())
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
            continue
        if collapsed_indent is not None and line.strip() and indent <= collapsed_indent:
            collapsed_indent = None
        m = FENCE.match(line)
        if m:
            fence = m.group(2)
            continue
        head = ADMONITION.match(line)
        if head:
            line = head.group("title") if head.group("title") is not None else head.group("kind")
        if collapsed_indent is None:
            main.append(line)  # a collapsed block's title is on the main path, its body is not
            if head and head.group("mark") == "???":
                collapsed_indent = indent
        whole.append(line)
    return "\n".join(main), "\n".join(whole)


def count_page(path: Path) -> Count:
    source = path.read_text("utf8")
    if path.suffix == ".py":
        source = notebook_markdown(source)
    main, whole = split(source)
    rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
    return Count(rel, count_words(main), count_words(whole))


def tutorial_pages(root: Path = ROOT) -> list[Path]:
    return sorted(p for pattern in TUTORIAL_GLOBS for p in root.glob(pattern))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    parser.add_argument("pages", nargs="*", type=Path, help="pages (default: the tutorial)")
    args = parser.parse_args(argv)
    counts = [count_page(p.resolve()) for p in (args.pages or tutorial_pages())]
    if args.json:
        print(json.dumps([asdict(c) | {"over": c.over} for c in counts], indent=2))
    else:
        print(f"prose budget: main path <= {MAIN_PATH_LIMIT:,} words, whole page <= {PAGE_LIMIT:,}")
        for c in counts:
            flag = "  OVER" if c.over else ""
            print(f"  {c.page:<52} {c.main_path:>6,} {c.whole_page:>6,}{flag}")
    over = [c.page for c in counts if c.over]
    if over:
        print(f"{len(over)} page(s) over budget: {', '.join(over)}", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
