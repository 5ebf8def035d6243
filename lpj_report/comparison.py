"""The figures of two waves matched number by number and their changes tested.

Layer: findings (imports base and figures modules only). ``lpj diff`` (:mod:`lpj_report.diff`)
prints and writes what :func:`compare` finds; the annual overview's year-over-year columns
(:mod:`lpj_report.trend`) use :func:`year_over_year`; the editions use :func:`mean_spread`. The
tests are those of :mod:`lpj_report.stats`: shares by the pooled two-proportion z-test (for small
counts too: unlike the editions, a change between waves is never tested by Fisher's exact test),
means by Welch's t-test, all tested changes of one comparison corrected together by
Benjamini–Hochberg.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from lpj_report import stats

KEY = ["figure", "group", "category"]
#: Every compared number gets exactly one status ("not_significant": tested, and the change
#: is not sure — never "unchanged").
STATUS_ORDER = {"changed": 0, "added": 1, "removed": 2, "not_significant": 3, "not_tested": 4,
                "suppressed": 5, "no_data": 6}
#: Why a number present on both sides was not tested (column ``reason``).
REASONS = ("count", "no_spread", "declaration")


def mean_spread(data: pd.DataFrame, fig, codebook, populations) -> dict[str, tuple]:
    """Per group of a mean figure: (mean, standard deviation, n) from the respondents."""
    from lpj_report.figures import ALL, _mask, group_keys

    scope = _mask(data, populations[fig.population]) & _mask(data, fig.filter)
    values = data[fig.variable].to_numpy(dtype=float, na_value=np.nan)
    out = {}
    for g in group_keys(fig, codebook):
        members = scope if g == ALL else scope & (data[fig.breakdown] == g).to_numpy(bool)
        v = values[members & ~np.isnan(values)]
        out[g] = (float(v.mean()) if len(v) else float("nan"),
                  float(v.std(ddof=1)) if len(v) > 1 else float("nan"), int(len(v)))
    return out


def _key_columns(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    return KEY + (["kommune"] if "kommune" in a.columns and "kommune" in b.columns else [])


def compare(old: pd.DataFrame, new: pd.DataFrame, *, alpha: float = 0.05,
            old_spread: dict | None = None, new_spread: dict | None = None,
            untested: Iterable[str] = ()) -> pd.DataFrame:
    """One row per number present on either side: values, change, test, BH q, status.

    ``status`` is one of :data:`STATUS_ORDER`; a number on both sides that could not be tested
    says why in ``reason`` (:data:`REASONS`). ``untested``: figure ids not to test (declared
    differently on the two sides)."""
    untested = set(untested)
    key = _key_columns(old, new)
    cols = ["numerator", "base", "value", "unit", "decimals", "suppressed"]
    a = old.copy()
    b = new.copy()
    for t in (a, b):
        if "suppressed" not in t.columns:
            t["suppressed"] = False
    merged = a[key + cols].merge(b[key + cols], on=key, how="outer", suffixes=("_old", "_new"),
                                 indicator=True, sort=False)
    out = []
    for r in merged.to_dict(orient="records"):
        unit = r["unit_new"] if isinstance(r.get("unit_new"), str) else r["unit_old"]
        dec = r["decimals_new"] if pd.notna(r.get("decimals_new")) else r["decimals_old"]
        rec = {k: r[k] for k in key}
        rec.update(unit=unit, decimals=int(dec), old=_num(r["value_old"]), new=_num(r["value_new"]),
                   old_base=_num(r["base_old"]), new_base=_num(r["base_new"]),
                   change=None, statistic=None, p=None, test="", reason="")
        if r["_merge"] == "left_only":
            rec["status"] = "removed"
        elif r["_merge"] == "right_only":
            rec["status"] = "added"
        elif bool(r["suppressed_old"]) or bool(r["suppressed_new"]):
            rec.update(status="suppressed", old=None, new=None, old_base=None, new_base=None)
        elif rec["old"] is None or rec["new"] is None:
            rec["status"] = "no_data"
        else:
            rec["change"] = rec["new"] - rec["old"]
            if r["figure"] in untested:
                z, p = None, None
            else:
                z, p = _test(r, unit, old_spread or {}, new_spread or {})
            if p is None or not np.isfinite(p):
                rec["status"] = "not_tested"
                rec["reason"] = ("declaration" if r["figure"] in untested
                                 else "no_spread" if unit == "years" else "count")
            else:
                rec.update(statistic=z, p=p, status="tested",
                           test="z" if unit == "pct" else "welch")
        out.append(rec)
    table = pd.DataFrame(out)
    for col in ("old", "new", "old_base", "new_base", "change", "statistic", "p"):
        table[col] = pd.to_numeric(table[col], errors="coerce").astype(float)
    tested = table["status"] == "tested"
    table["q"] = np.nan
    if tested.any():
        q = stats.bh(table.loc[tested, "p"].to_numpy(float))
        table.loc[tested, "q"] = q
        table.loc[tested, "status"] = np.where(q < alpha, "changed", "not_significant")
    table["significant"] = table["status"] == "changed"
    order = table["status"].map(STATUS_ORDER)
    strength = -table["statistic"].abs().fillna(0)
    table = table.assign(_o=order, _s=strength).sort_values(
        ["_o", "_s"], kind="stable").drop(columns=["_o", "_s"]).reset_index(drop=True)
    return table


def _num(value) -> float | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or pd.isna(value):
        return None
    return float(value)


def _test(r: dict, unit: str, old_spread: dict, new_spread: dict):
    """(statistic, p) of the change new − old (lpj_report.stats): the pooled z-test of two
    shares (never Fisher's exact test, as the report's year-over-year columns) or Welch's t-test
    of two means; (None, None) untested."""
    if unit == "pct":
        test = stats.two_proportions(float(r["numerator_new"]), float(r["base_new"]),
                                     float(r["numerator_old"]), float(r["base_old"]),
                                     exact_small=False)
        return test.statistic, test.p
    if unit == "years":
        key = (r["figure"], r["group"]) + ((str(r["kommune"]),) if "kommune" in r else ())
        so = old_spread.get(key) or old_spread.get(key[:2])
        sn = new_spread.get(key) or new_spread.get(key[:2])
        if so and sn:
            test = stats.welch(*sn, *so)
            return test.statistic, test.p
    return None, None


def year_over_year(old: pd.DataFrame, new: pd.DataFrame, alpha: float = 0.05,
                   old_spread: dict | None = None, new_spread: dict | None = None
                   ) -> pd.DataFrame:
    """For the annual overview: per (figure, group, category) of ``new``, the previous value
    (None when new, suppressed or missing), the change and whether it is significant (two-
    proportion z-test / Welch, Benjamini–Hochberg over all tested numbers)."""
    table = compare(old, new, alpha=alpha, old_spread=old_spread, new_spread=new_spread)
    table = table[table["status"] != "removed"]
    out = table[[*_key_columns(old, new), "old", "change", "p", "q", "significant",
                 "status"]].rename(columns={"old": "previous"})
    return out.reset_index(drop=True)
