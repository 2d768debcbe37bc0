"""Draw a computation graph as SVG, in pure Python.

[`draw`][backprop.draw.draw] lays the graph out left to right, inputs on the left and
the output on the right, the way data flows in the forward pass (and gradients flow
back). Every `Value` is a blue box with its label, data and grad; every operation is a
small orange node of its own between its operands and its result.

The layout is the classic layered ("Sugiyama") recipe, small enough to read in one
sitting:

1. **Layers.** A node's column is the length of the longest path to it from the
   leaves, so every arrow points right. Leaves then move right to sit just before the
   first operation that uses them, instead of piling up in column 0.
2. **Virtual nodes.** An arrow that spans several columns gets an invisible waypoint
   in each column it crosses, so that it has a lane of its own there. The long arrows
   from one value share their lanes, like a bus that each leaves before its target.
3. **Order within columns.** Starting from the order in which a depth-first walk back
   from the output meets the nodes (operands top to bottom), sweeps left to right and
   right to left move each node to the mean position of its neighbours in the previous
   column (the *barycenter* heuristic), keeping the order with the fewest crossings.
4. **Coordinates.** Each node is pulled towards the (weighted) mean height of its
   neighbours, and overlaps in a column are then removed with the least total movement
   (pool adjacent violators, an isotonic regression), for a few alternating passes.
   A result is pulled hardest towards its operation, so the two end up level.

The output is deterministic (the same graph gives the same bytes), needs no fonts or
requests from the web, and uses fixed colours: filled boxes with dark text, and grey
arrows that read on light and dark backgrounds alike. The colours are presentation
attributes, and the parts carry `bp-` classes (`bp-draw` on the `<svg>`, `bp-value`
and `bp-root` on value boxes, `bp-op` on operations, `bp-edge` and `bp-arrow` on
arrows, `bp-label`, `bp-key` and `bp-num` on texts, `bp-flow` on the labels of
`show_flow`), so a page's stylesheet can restyle them; no `<style>` element leaks into
the page.

With `show_flow=True` the drawing shows the whole backward pass, in the style of
CS231n's circuit diagrams: every arrow from an operand into an operation is labelled
`upstream × local = gradient`, the gradient of the operation's result (`node.grad`),
the local derivative of the result with respect to that operand (`node._local[i]`),
and their product, which is what the backward pass adds to the operand's `.grad`. A
value used by several operations gets one label per use, and its `.grad` is the sum of
their products.

Two more options draw one moment of the backward pass, as the step-through of
[`backprop.stepper`][backprop.stepper.backward_steps] does: `grads` gives the gradients
to show instead of the nodes' own (a value missing from it shows none yet), and
`highlight` marks the node being processed, its operation and the arrows into it (class
`bp-current`); with `show_flow=True` only those arrows are then labelled.

```python
import xml.etree.ElementTree as ET

from backprop import Value, draw

a, b = Value(2.0, label="a"), Value(-3.0, label="b")
e = a * b
e.label = "e"
e.backward()
svg = draw(e)
root = ET.fromstring(svg)  # well-formed XML
assert root.get("role") == "img"
assert "data" in svg and "-3.0000" in svg and "×" in svg
assert svg == draw(e)  # deterministic
```
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from bisect import bisect_right, insort
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from backprop.scalar import Value

__all__ = ["draw"]

# --- style --------------------------------------------------------------------------
# Fixed colours: text always sits on a light fill, and the arrows' mid grey has enough
# contrast on white and on dark themes, so the figure needs no light/dark variants.
_EDGE = "#808a9b"
_VALUE_FILL = "#eaf2ff"
_LABEL_FILL = "#d3e3fc"
_VALUE_STROKE = "#3d78d6"
_VALUE_TEXT = "#0c2a52"
_KEY_TEXT = "#4f6488"
_OP_FILL = "#ffe5c4"
_OP_STROKE = "#e08214"
_OP_TEXT = "#5a2f00"
_MONO = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace"
_SANS = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif"

# --- geometry (px). Text widths are estimated: monospace digits are 0.6 em wide. ----
_FONT = 12.0  # data and grad
_LABEL_FONT = 12.5  # labels, bold
_OP_FONT = 13.0
_CHAR = 0.6 * _FONT
_LABEL_CHAR = 0.6 * _LABEL_FONT
_PAD = 8.0  # inside boxes
_ROW = 17.0  # height of one text row in a box
_OP_RY = 13.0  # half height of an operation node
_COL_GAP = 28.0  # between columns
_ROW_GAP = 14.0  # between nodes of a column
_LANE_GAP = 7.0  # around a virtual node (a lane for a long arrow)
_LANE_H = 4.0
_MARGIN = 8.0
_ARROW = 8.0  # arrowhead length
_FAN_IN = 8.0  # distance between arrows arriving at an operation
_MAX_LABEL = 24  # characters; longer labels are shortened with "…"
_LANES_PER_NODE = 40  # at most this many lanes (waypoints of long arrows) per max_nodes

# The engine's operation names: the symbol drawn and the name in the tooltip.
_OPS = {
    "+": ("+", "addition"),
    "-": ("−", "subtraction"),
    "*": ("×", "multiplication"),
    "/": ("÷", "division"),
    "**": ("**", "power"),
    "exp": ("exp", "exponential"),
    "log": ("log", "natural logarithm"),
    "tanh": ("tanh", "hyperbolic tangent"),
    "sigmoid": ("σ", "sigmoid"),
    "relu": ("ReLU", "rectified linear unit"),
    "softplus": ("softplus", "softplus, log(1 + exp(x))"),
    "logsumexp": ("LSE", "log-sum-exp"),
    "sum": ("Σ", "sum"),
    "dot": ("dot", "dot product"),
}

# Labels of show_flow: dark red on a pale fill (gradients flow backwards), readable on
# light and dark pages alike.
_FLOW_FONT = 11.0
_FLOW_CHAR = 0.6 * _FLOW_FONT
_FLOW_PAD = 4.0  # inside a label, left and right
_FLOW_H = 15.0  # height of a label
_FLOW_OFF = 3.0  # between a label and its arrow
_FAN_CURVE = 36.0  # room for the bend of fanning arrows, after their straight start
_FLOW_FILL = "#fff0ec"
_FLOW_STROKE = "#e8a898"
_FLOW_TEXT = "#8a1d0c"

# The node being processed (highlight=): a strong orange-red outline, and its arrows.
_CURRENT = "#e4572e"


def draw(
    value: Value,
    *,
    show_grad: bool = True,
    show_flow: bool = False,
    rankdir: str = "LR",
    title: str | None = None,
    max_nodes: int = 500,
    precision: int = 4,
    highlight: Value | None = None,
    grads: Mapping[Value, float] | None = None,
) -> str:
    """Draw the computation graph that produced `value` as an SVG string.

    Args:
        value: The output node; the drawing shows every `Value` it depends on.
        show_grad: Show each node's `.grad` under its `.data`.
        show_flow: Label every arrow from an operand into an operation with
            `upstream × local = gradient`: the operation's output gradient, the local
            derivative for that operand, and their product (the operand's share of the
            backward pass). Needs `show_grad=True`. Call `backward()` first: before it,
            every gradient is 0.
        rankdir: Direction of the layout; only `"LR"` (left to right) is supported.
        title: Accessible title (`<title>` and `aria-label`, shown as a tooltip); by
            default it names the output and counts the nodes.
        max_nodes: Refuse graphs with more `Value`s than this (or whose long arrows
            need more than 40 × `max_nodes` waypoints): they would be unreadable, and
            slow to lay out.
        precision: Digits after the decimal point of data and grad (numbers of
            magnitude `>= 1e5` or `< 1e-3` use scientific notation).
        highlight: A node of the graph to mark as the one being processed: its box, its
            operation and the arrows into that operation are outlined (class
            `bp-current`), and with `show_flow=True` only those arrows are labelled.
        grads: The gradient to show for each value instead of its `.grad` (and to use as
            the upstream gradient of `show_flow`'s labels); a value missing from it shows
            no gradient yet. Nothing is written to the nodes.

    Returns:
        The markup of an `<svg>` element, with `width`, `height` and `viewBox` set and
        `style="max-width:100%;height:auto"`, so it scales down to fit its container.
        Inline it in HTML or save it as a `.svg` file.

    Raises:
        TypeError: If `value` is not a `Value` or an option has the wrong type.
        ValueError: If the graph is too big for `max_nodes`, `rankdir` is not `"LR"`,
            `max_nodes` or `precision` is out of range, `show_flow` or `grads` is asked
            for without `show_grad`, or `highlight` or a key of `grads` is not a node of
            the graph.

    ```python
    from backprop import Value, draw

    x = Value(0.5, label="x")
    y = (2 * x).tanh()
    y.label = "y"
    svg = draw(y, show_grad=False, title="y = tanh(2x)")
    assert svg.startswith("<svg") and "<title>y = tanh(2x)</title>" in svg
    assert "grad" not in svg and svg.count('class="bp-op"') == 2  # × and tanh

    y.backward()
    flow = draw(y, show_flow=True)
    assert flow.count('class="bp-flow"') == 3  # one label per arrow into an operation
    assert ">1 × 0.42 = 0.42<" in flow  # into tanh: dy/dy = 1, times 1 - tanh(1)**2
    ```
    """
    from backprop.scalar import Value

    if not isinstance(value, Value):
        raise TypeError(f"draw() expects a backprop Value, got {type(value).__name__}")
    if not isinstance(show_grad, bool):
        raise TypeError(f"show_grad must be True or False, got {show_grad!r}")
    if not isinstance(show_flow, bool):
        raise TypeError(f"show_flow must be True or False, got {show_flow!r}")
    if show_flow and not show_grad:
        raise ValueError("show_flow=True labels the arrows with gradients: it needs show_grad=True")
    if not isinstance(rankdir, str):
        raise TypeError(f"rankdir must be a str, got {type(rankdir).__name__}")
    if rankdir != "LR":
        raise ValueError(f"rankdir={rankdir!r} is not supported; only 'LR' (left to right) is")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {type(title).__name__}")
    for name, option, low, high in (
        ("max_nodes", max_nodes, 1, None),
        ("precision", precision, 0, 12),
    ):
        if isinstance(option, bool) or not isinstance(option, int):
            raise TypeError(f"{name} must be an int, got {type(option).__name__}")
        if option < low or (high is not None and option > high):
            bounds = f">= {low}" if high is None else f"between {low} and {high}"
            raise ValueError(f"{name} must be {bounds}, got {option}")

    values = _values(value, max_nodes)
    members = set(values)
    if highlight is not None and (not isinstance(highlight, Value) or highlight not in members):
        raise ValueError("highlight must be a node of the graph being drawn (or None)")
    grad_of = None
    if grads is not None:
        if not show_grad:
            raise ValueError("grads gives the gradients to show: it needs show_grad=True")
        grad_of = _checked_grads(grads, members).get
    graph = _build(
        values,
        show_grad,
        precision,
        max_lanes=_LANES_PER_NODE * max_nodes,
        flow=show_flow,
        grad_of=grad_of,
        flow_into=highlight,
    )
    _order(graph)
    _place(graph)
    if show_flow:
        _place_flows(graph)
    n_ops = sum(1 for node in graph.nodes if node.kind == "op")
    if title is None:
        name = _clean(str(value.label or "")) or "a Value"
        title = (
            f"Computation graph of {name}: {len(values)} "
            f"{'value' if len(values) == 1 else 'values'}, {n_ops} "
            f"{'operation' if n_ops == 1 else 'operations'}"
        )
        if show_flow:
            title += (
                "; each arrow into an operation is labelled upstream gradient × local "
                "derivative = the gradient sent back along it"
            )
        if highlight is not None:
            title += f"; highlighted: {_name(highlight)}"
    return _render(graph, title, current=highlight)


def _values(value: Value, max_nodes: int) -> list[Value]:
    """The nodes of `value`'s graph in topological order, or an error if too many."""
    from backprop.scalar import topological_order

    values = topological_order(value)
    if len(values) > max_nodes:
        raise ValueError(
            f"the graph has {len(values)} values, more than max_nodes={max_nodes}: "
            "too many to draw readably. Draw a smaller expression (a single neuron "
            "rather than a whole network), or raise max_nodes."
        )
    return values


def _checked_grads(grads: object, members: set[Value]) -> dict[Value, float]:
    """`grads` as a dict of floats, checked: every key a node of the graph."""
    from collections.abc import Mapping

    if not isinstance(grads, Mapping):
        raise TypeError(
            f"grads must be a mapping from Values to numbers, got {type(grads).__name__}"
        )
    checked = {}
    for v, g in grads.items():
        if v not in members:
            raise ValueError(f"grads has a key that is not a node of the graph: {v!r}")
        if isinstance(g, bool) or not isinstance(g, int | float):
            raise TypeError(f"grads[{_name(v)}] must be a number, got {type(g).__name__}")
        checked[v] = float(g)
    return checked


def _frames(
    value: Value,
    frames: Sequence[tuple[Value | None, Mapping[Value, float]]],
    final: Mapping[Value, float],
    titles: Sequence[str],
    precision: int = 4,
    max_nodes: int = 500,
) -> list[str]:
    """One drawing per moment of a backward pass, all with the same layout.

    Each frame is `(highlight, grads)`, drawn as `draw(value, show_flow=True,
    highlight=..., grads=...)` would, except that every frame keeps the layout of the
    whole pass: room is made for the labels of every arrow (those of `final`, the
    gradients at the end, which are the ones shown when an arrow is labelled) and for
    the widest number of any frame, so nothing moves from one frame to the next.
    """
    values = _values(value, max_nodes)
    widest = max(
        (_text_units(_format(g, precision)) for _, grads in frames for g in grads.values()),
        default=0.0,
    )
    graph = _build(
        values,
        True,
        precision,
        max_lanes=_LANES_PER_NODE * max_nodes,
        flow=True,
        grad_of=final.get,
        widest=widest,
    )
    _order(graph)
    _place(graph)
    _place_flows(graph)
    out = []
    for (highlight, grads), title in zip(frames, titles, strict=True):
        for v, i in graph.index.items():
            graph.nodes[i].texts = _value_texts(v, True, precision, grads.get(v))
        out.append(_render(graph, title, current=highlight, only_current=True))
    return out


# --- the graph to lay out -------------------------------------------------------------


@dataclass
class _Node:
    kind: str  # "value", "op" or "lane" (a virtual node on a long arrow)
    col: int = 0
    width: float = 0.0
    height: float = 0.0
    x: float = 0.0  # centre
    y: float = 0.0  # centre
    label_width: float = 0.0  # of a value box's label cell (0: no label)
    texts: dict[str, str] = field(default_factory=dict)
    up: list[int] = field(default_factory=list)  # neighbours in the column to the left
    down: list[int] = field(default_factory=list)  # neighbours in the column to the right


@dataclass
class _Graph:
    nodes: list[_Node]
    arrows: list[list[int]]  # each a path of node indices, lanes in between
    columns: list[list[int]]  # node indices, top to bottom
    root: int
    rows: int  # text rows in a value box (data, grad)
    column_widths: list[float] = field(default_factory=list)
    # show_flow: per arrow, its label and tooltip (None for operation -> result arrows),
    # and, once placed, each label's box (left, top, width, height).
    flows: list[tuple[str, str] | None] = field(default_factory=list)
    flow_boxes: dict[int, tuple[float, float, float, float]] = field(default_factory=dict)
    runs: dict[int, float] = field(default_factory=dict)  # straight start of a fanning arrow
    index: dict[Value, int] = field(default_factory=dict)  # each Value's box
    op_of: dict[Value, int] = field(default_factory=dict)  # each non-leaf Value's operation


def _build(
    values: list[Value],
    show_grad: bool,
    precision: int,
    max_lanes: int,
    flow: bool = False,
    grad_of: Callable[[Value], float | None] | None = None,
    flow_into: Value | None = None,
    widest: float = 0.0,
) -> _Graph:
    """Make the value and operation nodes, assign columns, add lanes.

    `grad_of` gives the gradient shown for a value (None: none yet; by default its
    `.grad`); with `flow_into`, only the arrows into that value's operation are labelled;
    `widest` is the least width of the numbers, in characters.
    """
    if grad_of is None:
        grad_of = _own_grad
    nodes: list[_Node] = []
    index: dict[Value, int] = {}  # Value -> its node (Values hash by identity)
    op_of: dict[Value, int] = {}  # non-leaf Value -> its operation node
    edges: list[tuple[int, int]] = []
    flows: list[tuple[str, str] | None] = []
    for v in values:
        if v._children:
            op = len(nodes)
            nodes.append(_Node("op", texts=_op_texts(v._op, len(v._children))))
            op_of[v] = op
            nodes[op].col = 1 + max(nodes[index[c]].col for c in v._children)
            edges.extend((index[c], op) for c in v._children)
            edges.append((op, len(nodes)))
            if flow:
                upstream = grad_of(v) if flow_into is None or v is flow_into else None
                flows.extend(
                    None if upstream is None else _flow_texts(v, child, local, precision, upstream)
                    for child, local in zip(v._children, v._local, strict=True)
                )
                flows.append(None)
        index[v] = len(nodes)
        nodes.append(_Node("value", texts=_value_texts(v, show_grad, precision, grad_of(v))))
        nodes[-1].col = nodes[op_of[v]].col + 1 if v._children else 0
    # Leaves move right, next to their first consumer.
    first_use: dict[int, int] = {}
    for src, dst in edges:
        if nodes[src].kind == "value":
            first_use[src] = min(first_use.get(src, nodes[dst].col), nodes[dst].col)
    for v in values:
        i = index[v]
        if not v._children and i in first_use:
            nodes[i].col = first_use[i] - 1

    # Sizes. The data/grad part of every box has the same width, so that the numbers
    # line up like in a table; a box with a label has a cell for it on the left.
    rows = 2 if show_grad else 1
    digits = max(
        widest,
        max(_text_units(n.texts[k]) for n in nodes if n.kind == "value" for k in ("data", "grad")),
    )
    numbers_width = 2 * _PAD + (4 + 1.5 + digits) * _CHAR
    fan_in = [0] * len(nodes)
    for _, dst in edges:
        fan_in[dst] += 1
    for i, node in enumerate(nodes):
        if node.kind == "value":
            units = _text_units(node.texts["label"])
            node.label_width = max(2 * _PAD + units * _LABEL_CHAR, 26.0) if units else 0.0
            node.width, node.height = node.label_width + numbers_width, rows * _ROW + 8
        else:
            # A pill, as tall as its incoming arrows need (a circle for one or two).
            text_width = _text_units(node.texts["symbol"]) * 0.62 * _OP_FONT
            node.width = max(2 * _OP_RY, text_width + 16)
            node.height = max(2 * _OP_RY, (fan_in[i] - 1) * _FAN_IN + 12)

    # An arrow spanning several columns gets a lane (a virtual node) in each column it
    # crosses. The long arrows from one node share their lanes, like a bus that each
    # leaves just before its target: a value used all over a graph adds one track,
    # not one per use.
    def link(a: int, b: int) -> None:
        nodes[a].down.append(b)
        nodes[b].up.append(a)

    reach: dict[int, int] = {}  # source -> the column of its farthest target
    for src, dst in edges:
        reach[src] = max(reach.get(src, 0), nodes[dst].col)
    lanes = sum(col - nodes[src].col - 1 for src, col in reach.items())
    if lanes > max_lanes:
        raise ValueError(
            f"the graph has only {len(values)} values, but so many long arrows (values "
            f"used far from where they are computed) that the layout would need {lanes} "
            f"waypoints, more than {_LANES_PER_NODE} × max_nodes: too tangled to draw "
            "readably. Draw a smaller expression, or raise max_nodes."
        )
    trunks: dict[int, list[int]] = {}  # source -> its lanes, column by column
    arrows = []
    for src, dst in edges:
        trunk = trunks.setdefault(src, [])
        start = nodes[src].col + 1
        while start + len(trunk) < nodes[dst].col:
            trunk.append(len(nodes))
            nodes.append(_Node("lane", col=start + len(trunk) - 1, height=_LANE_H))
            link(trunk[-2] if len(trunk) > 1 else src, trunk[-1])
        path = [src, *trunk[: nodes[dst].col - start], dst]
        link(path[-2], dst)
        arrows.append(path)
    columns: list[list[int]] = [[] for _ in range(max(n.col for n in nodes) + 1)]
    for i, node in enumerate(nodes):
        columns[node.col].append(i)
    graph = _Graph(nodes, arrows, columns, index[values[-1]], rows, flows=flows)
    graph.index, graph.op_of = index, op_of
    return graph


def _own_grad(v: Value) -> float:
    return v.grad


def _value_texts(v: Value, show_grad: bool, precision: int, grad: float | None) -> dict[str, str]:
    """The texts of a value's box; `grad` is the gradient shown (None: none yet)."""
    label = _clean(str(v.label or ""))
    if len(label) > _MAX_LABEL:
        label = label[: _MAX_LABEL - 1] + "…"
    data = _format(v.data, precision)
    shown = "" if grad is None else _format(grad, precision)
    tip = f"{_clean(str(v.label or '')) or 'Value'} | data {v.data!r}"
    if show_grad:
        tip += " | grad not computed yet" if grad is None else f" | grad {grad!r}"
    return {"label": label, "data": data, "grad": shown if show_grad else "", "tip": tip}


def _flow_texts(
    out: Value, child: Value, local: float | None, precision: int, g: float
) -> tuple[str, str]:
    """The label of the arrow child -> out's operation, and its tooltip.

    The label reads `upstream × local = gradient`: `g` (the gradient of `out`),
    `d out / d child`, and their product, computed exactly as `backward()` computes it
    (`local * g`).
    """
    up = _compact(g, precision)
    names = f"from {_name(out)} back to {_name(child)}"
    if local is None:
        return f"{up} × undefined", (
            f"{names}: upstream gradient {g!r} × a local derivative that does not exist here"
        )
    product = local * g
    shown = _compact(local, precision)
    if shown.startswith("-"):
        shown = f"({shown})"
    tip = f"{names}: upstream gradient {g!r} × local derivative {local!r} = gradient {product!r}"
    return f"{up} × {shown} = {_compact(product, precision)}", tip


def _name(v: Value) -> str:
    return _clean(str(v.label or "")) or "an unnamed value"


def _op_texts(op: str, operands: int) -> dict[str, str]:
    op = _clean(op) or "?"
    symbol, name = _OPS.get(op, (op if len(op) <= 8 else op[:7] + "…", "operation"))
    if op == "-" and operands == 1:
        name = "negation"
    return {"symbol": symbol, "tip": f"{name} ({op})"}


# --- order within columns -----------------------------------------------------------


def _order(graph: _Graph) -> None:
    """Order each column to reduce crossings (barycenter sweeps); keep the best order."""
    nodes, columns = graph.nodes, graph.columns
    # Start from the order of a depth-first walk back from the output: operands of an
    # operation come out top to bottom in the order they were written.
    seen = [False] * len(nodes)
    rank = [0] * len(nodes)
    stack = [graph.root]
    counter = 0
    while stack:
        i = stack.pop()
        if seen[i]:
            continue
        seen[i] = True
        rank[i] = counter
        counter += 1
        stack.extend(j for j in reversed(nodes[i].up) if not seen[j])
    for column in columns:
        column.sort(key=rank.__getitem__)

    position = [0.0] * len(nodes)

    def number(column: list[int]) -> None:
        for p, i in enumerate(column):
            position[i] = p

    for column in columns:
        number(column)

    best = [list(c) for c in columns]
    best_crossings = _crossings(graph, position)
    stale = 0
    for sweep in range(32):
        forward = sweep % 2 == 0
        order = range(1, len(columns)) if forward else range(len(columns) - 2, -1, -1)
        for c in order:
            column = columns[c]

            def barycenter(i: int, forward: bool = forward) -> float:
                neighbours = nodes[i].up if forward else nodes[i].down
                if not neighbours:
                    return position[i]
                return sum(position[j] for j in neighbours) / len(neighbours)

            column.sort(key=barycenter)  # stable: ties keep their order
            number(column)
        crossings = _crossings(graph, position)
        if crossings < best_crossings:
            best, best_crossings, stale = [list(c) for c in columns], crossings, 0
        else:
            stale += 1
            if stale >= 4 or best_crossings == 0:
                break
    graph.columns[:] = best


def _crossings(graph: _Graph, position: list[float]) -> int:
    """The number of pairs of crossing arrow segments between adjacent columns."""
    total = 0
    for column in graph.columns[:-1]:
        segments = sorted((position[i], position[j]) for i in column for j in graph.nodes[i].down)
        ends: list[float] = []
        for _, end in segments:  # count earlier segments that end lower
            total += len(ends) - bisect_right(ends, end)
            insort(ends, end)
    return total


# --- coordinates --------------------------------------------------------------------


def _place(graph: _Graph) -> None:
    """Give every node its centre (x, y)."""
    nodes, columns = graph.nodes, graph.columns
    x = _MARGIN
    graph.column_widths = [max(nodes[i].width for i in column) for column in columns]
    # The gap before a column: wide enough for the flow labels of the arrows that end
    # there (they sit on the last piece of their arrow, in that gap). Arrows that leave
    # one point for the same column may fan out: they get a straight start as long as
    # their labels before they bend (see _place_flows), so their gap is wider still.
    gap_before = [_COL_GAP] * len(columns)
    shared = _flow_groups(graph)
    for k, flow in enumerate(graph.flows):
        if flow is not None:
            path = graph.arrows[k]
            needed = _flow_width(flow[0]) + 2 * _FLOW_OFF + _ARROW
            if len(shared[path[-2], nodes[path[-1]].col]) > 1:
                needed += _FAN_CURVE
            col = nodes[path[-1]].col
            gap_before[col] = max(gap_before[col], needed)
    for c, (column, width) in enumerate(zip(columns, graph.column_widths, strict=True)):
        if c:
            x += gap_before[c]
        for i in column:
            nodes[i].x = x + width / 2
        x += width

    def gaps(column: list[int]) -> list[float]:
        """Minimum distances between the centres of consecutive nodes."""
        result = []
        for a, b in pairwise(column):
            real = nodes[a].kind != "lane" and nodes[b].kind != "lane"
            gap = _ROW_GAP if real else _LANE_GAP
            result.append((nodes[a].height + nodes[b].height) / 2 + gap)
        return result

    separations = [gaps(column) for column in columns]
    y = [0.0] * len(nodes)
    for column, sep in zip(columns, separations, strict=True):
        offset = 0.0
        for k, i in enumerate(column):
            y[i] = offset
            offset += sep[k] if k < len(sep) else 0.0
        for i in column:
            y[i] -= offset / 2

    # The weighted neighbours of every node on each side, worked out once.
    def weighted(i: int, side: list[int]) -> tuple[list[int], list[float], float, float]:
        weights = [_weight(nodes[i], nodes[j]) for j in side]
        return side, weights, sum(weights), max(weights, default=0.0)

    up = [weighted(i, node.up) for i, node in enumerate(nodes)]
    down = [weighted(i, node.down) for i, node in enumerate(nodes)]

    def relax(c: int, forward: bool) -> None:
        """Move column c's nodes towards their neighbours on one side (left if
        `forward`; the other side for nodes with none there), as far as the gaps
        between them allow."""
        column = columns[c]
        wanted, priority = [], []
        for i in column:
            first, second = (up[i], down[i]) if forward else (down[i], up[i])
            if first[0]:
                neighbours, weights, total, top = first
                priority.append(top)
            elif second[0]:
                # No neighbour on this side (a leaf, in a left-to-right sweep): follow
                # the other side, but give way to the nodes that have one.
                neighbours, weights, total, _ = second
                priority.append(0.01)
            else:
                wanted.append(y[i])
                priority.append(0.01)
                continue
            if len(neighbours) == 1:  # most nodes, and every lane
                wanted.append(y[neighbours[0]])
            else:
                pulls = zip(weights, neighbours, strict=True)
                wanted.append(sum(w * y[j] for w, j in pulls) / total)
        for i, new in zip(column, _spread(wanted, priority, separations[c]), strict=True):
            y[i] = new

    # Alternate sweeps until nothing moves by more than a pixel; the last one goes
    # left to right, so that every result ends up level with its operation and every
    # operation between its operands.
    for _ in range(8):
        before = list(y)
        for c in range(len(columns) - 2, -1, -1):
            relax(c, forward=False)
        for c in range(len(columns)):
            relax(c, forward=True)
        if max(abs(a - b) for a, b in zip(y, before, strict=True)) < 1.0:
            break

    top = min(y[i] - node.height / 2 for i, node in enumerate(nodes))
    for i, node in enumerate(nodes):
        node.y = y[i] + _MARGIN - top


def _flow_width(text: str) -> float:
    return _text_units(text) * _FLOW_CHAR + 2 * _FLOW_PAD


def _flow_groups(graph: _Graph) -> dict[tuple[int, int], list[int]]:
    """The labelled arrows by where their last piece starts (a value or a lane) and the
    column they end in."""
    groups: dict[tuple[int, int], list[int]] = {}
    for k, flow in enumerate(graph.flows):
        if flow is not None:
            path = graph.arrows[k]
            groups.setdefault((path[-2], graph.nodes[path[-1]].col), []).append(k)
    return groups


def _last_piece(graph: _Graph, path: list[int], tip: tuple[float, float]) -> tuple[float, ...]:
    """(x0, y0, x1, y1): the last piece of an arrow, from its source or its last lane to
    the base of its arrowhead."""
    nodes = graph.nodes
    before = nodes[path[-2]]
    if before.kind == "lane":
        x0 = before.x + graph.column_widths[before.col] / 2
    else:
        x0 = before.x + before.width / 2
    return x0, before.y, tip[0] - _ARROW, tip[1]


def _place_flows(graph: _Graph) -> None:
    """Place the label of every arrow into an operation on the last piece of the arrow,
    where it starts, on the side its S-curve bends away from: above an arrow that runs
    level or downwards, below one that runs upwards.

    Arrows whose last pieces start at the same point (a value used by two operations of
    the next column, or `a * a`) are placed together. If they all bend the same way,
    their labels stack outwards on the other side. If they fan out, they run straight
    together for the length of their labels before they bend: the labels of the arrows
    that turn up sit above that stretch, the others below it. If a label sticks out at
    the top, the whole drawing moves down.
    """
    arrivals = _arrivals(graph)
    boxes: dict[int, tuple[float, float, float, float]] = {}
    step = _FLOW_H + 2
    for members in _flow_groups(graph).values():
        x0, y0, _, _ = _last_piece(graph, graph.arrows[members[0]], arrivals[members[0]])
        ends = sorted((arrivals[k][1], k) for k in members)
        up = [k for y1, k in ends if y1 < y0 - 0.05][::-1]  # nearest to the start first
        down = [k for y1, k in ends if y1 >= y0 - 0.05]
        tops = {}
        if up and down:  # a fan: a straight stretch, labels above and below it
            run = max(_flow_width(graph.flows[k][0]) for k in members) + 2 * _FLOW_OFF  # type: ignore[index]
            graph.runs.update((k, run) for k in members)
            tops.update((k, y0 - _FLOW_OFF - _FLOW_H - n * step) for n, k in enumerate(up))
            tops.update((k, y0 + _FLOW_OFF + n * step) for n, k in enumerate(down))
        elif down:  # all level or downwards: above the start, the first one nearest
            tops.update((k, y0 - _FLOW_OFF - _FLOW_H - n * step) for n, k in enumerate(down))
        else:  # all upwards: below the start
            tops.update((k, y0 + _FLOW_OFF + n * step) for n, k in enumerate(up))
        for k, top in tops.items():
            text = graph.flows[k][0]  # type: ignore[index]
            boxes[k] = (x0 + _FLOW_OFF, top, _flow_width(text), _FLOW_H)
    highest = min((top for _, top, _, _ in boxes.values()), default=_MARGIN)
    if highest < _MARGIN:
        shift = _MARGIN - highest
        for node in graph.nodes:
            node.y += shift
        boxes = {k: (x, y + shift, w, h) for k, (x, y, w, h) in boxes.items()}
    graph.flow_boxes = boxes


def _weight(a: _Node, b: _Node) -> float:
    """How strongly two neighbours want to be level: an operation and its result, and
    the pieces of a long arrow, much more than operands and their operation."""
    if {a.kind, b.kind} == {"op", "value"} and (a.kind == "op") == (a.col < b.col):
        return 8.0  # operation -> result
    if a.kind == "lane" or b.kind == "lane":
        return 4.0
    return 1.0


def _spread(wanted: list[float], weights: list[float], gaps: list[float]) -> list[float]:
    """Positions closest to `wanted` that keep consecutive ones at least `gaps` apart.

    "Closest" in weighted least squares. With `offset[k]` the sum of the first `k` gaps,
    `y[k] - offset[k]` must not decrease: an isotonic regression of
    `wanted[k] - offset[k]`, solved by pooling adjacent violators into blocks that move
    together to their weighted mean.
    """
    offsets = [0.0]
    for gap in gaps:
        offsets.append(offsets[-1] + gap)
    blocks: list[tuple[float, float, int]] = []  # (mean, total weight, size)
    for target, weight, offset in zip(wanted, weights, offsets, strict=True):
        block = (target - offset, weight, 1)
        while blocks and blocks[-1][0] > block[0]:
            mean, total, size = blocks.pop()
            both = total + block[1]
            block = ((mean * total + block[0] * block[1]) / both, both, size + block[2])
        blocks.append(block)
    result = [mean for mean, _, size in blocks for _ in range(size)]
    return [r + offset for r, offset in zip(result, offsets, strict=True)]


# --- SVG ------------------------------------------------------------------------------


def _render(
    graph: _Graph, title: str, current: Value | None = None, only_current: bool = False
) -> str:
    """The SVG of a laid-out graph; `current` is the highlighted node (see `draw`), and
    then only the labels of the arrows into its operation are shown (with
    `only_current`, none at all when there is no `current`)."""
    nodes = graph.nodes
    current_box = current_op = -1
    flow_boxes = graph.flow_boxes
    if current is not None or only_current:
        current_box = -1 if current is None else graph.index[current]
        current_op = -1 if current is None else graph.op_of.get(current, -1)
        flow_boxes = {k: b for k, b in flow_boxes.items() if graph.arrows[k][-1] == current_op}
    width = max(n.x + n.width / 2 for n in nodes) + _MARGIN
    height = max(n.y + n.height / 2 for n in nodes) + _MARGIN
    for left, top, w, h in graph.flow_boxes.values():  # all of them: the same size each frame
        width = max(width, left + w + _MARGIN)
        height = max(height, top + h + _MARGIN)
    w, h = _num(math.ceil(width)), _num(math.ceil(height))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bp-draw" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" role="img" aria-label="{_esc(title)}" '
        f'style="max-width:100%;height:auto" font-family="{_MONO}" font-size="{_num(_FONT)}">',
        f"<title>{_esc(title)}</title>",
    ]
    arrivals = _arrivals(graph)
    out.append(f'<g class="bp-edges" fill="none" stroke="{_EDGE}" stroke-width="1.4">')
    # Arrows from one node share their lanes: the longest one draws the shared track,
    # the others only the part after they leave it.
    longest: dict[int, int] = {}
    for k, path in enumerate(graph.arrows):
        if len(path) > len(graph.arrows[longest.get(path[0], k)]):
            longest[path[0]] = k
        longest.setdefault(path[0], k)
    heads = []
    current_lines, current_heads = [], []
    for k, path in enumerate(graph.arrows):
        shared = len(path) > 2 and longest[path[0]] != k
        line, head = _arrow(
            graph, path, arrivals[k], from_last_lane=shared, run=graph.runs.get(k, 0.0)
        )
        if path[-1] == current_op:  # drawn last, over the others
            current_lines.append(line)
            current_heads.append(head)
            continue
        out.append(f'<path class="bp-edge" d="{line}"/>')
        heads.append(head)
    out.append("</g>")
    out.append(f'<g class="bp-arrows" fill="{_EDGE}">')
    out.extend(f'<path class="bp-arrow" d="{head}"/>' for head in heads)
    out.append("</g>")
    if current_lines:
        out.append(f'<g class="bp-current" fill="none" stroke="{_CURRENT}" stroke-width="2.4">')
        out.extend(f'<path class="bp-edge bp-current" d="{line}"/>' for line in current_lines)
        out.append("</g>")
        out.append(f'<g class="bp-current" fill="{_CURRENT}">')
        out.extend(f'<path class="bp-arrow bp-current" d="{head}"/>' for head in current_heads)
        out.append("</g>")
    for i, node in enumerate(nodes):
        if node.kind == "value":
            out.append(_value_svg(graph, node, root=i == graph.root, current=i == current_box))
        elif node.kind == "op":
            out.append(_op_svg(node, current=i == current_op))
    if flow_boxes:
        out.append('<g class="bp-flows">')
        out.extend(_flow_svg(graph.flows[k], flow_boxes[k]) for k in sorted(flow_boxes))  # type: ignore[arg-type]
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _arrivals(graph: _Graph) -> list[tuple[float, float]]:
    """Where each arrow ends: the middle of a box's left side, or spread over the left
    side of an operation, top to bottom like the nodes they come from (no crossings)."""
    nodes = graph.nodes
    result = [(0.0, 0.0)] * len(graph.arrows)
    into: dict[int, list[int]] = {}
    for k, path in enumerate(graph.arrows):
        dst = nodes[path[-1]]
        if dst.kind == "value":
            result[k] = (dst.x - dst.width / 2, dst.y)
        else:
            into.setdefault(path[-1], []).append(k)
    for target, arrows in into.items():
        dst = nodes[target]
        arrows.sort(key=lambda k: nodes[graph.arrows[k][-2]].y)  # stable for ties
        radius = min(dst.width, dst.height) / 2
        straight = dst.height / 2 - radius  # half the length of the flat left side
        spacing = min(_FAN_IN, 1.3 * radius / max(len(arrows) - 1, 1)) if not straight else _FAN_IN
        for r, k in enumerate(arrows):
            dy = (r - (len(arrows) - 1) / 2) * spacing
            beyond = max(0.0, abs(dy) - straight)  # how far into the rounded end
            inset = radius - math.sqrt(max(0.0, radius * radius - beyond * beyond))
            result[k] = (dst.x - dst.width / 2 + inset, dst.y + dy)
    return result


def _arrow(
    graph: _Graph,
    path: list[int],
    tip: tuple[float, float],
    from_last_lane: bool = False,
    run: float = 0.0,
) -> tuple[str, str]:
    """The SVG path data of one arrow, ending at `tip`, and of its arrowhead.

    The arrow starts at the right side of its source, or with `from_last_lane` where
    it leaves its last lane. Its last piece runs straight for `run` px before it bends.
    """
    nodes = graph.nodes
    src = nodes[path[0]]
    points = [(src.x + src.width / 2, src.y)]
    for lane in path[1:-1]:
        half = graph.column_widths[nodes[lane].col] / 2
        points.append((nodes[lane].x - half, nodes[lane].y))
        points.append((nodes[lane].x + half, nodes[lane].y))
    tip_x, tip_y = tip
    points.append((tip_x - _ARROW, tip_y))
    first = len(points) - 2 if from_last_lane else 0
    d = [f"M{_num(points[first][0])},{_num(points[first][1])}"]
    for k in range(first + 1, len(points)):
        (x0, y0), (x1, y1) = points[k - 1], points[k]
        if run and k == len(points) - 1:
            x0 += run
            d.append(f"H{_num(x0)}")
        if k % 2 == 0 or abs(y1 - y0) < 0.05:  # across a lane, or level: straight
            d.append(f"H{_num(x1)}")
        else:  # between columns: an S-curve, horizontal at both ends
            mid = (x0 + x1) / 2
            d.append(f"C{_num(mid)},{_num(y0)} {_num(mid)},{_num(y1)} {_num(x1)},{_num(y1)}")
    head = (
        f"M{_num(tip_x)},{_num(tip_y)} L{_num(tip_x - _ARROW)},{_num(tip_y - 3.6)} "
        f"L{_num(tip_x - _ARROW)},{_num(tip_y + 3.6)} Z"
    )
    return " ".join(d), head


def _value_svg(graph: _Graph, node: _Node, root: bool, current: bool = False) -> str:
    left, top = node.x - node.width / 2, node.y - node.height / 2
    right = left + node.width
    lw = node.label_width
    cls = "bp-value bp-root" if root else "bp-value"
    stroke_width = "2.2" if root else "1.3"
    stroke = _VALUE_STROKE
    if current:
        cls, stroke, stroke_width = cls + " bp-current", _CURRENT, "3"
    parts = [
        f'<g class="{cls}">',
        f"<title>{_esc(node.texts['tip'])}</title>",
        f'<rect x="{_num(left)}" y="{_num(top)}" width="{_num(node.width)}" '
        f'height="{_num(node.height)}" rx="6" fill="{_VALUE_FILL}"/>',
    ]
    if lw:
        r, bottom = 6.0, top + node.height
        parts.append(
            f'<path d="M{_num(left + lw)},{_num(top)} V{_num(bottom)} H{_num(left + r)} '
            f"A{_num(r)},{_num(r)} 0 0 1 {_num(left)},{_num(bottom - r)} V{_num(top + r)} "
            f'A{_num(r)},{_num(r)} 0 0 1 {_num(left + r)},{_num(top)} Z" fill="{_LABEL_FILL}"/>'
        )
        parts.append(
            f'<path d="M{_num(left + lw)},{_num(top)} V{_num(bottom)}" '
            f'stroke="{_VALUE_STROKE}" stroke-width="1"/>'
        )
        if node.texts["label"]:
            parts.append(
                f'<text class="bp-label" x="{_num(left + lw / 2)}" '
                f'y="{_num(node.y + 0.35 * _LABEL_FONT)}" text-anchor="middle" '
                f'font-size="{_num(_LABEL_FONT)}" font-weight="bold" fill="{_VALUE_TEXT}">'
                f"{_esc(node.texts['label'])}</text>"
            )
    rows = [("data", node.texts["data"])]
    if graph.rows == 2:
        rows.append(("grad", node.texts["grad"]))
    for k, (key, number) in enumerate(rows):
        baseline = top + 4 + _ROW * (k + 0.5) + 0.35 * _FONT
        parts.append(
            f'<text class="bp-key" x="{_num(left + lw + _PAD)}" y="{_num(baseline)}" '
            f'fill="{_KEY_TEXT}">{key}</text>'
        )
        parts.append(
            f'<text class="bp-num" x="{_num(right - _PAD)}" y="{_num(baseline)}" '
            f'text-anchor="end" fill="{_VALUE_TEXT}">{_esc(number)}</text>'
        )
    parts.append(
        f'<rect x="{_num(left)}" y="{_num(top)}" width="{_num(node.width)}" '
        f'height="{_num(node.height)}" rx="6" fill="none" stroke="{stroke}" '
        f'stroke-width="{stroke_width}"/>'
    )
    parts.append("</g>")
    return "\n".join(parts)


def _flow_svg(flow: tuple[str, str], where: tuple[float, float, float, float]) -> str:
    text, tip = flow
    left, top, width, height = where
    return "\n".join(
        [
            '<g class="bp-flow">',
            f"<title>{_esc(tip)}</title>",
            f'<rect x="{_num(left)}" y="{_num(top)}" width="{_num(width)}" '
            f'height="{_num(height)}" rx="3" fill="{_FLOW_FILL}" stroke="{_FLOW_STROKE}" '
            'stroke-width="0.8"/>',
            f'<text x="{_num(left + _FLOW_PAD)}" y="{_num(top + height / 2 + 0.35 * _FLOW_FONT)}" '
            f'font-size="{_num(_FLOW_FONT)}" fill="{_FLOW_TEXT}">{_esc(text)}</text>',
            "</g>",
        ]
    )


def _op_svg(node: _Node, current: bool = False) -> str:
    radius = min(node.width, node.height) / 2
    cls, stroke, stroke_width = "bp-op", _OP_STROKE, "1.3"
    if current:
        cls, stroke, stroke_width = "bp-op bp-current", _CURRENT, "2.6"
    return "\n".join(
        [
            f'<g class="{cls}">',
            f"<title>{_esc(node.texts['tip'])}</title>",
            f'<rect x="{_num(node.x - node.width / 2)}" y="{_num(node.y - node.height / 2)}" '
            f'width="{_num(node.width)}" height="{_num(node.height)}" rx="{_num(radius)}" '
            f'fill="{_OP_FILL}" stroke="{stroke}" stroke-width="{stroke_width}"/>',
            f'<text x="{_num(node.x)}" y="{_num(node.y + 0.35 * _OP_FONT)}" '
            f'text-anchor="middle" font-family="{_SANS}" font-size="{_num(_OP_FONT)}" '
            f'font-weight="bold" fill="{_OP_TEXT}">{_esc(node.texts["symbol"])}</text>',
            "</g>",
        ]
    )


# --- small helpers ------------------------------------------------------------------

_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    """`text` on one line, without characters that XML 1.0 cannot contain."""
    return _INVALID_XML.sub("\ufffd", " ".join(text.split()) if text.strip() else "")


def _esc(text: str) -> str:
    """Escape text for XML content and attribute values."""
    return html.escape(_clean(text), quote=True)


def _text_units(text: str) -> float:
    """Width of `text` in monospace character cells (wide East Asian characters: 2)."""
    units = 0.0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        units += 2.0 if unicodedata.east_asian_width(ch) in "WF" else 1.0
    return units


def _format(x: float, precision: int) -> str:
    """A number for a box: fixed point, or scientific when very large or small."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0.0:
        x = 0.0  # no "-0.0000"
    elif not 1e-3 <= abs(x) < 1e5:
        return f"{x:.{max(precision - 1, 0)}e}"
    return f"{x:.{precision}f}"


def _compact(x: float, precision: int) -> str:
    """A number for a flow label: like a box's, without trailing zeros (6, not 6.0000)."""
    text = _format(x, precision)
    mantissa, e, exponent = text.partition("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    if mantissa in ("-0", ""):
        mantissa = "0"
    return mantissa + e + exponent


def _num(x: float) -> str:
    """A coordinate, rounded to 0.01 px, without trailing zeros."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
