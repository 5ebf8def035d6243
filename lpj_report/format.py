"""The only place where numbers become strings (Danish, ``da_DK``).

Layer: base (imports no other layer).

One rounding rule for the whole project: **round half up on the decimal value**. The value is
read through its shortest decimal representation (``Decimal(str(value))``), so 0.15 is the decimal
0.15 (not the binary 0.1499999…) and rounds to 0.2; 2.5 rounds to 3; -2.5 rounds to -3 (half *away
from zero*, as in Danish official statistics). Floats are first cut to 12 significant digits, so
that arithmetic noise (``23 / 40 * 100`` = 57.49999999999999) cannot turn an exact half into a
round-down: 57.5 → 58. The same rule decides whether a computed value
reproduces a published number (:func:`round_half_up`, used by ``verify``).

Printing conventions:

* decimal comma, thousands separator ``.`` (Babel, CLDR ``da_DK``): ``11,3``, ``1.680``;
* a real minus sign U+2212 (``−1,5``), never a hyphen; a value that rounds to zero has no sign;
* a no-break space U+00A0 between a number and its unit (``11,3 %``, ``44 år``), so that the two
  never end up on separate lines.

Every function raises on ``None``/NaN/infinity: a missing number is a bug upstream, not a string.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.dates import format_date
from babel.numbers import format_decimal

LOCALE = "da_DK"
NBSP = "\u00a0"
MINUS = "\u2212"
_SIGNIFICANT = 12

_PLACES = (
    "første",
    "anden",
    "tredje",
    "fjerde",
    "femte",
    "sjette",
    "syvende",
    "ottende",
    "niende",
    "tiende",
)


def _from_float(value: float) -> Decimal:
    """A float as the decimal it stands for: shortest repr, then 12 significant digits.

    The second step removes binary noise from arithmetic such as ``(23 / 40) * 100`` =
    57.49999999999999, which stands for 57.5 and must round to 58. Twelve significant digits keep
    every real distinction (a percentage of up to 10^9 respondents) and drop the noise (float
    arithmetic is good to about 15–16 digits).
    """
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    result = Decimal(float.__repr__(float(value)))
    if len(result.as_tuple().digits) > _SIGNIFICANT:
        exponent = Decimal(1).scaleb(result.adjusted() - _SIGNIFICANT + 1)
        result = result.quantize(exponent, rounding=ROUND_HALF_EVEN).normalize()
    return result


def _decimal(value: float | int | Decimal) -> Decimal:
    """``value`` as a finite Decimal read from its shortest decimal representation."""
    if value is None or isinstance(value, bool):
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = _from_float(value)
    else:
        # numpy scalars and the like: go through float/int, never through repr of the object
        try:
            as_float = float(value)
        except (TypeError, ValueError) as error:
            raise TypeError(f"not a number: {value!r}") from error
        result = Decimal(int(as_float)) if as_float.is_integer() else _from_float(as_float)
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def _check_decimals(decimals: int) -> int:
    if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 6:
        raise ValueError(f"decimals must be an integer 0..6, not {decimals!r}")
    return decimals


def quantize(value: float | int | Decimal, decimals: int) -> Decimal:
    """``value`` rounded half up (away from zero) to ``decimals`` places, as a Decimal."""
    exponent = Decimal(1).scaleb(-_check_decimals(decimals))
    result = _decimal(value).quantize(exponent, rounding=ROUND_HALF_UP)
    return result.copy_abs() if result.is_zero() else result


def round_half_up(value: float | int | Decimal, decimals: int) -> float:
    """The project's rounding rule as a float: ``round_half_up(0.15, 1) == 0.2``."""
    return float(quantize(value, decimals))


def number(value: float | int | Decimal, decimals: int = 0) -> str:
    """A Danish number with exactly ``decimals`` places: ``11,3``, ``1.680``, ``−1,5``."""
    rounded = quantize(value, decimals)
    text = _digits(rounded.copy_abs(), decimals)
    return (MINUS + text) if rounded < 0 else text


@lru_cache(maxsize=65536)
def _digits(rounded: Decimal, decimals: int) -> str:
    """Babel's Danish digits of a rounded, non-negative number (cached: a report prints the
    same few thousand numbers many times)."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(rounded, format=pattern, locale=LOCALE)


def percent(value: float | int | Decimal, decimals: int = 0) -> str:
    """A percentage already on the 0–100 scale: ``percent(11.34, 1)`` → ``11,3 %``."""
    return number(value, decimals) + NBSP + "%"


def pp(value: float | int | Decimal, decimals: int = 1) -> str:
    """A change in percentage points with its sign: ``+2,0 procentpoint``, ``−1,5 procentpoint``."""
    text = number(value, decimals)
    if quantize(value, decimals) > 0:
        text = "+" + text
    return text + NBSP + "procentpoint"


def points(value: float | int | Decimal, decimals: int = 0) -> str:
    """A size of difference in percentage points, without sign: ``5 procentpoint``."""
    return number(abs(value), decimals) + NBSP + "procentpoint"


def p_value(p: float) -> str:
    """A p-value as printed: ``p < 0,001``, ``p = 0,012``, ``p = 0,45``, ``p > 0,99`` (three
    decimals below 0,1, two above; never ``p = 0,000`` or ``p = 1,000``)."""
    if p < 0.001:
        return "p <" + NBSP + "0,001"
    if p > 0.99:
        return "p >" + NBSP + "0,99"
    return "p = " + number(p, 3 if p < 0.1 else 2)


def interval(low: float, high: float, unit: str = "pct", decimals: int = 0) -> str:
    """A confidence interval in a unit: ``33–43 %``, ``7,6–8,4 år``, ``0,40–0,48``; an
    interval from below zero reads ``−5 til 13 procentpoint``."""
    joiner = " til " if quantize(low, decimals) < 0 else "–"
    text = number(low, decimals) + joiner + number(high, decimals)
    if unit == "pct":
        return text + NBSP + "%"
    if unit == "years":
        return text + NBSP + "år"
    if unit == "pp":
        return text + NBSP + "procentpoint"
    return text


def years(value: float | int | Decimal, decimals: int = 0) -> str:
    """A number of years: ``44 år``, ``9,5 år``."""
    return number(value, decimals) + NBSP + "år"


def count(value: int | float | Decimal) -> str:
    """A whole count with thousands separator: ``1.680``. Raises on a fractional value."""
    exact = _decimal(value)
    if exact != exact.to_integral_value():
        raise ValueError(f"a count must be whole: {value!r}")
    return number(exact, 0)


def unit_value(value: float | int | Decimal, unit: str, decimals: int) -> str:
    """A figure-row value by its ``unit`` (``pct``, ``years``, ``count``) — see docs/design.md."""
    if unit == "pct":
        return percent(value, decimals)
    if unit == "years":
        return years(value, decimals)
    if unit == "count":
        return count(value)
    raise ValueError(f"unknown unit {unit!r} (expected pct, years or count)")


def ordinal_word(rank: int) -> str:
    """Danish ordinal word for ranks 1–10: ``første``, ``anden``, … ``tiende``."""
    if not isinstance(rank, int) or isinstance(rank, bool) or not 1 <= rank <= len(_PLACES):
        raise ValueError(f"no Danish ordinal word for rank {rank!r} (1..{len(_PLACES)})")
    return _PLACES[rank - 1]


def place_word(rank: int) -> str:
    """A place in a ranking: ``place_word(1)`` → ``førsteplads``, ``3`` → ``tredjeplads``."""
    return ordinal_word(rank) + "plads"


def join_words(items: Iterable[str], conjunction: str = "og") -> str:
    """Danish list: ``a``, ``a og b``, ``a, b og c`` (no comma before the conjunction)."""
    parts = [str(item) for item in items]
    if not parts:
        raise ValueError("nothing to join")
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + f" {conjunction} " + parts[-1]


def date_long(day: dt.date | str) -> str:
    """A date in Danish long form: ``1. marts 2002`` (accepts an ISO date string)."""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return format_date(day, format="long", locale=LOCALE)


def is_number(value: object) -> bool:
    """True for a finite int/float (bools and NaN excluded) — for callers that must branch."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return False
    return math.isfinite(value)


#: The Jinja filters (render.py) are exactly these functions under these names.
FILTERS = {
    "number": number,
    "percent": percent,
    "pp": pp,
    "points": points,
    "p_value": p_value,
    "interval": interval,
    "years": years,
    "count": count,
    "unit_value": unit_value,
    "place_word": place_word,
    "ordinal_word": ordinal_word,
    "join_words": join_words,
    "date_long": date_long,
}
