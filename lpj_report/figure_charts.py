"""A figure view drawn as its chart: picks the chart type and hands labels and values to
:mod:`lpj_report.charts`.

Layer: charts (imports base to format modules: ``content`` for the view, ``charts`` to draw). The
report context (:mod:`lpj_report.report_context`) calls :func:`chart_svg` for every figure block.
"""

from __future__ import annotations

from typing import Any

from lpj_report import charts
from lpj_report.content import FigureView, _shown_groups, highlight
from lpj_report.figures import ALL, Figure


def _matrix(view: FigureView, groups: list[str], cats: list[str]) -> list[list[float]]:
    return [[view.cell[g][c].value or 0.0 for c in cats] for g in groups]



def chart_svg(view: FigureView, fig: Figure, options: dict[str, Any] | None = None) -> str | None:
    """The figure's chart (by its declared type) as SVG text; None for tables only.

    ``options`` (from the chapter's figure block) may choose what the chart shows:
    ``categories`` — the category keys to draw, in order (combined keys allowed; default: the
    plain categories); ``category`` — the one category of a chart with one value per group
    (``bar``, and ``ranked`` with a breakdown); ``sort`` — bars highest first; ``labels`` —
    shorter display labels for category keys.
    """
    options = options or {}
    labels = {**dict(view.categories), **(options.get("labels") or {})}
    plain = [c for c, _ in view.categories if c not in fig.combine]
    chosen = list(options.get("categories") or plain)
    unknown = [c for c in chosen if c not in dict(view.categories)]
    if unknown:
        raise ValueError(f"{view.id}: no categories {unknown} to chart")
    kind = view.chart
    if kind == "pie" and _shown_groups(view):
        kind = "pies"
    if kind == "pie":
        vals = [view.alle[c].value or 0.0 for c in chosen]
        return charts.pie([labels[c] for c in chosen], vals, decimals=view.decimals)
    if kind == "pies":
        groups = _shown_groups(view)
        return charts.pies([dict(view.groups)[g] for g in groups], [labels[c] for c in chosen],
                           _matrix(view, groups, chosen), decimals=view.decimals)
    if kind == "stacked":
        groups = [ALL, *_shown_groups(view)]
        return charts.stacked([dict(view.groups)[g] for g in groups], [labels[c] for c in chosen],
                              _matrix(view, groups, chosen), decimals=view.decimals)
    if kind == "grouped":
        groups = _shown_groups(view) or [ALL]
        return charts.grouped([dict(view.groups)[g] for g in groups], [labels[c] for c in chosen],
                              _matrix(view, groups, chosen), decimals=view.decimals, unit=view.unit)
    groups = _shown_groups(view)
    if kind == "ranked":
        if groups and options.get("category"):
            vals = view.groups_by(options["category"])
            return charts.ranked([v.group_label for v in vals], [v.value for v in vals],
                                 top=len(vals), decimals=view.decimals, unit=view.unit)
        vals = view.ranked_categories[ALL]
        return charts.ranked([v.label for v in vals], [v.value for v in vals], top=len(vals),
                             decimals=view.decimals, unit=view.unit)
    if kind == "bar":
        key = options.get("category") or highlight(view, fig)
        sort = bool(options.get("sort"))
        if groups:
            return charts.bar([dict(view.groups)[g] for g in groups],
                              [view.cell[g][key].value or 0.0 for g in groups],
                              decimals=view.decimals, unit=view.unit, sort=sort)
        vals = [view.alle[c] for c in chosen if view.alle[c].value is not None]
        return charts.bar([v.label for v in vals], [v.value for v in vals],
                          decimals=view.decimals, unit=view.unit, sort=sort)
    return None
