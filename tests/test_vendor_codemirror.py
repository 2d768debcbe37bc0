"""The vendored CodeMirror bundle: the recorded file, built from the pinned packages, offline.

`make vendor` builds `docs/assets/vendor/codemirror/codemirror.min.js` from
`tools/codemirror/` (exact versions in package.json, every package pinned in the lock
file). A refresh must update the checksum and the versions in the vendor README; these
tests fail until it does, and fail if the bundle would make the site ask another host.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "tools" / "codemirror"
VENDOR = ROOT / "docs" / "assets" / "vendor"
BUNDLE = VENDOR / "codemirror" / "codemirror.min.js"
BUNDLE_SHA256 = "98be66788ce51458e3db3fef85e95ea4234fe5d6e3aafa10f96332b3c42c3a60"
EXACT = re.compile(r"\d+\.\d+\.\d+")


def _manifest() -> dict:
    return json.loads((SOURCE / "package.json").read_text("utf8"))


def _lock() -> dict:
    return json.loads((SOURCE / "package-lock.json").read_text("utf8"))


def test_the_bundle_is_the_recorded_file() -> None:
    digest = hashlib.sha256(BUNDLE.read_bytes()).hexdigest()
    assert digest == BUNDLE_SHA256, (
        f"{BUNDLE.name} changed ({digest}): update docs/assets/vendor/README.md and this test"
    )
    assert BUNDLE_SHA256 in (VENDOR / "README.md").read_text("utf8")


def test_every_input_is_pinned_exactly_and_locked() -> None:
    manifest, lock = _manifest(), _lock()
    wanted = {**manifest["dependencies"], **manifest["devDependencies"]}
    assert {"codemirror", "@codemirror/lang-python", "esbuild"} <= wanted.keys()
    loose = {name: v for name, v in wanted.items() if not EXACT.fullmatch(v)}
    assert not loose, f"versions must be exact, not ranges: {loose}"
    packages = lock["packages"]
    assert packages[""]["dependencies"] == manifest["dependencies"], "lock file out of date"
    assert packages[""]["devDependencies"] == manifest["devDependencies"]
    for name, version in wanted.items():
        assert packages[f"node_modules/{name}"]["version"] == version, name
    unpinned = [p for p, entry in packages.items() if p and "integrity" not in entry]
    assert not unpinned, f"lock entries without a checksum: {unpinned}"


def test_the_readme_names_the_locked_versions() -> None:
    """Each package the vendor README lists is at the version the lock file holds."""
    readme = (VENDOR / "README.md").read_text("utf8")
    row = next(line for line in readme.splitlines() if "codemirror.min.js" in line)
    listed = dict(re.findall(r"`((?:@[\w-]+/)?[\w-]+)` (\d+\.\d+\.\d+)", row))
    assert "codemirror" in listed and "esbuild" in listed
    packages = _lock()["packages"]
    for name, version in listed.items():
        assert packages[f"node_modules/{name}"]["version"] == version, name


def test_the_bundle_asks_no_other_host_and_carries_its_licences() -> None:
    text = BUNDLE.read_text("utf8")
    urls = set(re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s\"'`)]*", text))
    assert urls <= {"http://www.w3.org/2000/svg"}, f"the bundle names other hosts: {urls}"
    # Self-contained: no `import(...)` and no `from "..."` (strings such as "from" in the
    # Python completions aside).
    imports = re.findall(r"\bimport\s*\(|(?<![\w\"'])from\s*[\"'][^\"']+[\"']", text)
    assert not imports, f"the bundle imports other modules: {imports[:3]}"
    licences = (BUNDLE.parent / "LICENSE").read_text("utf8")
    for name in _manifest()["dependencies"]:
        assert re.search(rf"^{re.escape(name)} \d", licences, re.M), f"no licence for {name}"
