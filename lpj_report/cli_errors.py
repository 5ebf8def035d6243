"""Errors about a respondent data file, and the guard the ``lpj`` command runs under.

Layer: base (imports no other layer).

Every problem found in a data file becomes one :class:`Problem` (file, row as the user sees
it, column, offending value, what was expected). :class:`DataError` carries all of them;
:meth:`DataError.report` prints them. :func:`run_guarded` turns a :class:`DataError` (or a
plain file-system error, or an :class:`InputError` about a metadata file) into a report on
stderr and exit code 2 instead of a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

EXIT_DATA_ERROR = 2
REPORT_LIMIT = 50


def show_value(value: object) -> str:
    """A cell value as the user typed it: ``3``, ``34.5``, ``'fyrre'``; ``blank`` when missing."""
    if value is None:
        return "blank"
    if isinstance(value, float):
        if value != value:  # NaN
            return "blank"
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return repr(value)
    return str(value)


@dataclass(frozen=True)
class Problem:
    """One bad cell, row, column or file.

    ``row`` is the number the user sees (CSV line with the header as line 1, Excel row, SPSS
    case, Parquet row counted from 1); ``row_kind`` names it (``line``, ``row``, ``case``).
    ``row`` and ``column`` are ``None`` for problems with the file or a whole column.
    """

    file: str
    expected: str
    row: int | None = None
    row_kind: str = "row"
    column: str | None = None
    value: str | None = None  # already shown with show_value(); None = no cell involved

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"{self.row_kind} {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        head = ", ".join(where)
        if self.value is None:
            return f"{head}: {self.expected}"
        shown = self.value if self.value == "blank" else f"value {self.value}"
        return f"{head}: {shown} — expected {self.expected}"


_NO_VALUE = object()


class InputError(ValueError):
    """A project or metadata file (YAML, figures.json) cannot be used.

    The message names the file, the line or key, the value found and what was expected;
    :meth:`at` builds it from those parts. The command prints it as ``error: …``, exit 2.
    """

    @classmethod
    def at(cls, file: str, expected: str, *, line: int | None = None, key: str | None = None,
           value: object = _NO_VALUE) -> InputError:
        where = [str(file)]
        if line is not None:
            where.append(f"line {line}")
        if key:
            where.append(f"key {key}")
        head = ", ".join(where)
        if value is _NO_VALUE:
            return cls(f"{head}: {expected}")
        return cls(f"{head}: value {_short(value)} — expected {expected}")


def _short(value: object, most: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= most else text[:most - 1] + "…"


class DataError(Exception):
    """A respondent data file cannot be used; ``problems`` lists every reason found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__(self.report())

    @classmethod
    def single(cls, file: str, message: str) -> DataError:
        """An error about the file as a whole (not found, unreadable, empty, ...)."""
        return cls([Problem(file=file, expected=message)])

    def report(self, limit: int = REPORT_LIMIT) -> str:
        """The problems as plain text, at most ``limit`` of them, then "… and N more"."""
        files = sorted({p.file for p in self.problems})
        n = len(self.problems)
        noun = "problem" if n == 1 else "problems"
        head = f"{', '.join(files)}: {n} {noun} in the respondent data (nothing was written)"
        lines = [head] + [f"  {p}" for p in self.problems[:limit]]
        if n > limit:
            lines.append(f"  … and {n - limit} more")
        return "\n".join(lines)


def describe(err: BaseException) -> str | None:
    """The message ``lpj`` prints for ``err`` (file, line or key, value, what was expected), or
    None when ``err`` is no error about an input file (a fault of the program). ``lpj preview``
    shows it on its page."""
    if isinstance(err, DataError):
        return err.report()
    if isinstance(err, OSError):
        return os_message(err)
    if isinstance(err, InputError):   # chapter, edition, model and context errors too
        return f"error: {err}"
    return None


def run_guarded(func: Callable[..., int | None], *args, **kwargs) -> int:
    """Call ``func``; on a data or file error print a plain report to stderr and return 2.

    The return value is meant for ``sys.exit``: ``func``'s own return value (``None`` → 0)
    when it succeeds, :data:`EXIT_DATA_ERROR` when the data could not be used.
    """
    try:
        result = func(*args, **kwargs)
    except DataError as err:
        print(err.report(), file=sys.stderr)
        return EXIT_DATA_ERROR
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_DATA_ERROR
    except OSError as err:   # missing, unreadable, read-only, full disk, a file for a folder
        print(os_message(err), file=sys.stderr)
        return EXIT_DATA_ERROR
    return int(result or 0)


def os_message(err: OSError) -> str:
    """``error: <file>: <reason>``, both files for a rename; nothing was left half-written
    (every writer works in a temporary file or folder)."""
    names = [str(n) for n in (err.filename, err.filename2) if n is not None]
    where = " → ".join(names) if names else "a file being written"
    return f"error: {where}: {err.strerror or err}; nothing was written"
