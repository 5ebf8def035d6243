"""Read respondent data files: into batches of encoded columns, or into one raw table of codes.

Layer: load (may import base, and its own layer).

Supported files (chosen by suffix): ``.csv`` (UTF-8 with commas, or the Danish Excel export:
semicolons, Windows-1252, decimal comma — detected automatically), ``.xlsx`` (first sheet),
``.sav`` (SPSS; codes are read, user-missing codes become blank) and ``.parquet``.

Every reader streams: CSV through Arrow's CSV reader in blocks (:mod:`lpj_report.load_csv`),
Excel in read-only mode row by row, SPSS and Parquet in chunks. :func:`open_source` gives a
:class:`Source` whose batches :class:`lpj_report.columns.Checker` checks and types; memory stays
proportional to the typed table. Files beyond the limits of :mod:`lpj_report.limits` are
refused before they are read.

The **raw table** (:func:`read_responses`) has one ``object`` column per file column (names
stripped and lower-cased) whose cells are ``None`` (blank), ``int``, ``float`` or ``str`` (text
that is not a number, kept for the error report). Its index is the row number the user sees
(CSV line with the header as line 1, Excel row, SPSS case, Parquet row from 1); ``raw.attrs``
holds ``source`` (file name) and ``row_kind`` (``line``, ``row``, ``case``). :func:`typed_table`
makes the contract table of ``docs/design.md`` from it. Writers live in :mod:`lpj_report.write`
and are re-exported here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lpj_report.cell_codes import GROUPED, parse_cell, parse_code  # noqa: F401 (re-exported)
from lpj_report.cli_errors import DataError, Problem
from lpj_report.codebook import Codebook
from lpj_report.columns import Coded, Column, Numeric, coded_from_objects
from lpj_report.limits import limit, size_text
from lpj_report.sources import (  # noqa: F401 (re-exported)
    BATCH_ROWS,
    Source,
    UseCellReader,
    header_names,
    header_problems,
    normalised_names,
    source_from_raw,
    unnamed_problem,
)
from lpj_report.write import raw_codes, write_responses

__all__ = ["SUFFIXES", "DataError", "Source", "open_source", "parse_cell", "parse_code",
           "raw_codes", "read_responses", "typed_table", "write_responses"]

SUFFIXES = (".csv", ".xlsx", ".sav", ".parquet")
_HINTS = {
    ".xls": "save it as an Excel workbook (.xlsx) or as CSV",
    ".zsav": "save it as an uncompressed SPSS .sav file",
    ".txt": "rename it to .csv if it is comma- or semicolon-separated text",
    ".tsv": "rename it to .csv (tab-separated text is understood)",
}


def code_columns(codebook: Codebook | None) -> set[str]:
    """Columns whose cells are codes (single, multi and the respondent number)."""
    if codebook is None:
        return set()
    return {c for v in codebook.questions if v.kind != "number" or v.name == "respondent"
            for c in v.columns}


def check_file(path: Path) -> None:
    """Refuse a missing, unsupported, empty or oversized file before reading it."""
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
    size = path.stat().st_size
    if size == 0:
        raise DataError.single(name, "the file is empty (0 bytes); expected a header and rows")
    most = limit("LPJ_MAX_DATA_MB") << 20
    if size > most:
        raise DataError.single(
            name, f"the file is {size_text(size)}; expected at most {size_text(most)} "
                  "(raise the limit with the environment variable LPJ_MAX_DATA_MB=<MiB>)")


def open_source(path: str | Path, codebook: Codebook | None = None, *,
                cell_by_cell: bool = False) -> Source:
    """Open a responses file for batch reading (see :class:`Source`).

    ``codebook`` (optional) tells which columns hold codes, read strictly
    (:func:`parse_code`). ``cell_by_cell`` reads a CSV file with Python's ``csv`` module,
    which names ragged lines exactly; the fast reader hands over to it by raising
    :class:`UseCellReader`.
    """
    path = Path(path)
    check_file(path)
    codes = code_columns(codebook)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        from lpj_report import load_csv

        if cell_by_cell:
            return load_csv.open_cell_by_cell(path, codes)
        return load_csv.open_csv(path, codes)
    if suffix == ".xlsx":
        from lpj_report.load_xlsx import open_xlsx

        return open_xlsx(path, codes)
    if suffix == ".sav":
        return _open_sav(path, codes)
    return _open_parquet(path, codes)


def _positions_plus_one(positions: list[int]) -> list[int]:
    return [p + 1 for p in positions]


def _numbers_column(values: np.ndarray) -> Column:
    return Numeric(np.asarray(values, dtype=np.float64))


def _open_sav(path: Path, codes: set[str]) -> Source:
    """SPSS codes (value labels not applied; user-missing codes → blank), in chunks of cases."""
    import pyreadstat

    name = path.name
    try:
        _, meta = pyreadstat.read_sav(path, metadataonly=True)
        chunks = pyreadstat.read_file_in_chunks(
            pyreadstat.read_sav, path, chunksize=200_000, apply_value_formats=False,
            user_missing=False)
        first = next(chunks, None)
    except Exception as err:  # pyreadstat raises several unrelated types
        raise DataError.single(name, f"cannot read as an SPSS .sav file: "
                                     f"{type(err).__name__}: {err}") from None
    header = list(meta.column_names)
    names, unnamed = header_names(name, header)
    problems: list[Problem] = []

    def batches():
        chunk = first
        while chunk is not None:
            frame = chunk[0]
            yield _frame_batch(frame, names, unnamed, codes, problems, name), len(frame)
            chunk = next(chunks, None)

    if first is None or meta.number_rows == 0 or len(first[0]) == 0:
        raise DataError.single(name, "the file has a header but no data rows")
    return Source(name, [n for n in names if n], "case", batches(), _positions_plus_one,
                  problems)


def _frame_batch(frame: pd.DataFrame, names: list[str], unnamed: list[int], codes: set[str],
                 problems: list[Problem], name: str) -> dict[str, Column]:
    batch: dict[str, Column] = {}
    for pos, col in enumerate(names):
        series = frame.iloc[:, pos]
        if series.dtype.kind in "fiu":
            column = _numbers_column(series.to_numpy(dtype=np.float64, na_value=np.nan))
        else:
            parse = parse_code if col in codes else parse_cell
            column = coded_from_objects([parse(v) for v in series.tolist()])
        if not col:
            _note_unnamed(column, pos, unnamed, problems, name)
            continue
        batch[col] = column
    return batch


def _note_unnamed(column: Column, pos: int, unnamed: list[int], problems: list[Problem],
                  name: str) -> None:
    has_data = ((column.index >= 0).any() if isinstance(column, Coded)
                else (~np.isnan(column.values)).any())
    if has_data and pos in unnamed:
        unnamed.remove(pos)
        problems.append(unnamed_problem(name, pos))


def _open_parquet(path: Path, codes: set[str]) -> Source:
    """Parquet columns as they are, in batches; rows counted from 1."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    name = path.name
    try:
        parquet = pq.ParquetFile(path)
        header = parquet.schema_arrow.names
    except Exception as err:  # arrow raises OSError, ArrowInvalid, ...
        raise DataError.single(name, f"cannot read as a Parquet file: "
                                     f"{type(err).__name__}: {err}") from None
    names, unnamed = header_names(name, header)
    if parquet.metadata.num_rows == 0:
        raise DataError.single(name, "the file has a header but no data rows")
    problems: list[Problem] = []

    def arrow_column(array, col: str) -> Column:
        kind = array.type
        parse = parse_code if col in codes else parse_cell
        if pa.types.is_integer(kind) or pa.types.is_floating(kind):
            return _numbers_column(array.to_numpy(zero_copy_only=False))
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            from lpj_report.load_csv import coded_from_arrow

            return coded_from_arrow(array, parse)
        return coded_from_objects([parse(v) for v in array.to_pylist()])

    def batches():
        try:
            for record in parquet.iter_batches(batch_size=BATCH_ROWS):
                batch = {}
                for pos, col in enumerate(names):
                    column = arrow_column(record.column(pos), col)
                    if not col:
                        _note_unnamed(column, pos, unnamed, problems, name)
                        continue
                    batch[col] = column
                yield batch, record.num_rows
        except (OSError, pa.ArrowException) as err:
            raise DataError.single(name, f"cannot read as a Parquet file: "
                                         f"{type(err).__name__}: {err}") from None

    return Source(name, [n for n in names if n], "row", batches(), _positions_plus_one,
                  problems)


# ---------------------------------------------------------------------------- raw table


def read_responses(path: str | Path, codebook: Codebook | None = None) -> pd.DataFrame:
    """Read a responses file into the raw table (see the module docstring).

    Raises :class:`DataError` for a missing, unsupported, empty, header-only, oversized or
    unreadable file, for duplicate column names and for CSV lines with the wrong number of
    values. With ``codebook``, code columns are read strictly (:func:`parse_code`).
    """
    path = Path(path)
    source = open_source(path, codebook)
    try:
        return _raw_from_source(source)
    except UseCellReader:
        return _raw_from_source(open_source(path, codebook, cell_by_cell=True))


def _raw_from_source(source: Source) -> pd.DataFrame:
    parts: dict[str, list] = {c: [] for c in source.names}
    total = 0
    for batch, n in source.batches:
        total += n
        for col in source.names:
            column = batch[col]
            if isinstance(column, Coded):
                lookup = np.empty(len(column.cells) + 1, dtype=object)
                lookup[:-1] = column.cells
                lookup[-1] = None
                parts[col].append(lookup[column.index])
            else:
                parts[col].append(np.array([parse_cell(v) for v in column.values.tolist()],
                                           dtype=object))
    if source.problems:
        raise DataError(source.problems)
    if not total:
        raise DataError.single(source.name, "the file has a header but no data rows")
    data = {c: pd.Series(np.concatenate(p) if p else [], dtype=object)
            for c, p in parts.items()}
    raw = pd.DataFrame(data)
    raw.index = pd.Index(source.row_numbers(list(range(total))), name=source.kind)
    raw.attrs.update(source=source.name, row_kind=source.kind)
    return raw


def typed_table(raw: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """The contract table: single → ordered categorical of keys, multi → Int8, number → Float64.

    Columns come in codebook order (:attr:`Codebook.data_columns`); the index is 0..n-1.
    ``raw`` must have passed :func:`lpj_report.validate.validate`; a value that is not a code
    raises ``ValueError``. (:func:`lpj_report.validate.read_and_validate` types files batch
    by batch instead; the two agree, which the tests check.)
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
