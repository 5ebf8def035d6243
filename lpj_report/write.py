"""Write respondent tables: CSV (UTF-8 or Danish Excel), XLSX, SPSS .sav and Parquet.

Layer: load (may import base, and its own layer).

Used by the reconstruction generator and the tests. Every writer is deterministic: the same
table gives the same bytes (timestamps inside XLSX and SAV files are fixed).
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from lpj_report.cell_codes import NOT_A_NUMBER, native_number
from lpj_report.codebook import Codebook, default_codebook

DIALECTS = ("utf-8", "excel-da")
FIXED_TIME = datetime(2002, 1, 1)
_ZIP_TIME = (2002, 1, 1, 0, 0, 0)
_SAV_DATE = (92, b"01 Jan 02", b"00:00:00")  # offset of creation date + time in a .sav header
SAV_FILE_LABEL = "Læring på jobbet – svar"
MULTI_VALUE_LABELS = {0: "Ikke valgt", 1: "Valgt"}


def _code(value: object) -> int | float | str | None:
    if isinstance(value, bool | np.bool_):
        return int(value)
    number = native_number(value)
    return str(value) if number is NOT_A_NUMBER else number


def raw_codes(df: pd.DataFrame, codebook: Codebook | None = None) -> pd.DataFrame:
    """A table of codes (``object`` cells: None/int/float/str) from a typed or a raw table.

    Categorical columns (typed single-choice variables) are turned back into their codes.
    Derived variables of the codebook are left out: they are computed, never stored; so is an
    optional variable (``optional: true``) that no respondent has.
    """
    codebook = codebook or default_codebook()
    derived = {v.name for v in codebook.derived}
    optional = {c for v in codebook.questions if v.optional for c in v.columns}
    out = {}
    for col in df.columns:
        if col in derived or (col in optional and df[col].isna().all()):
            continue
        series = df[col]
        if isinstance(series.dtype, pd.CategoricalDtype):
            var = codebook[col]
            lookup = {c.key: c.code for c in var.codes}
            cells = [None if pd.isna(v) else lookup[v] for v in series.tolist()]
        else:
            cells = [_code(v) for v in series.tolist()]
        out[col] = pd.Series(cells, dtype=object)
    return pd.DataFrame(out)


def write_responses(df: pd.DataFrame, path: str | Path, *, dialect: str | None = None,
                    codebook: Codebook | None = None) -> Path:
    """Write ``df`` (typed or raw) to ``path``; the format follows the suffix.

    ``.csv`` is UTF-8 with commas; ``dialect="excel-da"`` writes what Danish Excel saves as
    CSV: semicolons, Windows-1252 and decimal comma. ``.sav`` carries the codebook's variable
    and value labels. Returns the path.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if dialect is not None and (dialect not in DIALECTS or suffix != ".csv"):
        raise ValueError(f"dialect {dialect!r} needs a .csv file and one of {DIALECTS}")
    table = raw_codes(df, codebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        path.write_bytes(_csv_bytes(table, dialect or "utf-8"))
    elif suffix == ".xlsx":
        path.write_bytes(_xlsx_bytes(table))
    elif suffix == ".sav":
        _write_sav(table, path, codebook or default_codebook())
    elif suffix == ".parquet":
        path.write_bytes(_parquet_bytes(table))
    else:
        raise ValueError(f"cannot write {suffix or 'files without a suffix'}: "
                         "use .csv, .xlsx, .sav or .parquet")
    return path


def _text(value: object, decimal_comma: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = repr(value)
        return text.replace(".", ",") if decimal_comma else text
    return str(value)


def _csv_bytes(table: pd.DataFrame, dialect: str) -> bytes:
    danish = dialect == "excel-da"
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";" if danish else ",",
                        lineterminator="\r\n" if danish else "\n")
    writer.writerow(table.columns)
    for row in table.itertuples(index=False):
        writer.writerow([_text(v, danish) for v in row])
    return buffer.getvalue().encode("cp1252" if danish else "utf-8")


def _xlsx_bytes(table: pd.DataFrame) -> bytes:
    import openpyxl
    from openpyxl.writer.excel import ExcelWriter

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "svar"
    sheet.append(list(table.columns))
    for row in table.itertuples(index=False):
        sheet.append(list(row))
    props = workbook.properties
    props.creator = props.lastModifiedBy = "lpj-report"
    props.created = props.modified = FIXED_TIME
    buffer = io.BytesIO()
    ExcelWriter(workbook, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    return _fixed_zip(buffer.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same zip archive with every entry's timestamp fixed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()


def _spss_labels(table: pd.DataFrame, codebook: Codebook):
    """Variable labels, value labels and measurement levels for the columns in the codebook."""
    owner = {col: var for var in codebook.questions for col in var.columns}
    labels, values, measures = {}, {}, {}
    for col in table.columns:
        var = owner.get(col)
        if var is None:
            continue
        if var.kind == "multi":
            option = var.codes[var.columns.index(col)]
            labels[col] = f"{var.label} – {option.label}"
            values[col] = dict(MULTI_VALUE_LABELS)
        else:
            labels[col] = var.label
        if var.kind == "single":
            values[col] = {c.code: c.label for c in var.codes}
        measures[col] = "scale" if var.kind == "number" else "nominal"
    return labels, values, measures


def _write_sav(table: pd.DataFrame, path: Path, codebook: Codebook) -> None:
    import pyreadstat

    frame, formats = {}, {}
    for col in table.columns:
        cells = table[col].tolist()
        if any(isinstance(v, str) for v in cells):
            frame[col] = pd.Series(["" if v is None else str(v) for v in cells], dtype=object)
        else:
            frame[col] = pd.Series([np.nan if v is None else float(v) for v in cells],
                                   dtype="float64")
            whole = all(v is None or isinstance(v, int) for v in cells)
            formats[col] = "F8.0" if whole else "F8.2"
    frame = pd.DataFrame(frame)
    labels, values, measures = _spss_labels(table, codebook)
    values = {c: v for c, v in values.items() if c in formats}  # numeric variables only
    pyreadstat.write_sav(frame, path, file_label=SAV_FILE_LABEL, column_labels=labels,
                         variable_value_labels=values, variable_measure=measures,
                         variable_format=formats)
    data = bytearray(path.read_bytes())
    offset, date, time = _SAV_DATE
    if data[:4] in (b"$FL2", b"$FL3"):
        data[offset:offset + 17] = date + time
    path.write_bytes(bytes(data))


def _parquet_bytes(table: pd.DataFrame) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = {}
    for col in table.columns:
        cells = table[col].tolist()
        if any(isinstance(v, str) for v in cells):
            arrays[col] = pa.array([None if v is None else str(v) for v in cells], pa.string())
        elif any(isinstance(v, float) for v in cells):
            arrays[col] = pa.array([None if v is None else float(v) for v in cells], pa.float64())
        else:
            arrays[col] = pa.array(cells, pa.int64())
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table(arrays), sink)
    return sink.getvalue().to_pybytes()
