"""Shared fixtures: the site built once per test session, and a local server for it."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Site:
    path: Path
    url: str
    build_seconds: float


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _SiteServer(http.server.ThreadingHTTPServer):
    """A static file server that holds its port from the moment it is made.

    The site is built for its final URL (instant navigation needs `site_url` to match), so
    the port must be known before the build. Binding it up front, instead of picking a free
    port, closing it and binding again after the build, means no other process on this
    shared machine can take the port in between. Files are served from `directory`, set
    once the site is built.
    """

    # Chromium opens several connections at once; on a busy machine this thread may be
    # slow to accept them, and the default backlog of 5 would leave some to retry.
    request_queue_size = 64
    directory = ""

    def finish_request(self, request: socket.socket, client_address: tuple[str, int]) -> None:
        _QuietHandler(request, client_address, self, directory=self.directory)


@pytest.fixture(scope="session")
def site_server() -> Iterator[_SiteServer]:
    server = _SiteServer(("127.0.0.1", 0), _QuietHandler)
    try:
        yield server
    finally:
        server.server_close()


@pytest.fixture(scope="session")
def site_port(site_server: _SiteServer) -> int:
    return site_server.server_address[1]


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory, site_port: int) -> Site:
    """`mkdocs build --strict` into a temporary folder, for the port the server will use."""
    import time

    out = tmp_path_factory.mktemp("site")
    url = f"http://127.0.0.1:{site_port}/"
    env = {**os.environ, "BACKPROP_SITE_URL": url, "NO_MKDOCS_2_WARNING": "1"}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}", pytrace=False)
    return Site(out, url, seconds)


@pytest.fixture(scope="session")
def served_site(built_site: Site, site_server: _SiteServer) -> Iterator[Site]:
    """The built site on http://127.0.0.1:PORT/, served from a background thread."""
    site_server.directory = str(built_site.path)
    thread = threading.Thread(target=site_server.serve_forever, daemon=True)
    thread.start()
    try:
        yield built_site
    finally:
        site_server.shutdown()


@pytest.fixture(scope="session")
def mutate() -> ModuleType:
    """tools/mutate.py, the drift detector, imported as a module (tools/ is not a package)."""
    import importlib.util

    sys.path.insert(0, str(ROOT / "tools"))  # mutate.py imports its neighbour, reports.py
    spec = importlib.util.spec_from_file_location("mutate", ROOT / "tools" / "mutate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutate"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """The system's Chromium, driven by Playwright (skipped, or failed in CI, without it)."""
    from test_site import LAUNCH_ARGS, _chromium

    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        yield browser
        browser.close()
