"""Page 6, the chain rule: the claims its prose makes beyond what its own blocks assert,
its links and anchors, and the shape of its exercises."""

from __future__ import annotations

import math
import random
import re
from pathlib import Path

import pytest
from docs_harness import scan_fences
from markdown.extensions.toc import slugify

from backprop import Value, numerical_derivative

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGE = DOCS / "tutorial" / "06-chain-rule.md"
TEXT = PAGE.read_text("utf8")


def anchors(page: Path) -> set[str]:
    """The ids of a page's headings: an attribute list's id, else MkDocs's default slug."""
    ids = set()
    for line in page.read_text("utf8").splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*(?:\{\s*#([\w-]+)\s*\})?\s*$", line)
        if m and not line.startswith("# "):
            ids.add(m.group(2) or slugify(m.group(1).replace("`", ""), "-"))
        for extra in re.findall(r"\{\s*#([\w-]+)", line):
            ids.add(extra)
    return ids


def headings(text: str) -> list[str]:
    return re.findall(r"^#{2,3} (.*)$", text, re.M)


def exercises(text: str) -> list[tuple[str, str]]:
    """(prompt, solution) of every exercise."""
    parts = re.split(r'^\?\?\? question "', text, flags=re.M)[1:]
    out = []
    for part in parts:
        prompt, _, solution = part.partition('??? success "Solution"')
        out.append((prompt, solution.split("\n## ", 1)[0]))
    return out


def test_links_from_this_page_to_other_pages_land_on_existing_anchors() -> None:
    links = re.findall(r"\]\(([\w./-]+\.md)#([\w-]+)\)", TEXT)
    assert links
    for target, anchor in links:
        path = (PAGE.parent / target).resolve()
        assert path.exists(), target
        assert anchor in anchors(path), f"{target}#{anchor}"


def test_anchors_other_pages_link_to_still_exist() -> None:
    here = anchors(PAGE)
    wanted = set()
    for page in DOCS.rglob("*.md"):
        wanted |= set(re.findall(r"06-chain-rule\.md#([\w-]+)", page.read_text("utf8")))
    assert wanted  # pages 10, 11, the glossary and notation link into this one
    assert wanted <= here, wanted - here


def test_tanh_slope_is_linked_to_where_page_3_derives_it() -> None:
    assert "03-partial-derivatives.md#tanh-derivative" in TEXT
    assert "tanh-derivative" in anchors(DOCS / "tutorial" / "03-partial-derivatives.md")


def test_a_value_used_twice_is_taught_before_the_one_rule_and_any_graph() -> None:
    order = headings(TEXT)
    twice = order.index("A value used twice: copy forward, sum backward")
    one_rule = order.index("The backward pass in one rule")
    pattern = order.index("The pattern: local derivative times upstream gradient")
    assert pattern < twice < one_rule
    assert TEXT.index("any graph") > TEXT.index("## A value used twice")


def test_the_exp_of_the_graph_pages_is_written_exp_not_e_to_a_power() -> None:
    """e is a node of the graph here: no math on the page raises e to a power."""
    prose = TEXT
    for fence in scan_fences(TEXT):
        prose = prose.replace(fence.content, "")
    assert not re.search(r"\be\^", prose)


def test_two_exercises_write_a_new_backward_rule_and_check_it_with_nudges() -> None:
    checked = [
        prompt
        for prompt, solution in exercises(TEXT)
        if re.search(r"def \w+_backward\(", solution) and "numerical_derivative" in solution
    ]
    assert len(checked) >= 2


def test_an_exercise_asks_for_a_prediction_or_derivation_first() -> None:
    assert any(
        re.search(r"\b(predict|derive|before)\b", prompt, re.I) for prompt, _ in exercises(TEXT)
    )


# --- the claims of the page, checked beyond the one case each block shows -----------------


def maximum(x: Value, y: Value) -> Value:
    local = (1.0, 0.0) if x.data >= y.data else (0.0, 1.0)
    return Value.from_op(max(x.data, y.data), (x, y), local, "max")


@pytest.mark.parametrize("seed", range(5))
def test_gate_patterns_copy_swap_and_route(seed: int) -> None:
    rng = random.Random(seed)
    x, y = Value(rng.uniform(-3, 3)), Value(rng.uniform(-3, 3))
    upstream = rng.uniform(0.5, 4.0) * rng.choice([-1, 1])  # not 1: a real upstream gradient
    for op, expected in [
        (lambda x, y: x + y, lambda: (upstream, upstream)),  # copied
        (lambda x, y: x * y, lambda: (upstream * y.data, upstream * x.data)),  # swapped
        (
            maximum,
            lambda: (upstream, 0.0) if x.data >= y.data else (0.0, upstream),
        ),  # routed to the winner
    ]:
        x.grad = y.grad = 0.0
        (op(x, y) * upstream).backward()
        assert (x.grad, y.grad) == pytest.approx(expected(), rel=1e-12)


def test_a_weights_gradient_scales_with_its_input() -> None:
    for size in (1e-3, 1.0, 1e3):
        w, x = Value(0.3), Value(size)
        (w * x * -2.5).tanh().backward()
        bias_like = Value(0.3 * size)
        (bias_like * -2.5).tanh().backward()
        assert w.grad == pytest.approx(size * bias_like.grad, rel=1e-12)


@pytest.mark.parametrize("x0", [-2.0, 0.0, 0.5, 3.0])
def test_the_gradient_through_k_sigmoids_is_below_a_quarter_to_the_k(x0: float) -> None:
    for k in range(1, 31):
        x = Value(x0)
        out = x
        for _ in range(k):
            out = out.sigmoid()
        (out * 1.7).backward()  # a non-uniform upstream gradient, 1.7
        assert 0 < x.grad <= 1.7 * 0.25**k


@pytest.mark.parametrize("seed", range(4))
def test_the_gradient_of_a_mean_loss_is_the_mean_of_the_examples_gradients(seed: int) -> None:
    rng = random.Random(seed)
    examples = [(rng.uniform(-2, 2), rng.uniform(-2, 2)) for _ in range(rng.randint(2, 9))]
    w0, b0 = rng.uniform(-1, 1), rng.uniform(-1, 1)
    votes = []
    for x, y in examples:
        w, b = Value(w0), Value(b0)
        ((w * x + b - y) ** 2).tanh().backward()
        votes.append((w.grad, b.grad))
    w, b = Value(w0), Value(b0)
    mean = sum(((w * x + b - y) ** 2).tanh() for x, y in examples) / len(examples)
    mean.backward()
    assert w.grad == pytest.approx(sum(v[0] for v in votes) / len(votes), rel=1e-12, abs=1e-15)
    assert b.grad == pytest.approx(sum(v[1] for v in votes) / len(votes), rel=1e-12, abs=1e-15)


def test_relu_passes_the_gradient_for_positive_inputs_and_blocks_it_for_negative() -> None:
    for z in (-3.0, -1e-3, 1e-3, 2.5):
        x = Value(z)
        (x.relu() * -4.0).backward()
        assert x.grad == (-4.0 if z > 0 else 0.0)
        slope = numerical_derivative(lambda u: max(0.0, u) * -4.0, z, h=1e-5)
        assert math.isclose(slope, x.grad, abs_tol=1e-9)
