"""The harness that runs the guide's code blocks, tested on its own.

Two kinds of test live here:

* a **guard** that scans ``docs/`` with a plain regular expression, independent of the
  harness, and fails when a Python fence is not collected by pytest (or a ``notest``
  fence has no reason);
* a **self-test** that writes a small page with deliberately broken fences in every
  block style (admonition, collapsible block, content tab, list item, markdown-exec
  session) and checks that each one is collected and fails.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from docs_harness import scan_fences

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

# Deliberately simple and separate from docs_harness.scan_fences: any line that opens a
# fence whose language is Python, at any indent, in either info-string syntax.
PY_FENCE = re.compile(
    r"^[ \t]*(?:`{3,}|~{3,})[ \t]*(?:\{[^}]*?\.(?:python|py|python3)\b[^}]*\}"
    r"|(?:python|py|python3)\b.*)$"
)


def markdown_pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "vendor" not in p.parts)


def python_fences_by_regex(path: Path) -> tuple[set[int], dict[int, str]]:
    """(1-based lines of testable Python fences, {line: info} of notest fences)."""
    testable: set[int] = set()
    notest: dict[int, str] = {}
    inside: str | None = None
    for number, line in enumerate(path.read_text("utf8").splitlines(), start=1):
        stripped = line.strip()
        if inside is not None:
            if re.fullmatch(rf"{re.escape(inside[0])}{{{len(inside)},}}", stripped):
                inside = None
            continue
        opener = re.match(r"(`{3,}|~{3,})", stripped)
        if not opener:
            continue
        inside = opener.group(1)
        if PY_FENCE.match(line):
            if re.search(r"\bnotest\b", stripped):
                notest[number] = stripped
            else:
                testable.add(number)
    return testable, notest


@pytest.fixture(scope="module")
def collected_docs_items() -> dict[str, set[int]]:
    """What pytest itself collects under docs/: {relative path: {start lines}}."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "docs"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode in (0, 5), proc.stdout + proc.stderr
    items: dict[str, set[int]] = {}
    for line in proc.stdout.splitlines():
        match = re.match(r"^(docs/\S+\.md)::\S*\[line:(\d+)\]", line)
        if match:
            items.setdefault(match[1], set()).add(int(match[2]))
    return items


def test_the_guide_has_pages() -> None:
    assert len(markdown_pages()) >= 5


@pytest.mark.parametrize("page", markdown_pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_every_python_fence_is_collected(page: Path, collected_docs_items) -> None:
    expected, _ = python_fences_by_regex(page)
    got = collected_docs_items.get(str(page.relative_to(ROOT)), set())
    # pytest-markdown-docs numbers a fence by the line of its opening fence.
    missing = sorted(expected - got)
    assert not missing, f"{page}: Python fences at lines {missing} are not run by pytest"
    assert got <= expected, f"{page}: collected fences the guard does not see: {got - expected}"


def test_every_notest_fence_says_why() -> None:
    listing = []
    for page in markdown_pages():
        for line, info in python_fences_by_regex(page)[1].items():
            listing.append(f"{page.relative_to(ROOT)}:{line}: {info}")
            assert re.search(r'reason="[^"]{10,}"', info), (
                f"{page}:{line}: a notest fence must give its reason, e.g. "
                f'{{.python notest reason="opens a window"}}: {info}'
            )
    print("notest fences:", *listing or ["none"], sep="\n  ")


def test_the_scanner_finds_fences_at_any_indent() -> None:
    text = textwrap.dedent(
        """\
        ```python
        a = 1
        ```

        ??? info "Refresher"

            ```{.python continuation}
            b = a
            ```

        === "Tab"

            ~~~~python
            c = 3
            ~~~~

        1. Item

            ```python
            d = 4
            ```
        """
    )
    fences = list(scan_fences(text))
    assert [f.content for f in fences] == ["a = 1\n", "b = a\n", "c = 3\n", "d = 4\n"]
    assert [f.lang for f in fences] == ["python"] * 4
    assert fences[1].flags == {"continuation"}
    assert [f.opener_line for f in fences] == [0, 6, 12, 18]


SELF_TEST_PAGE = """\
# A page with a broken block in every style

```python
top = 1
print("a passing block's output stays out of the log")
assert top == 1
```

```{.python continuation}
assert top == 1
```

??? info "A collapsible refresher"

    ```python
    assert 1 + 1 == 3, "broken inside ??? info"
    ```

!!! note

    ```python
    x = 2
    ```

=== "A tab"

    ```python
    raise RuntimeError("broken inside a tab")
    ```

=== "Another tab"

    ```python
    assert True
    ```

1. A list item

    ```python
    print("printed before the error")
    1 / 0
    ```

```python exec="on" session="s"
shared = 41
```

Some prose between the blocks of a session.

```python exec="on" session="s"
assert shared + 1 == 42
```

```python exec="on" session="s"
assert shared == 0, "broken in a markdown-exec session"
```

```{.python notest reason="shows code that cannot run here"}
import this_module_does_not_exist
```
"""


def _is_broken(code: str) -> bool:
    return "broken" in code or "1 / 0" in code


def test_a_broken_block_fails_in_every_block_style(pytester: pytest.Pytester) -> None:
    pytester.makefile(".md", page=SELF_TEST_PAGE)
    result = pytester.runpytest(
        "-p",
        "docs_harness",
        "--markdown-docs",
        "--markdown-docs-syntax=superfences",
        "-p",
        "no:cacheprovider",
        "-v",
    )
    result.assert_outcomes(passed=6, failed=4)
    broken = [f.opener_line + 1 for f in scan_fences(SELF_TEST_PAGE) if _is_broken(f.content)]
    assert len(broken) == 4
    result.stdout.fnmatch_lines([f"*line:{line}]* FAILED*" for line in broken], consecutive=False)
    assert "broken inside ??? info" in result.stdout.str()
    assert "broken in a markdown-exec session" in result.stdout.str()
    assert "output of the block before the error:" in result.stdout.str()
    assert "printed before the error" in result.stdout.str()
    assert "stays out of the log" not in result.stdout.str()


def test_a_skip_fails_under_ci(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(
        test_skips="""
        import pytest

        def test_needs_something():
            pytest.skip("Chromium not found")
        """
    )
    monkeypatch.setenv("CI", "true")
    result = pytester.runpytest("-p", "docs_harness", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*skipped under CI=true*Chromium not found*"])

    monkeypatch.delenv("CI")
    pytester.runpytest("-p", "docs_harness", "-p", "no:cacheprovider").assert_outcomes(skipped=1)
