"""Disclosure control (lpj_report/suppression.py): small bases hidden, and nothing hidden can be
worked back — tested by attacking the written edition tables with integer programming.

The attacker here is written independently of the suppression engine: it reads only what the
editions publish (every municipality's figures.json rows) and the whole-wave numbers, and knows
how tables add up (municipalities to the total, groups to ``alle`` plus a hidden rest,
categories to the base, options at most the base, means within the variable's range, the same
respondents counted alike in two figures on one question). For every suppressed number it asks
an integer programme for the smallest and the largest value consistent with all of that; a
number is recovered when the two agree — unless the whole-wave numbers alone already pin it
(then the main report, not the editions, tells it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from lpj_report import suppression
from lpj_report.editions import edition_figure_ids, edition_rows, make_cube
from lpj_report.figures import ALL, category_keys
from lpj_report.pipeline import Build, Project
from lpj_report.suppression import row_cond

SMALLEST = "hasle"


@pytest.fixture(scope="module")
def project():
    return Project()


@pytest.fixture(scope="module")
def cube(project):
    return make_cube(project, Build.load(project, 2002), min_base=5)


@pytest.fixture(scope="module")
def published(cube):
    """What every edition publishes: each municipality's rows, as written to figures.json."""
    rows = [edition_rows(cube, k) for k in cube.municipalities]
    mine = pd.concat([r[r["kommune"] != ALL] for r in rows], ignore_index=True)
    return mine


# ---------------------------------------------------------------------------- the attacker


class Attack:
    """Integer programmes over the hidden numbers of one question's figures."""

    def __init__(self, cube, figures, shown: pd.DataFrame, project):
        self.cb = project.codebook
        self.pops = project.populations
        self.figures = figures
        self.total = cube.total[cube.total["figure"].isin([f.id for f in figures])]
        self.shown = shown
        self.kommuner = cube.municipalities
        self.index: dict[tuple, int] = {}
        self.known: dict[int, float] = {}
        self.continuous: set[int] = set()
        self.eq: list[tuple[dict[int, float], float]] = []
        self.ub: list[tuple[dict[int, float], float]] = []

    def var(self, key: tuple) -> int:
        if key not in self.index:
            self.index[key] = len(self.index)
        return self.index[key]

    def measures(self, fig) -> list[str]:
        if fig.statistic == "count":
            return ["n"]
        if fig.statistic == "mean":
            return ["mean", "n"]
        return [c for c in category_keys(fig, self.cb) if c not in fig.combine] + ["n"]

    def cell(self, kommune: str, fig, group: str, measure: str) -> int:
        # the same respondents answering the same question are the same unknowns in every
        # figure on that question (e.g. the 'alle' row of a figure and of its breakdown)
        cond = row_cond(fig, group, self.cb, self.pops)
        who = "count" if fig.statistic == "count" else fig.variable
        v = self.var((kommune, who, fig.statistic, fig.exclude, cond, measure))
        if fig.statistic == "mean" and measure == "mean":
            self.continuous.add(v)
        return v

    def build(self, hidden_kommuner: set[str] | None = None) -> None:
        """The system; ``hidden_kommuner``: treat every row of these municipalities as hidden."""
        hidden_kommuner = hidden_kommuner or set()
        for fig in self.figures:
            ms = self.measures(fig)
            groups = list(dict.fromkeys(self.total[self.total["figure"] == fig.id]["group"]))
            t = self.total[self.total["figure"] == fig.id].set_index(["group", "category"])
            rows = self.shown[self.shown["figure"] == fig.id].set_index(
                ["kommune", "group", "category"])

            for g in groups:
                for m in ms:
                    cat = ms[0] if m == "n" else m
                    total_value = (float(t.loc[(g, cat), "base"]) if m == "n"
                                   else float(t.loc[(g, cat), "numerator"]))
                    self.eq.append(({self.cell(k, fig, g, m): 1.0 for k in self.kommuner},
                                    total_value))
                    for k in self.kommuner:
                        r = rows.loc[(k, g, cat)]
                        if bool(r["suppressed"]) or k in hidden_kommuner:
                            continue
                        known = float(r["base"]) if m == "n" else float(r["numerator"])
                        self.known[self.cell(k, fig, g, m)] = known
            if fig.breakdown:
                for k in self.kommuner:
                    for m in ms:
                        rest = self.var((k, fig.id, "rest", m))
                        cat = ms[0] if m == "n" else m
                        t_rest = (t.loc[(ALL, cat), "base" if m == "n" else "numerator"]
                                  - sum(t.loc[(g, cat), "base" if m == "n" else "numerator"]
                                        for g in groups if g != ALL))
                        if abs(t_rest) < 1e-9:
                            self.known[rest] = 0.0
                        eq = {self.cell(k, fig, ALL, m): 1.0, rest: -1.0}
                        for g in groups:
                            if g != ALL:
                                eq[self.cell(k, fig, g, m)] = -1.0
                        self.eq.append((eq, 0.0))
            for k in self.kommuner:
                for g in groups:
                    n = self.cell(k, fig, g, "n")
                    if fig.statistic == "share":
                        eq = {self.cell(k, fig, g, c): 1.0 for c in ms if c != "n"}
                        eq[n] = -1.0
                        self.eq.append((eq, 0.0))
                    elif fig.statistic == "multi_share":
                        for c in ms[:-1]:
                            self.ub.append(({self.cell(k, fig, g, c): 1.0, n: -1.0}, 0.0))
                    elif fig.statistic == "mean":
                        low, high = self.cb[fig.variable].range
                        s = self.cell(k, fig, g, "mean")
                        self.ub.append(({n: low, s: -1.0}, 0.0))
                        self.ub.append(({s: 1.0, n: -high}, 0.0))

    def pinned(self, targets: list[int]) -> set[int]:
        """The targets with one feasible value only."""
        n = len(self.index)

        def matrix(rows):
            a = np.zeros((len(rows) + (len(self.known) if rows is self.eq else 0), n))
            b = np.zeros(a.shape[0])
            for i, (coef, rhs) in enumerate(rows):
                for j, c in coef.items():
                    a[i, j] += c
                b[i] = rhs
            if rows is self.eq:
                for i, (j, v) in enumerate(self.known.items(), start=len(rows)):
                    a[i, j] = 1.0
                    b[i] = v
            return a, b

        a_eq, b_eq = matrix(self.eq)
        cons = [LinearConstraint(a_eq, b_eq, b_eq)]
        if self.ub:
            a_ub, b_ub = matrix(self.ub)
            cons.append(LinearConstraint(a_ub, -np.inf, b_ub))
        integrality = np.array([0 if j in self.continuous else 1 for j in range(n)])
        found: dict[int, set[float]] = {t: set() for t in targets}
        out = set()
        for t in targets:
            if len(found[t]) > 1:
                continue
            for sign in (1.0, -1.0):
                c = np.zeros(n)
                c[t] = -sign
                res = milp(c, constraints=cons, integrality=integrality, bounds=Bounds(0, 1e7))
                assert res.x is not None, res.message
                for u in targets:
                    found[u].add(round(float(res.x[u]), 6))
                if len(found[t]) > 1:
                    break
            if len(found[t]) == 1:
                out.add(t)
        return out


def recovered(cube, project, shown: pd.DataFrame, kommuner: list[str]) -> list[str]:
    """Suppressed numbers of ``kommuner`` the attacker pins and the whole wave alone does not."""
    by_question: dict[tuple, list] = {}
    for fig in cube.figures:
        by_question.setdefault((fig.variable, fig.statistic, fig.exclude), []).append(fig)
    out = []
    for figures in by_question.values():
        ids = [f.id for f in figures]
        hidden = shown[shown["figure"].isin(ids) & shown["suppressed"].astype(bool)
                       & shown["kommune"].isin(kommuner)]
        if hidden.empty:
            continue
        attack = Attack(cube, figures, shown, project)
        attack.build()
        targets = sorted({attack.cell(r["kommune"], project.registry[r["figure"]], r["group"], m)
                          for r in hidden.to_dict(orient="records")
                          for m in attack.measures(project.registry[r["figure"]])})
        pinned = attack.pinned(targets)
        if not pinned:
            continue
        names = {v: k for k, v in attack.index.items()}
        public = Attack(cube, figures, shown, project)
        public.build(hidden_kommuner=set(cube.municipalities))
        by_total = public.pinned([public.index[names[t]] for t in pinned])
        out += [str(names[t]) for t in sorted(pinned) if public.index[names[t]] not in by_total]
    return out


# ---------------------------------------------------------------------------- tests


def test_config_default_and_override():
    assert suppression.load_config().min_base == 5
    assert suppression.load_config(9).min_base == 9
    assert suppression.load_config().mark == "◊"
    with pytest.raises(ValueError):
        suppression.load_config(0)


def test_apply_hides_small_bases_and_flags_them():
    table = pd.DataFrame({
        "figure": ["f"] * 4, "group": ["alle", "a", "b", "c"], "category": ["x"] * 4,
        "numerator": [10, 3, 5, 2], "base": [20, 4, 10, 6], "value": [50.0, 75.0, 50.0, 33.3],
        "unit": ["pct"] * 4, "decimals": [0] * 4})
    out = suppression.apply(table, {("f", "c")}, min_base=5)
    assert out["suppressed"].tolist() == [False, True, False, True]
    assert out.loc[out["suppressed"], ["numerator", "base", "value"]].isna().all().all()
    assert out.loc[~out["suppressed"], "numerator"].tolist() == [10, 5]


def test_smallest_municipality_has_suppression(cube, published):
    mine = published[published["kommune"] == SMALLEST]
    assert len(cube.build.data[cube.build.data["kommune"] == SMALLEST]) == min(
        int((cube.build.data["kommune"] == k).sum()) for k in cube.municipalities)
    small = mine[(mine["figure"] == "intro.svar") & (mine["group"] == "leder")]
    assert small["suppressed"].all(), "4 leaders: below the minimum base"
    assert mine["suppressed"].sum() >= 10
    # complementary: at least one hidden row whose own base is large enough
    raw = cube.units[SMALLEST].set_index(["figure", "group", "category"])["base"]
    hidden = mine[mine["suppressed"]].set_index(["figure", "group", "category"]).index
    assert any(raw[k] >= 5 for k in hidden)


def test_no_shown_number_has_a_small_base(published):
    shown = published[~published["suppressed"].astype(bool)]
    assert ((shown["base"] == 0) | (shown["base"] >= 5)).all()


def test_suppressed_numbers_are_null_in_the_tables(published):
    hidden = published[published["suppressed"].astype(bool)]
    assert hidden[["numerator", "base", "value"]].isna().all().all()


def test_a_group_is_hidden_in_every_table_or_in_none(cube, project, published):
    """Same municipality, same respondents → same status in every figure (else a group's size
    shown in one table gives away the same group hidden in another)."""
    status: dict[tuple, set[bool]] = {}
    for r in published.drop_duplicates(["kommune", "figure", "group"]).to_dict(orient="records"):
        if r["base"] == 0:
            continue   # nobody in the group answered this question: no number, nothing to hide
        fig = project.registry[r["figure"]]
        cond = row_cond(fig, r["group"], project.codebook, project.populations)
        status.setdefault((r["kommune"], cond), set()).add(bool(r["suppressed"]))
    mixed = [k for k, v in status.items() if len(v) > 1]
    assert not mixed


def test_attack_recovers_numbers_when_only_small_bases_are_hidden(cube, project, published):
    """The attacker works: with primary suppression alone, it finds the hidden numbers."""
    naive = published.copy()
    naive["suppressed"] = (naive["base"].notna() & (naive["base"] < 5)) | naive.apply(
        lambda r: (r["kommune"], r["figure"], r["group"]) in cube.suppression.primary, axis=1)
    raw = pd.concat([cube.units[k].assign(kommune=k) for k in cube.municipalities])
    naive = naive.drop(columns=["numerator", "base"]).merge(
        raw[["kommune", "figure", "group", "category", "numerator", "base"]],
        on=["kommune", "figure", "group", "category"])
    naive.loc[naive["suppressed"], ["numerator", "base"]] = np.nan
    found = recovered(cube, project, naive, [SMALLEST])
    assert found, "primary suppression alone must leave something recoverable"


def test_no_suppressed_number_of_the_smallest_municipality_can_be_recovered(
        cube, project, published):
    assert recovered(cube, project, published, [SMALLEST]) == []


def test_no_suppressed_number_of_any_municipality_can_be_recovered(cube, project, published):
    assert recovered(cube, project, published, cube.municipalities) == []


def test_engine_integer_audit_over_question_families(project):
    """The engine's own exact audit (with linked figures and hidden blocks), every
    municipality, two minimum bases."""
    build = Build.load(project, 2002)
    figures = [project.registry[i] for i in edition_figure_ids()]
    unit_of = build.data["kommune"].astype("object").astype(str).to_numpy()
    units = list(project.codebook["kommune"].keys)
    for min_base in (5, 10):
        fams = suppression.build_families(build.data, project.codebook, figures,
                                          project.populations, unit_of, units, True)
        result = suppression.protect_families(fams, min_base)
        leaks = [leak for fam in fams for leak in suppression.audit_integer(fam, result)]
        assert leaks == [], leaks


def test_wave_level_suppression_of_a_table_without_data(project):
    build = Build.load(project, 2002)
    result = suppression.protect_table(build.figures, project.figures, project.codebook, 5)
    table = suppression.apply(build.figures, suppression.unit_rows(result, "alle"), 5)
    assert ((table["base"].isna()) | (table["base"] == 0) | (table["base"] >= 5)).all()
    result = suppression.protect_table(build.figures, project.figures, project.codebook, 200)
    table = suppression.apply(build.figures, suppression.unit_rows(result, "alle"), 200)
    hidden = table[table["suppressed"]]
    assert len(hidden) > 0
    # with one hidden group in a breakdown, a second one hides with it — unless respondents
    # without an answer to the breakdown (blank) already keep the groups from adding up to alle
    bases = build.figures.drop_duplicates(["figure", "group"]).set_index(["figure", "group"])
    for fid, part in hidden.groupby("figure"):
        groups = set(part["group"]) - {"alle"}
        fig = project.registry[fid]
        if fig.breakdown and groups and "alle" not in set(part["group"]):
            rows = bases.loc[fid]["base"]
            if rows.drop("alle").sum() == rows["alle"]:
                assert len(groups) >= 2, fid
