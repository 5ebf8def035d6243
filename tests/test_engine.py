"""The figures engine, derived variables and target arithmetic on hand-made tables."""

from __future__ import annotations

from fractions import Fraction

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpj_report.derive import apply_derived
from lpj_report.figures import Figure, compute_figure, compute_figures
from lpj_report.load import typed_table
from lpj_report.targets import NumberTarget, RankingTarget
from lpj_report.verify import exact_value, ranking_holds

POPS = {"alle": {}, "medarbejdere": {"rolle": ("medarbejder",)}, "ledere": {"rolle": ("leder",)}}
WAVE = {"municipalities": {"odense": "stor", "ejby": "lille"}, "sent": {"medarbejder": 10,
        "tillidsrepraesentant": 2, "leder": 4}}


def table(rows: list[dict], codebook) -> pd.DataFrame:
    """A typed, derived table from a few columns given as codes (others blank)."""
    raw = pd.DataFrame({c: pd.Series([r.get(c) for r in rows], dtype=object)
                        for c in codebook.data_columns})
    raw["respondent"] = list(range(1, len(rows) + 1))
    return apply_derived(typed_table(raw, codebook), codebook, WAVE)


def learning_row(n_high: int, role: int = 1, workplace: int = 1) -> dict:
    items = ["ls_uden_for_omraade", "ls_ikke_rustet", "ls_kolleger", "ls_overordnet",
             "ls_moeder", "ls_lettere", "ls_bedre", "ls_fejl"]
    row = {"rolle": role, "arbejdssted": workplace}
    for i, item in enumerate(items):
        row[item] = 1 if i < n_high else 2
    return row


def test_learning_count_and_both_cut_offs(codebook):
    df = table([learning_row(k) for k in range(9)] + [{"rolle": 1}], codebook)
    assert list(df["laering_antal"].iloc[:9]) == list(range(9))
    assert pd.isna(df["laering_antal"].iloc[9])
    assert list(df["laering"].iloc[:9].astype(str)) == (
        ["lav"] * 3 + ["mellem"] * 3 + ["hoej"] * 3)
    assert list(df["laering_alt"].iloc[:9].astype(str)) == (
        ["lav"] * 4 + ["mellem"] * 2 + ["hoej"] * 3)


def test_partly_answered_items_count_unanswered_as_not_high(codebook):
    row = {"rolle": 1, "ls_kolleger": 1, "ls_bedre": 1}
    df = table([row], codebook)
    assert df["laering_antal"].iloc[0] == 2


def test_area_tenure_and_size_groups(codebook):
    rows = [{"rolle": 1, "arbejdssted": 7, "aar_stilling": 3, "alder": 29, "kommune": 10},
            {"rolle": 1, "arbejdssted": 5, "aar_stilling": 3.5, "alder": 30, "kommune": 2},
            {"rolle": 1, "arbejdssted": 1, "aar_stilling": 26, "alder": 50, "kommune": 2}]
    df = table(rows, codebook)
    assert list(df["omraade"].astype(str)) == ["dagpasning", "aeldre", "administration"]
    assert list(df["stilling_gruppe"].astype(str)) == ["aar_0_3", "aar_0_3", "over_25"]
    assert list(df["aldersgruppe"].astype(str)) == ["under_30", "a30_39", "a50_plus"]
    assert list(df["kommunestoerrelse"].astype(str)) == ["stor", "lille", "lille"]


def test_share_by_breakdown_with_combined_category_and_missing(codebook):
    rows = [learning_row(0, workplace=1), learning_row(7, workplace=1),
            learning_row(4, workplace=1), learning_row(4, workplace=7),
            learning_row(4, role=3, workplace=7), {"rolle": 1, "arbejdssted": 7}]
    df = table(rows, codebook)
    fig = Figure(id="t", title="", variable="laering", statistic="share",
                 population="medarbejdere", breakdown="arbejdssted",
                 combine={"mellem_hoej": ("mellem", "hoej")}, decimals=1)
    out = pd.DataFrame(compute_figure(fig, df, codebook, POPS))
    alle = out[out.group == "alle"].set_index("category")
    # four employees answered (the fifth employee left every item blank; the leader is outside)
    assert alle.loc["lav", "base"] == 4
    assert alle.loc["lav", "numerator"] == 1
    assert alle.loc["mellem_hoej", "numerator"] == 3
    assert alle.loc["hoej", "value"] == pytest.approx(25.0)
    forv = out[out.group == "forvaltning"].set_index("category")
    assert forv.loc["mellem", "value"] == pytest.approx(100 / 3)
    empty = out[out.group == "hjemmepleje"]
    assert (empty["base"] == 0).all() and empty["value"].isna().all()


def test_mean_count_and_response_rate(codebook):
    rows = [{"rolle": 1, "alder": 40}, {"rolle": 1, "alder": 45}, {"rolle": 1},
            {"rolle": 3, "alder": 50}]
    df = table(rows, codebook)
    mean = Figure(id="m", title="", variable="alder", statistic="mean",
                  population="medarbejdere")
    (row,) = compute_figure(mean, df, codebook, POPS)
    assert (row["numerator"], row["base"], row["value"]) == (85.0, 2, 42.5)
    rate = Figure(id="r", title="", variable="rolle", statistic="response_rate",
                  breakdown="rolle")
    rates = {r["group"]: r for r in compute_figure(rate, df, codebook, POPS, WAVE)}
    assert rates["medarbejder"]["value"] == pytest.approx(30.0)
    assert rates["alle"]["base"] == 16 and rates["alle"]["numerator"] == 4


def test_multi_share_base_is_those_who_ticked_something(test_codebook):
    multi = next(v for v in test_codebook.questions if v.kind == "multi")
    role = next(r for r in test_codebook.roles if r.key in multi.asked)
    cols = multi.columns
    rows = [{"rolle": role.code, cols[0]: 1, cols[1]: 0},
            {"rolle": role.code, cols[0]: 1, cols[1]: 1},
            {"rolle": role.code, cols[0]: 0, cols[1]: 0},
            {"rolle": role.code}]
    raw = pd.DataFrame({c: pd.Series([r.get(c) for r in rows], dtype=object)
                        for c in test_codebook.data_columns})
    raw["respondent"] = [1, 2, 3, 4]
    df = typed_table(raw, test_codebook)
    fig = Figure(id="mm", title="", variable=multi.name, statistic="multi_share")
    out = {r["category"]: r for r in compute_figure(fig, df, test_codebook, {"alle": {}})}
    assert out[multi.codes[0].key]["base"] == 2
    assert out[multi.codes[0].key]["value"] == pytest.approx(100.0)
    assert out[multi.codes[1].key]["value"] == pytest.approx(50.0)


@pytest.mark.parametrize(("value", "decimals", "computed", "holds"), [
    (21.4, 1, Fraction(2135, 100), True),     # 21,35 rounds half up to 21,4
    (21.4, 1, Fraction(2145, 100), False),    # 21,45 rounds to 21,5
    (11, 0, Fraction(8, 70) * 100, True),     # 11,43 %
    (50, 0, Fraction(1, 2) * 100 - Fraction(1, 1000), True),
    (73, 0, Fraction(725, 10), True),
    (73, 0, Fraction(735, 10), False),
])
def test_target_rounds_half_up(value, decimals, computed, holds):
    t = NumberTarget(id="x", figure="f", group="alle", category="c", value=value,
                     decimals=decimals)
    assert t.holds(computed) is holds


def test_verbal_bounds_are_inclusive():
    t = NumberTarget(id="x", figure="f", group="alle", category="c", bounds=(45, 50))
    assert t.holds(Fraction(50)) and t.holds(Fraction(45)) and not t.holds(Fraction(5001, 100))


def test_exact_value_avoids_float_rounding():
    row = pd.Series({"numerator": 2145, "base": 10000, "unit": "pct", "value": 21.45})
    assert exact_value(row, "value") == Fraction(2145, 100)


def test_ranking_allows_ties_but_not_unlisted_items_above_the_last_place():
    r = RankingTarget(id="r", figure="f", order=("a", "b", "c"))
    assert ranking_holds(r, (), {"a": 40, "b": 36, "c": 36, "d": 20})
    assert not ranking_holds(r, (), {"a": 40, "b": 36, "c": 30, "d": 31})
    assert not ranking_holds(r, (), {"a": 30, "b": 36, "c": 20})
    asc = RankingTarget(id="r", figure="f", order=("d",), direction="asc")
    assert ranking_holds(asc, (), {"a": 40, "d": 5})


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 8), min_size=1, max_size=40),
       st.lists(st.sampled_from([1, 2, 3, 5, 6, 7]), min_size=40, max_size=40))
def test_shares_lie_in_0_100_and_parts_sum_to_base(codebook, counts, workplaces):
    rows = [learning_row(k, workplace=w) for k, w in zip(counts, workplaces, strict=False)]
    df = table(rows, codebook)
    fig = Figure(id="p", title="", variable="laering", statistic="share",
                 breakdown="arbejdssted", population="alle")
    out = compute_figures(df, codebook, [fig], POPS)
    assert out["value"].dropna().between(0, 100).all()
    for _, grp in out.groupby("group"):
        assert grp["numerator"].sum() == grp["base"].iloc[0]
    alle = out[out.group == "alle"]
    assert alle["base"].iloc[0] == len(counts)
    by_group = out[out.group != "alle"].groupby("category")["numerator"].sum()
    assert (by_group.sort_index() == alle.set_index("category")["numerator"].sort_index()).all()
