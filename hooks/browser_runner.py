"""The Python side of the guide's Run buttons and playground, run by Pyodide in a Web Worker.

`hooks/run_blocks.py` copies this file into the built site (`assets/pyodide/`); the worker
(`docs/assets/javascripts/run-worker.js`) executes it once, then calls `run_block` or
`playground` for each Run. The tests import it under CPython too (`tests/test_run_hook.py`).
It needs only the standard library, and `backprop` for the playground.
"""

from __future__ import annotations

import contextlib
import io
import json
import linecache
import traceback
from collections.abc import Callable

Write = Callable[[str], object]

BLOCK_FILE = "<this block>"
PLAYGROUND_FILE = "<playground>"


class _Stream(io.TextIOBase):
    """A text stream that hands every write to `write` (the page's output area)."""

    def __init__(self, write: Write) -> None:
        self._write = write

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if text:
            self._write(text)
        return len(text)


def _compile(source: str, filename: str) -> object:
    """Compile `source`, registering it so tracebacks can quote its lines."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return compile(source, filename, "exec")


def _format(error: BaseException) -> str:
    """The traceback of `error` without this module's own frames."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == _HERE:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb))


def _run(
    prelude: list[str], code: str, filename: str, write: Write, namespace: dict[str, object]
) -> bool:
    """Run the earlier blocks quietly, then `code` with its output sent to `write`.

    Returns False if something raised; its traceback has then been written.
    """
    if not isinstance(code, str) or not all(isinstance(p, str) for p in prelude):
        raise TypeError("run_block needs the block's code and the earlier blocks as strings")
    quiet = io.StringIO()
    for i, source in enumerate(prelude, 1):
        try:
            with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
                exec(_compile(source, f"<earlier block {i}>"), namespace)
        except BaseException as error:  # the reader's code may raise anything, even SystemExit
            write(f"An earlier block that this one runs after raised:\n{_format(error)}")
            return False
    stream = _Stream(write)
    try:
        with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
            exec(_compile(code, filename), namespace)
    except BaseException as error:
        write(_format(error))
        return False
    return True


def run_block(prelude: list[str], code: str, write: Write) -> bool:
    """Run a code block of the guide as the tests do: after the blocks it depends on.

    `prelude` holds the code of the earlier blocks (a markdown-exec session's, or those a
    continuation block continues), run first in the same fresh namespace with their output
    discarded, as the page shows each block's own output only. Returns whether it ran
    without raising; the output, or the traceback, goes to `write`.
    """
    return _run(list(prelude), code, BLOCK_FILE, write, {"__name__": "__main__"})


def playground(code: str, write: Write, root_name: str = "L") -> str:
    """Run the playground's program; describe the graph of its `root_name` Value as JSON.

    The JSON holds `ok`, and when the program defined a `Value` named `root_name`: `svg`
    (the graph drawn by `backprop.draw`, with each arrow's upstream × local = gradient),
    `nodes` (label, operation, and `repr` of data and grad of every node, inputs first)
    and `stepper` (the backward pass frame by frame, from `backprop.stepper`).
    """
    from backprop import Value, draw, topological_order

    namespace: dict[str, object] = {"__name__": "__main__"}
    if not _run([], code, PLAYGROUND_FILE, write, namespace):
        return json.dumps({"ok": False})
    root = namespace.get(root_name)
    if not isinstance(root, Value):
        found = "nothing" if root is None else f"a {type(root).__name__}"
        write(
            f"The playground draws the Value named {root_name}, but {root_name} is {found}: "
            f"end the program with {root_name} = <an expression of Values>.\n"
        )
        return json.dumps({"ok": False})
    from backprop.stepper import stepper_html

    nodes = [
        {"label": v.label, "op": v._op, "data": repr(v.data), "grad": repr(v.grad)}
        for v in topological_order(root)
    ]
    try:
        svg = draw(root, show_flow=True, title=f"the graph of {root_name}")
        stepper = stepper_html(root, title=f"The backward pass from {root_name}")
    except (TypeError, ValueError) as error:
        write(_format(error))
        return json.dumps({"ok": False})
    return json.dumps({"ok": True, "svg": svg, "nodes": nodes, "stepper": stepper})


_HERE = run_block.__code__.co_filename
