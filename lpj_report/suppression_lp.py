"""Disclosure control's linear programmes, kept in the solver between solves.

Layer: figures (imports base modules only). The audit of a family (:mod:`lpj_report.
suppression_audit`) solves many linear programmes that share their constraints: the same cone of
feasible directions maximised along one target after another, or the same Farkas system solved
for one target after another. :class:`Programme` builds the constraint matrix once and hands it
to HiGHS once; a solve changes only the objective or the row bounds and starts from the last
optimal basis (dual/primal simplex warm start), instead of parsing, checking and presolving the
whole programme again. The optimum is the same as a fresh solve's — only the vertex may differ
where several are optimal, which the audit does not depend on (it asks whether a target *can*
move; certificates are checked for what they use).

HiGHS is the one that ships with SciPy (``scipy.optimize._highspy``, the solver behind
``linprog(method="highs")``, SciPy pinned in ``pyproject.toml``); without it every solve falls
back to :func:`scipy.optimize.linprog` with the same data.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

try:  # the HiGHS bindings SciPy ships (private module; SciPy is pinned)
    from scipy.optimize._highspy import _core as _highs
except ImportError:  # pragma: no cover - another SciPy build
    _highs = None

INF = np.inf


class Programme:
    """``min cost · x`` subject to ``row_lower ≤ a · x ≤ row_upper`` and
    ``col_lower ≤ x ≤ col_upper``, built once; :meth:`solve` changes cost or row bounds."""

    def __init__(self, a: sparse.spmatrix, row_lower: np.ndarray, row_upper: np.ndarray,
                 col_lower: np.ndarray, col_upper: np.ndarray) -> None:
        self.a = sparse.csc_matrix(a, dtype=float)
        self.a.sort_indices()
        self.n_rows, self.n_cols = self.a.shape
        self.row_lower = np.asarray(row_lower, dtype=float).copy()
        self.row_upper = np.asarray(row_upper, dtype=float).copy()
        self.col_lower = np.asarray(col_lower, dtype=float)
        self.col_upper = np.asarray(col_upper, dtype=float)
        self.cost = np.zeros(self.n_cols)
        self.solves = 0
        self._h = None
        if _highs is not None:
            self._h = self._model()

    def _model(self):
        inf = _highs.kHighsInf
        lp = _highs.HighsLp()
        lp.num_col_, lp.num_row_ = self.n_cols, self.n_rows
        lp.col_cost_ = np.zeros(self.n_cols)
        lp.col_lower_ = np.where(np.isinf(self.col_lower), -inf, self.col_lower)
        lp.col_upper_ = np.where(np.isinf(self.col_upper), inf, self.col_upper)
        lp.row_lower_ = np.where(np.isinf(self.row_lower), -inf, self.row_lower)
        lp.row_upper_ = np.where(np.isinf(self.row_upper), inf, self.row_upper)
        lp.a_matrix_.format_ = _highs.MatrixFormat.kColwise
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = self.n_cols, self.n_rows
        lp.a_matrix_.start_ = self.a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = self.a.indices.astype(np.int32)
        lp.a_matrix_.value_ = self.a.data
        h = _highs._Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("random_seed", 0)
        h.setOptionValue("threads", 1)
        h.passModel(lp)
        return h

    def solve(self, cost: np.ndarray | None = None, row_lower: np.ndarray | None = None,
              row_upper: np.ndarray | None = None, col_lower: np.ndarray | None = None,
              col_upper: np.ndarray | None = None) -> np.ndarray | None:
        """An optimal ``x``, or None when the programme is infeasible or unbounded. Arguments
        left out keep their last value."""
        self.solves += 1
        low = self.row_lower if row_lower is None else np.asarray(row_lower, dtype=float)
        up = self.row_upper if row_upper is None else np.asarray(row_upper, dtype=float)
        rows = np.flatnonzero((low != self.row_lower) | (up != self.row_upper))
        self.row_lower, self.row_upper = low.copy(), up.copy()
        c_low = self.col_lower if col_lower is None else np.asarray(col_lower, dtype=float)
        c_up = self.col_upper if col_upper is None else np.asarray(col_upper, dtype=float)
        cols = np.flatnonzero((c_low != self.col_lower) | (c_up != self.col_upper))
        self.col_lower, self.col_upper = c_low.copy(), c_up.copy()
        if cost is not None:
            self.cost = np.asarray(cost, dtype=float).copy()
        if self._h is None:
            return self._linprog()
        h = self._h
        if cost is not None:
            h.changeColsCost(self.n_cols, np.arange(self.n_cols, dtype=np.int32), self.cost)
        inf = _highs.kHighsInf
        if len(cols):
            h.changeColsBounds(len(cols), cols.astype(np.int32),
                               np.where(np.isinf(c_low[cols]), -inf, c_low[cols]),
                               np.where(np.isinf(c_up[cols]), inf, c_up[cols]))
        for i in rows:   # a target's right-hand side, or rows let go: a few at a time
            h.changeRowBounds(int(i), -inf if np.isinf(low[i]) else float(low[i]),
                              inf if np.isinf(up[i]) else float(up[i]))
        h.run()
        if h.getModelStatus() != _highs.HighsModelStatus.kOptimal:
            return None
        return np.asarray(h.getSolution().col_value)

    def _linprog(self) -> np.ndarray | None:  # pragma: no cover
        from scipy.optimize import linprog

        c = self.cost
        eq = self.row_lower == self.row_upper
        a = self.a.tocsr()
        free = np.isinf(self.row_lower) & np.isinf(self.row_upper)
        a, eq = a[~free], eq[~free]
        lower, upper = self.row_lower[~free], self.row_upper[~free]
        blocks = {}
        if eq.any():
            blocks.update(A_eq=a[eq], b_eq=lower[eq])
        up = ~eq & np.isfinite(upper)
        low = ~eq & np.isfinite(lower)
        if up.any() or low.any():
            blocks.update(A_ub=sparse.vstack([a[up], -a[low]]),
                          b_ub=np.concatenate([upper[up], -lower[low]]))
        res = linprog(c, bounds=np.column_stack([self.col_lower, self.col_upper]),
                      method="highs", **blocks)
        return res.x if res.status == 0 else None
