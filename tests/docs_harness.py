"""The pytest plugin that makes every code block of the guide a test.

Loaded with ``-p docs_harness`` (see ``[tool.pytest.ini_options]`` in pyproject.toml).
It does four things:

1. **Finds every fence.** pytest-markdown-docs parses Markdown as CommonMark, so a
   fence inside ``??? info``, ``!!! note`` or ``=== "Tab"`` is indented code to it and is
   silently skipped. We give it our own parser (through its
   ``pytest_markdown_docs_markdown_it`` hook): a line scanner that accepts fences at any
   indent and hands back markdown-it ``fence`` tokens with real line numbers, so
   ``notest``, ``continuation`` and ``fixture:NAME`` keep working.
2. **Understands markdown-exec sessions.** A block such as
   ``python exec="on" session="descent"`` shares its globals with the earlier blocks of
   the same session when the site is built. Under pytest each such block first runs the
   session's earlier blocks, so it sees the same names it sees at build time.
3. **Keeps notebooks and vendored files out of collection.** Notebooks under
   ``docs/notebooks`` are executed by ``tests/test_notebooks.py`` instead.
4. **Refuses skips in CI.** With ``CI=true`` a skipped test is reported as a failure:
   CI must run everything (the browser test and the PyTorch cross-checks included).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from markdown_it.token import Token
from pytest_markdown_docs._runners import DefaultRunner, register_runner

os.environ.setdefault("MPLBACKEND", "Agg")

PYTHON_LANGS = frozenset({"python", "py", "python3"})
SESSION_RUNNER = "markdown_exec_session"

_OPENER = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


@dataclass(frozen=True)
class Fence:
    """One fenced code block: where it opens, what it says, and its dedented body."""

    opener_line: int  # 0-based index of the line holding the opening fence
    closer_line: int  # 0-based index of the closing fence (or the last line)
    indent: str
    info: str
    content: str

    @property
    def words(self) -> list[str]:
        """The info string split like superfences does: ``{.python a b}`` -> python a b."""
        info = self.info.strip()
        if info.startswith("{") and info.endswith("}"):
            parts = _split(info[1:-1])
            lang = next((p for p in parts if p.startswith(".")), None)
            if lang is not None:
                parts.remove(lang)
                parts.insert(0, lang[1:])
            return parts
        return _split(info)

    @property
    def lang(self) -> str:
        words = self.words
        return words[0] if words else ""

    @property
    def options(self) -> dict[str, str]:
        """``key="value"`` words of the info string, quotes removed."""
        opts: dict[str, str] = {}
        for word in self.words[1:]:
            if "=" in word:
                key, _, value = word.partition("=")
                opts[key] = value.strip("\"'")
        return opts

    @property
    def flags(self) -> set[str]:
        return {w for w in self.words[1:] if "=" not in w}

    @property
    def is_python(self) -> bool:
        return self.lang in PYTHON_LANGS

    @property
    def is_markdown_exec(self) -> bool:
        return self.options.get("exec", "").lower() in {"1", "on", "true", "yes"}


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:  # unbalanced quotes: fall back to whitespace
        return text.split()


def scan_fences(text: str) -> Iterator[Fence]:
    """Yield every fenced code block of a Markdown text, at any indent.

    A fence opens with three or more backticks or tildes and closes with at least as
    many of the same character and nothing else. The body is dedented by the opener's
    indent, as Python-Markdown does for fences nested in admonitions, tabs and lists.
    """
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = _OPENER.match(lines[i])
        if not match or (match["fence"][0] == "`" and "`" in match["info"]):
            i += 1
            continue
        indent, fence = match["indent"], match["fence"]
        closer = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not closer.match(lines[j]):
            line = lines[j]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            j += 1
        content = "\n".join(body) + ("\n" if body else "")
        yield Fence(i, min(j, len(lines) - 1), indent, match["info"].strip(), content)
        i = j + 1


# Source of the earlier blocks of each markdown-exec session, keyed by the
# (file, start line) of the block that needs them.
_SESSION_PREFIXES: dict[tuple[str, int], list[tuple[int, str]]] = {}


class FenceParser:
    """Stands in for ``markdown_it.MarkdownIt`` where pytest-markdown-docs calls ``parse``."""

    def parse(self, text: str, env: Any = None) -> list[Token]:
        tokens: list[Token] = []
        sessions: dict[str, list[tuple[int, str]]] = {}
        for fence in scan_fences(text):
            info = fence.info
            session = fence.options.get("session")
            if fence.is_python and fence.is_markdown_exec and session:
                start_line = fence.opener_line + 1  # as pytest-markdown-docs counts it
                earlier = sessions.setdefault(session, [])
                if earlier:
                    _SESSION_PREFIXES[(_key_text(text), start_line)] = list(earlier)
                    info = _add_word(info, f"runner:{SESSION_RUNNER}")
                earlier.append((start_line, fence.content))
            token = Token("fence", "code", 0)
            token.info = info
            token.content = fence.content
            token.map = [fence.opener_line, fence.closer_line + 1]
            token.markup = fence.indent
            tokens.append(token)
        return tokens


def _key_text(text: str) -> str:
    return str(hash(text))


def _add_word(info: str, word: str) -> str:
    stripped = info.strip()
    if stripped.startswith("{") and stripped.endswith("}"):
        return f"{stripped[:-1]} {word}}}"
    return f"{info} {word}"


@register_runner(default=True)
class quiet(DefaultRunner):
    """Run a fence with its printed output kept out of the test log.

    pytest-markdown-docs turns capturing off while a fence runs, so the figures that
    build-time blocks print (whole SVG documents) would flood the log. The output is kept
    and, when the fence fails, its last lines are attached to the error.
    """

    def runtest(self, test: Any, args: dict[str, Any], *, asyncio_runner: Any = None) -> None:
        buffer = io.StringIO()
        try:
            with contextlib.redirect_stdout(buffer):
                self.run_fence(test, args, asyncio_runner)
        except Exception as error:
            printed = buffer.getvalue()
            if printed:
                error.add_note(f"output of the block before the error:\n{printed[-2000:]}")
            raise

    def run_fence(self, test: Any, args: dict[str, Any], asyncio_runner: Any) -> None:
        super().runtest(test, args, asyncio_runner=asyncio_runner)


@register_runner()
class markdown_exec_session(quiet):
    """Run a markdown-exec block after the earlier blocks of its session."""

    def run_fence(self, test: Any, args: dict[str, Any], asyncio_runner: Any) -> None:
        text = Path(test.source_path).read_text("utf8")
        for start_line, source in _SESSION_PREFIXES.get((_key_text(text), test.start_line), []):
            code = compile("\n" * start_line + source, str(test.source_path), "exec")
            exec(code, args)
        super().run_fence(test, args, asyncio_runner)


@pytest.hookimpl(tryfirst=True)
def pytest_markdown_docs_markdown_it() -> FenceParser:
    return FenceParser()


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    parts = collection_path.parts
    if "docs" in parts:
        rel = parts[parts.index("docs") + 1 :]
        if rel[:1] == ("notebooks",) and collection_path.suffix == ".py":
            return True  # executed as notebooks by tests/test_notebooks.py
        if rel[:2] == ("assets", "vendor"):
            return True
    if "site" in parts and (collection_path.parent / "sitemap.xml").exists():
        return True
    return None


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.skipped and _in_ci() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, where nothing may be skipped: {reason}"
