"""One cell of a data file as a code: blank, whole number, decimal number or the text itself.

Layer: load (imports nothing from lpj_report). Every reader (:mod:`lpj_report.load`,
:mod:`lpj_report.load_csv`, :mod:`lpj_report.load_xlsx`) and the column checks
(:mod:`lpj_report.columns`) parse cells with these two functions, so a value means the same
whatever the file type.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

import numpy as np
import pandas as pd

_INT = re.compile(r"[+-]?[0-9]+")
_DECIMAL_POINT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?([0-9]+,[0-9]*|[0-9]*,[0-9]+)([eE][+-]?[0-9]+)?")
#: A whole number written with thousands separators (``1.000``, ``12,345``): ambiguous as a code.
GROUPED = re.compile(r"[+-]?[1-9][0-9]{0,2}([.,][0-9]{3})+")


def parse_cell(value: object) -> int | float | str | None:
    """One cell as a code: ``None`` (blank), ``int``, ``float`` or the stripped text.

    Text is a number only when it is written as one: digits with an optional sign, decimal
    point or decimal comma and exponent (``3``, ``34,5``, ``1e3``). Anything else — ``3_5``,
    ``١``, ``inf``, ``1.234,5`` — stays text and is reported where a number is expected.
    """
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    number = native_number(value)
    return _parse_text(str(value)) if number is NOT_A_NUMBER else number


#: What :func:`native_number` gives for a value that is neither blank nor a number.
NOT_A_NUMBER = object()


def native_number(value: object) -> int | float | None | object:
    """A cell that is already a number, as a plain one: ``None`` for a blank (None, NA, NaT,
    NaN), an ``int`` for a whole number, a ``float`` otherwise; :data:`NOT_A_NUMBER` for any
    other value (text, booleans are the caller's)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        if math.isnan(value):
            return None
        return int(value) if value.is_integer() else value
    return NOT_A_NUMBER


def parse_code(value: object) -> int | float | str | None:
    """Like :func:`parse_cell`, for columns that hold codes: a whole number written with
    thousands separators (``1.000``) stays text, since it cannot be told from a decimal."""
    if isinstance(value, str) and GROUPED.fullmatch(value.strip()):
        return value.strip()
    return parse_cell(value)


@lru_cache(maxsize=4096)
def _parse_text(value: str) -> int | float | str | None:
    """Text from a file → blank, number (decimal point or comma) or the stripped text."""
    text = value.strip()
    if not text:
        return None
    if _INT.fullmatch(text):
        return int(text)
    if _DECIMAL_POINT.fullmatch(text):
        number_text = text
    elif _DECIMAL_COMMA.fullmatch(text):
        number_text = text.replace(",", ".")
    else:
        return text
    try:
        number = float(number_text)
    except (ValueError, OverflowError):
        return text
    if not math.isfinite(number):
        return text
    return int(number) if number.is_integer() else number
