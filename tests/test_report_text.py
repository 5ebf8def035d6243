"""The report's text follows the data, and every sentence that compares carries its finding.

The chapter sources (templates/chapters/*.md) state results only through findings. These tests
alter the 2002 data in memory — remove a workplace, make municipalities differ, tie two groups,
reverse an association, lower the leaders' response rate — rebuild the report and check that
the new result is stated, that no sentence of the 2002 result is left, and that the lineage
holds (no sentence with a comparative word outside a finding). They also check the house rules
of the sources: no literal numbers in prose, every chart of the publication present, a figure
index that covers the registry, clean Danish.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import yaml
from textkit import (
    altered,
    base_build,
    block,
    employees,
    flat,
    make_context,
    section,
    sections,
    set_learning,
    text,
    texts,
    unsupported,
)

from lpj_report.chapters import read_source
from lpj_report.content import figure_view
from lpj_report.derive import LEARNED
from lpj_report.figures import Figure
from lpj_report.pipeline import Build, Project
from lpj_report.report_context import CHAPTERS_DIR, claims_for, group_names, ranked_items
from lpj_report.wave import Wave, available_waves


@pytest.fixture(scope="module")
def base() -> Build:
    return base_build()


@pytest.fixture(scope="module")
def base_context(base) -> dict:
    return make_context(base)


def table_cell(table: dict, row: str, column: str) -> str:
    index = table["columns"].index(column)
    return next(r[index] for r in table["rows"] if r[0] == row).replace("\u00a0", " ")


# --------------------------------------------------------------------------- the data as they are


def test_baseline_names_the_groups_the_data_give(base_context):
    ch2 = text(base_context, "kapitel-2")
    assert ("Flest med høj læring er der i fritidsordninger og fritidsklubber, men ikke sikkert "
            "flere end i vuggestuer og børnehaver (21 % mod 15 %;") in ch2
    # A-top3: the three workplaces of the data, the fourth place tied and named together
    assert ("de ligger ikke sikkert over andelen på plejehjem og plejecentre og i "
            "forvaltningerne (11 %;") in ch2
    assert ("at data hverken viser nogen sikker sammenhæng mellem læring og køn eller mellem "
            "læring og alder") in ch2


def test_the_2002_report_states_no_comparison_without_a_finding(base, base_context):
    assert unsupported(base_context, base.project) == []


def test_no_sentence_words_lack_of_evidence_as_equality(base_context):
    body = text(base_context)
    for phrase in (r"på niveau med", r"ingen sammenhæng mellem", r"hænger ikke sammen",
                   r"\ber ens\b", r"(?<!ikke )lige meget"):
        hits = [s for s in re.split(r"(?<=[.!?])\s", body) if re.search(phrase, s)
                and "ikke, at" not in s and "ikke at" not in s]
        assert not hits, (phrase, hits[:3])


def test_key_numbers_carry_their_interval(base_context):
    ch2 = text(base_context, "kapitel-2")
    assert "21,4 % (95 %-KI 19,3–23,6 %) har lav læring" in ch2
    fig = block(base_context, "kapitel-2", figure="kap2.laering")
    assert table_cell(fig["table"], "Alle", "Lav (0–2 situationer)") == "21,4 % [19,3–23,6 %]"


# --------------------------------------------------------------------------- altered data


def test_a_workplace_without_respondents_is_never_named(base):
    def no_dagpleje(data):
        return data[data["arbejdssted"] != "dagpleje"].reset_index(drop=True)

    build = altered(base, no_dagpleje)
    ctx = make_context(build)
    body = text(ctx)
    assert not re.search(r"dagplej", body, re.I), [s for s in body.split(". ") if "agplej" in s]
    assert build.findings["kap2.dagpleje_leder_kolleger"].verdict == "not_testable"
    assert unsupported(ctx, base.project) == []


def test_municipalities_made_to_differ_are_reported_as_differing(base, base_context):
    def odense_learns(data):
        set_learning(data, employees(data, kommune="odense"), LEARNED)

    build = altered(base, odense_learns)
    assert build.findings["kap2.kommune_laering"].verdict == "supported"
    ctx = make_context(build)
    ch2 = text(ctx, "kapitel-2")
    assert "Forskellene mellem kommunerne er større, end tilfældigheder kan forklare" in ch2
    assert "at læringen er forskellig fra kommune til kommune" in ch2
    assert "data viser ingen sikker forskel mellem kommunerne" not in ch2
    assert "data viser ingen sikker forskel mellem kommunerne" in text(base_context, "kapitel-2")
    assert unsupported(ctx, base.project) == []


def test_a_tie_at_the_top_names_both_groups(base):
    """Vuggestuer and fritidsordninger made to print the same share with high learning: both
    are named first, and neither is said to be above the other."""
    def tie(data):
        for group, share in (("fritidsordning_fritidsklub", 0.4),
                             ("vuggestue_boernehave", 0.4)):
            mask = employees(data, arbejdssted=group).to_numpy()
            rows = np.flatnonzero(mask)
            high = rows[: int(round(share * len(rows)))]
            set_learning(data, data.index[high], LEARNED)
            set_learning(data, data.index[rows[len(high):]], "i_nogen_grad")

    build = altered(base, tie)
    r = build.findings["kap2.arbejdssted_hoej_top"]
    assert set(r.top) == {"fritidsordning_fritidsklub", "vuggestue_boernehave"}
    ch2 = text(make_context(build), "kapitel-2")
    assert ("Flest med høj læring er der i vuggestuer og børnehaver og i fritidsordninger og "
            "fritidsklubber") in ch2
    assert ("Flest med høj læring er der i fritidsordninger og fritidsklubber, men ikke sikkert "
            "flere end i vuggestuer") not in ch2


def test_ties_in_a_top_five_share_their_place(base):
    def fourth_place_tie(data):
        var = base.project.codebook["fremmer_laering"]
        cols = dict(zip(var.keys, var.columns, strict=True))
        emp = employees(data)
        data.loc[emp, cols["tillidsfuldt_miljoe"]] = data.loc[emp, cols["egen_nysgerrighed"]]

    ctx = make_context(altered(base, fourth_place_tie))
    items = [flat(i) for i in block(ctx, "kapitel-3", title="Det fremmer læringen – "
                                    "medarbejdernes svar")["items"]]
    places = [i.split(".")[0] for i in items]
    tied = [i for i in items if "Egen nysgerrighed" in i or "Tillidsfuldt" in i]
    assert len(tied) == 2 and tied[0].split(".")[0] == tied[1].split(".")[0]
    assert places == sorted(places, key=int)


def test_gender_made_to_matter_is_stated_and_the_null_wording_is_gone(base, base_context):
    def men_learn(data):
        set_learning(data, employees(data, koen="mand"), LEARNED)

    ctx = make_context(altered(base, men_learn))
    ch2 = text(ctx, "kapitel-2")
    assert "Køn hænger sammen med læringen (χ²-test, korrigeret p < 0,001)" in ch2
    assert "at køn hænger sammen med læringen, mens data ikke viser nogen sikker sammenhæng " \
           "med alder" in ch2
    assert "Data viser ingen sikker forskel på, hvor meget mænd og kvinder lærer" not in ch2
    assert "Data viser ingen sikker forskel på, hvor meget mænd og kvinder lærer" in text(
        base_context, "kapitel-2")
    table = block(ctx, "metode", title="Publikationens udsagn og testen af dem")["table"]
    row = next(r for r in table["rows"] if r[0].startswith("Køn har ingen betydning"))
    assert row[-1] == "modsagt"


def test_a_reversed_association_is_worded_as_the_opposite(base, base_context):
    """Longer in the position made to go with more learning: the publication's 'shorter time,
    more learning' is stated the other way round."""
    def long_tenure_learns(data):
        emp = employees(data)
        long = emp & data["stilling_gruppe"].isin(["aar_16_25", "over_25"])
        short = emp & data["stilling_gruppe"].isin(["aar_0_3"])
        set_learning(data, long, LEARNED)
        set_learning(data, short, "slet_ikke")

    build = altered(base, long_tenure_learns)
    assert build.findings["kap2.stilling_laering"].verdict == "opposite"
    ctx = make_context(build)
    ch2 = text(ctx, "kapitel-2")
    assert "men i modsat retning af det forventede: jo længere tid i stillingen" in ch2
    assert "at jo længere tid medarbejderne har været i deres stilling, desto mere lærer de" in ch2
    assert "Jo kortere tid medarbejderne har været i deres nuværende stilling" not in ch2
    assert "Jo kortere tid medarbejderne har været i deres nuværende stilling" in text(
        base_context, "kapitel-2")
    assert unsupported(ctx, base.project) == []


def test_a_low_leaders_response_rate_is_said_and_the_printed_rates_no_longer_hold(base,
                                                                                  base_context):
    sent = {**base.wave.meta["sent"], "leder": 400}
    ctx = make_context(altered(base, meta={"sent": sent}))
    intro = text(ctx, "indledning")
    assert "30 % blandt lederne" in intro
    assert "Blandt lederne er svarprocenten under 60 %" in intro
    assert "Alle tre grupper har svaret i et omfang" not in intro
    assert "Alle tre grupper har svaret i et omfang" in text(base_context, "indledning")
    metode = text(ctx, "metode")
    assert "gengives ikke alle publikationens trykte svarprocenter" in metode
    assert "og med den gengives alle publikationens trykte svarprocenter" not in metode


def test_livsform_groups_made_equal_lose_their_differences(base, base_context):
    """The two livsform groups given the same answers on methods (the answers permuted among
    employees): no sentence says one group points to something more often."""
    def permute_methods(data):
        rng = np.random.default_rng(3)
        rows = np.flatnonzero(employees(data).to_numpy())
        for name in ("behov_bedre", "bedste_metode_start"):
            cols = base.project.codebook[name].columns
            block_ = data.loc[data.index[rows], cols].to_numpy()
            data.loc[data.index[rows], cols] = block_[rng.permutation(len(rows))]

    build = altered(base, permute_methods)
    ids = [f for f in build.findings if f.startswith("kap3.livsform_") and f !=
           "kap3.livsform_kolleger_mindre_rosende"]
    assert all(build.findings[f].verdict == "not_supported" for f in ids)
    ch3 = text(make_context(build), "kapitel-3")
    assert "Karrieregruppen peger oftere end lønmodtagergruppen på samarbejde med" not in ch3
    assert "Karrieregruppen peger oftere end lønmodtagergruppen på samarbejde med" in text(
        base_context, "kapitel-3")


def test_the_method_appendix_follows_the_data_status(base):
    real = Build(base.project, Wave(base.wave.year, base.wave.folder,
                                    {**base.wave.meta, "status": "real"}), base.data)
    metode = text(make_context(real), "metode")
    assert "Tallene er beregnet på undersøgelsens egne besvarelser fra 2002, 1.680 i alt." in metode
    assert "rekonstrueret datasæt" not in metode


# --------------------------------------------------------------------------- ties and helpers


def _view(values: dict[str, float]):
    fig = Figure(id="t.fig", title="Test", variable="koen", statistic="share",
                 breakdown="arbejdssted", decimals=0)
    rows = []
    for group, value in values.items():
        for category, v in (("kvinde", value), ("mand", 100 - value)):
            rows.append({"figure": fig.id, "group": group, "category": category,
                         "numerator": v, "base": 100, "value": v, "unit": "pct",
                         "decimals": 0})
    return figure_view(fig, pd.DataFrame(rows), Project().codebook)


def test_groups_tied_as_printed_are_named_together():
    view = _view({"alle": 50.0, "skole": 60.2, "dagpleje": 59.8, "forvaltning": 40.0})
    top = view.highest("kvinde")
    assert [v.group for v in top] == ["skole", "dagpleje"]
    assert group_names(top, "sted_i") == "på skolerne og i dagplejen"
    assert [v.group for v in view.lowest("kvinde")] == ["forvaltning"]


def test_ranked_items_number_tied_places_alike():
    view = _view({"alle": 50.0, "skole": 60.2, "dagpleje": 59.8, "forvaltning": 40.0})
    items = ranked_items({"figure": "t.fig", "category": "kvinde", "numbered": True},
                         {"t.fig": view}, {}, "test")
    assert [i.replace("\u00a0", " ") for i in items] == [
        "1. Skole (60 %)", "1. Dagpleje (60 %)", "3. Forvaltning (40 %)"]


# --------------------------------------------------------------------------- house rules

#: Digits that may stand in the prose of the chapter sources: definitions and references,
#: never results (results come from F, R, W and D).
ALLOWED_LITERALS = [
    r"[Kk]apitel [1-5]", r"\b0–[23]\b", r"\b[346]–[58]\b", r"\(0–[23] situationer\)",
    r"\([346]–[58] situationer\)", r"over 1[05] år", r"over 25 år",
    r"2,45 bliver 2,5, og 2,5 bliver 3", r"12,25 og 12,35", r"12,3", r"0,05", r"±10",
    r"over 100", r"til 100\b", r"seks til 15 år", r"16 til 25 år", r"publikationen fra 2002",
    r"fra 2002", r"95 %", r"\b20 svar", r"designeffekt på 2\b", r"[Bb]ilag [AB]",
    r"højst fem år", r"[0-9]+ %-konfidens", r"1,4 gange", r"\b2002\b", r"5 %",
    r"95\s%-KI", r"under 30 år", r"andel omkring 50 %",
]


def _prose(path) -> str:
    body = read_source(path).text.split("\n---", 1)[-1]
    body = re.sub(r"```\{[a-z_]+\}.*?```", " ", body, flags=re.S)        # block options
    body = re.sub(r"{{.*?}}|{%.*?%}|{#.*?#}", " ", body, flags=re.S)
    body = re.sub(r'title="[^"]*"', " ", body)
    return body


def test_chapter_prose_has_no_literal_numbers():
    offenders = []
    for path in sorted(CHAPTERS_DIR.glob("[!_]*.md")):
        prose = _prose(path)
        for pattern in ALLOWED_LITERALS:
            prose = re.sub(pattern, " ", prose)
        for match in re.finditer(r"\d", prose):
            offenders.append(f"{path.name}: …{prose[max(0, match.start() - 40):match.end() + 30]}…")
    assert not offenders, "literal numbers in chapter prose:\n" + "\n".join(offenders)


#: Every chart the 2002 publication has, by the figure it is drawn from.
PUBLICATION_CHARTS = [
    "kap2.laering", "kap2.laering_arbejdssted", "kap2.laering_lav_arbejdssted",
    "kap2.opgaver_forskellige.arbejdssted", "kap2.bedt_ikke_rustet.arbejdssted",
    "kap2.nye_opgaver.arbejdssted", "kap2.tilbagemelding_kolleger.arbejdssted",
    "kap2.tilbagemelding_leder.arbejdssted", "kap2.samarbejde", "kap2.laering_uddannelse",
    "kap3.behov_bedre.medarbejdere", "kap3.behov_bedre.ledere", "kap3.leder_metode_medarbejdere",
    "kap3.fremmer.medarbejdere", "kap3.fremmer.tr", "kap3.fremmer.ledere",
    "kap3.haemmer.medarbejdere", "kap3.haemmer.tr", "kap3.haemmer.ledere",
    "kap3.jobbytte.arbejdssted", "kap4.leder_hjaelper_bidrag", "kap4.leder_haemmer_bidrag",
    "kap4.leder_initiativer", "kap4.leder_tid.omraade", "kap4.overordnet_tid.omraade",
    "kap4.sted_tale.arbejdssted", "kap4.oplaering_start.arbejdssted",
    "kap4.ansvar_oplaering.arbejdssted",
]
PUBLICATION_TABLES = ["kap3.livsform.bedste_metode", "kap3.livsform.behov_bedre"]


def _figure_ids(context: dict, kind: str) -> list[str]:
    ids = []
    for sec in sections(context):
        for b in sec["blocks"]:
            match = re.search(r"Figur-id: ([\w.]+)\.", b.get("note", ""))
            if b.get("type") == kind and match:
                ids.append(match.group(1))
    return ids


def test_every_chart_and_table_of_the_publication_is_in_the_report(base):
    ctx = make_context(base, charts=True)
    charts = _figure_ids(ctx, "figure")
    assert not [f for f in PUBLICATION_CHARTS if f not in charts]
    assert not [f for f in PUBLICATION_TABLES if f not in _figure_ids(ctx, "table")]
    for sec in sections(ctx):
        for b in sec["blocks"]:
            if b.get("type") == "figure":
                assert b["svg"].lstrip().startswith(("<?xml", "<svg")) and b["alt"].strip()


def test_figure_index_lists_every_registered_figure_with_its_uncertainty(base, base_context):
    rows = [r for b in section(base_context, "figuroversigt")["blocks"]
            for r in b["table"]["rows"]]
    assert sorted(r[1] for r in rows) == sorted(base.project.registry)
    row = next(r for r in rows if r[1] == "kap2.laering_arbejdssted")
    assert row[2] == "medarbejdere, undtagen anden arbejdsplads"
    rows_of = base.figures[(base.figures["figure"] == "kap2.laering_arbejdssted")
                           & (base.figures["group"] == "alle")]
    n = int(rows_of["base"].iloc[0])
    assert 1_000 < n < 1_404   # employees who named their workplace, not those elsewhere
    assert row[3] == "andel fordelt på arbejdssted" and row[4] == f"{n:,}".replace(",", ".")
    assert re.fullmatch(r"±\d+,\d pct\.point", row[5].replace("\u00a0", " "))


def test_every_claim_is_in_the_method_table_with_test_p_q_and_outcome(base, base_context):
    table = block(base_context, "metode", title="Publikationens udsagn og testen af dem")["table"]
    assert table["columns"] == ["Udsagn i publikationen", "Test", "Antal svar", "p",
                                "Korrigeret p", "I data"]
    assert len(table["rows"]) == len(base.project.published(2002).claims)
    outcomes = {r[-1] for r in table["rows"]}
    assert outcomes <= {"bekræftet", "ikke bekræftet", "modsagt (det modsatte)", "ikke modsagt",
                        "modsagt", "kan ikke testes"}
    assert "holder" not in outcomes


def test_text_is_clean_danish_without_template_debris(base_context):
    problems = []
    for sec in sections(base_context):
        for string in texts(sec) + [b.get("title", "") for b in sec["blocks"]]:
            for pattern in (r"\s[,.;:)]", r"\(\s", r"\bNone\b", r"{{|}}|{%|%}", r"\s{2,}",
                            r"\bnan\b", r"\.\.(?!\.)", r"\b(i|på) (i|på) ", r"[a-zæøå)]\.[A-ZÆØÅ]",
                            r"\(\s*\(", r"\)\s*\(", "\ue000|\ue001|\ue002", r"\b(\w+) \1\b"):
                if re.search(pattern, string):
                    problems.append(f"{sec['id']}: {pattern!r} in {string[:160]!r}")
    assert not problems, "\n".join(problems)


def test_numbers_keep_their_no_break_spaces(base_context):
    body = "\n".join(flat(p).replace(" ", " ") for s in sections(base_context)
                     for p in [*s.get("intro", [])])
    raw = []
    for sec in sections(base_context):
        for b in sec["blocks"]:
            for p in b.get("paragraphs", []) + b.get("items", []):
                raw.append("".join(seg["text"] for seg in p) if isinstance(p, list) else p)
    assert not [r for r in raw if re.search(r"\d %|\d procentpoint|\d år\b", r)], body[:0]


def test_ord_phrases_cover_every_workplace_and_area():
    words = yaml.safe_load((CHAPTERS_DIR / "_ord.yaml").read_text(encoding="utf-8"))
    codebook = Project().codebook
    for form in ("sted_i", "sted_ansatte", "sted_navn"):
        assert set(words[form]) == set(codebook["arbejdssted"].keys), form
    assert set(words["omraade_i"]) == set(codebook["omraade"].keys)


def test_chapter_files_are_sections_of_known_kinds():
    kinds = {}
    for path in sorted(CHAPTERS_DIR.glob("[!_]*.md")):
        src = read_source(path)
        kinds[src.meta["id"]] = src.kind
    assert kinds == {"indledning": "introduction", "udvikling": "chapter", "kapitel-1": "chapter",
                     "kapitel-2": "chapter", "kapitel-3": "chapter", "kapitel-4": "chapter",
                     "kapitel-5": "chapter", "metode": "appendix", "figuroversigt": "appendix",
                     # the municipality's own chapter and appendix (unit: kommune)
                     "kommunen": "chapter", "om-kommunetallene": "appendix"}


OTHER_WAVES = [year for year in available_waves() if year != 2002]


@pytest.mark.parametrize("year", OTHER_WAVES)
def test_every_other_wave_gets_the_whole_report(base, year):
    """A wave without published claims of its own is tested against the claims of the year it
    follows, so the same sentences are decided on its data."""
    build = Build.load(base.project, year)
    ctx = make_context(build)
    since = ["udvikling"] if build.wave.meta.get("predecessor") else []
    assert [s["id"] for s in sections(ctx)] == ["indledning", *since, "kapitel-1", "kapitel-2",
                                                "kapitel-3", "kapitel-4", "kapitel-5",
                                                "metode", "figuroversigt"]
    table = block(ctx, "metode", title="Publikationens udsagn og testen af dem")["table"]
    assert len(table["rows"]) == len(claims_for(build))
    assert "Hvor publikationen fra 2002 modsiger sig selv" not in [
        b.get("heading") for b in section(ctx, "metode")["blocks"]]
    assert unsupported(ctx, base.project) == []


def test_year_over_year_marks_only_the_significant_changes(base, base_context):
    """2005 follows 2002: tables show the 2002 value in parentheses, with an arrow only where
    the change is significant; the development section lists the documented changes."""
    assert "udvikling" not in [s["id"] for s in sections(base_context)]
    ctx = make_context(Build.load(base.project, 2005))
    (items,) = [b for b in section(ctx, "udvikling")["blocks"] if b["type"] == "list"]
    assert any(flat(item).startswith("Tilfredshed med redskaber") for item in items["items"])
    tables = [b for s in sections(ctx) for b in s["blocks"] if "table" in b]
    cells = [c for t in tables for row in t["table"]["rows"] for c in row[1:]]
    marked = [c for c in cells if c.endswith("▲)") or c.endswith("▼)")]
    unmarked = [c for c in cells if c.endswith(")") and c not in marked]
    assert unmarked                   # earlier values beside the numbers in every table
    assert len(marked) <= len(cells) // 20   # arrows are rare: only the documented changes
