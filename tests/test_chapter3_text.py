"""Kapitel 3 says what its findings decide.

The chapter (templates/chapters/30_kapitel3.md) states every ranking, comparison and association
from a finding of data/findings/30_kapitel3.yaml. These tests render the chapter on the 2002 data
and on the same data altered in memory — the attitude items behind the livsform reversed, the
interest in job swap shuffled among employees, the leaders' answers replaced by employees'
answers, those who find the demands too big given low learning, nearly all young employees made
older — and check that the sentences follow the new verdicts: the new result is stated, the old
sentence is gone, and every share is named with its own group.
"""

from __future__ import annotations

from html import escape

import numpy as np
import pandas as pd
import pytest

from lpj_report import lineage
from lpj_report.content import build_views
from lpj_report.derive import LEARNING_ITEMS, apply_derived
from lpj_report.finding_views import finding_views
from lpj_report.pipeline import Build, Project
from lpj_report.report_context import (
    CHAPTERS_DIR,
    chapter_environment,
    section,
    wave_facts,
    words,
)

CHAPTER = CHAPTERS_DIR / "30_kapitel3.md"
REVERSED = {"helt_enig": "helt_uenig", "helt_uenig": "helt_enig",
            "delvis_enig": "delvis_uenig", "delvis_uenig": "delvis_enig"}
ATTITUDES = ("holdning_uden_for_omraade", "holdning_stabilitet", "holdning_ikke_rustet")


# --------------------------------------------------------------------------- helpers

def chapter(build: Build) -> dict:
    """Kapitel 3 alone, rendered from the build's figures and findings, without the charts
    (empty SVGs): the tests read its text, which is the same either way."""
    project = build.project
    views = build_views(project.figures, build.figures, project.codebook)
    results = finding_views(build.findings, project.findings, project.registry, views,
                            project.codebook)
    variables = {"F": views, "R": results, "W": wave_facts(build), "O": words(),
                 "Y": {"year": "", "changes": []}, "D": {}, "_codebook": project.codebook,
                 "_claims": [], "_charts": False}
    sec = section(CHAPTER, chapter_environment(build), variables, views, project.registry)
    return {"section": sec, "F": views, "R": results}


def paragraphs(sec: dict) -> list[list[dict]]:
    out = [*sec.get("key_points", []), *sec.get("intro", [])]
    for block in sec["blocks"]:
        out += block.get("paragraphs", []) + [i for i in block.get("items", [])
                                               if isinstance(i, list)]
    return out


def text(rendered: dict) -> str:
    """The chapter's running text, no-break spaces as spaces."""
    return "\n".join("".join(s["text"] for s in p)
                     for p in paragraphs(rendered["section"])).replace("\u00a0", " ")


def key_points(rendered: dict) -> list[str]:
    return ["".join(s["text"] for s in p).replace("\u00a0", " ")
            for p in rendered["section"]["key_points"]]


def finding_ids(rendered: dict) -> set[str]:
    return {fid for p in paragraphs(rendered["section"]) for s in p
            for fid in s["findings"].split()}


def unsupported(rendered: dict, project: Project) -> list[tuple[str, str]]:
    """Sentences with a comparing word outside any finding, as lineage.unsupported reads the
    HTML (the chapter's paragraphs wrapped the way the report template wraps them)."""
    parts = []
    for p in paragraphs(rendered["section"]):
        spans = "".join(f'<span data-finding="{s["findings"]}">{escape(s["text"])}</span>'
                        if s["findings"] else escape(s["text"]) for s in p)
        parts.append(f"<p>{spans}</p>")
    labels = lineage.codebook_labels(project.codebook, words(), project.figures)
    return lineage.unsupported("\n".join(parts), labels)


def altered(base: Build, change) -> Build:
    data = base.data.copy()
    change(data)
    return Build(base.project, base.wave, apply_derived(data, base.project.codebook,
                                                        base.wave.meta))


def employees(data: pd.DataFrame) -> pd.Series:
    return data["rolle"] == "medarbejder"


def tick(data: pd.DataFrame, project: Project, variable: str, option: str, mask) -> None:
    var = project.codebook[variable]
    data.loc[mask, var.columns[var.keys.index(option)]] = 1


def share(rendered: dict, figure: str, group: str, category: str) -> str:
    return rendered["F"][figure].cell[group][category].text.replace("\u00a0", " ")


# --------------------------------------------------------------------------- builds

@pytest.fixture(scope="module")
def base() -> Build:
    return Build.load(Project(), 2002)


@pytest.fixture(scope="module")
def as_is(base) -> dict:
    return chapter(base)


def same_patterns(data: pd.DataFrame, project: Project) -> None:
    """Employees and union representatives tick the helps and hinders lists in the same
    rotating patterns (each role in turn), so every option has the same share in both roles:
    the helps list three options in each of three patterns, the hinders list two in each of
    five."""
    for variable, patterns, width in (("fremmer_laering", 3, 3), ("haemmer_laering", 5, 2)):
        columns = [data.columns.get_loc(c) for c in project.codebook[variable].columns]
        for role in ("medarbejder", "tillidsrepraesentant"):
            rows = np.flatnonzero((data["rolle"] == role).to_numpy())
            ticks = np.zeros((len(rows), len(columns)), dtype=int)
            for i in range(len(rows)):
                j = i % patterns
                ticks[i, j * width:(j + 1) * width] = 1
            data.iloc[rows, columns] = ticks


@pytest.fixture(scope="module")
def turned(base) -> tuple[Build, dict]:
    """Livsform turned round (every attitude item read backwards, so the karriere and the
    lønmodtager group swap their members), job swap shuffled among employees, every leader
    ticking feedback as a way to become more skilled, and employees and union representatives
    answering the helps and hinders lists alike."""
    def change(data):
        for item in ATTITUDES:
            data[item] = data[item].astype("object").map(
                lambda v: REVERSED.get(v, v)).astype(data[item].dtype)
        mask = employees(data)
        rng = np.random.default_rng(2002)
        data.loc[mask, "jobbytte"] = rng.permutation(data.loc[mask, "jobbytte"].to_numpy())
        tick(data, base.project, "behov_bedre", "tilbagemelding", data["rolle"] == "leder")
        same_patterns(data, base.project)

    build = altered(base, change)
    return build, chapter(build)


@pytest.fixture(scope="module")
def levelled(base) -> tuple[Build, dict]:
    """Leaders answer both method questions as randomly drawn employees did for themselves;
    those who find the demands too big have low learning; all but ten employees under 30 are
    made 35."""
    def change(data):
        rng = np.random.default_rng(7)
        own = base.project.codebook["behov_bedre"].columns
        rec = base.project.codebook["leder_metode_medarbejdere"].columns
        leaders = np.flatnonzero((data["rolle"] == "leder").to_numpy())
        staff = np.flatnonzero(employees(data).to_numpy())
        for columns in (own, rec):
            donors = rng.choice(staff, size=len(leaders), replace=False)
            data.iloc[leaders, [data.columns.get_loc(c) for c in columns]] = (
                data.iloc[donors][list(own)].to_numpy())
        too_big = employees(data) & (data["krav_niveau"] == "for_store")
        for item in LEARNING_ITEMS:
            data.loc[too_big, item] = "slet_ikke"
        young = employees(data) & (data["aldersgruppe"] == "under_30")
        data.loc[young & (young.cumsum() > 10), "alder"] = 35

    build = altered(base, change)
    return build, chapter(build)


# --------------------------------------------------------------------------- the data as they are

def test_every_comparing_sentence_comes_from_a_finding(base, as_is, turned, levelled):
    for rendered in (as_is, turned[1], levelled[1]):
        assert unsupported(rendered, base.project) == []


def test_alike_claims_are_worded_from_their_options_tests(base, as_is):
    r = base.findings
    assert r["kap3.metoder_ledere_medarbejdere"].verdict == "opposite"
    assert r["kap3.fremmer_tr_medarbejdere"].verdict == "not_supported"
    assert r["kap3.haemmer_tr_medarbejdere"].verdict == "opposite"
    ch = text(as_is)
    assert ("er forskellen sikker for vejledning fra erfarne kolleger (medarbejderne 26 %, "
            "lederne 6 %; korrigeret p < 0,001) og tilbagemelding på arbejdet (medarbejderne "
            "16 %, lederne 29 %; korrigeret p = 0,004)") in ch
    assert "svarer i store træk som medarbejderne" not in ch
    assert ("at ledere og medarbejdere ikke vægter alle metoder til egen kompetenceudvikling "
            "ens: forskellen er sikker for vejledning fra erfarne kolleger og tilbagemelding på "
            "arbejdet") in key_points(as_is)
    assert ("Data viser ingen sikker forskel mellem tillidsrepræsentanternes og medarbejdernes "
            "svar på nogen af de 9 muligheder. Det viser dog ikke, at de svarer ens") in ch
    assert ("forskellen sikker for højt arbejdstempo (medarbejderne 46 %, "
            "tillidsrepræsentanterne 59 %; korrigeret p = 0,018), manglende politisk "
            "opbakning (medarbejderne 24 %, tillidsrepræsentanterne 34 %") in ch
    assert {"kap3.metoder_ledere_medarbejdere", "kap3.fremmer_tr_medarbejdere",
            "kap3.haemmer_tr_medarbejdere"} <= finding_ids(as_is)


def test_rankings_within_noise_say_so_and_ties_are_named_together(as_is):
    ch = text(as_is)
    assert ("Hos tillidsrepræsentanterne (n = 150) er opbakning fra kolleger og udfordrende "
            "arbejdsopgaver valgt af flest, med 36 % hver, men ikke sikkert af flere end "
            "tillidsfuldt miljø (34 %;") in ch
    assert ("Kurser og efteruddannelse står klart øverst og er sikkert valgt oftere end "
            "samarbejde med kolleger (80 % mod 31 %;") in ch
    assert ("men tredjepladsen er ikke sikker: vejledning fra erfarne kolleger er ikke sikkert "
            "valgt sjældnere (29 % mod 26 %;") in ch


def test_demands_too_big_is_worded_as_the_opposite(as_is):
    ch = text(as_is)
    assert ("Man kunne vente, at de, der finder kravene for store, oftere har lav læring, men "
            "det er omvendt: 20 % (95 %-KI 15–27 %) af dem har lav læring mod 50 % af dem, der "
            "finder kravene tilpas eller for små") in ch


LIVSFORM_AS_PUBLISHED = [
    ("Karrieregruppen peger oftere end lønmodtagergruppen på samarbejde med kolleger som en af "
     "de bedste måder at lære på ({k} mod {l};", "kap3.livsform.bedste_metode",
     "samarbejde_kolleger"),
    ("Lønmodtagergruppen lægger mere vægt på vejledning fra den nærmeste leder ({l} mod {k} i "
     "karrieregruppen;", "kap3.livsform.bedste_metode", "vejledning_leder"),
    ("vil lønmodtagergruppen oftere end karrieregruppen prøve sig frem ({l} mod {k};",
     "kap3.livsform.behov_bedre", "proeve_frem"),
    ("Karrieregruppen peger oftere på samarbejde med kolleger som en vej til at blive dygtigere "
     "({k} mod {l} i lønmodtagergruppen;", "kap3.livsform.behov_bedre", "samarbejde_kolleger"),
    ("Karrieregruppen ønsker oftere mere tid til nye arbejdsopgaver ({k} mod {l};",
     "kap3.livsform.behov_bedre", "mere_tid_nye"),
]
LIVSFORM_TURNED = [
    ("Lønmodtagergruppen peger oftere end karrieregruppen på samarbejde med kolleger som en af "
     "de bedste måder at lære på ({l} mod {k};", "kap3.livsform.bedste_metode",
     "samarbejde_kolleger"),
    ("Karrieregruppen vælger oftere vejledning fra den nærmeste leder ({k}) end "
     "lønmodtagergruppen ({l};", "kap3.livsform.bedste_metode", "vejledning_leder"),
    ("vil karrieregruppen oftere end lønmodtagergruppen prøve sig frem ({k} mod {l};",
     "kap3.livsform.behov_bedre", "proeve_frem"),
    ("Samarbejde med kolleger vælges oftere af lønmodtagergruppen ({l}) end af karrieregruppen "
     "({k};", "kap3.livsform.behov_bedre", "samarbejde_kolleger"),
    ("Mere tid til nye arbejdsopgaver ønskes oftere af lønmodtagergruppen ({l}) end af "
     "karrieregruppen ({k};", "kap3.livsform.behov_bedre", "mere_tid_nye"),
]


def _livsform_sentences(rendered: dict, patterns) -> list[str]:
    return [pattern.format(k=share(rendered, fig, "karriere", cat),
                           l=share(rendered, fig, "loenmodtager", cat))
            for pattern, fig, cat in patterns]


def test_livsform_shares_are_named_with_their_own_group(as_is):
    ch = text(as_is)
    for sentence in _livsform_sentences(as_is, LIVSFORM_AS_PUBLISHED):
        assert sentence in ch
    assert "Lønmodtagergruppen har altså en lidt tydeligere tendens til at klare sig selv." in ch
    assert "For lønmodtagergruppen kan lederen løsne op for faste arbejdsgange" in ch


# --------------------------------------------------------------------------- altered data

def test_livsform_turned_round_flips_every_sentence_and_keeps_each_share_with_its_group(
        base, turned):
    build, rendered = turned
    for fid in ("kap3.livsform_metode_samarbejde", "kap3.livsform_leder_kilde",
                "kap3.livsform_proeve_frem", "kap3.livsform_behov_samarbejde",
                "kap3.livsform_mere_tid_nye", "kap3.livsform_kolleger_mindre_rosende"):
        assert build.findings[fid].verdict == "opposite", fid
    ch = text(rendered)
    # the karriere group now holds those who were lønmodtagere: 63 % moved with them
    assert share(rendered, "kap3.livsform.bedste_metode", "loenmodtager",
                 "samarbejde_kolleger") == "63 %"
    for sentence in _livsform_sentences(rendered, LIVSFORM_TURNED):
        assert sentence in ch
    for sentence in _livsform_sentences(rendered, LIVSFORM_AS_PUBLISHED):
        assert sentence not in ch
    assert ("Karrieregruppen vurderer udbyttet af snakken med kollegerne mere positivt end "
            "lønmodtagergruppen") in ch
    assert "Kollegerne er vigtige for dem, men kunne give mere." not in ch
    # differences remain, so the conclusion stands, but not the advice built on the old ones
    assert "varierer altså i nogen grad med livsformen" in ch
    assert "Data viser ingen sikker forskel mellem de to livsformer" not in ch
    assert "For lønmodtagergruppen kan lederen" not in ch
    assert "tydeligere tendens til at klare sig selv" not in ch


def test_shuffled_job_swap_shows_no_sure_workplace_difference(base, as_is, turned):
    build, rendered = turned
    assert build.findings["kap3.jobbytte_arbejdssted"].verdict == "not_supported"
    assert build.findings["kap3.jobbytte_bund"].verdict == "not_supported"
    before, ch = text(as_is), text(rendered)
    assert "Interessen er forskellig fra arbejdssted til arbejdssted" in before
    assert "Mindst er interessen i dagplejen (13 %), sikkert mindre end" in before
    assert "Data viser ingen sikker forskel i interessen mellem arbejdsstederne" in ch
    assert "Interessen er forskellig fra arbejdssted til arbejdssted" not in ch
    assert "), sikkert mindre end" not in ch
    assert "men ikke sikkert mindre end" in ch
    assert "Dagplejerne arbejder i eget hjem" not in ch
    assert "Dagplejerne er samtidig dem" not in ch


def test_leaders_with_another_first_choice_are_named_apart(turned):
    build, rendered = turned
    assert build.findings["kap3.behov_bedre_ledere_top"].top == ("tilbagemelding",)
    assert ("at medarbejderne oftest peger på kurser og efteruddannelse og lederne på "
            "tilbagemelding på arbejdet som vejen til at blive dygtigere i det daglige "
            "arbejde") in key_points(rendered)
    ch = text(rendered)
    assert "Hos lederne står tilbagemelding på arbejdet klart øverst" in ch
    assert "Også hos lederne" not in ch


def test_alike_is_stated_only_when_the_equivalence_test_supports_it(as_is, turned):
    build, rendered = turned
    assert build.findings["kap3.fremmer_tr_medarbejdere"].verdict == "supported"
    assert build.findings["kap3.haemmer_tr_medarbejdere"].verdict == "supported"
    ch = text(rendered)
    assert ("Tillidsrepræsentanterne og medarbejderne svarer samlet ens: på hver af de 9 "
            "muligheder ligger andelene sikkert inden for ±10 procentpoint af hinanden "
            "(ækvivalenstest, korrigeret p =") in ch
    assert ("Tillidsrepræsentanterne og medarbejderne vurderer hindringerne ens: på hver af de "
            "10 hindringer ligger andelene sikkert inden for ±10 procentpoint") in ch
    assert "vurderer ikke hindringerne ens" not in ch
    assert "Det viser dog ikke, at de svarer ens" not in ch
    assert "vurderer hindringerne ens" not in text(as_is)
    assert "svarer samlet ens" not in text(as_is)
    # every option ties: the rankings cannot be tested and their sentences are left out
    assert build.findings["kap3.fremmer_top3"].verdict == "not_testable"
    assert "Oftest valgt er" not in ch
    assert "Det, der oftest forhindrer medarbejderne i at lære" not in ch


def test_leaders_answering_like_employees_is_no_evidence_of_alike(levelled):
    build, rendered = levelled
    assert build.findings["kap3.metoder_ledere_medarbejdere"].verdict == "not_supported"
    assert build.findings["kap3.ledere_kurser_egen_medarbejdere"].verdict == "not_supported"
    assert build.findings["kap3.ledere_samarbejde_medarbejdere_egen"].verdict == "not_supported"
    ch = text(rendered)
    leaders = rendered["F"]["kap3.behov_bedre.ledere"].base.replace("\u00a0", " ")
    assert leaders.startswith("n = ")
    assert (f"Data viser ingen sikker forskel mellem ledernes ({leaders}) og medarbejdernes svar "
            "på nogen af de 11 veje. Det viser dog ikke, at de svarer ens") in ch
    assert "svarer ikke på alle punkter som medarbejderne" not in ch
    points = key_points(rendered)
    assert ("at data ikke viser nogen sikker forskel på, hvilke metoder ledere og medarbejdere "
            "foretrækker til deres egen kompetenceudvikling – men heller ikke, at de foretrækker "
            "de samme") in points
    assert ("at data ikke viser nogen sikker forskel på, om lederne vælger kurser eller "
            "samarbejde med kolleger for medarbejderne eller for sig selv") in points
    assert "Lederne lægger dermed op til en udvikling af medarbejderne" not in ch
    assert "For kurser og efteruddannelse viser data ingen sikker forskel" in ch
    assert build.findings["kap3.tid_medarbejdere_ledere"].verdict == "not_supported"
    employees_time = share(rendered, "kap3.behov_bedre.medarbejdere", "alle", "mere_tid_samme")
    leaders_time = share(rendered, "kap3.leder_metode_medarbejdere", "alle", "mere_tid_samme")
    assert (f"{employees_time} af medarbejderne ønsker mere tid til de samme opgaver for at blive "
            f"dygtigere, og {leaders_time} af lederne peger på mere tid som en vej til "
            "medarbejdernes udvikling; data viser ingen sikker forskel") in ch
    assert "Synet på tid er et andet" not in ch


def test_demands_too_big_with_low_learning_is_worded_as_holding(levelled):
    build, rendered = levelled
    assert build.findings["kap3.krav_for_store_lav_laering"].verdict == "supported"
    ch = text(rendered)
    assert "De, der finder kravene for store, har oftere lav læring: 100 %" in ch
    assert "Man kunne vente" not in ch
    assert "det er omvendt" not in ch


def test_too_few_young_employees_leave_the_comparison_out(as_is, levelled):
    build, rendered = levelled
    assert build.findings["kap3.unge_vejledning"].verdict == "not_testable"
    assert "Blandt medarbejderne under 30 år (n = 66) er det 41 %" in text(as_is)
    ch = text(rendered)
    assert "Der er for få medarbejdere under 30 år til at sammenligne dem med de ældre." in ch
    assert "Blandt medarbejderne under 30 år" not in ch
