"""Page 1, why gradients: what it says about backpropagation (exact up to rounding, the
cost of a backward pass), the pages it points to, and its links."""

from __future__ import annotations

import re
import sys
from fractions import Fraction
from pathlib import Path

from markdown.extensions.toc import slugify

from backprop import Value, topological_order

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGE = DOCS / "tutorial" / "01-why-gradients.md"
TEXT = PAGE.read_text("utf8")
XS, YS = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]


def anchors(page: Path) -> set[str]:
    """The ids of a page's headings: an attribute list's id, else MkDocs's default slug."""
    ids = set()
    for line in page.read_text("utf8").splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*(?:\{\s*#([\w-]+)\s*\})?\s*$", line)
        if m and not line.startswith("# "):
            ids.add(m.group(2) or slugify(m.group(1).replace("`", ""), "-"))
        ids.update(re.findall(r"\{\s*#([\w-]+)", line))  # attribute lists anywhere
    return ids


def loss(w: Value) -> Value:
    return sum(((w * x - y) ** 2 for x, y in zip(XS, YS, strict=True)), Value(0.0)) / len(XS)


def test_backprop_is_exact_up_to_rounding() -> None:
    """The slope of page 1's loss by backward(), against the exact slope in fractions,
    2/n * sum((w x - y) x): equal at w = 0.5, within a few roundings at any w."""
    for w0 in [0.5, 0.1, 1.7, -2.3]:
        w = Value(w0)
        loss(w).backward()
        exact = Fraction(2, 3) * sum(
            (Fraction(w0) * Fraction(x) - Fraction(y)) * Fraction(x)
            for x, y in zip(XS, YS, strict=True)
        )
        assert abs(Fraction(w.grad) - exact) <= 8 * sys.float_info.epsilon * abs(exact)
    w = Value(0.5)
    loss(w).backward()
    assert w.grad == -14.0  # the slope page 1 measures by nudging, about -13.9953


def test_one_backward_pass_does_work_of_the_size_of_the_forward_pass() -> None:
    """Page 1: 'one backward pass that costs about as much as computing the loss'. The
    backward pass does one multiply-and-add per edge; the forward pass one operation per
    node. For the loss of many parameters the two stay within a small factor."""
    for n in [3, 30, 300]:
        ws = [Value(0.1 * i) for i in range(n)]
        out = sum(((w * x - 1.0) ** 2 for w, x in zip(ws, range(n), strict=True)), Value(0.0))
        nodes = [v for v in topological_order(out) if v._children]
        edges = sum(len(v._children) for v in nodes)
        assert edges <= 2 * len(nodes)  # at most two operands per operation
        out.backward()
        assert all(w.grad == 2 * (w.data * x - 1.0) * x for w, x in zip(ws, range(n), strict=True))


def test_the_table_names_the_pages_that_do_each_job() -> None:
    row = re.search(r"\| Where in this guide \| pages (\d+) and (\d+) \| page (\d+) \|", TEXT)
    assert row
    tutorial = DOCS / "tutorial"
    backprop_pages = [
        next(tutorial.glob(f"{int(n):02d}-*.md")).read_text("utf8") for n in row.groups()[:2]
    ]
    descent = next(tutorial.glob(f"{int(row.group(3)):02d}-*.md")).read_text("utf8")
    assert re.search(r"^# The chain rule", backprop_pages[0], re.M)
    assert re.search(r"^# Backpropagation", backprop_pages[1], re.M)
    assert re.search(r"^# Gradient descent", descent, re.M)


def test_the_cost_claim_links_to_where_it_is_measured() -> None:
    target = "../explanation/why-reverse-mode.md#one-backward-pass"
    assert f"]({target})" in TEXT
    explanation = DOCS / "explanation" / "why-reverse-mode.md"
    assert "one-backward-pass" in anchors(explanation)
    measured = (
        explanation.read_text("utf8").split("{ #one-backward-pass }", 1)[1].split("\n#", 1)[0]
    )
    assert "out.backward()" in measured and "perf_counter" in measured


def test_links_land_on_existing_anchors() -> None:
    links = re.findall(r"\]\(([\w./-]+\.md)#([\w-]+)\)", TEXT)
    assert links
    for target, anchor in links:
        path = (PAGE.parent / target).resolve()
        assert path.exists(), target
        assert anchor in anchors(path), f"{target}#{anchor}"


def test_anchors_other_pages_link_to_still_exist() -> None:
    here = anchors(PAGE)
    for page in DOCS.rglob("*.md"):
        for anchor in re.findall(r"01-why-gradients\.md#([\w-]+)", page.read_text("utf8")):
            assert anchor in here, f"{page.relative_to(DOCS)} links to #{anchor}"
