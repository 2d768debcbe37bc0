"""The step-through of the backward pass on page 6, in Chromium.

It walks every node of the draft graph in the engine's reverse topological order with
the Next button and with the right arrow key, goes back with Previous and the left arrow,
and its last frame shows the gradients `backward()` computes here, in Python. Without
JavaScript, every frame is on the page. No console errors, no request to another host,
and after an instant navigation away and back the widget is set up again, once.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from graphs import draft_graph

from backprop import topological_order

pytestmark = [pytest.mark.site, pytest.mark.xdist_group("site")]

PAGE = "tutorial/06-chain-rule/"
TIMEOUT_MS = 60_000


@pytest.fixture
def page(served_site, browser):
    """Page 6, loaded, with every console error and foreign request recorded."""
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

    def request(r) -> None:
        host = urlparse(r.url).hostname
        if host not in {"127.0.0.1", "localhost", None}:
            problems.append(f"request to another host: {r.url}")

    page.on("request", request)
    page.goto(served_site.url + PAGE, wait_until="load", timeout=TIMEOUT_MS)
    page.wait_for_selector("[data-stepper] .bp-stepper-controls", timeout=TIMEOUT_MS)
    page.problems = problems
    yield page
    page.close()


STATE = """(root) => {
  const frames = [...root.querySelectorAll('.bp-stepper-frame')];
  const shown = frames.filter((f) => !f.hidden);
  const frame = shown[0];
  const current = frame.querySelector('g.bp-value.bp-current');
  const box = frame.querySelector('svg').getBoundingClientRect();
  return {
    shown: shown.length,
    index: frames.indexOf(frame),
    node: frame.dataset.node,
    current: current ? current.querySelector('text.bp-label').textContent : null,
    status: root.querySelector('.bp-stepper-status').textContent,
    tips: [...frame.querySelectorAll('g.bp-value > title')].map((t) => t.textContent),
    visible: box.width >= 20 && box.height >= 20,
  };
}"""


def state(page) -> dict:
    return page.locator("[data-stepper]").first.evaluate(STATE)


def engine() -> tuple[list[str], dict[str, float]]:
    """The order backward() visits the nodes in, and the gradients it computes."""
    L = draft_graph()
    order = [v.label for v in reversed(topological_order(L))]
    L.backward()
    return order, {v.label: v.grad for v in topological_order(L)}


def grads_shown(tips: list[str]) -> dict[str, float | None]:
    result = {}
    for tip in tips:
        label = tip.split(" | ")[0]
        match = re.search(r"\| grad (\S+)$", tip)
        result[label] = None if "not computed yet" in tip else float(match.group(1))
    return result


def walk(page, forward, back) -> None:
    """Step through every frame with `forward`, check it, then back with `back`."""
    order, grads = engine()
    n = len(order) + 1
    first = state(page)
    assert first["shown"] == 1 and first["index"] == 0 and first["visible"]
    assert first["status"] == f"Step 1 of {n}: before the backward pass"
    assert set(grads_shown(first["tips"]).values()) == {None}
    for k, name in enumerate(order, start=1):
        forward()
        now = state(page)
        assert now["shown"] == 1 and now["index"] == k
        assert now["node"] == name and now["current"] == name  # the highlighted box
        assert now["status"] == f"Step {k + 1} of {n}: {name}"
        assert now["visible"]
    assert grads_shown(state(page)["tips"]) == grads  # the engine's gradients, exactly
    forward()  # at the end: stays there
    assert state(page)["index"] == n - 1
    for k in range(n - 2, -1, -1):
        back()
        assert state(page)["index"] == k
    back()
    assert state(page)["index"] == 0


def test_next_and_previous_walk_the_backward_pass(page) -> None:
    stepper = page.locator("[data-stepper]").first
    previous = stepper.get_by_role("button", name="Previous step")
    next_ = stepper.get_by_role("button", name="Next step")
    assert previous.get_attribute("aria-disabled") == "true"  # at the first step
    assert next_.get_attribute("aria-disabled") == "false"
    # force: at either end the button is aria-disabled, and a click on it must do nothing.
    walk(page, lambda: next_.click(force=True), lambda: previous.click(force=True))
    next_.click()
    assert previous.get_attribute("aria-disabled") == "false"
    assert page.problems == []


def test_the_arrow_keys_walk_the_backward_pass(page) -> None:
    stepper = page.locator("[data-stepper]").first
    stepper.focus()
    walk(page, lambda: page.keyboard.press("ArrowRight"), lambda: page.keyboard.press("ArrowLeft"))
    page.keyboard.press("End")
    assert state(page)["index"] == len(engine()[0])
    page.keyboard.press("Home")
    assert state(page)["index"] == 0
    assert page.problems == []


def test_both_steppers_of_the_page_are_set_up_with_a_live_status(page) -> None:
    steppers = page.locator("[data-stepper]")
    assert steppers.count() == 2
    for k in range(2):
        root = steppers.nth(k)
        assert root.locator(".bp-stepper-controls").count() == 1
        status = root.locator(".bp-stepper-status")
        assert status.get_attribute("aria-live") == "polite"
        assert status.get_attribute("role") == "status"
        assert root.get_attribute("tabindex") == "0"
    second = steppers.nth(1).evaluate(STATE)
    assert second["status"].startswith("Step 1 of 5")
    # Content added later is set up by the public init; calling it again adds nothing.
    added = page.evaluate(
        """() => {
      const copy = document.querySelector('[data-stepper]').cloneNode(true);
      copy.querySelector('.bp-stepper-controls').remove();
      delete copy.dataset.current;
      document.querySelector('article').append(copy);
      const made = window.backpropStepper.init(copy).length;
      const again = window.backpropStepper.init(document).length;
      return [made, copy.querySelectorAll('.bp-stepper-controls').length, again];
    }"""
    )
    assert added == [1, 1, 3]
    assert page.problems == []


def test_instant_navigation_sets_the_stepper_up_again(page, served_site) -> None:
    page.evaluate("() => { window.__noReload = 'still here'; }")
    for link in ("a.md-footer__link--next", "a.md-footer__link--prev"):
        page.evaluate("() => { document.querySelector('article').__seen = true; }")
        page.locator(link).first.click()
        page.wait_for_function(
            "() => document.querySelector('article') && !document.querySelector('article').__seen",
            polling=100,
            timeout=TIMEOUT_MS,
        )
    page.wait_for_selector("[data-stepper] .bp-stepper-controls", timeout=TIMEOUT_MS)
    assert page.url.split("#")[0] == served_site.url + PAGE
    assert page.evaluate("() => window.__noReload") == "still here"  # no full reload
    assert page.locator("[data-stepper] .bp-stepper-controls").count() == 2  # once each
    stepper = page.locator("[data-stepper]").first
    stepper.get_by_role("button", name="Next step").click()
    assert state(page)["node"] == "L"
    assert page.problems == []


def test_without_javascript_every_frame_is_shown_in_order(served_site, browser) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(served_site.url + PAGE, wait_until="load", timeout=TIMEOUT_MS)
        root = page.locator("[data-stepper]").first
        frames = root.locator(".bp-stepper-frame")
        order, _ = engine()
        assert frames.count() == len(order) + 1
        assert [frames.nth(k).get_attribute("data-node") for k in range(frames.count())] == [
            "",
            *order,
        ]
        for k in range(frames.count()):
            assert frames.nth(k).is_visible()
            assert frames.nth(k).locator(".bp-stepper-text").inner_text().strip()
        assert root.locator(".bp-stepper-controls").count() == 0
    finally:
        context.close()
