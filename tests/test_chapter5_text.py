"""Chapter 5 (templates/chapters/50_kapitel5.md) words its results from the findings' verdicts.

The 2002 data are altered in memory — learning or task variation shuffled among the employees,
one workplace's answers moved — and the chapter is rendered again: the sentences must follow
the new verdicts, and no sentence of the chapter may state a comparison outside a finding.
"""

from __future__ import annotations

import numpy as np
import pytest

from lpj_report import lineage
from lpj_report.pipeline import Build, Project
from lpj_report.report_context import build_context, words

CHAPTER = "kapitel-5"


@pytest.fixture(scope="module")
def base() -> Build:
    return Build.load(Project(), 2002)


def chapter(build: Build) -> dict:
    """Kapitel 5 of the build's report context without the charts (empty SVGs): the tests read
    the text, which is the same either way, and drawing every chart of each altered build would
    double the time of the module."""
    ctx = build_context(build, created="2002-09-01", build_date="1. september 2002",
                        code_version="test", charts=False)
    return next(s for s in ctx["chapters"] if s["id"] == CHAPTER)


def paragraphs(sec: dict) -> list[list[dict]]:
    out = [*sec["key_points"], *sec["intro"]]
    for block in sec["blocks"]:
        out += block.get("paragraphs", []) + block.get("items", [])
    return out


def text(sec: dict) -> str:
    return "\n".join("".join(s["text"] for s in p) for p in paragraphs(sec)).replace("\u00a0", " ")


def key_points(sec: dict) -> list[str]:
    return ["".join(s["text"] for s in p).replace("\u00a0", " ") for p in sec["key_points"]]


def as_html(sec: dict) -> str:
    """The chapter's running text as the HTML the lineage check reads (one <p> per paragraph,
    finding ids on the spans)."""
    out = []
    for para in paragraphs(sec):
        spans = "".join(f'<span data-finding="{s["findings"]}" data-kind="{s["kind"]}">'
                        f'{s["text"]}</span>' for s in para)
        out.append(f"<p>{spans}</p>")
    return "\n".join(out)


def altered(base: Build, change) -> Build:
    data = base.data.copy()
    change(data)
    return Build(base.project, base.wave, data)


def shuffled(columns: list[str], seed: int = 7):
    """Shuffle ``columns`` together among the employees (keeps every margin, breaks every
    association with the other variables)."""
    def change(data):
        idx = np.flatnonzero((data["rolle"] == "medarbejder").to_numpy())
        perm = np.random.default_rng(seed).permutation(idx)
        for col in columns:
            data.loc[data.index[idx], col] = data[col].to_numpy()[perm]
    return change


def verdict(build: Build, fid: str) -> str:
    return build.findings[fid].verdict


# --------------------------------------------------------------------------- the data as they are


@pytest.fixture(scope="module")
def base_chapter(base) -> dict:
    return chapter(base)


def test_no_comparison_outside_a_finding(base, base_chapter):
    labels = lineage.codebook_labels(base.project.codebook, words(), base.project.figures)
    assert lineage.unsupported(as_html(base_chapter), labels) == []


def test_matthew_effect_is_stated_only_on_its_three_findings(base, base_chapter):
    ids = ["kap2.opgaver_forskellige_laering", "kap2.uddannelse_folkeskole_lav",
           "kap5.uddannelse_variation"]
    assert [verdict(base, i) for i in ids] == ["supported"] * 3
    carrying = [s for p in paragraphs(base_chapter) for s in p
                if "Tallene passer dermed med en Matthæus-effekt" in s["text"]]
    assert carrying and all(set(ids) <= set(s["findings"].split()) for s in carrying)


def test_span_of_high_learning_names_no_workplace_within_noise(base, base_chapter):
    assert verdict(base, "kap2.arbejdssted_hoej_top") == "not_supported"
    point = key_points(base_chapter)[0]
    assert "andelen med høj læring er mellem 6 % og 21 % på de enkelte typer arbejdssteder" in point
    assert "går fra" not in point and "dagplejen" not in point


def test_jobdesign_key_point_names_the_workplace_both_rankings_put_first(base, base_chapter):
    v, s = base.findings["kap2.variation_bund"], base.findings["kap2.samarbejde_alene_top"]
    assert (v.verdict, s.verdict) == ("supported", "supported") and v.top == s.top == ("dagpleje",)
    point = key_points(base_chapter)[2]
    assert "i dagplejen er der både mindst variation i opgaverne og flest, der sjældent" in point


# --------------------------------------------------------------------------- altered data


def test_sure_ends_of_the_span_are_named(base):
    def change(data):
        emp = data["rolle"] == "medarbejder"
        data.loc[emp & (data["arbejdssted"] == "fritidsordning_fritidsklub"), "laering_alt"] = "hoej"
        data.loc[emp & (data["arbejdssted"] == "dagpleje"), "laering_alt"] = "lav"
    build = altered(base, change)
    assert verdict(build, "kap2.arbejdssted_hoej_top") == "supported"
    assert verdict(build, "kap5.arbejdssted_hoej_bund") == "supported"
    point = key_points(chapter(build))[0]
    assert ("andelen med høj læring går fra 0 % i dagplejen til 100 % i fritidsordninger og "
            "fritidsklubber") in point


def test_learning_shuffled_leaves_no_learning_result_standing(base):
    build = altered(base, shuffled(["laering", "laering_alt"]))
    for fid in ("kap2.arbejdssted_laering", "kap2.opgaver_forskellige_laering",
                "kap2.snak_kolleger_laering", "kap2.uddannelse_folkeskole_lav"):
        assert verdict(build, fid) == "not_supported", fid
    sec = chapter(build)
    body = text(sec)
    assert "data ikke viser nogen sikker forskel i læring mellem arbejdsstederne" in key_points(sec)[0]
    assert "mere variation går sammen med mere læring" not in body
    assert "Matthæus" not in body
    labels = lineage.codebook_labels(base.project.codebook, words(), base.project.figures)
    assert lineage.unsupported(as_html(sec), labels) == []


def test_task_variation_shuffled_drops_the_variation_claims(base):
    build = altered(base, shuffled(["opgaver_forskellige"]))
    assert verdict(build, "kap5.uddannelse_variation") == "not_supported"
    assert verdict(build, "kap2.variation_bund") == "not_supported"
    sec = chapter(build)
    assert "passer dermed med en Matthæus-effekt" not in text(sec)
    assert "mindst variation" not in key_points(sec)[2]


def test_another_workplace_working_alone_names_both_workplaces(base):
    def change(data):
        home = (data["rolle"] == "medarbejder") & (data["arbejdssted"] == "hjemmepleje")
        data.loc[home, "samarbejde_kolleger"] = "sjaeldent"
    build = altered(base, change)
    s = build.findings["kap2.samarbejde_alene_top"]
    assert s.verdict == "supported" and s.top == ("hjemmepleje",)
    assert build.findings["kap2.variation_bund"].top == ("dagpleje",)
    point = key_points(chapter(build))[2]
    assert ("mindst variation er der i dagplejen, og flest samarbejder sjældent med kolleger "
            "i hjemmeplejen") in point
