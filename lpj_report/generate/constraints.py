"""Published targets as linear constraints on whole-respondent counts.

Layer: generate (may import base … findings, and its own layer).

A target's base and numerator are sparse linear expressions over the counts of one step (plus a
constant); a share printed as p with d decimals must lie in [p − ½·10⁻ᵈ; p + ½·10⁻ᵈ), which is two
linear rows. Rankings compare values pairwise (cross-multiplied, so only when the bases are
fixed). Group sizes can be restricted in advance so that later printed percentages are attainable.
"""

from __future__ import annotations

from fractions import Fraction
from math import lcm

from lpj_report.figures import Figure
from lpj_report.generate.quota import Row
from lpj_report.targets import NumberTarget, RankingTarget


def _count_range(t: NumberTarget, n: int) -> tuple[int, int] | None:
    """The counts k of n that print as the target (a contiguous range), or None."""
    low, high, inclusive = t.interval()
    start = max(0, int(low * n / 100) - 1)
    # t.holds(100·k/n) in whole numbers: low ≤ 100k/n ⇔ low.num·n ≤ 100k·low.den (n > 0)
    ln, ld, hn, hd = low.numerator, low.denominator, high.numerator, high.denominator
    ks = [k for k in range(start, min(n, int(high * n / 100) + 1) + 1)
          if ln * n <= 100 * k * ld
          and (100 * k * hd <= hn * n if inclusive else 100 * k * hd < hn * n)]
    return (ks[0], ks[-1]) if ks else None


def feasible_sizes(targets: list[NumberTarget], expected: float,
                   partitions: list[list[NumberTarget]] | None = None) -> list[int]:
    """Group sizes near ``expected`` for which every target's printed value can be hit; the
    targets of a ``partition`` (all categories of one figure) must also add up to the size."""
    lo = max(1, int(expected * 0.75) - 2)
    hi = int(expected * 1.3) + 3
    sizes = []
    for n in range(lo, hi + 1):
        ranges = {t.id: _count_range(t, n) for t in targets}
        if any(r is None for r in ranges.values()):
            continue
        if all(sum(ranges[t.id][0] for t in part) <= n <= sum(ranges[t.id][1] for t in part)
               for part in partitions or []):
            sizes.append(n)
    return sizes


def _bounds(t: NumberTarget) -> tuple[Fraction, Fraction, bool]:
    return t.interval()


def target_rows(tid, t: NumberTarget, fig: Figure, bc, bk, nc, nk) -> list[Row]:
    """lo ≤ value < hi as linear rows (value = 100·num/base, num/base, or base)."""
    lo, hi, inclusive = _bounds(t)
    if t.field == "base" or fig.statistic in ("count",):
        return [Row(tid, bc, lo - bk, hi - bk, strict_high=not inclusive)]
    if fig.statistic == "response_rate":
        return []
    scale = Fraction(100) if fig.statistic in ("share", "multi_share") else Fraction(1)
    # scale·num − lo·base ≥ 0   and   scale·num − hi·base < 0
    rows = []
    for bound, is_low in ((lo, True), (hi, False)):
        coef = _difference(nc, scale, bc, bound)
        const = scale * nk - bound * bk
        if is_low:
            rows.append(Row(tid, coef, -const, None))
        else:
            rows.append(Row(tid, coef, None, -const, strict_high=not inclusive))
    return rows


def _difference(a: dict[int, Fraction], fa: Fraction, b: dict[int, Fraction],
                fb: Fraction) -> dict[int, Fraction]:
    """Coefficients of ``fa·a − fb·b`` (sparse linear expressions over the counts)."""
    coef: dict[int, Fraction] = {}
    for k, v in a.items():
        coef[k] = coef.get(k, Fraction(0)) + fa * v
    for k, v in b.items():
        coef[k] = coef.get(k, Fraction(0)) - fb * v
    return coef


def ranking_rows(r: RankingTarget, terms) -> list[Row]:
    """Each listed place ahead of the next; the last listed ahead of every unlisted one.

    ``unordered``: every listed item ahead of every unlisted one. ``from_place`` > 1: only the
    order among the listed items (which items hold the places before is left open). Items with
    no respondents (a fixed base of 0) take no part.
    """
    by_key = {key: (bc, bk, nc, nk) for key, bc, bk, nc, nk in terms
              if bc or bk != 0}
    listed = [k for k in r.order if k in by_key]
    others = [k for k in by_key if k not in listed]
    if r.unordered:
        pairs = [(a, o) for a in listed for o in others]
    elif r.from_place > 1:
        pairs = list(zip(listed, listed[1:], strict=False))
    else:
        pairs = list(zip(listed, listed[1:], strict=False)) + [(listed[-1], o) for o in others]
    rows = []
    for a, b in pairs:
        if r.direction == "asc":
            a, b = b, a
        bca, bka, nca, nka = by_key[a]
        bcb, bkb, ncb, nkb = by_key[b]
        if bca or bcb:
            continue  # bases depend on this variable: not linear, checked by verify only
        # num_a / base_a ≥ num_b / base_b  ⇔  num_a·base_b − num_b·base_a ≥ 0
        coef = _difference(nca, bkb, ncb, bka)
        const = nka * bkb - nkb * bka
        # strictly ahead (the integer-scaled difference at least one): "flest" means no tie
        scale = lcm(*(f.denominator for f in [*coef.values(), const])) if coef else 1
        rows.append(Row(f"{r.id}", coef, -const + Fraction(1, scale), None))
    return rows
