"""Paired horizontal bars written straight as SVG text: the editions' chart, cheap to draw.

Layer: charts (may import base … format, and its own layer).

An edition draws the same few charts once per municipality (two layouts each), so for 98
municipalities a chart drawn by matplotlib's figure machinery (axes, ticks, a second pass for
the tight bounding box) was most of an edition's time. The paired bar chart is simple enough to
lay out here directly, in the house style of :mod:`lpj_report.charts` (its font, palette, text
sizes, grid and axis colours, label wrapping, tick positions from matplotlib's ``MaxNLocator``):
text widths are measured with the shipped Liberation Sans through matplotlib's FreeType wrapper,
so that labels never run into the bars. Same input → same bytes; no ids, no metadata that changes.

Coordinates are points (1/72 in), as in matplotlib's SVG: the chart is as wide as its layout
(:class:`lpj_report.charts.Layout`) and as tall as its rows need.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from matplotlib.ft2font import FT2Font, LoadFlags
from matplotlib.ticker import MaxNLocator

from lpj_report import format as fmt
from lpj_report.chart_checks import TEXT
from lpj_report.charts import _RC

#: the house style's sizes (pt) and colours: those matplotlib is given (:mod:`lpj_report.charts`)
LABEL_PT, TICK_PT, LEGEND_PT = _RC["ytick.labelsize"], _RC["xtick.labelsize"], _RC["legend.fontsize"]
VALUE_PT = 8.0      # the value at the end of a bar, as the house style's bar charts write it
GRID, AXIS = "#d9d9d9", _RC["axes.edgecolor"]
PAD = 3.6           # around the chart (matplotlib's pad_inches 0.05)
TICK_PAD = 3.5      # between a tick label and its axis
LINE = 1.2          # line spacing of a wrapped label, in font sizes
BAR = 0.35          # height of one bar, as a share of its row
CAP = 1409 / 2048   # Liberation Sans' cap height (OS/2 sCapHeight / unitsPerEm)


@functools.cache
def _font(path: str, process: int) -> FT2Font:
    """The font file opened once per process: FreeType reads it through a file descriptor,
    whose position a forked editions worker would share with its siblings (two workers reading
    the same file at once failed with "failed to load glyph")."""
    return FT2Font(path)


@functools.lru_cache(maxsize=8192)
def text_width(text: str, size: float, path: str) -> float:
    """The advance width of ``text`` at ``size`` pt in the font file ``path``, in points
    (unhinted, with kerning, as matplotlib measures text for its SVG)."""
    font = _font(path, os.getpid())
    font.set_size(size, 72)
    font.set_text(text, 0.0, flags=LoadFlags.NO_HINTING)
    return font.get_width_height()[0] / 64


@dataclass(frozen=True)
class Style:
    """What the house style hands the writer: the width, the font file and family, colours."""

    width_pt: float
    font_path: str
    font_family: str
    colours: tuple[str, str]
    legend_columns: int


def _text(x: float, y: float, text: str, size: float, anchor: str, family: str) -> str:
    return (f'<text style="font-size: {size:g}px; font-family: {family}; text-anchor: {anchor}; '
            f'fill: {TEXT}" x="{x:.3f}" y="{y:.3f}">{escape(text)}</text>')


def _rect(x: float, y: float, w: float, h: float, colour: str) -> str:
    return f'<rect x="{x:.3f}" y="{y:.3f}" width="{w:.3f}" height="{h:.3f}" style="fill: {colour}"/>'


def _line(x1: float, y1: float, x2: float, y2: float, colour: str, width: float) -> str:
    return (f'<path d="M {x1:.3f} {y1:.3f} L {x2:.3f} {y2:.3f}" '
            f'style="fill: none; stroke: {colour}; stroke-width: {width:g}"/>')


def _legend(names: Sequence[str], style: Style, left: float,
            top: float) -> tuple[list[str], float]:
    """Legend entries left to right from ``left`` (the plot's left edge, as matplotlib places
    the house style's legend) in ``style.legend_columns`` columns, a new row when a row is full
    or would leave the chart; returns the elements and the height used."""
    size, family = LEGEND_PT, style.font_family
    handle, gap, spacing = size, 0.8 * size, 1.2 * size
    row_h = 1.45 * size
    out, x, row = [], left, 0
    for i, (name, colour) in enumerate(zip(names, style.colours, strict=True)):
        width = handle + gap + text_width(name, size, style.font_path)
        if i and (i % style.legend_columns == 0 or x + width > style.width_pt - PAD):
            x, row = left, row + 1
        base = top + row * row_h + size
        out.append(_rect(x, base - 0.7 * size, handle, 0.7 * size, colour))
        out.append(_text(x + handle + gap, base, name, size, "start", family))
        x += width + spacing
    return out, (row + 1) * row_h


def paired_bars(labels: Sequence[str], first: Sequence[float | None],
                second: Sequence[float | None], names: Sequence[str], *, style: Style,
                unit: str, decimals: int, mark: str, limit: float,
                wrap) -> str:
    """Two bars per label (``first`` above ``second``), a value at the end of each bar (``mark``
    where the value is None, with no bar), labels wrapped by ``wrap`` on the left, the value
    axis from 0 to ``limit`` along the bottom with the house style's ticks and grid, the legend
    (``names``) on top. Returns the SVG document."""
    family, path = style.font_family, style.font_path
    wrapped = [wrap(label).split("\n") for label in labels]
    lines = max(len(w) for w in wrapped)
    row = 72 * max(0.5, lines * LABEL_PT * LINE / 72 + 0.2)
    label_w = max(text_width(line, LABEL_PT, path) for w in wrapped for line in w)
    x0 = PAD + label_w + TICK_PAD
    legend, legend_h = _legend(names, style, x0, PAD)
    y0 = PAD + legend_h + 0.4 * LEGEND_PT
    y1 = y0 + row * len(labels)

    def value_text(v: float | None) -> str:
        return mark if v is None else fmt.unit_value(v, unit, decimals)

    # as wide as the layout; narrower plot where a value label would leave the chart
    right = style.width_pt - PAD
    plot_w = right - x0
    for vals in (first, second):
        for v in vals:
            share = (v or 0.0) / limit + 0.01
            room = text_width(value_text(v), VALUE_PT, path)
            plot_w = min(plot_w, (right - x0 - room) / share if share > 0 else plot_w)
    scale = plot_w / limit

    ticks = [t for t in MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10], integer=True)
             .tick_values(0, limit) if 0 <= t <= limit + 1e-9]
    formatter = fmt.percent if unit == "pct" else fmt.number
    body = []
    for t in ticks:
        x = x0 + t * scale
        body.append(_line(x, y0, x, y1, GRID, 0.6))
        body.append(_text(x, y1 + TICK_PAD + CAP * TICK_PT + 1.0, formatter(t, 0), TICK_PT,
                          "middle", family))
    for i, (label_lines, a, b) in enumerate(zip(wrapped, first, second, strict=True)):
        centre = y0 + (i + 0.5) * row
        for side, (v, colour) in enumerate(zip((a, b), style.colours, strict=True)):
            mid = centre + (side - 0.5) * (BAR + 0.03) * row
            if v:
                body.append(_rect(x0, mid - BAR * row / 2, v * scale, BAR * row, colour))
            body.append(_text(x0 + ((v or 0.0) + limit * 0.01) * scale, mid + CAP * VALUE_PT / 2,
                              value_text(v), VALUE_PT, "start", family))
        first_base = centre - (len(label_lines) - 1) * LABEL_PT * LINE / 2 + CAP * LABEL_PT / 2
        for j, line in enumerate(label_lines):
            body.append(_text(x0 - TICK_PAD, first_base + j * LABEL_PT * LINE, line, LABEL_PT,
                              "end", family))
    body.append(_line(x0, y0, x0, y1, AXIS, 0.8))
    body.append(_line(x0, y1, x0 + plot_w, y1, AXIS, 0.8))
    height = y1 + TICK_PAD + TICK_PT * 1.3 + PAD
    width = style.width_pt
    return "\n".join([
        '<?xml version="1.0" encoding="utf-8" standalone="no"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width:.3f}pt" '
        f'height="{height:.3f}pt" viewBox="0 0 {width:.3f} {height:.3f}">',
        f'<rect x="0" y="0" width="{width:.3f}" height="{height:.3f}" style="fill: #ffffff"/>',
        *body, *legend, "</svg>", ""])
