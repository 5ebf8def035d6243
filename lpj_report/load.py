"""Read respondent data files into one raw table of codes, and turn it into the typed table.

Supported files (chosen by suffix): ``.csv`` (UTF-8 with commas, or the Danish Excel export:
semicolons, Windows-1252, decimal comma — detected automatically), ``.xlsx`` (first sheet),
``.sav`` (SPSS; codes are read, user-missing codes become blank) and ``.parquet``.

The **raw table** has one ``object`` column per file column (names stripped and lower-cased)
whose cells are ``None`` (blank), ``int``, ``float`` or ``str`` (text that is not a number, kept
for the error report). Its index is the row number the user sees (CSV line with the header as
line 1, Excel row, SPSS case, Parquet row from 1); ``raw.attrs`` holds ``source`` (file name)
and ``row_kind`` (``line``, ``row``, ``case``). :func:`typed_table` makes the contract table of
``docs/design.md``. Writers live in :mod:`lpj_report.write` and are re-exported here.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from lpj_report.cli_errors import DataError, Problem
from lpj_report.codebook import Codebook
from lpj_report.write import raw_codes, write_responses

__all__ = ["SUFFIXES", "DataError", "parse_cell", "raw_codes", "read_responses", "typed_table",
           "write_responses"]

SUFFIXES = (".csv", ".xlsx", ".sav", ".parquet")
DELIMITERS = (";", ",", "\t")
_INT = re.compile(r"[+-]?\d+")
_DECIMAL_COMMA = re.compile(r"[+-]?(\d+,\d*|\d*,\d+)([eE][+-]?\d+)?")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_HINTS = {
    ".xls": "save it as an Excel workbook (.xlsx) or as CSV",
    ".zsav": "save it as an uncompressed SPSS .sav file",
    ".txt": "rename it to .csv if it is comma- or semicolon-separated text",
    ".tsv": "rename it to .csv (tab-separated text is understood)",
}


def parse_cell(value: object) -> int | float | str | None:
    """One cell as a code: ``None`` (blank), ``int``, ``float`` or the stripped text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        if math.isnan(value):
            return None
        return int(value) if value.is_integer() else value
    return _parse_text(str(value))


@lru_cache(maxsize=4096)
def _parse_text(value: str) -> int | float | str | None:
    """Text from a file → blank, number (decimal point or comma) or the stripped text."""
    text = value.strip()
    if not text:
        return None
    if _INT.fullmatch(text):
        return int(text)
    number_text = text.replace(",", ".") if _DECIMAL_COMMA.fullmatch(text) else text
    try:
        number = float(number_text)
    except ValueError:
        return text
    if not math.isfinite(number) or number_text.strip("+-").lower().startswith(("inf", "nan")):
        return text
    return int(number) if number.is_integer() else number


def read_responses(path: str | Path) -> pd.DataFrame:
    """Read a responses file into the raw table (see the module docstring).

    Raises :class:`DataError` for a missing, unsupported, empty, header-only or unreadable file,
    for duplicate column names and for CSV lines with the wrong number of values.
    """
    path = Path(path)
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        hint = _HINTS.get(suffix, "")
        raise DataError.single(
            name,
            f"unsupported file type {suffix or '(no suffix)'!r}; expected one of "
            f"{', '.join(SUFFIXES)}" + (f" ({hint})" if hint else ""),
        )
    if not path.exists():
        raise DataError.single(name, f"file not found: {path}")
    if not path.is_file():
        raise DataError.single(name, f"not a file: {path}")
    if path.stat().st_size == 0:
        raise DataError.single(name, "the file is empty (0 bytes); expected a header and rows")
    reader = {".csv": _read_csv, ".xlsx": _read_xlsx, ".sav": _read_sav,
              ".parquet": _read_parquet}[suffix]
    header, rows, kind, problems = reader(path)
    return _build_raw(name, header, rows, kind, problems)


def _build_raw(name: str, header: list, rows: list[tuple[int, list]], kind: str,
               row_problems: list[Problem]) -> pd.DataFrame:
    """Check the header, then make the raw table with user row numbers as index."""
    problems: list[Problem] = []
    names = [str(h).strip().lower() if h is not None else "" for h in header]
    keep = []
    for pos, col in enumerate(names):
        has_data = any(pos < len(cells) and cells[pos] is not None for _, cells in rows)
        if not col:
            if has_data:
                problems.append(Problem(name, f"column {pos + 1} has values but no name in the "
                                              "header; expected a codebook column name"))
            continue
        keep.append(pos)
    seen: dict[str, list[int]] = {}
    for pos in keep:
        seen.setdefault(names[pos], []).append(pos + 1)
    for col, positions in seen.items():
        if len(positions) > 1:
            where = ", ".join(str(p) for p in positions)
            problems.append(Problem(name, f"column name {col!r} appears {len(positions)} times "
                                          f"(columns {where}); expected each column once"))
    if not keep:
        problems.append(Problem(name, "no column names found; expected a header row"))
    if problems or row_problems:
        raise DataError(problems + row_problems)
    if not rows:
        raise DataError.single(name, "the file has a header but no data rows")
    data = {names[p]: [cells[p] if p < len(cells) else None for _, cells in rows] for p in keep}
    raw = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in data.items()})
    raw.index = pd.Index([n for n, _ in rows], name=kind)
    raw.attrs.update(source=name, row_kind=kind)
    return raw


def _decode(data: bytes, name: str) -> str:
    """Bytes → text: UTF-16 with BOM, else UTF-8 (BOM allowed), else Windows-1252."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    if data.startswith(b"PK\x03\x04"):
        raise DataError.single(name, "this looks like an Excel workbook saved with the .csv "
                                     "suffix; expected text (rename it to .xlsx)")
    if data.startswith(b"\x1f\x8b"):
        raise DataError.single(name, "this is a compressed (gzip) file; expected plain text "
                                     "(unpack it first)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as err:
            line = data.count(b"\n", 0, err.start) + 1
            raise DataError.single(
                name, f"line {line}: cannot decode byte 0x{data[err.start]:02x}; expected text in "
                      "UTF-8 or Windows-1252 (cp1252) — save it again as 'CSV UTF-8'") from None
    bad = _CONTROL.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise DataError.single(
            name, f"line {line}: binary data (control character {bad.group()!r}); expected "
                  "comma- or semicolon-separated text — is it UTF-16 without a BOM, or not a CSV?")
    return text


def _read_csv(path: Path):
    """CSV as (header, [(line, cells)], 'line'); delimiter and encoding are detected."""
    name = path.name
    text = _decode(path.read_bytes(), name)
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    if not first:
        raise DataError.single(name, "the file is empty (only blank lines); expected a header")
    delimiter = max(DELIMITERS, key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list]] = []
    problems: list[Problem] = []
    line_end = 0
    try:
        for record in reader:
            line, line_end = line_end + 1, reader.line_num
            cells = [parse_cell(c) for c in record]
            if header is None:
                if any(c is not None for c in cells):
                    header = record
                continue
            if all(c is None for c in cells):
                continue
            extra = any(c is not None for c in cells[len(header):])
            if extra or len(cells) < len(header):
                problems.append(Problem(name, f"has {len(cells)} values; expected {len(header)}, "
                                              "one per header column", line, "line"))
            rows.append((line, cells))
    except csv.Error as err:
        raise DataError.single(name, f"line {reader.line_num}: unreadable CSV ({err})") from None
    return header or [], rows, "line", problems


def _read_xlsx(path: Path):
    """First worksheet as (header, [(excel_row, cells)], 'row'); blank rows are skipped."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, data_only=True)
    except Exception as err:  # zip, XML and openpyxl errors all mean unreadable
        raise DataError.single(path.name, f"cannot open as an Excel workbook (.xlsx): "
                                          f"{type(err).__name__}: {err}") from None
    try:
        sheet = workbook.worksheets[0]
        header, rows = None, []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [parse_cell(v) for v in values]
            if all(c is None for c in cells):
                continue
            if header is None:
                header = list(values)
            else:
                rows.append((number, cells))
    finally:
        workbook.close()
    if header is None:
        raise DataError.single(path.name, "the first worksheet is empty; expected a header row")
    return header, rows, "row", []


def _read_sav(path: Path):
    """SPSS codes (value labels not applied; user-missing codes → blank), one row per case."""
    import pyreadstat

    try:
        frame, _meta = pyreadstat.read_sav(path, apply_value_formats=False, user_missing=False)
    except Exception as err:  # pyreadstat raises several unrelated types
        raise DataError.single(path.name, f"cannot read as an SPSS .sav file: "
                                          f"{type(err).__name__}: {err}") from None
    return _frame_rows(frame, "case")


def _read_parquet(path: Path):
    """Parquet columns as they are; rows counted from 1."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as err:  # arrow raises OSError, ArrowInvalid, ...
        raise DataError.single(path.name, f"cannot read as a Parquet file: "
                                          f"{type(err).__name__}: {err}") from None
    names = table.schema.names
    columns = [table.column(i).to_pylist() for i in range(len(names))]
    rows = [(i + 1, [parse_cell(col[i]) for col in columns]) for i in range(table.num_rows)]
    return names, rows, "row", []


def _frame_rows(frame: pd.DataFrame, kind: str):
    columns = [frame.iloc[:, i].tolist() for i in range(frame.shape[1])]
    rows = [(i + 1, [parse_cell(col[i]) for col in columns]) for i in range(len(frame))]
    return list(frame.columns), rows, kind, []


def typed_table(raw: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """The contract table: single → ordered categorical of keys, multi → Int8, number → Float64.

    Columns come in codebook order (:attr:`Codebook.data_columns`); the index is 0..n-1.
    ``raw`` must have passed :func:`lpj_report.validate.validate`; a value that is not a code
    raises ``ValueError``.
    """
    out = {}
    for var in codebook.questions:
        for col in var.columns:
            cells = raw[col].tolist() if col in raw.columns else [None] * len(raw)
            if var.kind == "single":
                lookup = {c.code: c.key for c in var.codes}
                bad = [v for v in cells if v is not None and v not in lookup]
                if bad:
                    raise ValueError(f"{col}: {bad[0]!r} is not a code (validate first)")
                keys = [None if v is None else lookup[v] for v in cells]
                out[col] = pd.Categorical(keys, categories=var.keys, ordered=True)
            elif var.kind == "multi":
                out[col] = pd.array(cells, dtype="Int8")
            else:
                out[col] = pd.array([None if v is None else float(v) for v in cells],
                                    dtype="Float64")
    return pd.DataFrame(out, index=pd.RangeIndex(len(raw)))
