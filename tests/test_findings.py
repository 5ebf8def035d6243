"""Findings: the statistics of a comparison, the verdicts, multiplicity and the design.

Known values are checked against textbook results or an independent computation; verdicts
against data built to give each one (an effect, no effect, a tie, an empty group); the design
against respondents put into clusters so that a finding that holds under simple random sampling
does not hold once the clusters are taken into account.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import stats as sps

from lpj_report import stats
from lpj_report.chapters import ChapterError, parse, render_source, segments, text_environment
from lpj_report.derive import apply_derived
from lpj_report.findings import compute, evaluate
from lpj_report.pipeline import Build, Project


@pytest.fixture(scope="module")
def base() -> Build:
    return Build.load(Project(), 2002)


def rebuilt(base: Build, data) -> Build:
    return Build(base.project, base.wave, apply_derived(data, base.project.codebook,
                                                       base.wave.meta))


# --------------------------------------------------------------------------- statistics


def test_wilson_interval_matches_the_textbook():
    # Newcombe (1998), table I: 81/263 → 0,2553–0,3662
    low, high = stats.wilson(81, 263)
    assert round(low, 4) == 0.2553 and round(high, 4) == 0.3662
    low, high = stats.wilson(0, 10)
    assert low == 0.0 and round(high, 4) == 0.2775


def test_newcombe_interval_of_a_difference():
    # Newcombe (1998), table II, example (a): 56/70 − 48/80 → 0,0524–0,3339
    low, high = stats.newcombe(56, 70, 48, 80)
    assert round(low, 4) == 0.0524 and round(high, 4) == 0.3339


def test_two_proportions_uses_fisher_for_small_counts():
    small = stats.two_proportions(1, 8, 6, 9)
    assert small.name == "fisher"
    assert small.p == pytest.approx(sps.fisher_exact([[1, 7], [6, 3]])[1])
    large = stats.two_proportions(300, 1000, 250, 1000)
    assert large.name == "z" and large.effect == pytest.approx(0.05)
    from statsmodels.stats.proportion import proportions_ztest

    assert large.p == pytest.approx(proportions_ztest([300, 250], [1000, 1000])[1])


def test_paired_and_multinomial_comparisons():
    a = np.array([True] * 30 + [False] * 70)
    b = np.array([True] * 10 + [False] * 20 + [True] * 5 + [False] * 65)
    t = stats.paired_proportions(a, b)
    # 20 only-a and 5 only-b discordant pairs: McNemar's χ² = 15² / 25 = 9
    assert t.name == "mcnemar" and t.statistic == pytest.approx(9.0)
    assert t.p == pytest.approx(sps.chi2.sf(9.0, 1))
    c = np.array([True] * 10 + [False] * 2 + [True] * 8 + [False] * 30)
    d = np.array([False] * 10 + [True] * 2 + [True] * 8 + [False] * 30)
    exact = stats.paired_proportions(c, d)   # 12 discordant pairs, 10 against 2: exact test
    assert exact.p == pytest.approx(sps.binomtest(10, 12).pvalue)
    m = stats.multinomial_difference(40, 20, 100)
    assert m.effect == pytest.approx(0.2) and m.p < 0.05


def test_tost_needs_both_the_estimate_and_its_interval_inside_the_margin():
    assert stats.tost_proportions(500, 1000, 510, 1000, 0.10).p < 0.001
    assert stats.tost_proportions(50, 100, 51, 100, 0.10).p > 0.05     # too few to show it
    assert stats.tost_proportions(500, 1000, 650, 1000, 0.10).p > 0.95    # outside the margin


def test_benjamini_hochberg_against_the_definition():
    p = np.array([0.01, 0.04, 0.03, 0.20])
    q = stats.bh(p)
    # sorted: 0,01·4/1, min(0,03·4/2, 0,04·4/3), 0,04·4/3, 0,20·4/4
    assert q.tolist() == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.20])


def test_rao_scott_equals_pearson_without_clustering_and_shrinks_with_it():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 2, 2000)
    y = (rng.random(2000) < 0.3 + 0.1 * x).astype(int)
    singletons = np.arange(2000)
    srs = stats.chi2_independence(x, y)
    one_each = stats.chi2_independence(x, y, cluster=singletons)
    assert one_each.statistic == pytest.approx(srs.statistic, rel=0.01)
    # clusters of 40 alike in x and y: the design effect is large and the test weak
    order = np.lexsort((y, x))
    clusters = np.empty(2000, dtype=int)
    clusters[order] = np.arange(2000) // 40
    clustered = stats.chi2_independence(x, y, cluster=clusters)
    assert clustered.name == "rao_scott" and clustered.statistic < srs.statistic / 5


# --------------------------------------------------------------------------- verdicts


def test_every_finding_of_2002_has_a_verdict_and_estimates(base):
    results = base.findings
    assert set(results) == set(base.project.findings.findings)
    assert {r.verdict for r in results.values()} <= {"supported", "not_supported", "opposite",
                                                     "not_testable"}
    r = results["kap2.stilling_under_tre_aar"]
    a, b = r.estimates["a"], r.estimates["b"]
    assert a.low < a.value < a.high and b.low < b.value < b.high
    assert r.test.low < r.test.effect < r.test.high
    assert r.q >= r.test.p


def test_bh_within_the_family_turns_a_marginal_result(base):
    """A finding just under 0,05 on its own does not hold once its family is corrected."""
    r = base.findings["intro.ledere_aar_stilling"]
    assert r.test.p > 0.05 and r.verdict == "not_supported"
    raw = [x for x in base.findings.values() if x.finding.family == "laering" and x.tested]
    assert all(x.q >= x.test.p for x in raw)


def test_a_reversed_effect_is_the_opposite(base):
    r = base.findings["kap3.krav_for_store_lav_laering"]
    assert r.verdict == "opposite" and r.test.effect < 0


def test_an_empty_group_is_not_testable(base):
    data = base.data[base.data["arbejdssted"] != "dagpleje"].reset_index(drop=True)
    results = rebuilt(base, data).findings
    # a contrast that names the empty group is not testable; one among "the others" is
    assert results["kap2.skole_dagpleje_mere_lav"].verdict == "not_testable"
    assert results["kap2.hjemmepleje_ikke_rustet"].verdict != "not_testable"
    assert results["kap2.dagpleje_leder_kolleger"].verdict == "not_testable"
    top = results["kap2.arbejdssted_lav_top"]
    assert "dagpleje" not in top.order


def test_ranking_ties_are_named_together_and_tested_against_the_next(base):
    reg = base.project.findings
    f = reg.findings["kap2.arbejdssted_hoej_top3"]
    r = compute(f, base.finding_context())
    # forvaltning and plejehjem both print 11 %: they share the place after the top three
    assert set(r.after) == {"forvaltning", "plejehjem_plejecenter"}
    assert len(r.top) == 3


def test_options_alike_only_within_the_margin(base):
    r = base.findings["kap3.metoder_ledere_medarbejdere"]
    assert r.verdict == "opposite"
    differing = {o["key"] for o in r.options if o["q"] < 0.05}
    assert "tilbagemelding" in differing


# --------------------------------------------------------------------------- the design


def test_a_finding_that_holds_under_srs_fails_under_the_clusters(base):
    """Employees put into workplaces of 25 that are alike in time in position and learning: the
    contrast 'three years or less → more high learning' holds when each respondent counts on
    their own, and does not when the 56 workplaces are the units."""
    f = base.project.findings.findings["kap2.stilling_under_tre_aar"]
    srs = compute(f, base.finding_context())
    assert srs.test.p < 0.05 and srs.test.name == "z"
    data = base.data.copy()
    emp = (data["rolle"] == "medarbejder").to_numpy()
    idx = np.flatnonzero(emp)
    keys = np.lexsort((data["laering"].cat.codes.to_numpy()[idx],
                       data["stilling_gruppe"].cat.codes.to_numpy()[idx]))
    inst = np.full(len(data), np.nan)
    inst[idx[keys]] = np.arange(len(idx)) // 25 + 1
    inst[~emp] = 1000 + np.arange((~emp).sum()) // 25
    data["institution"] = inst
    clustered = rebuilt(base, data)
    design = compute(f, clustered.finding_context())
    assert design.test.name == "cluster_z"
    assert design.test.p > 0.05
    results = clustered.findings
    assert results["kap2.stilling_under_tre_aar"].verdict == "not_supported"
    assert results["kap2.koen_laering"].test.name == "rao_scott"


def test_design_effect_sensitivity_changes_only_marginal_findings(base):
    reg = base.project.findings
    deflated = evaluate(reg, replace(base.finding_context(), deff=2.0))
    changed = [fid for fid, r in base.findings.items() if deflated[fid].verdict != r.verdict]
    assert changed
    for fid in changed:
        assert base.findings[fid].q > 1e-6     # only results near the line change


# --------------------------------------------------------------------------- chapter sources


def _env():
    return text_environment({}, {}, {"a.b": {"supported", "not_supported", "not_testable"}})


class _R:
    def __init__(self, verdict):
        self.verdict = verdict


def _render(text: str, verdict: str = "supported") -> str:
    from lpj_report.chapters import Source

    src = Source(path=__import__("pathlib").Path("test.md"), meta={}, text=text)
    return render_source(src, _env(), {"R": {"a.b": _R(verdict)}})


def test_a_finding_block_renders_its_verdict_and_marks_its_lineage():
    text = ('{% finding "a.b" %}{% when supported %}Jo mere, desto mere.'
            '{% when not_supported %}Ingen sikker sammenhæng.{% when not_testable %}'
            '{% endfinding %}')
    out = segments(_render(text, "not_supported"))
    assert out == [{"text": "Ingen sikker sammenhæng.", "findings": "a.b", "kind": ""}]
    assert segments(_render(text, "not_testable")) == []


@pytest.mark.parametrize("text, message", [
    ('{% finding "x.y" %}{% otherwise %}{% endfinding %}', "unknown finding 'x.y'"),
    ('{% finding "a.b" %}{% when supported %}Ja.{% endfinding %}',
     "has no wording for not_supported, not_testable"),
    ('{% finding "a.b" %}Før.{% when supported %}Ja.{% otherwise %}{% endfinding %}',
     "text before the first"),
    ('{% finding "a.b" %}{% when opposite %}Nej.{% otherwise %}{% endfinding %}',
     "verdict 'opposite' is not one of"),
])
def test_a_finding_block_that_does_not_word_its_verdicts_is_refused(text, message):
    with pytest.raises(ChapterError, match=message) as err:
        _render(text)
    assert "test.md, line 1" in str(err.value)


def test_markdown_blocks_of_a_chapter():
    raw = parse('---\nid: x\ntitle: T\n---\n\n::: intro\nIndledning.\n:::\n\n## Overskrift\n\n'
                'Et afsnit med 12 % og\nen linje til.\n\n- punkt\n\n```{figure}\nfigure: f.id\n```'
                '\n', "test.md")
    assert raw["id"] == "x" and raw["intro"][0][0]["text"] == "Indledning."
    text_block, list_block, fence = raw["blocks"]
    assert text_block["heading"] == "Overskrift"
    assert text_block["paragraphs"][0][0]["text"] == "Et afsnit med 12\u00a0% og en linje til."
    assert list_block["items"][0][0]["text"] == "punkt"
    assert fence == {"fence": "figure", "figure": "f.id"}
