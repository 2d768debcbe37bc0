"""Page 7, backpropagation automated: what it keeps off the main path, the anchors it
keeps, the claims its prose makes about the fused tanh node, and its exercises."""

from __future__ import annotations

import importlib.util
import math
import re
import sys
from pathlib import Path

import pytest
from docs_harness import scan_fences
from markdown.extensions.toc import slugify

import backprop
from backprop import numerical_derivative

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGE = DOCS / "tutorial" / "07-backprop-automated.md"
TEXT = PAGE.read_text("utf8")

spec = importlib.util.spec_from_file_location("prose_budget", ROOT / "tools/prose_budget.py")
assert spec and spec.loader
budget = importlib.util.module_from_spec(spec)
sys.modules.setdefault("prose_budget", budget)
spec.loader.exec_module(budget)


def anchors(page: Path) -> set[str]:
    """The ids of a page's headings: an attribute list's id, else MkDocs's default slug."""
    ids = set()
    for line in page.read_text("utf8").splitlines():
        m = re.match(r"^#{2,6}\s+(.*?)\s*(?:\{\s*#([\w-]+)\s*\})?\s*$", line)
        if m:
            ids.add(m.group(2) or slugify(m.group(1).replace("`", ""), "-"))
        ids.update(re.findall(r"\{\s*#([\w-]+)", line))
    return ids


def exercises(text: str) -> list[tuple[str, str]]:
    """(prompt, solution) of every exercise."""
    parts = re.split(r'^\?\?\? question "', text, flags=re.M)[1:]
    out = []
    for part in parts:
        prompt, _, solution = part.partition('??? success "Solution"')
        out.append((prompt, solution.split("\n## ", 1)[0]))
    return out


def main_path() -> str:
    return budget.split(TEXT)[0]


# --- structure ------------------------------------------------------------------------------


def test_the_recursion_limit_detour_is_collapsed() -> None:
    fences = [f for f in scan_fences(TEXT) if "RecursionError" in f.content]
    assert fences, "the page no longer shows the recursion limit failing"
    assert all(f.indent for f in fences)  # inside a collapsed block, not on the main path
    lines = TEXT.splitlines()
    for fence in fences:
        above = [line for line in lines[: fence.opener_line] if line.startswith("??? ")]
        assert above and above[-1].startswith('??? note "Going deeper')


def test_the_pytorch_table_is_collapsed() -> None:
    assert "PyTorch 2.13 |" in TEXT
    assert "PyTorch 2.13 |" not in main_path()
    assert (ROOT / "tests" / "test_torch_semantics.py").exists()  # the page names it


def test_accumulation_across_calls_has_a_stable_anchor_after_summing_within_a_pass() -> None:
    ids = anchors(PAGE)
    assert {"step-5-why-a-value-used-twice", "accumulation-across-calls"} <= ids
    assert TEXT.index("{ #accumulation-across-calls }") > TEXT.index("## Step 5:")


def test_the_steps_come_in_order() -> None:
    steps = [int(n) for n in re.findall(r"^## Step (\d+):", TEXT, re.M)]
    assert steps == list(range(1, 8))


def test_links_from_this_page_land_on_existing_anchors() -> None:
    links = re.findall(r"\]\(([\w./-]+\.md)#([\w-]+)\)", TEXT)
    assert links
    for target, anchor in links:
        path = (PAGE.parent / target).resolve()
        assert path.exists(), target
        assert anchor in anchors(path), f"{target}#{anchor}"


def test_anchors_other_pages_link_to_still_exist() -> None:
    wanted = set()
    for page in DOCS.rglob("*.md"):
        wanted |= set(re.findall(r"07-backprop-automated\.md#([\w-]+)", page.read_text("utf8")))
    assert wanted <= anchors(PAGE), wanted - anchors(PAGE)


def test_tanh_slope_is_linked_to_page_3_not_to_the_reference() -> None:
    step6 = TEXT[TEXT.index("## Step 6") : TEXT.index("### One node, or five?")]
    assert "03-partial-derivatives.md#tanh-derivative" in step6
    assert "reference/ops.md" not in step6


def test_exp_is_written_exp_where_e_is_a_node_of_the_graph() -> None:
    prose = TEXT
    for fence in scan_fences(TEXT):
        prose = prose.replace(fence.content, "")
    assert not re.search(r"\be\^", prose)


def test_two_exercises_write_a_new_backward_rule_checked_with_nudges() -> None:
    new_rules = [
        prompt
        for prompt, solution in exercises(TEXT)
        if "def _backward" in solution and "numerical_derivative" in solution
    ]
    assert len(new_rules) >= 2


def test_an_exercise_asks_for_a_prediction_or_derivation_first() -> None:
    assert any(re.search(r"\b(predict|derive)\b", p, re.I) for p, _ in exercises(TEXT))


# --- the claims about one tanh node against five ---------------------------------------------


def tanh_from_exp(x: backprop.Value) -> backprop.Value:
    v = (2 * x).exp()
    return (v - 1) / (v + 1)


def test_five_nodes_overflow_exactly_where_exp_2x_does() -> None:
    limit = math.log(sys.float_info.max) / 2  # the page's "about 354.9"
    assert 354.89 < limit < 354.9
    tanh_from_exp(backprop.Value(354.89)).backward()  # just below: fine
    with pytest.raises(OverflowError):
        tanh_from_exp(backprop.Value(354.9))


@pytest.mark.parametrize("x", [355.0, 1e3, 1e300, -1e300])
def test_the_fused_node_gives_the_saturated_value_and_a_zero_gradient(x: float) -> None:
    v = backprop.Value(x)
    t = v.tanh()
    (t * 3.0).backward()
    assert (t.data, v.grad) == (math.copysign(1.0, x), 0.0)


@pytest.mark.parametrize("x", [-20.0, -1.25, 0.0, 0.5, 3.0, 10.0])
def test_one_node_and_five_agree_where_both_work(x: float) -> None:
    one, five = backprop.Value(x), backprop.Value(x)
    (one.tanh() * -0.7).backward()
    (tanh_from_exp(five) * -0.7).backward()
    assert math.isclose(one.grad, five.grad, rel_tol=1e-7, abs_tol=1e-16)
    assert math.isclose(one.grad, -0.7 * numerical_derivative(math.tanh, x), abs_tol=1e-8)
