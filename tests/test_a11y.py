"""Accessibility of the built site: axe-core on every page in both colour schemes, and the keyboard.

axe-core (vendored in `tests/vendor/axe-core/`, for this test only: the site does not ship
it) is injected into every page of the sitemap, once with the light scheme and once with
the dark one (Material picks the palette from `prefers-color-scheme`, which the browser
context emulates). Any serious or critical violation of a WCAG 2.0/2.1 A or AA rule fails
the test, naming the rule, the page, the scheme and the element.

The keyboard test walks the tab order of a tutorial page, as a reader without a mouse
would: it must reach a collapsible block, a content tab, a copy button, a Run block's code
editor and the stepper, each with a visible focus indicator, and each must work from the
keyboard (in the editor, Tab indents, and Escape then Tab moves on).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import pytest
from test_site import (  # the page helpers, shared with test_site
    DRAW_TIMEOUT_MS,
    LOAD_TIMEOUT_MS,
    _page_urls,
    _wait_until_drawn,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.site, pytest.mark.xdist_group("site")]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = {"serious", "critical"}

SCHEMES = {"light": "default", "dark": "slate"}  # emulated prefers-color-scheme: Material's

# Every violation, whatever its impact: rule id, impact, and each element's selector.
# The insides of figures are left out (thousands of paths, no text: the figure itself,
# with its role and name, is checked; its colours are backprop.figures' to test).
AXE_RUN_JS = """async (tags) => {
  const result = await axe.run({exclude: [['.bp-figure svg > *']]}, {
    runOnly: {type: 'tag', values: tags},
    resultTypes: ['violations'],
  });
  return {
    version: axe.version,
    violations: result.violations.map(v => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map(n => ({
        target: n.target.join(' '),
        impact: n.impact || v.impact,
        html: n.html.slice(0, 160),
        summary: (n.failureSummary || '').split('\\n').slice(1, 3).join(' ').trim(),
      })),
    })),
  };
}"""


def test_vendored_axe_is_the_recorded_file() -> None:
    """The README's checksum is the file's: a refresh must update both."""
    assert AXE.is_file(), f"{AXE} is missing: see tests/vendor/axe-core/README.md"
    digest = hashlib.sha256(AXE.read_bytes()).hexdigest()
    assert digest == AXE_SHA256, f"axe.min.js changed ({digest}): update the README and this test"
    assert AXE_SHA256 in (AXE.parent / "README.md").read_text("utf8")


def scan(page: Page, url: str) -> dict[str, tuple[str, str, list[dict]]]:
    """Load `url` once and run axe on it in each scheme: {scheme: (palette, version, violations)}.

    The scheme is switched as a reader switches it, with Material's palette toggle (the
    radio button of each palette, which Material also remembers for the next page), and
    `prefers-color-scheme` is emulated to match. The palette Material then shows is
    returned for the test to check.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    response = page.goto(url, wait_until="load", timeout=LOAD_TIMEOUT_MS)
    assert response is not None and response.ok, f"{url}: HTTP {response and response.status}"
    not_drawn = _wait_until_drawn(page, urlparse(url).path, DRAW_TIMEOUT_MS)
    assert not not_drawn, "\n".join(not_drawn)
    page.add_script_tag(path=str(AXE))
    results = {}
    for scheme, material in SCHEMES.items():
        page.emulate_media(color_scheme=scheme)
        page.evaluate(
            """(m) => document.querySelector(`input[name="__palette"][data-md-color-scheme="${m}"]`)
                 ?.click()""",
            material,
        )
        with contextlib.suppress(PlaywrightTimeoutError):  # a wrong palette is reported below
            page.wait_for_function(
                "(m) => document.body.getAttribute('data-md-color-scheme') === m",
                arg=material,
                timeout=5_000,
            )
        result = page.evaluate(AXE_RUN_JS, WCAG_TAGS)
        results[scheme] = (scheme_of(page), result["version"], result["violations"])
    return results


def scheme_of(page: Page) -> str:
    return page.evaluate("() => document.body.getAttribute('data-md-color-scheme')")


def count_by_rule(violations: list[dict]) -> Counter[tuple[str, str]]:
    """Elements per (rule, impact)."""
    counts: Counter[tuple[str, str]] = Counter()
    for violation in violations:
        for node in violation["nodes"]:
            counts[violation["id"], node["impact"]] += 1
    return counts


@pytest.mark.browser
def test_axe_finds_no_serious_violation(served_site, browser: Browser) -> None:
    context = browser.new_context()
    page = context.new_page()
    failures: list[str] = []
    counts = {scheme: Counter() for scheme in SCHEMES}
    version = "?"
    try:
        urls = _page_urls(served_site)
        for url in urls:
            where = urlparse(url).path
            for scheme, (palette, axe_version, violations) in scan(page, url).items():
                assert palette == SCHEMES[scheme], (
                    f"{where}: emulating {scheme} gave Material's {palette!r} palette"
                )
                counts[scheme] += count_by_rule(violations)
                version = axe_version
                for violation in violations:
                    for node in violation["nodes"]:
                        if node["impact"] in FAILING_IMPACTS:
                            failures.append(
                                f"{violation['id']} ({node['impact']}) on {where} [{scheme}]: "
                                f"{node['target']}  {node['summary'] or violation['help']}"
                            )
    finally:
        context.close()
    for scheme, by_rule in counts.items():
        summary = ", ".join(
            f"{rule}/{impact}: {n}" for (rule, impact), n in sorted(by_rule.items())
        )
        print(f"axe {version}, {len(urls)} pages, {scheme}: {summary or 'no violations'}")
    assert not failures, f"{len(failures)} serious or critical violations:\n" + "\n".join(
        failures[:60]
    )


# --- the keyboard ----------------------------------------------------------------------

KEYBOARD_PAGE = "tutorial/06-chain-rule/"
MAX_TABS = 600

# The site has no content tabs yet, so the keyboard test adds one to the page it walks,
# rendered by the site's own Markdown settings (pymdownx.tabbed, alternate style) and
# styled and scripted by the site's own theme: the day a page gets tabs, they work.
TABBED_MARKDOWN = (
    '=== "Scalar"\n\n    The scalar engine.\n\n=== "Tensor"\n\n    The tensor engine.\n'
)

# What has the focus, and whether it can be seen: an outline or a box shadow on the
# element, or, for a visually hidden radio button or checkbox (a content tab, the colour
# scheme toggle), on its label.
FOCUS_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  let kind = 'other';
  if (el.matches('details > summary')) kind = 'summary';
  else if (el.matches('.tabbed-set > input')) kind = 'tab';
  else if (el.matches('button[data-md-type="copy"], button.md-clipboard')) kind = 'copy';
  else if (el.matches('.bp-run .cm-content')) kind = 'editor';
  else if (el.matches('button.bp-run-run')) kind = 'run';
  else if (el.matches('button.bp-stepper-button')) kind = 'stepper';
  const hidden = el.matches('input[type="radio"], input[type="checkbox"]') && el.id;
  // Material's scheme toggle puts each radio button's visible label right after it.
  const labels = hidden ? [document.querySelector(`label[for="${el.id}"]`),
                           el.nextElementSibling?.matches('label') && el.nextElementSibling] : [];
  // CodeMirror's focus ring is drawn on the editor's frame, around the gutter and the text.
  const shown = labels.find(l => l && l.getClientRects().length)
    || (kind === 'editor' && el.closest('.cm-editor')) || el;
  const style = getComputedStyle(shown);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow && style.boxShadow !== 'none';
  const label = (el.getAttribute('aria-label') || el.textContent || el.title || '')
    .trim().slice(0, 40);
  return {kind, visible: outline || shadow, tag: el.tagName.toLowerCase(), label,
          cls: String(el.className).slice(0, 60)};
}"""


def _tabbed_html() -> str:
    import markdown

    md = markdown.Markdown(
        extensions=["pymdownx.tabbed", "pymdownx.superfences"],
        extension_configs={"pymdownx.tabbed": {"alternate_style": True}},
    )
    return md.convert(TABBED_MARKDOWN)


def _with_tabs(page: Page, url: str) -> None:
    """Serve `url` with a content-tab block added before the first ``<h2>`` of its article."""

    def handle(route) -> None:
        response = route.fetch()
        body = response.text()
        at = body.index("<h2", body.index("<article"))
        route.fulfill(response=response, body=body[:at] + _tabbed_html() + body[at:])

    page.route(url, handle)


def _walk(page: Page, wanted: set[str]) -> tuple[dict[str, dict], list[dict]]:
    """Press Tab until every wanted kind of element has had the focus: the first of each.

    In a code editor Tab indents, so there, as CodeMirror documents, Escape comes first.
    """
    first: dict[str, dict] = {}
    invisible: list[dict] = []
    page.locator("body").focus()
    focus = None
    for _ in range(MAX_TABS):
        if focus is not None and focus["kind"] == "editor":
            page.keyboard.press("Escape")
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_JS)
        if focus is None:
            continue
        if not focus["visible"]:
            invisible.append(focus)
        if focus["kind"] in wanted and focus["kind"] not in first:
            first[focus["kind"]] = focus
            page.evaluate("() => { document.activeElement.dataset.bpFirst = '1'; }")
            page.evaluate(
                "(k) => document.activeElement.setAttribute('data-bp-kind', k)", focus["kind"]
            )
        if wanted <= first.keys():
            break
    return first, invisible


@pytest.mark.browser
def test_keyboard_reaches_and_works_every_control(served_site, browser: Browser) -> None:
    context = browser.new_context()
    page = context.new_page()
    url = served_site.url + KEYBOARD_PAGE
    try:
        _with_tabs(page, url)
        page.goto(url, wait_until="load", timeout=LOAD_TIMEOUT_MS)
        not_drawn = _wait_until_drawn(page, KEYBOARD_PAGE, DRAW_TIMEOUT_MS)
        assert not not_drawn, "\n".join(not_drawn)
        assert page.locator(".tabbed-set").count() == 1, "the content tabs were not added"
        # The Run buttons and the stepper are added by scripts once the page has loaded.
        page.wait_for_selector("button.bp-run-run", timeout=DRAW_TIMEOUT_MS)
        page.wait_for_selector("button.bp-stepper-button", timeout=DRAW_TIMEOUT_MS)

        wanted = {"summary", "tab", "copy", "editor", "run", "stepper"}
        first, invisible = _walk(page, wanted)
        missing = wanted - first.keys()
        assert not missing, f"{MAX_TABS} presses of Tab never reached: {sorted(missing)}"
        assert not invisible, f"focus without a visible indicator: {invisible[:5]}"

        # A collapsible block opens with Enter and closes with Space.
        summary = page.locator('[data-bp-kind="summary"]')
        details = summary.locator("xpath=..")
        was_open = details.evaluate("d => d.open")
        summary.focus()
        page.keyboard.press("Enter")
        assert details.evaluate("d => d.open") != was_open, "Enter did not toggle the block"
        page.keyboard.press("Space")
        assert details.evaluate("d => d.open") == was_open, "Space did not toggle it back"

        # A content tab switches with the arrow keys.
        page.locator('[data-bp-kind="tab"]').focus()
        page.keyboard.press("ArrowRight")
        checked = page.evaluate(
            "() => [...document.querySelectorAll('.tabbed-set > input')].map(i => i.checked)"
        )
        assert checked == [False, True], f"ArrowRight did not switch the tab: {checked}"
        shown = page.locator(".tabbed-block").nth(1)
        assert shown.is_visible() and "tensor engine" in shown.inner_text()

        # The stepper moves on with Enter on its focused button, and with the arrow keys.
        stepper = page.locator("[data-stepper]").first
        status = stepper.locator(".bp-stepper-status")
        before = status.inner_text()
        next_button = stepper.locator("button.bp-stepper-button").last
        next_button.focus()
        page.keyboard.press("Enter")
        after = status.inner_text()
        assert after != before, f"Enter on the stepper's button did nothing: {before!r}"
        page.keyboard.press("ArrowLeft")
        assert status.inner_text() == before, "ArrowLeft did not step back"

        # The code editor: Tab indents the line and keeps the focus; Escape then Tab leaves.
        editor = page.locator('[data-bp-kind="editor"]')
        box = editor.locator("xpath=ancestor::div[@data-bp-block][1]")
        code = box.evaluate("b => b.bpEditor.value")
        editor.focus()
        page.keyboard.press("Control+Home")
        page.keyboard.press("Tab")
        assert box.evaluate("b => b.bpEditor.value") == "    " + code, "Tab did not indent"
        focus = page.evaluate(FOCUS_JS)
        assert focus and focus["kind"] == "editor" and focus["visible"], focus
        page.keyboard.press("Shift+Tab")
        assert box.evaluate("b => b.bpEditor.value") == code, "Shift+Tab did not dedent"
        page.keyboard.press("Escape")
        page.keyboard.press("Tab")
        assert box.evaluate("b => b.bpEditor.value") == code, "Tab after Escape indented"
        focus = page.evaluate(FOCUS_JS)
        assert focus and focus["kind"] != "editor", f"Escape, Tab did not leave: {focus}"
        assert box.evaluate("(b) => b.contains(document.activeElement)"), focus  # the Run bar
        # The hint the editor is described by names both keys.
        hint = editor.evaluate(
            "e => document.getElementById(e.getAttribute('aria-describedby')).textContent"
        )
        assert "Esc" in hint and "Tab" in hint, hint

        # A copy button copies with Enter: Material confirms in its dialog.
        page.locator('[data-bp-kind="copy"]').focus()
        page.keyboard.press("Enter")
        page.wait_for_selector(".md-dialog--active", timeout=10_000)
    finally:
        context.close()


def test_tables_have_header_cells(built_site) -> None:
    """Every table of the site (not the line-number layout of source listings) has <th> cells."""
    import re

    offenders = []
    for path in sorted(built_site.path.rglob("*.html")):
        for table in re.findall(r"<table\b.*?</table>", path.read_text("utf8"), re.S):
            if 'class="highlighttable"' not in table[:60] and "<th" not in table:
                offenders.append(f"{path.relative_to(built_site.path)}: {table[:80]}")
    assert not offenders, "tables without header cells:\n" + "\n".join(offenders[:20])


FIGURE_PAGE = "tutorial/08-gradient-descent/"
# The computed fill of a plot's background and of its ink (the first tick label's glyphs).
FIGURE_FILLS_JS = """() => {
  const svg = document.querySelector('.bp-figure.bp-plot svg');
  const paper = svg.querySelector('#patch_1 path');
  const ink = svg.querySelector('[id^="text_"] use');
  return {paper: getComputedStyle(paper).fill, ink: getComputedStyle(ink).fill,
          page: getComputedStyle(document.body).backgroundColor};
}"""


@pytest.mark.browser
def test_figures_follow_the_colour_scheme_and_math_keeps_mathml(
    served_site,
    browser: Browser,
) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(served_site.url + FIGURE_PAGE, wait_until="load", timeout=LOAD_TIMEOUT_MS)
        not_drawn = _wait_until_drawn(page, FIGURE_PAGE, DRAW_TIMEOUT_MS)
        assert not not_drawn, "\n".join(not_drawn)
        light = page.evaluate(FIGURE_FILLS_JS)
        assert light["paper"] == "rgb(255, 255, 255)" and light["ink"] == "rgb(0, 0, 0)", light
        page.emulate_media(color_scheme="dark")
        page.evaluate(
            """() => document.querySelector('input[name="__palette"][data-md-color-scheme="slate"]')
                 .click()"""
        )
        page.wait_for_function(
            "() => document.body.getAttribute('data-md-color-scheme') === 'slate'", timeout=5_000
        )
        dark = page.evaluate(FIGURE_FILLS_JS)
        assert dark["paper"] == "rgb(30, 32, 41)", dark  # the page's background, not a white card
        assert dark["ink"] == "rgb(235, 235, 235)", dark
        # KaTeX keeps its MathML for screen readers, in figure captions as everywhere.
        math = page.evaluate(
            """() => [...document.querySelectorAll('.katex')].map(k => [
                 !!k.querySelector('.katex-mathml math annotation'),
                 !!k.closest('figcaption')])"""
        )
        assert math and all(has for has, _ in math), "a formula lost its MathML"
        assert any(in_caption for _, in_caption in math), "no caption's math was typeset"
    finally:
        context.close()
