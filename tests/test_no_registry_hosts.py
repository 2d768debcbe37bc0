"""No tracked file names a package registry's host (runs in `make test`).

Packages are reached with their ordinary clients by name (`pip`, `npm pack`, `apt-get`),
and the docs link to a project's own pages, never to an index's address. The hosts are
written below in pieces, so that this file does not name them either.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_DOT = r"\."
# npm and yarn, PyPI and its file host, conda's channels, and the CDNs that serve npm's packages.
REGISTRY_HOST = re.compile(
    r"\b(?:[a-z0-9-]+\.)*(?:"
    + "|".join(
        [
            "npmjs" + _DOT + "(?:org|com)",
            "yarnpkg" + _DOT + "com",
            "pypi" + _DOT + "(?:org|python" + _DOT + "org)",
            "pythonhosted" + _DOT + "org",
            "anaconda" + _DOT + "(?:org|com)",
            "cdn" + _DOT + "jsdelivr" + _DOT + "net",
            "unpkg" + _DOT + "com",
        ]
    )
    + r")\b",
    re.IGNORECASE,
)


def registry_hosts(text: str) -> list[str]:
    """Every registry host named in `text`, in order."""
    return [m.group(0) for m in REGISTRY_HOST.finditer(text)]


def tracked_files() -> list[Path]:
    proc = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
    )
    return [ROOT / name for name in proc.stdout.decode().split("\0") if name]


@pytest.mark.parametrize(
    "host",
    [
        ".".join(parts)
        for parts in [
            ("registry", "npmjs", "org"),
            ("www", "npmjs", "com"),
            ("registry", "yarnpkg", "com"),
            ("pypi", "org"),
            ("PyPI", "Python", "org"),
            ("files", "pythonhosted", "org"),
            ("conda", "anaconda", "org"),
            ("cdn", "jsdelivr", "net"),
            ("unpkg", "com"),
        ]
    ],
    # Test ids are written to .pytest_cache and reports: they must not spell a host either.
    ids=lambda host: host.replace(".", "-"),
)
def test_the_pattern_knows_each_registry_host(host: str) -> None:
    assert registry_hosts(f"see https://{host}/some/package for it") == [host]


def test_the_pattern_leaves_other_text_alone() -> None:
    assert registry_hosts("npm pack pyodide; pip install backprop; the npm registry") == []


def test_no_tracked_file_names_a_registry_host() -> None:
    files = tracked_files()
    assert len(files) > 50 and ROOT / "README.md" in files
    found = {}
    for path in files:
        if path.is_file():  # a tracked file deleted in the working tree is not there to read
            hosts = registry_hosts(path.read_bytes().decode("latin-1"))
            if hosts:
                found[str(path.relative_to(ROOT))] = sorted(set(hosts))
    assert not found, f"registry hosts in tracked files: {found}"
