"""A step-through of the backward pass: one drawing per node, in the engine's order.

[`backward_steps`][backprop.stepper.backward_steps] replays what `Value.backward()` does,
one node at a time. The first frame shows the forward pass only: every node's data, no
gradients yet. Then comes one frame per node, in the order `backward()` visits them (the
reverse of [`topological_order`][backprop.scalar.topological_order]): the node being
processed is highlighted, each arrow into its operation is labelled
`upstream × local = gradient`, and every node reached so far shows the gradient it has
gathered (the others show none yet). The numbers are computed as `backward()` computes
them, so the last frame shows exactly the gradients `backward()` gives a fresh graph.
Nothing is written to the graph: its `.grad`s stay as they were.

[`stepper_html`][backprop.stepper.stepper_html] puts the frames in a page: an ordered list
that reads top to bottom without JavaScript, which the guide's `stepper.js` turns into one
frame at a time with Previous and Next buttons and the arrow keys.

```python
from backprop import Value
from backprop.stepper import backward_steps

a, b = Value(2.0, label="a"), Value(-3.0, label="b")
L = a * b
L.label = "L"
steps = backward_steps(L)
assert [s.node for s in steps] == ["", "L", "b", "a"]  # reverse topological order
assert "1 × 2 = 2" in steps[1].text  # upstream dL/dL = 1, local dL/db = a
assert a.grad == b.grad == 0.0  # the graph is untouched
```
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

from backprop.draw import _OPS, _clean, _compact, _flow_texts, _frames
from backprop.scalar import Value, topological_order

__all__ = ["MAX_NODES", "Step", "backward_steps", "stepper_html"]

#: The most nodes a step-through draws: it makes one drawing per node, each of them all.
MAX_NODES = 60

_PRECISION = 4  # digits after the point in the boxes, as draw's default


@dataclass(frozen=True)
class Step:
    """One frame of the step-through.

    Attributes:
        node: The name of the node being processed: its label, or for an unlabelled
            node a description such as `"the × node (-6)"`; `""` for the first frame.
        svg: The whole graph drawn by [`draw`][backprop.draw.draw] at this step.
        text: What happens, in words: a first line, then one line per arrow into the
            node's operation, `upstream × local = gradient` and where it is added.
    """

    node: str
    svg: str
    text: str


def backward_steps(root: Value) -> list[Step]:
    """The backward pass from `root`, one frame per node, after a frame of the forward pass.

    Args:
        root: The output; its gradient with respect to itself is 1.

    Returns:
        `1 + n` frames for a graph of `n` nodes: the forward pass, then one per node in
        reverse topological order (`root` first).

    Raises:
        TypeError: `root` is not a `Value`.
        ValueError: the graph has more than `MAX_NODES` nodes, or a gradient must flow
            through a local derivative that does not exist (as `backward()` raises).
        OverflowError: a gradient is not a finite float (as `backward()` raises).
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward_steps() expects a backprop Value, got {type(root).__name__}")
    order = topological_order(root)
    if len(order) > MAX_NODES:
        raise ValueError(
            f"the graph has {len(order)} nodes, more than {MAX_NODES}: a step-through draws "
            "the whole graph once per node, too much to read. Step through a smaller "
            "expression (one neuron rather than a network)."
        )
    names = _names(order)
    frames: list[tuple[Value | None, dict[Value, float]]] = [(None, {})]
    texts = [
        "Before the backward pass: the forward pass has computed every node's data, and no "
        f"node has a gradient yet. The backward pass visits the {len(order)} "
        f"{'node' if len(order) == 1 else 'nodes'} in reverse topological order: "
        + ", ".join(names[v] for v in reversed(order))
        + "."
    ]
    grads: dict[Value, float] = {root: 1.0}  # reached so far; the engine's own arithmetic
    for node in reversed(order):
        texts.append(_process(node, root, grads, names))
        frames.append((node, dict(grads)))
    titles = [
        f"Backward pass, step {k + 1} of {len(frames)}: "
        + (names[node] if node is not None else "before it starts, no gradients yet")
        for k, (node, _) in enumerate(frames)
    ]
    svgs = _frames(root, frames, grads, titles, precision=_PRECISION)
    return [
        Step("" if node is None else names[node], svg, text)
        for (node, _), svg, text in zip(frames, svgs, texts, strict=True)
    ]


def stepper_html(root: Value, *, title: str) -> str:
    """The frames of `backward_steps(root)` as HTML: a `<div data-stepper>` around an
    ordered list of frames, each its drawing and its text.

    Without JavaScript every frame is shown, in order. The guide's
    `assets/javascripts/stepper.js` shows one at a time, with Previous and Next buttons,
    the arrow keys and a "Step k of n" status; content added to a page later is set up
    with `window.backpropStepper.init(element)`.

    Args:
        root: The output of the graph.
        title: A heading for the step-through (escaped).

    Raises:
        TypeError: `title` is not a string (and what `backward_steps` raises).
    """
    if not isinstance(title, str):
        raise TypeError(f"title must be a str, got {type(title).__name__}")
    steps = backward_steps(root)
    esc = html.escape
    out = [
        f'<div class="bp-stepper" data-stepper data-steps="{len(steps)}" '
        f'role="group" aria-label="{esc(title)}">',
        f'<p class="bp-stepper-title">{esc(title)}</p>',
        '<ol class="bp-stepper-frames">',
    ]
    for k, step in enumerate(steps):
        first, *edges = step.text.split("\n")
        shown = step.node or "before the backward pass"
        out.append(
            f'<li class="bp-stepper-frame" data-step="{k}" data-node="{esc(step.node)}" '
            f'data-label="{esc(shown)}">'
        )
        heading = step.node or "Before the backward pass"  # labels keep their case
        out.append(f'<p class="bp-stepper-heading">{esc(heading)}</p>')
        out.append(f'<figure class="bp-figure bp-graph">{step.svg}</figure>')
        out.append(f'<div class="bp-stepper-text"><p>{esc(first)}</p>')
        if edges:
            out.append("<ul>" + "".join(f"<li>{esc(e)}</li>" for e in edges) + "</ul>")
        out.append("</div></li>")
    out.append("</ol></div>")
    return "\n".join(out) + "\n"


# --- the steps -----------------------------------------------------------------------


def _process(node: Value, root: Value, grads: dict[Value, float], names: dict[Value, str]) -> str:
    """Apply the chain rule at `node` as `backward()` does, updating `grads`; say what
    happened."""
    name = names[node]
    g = grads[node]  # complete: every node that uses this one came before it
    shown = _compact(g, _PRECISION)
    if not math.isfinite(g):
        raise OverflowError(f"gradient overflow: d root / d node = {g!r} at {name}")
    if node is root:
        first = f"{name} is the output: the gradient of the output with respect to itself is 1."
    else:
        first = f"{name}: every node that uses it is done, so its gradient, {shown}, is complete."
    if not node._children:
        return first + " It is an input (a leaf): there is nothing further back to send it to."
    symbol, operation = _OPS.get(node._op, (node._op, "operation"))
    first += f" Its operation, {symbol}, sends it back to each input: upstream × local = gradient."
    lines = [first]
    for child, local in zip(node._children, node._local, strict=True):
        child_name = names[child]
        if local is None:
            if g != 0.0:
                raise ValueError(
                    f"the backward pass stops at {name}: the derivative of its {operation} "
                    f"({node._op!r}) with respect to {child_name} does not exist here, so no "
                    "gradient can flow through it"
                )
            lines.append(f"to {child_name}: no local derivative here, but nothing flows back")
            grads.setdefault(child, 0.0)
            continue
        label = _flow_texts(node, child, local, _PRECISION, g)[0]
        before = grads.get(child)
        if g == 0.0:  # the engine skips such a node: it would add nothing
            after = grads.setdefault(child, 0.0)
        else:
            after = grads[child] = (0.0 if before is None else before) + local * g
        if not math.isfinite(after):
            raise OverflowError(f"gradient overflow at {child_name}: {after!r}")
        now = _compact(after, _PRECISION)
        if before is None:
            lines.append(f"to {child_name}: {label}; its gradient so far: {now}")
        else:
            added = _compact(local * g, _PRECISION)
            added = f"({added})" if added.startswith("-") else added
            had = _compact(before, _PRECISION)
            lines.append(
                f"to {child_name}: {label}, added to the {had} it already had: "
                f"{had} + {added} = {now}"
            )
    return "\n".join(lines)


def _names(order: list[Value]) -> dict[Value, str]:
    """A name for every node: its label, else a short description (`the × node (-6)`)."""
    names = {}
    for v in order:
        label = _clean(str(v.label or ""))
        if label:
            names[v] = label
        elif v._children:
            symbol = _OPS.get(v._op, (v._op,))[0]
            names[v] = f"the {symbol} node ({_compact(v.data, _PRECISION)})"
        else:
            names[v] = f"the constant {_compact(v.data, _PRECISION)}"
    return names
