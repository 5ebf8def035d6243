"""Handing out a cell's counts to its respondents.

Layer: generate (may import base … findings, and its own layer).

* :func:`bounded_order` — number answers under per-respondent bounds from the edit rules (e.g.
  years at the workplace ≤ years in the municipality): values are handed out from the largest
  down (upper bounds) to the respondent with the highest score among those the bound allows.
  When the counts satisfy Hall's condition (:func:`hall_rows`, imposed in the quota programme)
  this never runs out of eligible respondents, so every bound holds.
* :func:`binary_fill` — a 0/1 matrix with given row sums (ticks per respondent, or learning
  situations per respondent) and column sums (ticks per option), maximising Σ score·x. It is a
  transportation problem, totally unimodular, so the linear programme's optimum is whole.
"""

from __future__ import annotations

import heapq

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_array

from lpj_report.generate.quota import Hard


def hall_rows(cells: np.ndarray, values: np.ndarray, n_vals: int, lo: np.ndarray,
              hi: np.ndarray) -> list[Hard]:
    """Counts per cell × value that leave a bound-respecting assignment possible.

    Upper bounds: for every cell c and threshold t, Σ_{v ≤ t} x[c, v] ≥ #{i ∈ c: hi_i ≤ t};
    lower bounds likewise with ≥. ``cells`` is each member's cell, ``values`` the numeric value
    of each column of x.
    """
    out = []
    for c in np.unique(cells):
        in_cell = cells == c
        for bound, upper in ((hi, True), (lo, False)):
            b = bound[in_cell]
            b = b[np.isfinite(b)]
            for t in np.unique(b):
                need = int((b <= t).sum() if upper else (b >= t).sum())
                cols = np.flatnonzero(values <= t + 1e-9) if upper else \
                    np.flatnonzero(values >= t - 1e-9)
                out.append(Hard({int(c) * n_vals + int(v): 1.0 for v in cols}, float(need)))
    return out


def bounded_order(values: list[float], score: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                  stay: np.ndarray | None = None) -> np.ndarray:
    """Value for each respondent (positions of ``score``): the largest value goes to the
    highest score among those whose bounds allow it (upper bounds), or the smallest value to
    the lowest score (lower bounds). ``stay``: respondents who take their bound itself when it
    is handed out (years at the workplace = years in the municipality for those who never
    moved). Raises ValueError when no respondent may take a value (Hall's condition broken)."""
    n = len(score)
    stay = np.zeros(n, dtype=bool) if stay is None else stay
    upper = bool(np.isfinite(hi).any() or not np.isfinite(lo).any())
    vals = sorted(values, reverse=upper)
    bound = hi if upper else lo
    sign = 1.0 if upper else -1.0
    # respondents by how soon they become eligible: first those with the loosest bound
    key = np.where(np.isfinite(bound), sign * bound, np.inf)
    queue = list(np.argsort(-key, kind="stable"))
    out = np.full(n, np.nan)
    pool: list[tuple[float, int]] = []
    tight: list[tuple[float, int]] = []
    pos = 0
    for v in vals:
        while pos < len(queue) and key[queue[pos]] >= sign * v - 1e-9:
            i = queue[pos]
            pos += 1
            if stay[i] and np.isfinite(bound[i]) and abs(bound[i] - v) < 1e-9:
                heapq.heappush(tight, (-sign * score[i], i))
            else:
                heapq.heappush(pool, (-sign * score[i], i))
        # stayers whose bound has passed join the others
        while tight and abs(bound[tight[0][1]] - v) > 1e-9:
            heapq.heappush(pool, heapq.heappop(tight))
        if tight:
            _, i = heapq.heappop(tight)
        elif pool:
            _, i = heapq.heappop(pool)
        else:
            raise ValueError(f"no respondent may take the value {v}")
        out[i] = v
    return out


def binary_fill(row_sums: np.ndarray, col_sums: np.ndarray, score: np.ndarray) -> np.ndarray | None:
    """0/1 matrix (rows × columns) with the given sums maximising Σ score·x; None if there
    is none."""
    n, k = score.shape
    if row_sums.sum() != col_sums.sum():
        return None
    rows = np.repeat(np.arange(n), k)
    cols = np.arange(n * k)
    r2 = n + np.tile(np.arange(k), n)
    a = coo_array((np.ones(2 * n * k), (np.concatenate([rows, r2]), np.concatenate([cols, cols]))),
                  shape=(n + k, n * k)).tocsr()
    b = np.concatenate([row_sums, col_sums]).astype(float)
    res = linprog(-score.ravel(), A_eq=a, b_eq=b, bounds=(0, 1), method="highs")
    if res.status != 0:
        return None
    x = np.rint(res.x).reshape(n, k)
    if not (np.array_equal(x.sum(axis=1), row_sums) and np.array_equal(x.sum(axis=0), col_sums)):
        return None
    return x.astype(int)


def tick_counts(n: int, total: int, max_choices: int, rng: np.random.Generator) -> np.ndarray:
    """Ticks per respondent: each at least one and at most ``max_choices``, ``total`` in all;
    the ticks beyond the first are spread at random over the free places."""
    extra = total - n
    counts = np.ones(n, dtype=int)
    if extra <= 0:
        return counts
    slots = np.repeat(np.arange(n), max_choices - 1)
    chosen = rng.choice(len(slots), size=min(extra, len(slots)), replace=False)
    np.add.at(counts, slots[chosen], 1)
    return counts
