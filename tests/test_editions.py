"""Municipality editions (lpj_report/editions.py): names, paths, the smallest municipality's
edition as a reader gets it, the text's comparisons, and all editions in parallel.

Suppression itself (nothing hidden can be worked back) is attacked in tests/test_suppression.py.
"""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pandas as pd
import pytest

from lpj_report import cli, editions
from lpj_report.codebook import default_codebook
from lpj_report.editions import EditionError, edition_dir, resolve_kommune
from lpj_report.pipeline import Build, Project

SMALLEST = "hasle"


@pytest.fixture(scope="module")
def codebook():
    return default_codebook()


@pytest.fixture(scope="module")
def hasle(hasle_edition):
    """The smallest municipality's edition (HTML and figures), built through the command
    (tests/built.py: once per session, tests/test_diff.py reads it too)."""
    assert hasle_edition.name == SMALLEST
    return hasle_edition


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


# ---------------------------------------------------------------------------- names and paths


@pytest.mark.parametrize("name, key", [
    ("hilleroed", "hilleroed"), ("Hillerød", "hilleroed"), ("HILLERØD", "hilleroed"),
    ("hillerod", "hilleroed"), (" Solrød ", "solroed"), ("bramsnæs", "bramsnaes"),
    ("Hvalsø", "hvalsoe"), ("Hvalso\u0308", "hvalsoe"), ("AALBORG", "aalborg")])
def test_names_resolve_to_codebook_keys(codebook, name, key):
    assert resolve_kommune(name, codebook) == key


@pytest.mark.parametrize("name", ["København", "", "../../etc", "hasle/../../x", "hasle; rm -rf /",
                                  "hasle\x00", "..", "/tmp/hasle", "%2e%2e"])
def test_unknown_names_list_the_valid_ones(codebook, name):
    with pytest.raises(EditionError) as err:
        resolve_kommune(name, codebook)
    assert "Hillerød (hilleroed)" in str(err.value) and "Hasle (hasle)" in str(err.value)


def test_unknown_name_on_the_command_line(capsys, tmp_path):
    assert cli.main(["build", "--kommune", "Atlantis", "--formats", "html",
                     "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Atlantis" in err and "Solrød (solroed)" in err
    assert not any(tmp_path.iterdir()), "nothing written for an unknown name"


def test_edition_folder_stays_inside_the_report_folder(tmp_path):
    assert edition_dir(tmp_path, "hasle") == (tmp_path / "kommuner" / "hasle").resolve()
    for key in ("../x", "a/b", "..", "", "Hasle", "hasle/..", "/etc"):
        with pytest.raises(EditionError):
            edition_dir(tmp_path, key)
    assert editions.default_root(2002).resolve().is_relative_to(
        Path(editions.REPORT_DIR).resolve())


# ---------------------------------------------------------------------------- one edition


def test_edition_files_and_no_respondent_data(hasle):
    names = sorted(p.name for p in hasle.iterdir())
    assert names == [".lpj-build", "figurer", "figures-excel.csv", "figures.csv", "figures.json",
                     "laering-paa-jobbet-hasle.html", "tabeller.xlsx"]
    doc = json.loads((hasle / "figures.json").read_text(encoding="utf-8"))
    rows = pd.DataFrame(doc["rows"])
    assert "respondent" not in rows.columns and "respondent" not in doc["meta"]
    assert all(not isinstance(v, list | dict) for v in doc["meta"].values()), "no record lists"
    assert set(rows["kommune"]) == {"hasle", "alle"}
    assert set(rows["figure"]) == set(editions.edition_figure_ids())
    assert doc["meta"]["kommune"] == "hasle" and doc["meta"]["min_base"] == 5
    shown = rows[~rows["suppressed"]]
    assert ((shown["base"] == 0) | (shown["base"] >= 5)).all()
    csv = pd.read_csv(hasle / "figures.csv")
    assert len(csv) == len(rows) and csv["suppressed"].sum() == rows["suppressed"].sum()


def test_suppression_is_visible_and_explained(hasle):
    html = (hasle / "laering-paa-jobbet-hasle.html").read_text(encoding="utf-8")
    text = text_of(html)
    rows = pd.DataFrame(json.loads((hasle / "figures.json").read_text())["rows"])
    hidden = rows[(rows["kommune"] == "hasle") & rows["suppressed"]]
    assert len(hidden) > 0
    assert text.count("◊") >= 10
    assert "◊: tallet vises ikke af diskretionshensyn" in text
    assert "færre end 5 svar" in text
    # the 4 leaders of Hasle: neither their count nor their answers are printed
    assert re.search(r"Leder ◊ ◊ 120 120", text), "leaders hidden in the count table"


def test_charts_mark_suppressed_values(hasle):
    import base64

    html = (hasle / "laering-paa-jobbet-hasle.html").read_text(encoding="utf-8")
    svgs = [base64.b64decode(m).decode("utf-8")
            for m in re.findall(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', html)]
    assert svgs
    assert any("◊" in svg for svg in svgs), "a chart shows the mark where a bar is hidden"


WORDED = re.compile(r"(sikkert flere end|sikkert færre end|sikkert højere end|sikkert lavere end|"
                    r"ikke sikkert forskelligt fra) i? ?alle kommuner under ét")


def test_text_says_over_or_under_only_for_significant_differences(hasle):
    """Every comparison in the text is worded from its BH-corrected test, each phrase carries
    the lineage id of its row, and no difference is called 'at level' for want of evidence."""
    html = (hasle / "laering-paa-jobbet-hasle.html").read_text(encoding="utf-8")
    rows = pd.DataFrame(json.loads((hasle / "figures.json").read_text())["rows"])
    mine = rows[rows["kommune"] == "hasle"].set_index(["figure", "group", "category"])
    text = text_of(html)
    assert "på niveau med" not in text
    spans = re.findall(r'data-finding="kommune\.([\w.]+)\.(\w+)\.(\w+)">([^<]*)<', html)
    assert spans, "the key points compare Hasle with all municipalities"
    for figure, group, category, phrase in spans:
        row = mine.loc[(figure, group, category)]
        m = WORDED.search(phrase.replace("\u00a0", " "))
        assert m, phrase
        if row["significant"]:
            want = ("flere" if row["unit"] == "pct" else "højere") if row["diff"] > 0 else (
                "færre" if row["unit"] == "pct" else "lavere")
            assert m.group(1) == f"sikkert {want} end", (figure, phrase)
        else:
            assert m.group(1) == "ikke sikkert forskelligt fra", (figure, phrase)


def test_fictitious_wave_edition_is_labelled_and_reports_real_differences(tmp_path):
    """Odense 2005 (fictitious): the documented change F4 makes Odense's employees feel more
    backed by their management; the edition says so — and FIKTIVE DATA on every page."""
    assert cli.main(["build", "--wave", "2005", "--kommune", "odense", "--formats", "html",
                     "--out", str(tmp_path)]) == 0
    folder = tmp_path / "kommuner" / "odense"
    html = (folder / "laering-paa-jobbet-odense.html").read_text(encoding="utf-8")
    assert 'class="status-banner"' in html and "FIKTIVE DATA" in html
    text = text_of(html).replace("\u00a0", " ")
    assert re.search(r"i høj grad opbakning fra ledelsen – sikkert flere end i alle kommuner "
                     r"under ét", text)
    rows = pd.DataFrame(json.loads((folder / "figures.json").read_text())["rows"])
    row = rows[(rows["kommune"] == "odense") & (rows["figure"] == "kap2.opbakning_ledelse")
               & (rows["category"] == "i_hoej_grad")].iloc[0]
    assert row["significant"] and row["direction"] == "over" and row["q_value"] < 0.05
    significant = {f"{r.figure}.{r.group}.{r.category}" for r in rows.itertuples()
                   if r.kommune == "odense" and r.significant is True}
    said = set(re.findall(r'data-finding="kommune\.([\w.]+)">[^<]*sikkert (?:flere|færre|højere|'
                          r'lavere) end', html))
    assert said and said <= significant


def test_editions_are_reproducible(hasle, tmp_path):
    assert cli.main(["build", "--kommune", "hasle", "--formats", "html",
                     "--out", str(tmp_path)]) == 0
    for f in ("figures.json", "figures.csv", "laering-paa-jobbet-hasle.html"):
        again = (tmp_path / "kommuner" / "hasle" / f).read_bytes()
        assert again == (hasle / f).read_bytes(), f


def test_a_second_edition_build_reads_the_cube_and_its_rows_from_the_cache(hasle, tmp_path):
    """A separate ``lpj build --kommune`` after another: the figures per municipality, the
    disclosure control across them and the edition's tested rows come from the build cache
    (none is computed again), and the files are the same bytes as the first build's."""
    from lpj_report import cache

    cache.STATS.clear()
    assert cli.main(["build", "--wave", "2002", "--kommune", "Hasle", "--formats", "html",
                     "--out", str(tmp_path)]) == 0
    stats = dict(cache.STATS)
    for kind in ("build", "cube", "edition-rows"):
        assert stats.get(f"hit:{kind}") == 1 and not stats.get(f"miss:{kind}"), (kind, stats)
    again = tmp_path / "kommuner" / SMALLEST
    for name in ("figures.json", "figures.csv", "laering-paa-jobbet-hasle.html", "tabeller.xlsx"):
        assert (again / name).read_bytes() == (hasle / name).read_bytes(), name


def test_rebuilding_the_report_keeps_the_editions(tmp_path):
    from lpj_report.build import MARKER, replace_folder

    out = tmp_path / "2002"
    (out / "kommuner" / "hasle").mkdir(parents=True)
    (out / "kommuner" / "hasle" / "x.html").write_text("edition")
    work = tmp_path / "work"
    work.mkdir()
    (work / MARKER).write_text("")
    (work / "report.html").write_text("report")
    replace_folder(work, out)
    assert (out / "kommuner" / "hasle" / "x.html").read_text() == "edition"
    assert (out / "report.html").exists()


# ---------------------------------------------------------------------------- all editions


@pytest.fixture(scope="module")
def cube():
    project = Project()
    return editions.make_cube(project, Build.load(project, 2002))


def test_a_second_cube_of_the_same_build_protects_the_computed_numbers(cube):
    """Every cube of a build protects the whole survey's numbers (editions.wave_variables):
    asked again, the disclosure control starts from the computed table, not from the one it
    protected before (whose withheld numbers are missing), so a second run of the editions in
    one process (as bench/suppression.py makes) gives the same numbers, not a failure."""
    from lpj_report.edition_context import wave_variables
    from lpj_report.edition_numbers import protect_wave

    wave_variables(cube)
    protected = cube.build.figures.copy()
    assert protected["suppressed"].any() and protected["base"].isna().any()
    again = editions.make_cube(cube.project, cube.build)
    wave_variables(again)                                  # protects the same build again
    pd.testing.assert_frame_equal(cube.build.figures, protected)
    protect_wave(cube.build, min_base=30)                  # other settings: more withheld
    stricter = cube.build.figures
    assert stricter["suppressed"].sum() > protected["suppressed"].sum()
    protect_wave(cube.build, min_base=cube.config.min_base)
    pd.testing.assert_frame_equal(cube.build.figures, protected)


def test_all_editions_in_parallel_one_failing(cube, tmp_path, monkeypatch):
    """Editions on two forked workers; one edition made to fail does not stop or corrupt the
    others, and the result says it failed."""
    real = editions.write_edition

    def flaky(cube_, key, out_root, formats, **options):
        if key == "ejby":
            raise RuntimeError("disk full (simulated)")
        return real(cube_, key, out_root, formats, **options)

    monkeypatch.setattr(editions, "write_edition", flaky)
    keys = ["hasle", "ejby", "munkebo", "solroed"]    # four of the twelve, one failing
    results = editions.run_editions(cube, keys, tmp_path, ["html"], jobs=2)
    assert [r["key"] for r in results] == keys
    failed = [r for r in results if not r["ok"]]
    errors = {r["key"]: r["error"] for r in failed}
    assert list(errors) == ["ejby"] and "disk full" in errors["ejby"], errors
    built = sorted(p.name for p in (tmp_path / "kommuner").iterdir() if not p.name.startswith("."))
    assert built == sorted(k for k in keys if k != "ejby")
    for key in built:
        assert (tmp_path / "kommuner" / key / f"laering-paa-jobbet-{key}.html").stat().st_size
    assert not list((tmp_path / "kommuner").glob(".*")), "no half-written folders left"
    assert len(cube.municipalities) == 12


def test_lpj_editions_exit_code(cube, tmp_path, monkeypatch, capsys):
    def broken(cube_, key, out_root, formats, **options):
        raise RuntimeError("boom")

    monkeypatch.setattr(editions, "write_edition", broken)
    monkeypatch.setattr(editions, "make_cube", lambda *args, **options: cube)
    code = cli.main(["editions", "--kommune", "hasle", "--kommune", "Solrød", "--formats",
                     "html", "--jobs", "1", "--out", str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err
    assert "0 of 2 editions built" in err and "boom" in err
