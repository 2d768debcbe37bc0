"""Tests for backprop.draw: SVG drawings of computation graphs."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest
from graphs import draft_graph

from backprop import Value, draw, topological_order

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if cls in (g.get("class") or "").split()]


def texts(group: ET.Element) -> list[str]:
    return [t.text or "" for t in group.iter(f"{SVG}text")]


def box(group: ET.Element) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of a value box or operation node."""
    rect = group.find(f"{SVG}rect")
    x, y = float(rect.get("x")), float(rect.get("y"))
    return x, y, x + float(rect.get("width")), y + float(rect.get("height"))


def value_boxes(root: ET.Element) -> dict[str, tuple[float, float, float, float]]:
    """Value boxes by their label (the first text of a labelled box)."""
    return {texts(g)[0]: box(g) for g in groups(root, "bp-value")}


# --- the document ---------------------------------------------------------------------


def test_is_well_formed_svg_with_size_and_viewbox():
    svg = draw(draft_graph())
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    width, height = float(root.get("width")), float(root.get("height"))
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert 300 < width < 1200 and 80 < height < 400
    assert root.get("style") == "max-width:100%;height:auto"


def test_everything_is_inside_the_canvas():
    root = parse(draw(draft_graph()))
    width, height = float(root.get("width")), float(root.get("height"))
    for g in groups(root, "bp-value") + groups(root, "bp-op"):
        left, top, right, bottom = box(g)
        assert 0 <= left < right <= width and 0 <= top < bottom <= height
    for path in root.iter(f"{SVG}path"):
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d"))]
        assert all(-1 <= n <= max(width, height) + 1 for n in numbers)


def test_accessible_title_and_role():
    root = parse(draw(draft_graph()))
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title is not None and root[0] is title  # the first child names the image
    assert title.text == "Computation graph of L: 7 values, 3 operations"
    assert root.get("aria-label") == title.text


def test_custom_title_is_escaped():
    root = parse(draw(draft_graph(), title='L = (a·b + c)·f & "more" <here>'))
    assert root.find(f"{SVG}title").text == 'L = (a·b + c)·f & "more" <here>'
    assert root.get("aria-label") == 'L = (a·b + c)·f & "more" <here>'


def test_default_title_of_an_unlabelled_single_value():
    root = parse(draw(Value(1.0)))
    assert root.find(f"{SVG}title").text == "Computation graph of a Value: 1 value, 0 operations"


def test_no_external_resources_or_ids():
    svg = draw(draft_graph())
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "url(" not in svg and "@import" not in svg and "<image" not in svg
    assert " id=" not in svg  # nothing to collide when several drawings share a page
    assert "<script" not in svg and "<style" not in svg


def test_classes_for_styling():
    svg = draw(draft_graph())
    for cls in ("bp-draw", "bp-edge", "bp-arrow", "bp-value", "bp-root", "bp-op"):
        assert f'class="{cls}' in svg or f" {cls}" in svg, cls
    for cls in ("bp-label", "bp-key", "bp-num"):
        assert f'class="{cls}"' in svg


def test_boxes_are_filled_so_text_reads_on_any_background():
    root = parse(draw(draft_graph()))
    for g in groups(root, "bp-value") + groups(root, "bp-op"):
        fills = [el.get("fill") for el in g if el.tag in (f"{SVG}rect", f"{SVG}path")]
        assert any(f and f.startswith("#") for f in fills)
    for text in root.iter(f"{SVG}text"):
        assert text.get("fill", "").startswith("#")  # never inherits the page colour


# --- content --------------------------------------------------------------------------


def test_every_value_shows_label_data_and_grad():
    L = draft_graph()
    L.backward()
    root = parse(draw(L))
    shown = {texts(g)[0]: texts(g)[1:] for g in groups(root, "bp-value")}
    assert shown == {
        "a": ["data", "2.0000", "grad", "6.0000"],
        "b": ["data", "-3.0000", "grad", "-4.0000"],
        "c": ["data", "10.0000", "grad", "-2.0000"],
        "f": ["data", "-2.0000", "grad", "4.0000"],
        "e": ["data", "-6.0000", "grad", "-2.0000"],
        "d": ["data", "4.0000", "grad", "-2.0000"],
        "L": ["data", "-8.0000", "grad", "1.0000"],
    }


def test_before_and_after_backward_differ_only_in_grads():
    L = draft_graph()
    before = draw(L)
    assert before.count(">0.0000<") == 7
    L.backward()
    after = draw(L)
    assert after != before
    strip = re.compile(r"grad [-\d.e+]+|>-?[\d.]+<")
    assert strip.sub("", before) == strip.sub("", after)  # same layout


def test_tooltips_carry_full_precision():
    x = Value(1 / 3, label="x")
    root = parse(draw(x * 1))
    tips = [g.find(f"{SVG}title").text for g in groups(root, "bp-value")]
    assert "x | data 0.3333333333333333 | grad 0.0" in tips


def test_one_operation_node_per_operation():
    L = draft_graph()
    root = parse(draw(L))
    ops = groups(root, "bp-op")
    assert sorted(texts(g)[0] for g in ops) == ["+", "×", "×"]
    values = topological_order(L)
    assert len(groups(root, "bp-value")) == len(values)
    assert len(ops) == sum(1 for v in values if v._children)


@pytest.mark.parametrize(
    ("make", "symbol", "tip"),
    [
        (lambda a, b: a + b, "+", "addition (+)"),
        (lambda a, b: a - b, "−", "subtraction (-)"),
        (lambda a, b: -a, "−", "negation (-)"),
        (lambda a, b: a * b, "×", "multiplication (*)"),
        (lambda a, b: a / b, "÷", "division (/)"),
        (lambda a, b: a**2, "**", "power (**)"),
        (lambda a, b: a**b, "**", "power (**)"),
        (lambda a, b: a.exp(), "exp", "exponential (exp)"),
        (lambda a, b: a.log(), "log", "natural logarithm (log)"),
        (lambda a, b: a.tanh(), "tanh", "hyperbolic tangent (tanh)"),
        (lambda a, b: a.sigmoid(), "σ", "sigmoid (sigmoid)"),
        (lambda a, b: a.relu(), "ReLU", "rectified linear unit (relu)"),
        (lambda a, b: Value.sum([a, b]), "Σ", "sum (sum)"),
        (lambda a, b: Value.dot([a], [b]), "dot", "dot product (dot)"),
    ],
)
def test_operation_symbols(make, symbol, tip):
    root = parse(draw(make(Value(2.0), Value(3.0))))
    (op,) = groups(root, "bp-op")
    assert texts(op) == [symbol]
    assert op.find(f"{SVG}title").text == tip


def test_unknown_operation_is_shown_verbatim():
    v = Value(2.0) * 3
    v._op = "matmul"
    root = parse(draw(v))
    assert texts(groups(root, "bp-op")[0]) == ["matmul"]


def test_show_grad_false_hides_gradients():
    L = draft_graph()
    L.backward()
    svg = draw(L, show_grad=False)
    assert "grad" not in svg  # not in the boxes, not in the tooltips
    root = parse(svg)
    shown = {texts(g)[0]: texts(g)[1:] for g in groups(root, "bp-value")}
    assert shown["a"] == ["data", "2.0000"]  # a.grad = 6 is not shown
    assert all(len(rest) == 2 for rest in shown.values())
    assert float(root.get("height")) < float(parse(draw(L)).get("height"))


def test_precision():
    root = parse(draw(Value(1 / 3, label="x"), precision=2))
    assert texts(groups(root, "bp-value")[0]) == ["x", "data", "0.33", "grad", "0.00"]
    root = parse(draw(Value(1 / 3, label="x"), precision=0))
    assert texts(groups(root, "bp-value")[0])[2] == "0"


@pytest.mark.parametrize(
    ("x", "shown"),
    [
        (0.0, "0.0000"),
        (-0.0, "0.0000"),
        (2.5, "2.5000"),
        (-1234.5, "-1234.5000"),
        (0.001, "0.0010"),
        (0.0004, "4.000e-04"),
        (-1e-12, "-1.000e-12"),
        (123456.0, "1.235e+05"),
        (1e300, "1.000e+300"),
    ],
)
def test_number_formatting(x, shown):
    root = parse(draw(Value(x, label="x")))
    assert texts(groups(root, "bp-value")[0])[2] == shown


def test_unlabelled_boxes_have_no_label_cell():
    a = Value(2.0)
    b = a * 3
    root = parse(draw(b))
    for g in groups(root, "bp-value"):
        assert texts(g)[0] == "data"
    assert "bp-label" not in draw(b)


def test_labels_are_escaped():
    evil = Value(1.0, label='<b>&"x"</b>')
    other = Value(2.0, label="]]><script>alert(1)</script>")
    svg = draw(evil * other)
    root = parse(svg)  # still well-formed
    labels = [texts(g)[0] for g in groups(root, "bp-value")]
    assert '<b>&"x"</b>' in labels
    assert any(label.startswith("]]><script>") for label in labels)
    assert "<script" not in svg and "<b>" not in svg


def test_control_characters_and_newlines_in_labels():
    v = Value(1.0, label="bad\x00char\x1b and\nnewline")
    root = parse(draw(v))  # XML 1.0 cannot contain \x00: it must be replaced
    (label, *_) = texts(groups(root, "bp-value")[0])
    assert label == "bad\ufffdchar\ufffd and newline"


def test_long_labels_are_shortened_with_full_label_in_tooltip():
    long = "a very long label that goes on and on"
    root = parse(draw(Value(1.0, label=long)))
    (g,) = groups(root, "bp-value")
    assert texts(g)[0] == long[:23] + "…"
    assert g.find(f"{SVG}title").text.startswith(long)


def test_wide_characters_widen_the_label_cell():
    narrow = parse(draw(Value(1.0, label="ab")))
    wide = parse(draw(Value(1.0, label="梯度")))  # two wide characters = four cells
    assert float(wide.get("width")) > float(narrow.get("width"))


def test_the_output_is_marked_as_root():
    root = parse(draw(draft_graph()))
    (out,) = groups(root, "bp-root")
    assert texts(out)[0] == "L"


# --- layout ---------------------------------------------------------------------------


def test_left_to_right_children_before_parents():
    root = parse(draw(draft_graph()))
    boxes = value_boxes(root)
    for child, parent in [("a", "e"), ("b", "e"), ("e", "d"), ("c", "d"), ("d", "L"), ("f", "L")]:
        assert boxes[child][2] < boxes[parent][0], (child, parent)  # right edge < left edge


def test_operations_sit_between_operands_and_result():
    root = parse(draw(draft_graph()))
    boxes = value_boxes(root)
    ops = sorted(box(g) for g in groups(root, "bp-op"))
    for (left, top, right, bottom), (operands, result) in zip(
        ops, [("ab", "e"), ("ec", "d"), ("df", "L")], strict=True
    ):
        assert all(boxes[o][2] < left for o in operands)
        assert right < boxes[result][0]
        # The result is level with its operation: a straight arrow.
        middle = (boxes[result][1] + boxes[result][3]) / 2
        assert (top + bottom) / 2 == pytest.approx(middle, abs=0.5)


def test_leaves_sit_next_to_their_first_use():
    # c and f are leaves, but they are drawn in the column before their operation,
    # not in the first column.
    boxes = value_boxes(parse(draw(draft_graph())))
    assert boxes["c"][0] == pytest.approx(boxes["e"][0])
    assert boxes["f"][0] == pytest.approx(boxes["d"][0])
    assert boxes["a"][0] == pytest.approx(boxes["b"][0])
    assert boxes["a"][0] < boxes["c"][0]


def test_operands_top_to_bottom_in_written_order():
    boxes = value_boxes(parse(draw(draft_graph())))
    assert boxes["a"][1] < boxes["b"][1]
    assert boxes["e"][1] < boxes["c"][1]
    assert boxes["d"][1] < boxes["f"][1]


def test_boxes_in_a_column_do_not_overlap():
    x = [Value(float(i), label=f"x{i}") for i in range(6)]
    out = Value.sum([xi.tanh() * xi for xi in x])
    rects = [
        box(g) for g in groups(parse(draw(out)), "bp-value") + groups(parse(draw(out)), "bp-op")
    ]
    for i, (l1, t1, r1, b1) in enumerate(rects):
        for l2, t2, r2, b2 in rects[i + 1 :]:
            assert r1 <= l2 or r2 <= l1 or b1 <= t2 or b2 <= t1  # disjoint


def test_one_arrow_per_operand_and_per_result():
    L = draft_graph()
    root = parse(draw(L))
    edges = [p for p in root.iter(f"{SVG}path") if p.get("class") == "bp-edge"]
    heads = [p for p in root.iter(f"{SVG}path") if p.get("class") == "bp-arrow"]
    assert len(edges) == len(heads) == 3 * 2 + 3  # two operands and one result per op


def test_a_value_used_twice_gets_two_arrows():
    a = Value(3.0, label="a")
    root = parse(draw(a * a))
    heads = [p for p in root.iter(f"{SVG}path") if p.get("class") == "bp-arrow"]
    assert len(heads) == 3
    tips = {p.get("d").split()[0] for p in heads}
    assert len(tips) == 3  # the two arrows into × arrive at different points


def test_arrowheads_point_right_at_their_target():
    root = parse(draw(draft_graph()))
    targets = [box(g) for g in groups(root, "bp-value") + groups(root, "bp-op")]
    for head in (p for p in root.iter(f"{SVG}path") if p.get("class") == "bp-arrow"):
        tip_x, tip_y = map(float, head.get("d").split()[0][1:].split(","))
        base_x = float(head.get("d").split()[1][1:].split(",")[0])
        assert base_x < tip_x  # pointing right
        assert any(
            left - 0.5 <= tip_x <= left + 10 and top <= tip_y <= bottom
            for left, top, _, bottom in targets
        )


def test_sweeps_remove_crossings():
    # A graph where the first guess (depth-first order from the output) draws 7
    # crossings; the barycenter sweeps bring that down to 1.
    a, b, c = Value(0.0, label="a"), Value(1.0, label="b"), Value(2.0, label="c")
    v5 = a + b
    out = ((b + a) + a * c) + (b + v5)
    root = parse(draw(out))
    edges = [p.get("d") for p in root.iter(f"{SVG}path") if p.get("class") == "bp-edge"]
    assert len(edges) == 6 * 3  # six binary operations
    assert crossings(edges) <= 1


def test_no_crossings_in_the_draft_graph():
    root = parse(draw(draft_graph()))
    edges = [p.get("d") for p in root.iter(f"{SVG}path") if p.get("class") == "bp-edge"]
    assert crossings(edges) == 0


def segments(d: str) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """The pieces of an arrow's path data as (start, end) points (curves as chords)."""
    start = tuple(map(float, re.match(r"M(-?[\d.]+),(-?[\d.]+)", d).groups()))
    result = []
    for cmd in re.finditer(r"([CH])([^CHML]*)", d):
        if cmd.group(1) == "H":
            end = (float(cmd.group(2)), start[1])
        else:
            end = tuple(map(float, cmd.group(2).split()[-1].split(",")))
        result.append((start, end))
        start = end
    return result


def crossings(paths: list[str]) -> int:
    """Count crossing pairs among the straight chords of the paths' segments."""
    pieces = [piece for d in paths for piece in segments(d)]

    def orient(a, b, c):
        v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
        return (v > 1e-9) - (v < -1e-9)

    def cross(s, t):
        (p1, p2), (q1, q2) = s, t
        return (
            orient(p1, p2, q1) * orient(p1, p2, q2) < 0
            and orient(q1, q2, p1) * orient(q1, q2, p2) < 0
        )

    return sum(cross(s, t) for i, s in enumerate(pieces) for t in pieces[i + 1 :])


def test_long_arrows_share_a_lane_per_source():
    # x is used by every step of Horner's rule: its arrows to later steps share one
    # track, so the file grows linearly, not quadratically, with the number of steps.
    def horner(steps):
        x = Value(0.5, label="x")
        acc = Value(1.0)
        for k in range(steps):
            acc = acc * x + k
        return acc

    small, big = len(draw(horner(20))), len(draw(horner(40)))
    assert big < 2.4 * small
    # Each arrow that leaves the shared track starts on it: on another arrow's path.
    root = parse(draw(horner(6)))
    paths = [p.get("d") for p in root.iter(f"{SVG}path") if p.get("class") == "bp-edge"]
    boxes = [box(g) for g in groups(root, "bp-value") + groups(root, "bp-op")]
    horizontals = []
    for d in paths:
        for (x0, y0), (x1, y1) in segments(d):
            if y0 == y1:
                horizontals.append((min(x0, x1), max(x0, x1), y0))
    branches = 0
    for d in paths:
        (x, y), _ = segments(d)[0]
        if any(abs(x - right) < 0.02 and top <= y <= bottom for _, top, right, bottom in boxes):
            continue  # starts at its source
        branches += 1
        assert any(a - 0.02 <= x <= b + 0.02 and abs(y - yy) < 0.02 for a, b, yy in horizontals)
    assert branches >= 3


# --- determinism ----------------------------------------------------------------------


def test_same_graph_same_bytes():
    assert draw(draft_graph()) == draw(draft_graph())  # two separately built graphs
    L = draft_graph()
    assert draw(L) == draw(L)


def test_independent_of_object_identity_and_hash_seed():
    # Build many graphs (different ids, different hash order of Values): same output.
    outputs = {draw(draft_graph()) for _ in range(5)}
    assert len(outputs) == 1


def test_regression_numbers_of_the_draft_graph():
    # A change here should be deliberate: the guide's first figure depends on it.
    root = parse(draw(draft_graph()))
    assert (root.get("width"), root.get("height")) == ("790", "170")


# --- errors and limits --------------------------------------------------------------


@pytest.mark.parametrize("bad", [1.0, "L", None, [Value(1.0)]])
def test_only_values_can_be_drawn(bad):
    with pytest.raises(TypeError, match="draw\\(\\) expects a backprop Value"):
        draw(bad)


def test_too_many_nodes():
    out = Value.sum([Value(float(i)) for i in range(30)])
    with pytest.raises(ValueError, match="31 values, more than max_nodes=20"):
        draw(out, max_nodes=20)
    assert draw(out, max_nodes=31).startswith("<svg")


def test_too_tangled():
    # Few values, but each used both next door and by a sum far to the right: the
    # long arrows would need about n^2 waypoints.
    chain = [Value(0.5)]
    for _ in range(60):
        chain.append(chain[-1].tanh())
    out = Value.sum(chain)
    with pytest.raises(ValueError, match=r"62 values, but so many long arrows .* 3660 waypoints"):
        draw(out, max_nodes=90)
    assert draw(out, max_nodes=92).startswith("<svg")  # 40 * 92 >= 3660


def test_default_limit_is_500():
    big = Value.sum([Value(float(i)) for i in range(500)])  # 501 values
    with pytest.raises(ValueError, match="max_nodes=500"):
        draw(big)


@pytest.mark.parametrize("rankdir", ["TB", "RL", "lr"])
def test_only_left_to_right(rankdir):
    with pytest.raises(ValueError, match="only 'LR'"):
        draw(Value(1.0), rankdir=rankdir)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"show_grad": 1}, TypeError, "show_grad"),
        ({"rankdir": None}, TypeError, "rankdir"),
        ({"title": 3}, TypeError, "title"),
        ({"max_nodes": 0}, ValueError, "max_nodes must be >= 1"),
        ({"max_nodes": 10.0}, TypeError, "max_nodes must be an int"),
        ({"max_nodes": True}, TypeError, "max_nodes must be an int"),
        ({"precision": -1}, ValueError, "precision must be between 0 and 12"),
        ({"precision": 13}, ValueError, "precision"),
        ({"precision": "4"}, TypeError, "precision"),
    ],
)
def test_option_validation(kwargs, error, match):
    with pytest.raises(error, match=match):
        draw(Value(1.0), **kwargs)


def test_options_are_keyword_only():
    with pytest.raises(TypeError):
        draw(Value(1.0), False)  # type: ignore[misc]


def test_deep_graph_does_not_recurse():
    import sys

    x = Value(0.1)
    for _ in range(400):  # 801 values: beyond the default limit, allowed explicitly
        x = x * 1.0001
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        svg = draw(x, max_nodes=1000)
    finally:
        sys.setrecursionlimit(limit)
    assert svg.count('class="bp-op"') == 400


def test_jupyter_repr_uses_draw():
    L = draft_graph()
    assert L._repr_svg_() == draw(L)


def test_a_label_that_is_not_a_string_is_shown_as_text():
    v = Value(1.0) * 2
    v.label = None  # Value's constructor checks labels, but attributes can be reassigned
    v._children[0].label = 42
    root = parse(draw(v))
    labels = {texts(g)[0] for g in groups(root, "bp-value")}
    assert "42" in labels


def test_every_engine_operation_has_a_symbol() -> None:
    """A new op in the engine must get a symbol here, or its node shows a clipped name."""
    import re
    import sys
    from pathlib import Path

    import backprop.scalar

    draw_module = sys.modules["backprop.draw"]
    source = Path(backprop.scalar.__file__).read_text("utf8")
    ops = set(re.findall(r"_node\([^\n]*,\s*\"([^\"]+)\"\)", source))
    assert {"+", "*", "exp", "tanh", "sum", "dot"} <= ops, ops
    assert ops <= set(draw_module._OPS), f"no symbol for {ops - set(draw_module._OPS)}"


def test_repr_svg_falls_back_to_text_for_a_graph_too_large_to_draw() -> None:
    total = Value(0.0)
    for i in range(600):
        total = total + Value(float(i))
    with pytest.raises(ValueError):
        draw(total)
    assert total._repr_svg_() is None


# --- show_flow: the backward pass written on the arrows --------------------------------

FLOW_TIP = re.compile(
    r"from (?P<out>.+) back to (?P<child>.+): upstream gradient (?P<up>\S+) "
    r"× local derivative (?P<local>\S+) = gradient (?P<product>\S+)$"
)
FLOW_TEXT = re.compile(r"^(?P<up>\S+) × \(?(?P<local>[^()\s]+)\)? = (?P<product>\S+)$")


def flows(svg: str) -> list[dict[str, object]]:
    """Every flow label: the numbers of its tooltip (full precision) and of its text."""
    result = []
    for g in groups(parse(svg), "bp-flow"):
        tip = FLOW_TIP.match(g.find(f"{SVG}title").text)
        text = FLOW_TEXT.match(texts(g)[0])
        assert tip and text, (g.find(f"{SVG}title").text, texts(g))
        result.append(
            {
                "out": tip["out"],
                "child": tip["child"],
                "exact": tuple(float(tip[k]) for k in ("up", "local", "product")),
                "shown": tuple(float(text[k]) for k in ("up", "local", "product")),
                "box": box(g),
            }
        )
    return result


def engine_flows(root: Value) -> list[tuple[str, str, float, float, float]]:
    """What backward() sends along each arrow child -> operation: (out, child, upstream,
    local, product), from the engine's own fields."""
    return [
        (v.label, c.label, v.grad, local, local * v.grad)
        for v in topological_order(root)
        for c, local in zip(v._children, v._local, strict=True)
    ]


def used_twice() -> tuple[Value, Value, Value]:
    """L = (a*b + a) * t with t = 0.7: a reaches L along two paths, and the upstream
    gradient at the top is not 1."""
    a, b, t = Value(3.0, label="a"), Value(-2.0, label="b"), Value(0.7, label="t")
    p = a * b
    p.label = "p"
    s = p + a
    s.label = "s"
    L = s * t
    L.label = "L"
    L.backward()
    return a, b, L


def test_flow_is_off_by_default():
    L = draft_graph()
    L.backward()
    assert draw(L) == draw(L, show_flow=False)
    assert "bp-flow" not in draw(L)


def test_flow_labels_of_the_draft_graph_match_the_engine():
    L = draft_graph()
    L.backward()
    shown = flows(draw(L, show_flow=True))
    expected = engine_flows(L)
    assert len(shown) == len(expected) == 6  # one label per arrow into an operation
    found = {(f["out"], f["child"]): f for f in shown}
    for out, child, up, local, product in expected:
        f = found[out, child]
        assert f["exact"] == (up, local, product)  # the tooltip: the engine's numbers
        assert f["shown"] == (up, local, product)  # small integers: shown exactly
    assert {k: found[k]["shown"] for k in [("e", "a"), ("e", "b"), ("L", "f")]} == {
        ("e", "a"): (-2.0, -3.0, 6.0),
        ("e", "b"): (-2.0, 2.0, -4.0),
        ("L", "f"): (1.0, 4.0, 4.0),
    }


def test_a_value_used_twice_gets_two_labels_that_add_up_to_its_gradient():
    a, b, L = used_twice()
    shown = flows(draw(L, show_flow=True))
    into_a = sorted((f["out"], f["exact"]) for f in shown if f["child"] == "a")
    assert [out for out, _ in into_a] == ["p", "s"]  # one label per use of a
    (_, (up_p, local_p, from_p)), (_, (up_s, local_s, from_s)) = into_a
    assert (up_p, local_p) == (0.7, b.data)  # via the product: upstream 0.7, local b
    assert (up_s, local_s) == (0.7, 1.0)  # via the sum: upstream 0.7, local 1
    assert from_p + from_s == a.grad == 0.7 * (b.data + 1)  # the two paths add up
    for f in shown:  # rounded text agrees with the exact tooltip
        for exact, text in zip(f["exact"], f["shown"], strict=True):
            assert text == pytest.approx(exact, abs=5e-5)


def test_flow_of_a_times_a_and_a_non_uniform_upstream_gradient():
    a = Value(3.0, label="a")
    sq = a * a
    sq.label = "sq"
    y = sq.tanh()
    y.label = "y"
    y.backward()
    shown = flows(draw(y, show_flow=True))
    into_a = [f["exact"] for f in shown if f["child"] == "a"]
    assert len(into_a) == 2
    upstream = 1 - math.tanh(9.0) ** 2
    assert all(up == sq.grad == pytest.approx(upstream) and local == 3.0 for up, local, _ in into_a)
    assert sum(product for *_, product in into_a) == a.grad
    boxes = [f["box"] for f in shown]
    assert not overlapping(boxes)


def test_flow_labels_show_rounded_numbers_without_trailing_zeros():
    x = Value(0.5, label="x")
    y = (2 * x).tanh()
    y.label = "y"
    y.backward()
    labels = [texts(g)[0] for g in groups(parse(draw(y, show_flow=True)), "bp-flow")]
    local = 1 - math.tanh(1.0) ** 2  # 0.41997...
    assert f"1 × {local:.2f} = {local:.2f}" in labels
    assert labels == [texts(g)[0] for g in groups(parse(draw(y, show_flow=True)), "bp-flow")]
    two_digits = [
        texts(g)[0] for g in groups(parse(draw(y, show_flow=True, precision=1)), "bp-flow")
    ]
    assert "1 × 0.4 = 0.4" in two_digits


def test_an_undefined_local_derivative_is_labelled_as_such():
    x = Value(0.0, label="x")
    root = x**0.5  # the slope of sqrt at 0 does not exist: the engine records None
    root.label = "r"
    y = root * 0.0  # no gradient has to flow through it, so backward() succeeds
    y.label = "y"
    y.backward()
    shown = {texts(g)[0] for g in groups(parse(draw(y, show_flow=True)), "bp-flow")}
    assert "0 × undefined" in shown


def overlapping(boxes: list[tuple[float, float, float, float]]) -> bool:
    return any(
        not (r1 <= l2 or r2 <= l1 or b1 <= t2 or b2 <= t1)
        for i, (l1, t1, r1, b1) in enumerate(boxes)
        for l2, t2, r2, b2 in boxes[i + 1 :]
    )


def tanh_from_parts() -> Value:
    """tanh(x) = (e**2x - 1) / (e**2x + 1): e feeds two operations in the same column."""
    x = Value(0.5, label="x")
    e = (2 * x).exp()
    e.label = "e"
    n, d = e - 1, e + 1
    n.label, d.label = "n", "d"
    t = n / d
    t.label = "t"
    t.backward()
    return t


@pytest.mark.parametrize("make", [draft_graph, lambda: used_twice()[2], tanh_from_parts])
def test_flow_labels_stay_clear_of_boxes_and_each_other_and_inside(make):
    root_value = make()
    root_value.backward()
    svg = draw(root_value, show_flow=True)
    root = parse(svg)
    width, height = float(root.get("width")), float(root.get("height"))
    labels = [box(g) for g in groups(root, "bp-flow")]
    nodes = [box(g) for g in groups(root, "bp-value") + groups(root, "bp-op")]
    assert labels and not overlapping(labels)
    for left, top, right, bottom in labels:
        assert 0 <= left < right <= width and 0 <= top < bottom <= height
        for n in nodes:
            assert not overlapping([(left, top, right, bottom), n])
    # The arrows still do not cross, and still end at their targets.
    edges = [p.get("d") for p in root.iter(f"{SVG}path") if p.get("class") == "bp-edge"]
    assert crossings(edges) == 0


def test_fanning_arrows_run_straight_under_and_over_their_labels():
    svg = draw(tanh_from_parts(), show_flow=True)
    root = parse(svg)
    shown = {(f["out"], f["child"]): f for f in flows(svg)}
    above, below = shown["n", "e"]["box"], shown["d", "e"]["box"]
    # e feeds n = e - 1 (drawn higher) and d = e + 1: the label of the arrow that turns
    # up sits above the straight stretch they share, the other one below it.
    assert above[3] < below[1]
    e_box = value_boxes(root)["e"]
    starts = [
        p.get("d")
        for p in root.iter(f"{SVG}path")
        if p.get("class") == "bp-edge" and p.get("d").startswith(f"M{e_box[2]:g},")
    ]
    assert len(starts) == 2
    for d in starts:
        straight_to = float(re.match(r"M[^ ]+ H(-?[\d.]+)", d).group(1))
        assert straight_to >= max(above[2], below[2])  # straight until past the labels


def test_flow_title_and_determinism():
    L = used_twice()[2]
    svg = draw(L, show_flow=True)
    title = parse(svg).find(f"{SVG}title").text
    assert title.startswith("Computation graph of L")
    assert "upstream gradient × local derivative" in title
    assert parse(svg).get("aria-label") == title
    assert svg == draw(used_twice()[2], show_flow=True)  # same graph, same bytes
    assert draw(L, show_flow=True, title="mine").count("<title>mine</title>") == 1


def test_flow_options_are_checked():
    with pytest.raises(TypeError, match="show_flow must be True or False"):
        draw(Value(1.0), show_flow=1)
    with pytest.raises(ValueError, match="needs show_grad=True"):
        draw(Value(1.0), show_grad=False, show_flow=True)


def test_flow_on_a_leaf_has_no_labels():
    assert "bp-flow" not in draw(Value(1.0, label="x"), show_flow=True)


# --- one moment of the backward pass: highlight= and grads= -----------------------------


def current(svg: str) -> list[ET.Element]:
    return groups(parse(svg), "bp-current")


def test_highlight_marks_the_node_its_operation_and_the_arrows_into_it():
    L = draft_graph()
    L.backward()
    d = L._children[0]
    svg = draw(L, highlight=d)
    marked = current(svg)
    classes = [g.get("class") for g in marked]
    assert "bp-value bp-current" in classes and "bp-op bp-current" in classes
    assert texts(next(g for g in marked if "bp-value" in g.get("class")))[0] == "d"
    assert svg.count('class="bp-edge bp-current"') == 2  # e -> +, c -> +
    assert svg.count('class="bp-arrow bp-current"') == 2
    assert "highlighted: d" in parse(svg).find(f"{SVG}title").text
    leaf = draw(L, highlight=L._children[1])  # f, a leaf: only its box
    assert [g.get("class") for g in current(leaf)] == ["bp-value bp-current"]
    assert draw(L, highlight=None) == draw(L)


def test_highlight_with_flow_labels_only_the_arrows_into_its_operation():
    L = draft_graph()
    L.backward()
    e = L._children[0]._children[0]
    labels = [texts(g)[0] for g in groups(parse(draw(L, show_flow=True, highlight=e)), "bp-flow")]
    assert labels == ["-2 × (-3) = 6", "-2 × 2 = -4"]


def test_grads_are_shown_instead_of_the_nodes_own_and_nothing_is_written():
    L = draft_graph()
    nodes = topological_order(L)
    a = nodes[0]
    svg = draw(L, grads={L: 1.0, a: 6.5})
    tips = {texts(g)[0]: g.find(f"{SVG}title").text for g in groups(parse(svg), "bp-value")}
    assert tips["L"].endswith("| grad 1.0") and tips["a"].endswith("| grad 6.5")
    assert tips["b"].endswith("| grad not computed yet")  # missing: no gradient yet
    shown = {texts(g)[0]: texts(g) for g in groups(parse(svg), "bp-value")}
    assert shown["a"][-2:] == ["grad", "6.5000"] and shown["b"][-2:] == ["grad", ""]  # empty
    assert all(v.grad == 0.0 for v in nodes)  # untouched
    flow = draw(L, show_flow=True, grads={L: 1.0})  # labels only where the upstream is known
    assert [texts(g)[0] for g in groups(parse(flow), "bp-flow")] == ["1 × (-2) = -2", "1 × 4 = 4"]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"highlight": Value(1.0)}, ValueError, "highlight must be a node of the graph"),
        ({"highlight": 1.0}, ValueError, "highlight must be a node of the graph"),
        ({"grads": [1.0]}, TypeError, "grads must be a mapping"),
        ({"grads": {Value(1.0): 1.0}}, ValueError, "not a node of the graph"),
        ({"grads": "x"}, TypeError, "grads must be a mapping"),
        ({"grads": {}, "show_grad": False}, ValueError, "needs show_grad=True"),
    ],
)
def test_highlight_and_grads_are_checked(kwargs, error, match):
    with pytest.raises(error, match=match):
        draw(draft_graph(), **kwargs)


def test_a_gradient_that_is_not_a_number_is_refused():
    L = draft_graph()
    with pytest.raises(TypeError, match=r"grads\[L\] must be a number, got str"):
        draw(L, grads={L: "1"})
    with pytest.raises(TypeError, match=r"grads\[L\] must be a number, got bool"):
        draw(L, grads={L: True})
