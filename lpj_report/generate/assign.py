"""Respondents receive the values a quota programme fixed per cell.

Layer: generate (may import base … findings, and its own layer).

Within a cell, respondents are ordered by their score (:mod:`.latent`): single choice — the
highest scores get the first codes; numbers — the highest scores get the largest values, within
the bounds the edit rules set (:func:`.fill.bounded_order`); multiple choice and the eight
learning situations — a 0/1 matrix with the cell's totals per option and per respondent that
follows the scores (:func:`.fill.binary_fill`). Blanks a cell's count asks for (a ``missing:``
model) go to respondents drawn at random.
"""

from __future__ import annotations

import numpy as np

from lpj_report.generate.fill import binary_fill, bounded_order, tick_counts
from lpj_report.generate.model import MISSING


def single_or_number(domain, counts: np.ndarray, cell_of: np.ndarray, members: np.ndarray,
                     score: np.ndarray, is_number: bool, n_rows: int,
                     rng: np.random.Generator, lo: np.ndarray | None = None,
                     hi: np.ndarray | None = None, stay: np.ndarray | None = None) -> np.ndarray:
    """Object array (all respondents; None = blank) of the values handed out per cell."""
    values = np.empty(n_rows, dtype=object)
    values[:] = None
    domain = list(domain)
    for c in range(counts.shape[0]):
        idx = members[cell_of == c]
        if not len(idx):
            continue
        n_missing = counts[c][domain.index(MISSING)] if MISSING in domain else 0
        if n_missing:
            drop = rng.choice(len(idx), size=n_missing, replace=False)
            idx = np.delete(idx, drop)
        seq = [v for v, n in zip(domain, counts[c], strict=True) if v != MISSING
               for _ in range(n)]
        if is_number and lo is not None and (np.isfinite(lo[idx]).any()
                                             or np.isfinite(hi[idx]).any()):
            got = bounded_order([float(v) for v in seq], score[idx], lo[idx], hi[idx],
                                None if stay is None else stay[idx])
            values[idx] = [int(v) for v in got]
            continue
        order = idx[np.argsort(score[idx] if is_number else -score[idx], kind="stable")]
        values[order] = seq
    return values


def multi(n_options: int, counts: np.ndarray, cell_of: np.ndarray, members: np.ndarray,
          scores: np.ndarray, max_choices: int, n_rows: int,
          rng: np.random.Generator) -> np.ndarray:
    """Ticks (all respondents × options; NaN = blank): per cell, each respondent ticks between
    one and ``max_choices`` options (the ticks beyond the first spread at random), each option
    as often as its count, following the option scores."""
    ticks = np.full((n_rows, n_options), np.nan)
    for c in range(counts.shape[0]):
        idx = members[cell_of == c]
        if not len(idx):
            continue
        col = counts[c].astype(int)
        rows = tick_counts(len(idx), int(col.sum()), max_choices, rng)
        matrix = binary_fill(rows, col, scores[idx])
        if matrix is None:
            matrix = _balanced(col, len(idx), max_choices, rng)
        ticks[idx] = matrix
    return ticks


def _balanced(col: np.ndarray, n: int, max_choices: int, rng: np.random.Generator) -> np.ndarray:
    """Fallback when the drawn ticks per respondent admit no matrix: respondents with the
    fewest ticks so far take each option (everyone ends with one or more)."""
    cell = np.zeros((n, len(col)))
    for o in np.argsort(-col, kind="stable"):
        load = cell.sum(axis=1)
        prio = rng.random(n) - 2.0 * load
        prio[load >= max_choices] = -np.inf
        cell[np.argsort(-prio, kind="stable")[:col[o]], o] = 1
    for z in np.flatnonzero(cell.sum(axis=1) == 0):
        for d in np.flatnonzero(cell.sum(axis=1) >= 2):
            opts = np.flatnonzero((cell[d] == 1) & (cell[z] == 0))
            if len(opts):
                cell[d, opts[0]] = 0
                cell[z, opts[0]] = 1
                break
    return cell


def learning_matrix(k: np.ndarray, counts: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Which of the items each respondent of a cell answers "i høj grad": exactly ``k`` each
    (the cell's learning count), ``counts`` per item, following the item scores."""
    n = len(k)
    matrix = binary_fill(np.full(n, int(k[0])) if n else k.astype(int), counts.astype(int),
                         scores)
    if matrix is None:
        raise ValueError("no item matrix with these totals")
    return matrix.astype(bool)
