"""Disclosure control's audit: can an attacker work a hidden number out from what is shown?

Layer: figures (imports base, load and figures modules only: ``suppression_families``). A
family's shown rows and its structure form a linear system (:func:`known_system`); a hidden
target is *determined* when no feasible direction at the true data moves it
(:func:`free_targets`, linear programmes on the cone); for a determined target the Farkas
certificate names the shown rows it is worked out from (:func:`certificate_rows`). See
:mod:`lpj_report.suppression` for the procedure that uses them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from lpj_report.suppression_families import TOTAL, Family, Target, _matrix

EPS = 1e-7


@dataclass
class System:
    """What an attacker has on a family: equalities (the known rows and the structure) and
    the structural inequalities ``a_ub · x ≤ 0``."""

    a_eq: sparse.csr_matrix
    origin: list[tuple[str, int]]   # ('row', row index) | ('structure', -1)
    b_eq: np.ndarray
    a_ub: sparse.csr_matrix


def known_system(fam: Family, known: list[int]) -> System:
    """Equalities from the known rows (every measure they show, n included) and the structure."""
    rows, origin = [], []
    for k in known:
        row = fam.rows[k]
        for m in sorted(row.shows):
            rows.append(fam.functional(row.combo, [m]))
            origin.append(("row", k))
    eq, ub = fam.structure()
    a = sparse.vstack([_matrix(rows, fam.n_cols), eq]).tocsr()
    origin += [("structure", -1)] * eq.shape[0]
    return System(a, origin, a @ fam.truth(), ub)


def _cone(fam: Family, system: System) -> tuple[np.ndarray, sparse.csr_matrix]:
    """The feasible directions at the true data: the columns at zero (may only grow) and the
    structural inequalities that hold with equality (may not be crossed)."""
    x = fam.truth()
    at_zero = x <= EPS
    if system.a_ub.shape[0]:
        tight = np.flatnonzero(np.abs(system.a_ub @ x) <= 1e-6)
        return at_zero, system.a_ub[tight]
    return at_zero, system.a_ub


def free_targets(fam: Family, system: System, targets: list[Target]) -> set[int]:
    """Indices of targets whose value can move (linear relaxation, exact): some feasible
    direction at the true data changes them.

    A direction that changes a target proves it free, whatever the sign. Random combinations of
    the open targets are maximised first (one solution usually frees many); a target no
    combination moves is then checked on its own, in both directions."""
    if not targets:
        return set()
    n = fam.n_cols
    at_zero, tight = _cone(fam, system)
    bounds = np.column_stack([np.where(at_zero, 0.0, -1.0), np.ones(n)])
    g = sparse.vstack([sparse.csr_matrix(t.vector(n)) for t in targets]).tocsr()
    rng = np.random.default_rng(0)
    zeros = np.zeros(system.a_eq.shape[0])
    ub = {"A_ub": tight, "b_ub": np.zeros(tight.shape[0])} if tight.shape[0] else {}

    def move(objective: np.ndarray) -> np.ndarray:
        res = linprog(-objective, A_eq=system.a_eq, b_eq=zeros, bounds=bounds, method="highs",
                      **ub)
        if res.status != 0:
            raise RuntimeError(f"suppression audit of {fam.key}: {res.message}")
        return np.abs(g @ res.x) > 1e-7

    free: set[int] = set()
    open_ = list(range(len(targets)))
    while open_:
        weights = np.zeros(len(targets))
        weights[open_] = rng.uniform(0.5, 1.5, len(open_)) * rng.choice([-1.0, 1.0], len(open_))
        moved = move(g.T @ weights)
        if not moved[open_].any():
            i = open_[0]
            moved = move(g[i].toarray().ravel()) | move(-g[i].toarray().ravel())
            if not moved[i]:
                open_ = open_[1:]          # determined
        free |= set(np.flatnonzero(moved).tolist())
        open_ = [i for i in open_ if i not in free]
    return free


def certificate_rows(fam: Family, system: System, target: Target,
                     cost: dict[int, float]) -> list[int]:
    """The known rows a derivation of ``target`` uses: a Farkas certificate (the target as a
    combination of known rows, structure and active bounds) of minimal cost."""
    n = fam.n_cols
    at_zero, tight = _cone(fam, system)
    g = target.vector(n)
    rows = system.a_eq.shape[0]
    w = np.array([cost.get(k, 0.0) if kind == "row" else 0.0 for kind, k in system.origin])
    zero_cols = np.flatnonzero(at_zero)
    e_zero = sparse.csr_matrix((np.ones(len(zero_cols)), (zero_cols, np.arange(len(zero_cols)))),
                               shape=(n, len(zero_cols)))
    at = system.a_eq.T.tocsr()
    a_eq = sparse.hstack([at, -at, e_zero, -tight.T]).tocsr()
    c = np.concatenate([w + 1e-6, w + 1e-6, 1e-6 * np.ones(len(zero_cols) + tight.shape[0])])
    for sign in (1.0, -1.0):
        res = linprog(c, A_eq=a_eq, b_eq=sign * g, bounds=(0, None), method="highs")
        if res.status != 0:
            continue
        lam = res.x[:rows] - res.x[rows: 2 * rows]
        used = {system.origin[i][1] for i in np.flatnonzero(np.abs(lam) > 1e-7)
                if system.origin[i][0] == "row" and system.origin[i][1] in cost}
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


