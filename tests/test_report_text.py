"""The report's text follows the data.

The chapter texts (templates/chapters/*.yaml) name groups, places and associations from computed
orders and tests, never from the publication. These tests alter the 2002 data in memory — move
learning situations, ticks and answers between respondents — rebuild the report context and check
that the Danish sentences, lists and charts change with the data. They also check the house rules
of the templates: no literal numbers in prose, every chart of the publication present, a figure
index that covers the registry.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from lpj_report.content import figure_view
from lpj_report.derive import LEARNED, LEARNING_ITEMS, apply_derived
from lpj_report.figures import Figure
from lpj_report.pipeline import Build, Project
from lpj_report.report_context import (
    CHAPTERS_DIR,
    build_context,
    claims_for,
    group_names,
    ranked_items,
)
from lpj_report.wave import Wave, available_waves

CREATED = "2002-09-01"
BUILD_DATE = "1. september 2002"


# --------------------------------------------------------------------------- helpers

@pytest.fixture(scope="module")
def base() -> Build:
    return Build.load(Project(), 2002)


@pytest.fixture(scope="module")
def base_context(base) -> dict:
    return make_context(base)


def make_context(build: Build) -> dict:
    return build_context(build, created=CREATED, build_date=BUILD_DATE, code_version="test")


def altered(base: Build, change) -> Build:
    """A new build whose data are the wave's data changed by ``change(data)`` (in place) and
    derived again; its figures are computed afresh."""
    data = base.data.copy()
    change(data)
    return Build(base.project, base.wave, apply_derived(data, base.project.codebook,
                                                        base.wave.meta))


def employees(data: pd.DataFrame, **where) -> pd.Series:
    mask = data["rolle"] == "medarbejder"
    for name, key in where.items():
        mask &= data[name] == key
    return mask


def set_learning(data: pd.DataFrame, mask: pd.Series, answer: str) -> None:
    for item in LEARNING_ITEMS:
        data.loc[mask, item] = answer


def sections(context: dict) -> list[dict]:
    return [context["introduction"], *context["chapters"], *context.get("appendices", [])]


def section(context: dict, section_id: str) -> dict:
    return next(s for s in sections(context) if s["id"] == section_id)


def plain(value):
    """Strings with the no-break spaces of ``format`` (``21\u00a0%``) as ordinary spaces."""
    if isinstance(value, str):
        return value.replace("\u00a0", " ")
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def texts(sec: dict) -> list[str]:
    """Every sentence-bearing string of a section (no-break spaces as spaces)."""
    out = [*sec.get("intro", []), *sec.get("key_points", [])]
    for block in sec["blocks"]:
        out += block.get("paragraphs", []) + block.get("items", [])
        if block.get("type") == "highlight":
            out.append(f"{block['value']} {block['text']}")
    return plain(out)


def text(context: dict, section_id: str) -> str:
    return "\n".join(texts(section(context, section_id)))


def block(context: dict, section_id: str, *, title: str | None = None,
          figure: str | None = None) -> dict:
    for b in section(context, section_id)["blocks"]:
        if title is not None and b.get("title") == title:
            return plain(b)
        if figure is not None and b.get("note", "").endswith(f"Figur-id: {figure}."):
            return plain(b)
    raise KeyError(title or figure)


def table_cell(table: dict, row: str, column: str) -> str:
    index = table["columns"].index(column)
    return next(r[index] for r in table["rows"] if r[0] == row)


# --------------------------------------------------------------------------- the data as it is

def test_baseline_names_the_groups_the_data_give(base_context):
    ch2 = text(base_context, "kapitel-2")
    assert "Flest med høj læring er der i fritidsordninger og fritidsklubber, hvor 21 %" in ch2
    # A-top3: the three workplaces with most high learning are those of the data, not of 2002
    assert ("De største andele med høj læring findes i fritidsordninger og fritidsklubber, "
            "i vuggestuer og børnehaver og i hjemmeplejen (21 %, 15 % og 13 %)") in ch2
    assert "at køn og alder ikke hænger sammen med læring" in ch2
    items = block(base_context, "kapitel-3",
                  title="Det fremmer læringen – medarbejdernes svar")["items"]
    assert items[:2] == ["1. Opbakning fra kolleger (40 %)", "2. Udfordrende arbejdsopgaver (37 %)"]


def test_failed_claim_is_worded_from_the_data(base_context):
    """A-krav: the publication's 'too big demands → low learning' does not hold; the text says
    what the data show instead."""
    ch3 = text(base_context, "kapitel-3")
    assert "Man kunne vente, at de, der finder kravene for store, oftere har lav læring." in ch3
    assert "Det viser data ikke: 20 % af dem har lav læring mod 52 %" in ch3
    assert "de har altså sjældnere lav læring" in ch3
    metode = block(base_context, "metode", title="Publikationens udsagn om sammenhænge og "
                   "testen af dem")["table"]
    row = next(r for r in metode["rows"] if r[0].startswith("Medarbejdere, der finder kravene for"))
    assert row[-1] == "holder ikke"


def test_tied_places_share_their_number_and_the_text_says_so(base_context):
    ch3 = text(base_context, "kapitel-3")
    assert ("Hos tillidsrepræsentanterne deler opbakning fra kolleger og udfordrende "
            "arbejdsopgaver førstepladsen med 36 % hver") in ch3
    items = block(base_context, "kapitel-4", title="Lederne: det hæmmer mig i at bidrage til "
                  "medarbejdernes læring")["items"]
    assert items[3:] == ["4. Økonomi (20 %)", "4. Kontrol (20 %)"]


# --------------------------------------------------------------------------- altered data

def test_another_workplace_with_most_high_learning_changes_text_and_chart(base, base_context):
    def dagpleje_learns(data):
        set_learning(data, employees(data, arbejdssted="dagpleje"), LEARNED)

    ctx = make_context(altered(base, dagpleje_learns))
    ch2 = text(ctx, "kapitel-2")
    assert "Flest med høj læring er der i dagplejen, hvor 100 % ligger i den højeste gruppe." in ch2
    assert "flest har høj læring i dagplejen" in ch2
    assert "Flest med høj læring er der i fritidsordninger" not in ch2
    assert "andelen med høj læring er lavest på skolerne (7 %) og højest i dagplejen (100 %)" in (
        text(ctx, "kapitel-5"))
    assert "Rapporten nævner de arbejdssteder, data giver: i dagplejen (100 %)" in text(ctx, "metode")
    before = block(base_context, "kapitel-2", figure="kap2.laering_arbejdssted")
    after = block(ctx, "kapitel-2", figure="kap2.laering_arbejdssted")
    assert after["svg"] != before["svg"]
    assert table_cell(after["table"], "Dagpleje", "Høj (6–8 situationer)") == "100 %"
    assert table_cell(before["table"], "Dagpleje", "Høj (6–8 situationer)") == "6 %"


def test_a_factor_moved_to_first_place_reorders_the_top_five(base, base_context):
    def everyone_wants_courses(data):
        project = base.project
        var = project.codebook["fremmer_laering"]
        column = var.columns[var.keys.index("kurser")]
        answered = data[var.columns].fillna(0).sum(axis=1) > 0
        data.loc[employees(data) & answered, column] = 1

    ctx = make_context(altered(base, everyone_wants_courses))
    items = block(ctx, "kapitel-3", title="Det fremmer læringen – medarbejdernes svar")["items"]
    assert items[:3] == ["1. Kurser og efteruddannelse (100 %)",
                         "2. Opbakning fra kolleger (40 %)",
                         "3. Udfordrende arbejdsopgaver (37 %)"]
    assert ("Oftest valgt er kurser og efteruddannelse (100 %), opbakning fra kolleger (40 %) "
            "og udfordrende arbejdsopgaver (37 %).") in text(ctx, "kapitel-3")
    # the ranked chart puts the new first place at the top
    svg = block(ctx, "kapitel-3", figure="kap3.fremmer.medarbejdere")["svg"]
    old = block(base_context, "kapitel-3", figure="kap3.fremmer.medarbejdere")["svg"]
    assert svg.index("Kurser og efteruddannelse") < svg.index("Opbakning fra kolleger")
    assert old.index("Kurser og efteruddannelse") > old.index("Opbakning fra kolleger")


def test_gender_associated_with_learning_changes_the_wording(base, base_context):
    def men_learn(data):
        set_learning(data, employees(data, koen="mand"), LEARNED)

    ctx = make_context(altered(base, men_learn))
    ch2 = text(ctx, "kapitel-2")
    before = text(base_context, "kapitel-2")
    assert "Der er ingen sikker forskel på, hvor meget mænd og kvinder lærer" in before
    assert "Køn hænger sammen med læringen (χ²-test, p < 0,001): 100 % af mændene har høj læring" in ch2
    assert "Mændene oplever altså oftere end kvinderne at lære meget." in ch2
    assert re.search(r"at (både )?køn (og alder )?hænger sammen med læring", ch2)
    assert "at køn og alder ikke hænger sammen med læring" not in ch2
    metode = block(ctx, "metode", title="Publikationens udsagn om sammenhænge og testen af dem")
    row = next(r for r in metode["table"]["rows"] if r[0].startswith("Køn har ingen betydning"))
    assert row[-1] == "holder ikke"


def test_a_claim_that_comes_to_hold_is_worded_as_holding(base, base_context):
    """A-krav turned round: when those who find the demands too big do learn less, the text
    says so instead of contradicting the publication."""
    def too_big_learns_little(data):
        set_learning(data, employees(data, krav_niveau="for_store"), "slet_ikke")

    ctx = make_context(altered(base, too_big_learns_little))
    ch3 = text(ctx, "kapitel-3")
    assert "De, der finder kravene for store, har oftere lav læring: 100 % af dem mod" in ch3
    assert "Det viser data ikke" not in ch3
    assert "I de data, rapporten bygger på, holder udsagnet dog" in text(ctx, "metode")


def test_fewer_leaders_than_employees_men_flips_the_comparison(base):
    def male_employees(data):
        mask = employees(data)
        data.loc[mask, "koen"] = "mand"

    intro = text(make_context(altered(base, male_employees)), "indledning")
    assert "Blandt lederne er mændene en mindre gruppe" in intro
    assert "De fire områder er altså overvejende kvindearbejdspladser." not in intro


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
    assert view.group_place("kvinde", "dagpleje") == 1
    assert [v.group for v in view.lowest("kvinde")] == ["forvaltning"]
    assert view.cell["skole"]["kvinde"].vs(view.cell["dagpleje"]["kvinde"]) == "same"


def test_ranked_items_number_tied_places_alike():
    view = _view({"alle": 50.0, "skole": 60.2, "dagpleje": 59.8, "forvaltning": 40.0})
    items = ranked_items({"figure": "t.fig", "category": "kvinde", "numbered": True},
                         {"t.fig": view}, {}, "test")
    assert plain(items) == ["1. Skole (60 %)", "1. Dagpleje (60 %)", "3. Forvaltning (40 %)"]


# --------------------------------------------------------------------------- house rules

#: Digits that may stand in the prose of the chapter templates: definitions and references,
#: never results (results come from F, C and W).
ALLOWED_LITERALS = [
    r"[Kk]apitel [1-5]", r"\(0–[23]\)", r"\(0–2 situationer\)", r"\(0–3 situationer\)",
    r"\(3–5 situationer\)", r"\(4–5 situationer\)", r"\(6–8 situationer\)",
    r"[Mm]ere end 15 år", r"2,45 bliver 2,5, og 2,5 bliver 3", r"12,25 og 12,35", r"12,3",
    r"0,05", r"0,10", r"mere end 100", r"til 100\b", r"seks til 15 år", r"16 til 25 år",
    r"mere end 25 år", r"publikationen fra 2002", r"fra 2002",
]


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            if k not in ("figure", "type", "items_from", "categories", "category",
                         "table_categories", "sections", "claims", "when"):
                yield from _strings(v)


def test_chapter_prose_has_no_literal_numbers():
    offenders = []
    for path in sorted(CHAPTERS_DIR.glob("[!_]*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        for string in _strings({k: v for k, v in raw.items() if k not in ("kind", "id")}):
            prose = re.sub(r"{{.*?}}|{%.*?%}", " ", string, flags=re.S)
            for pattern in ALLOWED_LITERALS:
                prose = re.sub(pattern, " ", prose)
            for match in re.finditer(r"\d", prose):
                offenders.append(f"{path.name}: …{prose[max(0, match.start() - 30):match.end() + 30]}…")
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
            match = re.search(r"Figur-id: ([\w.]+)\.$", b.get("note", ""))
            if b.get("type") == kind and match:
                ids.append(match.group(1))
    return ids


def test_every_chart_and_table_of_the_publication_is_in_the_report(base_context):
    charts = _figure_ids(base_context, "figure")
    assert not [f for f in PUBLICATION_CHARTS if f not in charts]
    assert not [f for f in PUBLICATION_TABLES if f not in _figure_ids(base_context, "table")]
    for sec in sections(base_context):
        for b in sec["blocks"]:
            if b.get("type") == "figure":
                assert b["svg"].lstrip().startswith(("<?xml", "<svg")) and b["alt"].strip()


def test_figure_index_lists_every_registered_figure(base, base_context):
    rows = [r for b in section(base_context, "figuroversigt")["blocks"]
            for r in b["table"]["rows"]]
    assert sorted(r[1] for r in rows) == sorted(base.project.registry)
    row = next(r for r in rows if r[1] == "kap2.laering_arbejdssted")
    assert row[2] == "medarbejdere, undtagen anden arbejdsplads"
    fig = base.figures[(base.figures["figure"] == "kap2.laering_arbejdssted")
                       & (base.figures["group"] == "alle")]
    n = int(fig["base"].iloc[0])   # employees at the seven workplaces who answered both
    assert 1300 < n < 1404
    assert row[3] == "andel fordelt på arbejdssted" and row[4] == f"{n:,}".replace(",", ".")


def test_every_claim_is_in_the_method_table(base, base_context):
    table = block(base_context, "metode", title="Publikationens udsagn om sammenhænge og testen "
                  "af dem")["table"]
    assert len(table["rows"]) == len(base.project.published(2002).claims)


def test_text_is_clean_danish_without_template_debris(base_context):
    problems = []
    for sec in sections(base_context):
        for string in texts(sec) + [b.get("title", "") for b in sec["blocks"]]:
            for pattern in (r"\s[,.;:)]", r"\(\s", r"\bNone\b", r"{{|}}|{%|%}", r"\s{2,}",
                            r"\bnan\b", r"\.\.(?!\.)", r"\b(i|på) (i|på) "):
                if re.search(pattern, string):
                    problems.append(f"{sec['id']}: {pattern!r} in {string[:120]!r}")
    assert not problems, "\n".join(problems)


def test_ord_phrases_cover_every_workplace_and_area():
    words = yaml.safe_load((CHAPTERS_DIR / "_ord.yaml").read_text(encoding="utf-8"))
    codebook = Project().codebook
    for form in ("sted_i", "sted_ansatte", "sted_navn"):
        assert set(words[form]) == set(codebook["arbejdssted"].keys), form
    assert set(words["omraade_i"]) == set(codebook["omraade"].keys)


def test_chapter_files_are_sections_of_known_kinds():
    kinds = {}
    for path in sorted(Path(CHAPTERS_DIR).glob("[!_]*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        kinds[raw["id"]] = raw.get("kind", "chapter")
    assert kinds == {"indledning": "introduction", "udvikling": "chapter", "kapitel-1": "chapter",
                     "kapitel-2": "chapter", "kapitel-3": "chapter", "kapitel-4": "chapter",
                     "kapitel-5": "chapter", "metode": "appendix", "figuroversigt": "appendix"}


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
    assert f"Der blev sendt {sent_total(ctx)}" in text(ctx, "indledning")
    metode = block(ctx, "metode", title="Publikationens udsagn om sammenhænge og testen af dem")
    assert len(metode["table"]["rows"]) == len(claims_for(Build.load(base.project, year)))
    assert "Hvor publikationen fra 2002 modsiger sig selv" not in [
        b.get("heading") for b in section(ctx, "metode")["blocks"]]


def sent_total(ctx: dict) -> str:
    """The number of questionnaires sent, as the introduction's table prints it."""
    table = block(ctx, "indledning", title="Udsendte og modtagne spørgeskemaer fordelt på rolle")
    return table["table"]["rows"][-1][1]


def test_year_over_year_marks_only_the_significant_changes(base, base_context):
    """2005 follows 2002: tables show the 2002 value in parentheses, with an arrow only where
    the change is significant; the development section lists the documented changes."""
    assert "udvikling" not in [s["id"] for s in sections(base_context)]
    ctx = make_context(Build.load(base.project, 2005))
    (items,) = [b for b in section(ctx, "udvikling")["blocks"] if b["type"] == "list"]
    assert any(item.startswith("Tilfredshed med redskaber") for item in item_texts(items))
    tables = [b for s in sections(ctx) for b in s["blocks"] if "table" in b]
    cells = [c for t in tables for row in t["table"]["rows"] for c in row[1:]]
    marked = [c for c in cells if c.endswith("▲)") or c.endswith("▼)")]
    plain = [c for c in cells if c.endswith(")") and c not in marked]
    assert plain                      # earlier values beside the numbers in every table
    assert len(marked) <= len(cells) // 20   # arrows are rare: only the documented changes
    assert all(c.count("(") == 1 for c in marked)


def item_texts(list_block: dict) -> list[str]:
    return list(list_block["items"])
