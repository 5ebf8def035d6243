"""The figure registry (``data/figures/*.yaml``): what each figure counts, read and checked.

Layer: figures (imports base and load modules only). A :class:`Figure` names a statistic
(:data:`STATISTICS`), the variable, population, filter and breakdown; :func:`category_keys` and
:func:`group_keys` give the rows it has, :func:`interval` the confidence interval of one row. The
numbers themselves are computed by :mod:`lpj_report.figures` (reference) and
:mod:`lpj_report.figure_engine` (fast), which both read this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from lpj_report.cli_errors import InputError
from lpj_report.codebook import Codebook
from lpj_report.paths import DATA_DIR
from lpj_report.stats import t_interval, wilson

STATISTICS = ("share", "multi_share", "mean", "count", "response_rate")
UNITS = {"share": "pct", "multi_share": "pct", "mean": "years", "count": "count",
         "response_rate": "pct"}
ALL = "alle"
COLUMNS = ["figure", "group", "category", "numerator", "base", "value", "ci_low", "ci_high",
           "unit", "decimals"]


class FigureError(InputError):
    """A figure declaration is inconsistent with the codebook."""


@dataclass(frozen=True)
class Figure:
    id: str
    title: str
    variable: str
    statistic: str
    population: str = "alle"
    filter: dict[str, tuple[str, ...]] = field(default_factory=dict)
    breakdown: str | None = None
    combine: dict[str, tuple[str, ...]] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    categories: tuple[str, ...] | None = None
    decimals: int = 0
    chart: str = "none"
    section: str = ""
    note: str = ""
    unit: str | None = None

    @property
    def variables(self) -> list[str]:
        """Every variable the figure reads (for the generator and for validation)."""
        names = [self.variable, *self.filter]
        if self.breakdown:
            names.append(self.breakdown)
        return names


def load_populations(path: Path | None = None) -> dict[str, dict[str, tuple[str, ...]]]:
    """Named respondent groups (``data/populations.yaml``): name → variable → keys."""
    from lpj_report.readers import mapping, read_yaml

    path = path or DATA_DIR / "populations.yaml"
    file = path.name
    doc = mapping(read_yaml(path, "populations file"), file, "(top level)",
                  "a mapping with the key 'populations'")
    raw = mapping(doc.get("populations"), file, "populations",
                  "a mapping of population → conditions", empty_ok=False)
    out = {}
    for name, cond in raw.items():
        cond = mapping(cond, file, f"populations.{name}",
                       "a mapping of variable → list of keys, or {}")
        out[str(name)] = {str(k): _keys(v, file, f"populations.{name}.{k}")
                          for k, v in cond.items()}
    return out


def _keys(value: Any, file: str, key: str) -> tuple[str, ...]:
    from lpj_report.readers import sequence

    items = sequence(value, file, key, "a list of keys")
    if not all(isinstance(v, str) for v in items):
        raise FigureError.at(file, "a list of keys (text)", key=key, value=value)
    return tuple(items)


def _figure(raw: dict[str, Any], file: str = "figures") -> Figure:
    from lpj_report.readers import mapping, text, whole_number

    where = f"figure {raw.get('id')!r}"
    for key in ("id", "variable"):
        if key not in raw:
            raise KeyError(key)
        text(raw[key], file, f"{where}.{key}", "text")
    optional_text = ("title", "statistic", "population", "breakdown", "chart", "section",
                     "note", "unit")
    for key in optional_text:
        if raw.get(key) is not None:
            text(raw[key], file, f"{where}.{key}", "text")
    decimals = whole_number(raw.get("decimals", 0), file, f"{where}.decimals",
                            "a whole number from 0 to 6", minimum=0, maximum=6)
    groups = {key: {str(k): _keys(v, file, f"{where}.{key}.{k}")
                    for k, v in mapping(raw.get(key), file, f"{where}.{key}",
                                        "a mapping of name → list of keys").items()}
              for key in ("filter", "combine")}
    return Figure(
        id=str(raw["id"]),
        title=str(raw.get("title", "")),
        variable=str(raw["variable"]),
        statistic=str(raw.get("statistic", "share")),
        population=str(raw.get("population", "alle")),
        filter=groups["filter"],
        breakdown=raw.get("breakdown"),
        combine=groups["combine"],
        exclude=_keys(raw.get("exclude"), file, f"{where}.exclude"),
        categories=_keys(raw["categories"], file, f"{where}.categories")
        if raw.get("categories") else None,
        decimals=decimals,
        chart=str(raw.get("chart", "none")),
        section=str(raw.get("section", "")),
        note=str(raw.get("note", "")),
        unit=raw.get("unit"),
    )


def load_figures(codebook: Codebook, folder: Path | None = None,
                 populations: dict | None = None) -> list[Figure]:
    """Read every figure declaration (file name order) and check it against the codebook."""
    from lpj_report.readers import mapping, read_yaml, sequence

    folder = folder or DATA_DIR / "figures"
    populations = populations if populations is not None else load_populations()
    figures: list[Figure] = []
    seen: set[str] = set()
    for path in sorted(folder.glob("*.yaml")):
        doc = mapping(read_yaml(path, "figure file"), path.name, "(top level)",
                      "a mapping with the key 'figures'")
        for raw in sequence(doc.get("figures"), path.name, "figures", "a list of figures"):
            raw = mapping(raw, path.name, "figures", "a mapping per figure (id, variable, …)",
                          empty_ok=False)
            try:
                fig = _figure(raw, path.name)
            except KeyError as exc:
                raise FigureError(f"{path.name}: figure {raw.get('id')!r} lacks {exc}") from None
            if fig.id in seen:
                raise FigureError(f"{path.name}: figure id {fig.id!r} declared twice")
            seen.add(fig.id)
            check_figure(fig, codebook, populations, source=path.name)
            figures.append(fig)
    return figures


def check_figure(fig: Figure, codebook: Codebook, populations: dict, source: str = "") -> None:
    where = f"{source}: {fig.id}"
    if fig.statistic not in STATISTICS:
        raise FigureError(f"{where}: statistic must be one of {STATISTICS}")
    if fig.population not in populations:
        raise FigureError(f"{where}: unknown population {fig.population!r}")
    for name in fig.variables:
        if name not in codebook:
            raise FigureError(f"{where}: variable {name!r} is not in the codebook")
    var = codebook[fig.variable]
    for name, keys in fig.filter.items():
        bad = set(keys) - set(codebook[name].keys)
        if bad:
            raise FigureError(f"{where}: filter {name} has unknown keys {sorted(bad)}")
    for name, keys in fig.combine.items():
        bad = set(keys) - set(var.keys)
        if bad:
            raise FigureError(f"{where}: combine {name} has unknown keys {sorted(bad)}")
    if fig.statistic in ("share", "multi_share") and var.kind == "number":
        raise FigureError(f"{where}: {fig.statistic} needs a categorical variable")
    if fig.statistic == "multi_share" and var.kind != "multi":
        raise FigureError(f"{where}: multi_share needs a multiple-choice variable")
    if fig.statistic == "share" and var.kind != "single":
        raise FigureError(f"{where}: share needs a single-choice variable")
    if fig.statistic == "mean" and var.kind != "number":
        raise FigureError(f"{where}: mean needs a number variable")
    if fig.breakdown and codebook[fig.breakdown].kind != "single":
        raise FigureError(f"{where}: breakdown must be a single-choice variable")


def category_keys(fig: Figure, codebook: Codebook) -> list[str]:
    """The category keys a figure reports, in codebook order, then combined categories."""
    var = codebook[fig.variable]
    if fig.statistic in ("mean",):
        return ["mean"]
    if fig.statistic in ("count", "response_rate"):
        return ["n"]
    keys = list(fig.categories) if fig.categories else [k for k in var.keys if k not in fig.exclude]
    return keys + [k for k in fig.combine if k not in keys]


def group_keys(fig: Figure, codebook: Codebook) -> list[str]:
    return [ALL] + (codebook[fig.breakdown].keys if fig.breakdown else [])


def interval(statistic: str, num: float, base: int,
             spread: float | None) -> tuple[float | None, float | None]:
    """The 95 % interval of one row, as a fraction for shares and in the variable's unit for
    means; (None, None) for counts, response rates and empty groups."""
    if not base:
        return None, None
    if statistic in ("share", "multi_share"):
        return wilson(num, base)
    if statistic == "mean":
        return t_interval(num, base, spread)
    return None, None


@cache
def default_figures() -> tuple[Figure, ...]:
    from lpj_report.codebook import default_codebook

    return tuple(load_figures(default_codebook()))
