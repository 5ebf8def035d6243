"""A data file opened for reading: the :class:`Source` every reader returns, and its header.

Layer: load (imports base modules, ``cell_codes`` and ``columns``). The readers of
:mod:`lpj_report.load`, :mod:`lpj_report.load_csv` and :mod:`lpj_report.load_xlsx` build a
:class:`Source` from the file's header (:func:`header_names`: stripped, lower-cased, checked for
duplicates) and batches of encoded columns; :func:`source_from_raw` makes one from a raw table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pandas as pd

from lpj_report.cell_codes import parse_code
from lpj_report.cli_errors import DataError, Problem
from lpj_report.columns import Column, coded_from_objects

BATCH_ROWS = 65_536


@dataclass
class Source:
    """A responses file opened for reading, batch by batch.

    ``batches`` yields ``(columns by name, number of rows)``; after it is exhausted,
    ``problems`` holds what reading found (unnamed columns with values, formulas without a
    value) and ``row_numbers(positions)`` turns row positions (0-based, over all batches) into
    the numbers the user sees.
    """

    name: str
    names: list[str]
    kind: str
    batches: Iterator[tuple[dict[str, Column], int]]
    row_numbers: Callable[[list[int]], list[int]]
    problems: list[Problem] = field(default_factory=list)


class UseCellReader(Exception):  # noqa: N818 — a signal, not an error
    """The fast reader met something only the cell-by-cell reader reports exactly."""


def header_names(name: str, header: list) -> tuple[list[str], list[int]]:
    """Column names (stripped, lower-cased) and the positions without a name.

    Raises :class:`DataError` for duplicate names and for a header without any name.
    """
    names = normalised_names(header)
    problems = header_problems(name, names)
    if problems:
        raise DataError(problems)
    return names, [p for p, col in enumerate(names) if not col]


def normalised_names(header: list) -> list[str]:
    return [str(h).strip().lower() if h is not None else "" for h in header]


def header_problems(name: str, names: list[str]) -> list[Problem]:
    """Duplicate column names, or no name at all."""
    problems = []
    seen: dict[str, list[int]] = {}
    for pos, col in enumerate(names):
        if col:
            seen.setdefault(col, []).append(pos + 1)
    for col, positions in seen.items():
        if len(positions) > 1:
            where = ", ".join(str(p) for p in positions)
            problems.append(Problem(name, f"column name {col!r} appears {len(positions)} times "
                                          f"(columns {where}); expected each column once"))
    if not seen:
        problems.append(Problem(name, "no column names found; expected a header row"))
    return problems


def unnamed_problem(name: str, pos: int) -> Problem:
    return Problem(name, f"column {pos + 1} has values but no name in the header; expected a "
                         "codebook column name")


def source_from_raw(raw: pd.DataFrame, name: str, kind: str,
                    codes: set[str] = frozenset()) -> Source:
    """A raw table (object cells, user row numbers as index) as a one-batch source."""
    batch = {col: coded_from_objects(raw[col].tolist(),
                                     parse_code if col in codes else None)
             for col in raw.columns}
    index = raw.index

    def rows(positions: list[int]) -> list[int]:
        return [index[p] for p in positions]

    return Source(name, list(raw.columns), kind, iter([(batch, len(raw))]), rows)
