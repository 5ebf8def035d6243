"""The figure registry (``data/figures/*.yaml``) and the statistics that compute it.

Every number in the report is one row of the tidy figure table:

    figure, group, category, numerator, base, value, unit, decimals

Statistics (base n always counts whole respondents):

* ``share``: respondents in population ∩ filter ∩ group who gave a non-missing answer that is
  not in ``exclude`` form the base; the numerator is those whose answer is the category (or any
  key of a combined category); value = 100 · numerator / base.
* ``multi_share``: for each option of a multiple-choice question, the base is the respondents in
  population ∩ filter ∩ group who ticked at least one option (a question left blank is missing);
  the numerator is those who ticked the option.
* ``mean``: mean of a number variable over respondents with a non-missing answer; numerator is
  the sum, base the number answering.
* ``count``: respondents in population ∩ filter ∩ group (value = base = numerator).
* ``response_rate``: per role (breakdown ``rolle``) and in total, returned questionnaires
  (respondents in the data) as a percentage of questionnaires sent (wave metadata).

A group whose base is 0 gives a row with missing value.

Every estimate carries its 95 % confidence interval (``ci_low``, ``ci_high``, in the row's unit),
computed as if the respondents were a simple random sample (see the method appendix):

* shares (``share``, ``multi_share``): the Wilson score interval for numerator / base;
* means: the t interval, mean ± t(0,975; n − 1) · s / √n (no interval below n = 2);
* counts and response rates: none (they count the questionnaires in hand, they estimate
  nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lpj_report.cli_errors import InputError
from lpj_report.codebook import Codebook
from lpj_report.paths import DATA_DIR
from lpj_report.stats import t_interval, wilson

STATISTICS = ("share", "multi_share", "mean", "count", "response_rate")
UNITS = {"share": "pct", "multi_share": "pct", "mean": "years", "count": "count",
         "response_rate": "pct"}
ALL = "alle"
COLUMNS = ["figure", "group", "category", "numerator", "base", "value", "ci_low", "ci_high",
           "unit", "decimals"]


class FigureError(InputError):
    """A figure declaration is inconsistent with the codebook."""


@dataclass(frozen=True)
class Figure:
    id: str
    title: str
    variable: str
    statistic: str
    population: str = "alle"
    filter: dict[str, tuple[str, ...]] = field(default_factory=dict)
    breakdown: str | None = None
    combine: dict[str, tuple[str, ...]] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    categories: tuple[str, ...] | None = None
    decimals: int = 0
    chart: str = "none"
    section: str = ""
    note: str = ""
    unit: str | None = None

    @property
    def variables(self) -> list[str]:
        """Every variable the figure reads (for the generator and for validation)."""
        names = [self.variable, *self.filter]
        if self.breakdown:
            names.append(self.breakdown)
        return names


def load_populations(path: Path | None = None) -> dict[str, dict[str, tuple[str, ...]]]:
    """Named respondent groups (``data/populations.yaml``): name → variable → keys."""
    from lpj_report.readers import mapping, read_yaml

    path = path or DATA_DIR / "populations.yaml"
    file = path.name
    doc = mapping(read_yaml(path, "populations file"), file, "(top level)",
                  "a mapping with the key 'populations'")
    raw = mapping(doc.get("populations"), file, "populations",
                  "a mapping of population → conditions", empty_ok=False)
    out = {}
    for name, cond in raw.items():
        cond = mapping(cond, file, f"populations.{name}",
                       "a mapping of variable → list of keys, or {}")
        out[str(name)] = {str(k): _keys(v, file, f"populations.{name}.{k}")
                          for k, v in cond.items()}
    return out


def _keys(value: Any, file: str, key: str) -> tuple[str, ...]:
    from lpj_report.readers import sequence

    items = sequence(value, file, key, "a list of keys")
    if not all(isinstance(v, str) for v in items):
        raise FigureError.at(file, "a list of keys (text)", key=key, value=value)
    return tuple(items)


def _figure(raw: dict[str, Any], file: str = "figures") -> Figure:
    from lpj_report.readers import mapping, text, whole_number

    where = f"figure {raw.get('id')!r}"
    for key in ("id", "variable"):
        if key not in raw:
            raise KeyError(key)
        text(raw[key], file, f"{where}.{key}", "text")
    optional_text = ("title", "statistic", "population", "breakdown", "chart", "section",
                     "note", "unit")
    for key in optional_text:
        if raw.get(key) is not None:
            text(raw[key], file, f"{where}.{key}", "text")
    decimals = whole_number(raw.get("decimals", 0), file, f"{where}.decimals",
                            "a whole number from 0 to 6", minimum=0, maximum=6)
    groups = {key: {str(k): _keys(v, file, f"{where}.{key}.{k}")
                    for k, v in mapping(raw.get(key), file, f"{where}.{key}",
                                        "a mapping of name → list of keys").items()}
              for key in ("filter", "combine")}
    return Figure(
        id=str(raw["id"]),
        title=str(raw.get("title", "")),
        variable=str(raw["variable"]),
        statistic=str(raw.get("statistic", "share")),
        population=str(raw.get("population", "alle")),
        filter=groups["filter"],
        breakdown=raw.get("breakdown"),
        combine=groups["combine"],
        exclude=_keys(raw.get("exclude"), file, f"{where}.exclude"),
        categories=_keys(raw["categories"], file, f"{where}.categories")
        if raw.get("categories") else None,
        decimals=decimals,
        chart=str(raw.get("chart", "none")),
        section=str(raw.get("section", "")),
        note=str(raw.get("note", "")),
        unit=raw.get("unit"),
    )


def load_figures(codebook: Codebook, folder: Path | None = None,
                 populations: dict | None = None) -> list[Figure]:
    """Read every figure declaration (file name order) and check it against the codebook."""
    from lpj_report.readers import mapping, read_yaml, sequence

    folder = folder or DATA_DIR / "figures"
    populations = populations if populations is not None else load_populations()
    figures: list[Figure] = []
    seen: set[str] = set()
    for path in sorted(folder.glob("*.yaml")):
        doc = mapping(read_yaml(path, "figure file"), path.name, "(top level)",
                      "a mapping with the key 'figures'")
        for raw in sequence(doc.get("figures"), path.name, "figures", "a list of figures"):
            raw = mapping(raw, path.name, "figures", "a mapping per figure (id, variable, …)",
                          empty_ok=False)
            try:
                fig = _figure(raw, path.name)
            except KeyError as exc:
                raise FigureError(f"{path.name}: figure {raw.get('id')!r} lacks {exc}") from None
            if fig.id in seen:
                raise FigureError(f"{path.name}: figure id {fig.id!r} declared twice")
            seen.add(fig.id)
            check_figure(fig, codebook, populations, source=path.name)
            figures.append(fig)
    return figures


def check_figure(fig: Figure, codebook: Codebook, populations: dict, source: str = "") -> None:
    where = f"{source}: {fig.id}"
    if fig.statistic not in STATISTICS:
        raise FigureError(f"{where}: statistic must be one of {STATISTICS}")
    if fig.population not in populations:
        raise FigureError(f"{where}: unknown population {fig.population!r}")
    for name in fig.variables:
        if name not in codebook:
            raise FigureError(f"{where}: variable {name!r} is not in the codebook")
    var = codebook[fig.variable]
    for name, keys in fig.filter.items():
        bad = set(keys) - set(codebook[name].keys)
        if bad:
            raise FigureError(f"{where}: filter {name} has unknown keys {sorted(bad)}")
    for name, keys in fig.combine.items():
        bad = set(keys) - set(var.keys)
        if bad:
            raise FigureError(f"{where}: combine {name} has unknown keys {sorted(bad)}")
    if fig.statistic in ("share", "multi_share") and var.kind == "number":
        raise FigureError(f"{where}: {fig.statistic} needs a categorical variable")
    if fig.statistic == "multi_share" and var.kind != "multi":
        raise FigureError(f"{where}: multi_share needs a multiple-choice variable")
    if fig.statistic == "share" and var.kind != "single":
        raise FigureError(f"{where}: share needs a single-choice variable")
    if fig.statistic == "mean" and var.kind != "number":
        raise FigureError(f"{where}: mean needs a number variable")
    if fig.breakdown and codebook[fig.breakdown].kind != "single":
        raise FigureError(f"{where}: breakdown must be a single-choice variable")


def category_keys(fig: Figure, codebook: Codebook) -> list[str]:
    """The category keys a figure reports, in codebook order, then combined categories."""
    var = codebook[fig.variable]
    if fig.statistic in ("mean",):
        return ["mean"]
    if fig.statistic in ("count", "response_rate"):
        return ["n"]
    keys = list(fig.categories) if fig.categories else [k for k in var.keys if k not in fig.exclude]
    return keys + [k for k in fig.combine if k not in keys]


def group_keys(fig: Figure, codebook: Codebook) -> list[str]:
    return [ALL] + (codebook[fig.breakdown].keys if fig.breakdown else [])


def _mask(df: pd.DataFrame, cond: dict[str, tuple[str, ...]]) -> np.ndarray:
    mask = np.ones(len(df), dtype=bool)
    for name, keys in cond.items():
        mask &= df[name].isin(keys).to_numpy(dtype=bool)
    return mask


def compute_figure(fig: Figure, df: pd.DataFrame, codebook: Codebook, populations: dict,
                   wave: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """All rows of one figure (see the module docstring for the statistics)."""
    var = codebook[fig.variable]
    scope = _mask(df, populations[fig.population]) & _mask(df, fig.filter)
    unit = fig.unit or UNITS[fig.statistic]
    rows = []
    for group in group_keys(fig, codebook):
        members = scope if group == ALL else scope & (df[fig.breakdown] == group).to_numpy(bool)
        for category, num, base, spread in _statistic(fig, var, df, members, group, codebook,
                                                      wave):
            value = (100.0 * num / base if unit == "pct" else num / base) if base else None
            if fig.statistic == "count":
                value = float(base)
            low, high = interval(fig.statistic, num, base, spread)
            scale = 100.0 if unit == "pct" and fig.statistic != "mean" else 1.0
            rows.append({"figure": fig.id, "group": group, "category": category,
                         "numerator": num, "base": base, "value": value,
                         "ci_low": None if low is None else scale * low,
                         "ci_high": None if high is None else scale * high,
                         "unit": unit, "decimals": fig.decimals})
    return rows


def interval(statistic: str, num: float, base: int,
             spread: float | None) -> tuple[float | None, float | None]:
    """The 95 % interval of one row, as a fraction for shares and in the variable's unit for
    means; (None, None) for counts, response rates and empty groups."""
    if not base:
        return None, None
    if statistic in ("share", "multi_share"):
        return wilson(num, base)
    if statistic == "mean":
        return t_interval(num, base, spread)
    return None, None


def _statistic(fig, var, df, members, group, codebook, wave):
    if fig.statistic == "share":
        col = df[fig.variable]
        valid = members & col.notna().to_numpy(bool) & ~col.isin(fig.exclude).to_numpy(bool)
        base = int(valid.sum())
        for key in category_keys(fig, codebook):
            keys = fig.combine.get(key, (key,))
            yield key, int((valid & col.isin(keys).to_numpy(bool)).sum()), base, None
    elif fig.statistic == "multi_share":
        ticks = df[var.columns].fillna(0).to_numpy(dtype=float)
        answered = members & (ticks.sum(axis=1) > 0)
        base = int(answered.sum())
        by_key = {c.key: ticks[:, i] for i, c in enumerate(var.codes)}
        for key in category_keys(fig, codebook):
            picked = np.zeros(len(df), dtype=bool)
            for k in fig.combine.get(key, (key,)):
                picked |= by_key[k] > 0
            yield key, int((answered & picked).sum()), base, None
    elif fig.statistic == "mean":
        values = df[fig.variable].to_numpy(dtype=float, na_value=np.nan)
        ok = members & ~np.isnan(values)
        n = int(ok.sum())
        sd = float(values[ok].std(ddof=1)) if n > 1 else None
        yield "mean", float(values[ok].sum()), n, sd
    elif fig.statistic == "count":
        n = int(members.sum())
        yield "n", n, n, None
    elif fig.statistic == "response_rate":
        sent = (wave or {}).get("sent") or {}
        n = int(members.sum())
        base = sum(sent.values()) if group == ALL else int(sent.get(group, 0))
        yield "n", n, base, None


def cell_members(fig: Figure, df: pd.DataFrame, codebook: Codebook, populations: dict,
                 group: str, category: str) -> tuple[np.ndarray, np.ndarray]:
    """The respondents behind one cell of a figure: ``(base, hit)`` as boolean arrays over
    ``df`` for shares (``hit``: counted in the numerator), or ``(base, values)`` for a mean
    (values as floats, NaN where missing). The same rules as :func:`compute_figure`, so a test
    on these respondents is a test of the printed number."""
    var = codebook[fig.variable]
    members = _mask(df, populations[fig.population]) & _mask(df, fig.filter)
    if group != ALL:
        members &= (df[fig.breakdown] == group).to_numpy(bool)
    if fig.statistic == "share":
        col = df[fig.variable]
        valid = members & col.notna().to_numpy(bool) & ~col.isin(fig.exclude).to_numpy(bool)
        return valid, valid & col.isin(fig.combine.get(category, (category,))).to_numpy(bool)
    if fig.statistic == "multi_share":
        ticks = df[var.columns].fillna(0).to_numpy(dtype=float) > 0
        answered = members & ticks.any(axis=1)
        keys = [c.key for c in var.codes]
        picked = np.zeros(len(df), dtype=bool)
        for k in fig.combine.get(category, (category,)):
            picked |= ticks[:, keys.index(k)]
        return answered, answered & picked
    if fig.statistic == "mean":
        values = df[fig.variable].to_numpy(dtype=float, na_value=np.nan)
        return members & ~np.isnan(values), values
    raise FigureError(f"{fig.id}: {fig.statistic} figures have no respondents to test")


def compute_figures(df: pd.DataFrame, codebook: Codebook, figures: list[Figure],
                    populations: dict, wave: dict[str, Any] | None = None) -> pd.DataFrame:
    """The tidy figure table for every registered figure, in registry order (the same rows as
    :func:`compute_figure` gives figure by figure; computed by :mod:`lpj_report.figure_engine`)."""
    from lpj_report.figure_engine import figure_table

    return figure_table(df, codebook, figures, populations, wave)


@cache
def default_figures() -> tuple[Figure, ...]:
    from lpj_report.codebook import default_codebook

    return tuple(load_figures(default_codebook()))
