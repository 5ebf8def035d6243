"""The pandera schema, the problem report and the guard the CLI runs under."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pandera.pandas as pa
import pytest

from lpj_report.cli_errors import DataError, Problem, run_guarded
from lpj_report.load import write_responses
from lpj_report.validate import build_schema, problems_from, read_and_validate, validate


def _problems(raw, codebook) -> list[Problem]:
    raw = raw.copy()
    raw.index = range(2, len(raw) + 2)
    raw.attrs.update(source="t.csv", row_kind="line")
    with pytest.raises(DataError) as err:
        validate(raw, codebook)
    return err.value.problems


def test_valid_fixture_passes(any_codebook, helpers):
    for seed in range(5):
        validate(helpers.make_valid_raw(any_codebook, seed=seed), any_codebook)


def test_schema_is_declarative_and_lazy(test_codebook, helpers):
    schema = build_schema(test_codebook)
    assert isinstance(schema, pa.DataFrameSchema) and schema.strict
    assert list(schema.columns) == test_codebook.data_columns
    raw = helpers.make_valid_raw(test_codebook)
    raw.at[0, "koen"] = 9
    raw.at[1, "alder"] = 200
    with pytest.raises(pa.errors.SchemaErrors) as err:
        schema.validate(raw, lazy=True)
    found = problems_from(err.value.failure_cases, raw, test_codebook)
    assert [(p.row, p.column, p.value) for p in found] == [(0, "koen", "9"), (1, "alder", "200")]


def test_every_rule(test_codebook, helpers):
    raw = helpers.make_valid_raw(test_codebook)
    leader = raw.index[raw["rolle"] == 3][0]
    raw.at[0, "respondent"] = 12.5
    raw.at[1, "tr_opgaver_2"] = 1             # tr question answered by a medarbejder
    raw.at[leader, "rolle"] = None
    raw.at[2, "fremmer_laering_3"] = "x"
    found = {(p.row, p.column): p for p in _problems(raw, test_codebook)}
    assert found[(2, "respondent")].expected == "a whole number"
    assert "only Tillidsrepræsentant are asked" in found[(3, "tr_opgaver_2")].expected
    assert found[(leader + 2, "rolle")].value == "blank"
    assert found[(4, "fremmer_laering_3")].expected == "1 (ticked), 0 (not ticked) or blank"
    assert len(found) == 4


def test_blank_role_skips_asked_rule(test_codebook, helpers):
    raw = helpers.make_valid_raw(test_codebook)
    raw.at[0, "rolle"] = 7
    raw.at[0, "leder_udvikling"] = 1
    problems = _problems(raw, test_codebook)
    assert [(p.column, p.value) for p in problems] == [("rolle", "7")]


def test_no_limit_without_max_choices(test_codebook, helpers):
    raw = helpers.make_valid_raw(test_codebook)
    tr = raw.index[raw["rolle"] == 2][0]
    for col in test_codebook["tr_opgaver"].columns:
        raw.at[tr, col] = 1
    validate(raw, test_codebook)


def test_real_codebook_rules(codebook, helpers):
    raw = helpers.make_valid_raw(codebook)
    raw.at[0, "koen"] = 3
    raw.at[1, "respondent"] = raw.at[0, "respondent"]
    problems = _problems(raw, codebook)
    assert any(p.column == "koen" and "1 Kvinde, 2 Mand" in p.expected for p in problems)
    assert sum(p.column == "respondent" for p in problems) == 2


def test_report_is_capped_but_keeps_every_problem(test_codebook, helpers):
    raw = helpers.make_valid_raw(test_codebook, per_role=20)
    raw["koen"] = 9
    err = DataError(_problems(raw, test_codebook))
    assert len(err.problems) == 60
    lines = err.report().splitlines()
    assert len(lines) == 1 + 50 + 1
    assert lines[0].startswith("t.csv: 60 problems") and lines[-1] == "  … and 10 more"
    assert "line 61, column koen: value 9" in err.report(limit=100)


def test_read_and_validate_writes_nothing(test_codebook, helpers, tmp_path):
    good = write_responses(helpers.make_valid_raw(test_codebook), tmp_path / "good.csv",
                           codebook=test_codebook)
    bad = helpers.BAD_FILES_DIR / "several_bad.csv"
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    bad_dir = {p: p.stat().st_mtime_ns for p in helpers.BAD_FILES_DIR.rglob("*")}
    typed = read_and_validate(good, test_codebook)
    with pytest.raises(DataError):
        read_and_validate(bad, test_codebook)
    assert isinstance(typed, pd.DataFrame) and len(typed) == 9
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before
    assert {p: p.stat().st_mtime_ns for p in helpers.BAD_FILES_DIR.rglob("*")} == bad_dir


def test_run_guarded_reports_data_errors(capsys, tmp_path):
    def fails():
        raise DataError([Problem("svar.csv", "one of 1 Kvinde, 2 Mand", 4, "line", "koen", "3")])

    assert run_guarded(fails) == 2
    err = capsys.readouterr().err
    assert "svar.csv, line 4, column koen: value 3 — expected one of 1 Kvinde, 2 Mand" in err
    assert "Traceback" not in err


def test_run_guarded_file_errors_and_success(capsys, tmp_path):
    def missing():
        open(tmp_path / "nope.csv")  # noqa: SIM115 — the error is the point

    assert run_guarded(missing) == 2
    assert "nope.csv" in capsys.readouterr().err
    assert run_guarded(lambda: None) == 0
    assert run_guarded(lambda x: x, 3) == 3


@pytest.mark.parametrize("name", ["several_bad.csv", "empty.csv", "bad_code.sav"])
def test_cli_like_call_exits_2_without_traceback(name, helpers):
    result = subprocess.run(
        [sys.executable, "-m", "lpj_report.validate", "--codebook",
         str(helpers.TEST_CODEBOOK_DIR), str(helpers.BAD_FILES_DIR / name)],
        capture_output=True, text=True, encoding="utf-8", check=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"{name}: ") and result.stdout == ""


def test_cli_like_call_on_good_file(helpers, test_codebook, tmp_path):
    path = write_responses(helpers.make_valid_raw(test_codebook), tmp_path / "ok.xlsx",
                           codebook=test_codebook)
    result = subprocess.run(
        [sys.executable, "-m", "lpj_report.validate", "--codebook",
         str(helpers.TEST_CODEBOOK_DIR), str(path)],
        capture_output=True, text=True, encoding="utf-8", check=False)
    assert result.returncode == 0, result.stderr
    assert ("ok.xlsx: 9 respondents, codebook checks passed, no edit rules to check "
            "(no rules.yaml beside the codebook)") in result.stdout
