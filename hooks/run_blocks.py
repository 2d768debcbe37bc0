"""mkdocs hook: Run buttons on the guide's code blocks, executed in the browser by Pyodide.

At build time (and under `mkdocs serve`) this hook

1. decides, for every Python block of a tutorial, how-to or explanation page (RUN_PARTS)
   and of the playground, whether the reader's browser can run it: Pyodide here has the
   standard library and our own pure-Python wheel, no numpy.
   A block is runnable when it and every block it runs after (its *chain*, worked out as
   `tests/docs_harness.py` and pytest-markdown-docs do: a `{.python continuation}` block
   after the previous Python block, a markdown-exec `session="..."` block after its
   session's earlier blocks) import only the standard library and the scalar parts of
   `backprop`. The others get a one-line note saying why;
2. marks each runnable block's `<div class="language-python highlight">` with
   `data-bp-block` and appends the page's blocks as JSON, which
   `docs/assets/javascripts/run.js` turns into editors with Run, Reset and Stop;
3. puts into the site, under `assets/pyodide/`: the Pyodide runtime fetched by
   `tools/fetch_pyodide.py` (when it is in `.cache/`; without it the Run buttons say how to
   get it), a wheel of `backprop` built from this checkout with hatchling (so the page runs
   the code under test), and `hooks/browser_runner.py`, the Python side of a Run.
"""

from __future__ import annotations

import ast
import hashlib
import html
import importlib
import importlib.util
import json
import logging
import mimetypes
import posixpath
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The fences are found by the scanner the tests collect them with, so that the browser's
# blocks and chains are exactly the ones pytest runs.
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))
from docs_harness import Fence, scan_fences  # noqa: E402

ASSETS = "assets/pyodide"
RUNNER = Path(__file__).with_name("browser_runner.py")
PLAYGROUND = "playground.md"
# The parts of the guide whose pages get Run buttons, wherever a block can run. The
# reference is left out: its code shows how to call things, it is not a lesson to edit.
RUN_PARTS = ("tutorial/", "how-to/", "explanation/")

log = logging.getLogger(f"mkdocs.hooks.{Path(__file__).stem}")

# Pyodide streams .wasm only when it is served as application/wasm; mkdocs serve guesses
# types with `mimetypes`, which lacks it on some systems.
mimetypes.add_type("application/wasm", ".wasm")


def _load_fetcher() -> Any:
    spec = importlib.util.spec_from_file_location("fetch_pyodide", ROOT / "tools/fetch_pyodide.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fetch_pyodide", module)
    spec.loader.exec_module(module)
    return module


fetch_pyodide = _load_fetcher()

# ---------------------------------------------------------------------------------------
# Which blocks the browser can run

# What each thing that the browser lacks is, for the note under a block that needs it.
# Module names, and names imported from `backprop` or `backprop.nn`.
NEEDS_NUMPY = {
    "numpy": "numpy",
    "matplotlib": "matplotlib",
    "sklearn": "scikit-learn",
    "torch": "PyTorch",
    "backprop.tensor": "the tensor engine (numpy)",
    "backprop.datasets": "backprop.datasets (numpy)",
    "backprop.figures": "build-time figures (matplotlib)",
    "backprop.Tensor": "the tensor engine (numpy)",
    "backprop.no_grad": "the tensor engine (numpy)",
    "backprop.tensor.Tensor": "the tensor engine (numpy)",
}
# nn's tensor modules need numpy; its scalar ones (Neuron, Layer, MLP, Module) do not.
# Read from nn's own list, so that a layer added there is never offered a Run button.
SCALAR_NN = {"ACTIVATIONS", "Module", "Neuron", "Layer", "MLP"}
for _name in sorted(set(importlib.import_module("backprop.nn").__all__) - SCALAR_NN):
    NEEDS_NUMPY[f"backprop.nn.{_name}"] = f"nn.{_name}, a tensor module (numpy)"
# Standard-library modules that do nothing useful in a browser's WebAssembly sandbox.
NOT_IN_BROWSER = {"subprocess", "multiprocessing", "threading", "socket", "tkinter", "ctypes"}
# Top-level modules the browser has: the standard library and our wheel.
_BROWSER_MODULES = (set(sys.stdlib_module_names) - NOT_IN_BROWSER) | {"backprop", "__future__"}


# Blocks that import nothing the browser lacks but still cannot run there: they build a
# graph thousands of nodes deep, and CPython frees (or walks) such a chain one nested call
# per node, which overflows the browser's much smaller stack and kills Pyodide ("RangeError:
# Maximum call stack size exceeded"). Keyed by page, then by a line of the block's code;
# tests/test_run_hook.py checks that each line is in exactly one block of its page.
TOO_DEEP = "builds a graph thousands of nodes deep, too deep for the browser's stack"
TOO_DEEP_FOR_THE_BROWSER: dict[str, tuple[str, ...]] = {
    "explanation/engine-design.md": (
        "root = build(cls, 1000)",
        "GRAPHS, STEPS = 8, 1500  # each graph: 3 * STEPS new nodes",
    ),
    "explanation/why-reverse-mode.md": ("n = 2000", "def graph_memory(levels):"),
}


def too_deep(page: str, code: str) -> bool:
    """Whether `code`, a block of `page` (relative to docs/), is in TOO_DEEP_FOR_THE_BROWSER."""
    lines = {line.strip() for line in code.splitlines()}
    return any(line in lines for line in TOO_DEEP_FOR_THE_BROWSER.get(page, ()))


def missing_in_browser(code: str) -> str | None:
    """What `code` imports that the browser lacks, as a short phrase; None if nothing.

    Looks at the import statements and at attributes of a bare `backprop`
    (`backprop.tensor.Tensor`), not at what the code does at run time.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError as error:
        return f"Python that does not parse ({error.msg}, line {error.lineno})"
    wanted: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            wanted += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            wanted.append(node.module)
            wanted += [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            if dotted and dotted.startswith("backprop."):
                wanted.append(dotted)
    for name in wanted:
        parts = name.split(".")
        for i in range(len(parts), 0, -1):
            what = NEEDS_NUMPY.get(".".join(parts[:i]))
            if what:
                return what
        if parts[0] not in _BROWSER_MODULES:
            return f"the module {parts[0]}, which the browser's Python lacks"
    return None


def _dotted(node: ast.expr) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


# ---------------------------------------------------------------------------------------
# The page's blocks, chained as the tests chain them

# markdown-exec shows a block's source for these values of `source`.
_SHOWN_SOURCES = {"above", "below", "tabbed", "material-block", "console", "pyodide"}


@dataclass
class Block:
    """One Python fence of a page, and what the browser may do with it."""

    index: int  # among the page's Python fences, in order
    line: int  # 1-based line of the opening fence
    info: str
    code: str
    prelude: list[int] = field(default_factory=list)  # indices of the blocks run first
    # Hidden figure blocks of the chain that the browser leaves out (see _only_draws).
    skipped: list[int] = field(default_factory=list)
    runnable: bool = False
    reason: str = ""  # why not, when not runnable

    @property
    def words(self) -> list[str]:
        """The info string split as superfences (and the docs harness) split it."""
        return Fence(0, 0, "", self.info, self.code).words

    @property
    def flags(self) -> set[str]:
        return {w for w in self.words[1:] if "=" not in w}

    @property
    def options(self) -> dict[str, str]:
        return {
            k: v.strip("\"'") for k, _, v in (w.partition("=") for w in self.words[1:] if "=" in w)
        }

    @property
    def is_exec(self) -> bool:
        return self.options.get("exec", "").lower() in {"1", "on", "true", "yes"}

    @property
    def shown(self) -> bool:
        """Whether the page shows the code (markdown-exec blocks may show only output)."""
        return not self.is_exec or self.options.get("source", "") in _SHOWN_SOURCES


def python_fences(markdown: str) -> list[Block]:
    """Every Python fence of a page, at any indent, found by the docs harness's own scanner."""
    blocks: list[Block] = []
    for fence in scan_fences(markdown):
        if fence.is_python:
            code = fence.content if fence.content.endswith("\n") else fence.content + "\n"
            blocks.append(Block(len(blocks), fence.opener_line + 1, fence.info, code))
    return blocks


def page_blocks(markdown: str, page: str = "") -> list[Block]:
    """The page's Python blocks with their chains, each marked runnable or not (and why).

    The chain is what the test of a block runs: for a markdown-exec block with a
    `session`, that session's earlier blocks; for a `continuation` block, the previous
    Python block (itself with its chain of continuations); `notest` blocks are no tests
    and break no chain, as in pytest-markdown-docs. `page` (the page's path relative to
    docs/) picks its entries of TOO_DEEP_FOR_THE_BROWSER.
    """
    blocks = python_fences(markdown)
    sessions: dict[str, list[int]] = {}
    previous: list[int] = []  # the code pytest-markdown-docs would paste before the next block
    for block in blocks:
        session = block.options.get("session")
        session_prefix: list[int] = []
        if block.is_exec and session:
            session_prefix = list(sessions.setdefault(session, []))
            sessions[session].append(block.index)
        if "notest" in block.flags:
            block.reason = "it is not run by the tests (notest)"
            continue
        continued = previous if "continuation" in block.flags else []
        block.prelude = session_prefix + continued
        previous = [*continued, block.index]
        if any(f.startswith("fixture:") for f in block.flags):
            block.reason = "it uses a pytest fixture"
            continue
        chain = [*block.prelude, block.index]
        for position, index in enumerate(chain):
            missing = missing_in_browser(blocks[index].code)
            lacks = f"needs {missing}" if missing else None
            if lacks is None and too_deep(page, blocks[index].code):
                lacks = TOO_DEEP
            if lacks is None:
                continue
            later = [blocks[i].code for i in chain[position + 1 :]]
            if index != block.index and _only_draws(blocks[index], later):
                block.skipped.append(index)
                continue
            here = "it" if index == block.index else "a block it runs after"
            block.reason = f"{here} {lacks}"
            block.skipped = []
            break
        else:
            block.runnable = True
            block.prelude = [i for i in block.prelude if i not in block.skipped]
    return blocks


def _only_draws(block: Block, later: list[str]) -> bool:
    """Whether the browser may leave `block` out of a chain: a figure the page hides.

    True for a markdown-exec block that shows only its output (a figure drawn at build
    time), binds no name that the later blocks of the chain read, and changes no object
    (no attribute or item assignment, no `backward()`, `append()` and the like). Leaving it out must
    not change what they print: tests/test_run_hook.py runs every such chain both ways
    under CPython and compares.
    """
    if block.shown:
        return False
    try:
        tree = ast.parse(block.code)
        if _mutates(tree):
            return False
        bound = _bound(tree)
        # A name a later block reads but also binds itself (a loop variable, say) is taken
        # as its own; the CPython comparison in the tests catches a read before the binding.
        wanted: set[str] = set()
        for code in later:
            tree = ast.parse(code)
            loads = {
                n.id
                for n in ast.walk(tree)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
            }
            wanted |= loads - _bound(tree)
    except SyntaxError:
        return False
    return not (bound & wanted)


# Methods that change the object they are called on (or, for backward, its graph's grads).
_MUTATORS = frozenset(
    [
        "backward",
        "zero_grad",
        "step",
        "append",
        "extend",
        "insert",
        "remove",
        "pop",
        "clear",
        "update",
        "setdefault",
        "sort",
        "reverse",
        "add",
        "discard",
    ]
)


def _mutates(tree: ast.Module) -> bool:
    """Whether the code may change an object it did not make itself (conservatively)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute | ast.Subscript) and isinstance(node.ctx, ast.Store):
            return True
        if isinstance(node, ast.Delete | ast.Global | ast.Nonlocal):
            return True
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _MUTATORS
        ):
            return True
    return False


def _bound(tree: ast.Module) -> set[str]:
    """Names a module's top level binds (assignments, loops, imports, defs, with ... as)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


# ---------------------------------------------------------------------------------------
# Marking the HTML

_HIGHLIGHT = re.compile(
    r'<div class="language-(?:python|py|python3) highlight">(?P<body><pre>.*?</pre>)</div>', re.S
)


def _text(html_fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", html_fragment))


def _same_code(a: str, b: str) -> bool:
    def norm(s: str) -> list[str]:
        return [line.rstrip() for line in s.strip("\n").splitlines()]

    return norm(a) == norm(b)


def mark_html(
    page_html: str, blocks: list[Block], playground: int | None = None
) -> tuple[str, list[Block]]:
    """Mark the highlighted code of each shown block; return the HTML and unmatched blocks.

    The rendered blocks are matched to the fences in order and by their text, so a block
    is marked only where its own code is shown. A runnable block gets `data-bp-block`
    (and the block numbered `playground` also `data-bp-playground`); one that is not
    runnable gets a note below it saying why.
    """
    shown = [b for b in blocks if b.shown and (b.runnable or b.reason)]
    out: list[str] = []
    pos = 0
    unmatched: list[Block] = []
    k = 0
    for match in _HIGHLIGHT.finditer(page_html):
        if k >= len(shown):
            break
        code = _text(match["body"])
        # Skip fences whose code is not this one (a block markdown-exec renders otherwise).
        for j in range(k, len(shown)):
            if _same_code(shown[j].code, code):
                unmatched += shown[k:j]
                block, k = shown[j], j + 1
                break
        else:
            continue
        out.append(page_html[pos : match.start()])
        opening = '<div class="language-python highlight"'
        if block.runnable:
            attrs = f' data-bp-block="{block.index}"'
            if block.index == playground:
                attrs += " data-bp-playground"
            out.append(f"{opening}{attrs}>{match['body']}</div>")
        else:
            out.append(
                f"{opening}>{match['body']}</div>"
                f'<p class="bp-run-note">Runs at build time only: {html.escape(block.reason)}.'
                "</p>"
            )
        pos = match.end()
    unmatched += shown[k:]
    out.append(page_html[pos:])
    return "".join(out), unmatched


def page_data(blocks: list[Block], page_url: str, runtime: dict[str, str] | None) -> str:
    """The data run.js reads, as JSON in an attribute: where the runtime is, each block's chain."""
    folder = page_url if page_url.endswith("/") or not page_url else posixpath.dirname(page_url)
    base = posixpath.relpath(ASSETS, folder or ".")
    needed = {i for b in blocks if b.runnable for i in (b.index, *b.prelude)}
    data = {
        "base": base + "/",
        "runtime": runtime,
        "install": fetch_pyodide.HOW_TO_GET_IT,
        "blocks": {
            str(b.index): {"code": b.code, "prelude": b.prelude, "runnable": b.runnable}
            for b in blocks
            if b.index in needed
        },
    }
    # In an attribute, not a <script>: Material's instant navigation drops the scripts of
    # the page it swaps in.
    text = html.escape(json.dumps(data, separators=(",", ":")), quote=True)
    return f'<div class="bp-run-data" hidden data-bp-run="{text}"></div>'


# ---------------------------------------------------------------------------------------
# mkdocs events

_state: dict[str, Any] = {"blocks": {}, "runtime": None, "tmp": None}


def is_run_page(src_uri: str) -> bool:
    """Whether the page at `src_uri` (relative to docs/) gets Run buttons where it can."""
    return src_uri.startswith(RUN_PARTS) or src_uri == PLAYGROUND


def _build_wheel(directory: Path) -> Path:
    """A wheel of backprop from this checkout, built with hatchling (the project's backend)."""
    from hatchling.builders.wheel import WheelBuilder

    built = list(WheelBuilder(str(ROOT)).build(directory=str(directory), versions=["standard"]))
    return Path(built[0])


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    if _state["tmp"] is None:
        _state["tmp"] = tempfile.TemporaryDirectory(prefix="backprop-wheel-")
    tmp = Path(_state["tmp"].name)
    for old in tmp.glob("*.whl"):
        old.unlink()
    wheel = _build_wheel(tmp)
    extra = {wheel.name: wheel, RUNNER.name: RUNNER}
    runtime = None
    if fetch_pyodide.is_present():
        extra |= {name: fetch_pyodide.DIST / name for name in fetch_pyodide.FILES}
        runtime = {"version": fetch_pyodide.VERSION}
    else:
        log.info(
            "Pyodide %s is not in %s: the Run buttons will say to run `%s`",
            fetch_pyodide.VERSION,
            fetch_pyodide.DIST.relative_to(ROOT),
            fetch_pyodide.HOW_TO_GET_IT,
        )
    for name, path in extra.items():
        files.append(File.generated(config, f"{ASSETS}/{name}", abs_src_path=str(path)))
    if runtime is not None:
        digest = hashlib.sha256(wheel.read_bytes() + RUNNER.read_bytes()).hexdigest()[:12]
        runtime |= {"wheel": f"{wheel.name}?v={digest}", "runner": f"{RUNNER.name}?v={digest}"}
    _state["runtime"] = runtime
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if is_run_page(page.file.src_uri):
        _state["blocks"][page.file.src_uri] = page_blocks(markdown, page.file.src_uri)
    return markdown


def on_page_content(html_text: str, page: Any, config: Any, files: Any) -> str:
    src = page.file.src_uri
    if not is_run_page(src):
        return html_text
    blocks = _state["blocks"].pop(src, [])
    playground = None
    if src == PLAYGROUND:
        playground = next((b.index for b in blocks if b.runnable), None)
        if playground is None:
            log.warning("run_blocks: %s has no runnable Python block for the playground", src)
    marked, unmatched = mark_html(html_text, blocks, playground)
    for block in unmatched:
        if block.runnable:
            log.warning(
                "run_blocks: %s:%d: the page does not show this block's code as written, "
                "so it gets no Run button",
                src,
                block.line,
            )
    if src == PLAYGROUND or any(b.runnable for b in blocks):
        marked += page_data(blocks, page.url, _state["runtime"])
    return marked


def on_shutdown() -> None:
    if _state["tmp"] is not None:
        _state["tmp"].cleanup()
        _state["tmp"] = None
