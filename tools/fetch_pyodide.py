"""Fetch the pinned Pyodide runtime (Python compiled to WebAssembly) into .cache/pyodide/.

The guide's Run buttons execute code blocks in the reader's browser with Pyodide, served
by the site itself (the site must work offline). The npm package `pyodide` holds the core
runtime; this script has npm's own client fetch its tarball once (`npm pack
pyodide@VERSION`, into a temporary folder), checks it against the sha512 integrity
pinned below (copied here by hand, so a changed tarball is refused instead of trusted;
the integrity npm reports must agree too), and unpacks the few files the browser needs
into `.cache/pyodide/<version>/dist/`. The mkdocs hook `hooks/run_blocks.py` copies them
into the built site under `assets/pyodide/`.

    python tools/fetch_pyodide.py               # fetch unless already there (needs npm)
    python tools/fetch_pyodide.py --soft        # never fail: warn instead (make build/serve)
    python tools/fetch_pyodide.py --tarball F   # use a tarball you already have (offline)

To move to another version, change VERSION and INTEGRITY together (from
`npm view pyodide@VERSION dist.integrity`).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "314.0.8"
INTEGRITY = (
    "sha512-"
    "74Wq1kXOC+CCEzAfxuRAO701nAcCMLjf8NrwvWpu8S41dVMXwXmLQ05dYB+F4e46AdnGo0oq7YHSVUpHsoarLQ=="
)
PACKAGE = f"pyodide@{VERSION}"  # what `npm pack` is asked for
# What the browser loads (module loader, runtime, standard library, package lock) and the
# package's metadata (version and licence, MPL-2.0). The rest of the tarball is source maps,
# type declarations and demo consoles.
FILES = (
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
    "package.json",
)

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "pyodide" / VERSION
DIST = CACHE / "dist"
HOW_TO_GET_IT = "make pyodide"


class FetchError(RuntimeError):
    """The runtime could not be had: no network, a refused tarball, a broken archive."""


def is_present(dist: Path = DIST) -> bool:
    """Whether every file the browser needs is unpacked in `dist`."""
    return all((dist / name).is_file() for name in FILES)


def check_integrity(data: bytes, integrity: str = INTEGRITY) -> None:
    """Raise FetchError unless `data` has the pinned npm `sha512-<base64>` integrity."""
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512" or not expected:
        raise FetchError(f"unsupported integrity string {integrity!r}: expected sha512-<base64>")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if actual != expected:
        raise FetchError(
            f"the Pyodide {VERSION} tarball does not match its pinned integrity:\n"
            f"  expected sha512-{expected}\n  got      sha512-{actual}\n"
            "refusing to use it (a corrupted download, or the package now has other bytes)"
        )


def npm_pack(
    package: str = PACKAGE, *, npm: str = "npm", timeout: float = 300.0
) -> tuple[bytes, str]:
    """The tarball of `package` as npm's client fetches it, and the integrity npm reports.

    Runs `npm pack PACKAGE --json` in a temporary folder (so nothing lands in the
    checkout) and reads the tarball it writes there. Raises FetchError when npm is not
    installed, fails, or does not say what it wrote.
    """
    executable = shutil.which(npm)
    if executable is None:
        raise FetchError(
            f"npm is not installed, and it fetches {package}: install it "
            "(on Debian or Ubuntu: `sudo apt-get install npm`), then run "
            f"`{HOW_TO_GET_IT}` again"
        )
    with tempfile.TemporaryDirectory(prefix="pyodide-pack-") as folder:
        try:
            proc = subprocess.run(
                [executable, "pack", package, "--json", "--silent"],
                cwd=folder,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as error:
            raise FetchError(f"`npm pack {package}` took more than {timeout:.0f} s") from error
        if proc.returncode != 0:
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
            raise FetchError(f"`npm pack {package}` failed (exit {proc.returncode}):\n{tail}")
        try:
            (report,) = json.loads(proc.stdout)
            path = Path(folder) / report["filename"]
            return path.read_bytes(), report["integrity"]
        except (ValueError, KeyError, TypeError, OSError) as error:
            raise FetchError(
                f"`npm pack {package}` did not report the one tarball it wrote "
                f"({type(error).__name__}: {error}); its output began {proc.stdout[:200]!r}"
            ) from error


def unpack(data: bytes, dist: Path = DIST) -> None:
    """Unpack FILES from the npm tarball `data` into `dist`, replacing it atomically."""
    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:gz")  # noqa: SIM115
    except tarfile.TarError as error:
        raise FetchError(f"the Pyodide tarball is not a gzipped tar archive: {error}") from error
    dist.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="dist-", dir=dist.parent))
    staging.chmod(0o755)
    try:
        with archive:
            for name in FILES:
                try:
                    member = archive.extractfile(f"package/{name}")
                except KeyError:
                    member = None
                if member is None:
                    raise FetchError(f"the Pyodide tarball has no package/{name}")
                (staging / name).write_bytes(member.read())
        if dist.exists():
            shutil.rmtree(dist)
        staging.rename(dist)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def fetch(tarball: Path | None = None, *, force: bool = False) -> Path:
    """Make sure the runtime is unpacked in DIST; return DIST. Raises FetchError."""
    if is_present() and not force:
        return DIST
    cached = CACHE / f"pyodide-{VERSION}.tgz"
    if tarball is not None:
        data = tarball.read_bytes()
    elif cached.is_file():
        data = cached.read_bytes()
    else:
        print(f"fetching Pyodide {VERSION} with `npm pack {PACKAGE}` ...", file=sys.stderr)
        data, reported = npm_pack()
        if reported != INTEGRITY:
            raise FetchError(
                f"npm reports the integrity {reported} for {PACKAGE}, "
                f"not the pinned {INTEGRITY}: refusing the tarball"
            )
    check_integrity(data)
    CACHE.mkdir(parents=True, exist_ok=True)
    if not cached.is_file():
        cached.write_bytes(data)
    unpack(data)
    return DIST


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--soft", action="store_true", help="warn instead of failing")
    parser.add_argument("--force", action="store_true", help="unpack again even if present")
    parser.add_argument("--tarball", type=Path, help="a pyodide-VERSION.tgz already on disk")
    args = parser.parse_args(argv)
    try:
        dist = fetch(args.tarball, force=args.force)
    except (FetchError, OSError) as error:
        print(f"fetch_pyodide: {error}", file=sys.stderr)
        if args.soft:
            print(
                "fetch_pyodide: the site builds without it; its Run buttons will say to run "
                f"`{HOW_TO_GET_IT}` (which needs npm and the network)",
                file=sys.stderr,
            )
            return 0
        return 1
    size = sum(f.stat().st_size for f in dist.iterdir()) / 1e6
    print(f"Pyodide {VERSION} is in {dist.relative_to(ROOT)} ({size:.1f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
