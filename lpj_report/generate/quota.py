"""Whole-respondent quotas by mixed-integer programming (scipy.optimize.milp / HiGHS).

Layer: generate (may import base … findings, and its own layer).

One call decides, for one variable, how many respondents of each *cell* (respondents that every
constraint treats alike) get each value. The counts

* add up to the cell size (single choice) or lie between the cell size and ``max_choices`` times
  it (multiple choice: everybody ticks at least one option, nobody more than allowed);
* satisfy every published target as a linear inequality on counts — a share that must round
  half up to the printed value becomes ``lo·base ≤ 100·num < hi·base`` — each with a slack that is
  penalised heavily, so that targets that cannot hold together are *reported* rather than
  making the programme infeasible;
* otherwise stay close to the prior counts: the distance is a piecewise-linear approximation of
  Pearson's χ² distance Σ (x − e)² / (e + 1), so that a count the targets move is taken from
  every category in proportion rather than all from one (an L1 distance empties one category
  instead: a spike or a hole in a distribution nobody printed);
* and satisfy ``hard`` rows without slack (e.g. the counts that let every respondent's answer
  respect an edit rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import lcm

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

SLACK_PENALTY = 1.0e4
#: breakpoints of the piecewise-linear χ² distance, in units of ``max(1, √(e+1)/4)`` respondents
BREAKS = (0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)


def deviation_segments(prior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Widths and unit costs of the deviation segments per count (the last one unbounded):
    segment k covers deviations [t_k, t_{k+1}) at the slope of (t_{k+1}² − t_k²) / (e + 1)."""
    e = prior.ravel()
    unit = np.maximum(1.0, np.sqrt(e + 1.0) / 4.0)
    t = np.asarray(BREAKS)[None, :] * unit[:, None]
    widths = np.diff(t, axis=1)
    slopes = (t[:, 1:] + t[:, :-1]) / (e[:, None] + 1.0)
    last_slope = 2 * slopes[:, -1:] + 1.0 / (e[:, None] + 1.0)
    widths = np.concatenate([widths, np.full((len(e), 1), np.inf)], axis=1)
    slopes = np.concatenate([slopes, last_slope], axis=1)
    return widths, slopes


@dataclass
class Row:
    """``low ≤ Σ coef·x ≤ high`` over the flattened (cell, value) counts; None = unbounded."""

    target: str
    coef: dict[int, Fraction]
    low: Fraction | None
    high: Fraction | None
    strict_high: bool = False

    def integral(self) -> tuple[dict[int, int], float | None, float | None, float]:
        """Scale to integer coefficients; a strict upper bound becomes ``≤ high − 1``."""
        fracs = [*self.coef.values()] + [b for b in (self.low, self.high) if b is not None]
        scale = lcm(*(f.denominator for f in fracs)) if fracs else 1
        coef = {k: int(v * scale) for k, v in self.coef.items() if v != 0}
        low = float(self.low * scale) if self.low is not None else None
        high = None
        if self.high is not None:
            high = float(self.high * scale) - (1 if self.strict_high else 0)
        size = max((abs(v) for v in coef.values()), default=1)
        return coef, low, high, float(size)


@dataclass
class QuotaResult:
    counts: np.ndarray            # cells × values
    violated: dict[str, float]    # target id → slack used (0 when the target holds)


@dataclass
class Choice:
    """``Σ coef·x`` must equal one of ``values`` (e.g. a group size that lets later printed
    percentages round to their values)."""

    coef: dict[int, int]
    values: list[int]


@dataclass
class Hard:
    """``low ≤ Σ coef·x ≤ high`` without slack."""

    coef: dict[int, float]
    low: float
    high: float = np.inf


def solve(sizes: np.ndarray, prior: np.ndarray, allowed: np.ndarray, rows: list[Row],
          totals: tuple[np.ndarray, np.ndarray] | None = None,
          choices: list[Choice] | None = None, hard: list[Hard] | None = None) -> QuotaResult:
    """Counts per cell × value, each at most the cell size.

    ``prior`` holds the counts to stay close to, ``allowed`` is boolean; ``totals`` (low, high)
    bounds each cell's sum over values (default: exactly the cell size, as for a single-choice
    answer).
    """
    if totals is None:
        totals = (sizes, sizes)
    choices = choices or []
    n_cells, n_vals = prior.shape
    nx = n_cells * n_vals
    nr = len(rows)
    nb = sum(len(ch.values) for ch in choices)
    widths, slopes = deviation_segments(prior)
    ns = widths.shape[1]
    nd = nx * ns
    # variables: x (nx, integer) | d+ segments (nd) | d- segments (nd) | slack (nr) | binaries
    n_var = nx + 2 * nd + nr + nb
    c = np.concatenate([np.zeros(nx), slopes.ravel(), slopes.ravel(), np.zeros(nr + nb)])
    lower = np.zeros(n_var)
    upper = np.full(n_var, np.inf)
    x_upper = np.repeat(sizes.astype(float), n_vals)
    x_upper[~allowed.ravel()] = 0
    upper[:nx] = x_upper
    upper[nx:nx + nd] = widths.ravel()
    upper[nx + nd:nx + 2 * nd] = widths.ravel()
    upper[nx + 2 * nd + nr:] = 1
    integrality = np.concatenate([np.ones(nx), np.zeros(2 * nd + nr), np.ones(nb)])

    r_idx: list[int] = []
    c_idx: list[int] = []
    vals: list[float] = []
    lo: list[float] = []
    hi: list[float] = []

    def add(entries: dict[int, float], low: float, high: float) -> None:
        row = len(lo)
        for col, v in entries.items():
            r_idx.append(row)
            c_idx.append(col)
            vals.append(v)
        lo.append(low)
        hi.append(high)

    for cell in range(n_cells):
        cols = {cell * n_vals + v: 1.0 for v in range(n_vals)}
        add(cols, float(totals[0][cell]), float(totals[1][cell]))
    for j in range(nx):  # x − Σ d+ + Σ d- = prior
        entries = {j: 1.0}
        entries.update({nx + j * ns + k: -1.0 for k in range(ns)})
        entries.update({nx + nd + j * ns + k: 1.0 for k in range(ns)})
        add(entries, prior.ravel()[j], prior.ravel()[j])
    for h in hard or []:
        add(dict(h.coef), h.low, h.high)
    for k, row in enumerate(rows):
        coef, low, high, size = row.integral()
        slack_col = nx + 2 * nd + k
        c[slack_col] = SLACK_PENALTY / size
        entries = {col: float(v) for col, v in coef.items()}
        if low is not None:
            add({**entries, slack_col: 1.0}, low, np.inf)
        if high is not None:
            add({**entries, slack_col: -1.0}, -np.inf, high)

    col = nx + 2 * nd + nr
    for ch in choices:
        binaries = list(range(col, col + len(ch.values)))
        col += len(ch.values)
        add(dict.fromkeys(binaries, 1.0), 1.0, 1.0)
        entries = {k: float(v) for k, v in ch.coef.items()}
        entries.update({b: -float(v) for b, v in zip(binaries, ch.values, strict=True)})
        add(entries, 0.0, 0.0)

    matrix = coo_array((vals, (r_idx, c_idx)), shape=(len(lo), n_var)).tocsr()
    res = milp(c, constraints=LinearConstraint(matrix, lo, hi), integrality=integrality,
               bounds=Bounds(lower, upper), options={"time_limit": 120, "mip_rel_gap": 1e-2})
    if res.x is None:
        raise RuntimeError(f"quota programme failed: {res.message}")
    counts = np.rint(res.x[:nx]).astype(int).reshape(n_cells, n_vals)
    slack = res.x[nx + 2 * nd:nx + 2 * nd + nr]
    violated = {row.target: float(s) for row, s in zip(rows, slack, strict=True) if s > 1e-6}
    return QuotaResult(counts, violated)
