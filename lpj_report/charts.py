"""Charts as SVG text: one house style, plain Python data in, identical bytes out.

Layer: charts (may import base … format, and its own layer).

Every chart function takes lists of Danish labels and numbers (percent on the 0–100 scale unless
``unit`` says otherwise) and returns the SVG document as a ``str``. No pandas in the interface:
the caller picks rows out of ``figures.json`` and passes labels and values in display order.

The SVG keeps its text as text (``svg.fonttype = 'none'``), so it stays searchable in the PDF and
takes the report's font (WeasyPrint applies the report's ``@font-face`` to it). Text metrics come
from the shipped Liberation Sans (``assets/fonts``), registered with matplotlib's font manager.
Same input → same bytes: fixed ``svg.hashsalt``, no date in the metadata, no pyplot state.

Numbers on axes and labels go through :mod:`lpj_report.format` only.

Every public chart function remembers its call (:func:`recipe`), so that the chart can be drawn
again: :func:`narrow_svg` (a phone layout, offered by the HTML's ``<picture>``), :func:`png` (the
wide chart as PNG from matplotlib); both None for an SVG this process did not draw.
"""

from __future__ import annotations

import copy
import functools
import io
import math
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from lpj_report import chart_cache  # noqa: E402
from lpj_report import format as fmt  # noqa: E402
from lpj_report.chart_checks import (  # noqa: F401 (re-exported)
    TEXT,
    _check,
    _check_matrix,
    _luminance,
    text_colour_on,
)
from lpj_report.paths import ROOT  # noqa: E402

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _new_figure(**options) -> Figure:
    """A figure; matplotlib's figure machinery is imported when a chart is first drawn."""
    from matplotlib.figure import Figure
    return Figure(**options)


def _patch(**options):
    from matplotlib.patches import Patch
    return Patch(**options)

FONT_DIR = ROOT / "assets" / "fonts"
FONT_FAMILY = "Liberation Sans"
#: Families named in the SVG. 'LPJ Sans' is the @font-face alias under which the PDF loads the
#: shipped files (render.py), so a system copy of Liberation Sans can never stand in; browsers show
#: an <img> SVG without the page's @font-face and fall back to the metric-compatible Arial.
SVG_FONT_STACK = "'LPJ Sans', 'Liberation Sans', Arial, Helvetica, sans-serif"
#: seaborn 'colorblind' (Okabe–Ito based); yellow and light pink left out (too little contrast).
PALETTE = ("#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc", "#ca9161", "#949494", "#56b4e9")
WIDTH_IN = 6.3  # A4 text width (160 mm) at 1:1
HASH_SALT = "lpj-report"
LABEL_WIDTH = 26  # characters per line of a category label
PNG_DPI = 200  # chart files and Word: 1.260 px across the 16 cm text width
LINE_IN = 9 * 1.2 / 72  # one line of a 9 pt label at matplotlib's 1.2 line spacing, in inches


@dataclass(frozen=True)
class Layout:
    """How wide a chart is drawn and how its labels and legends are arranged."""

    width_in: float = WIDTH_IN
    label_width: int = LABEL_WIDTH
    pie_columns: int = 4
    legend_columns: int = 4


#: The print layout (A4 text width) and the phone layout: 3.7 in is 355 CSS px, so that on a
#: 390 px screen the chart is shown at full size and its smallest text (7.5 pt) at 10 px.
WIDE = Layout()
NARROW = Layout(width_in=3.7, label_width=17, pie_columns=2, legend_columns=2)
_LAYOUT: ContextVar[Layout] = ContextVar("chart_layout", default=WIDE)
_AS_PNG: ContextVar[int] = ContextVar("chart_png_dpi", default=0)
#: svg text → (function, args, kwargs) of the call that drew it (see :func:`recipe`)
_RECIPES: dict[str, tuple[Callable[..., str], tuple, dict]] = {}
_VARIANTS: dict[tuple[str, str], Any] = {}
#: charts drawn before, by function and arguments, while :func:`reuse` is on
_REUSE: ContextVar[dict | None] = ContextVar("chart_reuse", default=None)


def width_in() -> float:
    """The width of the chart being drawn, in inches (the current :class:`Layout`)."""
    return _LAYOUT.get().width_in


def layout() -> Layout:
    return _LAYOUT.get()


def recipe(function: Callable[..., str]) -> Callable[..., str]:
    """Remember each call of a chart function by the SVG it returned, so that the same chart
    can be drawn again narrow (:func:`narrow_svg`) or as PNG (:func:`png`)."""

    @functools.wraps(function)
    def drawn(*args, **kwargs):
        wide = _LAYOUT.get() is WIDE and not _AS_PNG.get()
        kept = _REUSE.get() if wide else None
        key = chart_cache.call_key(function, args, kwargs) if wide else None
        if key is not None and kept is not None and key in kept:
            result = kept.pop(key)
            kept[key] = result              # the most recently used last
            return result
        entry = chart_cache.entry(key) if wide else None   # the build cache (.cache/)
        stored = chart_cache.stored_svg(entry)
        result = stored if stored is not None else function(*args, **kwargs)
        if wide and isinstance(result, str):
            _RECIPES.setdefault(result, (function, copy.deepcopy(args), copy.deepcopy(kwargs)))
            chart_cache.keep_svg(entry, result, stored is not None)
            if key is not None and kept is not None:
                kept[key] = result
        return result

    return drawn


@contextmanager
def reuse(drawn: dict) -> Iterator[dict]:
    """Charts asked for again with the same arguments come from ``drawn`` instead of being
    drawn again; ``drawn`` is the caller's and outlives the block (``lpj preview`` keeps it
    across rebuilds, so that an edit of the text draws no chart). The same bytes either way:
    a chart is a function of its arguments."""
    token = _REUSE.set(drawn)
    try:
        yield drawn
    finally:
        _REUSE.reset(token)


def _again(svg: str, kind: str, layout_: Layout, dpi: int = 0):
    known = _RECIPES.get(svg)
    if known is None:
        return None
    key = (svg, kind)
    if key not in _VARIANTS and (stored := chart_cache.stored_variant(svg, kind)) is not None:
        _VARIANTS[key] = stored
    if key not in _VARIANTS:
        function, args, kwargs = known
        chart_layout, png_dpi = _LAYOUT.set(layout_), _AS_PNG.set(dpi)
        try:
            _VARIANTS[key] = function(*args, **kwargs)
        finally:
            _LAYOUT.reset(chart_layout)
            _AS_PNG.reset(png_dpi)
        chart_cache.keep_variant(svg, kind, _VARIANTS[key])
    return _VARIANTS[key]


def narrow_svg(svg: str) -> str | None:
    """The chart of ``svg`` laid out for a phone screen (narrower, taller), or None when this
    process did not draw ``svg`` with a chart function."""
    return _again(svg, "narrow", NARROW)


def png(svg: str, dpi: int = PNG_DPI) -> bytes | None:
    """The chart of ``svg`` as PNG (same layout, drawn by matplotlib, no metadata that changes),
    or None when this process did not draw ``svg``."""
    return _again(svg, f"png{dpi}", WIDE, dpi)

#: seaborn's "white" style (``seaborn.axes_style("white")``, seaborn 0.13), written out so that
#: drawing a chart does not import seaborn (and through it pyplot): the same charts, byte for
#: byte, half a second less to start. The house settings (_RC) come on top.
_BASE_STYLE = {
    "figure.facecolor": "white", "axes.labelcolor": ".15", "xtick.direction": "out",
    "ytick.direction": "out", "xtick.color": ".15", "ytick.color": ".15", "axes.axisbelow": True,
    "grid.linestyle": "-", "text.color": ".15", "font.family": ["sans-serif"],
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans",
                        "sans-serif"],
    "lines.solid_capstyle": "round", "patch.edgecolor": "w", "patch.force_edgecolor": True,
    "xtick.top": False, "ytick.right": False, "axes.grid": False, "axes.facecolor": "white",
    "axes.edgecolor": ".15", "grid.color": ".8", "axes.spines.left": True,
    "axes.spines.bottom": True, "axes.spines.right": True, "axes.spines.top": True,
    "xtick.bottom": False, "ytick.left": False,
}

_RC = {
    "font.family": [FONT_FAMILY],
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 9,
    "legend.fontsize": 8.5,
    "text.color": TEXT,
    "axes.labelcolor": TEXT,
    "xtick.color": TEXT,
    "ytick.color": TEXT,
    "axes.edgecolor": "#595959",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "patch.force_edgecolor": False,
    "legend.frameon": False,
    "svg.fonttype": "none",
    "text.parse_math": False,    # labels are text: "5 $ og 10 $" is no formula
    "svg.hashsalt": HASH_SALT,
    "svg.image_inline": True,
    "figure.dpi": 100,
    "savefig.dpi": 100,
}


def _register_fonts() -> None:
    """Make the shipped Liberation Sans the one matplotlib measures text with.

    Any other copy of the family (a system package) is dropped from the font list so that text
    metrics, and hence the SVG bytes, do not depend on what the machine has installed.
    """
    from matplotlib import font_manager
    manager = font_manager.fontManager
    ours = sorted(str(path) for path in FONT_DIR.glob("LiberationSans-*.ttf"))
    if not ours:
        raise FileNotFoundError(f"no Liberation Sans in {FONT_DIR}")
    known = {entry.fname for entry in manager.ttflist}
    foreign = [e for e in manager.ttflist if e.name == FONT_FAMILY and e.fname not in ours]
    if not foreign and all(path in known for path in ours):
        return
    manager.ttflist = [e for e in manager.ttflist if e not in foreign]
    for path in ours:
        if path not in known:
            manager.addfont(path)
    manager._findfont_cached.cache_clear()  # noqa: SLF001 - the list changed under the cache


@contextmanager
def house_style() -> Iterator[tuple[str, ...]]:
    """The one chart style (font, palette, Danish-free defaults); yields the palette."""
    _register_fonts()
    with matplotlib.rc_context(_BASE_STYLE), matplotlib.rc_context(_RC):
        yield PALETTE


# --------------------------------------------------------------------------- helpers


def _wrap(label: str, width: int | None = None) -> str:
    """Break a long label on spaces or after '/' (``Fritidsordning/fritidsklub``); the width
    (characters per line) of the current layout unless given."""
    if width is None:
        width = _LAYOUT.get().label_width
    elif _LAYOUT.get() is not WIDE:
        width = min(width, _LAYOUT.get().label_width)
    text = label.replace("/", "/ ")
    lines = textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False)
    return "\n".join(line.replace("/ ", "/") for line in lines) or label


def _label(value: float, unit: str, decimals: int) -> str:
    return fmt.unit_value(value, unit, decimals)


def _axis(ax, unit: str, limit: float) -> None:
    """Value axis along x: ticks in Danish (format.py), light grid, room for end labels."""
    ax.set_xlim(0, limit)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10], integer=True))
    formatter = fmt.percent if unit == "pct" else fmt.number
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: formatter(x, 0)))
    ax.grid(axis="x", color="#d9d9d9", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.tick_params(axis="y", length=0)


def _limit(values: Sequence[float], unit: str) -> float:
    top = max([0.0, *values])
    if unit == "pct":
        return min(100.0, top) * 1.18 if top > 0 else 100.0
    return top * 1.18 if top > 0 else 1.0



def _bar_height(rows: int, per_row: float = 0.34, extra: float = 0.7,
                labels: Sequence[str] = ()) -> float:
    """Figure height for ``rows`` bars; each row at least as tall as its longest wrapped label
    (``labels`` as drawn), so that multi-line labels never run into each other."""
    lines = max([label.count("\n") + 1 for label in labels] or [1])
    return max(1.6, rows * max(per_row, lines * LINE_IN + 0.1) + extra)


def _to_svg(fig: Figure) -> str | bytes:
    """Serialise: fixed metadata, no date; widen the font list for browsers. When :func:`png`
    redraws the chart, PNG bytes instead."""
    dpi = _AS_PNG.get()
    if dpi:
        raw = io.BytesIO()
        fig.savefig(raw, format="png", dpi=dpi, metadata={"Software": "lpj-report"},
                    bbox_inches="tight", pad_inches=0.05, facecolor="white")
        return raw.getvalue()
    buffer = io.StringIO()
    fig.savefig(
        buffer,
        format="svg",
        metadata={"Date": None, "Creator": "lpj-report"},
        bbox_inches="tight",
        pad_inches=0.05,
    )
    return buffer.getvalue().replace(
        f"font-family: '{FONT_FAMILY}'", f"font-family: {SVG_FONT_STACK}"
    )


def _legend_columns(labels: Sequence[str]) -> int:
    """Legend entries side by side: fewer when the labels are long; on a phone one column for
    labels of more than 18 characters, so that the legend is no wider than the chart."""
    longest = max(len(lab) for lab in labels)
    columns = min(len(labels), 3 if longest > 22 else 4, _LAYOUT.get().legend_columns)
    if _LAYOUT.get() is not WIDE and longest > 18:
        columns = 1
    return columns


def _legend(fig: Figure, ax, labels: Sequence[str], colours: Sequence[str]) -> None:
    handles = [_patch(facecolor=c, label=lab) for c, lab in zip(colours, labels, strict=True)]
    columns = _legend_columns(labels)
    ax.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(0, 1.01),
        ncols=columns,
        handlelength=1.0,
        columnspacing=1.2,
        borderaxespad=0.2,
    )


def _colours(n: int) -> list[str]:
    if n > len(PALETTE):
        raise ValueError(f"at most {len(PALETTE)} categories in one chart, not {n}")
    return list(PALETTE[:n])


# --------------------------------------------------------------------------- pie charts


def _draw_pie(
    ax, values: Sequence[float], colours: Sequence[str], decimals: int, size: float, inside: float
) -> None:
    """Slices clockwise from 12 o'clock; a share below ``inside`` is labelled outside the pie."""
    total = sum(values)
    if total <= 0:
        raise ValueError("a pie needs a positive total")
    wedges, _ = ax.pie(
        values,
        colors=colours,
        startangle=90,
        counterclock=False,
        wedgeprops={"linewidth": 1, "edgecolor": "white"},
    )
    for wedge, value, colour in zip(wedges, values, colours, strict=True):
        if value <= 0:
            continue
        angle = math.radians((wedge.theta1 + wedge.theta2) / 2)
        within = value / total >= inside
        radius = 0.62 if within else 1.22
        ax.text(
            radius * math.cos(angle),
            radius * math.sin(angle),
            fmt.percent(value, decimals),
            ha="center",
            va="center",
            fontsize=size,
            color=text_colour_on(colour) if within else TEXT,
        )
    ax.set_aspect("equal")
    ax.set_xlim(-1.35, 1.35)
    ax.set_ylim(-1.35, 1.35)


@recipe
def pie(labels: Sequence[str], values: Sequence[float], *, decimals: int = 0) -> str:
    """One distribution (percent) as a pie with a legend; slices in the given order, clockwise."""
    _check(labels, values)
    with house_style():
        colours = _colours(len(labels))
        if _LAYOUT.get() is WIDE:
            fig = _new_figure(figsize=(WIDTH_IN, 2.4))
            ax_pie, ax_legend = fig.subplots(1, 2, width_ratios=[1, 1.2])
            where = "center left"
        else:  # phone: the legend under the pie
            rows = len(labels) * 0.3 + 0.2
            fig = _new_figure(figsize=(width_in(), 2.4 + rows))
            ax_pie, ax_legend = fig.subplots(2, 1, height_ratios=[2.4, rows])
            where = "upper left"
        _draw_pie(ax_pie, values, colours, decimals, 9, 0.07)
        ax_legend.axis("off")
        handles = [
            _patch(facecolor=c, label=_wrap(lab, 34)) for c, lab in zip(colours, labels, strict=True)
        ]
        ax_legend.legend(handles=handles, loc=where, handlelength=1.0, labelspacing=0.8)
        return _finish(fig)


@recipe
def pies(
    groups: Sequence[str],
    labels: Sequence[str],
    values: Sequence[Sequence[float]],
    *,
    decimals: int = 0,
    columns: int = 4,
) -> str:
    """Small multiples: one pie per group (``values[g][c]``), one shared legend on top."""
    _check_matrix(groups, labels, values)
    with house_style():
        colours = _colours(len(labels))
        columns = max(1, min(columns, len(groups), _LAYOUT.get().pie_columns))
        rows = math.ceil(len(groups) / columns)
        size = width_in() / columns
        legend_columns = min(len(labels), 4) if _LAYOUT.get() is WIDE else _legend_columns(labels)
        legend_rows = math.ceil(len(labels) / legend_columns)
        more = 0.25 * (legend_rows - 1)  # a legend of more than one line
        fig = _new_figure(figsize=(width_in(), rows * (size * 0.92 + 0.3) + 0.4 + more))
        axes = fig.subplots(rows, columns, squeeze=False)
        for index, ax in enumerate(axes.flat):
            if index >= len(groups):
                ax.axis("off")
                continue
            _draw_pie(ax, values[index], colours, decimals, 7.5, 0.12)
            ax.set_title(_wrap(groups[index], 18), fontsize=8.5, pad=2)
        handles = [_patch(facecolor=c, label=lab) for c, lab in zip(colours, labels, strict=True)]
        fig.legend(handles=handles, loc="upper center", ncols=legend_columns, handlelength=1.0)
        fig.subplots_adjust(top=1 - (0.45 + more) / fig.get_figheight(), hspace=0.25, wspace=0.05)
        return _finish(fig)


# --------------------------------------------------------------------------- bar charts


@recipe
def bar(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    decimals: int = 0,
    unit: str = "pct",
    sort: bool = False,
) -> str:
    """Horizontal bars, one value per group, first label at the top (``sort``: highest first)."""
    _check(labels, values)
    pairs = list(zip(labels, values, strict=True))
    if sort:
        pairs.sort(key=lambda pair: pair[1], reverse=True)  # stable: ties keep the given order
    return _bars([p[0] for p in pairs], [p[1] for p in pairs], decimals, unit)


@recipe
def ranked(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    top: int = 5,
    decimals: int = 0,
    unit: str = "pct",
) -> str:
    """A top-``top`` list: highest first (ties keep the given order), one colour."""
    _check(labels, values)
    if top < 1:
        raise ValueError("top must be at least 1")
    pairs = sorted(zip(labels, values, strict=True), key=lambda pair: pair[1], reverse=True)[:top]
    return _bars([p[0] for p in pairs], [p[1] for p in pairs], decimals, unit)


def _bars(labels: list[str], values: list[float], decimals: int, unit: str) -> str:
    with house_style() as palette:
        wrapped = [_wrap(lab) for lab in labels]
        fig = _new_figure(figsize=(width_in(), _bar_height(len(labels), labels=wrapped)))
        ax = fig.subplots()
        positions = list(range(len(labels)))
        ax.barh(positions, values, color=palette[0], height=0.62)
        limit = _limit(values, unit)
        _axis(ax, unit, limit)
        for y, value in zip(positions, values, strict=True):
            ax.text(value + limit * 0.01, y, _label(value, unit, decimals), va="center", ha="left")
        ax.set_yticks(positions, wrapped)
        ax.invert_yaxis()
        return _finish(fig)


@recipe
def stacked(
    groups: Sequence[str],
    categories: Sequence[str],
    values: Sequence[Sequence[float]],
    *,
    decimals: int = 0,
) -> str:
    """100 % stacked horizontal bars: one bar per group, ``values[g][c]`` percent per category."""
    _check_matrix(groups, categories, values)
    for group, row in zip(groups, values, strict=True):
        if sum(row) > 100.5:
            raise ValueError(f"{group}: the shares add up to {sum(row)} > 100")
    with house_style():
        colours = _colours(len(categories))
        wrapped = [_wrap(g) for g in groups]
        fig = _new_figure(figsize=(width_in(), _bar_height(len(groups), extra=1.0, labels=wrapped)))
        ax = fig.subplots()
        positions = list(range(len(groups)))
        left = [0.0] * len(groups)
        for c, colour in enumerate(colours):
            widths = [row[c] for row in values]
            ax.barh(
                positions,
                widths,
                left=left,
                color=colour,
                height=0.62,
                edgecolor="white",
                linewidth=0.8,
            )
            for y, start, width in zip(positions, left, widths, strict=True):
                if width >= 7:
                    ax.text(
                        start + width / 2,
                        y,
                        fmt.percent(width, decimals),
                        ha="center",
                        va="center",
                        color=text_colour_on(colour),
                        fontsize=8.5,
                    )
            left = [a + b for a, b in zip(left, widths, strict=True)]
        _axis(ax, "pct", 100)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, steps=[2, 5, 10], integer=True))
        ax.set_yticks(positions, wrapped)
        ax.invert_yaxis()
        _legend(fig, ax, categories, colours)
        return _finish(fig)


@recipe
def grouped(
    groups: Sequence[str],
    categories: Sequence[str],
    values: Sequence[Sequence[float]],
    *,
    decimals: int = 0,
    unit: str = "pct",
) -> str:
    """Categories side by side within each group (horizontal), ``values[g][c]``; legend on top."""
    _check_matrix(groups, categories, values)
    with house_style():
        colours = _colours(len(categories))
        n = len(categories)
        height = 0.8 / n
        wrapped = [_wrap(g) for g in groups]
        fig = _new_figure(figsize=(width_in(), _bar_height(len(groups), per_row=0.2 + 0.2 * n, extra=1.0,
                                                    labels=wrapped)))
        ax = fig.subplots()
        flat = [v for row in values for v in row]
        limit = _limit(flat, unit)
        for c, colour in enumerate(colours):
            ys = [g + (c - (n - 1) / 2) * height for g in range(len(groups))]
            widths = [row[c] for row in values]
            ax.barh(ys, widths, height=height * 0.92, color=colour)
            for y, value in zip(ys, widths, strict=True):
                ax.text(
                    value + limit * 0.01,
                    y,
                    _label(value, unit, decimals),
                    va="center",
                    ha="left",
                    fontsize=8,
                )
        _axis(ax, unit, limit)
        ax.set_yticks(list(range(len(groups))), wrapped)
        ax.invert_yaxis()
        _legend(fig, ax, categories, colours)
        return _finish(fig)


def _finish(fig: Figure) -> str:
    """The chart's SVG (PNG when :func:`png` redraws it); the figure is left to the garbage
    collector (``fig.clear()`` would rebuild every axis to throw it away)."""
    return _to_svg(fig)


def font_files() -> list[Path]:
    """The shipped font files (render.py declares them with @font-face)."""
    return sorted(FONT_DIR.glob("LiberationSans-*.ttf"))
