"""One report machine (docs/design.md): an edition is the annual report's pipeline for one
municipality — the same chapter sources, chosen by templates/editions/manifest.yaml.

The whole publication for one municipality is built through the command (all formats) and read
as its reader gets it; the manifest's choices (kinds of edition, narrowed sections, bad
manifests) are checked on report contexts without charts.
"""

from __future__ import annotations

import json
import re
from html import unescape

import pandas as pd
import pytest

from lpj_report import cli, edition_names, lineage, places
from lpj_report.edition_context import edition_context, edition_variables, wave_variables
from lpj_report.editions import edition_figure_ids, edition_rows, make_cube
from lpj_report.pipeline import Build, Project
from lpj_report.report_context import TemplateError, chapters_context, words

KEY, NAME = "hasle", "Hasle"
NOTE_WHOLE = "Tallene er hele undersøgelsens, alle kommuner under ét."


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))).replace("\u00a0", " ")


# ---------------------------------------------------------------------------- contexts


@pytest.fixture(scope="module")
def cube():
    project = Project()
    cube = make_cube(project, Build.load(project, 2002))
    wave_variables(cube)
    return cube


@pytest.fixture(scope="module")
def rows(cube):
    return edition_rows(cube, KEY)


@pytest.fixture(scope="module")
def variables(cube, rows):
    return {**edition_variables(cube, KEY, rows), "_charts": False}


def context(cube, rows, variables, manifest: str | None = None) -> dict:
    return edition_context(cube, KEY, rows, created="2002-06-01", build_date="1. juni 2002",
                           manifest=manifest, variables=variables)


def parts(ctx: dict) -> list[dict]:
    return ([ctx["introduction"]] if "introduction" in ctx else []) + ctx["chapters"] \
        + ctx["appendices"]


def figure_blocks(ctx: dict) -> list[dict]:
    return [b for p in parts(ctx) for b in p["blocks"]
            if b.get("type") in ("figure", "table") and b.get("figure")]


@pytest.fixture(scope="module")
def annual(cube):
    """The annual report's context from the same (protected) whole-survey variables."""
    return chapters_context(cube.build, {**wave_variables(cube), "_charts": False},
                            created="2002-06-01", build_date="1. juni 2002")


@pytest.fixture(scope="module")
def full(cube, rows, variables):
    return context(cube, rows, variables, "fuld")


def test_annual_report_leaves_the_editions_own_sources_out(annual):
    ids = [p["id"] for p in parts(annual)]
    assert "kommunen" not in ids and "om-kommunetallene" not in ids
    assert ids == [c.id for c in places.chapters()
                   if c.id not in ("udvikling",)], "every annual source, in reading order"


def test_full_publication_carries_every_chapter_and_the_municipalitys_own(full, annual):
    ids = [p["id"] for p in parts(full)]
    annual_ids = [p["id"] for p in parts(annual)]
    assert [i for i in ids if i in annual_ids] == annual_ids
    assert ids.index("kommunen") == 1 and ids[-2:] == ["om-kommunetallene", "figuroversigt"]
    assert full["meta"]["title"] == f"Læring på jobbet – {NAME}"
    assert full["meta"]["subtitle"] == "Kommuneudgave 2002 – hele publikationen"


def test_short_edition_is_the_municipalitys_chapter_and_appendix(cube, rows, variables):
    short = context(cube, rows, variables)
    assert [p["id"] for p in parts(short)] == ["kommunen", "om-kommunetallene"]
    assert "introduction" not in short
    assert short["meta"]["subtitle"] == "Kommuneudgave 2002"


def test_manifest_figures_show_the_municipality_beside_all_everywhere(full, rows):
    """Every block of a manifest figure, in any chapter, has the municipality's column and the
    column of all municipalities, with the numbers of the edition's figures.json rows; every
    other figure says it is the whole survey's."""
    manifest = set(edition_figure_ids())
    mine = rows[rows["kommune"] == KEY]
    paired_in_annual = 0
    for block, chapter in [(b, p["id"]) for p in parts(full) for b in p["blocks"]
                           if b.get("type") in ("figure", "table") and b.get("figure")]:
        columns = block["table"]["columns"]
        if block["figure"] in manifest:
            assert NAME in columns and "Alle kommuner" in columns, block["title"]
            assert NOTE_WHOLE not in block["note"]
            paired_in_annual += chapter not in ("kommunen", "om-kommunetallene")
        else:
            assert NAME not in columns and NOTE_WHOLE in block["note"], block["title"]
    assert paired_in_annual >= 5, "the annual chapters' own blocks of manifest figures"
    learning = next(b for b in figure_blocks(full) if b["figure"] == "kap2.laering"
                    and b["type"] == "figure")
    shown = {r[0]: r[1] for r in learning["table"]["rows"]}
    expected = mine[(mine["figure"] == "kap2.laering") & (mine["group"] == "alle")]
    for r in expected.itertuples():
        if r.category in ("lav", "mellem", "hoej"):
            label = next(row[0] for row in learning["table"]["rows"]
                         if row[0].lower().startswith(
                             {"lav": "lav", "mellem": "mellem", "hoej": "høj"}[r.category]))
            assert shown[label].replace("\u00a0", " ") == f"{r.value:.1f} %".replace(".", ","), \
                (r.category, shown[label])


def test_whole_survey_text_is_the_annual_reports(full, annual):
    """Outside the municipality's own parts, the text is the annual report's, sentence for
    sentence (it describes the whole survey, and says so)."""
    def paragraphs(ctx: dict, chapter: str) -> list[str]:
        part = next(p for p in parts(ctx) if p["id"] == chapter)
        return ["".join(s["text"] for s in para) for b in part["blocks"]
                if b.get("type") == "text" for para in b["paragraphs"]]

    for chapter in ("kapitel-2", "kapitel-3", "metode"):
        assert paragraphs(full, chapter) == paragraphs(annual, chapter)


def test_narrowed_manifest_keeps_only_the_chosen_sections(cube, rows, variables, tmp_path,
                                                          monkeypatch):
    """A kind of edition may take some `## ` sections of a chapter; the places a reviewer's
    diff names (places.py) number the same blocks as the built edition."""
    raw = edition_names.MANIFEST.read_text(encoding="utf-8")
    raw += """  smal:
    sections:
      - source: 03_kommunen
        headings: ["Behov for at lære mere"]
        intro: false
      - source: 20_kapitel2
        headings: ["Læring fordelt på arbejdssted", "Uddannelse"]
"""
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(raw, encoding="utf-8")
    monkeypatch.setattr(edition_names, "MANIFEST", manifest)
    ctx = context(cube, rows, variables, "smal")
    assert [p["id"] for p in parts(ctx)] == ["kommunen", "kapitel-2"]
    headings = [b["heading"] for p in parts(ctx) for b in p["blocks"]
                if b.get("type") in ("text", "list") and b.get("heading")]
    assert headings == ["Behov for at lære mere", "Læring fordelt på arbejdssted", "Uddannelse"]
    assert ctx["chapters"][0]["intro"] == [] and ctx["chapters"][0]["key_points"] == []
    shown = [b["figure"] for b in figure_blocks(ctx)]
    assert shown[:2] == ["kap3.behov_laere_mere.medarbejdere", "kap3.behov_laere_mere.ledere"]
    assert {"kap2.laering", "kap2.laering_arbejdssted", "kap2.laering_uddannelse"} <= set(shown)
    assert "kap2.laering_stilling" not in shown, "a section left out"
    sections = edition_names.load_manifest("smal").sections
    placed = places.report_places(cube.project.figures, places.CHAPTERS_DIR, sections)
    numbered = sorted((p.order, f) for f, p in placed.items() if p.number)
    assert [f for _, f in numbered] == list(dict.fromkeys(shown))


def test_bad_manifest_choices_are_refused_with_their_names(cube, rows, variables, tmp_path,
                                                           monkeypatch, capsys):
    code = cli.main(["build", "--kommune", KEY, "--manifest", "fuldd", "--formats", "html",
                     "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "no edition 'fuldd'" in err and "fuld" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
    code = cli.main(["build", "--manifest", "fuld", "--out", str(tmp_path / "out")])
    assert code == 2 and "give --kommune too" in capsys.readouterr().err
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text("figures: [intro.svar]\neditions:\n  x:\n    default: true\n"
                        "    sections: [20_kapitel9]\n  y:\n    sections:\n"
                        "      - {source: 20_kapitel2, headings: [Findes ikke]}\n",
                        encoding="utf-8")
    monkeypatch.setattr(edition_names, "MANIFEST", manifest)
    with pytest.raises(edition_names.EditionError, match=r"editions\.x\.sections\[0\]: "
                       r"'20_kapitel9' is not a chapter source"):
        edition_names.load_manifest()
    with pytest.raises(TemplateError, match="no section headed 'Findes ikke'; the headings "
                                            "are: .*Uddannelse"):
        context(cube, rows, variables, "y")


# ---------------------------------------------------------------------------- one build


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The whole publication for one municipality, all formats, through the command."""
    out = tmp_path_factory.mktemp("fuld")
    assert cli.main(["build", "--wave", "2002", "--kommune", NAME, "--manifest", "fuld",
                     "--out", str(out)]) == 0
    return out / "kommuner" / KEY


def test_the_whole_publication_for_one_municipality(built):
    name = f"laering-paa-jobbet-{KEY}"
    for suffix in ("html", "pdf", "docx"):
        assert (built / f"{name}.{suffix}").stat().st_size > 0
    html = (built / f"{name}.html").read_text(encoding="utf-8")
    text = text_of(html)
    for title in ("Hasle i forhold til alle kommuner", "Hvor og hvornår medarbejderne lærer",
                  "Om Hasles tal", "Kommuneudgave 2002 – hele publikationen"):
        assert title in text, title
    for chapter in ("Kapitel 1", "Kapitel 2", "Kapitel 3", "Kapitel 4", "Kapitel 5", "Bilag A"):
        assert chapter in text, chapter
    assert text.count(NOTE_WHOLE) >= 20
    assert "på niveau med" not in text
    labels = lineage.codebook_labels(Project().codebook, words(), Project().figures)
    assert lineage.unsupported(html, labels) == []
    meta = json.loads((built / "figures.json").read_text(encoding="utf-8"))["meta"]
    assert meta["kommune"] == KEY and meta["manifest"] == "fuld"
    figures = pd.DataFrame(json.loads((built / "figures.json").read_text())["rows"])
    assert set(figures["figure"]) == set(edition_figure_ids())
    import subprocess

    pdf = subprocess.run(["pdftotext", "-layout", str(built / f"{name}.pdf"), "-"],
                         capture_output=True, text=True, check=True).stdout
    assert "Hasle i forhold til alle kommuner" in pdf and "Kapitel 5" in pdf
    assert re.search(r"Hasle\s+Alle kommuner", pdf), "paired columns in the PDF"
    import openpyxl

    book = openpyxl.load_workbook(built / "tabeller.xlsx", read_only=True)
    whole = [list(ws.iter_rows(values_only=True)) for ws in book.worksheets[1:]
             if NOTE_WHOLE in str(next(ws.iter_rows(min_row=2, max_row=2, values_only=True))[0])]
    assert len(whole) >= 20, "the whole survey's figures have sheets too"
    for sheet in whole:
        cells = [c for row in sheet[3:] for c in row[1:] if c is not None]
        assert not [c for c in cells if isinstance(c, str) and re.fullmatch(r"[\d.,]+\s?%( \[.*\])?", c)], \
            sheet[0][0]
    assert any(isinstance(c, float) for sheet in whole for row in sheet[3:] for c in row[1:]), \
        "their numbers are numbers, not text"


# ---------------------------------------------------------------------------- its own past


def test_an_edition_shows_the_municipalitys_own_previous_wave():
    """2005 (fictitious) follows 2002: an edition's numbers carry the municipality's own 2002
    number, with ▲/▼ only where the change passes its test (BH over the edition's changes).
    Odense's documented change F4 (opbakning fra ledelsen "i høj grad" 40 → 80 %) is marked;
    a number whose change is not sure has its 2002 value and no arrow."""
    from lpj_report.edition_context import own_previous

    project = Project()
    cube = make_cube(project, Build.load(project, 2005))
    wave_variables(cube)
    rows = edition_rows(cube, "odense")
    before = own_previous(cube, rows, "odense")
    hoej = before[("kap2.opbakning_ledelse", "alle", "i_hoej_grad")]
    assert hoej.significant and hoej.mark == "▲" and hoej.year == "2002"
    assert all(bool(p.mark) == p.significant for p in before.values())
    quiet = [k for k, p in before.items() if not p.significant]
    assert quiet, "most numbers do not change for sure"
    variables = {**edition_variables(cube, "odense", rows), "_charts": False}
    ctx = edition_context(cube, "odense", rows, created="2005-06-01",
                          build_date="1. juni 2005", variables=variables)
    block = next(b for b in figure_blocks(ctx) if b["figure"] == "kap2.opbakning_ledelse")
    row = next(r for r in block["table"]["rows"] if r[0] == "I høj grad")
    assert row[1] == f"{variables['F']['kap2.opbakning_ledelse'].compared('i_hoej_grad').k} " \
                     f"({hoej.text} ▲)"
    assert "kommunens tal fra 2002" in block["note"]
    figure, group, category = quiet[0]
    c = variables["F"][figure].compared(category, group)
    assert c.k_with_previous == f"{c.k} ({before[quiet[0]].text})"
