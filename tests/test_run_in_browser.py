"""Run buttons and the playground in Chromium: the guide's code runs in the page (Pyodide).

Against the built site (the `served_site` fixture) and, once, under `mkdocs serve`. Every
expected output is computed here by running the same code with this Python, never typed.
The runtime must be in .cache/ (`make pyodide`); under CI=true a missing runtime fails.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import urlopen

import pytest

pytestmark = [pytest.mark.site, pytest.mark.xdist_group("site")]

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "hooks"))
import run_blocks  # noqa: E402

CHAIN_PAGE = "tutorial/06-chain-rule/"
# Loading Python takes about 10 s on a busy two-core machine; the margin is for a busier one.
RUN_TIMEOUT_MS = 180_000
measured: dict[str, float] = {}


@pytest.fixture(scope="module", autouse=True)
def _runtime_present() -> None:
    if not run_blocks.fetch_pyodide.is_present():
        pytest.skip("Pyodide is not in .cache/: run `make pyodide` (needs npm)")


class Watched:
    """A page, with every request to another host and every console error it caused."""

    def __init__(self, browser: Any, origin: str) -> None:
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.origin = origin
        self.foreign: list[str] = []
        self.errors: list[str] = []
        self.wasm_types: list[str] = []
        self.requests: list[str] = []
        self.context.on("request", self._request)
        self.context.on("response", self._response)
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

    def _request(self, request: Any) -> None:
        self.requests.append(request.url)
        parts = urlparse(request.url)
        if parts.scheme in {"http", "https", "ws", "wss"} and parts.netloc != self.origin:
            self.foreign.append(request.url)

    def _response(self, response: Any) -> None:
        if response.url.split("?")[0].endswith(".wasm"):
            self.wasm_types.append(response.headers.get("content-type", ""))
        if response.status >= 400:
            self.errors.append(f"HTTP {response.status} for {response.url}")

    def check(self) -> None:
        assert not self.foreign, f"requests to other hosts: {self.foreign[:5]}"
        assert not self.errors, f"console errors: {self.errors[:5]}"
        assert self.wasm_types and all(t == "application/wasm" for t in self.wasm_types)


@pytest.fixture
def watched(browser: Any, served_site: Any) -> Iterator[Watched]:
    w = Watched(browser, urlparse(served_site.url).netloc)
    try:
        yield w
    finally:
        w.context.close()


def _data(page: Any) -> dict[str, Any]:
    return page.evaluate(
        "() => JSON.parse([...document.querySelectorAll('div.bp-run-data')].pop().dataset.bpRun)"
    )


def _python_output(prelude: list[str], code: str) -> str:
    """What `code` prints under this Python, after its earlier blocks (their output dropped)."""
    script = (
        "import contextlib, io, json, sys\n"
        "blocks = json.loads(sys.stdin.read())\n"
        "ns = {'__name__': '__main__'}\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    for source in blocks[:-1]:\n"
        "        exec(source, ns)\n"
        "exec(blocks[-1], ns)\n"
    )
    import json

    proc = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps([*prelude, code]),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _box(page: Any, index: str) -> Any:
    return page.locator(f'.bp-run[data-bp-block="{index}"]')


def _code(box: Any) -> str:
    """The code in a block's editor (CodeMirror draws only the lines in view: ask it)."""
    return box.evaluate("b => b.bpEditor.value")


def _set_code(box: Any, code: str) -> None:
    box.evaluate("(b, code) => { b.bpEditor.value = code; }", code)


def _forget_run(page: Any, index: str) -> None:
    page.evaluate(
        "(i) => delete document.querySelector(`.bp-run[data-bp-block='${i}']`).dataset.bpRan",
        index,
    )


def _run(page: Any, index: str, code: str | None = None) -> tuple[str, str]:
    """Put `code` (default: the block's own) in block `index`, Run it; its output and state."""
    box = _box(page, index)
    box.scroll_into_view_if_needed()
    if code is not None:
        _set_code(box, code)
    _forget_run(page, index)
    box.locator("button.bp-run-run").click()
    page.wait_for_selector(f'.bp-run[data-bp-block="{index}"][data-bp-ran]', timeout=RUN_TIMEOUT_MS)
    return box.locator("pre.bp-run-output").text_content() or "", box.get_attribute("data-bp-ran")


def _printing_block(data: dict[str, Any], *, chained: bool) -> tuple[str, dict[str, Any]]:
    for index, block in data["blocks"].items():
        if block["runnable"] and "print(" in block["code"] and bool(block["prelude"]) == chained:
            return index, block
    raise AssertionError(f"no runnable block that prints (chained={chained})")


def _prelude(data: dict[str, Any], block: dict[str, Any]) -> list[str]:
    return [data["blocks"][str(i)]["code"] for i in block["prelude"]]


def _open(w: Watched, url: str) -> dict[str, Any]:
    w.page.goto(url, wait_until="load", timeout=60_000)
    w.page.wait_for_selector(".bp-run", timeout=30_000)
    return _data(w.page)


def test_run_shows_what_python_prints(watched: Watched, served_site: Any) -> None:
    """A block runs in the page and prints exactly what it prints under Python."""
    data = _open(watched, served_site.url + CHAIN_PAGE)
    index, block = _printing_block(data, chained=False)
    start = time.perf_counter()
    output, state = _run(watched.page, index)
    measured["first Run (s)"] = time.perf_counter() - start
    print(f"first Run, Pyodide loading included: {measured['first Run (s)']:.1f} s")
    assert state == "ok", output
    assert output == _python_output([], block["code"])
    watched.check()


def test_a_chained_block_runs_after_its_chain(watched: Watched, served_site: Any) -> None:
    """A session block, run on its own, first runs its session's earlier blocks."""
    data = _open(watched, served_site.url + CHAIN_PAGE)
    index, block = _printing_block(data, chained=True)
    output, state = _run(watched.page, index)
    assert state == "ok", output
    expected = _python_output(_prelude(data, block), block["code"])
    assert output == expected and expected
    watched.check()


def _edited(code: str, number: float) -> str:
    """`code` with its first float literal set to `number` and its asserts removed.

    The blocks assert the numbers the page shows; a reader who changes a number sees those
    asserts fail (the Run shows that traceback), so the edit drops them, as a reader would.
    """
    tree = ast.parse(code)
    tree.body = [node for node in tree.body if not isinstance(node, ast.Assert)]
    constant = next(
        n for n in ast.walk(tree) if isinstance(n, ast.Constant) and type(n.value) is float
    )
    constant.value = number
    return ast.unparse(tree) + "\n"


def test_an_edit_changes_the_output(watched: Watched, served_site: Any) -> None:
    data = _open(watched, served_site.url + CHAIN_PAGE)
    index, block = _printing_block(data, chained=False)
    edited = _edited(block["code"], 7.5)
    output, state = _run(watched.page, index, edited)
    assert state == "ok", output
    expected = _python_output([], edited)
    assert output == expected and expected != _python_output([], block["code"])
    # Reset puts the block's own code back.
    box = _box(watched.page, index)
    box.locator("button.bp-run-reset").click()
    assert _code(box) == block["code"]
    watched.check()


def test_a_raising_edit_shows_its_traceback(watched: Watched, served_site: Any) -> None:
    data = _open(watched, served_site.url + CHAIN_PAGE)
    index, block = _printing_block(data, chained=False)
    edited = block["code"] + "\nraise ValueError('edited to fail')\n"
    output, state = _run(watched.page, index, edited)
    assert state == "error"
    assert output.startswith(_python_output([], block["code"]))
    assert "Traceback (most recent call last):" in output
    assert 'File "<this block>"' in output
    assert output.rstrip().endswith("ValueError: edited to fail")
    watched.check()


def test_stop_ends_an_endless_loop(watched: Watched, served_site: Any) -> None:
    data = _open(watched, served_site.url + CHAIN_PAGE)
    index, block = _printing_block(data, chained=False)
    page = watched.page
    box = _box(page, index)
    _run(page, index)  # Python is loaded
    _set_code(box, "while True:\n    pass\n")
    _forget_run(page, index)
    box.locator("button.bp-run-run").click()
    page.wait_for_function(
        "(i) => document.querySelector(`.bp-run[data-bp-block='${i}'] .bp-run-status`)"
        ".textContent.startsWith('Running')",
        arg=index,
        timeout=RUN_TIMEOUT_MS,
    )
    page.wait_for_timeout(500)
    assert box.get_attribute("data-bp-ran") is None  # still looping
    box.locator("button.bp-run-stop").click()
    page.wait_for_selector(f'.bp-run[data-bp-block="{index}"][data-bp-ran="stopped"]')
    assert (box.locator("pre.bp-run-output").text_content() or "").endswith("Stopped.")
    # The next Run starts Python again.
    output, state = _run(page, index, block["code"])
    assert state == "ok" and output == _python_output([], block["code"])
    watched.check()


# --- output floods ------------------------------------------------------------------------

FLOOD_LINES = 200_000
# What a flood may take at most: the run finished in about 1 s here (it never finished
# before output was batched); the bound is for a busy machine.
FLOOD_TIMEOUT_MS = 60_000
# The longest the page may go without drawing a frame during a flood: a hang, not slowness
# (frames came every 17-35 ms here; appending line by line stalled them for seconds).
STALL_MS = 2_000

# Count animation frames and changes to the output while the block runs.
WATCH_OUTPUT_JS = """(i) => {
  const box = document.querySelector(`.bp-run[data-bp-block='${i}']`);
  const output = box.querySelector('pre.bp-run-output');
  const w = {frames: 0, updates: 0, longest: 0};
  window.__watch = w;
  new MutationObserver((records) => { w.updates += records.length; })
    .observe(output, {childList: true, characterData: true, subtree: true});
  let last = performance.now();
  const tick = (now) => {
    w.frames += 1; w.longest = Math.max(w.longest, now - last); last = now;
    if (!box.dataset.bpRan) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""


def test_a_flood_of_output_keeps_its_tail(watched: Watched, served_site: Any) -> None:
    """200,000 printed lines finish in seconds: the last lines shown, the rest counted."""
    data = _open(watched, served_site.url + CHAIN_PAGE)
    index, _ = _printing_block(data, chained=False)
    page = watched.page
    box = _box(page, index)
    _run(page, index)  # Python is loaded
    limit = page.evaluate(
        "async () => (await import(new URL('../javascripts/run-ui.js', "
        "[...document.scripts].find(s => s.src.endsWith('/run.js')).src).href)).TAIL_LINES"
    )
    _set_code(box, f"for i in range({FLOOD_LINES}):\n    print(i)\n")
    _forget_run(page, index)
    page.evaluate(WATCH_OUTPUT_JS, index)
    start = time.perf_counter()
    box.locator("button.bp-run-run").click()
    page.wait_for_selector(
        f'.bp-run[data-bp-block="{index}"][data-bp-ran]', timeout=FLOOD_TIMEOUT_MS
    )
    measured["200,000 lines (s)"] = time.perf_counter() - start
    print(f"{FLOOD_LINES:,} lines printed and shown in {measured['200,000 lines (s)']:.2f} s")
    assert box.get_attribute("data-bp-ran") == "ok"
    output = box.locator("pre.bp-run-output").text_content()
    assert output == "".join(f"{i}\n" for i in range(FLOOD_LINES - limit, FLOOD_LINES))
    note = box.locator(".bp-run-dropped")
    assert note.is_visible()
    numbers = [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", note.text_content())]
    assert numbers == [FLOOD_LINES - limit, limit], note.text_content()
    watch = page.evaluate("() => window.__watch")
    # One update per animation frame at most (and the final one), not one per line.
    assert watch["updates"] <= watch["frames"] + 3, watch
    assert watch["longest"] < STALL_MS, watch
    # A short run afterwards shows all its output and no note.
    output, state = _run(page, index, "print('short')\n")
    assert (state, output) == ("ok", "short\n") and not note.is_visible()
    watched.check()


def test_stop_ends_a_flood(watched: Watched, served_site: Any) -> None:
    data = _open(watched, served_site.url + CHAIN_PAGE)
    index, block = _printing_block(data, chained=False)
    page = watched.page
    box = _box(page, index)
    _run(page, index)  # Python is loaded
    _set_code(box, "i = 0\nwhile True:\n    print(i)\n    i += 1\n")
    _forget_run(page, index)
    box.locator("button.bp-run-run").click()
    # Flooding: the kept tail is full and earlier lines are being dropped.
    page.wait_for_function(
        "(i) => document.querySelector(`.bp-run[data-bp-block='${i}'] .bp-run-dropped`)"
        ".textContent.includes('not shown')",
        arg=index,
        timeout=RUN_TIMEOUT_MS,
    )
    assert box.get_attribute("data-bp-ran") is None  # still printing
    box.locator("button.bp-run-stop").click()
    page.wait_for_selector(
        f'.bp-run[data-bp-block="{index}"][data-bp-ran="stopped"]', timeout=10_000
    )
    lines = (box.locator("pre.bp-run-output").text_content() or "").split("\n")
    assert lines[-1] == "Stopped."
    printed = [int(n) for n in lines[:-1] if n]
    assert printed == list(range(printed[0], printed[0] + len(printed))) and printed[0] > 0
    output, state = _run(page, index, block["code"])
    assert state == "ok" and output == _python_output([], block["code"])
    watched.check()


# The end of the output as run-ui.js keeps it (class Tail), against the same rule in Python.
TAIL_JS = """async ([chunks, maxLines, maxChars]) => {
  const src = [...document.scripts].find(s => s.src.endsWith('/run.js')).src;
  const {Tail} = await import(new URL('../javascripts/run-ui.js', src).href);
  const tail = new Tail(maxLines, maxChars);
  for (const chunk of chunks) tail.push(chunk);
  return {text: tail.text, dropped: tail.dropped, cut: tail.cut};
}"""


def _expected_tail(text: str, max_lines: int, max_chars: int) -> tuple[str, int]:
    """The last complete lines within both limits, and the open line; lines dropped."""
    *lines, open_line = text.split("\n")
    kept = lines[-max_lines:] if max_lines else []
    while kept and sum(len(line) + 1 for line in kept) + len(open_line) > max_chars:
        kept = kept[1:]
    body = "".join(f"{line}\n" for line in kept)
    return body + open_line[-max_chars:], len(lines) - len(kept)


def test_the_output_tail_keeps_the_last_lines(watched: Watched, served_site: Any) -> None:
    """However the output is split into batches, the tail is its last lines, counted right."""
    import random

    _open(watched, served_site.url + CHAIN_PAGE)
    rng = random.Random(21)
    cases = []
    for _ in range(40):
        text = "".join(
            rng.choice(["a", "bb", "\n", "ccc\n", "\n\n", "x" * rng.randint(0, 30)])
            for _ in range(rng.randint(0, 80))
        )
        cuts = sorted(rng.sample(range(len(text) + 1), min(len(text) + 1, rng.randint(1, 6))))
        chunks = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        cases.append((text, chunks, rng.randint(1, 8), rng.randint(5, 60)))
    for text, chunks, max_lines, max_chars in cases:
        got = watched.page.evaluate(TAIL_JS, [chunks, max_lines, max_chars])
        expected, dropped = _expected_tail(text, max_lines, max_chars)
        assert (got["text"], got["dropped"]) == (expected, dropped), (text, max_lines, max_chars)
        assert got["cut"] == (len(text.split("\n")[-1]) > max_chars)
    assert not watched.foreign and not watched.errors  # Python never ran


# --- the editor ---------------------------------------------------------------------------

# The editor's colours, and Material's for the same roles in the current scheme.
EDITOR_COLOURS_JS = """(i) => {
  const box = document.querySelector(`.bp-run[data-bp-block='${i}']`);
  const probe = (v) => {
    const el = document.createElement('span');
    el.style.color = `var(${v})`;
    box.append(el);
    const c = getComputedStyle(el).color;
    el.remove();
    return c;
  };
  const keyword = box.querySelector('.cm-content .tok-keyword');
  return {
    background: getComputedStyle(box.querySelector('.cm-editor')).backgroundColor,
    keyword: keyword && getComputedStyle(keyword).color,
    material: {keyword: probe('--md-code-hl-keyword-color')},
    bg: (() => {
      const el = document.createElement('div');
      el.style.backgroundColor = 'var(--md-code-bg-color)';
      box.append(el);
      const c = getComputedStyle(el).backgroundColor;
      el.remove();
      return c;
    })(),
  };
}"""


def _scheme(page: Any, material: str) -> None:
    page.evaluate(
        """(m) => document.querySelector(`input[name="__palette"][data-md-color-scheme="${m}"]`)
             .click()""",
        material,
    )
    page.wait_for_function(
        "(m) => document.body.getAttribute('data-md-color-scheme') === m", arg=material
    )


def test_the_editor_highlights_python_in_the_sites_colours(
    watched: Watched, served_site: Any
) -> None:
    """CodeMirror: one numbered line per line of code, Material's code colours in both
    schemes, switched live; Ctrl+Enter runs the block."""
    data = _open(watched, served_site.url + CHAIN_PAGE)
    page = watched.page
    index, block = _printing_block(data, chained=False)
    box = _box(page, index)
    box.scroll_into_view_if_needed()
    assert box.locator(".cm-editor .cm-content[contenteditable=true]").count() == 1
    assert _code(box) == block["code"]
    numbers = box.locator(".cm-lineNumbers .cm-gutterElement:not([style*='hidden'])")
    assert numbers.last.text_content() == str(block["code"].count("\n") + 1)
    seen = {}
    for material in ("default", "slate", "default"):
        _scheme(page, material)
        colours = page.evaluate(EDITOR_COLOURS_JS, index)
        assert colours["background"] == colours["bg"], (material, colours)
        assert colours["keyword"] == colours["material"]["keyword"], (material, colours)
        seen.setdefault(material, colours["background"])
        assert seen[material] == colours["background"]
    assert seen["default"] != seen["slate"], "the editor did not follow the scheme"
    # Ctrl+Enter runs (CodeMirror's own Mod-Enter, "insert a blank line", does not fire).
    _forget_run(page, index)
    box.locator(".cm-content").click()
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(f'.bp-run[data-bp-block="{index}"][data-bp-ran]', timeout=RUN_TIMEOUT_MS)
    assert box.get_attribute("data-bp-ran") == "ok"
    assert box.locator("pre.bp-run-output").text_content() == _python_output([], block["code"])
    assert _code(box) == block["code"]
    watched.check()


def test_the_editor_passes_axe_in_both_schemes(watched: Watched, served_site: Any) -> None:
    """No serious or critical WCAG A/AA violation inside the Run blocks, in either scheme."""
    from test_a11y import AXE, FAILING_IMPACTS, WCAG_TAGS

    _open(watched, served_site.url + CHAIN_PAGE)
    page = watched.page
    page.add_script_tag(path=str(AXE))
    for material in ("default", "slate"):
        _scheme(page, material)
        violations = page.evaluate(
            """async (tags) => (await axe.run({include: [['.bp-run']]},
                 {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']}))
               .violations.flatMap(v => v.nodes.map(n => [v.id, n.impact || v.impact,
                                                         n.target.join(' ')]))""",
            WCAG_TAGS,
        )
        serious = [v for v in violations if v[1] in FAILING_IMPACTS]
        assert not serious, f"{material}: {serious[:10]}"
    assert not watched.foreign and not watched.errors  # Python never ran


def test_without_javascript_the_code_stays_highlighted(browser: Any, served_site: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(served_site.url + CHAIN_PAGE, wait_until="load")
        blocks = page.locator("div[data-bp-block]")
        assert blocks.count() > 0 and page.locator(".cm-editor").count() == 0
        first = blocks.first
        assert first.locator("pre code .k, pre code .kn").count() > 0  # Pygments' keyword spans
        assert "import" in (first.locator("pre").text_content() or "")
    finally:
        context.close()


def _playground_grads(code: str) -> dict[str, str]:
    namespace: dict[str, Any] = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(code, namespace)
    from backprop import topological_order

    return {v.label: repr(v.grad) for v in topological_order(namespace["L"])}


def test_the_playground_draws_the_drafts_graph(watched: Watched, served_site: Any) -> None:
    data = _open(watched, served_site.url + "playground/")
    page = watched.page
    index = page.locator(".bp-run").first.get_attribute("data-bp-block")
    code = data["blocks"][index]["code"]
    output, state = _run(page, index)
    assert state == "ok", output
    assert output == _python_output([], code)
    results = page.locator(".bp-run .bp-playground-results").first
    rows = results.locator(".bp-playground-nodes table tbody tr")
    shown = {
        rows.nth(i).locator("td").nth(0).text_content(): rows.nth(i)
        .locator("td")
        .nth(3)
        .text_content()
        for i in range(rows.count())
    }
    expected = _playground_grads(code)
    assert shown == expected
    assert [expected[k] for k in "abcf"] == [repr(float(g)) for g in (6, -4, -2, 4)]
    svg = results.locator(".bp-playground-graph svg")
    assert svg.count() == 1 and svg.bounding_box()["width"] > 100
    assert results.locator("[data-stepper]").count() == 1
    watched.check()


def test_python_loads_once_across_instant_navigation(watched: Watched, served_site: Any) -> None:
    data = _open(watched, served_site.url + CHAIN_PAGE)
    page = watched.page
    index, _ = _printing_block(data, chained=False)
    _run(page, index)
    page.evaluate(
        "() => { window.__noReload = 'still here'; document.querySelector('article').__seen = 1; }"
    )
    link = page.locator("a.md-footer__link--next").first
    target = link.evaluate("a => a.href.split('#')[0]")
    link.click()
    # The new page's article (instant navigation replaces it) with its blocks set up.
    page.wait_for_function(
        """(t) => location.href.split('#')[0] === t
          && !document.querySelector('article').__seen
          && document.querySelector('article div.bp-run-data')
          && document.querySelector('article .bp-run')""",
        arg=target,
        timeout=60_000,
    )
    assert page.evaluate("() => window.__noReload") == "still here"
    next_index, next_block = _printing_block(_data(page), chained=False)
    output, state = _run(page, next_index)
    assert state == "ok" and output == _python_output([], next_block["code"])
    loads = [u for u in watched.requests if u.split("?")[0].endswith("pyodide.asm.wasm")]
    assert len(loads) == 1, loads
    watched.check()


def test_pages_without_runnable_blocks_load_nothing_extra(
    watched: Watched, served_site: Any
) -> None:
    page = watched.page
    page.goto(served_site.url + "tutorial/15-broadcasting-and-reductions/", wait_until="load")
    page.wait_for_load_state("networkidle")
    assert page.locator(".bp-run").count() == 0
    assert page.locator(".bp-run-note").count() > 0
    extra = [u for u in watched.requests if re.search(r"run-ui|run-worker|pyodide", u)]
    assert not extra
    assert not watched.foreign and not watched.errors


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_under_mkdocs_serve(browser: Any, tmp_path: Path) -> None:
    """`mkdocs serve` (what `make serve` runs) serves the runtime, .wasm as application/wasm."""
    log = (tmp_path / "serve.log").open("w+")
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "BACKPROP_SITE_URL": url, "NO_MKDOCS_2_WARNING": "1"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "serve",
            "--dev-addr",
            f"127.0.0.1:{port}",
            "--no-livereload",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 600
        while True:
            if server.poll() is not None:
                log.seek(0)
                pytest.fail(f"mkdocs serve exited:\n{log.read()[-3000:]}")
            try:
                with urlopen(url + CHAIN_PAGE, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "mkdocs serve did not come up in 10 minutes"
            time.sleep(1)
        w = Watched(browser, f"127.0.0.1:{port}")
        try:
            data = _open(w, url + CHAIN_PAGE)
            index, block = _printing_block(data, chained=True)
            output, state = _run(w.page, index)
            assert state == "ok", output
            assert output == _python_output(_prelude(data, block), block["code"])
            w.check()
        finally:
            w.context.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
