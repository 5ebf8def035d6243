"""``lpj diff``: every figure of two waves or builds compared by id.

The fictitious 2005 wave is made from the 2002 model with documented changes
(data/waves/2005/wave.yaml, ``changes: … expect:``): the diff must flag exactly those cells,
in the documented direction, after the Benjamini–Hochberg correction — and comparing two builds
of the same data must find no change at all.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from lpj_report import cli, diff, stats
from lpj_report.pipeline import Project
from lpj_report.wave import load_wave


@pytest.fixture(scope="module")
def project():
    return Project()


@pytest.fixture(scope="module")
def waves(project):
    return diff.side_from_wave(2002, project, 5), diff.side_from_wave(2005, project, 5)


@pytest.fixture(scope="module")
def table(waves):
    old, new = waves
    return diff.compare(old.table, new.table, old_spread=old.spread, new_spread=new.spread)


def expected_changes() -> dict[tuple[str, str, str], str]:
    changes = load_wave(2005).meta["changes"]
    return {(e["figure"], e["group"], e["category"]): e["direction"]
            for c in changes for e in c["expect"]}


def test_two_proportions():
    """The change test of lpj diff: stats' pooled z-test of new against old, never Fisher's
    exact test (``exact_small=False``), even for counts as small as these."""
    test = stats.two_proportions(50, 100, 50, 100, exact_small=False)
    assert test.name == "z" and test.statistic == 0 and test.p == 1
    test = stats.two_proportions(60, 100, 30, 100, exact_small=False)
    assert test.statistic > 4 and test.p < 1e-4
    test = stats.two_proportions(0, 80, 0, 100, exact_small=False)
    assert (test.name, test.statistic, test.p) == ("z", 0.0, 1.0)
    old = pd.DataFrame([{"figure": "f", "group": "alle", "category": "ja", "numerator": 1,
                         "base": 4, "value": 25.0, "unit": "pct", "decimals": 0}])
    new = old.assign(numerator=3, value=75.0)
    assert diff.compare(old, new)["test"].tolist() == ["z"]


def test_2005_is_labelled_fictitious():
    wave = load_wave(2005)
    assert wave.status == "fictitious"
    assert wave.meta["predecessor"] == 2002
    readme = (wave.folder / "README.md").read_text(encoding="utf-8")
    assert "FICTITIOUS" in readme
    for change in wave.meta["changes"]:
        assert change["id"] in readme and change["expect"]


def test_diff_2002_2005_flags_exactly_the_documented_changes(table):
    significant = table[table["significant"]]
    found = {(r["figure"], r["group"], r["category"]): "up" if r["change"] > 0 else "down"
             for r in significant.to_dict(orient="records")}
    assert found == expected_changes()


def test_unchanged_numbers_are_far_from_significant(table):
    """Margin: nothing else comes close, so the result does not hang on the last decimal."""
    rest = table[(table["status"] == "unchanged")]
    assert rest["q"].astype(float).min() > 0.5
    flagged = table[table["significant"]]
    assert flagged["q"].astype(float).max() < 0.01


def test_every_number_is_compared(waves, table):
    old, new = waves
    assert len(table) == len(old.table.merge(new.table, on=diff.KEY, how="outer"))
    assert set(table["status"]) <= set(diff.STATUS_ORDER)
    counts = table[table["figure"] == "intro.svar"]
    assert (counts["status"] == "not_tested").all()
    means = table[table["figure"] == "intro.alder"]
    assert means["p"].notna().all(), "means are tested with Welch from the data"


def test_suppressed_rows_are_neither_shown_nor_tested():
    old = pd.DataFrame({"figure": ["f", "f"], "group": ["alle", "a"], "category": ["x", "x"],
                        "numerator": [10, 3], "base": [20, 4], "value": [50.0, 75.0],
                        "unit": ["pct", "pct"], "decimals": [0, 0]})
    new = old.assign(numerator=[12, 1], value=[60.0, 25.0])
    from lpj_report.suppression import apply
    table = diff.compare(apply(old, set(), 5), apply(new, set(), 5))
    row = table[table["group"] == "a"].iloc[0]
    assert row["status"] == "suppressed"
    assert pd.isna(row["old"]) and pd.isna(row["new"]) and pd.isna(row["p"])


def test_added_and_removed_figures():
    base = {"group": ["alle"], "category": ["x"], "numerator": [10], "base": [20],
            "value": [50.0], "unit": ["pct"], "decimals": [0]}
    old = pd.DataFrame({"figure": ["gone"], **base})
    new = pd.DataFrame({"figure": ["new"], **base})
    table = diff.compare(old, new)
    assert dict(zip(table["figure"], table["status"], strict=True)) == {
        "new": "added", "gone": "removed"}


def test_two_builds_of_the_same_data_report_no_change(tmp_path, capsys):
    for name in ("a", "b"):
        assert cli.main(["figures", "--wave", "2002", "--out", str(tmp_path / name)]) == 0
    out = tmp_path / "d"
    assert cli.main(["diff", str(tmp_path / "a" / "figures.json"),
                     str(tmp_path / "b" / "figures.json"), "--out", str(out)]) == 0
    table = pd.read_csv(out / "diff.csv")
    assert not table["significant"].any()
    assert set(table["status"]) <= {"unchanged", "not_tested", "suppressed", "no_data"}
    tested = table[table["status"] == "unchanged"]
    assert (tested["change"] == 0).all() and (tested["p"] == 1).all()
    assert "0 signifikant ændret" in capsys.readouterr().out


def test_make_diff_outputs(tmp_path, capsys, project):
    out = tmp_path / "2002-2005"
    assert cli.main(["diff", "2002", "2005", "--out", str(out)]) == 0
    html = (out / "diff.html").read_text(encoding="utf-8")
    csv = pd.read_csv(out / "diff.csv")
    assert "FIKTIVE DATA" in html, "the 2005 side is fictitious: the page says so"
    assert "Benjamini–Hochberg" in html
    assert html.index("Signifikante ændringer") < html.index("Alle øvrige tal")
    assert csv["significant"].sum() == len(expected_changes())
    # changes that matter first
    assert csv["significant"].tolist() == sorted(csv["significant"].tolist(), reverse=True)
    terminal = capsys.readouterr().out
    assert f"{len(expected_changes())} signifikant ændret" in terminal and "Benjamini–Hochberg" in terminal
    assert "FICTITIOUS" in terminal


def test_edition_figures_json_can_be_compared(tmp_path):
    """Two editions' figures.json (with their suppression flags) compare by id and kommune."""
    for year in ("2002", "2005"):
        assert cli.main(["build", "--wave", year, "--kommune", "hasle", "--formats", "html",
                         "--out", str(tmp_path / year)]) == 0
    paths = [tmp_path / y / "kommuner" / "hasle" / "figures.json" for y in ("2002", "2005")]
    project = Project()
    old, new = (diff.load_side(str(p), project, 5) for p in paths)
    table = diff.compare(old.table, new.table)
    assert set(table["kommune"]) == {"hasle", "alle"}
    hidden = json.loads(paths[0].read_text())["rows"]
    hidden = {(r["figure"], r["group"], r["category"]) for r in hidden
              if r["kommune"] == "hasle" and r["suppressed"]}
    rows = table[table["kommune"] == "hasle"].set_index(["figure", "group", "category"])
    assert all(rows.loc[k, "status"] == "suppressed" for k in hidden)


def test_year_over_year_for_the_annual_overview(waves):
    old, new = waves
    yoy = diff.year_over_year(old.table, new.table, old_spread=old.spread,
                              new_spread=new.spread)
    assert {"figure", "group", "category", "previous", "significant"} <= set(yoy.columns)
    row = yoy.set_index(["figure", "group", "category"]).loc[
        ("kap2.erfaringsgrupper", "alle", "ja_helt_sikkert")]
    assert bool(row["significant"]) and 30 < row["previous"] < 40
    assert yoy["significant"].sum() == len(expected_changes())
