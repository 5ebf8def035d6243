"""The figure registry (``data/figures/*.yaml``) and the statistics that compute it.

Layer: figures (may import base … derive, and its own layer).

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

from typing import Any

import numpy as np
import pandas as pd

from lpj_report.codebook import Codebook
from lpj_report.figure_engine import Codes
from lpj_report.figure_registry import (  # noqa: F401 (re-exported: the registry's names)
    ALL,
    COLUMNS,
    STATISTICS,
    UNITS,
    Figure,
    FigureError,
    category_keys,
    check_figure,
    default_figures,
    group_keys,
    interval,
    load_figures,
    load_populations,
)


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
                 group: str, category: str, codes: Codes | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The respondents behind one cell of a figure: ``(base, hit)`` as boolean arrays over
    ``df`` for shares (``hit``: counted in the numerator), or ``(base, values)`` for a mean
    (values as floats, NaN where missing). The same rules as :func:`compute_figure`, so a test
    on these respondents is a test of the printed number. Rows are selected by category code
    (``codes``: the table's :class:`~lpj_report.figure_engine.Codes` when the caller keeps
    them)."""
    codes = codes if codes is not None else Codes(df)
    var = codebook[fig.variable]
    members = codes.mask(populations[fig.population]) & codes.mask(fig.filter)
    if group != ALL:
        members &= codes.isin(fig.breakdown, (group,))
    if fig.statistic == "share":
        valid = members & codes.answered(fig.variable) & \
            ~codes.isin(fig.variable, tuple(fig.exclude))
        return valid, valid & codes.isin(fig.variable, tuple(fig.combine.get(category,
                                                                             (category,))))
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
                    populations: dict, wave: dict[str, Any] | None = None,
                    codes: Codes | None = None) -> pd.DataFrame:
    """The tidy figure table for every registered figure, in registry order (the same rows as
    :func:`compute_figure` gives figure by figure; computed by :mod:`lpj_report.figure_engine`)."""
    from lpj_report.figure_engine import figure_table

    return figure_table(df, codebook, figures, populations, wave, codes)


