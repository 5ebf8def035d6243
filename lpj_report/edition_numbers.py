"""The numbers of the municipality editions: each municipality against the others, tested.

Layer: findings (imports base, figures and findings modules: ``figures``, ``suppression``,
``comparison``, ``stats``). :func:`make_cube` computes once what every edition of a wave shares —
the figure table per municipality and for the whole wave, the suppression pattern over all
municipalities together and the spread of the means; :func:`edition_rows` gives one edition's
figure table: the municipality's rows with the difference to all municipalities, its test
(two-proportion z-test, Fisher's exact test for small counts, Welch's t-test for means, from
:mod:`lpj_report.stats`) and the Benjamini–Hochberg q over every test of the edition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lpj_report.edition_names import MANIFEST, EditionError, edition_figure_ids
from lpj_report.figures import ALL, Figure, compute_figures

ALPHA = 0.05


@dataclass
class Cube:
    """Everything all editions of a wave share, computed once: the per-municipality tables,
    the whole wave, the suppression pattern and the spread of the means."""

    project: Any
    build: Any
    figures: list[Figure]
    total: pd.DataFrame
    units: dict[str, pd.DataFrame]
    suppression: Any
    config: Any
    spread: dict[tuple[str, str, str], tuple[float, float, int]] = field(default_factory=dict)
    #: what every edition's text sees of the whole survey, computed once
    #: (:func:`lpj_report.edition_context.wave_variables`)
    shared: dict[str, Any] = field(default_factory=dict)
    #: the build cache's key of this cube (None: not kept); an edition's rows are kept under it
    entry: str | None = None

    @property
    def municipalities(self) -> list[str]:
        return list(self.units)


def make_cube(project, build, min_base: int | None = None, allow_low: bool = False,
              inputs: str | None = None) -> Cube:
    """The cube of a wave. ``inputs``: the key of everything the build was made from
    (:func:`lpj_report.cached_build.inputs_key`: data, registry, settings, options, code); with
    it the cube is kept in the build cache in use and read from there the next time, and so are
    the editions' rows (:func:`edition_rows`)."""
    from lpj_report import cache, suppression

    config = suppression.load_config(min_base, allow_low)
    registry = project.registry
    missing = [i for i in edition_figure_ids() if i not in registry]
    if missing:
        raise EditionError(f"{MANIFEST.name}: unknown figures {missing}")
    figures = [registry[i] for i in edition_figure_ids()]
    bad = [f.id for f in figures if f.statistic == "response_rate"
           or "kommune" in (f.variable, f.breakdown, *f.filter)]
    if bad:
        raise EditionError(f"{MANIFEST.name}: figures that cannot be split by municipality: {bad}")
    store = cache.current()
    entry = cache.key("cube", inputs) if inputs is not None and store.enabled else None
    total, units, result, spread = store.object(
        "cube", entry, lambda: _cube_parts(project, build, figures, config),
        lambda found: isinstance(found, tuple) and len(found) == 4)
    return Cube(project, build, figures, total, units, result, config, spread, entry=entry)


def _cube_parts(project, build, figures: list[Figure], config) -> tuple:
    """(the whole wave's table, the table per municipality with respondents, the suppression
    over all municipalities, the spread of each mean in each municipality and in the rest)."""
    from lpj_report import suppression
    from lpj_report.comparison import mean_spread

    cb, pops, data = project.codebook, project.populations, build.data
    total = compute_figures(data, cb, figures, pops, build.wave.meta)
    kommune = data["kommune"].astype("object")
    units = {}
    spread = {}
    for key in cb["kommune"].keys:
        mask = (kommune == key).to_numpy(bool)
        if not mask.any():
            continue
        units[key] = compute_figures(data[mask], cb, figures, pops, build.wave.meta)
        for fig in figures:
            if fig.statistic == "mean":
                for scope, part in ((key, data[mask]), ("rest:" + key, data[~mask])):
                    for g, s in mean_spread(part, fig, cb, pops).items():
                        spread[(scope, fig.id, g)] = s
    result = suppression.protect(data, cb, figures, pops, min_base=config.min_base,
                                 unit_var="kommune")
    return total, units, result, spread


def protect_wave(build, min_base: int | None = None, allow_low: bool = False) -> None:
    """Disclosure control for the whole survey's numbers (the annual report, and the whole
    survey's figures in an edition): numbers with a base below the minimum
    (data/disclosure.yaml), and those they could be worked back from, are withheld in
    figures.json/csv, tables, charts and text alike (:mod:`lpj_report.suppression`).

    Always protects the computed table, however often it is called (two cubes of one build
    each ask): the first call keeps the unprotected table aside, a later one with the same
    settings changes nothing, one with other settings protects the kept table again."""
    from lpj_report import suppression

    config = suppression.load_config(min_base, allow_low)
    computed = build.__dict__.get("unprotected_figures")
    if computed is None:
        computed = build.__dict__["unprotected_figures"] = build.figures
    elif build.__dict__.get("disclosure") == config:
        return
    build.__dict__["disclosure"] = config   # build_meta and the report context record it
    project = build.project
    result = suppression.protect_table(computed, project.figures, project.codebook,
                                       config.min_base)
    table = suppression.apply(computed, suppression.unit_rows(result, "alle"), config.min_base)
    build.__dict__["figures"] = table   # replaces the cached, unprotected table
    build.__dict__.pop("findings", None)  # tested again on the protected table


def _test(fig: Figure, k: dict, t: dict, spread: dict, key: str) -> tuple[float, float, str]:
    """Municipality against the other municipalities: (statistic, p, test name) — the pooled
    two-proportion z-test, Fisher's exact test when an expected count is below 5, Welch's t-test
    for means (:mod:`lpj_report.stats`)."""
    from lpj_report import stats

    if fig.statistic in ("share", "multi_share"):
        x1, n1 = float(k["numerator"]), float(k["base"])
        x2, n2 = float(t["numerator"]) - x1, float(t["base"]) - n1
        test = stats.two_proportions(x1, n1, x2, n2)
        return test.statistic, test.p, test.name
    if fig.statistic == "mean":
        a = spread.get((key, fig.id, k["group"]))
        b = spread.get(("rest:" + key, fig.id, k["group"]))
        if a and b:
            test = stats.welch(*a, *b)
            return test.statistic, test.p, "welch"
    return math.nan, math.nan, ""


def edition_rows(cube: Cube, key: str) -> pd.DataFrame:
    """The edition's figure table: the municipality's rows (with suppression flags, the
    difference to all municipalities and its test) and the rows of all municipalities. Kept in
    the build cache with a cube that is (:func:`make_cube`'s ``inputs``)."""
    from lpj_report import cache

    entry = cache.key("edition-rows", cube.entry, key) if cube.entry else None
    return cache.current().object("edition-rows", entry, lambda: _edition_rows(cube, key),
                                  lambda found: isinstance(found, pd.DataFrame))


def _edition_rows(cube: Cube, key: str) -> pd.DataFrame:
    from lpj_report import stats, suppression

    min_base = cube.config.min_base
    raw_k = cube.units[key]
    shown_k = suppression.apply(raw_k, suppression.unit_rows(cube.suppression, key), min_base)
    shown_t = suppression.apply(cube.total, set(), min_base)
    registry = cube.project.registry
    t_by_key = {(r["figure"], r["group"], r["category"]): r
                for r in cube.total.to_dict(orient="records")}
    extra = []
    for r, s in zip(raw_k.to_dict(orient="records"), shown_k.to_dict(orient="records"),
                    strict=True):
        t = t_by_key[(r["figure"], r["group"], r["category"])]
        t_hidden = 0 < t["base"] < min_base
        rec = {"diff": None, "statistic": None, "p_value": None, "test": ""}
        if not s["suppressed"] and not t_hidden and r["base"] > 0 and r["value"] is not None \
                and not pd.isna(r["value"]):
            rec["diff"] = float(r["value"]) - float(t["value"])
            stat, p, name = _test(registry[r["figure"]], r, t, cube.spread, key)
            if np.isfinite(p):
                rec.update(statistic=None if np.isnan(stat) else stat, p_value=p, test=name)
        extra.append(rec)
    mine = pd.concat([shown_k.reset_index(drop=True), pd.DataFrame(extra)], axis=1)
    tested = mine["p_value"].notna()
    mine["q_value"] = None
    mine["significant"] = False
    if tested.any():
        q = stats.bh(mine.loc[tested, "p_value"].to_numpy(float))
        mine.loc[tested, "q_value"] = q
        mine.loc[tested, "significant"] = q < ALPHA
    direction = np.where(~tested, "", np.where(~mine["significant"].astype(bool), "uncertain",
                                               np.where(mine["diff"].astype(float) > 0,
                                                        "over", "under")))
    mine["direction"] = direction
    mine.insert(0, "kommune", key)
    total = shown_t.copy()
    total.insert(0, "kommune", ALL)
    for col in ("diff", "statistic", "p_value", "test", "q_value", "significant", "direction"):
        total[col] = None
    out = pd.concat([mine, total], ignore_index=True)
    out["significant"] = out["significant"].astype("boolean")
    return out
