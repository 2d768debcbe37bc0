"""Run buttons on the how-to and explanation pages, in the built site and in Chromium.

`hooks/run_blocks.py` gives these pages Run buttons wherever a block (with the blocks it
runs after) needs only the standard library and backprop's scalar parts; a block that
needs numpy keeps a note saying why. Here the built pages are checked against what the
hook decided from their Markdown, and every such block is run in the page with Pyodide.
Expected outputs are computed by running the same code with this Python, never typed.
The tutorial's own Run buttons are tested in tests/test_run_in_browser.py.
"""

from __future__ import annotations

import ast
import html
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

pytestmark = [pytest.mark.site, pytest.mark.xdist_group("site")]

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "hooks"))
import run_blocks  # noqa: E402

PARTS = ("how-to", "explanation")
PAGES = sorted(
    path for part in PARTS for path in (ROOT / "docs" / part).glob("*.md") if path.stem != "index"
)
# Loading Python takes about 10 s on a busy two-core machine; the margin is for a busier one.
RUN_TIMEOUT_MS = 180_000


def _url(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}/"


def _blocks(path: Path) -> list[run_blocks.Block]:
    """The hook's blocks of the page at `path`, as the build sees them."""
    return run_blocks.page_blocks(
        path.read_text("utf8"), path.relative_to(ROOT / "docs").as_posix()
    )


def _shown_runnable(path: Path) -> list[run_blocks.Block]:
    return [b for b in _blocks(path) if b.runnable and b.shown]


RUN_PAGES = [p for p in PAGES if _shown_runnable(p)]

# --- the built pages ------------------------------------------------------------------

_MARKED = re.compile(r'<div class="language-python highlight" data-bp-block="(\d+)"')
_NOTE = re.compile(r'<p class="bp-run-note">(.*?)</p>', re.S)


def _built(site: Any, path: Path) -> str:
    return (site.path / _url(path) / "index.html").read_text("utf8")


@pytest.mark.parametrize("path", PAGES, ids=_url)
def test_every_runnable_block_gets_a_run_button(built_site: Any, path: Path) -> None:
    """The built page marks exactly the blocks the hook found runnable, and ships their data."""
    page = _built(built_site, path)
    marked = [int(i) for i in _MARKED.findall(page)]
    assert marked == [b.index for b in _shown_runnable(path)]
    assert ('class="bp-run-data"' in page) == bool(marked)


def test_how_to_and_explanation_pages_have_run_buttons(built_site: Any) -> None:
    buttons = {_url(p): len(_MARKED.findall(_built(built_site, p))) for p in PAGES}
    for part in PARTS:
        assert sum(n for url, n in buttons.items() if url.startswith(part)) >= 10, buttons
    assert buttons["how-to/check-a-gradient/"] >= 5
    assert buttons["explanation/engine-design/"] >= 10


@pytest.mark.parametrize(
    "path",
    [ROOT / "docs" / "how-to" / "train-on-your-data.md"],
    ids=_url,
)
def test_a_numpy_page_has_no_run_button_and_says_why(built_site: Any, path: Path) -> None:
    page = _built(built_site, path)
    assert not _MARKED.search(page) and 'class="bp-run-data"' not in page
    notes = [html.unescape(n) for n in _NOTE.findall(page)]
    shown = [b for b in _blocks(path) if b.shown]
    assert len(notes) == len(shown) >= 10
    assert all(n.startswith("Runs at build time only: ") and "numpy" in n for n in notes)


# --- in Chromium ------------------------------------------------------------------------


class Watched:
    """A page, with every request to another host and every console error it caused."""

    def __init__(self, browser: Any, origin: str) -> None:
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.foreign: list[str] = []
        self.errors: list[str] = []

        def request(r: Any) -> None:
            parts = urlparse(r.url)
            if parts.scheme in {"http", "https", "ws", "wss"} and parts.netloc != origin:
                self.foreign.append(r.url)

        def response(r: Any) -> None:
            if r.status >= 400:
                self.errors.append(f"HTTP {r.status} for {r.url}")

        self.context.on("request", request)
        self.context.on("response", response)
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

    def open(self, url: str) -> dict[str, Any]:
        """Load `url`; the run data its hook wrote, once its Run buttons are set up."""
        self.page.goto(url, wait_until="load", timeout=60_000)
        self.page.wait_for_selector(".bp-run", timeout=30_000)
        return self.page.evaluate(
            "() => JSON.parse([...document.querySelectorAll('div.bp-run-data')]"
            ".pop().dataset.bpRun)"
        )

    def run(self, index: int) -> tuple[str, str]:
        """Press Run on block `index` as it stands; its output and how it ended."""
        box = self.page.locator(f'.bp-run[data-bp-block="{index}"]')
        box.scroll_into_view_if_needed()
        self.page.evaluate(
            "(i) => delete document.querySelector(`.bp-run[data-bp-block='${i}']`).dataset.bpRan",
            str(index),
        )
        box.locator("button.bp-run-run").click()
        self.page.wait_for_selector(
            f'.bp-run[data-bp-block="{index}"][data-bp-ran]', timeout=RUN_TIMEOUT_MS
        )
        output = box.locator("pre.bp-run-output").text_content() or ""
        return output, box.get_attribute("data-bp-ran") or ""

    def check(self) -> None:
        assert not self.foreign, f"requests to other hosts: {self.foreign[:5]}"
        assert not self.errors, f"console errors: {self.errors[:5]}"


@pytest.fixture
def watched(browser: Any, served_site: Any) -> Iterator[Watched]:
    if not run_blocks.fetch_pyodide.is_present():
        pytest.skip("Pyodide is not in .cache/: run `make pyodide` (needs npm)")
    w = Watched(browser, urlparse(served_site.url).netloc)
    try:
        yield w
    finally:
        w.context.close()


def _python_output(codes: list[str]) -> str:
    """What the last of `codes` prints under this Python, after the others (output dropped)."""
    script = (
        "import contextlib, io, json, sys\n"
        "blocks = json.loads(sys.stdin.read())\n"
        "ns = {'__name__': '__main__'}\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    for source in blocks[:-1]:\n"
        "        exec(source, ns)\n"
        "exec(blocks[-1], ns)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(codes),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


# What makes a block's output differ between runs or machines: clocks, memory, addresses.
_UNSTEADY = {"time", "perf_counter", "timeit", "tracemalloc", "gc", "id", "getsizeof"}


def _steady(code: str) -> bool:
    names = {
        n.id if isinstance(n, ast.Name) else n.attr
        for n in ast.walk(ast.parse(code))
        if isinstance(n, ast.Name | ast.Attribute)
    }
    return not names & _UNSTEADY


def _printing_block(path: Path, *, chained: bool) -> run_blocks.Block:
    """The page's first runnable block that prints the same everywhere (with its chain)."""
    blocks = _blocks(path)
    for block in (b for b in blocks if b.runnable and b.shown):
        codes = [blocks[i].code for i in block.prelude] + [block.code]
        if "print(" in block.code and bool(block.prelude) == chained and all(map(_steady, codes)):
            return block
    raise AssertionError(f"{path.name} has no steady runnable block that prints")


@pytest.mark.parametrize(
    ("page", "chained"),
    [("how-to/check-a-gradient.md", False), ("explanation/why-reverse-mode.md", True)],
)
def test_a_block_prints_what_python_prints(
    watched: Watched, served_site: Any, page: str, chained: bool
) -> None:
    """A how-to block, and an explanation block after its chain, print what CPython prints."""
    path = ROOT / "docs" / page
    block = _printing_block(path, chained=chained)
    data = watched.open(served_site.url + _url(path))
    chain = [data["blocks"][str(i)]["code"] for i in data["blocks"][str(block.index)]["prelude"]]
    assert chain == [_blocks(path)[i].code for i in block.prelude]
    output, state = watched.run(block.index)
    assert state == "ok", output
    expected = _python_output([*chain, block.code])
    assert output == expected and expected.strip()
    watched.check()


@pytest.mark.parametrize("path", RUN_PAGES, ids=_url)
def test_every_run_button_runs(watched: Watched, served_site: Any, path: Path) -> None:
    """Each block given a Run button runs in the browser without an error (its asserts too).

    The hook decides from the imports (and its list of graphs too deep for the browser's
    stack); this is the proof that the code itself (the standard-library modules it uses,
    the depth of its graphs, the numbers it asserts) holds in Pyodide. Outputs are not
    compared here: the browser's Python is a newer version, whose error messages may say
    more (the two tests above compare outputs that cannot differ).
    """
    watched.open(served_site.url + _url(path))
    failures = []
    for block in _shown_runnable(path):
        output, state = watched.run(block.index)
        if state != "ok":
            failures.append(f"{path.name}:{block.line} ended {state!r}:\n{output[-2000:]}")
    assert not failures, "\n\n".join(failures)
    watched.check()
