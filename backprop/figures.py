"""Helpers that turn figures into HTML for the guide's build-time code blocks.

The guide draws its figures while the site builds (markdown-exec runs the code and
puts what it prints into the page), so a figure can never go stale. This module only
packages a figure for the page; it needs matplotlib, which the ``docs`` extra installs
(the engine itself needs numpy only).

Every matplotlib figure is made for every reader:

- **Both colour schemes.** Each colour of the SVG is written as CSS
  ``light-dark(light, dark)``: black ink turns light grey on the dark scheme, white
  paper turns the page's dark background, and every other colour keeps its hue but
  changes its lightness to stand out at least 3:1 against the background of each scheme
  (WCAG 1.4.11). Colour-mapped artists (images, filled contours, scatters coloured by
  value) keep their colours, so that they still match their colour bars.
- **Not by colour alone.** [`plot_html`][backprop.figures.plot_html] refuses a figure
  whose legend has two entries that look alike once colour is taken away: give each
  series its own marker or line style. `series_style`
  hands them out with the colour-blind-safe Okabe-Ito `PALETTE`;
  matplotlib's default colours (``"C0"``, ``"tab:red"``, ...) are drawn as their
  Okabe-Ito counterparts.
- **A text alternative.** The ``<svg>`` has ``role="img"``, an ``aria-label`` and a
  ``<title>``: the ``alt`` text if given, else a description read from the figure (its
  title, axis labels and series).

```python
from backprop import Value, draw
from backprop.figures import figure_html

html = figure_html(draw(Value(2.0, label="a") * 3), caption="A tiny graph")
assert html.startswith('<figure class="bp-figure bp-graph"') and "<svg" in html
```
"""

from __future__ import annotations

import colorsys
import html
import io
import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.figure import Figure

__all__ = [
    "LINESTYLES",
    "MARKERS",
    "PALETTE",
    "check_series",
    "dark_colour",
    "describe",
    "figure_html",
    "light_colour",
    "matplotlib_svg",
    "plot_html",
    "series_style",
]

# Okabe & Ito's colour-blind-safe palette (black left out: it is the ink), in an order
# whose first colours stand out most on white.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
)
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X")
LINESTYLES: tuple[Any, ...] = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1)), (0, (1, 3)))

# The two backgrounds a figure sits on: white paper, and Material's slate background.
_LIGHT_BG = (1.0, 1.0, 1.0)
_DARK_BG = colorsys.hls_to_rgb(232 / 360, 0.14, 0.15)  # hsl(232, 15%, 14%): #1e2029
_MIN_CONTRAST = 3.0  # WCAG 1.4.11, graphical objects
_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_NS = "http://www.w3.org/1999/xlink"
_KEEP = "bp-keep-"  # gid prefix of artists whose colours must not change
# Matplotlib's default colours ("C0", "tab:red", ...) that colour-blind readers confuse
# (green with red, above all) become their Okabe-Ito counterparts.
_TAB10_TO_PALETTE = {
    "#1f77b4": PALETTE[0],  # tab:blue -> blue
    "#ff7f0e": PALETTE[4],  # tab:orange -> orange
    "#2ca02c": PALETTE[2],  # tab:green -> bluish green
    "#d62728": PALETTE[1],  # tab:red -> vermillion
    "#9467bd": PALETTE[3],  # tab:purple -> reddish purple
    "#bcbd22": PALETTE[6],  # tab:olive -> yellow
    "#17becf": PALETTE[5],  # tab:cyan -> sky blue
}


def series_style(i: int) -> dict[str, Any]:
    """The ``i``-th series' colour, marker and line style, as keyword arguments for ``plot``.

    ```python
    from backprop.figures import PALETTE, series_style

    assert series_style(1) == {"color": PALETTE[1], "marker": "s", "linestyle": "--"}
    assert series_style(7) == series_style(0)  # seven series, then round again
    ```
    """
    if not isinstance(i, int) or isinstance(i, bool) or i < 0:
        raise ValueError(f"series_style takes a series number 0, 1, 2, ..., got {i!r}")
    n = len(PALETTE)
    return {"color": PALETTE[i % n], "marker": MARKERS[i % n], "linestyle": LINESTYLES[i % n]}


# --- colours for both schemes ----------------------------------------------------------


def _rgb(colour: str) -> tuple[float, float, float]:
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", colour):
        raise ValueError(f"expected a colour like '#1a2b3c', got {colour!r}")
    return tuple(int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(min(max(v, 0.0), 1.0) * 255):02x}" for v in rgb)


def _luminance(rgb: tuple[float, float, float]) -> float:
    def linear(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """The WCAG contrast ratio of two colours, 1 to 21."""
    la, lb = sorted((_luminance(a), _luminance(b)))
    return (lb + 0.05) / (la + 0.05)


def _is_grey(rgb: tuple[float, float, float]) -> bool:
    return max(rgb) - min(rgb) < 0.08


def _shift_until(
    rgb: tuple[float, float, float], bg: tuple[float, float, float], target: float, step: float
) -> tuple[float, float, float]:
    """Move the lightness by `step` until the colour stands out `target`:1 from `bg`."""
    h, lightness, s = colorsys.rgb_to_hls(*rgb)
    while _contrast(rgb, bg) < target and 0.0 < lightness < 1.0:
        lightness = min(max(lightness + step, 0.0), 1.0)
        rgb = colorsys.hls_to_rgb(h, lightness, s)
    return rgb


def light_colour(colour: str) -> str:
    """A colour as drawn on white: greys unchanged, others darkened to at least 3:1."""
    rgb = _rgb(colour)
    if _is_grey(rgb):
        return colour.lower()
    return _hex(_shift_until(rgb, _LIGHT_BG, _MIN_CONTRAST, -0.02))


def dark_colour(colour: str) -> str:
    """A colour's counterpart on the dark scheme.

    White becomes the page's background and greys mirror their lightness (black ink
    turns light grey); other colours keep their hue and get lighter until they stand out
    from the dark background at least as much as they did from white, and at least 3:1.

    ```python
    from backprop.figures import dark_colour

    assert dark_colour("#ffffff") == "#1e2029" and dark_colour("#000000") == "#ebebeb"
    ```
    """
    rgb = _rgb(colour)
    if _is_grey(rgb):
        if min(rgb) > 0.97:
            return _hex(_DARK_BG)
        level = 0.14 + (0.92 - 0.14) * (1 - sum(rgb) / 3)
        return _hex((level, level, level))
    target = min(max(_contrast(_rgb(light_colour(colour)), _LIGHT_BG), _MIN_CONTRAST), 7.0)
    return _hex(_shift_until(rgb, _DARK_BG, target, +0.02))


# --- checks and descriptions -----------------------------------------------------------


def _plain(text: str) -> str:
    """Matplotlib label text without mathtext markup: ``$\\eta$`` becomes ``eta``."""
    text = re.sub(r"\\([A-Za-z]+)", r"\1", text.replace("$", ""))
    return re.sub(r"[{}]", "", text).strip()


def _legends(fig: Figure) -> list[tuple[str, Any]]:
    """(where, legend) for every legend of the figure: the axes' and the figure's own."""
    found = []
    for i, ax in enumerate(fig.axes):
        if ax.get_legend() is not None:
            title = _plain(ax.get_title()) or f"axes {i + 1}"
            found.append((f"'{title}'", ax.get_legend()))
    found += [("the figure legend", legend) for legend in fig.legends]
    return found


def _looks(handle: Artist) -> tuple[object, ...]:
    """What tells a legend entry apart once colour is taken away."""
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if isinstance(handle, Line2D):
        marker = handle.get_marker()
        marker = None if marker in {None, "None", "none", "", " "} else str(marker)
        style = handle.get_linestyle()
        style = None if style in {"None", "none", "", " "} else style
        dashes = getattr(handle, "_unscaled_dash_pattern", None) if style else None
        hollow = marker is not None and str(handle.get_markerfacecolor()) == "none"
        width = round(float(handle.get_linewidth()) * 2) / 2 if style else None
        return ("line", style, str(dashes), marker, hollow, width)
    if isinstance(handle, Patch):
        return ("patch", handle.get_hatch(), handle.get_linestyle())
    if isinstance(handle, Collection):
        paths = handle.get_paths()
        shape = paths[0].vertices.round(2).tobytes() if paths else b""
        return ("points", shape, handle.get_hatch())
    return ("other", id(handle))  # nothing to compare: never a clash


def check_series(fig: Figure) -> None:
    """Raise ValueError if two entries of one legend differ only in colour.

    A reader who cannot tell the colours apart must still tell the series apart: by
    marker, line style, line width or hatching.
    """
    for where, legend in _legends(fig):
        seen: dict[tuple[object, ...], str] = {}
        for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=False):
            if handle is None:
                continue
            label = text.get_text()
            looks = _looks(handle)
            if looks in seen:
                raise ValueError(
                    f"in the legend of {where}, {seen[looks]!r} and {label!r} differ only in "
                    "colour: give each series its own marker or line style "
                    "(backprop.figures.series_style(i) hands them out)"
                )
            seen[looks] = label


def describe(fig: Figure) -> str:
    """A text alternative read from the figure: each panel's title, axes and series."""
    panels = []
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>":
            continue
        parts = []
        title = _plain(ax.get_title())
        xlabel, ylabel = _plain(ax.get_xlabel()), _plain(ax.get_ylabel())
        if xlabel or ylabel:
            axes = f"{ylabel or 'a value'} against {xlabel or 'a value'}"
            if ax.get_yscale() == "log" or ax.get_xscale() == "log":
                logs = [
                    n for n, s in (("x", ax.get_xscale()), ("y", ax.get_yscale())) if s == "log"
                ]
                axes += f" ({' and '.join(logs)} on a log scale)"
            parts.append(axes)
        legend = ax.get_legend()
        if legend is not None:
            names = [_plain(t.get_text()) for t in legend.get_texts() if t.get_text()]
            if names:
                parts.append("series: " + "; ".join(names))
        if title or parts:
            panels.append((f"{title}: " if title else "") + ", ".join(parts))
    title = _plain(fig._suptitle.get_text()) if getattr(fig, "_suptitle", None) else ""
    kind = "Plot" if len(panels) <= 1 else f"{len(panels)} plots"
    text = f"{kind}" + (f" {title}" if title else "")
    return text + (": " + ". ".join(panels) if panels else "") + "."


# --- the SVG ---------------------------------------------------------------------------


def _themed_style(style: str) -> str:
    """A style attribute whose fill and stroke colours follow the colour scheme."""
    out = []
    for declaration in style.split(";"):
        if not declaration.strip():
            continue
        name, _, value = (s.strip() for s in declaration.partition(":"))
        if name in {"fill", "stroke"} and re.fullmatch(r"#[0-9a-fA-F]{6}", value):
            value = _TAB10_TO_PALETTE.get(value.lower(), value)
            light, dark = light_colour(value), dark_colour(value)
            out.append(f"{name}: {light}; {name}: light-dark({light}, {dark})")
        else:
            out.append(f"{name}: {value}")
    return "; ".join(out)


def _theme(element: ET.Element) -> None:
    if (element.get("id") or "").startswith(_KEEP):
        return
    if element.get("style"):
        element.set("style", _themed_style(element.get("style", "")))
    for child in element:
        _theme(child)


def _mark_colour_mapped(fig: Figure) -> None:
    """Give colour-mapped artists a gid, so that their group keeps its colours."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.contour import ContourSet

    for i, artist in enumerate(fig.findobj(lambda a: isinstance(a, ScalarMappable))):
        if isinstance(artist, ContourSet) and not artist.filled:
            continue  # contour lines are lines: they follow the scheme like any other
        if artist.get_array() is not None:
            artist.set_gid(f"{_KEEP}{i}")


def matplotlib_svg(fig: Figure, *, alt: str | None = None) -> str:
    """Render a matplotlib figure as an inline SVG string, byte-for-byte reproducible.

    Text is drawn as paths (no fonts are loaded by the browser), colours follow the
    page's colour scheme (see the module's introduction), and the ``<svg>`` carries
    ``role="img"``, an ``aria-label`` and a ``<title>``: ``alt``, or
    `describe(fig)`. The figure is closed afterwards so that
    building many pages does not pile up open figures.
    """
    import matplotlib.pyplot as plt

    if alt is not None and not (isinstance(alt, str) and alt.strip()):
        raise ValueError("alt must be a text that says what the figure shows")
    label = alt.strip() if alt is not None else describe(fig)
    _mark_colour_mapped(fig)
    buffer = io.StringIO()
    with plt.rc_context({"svg.hashsalt": "backprop", "svg.fonttype": "path"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    ET.register_namespace("", _SVG_NS)
    ET.register_namespace("xlink", _XLINK_NS)
    root = ET.fromstring(buffer.getvalue())
    for child in list(root):
        # The RDF metadata means nothing inline; a <style> inside an inline SVG would
        # style the whole page: its two rules go on the <svg> itself instead.
        if child.tag in {f"{{{_SVG_NS}}}metadata"}:
            root.remove(child)
        if child.tag == f"{{{_SVG_NS}}}defs":
            for style in child.findall(f"{{{_SVG_NS}}}style"):
                child.remove(style)
    # Matplotlib leaves black text unstyled (black is SVG's default fill): make the
    # default explicit, so that it follows the scheme too.
    root.set("style", "stroke-linejoin: round; stroke-linecap: butt; fill: #000000")
    root.set("role", "img")
    root.set("aria-label", label)
    title = ET.Element(f"{{{_SVG_NS}}}title")
    title.text = label
    root.insert(0, title)
    _theme(root)
    return ET.tostring(root, encoding="unicode")


def figure_html(svg: str, caption: str = "", *, kind: str = "graph") -> str:
    """Wrap an SVG string in a ``<figure>`` the site's stylesheet knows how to size.

    Args:
        svg: the ``<svg>…</svg>`` markup, from [`draw`][backprop.draw.draw] or
            [`matplotlib_svg`][backprop.figures.matplotlib_svg].
        caption: an optional caption, escaped for HTML; math in ``$…$`` is typeset
            by KaTeX like math anywhere else on the page.
        kind: ``"graph"`` for computation graphs, ``"plot"`` for matplotlib plots
            (plots follow the page's colour scheme).
    """
    if "<svg" not in svg:
        raise ValueError("figure_html expects SVG markup starting with '<svg'")
    if kind not in {"graph", "plot"}:
        raise ValueError(f"kind must be 'graph' or 'plot', got {kind!r}")
    if caption.count("$") % 2:
        raise ValueError(f"the caption has an unpaired '$' (math goes in $…$): {caption!r}")
    cap = f"<figcaption>{html.escape(caption, quote=False)}</figcaption>" if caption else ""
    return f'<figure class="bp-figure bp-{kind}">{svg}{cap}</figure>'


def plot_html(fig: Figure, caption: str = "", *, alt: str | None = None) -> str:
    """A matplotlib figure as a ready-to-print ``<figure>``.

    Checks that the series can be told apart without colour
    (`check_series`); ``alt`` is the text alternative
    (by default `describe(fig)`). See
    [`figure_html`][backprop.figures.figure_html] for the markup.
    """
    check_series(fig)
    return figure_html(matplotlib_svg(fig, alt=alt), caption, kind="plot")
