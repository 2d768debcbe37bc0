"""backprop.figures: packaging build-time figures for the guide's pages."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import matplotlib.pyplot as plt
import pytest

from backprop.figures import figure_html, matplotlib_svg, plot_html


def _figure():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [0, 1, 4], label="x²")
    ax.set_title("A <title> & more")
    ax.legend()
    return fig


def test_matplotlib_svg_is_inline_reproducible_svg() -> None:
    first, second = matplotlib_svg(_figure()), matplotlib_svg(_figure())
    assert first.startswith("<svg") and first.rstrip().endswith("</svg>")
    assert first == second, "the same figure must give byte-identical SVG (stable pages)"
    ET.fromstring(first)  # well-formed XML
    assert "<text" not in first, "text must be drawn as paths: no fonts to load"


def test_matplotlib_svg_closes_the_figure() -> None:
    before = len(plt.get_fignums())
    matplotlib_svg(_figure())
    assert len(plt.get_fignums()) == before


def test_figure_html_wraps_and_escapes() -> None:
    html = figure_html("<svg></svg>", caption="a < b & c")
    assert html == (
        '<figure class="bp-figure bp-graph"><svg></svg>'
        "<figcaption>a &lt; b &amp; c</figcaption></figure>"
    )
    assert 'class="bp-figure bp-plot"' in plot_html(_figure())


@pytest.mark.parametrize(
    ("svg", "kind", "message"),
    [("<div></div>", "graph", "expects SVG"), ("<svg></svg>", "photo", "kind must be")],
)
def test_figure_html_rejects_bad_input(svg: str, kind: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        figure_html(svg, kind=kind)
