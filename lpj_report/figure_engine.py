"""The figure table computed with integer codes and ``np.bincount``, one pass per figure.

Layer: figures (may import base … derive, and its own layer).

:func:`lpj_report.figures.compute_figures` calls :func:`figure_table`. It gives exactly the
rows of :func:`lpj_report.figures.compute_figure` (the statistics are defined there) — same
counts, same sums in the same order, same intervals — but counts every group of a figure in
one ``bincount`` over the category codes instead of one mask per group and category, and
reuses the masks of populations, filters and ticked options across figures. A test compares
the two on the 2002 data and on small and degenerate tables.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from lpj_report.codebook import Codebook
from lpj_report.figure_registry import ALL, COLUMNS, UNITS, Figure, category_keys, interval

#: The confidence level of the intervals (that of lpj_report.figure_registry.interval).
CONFIDENCE = 0.95


@cache
def _quantile(confidence: float, df: int | None = None) -> float:
    """The two-sided quantile of the normal (``df`` None) or t distribution: the values
    ``scipy.stats.norm.ppf`` / ``t.ppf`` give (they call these functions), without importing
    ``scipy.stats`` (a second's import and 55 MiB)."""
    from scipy.special import ndtri, stdtrit

    q = 0.5 + confidence / 2
    return float(ndtri(q) if df is None else stdtrit(df, q))


def _wilson(successes: int, n: int) -> tuple[float, float]:
    """The Wilson score interval exactly as :func:`lpj_report.figure_registry.interval` computes it
    for shares (same expression, same order of operations)."""
    z = _quantile(CONFIDENCE)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def _t_interval(total: float, n: int, sd: float | None) -> tuple[float | None, float | None]:
    """The t interval of a mean exactly as :func:`lpj_report.figure_registry.interval` computes it."""
    if n < 2 or sd is None or not np.isfinite(sd):
        return None, None
    mean = total / n
    half = _quantile(CONFIDENCE, n - 1) * sd / np.sqrt(n)
    return float(mean - half), float(mean + half)


def _interval(statistic: str, num: float, base: int,
              spread: float | None) -> tuple[float | None, float | None]:
    if not base:
        return None, None
    if statistic in ("share", "multi_share"):
        return _wilson(num, base)
    if statistic == "mean":
        return _t_interval(num, base, spread)
    return interval(statistic, num, base, spread)


class Codes:
    """Category codes, condition masks and tick masks of one table, each computed once (shared
    by the figures and the findings of one build: :attr:`lpj_report.pipeline.Build.codes`)."""

    def __init__(self, df: pd.DataFrame):
        self.df = df
        self.n = len(df)
        self._codes: dict[str, tuple[np.ndarray, list]] = {}
        self._masks: dict[tuple, np.ndarray] = {}

    def codes(self, name: str) -> tuple[np.ndarray, list]:
        """(codes with -1 = missing, categories) of a categorical column."""
        if name not in self._codes:
            col = self.df[name]
            if not isinstance(col.dtype, pd.CategoricalDtype):
                col = col.astype("category")
            # the categorical's own codes (int8 for the codebook's short code lists): a copy
            # in int64 per column would outweigh the typed table itself
            self._codes[name] = (col.cat.codes.to_numpy(), list(col.cat.categories))
        return self._codes[name]

    def isin(self, name: str, keys: tuple[str, ...]) -> np.ndarray:
        key = ("isin", name, tuple(keys))
        if key not in self._masks:
            codes, cats = self.codes(name)
            allowed = np.zeros(len(cats) + 1, dtype=bool)
            for k in keys:
                if k in cats:
                    allowed[cats.index(k) + 1] = True
            self._masks[key] = allowed[codes.astype(np.intp) + 1]
        return self._masks[key]

    def answered(self, name: str) -> np.ndarray:
        """Rows with a value (not missing) in a categorical column."""
        return self.codes(name)[0] >= 0

    def mask(self, cond: dict[str, tuple[str, ...]]) -> np.ndarray:
        key = ("all", tuple(sorted((k, tuple(v)) for k, v in cond.items())))
        if key not in self._masks:
            mask = np.ones(self.n, dtype=bool)
            for name, keys in cond.items():
                mask &= self.isin(name, keys)
            self._masks[key] = mask
        return self._masks[key]

    def ticked(self, column: str) -> np.ndarray:
        """Rows that ticked a multiple-choice option (not kept: one byte per row and option
        would add up to a third of the typed table)."""
        col = self.df[column]
        if isinstance(col.dtype, pd.Int8Dtype):
            return col.to_numpy(dtype=np.int8, na_value=0) > 0
        return col.to_numpy(dtype=float, na_value=0.0) > 0

    def any_ticked(self, columns: list[str]) -> np.ndarray:
        key = ("any", tuple(columns))
        if key not in self._masks:
            mask = np.zeros(self.n, dtype=bool)
            for col in columns:
                mask |= self.ticked(col)
            self._masks[key] = mask
        return self._masks[key]


def _by_group(mask: np.ndarray, group: np.ndarray | None, k: int) -> tuple[int, np.ndarray]:
    """(rows selected by ``mask``, rows selected per breakdown group)."""
    total = int(mask.sum())
    if group is None:
        return total, np.zeros(0, dtype=np.int64)
    sel = mask & (group >= 0)
    return total, np.bincount(group[sel], minlength=k)


def _counts(fig: Figure, data: Codes, codebook: Codebook, scope: np.ndarray,
            group: np.ndarray | None, k: int, wave: dict[str, Any] | None):
    """Per group (``None`` = alle, else the group's position): [(category, num, base, spread)]."""
    stat = fig.statistic
    groups: list[int | None] = [None, *range(k)]
    out: dict[int | None, list] = {g: [] for g in groups}
    if stat == "share":
        v, cats = data.codes(fig.variable)
        m = len(cats)
        valid = scope & (v >= 0)
        if fig.exclude:
            valid &= ~data.isin(fig.variable, tuple(fig.exclude))
        tables = {None: np.bincount(v[valid], minlength=m)}
        if group is not None:
            sel = valid & (group >= 0)
            flat = np.bincount(group[sel].astype(np.int64) * m + v[sel], minlength=k * m)
            flat = flat.reshape(k, m)
            tables.update({g: flat[g] for g in range(k)})
        positions = {c: i for i, c in enumerate(cats)}
        for key in category_keys(fig, codebook):
            keys = fig.combine.get(key, (key,))
            pos = [positions[x] for x in keys if x in positions]
            for g in groups:
                table = tables[g]
                out[g].append((key, int(table[pos].sum()), int(table.sum()), None))
    elif stat == "multi_share":
        var = codebook[fig.variable]
        answered = scope & data.any_ticked(var.columns)
        base_all, base_groups = _by_group(answered, group, k)
        by_key = {c.key: col for c, col in zip(var.codes, var.columns, strict=True)}
        for key in category_keys(fig, codebook):
            picked = np.zeros(data.n, dtype=bool)
            for x in fig.combine.get(key, (key,)):
                picked |= data.ticked(by_key[x])
            num_all, num_groups = _by_group(answered & picked, group, k)
            out[None].append((key, num_all, base_all, None))
            for g in range(k):
                out[g].append((key, int(num_groups[g]), int(base_groups[g]), None))
    elif stat == "mean":
        values = data.df[fig.variable].to_numpy(dtype=float, na_value=np.nan)
        known = scope & ~np.isnan(values)
        for g in groups:
            ok = known if g is None else known & (group == g)
            n = int(ok.sum())
            sd = float(values[ok].std(ddof=1)) if n > 1 else None
            out[g].append(("mean", float(values[ok].sum()), n, sd))
    elif stat in ("count", "response_rate"):
        total, per_group = _by_group(scope, group, k)
        sent = (wave or {}).get("sent") or {}
        keys = codebook[fig.breakdown].keys if fig.breakdown else []
        for g in groups:
            n = total if g is None else int(per_group[g])
            if stat == "count":
                out[g].append(("n", n, n, None))
            else:
                base = sum(sent.values()) if g is None else int(sent.get(keys[g], 0))
                out[g].append(("n", n, base, None))
    return out


def figure_rows(fig: Figure, data: Codes, codebook: Codebook, populations: dict,
                wave: dict[str, Any] | None) -> list[dict[str, Any]]:
    """All rows of one figure, in the order of :func:`lpj_report.figures.compute_figure`."""
    scope = data.mask(populations[fig.population]) & data.mask(fig.filter)
    unit = fig.unit or UNITS[fig.statistic]
    if fig.breakdown:
        codes, cats = data.codes(fig.breakdown)
        keys = codebook[fig.breakdown].keys
        remap = np.array([cats.index(key) if key in cats else -1 for key in keys])
        # breakdown positions in codebook order (-1 = missing or not a codebook key)
        back = np.full(len(cats) + 1, -1, dtype=np.int16)
        for pos, cat in enumerate(remap):
            if cat >= 0:
                back[cat + 1] = pos
        group, k, names = back[codes.astype(np.intp) + 1], len(keys), keys
    else:
        group, k, names = None, 0, []
    counts = _counts(fig, data, codebook, scope, group, k, wave)
    rows = []
    for g, label in [(None, ALL), *enumerate(names)]:
        for category, num, base, spread in counts[g]:
            value = (100.0 * num / base if unit == "pct" else num / base) if base else None
            if fig.statistic == "count":
                value = float(base)
            low, high = _interval(fig.statistic, num, base, spread)
            scale = 100.0 if unit == "pct" and fig.statistic != "mean" else 1.0
            rows.append({"figure": fig.id, "group": label, "category": category,
                         "numerator": num, "base": base, "value": value,
                         "ci_low": None if low is None else scale * low,
                         "ci_high": None if high is None else scale * high,
                         "unit": unit, "decimals": fig.decimals})
    return rows


def figure_table(df: pd.DataFrame, codebook: Codebook, figures: list[Figure],
                 populations: dict, wave: dict[str, Any] | None = None,
                 codes: Codes | None = None) -> pd.DataFrame:
    """The tidy figure table for every figure, in registry order (see the module docstring);
    ``codes``: the table's :class:`Codes` when the caller keeps them (``codes.df`` is ``df``)."""
    data = codes if codes is not None else Codes(df)
    rows = [r for fig in figures for r in figure_rows(fig, data, codebook, populations, wave)]
    return pd.DataFrame(rows, columns=COLUMNS)
