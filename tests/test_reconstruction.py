"""The 2002 reconstruction end to end: it rebuilds byte for byte, it reproduces the publication,
and real data in any supported format gives the same figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from lpj_report.cli import main
from lpj_report.generate import generate
from lpj_report.pipeline import Build, Project
from lpj_report.verify import verify
from lpj_report.wave import load_wave
from lpj_report.write import write_responses

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def project() -> Project:
    return Project()


@pytest.fixture(scope="module")
def build(project) -> Build:
    return Build.load(project, 2002)


def test_generator_rebuilds_the_committed_data_byte_for_byte(project, tmp_path):
    wave = load_wave(2002)
    result = generate(project.codebook, project.figures, project.populations,
                      project.published(2002), wave.meta, seed=int(wave.meta.get("seed", 2002)))
    assert result.report.violated() == {}
    out = write_responses(result.responses, tmp_path / "responses.csv", codebook=project.codebook)
    assert out.read_bytes() == wave.responses_path.read_bytes()


def test_reconstruction_has_the_published_respondents(build):
    roles = build.data["rolle"].value_counts()
    assert len(build.data) == 1680
    assert (roles["medarbejder"], roles["tillidsrepraesentant"], roles["leder"]) == (1404, 156, 120)
    assert build.data["kommune"].nunique() == 12


def test_verify_reproduces_at_least_97_percent_and_explains_the_rest(project, build):
    published = project.published(2002)
    result = verify(published, build.figures, build.findings, project.codebook,
                    project.registry, project.audit_path(2002))
    assert len(result.numbers) >= 260
    assert result.reproduced >= 0.97 * len(result.numbers)
    assert result.unexplained == []
    assert len(result.claims) >= 40
    # the claims that do not hold are the ones the audit explains: the krav box (A-krav) and
    # the three "alike" claims the publication's own numbers contradict (A-ens)
    failing = {c.id: c.audit for c, r, _ in result.claims if r.verdict != c.expect}
    assert set(failing.values()) <= {"A-krav", "A-ens"}
    assert result.claims_holding >= len(result.claims) - 4
    # the learning pie of the box "Et mål for oplevet læring", printed with one decimal
    rows = build.figures.set_index(["figure", "group", "category"])
    lav = rows.loc[("kap2.laering", "alle", "lav")]
    assert round(100 * lav["numerator"] / lav["base"], 1) == 21.4


def test_lpj_verify_prints_the_summary_line_and_exits_zero(capsys):
    assert main(["verify", "--wave", "2002"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("reproduced: ") and "published numbers; claims holding:" in last


@pytest.mark.parametrize(("suffix", "dialect"), [(".sav", None), (".csv", "excel-da"),
                                                 (".xlsx", None), (".parquet", None)])
def test_other_formats_give_identical_figures(project, build, tmp_path, suffix, dialect):
    path = write_responses(build.data, tmp_path / f"svar{suffix}", dialect=dialect,
                           codebook=project.codebook)
    if dialect == "excel-da":
        raw = path.read_bytes()
        assert b";" in raw.splitlines()[0]
        raw.decode("cp1252")
    other = Build.load(project, 2002, path)
    pd.testing.assert_frame_equal(other.figures, build.figures)


def test_a_bad_file_gets_a_clear_message_and_nothing_is_written(tmp_path):
    bad = tmp_path / "svar.csv"
    lines = (ROOT / "data/waves/2002/responses.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[5].split(",")
    row[header.index("koen")] = "3"
    bad.write_text("\n".join([lines[0], *lines[1:5], ",".join(row), *lines[6:]]) + "\n",
                   encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "lpj_report.cli", "figures", "--wave", "2002",
                           "--responses", str(bad), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "svar.csv, line 6, column koen: value 3" in proc.stderr
    assert "1 Kvinde, 2 Mand" in proc.stderr
    assert not out.exists()


def test_annual_report_withholds_numbers_on_too_few_respondents(tmp_path):
    """Disclosure control applies to the annual report too: with a high minimum base, small
    groups are withheld in figures.csv and marked (and explained) in the report."""
    from lpj_report import suppression
    from lpj_report.content import SUPPRESSED

    assert suppression.load_config().mark == SUPPRESSED
    out = tmp_path / "rep"
    assert main(["build", "--wave", "2002", "--out", str(out), "--formats", "html",
                 "--min-base", "10"]) == 0
    rows = pd.read_csv(out / "figures.csv")
    hidden = rows[rows["suppressed"]]
    assert len(hidden) and hidden["value"].isna().all() and hidden["numerator"].isna().all()
    small = rows[(rows["base"] > 0) & (rows["base"] < 10)]
    assert small.empty    # every shown number rests on at least the minimum
    html = (out / "laering-paa-jobbet.html").read_text(encoding="utf-8")
    assert f"{SUPPRESSED}: tallet vises ikke" in html
