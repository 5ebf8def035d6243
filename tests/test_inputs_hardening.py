"""Every input lpj reads gets a clear answer: a result, or a message naming the file, the line
or key, the value and what was expected — exit 2, never a traceback.

The metadata corpus (tests/bad_files/metadata, made by tests/bad_files/make_corpus.py) holds one
broken wave.yaml, codebook file and figures.json per class of problem.
"""

from __future__ import annotations

import json
import re
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from lpj_report import cli
from lpj_report.cli_errors import DataError, InputError
from lpj_report.codebook import load_codebook
from lpj_report.load import parse_cell, parse_code
from lpj_report.readers import read_figures_json, read_yaml
from lpj_report.wave import load_wave

ROOT = Path(__file__).resolve().parent.parent
METADATA = Path(__file__).resolve().parent / "bad_files" / "metadata"
WAVE_2002 = ROOT / "data" / "waves" / "2002"

# file in tests/bad_files/metadata → fragment of the message (after the file name)
WAVE_FILES = {
    "syntax.wave.yaml": "line 4: not valid YAML",
    "python_tag.wave.yaml": "line 1: the tag !!python/object/apply:os.system is not allowed",
    "latin1.wave.yaml": "line 4: cannot decode byte 0xe6; expected UTF-8 text",
    "year_words.wave.yaml": "key year: value 'tyve' — expected a whole number",
    "sent_list.wave.yaml": "key sent: value [1924, 200, 125] — expected a mapping of role",
    "sent_words.wave.yaml": "key sent.medarbejder: value 'mange' — expected a whole number "
                            "above 0",
    "sent_zero.wave.yaml": "key sent.leder: value 0 — expected a whole number above 0",
    "sent_negative.wave.yaml": "key sent.leder: value -5 — expected a whole number above 0",
    "returned_over_sent.wave.yaml": "key returned.leder: value 1200 — expected at most the 125",
    "alias_bomb.wave.yaml": "values once its aliases are expanded",
    "duplicate_key.wave.yaml": "line 6: the key 'status' appears twice (lines 5 and 6)",
    "empty.wave.yaml": "key year: the key 'year' is missing",
    "list.wave.yaml": "key (top level): value [1, 2] — expected a mapping",
}
CODEBOOK_FILES = {
    "syntax.codebook.yaml": "not valid YAML",
    "python_tag.codebook.yaml": "the tag !!python/name:os.system is not allowed",
    "code_words.codebook.yaml": "key koen.codes[1].code: value 'to' — expected a whole number",
    "range_words.codebook.yaml": "key alder.range: value 'atten' — expected [lowest, highest]",
    "codes_not_list.codebook.yaml": "key koen.codes: value 'kvinde, mand' — expected a list",
    "variables_mapping.codebook.yaml": "key variables: value {'name': 'x'} — expected a list",
}
JSON_FILES = {
    "empty.figures.json": "the file is empty",
    "truncated.figures.json": "line 2: not valid JSON",
    "list.figures.json": "expected a JSON object with 'meta', 'figures' and 'rows'",
    "no_rows.figures.json": "key rows: value None — expected a list of rows",
    "base_text.figures.json": "key rows[1].base: value 'fem' — expected a whole number ≥ 0",
    "nan_value.figures.json": "NaN is not a number in JSON",
    "row_list.figures.json": "key rows[0]: value [1, 2] — expected an object",
    "duplicate_key.figures.json": "the key 'base' appears twice",
}


def _message(func, *args) -> str:
    with pytest.raises(InputError) as caught:
        func(*args)
    return str(caught.value)


def test_metadata_corpus_is_complete_and_up_to_date(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_corpus", METADATA.parent / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    made = {p.name: p.read_bytes() for p in module.build_metadata_corpus(tmp_path)}
    assert set(made) == set(WAVE_FILES) | set(CODEBOOK_FILES) | set(JSON_FILES)
    assert {p.name for p in METADATA.iterdir()} == set(made)
    stale = [n for n, data in made.items() if (METADATA / n).read_bytes() != data]
    assert not stale, f"run tests/bad_files/make_corpus.py and commit: {stale}"


@pytest.mark.parametrize("name", sorted(WAVE_FILES))
def test_broken_wave_file(name, tmp_path):
    (tmp_path / "wave.yaml").write_bytes((METADATA / name).read_bytes())
    message = _message(load_wave, 2002, tmp_path)
    assert message.startswith(str(tmp_path / "wave.yaml"))
    assert WAVE_FILES[name] in message


def test_python_tag_is_never_run(tmp_path):
    target = tmp_path / "pwned"
    text = (METADATA / "python_tag.wave.yaml").read_text().replace("/tmp/pwned", str(target))
    (tmp_path / "wave.yaml").write_text(text)
    _message(load_wave, 2002, tmp_path)
    assert not target.exists()


@pytest.mark.parametrize("name", sorted(CODEBOOK_FILES))
def test_broken_codebook_file(name, tmp_path):
    shutil.copy(METADATA / name, tmp_path / "10_broken.yaml")
    message = _message(load_codebook, tmp_path)
    assert "10_broken.yaml" in message and CODEBOOK_FILES[name] in message


@pytest.mark.parametrize("name", sorted(JSON_FILES))
def test_broken_figures_json(name):
    message = _message(read_figures_json, METADATA / name)
    assert message.startswith(str(METADATA / name)) and JSON_FILES[name] in message


def test_figures_json_reader_accepts_a_build(tmp_path):
    assert cli.main(["figures", "--wave", "2002", "--out", str(tmp_path)]) == 0
    doc = read_figures_json(tmp_path / "figures.json")
    assert len(doc["rows"]) > 1000
    # numbers leave `lpj figures` under the report's disclosure control: the leaders of
    # ældreområdet are too few, and no number on fewer answers than the minimum is shown
    from lpj_report.suppression import load_config

    minimum = load_config(None).min_base
    aeldre = [r for r in doc["rows"]
              if r["figure"] == "kap4.leder_tid.omraade" and r["group"] == "aeldre"]
    assert aeldre and all(r["suppressed"] and r["base"] is None and r["value"] is None
                          for r in aeldre)
    shown = [r for r in doc["rows"] if not r.get("suppressed") and r["unit"] != "count"]
    assert not [r for r in shown if r["base"] and 0 < r["base"] < minimum]
    csv = pd.read_csv(tmp_path / "figures.csv")
    assert csv.loc[(csv["figure"] == "kap4.leder_tid.omraade") & (csv["group"] == "aeldre"),
                   "value"].isna().all()


def _wave_folder(tmp_path: Path, text: str, responses: Path | None = None) -> Path:
    folder = tmp_path / "waves" / "2002"
    folder.mkdir(parents=True)
    (folder / "wave.yaml").write_text(text, encoding="utf-8")
    shutil.copy(responses or WAVE_2002 / "responses.csv", folder / "responses.csv")
    return folder.parent


@pytest.mark.parametrize("name", ["sent_words.wave.yaml", "alias_bomb.wave.yaml",
                                  "python_tag.wave.yaml", "latin1.wave.yaml"])
def test_cli_reports_a_broken_wave_file_with_exit_2(name, tmp_path, monkeypatch, capsys):
    waves = tmp_path / "waves" / "2002"
    waves.mkdir(parents=True)
    shutil.copy(METADATA / name, waves / "wave.yaml")
    monkeypatch.setattr("lpj_report.wave.WAVES_DIR", tmp_path / "waves")
    assert cli.main(["figures", "--wave", "2002", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "wave.yaml" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_sent_below_the_respondents_in_the_data(tmp_path, monkeypatch, capsys):
    text = (WAVE_2002 / "wave.yaml").read_text(encoding="utf-8")
    text = text.replace("medarbejder: 1924", "medarbejder: 100").replace(
        "medarbejder: 1404", "medarbejder: 90")
    monkeypatch.setattr("lpj_report.wave.WAVES_DIR", _wave_folder(tmp_path, text))
    assert cli.main(["figures", "--wave", "2002", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "key sent.medarbejder: value 100 — expected at least the 1404 questionnaires " \
           "returned (responses.csv holds 1404 respondents with rolle 1 Medarbejder" in err


def test_role_in_the_data_without_questionnaires_sent(tmp_path, monkeypatch, capsys):
    text = (WAVE_2002 / "wave.yaml").read_text(encoding="utf-8")
    text = text.replace("    leder: 125\n", "").replace("    leder: 120\n", "")
    monkeypatch.setattr("lpj_report.wave.WAVES_DIR", _wave_folder(tmp_path, text))
    assert cli.main(["figures", "--wave", "2002", "--out", str(tmp_path / "out")]) == 2
    assert "the questionnaires sent to leder" in capsys.readouterr().err


def test_diff_of_a_broken_figures_json(tmp_path, capsys):
    good = tmp_path / "good"
    assert cli.main(["figures", "--wave", "2002", "--out", str(good)]) == 0
    for name in ("empty.figures.json", "base_text.figures.json"):
        assert cli.main(["diff", str(METADATA / name), str(good / "figures.json")]) == 2
        err = capsys.readouterr().err
        assert JSON_FILES[name] in err and "Traceback" not in err


@pytest.mark.parametrize(("text", "cell", "code"), [
    ("3_5", "3_5", "3_5"), ("1_000", "1_000", "1_000"), ("1.000", 1, "1.000"),
    ("12,345", 12.345, "12,345"), ("0.125", 0.125, 0.125), ("3,0", 3, 3), ("٣", "٣", "٣"),
])
def test_numbers_parse_strictly(text, cell, code):
    assert parse_cell(text) == cell and type(parse_cell(text)) is type(cell)
    assert parse_code(text) == code and type(parse_code(text)) is type(code)


def test_yaml_reader_limits(tmp_path, monkeypatch):
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * 5000 + "\n")
    monkeypatch.setenv("LPJ_MAX_YAML_KB", "4")
    assert "expected at most 4,0 KiB" in _message(read_yaml, big)
    monkeypatch.setenv("LPJ_MAX_YAML_ALIASES", "2")
    few = tmp_path / "aliases.yaml"
    few.write_text("a: &a [1]\nb: [*a, *a, *a]\n")
    assert "more than 2 aliases" in _message(read_yaml, few)
    assert read_yaml(WAVE_2002 / "wave.yaml")["wave"]["year"] == 2002


# ---------------------------------------------------------------------------- data files


def _capped(args: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m lpj_report.validate ARGS`` with its address space capped at 1 GiB."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    return subprocess.run([sys.executable, "-m", "lpj_report.validate", *args],
                          capture_output=True, text=True, encoding="utf-8", preexec_fn=cap,
                          check=False, env=env)


def test_far_cell_workbook_is_refused_within_1_gib(helpers):
    path = helpers.BAD_FILES_DIR / "far_cell.xlsx"
    done = _capped(["--codebook", str(helpers.TEST_CODEBOOK_DIR), str(path)])
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "uses cells up to XFD1048576" in done.stderr


def test_oversized_file_is_refused_without_reading_it(tmp_path, helpers):
    sparse = tmp_path / "svar.csv"
    with sparse.open("wb") as fh:
        fh.truncate(8 << 30)  # 8 GiB of holes: nothing is stored, reading it would be slow
    done = _capped(["--codebook", str(helpers.TEST_CODEBOOK_DIR), str(sparse)])
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "svar.csv: the file is 8,0 GiB; expected at most 2,0 GiB" in done.stderr
    assert "LPJ_MAX_DATA_MB" in done.stderr


def test_size_limit_is_configurable(tmp_path, test_codebook, monkeypatch):
    from lpj_report.validate import read_and_validate

    path = tmp_path / "svar.csv"
    with path.open("wb") as fh:
        fh.truncate(3 << 20)
    monkeypatch.setenv("LPJ_MAX_DATA_MB", "2")
    with pytest.raises(DataError, match="the file is 3,0 MiB; expected at most 2,0 MiB"):
        read_and_validate(path, test_codebook)
    monkeypatch.setenv("LPJ_MAX_DATA_MB", "4")
    with pytest.raises(DataError, match="binary data"):  # now read, and found not to be text
        read_and_validate(path, test_codebook)


def test_wide_workbook_without_dimension_is_stopped_while_reading(tmp_path, monkeypatch,
                                                                   test_codebook, helpers):
    path = helpers.write_format(helpers.make_valid_raw(test_codebook), tmp_path, "xlsx",
                                test_codebook)
    monkeypatch.setenv("LPJ_MAX_XLSX_COLUMNS", "10")
    from lpj_report.validate import read_and_validate

    with pytest.raises(DataError, match="expected at most 10 columns"):
        read_and_validate(path, test_codebook)


def degenerate_file(kind: str, folder: Path) -> Path:
    """The 2002 responses cut to 20 respondents, to 30 employees, or 8 with every answer
    blank, as a CSV file."""
    data = pd.read_csv(WAVE_2002 / "responses.csv", dtype=str, keep_default_na=False)
    if kind == "twenty":
        data = data.head(20)
    elif kind == "employees_only":
        data = data[data["rolle"] == "1"].head(30)
    else:
        data = data.head(8).copy()
        for col in data.columns:
            if col not in ("respondent", "rolle"):
                data[col] = ""
    path = folder / f"{kind}.csv"
    data.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("kind", ["twenty", "employees_only", "all_blank"])
def test_small_and_degenerate_data_give_figures(kind, tmp_path, capsys):
    path = degenerate_file(kind, tmp_path)
    assert cli.main(["validate", str(path)]) == 0
    assert cli.main(["figures", "--wave", "2002", "--responses", str(path),
                     "--out", str(tmp_path / "out")]) == 0
    rows = json.loads((tmp_path / "out" / "figures.json").read_text(encoding="utf-8"))["rows"]
    empty = [r for r in rows if r["base"] == 0]
    assert empty and all(r["value"] is None for r in empty if r["unit"] != "count")
    assert "Traceback" not in capsys.readouterr().err


def test_validate_checks_every_file_and_sums_up(tmp_path, capsys, helpers, codebook):
    good = helpers.write_format(helpers.make_valid_raw(codebook), tmp_path, "csv", codebook)
    bad = tmp_path / "bad.csv"
    bad.write_text("respondent,rolle\n1,9\n", encoding="utf-8")
    missing = tmp_path / "missing.csv"
    assert cli.main(["validate", str(bad), str(good), str(missing)]) == 2
    out, err = capsys.readouterr()
    assert "svar.csv: 9 respondents, codebook checks passed" in out
    assert "bad.csv: " in err and "missing.csv: " in err and "file not found" in err
    assert err.rstrip().endswith("3 files checked: 1 passed, 2 with problems")


def test_a_check_that_could_not_run_is_reported_not_a_key_error(test_codebook, helpers):
    """pandera reports a wide check that raised (e.g. out of memory) on the schema's name."""
    from lpj_report.validate import problems_from

    raw = helpers.make_valid_raw(test_codebook)
    raw.attrs.update(source="svar.csv", row_kind="line")
    cases = pd.DataFrame({"schema_context": ["DataFrameSchema"], "column": ["responses"],
                          "check": ["max"], "check_number": [0],
                          "failure_case": ["MemoryError()"], "index": [None]})
    (problem,) = problems_from(cases, raw, test_codebook)
    assert problem.file == "svar.csv" and "'max' could not be run: MemoryError()" in str(problem)


def test_an_optional_column_may_be_left_out(test_codebook, helpers, tmp_path):
    import dataclasses

    from lpj_report.validate import read_and_validate

    variables = dict(test_codebook.variables)
    variables["alder"] = dataclasses.replace(variables["alder"], optional=True)
    codebook = dataclasses.replace(test_codebook, variables=variables)
    raw = helpers.make_valid_raw(test_codebook).drop(columns=["alder"])
    path = helpers.write_format(raw, tmp_path, "csv", test_codebook)
    typed = read_and_validate(path, codebook)
    assert typed["alder"].isna().all() and str(typed["alder"].dtype) == "Float64"
    with pytest.raises(DataError, match="column alder: missing from the file"):
        read_and_validate(path, test_codebook)


@pytest.mark.parametrize("kind", ["twenty", "employees_only", "all_blank"])
def test_small_and_degenerate_data_give_a_report_or_a_clear_refusal(kind, tmp_path, capsys):
    """The whole report on a handful of respondents: built, with what it must withhold said
    ("for få svar"), or refused with the chapter source and line whose sentence the data
    cannot support — never a traceback, nothing half-written."""
    path = degenerate_file(kind, tmp_path)
    out = tmp_path / "out"
    code = cli.main(["build", "--wave", "2002", "--responses", str(path), "--formats", "html",
                     "--out", str(out)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    if code == 0:
        page = (out / "laering-paa-jobbet.html").read_text(encoding="utf-8")
        assert "for få svar" in page and "◊" in page
    else:
        assert code == 2 and not out.exists()
        assert re.search(r"error: \d\d_\w+\.md(, line \d+)?: .*too few answers", err), err
