"""The reconstruction generator: quotas meet printed numbers, conflicts are reported, and the
same seed gives the same data."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd

from lpj_report.derive import apply_derived
from lpj_report.figures import Figure, compute_figures
from lpj_report.generate import to_codes
from lpj_report.generate.build import Builder
from lpj_report.generate.latent import Input
from lpj_report.generate.model import Step
from lpj_report.generate.quota import Row, solve
from lpj_report.targets import NumberTarget, Published, RankingTarget

POPS = {"alle": {}, "medarbejdere": {"rolle": ("medarbejder",)}, "ledere": {"rolle": ("leder",)}}
WAVE = {"returned": {"medarbejder": 137, "leder": 23}, "sent": {"medarbejder": 200, "leder": 25},
        "municipalities": {}}
ROLES = ("medarbejder", "leder")


def test_quota_meets_a_rounded_share_in_a_small_cell():
    # 70 respondents: 11 % must round half up from count/70 → 8 of 70 (11,43 %)
    rows = [Row("t", {0: Fraction(100)}, Fraction(105, 10) * 70, Fraction(115, 10) * 70, True)]
    res = solve(np.array([70]), np.array([[30.0, 30.0, 10.0]]), np.ones((1, 3), bool), rows)
    assert res.counts.sum() == 70 and res.counts[0, 0] == 8 and not res.violated


def test_quota_reports_targets_that_cannot_hold_together():
    # x0 ≥ 60 and x0 ≤ 40 of 100: one must give
    rows = [Row("high", {0: Fraction(1)}, Fraction(60), None),
            Row("low", {0: Fraction(1)}, None, Fraction(40))]
    res = solve(np.array([100]), np.array([[50.0, 50.0]]), np.ones((1, 2), bool), rows)
    assert set(res.violated) <= {"high", "low"} and res.violated


def _steps(codebook):
    gender = codebook["koen"]
    place = codebook["arbejdssted"]
    return [
        Step(name="arbejdssted", kind="single", asked=ROLES, domain=tuple(place.keys),
             prior={r: {k: 100 / len(place.keys) for k in place.keys} for r in ROLES}),
        Step(name="koen", kind="single", asked=ROLES, domain=tuple(gender.keys),
             prior={r: {"kvinde": 50, "mand": 50} for r in ROLES}),
        Step(name="alder", kind="number", asked=ROLES, domain=tuple(range(20, 66)),
             prior={r: dict.fromkeys(range(20, 66), 100 / 46) for r in ROLES},
             score=(Input("koen", 0.5),)),
    ]


FIGURES = [
    Figure(id="g", title="", variable="koen", statistic="share", population="medarbejdere",
           breakdown="arbejdssted"),
    Figure(id="a", title="", variable="alder", statistic="mean", population="ledere"),
    Figure(id="o", title="", variable="omraade", statistic="share", population="medarbejdere",
           decimals=1),
]
TARGETS = Published(2002, [
    NumberTarget(id="women", figure="g", group="alle", category="kvinde", value=83),
    NumberTarget(id="women_school", figure="g", group="skole", category="kvinde", value=61),
    NumberTarget(id="age_leaders", figure="a", group="alle", category="mean", value=49),
    NumberTarget(id="care", figure="o", group="alle", category="aeldre", value=23.4, decimals=1),
], [RankingTarget(id="most_women", figure="g", across="groups", category="kvinde",
                  order=("dagpleje",))], [])


def _build(codebook, seed, missing=None):
    """A small wave; without item non-response unless ``missing`` (a 1-decimal share of 137
    employees is not attainable on every smaller base)."""
    builder = Builder(codebook, FIGURES, POPS, TARGETS, _steps(codebook), WAVE, seed,
                      missing=missing)
    table = builder.run()
    return builder, table


def test_generator_meets_every_target_and_ranking(codebook):
    builder, table = _build(codebook, 7)
    assert builder.report.violated() == {}
    df = apply_derived(table, codebook, WAVE)
    for col in ("arbejdssted", "koen"):
        df[col] = pd.Categorical(df[col], categories=codebook[col].keys, ordered=True)
    rows = compute_figures(df, codebook, FIGURES, POPS, WAVE)
    val = {(r.figure, r.group, r.category): r for r in rows.itertuples()}
    assert round(val[("g", "alle", "kvinde")].value) == 83
    assert round(val[("g", "skole", "kvinde")].value) == 61
    assert 48.5 <= val[("a", "alle", "mean")].value < 49.5
    assert 23.35 <= val[("o", "alle", "aeldre")].value < 23.45
    women = rows[(rows.figure == "g") & (rows.category == "kvinde") & (rows.group != "alle")
                 & (rows.base > 0)]
    assert women.sort_values("value").iloc[-1].group == "dagpleje"


def test_same_seed_same_data_other_seed_other_data(codebook):
    _, a = _build(codebook, 7)
    _, b = _build(codebook, 7)
    _, c = _build(codebook, 8)
    pd.testing.assert_frame_equal(a, b)
    assert not a["alder"].equals(c["alder"])


def test_association_follows_latent_strength(codebook):
    _, table = _build(codebook, 7)
    men = table.loc[table.koen == "mand", "alder"].astype(float).mean()
    women = table.loc[table.koen == "kvinde", "alder"].astype(float).mean()
    # strength +0.5 with koen (codes: kvinde before mand) puts men higher
    assert men > women + 3


def test_codes_written_in_codebook_order(codebook):
    _, table = _build(codebook, 7)
    blank = {col: np.nan for var in codebook.questions for col in var.columns
             if col not in table}
    table = pd.concat([table, pd.DataFrame(blank, index=table.index)], axis=1)
    codes = to_codes(table, codebook)
    assert list(codes.columns) == codebook.data_columns
    assert set(codes["koen"].dropna().unique()) <= {1, 2}
