"""backprop.figures: packaging build-time figures for the guide's pages."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import matplotlib.pyplot as plt
import pytest

from backprop.figures import (
    PALETTE,
    dark_colour,
    figure_html,
    light_colour,
    matplotlib_svg,
    plot_html,
    series_style,
)


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


# --- every reader: both colour schemes, not by colour alone, a text alternative -------

SVG = "{http://www.w3.org/2000/svg}"


def _styles(svg: str) -> list[str]:
    return [el.get("style", "") for el in ET.fromstring(svg).iter() if el.get("style")]


def _pairs(svg: str) -> set[tuple[str, str]]:
    return set(re.findall(r"light-dark\((#[0-9a-f]{6}), (#[0-9a-f]{6})\)", svg))


def _two_series(**second: object):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [0, 1, 4], label="first", **series_style(0))
    ax.plot([0, 1, 2], [4, 1, 0], label="second", **second)
    ax.set(title="Two series", xlabel="step", ylabel="loss", yscale="log")
    ax.legend()
    return fig


def test_every_colour_has_a_dark_variant() -> None:
    svg = matplotlib_svg(_two_series(**series_style(1)))
    for style in _styles(svg):
        for prop, colour in re.findall(r"\b(fill|stroke): (#[0-9a-fA-F]{6})(?!\))", style):
            assert f"{prop}: light-dark({colour}, #" in style, style
    pairs = _pairs(svg)
    assert ("#ffffff", "#1e2029") in pairs, "white paper must become the dark background"
    assert ("#000000", "#ebebeb") in pairs, "black ink must become light"
    assert "<style" not in svg, "an inline SVG's <style> would restyle the whole page"
    root = ET.fromstring(svg)  # black text has no fill of its own: it inherits the <svg>'s
    assert "fill: light-dark(#000000, #ebebeb)" in root.get("style", "")


def test_colours_stand_out_on_both_backgrounds() -> None:
    from backprop.figures import _DARK_BG, _LIGHT_BG, _contrast, _rgb

    for colour in (*PALETTE, "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#ffd700", "#c5cae9"):
        light, dark = light_colour(colour), dark_colour(colour)
        assert _contrast(_rgb(light), _LIGHT_BG) >= 3, (colour, light)
        assert _contrast(_rgb(dark), _DARK_BG) >= 3, (colour, dark)
        assert light == colour.lower() or _contrast(_rgb(colour), _LIGHT_BG) < 3
    # a strong colour stays strong: as far from the dark background as from white (up to 7:1)
    assert _contrast(_rgb(dark_colour("#0072b2")), _DARK_BG) >= 4.5


def test_default_colours_become_okabe_ito() -> None:
    fig, ax = plt.subplots()
    ax.plot([0, 1], color="tab:red")
    ax.plot([1, 0], color="C2", linestyle="--")
    lights = {light for light, _ in _pairs(matplotlib_svg(fig))}
    assert {PALETTE[1].lower(), PALETTE[2].lower()} <= lights  # vermillion, bluish green
    assert not {"#d62728", "#2ca02c"} & lights


def test_colour_mapped_artists_keep_their_colours() -> None:
    import numpy as np

    fig, ax = plt.subplots()
    filled = ax.contourf(np.arange(9.0).reshape(3, 3), cmap="viridis")
    ax.scatter([0, 1], [0, 1], c=[0.0, 1.0])
    ax.contour(np.arange(9.0).reshape(3, 3), colors="0.5")  # lines: they follow the scheme
    fig.colorbar(filled)
    root = ET.fromstring(matplotlib_svg(fig))
    kept = [g for g in root.iter(f"{SVG}g") if (g.get("id") or "").startswith("bp-keep-")]
    assert len(kept) == 3, "the filled contours, the scatter and the colour bar's solids"
    for group in kept:
        assert "light-dark" not in ET.tostring(group, encoding="unicode")
    assert ("#808080", dark_colour("#808080")) in _pairs(ET.tostring(root, encoding="unicode"))


def test_series_told_apart_only_by_colour_are_refused() -> None:
    with pytest.raises(ValueError, match="'first' and 'second' differ only in colour"):
        plot_html(_two_series(color=PALETTE[1], marker="o", linestyle="-"))
    assert "<svg" in plot_html(_two_series(**series_style(1)))  # another marker and dash
    assert "<svg" in plot_html(_two_series(color=PALETTE[1], marker="o", linewidth=3))


def test_series_style_cycles_the_palette() -> None:
    styles = [series_style(i) for i in range(len(PALETTE))]
    assert [s["color"] for s in styles] == list(PALETTE)
    assert len({(s["marker"], str(s["linestyle"])) for s in styles}) == len(PALETTE)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="series number"):
            series_style(bad)


def test_figures_have_a_text_alternative() -> None:
    root = ET.fromstring(matplotlib_svg(_two_series(**series_style(1))))
    label = root.get("aria-label")
    assert root.get("role") == "img"
    assert label == "Plot: Two series: loss against step (y on a log scale), series: first; second."
    assert root[0].tag == f"{SVG}title" and root[0].text == label
    given = ET.fromstring(matplotlib_svg(_figure(), alt="A parabola through three points"))
    assert given.get("aria-label") == "A parabola through three points"
    with pytest.raises(ValueError, match="alt must be a text"):
        matplotlib_svg(_figure(), alt="  ")


def test_captions_keep_their_math_for_katex() -> None:
    html = figure_html("<svg></svg>", caption=r"the prediction $|1 - 6\eta|^k$ (dashed)")
    assert r"<figcaption>the prediction $|1 - 6\eta|^k$ (dashed)</figcaption>" in html
    with pytest.raises(ValueError, match="unpaired"):
        figure_html("<svg></svg>", caption="costs $5")
