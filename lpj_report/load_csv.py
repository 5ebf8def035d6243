"""CSV responses files: Arrow's streaming CSV reader, and the cell-by-cell reader it hands to.

Layer: load (may import base, and its own layer).

The fast reader (:func:`open_csv`) first scans the bytes once in blocks — gzip or zip
disguised as CSV, UTF-16 by its BOM, else UTF-8, else Windows-1252, control characters — and
reads the header with Python's ``csv`` module; then Arrow parses the rows in blocks, every
column dictionary-encoded, so that each distinct cell text is parsed once
(:func:`lpj_report.cell_codes.parse_cell`) whatever the number of rows. Line numbers are only worked
out when a problem needs naming (:func:`line_numbers`: a second pass with ``csv``, no cells
kept). A file with a ragged line, a duplicate column name or anything Arrow cannot parse is
read by :func:`open_cell_by_cell` — the reference reader — which names those exactly.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from lpj_report.cell_codes import parse_cell, parse_code
from lpj_report.cli_errors import DataError, Problem
from lpj_report.columns import Coded, Column, Numeric, _compact
from lpj_report.sources import (
    Source,
    UseCellReader,
    header_names,
    header_problems,
    normalised_names,
    source_from_raw,
    unnamed_problem,
)

DELIMITERS = (";", ",", "\t")
SCAN_BLOCK = 16 << 20
BLOCK = 4 << 20
HEADER_PREFIX = 1 << 20
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Every byte but the control characters no text file holds (tab, LF and CR are fine).
_TEXT_BYTES = bytes(b for b in range(256) if not (b < 32 and b not in (9, 10, 13)))
#: Without quotes a file is cut into pieces of this size at line ends, each parsed by
#: Arrow's multi-threaded reader (two blocks, one per core); with quotes (a value may span
#: lines) it is streamed. Larger pieces parse no faster and raise the peak memory: at 168.000
#: respondents 16 MiB pieces peaked at 358 MiB, 8 MiB pieces at 297 MiB (the typed table is
#: 49 MiB, the imports 133 MiB).
PIECE = 8 << 20
#: A dictionary larger than this is first tried as whole numbers in one vectorised cast.
LARGE_DICTIONARY = 4096


def coded_from_arrow(array, parse) -> Column:
    """An Arrow string or dictionary array as a :class:`Coded` column (``parse`` per distinct
    text), or as :class:`Numeric` when a large dictionary holds only plain whole numbers."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if not pa.types.is_dictionary(array.type):
        if len(array) > LARGE_DICTIONARY:
            try:
                ints = pc.cast(array, pa.int64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
            else:
                return Numeric(ints.to_numpy(zero_copy_only=False).astype(np.float64))
        array = pc.dictionary_encode(array)
    index = pc.fill_null(array.indices, -1).to_numpy(zero_copy_only=False)
    return _compact(index, array.dictionary.to_pylist(), parse)


# ---------------------------------------------------------------------------- encoding


def _scan(path: Path) -> tuple[str, bool]:
    """Encoding (``utf-8``, ``cp1252`` or ``utf-16``) and whether any ``"`` occurs.

    Raises :class:`DataError` as the cell-by-cell reader would: gzip/zip, undecodable bytes
    (line named), control characters (line named).
    """
    name = path.name
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", True
    if head.startswith(b"PK\x03\x04"):
        raise DataError.single(name, "this looks like an Excel workbook saved with the .csv "
                                     "suffix; expected text (rename it to .xlsx)")
    if head.startswith(b"\x1f\x8b"):
        raise DataError.single(name, "this is a compressed (gzip) file; expected plain text "
                                     "(unpack it first)")
    encoding = "utf-8"
    decoder = codecs.getincrementaldecoder("utf-8")()
    quote = False
    control: tuple[int, str] | None = None
    lines = 0
    with path.open("rb") as fh:
        while block := fh.read(SCAN_BLOCK):
            if encoding == "utf-8":
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    encoding = "cp1252"
            quote = quote or b'"' in block
            if control is None and block.translate(None, _TEXT_BYTES):
                bad = _CONTROL.search(block.decode("latin-1"))
                control = (lines + block.count(b"\n", 0, bad.start()) + 1, bad.group())
            lines += block.count(b"\n")
        if encoding == "utf-8":
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                encoding = "cp1252"
    if encoding == "cp1252":
        _check_cp1252(path)
    if control is not None:
        line, char = control
        raise DataError.single(
            name, f"line {line}: binary data (control character {char!r}); expected "
                  "comma- or semicolon-separated text — is it UTF-16 without a BOM, or not a CSV?")
    return encoding, quote


def _check_cp1252(path: Path) -> None:
    lines = 0
    with path.open("rb") as fh:
        while block := fh.read(SCAN_BLOCK):
            try:
                block.decode("cp1252")
            except UnicodeDecodeError as err:
                line = lines + block.count(b"\n", 0, err.start) + 1
                raise DataError.single(
                    path.name, f"line {line}: cannot decode byte 0x{block[err.start]:02x}; "
                               "expected text in UTF-8 or Windows-1252 (cp1252) — save it again "
                               "as 'CSV UTF-8'") from None
            lines += block.count(b"\n")


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


def _text_stream(path: Path, encoding: str) -> io.TextIOBase:
    """The file as text (newlines untranslated, as the ``csv`` module wants them)."""
    if encoding == "utf-16":
        return io.StringIO(_decode(path.read_bytes(), path.name), newline="")
    python = "utf-8-sig" if encoding == "utf-8" else encoding
    return io.TextIOWrapper(path.open("rb"), encoding=python, newline="")


def _delimiter(first: str) -> str:
    return max(DELIMITERS, key=first.count)


def _blank_record(record: list[str]) -> bool:
    return all(parse_cell(c) is None for c in record)


# ---------------------------------------------------------------------------- fast reader


def open_csv(path: Path, codes: set[str]) -> Source:
    """The fast reader (see the module docstring)."""
    name = path.name
    encoding, quote = _scan(path)
    with _text_stream(path, encoding) as text_file:
        prefix = text_file.read(HEADER_PREFIX)
        whole = not text_file.read(1)
    first = next((ln for ln in prefix.splitlines() if ln.strip()), "")
    if not first:
        if whole:
            raise DataError.single(name, "the file is empty (only blank lines); expected a "
                                         "header")
        raise UseCellReader
    delimiter = _delimiter(first)
    lines = io.StringIO(prefix, newline="")
    reader = csv.reader(lines, delimiter=delimiter)
    header = None
    try:
        for record in reader:
            if not _blank_record(record):
                header = record
                break
    except csv.Error:
        raise UseCellReader from None
    consumed = lines.tell()
    if header is None or (not whole and consumed >= len(prefix)):
        raise UseCellReader
    try:
        names, unnamed = header_names(name, header)
    except DataError:
        raise UseCellReader from None
    return _arrow_source(path, encoding, quote, delimiter, prefix[:consumed], names, unnamed,
                         codes)


def _arrow_source(path: Path, encoding: str, quote: bool, delimiter: str, head: str,
                  names: list[str], unnamed: list[int], codes: set[str]) -> Source:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    name = path.name
    columns = [col or f"\x00{pos}" for pos, col in enumerate(names)]
    ragged: list[object] = []

    def on_invalid(row) -> str:
        ragged.append(row)
        return "skip"

    types = {col: pa.string() if col == "respondent" else pa.dictionary(pa.int32(), pa.string())
             for col in columns}
    read = pacsv.ReadOptions(column_names=columns, block_size=BLOCK, use_threads=True,
                             encoding="utf8" if encoding != "cp1252" else "cp1252")
    parse = pacsv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True,
                               escape_char=False, newlines_in_values=quote,
                               ignore_empty_lines=True, invalid_row_handler=on_invalid)
    convert = pacsv.ConvertOptions(column_types=types, null_values=[""],
                                   strings_can_be_null=True, quoted_strings_can_be_null=True)
    problems: list[Problem] = []
    state = {"rows": 0}

    def data_stream():
        if encoding == "utf-16":
            text = _decode(path.read_bytes(), name)
            return io.BytesIO(text.encode("utf-8")[len(head.encode("utf-8")):])
        fh = path.open("rb")
        fh.seek(len(head.encode(encoding)) + (3 if fh.read(3) == codecs.BOM_UTF8 else 0))
        return fh

    def records(stream):
        """Arrow record batches: pieces parsed in parallel, or one stream when quoted."""
        if quote:
            yield from pacsv.open_csv(stream, read_options=read, parse_options=parse,
                                      convert_options=convert)
            return
        rest = b""
        while True:
            block = stream.read(PIECE)
            piece = rest + block
            if not block:
                rest = b""
            else:
                cut = piece.rfind(b"\n") + 1
                if cut == 0:
                    rest = piece
                    continue
                piece, rest = piece[:cut], piece[cut:]
            if piece.strip():
                table = pacsv.read_csv(io.BytesIO(piece), read_options=read,
                                       parse_options=parse, convert_options=convert)
                del piece
                yield from table.to_batches()
                del table
                pa.default_memory_pool().release_unused()
            if not block:
                return

    def batches() -> Iterator[tuple[dict[str, Column], int]]:
        stream = data_stream()
        try:
            for record in records(stream):
                if ragged:
                    raise UseCellReader
                batch, n = _batch(record, columns, names, codes)
                for pos in list(unnamed):
                    if (batch[columns[pos]].index >= 0).any():
                        unnamed.remove(pos)
                        problems.append(unnamed_problem(name, pos))
                for pos in range(len(names)):
                    if not names[pos]:
                        batch.pop(columns[pos])
                state["rows"] += n
                if n:
                    yield batch, n
            if ragged:
                raise UseCellReader
        except (pa.ArrowInvalid, UnicodeDecodeError):
            raise UseCellReader from None
        finally:
            stream.close()
            pa.default_memory_pool().release_unused()  # the parsed blocks, back to the system

    def rows(positions: list[int]) -> list[int]:
        return line_numbers(path, encoding, delimiter, positions, state["rows"])

    return Source(name, [c for c in names if c], "line", batches(), rows, problems)


def _batch(record, columns: list[str], names: list[str],
           codes: set[str]) -> tuple[dict[str, Column], int]:
    """One Arrow record batch as encoded columns, rows whose cells are all blank left out."""
    batch: dict[str, Column] = {}
    for pos, col in enumerate(columns):
        parse = parse_code if names[pos] in codes else parse_cell
        batch[col] = coded_from_arrow(record.column(pos), parse)
    n = record.num_rows
    blank = np.ones(n, dtype=bool)
    for column in batch.values():
        blank &= (column.index < 0) if isinstance(column, Coded) else np.isnan(column.values)
        if not blank.any():
            return batch, n
    keep = ~blank
    for col, column in batch.items():
        if isinstance(column, Coded):
            batch[col] = Coded(column.index[keep], column.cells)
        else:
            batch[col] = Numeric(column.values[keep])
    return batch, int(keep.sum())


def line_numbers(path: Path, encoding: str, delimiter: str, positions: list[int],
                 expected_rows: int) -> list[int]:
    """The CSV line (header = line 1 of the file) of each data row position.

    A second pass with Python's ``csv`` module, keeping no cells; when it does not count the
    same rows as the fast reader, the cell-by-cell reader takes over.
    """
    wanted = dict.fromkeys(positions)
    found = 0
    with _text_stream(path, encoding) as text:
        reader = csv.reader(text, delimiter=delimiter)
        header_seen = False
        line_end = 0
        try:
            for record in reader:
                line, line_end = line_end + 1, reader.line_num
                if _blank_record(record):
                    continue
                if not header_seen:
                    header_seen = True
                    continue
                if found in wanted:
                    wanted[found] = line
                found += 1
        except csv.Error:
            raise UseCellReader from None
    if found != expected_rows:
        raise UseCellReader
    return [wanted[p] for p in positions]


# ---------------------------------------------------------------------------- cell by cell


def open_cell_by_cell(path: Path, codes: set[str]) -> Source:
    """The reference reader: Python's ``csv`` module, every cell parsed on its own."""
    raw = _read_csv_raw(path, codes)
    return source_from_raw(raw, path.name, "line")


def _read_csv_raw(path: Path, codes: set[str]):
    import pandas as pd

    name = path.name
    text = _decode(path.read_bytes(), name)
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    if not first:
        raise DataError.single(name, "the file is empty (only blank lines); expected a header")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    del text
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
            rows.append((line, record))
    except csv.Error as err:
        raise DataError.single(name, f"line {reader.line_num}: unreadable CSV ({err})") from None
    names = normalised_names(header or [])
    unnamed = [unnamed_problem(name, pos) for pos, col in enumerate(names)
               if not col and any(pos < len(r) and parse_cell(r[pos]) is not None
                                  for _, r in rows)]
    problems = unnamed + header_problems(name, names) + problems
    if problems:
        raise DataError(problems)
    if not rows:
        raise DataError.single(name, "the file has a header but no data rows")
    keep = [p for p, col in enumerate(names) if col]
    data = {}
    for p in keep:
        parse = parse_code if names[p] in codes else parse_cell
        data[names[p]] = pd.Series([parse(r[p]) if p < len(r) else None for _, r in rows],
                                   dtype=object)
    raw = pd.DataFrame(data)
    raw.index = pd.Index([n for n, _ in rows], name="line")
    raw.attrs.update(source=name, row_kind="line")
    return raw
