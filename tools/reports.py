"""What the committed reports in tools/results/ share: the hash that tells when one is stale.

Each report stores the list of source files it was made from and a SHA-256 of their bytes,
in that order. `tests/test_evidence.py` recomputes the hash: when the engine (or another
listed source) has changed since the report was written, the test fails and says which
command makes the report again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "tools" / "results"
ENGINE_SOURCES = ("backprop/scalar.py", "backprop/tensor.py")


def sources_sha256(root: Path = ROOT, files: tuple[str, ...] | list[str] = ENGINE_SOURCES) -> str:
    """SHA-256 of the listed files' bytes, one after another."""
    digest = hashlib.sha256()
    for file in files:
        digest.update((root / file).read_bytes())
    return digest.hexdigest()


def load(name: str) -> dict:
    """A committed report, by file name (`mutation.json`, `verification.json`)."""
    return json.loads((RESULTS / name).read_text("utf8"))


def is_current(report: dict, root: Path = ROOT) -> bool:
    """Whether the sources a report was made from are the sources on disk now."""
    return report.get("sources_sha256") == sources_sha256(root, report["sources"])
