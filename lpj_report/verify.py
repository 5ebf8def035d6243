"""Every published number, ranking and claim beside what the data in hand give.

Layer: findings (may import base … figures, and its own layer).

A number reproduces when the exact computed value (a fraction of whole respondents), rounded
half up to the printed precision, equals the printed value. A mismatch is *explained* when the
target names an entry of the year's audit (``audit.md``, a heading ``## <id>: …``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import pandas as pd

from lpj_report.figures import category_keys, group_keys
from lpj_report.findings import Result
from lpj_report.targets import NumberTarget, Published, RankingTarget


@dataclass(frozen=True)
class NumberCheck:
    target: NumberTarget
    computed: Fraction | None
    numerator: float | None
    base: int | None
    holds: bool
    explained: bool


@dataclass(frozen=True)
class RankingCheck:
    target: RankingTarget
    computed: tuple[str, ...]
    holds: bool
    explained: bool


@dataclass(frozen=True)
class Verification:
    numbers: list[NumberCheck]
    rankings: list[RankingCheck]
    claims: list[tuple[object, Result, bool]]     # (claim, its finding's result, explained)

    @property
    def reproduced(self) -> int:
        return sum(c.holds for c in self.numbers)

    @property
    def claims_holding(self) -> int:
        return sum(claim_holds(c, r) for c, r, _ in self.claims)

    @property
    def unexplained(self) -> list[str]:
        bad = [c.target.id for c in self.numbers if not c.holds and not c.explained]
        bad += [c.target.id for c in self.rankings if not c.holds and not c.explained]
        bad += [c.id for c, r, explained in self.claims if not claim_holds(c, r) and not explained]
        return bad

    def summary(self) -> str:
        return (f"reproduced: {self.reproduced} of {len(self.numbers)} published numbers; "
                f"claims holding: {self.claims_holding} of {len(self.claims)}")


def claim_holds(claim, result: Result) -> bool:
    """A claim of the publication holds when its finding gets the verdict it expects."""
    return result.verdict == claim.expect


def audit_ids(path: Path) -> set[str]:
    """Ids of the audit's entries: headings ``## A-xyz: title``."""
    if not path.exists():
        return set()
    return set(re.findall(r"^##\s+([A-Za-z0-9_.-]+):", path.read_text(encoding="utf-8"), re.M))


def exact_value(row: pd.Series, field: str) -> Fraction | None:
    """The exact value of a figure row: shares and rates as fractions of whole respondents."""
    if field == "base":
        return Fraction(int(row["base"]))
    if field == "numerator":
        return Fraction(str(row["numerator"]))
    if row["unit"] == "count":
        return Fraction(int(row["base"]))
    if not row["base"]:
        return None
    num = Fraction(str(row["numerator"]))
    scale = 100 if row["unit"] == "pct" else 1
    return scale * num / int(row["base"])


def check_numbers(published: Published, figures: pd.DataFrame, audit: set[str]) -> list[NumberCheck]:
    idx = {(r["figure"], r["group"], r["category"]): r for _, r in figures.iterrows()}
    out = []
    for t in published.numbers:
        row = idx.get((t.figure, t.group, t.category))
        value = exact_value(row, t.field) if row is not None else None
        holds = t.holds(value)
        out.append(NumberCheck(t, value, None if row is None else row["numerator"],
                               None if row is None else int(row["base"]), holds,
                               bool(t.audit and t.audit in audit)))
    return out


def computed_order(r: RankingTarget, figures: pd.DataFrame, codebook, registry) -> tuple[str, ...]:
    """The figure's items ordered by computed value (ties keep codebook order)."""
    fig = registry[r.figure]
    rows = figures[figures["figure"] == r.figure]
    if r.across == "categories":
        rows = rows[rows["group"] == r.group]
        keys = [k for k in category_keys(fig, codebook) if k not in fig.combine]
        values = {k: rows.loc[rows["category"] == k, "value"] for k in keys}
    else:
        rows = rows[rows["category"] == r.category]
        keys = group_keys(fig, codebook)[1:]
        values = {k: rows.loc[rows["group"] == k, "value"] for k in keys}
    vals = {k: float(v.iloc[0]) for k, v in values.items() if len(v) and pd.notna(v.iloc[0])}
    sign = -1 if r.direction == "desc" else 1
    return tuple(sorted(vals, key=lambda k: (sign * vals[k], keys.index(k))))


def ranking_holds(r: RankingTarget, order: tuple[str, ...], values: dict[str, float]) -> bool:
    """The listed items hold the printed places: in printed order unless ``unordered`` (ties
    allowed), no unlisted item ahead of the last listed one, and exactly ``from_place − 1``
    unlisted items ahead of the first listed one."""
    listed = list(r.order)
    if not all(k in values for k in listed):
        return False
    sign = 1 if r.direction == "desc" else -1
    seq = [sign * values[k] for k in listed]
    if not r.unordered and any(a < b for a, b in zip(seq, seq[1:], strict=False)):
        return False
    lowest, highest = min(seq), max(seq)
    others = [sign * v for k, v in values.items() if k not in listed]
    ahead = sum(v > highest for v in others)
    behind_ok = all(v <= lowest for v in others if v <= highest)
    return ahead == r.from_place - 1 and behind_ok


def check_rankings(published: Published, figures: pd.DataFrame, codebook, registry,
                   audit: set[str]) -> list[RankingCheck]:
    out = []
    for r in published.rankings:
        order = computed_order(r, figures, codebook, registry)
        rows = figures[figures["figure"] == r.figure]
        if r.across == "categories":
            rows = rows[(rows["group"] == r.group)
                        & ~rows["category"].isin(list(registry[r.figure].combine))]
            values = dict(zip(rows["category"], rows["value"], strict=True))
        else:
            rows = rows[(rows["category"] == r.category) & (rows["group"] != "alle")]
            values = dict(zip(rows["group"], rows["value"], strict=True))
        values = {k: float(v) for k, v in values.items() if pd.notna(v)}
        holds = ranking_holds(r, order, values)
        out.append(RankingCheck(r, order[: max(len(r.order), 5)], holds,
                                bool(r.audit and r.audit in audit)))
    return out


def verify(published: Published, figures: pd.DataFrame, results: dict[str, Result], codebook,
           registry: dict, audit_path: Path) -> Verification:
    audit = audit_ids(audit_path)
    claims = [(c, results[c.finding], bool(c.audit and c.audit in audit))
              for c in published.claims]
    return Verification(check_numbers(published, figures, audit),
                        check_rankings(published, figures, codebook, registry, audit), claims)
