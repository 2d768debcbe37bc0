"""Tests for backprop.stepper: the backward pass one node at a time."""

from __future__ import annotations

import dataclasses
import math
import random
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from graphs import draft_graph
from test_deep_graph import tight_recursion_limit

from backprop import Value, draw, topological_order
from backprop.stepper import MAX_NODES, Step, backward_steps, stepper_html

SVG = "{http://www.w3.org/2000/svg}"


def used_twice() -> Value:
    """L = a*b + a: a fans out to two operations (page 6)."""
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    p = a * b
    p.label = "p"
    L = p + a
    L.label = "L"
    return L


def squared_unlabelled() -> Value:
    """tanh(x*x) - 3 * x, with unlabelled intermediates and a constant."""
    x = Value(0.5, label="x")
    return (x * x).tanh() - 3 * x


def random_graph(seed: int) -> Value:
    rng = random.Random(seed)
    pool = [Value(rng.uniform(-2, 2), label=f"x{i}") for i in range(rng.randint(1, 4))]
    for i in range(rng.randint(1, 12)):
        x, y = rng.choice(pool), rng.choice(pool)
        op = rng.choice(["+", "*", "-", "tanh", "sum"])
        if op == "+":
            v = x + y
        elif op == "*":
            v = x * y
        elif op == "-":
            v = x - y
        elif op == "tanh":
            v = x.tanh()
        else:
            v = Value.sum([x, y, rng.choice(pool)])
        v.label = f"v{i}" if rng.random() < 0.7 else ""
        pool.append(v)
    return pool[-1]


GRAPHS = {
    "draft": draft_graph,
    "used twice": used_twice,
    "unlabelled": squared_unlabelled,
    "leaf": lambda: Value(3.0, label="x"),
    **{f"random {s}": (lambda s=s: random_graph(s)) for s in range(12)},
}


def tips(svg: str) -> list[str]:
    """The tooltip of every value box, in the order drawn (the topological order)."""
    root = ET.fromstring(svg)
    return [
        g.find(f"{SVG}title").text
        for g in root.iter(f"{SVG}g")
        if "bp-value" in (g.get("class") or "").split()
    ]


def shown_grads(svg: str) -> list[float | None]:
    """The gradient each value box shows in full precision (its tooltip), None if none."""
    result = []
    for tip in tips(svg):
        match = re.search(r"\| grad (\S+)$", tip)
        result.append(None if "not computed yet" in tip else float(match.group(1)))
    return result


def flow_labels(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [
        g.find(f"{SVG}text").text
        for g in root.iter(f"{SVG}g")
        if "bp-flow" in (g.get("class") or "").split()
    ]


# --- the frames -----------------------------------------------------------------------


@pytest.mark.parametrize("make", GRAPHS.values(), ids=GRAPHS.keys())
def test_one_frame_per_node_in_reverse_topological_order(make) -> None:
    root = make()
    order = topological_order(root)
    steps = backward_steps(root)
    assert len(steps) == len(order) + 1
    assert steps[0].node == ""
    names = [step.node for step in steps[1:]]
    for v, name in zip(reversed(order), names, strict=True):
        assert name == (v.label or name)  # the label, when the node has one
    # Each frame highlights the node it processes: its box is the one marked bp-current.
    for k, v in enumerate(reversed(order), start=1):
        root_el = ET.fromstring(steps[k].svg)
        boxes = [g for g in root_el.iter(f"{SVG}g") if "bp-value" in (g.get("class") or "")]
        current = [i for i, g in enumerate(boxes) if "bp-current" in g.get("class").split()]
        assert current == [order.index(v)]  # boxes are drawn in topological order
    assert "bp-current" not in steps[0].svg


@pytest.mark.parametrize("make", GRAPHS.values(), ids=GRAPHS.keys())
def test_the_last_frame_shows_the_gradients_of_backward(make) -> None:
    root = make()
    steps = backward_steps(root)
    root.backward()
    engine = [v.grad for v in topological_order(root)]
    assert shown_grads(steps[-1].svg) == engine  # exactly, in full precision


@pytest.mark.parametrize("make", GRAPHS.values(), ids=GRAPHS.keys())
def test_nodes_not_reached_yet_show_no_gradient(make) -> None:
    root = make()
    order = topological_order(root)
    steps = backward_steps(root)
    assert shown_grads(steps[0].svg) == [None] * len(order)
    reached = {root}
    for k, node in enumerate(reversed(order), start=1):
        reached.update(node._children)
        shown = shown_grads(steps[k].svg)
        assert [g is not None for g in shown] == [v in reached for v in order]


@pytest.mark.parametrize("make", GRAPHS.values(), ids=GRAPHS.keys())
def test_edge_texts_are_upstream_times_local_equals_gradient(make) -> None:
    """Each frame writes the engine's numbers on the arrows into the node's operation:
    the same labels `draw(show_flow=True)` puts there after `backward()`."""
    root = make()
    order = topological_order(root)
    steps = backward_steps(root)
    root.backward()
    everything = draw(root, show_flow=True)
    expected = sorted(flow_labels(everything))
    seen = []
    for k, node in enumerate(reversed(order), start=1):
        labels = flow_labels(steps[k].svg)
        assert len(labels) == len(node._children)  # only the current node's arrows
        edges = steps[k].text.split("\n")[1:]
        assert len(edges) == len(node._children)
        for local, label, edge in zip(node._local, labels, edges, strict=True):
            assert f": {label}" in edge  # the text says what the arrow says
            up, rest = label.split(" × ")
            shown_local, product = rest.split(" = ")
            assert float(up) == pytest.approx(node.grad, abs=1e-4)
            assert float(shown_local.strip("()")) == pytest.approx(local, abs=1e-4)
            assert float(product) == pytest.approx(local * node.grad, abs=1e-4)
        seen.extend(labels)
    assert sorted(seen) == expected


def test_the_draft_graphs_steps_in_words() -> None:
    steps = backward_steps(draft_graph())
    assert [s.node for s in steps] == ["", "L", "f", "d", "c", "e", "b", "a"]
    assert "reverse topological order: L, f, d, c, e, b, a." in steps[0].text
    assert steps[1].text.split("\n")[1:] == [
        "to d: 1 × (-2) = -2; its gradient so far: -2",
        "to f: 1 × 4 = 4; its gradient so far: 4",
    ]
    assert "upstream × local = gradient" in steps[1].text
    assert "to a: -2 × (-3) = 6" in steps[5].text and "to b: -2 × 2 = -4" in steps[5].text
    assert "a leaf" in steps[7].text and "6" in steps[7].text


def test_contributions_to_a_value_used_twice_are_added_up() -> None:
    steps = backward_steps(used_twice())
    assert [s.node for s in steps] == ["", "L", "p", "b", "a"]
    assert "to a: 1 × 1 = 1; its gradient so far: 1" in steps[1].text
    assert "to a: 1 × (-3) = -3, added to the 1 it already had: 1 + (-3) = -2" in steps[2].text
    assert "its gradient, -2, is complete" in steps[4].text


def test_unlabelled_nodes_get_descriptive_names() -> None:
    names = [s.node for s in backward_steps(squared_unlabelled())]
    assert names[0] == "" and all(names[1:])
    assert round(math.tanh(0.5 * 0.5), 4) == 0.2449 and round(0.2449 - 3 * 0.5, 4) == -1.2551
    assert names[1:] == [
        "the − node (-1.2551)",  # the output, tanh(x*x) - 3*x
        "the × node (1.5)",
        "the constant 3",
        "the tanh node (0.2449)",
        "the × node (0.25)",
        "x",
    ]


def test_the_frames_share_one_layout() -> None:
    """Nothing moves from frame to frame: same size, same boxes, same label places."""
    steps = backward_steps(draft_graph())

    def geometry(svg: str) -> tuple:
        root = ET.fromstring(svg)
        rects = [
            (r.get("x"), r.get("y"), r.get("width"), r.get("height"))
            for r in root.iter(f"{SVG}rect")
        ]
        return root.get("width"), root.get("height"), rects

    size = geometry(steps[0].svg)[:2]
    assert all(geometry(s.svg)[:2] == size for s in steps)
    boxes = [geometry(s.svg)[2] for s in steps]
    value_rects = len(boxes[0])  # frame 0 has no labels: only the boxes and operations
    assert all(b[:value_rects] == boxes[0] for b in boxes)


# --- no side effects, no recursion ----------------------------------------------------


@pytest.mark.parametrize("make", GRAPHS.values(), ids=GRAPHS.keys())
def test_the_graph_is_left_as_it_was(make) -> None:
    root = make()
    nodes = topological_order(root)
    for k, v in enumerate(nodes):
        v.grad = 0.5 + k  # whatever a previous pass left
    before = [(v.data, v.grad, v.label) for v in nodes]
    steps = backward_steps(root)
    assert [(v.data, v.grad, v.label) for v in nodes] == before
    assert shown_grads(steps[1].svg)[-1] == 1.0  # the pass starts from scratch


def test_a_deep_chain_is_stepped_without_recursion() -> None:
    y = Value(0.3, label="x")
    for _ in range(MAX_NODES - 1):
        y = y.tanh()
    assert len(topological_order(y)) == MAX_NODES
    with tight_recursion_limit():
        steps = backward_steps(y)
    assert len(steps) == MAX_NODES + 1


# --- errors ---------------------------------------------------------------------------


def test_errors_are_those_of_backward() -> None:
    with pytest.raises(TypeError, match="expects a backprop Value, got float"):
        backward_steps(2.0)  # type: ignore[arg-type]
    big = Value.sum([Value(float(i)) for i in range(MAX_NODES)])
    with pytest.raises(ValueError, match=f"more than {MAX_NODES}"):
        backward_steps(big)
    base, exponent = Value(-2.0, label="base"), Value(2.0, label="n")
    power = base**exponent  # d/dn of (-2)**n does not exist
    with pytest.raises(ValueError, match="does not exist") as ours:
        backward_steps(power)
    with pytest.raises(ValueError, match="does not exist"):
        power.backward()
    assert "n" in str(ours.value)
    stopped = power * 0.0  # no gradient reaches the power: backward() and we go through
    stopped.backward()
    assert shown_grads(backward_steps(stopped)[-1].svg)[:2] == [base.grad, exponent.grad]


def test_step_is_a_frozen_dataclass_of_three_strings() -> None:
    assert [f.name for f in dataclasses.fields(Step)] == ["node", "svg", "text"]
    step = backward_steps(Value(1.0))[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.node = "x"  # type: ignore[misc]


# --- the HTML ---------------------------------------------------------------------------


class _Frames(HTMLParser):
    """The stepper's container and each frame's attributes, text and drawing count."""

    def __init__(self) -> None:
        super().__init__()
        self.container: dict[str, str | None] | None = None
        self.frames: list[dict[str, str | None]] = []
        self.svgs = 0
        self.text: list[str] = []
        self._in_svg = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if "data-stepper" in a and self.container is None:
            self.container = a
        if tag == "li" and "bp-stepper-frame" in (a.get("class") or ""):
            self.frames.append(a)
        if tag == "svg":
            self.svgs += 1
            self._in_svg += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._in_svg -= 1

    def handle_data(self, data: str) -> None:
        if not self._in_svg:
            self.text.append(data)


def test_the_html_holds_every_frame_in_order_without_javascript() -> None:
    root = draft_graph()
    steps = backward_steps(root)
    page = stepper_html(root, title="The <draft> graph")
    parser = _Frames()
    parser.feed(page)
    assert parser.container is not None
    assert parser.container["aria-label"] == "The <draft> graph"  # escaped, then unescaped
    assert "The &lt;draft&gt; graph" in page
    assert [f["data-node"] for f in parser.frames] == [s.node for s in steps]
    assert [f["data-step"] for f in parser.frames] == [str(k) for k in range(len(steps))]
    assert parser.svgs == len(steps)
    text = " ".join(" ".join(parser.text).split())
    for step in steps:
        assert step.svg in page
        for line in step.text.split("\n"):
            assert line in text
    assert page.index(steps[1].svg) < page.index(steps[2].svg)
    headings = re.findall(r'<p class="bp-stepper-heading">([^<]*)</p>', page)
    assert headings == ["Before the backward pass", *[s.node for s in steps[1:]]]
    assert "<ol" in page and "<script" not in page and "hidden" not in page


def test_stepper_html_checks_its_title() -> None:
    with pytest.raises(TypeError, match="title must be a str"):
        stepper_html(draft_graph(), title=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        stepper_html(draft_graph())  # type: ignore[call-arg]
