"""The build-time side of the Run buttons, without a browser (runs in `make test`).

`hooks/run_blocks.py` decides which code blocks the reader's browser can run and chains
them as the tests do; `hooks/browser_runner.py` is the Python the browser runs;
`tools/fetch_pyodide.py` fetches the runtime. The browser tests are in
tests/test_run_in_browser.py.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "hooks"))

import browser_runner  # noqa: E402
import run_blocks  # noqa: E402

TUTORIAL = sorted((ROOT / "docs" / "tutorial").glob("*.md"))
# Every page that gets Run buttons where its blocks can run (the playground has its own tests).
RUN_PAGES = sorted(
    path
    for part in run_blocks.RUN_PARTS
    for path in (ROOT / "docs" / part).glob("*.md")
    if path.stem != "index"
)

PAGE = textwrap.dedent(
    """\
    # A page

    ```python
    from backprop import Value

    x = Value(2.0)
    print((x * x).data)
    ```

    ```{.python continuation}
    y = x + 1
    ```

    ```python
    import numpy as np

    print(np.zeros(2))
    ```

    ```{.python continuation}
    print("after numpy")
    ```

    ```python exec="on" source="above" result="text" session="s"
    import math

    r = math.sqrt(4.0)
    ```

    ```python exec="on" html="1" session="s"
    print("<b>hidden</b>")
    ```

    !!! note

        ```python exec="on" source="above" result="text" session="s"
        print(r)
        ```

    ```{.python notest reason="an example of a failure"}
    raise ValueError
    ```

    ```python
    from backprop import Tensor
    ```

    ```python
    import backprop

    print(backprop.tensor.Tensor)
    ```
    """
)


def _by_line(blocks: list[run_blocks.Block]) -> dict[int, run_blocks.Block]:
    return {b.line: b for b in blocks}


def test_a_scalar_block_is_runnable_and_a_numpy_block_is_not() -> None:
    blocks = run_blocks.page_blocks(PAGE)
    assert [b.runnable for b in blocks] == [
        True,  # Value only
        True,  # continues it
        False,  # numpy
        False,  # continues the numpy block
        True,  # session s: math
        True,  # hidden, but runnable (the next block runs after it)
        True,  # in an admonition, after the two
        False,  # notest
        False,  # Tensor
        False,  # backprop.tensor through an attribute
    ]
    assert blocks[2].reason == "it needs numpy"
    assert blocks[3].reason == "a block it runs after needs numpy"
    assert "notest" in blocks[7].reason
    assert "tensor engine" in blocks[8].reason and "tensor engine" in blocks[9].reason


def test_chains_follow_continuations_and_sessions() -> None:
    blocks = run_blocks.page_blocks(PAGE)
    assert blocks[1].prelude == [0]
    assert blocks[3].prelude == [2]
    assert blocks[5].prelude == [4] and not blocks[5].shown
    assert blocks[6].prelude == [4, 5] and blocks[6].code == "print(r)\n"
    assert blocks[0].prelude == blocks[4].prelude == []


@pytest.mark.parametrize(
    ("code", "missing"),
    [
        ("import math, random, itertools\nfrom backprop import Value, draw", None),
        ("from backprop.nn import MLP, Neuron\nfrom backprop.optim import SGD", None),
        ("from backprop.losses import mse\nfrom backprop.gradcheck import gradcheck", None),
        ("from backprop.nn import Linear", "nn.Linear, a tensor module (numpy)"),
        ("import matplotlib.pyplot as plt", "matplotlib"),
        ("from backprop.figures import figure_html", "build-time figures (matplotlib)"),
        ("from backprop import datasets", "backprop.datasets (numpy)"),
        ("import subprocess", "the module subprocess, which the browser's Python lacks"),
        ("import requests", "the module requests, which the browser's Python lacks"),
        ("def f(:\n", "Python that does not parse (invalid syntax, line 1)"),
    ],
)
def test_what_the_browser_lacks(code: str, missing: str | None) -> None:
    assert run_blocks.missing_in_browser(code) == missing


def _nonblank(source: str) -> list[str]:
    return [line for line in source.splitlines() if line.strip()]


def _page_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@pytest.mark.parametrize("path", RUN_PAGES, ids=_page_id)
def test_chains_are_what_the_tests_run(path: Path) -> None:
    """For every block, prelude + code is the source its pytest test runs, line for line."""
    import docs_harness
    from pytest_markdown_docs.plugin import FenceSyntax, extract_fence_tests

    text = path.read_text("utf8")
    tests = list(
        extract_fence_tests(
            docs_harness.FenceParser(), text, 0, path, "md", FenceSyntax.superfences
        )
    )
    blocks = _by_line(run_blocks.page_blocks(text))
    assert {t.start_line for t in tests} == {
        b.line for b in blocks.values() if b.reason != ("it is not run by the tests (notest)")
    }
    for test in tests:
        key = (docs_harness._key_text(text), test.start_line)
        harness = [s for _, s in docs_harness._SESSION_PREFIXES.get(key, [])] + [test.source]
        block = blocks[test.start_line]
        hook = [blocks_code for blocks_code in _codes(text, block)]
        assert _nonblank("\n".join(hook)) == _nonblank("\n".join(harness)), block.line


def _codes(text: str, block: run_blocks.Block) -> list[str]:
    blocks = run_blocks.page_blocks(text)
    return [blocks[i].code for i in sorted([*block.prelude, *block.skipped])] + [block.code]


def test_the_tutorial_has_runnable_blocks_on_its_scalar_pages() -> None:
    counts = {
        p.stem[:2]: sum(b.runnable for b in run_blocks.page_blocks(p.read_text())) for p in TUTORIAL
    }
    assert counts["06"] >= 10 and counts["03"] >= 10
    assert counts["15"] == 0  # broadcasting: numpy throughout


def _page_blocks(path: Path) -> list[run_blocks.Block]:
    """The hook's blocks of the page at `path`, as the build sees them."""
    return run_blocks.page_blocks(
        path.read_text("utf8"), path.relative_to(ROOT / "docs").as_posix()
    )


def _runnable(part: str, name: str) -> list[run_blocks.Block]:
    blocks = _page_blocks(ROOT / "docs" / part / f"{name}.md")
    return [b for b in blocks if b.runnable and b.shown]


def test_blocks_too_deep_for_the_browser_are_each_found_once() -> None:
    """Each listed line is in exactly one block of its page: a stale entry fails here."""
    for page, lines in run_blocks.TOO_DEEP_FOR_THE_BROWSER.items():
        blocks = _page_blocks(ROOT / "docs" / page)
        for line in lines:
            (block,) = [b for b in blocks if run_blocks.too_deep(page, b.code) and line in b.code]
            assert not block.runnable and block.reason.endswith(run_blocks.TOO_DEEP), line
    # A block that runs after one of them is not runnable either, and says why.
    blocks = _page_blocks(ROOT / "docs" / "explanation" / "engine-design.md")
    after = [b for b in blocks if b.reason == f"a block it runs after {run_blocks.TOO_DEEP}"]
    assert after
    # Elsewhere the same code is left to the import check.
    assert not run_blocks.too_deep("explanation/other.md", "n = 2000\n")


def test_how_to_and_explanation_pages_get_run_buttons_where_they_can() -> None:
    """The hook works on every page of the three parts, and their scalar blocks are runnable."""
    assert run_blocks.RUN_PARTS == ("tutorial/", "how-to/", "explanation/")
    for part in ("tutorial", "how-to", "explanation"):
        assert run_blocks.is_run_page(f"{part}/any-page.md")
    assert not run_blocks.is_run_page("reference/api.md")
    assert not run_blocks.is_run_page("notebooks/digits.py")
    assert run_blocks.is_run_page("playground.md")
    # Pages whose examples are scalar: most of their shown blocks can run.
    assert len(_runnable("how-to", "check-a-gradient")) >= 5
    assert len(_runnable("how-to", "draw-a-graph")) >= 4
    assert len(_runnable("explanation", "engine-design")) >= 10
    assert len(_runnable("explanation", "why-reverse-mode")) >= 8
    # A page that is numpy throughout has none, and each of its shown blocks says why.
    for part, name in [("how-to", "train-on-your-data"), ("explanation", "backprop-to-pytorch")]:
        blocks = _page_blocks(ROOT / "docs" / part / f"{name}.md")
        assert blocks and not any(b.runnable for b in blocks), name
        assert all("numpy" in b.reason or "PyTorch" in b.reason for b in blocks if b.shown), name


_BOTH_WAYS = """
import contextlib, io, json, sys
results = []
for chain, code in json.loads(sys.stdin.read()):
    ns = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()):
        for source in chain:
            exec(source, ns)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, ns)
    results.append(out.getvalue())
print(json.dumps(results))
"""


def test_leaving_out_hidden_figures_changes_no_output() -> None:
    """Each block prints the same after its whole chain and after the chain the browser runs.

    The browser leaves hidden figure blocks out of a chain (they need matplotlib); the hook
    decides that from the code alone, so every such chain is run both ways here.
    """
    cases, where = [], []
    for path in RUN_PAGES:
        blocks = run_blocks.page_blocks(path.read_text("utf8"))
        for block in (b for b in blocks if b.skipped):
            whole = sorted([*block.prelude, *block.skipped])
            for prelude in (whole, block.prelude):
                cases.append(([blocks[i].code for i in prelude], block.code))
            where.append(f"{path.name}:{block.line}")
    assert len(where) >= 10  # the tutorial has such chains on several pages
    proc = subprocess.run(
        [sys.executable, "-c", _BOTH_WAYS],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "MPLBACKEND": "Agg"},
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    outputs = json.loads(proc.stdout.splitlines()[-1])
    for k, name in enumerate(where):
        assert outputs[2 * k] == outputs[2 * k + 1], name


def test_a_figure_that_changes_a_value_stays_in_the_chain() -> None:
    page = textwrap.dedent(
        """\
        ```python exec="on" source="above" session="s"
        from backprop import Value

        x = Value(2.0)
        ```

        ```python exec="on" html="1" session="s"
        import matplotlib

        unused = 1
        ```

        ```python exec="on" html="1" session="s"
        from backprop.figures import figure_html

        x.label = "x"
        ```

        ```python exec="on" source="above" session="s"
        print(x.label)
        ```
        """
    )
    blocks = run_blocks.page_blocks(page)
    assert not blocks[3].runnable and blocks[3].skipped == []
    assert "build-time figures" in blocks[3].reason  # the second one: it sets x.label
    blocks = run_blocks.page_blocks(page.replace('x.label = "x"', 'label = "x"'))
    assert blocks[3].runnable and blocks[3].skipped == [1, 2] and blocks[3].prelude == [0]


HTML = (
    '<p>x</p><div class="language-python highlight"><pre><span></span><code>'
    '<span class="kn">import</span> <span class="nn">numpy</span> <span class="k">as</span> np\n\n'
    "print(np.zeros(2))\n</code></pre></div>"
    '<div class="language-python highlight"><pre><span></span><code>'
    "x = 1 &lt; 2\n</code></pre></div>"
)


def test_mark_html_marks_runnable_blocks_and_notes_the_others() -> None:
    page = "```python\nimport numpy as np\n\nprint(np.zeros(2))\n```\n\n```python\nx = 1 < 2\n```\n"
    blocks = run_blocks.page_blocks(page)
    marked, unmatched = run_blocks.mark_html(HTML, blocks, playground=1)
    assert unmatched == []
    assert marked.count("data-bp-block") == 1
    assert 'data-bp-block="1" data-bp-playground>' in marked
    assert '<p class="bp-run-note">Runs at build time only: it needs numpy.</p>' in marked


def test_mark_html_reports_a_block_it_cannot_find() -> None:
    blocks = run_blocks.page_blocks("```python\nprint('shown differently')\n```\n")
    marked, unmatched = run_blocks.mark_html(HTML, blocks)
    assert marked == HTML and [b.index for b in unmatched] == [0]


def test_page_data_points_at_the_runtime_from_the_page() -> None:
    blocks = run_blocks.page_blocks(PAGE)
    script = run_blocks.page_data(blocks, "tutorial/05-chain-rule/", {"version": "1"})
    data = json.loads(html.unescape(script.split('data-bp-run="', 1)[1].split('"', 1)[0]))
    assert data["base"] == "../../assets/pyodide/"
    assert set(data["blocks"]) == {"0", "1", "4", "5", "6"}
    assert data["blocks"]["5"]["code"] == 'print("<b>hidden</b>")\n'
    assert "<b>" not in script  # the code is escaped in its attribute
    home = run_blocks.page_data(blocks, "", None)
    assert html.unescape(home).count('"base":"assets/pyodide/"') == 1


# --- what the browser runs ----------------------------------------------------------


def _run(prelude: list[str], code: str) -> tuple[bool, str]:
    out: list[str] = []
    ok = browser_runner.run_block(prelude, code, out.append)
    return ok, "".join(out)


def test_run_block_prints_only_the_blocks_own_output() -> None:
    ok, out = _run(["x = 2\nprint('from the earlier block')\n"], "print(x * 21)\n")
    assert (ok, out) == (True, "42\n")


def test_run_block_shows_the_traceback_of_the_block_only() -> None:
    ok, out = _run([], "def f(x):\n    return 1 / x\n\nf(0)\n")
    assert not ok
    assert out.startswith("Traceback (most recent call last):\n")
    assert 'File "<this block>", line 4' in out and "return 1 / x" in out
    assert out.endswith("ZeroDivisionError: division by zero\n")
    assert "browser_runner" not in out


def test_run_block_says_when_an_earlier_block_raised() -> None:
    ok, out = _run(["raise KeyError('gone')\n"], "print('never')\n")
    assert not ok and out.startswith("An earlier block that this one runs after raised:")
    assert "KeyError: 'gone'" in out and "never" not in out


def test_run_block_reports_a_syntax_error() -> None:
    ok, out = _run([], "print(1\n")
    assert not ok and "SyntaxError" in out


def test_run_block_refuses_code_that_is_not_text() -> None:
    with pytest.raises(TypeError, match="as strings"):
        browser_runner.run_block([1], "x", print)  # type: ignore[list-item]


def test_the_playground_needs_a_value_named_L() -> None:
    out: list[str] = []
    result = json.loads(browser_runner.playground("x = 3\n", out.append))
    assert result == {"ok": False} and "L is nothing" in "".join(out)


# --- fetching the runtime ---------------------------------------------------------


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _tarball(names: tuple[str, ...]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in names:
            data = name.encode()
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_fetch_checks_the_pinned_integrity() -> None:
    fetch = run_blocks.fetch_pyodide
    data = b"not the tarball"
    fetch.check_integrity(data, _integrity(data))
    with pytest.raises(fetch.FetchError, match="does not match its pinned integrity"):
        fetch.check_integrity(data)
    with pytest.raises(fetch.FetchError, match="unsupported integrity"):
        fetch.check_integrity(data, "md5-abc")
    assert fetch.INTEGRITY.startswith("sha512-") and len(fetch.INTEGRITY) == 95


def test_unpack_keeps_the_browser_files(tmp_path: Path) -> None:
    fetch = run_blocks.fetch_pyodide
    dist = tmp_path / "dist"
    fetch.unpack(_tarball((*fetch.FILES, "console.html")), dist)
    assert sorted(p.name for p in dist.iterdir()) == sorted(fetch.FILES)
    assert fetch.is_present(dist)
    with pytest.raises(fetch.FetchError, match=r"has no package/pyodide\.asm\.mjs"):
        fetch.unpack(_tarball(("pyodide.mjs",)), tmp_path / "other")
    with pytest.raises(fetch.FetchError, match="not a gzipped tar"):
        fetch.unpack(b"junk", tmp_path / "other")


def test_fetch_soft_never_fails_the_build(tmp_path: Path) -> None:
    """--soft with a tarball that fails its check exits 0 and says how to get the runtime."""
    bad = tmp_path / "pyodide.tgz"
    bad.write_bytes(_tarball(("pyodide.mjs",)))
    script = ROOT / "tools" / "fetch_pyodide.py"
    args = [sys.executable, str(script), "--force", "--tarball", str(bad)]
    hard = subprocess.run(args, capture_output=True, text=True)
    soft = subprocess.run([*args, "--soft"], capture_output=True, text=True)
    assert hard.returncode == 1 and "pinned integrity" in hard.stderr
    assert soft.returncode == 0 and "make pyodide" in soft.stderr


def _fake_npm(folder: Path, tarball: bytes, *, integrity: str | None = None, code: int = 0) -> Path:
    """An executable that answers `npm pack SPEC --json` as npm does, from `tarball`."""
    script = folder / "npm"
    report = {"filename": "pyodide-1.tgz", "integrity": integrity or _integrity(tarball)}
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, pathlib, sys\n"
        f"assert sys.argv[1:3] == ['pack', {run_blocks.fetch_pyodide.PACKAGE!r}], sys.argv\n"
        f"pathlib.Path('pyodide-1.tgz').write_bytes(bytes.fromhex({tarball.hex()!r}))\n"
        f"print(json.dumps([{report!r}]))\n"
        f"print('npm error: code E404', file=sys.stderr)\n"
        f"sys.exit({code})\n"
    )
    script.chmod(0o755)
    return script


def test_npm_pack_returns_the_tarball_and_the_integrity_npm_reports(tmp_path: Path) -> None:
    fetch = run_blocks.fetch_pyodide
    tarball = _tarball(fetch.FILES)
    npm = _fake_npm(tmp_path, tarball)
    before = set(Path.cwd().iterdir())
    assert fetch.npm_pack(npm=str(npm)) == (tarball, _integrity(tarball))
    assert set(Path.cwd().iterdir()) == before  # npm packs into a folder of its own
    failing = _fake_npm(tmp_path, tarball, code=1)
    with pytest.raises(fetch.FetchError, match=r"failed \(exit 1\):\nnpm error: code E404"):
        fetch.npm_pack(npm=str(failing))
    with pytest.raises(fetch.FetchError, match=r"npm is not installed.*apt-get install npm"):
        fetch.npm_pack(npm=str(tmp_path / "no-npm-here"))


def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """The fetcher with its cache in `tmp_path` and no runtime unpacked yet."""
    fetch = run_blocks.fetch_pyodide
    monkeypatch.setattr(fetch, "CACHE", tmp_path / "cache")
    monkeypatch.setattr(fetch, "DIST", tmp_path / "cache" / "dist")
    monkeypatch.setattr(fetch, "is_present", lambda dist=None: False)
    return fetch


def test_fetch_refuses_what_npm_reports_with_another_integrity(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fetch = _isolated(monkeypatch, tmp_path)
    tarball = _tarball(fetch.FILES)
    monkeypatch.setattr(fetch, "npm_pack", lambda: (tarball, _integrity(tarball)))
    with pytest.raises(fetch.FetchError, match="not the pinned sha512-"):
        fetch.fetch()
    # npm reporting the pinned value is not enough: the bytes themselves are checked.
    monkeypatch.setattr(fetch, "npm_pack", lambda: (tarball, fetch.INTEGRITY))
    with pytest.raises(fetch.FetchError, match="does not match its pinned integrity"):
        fetch.fetch()
    assert not (tmp_path / "cache" / "dist").exists()


def test_without_npm_the_build_goes_on_and_says_how_to_get_the_runtime(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fetch = _isolated(monkeypatch, tmp_path)
    monkeypatch.setattr(fetch.shutil, "which", lambda name: None)
    assert fetch.main([]) == 1
    assert "npm is not installed" in capsys.readouterr().err
    assert fetch.main(["--soft"]) == 0  # what make build and make serve run
    err = capsys.readouterr().err
    assert "npm is not installed" in err and "Run buttons will say to run `make pyodide`" in err


@pytest.mark.parametrize("present", [True, False])
def test_the_site_gets_the_wheel_and_the_runtime_when_there(
    present: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """on_files adds a wheel of this checkout and the runner; Pyodide only when fetched."""
    import zipfile

    from mkdocs.config import load_config
    from mkdocs.structure.files import Files

    config = load_config(str(ROOT / "mkdocs.yml"))
    # mkdocs sets this while it runs an event; File.generated reads it.
    config.plugins._current_plugin = None
    monkeypatch.setattr(run_blocks.fetch_pyodide, "is_present", lambda: present)
    try:
        files = run_blocks.on_files(Files([]), config)
        uris = {f.src_uri: f.abs_src_path for f in files}
        wheel = next(p for u, p in uris.items() if u.endswith(".whl"))
        with zipfile.ZipFile(wheel) as archive:
            names = set(archive.namelist())
        assert {"backprop/scalar.py", "backprop/draw.py", "backprop/stepper.py"} <= names
        source = (ROOT / "backprop" / "scalar.py").read_bytes()
        with zipfile.ZipFile(wheel) as archive:
            assert archive.read("backprop/scalar.py") == source  # the code under test
        assert "assets/pyodide/browser_runner.py" in uris
        assert ("assets/pyodide/pyodide.asm.wasm" in uris) is present
        runtime = run_blocks._state["runtime"]
        if present:
            assert runtime["wheel"].startswith(Path(wheel).name + "?v=")
        else:
            assert runtime is None  # the Run buttons then say to run `make pyodide`
    finally:
        run_blocks.on_shutdown()


def test_every_tensor_layer_of_nn_is_marked_as_needing_numpy() -> None:
    """A block that imports only, say, Conv2d must not get a Run button (no numpy there)."""
    import backprop.nn as nn

    for name in set(nn.__all__) - run_blocks.SCALAR_NN:
        assert f"backprop.nn.{name}" in run_blocks.NEEDS_NUMPY, name
    assert "backprop.nn.Conv2d" in run_blocks.NEEDS_NUMPY
    assert "backprop.nn.MLP" not in run_blocks.NEEDS_NUMPY  # scalar: it runs in the browser
