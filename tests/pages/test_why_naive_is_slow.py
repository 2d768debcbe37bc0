"""Why a naive engine is slow: every number it shows is printed at build time from the
committed benchmark results."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


DOCS = ROOT / "docs"

SLOW = DOCS / "explanation" / "why-naive-is-slow.md"


def _prose(path: Path) -> str:
    """The page without its code blocks, inline code, links' targets and math."""
    text = re.sub(r"^(\s*)(```|~~~).*?^\1\2\s*$", "", path.read_text(), flags=re.S | re.M)
    text = re.sub(r"`[^`]*`", "", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", "", text, flags=re.S)
    return text


def test_the_explanation_types_no_number_by_hand() -> None:
    """Every number the page shows is printed by a build-time block: its prose has no
    digits at all (names like 'micrograd' or 'L2' are the only exceptions)."""
    prose = _prose(SLOW).replace("L2", "L")
    assert re.findall(r"\d", prose) == [], re.findall(r".{30}\d.{30}", prose)


def test_the_explanation_renders_the_results_at_build_time() -> None:
    text = SLOW.read_text()
    assert 'find_results("scalar.json")' in text and 'find_results("tensor.json")' in text
    assert text.count('exec="on"') >= 8
