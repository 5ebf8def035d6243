"""Could the reconstruction be a real survey? The plausibility checks of both waves, and the
statistics behind them on small tables where the answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lpj_report.generate.missing import load_missing
from lpj_report.pipeline import Build, Project
from lpj_report.plausibility import (
    NULL_BAND,
    SPREAD_BAND,
    assess,
    chi2_table,
    dips,
    ks_uniform,
    spearman_partial,
    spread_test,
)
from lpj_report.plausibility_report import markdown

NO_ASSOCIATION = ("kap2.koen_ingen", "kap2.alder_ingen", "kap2.aar_kommune_ingen",
                  "kap2.kommunestoerrelse_ingen", "kap2.kommune_ingen")


@pytest.fixture(scope="module")
def project() -> Project:
    return Project()


@pytest.fixture(scope="module", params=[2002, 2005])
def wave(request, project):
    build = Build.load(project, request.param)
    return build, assess(project, build.wave, build.data)


def test_no_edit_rule_is_broken(wave):
    _, a = wave
    assert set(a.rules) == {"T-anciennitet", "R-rolle", "R-filter", "M-hel"}
    assert sum(a.rules.values()) == 0 and a.violations == []


def test_no_association_claims_look_like_draws_from_the_null(wave):
    _, a = wave
    ids = {n.id for n in a.nulls}
    assert set(NO_ASSOCIATION) <= ids
    for n in a.nulls:
        assert NULL_BAND[0] <= n.p <= NULL_BAND[1], (n.id, n.p)
        assert 100 * (1 - NULL_BAND[1]) <= n.percentile <= 100 * (1 - NULL_BAND[0])
        if n.test == "chi2":
            assert n.dof and n.statistic > 0.2 * n.dof, "a χ² near 0 is balanced, not drawn"


def test_municipalities_differ_by_sampling_noise(wave):
    _, a = wave
    s = a.spread
    assert s.groups == 12 and s.n > 1300
    assert SPREAD_BAND[0] <= s.percentile <= SPREAD_BAND[1]
    assert s.p05 < s.span < s.p95
    assert s.span > 3.0, "a span of 1 point (the old reconstruction) is at the 0th percentile"


def test_every_question_has_some_blanks_within_the_band(wave, project):
    _, a = wave
    low, high = load_missing().band
    # every question but the design's (respondent, rolle, kommune) and the optional cluster id
    # (institution), which the reconstruction leaves to real data
    assert len(a.missing) == len(project.codebook.questions) - 4
    assert {m.item for m in a.missing}.isdisjoint({"respondent", "rolle", "kommune",
                                                   "institution"})
    for m in a.missing:
        assert m.asked > 100
        assert low <= m.percent <= high + 0.5, (m.item, m.percent)
    lists = [m.percent for m in a.missing if project.codebook[m.item].kind == "multi"]
    singles = [m.percent for m in a.missing if project.codebook[m.item].kind == "single"]
    assert np.mean(lists) > np.mean(singles) + 1, "long lists are skipped more often"


def test_bases_follow_the_blanks(wave, project):
    build, _ = wave
    rows = build.figures.set_index(["figure", "group", "category"])
    emp = build.data[build.data["rolle"] == "medarbejder"]
    answered = int(emp["opbakning_ledelse"].notna().sum())
    assert answered < len(emp)
    assert rows.loc[("kap2.opbakning_ledelse", "alle", "i_hoej_grad"), "base"] == answered


def test_related_questions_stay_related_among_equal_learners(wave):
    _, a = wave
    assert len(a.related) >= 40
    for r in a.related:
        assert 0.03 < r.rho < 0.7, (r.a, r.b, r.rho)
        assert r.partial > 0.02, (r.a, r.b, r.partial)
    demands = next(r for r in a.related if {r.a, r.b} == {"behov_laere_mere", "krav_udvikling"})
    assert demands.partial > 0.1   # was 0,04 when only the learning count linked questions


def test_unrelated_questions_give_uniform_p_values(wave):
    _, a = wave
    assert len(a.unrelated) == 40
    assert len({(x, y) for x, y, _ in a.unrelated}) == 40
    assert a.ks[1] > 0.05
    assert 0.2 < np.median([p for _, _, p in a.unrelated]) < 0.8


def test_no_holes_in_answer_scales(wave):
    _, a = wave
    assert a.dips == []


def test_plausibility_md_is_the_assessment_of_the_committed_data(wave):
    build, a = wave
    path = build.wave.folder / "plausibility.md"
    assert path.read_text(encoding="utf-8") == markdown(a, build.wave.meta.get("seed"))


# ------------------------------------------------------------------- the statistics themselves
def test_spread_test_flags_identical_and_very_different_groups():
    rng = np.random.default_rng(1)
    group = np.repeat(np.arange(12), 100)
    balanced = np.tile(np.r_[np.ones(11), np.zeros(89)], 12).astype(bool)   # 11 % everywhere
    assert spread_test(balanced, group, seed=3).percentile < SPREAD_BAND[0]
    skewed = rng.random(1200) < np.repeat(np.linspace(0.02, 0.3, 12), 100)
    assert spread_test(skewed, group, seed=3).percentile > SPREAD_BAND[1]
    pct = [spread_test(rng.random(1200) < 0.11, group, n_sim=500, seed=s).percentile
           for s in range(40)]
    assert ks_uniform([p / 100 for p in pct])[1] > 0.01   # a genuine null is uniform


def test_chi2_of_a_balanced_table_is_zero():
    x = pd.Series(["a", "b"] * 50)
    y = pd.Series(["u", "u", "v", "v"] * 25)
    stat, dof, p = chi2_table(x, y)
    assert dof == 1 and stat == pytest.approx(0) and p == pytest.approx(1)


def test_partial_correlation_removes_a_common_cause():
    rng = np.random.default_rng(2)
    z = rng.standard_normal(3000)
    x = z + rng.standard_normal(3000)
    y = z + rng.standard_normal(3000)
    rho, partial, n = spearman_partial(x, y, z)
    assert rho > 0.4 and abs(partial) < 0.06 and n == 3000


def test_dips_find_a_hole_between_two_large_neighbours(codebook):
    n = 200
    data = pd.DataFrame({"rolle": ["leder"] * n,
                         "snak_kolleger": ["flere_gange_dagligt"] * 88 + ["hver_dag"] * 4
                         + ["to_tre_ugentligt"] * 96 + ["sjaeldnere"] * 12})
    for var in codebook.questions:
        if var.name not in data:
            data[var.name] = pd.NA
    found = dips(data, codebook)
    assert [(d.item, d.category) for d in found] == [("snak_kolleger", "hver_dag")]
