"""Disclosure control's audit: can an attacker work a hidden number out from what is shown?

Layer: figures (imports base, load and figures modules only: ``suppression_families``,
``suppression_lp``). A family's shown rows and its structure form a linear system
(:func:`known_system`); a hidden target is *determined* when no feasible direction at the true
data moves it (:meth:`Audit.free`, linear programmes on the cone); for a determined target the
Farkas certificate names the shown rows it is worked out from (:meth:`Audit.certificate`). Both
programmes are built once per family (:mod:`lpj_report.suppression_lp`). Only the whole-wave
rows join the units, so a target that its own unit's tables already pin is recognised by a
small programme over that unit alone, before the family's. See :mod:`lpj_report.suppression`
for the procedure that uses them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from lpj_report.suppression_families import TOTAL, Family, Target, _matrix
from lpj_report.suppression_lp import Programme

EPS = 1e-7
WITNESSES = 8   # sums of the directions found, kept per family and purpose


@dataclass
class System:
    """What an attacker has on a family: equalities (the known rows and the structure) and
    the structural inequalities ``a_ub · x ≤ 0``."""

    a_eq: sparse.csr_matrix
    origin: list[tuple[str, int]]   # ('row', row index) | ('structure', -1)
    b_eq: np.ndarray
    a_ub: sparse.csr_matrix


def _equations(fam: Family) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Every row's equations (one per measure it shows, n included), with the row of each."""
    rows, origin = [], []
    for k, row in enumerate(fam.rows):
        for m in sorted(row.shows):
            rows.append(fam.functional(row.combo, [m]))
            origin.append(k)
    return _matrix(rows, fam.n_cols), np.array(origin, dtype=int)


def known_system(fam: Family, known: list[int]) -> System:
    """Equalities from the known rows (every measure they show, n included) and the structure."""
    rows, row_of = _equations(fam)
    pick = np.flatnonzero(np.isin(row_of, np.asarray(known, dtype=int)))
    eq, ub = fam.structure()
    a = sparse.vstack([rows[pick], eq]).tocsr()
    origin = [("row", int(k)) for k in row_of[pick]] + [("structure", -1)] * eq.shape[0]
    return System(a, origin, a @ fam.truth(), ub)


def _targets_matrix(targets: list[Target], n: int) -> sparse.csr_matrix:
    data, ri, ci = [], [], []
    for i, t in enumerate(targets):
        for j, c in t.functional:
            data.append(c)
            ri.append(i)
            ci.append(j)
    return sparse.csr_matrix((data, (ri, ci)), shape=(len(targets), n))


def _within(a: sparse.csr_matrix, unit_of_col: np.ndarray, u: int) -> np.ndarray:
    """Which rows of ``a`` have all their entries in the columns of unit ``u`` (and some)."""
    a = a.tocsr()
    counts = np.diff(a.indptr)
    rows = np.repeat(np.arange(a.shape[0]), counts)
    inside = np.bincount(rows, weights=unit_of_col[a.indices] == u, minlength=a.shape[0])
    return (counts > 0) & (inside == counts)


class Audit:
    """One family's two linear programmes, each built once and re-solved with other bounds.

    * the **cone** (:meth:`free`): directions ``d`` at the true data with ``a · d = 0`` for the
      equations of the known rows and the structure, ``d ≥ 0`` where the data are zero, the
      structural inequalities that hold with equality not crossed, ``|d| ≤ 1``. A target ``g``
      is free when some such ``d`` has ``g · d ≠ 0``. The equations of every row are in the
      programme; a hidden row's are let go (bounds −∞…∞) instead of being left out.
    * the **Farkas system** (:meth:`certificate`): ``g`` as a combination of the known rows'
      equations, the structure, the active bounds and inequalities, of minimal cost; a hidden
      row's multipliers are held at zero.

    Directions found stay valid while rows are only ever hidden (the cone only grows), so a
    target that one of them moves is free without another programme (:meth:`free` remembers
    them per ``purpose``)."""

    def __init__(self, fam: Family) -> None:
        self.fam = fam
        n = fam.n_cols
        rows, self.row_of = _equations(fam)
        eq, ub = fam.structure()
        x = fam.truth()
        self.at_zero = x <= EPS
        tight = ub[np.flatnonzero(np.abs(ub @ x) <= 1e-6)] if ub.shape[0] else ub
        self.tight = tight.tocsr()
        self.a_eq = sparse.vstack([rows, eq]).tocsr()
        self.n_rows = rows.shape[0]
        self.n_eq = self.a_eq.shape[0]
        self._cones: dict[str, tuple[Programme, np.ndarray, np.ndarray]] = {}
        self._farkas: Programme | None = None
        self._locals: dict[int, tuple[Programme, np.ndarray, np.ndarray]] = {}
        units = {u: i for i, u in enumerate(dict.fromkeys(name[1] for name in fam.names))}
        self.unit_of_col = np.repeat([units[name[1]] for name in fam.names], len(fam.measures))
        self._folded = 0
        self._weights = np.random.default_rng(1)
        self.n = n

    def _known_mask(self, known: list[int]) -> np.ndarray:
        """Which equations hold: those of the known rows, and the structure's."""
        mask = np.ones(self.n_eq, dtype=bool)
        mask[: self.n_rows] = np.isin(self.row_of, np.asarray(known, dtype=int))
        return mask

    def _cone(self, purpose: str, mask: np.ndarray) -> tuple[Programme, np.ndarray, dict]:
        got = self._cones.get(purpose)
        if got is None:
            a = sparse.vstack([self.a_eq, self.tight]).tocsr()
            low = np.concatenate([np.zeros(self.n_eq), np.full(self.tight.shape[0], -np.inf)])
            up = np.zeros(a.shape[0])
            lp = Programme(a, low, up, np.where(self.at_zero, 0.0, -1.0), np.ones(self.n))
            got = (lp, mask, np.zeros((self.n, WITNESSES)))
        lp, before, found = got
        if (mask & ~before).any():   # a row shown again: earlier directions no longer count
            found = np.zeros((self.n, WITNESSES))
        self._cones[purpose] = (lp, mask, found)
        low, up = lp.row_lower.copy(), lp.row_upper.copy()
        low[: self.n_eq] = np.where(mask, 0.0, -np.inf)
        up[: self.n_eq] = np.where(mask, 0.0, np.inf)
        return lp, found, {"row_lower": low, "row_upper": up}

    def free(self, known: list[int], targets: list[Target], purpose: str = "shown") -> set[int]:
        """Indices of targets whose value can move (linear relaxation, exact): some feasible
        direction at the true data changes them.

        A direction that changes a target proves it free, whatever the sign. The directions
        found before are tried first: every one is kept, folded with a random positive weight
        into one of a few sums (a positive sum of feasible directions is one; a target any of
        them moves, the sum moves too, but for a coincidence — and then a programme decides).
        Then random combinations of the open targets are maximised (one solution usually frees
        many). When a combination moves none, the targets their own unit's tables pin are set
        aside (:meth:`_locally_pinned`, exact); a target still open and no combination moves is
        then checked on its own, in both directions."""
        if not targets:
            return set()
        lp, found, bounds = self._cone(purpose, self._known_mask(known))
        g = _targets_matrix(targets, self.n)
        free = set(np.flatnonzero((np.abs(g @ found) > 1e-7).any(axis=1)).tolist())
        rng = np.random.default_rng(0)

        def move(objective: np.ndarray) -> np.ndarray:
            x = lp.solve(-objective, **bounds)
            bounds.clear()
            if x is None:
                raise RuntimeError(f"suppression audit of {self.fam.key}: the cone programme "
                                   "has no optimum")
            self._fold(found, x)
            return np.abs(g @ x) > 1e-7

        open_ = [i for i in range(len(targets)) if i not in free]
        local_checked = False
        while open_:
            weights = np.zeros(len(targets))
            weights[open_] = rng.uniform(0.5, 1.5, len(open_)) * rng.choice([-1.0, 1.0], len(open_))
            moved = move(g.T @ weights)
            if not moved[open_].any() and not local_checked:
                local_checked = True        # what the unit's own tables pin, all tables pin
                pinned = set(self._locally_pinned(g, open_, self._known_mask(known)))
                open_ = [i for i in open_ if i not in pinned]
                continue
            if not moved[open_].any():
                i = open_[0]
                one = g[i].toarray().ravel()
                moved = move(one) | move(-one)
                if not moved[i]:
                    open_ = open_[1:]          # determined
            free |= set(np.flatnonzero(moved).tolist())
            open_ = [i for i in open_ if i not in free]
        return free

    def _locally_pinned(self, g: sparse.csr_matrix, open_: list[int],
                        mask: np.ndarray) -> list[int]:
        """The open targets that the equations of their own unit alone pin: the cone with the
        whole-wave rows (the only ones that join units) left out holds every feasible
        direction, so a target no direction of it moves cannot move at all. Small programmes,
        one per unit."""
        out = []
        for i in open_:
            cols = g[i].indices
            u = self.unit_of_col[cols[0]]
            if (self.unit_of_col[cols] != u).any():
                continue
            lp, sel, where = self._local_programme(u)
            bounds = {"row_lower": np.concatenate([np.where(mask[sel], 0.0, -np.inf),
                                                   lp.row_lower[len(sel):]]),
                      "row_upper": np.concatenate([np.where(mask[sel], 0.0, np.inf),
                                                   lp.row_upper[len(sel):]])}
            one = np.zeros(lp.n_cols)
            one[where[cols]] = g[i].data
            pinned = True
            for sign in (1.0, -1.0):
                x = lp.solve(-sign * one, **bounds)
                bounds = {}
                if x is None or abs(one @ x) > 1e-7:
                    pinned = False
                    break
            if pinned:
                out.append(i)
        return out

    def _local_programme(self, u: int) -> tuple[Programme, np.ndarray, np.ndarray]:
        """The cone of unit ``u`` alone: its columns, the equations and tight inequalities that
        involve no other unit's columns."""
        if u not in self._locals:
            cols = np.flatnonzero(self.unit_of_col == u)
            where = np.full(self.n, -1)
            where[cols] = np.arange(len(cols))
            sel = np.flatnonzero(_within(self.a_eq, self.unit_of_col, u))
            tight = np.flatnonzero(_within(self.tight, self.unit_of_col, u))
            a = sparse.vstack([self.a_eq[sel][:, cols], self.tight[tight][:, cols]]).tocsr()
            low = np.concatenate([np.zeros(len(sel)), np.full(len(tight), -np.inf)])
            lp = Programme(a, low, np.zeros(a.shape[0]),
                           np.where(self.at_zero[cols], 0.0, -1.0), np.ones(len(cols)))
            self._locals[u] = (lp, sel, where)
        return self._locals[u]

    def _fold(self, found: np.ndarray, x: np.ndarray) -> None:
        self._folded += 1
        found[:, self._folded % WITNESSES] += self._weights.uniform(0.5, 1.5) * x

    def certificate(self, known: list[int], target: Target, cost: dict[int, float]) -> list[int]:
        """The known rows a derivation of ``target`` uses: a Farkas certificate (the target as a
        combination of known rows, structure and active bounds) of minimal cost."""
        n, m = self.n, self.n_eq
        zero_cols = np.flatnonzero(self.at_zero)
        if self._farkas is None:
            e_zero = sparse.csr_matrix((np.ones(len(zero_cols)),
                                        (zero_cols, np.arange(len(zero_cols)))),
                                       shape=(n, len(zero_cols)))
            at = self.a_eq.T.tocsr()
            a = sparse.hstack([at, -at, e_zero, -self.tight.T]).tocsr()
            width = a.shape[1]
            self._farkas = Programme(a, np.zeros(n), np.zeros(n), np.zeros(width),
                                     np.full(width, np.inf))
        lp = self._farkas
        mask = self._known_mask(known)
        w = np.zeros(m)
        w[: self.n_rows] = [cost.get(int(k), 0.0) for k in self.row_of]
        c = np.concatenate([w + 1e-6, w + 1e-6,
                            1e-6 * np.ones(len(zero_cols) + self.tight.shape[0])])
        upper = np.full(lp.n_cols, np.inf)
        upper[:m] = np.where(mask, np.inf, 0.0)
        upper[m: 2 * m] = upper[:m]
        g = target.vector(n)
        for sign in (1.0, -1.0):
            x = lp.solve(c, row_lower=sign * g, row_upper=sign * g, col_upper=upper)
            if x is None:
                continue
            lam = x[:m] - x[m: 2 * m]
            used = {int(self.row_of[i]) for i in np.flatnonzero(np.abs(lam[: self.n_rows]) > 1e-7)
                    if int(self.row_of[i]) in cost}
            if used:
                return sorted(used)
        return []


def targets_of(fam: Family, primary: set[int], min_base: int) -> list[Target]:
    """What must stay hidden: every category and the n of the given (hidden) rows, and every
    measure of a small block that is not shown as a row of its own (a group left out by a
    filter, the respondents without an answer to the breakdown)."""
    out = []
    for k in sorted(primary):
        row = fam.rows[k]
        if row.base <= 0:
            continue
        for c, ms in [*row.cats.items(), ("n", [fam.n_index])]:
            func = fam.functional(row.combo, ms)
            if func:
                out.append(Target(f"{row.unit}/{row.figure}/{row.group}/{c}", row.unit,
                                  tuple(sorted(func.items()))))
    seen = {t.functional for t in out}
    for v, name in enumerate(fam.names):
        unit = name[1]
        if unit == TOTAL or not 0 < fam.base[v] < min_base:
            continue
        for m in range(len(fam.measures)):
            func = ((fam.col(v, m), 1.0),)
            if func not in seen:
                out.append(Target(f"{unit}/{fam.key}/{name}/{fam.measures[m]}", unit, func))
    return out


