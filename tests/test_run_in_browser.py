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

CHAIN_PAGE = "tutorial/05-chain-rule/"
# Loading Python takes about 10 s on a busy two-core machine; the margin is for a busier one.
RUN_TIMEOUT_MS = 180_000
measured: dict[str, float] = {}


@pytest.fixture(scope="module", autouse=True)
def _runtime_present() -> None:
    if not run_blocks.fetch_pyodide.is_present():
        pytest.skip("Pyodide is not in .cache/: run `make pyodide` (needs the npm registry)")


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


def _run(page: Any, index: str, code: str | None = None) -> tuple[str, str]:
    """Put `code` (default: the block's own) in block `index`, Run it; its output and state."""
    box = _box(page, index)
    box.scroll_into_view_if_needed()
    if code is not None:
        box.locator("textarea").fill(code)
    page.evaluate(
        "(i) => delete document.querySelector(`.bp-run[data-bp-block='${i}']`).dataset.bpRan",
        index,
    )
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
    assert box.locator("textarea").input_value() == block["code"]
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
    box.locator("textarea").fill("while True:\n    pass\n")
    page.evaluate(
        "(i) => delete document.querySelector(`.bp-run[data-bp-block='${i}']`).dataset.bpRan",
        index,
    )
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
    page.goto(served_site.url + "tutorial/14-broadcasting-and-reductions/", wait_until="load")
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
