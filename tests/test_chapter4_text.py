"""Kapitel 4 states its results through its findings, and the sentences follow the verdicts.

The 2002 data are altered in memory (answers permuted among employees, ticks moved, leaders of
an area removed), the report context is built again, and the chapter must state the new result
and drop the old sentence. Each test first checks that the alteration gave the verdict it is
meant to give, so that a test cannot pass on a change that did nothing.

Building a context takes a while; the alterations are therefore grouped into two altered waves,
each changing variables that no other alteration in it reads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lpj_report import lineage, render
from lpj_report.derive import apply_derived
from lpj_report.pipeline import Build, Project
from lpj_report.report_context import build_context, words

CHAPTER = "kapitel-4"


# --------------------------------------------------------------------------- helpers

def altered(base: Build, *changes) -> Build:
    data = base.data.copy()
    for change in changes:
        result = change(data)          # in place, or a new frame (rows dropped)
        data = data if result is None else result
    data = data.reset_index(drop=True)
    return Build(base.project, base.wave, apply_derived(data, base.project.codebook,
                                                        base.wave.meta))


def context(build: Build) -> dict:
    """The report context without the charts (empty SVGs): the tests read the text and the
    tables, which are the same either way, and drawing every chart of each altered build would
    double the time of the module."""
    return build_context(build, created="2002-09-01", build_date="1. september 2002",
                         code_version="test", charts=False)


def chapter(ctx: dict) -> dict:
    return next(c for c in ctx["chapters"] if c["id"] == CHAPTER)


def _plain(segments) -> str:
    return "".join(s["text"] for s in segments).replace("\u00a0", " ")


def key_points(ctx: dict) -> list[str]:
    return [_plain(k) for k in chapter(ctx)["key_points"]]


def text(ctx: dict) -> str:
    """The chapter's running text, key points and list items, no-break spaces as spaces."""
    out = key_points(ctx)
    for block in chapter(ctx)["blocks"]:
        out += [_plain(p) for p in block.get("paragraphs", [])]
        out += [_plain(i) for i in block.get("items", [])]
    return "\n".join(out)


def pct(value: float) -> str:
    """A share as the chapter prints it (whole per cent, half up)."""
    return f"{int(100 * value + 0.5)} %"


def unsupported_in_chapter(build: Build, ctx: dict, tmp_path) -> list[tuple[str, str]]:
    """The lineage check run on a report holding only this chapter."""
    only = {**ctx, "chapters": [chapter(ctx)], "introduction": None, "appendices": []}
    html = render.render_html(only, tmp_path, name="kap4").read_text(encoding="utf-8")
    labels = lineage.codebook_labels(build.project.codebook, words(), build.project.figures)
    return lineage.unsupported(html, labels)


def employees(data: pd.DataFrame) -> np.ndarray:
    return (data["rolle"] == "medarbejder").to_numpy()


def permute(data: pd.DataFrame, name: str, seed: int) -> None:
    """Shuffle one answer among the employees: it keeps its distribution and loses every
    association with the other answers."""
    rng = np.random.default_rng(seed)
    mask = employees(data)
    data.loc[mask, name] = rng.permutation(data.loc[mask, name].to_numpy())


# --------------------------------------------------------------------------- alterations

def no_place_to_talk_effect(data):
    permute(data, "sted_tale", seed=4)


def high_tempo_clearly_first(data):
    """Every leader ticks high tempo; a third of them no longer tick the employees' resistance."""
    leaders = data.index[data["rolle"] == "leder"]
    data.loc[leaders, "leder_haemmer_bidrag_1"] = 1
    data.loc[leaders[:40], "leder_haemmer_bidrag_2"] = 0


def no_leaders_in_aeldre(data):
    return data.drop(data.index[(data["rolle"] == "leder") & (data["omraade"] == "aeldre")])


def ten_leaders_in_dagpasning(data):
    rows = data.index[(data["rolle"] == "leder") & (data["omraade"] == "dagpasning")]
    return data.drop(rows[10:])


def employees_see_professional_leadership(data):
    """500 employees who said "administrativ" now say "faglig" about their nearest leader."""
    rows = data.index[(data["rolle"] == "medarbejder") & (data["overordnet_tid"] == "administrativ")]
    data.loc[rows[:500], "overordnet_tid"] = "faglig"


def training_unrelated(data):
    permute(data, "oplaering_start", seed=7)


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def base() -> Build:
    return Build.load(Project(), 2002)


@pytest.fixture(scope="module")
def base_ctx(base) -> dict:
    return context(base)


@pytest.fixture(scope="module")
def wave_a(base) -> Build:
    return altered(base, no_place_to_talk_effect, high_tempo_clearly_first, no_leaders_in_aeldre)


@pytest.fixture(scope="module")
def ctx_a(wave_a) -> dict:
    return context(wave_a)


@pytest.fixture(scope="module")
def wave_b(base) -> Build:
    return altered(base, employees_see_professional_leadership, training_unrelated,
                   ten_leaders_in_dagpasning)


@pytest.fixture(scope="module")
def ctx_b(wave_b) -> dict:
    return context(wave_b)


# --------------------------------------------------------------------------- the data as they are

def test_2002_text_states_the_verdicts_of_2002(base, base_ctx):
    f = base.findings
    assert f["kap4.haemmer_top"].verdict == "not_supported"
    assert f["kap4.haemmer_top2"].verdict == "supported"
    assert f["kap4.leder_tid_top_skole"].verdict == "not_testable"
    body = text(base_ctx)
    # the two hindrances tie within noise: named together, their order said to be unsure
    assert ("Øverst på listen over hindringer står højt arbejdstempo (55 %) og medarbejdernes "
            "modstand over for nye arbejdsmetoder og initiativer (53 %)") in body
    assert "men rækkefølgen imellem dem er ikke sikker" in body
    assert "Som hindring nævner de oftest" not in body
    # 14 school leaders: too few to rank, so the shares are listed in the questionnaire's order
    assert ("På skoleområdet har kun 14 ledere svaret, for få til at teste rækkefølgen: "
            "50 % administrativ, 7 % strategisk, 29 % faglig og 14 % personaleledelse.") in body
    # a ranking within noise says so
    assert ("Faglig ledelse nævnes oftest i administrationen, men ikke sikkert oftere end på "
            "dagpasningsområdet (23 % mod 17 %") in body
    # groups within noise of each other share the top, and the next below is named as sure
    assert ("Flest har det i fritidsordninger og fritidsklubber og i vuggestuer og børnehaver, "
            "sikkert flere end i forvaltningerne og på plejehjem og plejecentre (87 % mod 74 %"
            ) in body
    assert "Flest har det i fritidsordninger og fritidsklubber, men ikke sikkert" not in body


def test_2002_chapter_has_no_unsupported_sentence(base, base_ctx, tmp_path):
    assert unsupported_in_chapter(base, base_ctx, tmp_path) == []


# --------------------------------------------------------------------------- wave A

def test_place_to_talk_without_association_is_worded_as_no_sure_difference(base, wave_a, ctx_a):
    assert base.findings["kap4.sted_tale_laering"].verdict == "supported"
    r = wave_a.findings["kap4.sted_tale_laering"]
    assert r.verdict == "not_supported"
    body = text(ctx_a)
    a, b = pct(r.estimates["a"].value), pct(r.estimates["b"].value)
    assert ("Data viser ingen sikker forskel i læring mellem dem, der har et sådant sted, og "
            f"dem, der ikke har ({a} mod {b} med lav læring") in body
    assert "har sjældnere lav læring" not in body
    assert "De, der har et sådant sted" not in body


def test_a_clear_first_hindrance_is_named_alone(base_ctx, wave_a, ctx_a):
    assert wave_a.findings["kap4.haemmer_top"].verdict == "supported"
    body = text(ctx_a)
    assert ("Som hindring nævner de oftest højt arbejdstempo, sikkert oftere end medarbejdernes "
            "modstand over for nye arbejdsmetoder og initiativer (100 % mod ") in body
    assert "Øverst på listen over hindringer" not in body
    assert ("at lederne oftest nævner højt arbejdstempo som en hindring for at bidrage til "
            "medarbejdernes læring") in key_points(ctx_a)
    assert not any("uden sikker rækkefølge" in k for k in key_points(ctx_a))
    assert any("uden sikker rækkefølge" in k for k in key_points(base_ctx))


def test_an_area_without_leaders_says_so(wave_a, ctx_a):
    assert wave_a.findings["kap4.leder_tid_top_aeldre"].verdict == "not_testable"
    body = text(ctx_a)
    assert "På ældreområdet har ingen ledere svaret." in body
    assert "På ældreområdet har kun" not in body


def test_an_area_whose_numbers_are_withheld_is_not_called_empty(base):
    """In the published 2002 report the leaders of ældreområdet are too few for disclosure
    control: their numbers are withheld, and the text says so instead of calling them absent."""
    from lpj_report.build import protect

    published = Build(base.project, base.wave, base.data)
    protect(published)
    cell = published.figures[(published.figures["figure"] == "kap4.leder_tid.omraade")
                             & (published.figures["group"] == "aeldre")]
    assert cell["suppressed"].all()
    assert (published.data["rolle"].eq("leder") & published.data["omraade"].eq("aeldre")).sum() > 0
    body = text(context(published))
    assert ("På ældreområdet vises tallene ikke, fordi de bygger på for få svar eller ville kunne "
            "regnes ud fra et sådant tal.") in body
    assert "På ældreområdet har ingen ledere svaret." not in body


def test_wave_a_chapter_has_no_unsupported_sentence(wave_a, ctx_a, tmp_path):
    assert unsupported_in_chapter(wave_a, ctx_a, tmp_path) == []


# --------------------------------------------------------------------------- wave B

def test_employees_naming_another_type_than_the_leaders(base_ctx, wave_b, ctx_b):
    e = wave_b.findings["kap4.overordnet_tid_top"]
    assert e.verdict == "supported" and e.top == ("faglig",)
    assert wave_b.findings["kap4.leder_tid_top"].top == ("administrativ",)
    assert wave_b.findings["kap4.overordnet_leder_administrativ"].verdict == "opposite"
    body = text(ctx_b)
    assert ("Blandt medarbejderne nævnes faglig ledelse oftest, sikkert oftere end "
            "administrativ ledelse") in body
    assert "Lederne nævner derimod oftest administrativ ledelse." in body
    assert "sætter altså den samme type ledelse øverst" not in body
    assert "sætter altså den samme type ledelse øverst" in text(base_ctx)
    assert "Administrativ ledelse nævnes sjældnere af medarbejderne om deres nærmeste leder" in body
    assert "Det kan afspejle, at medarbejderne ser lederens arbejde udefra" not in body


def test_training_without_association_drops_the_conclusion(base_ctx, wave_b, ctx_b):
    assert wave_b.findings["kap4.oplaering_laering"].verdict == "not_supported"
    body = text(ctx_b)
    assert ("Data viser ingen sikker sammenhæng mellem den oplæring, medarbejderne fik ved start "
            "i jobbet, og hvor meget de lærer i det daglige arbejde") in body
    assert "Det kan tyde på, at en arbejdsplads, der tager oplæringen af nye alvorligt" not in body
    assert "Det kan tyde på, at en arbejdsplads, der tager oplæringen af nye alvorligt" in text(
        base_ctx)
    assert ("at data ikke viser nogen sikker sammenhæng mellem oplæringen ved start i jobbet og "
            "læringen i det daglige arbejde") in key_points(ctx_b)


def test_too_few_leaders_in_an_area_are_not_ranked(base_ctx, wave_b, ctx_b):
    assert wave_b.findings["kap4.leder_tid_top_dagpasning"].verdict == "not_testable"
    body = text(ctx_b)
    assert "På dagpasningsområdet har kun 10 ledere svaret, for få til at teste rækkefølgen:" in body
    assert "På dagpasningsområdet (n = 32) nævnes administrativ ledelse oftest" in text(base_ctx)
    assert "På dagpasningsområdet (n = 32)" not in body


def test_wave_b_chapter_has_no_unsupported_sentence(wave_b, ctx_b, tmp_path):
    assert unsupported_in_chapter(wave_b, ctx_b, tmp_path) == []
