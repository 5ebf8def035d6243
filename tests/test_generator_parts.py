"""The generator's parts: the distance it keeps to the drawn prior, edit-rule bounds, the 0/1
fills, item non-response and the latent scores."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from lpj_report.editrules import chain_bounds, load_rules
from lpj_report.generate.build import _capped
from lpj_report.generate.fill import binary_fill, bounded_order, hall_rows, tick_counts
from lpj_report.generate.latent import Input, load_latent, score
from lpj_report.generate.missing import MissingModel
from lpj_report.generate.quota import Row, solve


def test_a_moved_count_is_taken_from_every_category_not_from_one():
    """A target lifts category 0 from 30 to 60 of 100: the other three give way in proportion
    (an L1 distance would empty one of them — the hole the old reconstruction had)."""
    prior = np.array([[30.0, 30.0, 30.0, 10.0]])
    rows = [Row("t", {0: Fraction(1)}, Fraction(60), None)]
    res = solve(np.array([100]), prior, np.ones((1, 4), bool), rows)
    x = res.counts[0]
    assert x.sum() == 100 and x[0] == 60 and not res.violated
    # every category gives way (the exact χ² optimum is 17/17/6; the piecewise-linear distance
    # is flat within a segment, so the two large ones may differ by a few)
    assert x[1:].min() >= 4 and abs(int(x[1]) - int(x[2])) <= 5 and x[3] < min(x[1], x[2])


def test_hall_rows_and_bounded_order_keep_every_bound():
    rng = np.random.default_rng(4)
    n = 300
    hi = rng.integers(0, 30, size=n).astype(float)        # e.g. years at the workplace
    cells = np.zeros(n, dtype=int)
    values = np.arange(0, 46, dtype=float)
    prior = np.full((1, len(values)), n / len(values))    # ignores the bounds
    hard = hall_rows(cells, values, len(values), np.full(n, -np.inf), hi)
    res = solve(np.array([n]), prior, np.ones((1, len(values)), bool), [], hard=hard)
    seq = [v for v, k in zip(values, res.counts[0], strict=True) for _ in range(k)]
    got = bounded_order(seq, rng.standard_normal(n), np.full(n, -np.inf), hi,
                        stay=rng.random(n) < 0.5)
    assert np.all(got <= hi) and sorted(got) == sorted(seq)
    assert (got == hi).mean() > 0.3, "stayers take their bound"
    with pytest.raises(ValueError):
        bounded_order([5.0, 5.0], np.zeros(2), np.full(2, -np.inf), np.array([5.0, 4.0]))


def test_chain_bounds_read_the_tenure_rule(codebook):
    rule = next(r for r in load_rules(codebook) if r.id == "T-anciennitet")
    vals = {"aar_stilling": np.array([3.0, np.nan]), "aar_arbejdsplads": np.array([5.0, 7.0]),
            "aar_kommune": np.array([8.0, np.nan]), "alder": np.array([40.0, 30.0])}
    lo, hi = chain_bounds(rule, "aar_kommune", vals, 2, {"aar_stilling", "aar_arbejdsplads",
                                                         "alder"})
    assert list(lo) == [5.0, 7.0] and list(hi) == [25.0, 15.0]
    lo, hi = chain_bounds(rule, "alder", vals, 2, {"aar_stilling", "aar_arbejdsplads",
                                                   "aar_kommune"})
    # alder − 15 ≥ years in the municipality, or the workplace when that is blank
    assert list(lo) == [23.0, 22.0] and np.isinf(hi).all()


def test_binary_fill_meets_both_sums_and_follows_the_scores():
    rng = np.random.default_rng(5)
    score = rng.standard_normal((200, 6))
    score[:, 0] += np.linspace(-2, 2, 200)
    rows = tick_counts(200, 480, 3, rng)
    assert rows.min() >= 1 and rows.max() <= 3 and rows.sum() == 480
    assert len(set(rows)) == 3, "some tick one option, some two, some three"
    cols = np.array([120, 100, 80, 70, 60, 50])
    x = binary_fill(rows, cols, score)
    assert x is not None and (x.sum(axis=1) == rows).all() and (x.sum(axis=0) == cols).all()
    assert x[100:, 0].sum() > 2 * x[:100, 0].sum()
    assert binary_fill(np.array([1, 1]), np.array([3, 0]), np.zeros((2, 2))) is None


def test_capped_shares_add_up_to_the_count():
    q = _capped(np.array([70, 10, 10, 5, 5]), 3)
    assert q.sum() == pytest.approx(3) and q.max() <= 1 and q[0] == 1


def test_blanks_stay_in_the_band_and_follow_the_propensity():
    model = MissingModel(default=3.0, band=(1.0, 5.0), propensity_sd=1.5)
    rng = np.random.default_rng(6)
    n = 2000
    roles = np.array(["medarbejder"] * 1800 + ["leder"] * 200)
    propensity = rng.standard_normal(n)
    asked = np.ones(n, dtype=bool)
    eligible = np.arange(n) % 2 == 0
    counts, skippers = [], np.zeros(n)
    for _ in range(30):
        blank = model.draw("x", asked, eligible, roles, propensity, rng)
        assert not (blank & ~eligible).any()
        for role in ("medarbejder", "leder"):
            share = blank[roles == role].mean()
            assert 0.01 <= share <= 0.05
        counts.append(blank.sum())
        skippers += blank
    assert len(set(counts)) > 5, "the number of blanks is drawn, not fixed"
    assert skippers[propensity > 1].mean() > 3 * skippers[propensity < -1].mean()
    assert not MissingModel(2.0, (1, 5), 1.0, not_items=("kommune",)).draw(
        "kommune", asked, asked, roles, propensity, rng).any()


def test_within_groups_a_score_input_says_nothing_about_the_groups(codebook):
    rng = np.random.default_rng(7)
    n = 4000
    group = rng.integers(0, 4, size=n)
    table = pd.DataFrame({"kommune_gruppe": group.astype(str),
                          "aar_stilling": rng.gamma(2, 3 + 3 * group)})
    inputs = (Input("aar_stilling", -0.8, ("kommune_gruppe",)),)
    s = score(inputs, table, None, codebook, rng.standard_normal(n))
    means = [s[group == g].mean() for g in range(4)]
    assert max(means) - min(means) < 0.1
    plain = score((Input("aar_stilling", -0.8),), table, None, codebook, rng.standard_normal(n))
    assert plain[group == 3].mean() < plain[group == 0].mean() - 0.5


def test_latent_factors_have_the_declared_correlations_and_shifts():
    latent = load_latent()
    n = 20000
    table = pd.DataFrame({"rolle": ["medarbejder"] * n,
                          "arbejdssted": ["dagpleje"] * (n // 2) + ["forvaltning"] * (n // 2)})
    f = latent.draw(table, np.random.default_rng(8))
    i, j = latent.factors.index("variation"), latent.factors.index("holdning")
    own = f.iloc[n // 2:]
    assert np.corrcoef(own["variation"], own["holdning"])[0, 1] == pytest.approx(
        latent.correlation[i, j], abs=0.03)
    shift = latent.shift["dagpleje"]["samspil"] - latent.shift["forvaltning"]["samspil"]
    assert f.iloc[: n // 2]["samspil"].mean() - own["samspil"].mean() == pytest.approx(
        shift, abs=0.05)
