"""``lpj diff``: every figure of two waves or builds compared by id.

The fictitious 2005 wave is made from the 2002 model with documented changes
(data/waves/2005/wave.yaml, ``changes: … expect:``): the diff must flag exactly those cells,
in the documented direction, after the Benjamini–Hochberg correction — and comparing two builds
of the same data must find no change at all. What a reviewer reads (lpj_report/diff_view.py):
one row per answer that says something (the complement of a yes/no answer folded away), the
report's figure numbers, both bases, the largest significant changes first, counts that add up;
and the diff withholds small bases itself, whatever a figures.json claims.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from lpj_report import cli, diff, diff_view, stats
from lpj_report.pipeline import Project
from lpj_report.places import report_places
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


@pytest.fixture(scope="module")
def view(table, waves, project):
    old, new = waves
    return diff_view.make(table, project, old, new, alpha=0.05, min_base=5)


@pytest.fixture(scope="module")
def wave_diff(tmp_path_factory):
    """``lpj diff 2002 2005 --out …`` run once: the folder, stdout and stderr."""
    import contextlib
    import io

    out = tmp_path_factory.mktemp("diff") / "2002-2005"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = cli.main(["diff", "2002", "2005", "--out", str(out)])
    assert status == 0, stderr.getvalue()
    return out, stdout.getvalue(), stderr.getvalue()


@pytest.fixture(scope="module")
def national_json(tmp_path_factory):
    """figures.json of 2002 and 2005 as ``lpj figures`` writes them."""
    root = tmp_path_factory.mktemp("figures")
    for year in ("2002", "2005"):
        assert cli.main(["figures", "--wave", year, "--out", str(root / year)]) == 0
    return root / "2002" / "figures.json", root / "2005" / "figures.json"


@pytest.fixture(scope="module")
def hasle_json(tmp_path_factory, hasle_edition):
    """The Hasle edition's figures.json of 2002 (the session's, tests/built.py, which
    tests/test_editions.py reads too) and of 2005 (HTML only)."""
    root = tmp_path_factory.mktemp("editions")
    assert cli.main(["build", "--wave", "2005", "--kommune", "hasle", "--formats", "html",
                     "--out", str(root / "2005")]) == 0
    return hasle_edition / "figures.json", root / "2005" / "kommuner" / "hasle" / "figures.json"


def expected_changes() -> dict[tuple[str, str, str], str]:
    changes = load_wave(2005).meta["changes"]
    return {(e["figure"], e["group"], e["category"]): e["direction"]
            for c in changes for e in c["expect"]}


def folded_changes(project) -> set[tuple[str, str, str]]:
    """The documented changes of answers that the view folds into their complement."""
    return {k for k in expected_changes()
            if k[2] in diff_view.complements(project.registry[k[0]], project.codebook)}


def terminal_counts(text: str) -> tuple[int, dict[str, int]]:
    match = re.search(r"(\d+) numbers compared: (.*?)\.\n", text)
    assert match, text
    parts = {name: int(n) for n, name in re.findall(r"(\d+) ([a-z ()]+?)(?:,|$)",
                                                    match.group(2))}
    return int(match.group(1)), parts


# ---------------------------------------------------------------------------- the tests


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


def test_not_significant_numbers_are_far_from_significant(table):
    """Margin: nothing else comes close, so the result does not hang on the last decimal."""
    rest = table[(table["status"] == "not_significant")]
    assert rest["q"].astype(float).min() > 0.5
    flagged = table[table["significant"]]
    assert flagged["q"].astype(float).max() < 0.01
    assert "unchanged" not in set(table["status"]), "a change that is not sure is not 'unchanged'"


def test_every_number_is_compared(waves, table):
    old, new = waves
    assert len(table) == len(old.table.merge(new.table, on=diff.KEY, how="outer"))
    assert set(table["status"]) <= set(diff.STATUS_ORDER)
    counts = table[table["figure"] == "intro.svar"]
    assert (counts["status"] == "not_tested").all() and (counts["reason"] == "count").all()
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


# ---------------------------------------------------------------------------- the view


def test_complementary_answers_are_found(project):
    registry, codebook = project.registry, project.codebook
    assert diff_view.complements(registry["kap4.leder_avanceret_internt"], codebook) == {
        "nej": "ja"}
    # "ja" is the combined answer (ja, helt sikkert + ja, måske): "nej" is its complement
    assert diff_view.complements(registry["kap2.erfaringsgrupper"], codebook) == {"nej": "ja"}
    # four answers, none the complement of another; a multiple-choice question never
    assert diff_view.complements(registry["kap2.redskaber"], codebook) == {}
    assert diff_view.complements(registry["kap3.behov_bedre.medarbejdere"], codebook) == {}


def test_a_yes_no_question_is_one_row(view, table):
    keys = {(r.figure, r.group, r.category) for r in view.rows}
    assert ("kap4.leder_avanceret_internt", "alle", "ja") in keys
    assert ("kap4.leder_avanceret_internt", "alle", "nej") not in keys
    assert ("kap2.erfaringsgrupper", "alle", "nej") not in keys
    both = table[(table["figure"] == "kap4.leder_avanceret_internt") & (table["group"] == "alle")]
    ja, nej = (both.set_index("category").loc[c] for c in ("ja", "nej"))
    assert ja["change"] == pytest.approx(-nej["change"]) and ja["q"] == nej["q"]
    assert view.folded + len(view.rows) == len(table)


def test_rows_carry_both_bases_and_danish_numbers(view):
    row = next(r for r in view.rows if (r.figure, r.group, r.category)
               == ("kap4.leder_avanceret_internt", "alle", "ja"))
    assert (row.old, row.new, row.old_n, row.new_n) == ("37\u00a0%", "71\u00a0%", "118", "116")
    assert row.change == "+33,4\u00a0procentpoint"
    assert row.status_text == "sikker ændring" and row.direction == "op"
    assert row.chapter.label == "Kapitel 4" and row.place == ""   # quoted in the text only
    row = next(r for r in view.rows if (r.figure, r.group, r.category)
               == ("kap2.redskaber", "alle", "alle"))
    assert (row.old_n, row.new_n, row.change) == ("1.381", "1.426", "−18,8\u00a0procentpoint")


def test_significant_changes_first_largest_first(view, project):
    shown = [r for r in view.rows if r.status == "changed"]
    assert view.rows[: len(shown)] == shown
    assert {(r.figure, r.group, r.category) for r in shown} == (
        set(expected_changes()) - folded_changes(project))
    sizes = [abs(r.change_value) for r in shown]
    assert sizes == sorted(sizes, reverse=True)
    assert (shown[0].figure, shown[0].category) == ("kap4.leder_avanceret_internt", "ja")


def test_counts_add_up(view):
    counts = view.counts
    assert sum(counts.values()) == len(view.rows)
    assert counts["changed"] == len(view.significant)
    assert counts["no_data"] > 0 and counts["suppressed"] > 0 and counts["not_tested"] == 4


def test_figure_numbers_are_the_reports(project):
    """The places read from the chapter sources are the numbers of the built report."""
    from lpj_report import render
    from lpj_report.pipeline import Build
    from lpj_report.report_context import build_context

    context = render.prepare(build_context(Build.load(project, 2002), created="2002-09-01",
                                           build_date="1. september 2002", charts=False))
    printed = {}
    for part in (context["introduction"], *context["chapters"], *context["appendices"]):
        for block in part["blocks"]:
            if block["type"] in ("figure", "table") and block.get("figure"):
                word = "Figur" if block["type"] == "figure" else "Tabel"
                printed.setdefault(block["figure"], (f"{word} {block['number']}", part["id"]))
    places = report_places(project.figures)
    assert len(printed) > 30
    for fid, (label, chapter) in printed.items():
        assert (places[fid].label, places[fid].chapter.id) == (label, chapter), fid
    # a hand-made table names its figures in its note: Tabel 1 holds intro.svar
    assert places["intro.svar"].label == "Tabel 1"
    assert places["kap2.redskaber"].label == "" and places["kap2.redskaber"].chapter.id == (
        "kapitel-2")


def test_make_diff_outputs(wave_diff, project):
    out, terminal, messages = wave_diff
    html = (out / "diff.html").read_text(encoding="utf-8")
    csv = pd.read_csv(out / "diff.csv")
    assert "FIKTIVE DATA" in html, "the 2005 side is fictitious: the page says so"
    assert "Benjamini–Hochberg" in html
    assert html.index("Sikre ændringer") < html.index("Øvrige tal efter kapitel")
    shown = set(expected_changes()) - folded_changes(project)
    assert csv["significant"].sum() == len(shown)
    # changes that matter first
    assert csv["significant"].tolist() == sorted(csv["significant"].tolist(), reverse=True)
    assert not ((csv["figure"] == "kap4.leder_avanceret_internt") & (csv["category"] == "nej")).any()
    ja = csv[(csv["figure"] == "kap4.leder_avanceret_internt") & (csv["category"] == "ja")].iloc[0]
    assert (ja["old_base"], ja["new_base"], ja["status"]) == (118, 116, "changed")
    # report numbers, chapters, no internal ids on the page, no "pp"
    assert '<span class="place">Tabel 3</span> Oplevet læring efter antal år i nuværende stilling' in html
    assert '<option value="kapitel-2">Kapitel 2: Hvor og hvornår medarbejderne lærer</option>' in html
    assert 'id="afsnit-kapitel-4"' in html
    assert "<code>" not in html and ">kap4.leder_avanceret_internt<" not in html
    assert not re.search(r"\bpp\b", html) and "procentpoint" in html
    assert "ingen sikker ændring" in html and "uændret" not in html
    assert "signifikant ændring" not in html
    # the chart of the largest significant changes
    assert "data:image/svg+xml;base64," in html
    assert f"De {len(shown)} største sikre ændringer af andele" in html
    # the terminal: English, procentpoint, counts that add up
    assert f"2002 → 2005: {len(shown)} significant change(s), largest first" in terminal
    assert "Ledere, der er avanceret" in terminal and "+33,4\u00a0procentpoint" in terminal
    assert "(n 118) → 2005 71\u00a0% (n 116)" in terminal
    assert not re.search(r"\bpp\b", terminal)
    for danish in ("signifikant", "ikke testet", "skjult", "udgået", "tal:"):
        assert danish not in terminal
    total, parts = terminal_counts(terminal)
    assert sum(parts.values()) == total == len(csv)
    assert parts["significant"] == len(shown)
    assert "FICTITIOUS" in terminal and "Benjamini–Hochberg" in terminal
    assert messages.startswith("wrote ") and "warning" not in messages


def test_diff_writes_the_same_bytes_twice(wave_diff, tmp_path):
    out, _, _ = wave_diff
    again = tmp_path / "again"
    assert cli.main(["diff", "2002", "2005", "--out", str(again)]) == 0
    for name in ("diff.html", "diff.csv"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name


def test_two_builds_of_the_same_data_report_no_change(national_json, tmp_path, capsys):
    a = national_json[0]
    b = tmp_path / "b" / "figures.json"
    b.parent.mkdir()
    b.write_bytes(a.read_bytes())
    out = tmp_path / "d"
    assert cli.main(["diff", str(a), str(b), "--out", str(out)]) == 0
    table = pd.read_csv(out / "diff.csv")
    assert not table["significant"].any()
    assert set(table["status"]) <= {"not_significant", "not_tested", "suppressed", "no_data"}
    tested = table[table["status"] == "not_significant"]
    assert (tested["change"] == 0).all() and (tested["p"] == 1).all()
    means = table[table["unit"] == "years"]
    assert (means["test"] == "welch").all(), "figures.json's t intervals give Welch its spread"
    assert "0 significant" in capsys.readouterr().out


def test_means_from_figures_json_test_like_the_data(national_json, table):
    """The spread worked back from the 95 % interval gives Welch's p of the respondent data."""
    project = Project()
    old, new = (diff.load_side(str(p), project, 5) for p in national_json)
    from_json = diff.compare(old.table, new.table, old_spread=old.spread, new_spread=new.spread)
    key = ["figure", "group", "category"]
    both = table[table["test"] == "welch"].merge(from_json, on=key, suffixes=("", "_json"))
    assert len(both) > 10
    assert (both["p"] - both["p_json"]).abs().max() < 1e-9


def test_a_warning_when_means_cannot_be_tested(national_json, tmp_path, capsys):
    paths = []
    for name, path in zip(("old", "new"), national_json, strict=True):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for row in doc["rows"]:
            row.pop("ci_low", None)
            row.pop("ci_high", None)
        paths.append(tmp_path / name / "figures.json")
        paths[-1].parent.mkdir()
        paths[-1].write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / "d"
    assert cli.main(["diff", *map(str, paths), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    table = pd.read_csv(out / "diff.csv")
    skipped = table[table["reason"] == "no_spread"]
    assert len(skipped) == (table["unit"] == "years").sum() > 0
    assert f"warning: {len(skipped)} mean(s) not tested" in err
    assert str(paths[0]) in err and "Welch" in err


def test_flags_in_figures_json_are_not_trusted(tmp_path, capsys, project):
    """A row with a base below the minimum is withheld even when the file says it is not."""
    def doc(base: int, yes: int) -> dict:
        rows = [{"figure": "kap4.leder_avanceret_internt", "group": "alle", "category": c,
                 "numerator": n, "base": base, "value": 100 * n / base, "ci_low": None,
                 "ci_high": None, "unit": "pct", "decimals": 0, "suppressed": False}
                for c, n in (("ja", yes), ("nej", base - yes))]
        return {"meta": {"wave": 2002, "status": "real"}, "figures": [], "rows": rows}

    paths = []
    for name, base, yes in (("old", 118, 44), ("new", 4, 3)):
        paths.append(tmp_path / name / "figures.json")
        paths[-1].parent.mkdir()
        paths[-1].write_text(json.dumps(doc(base, yes)), encoding="utf-8")
    out = tmp_path / "d"
    assert cli.main(["diff", *map(str, paths), "--out", str(out)]) == 0
    row = pd.read_csv(out / "diff.csv").iloc[0]
    assert row["status"] == "suppressed"
    assert pd.isna(row["old_base"]) and pd.isna(row["new_base"]) and pd.isna(row["new"])
    html = (out / "diff.html").read_text(encoding="utf-8")
    cells = re.search(r'<tr class="suppressed".*?</tr>', html, re.S).group(0)
    assert "vises ikke (diskretion)" in cells and "75\u00a0%" not in cells and ">4<" not in cells
    assert "1 withheld" in capsys.readouterr().out


def test_a_higher_minimum_withholds_more(national_json, tmp_path):
    """--min-base is applied to a figures.json's rows again, with the rows that would give a
    withheld one away: no shown row has a base below it (a group nobody is in, base 0, has no
    number to hide)."""
    out = tmp_path / "d"
    assert cli.main(["diff", *map(str, national_json), "--min-base", "200",
                     "--out", str(out)]) == 0
    table = pd.read_csv(out / "diff.csv")
    shown = table[table["status"] != "suppressed"].dropna(subset=["old_base", "new_base"])
    bases = shown[["old_base", "new_base"]].to_numpy().ravel()
    assert len(bases) > 100 and ((bases == 0) | (bases >= 200)).all()
    ledere = table[table["figure"] == "kap4.leder_avanceret_internt"]
    assert (ledere["status"] == "suppressed").all()     # 118 ledere answered


def test_edition_figures_json_can_be_compared(hasle_json):
    """Two editions' figures.json (with their suppression flags) compare by id and kommune."""
    project = Project()
    old, new = (diff.load_side(str(p), project, 5) for p in hasle_json)
    assert diff.check_comparable(old, new) == []
    table = diff.compare(old.table, new.table, old_spread=old.spread, new_spread=new.spread)
    assert set(table["kommune"]) == {"hasle", "alle"}
    hidden = json.loads(hasle_json[0].read_text())["rows"]
    hidden = {(r["figure"], r["group"], r["category"]) for r in hidden
              if r["kommune"] == "hasle" and r["suppressed"]}
    rows = table[table["kommune"] == "hasle"].set_index(["figure", "group", "category"])
    assert hidden and all(rows.loc[k, "status"] == "suppressed" for k in hidden)
    means = table[(table["unit"] == "years") & (table["status"] != "suppressed")]
    assert means["p"].notna().all(), "an edition's means are tested per municipality"
    view = diff_view.make(table, project, old, new, alpha=0.05, min_base=5)
    labels = {r.kommune_label for r in view.rows}
    assert labels == {"Hasle", "Alle kommuner"}
    erfaring = next(r for r in view.rows if r.figure == "kap2.erfaringsgrupper")
    assert erfaring.place == "Figur 4", "numbered as in the edition"


def test_a_national_report_and_an_edition_are_not_compared(national_json, hasle_json,
                                                           tmp_path, capsys):
    out = tmp_path / "d"
    assert cli.main(["diff", str(national_json[0]), str(hasle_json[1]),
                     "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert f"{national_json[0]} is a national report" in err
    assert f"{hasle_json[1]} is the edition for Hasle (hasle)" in err
    assert not out.exists(), "nothing written"


def test_a_missing_side_names_what_was_expected(tmp_path, capsys):
    assert cli.main(["diff", "2002", str(tmp_path / "nothing.json")]) == 2
    err = capsys.readouterr().err
    assert "nothing.json" in err and "a survey year" in err and "Traceback" not in err


def test_year_over_year_for_the_annual_overview(waves):
    old, new = waves
    yoy = diff.year_over_year(old.table, new.table, old_spread=old.spread,
                              new_spread=new.spread)
    assert {"figure", "group", "category", "previous", "significant"} <= set(yoy.columns)
    row = yoy.set_index(["figure", "group", "category"]).loc[
        ("kap2.erfaringsgrupper", "alle", "ja_helt_sikkert")]
    assert bool(row["significant"]) and 30 < row["previous"] < 40
    assert yoy["significant"].sum() == len(expected_changes())
