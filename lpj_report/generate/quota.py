"""Whole-respondent quotas by mixed-integer programming (scipy.optimize.milp / HiGHS).

One call decides, for one variable, how many respondents of each *cell* (respondents that every
constraint treats alike) get each value. The counts

* add up to the cell size (single choice) or lie between the cell size and ``max_choices`` times
  it (multiple choice: everybody ticks at least one option, nobody more than allowed);
* satisfy every published target as a linear inequality on counts — a share that must round
  half up to the printed value becomes ``lo·base ≤ 100·num < hi·base`` — each with a slack that is
  penalised heavily, so that targets that cannot hold together are *reported* rather than
  making the programme infeasible;
* otherwise stay as close as possible (L1) to the prior distribution.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import lcm

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

SLACK_PENALTY = 1.0e4


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


def solve(sizes: np.ndarray, prior: np.ndarray, allowed: np.ndarray, rows: list[Row],
          totals: tuple[np.ndarray, np.ndarray] | None = None,
          choices: list[Choice] | None = None) -> QuotaResult:
    """Counts per cell × value, each at most the cell size.

    ``prior`` holds expected counts, ``allowed`` is boolean; ``totals`` (low, high) bounds each
    cell's sum over values (default: exactly the cell size, as for a single-choice answer).
    """
    if totals is None:
        totals = (sizes, sizes)
    choices = choices or []
    n_cells, n_vals = prior.shape
    nx = n_cells * n_vals
    nr = len(rows)
    nb = sum(len(ch.values) for ch in choices)
    # variables: x (nx, integer) | d+ (nx) | d- (nx) | slack (nr) | choice binaries (nb)
    n_var = 3 * nx + nr + nb
    weight = 1.0 / np.sqrt(prior.ravel() + 1.0)
    c = np.concatenate([np.zeros(nx), weight, weight, np.zeros(nr + nb)])
    lower = np.zeros(n_var)
    upper = np.full(n_var, np.inf)
    x_upper = np.repeat(sizes.astype(float), n_vals)
    x_upper[~allowed.ravel()] = 0
    upper[:nx] = x_upper
    upper[3 * nx + nr:] = 1
    integrality = np.concatenate([np.ones(nx), np.zeros(2 * nx + nr), np.ones(nb)])

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
    for j in range(nx):  # x − d+ + d- = prior
        add({j: 1.0, nx + j: -1.0, 2 * nx + j: 1.0}, prior.ravel()[j], prior.ravel()[j])
    for k, row in enumerate(rows):
        coef, low, high, size = row.integral()
        slack_col = 3 * nx + k
        c[slack_col] = SLACK_PENALTY / size
        entries = {col: float(v) for col, v in coef.items()}
        if low is not None:
            add({**entries, slack_col: 1.0}, low, np.inf)
        if high is not None:
            add({**entries, slack_col: -1.0}, -np.inf, high)

    col = 3 * nx + nr
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
    slack = res.x[3 * nx:3 * nx + nr]
    violated = {row.target: float(s) for row, s in zip(rows, slack, strict=True) if s > 1e-6}
    return QuotaResult(counts, violated)
