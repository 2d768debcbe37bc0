"""Helpers that turn figures into HTML for the guide's build-time code blocks.

The guide draws its figures while the site builds (markdown-exec runs the code and
puts what it prints into the page), so a figure can never go stale. This module only
packages a figure for the page; it needs matplotlib, which the ``docs`` extra installs
(the engine itself needs numpy only).

```python
from backprop import Value, draw
from backprop.figures import figure_html

html = figure_html(draw(Value(2.0, label="a") * 3), caption="A tiny graph")
assert html.startswith('<figure class="bp-figure bp-graph"') and "<svg" in html
```
"""

from __future__ import annotations

import html
import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["figure_html", "matplotlib_svg", "plot_html"]


def matplotlib_svg(fig: Figure) -> str:
    """Render a matplotlib figure as an inline SVG string, byte-for-byte reproducible.

    Text is drawn as paths (no fonts are loaded by the browser), and the figure is
    closed afterwards so that building many pages does not pile up open figures.
    """
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    with plt.rc_context({"svg.hashsalt": "backprop", "svg.fonttype": "path"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]  # drop the XML prolog and doctype: we inline it


def figure_html(svg: str, caption: str = "", *, kind: str = "graph") -> str:
    """Wrap an SVG string in a ``<figure>`` the site's stylesheet knows how to size.

    Args:
        svg: the ``<svg>…</svg>`` markup, from [`draw`][backprop.draw.draw] or
            [`matplotlib_svg`][backprop.figures.matplotlib_svg].
        caption: an optional caption, escaped for HTML.
        kind: ``"graph"`` for computation graphs, ``"plot"`` for matplotlib plots
            (plots get a light background in dark mode).
    """
    if "<svg" not in svg:
        raise ValueError("figure_html expects SVG markup starting with '<svg'")
    if kind not in {"graph", "plot"}:
        raise ValueError(f"kind must be 'graph' or 'plot', got {kind!r}")
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<figure class="bp-figure bp-{kind}">{svg}{cap}</figure>'


def plot_html(fig: Figure, caption: str = "") -> str:
    """A matplotlib figure as a ready-to-print ``<figure>``.

    See [`figure_html`][backprop.figures.figure_html] for the markup.
    """
    return figure_html(matplotlib_svg(fig), caption, kind="plot")
