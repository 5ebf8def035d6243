"""The report's view model: every figure as ready-made strings, orders and charts.

This is the layer between the numbers (the tidy figure table) and the templates. It makes no new
statistics: it formats (through :mod:`lpj_report.format`), orders (rankings, "flest",
"færrest" are the first / last of an order computed here from the values) and draws charts.
Templates only pick from what is here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lpj_report import charts
from lpj_report import format as fmt
from lpj_report.codebook import Codebook
from lpj_report.figures import ALL, Figure, category_keys, group_keys

ALL_LABEL = "Alle"
POPULATION_LABELS = {
    "alle": "alle svarpersoner",
    "medarbejdere": "medarbejdere",
    "tr": "tillidsrepræsentanter",
    "ledere": "ledere",
    "medarbejdere_og_tr": "medarbejdere og tillidsrepræsentanter",
}


@dataclass(frozen=True)
class Value:
    """One number of a figure, formatted: ``text`` is e.g. ``21,4 %``; ``number`` ``21,4``."""

    group: str
    category: str
    group_label: str
    label: str
    value: float | None
    text: str
    number: str
    numerator: float
    base: int
    base_text: str
    shown: bool = True


@dataclass
class FigureView:
    """A figure for the templates: ``cell[group][category]``, orders and chart material."""

    id: str
    title: str
    population: str
    unit: str
    decimals: int
    chart: str
    groups: list[tuple[str, str]]          # (key, label), 'alle' first
    categories: list[tuple[str, str]]      # (key, label) incl. combined categories
    cell: dict[str, dict[str, Value]]
    ranked_categories: dict[str, list[Value]] = field(default_factory=dict)
    ranked_groups: dict[str, list[Value]] = field(default_factory=dict)

    @property
    def alle(self) -> dict[str, Value]:
        return self.cell[ALL]

    @property
    def base(self) -> str:
        """``n = 1.404`` for the whole population."""
        first = next(iter(self.cell[ALL].values()))
        return first.base_text


def _label(codebook: Codebook, fig: Figure, key: str) -> str:
    var = codebook[fig.variable]
    if key in fig.combine:
        return " eller ".join(var.label_of(k).lower() if i else var.label_of(k)
                              for i, k in enumerate(fig.combine[key]))
    if key in ("mean", "n"):
        return fig.title
    return var.label_of(key)


def _group_label(codebook: Codebook, fig: Figure, key: str) -> str:
    return ALL_LABEL if key == ALL else codebook[fig.breakdown].label_of(key)


def figure_view(fig: Figure, rows: pd.DataFrame, codebook: Codebook) -> FigureView:
    """Format every row of one figure and precompute its orders (highest first)."""
    cats = category_keys(fig, codebook)
    groups = group_keys(fig, codebook)
    cell: dict[str, dict[str, Value]] = {g: {} for g in groups}
    for r in rows.itertuples(index=False):
        value = None if pd.isna(r.value) else float(r.value)
        shown = value is not None and getattr(r, "suppressed", False) is not True
        text = fmt.unit_value(value, r.unit, r.decimals) if shown else "–"
        number = fmt.number(value, r.decimals) if shown and r.unit != "count" else text
        cell[r.group][r.category] = Value(
            group=r.group, category=r.category, group_label=_group_label(codebook, fig, r.group),
            label=_label(codebook, fig, r.category), value=value if shown else None, text=text,
            number=number, numerator=float(r.numerator), base=int(r.base),
            base_text="n = " + fmt.count(int(r.base)), shown=shown)
    view = FigureView(
        id=fig.id, title=fig.title, population=POPULATION_LABELS.get(fig.population, fig.population),
        unit=str(rows["unit"].iloc[0]) if len(rows) else "pct", decimals=fig.decimals,
        chart=fig.chart,
        groups=[(g, _group_label(codebook, fig, g)) for g in groups],
        categories=[(c, _label(codebook, fig, c)) for c in cats], cell=cell)
    plain = [c for c in cats if c not in fig.combine]
    for g in groups:
        vals = [cell[g][c] for c in plain if c in cell[g] and cell[g][c].value is not None]
        view.ranked_categories[g] = sorted(vals, key=lambda v: -v.value)  # stable for ties
    for c in cats:
        vals = [cell[g][c] for g in groups[1:] if c in cell[g] and cell[g][c].value is not None]
        view.ranked_groups[c] = sorted(vals, key=lambda v: -v.value)
    return view


def build_views(figures: list[Figure], table: pd.DataFrame, codebook: Codebook) -> dict[str, FigureView]:
    out = {}
    for fig in figures:
        rows = table[table["figure"] == fig.id]
        if len(rows):
            out[fig.id] = figure_view(fig, rows, codebook)
    return out


# ------------------------------------------------------------------ charts and tables

def _matrix(view: FigureView, groups: list[str], cats: list[str]) -> list[list[float]]:
    return [[view.cell[g][c].value or 0.0 for c in cats] for g in groups]


def _shown_groups(view: FigureView) -> list[str]:
    return [g for g, _ in view.groups[1:] if any(v.value is not None for v in view.cell[g].values())]


def chart_svg(view: FigureView, fig: Figure) -> str | None:
    """The figure's chart (by its declared type) as SVG text; None for tables only."""
    plain = [c for c, _ in view.categories if c not in fig.combine]
    labels = dict(view.categories)
    kind = view.chart
    if kind == "pie" and _shown_groups(view):
        kind = "pies"
    if kind == "pie":
        vals = [view.alle[c].value or 0.0 for c in plain]
        return charts.pie([labels[c] for c in plain], vals, decimals=view.decimals)
    if kind == "pies":
        groups = _shown_groups(view)
        return charts.pies([dict(view.groups)[g] for g in groups], [labels[c] for c in plain],
                           _matrix(view, groups, plain), decimals=view.decimals)
    if kind == "stacked":
        groups = [ALL, *_shown_groups(view)]
        return charts.stacked([dict(view.groups)[g] for g in groups], [labels[c] for c in plain],
                              _matrix(view, groups, plain), decimals=view.decimals)
    if kind == "grouped":
        groups = _shown_groups(view) or [ALL]
        return charts.grouped([dict(view.groups)[g] for g in groups], [labels[c] for c in plain],
                              _matrix(view, groups, plain), decimals=view.decimals, unit=view.unit)
    if kind == "ranked":
        vals = view.ranked_categories[ALL]
        return charts.ranked([v.label for v in vals], [v.value for v in vals], top=len(vals),
                             decimals=view.decimals, unit=view.unit)
    if kind == "bar":
        key = highlight(view, fig)
        groups = _shown_groups(view)
        if groups:
            return charts.bar([dict(view.groups)[g] for g in groups],
                              [view.cell[g][key].value or 0.0 for g in groups],
                              decimals=view.decimals, unit=view.unit)
        vals = [view.alle[c] for c in plain if view.alle[c].value is not None]
        return charts.bar([v.label for v in vals], [v.value for v in vals],
                          decimals=view.decimals, unit=view.unit)
    return None


def highlight(view: FigureView, fig: Figure) -> str:
    """The category a one-value-per-group chart shows: the first listed category."""
    return view.categories[0][0]


def table_of(view: FigureView) -> dict[str, Any]:
    """The chart's numbers as a table: groups in rows, categories in columns, base n last."""
    groups = [ALL, *_shown_groups(view)] if len(view.groups) > 1 else [ALL]
    columns = ["", *[label for _, label in view.categories], "Antal svar"]
    rows = []
    for g in groups:
        cells = view.cell[g]
        first = next(iter(cells.values()))
        rows.append([dict(view.groups)[g], *[cells[c].text for c, _ in view.categories],
                     fmt.count(first.base)])
    return {"columns": columns, "rows": rows}


def alt_text(view: FigureView) -> str:
    """A sentence describing the chart's main message, from the values."""
    if len(view.groups) > 1 and _shown_groups(view):
        key = view.categories[0][0]
        order = view.ranked_groups.get(key) or []
        if order:
            top, low = order[0], order[-1]
            return (f"{view.title}. Andelen '{top.label.lower()}' er højest for "
                    f"{top.group_label.lower()} ({top.text}) og lavest for "
                    f"{low.group_label.lower()} ({low.text}).")
    order = view.ranked_categories.get(ALL) or []
    if order:
        parts = [f"{v.label.lower()} {v.text}" for v in order[:5]]
        return f"{view.title}: " + fmt.join_words(parts) + "."
    return view.title
