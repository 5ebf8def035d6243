"""Published targets: the numbers, rankings and claims of one survey year.

Layer: figures (may import base … derive, and its own layer).

Read from ``data/published/<year>/*.yaml`` (file name order). A number target reproduces when
the computed value, rounded half up to the printed precision, equals the printed value; a verbal
amount (``bounds``) when the computed value lies within the bounds (inclusive).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from lpj_report.cli_errors import InputError
from lpj_report.codebook import Codebook
from lpj_report.figures import ALL, Figure, category_keys, group_keys
from lpj_report.paths import PUBLISHED_DIR
from lpj_report.readers import mapping, read_yaml, sequence


class TargetError(InputError):
    """A target refers to something the registry or codebook does not have."""


@dataclass(frozen=True)
class NumberTarget:
    id: str
    figure: str
    group: str
    category: str
    value: float | None = None
    decimals: int = 0
    bounds: tuple[float, float] | None = None
    field: str = "value"           # value | base | numerator
    where: str = ""
    quote: str = ""
    reading: str = ""
    conflict: str | None = None
    audit: str | None = None
    adopt: bool = True              # False: the reconstruction does not aim at this number

    def interval(self) -> tuple[Fraction, Fraction, bool]:
        """(low, high, high_inclusive): the computed values that reproduce this target."""
        if self.bounds is not None:
            return Fraction(str(self.bounds[0])), Fraction(str(self.bounds[1])), True
        half = Fraction(1, 2 * 10**self.decimals)
        v = Fraction(str(self.value))
        return v - half, v + half, False

    def holds(self, value: Fraction | float | None) -> bool:
        if value is None:
            return False
        value = Fraction(value) if not isinstance(value, Fraction) else value
        lo, hi, inclusive = self.interval()
        return lo <= value and (value <= hi if inclusive else value < hi)


@dataclass(frozen=True)
class RankingTarget:
    id: str
    figure: str
    order: tuple[str, ...]
    across: str = "categories"      # categories | groups
    group: str = ALL
    category: str | None = None
    direction: str = "desc"
    from_place: int = 1             # the first listed item holds this place (3: "tredjeplads")
    unordered: bool = False         # the listed items are these places in any order ("i top")
    where: str = ""
    quote: str = ""
    conflict: str | None = None
    audit: str | None = None
    adopt: bool = True


@dataclass(frozen=True)
class Claim:
    """A statement of the publication and the finding (``data/findings``) that tests it.
    ``expect`` is the verdict the publication's wording asks for: ``supported``, or
    ``not_supported`` for its statements of no association or no difference."""

    id: str
    finding: str
    expect: str
    statement: str = ""
    where: str = ""
    quote: str = ""
    audit: str | None = None
    conflict: str | None = None


@dataclass(frozen=True)
class Published:
    year: int
    numbers: list[NumberTarget]
    rankings: list[RankingTarget]
    claims: list[Claim]


def _number(raw: dict) -> NumberTarget:
    bounds = raw.get("bounds")
    return NumberTarget(
        id=str(raw["id"]), figure=str(raw["figure"]), group=str(raw.get("group", ALL)),
        category=str(raw["category"]), value=raw.get("value"),
        decimals=int(raw.get("decimals", 0)),
        bounds=(float(bounds[0]), float(bounds[1])) if bounds else None,
        field=str(raw.get("field", "value")), where=str(raw.get("where", "")),
        quote=str(raw.get("quote", "")), reading=str(raw.get("reading", "")),
        conflict=raw.get("conflict"), audit=raw.get("audit"), adopt=bool(raw.get("adopt", True)),
    )


def _ranking(raw: dict) -> RankingTarget:
    return RankingTarget(
        id=str(raw["id"]), figure=str(raw["figure"]), order=tuple(raw["order"]),
        across=str(raw.get("across", "categories")), group=str(raw.get("group", ALL)),
        category=raw.get("category"), direction=str(raw.get("direction", "desc")),
        from_place=int(raw.get("from_place", 1)), unordered=bool(raw.get("unordered", False)),
        where=str(raw.get("where", "")), quote=str(raw.get("quote", "")),
        conflict=raw.get("conflict"), audit=raw.get("audit"), adopt=bool(raw.get("adopt", True)),
    )


EXPECTED = ("supported", "not_supported", "opposite")


def _claim(raw: dict) -> Claim:
    expect = str(raw["expect"])
    if expect not in EXPECTED:
        raise ValueError(f"expect must be one of {EXPECTED}, not {expect!r}")
    return Claim(
        id=str(raw["id"]), finding=str(raw["finding"]), expect=expect,
        statement=str(raw.get("statement", "")), where=str(raw.get("where", "")),
        quote=str(raw.get("quote", "")), audit=raw.get("audit"), conflict=raw.get("conflict"),
    )


def load_published(year: int, codebook: Codebook, figures: list[Figure],
                   folder: Path | None = None) -> Published:
    """Read and check every target file of one year."""
    folder = folder or PUBLISHED_DIR / str(year)
    by_id = {f.id: f for f in figures}
    numbers: list[NumberTarget] = []
    rankings: list[RankingTarget] = []
    claims: list[Claim] = []
    seen: set[str] = set()
    for path in sorted(folder.glob("*.yaml")):
        doc = mapping(read_yaml(path, "published-targets file"), path.name, "(top level)",
                      "a mapping with 'numbers', 'rankings' or 'claims'")
        for key, parse, out in (("numbers", _number, numbers), ("rankings", _ranking, rankings),
                                ("claims", _claim, claims)):
            for raw in sequence(doc.get(key), path.name, key, f"a list of {key}"):
                raw = mapping(raw, path.name, key, "a mapping per entry (id, …)",
                              empty_ok=False)
                try:
                    item = parse(raw)
                except KeyError as exc:
                    raise TargetError(f"{path.name}: {key} entry {raw.get('id')!r} lacks "
                                      f"{exc}") from None
                except (TypeError, ValueError, AttributeError) as exc:
                    raise TargetError(f"{path.name}: {key} entry {raw.get('id')!r}: {exc}; "
                                      "expected the fields of docs/design.md (Published "
                                      "targets)") from None
                if item.id in seen:
                    raise TargetError(f"{path.name}: target id {item.id!r} used twice")
                seen.add(item.id)
                _check(item, by_id, codebook, path.name)
                out.append(item)
    return Published(year, numbers, rankings, claims)


def _check(item, by_id: dict[str, Figure], codebook: Codebook, source: str) -> None:
    where = f"{source}: {item.id}"
    if isinstance(item, Claim):
        return   # its finding is checked against data/findings by the project (pipeline.py)
    fig = by_id.get(item.figure)
    if fig is None:
        raise TargetError(f"{where}: unknown figure {item.figure!r}")
    groups = group_keys(fig, codebook)
    cats = category_keys(fig, codebook)
    if isinstance(item, NumberTarget):
        if item.group not in groups:
            raise TargetError(f"{where}: group {item.group!r} not in {groups}")
        if item.category not in cats:
            raise TargetError(f"{where}: category {item.category!r} not in {cats}")
        if item.value is None and item.bounds is None:
            raise TargetError(f"{where}: needs value or bounds")
    else:
        listed = groups if item.across == "groups" else cats
        bad = [k for k in item.order if k not in listed]
        if bad:
            raise TargetError(f"{where}: ranking items {bad} not in {listed}")
