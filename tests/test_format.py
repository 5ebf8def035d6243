"""format.py: one rounding rule (half up on the decimal value) and Danish number strings."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import numpy as np
import pytest

from lpj_report import format as fmt

NB = "\u00a0"
MINUS = "\u2212"


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (0.15, 1, "0,2"),  # binary 0.1499… but decimal 0.15: half up
        (0.25, 1, "0,3"),  # Babel/half-even would give 0,2
        (2.5, 0, "3"),
        (3.5, 0, "4"),
        (1.005, 2, "1,01"),
        (0.125, 2, "0,13"),
        (99.95, 1, "100,0"),
        (99.94, 1, "99,9"),
        (11.34, 1, "11,3"),
        (11.3, 1, "11,3"),
        (11, 1, "11,0"),
        (0, 0, "0"),
        (0.0, 1, "0,0"),
        (-0.0, 1, "0,0"),
        (-0.04, 1, "0,0"),  # rounds to zero: no sign
        (-1.5, 1, f"{MINUS}1,5"),
        (-2.5, 0, f"{MINUS}3"),  # half away from zero
        (-1234.5, 0, f"{MINUS}1.235"),
        (1680, 0, "1.680"),
        (999.5, 0, "1.000"),
        (1234567.891, 2, "1.234.567,89"),
        (57.49999999999999, 0, "58"),  # (23 / 40) * 100: float noise, really 57.5
        (28.749999999999996, 1, "28,8"),  # (23 / 80) * 100
        (Decimal("0.15"), 1, "0,2"),
        (np.float64(0.15), 1, "0,2"),
        (np.int64(1680), 0, "1.680"),
    ],
)
def test_number(value, decimals, expected):
    assert fmt.number(value, decimals) == expected


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (0.15, 1, 0.2),
        (2.5, 0, 3.0),
        (-2.5, 0, -3.0),
        (99.95, 1, 100.0),
        (57.49999999999999, 0, 58.0),
        (21.4, 0, 21.0),
        (1.005, 2, 1.01),
    ],
)
def test_round_half_up(value, decimals, expected):
    result = fmt.round_half_up(value, decimals)
    assert isinstance(result, float)
    assert result == expected


def test_round_half_up_agrees_with_exact_fractions_for_shares():
    """Every share n/b (b ≤ 200) computed as (n / b) * 100 rounds as the exact fraction does."""
    from fractions import Fraction

    for base in range(1, 201):
        for numerator in range(base + 1):
            exact = Fraction(100 * numerator, base)
            for decimals in (0, 1):
                scaled = exact * 10**decimals
                floor = scaled.numerator // scaled.denominator
                up = floor + (1 if scaled - floor >= Fraction(1, 2) else 0)
                assert fmt.round_half_up((numerator / base) * 100, decimals) == up / 10**decimals


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda: fmt.percent(11.34, 1), f"11,3{NB}%"),
        (lambda: fmt.percent(21.5), f"22{NB}%"),
        (lambda: fmt.percent(0.0, 0), f"0{NB}%"),
        (lambda: fmt.percent(99.95, 1), f"100,0{NB}%"),
        (lambda: fmt.pp(2, 1), f"+2,0{NB}procentpoint"),
        (lambda: fmt.pp(-1.5, 1), f"{MINUS}1,5{NB}procentpoint"),
        (lambda: fmt.pp(0.04, 1), f"0,0{NB}procentpoint"),
        (lambda: fmt.pp(-0.04, 1), f"0,0{NB}procentpoint"),
        (lambda: fmt.pp(3, 0), f"+3{NB}procentpoint"),
        (lambda: fmt.years(44.2), f"44{NB}år"),
        (lambda: fmt.years(9.45, 1), f"9,5{NB}år"),
        (lambda: fmt.count(1680), "1.680"),
        (lambda: fmt.count(2249.0), "2.249"),
        (lambda: fmt.count(0), "0"),
        (lambda: fmt.unit_value(11.34, "pct", 1), f"11,3{NB}%"),
        (lambda: fmt.unit_value(44.0, "years", 0), f"44{NB}år"),
        (lambda: fmt.unit_value(1680, "count", 0), "1.680"),
        (lambda: fmt.date_long("2002-03-01"), "1. marts 2002"),
        (lambda: fmt.date_long(dt.date(2002, 9, 30)), "30. september 2002"),
    ],
)
def test_unit_strings(call, expected):
    assert call() == expected


@pytest.mark.parametrize(
    ("rank", "expected"),
    [
        (1, "førsteplads"),
        (2, "andenplads"),
        (3, "tredjeplads"),
        (4, "fjerdeplads"),
        (5, "femteplads"),
        (6, "sjetteplads"),
        (10, "tiendeplads"),
    ],
)
def test_place_word(rank, expected):
    assert fmt.place_word(rank) == expected


@pytest.mark.parametrize("rank", [0, 11, -1, 1.0, True])
def test_place_word_out_of_range(rank):
    with pytest.raises(ValueError):
        fmt.place_word(rank)


@pytest.mark.parametrize(
    ("items", "conjunction", "expected"),
    [
        (["a"], "og", "a"),
        (["a", "b"], "og", "a og b"),
        (["dagplejen", "skolen", "hjemmeplejen"], "og", "dagplejen, skolen og hjemmeplejen"),
        (["a", "b", "c"], "eller", "a, b eller c"),
    ],
)
def test_join_words(items, conjunction, expected):
    assert fmt.join_words(items, conjunction) == expected


def test_join_words_needs_something():
    with pytest.raises(ValueError):
        fmt.join_words([])


@pytest.mark.parametrize("bad", [None, math.nan, math.inf, -math.inf, "11,3", True])
def test_missing_or_non_numbers_raise(bad):
    with pytest.raises((TypeError, ValueError)):
        fmt.number(bad, 1)


@pytest.mark.parametrize("decimals", [-1, 7, 1.0, None])
def test_bad_decimals_raise(decimals):
    with pytest.raises(ValueError):
        fmt.number(1.0, decimals)


def test_count_must_be_whole_and_unit_known():
    with pytest.raises(ValueError, match="whole"):
        fmt.count(2.5)
    with pytest.raises(ValueError, match="unit"):
        fmt.unit_value(1.0, "kr", 0)


def test_filters_are_the_public_functions():
    assert fmt.FILTERS["percent"] is fmt.percent
    assert set(fmt.FILTERS) == {
        "number",
        "percent",
        "pp",
        "points",
        "p_value",
        "interval",
        "years",
        "count",
        "unit_value",
        "place_word",
        "ordinal_word",
        "join_words",
        "date_long",
    }
