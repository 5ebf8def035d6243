"""Reading and writing respondent files: formats, encodings, row numbers, typed table."""

from __future__ import annotations

import time

import pandas as pd
import pyreadstat
import pytest

from lpj_report.cli_errors import DataError
from lpj_report.load import parse_cell, read_responses, typed_table, write_responses
from lpj_report.validate import read_and_validate

FORMAT_NAMES = ["csv", "excel-da", "xlsx", "sav", "parquet"]


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_round_trip_gives_identical_typed_table(fmt, any_codebook, helpers, tmp_path):
    raw = helpers.make_valid_raw(any_codebook, per_role=4, seed=7)
    path = helpers.write_format(raw, tmp_path, fmt, any_codebook)
    got = read_and_validate(path, any_codebook)
    pd.testing.assert_frame_equal(got, typed_table(raw, any_codebook))


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_round_trip_from_typed_table(fmt, test_codebook, helpers, tmp_path):
    typed = typed_table(helpers.make_valid_raw(test_codebook, seed=3), test_codebook)
    path = helpers.write_format(typed, tmp_path, fmt, test_codebook)
    pd.testing.assert_frame_equal(read_and_validate(path, test_codebook), typed)


def test_writers_are_deterministic(test_codebook, helpers, tmp_path):
    raw = helpers.make_valid_raw(test_codebook, seed=11)
    first = {f: helpers.write_format(raw, tmp_path / "a", f, test_codebook).read_bytes()
             for f in FORMAT_NAMES}
    time.sleep(1.1)  # timestamps inside xlsx/sav files have one-second resolution
    second = {f: helpers.write_format(raw, tmp_path / "b", f, test_codebook).read_bytes()
              for f in FORMAT_NAMES}
    assert first == second


def test_typed_table_contract(test_codebook, helpers):
    typed = typed_table(helpers.make_valid_raw(test_codebook), test_codebook)
    assert list(typed.columns) == test_codebook.data_columns
    assert isinstance(typed.index, pd.RangeIndex)
    for var in test_codebook.questions:
        for col in var.columns:
            dtype = typed[col].dtype
            if var.kind == "single":
                assert isinstance(dtype, pd.CategoricalDtype) and dtype.ordered
                assert list(dtype.categories) == var.keys
            elif var.kind == "multi":
                assert dtype == "Int8"
            else:
                assert dtype == "Float64"


def test_typed_table_refuses_unvalidated_codes(test_codebook, helpers):
    raw = helpers.make_valid_raw(test_codebook)
    raw.at[0, "koen"] = 7
    with pytest.raises(ValueError, match="koen"):
        typed_table(raw, test_codebook)


def test_excel_da_csv_is_semicolon_cp1252_decimal_comma(test_codebook, helpers, tmp_path):
    raw = helpers.make_valid_raw(test_codebook)
    raw.at[0, "alder"] = 34.5
    raw.at[1, "kommune"] = "Hillerød"  # text survives in cp1252
    data = write_responses(raw, tmp_path / "x.csv", dialect="excel-da").read_bytes()
    assert data.startswith(b"respondent;rolle;") and b"\r\n" in data
    assert b"34,5" in data and "Hillerød".encode("cp1252") in data
    back = read_responses(tmp_path / "x.csv")
    assert back.at[2, "alder"] == 34.5 and back.at[3, "kommune"] == "Hillerød"


def test_csv_variants_bom_crlf_blank_lines_and_case(tmp_path):
    text = "\ufeff Respondent ;KOEN;alder\r\n1;1;34,5\r\n\r\n;;\r\n2;\"2\";40\r\n"
    (tmp_path / "v.csv").write_bytes(text.encode("utf-8"))
    raw = read_responses(tmp_path / "v.csv")
    assert list(raw.columns) == ["respondent", "koen", "alder"]
    assert list(raw.index) == [2, 5]  # header is line 1; blank lines keep their numbers
    assert raw.loc[2].tolist() == [1, 1, 34.5] and raw.loc[5].tolist() == [2, 2, 40]
    assert raw.attrs == {"source": "v.csv", "row_kind": "line"}


def test_line_numbers_count_quoted_newlines(tmp_path):
    text = 'a,b\n1,"two\nlines"\n3,x\n'
    (tmp_path / "q.csv").write_text(text, encoding="utf-8")
    assert list(read_responses(tmp_path / "q.csv").index) == [2, 4]


def test_utf16_with_bom_tab_separated(tmp_path):
    (tmp_path / "u.csv").write_bytes("a\tb\r\n1\tæ\r\n".encode("utf-16"))
    raw = read_responses(tmp_path / "u.csv")
    assert raw.loc[2].tolist() == [1, "æ"]


def test_sav_keeps_codes_and_danish_labels(test_codebook, helpers, tmp_path):
    raw = helpers.make_valid_raw(test_codebook)
    path = write_responses(raw, tmp_path / "s.sav", codebook=test_codebook)
    frame, meta = pyreadstat.read_sav(path)
    assert meta.column_names_to_labels["koen"] == "Køn"
    assert meta.variable_value_labels["kommune"][2] == "Hillerød"
    assert meta.column_names_to_labels["fremmer_laering_4"].endswith("Et tillidsfuldt miljø")
    assert meta.file_label == "Læring på jobbet – svar"
    assert frame["koen"].dropna().isin([1.0, 2.0]).all()  # codes, not labels


def test_sav_user_missing_codes_become_blank(tmp_path):
    frame = pd.DataFrame({"respondent": [1.0, 2.0], "alder": [99.0, 40.0]})
    path = tmp_path / "m.sav"
    pyreadstat.write_sav(frame, path, missing_ranges={"alder": [99]})
    raw = read_responses(path)
    assert raw.attrs["row_kind"] == "case"
    assert raw["alder"].tolist() == [None, 40] and list(raw.index) == [1, 2]


def test_xlsx_text_numbers_blank_rows_and_row_numbers(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Respondent", "koen", None])
    sheet.append([1, "2", None])
    sheet.append([None, None, None])
    sheet.append([2, 1.0, None])
    sheet.append([None, None, None])
    book.save(tmp_path / "x.xlsx")
    raw = read_responses(tmp_path / "x.xlsx")
    assert list(raw.columns) == ["respondent", "koen"]
    assert list(raw.index) == [2, 4]
    assert raw["koen"].tolist() == [2, 1]


@pytest.mark.parametrize(("cell", "expected"), [
    (None, None), ("", None), ("  ", None), (float("nan"), None), (pd.NA, None),
    ("3", 3), (" 3 ", 3), ("3.0", 3), (3.0, 3), ("34,5", 34.5), ("9,5e-7", 9.5e-7), ("34.5", 34.5),
    ("-1", -1), ("1e3", 1000), ("fyrre", "fyrre"), ("nan", "nan"), ("inf", "inf"),
    (True, "TRUE"), ("Hillerød", "Hillerød"), ("1.234,5", "1.234,5"),
])
def test_parse_cell(cell, expected):
    got = parse_cell(cell)
    assert got == expected and type(got) is type(expected)


def test_missing_and_unsupported_files(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_responses(tmp_path / "nope.csv")
    with pytest.raises(DataError, match=r"unsupported file type '\.txt'"):
        read_responses(tmp_path / "svar.txt")
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(DataError, match="not a file"):
        read_responses(tmp_path / "dir.csv")
    (tmp_path / "blank.csv").write_text("\n\n  \n", encoding="utf-8")
    with pytest.raises(DataError, match="only blank lines"):
        read_responses(tmp_path / "blank.csv")


def test_header_only_in_every_format(test_codebook, helpers, tmp_path):
    empty = helpers.make_valid_raw(test_codebook).iloc[:0]
    for fmt in FORMAT_NAMES:
        path = helpers.write_format(empty, tmp_path, fmt, test_codebook)
        with pytest.raises(DataError, match="header but no data rows"):
            read_responses(path)


def test_writer_rejects_unknown_suffix_and_dialect(tmp_path, test_codebook, helpers):
    raw = helpers.make_valid_raw(test_codebook)
    with pytest.raises(ValueError, match="cannot write"):
        write_responses(raw, tmp_path / "x.json")
    with pytest.raises(ValueError, match="dialect"):
        write_responses(raw, tmp_path / "x.xlsx", dialect="excel-da")


def test_parquet_duplicate_column_names(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["koen", "Koen"])
    pq.write_table(table, tmp_path / "d.parquet")
    with pytest.raises(DataError, match="'koen' appears 2 times"):
        read_responses(tmp_path / "d.parquet")
