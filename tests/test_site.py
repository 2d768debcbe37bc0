"""The built site: `mkdocs build --strict`, then a real browser over every page.

The browser test drives Debian's Chromium through Playwright (`executable_path`, never
`playwright install`). Without Chromium it skips and says how to install it; under
CI=true the harness turns that skip into a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_mkdocs_build_strict(built_site) -> None:
    print(f"mkdocs build --strict took {built_site.build_seconds:.1f} s")
    assert (built_site.path / "index.html").exists()
    assert (built_site.path / "sitemap.xml").exists()


def test_no_page_points_at_another_host(built_site) -> None:
    """No <script src>, <link href> or <img src> on any page leaves the machine."""
    pattern = re.compile(
        r"""<(?:script|link|img|iframe|source)\b[^>]*?\b(?:src|href)=["']([^"']+)"""
    )
    offenders = []
    for page in built_site.path.rglob("*.html"):
        for target in pattern.findall(page.read_text("utf8")):
            host = urlparse(target).hostname
            if host and host not in {"127.0.0.1", "localhost"}:
                offenders.append(f"{page.relative_to(built_site.path)}: {target}")
    assert not offenders, "\n".join(offenders)


def _chromium() -> str:
    for candidate in (os.environ.get("CHROMIUM"), *CHROMIUM_CANDIDATES, shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.skip(
        "Chromium not found: install it with "
        "`sudo apt-get update && sudo apt-get install -y chromium` (or set CHROMIUM=/path)"
    )


def _page_urls(site) -> list[str]:
    tree = ET.parse(site.path / "sitemap.xml")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    urls = [loc.text for loc in tree.getroot().findall("s:url/s:loc", ns) if loc.text]
    assert urls, "the sitemap lists no pages"
    return urls


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.mark.browser
def test_every_page_in_a_real_browser(served_site, browser) -> None:
    origin = urlparse(served_site.url)
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    foreign: list[str] = []
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
    page.on(
        "request",
        lambda req: (
            foreign.append(req.url)
            if urlparse(req.url).scheme in {"http", "https", "ws", "wss"}
            and urlparse(req.url).netloc != origin.netloc
            else None
        ),
    )
    page.on(
        "requestfailed",
        lambda req: problems.append(f"request failed: {req.url} {req.failure}"),
    )

    urls = _page_urls(served_site)
    for url in urls:
        response = page.goto(url, wait_until="networkidle")
        assert response is not None and response.ok, f"{url}: HTTP {response and response.status}"
        where = urlparse(url).path
        # Every formula typeset by KaTeX, none left raw, no KaTeX error.
        report = page.evaluate(
            """() => {
              const math = [...document.querySelectorAll('.arithmatex')];
              const untyped = math.filter(m => !m.querySelector('.katex')).map(m => m.textContent);
              const errors = [...document.querySelectorAll('.katex-error')]
                .map(e => e.title || e.textContent);
              const article = document.querySelector('article') || document.body;
              const clone = article.cloneNode(true);
              clone.querySelectorAll('pre, code, script, style, .katex').forEach(n => n.remove());
              const raw = [...clone.textContent.matchAll(/.{0,30}(\\$\\$|\\\\\\(|\\\\\\[).{0,30}/g)]
                .map(m => m[0]);
              const figures = [...document.querySelectorAll('.bp-figure svg, .bp-figure img')]
                .map(f => { const r = f.getBoundingClientRect(); return [r.width, r.height]; });
              const mermaid = [...document.querySelectorAll('div.mermaid')]
                .map(m => m.getBoundingClientRect().height);
              return {count: math.length, untyped, errors, raw, figures, mermaid};
            }"""
        )
        if report["untyped"]:
            problems.append(f"{where}: formulas not typeset: {report['untyped'][:3]}")
        if report["errors"]:
            problems.append(f"{where}: KaTeX errors: {report['errors'][:3]}")
        if report["raw"]:
            problems.append(f"{where}: raw math delimiters left in the text: {report['raw'][:3]}")
        for width, height in report["figures"]:
            if width < 20 or height < 20:
                problems.append(f"{where}: a figure renders at {width}x{height}")
        if any(h < 20 for h in report["mermaid"]):
            problems.append(f"{where}: a mermaid diagram did not render")

    assert not foreign, f"requests to other hosts: {sorted(set(foreign))[:10]}"
    assert not problems, "\n".join(problems)
    context.close()


@pytest.mark.browser
def test_instant_navigation_keeps_the_page(served_site, browser) -> None:
    """Material's instant navigation swaps content without a full reload, and math still renders."""
    page = browser.new_page()
    page.goto(served_site.url, wait_until="networkidle")
    page.evaluate("() => { window.__noReload = 'still here'; }")
    visited = []
    for _ in range(3):
        link = page.locator("a.md-footer__link--next")
        if link.count() == 0:
            break
        link.first.click()
        page.wait_for_load_state("networkidle")
        page.wait_for_function("() => !document.querySelector('.arithmatex:not(:has(.katex))')")
        visited.append(page.url)
        assert page.evaluate("() => window.__noReload") == "still here", (
            f"navigating to {page.url} reloaded the whole page: instant navigation is off"
        )
    assert len(visited) == 3, f"expected to follow three 'next' links, followed {visited}"
    page.close()
