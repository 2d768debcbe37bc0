"""The built site: `mkdocs build --strict`, then a real browser over every page.

The browser test drives Debian's Chromium through Playwright (`executable_path`, never
`playwright install`). Without Chromium it skips and says how to install it; under
CI=true the harness turns that skip into a failure.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

    from conftest import Site
    from playwright.sync_api import BrowserContext, Page, Request, Response

# The built site's tests run with `make test-site` (CI runs both it and `make test`):
# building the site executes every page and both notebooks again, and the browser visits
# every page, about four minutes together. They share one build, so under pytest-xdist
# they stay in one process.
pytestmark = [pytest.mark.site, pytest.mark.xdist_group("site")]

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


# How long a page may take to finish drawing (KaTeX, figures, mermaid) once it has loaded.
# A quiet machine needs well under a second; the margin is for a machine busy with other work.
DRAW_TIMEOUT_MS = 60_000
# Once the test has already failed, later pages get this long, so that a site broken
# everywhere (say, KaTeX missing) fails in a minute rather than 23 pages x 60 s.
DRAW_TIMEOUT_AFTER_FAILURE_MS = 5_000
LOAD_TIMEOUT_MS = 60_000

# What a page still lacks, read in the page. Every list is empty once the page is drawn,
# except `errors` (KaTeX's own error boxes), which is a final result, not a state to wait for.
PAGE_STATE_JS = r"""() => {
  const math = [...document.querySelectorAll('.arithmatex')];
  // KaTeX replaces the formula by .katex, or by .katex-error if it cannot parse it.
  const untyped = math.filter(m => !m.querySelector('.katex, .katex-error'))
    .map(m => m.textContent.trim().slice(0, 60));
  const errors = [...document.querySelectorAll('.katex-error')]
    .map(e => e.title || e.textContent);
  const article = document.querySelector('article') || document.body;
  const clone = article.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, .katex').forEach(n => n.remove());
  const raw = [...clone.textContent.matchAll(/.{0,30}(\$\$|\\\(|\\\[).{0,30}/g)].map(m => m[0]);
  // A figure inside a [hidden] element is hidden on purpose: the step-through's other
  // frames (tests/test_stepper_browser.py checks each one as it is shown).
  const figures = [...document.querySelectorAll('.bp-figure svg, .bp-figure img')]
    .filter(f => !f.closest('[hidden]'))
    .map((f, i) => {
      const r = f.getBoundingClientRect();
      const caption = f.closest('figure')?.querySelector('figcaption')?.textContent.trim();
      const name = `${f.tagName.toLowerCase()} #${i + 1}`
        + (caption ? ` "${caption.slice(0, 40)}"` : '');
      if (f.tagName === 'IMG' && !(f.complete && f.naturalWidth > 0))
        return `${name} (${f.getAttribute('src')}) has not loaded`;
      if (r.width < 20 || r.height < 20)
        return `${name} renders at ${Math.round(r.width)}x${Math.round(r.height)}`;
      return null;
    }).filter(Boolean);
  // Material replaces each <pre class="mermaid"> by a <div class="mermaid"> once drawn.
  const mermaid = [
    ...[...document.querySelectorAll('pre.mermaid')].map(() => 'a diagram is not drawn yet'),
    ...[...document.querySelectorAll('div.mermaid')]
      .map(m => m.getBoundingClientRect().height)
      .filter(h => h < 20).map(h => `a diagram is only ${Math.round(h)} px high`),
  ];
  return {count: math.length, untyped, errors, raw, figures, mermaid};
}"""
DRAWN_JS = f"""() => {{
  const s = ({PAGE_STATE_JS})();
  return !s.untyped.length && !s.raw.length && !s.figures.length && !s.mermaid.length;
}}"""


def _wait_until_drawn(page: Page, where: str, timeout_ms: int) -> list[str]:
    """Wait until every formula, figure and diagram on the page is drawn; say what is not."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    try:
        page.wait_for_function(DRAWN_JS, polling=100, timeout=timeout_ms)
        timed_out = False
    except PlaywrightTimeoutError:
        timed_out = True
    state = page.evaluate(PAGE_STATE_JS)
    late = f" (still, after {timeout_ms / 1000:.0f} s)" if timed_out else ""
    problems = []
    if state["untyped"]:
        n, total = len(state["untyped"]), state["count"]
        problems.append(
            f"{where}: {n} of {total} formulas not typeset{late}: {state['untyped'][:3]}"
        )
    if state["errors"]:
        problems.append(f"{where}: KaTeX errors: {state['errors'][:3]}")
    if state["raw"]:
        problems.append(f"{where}: raw math delimiters left in the text{late}: {state['raw'][:3]}")
    problems += [f"{where}: figure {f}{late}" for f in state["figures"]]
    problems += [f"{where}: mermaid: {m}{late}" for m in state["mermaid"]]
    if timed_out and not problems:
        problems.append(f"{where}: not drawn within {timeout_ms / 1000:.0f} s, yet nothing missing")
    return problems


class _Traffic:
    """Every request a page makes, and the failures that are the site's fault.

    A failed request is the site's fault when the server answered with an HTTP error
    (`response` with status >= 400) or when the request failed for any reason other than
    `net::ERR_ABORTED`: a refused or reset connection, an empty response, a missing file
    (`net::ERR_FILE_NOT_FOUND`), a blocked one.

    `net::ERR_ABORTED` means the browser itself cancelled the request. Leaving a page
    does that to whatever the page still had in flight (a favicon, a font), and this test
    leaves every page as soon as it has checked it: those aborts are the test's own doing,
    so they are ignored when they happen while the test is navigating away (from the
    moment `goto` is called until it returns: Chromium cancels the old page's requests
    when the new page commits, before its load event, which `goto` waits for), or for a
    request issued on a page the test has since left. An abort at any other time, while
    the page is being checked, was not caused by the test, and is reported.

    The whole of `goto` counts as leaving, not only the requests known to be pending when
    it was called: the event for a request the old page started just before may reach
    Python only during `goto`, followed by its abort (seen under load with the favicon).
    Seen aborted this way: favicon.png, sitemap.xml and search_index.json (fetched by
    Material after load).

    Ignoring an abort must not let a missing file through, so every same-origin URL the
    browser asked for, finished or not, is also looked up in the built site
    (`missing_files`): a cancelled request for a file that does not exist still fails.
    """

    def __init__(self, page: Page, origin: str) -> None:
        self.origin = origin
        self.page_number = 0
        self.leaving = False
        self.issued_on: dict[Request, int] = {}
        self.urls: set[str] = set()
        self.foreign: list[str] = []
        self.problems: list[str] = []
        page.on("request", self._request)
        page.on("response", self._response)
        page.on("requestfailed", self._failed)

    def _request(self, request: Request) -> None:
        self.issued_on[request] = self.page_number
        parts = urlparse(request.url)
        if parts.scheme in {"http", "https", "ws", "wss"}:
            if parts.netloc == self.origin:
                self.urls.add(request.url)
            else:
                self.foreign.append(request.url)

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status} for {response.url}")

    def _failed(self, request: Request) -> None:
        failure = request.failure or "unknown failure"
        if failure == "net::ERR_ABORTED":
            issued_on = self.issued_on.get(request, self.page_number)
            if self.leaving or issued_on < self.page_number:
                return
            failure += " while the page was still open (not by the test's navigation)"
        self.problems.append(f"request failed: {request.url} {failure}")

    def goto(self, page: Page, url: str) -> Response | None:
        """Navigate to the next page; aborts of the previous page's requests are expected."""
        self.leaving = True
        self.page_number += 1
        try:
            return page.goto(url, wait_until="load", timeout=LOAD_TIMEOUT_MS)
        finally:
            self.leaving = False

    def close(self, context: BrowserContext) -> None:
        self.leaving = True
        context.close()

    def missing_files(self, site: Site) -> list[str]:
        """Same-origin URLs the browser requested that are not files of the built site."""
        missing = []
        for url in sorted(self.urls):
            path = unquote(urlparse(url).path)
            target = site.path / path.lstrip("/")
            if path.endswith("/") or target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                missing.append(url)
        return missing


@dataclass(eq=False)  # hashable by identity, as Playwright's requests are
class _FakeRequest:
    url: str
    failure: str | None = None


class _FakePage:
    """Just enough of a Playwright page to feed events to `_Traffic` by hand."""

    def __init__(self) -> None:
        self.handlers: dict[str, Callable[[object], None]] = {}
        self.in_flight: _FakeRequest | None = None

    def on(self, event: str, handler: Callable[[object], None]) -> None:
        self.handlers[event] = handler

    def goto(self, url: str, **kwargs: object) -> None:
        self.handlers["requestfailed"](self.in_flight)


def test_traffic_blames_the_site_only_for_its_own_failures(tmp_path) -> None:
    """Aborts caused by leaving a page are ignored; HTTP errors, refusals and missing files not."""
    from types import SimpleNamespace

    (tmp_path / "page").mkdir()
    (tmp_path / "page" / "index.html").write_text("")
    (tmp_path / "font.woff2").write_text("")
    site = SimpleNamespace(path=tmp_path)

    def request(url: str, failure: str | None = None) -> _FakeRequest:
        return _FakeRequest(f"http://127.0.0.1:1{url}", failure)

    page = _FakePage()
    traffic = _Traffic(page, "127.0.0.1:1")
    event = page.handlers
    # Page 1: a font still loading when the test moves on is aborted by the next goto.
    traffic.page_number = 1
    font = request("/font.woff2", "net::ERR_ABORTED")
    event["request"](font)
    page.in_flight = font
    traffic.goto(page, "http://127.0.0.1:1/page/")
    # Page 2: an abort nobody asked for, a refused connection, a 404, a foreign host,
    # and a request for a file the site lacks, cancelled when the context closes.
    for url in ("/page/", "/x.js", "/y.css", "/gone.png"):
        event["request"](request(url))
    event["requestfailed"](request("/x.js", "net::ERR_ABORTED"))
    event["requestfailed"](request("/y.css", "net::ERR_CONNECTION_REFUSED"))
    event["response"](SimpleNamespace(status=404, url="http://127.0.0.1:1/z.png"))
    event["request"](_FakeRequest("https://cdn.example.com/k.js"))
    traffic.leaving = True
    event["requestfailed"](request("/gone.png", "net::ERR_ABORTED"))

    assert traffic.problems == [
        "request failed: http://127.0.0.1:1/x.js net::ERR_ABORTED"
        " while the page was still open (not by the test's navigation)",
        "request failed: http://127.0.0.1:1/y.css net::ERR_CONNECTION_REFUSED",
        "HTTP 404 for http://127.0.0.1:1/z.png",
    ]
    assert traffic.foreign == ["https://cdn.example.com/k.js"]
    assert traffic.missing_files(site) == [
        "http://127.0.0.1:1/gone.png",
        "http://127.0.0.1:1/x.js",
        "http://127.0.0.1:1/y.css",
    ]


def _summary(problems: list[str]) -> str:
    """One line per distinct problem (a missing script fails on every page), with its count."""
    counts = Counter(problems)
    return "\n".join(p if n == 1 else f"{p} ({n} times)" for p, n in counts.items())


def test_every_link_and_anchor_resolves(served_site) -> None:
    """Each href and src of every built page, generated HTML included, is followed over HTTP,
    and each #anchor must name an element of the page it lands on."""
    from site_links import broken_links

    broken = broken_links(served_site.path, served_site.url)
    assert not broken, f"{len(broken)} broken links:\n" + "\n".join(broken)


@pytest.mark.browser
def test_every_page_in_a_real_browser(served_site, browser) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    context = browser.new_context()
    page = context.new_page()
    traffic = _Traffic(page, urlparse(served_site.url).netloc)
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: (
            problems.append(f"{urlparse(page.url).path}: console {msg.type}: {msg.text}")
            if msg.type == "error"
            else None
        ),
    )
    page.on(
        "pageerror", lambda err: problems.append(f"{urlparse(page.url).path}: page error: {err}")
    )

    try:
        for url in _page_urls(served_site):
            where = urlparse(url).path
            try:
                response = traffic.goto(page, url)
            except PlaywrightTimeoutError:
                problems.append(f"{where}: did not load within {LOAD_TIMEOUT_MS / 1000:.0f} s")
                continue
            if response is None or not response.ok:
                problems.append(f"{where}: HTTP {response and response.status}")
                continue
            failed = problems or traffic.problems
            timeout = DRAW_TIMEOUT_AFTER_FAILURE_MS if failed else DRAW_TIMEOUT_MS
            problems += _wait_until_drawn(page, where, timeout)
            # Let the page's last requests (favicon, fonts) and console messages arrive before
            # leaving it; not required (see _Traffic), so running out of time is no failure.
            with contextlib.suppress(PlaywrightTimeoutError):
                page.wait_for_load_state("networkidle", timeout=10_000)
    finally:
        traffic.close(context)

    assert not traffic.foreign, f"requests to other hosts: {sorted(set(traffic.foreign))[:10]}"
    missing = traffic.missing_files(served_site)
    problems += [f"requested, but not in the built site: {url}" for url in missing]
    assert not traffic.problems + problems, _summary(traffic.problems + problems)


@pytest.mark.browser
def test_instant_navigation_keeps_the_page(served_site, browser) -> None:
    """Material's instant navigation swaps content without a full reload, and math still renders."""
    page = browser.new_page()
    try:
        page.goto(served_site.url, wait_until="load", timeout=LOAD_TIMEOUT_MS)
        page.evaluate("() => { window.__noReload = 'still here'; }")
        visited = []
        for _ in range(3):
            link = page.locator("a.md-footer__link--next")
            if link.count() == 0:
                break
            target = link.first.evaluate("a => a.href.split('#')[0]")
            # Mark the current article: the click has taken effect once the URL is the link's
            # and the article is a new one (instant navigation replaces it, as would a reload).
            # The URL is compared without its #fragment: navigation.tracking keeps setting it
            # to the heading in view.
            page.evaluate("() => { document.querySelector('article').__seen = true; }")
            link.first.click()
            page.wait_for_function(
                """(target) => location.href.split('#')[0] === target
                     && document.querySelector('article')
                     && !document.querySelector('article').__seen""",
                arg=target,
                polling=100,
                timeout=DRAW_TIMEOUT_MS,
            )
            not_drawn = _wait_until_drawn(page, urlparse(target).path, DRAW_TIMEOUT_MS)
            assert not not_drawn, "\n".join(not_drawn)
            visited.append(page.url)
            assert page.evaluate("() => window.__noReload") == "still here", (
                f"navigating to {page.url} reloaded the whole page: instant navigation is off"
            )
        assert len(visited) == 3, f"expected to follow three 'next' links, followed {visited}"
    finally:
        page.close()
