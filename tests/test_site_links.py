"""The link checker that the site test runs, and the hook that fixes links in generated HTML.

Both are shown to fail: the checker on a small site with a deliberate broken link and a
missing anchor, the build on a page whose build-time output links to a page that does not
exist. The full site is checked in `test_site.py::test_every_link_and_anchor_resolves`.
"""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from site_links import broken_links

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    site = tmp_path / "site"
    site.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=site))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), "utf8")


def test_checker_reports_each_broken_link_and_anchor(serve) -> None:
    site, url = serve
    _write(
        site / "index.html",
        """\
        <a href="guide/">ok</a> <a href="guide/#steps">ok anchor</a>
        <a href="#top" id="top">self</a> <img src="pic.svg">
        <a href="guide/page.md">a source link left as it was</a>
        <a href="guide/#nowhere">missing anchor</a> <script src="gone.js"></script>
        <a href="https://example.org/x">another host: not followed</a>
        <a href="mailto:someone@example.org">mail</a>
        """,
    )
    _write(site / "pic.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>")
    _write(site / "guide/index.html", '<h2 id="steps">Steps</h2> <a href="../">home</a>')
    problems = broken_links(site, url)
    assert sorted(problems) == sorted(
        [
            "index.html: 'guide/page.md' -> HTTP 404",
            "index.html: 'guide/#nowhere' -> no element with id 'nowhere' on that page",
            "index.html: 'gone.js' -> HTTP 404",
        ]
    )
    (site / "gone.js").write_text("", "utf8")
    _write(site / "guide/page.md", "text")
    _write(site / "guide/index.html", '<h2 id="steps">S</h2><p id="nowhere"></p>')
    assert broken_links(site, url) == []


def _mini_site(tmp_path: Path, target: str) -> subprocess.CompletedProcess[str]:
    """A two-page MkDocs site whose build-time output links to `target`, built strictly."""
    _write(
        tmp_path / "mkdocs.yml",
        f"""\
        site_name: links
        site_url: http://127.0.0.1:1/
        strict: true
        validation:
          anchors: warn
        hooks:
          - {ROOT / "hooks" / "links.py"}
        plugins:
          - markdown-exec:
              languages: ["python"]
        markdown_extensions:
          - pymdownx.superfences
        nav:
          - index.md
          - sub/other.md
        """,
    )
    _write(
        tmp_path / "docs/index.md",
        f"""\
        # Home

        ```python exec="on" html="1"
        print('<a href="{target}">printed at build time</a> <a href="data.py">a file</a>')
        ```

        ```python exec="on"
        print("| page |\\n| --- |\\n| [as Markdown]({target}) |")
        ```
        """,
    )
    _write(tmp_path / "docs/sub/other.md", "# Other\n\n## Section two\n")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", "site"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )


def test_generated_links_resolve_to_built_pages(tmp_path: Path) -> None:
    proc = _mini_site(tmp_path, "sub/other.md#section-two")
    assert proc.returncode == 0, proc.stderr
    home = (tmp_path / "site/index.html").read_text("utf8")
    assert home.count('href="sub/other/#section-two"') == 2, home
    assert "other.md" not in home
    assert 'href="data.py"' in home  # a link to a file to download is left as it is


@pytest.mark.parametrize(
    ("target", "complaint"),
    [("sub/missing.md", "not found among documentation files"), ("sub/other.md#nope", "anchor")],
)
def test_a_generated_link_to_nowhere_fails_the_build(tmp_path: Path, target, complaint) -> None:
    proc = _mini_site(tmp_path, target)
    assert proc.returncode != 0
    assert complaint in proc.stderr, proc.stderr
