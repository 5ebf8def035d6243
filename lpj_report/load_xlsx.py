"""Excel workbooks (.xlsx): the first worksheet, read-only and row by row.

Layer: load (may import base, and its own layer).

Before any cell is read the workbook's size is checked: the unpacked worksheet against
``LPJ_MAX_DATA_MB`` and its used range (the ``dimension`` Excel stores, and every cell met
while reading) against ``LPJ_MAX_XLSX_COLUMNS`` × ``LPJ_MAX_XLSX_ROWS`` — one formatted empty
cell far out (``XFD1048576``) would otherwise make a reader pad a million rows of 16.384
cells. Rows are read sparsely (only the cells stored), the first non-blank row is the header,
blank rows are skipped. A formula whose result Excel did not save is refused with its cell:
reading it as blank would silently lose an answer.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from lpj_report.cell_codes import parse_cell, parse_code
from lpj_report.cli_errors import DataError, Problem
from lpj_report.columns import coded_from_objects
from lpj_report.limits import limit, size_text
from lpj_report.sources import BATCH_ROWS, Source, header_names, unnamed_problem


class FormulaWithoutValue(str):
    """A formula cell whose result was not saved (its text, without the ``=``)."""


def _parser_class():
    from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

    class Parser(WorkSheetParser):
        """openpyxl's worksheet parser (data only), marking formulas that have no value."""

        def parse_cell(self, element):
            cell = super().parse_cell(element)
            if cell["value"] is None:
                formula = element.find(FORMULA_TAG)
                if formula is not None:
                    cell["value"] = FormulaWithoutValue(formula.text or "")
            return cell

    return Parser


def _column_letter(number: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(number)


def _check_archive(path: Path) -> None:
    name = path.name
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as err:
        raise DataError.single(name, f"cannot open as an Excel workbook (.xlsx): "
                                     f"{type(err).__name__}: {err}") from None
    most = limit("LPJ_MAX_DATA_MB") << 20
    if unpacked > most:
        raise DataError.single(
            name, f"the workbook unpacks to {size_text(unpacked)}; expected at most "
                  f"{size_text(most)} (raise the limit with LPJ_MAX_DATA_MB=<MiB>)")


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _check_range(name: str, sheet: str, max_row: int | None, max_col: int | None,
                 where: str) -> None:
    most_cols, most_rows = limit("LPJ_MAX_XLSX_COLUMNS"), limit("LPJ_MAX_XLSX_ROWS")
    if (max_col or 0) > most_cols or (max_row or 0) > most_rows:
        corner = f"{_column_letter(max_col or 1)}{max_row or 1}"
        raise DataError.single(
            name, f"worksheet {sheet!r} {where} {corner} ({_thousands(max_col or 1)} columns × "
                  f"{_thousands(max_row or 1)} rows); expected at most {_thousands(most_cols)} "
                  f"columns and {_thousands(most_rows)} rows — delete the unused cells beyond "
                  "the data (Ctrl+End shows the last cell Excel keeps) and save again, or raise "
                  "LPJ_MAX_XLSX_COLUMNS / LPJ_MAX_XLSX_ROWS")


def open_xlsx(path: Path, codes: set[str]) -> Source:
    """First worksheet as batches of encoded columns; rows are Excel row numbers."""
    import openpyxl

    name = path.name
    _check_archive(path)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
    except Exception as err:  # zip, XML and openpyxl errors all mean unreadable
        raise DataError.single(name, f"cannot open as an Excel workbook (.xlsx): "
                                     f"{type(err).__name__}: {err}") from None
    _check_range(name, sheet.title, sheet.max_row, sheet.max_column, "uses cells up to")
    rows = _sparse_rows(workbook, sheet, name)
    header = None
    for _number, cells in rows:
        if any(parse_cell(v) is not None for v in cells.values()):
            width = max(cells)
            header = [cells.get(c) for c in range(1, width + 1)]
            break
    if header is None:
        workbook.close()
        raise DataError.single(name, "the first worksheet is empty; expected a header row")
    names, _unnamed = header_names(name, header)
    position = {pos + 1: col for pos, col in enumerate(names) if col}
    parsers = {col: parse_code if col in codes else parse_cell for col in position.values()}
    numbers: list[int] = []
    problems: list[Problem] = []
    unnamed_seen: set[int] = set()

    def batches():
        try:
            batch = {col: [] for col in position.values()}
            count = 0
            for number, cells in rows:
                parsed = {}
                for col_no, value in cells.items():
                    if isinstance(value, FormulaWithoutValue):
                        col = position.get(col_no, f"{_column_letter(col_no)} (no name)")
                        cell = f"{_column_letter(col_no)}{number}"
                        problems.append(Problem(
                            name, f"a value: the formula in cell {cell} has no saved result "
                                  "(lpj does not compute formulas) — open the workbook in "
                                  "Excel and save it again, or paste the values", number,
                            "row", col, f"={value}"))
                        parsed[col_no] = "="
                        continue
                    cell = parsers[position[col_no]](value) if col_no in position \
                        else parse_cell(value)
                    if cell is not None:
                        parsed[col_no] = cell
                if not parsed:
                    continue
                for col_no in parsed:
                    if col_no not in position and col_no not in unnamed_seen:
                        unnamed_seen.add(col_no)
                        problems.append(unnamed_problem(name, col_no - 1))
                numbers.append(number)
                for col_no, col in position.items():
                    batch[col].append(parsed.get(col_no))
                count += 1
                if count == BATCH_ROWS:
                    yield {c: coded_from_objects(v) for c, v in batch.items()}, count
                    batch = {col: [] for col in position.values()}
                    count = 0
            if count:
                yield {c: coded_from_objects(v) for c, v in batch.items()}, count
        finally:
            workbook.close()

    def row_numbers(positions: list[int]) -> list[int]:
        return [numbers[p] for p in positions]

    return Source(name, list(position.values()), "row", batches(), row_numbers, problems)


def _sparse_rows(workbook, sheet, name: str):
    """(Excel row number, {column number: value}) for every stored row, in order."""
    most_cols, most_rows = limit("LPJ_MAX_XLSX_COLUMNS"), limit("LPJ_MAX_XLSX_ROWS")
    parser_class = _parser_class()
    with sheet._get_source() as source:  # openpyxl 3.1: the worksheet XML, read on demand
        parser = parser_class(source, sheet._shared_strings, data_only=True,
                              epoch=workbook.epoch, date_formats=workbook._date_formats,
                              timedelta_formats=workbook._timedelta_formats)
        try:
            for number, cells in parser.parse():
                values = {}
                for cell in cells:
                    if cell["value"] is None:
                        continue
                    if cell["column"] > most_cols or number > most_rows:
                        _check_range(name, sheet.title, number, cell["column"], "has a value in")
                    values[cell["column"]] = cell["value"]
                if number > most_rows:
                    _check_range(name, sheet.title, number, 1, "has a row at")
                yield number, values
        except DataError:
            raise
        except Exception as err:  # broken XML inside a valid zip
            raise DataError.single(name, f"cannot read the worksheet: "
                                         f"{type(err).__name__}: {err}") from None
