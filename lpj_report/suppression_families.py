"""Disclosure control's model: the rows of every figure table as sums of unknown counts.

Layer: figures (imports base, load and figures modules only). Figures on one question form a
*family* (:class:`Family`); its unknowns are counts per unit (municipality), block of respondents
and answer category, and every row of every table is a sum of them (:func:`build_families` from
respondent data, :func:`families_from_table` from a figure table alone). The method and what an
attacker is assumed to know: :mod:`lpj_report.suppression`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from lpj_report.codebook import Codebook
from lpj_report.figures import ALL, Figure, category_keys, group_keys

TOTAL = "__alle__"          # the whole wave (sum of all units)
MISSING = "__uoplyst__"     # respondents without a value (unit or breakdown)
OTHER = "__oevrige__"       # answers outside a figure's listed categories
ROOT = "rolle"              # populations are sets of roles

Cond = frozenset  # frozenset[tuple[str, frozenset[str]]]: who a row counts (variable → keys)
RowKey = tuple[str, str, str]  # (unit, figure, group)


def row_cond(fig: Figure, group: str, codebook: Codebook, populations: dict) -> Cond:
    """Who a row of ``fig`` counts: population ∧ filter ∧ group as variable → allowed keys."""
    cond: dict[str, set[str]] = {}
    for var, keys in (*populations[fig.population].items(), *fig.filter.items()):
        cond[var] = cond.get(var, set(codebook[var].keys)) & set(keys)
    if group != ALL:
        cond[fig.breakdown] = cond.get(fig.breakdown, set(codebook[fig.breakdown].keys)) & {group}
    return frozenset((v, frozenset(k)) for v, k in cond.items())


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
    no suppression flags.

    A group's base is that of its first row; numerators are read per (group, category). The
    table is read once, as plain values (pandas per figure and group cost more than the
    family itself)."""
    registry = {f.id: f for f in figures}
    by_figure: dict[str, dict[str, dict]] = {}   # figure → group → {"base", "numerator"}
    for fid, group, category, numerator, base in zip(
            rows["figure"].tolist(), rows["group"].tolist(), rows["category"].tolist(),
            rows["numerator"].tolist(), rows["base"].tolist(), strict=True):
        if fid not in registry:
            continue
        cell = by_figure.setdefault(fid, {}).setdefault(group, {"base": base, "numerator": {}})
        cell["numerator"][category] = numerator
    return [_table_family(registry[fid], groups, codebook) for fid, groups in by_figure.items()]


def _table_family(fig: Figure, by_group: dict[str, dict], codebook: Codebook) -> Family:
    """One figure's family from its rows grouped by group (:func:`families_from_table`)."""
    fid = fig.id
    measures, cats = _measures([fig], codebook)
    m_index = {m: i for i, m in enumerate(measures)}
    fig_cats = {c: [m_index[m] for m in ms] for c, ms in cats[fid].items()}
    groups = [g for g in by_group if g != ALL]
    names = [("R", "alle", 0)] + [("X", "alle", 0, (fig.breakdown,), g) for g in groups]
    shown = [float(by_group[g]["base"]) for g in groups]
    total = float(by_group[ALL]["base"]) if ALL in by_group else 0.0
    rest = total - math.fsum(b for b in shown if not math.isnan(b))
    if groups and rest > 0:   # respondents without a value of the breakdown: hidden
        names.append(("X", "alle", 0, (fig.breakdown,), MISSING))
    value = np.zeros((len(names), len(measures)))
    nn = len(measures) - 1
    for i, name in enumerate(names[: 1 + len(groups)]):
        cell = by_group.get(ALL if i == 0 else name[4])
        if cell is None:
            continue
        value[i, nn] = float(cell["base"])
        for c, ms in fig_cats.items():
            if len(ms) == 1 and c in cell["numerator"] and measures[ms[0]] not in (OTHER, "n"):
                value[i, ms[0]] = float(cell["numerator"][c])
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
    return fam
