"""The committed corpus of bad files (tests/bad_files): what each one must report.

Each expectation is ``(row, column, value, fragment of "expected")``; ``row``/``column``/``value``
are ``None`` for problems with the whole file or a whole column. The list is exhaustive: a file
must report exactly these problems, in this order.
"""

from __future__ import annotations

import importlib.util

import pytest

from lpj_report.cli_errors import DataError
from lpj_report.validate import read_and_validate

KOEN = "one of 1 Kvinde, 2 Mand"
KOMMUNE = "one of 1 Bramsnæs, 2 Hillerød, 3 Hvalsø, 4 Solrød, 5 Aalborg"
AGE = "a number from 18 to 70 (år)"
ROLES = "1 Medarbejder, 2 Tillidsrepræsentant, 3 Leder"

EXPECTED = {
    "unknown_code.csv": [(4, "koen", "3", KOEN)],
    "age_out_of_range.csv": [(2, "alder", "12", AGE)],
    "number_not_numeric.csv": [(6, "alder", "'fyrre'", AGE)],
    "missing_column.csv": [(None, "koen", None,
                            "missing from the file; expected this column (Køn)")],
    "unknown_column.csv": [(None, "bemaerkning", None, "not in the codebook")],
    "renamed_column.csv": [(None, "aldre", None, "did you mean alder?"),
                           (None, "alder", None, "missing from the file")],
    "duplicate_respondent.csv": [(3, "respondent", "1007", "once (also on line 7)"),
                                 (7, "respondent", "1007", "once (also on line 3)")],
    "multi_value_2.csv": [(3, "fremmer_laering_2", "2", "1 (ticked), 0 (not ticked) or blank")],
    "too_many_ticks.csv": [(2, "fremmer_laering", "4 ticks (fremmer_laering_1, fremmer_laering_2,"
                                                  " fremmer_laering_4, fremmer_laering_5)",
                            "at most 3 ticks")],
    "not_asked.csv": [(4, "leder_udvikling", "1",
                       "blank: only Leder are asked this question, and this respondent is "
                       "Medarbejder")],
    "empty.csv": [(None, None, None, "the file is empty")],
    "header_only.csv": [(None, None, None, "header but no data rows")],
    "excel_da_bad_code.csv": [(5, "kommune", "'Hillerød'",
                               KOMMUNE + " ('Hillerød' is the label of code 2")],
    "undecodable.csv": [(None, None, None, "line 4: cannot decode byte 0x81")],
    "compressed.csv": [(None, None, None, "compressed (gzip)")],
    "utf16_no_bom.csv": [(None, None, None, "line 1: binary data")],
    "bad_code.sav": [(7, "koen", "9", KOEN)],
    "bad_cell.xlsx": [(4, "alder", "'ukendt'", AGE)],
    "several_bad.csv": [
        (3, "koen", "5", KOEN),
        (5, "kommune", "'Aalborg'", KOMMUNE),
        (5, "alder", "99", AGE),
        (6, "aar_kommune", "'-'", "a number from 0 to 50 (år)"),
        (7, "leder_udvikling", "2", "this respondent is Tillidsrepræsentant"),
        (8, "rolle", "blank", f"the respondent's role, one of {ROLES}"),
        (9, "fremmer_laering_1", "1", "only Medarbejder and Tillidsrepræsentant are asked"),
    ],
    "duplicate_columns.csv": [(None, None, None, "'koen' appears 2 times (columns 4, 16)")],
    "not_excel.xlsx": [(None, None, None, "cannot open as an Excel workbook")],
    "not_spss.sav": [(None, None, None, "cannot read as an SPSS .sav file")],
    "ragged_row.csv": [(5, None, None, "has 17 values; expected 15")],
    "responses.xls": [(None, None, None, "unsupported file type '.xls'")],
    "underscore_number.csv": [(3, "alder", "'3_5'", AGE)],
    "thousands_code.csv": [(4, "koen", "'1.000'",
                            KOEN + " ('1.000' has a thousands separator")],
    "formula_no_value.xlsx": [(4, "alder", "=40+1",
                               "a value: the formula in cell E4 has no saved result")],
    "far_cell.xlsx": [(None, None, None, "'svar' uses cells up to XFD1048576")],
}
ROW_KIND = {".csv": "line", ".xlsx": "row", ".sav": "case"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_file_reports_every_problem(name, test_codebook, helpers):
    path = helpers.BAD_FILES_DIR / name
    with pytest.raises(DataError) as caught:
        read_and_validate(path, test_codebook)
    problems = caught.value.problems
    got = [(p.row, p.column, p.value) for p in problems]
    assert got == [e[:3] for e in EXPECTED[name]], caught.value.report()
    report = caught.value.report()
    assert report.startswith(f"{name}: {len(problems)} problem")
    for problem, (row, column, value, expected) in zip(problems, EXPECTED[name], strict=True):
        assert problem.file == name
        assert expected in problem.expected
        line = str(problem)
        assert line in report and expected in line
        if row is not None:
            assert f"{ROW_KIND[path.suffix]} {row}" in line
        if column is not None:
            assert f"column {column}" in line
        if value is not None and value != "blank":
            assert f"value {value}" in line


def test_excel_da_file_really_is_danish_excel(helpers):
    data = (helpers.BAD_FILES_DIR / "excel_da_bad_code.csv").read_bytes()
    assert b"Hiller\xf8d" in data  # cp1252, not UTF-8
    assert data.startswith(b"respondent;rolle;") and b"34,5" in data


def test_corpus_is_complete_and_up_to_date(helpers, tmp_path):
    spec = importlib.util.spec_from_file_location(
        "make_corpus", helpers.BAD_FILES_DIR / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    made = {p.name: p.read_bytes() for p in module.build_corpus(tmp_path)}
    assert set(made) == set(EXPECTED)
    committed = {p.name for p in helpers.BAD_FILES_DIR.iterdir() if p.is_file()} - {
        "make_corpus.py"}
    assert committed == set(EXPECTED)
    stale = [n for n, data in made.items() if (helpers.BAD_FILES_DIR / n).read_bytes() != data]
    assert not stale, f"run tests/bad_files/make_corpus.py and commit: {stale}"
