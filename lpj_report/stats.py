"""The significance tests behind the publication's claims of association and no association.

* ``chi2`` — Pearson's χ² test of independence on the x × y table of respondents in the claim's
  population with both answers (rows or columns with no respondents are dropped). A claim of
  association holds when p < alpha; ``positive``/``negative`` claims also need Spearman's ρ of
  the two variables' codebook orders to have that sign.
* ``spearman`` — Spearman's rank correlation of the codebook orders of x and y (``reverse_x``
  reads x backwards); holds when p < alpha and the sign matches.
* ``two_proportions`` — two-sided z-test that the share of y's ``category`` is the same in group
  ``a`` and group ``b`` of x (pooled variance); ``positive`` means a's share is higher. When y
  is a multiple-choice question the share is of those who ticked the option among those who
  answered the question.
* ``spearman`` with ``over: options`` (y a multiple-choice question) — do groups ``a`` and ``b``
  of x rank the options alike? Spearman's ρ between the two groups' shares over the options;
  ``positive`` holds when ρ > 0 with p < alpha.

A claim of *no* association (``expect: none``) holds when p ≥ alpha. Missing answers are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest

from lpj_report.targets import Claim


@dataclass(frozen=True)
class TestResult:
    claim: str
    test: str
    statistic: float
    p_value: float
    n: int
    holds: bool
    detail: str = ""
    rho: float | None = None


def _codes(col: pd.Series) -> np.ndarray:
    if isinstance(col.dtype, pd.CategoricalDtype):
        vals = col.cat.codes.to_numpy(dtype=float)
        vals[vals < 0] = np.nan
        return vals
    return col.to_numpy(dtype=float, na_value=np.nan)


def _mask(df: pd.DataFrame, claim: Claim, populations: dict) -> np.ndarray:
    mask = np.ones(len(df), dtype=bool)
    for name, keys in {**populations[claim.population], **claim.filter}.items():
        mask &= df[name].isin(keys).to_numpy(bool)
    return mask


def _scope(df: pd.DataFrame, claim: Claim, populations: dict) -> pd.DataFrame:
    sub = df.loc[_mask(df, claim, populations), [claim.x, claim.y]]
    return sub[sub[claim.x].notna() & sub[claim.y].notna()]


def _multi_ticks(df: pd.DataFrame, claim: Claim, populations: dict, codebook):
    """(x values, ticks matrix, option keys) of those in scope who answered the question."""
    var = codebook[claim.y]
    ticks = df[var.columns].fillna(0).to_numpy(dtype=float)
    keep = _mask(df, claim, populations) & (ticks.sum(axis=1) > 0) & df[claim.x].notna().to_numpy(bool)
    return df.loc[keep, claim.x], ticks[keep] > 0, var.keys


def _test_multi(df: pd.DataFrame, claim: Claim, populations: dict, codebook) -> TestResult:
    x, ticks, keys = _multi_ticks(df, claim, populations, codebook)
    con = claim.contrast or {}
    in_a = x.isin(con["a"]).to_numpy(bool)
    in_b = x.isin(con["b"]).to_numpy(bool)
    if in_a.sum() == 0 or in_b.sum() == 0:
        return TestResult(claim.id, claim.test, float("nan"), 1.0, len(x), False, "empty group")
    if claim.test == "spearman":
        share_a = ticks[in_a].mean(axis=0)
        share_b = ticks[in_b].mean(axis=0)
        rho, p = spearman(share_a, share_b)
        holds = p >= claim.alpha if claim.expect == "none" else (
            p < claim.alpha and _direction_ok(claim.expect, rho))
        return TestResult(claim.id, claim.test, rho, p, int(in_a.sum() + in_b.sum()), bool(holds),
                          f"rho = {rho:.3f} over {len(keys)} options", rho)
    hit = ticks[:, keys.index(con["category"])]
    return _two_proportions(claim, hit, in_a, in_b)


def _two_proportions(claim: Claim, hit: np.ndarray, in_a: np.ndarray, in_b: np.ndarray) -> TestResult:
    counts = np.array([hit[in_a].sum(), hit[in_b].sum()])
    nobs = np.array([in_a.sum(), in_b.sum()])
    if nobs.min() == 0:
        return TestResult(claim.id, claim.test, float("nan"), 1.0, int(nobs.sum()), False,
                          "empty group")
    z, p = proportions_ztest(counts, nobs)
    diff = counts[0] / nobs[0] - counts[1] / nobs[1]
    holds = p >= claim.alpha if claim.expect == "none" else (
        p < claim.alpha and _direction_ok(claim.expect, diff))
    detail = (f"a: {counts[0]}/{nobs[0]} = {100 * counts[0] / nobs[0]:.1f} %, "
              f"b: {counts[1]}/{nobs[1]} = {100 * counts[1] / nobs[1]:.1f} %")
    return TestResult(claim.id, claim.test, float(z), float(p), int(nobs.sum()), bool(holds),
                      detail)


def _direction_ok(expect: str, value: float) -> bool:
    if expect == "positive":
        return value > 0
    if expect == "negative":
        return value < 0
    return True


def spearman(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    if len(x) < 3 or np.all(x == x[0]) or np.all(y == y[0]):
        return 0.0, 1.0
    res = stats.spearmanr(x, y)
    return float(res.statistic), float(res.pvalue)


def test_claim(df: pd.DataFrame, claim: Claim, populations: dict, codebook=None) -> TestResult:
    """Run the claim's test on the respondents in its population (see module docstring)."""
    if codebook is not None and codebook[claim.y].kind == "multi":
        return _test_multi(df, claim, populations, codebook)
    sub = _scope(df, claim, populations)
    x = _codes(sub[claim.x])
    y = _codes(sub[claim.y])
    if claim.reverse_x:
        x = -x
    n = len(sub)
    if claim.test == "two_proportions":
        con = claim.contrast or {}
        in_a = sub[claim.x].isin(con["a"]).to_numpy(bool)
        in_b = sub[claim.x].isin(con["b"]).to_numpy(bool)
        cats = con["category"] if isinstance(con["category"], list) else [con["category"]]
        hit = sub[claim.y].isin(cats).to_numpy(bool)
        return _two_proportions(claim, hit, in_a, in_b)
    rho, p_rho = spearman(x, y)
    if claim.test == "spearman":
        holds = p_rho >= claim.alpha if claim.expect == "none" else (
            p_rho < claim.alpha and _direction_ok(claim.expect, rho))
        return TestResult(claim.id, claim.test, rho, p_rho, n, bool(holds), f"rho = {rho:.3f}", rho)
    if claim.test == "chi2":
        table = pd.crosstab(sub[claim.x].astype("object"), sub[claim.y].astype("object"))
        table = table.loc[table.sum(axis=1) > 0, table.sum(axis=0) > 0]
        if table.shape[0] < 2 or table.shape[1] < 2:
            return TestResult(claim.id, claim.test, 0.0, 1.0, n, claim.expect == "none",
                              "table has fewer than two rows or columns")
        chi2, p, dof, _ = stats.chi2_contingency(table.to_numpy(), correction=False)
        holds = p >= claim.alpha if claim.expect == "none" else (
            p < claim.alpha and _direction_ok(claim.expect, rho))
        return TestResult(claim.id, claim.test, float(chi2), float(p), n, bool(holds),
                          f"df = {dof}, rho = {rho:.3f}", rho)
    raise ValueError(f"{claim.id}: unknown test {claim.test!r}")
