"""Year over year in the annual overview: the predecessor wave's value beside each number.

Layer: format (may import base … generate, and its own layer).

When a wave names a ``predecessor`` in its ``wave.yaml``, every figure row of the new wave is
compared with the same (figure, group, category) of the predecessor by :func:`lpj_report.comparison.
year_over_year` — a two-proportion z-test for shares, Welch's t-test for means, with the
Benjamini–Hochberg correction over all tested numbers. Tables then show the earlier value in
parentheses, and an arrow only where the change is significant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from lpj_report import format as fmt
from lpj_report.content import FigureView
from lpj_report.figures import ALL

UP, DOWN = "▲", "▼"


@dataclass(frozen=True)
class Previous:
    """The predecessor's value of one number: ``text`` formatted, ``change`` in points/years."""

    text: str
    change: str
    significant: bool
    mark: str            # ▲ / ▼ when significant, else ""
    year: str = ""       # the predecessor wave


def previous_table(build) -> tuple[str, pd.DataFrame] | None:
    """(predecessor year, year-over-year rows) for a build whose wave has a predecessor."""
    from lpj_report.comparison import mean_spread, year_over_year
    from lpj_report.pipeline import Build
    from lpj_report.wave import WaveError

    year = build.wave.meta.get("predecessor")
    if not year:
        return None
    project = build.project
    try:
        before = Build.load(project, year)
    except WaveError:
        return None

    def spreads(b) -> dict:
        return {(f.id, g): s for f in project.figures if f.statistic == "mean"
                for g, s in mean_spread(b.data, f, project.codebook, project.populations).items()}

    table = year_over_year(before.figures, build.figures, old_spread=spreads(before),
                           new_spread=spreads(build))
    return str(before.wave.year), table


def previous_values(year: str, table: pd.DataFrame, units: dict[str, tuple[str, int]]
                    ) -> dict[tuple[str, str, str], Previous]:
    """The predecessor's value of every (figure, group, category) of a year-over-year table
    (:func:`lpj_report.comparison.year_over_year`) that has one, formatted; ``units``: figure
    → (unit, decimals)."""
    out = {}
    for r in table.itertuples(index=False):
        if r.figure not in units or r.previous is None or pd.isna(r.previous):
            continue
        unit, decimals = units[r.figure]
        change = r.change if pd.notna(r.change) else 0.0
        mark = (UP if change > 0 else DOWN) if bool(r.significant) else ""
        change_text = fmt.pp(change, decimals) if unit == "pct" else fmt.number(change, decimals)
        out[(r.figure, r.group, r.category)] = Previous(
            text=fmt.unit_value(float(r.previous), unit, decimals), change=change_text,
            significant=bool(r.significant), mark=mark, year=str(year))
    return out


def attach(views: dict[str, FigureView], year: str, table: pd.DataFrame) -> None:
    """Give every view the predecessor's values (``view.previous[group][category]``)."""
    units = {fid: (view.unit, view.decimals) for fid, view in views.items()}
    for (figure, group, category), prev in previous_values(year, table, units).items():
        view = views[figure]
        view.previous.setdefault(group, {})[category] = prev
        view.previous_year = year


def significant_changes(views: dict[str, FigureView], limit: int = 12) -> list[dict[str, Any]]:
    """The significant changes, largest first, as strings for the text."""
    rows = []
    for view in views.values():
        for group, cats in view.previous.items():
            for cat, prev in cats.items():
                if not prev.significant or group not in view.cell or cat not in view.cell[group]:
                    continue
                now = view.cell[group][cat]
                size = abs(now.value - _value(prev)) if now.value is not None else 0
                rows.append((size, view.title, now, prev))
    rows.sort(key=lambda r: -r[0])
    return [{"figure": title, "group": "" if now.group == ALL else now.group_label,
             "category": now.label,
             "before": prev.text, "after": now.text, "change": prev.change,
             "up": prev.mark == UP} for _, title, now, prev in rows[:limit]]


def _value(prev: Previous) -> float:
    digits = "".join(ch for ch in prev.text if ch.isdigit() or ch == ",").replace(",", ".")
    return float(digits) if digits else 0.0
