"""The statistics of a comparison, in one place: intervals, tests and multiplicity control.

Layer: base (imports no other layer).

Every function takes plain numbers or arrays and returns plain numbers; nothing here knows the
codebook, the figures or the text. The findings (:mod:`lpj_report.findings`), the municipality
editions, the year-over-year columns and ``lpj diff`` all call these.

Conventions
* Proportions are fractions (0–1) here; callers scale to percent.
* Every test is two-sided. ``Test.effect`` is the estimated difference or correlation (first
  argument minus second) with its 95 % confidence interval ``low``–``high``.
* Simple random sampling is assumed unless a cluster id is given (``cluster=``): then shares and
  their differences use the linearised (cluster-robust) variance, and tables the Rao–Scott
  second-order correction of Pearson's χ². ``deff`` divides a statistic by a design effect, for
  the sensitivity analysis of the method appendix (χ²/deff, z/√deff).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np


class _SciPyStats:
    """``scipy.stats``, imported when a test first needs it (a second and a half that a build
    whose findings come from the cache does not pay)."""

    def __getattr__(self, name: str):
        from scipy import stats

        return getattr(stats, name)


sps = _SciPyStats()

CONFIDENCE = 0.95
#: Expected count below which a 2×2 comparison uses Fisher's exact test instead of z.
SMALL_EXPECTED = 5.0


@dataclass(frozen=True)
class Test:
    """One test: ``name``, statistic, degrees of freedom (None when not a χ²/t), two-sided p,
    and the effect (difference or correlation) with its 95 % interval."""

    name: str
    statistic: float
    p: float
    df: float | None = None
    effect: float | None = None
    low: float | None = None
    high: float | None = None

    @property
    def finite(self) -> bool:
        return self.p is not None and math.isfinite(self.p)


NOT_TESTED = Test("", math.nan, math.nan)


@cache
def _z(confidence: float = CONFIDENCE) -> float:
    """The two-sided normal quantile of ``confidence`` (1,96 for 95 %)."""
    return float(sps.norm.ppf(0.5 + confidence / 2))


# ---------------------------------------------------------------------------- intervals


def wilson(successes: float, n: float, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a proportion (fractions); n must be positive."""
    z = _z(confidence)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(max(p * (1 - p) / n + z * z / (4 * n * n), 0.0)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def t_interval(total: float, n: int, sd: float | None,
               confidence: float = CONFIDENCE) -> tuple[float | None, float | None]:
    """t interval of a mean from its sum, n and standard deviation (None below n = 2)."""
    if n < 2 or sd is None or not math.isfinite(sd):
        return None, None
    mean = total / n
    half = float(sps.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return mean - half, mean + half


def newcombe(x1: float, n1: float, x2: float, n2: float,
             confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Newcombe's hybrid score interval for p1 − p2 (independent samples)."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, confidence)
    l2, u2 = wilson(x2, n2, confidence)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return max(-1.0, low), min(1.0, high)


# ---------------------------------------------------------------------------- two groups


def two_proportions(x1: float, n1: float, x2: float, n2: float, *, deff: float = 1.0,
                    exact_small: bool = True) -> Test:
    """Share x1/n1 against x2/n2 (independent groups): pooled z-test, or Fisher's exact test
    when an expected count is below 5; effect p1 − p2 with Newcombe's interval."""
    if n1 <= 0 or n2 <= 0:
        return NOT_TESTED
    p1, p2 = x1 / n1, x2 / n2
    low, high = newcombe(x1, n1, x2, n2)
    pooled = (x1 + x2) / (n1 + n2)
    expected = min(n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled))
    if exact_small and expected < SMALL_EXPECTED and deff == 1.0:
        _, p = sps.fisher_exact([[round(x1), round(n1 - x1)], [round(x2), round(n2 - x2)]])
        return Test("fisher", math.nan, float(p), None, p1 - p2, low, high)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if var <= 0:
        return Test("z", 0.0, 1.0, None, p1 - p2, low, high)
    z = (p1 - p2) / math.sqrt(var * deff)
    return Test("z", float(z), float(2 * sps.norm.sf(abs(z))), None, p1 - p2, low, high)


def welch(m1: float, s1: float, n1: int, m2: float, s2: float, n2: int, *,
          deff: float = 1.0) -> Test:
    """Mean m1 against m2 (independent groups): Welch's t-test; effect m1 − m2 with the
    Welch interval."""
    if min(n1, n2) < 2 or not (math.isfinite(s1) and math.isfinite(s2)):
        return NOT_TESTED
    v1, v2 = s1 * s1 / n1, s2 * s2 / n2
    se = math.sqrt(v1 + v2)
    diff = m1 - m2
    if se == 0:
        return Test("welch", 0.0 if diff == 0 else math.inf, 1.0 if diff == 0 else 0.0, None,
                    diff, diff, diff)
    df = (v1 + v2) ** 2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1))
    t = diff / (se * math.sqrt(deff))
    half = float(sps.t.ppf(0.5 + CONFIDENCE / 2, df)) * se
    return Test("welch", float(t), float(2 * sps.t.sf(abs(t), df)), float(df), diff,
                diff - half, diff + half)


def paired_proportions(a: np.ndarray, b: np.ndarray, *, deff: float = 1.0) -> Test:
    """Two options ticked by the same respondents (boolean arrays): McNemar's test (exact
    binomial below 25 discordant pairs); effect share(a) − share(b) with the Wald interval of
    a paired difference."""
    n = len(a)
    if n == 0:
        return NOT_TESTED
    only_a = float(np.sum(a & ~b))
    only_b = float(np.sum(~a & b))
    d = (only_a - only_b) / n
    var = ((only_a + only_b) / n - d * d) / n
    half = _z() * math.sqrt(max(var, 0.0))
    discordant = only_a + only_b
    if discordant == 0:
        return Test("mcnemar", 0.0, 1.0, 1, d, d - half, d + half)
    if discordant < 25 and deff == 1.0:
        p = sps.binomtest(int(only_a), int(discordant), 0.5).pvalue
        return Test("mcnemar", math.nan, float(p), None, d, d - half, d + half)
    stat = (only_a - only_b) ** 2 / discordant / deff
    return Test("mcnemar", float(stat), float(sps.chi2.sf(stat, 1)), 1, d, d - half, d + half)


def multinomial_difference(x1: float, x2: float, n: float, *, deff: float = 1.0) -> Test:
    """Two answers of one single-choice question (the same n respondents): z-test of
    p1 − p2 with the multinomial variance (p1 + p2 − (p1 − p2)²)/n."""
    if n <= 0:
        return NOT_TESTED
    p1, p2 = x1 / n, x2 / n
    d = p1 - p2
    var = (p1 + p2 - d * d) / n
    half = _z() * math.sqrt(max(var, 0.0))
    if var <= 0:
        return Test("z", 0.0, 1.0, None, d, d, d)
    z = d / math.sqrt(var * deff)
    return Test("z", float(z), float(2 * sps.norm.sf(abs(z))), None, d, d - half, d + half)


def tost_proportions(x1: float, n1: float, x2: float, n2: float, margin: float) -> Test:
    """Equivalence of two shares within ±margin (fractions): two one-sided z-tests (TOST,
    unpooled variance); p is the larger one-sided p. Effect p1 − p2 with the 90 % interval
    the TOST at 5 % corresponds to."""
    if n1 <= 0 or n2 <= 0:
        return NOT_TESTED
    p1, p2 = x1 / n1, x2 / n2
    d = p1 - p2
    se = math.sqrt(max(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2, 1e-12))
    p_low = float(sps.norm.sf((d + margin) / se))
    p_high = float(sps.norm.cdf((d - margin) / se))
    half = _z(0.90) * se
    return Test("tost", float(min((d + margin) / se, (margin - d) / se)), max(p_low, p_high),
                None, d, d - half, d + half)


# ---------------------------------------------------------------------------- associations


def spearman(x: np.ndarray, y: np.ndarray, *, deff: float = 1.0,
             cluster: np.ndarray | None = None) -> Test:
    """Spearman's ρ of two ordered variables (codes in order); p from the t approximation,
    interval by Fisher's z with the Bonett–Wright standard error. With ``cluster``, p and the
    interval come from the cluster-robust regression of rank(y) on rank(x)."""
    n = len(x)
    if n < 4 or np.all(x == x[0]) or np.all(y == y[0]):
        return NOT_TESTED
    rho = float(sps.spearmanr(x, y).statistic)
    if cluster is not None:
        return _spearman_cluster(x, y, rho, cluster)
    r = max(min(rho, 0.999999), -0.999999)
    t = r * math.sqrt((n - 2) / (1 - r * r)) / math.sqrt(deff)
    p = float(2 * sps.t.sf(abs(t), n - 2))
    se = math.sqrt((1 + r * r / 2) / (n - 3)) * math.sqrt(deff)
    zr = math.atanh(r)
    return Test("spearman", rho, p, float(n - 2), rho, math.tanh(zr - _z() * se),
                math.tanh(zr + _z() * se))


def _spearman_cluster(x: np.ndarray, y: np.ndarray, rho: float, cluster: np.ndarray) -> Test:
    import statsmodels.api as sm

    rx = sps.rankdata(x)
    ry = sps.rankdata(y)
    rx = (rx - rx.mean()) / rx.std()
    ry = (ry - ry.mean()) / ry.std()
    fit = sm.OLS(ry, sm.add_constant(rx)).fit(cov_type="cluster", cov_kwds={"groups": cluster})
    se = float(fit.bse[1])
    z = float(fit.params[1]) / se
    return Test("spearman", rho, float(2 * sps.norm.sf(abs(z))), None, rho,
                rho - _z() * se, rho + _z() * se)


def chi2_independence(x: np.ndarray, y: np.ndarray, *, deff: float = 1.0,
                      cluster: np.ndarray | None = None) -> Test:
    """Pearson's χ² test of independence of two categorical arrays (rows or columns without
    respondents dropped); with ``cluster``, the Rao–Scott second-order correction; ``deff``
    divides χ² by a design effect. Effect: Cramér's V (no interval)."""
    xs, xi = np.unique(x, return_inverse=True)
    ys, yi = np.unique(y, return_inverse=True)
    if len(xs) < 2 or len(ys) < 2:
        return NOT_TESTED
    table = np.zeros((len(xs), len(ys)))
    np.add.at(table, (xi, yi), 1)
    n = table.sum()
    chi2, _, dof, _ = sps.chi2_contingency(table, correction=False)
    v = math.sqrt(chi2 / (n * (min(table.shape) - 1)))
    if cluster is not None:
        stat, df = rao_scott(xi, yi, table.shape, cluster, chi2)
        return Test("rao_scott", stat, float(sps.chi2.sf(stat, df)), df, v)
    stat = chi2 / deff
    return Test("chi2", float(stat), float(sps.chi2.sf(stat, dof)), float(dof), v)


def rao_scott(xi: np.ndarray, yi: np.ndarray, shape: tuple[int, int], cluster: np.ndarray,
              chi2: float) -> tuple[float, float]:
    """Rao–Scott second-order corrected χ² and its degrees of freedom for an r × c table of
    respondents in clusters (with-replacement linearisation of the cell proportions)."""
    r, c = shape
    n = len(xi)
    cells = np.zeros((n, r * c))
    cells[np.arange(n), xi * c + yi] = 1.0
    p = cells.mean(axis=0)
    cl, ci = np.unique(cluster, return_inverse=True)
    m = len(cl)
    totals = np.zeros((m, r * c))
    np.add.at(totals, ci, cells - p)
    v_design = (m / (m - 1)) * totals.T @ totals / (n * n) if m > 1 else np.zeros((r * c,) * 2)
    v_srs = (np.diag(p) - np.outer(p, p)) / n
    # residuals of independence p_ij − p_i. p_.j for i < r, j < c, and their Jacobian
    pm = p.reshape(r, c)
    row, col = pm.sum(axis=1), pm.sum(axis=0)
    jac = []
    for i in range(r - 1):
        for j in range(c - 1):
            g = np.zeros((r, c))
            g[i, j] += 1.0
            g[i, :] -= col[j]
            g[:, j] -= row[i]
            jac.append(g.ravel())
    h = np.array(jac)
    a = h @ v_srs @ h.T
    b = h @ v_design @ h.T
    delta = np.linalg.eigvals(np.linalg.pinv(a) @ b).real
    mean = float(delta.mean())
    if mean <= 0:
        return chi2, float(len(delta))
    a2 = float(delta.var()) / (mean * mean)
    df = len(delta) / (1 + a2)
    return chi2 / mean / (1 + a2), df


# ---------------------------------------------------------------------------- clusters


def cluster_two_proportions(y: np.ndarray, in_a: np.ndarray, in_b: np.ndarray,
                            cluster: np.ndarray) -> Test:
    """Share of ``y`` in group a against group b when respondents come in clusters: the
    difference of the two ratio estimates with its linearised (cluster-robust) variance."""
    na, nb = float(in_a.sum()), float(in_b.sum())
    if na == 0 or nb == 0:
        return NOT_TESTED
    pa, pb = float(y[in_a].mean()), float(y[in_b].mean())
    z_i = np.where(in_a, (y - pa) / na, 0.0) - np.where(in_b, (y - pb) / nb, 0.0)
    cl, ci = np.unique(cluster, return_inverse=True)
    m = len(cl)
    totals = np.zeros(m)
    np.add.at(totals, ci, z_i)
    var = (m / (m - 1)) * float(np.sum(totals ** 2)) if m > 1 else 0.0
    d = pa - pb
    if var <= 0:
        return Test("cluster_z", 0.0, 1.0, None, d, d, d)
    z = d / math.sqrt(var)
    half = _z() * math.sqrt(var)
    return Test("cluster_z", z, float(2 * sps.norm.sf(abs(z))), None, d, d - half, d + half)


# ---------------------------------------------------------------------------- multiplicity


def bh(pvalues) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q) of one family, in the given order."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(pvalues, dtype=float)
    if len(p) == 0:
        return p
    return multipletests(p, method="fdr_bh")[1]
