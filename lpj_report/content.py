"""The report's view model: every figure as ready-made strings and orders.

Layer: format (may import base … generate, and its own layer).

This is the layer between the numbers (the tidy figure table) and the templates. It makes no new
statistics: it formats (through :mod:`lpj_report.format`), orders (rankings, "flest",
"færrest" are the first / last of an order computed here from the values); its charts are drawn
from it by :mod:`lpj_report.figure_charts`. Templates only pick from what is here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lpj_report import format as fmt
from lpj_report.codebook import Codebook
from lpj_report.figures import ALL, Figure, category_keys, group_keys

ALL_LABEL = "Alle"
#: The total row of a figure whose population is narrowed by a filter (e.g. the seven types of
#: workplace): its base differs from the whole population's, so it is labelled apart.
ALL_FILTERED_LABEL = "Alle i figuren"
SUPPRESSED = "◊"   # a number withheld by disclosure control: data/disclosure.yaml's mark
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
    decimals: int = 0
    ci: str = ""            # the 95 % interval as printed, "19,3–23,6 %" ("" when none)
    ci_half: float | None = None   # half its width, in the row's unit (None when none)
    withheld: bool = False  # withheld by disclosure control (the text is the mark)

    @property
    def with_ci(self) -> str:
        """The value with its interval: ``21,4 % (95 %-KI 19,3–23,6 %)``."""
        return f"{self.text} (95{fmt.NBSP}%-KI {self.ci})" if self.ci else self.text

    @property
    def printed(self):
        """The value as printed (rounded half up), for comparisons that must agree with the text."""
        return None if self.value is None else fmt.quantize(self.value, self.decimals)


@dataclass(frozen=True)
class Compared:
    """One number of a municipality beside all municipalities (a municipality's edition):
    ``k``/``t`` are the printed values (the mark when withheld), ``direction`` and ``word`` come
    from the Benjamini–Hochberg-corrected test of the municipality against the other
    municipalities (:mod:`lpj_report.edition_numbers`); a difference without sure evidence is
    ``uncertain``, never "at level"."""

    figure: str
    title: str
    group: str
    group_label: str
    category: str
    label: str
    k: str
    t: str
    k_shown: bool
    t_shown: bool
    n_k: str
    n_t: str
    diff: str
    direction: str          # over | under (significant) | uncertain (not) | '' (not tested)
    word: str               # the comparison with all municipalities, worded
    significant: bool
    tested: bool
    p: str
    q: str
    k_ci: str = ""          # the municipality's 95 % interval as printed
    lineage: str = ""       # the comparison's id in the lineage: kommune.<figure>.<group>.<category>
    k_value: float | None = field(default=None, compare=False, repr=False)
    t_value: float | None = field(default=None, compare=False, repr=False)
    unit: str = "pct"
    decimals: int = 0
    #: the municipality's own number in the predecessor wave (lpj_report.trend.Previous: its
    #: text, the change and ▲/▼ when the change is sure), when the wave has one
    previous: Any = None

    @property
    def k_with_previous(self) -> str:
        """``42 % (38 % ▲)``: the municipality's number and its own previous wave's."""
        if self.previous is None:
            return self.k
        mark = f" {self.previous.mark}" if self.previous.mark else ""
        return f"{self.k} ({self.previous.text}{mark})"


def ci_decimals(unit: str, decimals: int) -> int:
    """Decimals of a printed interval: as the estimate, but at least one for means (an
    interval of whole years would hide its width)."""
    return max(decimals, 1) if unit == "years" else decimals


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
    previous: dict[str, dict[str, Any]] = field(default_factory=dict)   # lpj_report.trend
    previous_year: str = ""
    #: a municipality's edition: its numbers beside these (``compared[group][category]``)
    compared_cells: dict[str, dict[str, Compared]] = field(default_factory=dict)

    def compared(self, category: str, group: str = ALL) -> Compared:
        """The municipality's number of ``category`` (in ``group``) beside all municipalities;
        only in a municipality's edition, for the figures its manifest publishes."""
        try:
            return self.compared_cells[group][category]
        except KeyError:
            raise KeyError(f"{self.id}: no municipality number for {group}/{category}") from None

    @property
    def alle(self) -> dict[str, Value]:
        return self.cell[ALL]

    @property
    def base(self) -> str:
        """``n = 1.404`` for the whole population."""
        first = next(iter(self.cell[ALL].values()))
        return first.base_text

    @property
    def base_n(self) -> int:
        """The base of the whole population as a number (for the text: ``|count``)."""
        return next(iter(self.cell[ALL].values())).base

    # ------------------------------------------------------------- orders for the text
    # Every comparative word in the chapters is picked from these, so the text follows the data.
    # Ties are decided on the printed (rounded) value: two groups that print the same number are
    # both "highest", and both get the same place.

    def groups_by(self, category: str, exclude: tuple[str, ...] | list[str] = ()) -> list[Value]:
        """The groups' values of ``category``, highest first, without the ``exclude`` groups."""
        return [v for v in self.ranked_groups.get(category, []) if v.group not in exclude]

    def categories_by(self, group: str = ALL, exclude: tuple[str, ...] | list[str] = ()) -> list[Value]:
        """The (not combined) categories of ``group``, highest first, without ``exclude``."""
        return [v for v in self.ranked_categories.get(group, []) if v.category not in exclude]

    def highest(self, category: str, exclude: tuple[str, ...] | list[str] = ()) -> list[Value]:
        """The group(s) with the highest printed value of ``category`` (more than one on a tie)."""
        return _top(self.groups_by(category, exclude), 1)

    def lowest(self, category: str, exclude: tuple[str, ...] | list[str] = ()) -> list[Value]:
        """The group(s) with the lowest printed value of ``category``."""
        return _top(list(reversed(self.groups_by(category, exclude))), 1)

    def top_groups(self, category: str, n: int, exclude: tuple[str, ...] | list[str] = ()) -> list[Value]:
        """The ``n`` groups with the highest values, and any group tied with the n-th."""
        return _top(self.groups_by(category, exclude), n)

    def bottom_groups(self, category: str, n: int, exclude: tuple[str, ...] | list[str] = ()) -> list[Value]:
        """The ``n`` groups with the lowest values (lowest first), and any tied with the n-th."""
        return _top(list(reversed(self.groups_by(category, exclude))), n)

    def top_categories(self, group: str = ALL, n: int = 1,
                       exclude: tuple[str, ...] | list[str] = ()) -> list[Value]:
        """The ``n`` categories of ``group`` with the highest values, and any tied with the n-th."""
        return _top(self.categories_by(group, exclude), n)

    def bottom_categories(self, group: str = ALL, n: int = 1,
                          exclude: tuple[str, ...] | list[str] = ()) -> list[Value]:
        return _top(list(reversed(self.categories_by(group, exclude))), n)

    def place(self, category: str, group: str = ALL) -> int:
        """``category``'s place among the categories of ``group`` (1 = highest; ties share)."""
        values = self.categories_by(group)
        mine = self.cell[group][category]
        return 1 + sum(1 for v in values if mine.printed is not None and v.printed > mine.printed)

    def group_place(self, category: str, group: str, exclude: tuple[str, ...] | list[str] = ()) -> int:
        """``group``'s place among the groups on ``category`` (1 = highest; ties share)."""
        values = self.groups_by(category, exclude)
        mine = self.cell[group][category]
        return 1 + sum(1 for v in values if mine.printed is not None and v.printed > mine.printed)

    def tied_first(self, group: str = ALL) -> bool:
        """True when two or more categories of ``group`` share the first place as printed."""
        return len(self.top_categories(group, 1)) > 1


def _top(values: list[Value], n: int) -> list[Value]:
    """The first ``n`` of an ordered list, extended by any value printed like the n-th."""
    if not values or n < 1:
        return []
    head = values[:n]
    last = head[-1].printed
    return head + [v for v in values[n:] if v.printed == last]


def _label(codebook: Codebook, fig: Figure, key: str) -> str:
    var = codebook[fig.variable]
    if key in fig.combine:
        return " eller ".join(var.label_of(k).lower() if i else var.label_of(k)
                              for i, k in enumerate(fig.combine[key]))
    if key in ("mean", "n"):
        return fig.title
    return var.label_of(key)


def _group_label(codebook: Codebook, fig: Figure, key: str) -> str:
    if key == ALL:
        return ALL_FILTERED_LABEL if fig.filter else ALL_LABEL
    return codebook[fig.breakdown].label_of(key)


def figure_view(fig: Figure, rows: pd.DataFrame, codebook: Codebook) -> FigureView:
    """Format every row of one figure and precompute its orders (highest first)."""
    cats = category_keys(fig, codebook)
    groups = group_keys(fig, codebook)
    cell: dict[str, dict[str, Value]] = {g: {} for g in groups}
    for r in rows.itertuples(index=False):
        value = None if pd.isna(r.value) else float(r.value)
        hidden = bool(getattr(r, "suppressed", False))   # disclosure control (suppression.py)
        shown = value is not None and not hidden
        text = fmt.unit_value(value, r.unit, r.decimals) if shown else (SUPPRESSED if hidden else "–")
        number = fmt.number(value, r.decimals) if shown and r.unit != "count" else text
        base = 0 if pd.isna(r.base) else int(r.base)
        low, high = getattr(r, "ci_low", None), getattr(r, "ci_high", None)
        ci = (fmt.interval(float(low), float(high), r.unit, ci_decimals(r.unit, r.decimals))
              if shown and low is not None and not pd.isna(low) and not pd.isna(high) else "")
        cell[r.group][r.category] = Value(
            group=r.group, category=r.category, group_label=_group_label(codebook, fig, r.group),
            label=_label(codebook, fig, r.category), value=value if shown else None, text=text,
            number=number, numerator=0.0 if pd.isna(r.numerator) else float(r.numerator),
            base=base, base_text="n = " + (SUPPRESSED if hidden else fmt.count(base)),
            shown=shown, decimals=int(r.decimals), ci=ci,
            ci_half=(float(high) - float(low)) / 2 if ci else None, withheld=hidden)
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
    parts = dict(iter(table.groupby("figure", sort=False)))
    return {fig.id: figure_view(fig, parts[fig.id], codebook) for fig in figures
            if fig.id in parts}


# ------------------------------------------------------------------ charts and tables

def _shown_groups(view: FigureView, withheld: bool = False) -> list[str]:
    """Groups with numbers to show; ``withheld``: also those whose numbers are suppressed
    (tables list them with the mark; charts leave them out)."""
    return [g for g, _ in view.groups[1:]
            if any(v.value is not None or (withheld and v.text == SUPPRESSED)
                   for v in view.cell[g].values())]


def highlight(view: FigureView, fig: Figure) -> str:
    """The category a one-value-per-group chart shows: the first listed category."""
    return view.categories[0][0]


def table_of(view: FigureView, categories: list[str] | None = None,
             transpose: bool = False, base_label: str = "Antal svar",
             labels: dict[str, str] | None = None, ci: bool = False) -> dict[str, Any]:
    """The chart's numbers as a table: groups in rows, categories in columns, base n last.

    ``categories`` picks and orders the columns; ``transpose`` puts the categories in rows and
    the groups in columns (for tables with many categories), with the base n as the last row;
    ``ci`` adds each number's 95 % interval in brackets ("21 % [19–24 %]").
    """
    groups = [ALL, *_shown_groups(view, withheld=True)] if len(view.groups) > 1 else [ALL]
    labels = {**dict(view.categories), **(labels or {})}
    cats = list(categories) if categories else [c for c, _ in view.categories]
    group_labels = dict(view.groups)
    if transpose:
        shown = [g for g in groups if g != ALL] + [ALL] if len(groups) > 1 else groups
        columns = ["", *[group_labels[g] for g in shown]]
        rows = [[labels[c], *[_with_previous(view, g, c, ci) for g in shown]] for c in cats]
        rows.append([base_label, *[fmt.count(next(iter(view.cell[g].values())).base)
                                   for g in shown]])
        return {"columns": columns, "rows": rows}
    columns = ["", *[labels[c] for c in cats], base_label]
    rows = []
    for g in groups:
        cells = view.cell[g]
        first = next(iter(cells.values()))
        rows.append([group_labels[g], *[_with_previous(view, g, c, ci) for c in cats],
                     fmt.count(first.base)])
    return {"columns": columns, "rows": rows}


def _with_previous(view: FigureView, group: str, category: str, ci: bool = False) -> str:
    """A cell's text (with its interval in brackets when ``ci``), and the predecessor wave's
    value in parentheses (▲/▼ when the change is significant) when the wave has one."""
    value = view.cell[group][category]
    text = f"{value.text} [{value.ci}]" if ci and value.ci else value.text
    prev = view.previous.get(group, {}).get(category)
    if prev is None:
        return text
    return f"{text} ({prev.text}{' ' + prev.mark if prev.mark else ''})"


def alt_text(view: FigureView, options: dict[str, Any] | None = None) -> str:
    """What the chart shows, value by value in the chart's order — a description of the
    picture, not a finding (the text states those, from their tests)."""
    options = options or {}
    if len(view.groups) > 1 and _shown_groups(view):
        key = options.get("category") or (options.get("categories") or [view.categories[0][0]])[0]
        order = view.groups_by(key)
        if order:
            parts = [f"{v.group_label.lower()} {v.text}" for v in order]
            return (f"{view.title}. Andelen '{order[0].label.lower()}': "
                    + fmt.join_words(parts) + ".")
    order = view.ranked_categories.get(ALL) or []
    if order:
        parts = [f"{v.label.lower()} {v.text}" for v in order]
        return f"{view.title}: " + fmt.join_words(parts) + "."
    return view.title
