"""Disclosure control: no number computed on too few respondents, nor any number it could be
worked back from.

The rule (``data/disclosure.yaml``, ``--min-base``): a row of a figure table — a group of one
figure in one municipality, with its percentages, counts and base n — whose base is below
``min_base`` (default 5) is **primary suppressed**. Other rows are then suppressed as well
(**complementary suppression**) until no primary-suppressed number can be recovered from what is
shown.

What an attacker is assumed to know (deliberately more than the editions show):

* every shown row of every municipality's edition (counts, not only the rounded percentages);
* every number of the whole wave (the ``alle kommuner`` column, which the main report prints
  without suppression);
* the base n of every group in every municipality (group sizes follow from distribution tables
  such as "arbejdssted fordelt på rolle", which the rule allows to be shown);
* how the tables hang together: municipalities add up to the whole wave; the groups of a
  breakdown add up to ``alle`` (with a hidden group for respondents without an answer to the
  breakdown, or outside a figure's filter); the categories of a single-choice figure add up to
  the base; a combined category is the sum of its parts; figures on the same question for
  different groupings of the same respondents (with or without a filter, by role or for one
  role only) count the same people; counts are whole numbers between 0 and n.

Relations between *different* questions are not modelled (two figures about two questions are
linked only through the group sizes, which the attacker knows anyway).

How it is done. Figures on one question (same statistic, exclusions and categories) form a
*family*. The family's unknowns are counts per municipality, per block of respondents (blocks:
the coarsest partition of the family's populations, filters and breakdown groups — by role, and
by each breakdown or filter variable) and per answer category. Every row of every table is a sum
of unknowns. A primary-suppressed row is *determined* when every solution of the shown rows'
equations (within the bounds) gives it the same value; this is decided exactly for the linear
relaxation by linear programmes on the cone of feasible directions at the true data. For a
determined row, a second linear programme (the Farkas certificate) names the shown rows the
derivation uses; the cheapest of them (smallest base; whole-municipality rows last) is suppressed
too, and the family is checked again. The status of a row is tied across figures: a group of one
municipality (same respondents) is suppressed in every table or in none. Everything iterates to a
fixed point. Numbers that the whole-wave figures alone already determine (a category nobody in a
group chose anywhere) are left as they are: suppression cannot hide what the main report prints.

``tests/test_suppression.py`` attacks the result with integer programmes built from the written
edition tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog

from lpj_report.codebook import Codebook
from lpj_report.figures import ALL, Figure, category_keys, group_keys
from lpj_report.paths import DATA_DIR

CONFIG_FILE = DATA_DIR / "disclosure.yaml"
TOTAL = "__alle__"          # the whole wave (sum of all units)
MISSING = "__uoplyst__"     # respondents without a value (unit or breakdown)
OTHER = "__oevrige__"       # answers outside a figure's listed categories
ROOT = "rolle"              # populations are sets of roles
EPS = 1e-7

Cond = frozenset  # frozenset[tuple[str, frozenset[str]]]: who a row counts (variable → keys)
RowKey = tuple[str, str, str]  # (unit, figure, group)


@dataclass(frozen=True)
class Config:
    min_base: int = 5
    mark: str = "◊"


@cache
def _file_config(path: Path = CONFIG_FILE) -> dict[str, Any]:
    from lpj_report.readers import mapping, read_yaml, text, whole_number

    if not path.exists():
        return {}
    file = path.name
    doc = mapping(read_yaml(path, "disclosure settings"), file, "(top level)",
                  "a mapping with the key 'disclosure'")
    raw = mapping(doc.get("disclosure"), file, "disclosure", "a mapping (min_base, mark)")
    if "min_base" in raw:
        whole_number(raw["min_base"], file, "disclosure.min_base", "a whole number ≥ 1",
                     minimum=1)
    if "mark" in raw:
        text(raw["mark"], file, "disclosure.mark", "the mark as text, e.g. ◊")
    return raw


def load_config(min_base: int | None = None) -> Config:
    """The disclosure settings: ``data/disclosure.yaml``, ``min_base`` overriding the file."""
    raw = _file_config()
    base = int(min_base if min_base is not None else raw.get("min_base", Config.min_base))
    if base < 1:
        raise ValueError(f"min_base must be at least 1, not {base}")
    return Config(min_base=base, mark=str(raw.get("mark", Config.mark)))


def row_cond(fig: Figure, group: str, codebook: Codebook, populations: dict) -> Cond:
    """Who a row of ``fig`` counts: population ∧ filter ∧ group as variable → allowed keys."""
    cond: dict[str, set[str]] = {}
    for var, keys in (*populations[fig.population].items(), *fig.filter.items()):
        cond[var] = cond.get(var, set(codebook[var].keys)) & set(keys)
    if group != ALL:
        cond[fig.breakdown] = cond.get(fig.breakdown, set(codebook[fig.breakdown].keys)) & {group}
    return frozenset((v, frozenset(k)) for v, k in cond.items())


# ---------------------------------------------------------------------------- the model


@dataclass
class Row:
    """One row of one figure in one unit: a sum of the family's unknowns."""

    unit: str
    figure: str
    group: str
    cond: Cond
    combo: dict[int, float]
    cats: dict[str, list[int]]      # category → measures it adds up
    shows: frozenset[int]           # measures a shown row reveals
    base: int

    @property
    def key(self) -> RowKey:
        return (self.unit, self.figure, self.group)


@dataclass
class Family:
    """Unknowns (variables × measures) with their true values, and the table rows.

    The last measure is always ``n``, the number of respondents: group sizes are protected like
    the answers. The other measures count answers (or sum them, for a mean)."""

    key: str
    kind: str                                # share | multi | mean | count
    measures: list[str]                      # answer measures, then "n"
    names: list[tuple]                       # ('R', unit, rb) or ('X', unit, rb, dim, block)
    units: list[str]
    value: np.ndarray                        # (variables, measures), the true counts
    links: list[dict[int, float]]            # Σ coef · x = 0, for every measure
    rows: list[Row] = field(default_factory=list)
    share_sum: bool = True                   # share: the answer measures add up to n
    value_range: tuple[float, float] | None = None   # mean: the variable's range

    @property
    def n_cols(self) -> int:
        return len(self.names) * len(self.measures)

    @property
    def n_index(self) -> int:
        return len(self.measures) - 1

    @property
    def base(self) -> np.ndarray:
        return self.value[:, self.n_index]

    def col(self, var: int, measure: int) -> int:
        return var * len(self.measures) + measure

    def functional(self, combo: dict[int, float], measures: Iterable[int]) -> dict[int, float]:
        out: dict[int, float] = {}
        for v, coef in combo.items():
            for m in measures:
                out[self.col(v, m)] = out.get(self.col(v, m), 0.0) + coef
        return out

    def truth(self) -> np.ndarray:
        return self.value.reshape(-1)

    def integrality(self) -> np.ndarray:
        out = np.ones((len(self.names), len(self.measures)))
        if self.kind == "mean":
            out[:, 0] = 0.0        # a sum of ages need not be whole
        return out.reshape(-1)

    def structure(self) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """The relations every table obeys: equalities (links; answers adding up to n) and
        inequalities ``a · x ≤ 0`` (an option ticked by at most n; a mean within the range)."""
        n_m, nn = len(self.measures), self.n_index
        eq, ub = [], []
        for link in self.links:
            for m in range(n_m):
                eq.append(self.functional(link, [m]))
        for v in range(len(self.names)):
            if self.kind == "share" and self.share_sum:
                row = {self.col(v, m): 1.0 for m in range(nn)}
                row[self.col(v, nn)] = -1.0
                eq.append(row)
            elif self.kind == "multi":
                for m in range(nn):
                    ub.append({self.col(v, m): 1.0, self.col(v, nn): -1.0})
            elif self.kind == "mean" and self.value_range:
                low, high = self.value_range
                ub.append({self.col(v, nn): float(low), self.col(v, 0): -1.0})
                ub.append({self.col(v, 0): 1.0, self.col(v, nn): -float(high)})
        return _matrix(eq, self.n_cols), _matrix(ub, self.n_cols)


def _matrix(rows: list[dict[int, float]], n: int) -> sparse.csr_matrix:
    data, ri, ci = [], [], []
    for r, row in enumerate(rows):
        for j, c in row.items():
            data.append(c)
            ri.append(r)
            ci.append(j)
    return sparse.csr_matrix((data, (ri, ci)), shape=(len(rows), n))


@dataclass(frozen=True)
class Target:
    """A number that must not be recoverable: one category of a small row or block."""

    label: str
    unit: str
    functional: tuple[tuple[int, float], ...]

    def vector(self, n: int) -> np.ndarray:
        g = np.zeros(n)
        for j, c in self.functional:
            g[j] += c
        return g


def _answered(df: pd.DataFrame, fig: Figure, codebook: Codebook) -> np.ndarray:
    var = codebook[fig.variable]
    if fig.statistic == "share":
        col = df[fig.variable]
        return col.notna().to_numpy(bool) & ~col.isin(fig.exclude).to_numpy(bool)
    if fig.statistic == "multi_share":
        return df[var.columns].fillna(0).to_numpy(float).sum(axis=1) > 0
    if fig.statistic == "mean":
        return df[fig.variable].notna().to_numpy(bool)
    return np.ones(len(df), dtype=bool)


def family_key(fig: Figure) -> str:
    if fig.statistic == "count":
        return "count"
    parts = [fig.variable, fig.statistic, ",".join(fig.exclude), ",".join(fig.categories or ())]
    return "|".join(parts)


def _measures(figs: list[Figure], codebook: Codebook) -> tuple[list[str], dict[str, dict]]:
    """The family's measures and, per figure, category → measure names."""
    fig0 = figs[0]
    if fig0.statistic == "response_rate":   # questionnaires returned out of n sent
        return ["returned", "n"], {f.id: {"n": ["returned"]} for f in figs}
    if fig0.statistic == "count":
        return ["n"], {f.id: {"n": ["n"]} for f in figs}
    if fig0.statistic == "mean":
        return ["sum", "n"], {f.id: {"mean": ["sum"]} for f in figs}
    plain = [k for k in category_keys(fig0, codebook) if k not in fig0.combine]
    measures = list(plain)
    if fig0.statistic == "share" and fig0.categories:
        measures.append(OTHER)
    cats: dict[str, dict] = {}
    for f in figs:
        mine: dict[str, list[str]] = {}
        for c in category_keys(f, codebook):
            if c not in f.combine:
                mine[c] = [c]
            elif f.statistic == "share":
                mine[c] = list(f.combine[c])
            else:  # multi: "ticked any of" is not a sum — a measure of its own
                name = "any:" + ",".join(f.combine[c])
                if name not in measures:
                    measures.append(name)
                mine[c] = [name]
        cats[f.id] = mine
    return [*measures, "n"], cats


def _measure_matrix(df: pd.DataFrame, fig: Figure, measures: list[str],
                    codebook: Codebook) -> np.ndarray:
    out = np.zeros((len(df), len(measures)))
    var = codebook[fig.variable]
    if fig.statistic == "share":
        col = df[fig.variable].astype("object")
        listed = [m for m in measures if m not in (OTHER, "n")]
        for j, m in enumerate(measures):
            if m == "n":
                continue
            if m == OTHER:
                out[:, j] = (col.notna() & ~col.isin(listed)).to_numpy(float)
            else:
                out[:, j] = (col == m).fillna(False).to_numpy(float)
    elif fig.statistic == "multi_share":
        ticks = df[var.columns].fillna(0).to_numpy(float) > 0
        index = {k: i for i, k in enumerate(var.keys)}
        for j, m in enumerate(measures):
            if m == "n":
                continue
            keys = m.removeprefix("any:").split(",")
            out[:, j] = ticks[:, [index[k] for k in keys]].any(axis=1)
    elif fig.statistic == "mean":
        out[:, 0] = df[fig.variable].to_numpy(dtype=float, na_value=np.nan)
    out[:, measures.index("n")] = 1.0
    return np.nan_to_num(out)


def _split(cond: Cond) -> tuple[frozenset[str] | None, dict[str, frozenset[str]]]:
    root = None
    leaf = {}
    for var, keys in cond:
        if var == ROOT:
            root = keys
        else:
            leaf[var] = keys
    return root, leaf


def _member(df: pd.DataFrame, leaf: dict[str, frozenset[str]]) -> np.ndarray:
    mask = np.ones(len(df), dtype=bool)
    for var, keys in leaf.items():
        mask &= df[var].isin(keys).to_numpy(bool)
    return mask


def build_families(df: pd.DataFrame, codebook: Codebook, figures: list[Figure],
                   populations: dict, unit_of: np.ndarray, display_units: list[str],
                   known_total: bool) -> list[Family]:
    """Every figure family of the wave, its unknowns counted from the respondent data.

    ``unit_of`` gives each respondent's unit (a display unit, or a hidden one such as
    :data:`MISSING`); ``known_total`` says whether the sum over units (the whole wave) is public.
    """
    by_key: dict[str, list[Figure]] = defaultdict(list)
    for fig in figures:
        if fig.statistic == "response_rate":
            continue
        by_key[family_key(fig)].append(fig)
    units = list(display_units) + sorted(set(map(str, unit_of)) - set(display_units))
    unit_index = {u: i for i, u in enumerate(units)}
    uidx = np.array([unit_index[str(u)] for u in unit_of])
    roles = codebook[ROOT].keys
    role_col = df[ROOT].astype("object").to_numpy()
    families = []
    for key, figs in by_key.items():
        measures, cats = _measures(figs, codebook)
        answered = _answered(df, figs[0], codebook)
        mvals = _measure_matrix(df, figs[0], measures, codebook)
        # rows of every figure (conditions) → root sets and leaf dimensions
        specs = []
        for fig in figs:
            for g in group_keys(fig, codebook):
                cond = row_cond(fig, g, codebook, populations)
                root, leaf = _split(cond)
                specs.append((fig, g, cond, root if root is not None else frozenset(roles), leaf))
        root_sets = sorted({s[3] for s in specs}, key=sorted)
        sig = {r: tuple(r in s for s in root_sets) for r in roles}
        blocks_r = sorted(set(sig.values()), reverse=True)
        rblock_of_role = {r: blocks_r.index(sig[r]) for r in roles}
        rb_resp = np.array([rblock_of_role.get(r, -1) for r in role_col])
        dims: dict[tuple, list[dict]] = defaultdict(list)
        for _, _, _, _, leaf in specs:
            if leaf:
                d = tuple(sorted(leaf))
                if leaf not in dims[d]:
                    dims[d].append(leaf)
        # respondent blocks per dimension: the signature of membership in the dimension's sets
        dim_block: dict[tuple, np.ndarray] = {}
        dim_sigs: dict[tuple, list[tuple]] = {}
        for d, sets in dims.items():
            member = np.stack([_member(df, s) for s in sets], axis=1)
            sigs = [tuple(row) for row in member]
            order = sorted(set(sigs), reverse=True)
            pos = {s: i for i, s in enumerate(order)}
            dim_block[d] = np.array([pos[s] for s in sigs])
            dim_sigs[d] = order
        used_rd: set[tuple[int, tuple]] = set()
        used_r: set[int] = set()
        for _, _, _, root, leaf in specs:
            rbs = {rblock_of_role[r] for r in root}
            used_r |= rbs
            if leaf:
                used_rd |= {(rb, tuple(sorted(leaf))) for rb in rbs}
        names: list[tuple] = []
        index: dict[tuple, int] = {}
        for u in units:
            for rb in sorted(used_r):
                index[("R", u, rb)] = len(names)
                names.append(("R", u, rb))
                for (rb2, d) in sorted(used_rd):
                    if rb2 != rb:
                        continue
                    for b in range(len(dim_sigs[d])):
                        index[("X", u, rb, d, b)] = len(names)
                        names.append(("X", u, rb, d, b))
        value = np.zeros((len(names), len(measures)))
        a_idx = np.flatnonzero(answered & (rb_resp >= 0))
        for rb in sorted(used_r):
            sel = a_idx[rb_resp[a_idx] == rb]
            for u in units:
                pick = sel[uidx[sel] == unit_index[u]]
                i = index[("R", u, rb)]
                value[i] = mvals[pick].sum(axis=0)
                for (rb2, d) in used_rd:
                    if rb2 != rb:
                        continue
                    blocks = dim_block[d][pick]
                    for b in range(len(dim_sigs[d])):
                        j = index[("X", u, rb, d, b)]
                        inb = pick[blocks == b]
                        value[j] = mvals[inb].sum(axis=0)
        links = []
        for u in units:
            for (rb, d) in sorted(used_rd):
                link = {index[("R", u, rb)]: 1.0}
                for b in range(len(dim_sigs[d])):
                    link[index[("X", u, rb, d, b)]] = -1.0
                links.append(link)
        fam = Family(key=key, kind=_kind(figs[0]), measures=measures, names=names,
                     units=units, value=value, links=links,
                     value_range=_range(figs[0], codebook))
        base = fam.base
        m_index = {m: i for i, m in enumerate(measures)}
        for fig, g, cond, root, leaf in specs:
            rbs = sorted({rblock_of_role[r] for r in root})
            fig_cats = {c: [m_index[m] for m in ms] for c, ms in cats[fig.id].items()}
            shows = frozenset(m for ms in fig_cats.values() for m in ms) | {fam.n_index}
            total: dict[int, float] = {}
            for u in units:
                combo: dict[int, float] = {}
                for rb in rbs:
                    if not leaf:
                        combo[index[("R", u, rb)]] = 1.0
                        continue
                    d = tuple(sorted(leaf))
                    k = dims[d].index(leaf)
                    for b, s in enumerate(dim_sigs[d]):
                        if s[k]:
                            combo[index[("X", u, rb, d, b)]] = 1.0
                for v, c in combo.items():
                    total[v] = total.get(v, 0.0) + c
                if u in display_units:
                    fam.rows.append(Row(u, fig.id, g, cond, combo, fig_cats, shows,
                                        int(round(sum(base[v] for v in combo)))))
            if known_total:
                fam.rows.append(Row(TOTAL, fig.id, g, cond, total, fig_cats, shows,
                                    int(round(sum(base[v] for v in total)))))
        families.append(fam)
    return families


def _kind(fig: Figure) -> str:
    kinds = {"share": "share", "multi_share": "multi", "mean": "mean", "response_rate": "multi"}
    return kinds.get(fig.statistic, "count")


def _range(fig: Figure, codebook: Codebook) -> tuple[float, float] | None:
    if fig.statistic != "mean":
        return None
    low, high = codebook[fig.variable].range or (0.0, 1e6)
    return float(low), float(high)


def families_from_table(rows: pd.DataFrame, figures: list[Figure],
                        codebook: Codebook) -> list[Family]:
    """Families built from a figure table alone (one unit, no data): each figure on its own,
    with a hidden block for ``alle`` minus the shown groups. For figures.json files that carry
    no suppression flags."""
    families = []
    registry = {f.id: f for f in figures}
    for fid, part in rows.groupby("figure", sort=False):
        fig = registry.get(fid)
        if fig is None:
            continue
        measures, cats = _measures([fig], codebook)
        m_index = {m: i for i, m in enumerate(measures)}
        fig_cats = {c: [m_index[m] for m in ms] for c, ms in cats[fid].items()}
        groups = [g for g in dict.fromkeys(part["group"]) if g != ALL]
        names = [("R", "alle", 0)] + [("X", "alle", 0, (fig.breakdown,), g) for g in groups]
        first = part.drop_duplicates("group").set_index("group")["base"]
        rest = float(first.get(ALL, 0)) - float(first.drop(ALL, errors="ignore").sum())
        if groups and rest > 0:   # respondents without a value of the breakdown: hidden
            names.append(("X", "alle", 0, (fig.breakdown,), MISSING))
        value = np.zeros((len(names), len(measures)))
        nn = len(measures) - 1
        for i, name in enumerate(names[: 1 + len(groups)]):
            g = ALL if i == 0 else name[4]
            sub = part[part["group"] == g].set_index("category")
            value[i, nn] = float(sub["base"].iloc[0]) if len(sub) else 0.0
            for c, ms in fig_cats.items():
                if len(ms) == 1 and c in sub.index and measures[ms[0]] not in (OTHER, "n"):
                    value[i, ms[0]] = float(sub.loc[c, "numerator"])
        if len(names) > 1 + len(groups):
            value[-1] = value[0] - value[1:-1].sum(axis=0)
        links = [{0: 1.0, **dict.fromkeys(range(1, len(names)), -1.0)}] if groups else []
        fam = Family(key=fid, kind=_kind(fig), measures=measures, names=names, units=["alle"],
                     value=value, links=links,
                     share_sum=fig.statistic == "share" and not fig.categories,
                     value_range=_range(fig, codebook))
        base = fam.base
        shows = frozenset(m for ms in fig_cats.values() for m in ms) | {nn}
        for i, name in enumerate(names[: 1 + len(groups)]):
            g = ALL if i == 0 else name[4]
            cond = frozenset({("figure", frozenset([fid])), ("group", frozenset([g]))})
            fam.rows.append(Row("alle", fid, g, cond, {i: 1.0}, fig_cats, shows, int(base[i])))
        families.append(fam)
    return families


# ---------------------------------------------------------------------------- the audit


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


# ---------------------------------------------------------------------------- the procedure


@dataclass
class Result:
    """Which rows are suppressed, and why."""

    min_base: int
    hidden: set[tuple[str, Cond]]               # (unit, respondents) hidden in every table
    primary: set[RowKey]
    suppressed: set[RowKey]
    public: list[str] = field(default_factory=list)   # determined by the whole wave alone
    rounds: int = 0

    def is_suppressed(self, unit: str, figure: str, group: str) -> bool:
        return (unit, figure, group) in self.suppressed


def _row_cost(row: Row) -> float:
    return float(row.base) + (1e5 if row.group == ALL else 0.0)


def protect_families(families: list[Family], min_base: int,
                     max_rounds: int = 200) -> Result:
    """Primary and complementary suppression over all families, to a fixed point.

    A hidden group (unit, respondents) is hidden in every table that shows it, so that the
    tables of different questions cannot be played against each other through the group's
    size."""
    hidden: set[tuple[str, Cond]] = set()
    primary_rows: set[RowKey] = set()
    by_cond: dict[tuple[str, Cond], set[int]] = defaultdict(set)
    for fi, fam in enumerate(families):
        for row in fam.rows:
            if row.unit == TOTAL:
                continue
            by_cond[(row.unit, row.cond)].add(fi)
            if 0 < row.base < min_base:
                hidden.add((row.unit, row.cond))
    for fam in families:
        for row in fam.rows:
            if row.unit != TOTAL and (row.unit, row.cond) in hidden and row.base > 0:
                primary_rows.add(row.key)
    public: set[str] = set()
    verdict: dict[int, dict[tuple, bool]] = defaultdict(dict)   # functional → pinned by totals
    dirty = list(range(len(families)))
    rounds = 0
    while dirty:
        fi = dirty.pop(0)
        fam = families[fi]
        for _ in range(max_rounds):
            rounds += 1
            # every hidden number is a target, complementary ones too: none may be pinned
            hidden_rows = {k for k, row in enumerate(fam.rows) if row.unit != TOTAL
                           and row.base > 0 and (row.unit, row.cond) in hidden}
            targets = targets_of(fam, hidden_rows, min_base)
            new = [t for t in targets if t.functional not in verdict[fi]]
            if new:
                # numbers the whole wave alone determines: not the editions' doing
                known_t = [k for k, row in enumerate(fam.rows) if row.unit == TOTAL]
                free = free_targets(fam, known_system(fam, known_t), new)
                for i, t in enumerate(new):
                    verdict[fi][t.functional] = i not in free
                    if i not in free:
                        public.add(t.label)
            targets = [t for t in targets if not verdict[fi][t.functional]]
            if not targets:
                break
            known = [k for k, row in enumerate(fam.rows)
                     if row.unit == TOTAL or (row.unit, row.cond) not in hidden]
            system = known_system(fam, known)
            free = free_targets(fam, system, targets)
            stuck = [t for i, t in enumerate(targets) if i not in free]
            if not stuck:
                break
            # a row without respondents hides nothing (its zeros follow from its n = 0)
            cost = {k: _row_cost(fam.rows[k]) for k in known
                    if fam.rows[k].unit != TOTAL and fam.rows[k].base > 0}
            added = False
            # one derivation per row: its categories are usually derived the same way
            stuck = list({t.label.rsplit("/", 1)[0]: t for t in reversed(stuck)}.values())
            for t in stuck:
                used = [k for k in certificate_rows(fam, system, t, cost) if k in cost]
                if not used:
                    used = [k for k in cost if fam.rows[k].unit == t.unit]
                if not used:
                    continue
                k = min(used, key=lambda k: (cost[k], fam.rows[k].key))
                mark = (fam.rows[k].unit, fam.rows[k].cond)
                if mark not in hidden:
                    hidden.add(mark)
                    added = True
                    for other in by_cond[mark]:
                        if other != fi and other not in dirty:
                            dirty.append(other)
            if not added:
                break
        else:
            raise RuntimeError(f"suppression of {fam.key} did not converge")
    suppressed = {row.key for fam in families for row in fam.rows
                  if row.unit != TOTAL and (row.unit, row.cond) in hidden and row.base > 0}
    return Result(min_base, hidden, primary_rows, suppressed, sorted(public), rounds)


def protect(df: pd.DataFrame, codebook: Codebook, figures: list[Figure], populations: dict,
            *, min_base: int, unit_var: str | None = "kommune") -> Result:
    """Suppression for the tables of every unit (municipality), the whole wave being public.

    With ``unit_var=None`` the wave itself is the one unit and nothing else is public (the
    setting for ``lpj diff``)."""
    if unit_var is None:
        unit_of = np.array(["alle"] * len(df), dtype=object)
        display, known_total = ["alle"], False
    else:
        col = df[unit_var].astype("object")
        unit_of = col.where(col.notna(), MISSING).astype(str).to_numpy()
        display = [k for k in codebook[unit_var].keys if (unit_of == k).any()]
        known_total = True
    fams = build_families(df, codebook, figures, populations, unit_of, display, known_total)
    return protect_families(fams, min_base)


def protect_table(rows: pd.DataFrame, figures: list[Figure], codebook: Codebook,
                  min_base: int) -> Result:
    """Suppression of a figure table on its own (no data): each figure separately."""
    fams = families_from_table(rows, figures, codebook)
    result = protect_families(fams, min_base)
    small = rows[(rows["base"] > 0) & (rows["base"] < min_base)]
    extra = {("alle", f, g) for f, g in zip(small["figure"], small["group"], strict=True)}
    result.suppressed |= extra
    result.primary |= extra
    return result


# ---------------------------------------------------------------------------- applying


def apply(table: pd.DataFrame, suppressed: set[tuple[str, str]] | Iterable[tuple[str, str]],
          min_base: int) -> pd.DataFrame:
    """The figure table with a ``suppressed`` column: True for the (figure, group) rows given
    and for every row whose base is below ``min_base``; their numbers become missing. A row
    without respondents (base 0) has no numbers to hide and is not flagged."""
    hide = set(suppressed)
    out = table.copy()
    keys = list(zip(out["figure"], out["group"], strict=True))
    base = out["base"].to_numpy(float)
    flag = np.array([k in hide for k in keys], dtype=bool) & (base > 0)
    flag |= (base > 0) & (base < min_base)
    out["suppressed"] = flag
    for col in ("numerator", "base", "value", "ci_low", "ci_high"):
        if col in out.columns:
            out[col] = out[col].astype("Float64").mask(flag)
    return out


def unit_rows(result: Result, unit: str) -> set[tuple[str, str]]:
    """The suppressed (figure, group) rows of one unit."""
    return {(f, g) for u, f, g in result.suppressed if u == unit}


# ---------------------------------------------------------------------------- exact audit


def audit_integer(fam: Family, result: Result, units: Iterable[str] | None = None,
                  time_limit: float = 20.0) -> list[str]:
    """The targets of ``units`` an attacker can pin exactly with integer programming (min =
    max over all whole-number tables that agree with everything shown), leaving out those the
    whole-wave numbers alone pin. Empty when the suppression holds. Slow; for tests."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    units = set(units) if units is not None else None
    hidden = {k for k, row in enumerate(fam.rows) if row.key in result.suppressed}
    targets = [t for t in targets_of(fam, hidden, result.min_base)
               if units is None or t.unit in units]
    if not targets:
        return []
    n = fam.n_cols
    g = np.stack([t.vector(n) for t in targets])
    truth = g @ fam.truth()

    def pinned(known: list[int]) -> set[int]:
        system = known_system(fam, known)
        cons = [LinearConstraint(system.a_eq, system.b_eq, system.b_eq)]
        if system.a_ub.shape[0]:
            cons.append(LinearConstraint(system.a_ub, -np.inf, 0.0))
        moved = np.zeros(len(targets), dtype=bool)
        out = set()
        for i in range(len(targets)):
            if moved[i]:
                continue
            for sign in (1.0, -1.0):
                res = milp(-sign * g[i], constraints=cons, integrality=fam.integrality(),
                           bounds=Bounds(0, 1e7), options={"time_limit": time_limit})
                if res.x is None:
                    raise RuntimeError(f"audit of {fam.key}: {res.message}")
                moved |= np.abs(g @ res.x - truth) > 1e-6
                if moved[i]:
                    break
            if not moved[i]:
                out.add(i)
        return out

    known = [k for k, row in enumerate(fam.rows)
             if row.unit == TOTAL or row.key not in result.suppressed]
    pinned_now = pinned(known)
    if not pinned_now:
        return []
    public = pinned([k for k, row in enumerate(fam.rows) if row.unit == TOTAL])
    return [targets[i].label for i in sorted(pinned_now - public)]
