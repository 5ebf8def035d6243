"""The statistics of the plausibility checks: acceptance bands, the municipality-spread test,
χ² percentiles, partial Spearman and the uniformity of p-values.

Layer: base (imports nothing from lpj_report). Shared by the generator's acceptance checks
(:mod:`lpj_report.generate.checks`) and the plausibility report (:mod:`lpj_report.plausibility`,
which documents each statistic), so that the generator need not import the report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

NULL_BAND = (0.10, 0.95)          # p-value band a "no association" claim must fall in
SPREAD_BAND = (5.0, 95.0)         # percentile band of the municipality span
N_SIM = 4000


@dataclass(frozen=True)
class SpreadResult:
    span: float                   # percentage points
    percentile: float             # of the observed span in the simulated distribution
    median: float
    p05: float
    p95: float
    groups: int
    n: int


def share_span(hit: np.ndarray, group: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """(span in points, group sizes, group hits) over the groups present."""
    keys, inv = np.unique(group, return_inverse=True)
    sizes = np.bincount(inv, minlength=len(keys))
    hits = np.bincount(inv, weights=hit.astype(float), minlength=len(keys))
    shares = 100 * hits / sizes
    return float(shares.max() - shares.min()), sizes, hits


def spread_test(hit: np.ndarray, group: np.ndarray, n_sim: int = N_SIM,
                seed: int = 0) -> SpreadResult:
    """The span of the share of ``hit`` across ``group`` and its percentile under equal true
    shares (binomial draws at the pooled share, each group its own size)."""
    span, sizes, hits = share_span(hit, group)
    pooled = hits.sum() / sizes.sum()
    rng = np.random.default_rng(seed)
    draws = rng.binomial(sizes[None, :], pooled, size=(n_sim, len(sizes))) / sizes[None, :]
    spans = 100 * (draws.max(axis=1) - draws.min(axis=1))
    # mid-rank percentile: ties count half
    pct = 100 * ((spans < span).mean() + 0.5 * (np.abs(spans - span) < 1e-12).mean())
    return SpreadResult(span, float(pct), float(np.median(spans)),
                        float(np.percentile(spans, 5)), float(np.percentile(spans, 95)),
                        len(sizes), int(sizes.sum()))


def chi2_table(x: pd.Series, y: pd.Series) -> tuple[float, int, float]:
    """Pearson's χ² (no continuity correction) of the x × y table without empty rows/columns:
    (statistic, degrees of freedom, p-value)."""
    keep = x.notna() & y.notna()
    table = pd.crosstab(x[keep].astype("object"), y[keep].astype("object"))
    table = table.loc[table.sum(axis=1) > 0, table.sum(axis=0) > 0]
    if table.shape[0] < 2 or table.shape[1] < 2:
        return 0.0, 0, 1.0
    chi2, p, dof, _ = stats.chi2_contingency(table.to_numpy(), correction=False)
    return float(chi2), int(dof), float(p)


def null_percentile(statistic: float, dof: int) -> float:
    """Percentile of a χ² statistic under the null (χ² distribution with ``dof``)."""
    return float(100 * stats.chi2.cdf(statistic, dof)) if dof else float("nan")


def _ranks(values: np.ndarray) -> np.ndarray:
    return stats.rankdata(values)


def spearman_partial(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> tuple[float, float, int]:
    """(ρ, partial ρ given z, n) over rows where all three are known; ranks, then the residuals
    of each rank on the rank of z."""
    keep = ~(np.isnan(x) | np.isnan(y) | np.isnan(z))
    rx, ry, rz = _ranks(x[keep]), _ranks(y[keep]), _ranks(z[keep])
    rho = float(np.corrcoef(rx, ry)[0, 1])
    design = np.column_stack([np.ones(len(rz)), rz])
    ex = rx - design @ np.linalg.lstsq(design, rx, rcond=None)[0]
    ey = ry - design @ np.linalg.lstsq(design, ry, rcond=None)[0]
    return rho, float(np.corrcoef(ex, ey)[0, 1]), int(keep.sum())


def ks_uniform(pvalues: list[float]) -> tuple[float, float]:
    """Kolmogorov–Smirnov test of the p-values against U(0, 1): (D, p)."""
    res = stats.kstest(np.asarray(pvalues, dtype=float), "uniform")
    return float(res.statistic), float(res.pvalue)
