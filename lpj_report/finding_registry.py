"""The findings registry (``data/findings/*.yaml``): what each finding tests, read and checked,
and the shape of its result.

Layer: findings (imports base, load and figures modules only). A :class:`Finding` names its test
(:data:`TESTS`), variables, cells and family; :func:`load_findings` reads and checks them against
the codebook and the figure registry; :class:`Result` and :class:`Estimate` are what
:mod:`lpj_report.findings` computes for one finding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lpj_report import stats
from lpj_report.cli_errors import InputError
from lpj_report.codebook import Codebook
from lpj_report.figures import ALL, Figure, category_keys, group_keys
from lpj_report.paths import DATA_DIR
from lpj_report.readers import read_yaml

FINDINGS_DIR = DATA_DIR / "findings"
TESTS = ("chi2", "spearman", "two_proportions", "two_means", "cells", "ranking", "options")
VERDICTS = ("supported", "not_supported", "opposite", "not_testable")
DIRECTIONS = ("any", "positive", "negative")


class FindingError(InputError):
    """A finding declaration refers to something the codebook or registry does not have (an
    input error: ``lpj`` prints it as ``error: …`` and exits with 2)."""


@dataclass(frozen=True)
class Family:
    id: str
    title: str
    note: str = ""


@dataclass(frozen=True)
class Settings:
    alpha: float = 0.05
    min_base: int = 20          # smallest group a test compares
    margin: float = 0.10        # equivalence margin of an ``options`` finding (fraction)
    cluster: str | None = None  # codebook variable holding a cluster id, when present
    response_rate_floor: float = 60.0   # a role's response rate below this is called low


@dataclass(frozen=True)
class Cell:
    figure: str
    group: str = ALL
    category: str = ""


@dataclass(frozen=True)
class Finding:
    id: str
    family: str
    test: str
    statement: str = ""
    direction: str = "any"
    population: str = "alle"
    filter: dict[str, tuple[str, ...]] = field(default_factory=dict)
    x: str | None = None
    y: str | None = None
    reverse_x: bool = False
    contrast: dict[str, Any] | None = None
    cells: tuple[Cell, ...] = ()
    figure: str | None = None
    across: str = "groups"
    group: str = ALL
    category: str | None = None
    top: int = 1
    exclude: tuple[str, ...] = ()
    margin: float | None = None
    alpha: float | None = None
    min_base: int | None = None
    source: str = ""

    @property
    def directional(self) -> bool:
        return self.direction != "any" or self.test in ("ranking", "options")

    def variables(self, registry: dict[str, Figure]) -> set[str]:
        """Every codebook variable the finding reads (for tests of what it is about)."""
        names = {n for n in (self.x, self.y) if n} | set(self.filter)
        figs = [c.figure for c in self.cells] + ([self.figure] if self.figure else [])
        for fid in figs:
            fig = registry[fid]
            names |= set(fig.variables)
        return names


@dataclass(frozen=True)
class Estimate:
    """One estimate behind a finding: value (fraction for shares, the unit for means), its
    95 % interval, the numerator and the base."""

    key: str
    value: float | None
    low: float | None
    high: float | None
    base: int
    numerator: float | None = None
    unit: str = "share"         # share | mean


@dataclass(frozen=True)
class Result:
    finding: Finding
    verdict: str
    test: stats.Test
    n: int
    q: float | None = None
    estimates: dict[str, Estimate] = field(default_factory=dict)
    order: tuple[str, ...] = ()         # ranking: keys ordered by value
    top: tuple[str, ...] = ()           # ranking: the items at the stated places
    after: tuple[str, ...] = ()         # ranking: the first item(s) after them
    options: tuple[dict[str, Any], ...] = ()   # options: one dict per option
    reason: str = ""

    @property
    def tested(self) -> bool:
        return self.verdict != "not_testable" and self.test.finite

    @property
    def sign(self) -> int:
        """+1 when the estimate goes the stated way (a > b, positive ρ, top ahead), −1 when the
        other way, 0 when there is none."""
        e = self.test.effect
        if e is None or not math.isfinite(e) or e == 0:
            return 0
        return 1 if e > 0 else -1


@dataclass(frozen=True)
class Registry:
    families: dict[str, Family]
    findings: dict[str, Finding]
    settings: Settings


# ---------------------------------------------------------------------------- declarations


def _finding(raw: dict, source: str) -> Finding:
    cells = tuple(Cell(str(c["figure"]), str(c.get("group", ALL)), str(c.get("category", "")))
                  for c in raw.get("cells") or [])
    direction = str(raw.get("direction", "any"))
    return Finding(
        id=str(raw["id"]), family=str(raw["family"]), test=str(raw["test"]),
        statement=str(raw.get("statement", "")), direction=direction,
        population=str(raw.get("population", "alle")),
        filter={k: tuple(v) for k, v in (raw.get("filter") or {}).items()},
        x=raw.get("x"), y=raw.get("y"), reverse_x=bool(raw.get("reverse_x", False)),
        contrast=raw.get("contrast"), cells=cells, figure=raw.get("figure"),
        across=str(raw.get("across", "groups")), group=str(raw.get("group", ALL)),
        category=raw.get("category"), top=int(raw.get("top", 1)),
        exclude=tuple(raw.get("exclude") or ()),
        margin=None if raw.get("margin") is None else float(raw["margin"]),
        alpha=None if raw.get("alpha") is None else float(raw["alpha"]),
        min_base=None if raw.get("min_base") is None else int(raw["min_base"]),
        source=source,
    )


def load_findings(codebook: Codebook, registry: dict[str, Figure], populations: dict,
                  folder: Path | None = None) -> Registry:
    """Read ``_families.yaml`` and every finding file (name order) and check each finding."""
    folder = folder or FINDINGS_DIR
    head = read_yaml(folder / "_families.yaml", "families file") or {}
    families = {str(f["id"]): Family(str(f["id"]), str(f.get("title", "")),
                                     str(f.get("note", "")))
                for f in head.get("families") or []}
    settings = Settings(**(head.get("settings") or {}))
    findings: dict[str, Finding] = {}
    for path in sorted(folder.glob("[!_]*.yaml")):
        for raw in (read_yaml(path, "findings file") or {}).get("findings") or []:
            try:
                item = _finding(raw, path.name)
            except (KeyError, TypeError, ValueError) as exc:
                raise FindingError(f"{path.name}: finding {raw.get('id')!r}: {exc}") from None
            if item.id in findings:
                raise FindingError(f"{path.name}: finding id {item.id!r} declared twice")
            _check(item, families, codebook, registry, populations)
            findings[item.id] = item
    return Registry(families, findings, settings)


def _check(f: Finding, families, codebook: Codebook, registry, populations) -> None:
    where = f"{f.source}: {f.id}"
    if f.family not in families:
        raise FindingError(f"{where}: unknown family {f.family!r} (_families.yaml)")
    if f.test not in TESTS:
        raise FindingError(f"{where}: test must be one of {TESTS}, not {f.test!r}")
    if f.direction not in DIRECTIONS:
        raise FindingError(f"{where}: direction must be one of {DIRECTIONS}")
    if f.population not in populations:
        raise FindingError(f"{where}: unknown population {f.population!r}")
    for name in [n for n in (f.x, f.y) if n] + list(f.filter):
        if name not in codebook:
            raise FindingError(f"{where}: variable {name!r} is not in the codebook")
    if f.test in ("chi2", "spearman", "two_proportions", "two_means", "options") and not (f.x and f.y):
        raise FindingError(f"{where}: test {f.test} needs x and y")
    if f.test in ("two_proportions", "two_means", "options"):
        con = f.contrast or {}
        keys = codebook[f.x].keys
        for side in ("a", "b"):
            bad = [k for k in con.get(side) or [] if k not in keys]
            if not con.get(side) or bad:
                raise FindingError(f"{where}: contrast.{side} must list keys of {f.x} {bad}")
    if f.test == "cells":
        if len(f.cells) != 2:
            raise FindingError(f"{where}: test cells needs two cells, a and b")
        for c in f.cells:
            _check_cell(where, c, registry, codebook)
    if f.test == "ranking":
        if f.figure not in registry:
            raise FindingError(f"{where}: unknown figure {f.figure!r}")
        fig = registry[f.figure]
        if f.across == "groups":
            if not fig.breakdown or f.category not in category_keys(fig, codebook):
                raise FindingError(f"{where}: a ranking across groups needs a figure with a "
                                   f"breakdown and one of its categories, not {f.category!r}")
        elif f.group not in group_keys(fig, codebook):
            raise FindingError(f"{where}: figure {f.figure} has no group {f.group!r}")


def _check_cell(where: str, c: Cell, registry, codebook) -> None:
    fig = registry.get(c.figure)
    if fig is None:
        raise FindingError(f"{where}: unknown figure {c.figure!r}")
    if c.group not in group_keys(fig, codebook):
        raise FindingError(f"{where}: figure {c.figure} has no group {c.group!r}")
    if c.category not in category_keys(fig, codebook):
        raise FindingError(f"{where}: figure {c.figure} has no category {c.category!r}")


