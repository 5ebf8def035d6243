"""Edit rules (data/codebook/rules.yaml): parsed safely, checked on real data files with the row
the user sees, the respondent, the rule and the values; warnings pass, errors refuse."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from lpj_report.cli_errors import DataError
from lpj_report.editrules import RuleError, check, load_rules, parse_comparison, parse_linear
from lpj_report.load import read_responses, write_responses
from lpj_report.validate import read_checked
from lpj_report.wave import Wave, load_responses

ROOT = Path(__file__).resolve().parent.parent
TENURE = ("aar_stilling", "aar_arbejdsplads", "aar_kommune", "alder")


def _consistent(codebook, helpers, seed=0) -> pd.DataFrame:
    """A valid table whose tenure answers all satisfy the chain (then broken on purpose)."""
    raw = helpers.make_valid_raw(codebook, per_role=3, seed=seed, blank_share=0.0)
    for i, idx in enumerate(raw.index):
        for name, value in zip(TENURE, (2 + i % 3, 4 + i % 3, 10 + i, 40 + i), strict=True):
            raw.at[idx, name] = value
    return raw


def _write(raw: pd.DataFrame, path: Path, codebook) -> Path:
    return write_responses(raw, path, codebook=codebook)


@pytest.mark.parametrize("text", [
    "__import__('os').system('echo hi') <= 1",
    "alder * 2 <= 100",
    "alder.real <= 3",
    "max(alder, 3) <= 3",
    "alder <= 'x'",
    "alder if alder else 1 <= 2",
    "[alder] <= 1",
])
def test_only_names_numbers_plus_minus_and_comparisons_are_read(text):
    with pytest.raises(RuleError):
        parse_comparison(text, "rules.yaml: rule X")


def test_a_chain_is_parsed_into_linear_operands():
    operands, ops = parse_comparison("aar_stilling <= aar_kommune <= alder - 15", "t")
    assert ops == ("<=", "<=")
    assert operands[2].coef == (("alder", 1.0),) and operands[2].const == -15
    lin = parse_linear("aar_kommune - alder + 3")
    assert dict(lin.coef) == {"aar_kommune": 1.0, "alder": -1.0} and lin.const == 3
    with pytest.raises(RuleError):
        parse_linear("alder +")


def test_rules_file_names_number_questions_and_says_why(codebook, tmp_path):
    rules = load_rules(codebook)
    ids = {r.id for r in rules}
    assert "T-anciennitet" in ids
    assert "R-filter:aendring_bedre" in ids and "R-rolle:snak_ligestillede" in ids
    assert all(r.why for r in rules)
    (tmp_path / "rules.yaml").write_text(
        "edit_rules:\n  rules:\n    - {id: X, rule: 'koen <= 2', why: because}\n",
        encoding="utf-8")
    with pytest.raises(RuleError, match="koen.*not a number question"):
        load_rules(codebook, tmp_path)
    (tmp_path / "rules.yaml").write_text(
        "edit_rules:\n  rules:\n    - {id: X, rule: 'alder <= 70'}\n", encoding="utf-8")
    with pytest.raises(RuleError, match="why"):
        load_rules(codebook, tmp_path)


def test_each_violation_names_row_respondent_rule_and_values(codebook, helpers, tmp_path):
    raw = _consistent(codebook, helpers)
    path = _write(raw, tmp_path / "svar.csv", codebook)
    table = read_responses(path)
    # line 3: longer in the position than at the workplace
    table.at[3, "aar_stilling"] = 9
    # line 4: at the workplace blank — the chain still compares position with municipality
    table.at[4, "aar_arbejdsplads"] = None
    table.at[4, "aar_stilling"] = 30
    # line 5: employed by the municipality since the age of 10
    table.at[5, "alder"] = 25
    table.at[5, "aar_kommune"] = 15
    # line 6 (a TR): a follow-up answered although the filter question says no
    table.at[6, "tilrettelaeggelse_aendret"] = 2
    table.at[6, "aendring_bedre"] = 1
    # line 9: a list half filled in
    table.at[9, "behov_bedre_2"] = None
    found = check(table, codebook, load_rules(codebook))
    got = [(v.row, v.rule.id) for v in found]
    assert got == [(3, "T-anciennitet"), (4, "T-anciennitet"), (5, "T-anciennitet"),
                   (6, "R-filter:aendring_bedre"), (9, "M-hel:behov_bedre")]
    by_row = {v.row: v for v in found}
    assert dict(by_row[3].values) == {"aar_stilling": "9", "aar_arbejdsplads": "5",
                                      "aar_kommune": "11", "alder": "41"}
    assert dict(by_row[4].values)["aar_arbejdsplads"] == "blank"
    assert by_row[5].respondent == table.at[5, "respondent"]
    assert dict(by_row[6].values)["tilrettelaeggelse_aendret"] == "2 Nej"
    assert dict(by_row[9].values) == {"blank": "behov_bedre_2"}
    text = by_row[3].text("svar.csv", "line")
    assert text.startswith(f"svar.csv, line 3, respondent {table.at[3, 'respondent']}: "
                           "edit rule T-anciennitet (aar_stilling ≤ aar_arbejdsplads")
    assert "aar_stilling = 9, aar_arbejdsplads = 5" in text


def test_consistent_file_has_no_violation(codebook, helpers):
    assert check(_consistent(codebook, helpers, seed=3), codebook, load_rules(codebook)) == []


def _bad_file(codebook, helpers, tmp_path) -> Path:
    raw = _consistent(codebook, helpers)
    raw.at[raw.index[1], "aar_stilling"] = 20
    raw.at[raw.index[4], "alder"] = 20
    return _write(raw, tmp_path / "svar.csv", codebook)


def _lpj(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lpj_report.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, check=False)


def test_lpj_validate_warns_and_passes_with_warning_severity(codebook, helpers, tmp_path):
    path = _bad_file(codebook, helpers, tmp_path)
    proc = _lpj("validate", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "svar.csv: 2 answers break an edit rule (warning" in proc.stderr
    assert "svar.csv, line 3, respondent" in proc.stderr
    assert "aar_stilling = 20, aar_arbejdsplads = 5" in proc.stderr
    assert "2 edit-rule warning(s)" in proc.stdout


def test_lpj_validate_refuses_with_error_severity(codebook, helpers, tmp_path):
    path = _bad_file(codebook, helpers, tmp_path)
    proc = _lpj("validate", str(path), "--edit-rules", "error")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[0] == "svar.csv: 2 problems in the respondent data (nothing was written)"
    assert lines[1].startswith("  svar.csv, line 3: respondent ")
    assert "edit rule T-anciennitet" in lines[1] and "alder = 20" in lines[2]


def test_building_from_data_with_violations_warns(codebook, helpers, tmp_path):
    path = _bad_file(codebook, helpers, tmp_path)
    proc = _lpj("figures", "--wave", "2002", "--responses", str(path), "--out",
                str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    assert "2 answers break an edit rule (warning" in proc.stderr
    assert (tmp_path / "out" / "figures.csv").exists()


def test_a_wave_with_error_severity_refuses_the_data(codebook, helpers, tmp_path):
    path = _bad_file(codebook, helpers, tmp_path)
    meta = {"year": 2002, "responses": str(path), "edit_rules": "error", "sent": {},
            "municipalities": {}}
    with pytest.raises(DataError) as err:
        load_responses(Wave(2002, tmp_path, meta), codebook)
    assert len(err.value.problems) == 2
    assert {p.row for p in err.value.problems} == {3, 6}


def test_generated_keys_can_be_checked_too(codebook):
    """The generator checks its own tables (answers as keys, not codes)."""
    table = pd.DataFrame({"respondent": [1, 2], "rolle": ["medarbejder", "medarbejder"],
                          "tilrettelaeggelse_aendret": ["nej", "ja"],
                          "aendring_bedre": ["bedre", "bedre"]})
    rules = [r for r in load_rules(codebook) if r.id == "R-filter:aendring_bedre"]
    found = check(table, codebook, rules, codes=False)
    assert [(v.respondent, dict(v.values)["tilrettelaeggelse_aendret"]) for v in found] == [
        (1, "Nej")]


def test_read_checked_returns_the_typed_table(codebook, helpers, tmp_path):
    path = _write(_consistent(codebook, helpers), tmp_path / "ok.csv", codebook)
    typed, warnings = read_checked(path, codebook)
    assert warnings == [] and len(typed) == 9
