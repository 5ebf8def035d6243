"""Municipality editions: one municipality's numbers beside all municipalities of the wave.

``lpj build --kommune NAME`` (``make report KOMMUNE=NAME``) builds one edition into
``report/<year>/kommuner/<key>/``; ``lpj editions`` (``make editions``) builds all of them in
parallel, the data loaded and the suppression computed once.

An edition is a shorter report, written in ``templates/editions/*.yaml`` (the same mechanism as
``templates/chapters``: strict Jinja strings rendered by :func:`lpj_report.report_context.section`).
Its figures are listed in ``templates/editions/_figurer.yaml``; only those are published per
municipality. The templates see

* ``K`` — the municipality (``K.navn``, ``K.svar`` …);
* ``E[figure id]`` — the comparisons, ``E['kap2.laering'].alle.hoej`` is a :class:`Cmp` with the
  municipality's value ``k``, the total ``t``, the difference and ``word`` ("højere end", "lavere
  end" or "på niveau med"), decided by a test of the municipality against the other
  municipalities (two-proportion z-test, Fisher's exact test for small counts, Welch's t-test for
  means) with Benjamini–Hochberg over every comparison of the edition;
* ``SIG`` — the significant comparisons; ``W`` — survey facts; ``S`` — disclosure settings.

A block ``{type: figure, edition_figure: <id>}`` (or ``type: table``) becomes a chart of the
municipality beside all municipalities and a table with the two columns; ``category:`` picks one
category across the breakdown's groups, ``categories:`` picks categories of the whole population.

Disclosure control (:mod:`lpj_report.suppression`) runs over all municipalities together, so that
no suppressed number can be worked out by combining editions. Suppressed numbers print as the mark
of ``data/disclosure.yaml`` (``◊``), explained under every table that has one.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lpj_report import format as fmt
from lpj_report.figures import ALL, Figure, category_keys, compute_figures, group_keys
from lpj_report.paths import REPORT_DIR, TEMPLATES_DIR
from lpj_report.readers import read_yaml

EDITIONS_DIR = TEMPLATES_DIR / "editions"
MANIFEST = EDITIONS_DIR / "_figurer.yaml"
SUBDIR = "kommuner"
NAME = "laering-paa-jobbet"
TOTAL_LABEL = "Alle kommuner"
ALPHA = 0.05
_KEY = re.compile(r"^[a-z0-9_]+$")
WORDS_FILE = EDITIONS_DIR / "_ord.yaml"


class EditionError(ValueError):
    """An edition cannot be built as asked (unknown municipality, bad template)."""


# ---------------------------------------------------------------------------- names and paths


_DANISH = {"long": (("æ", "ae"), ("ø", "oe"), ("å", "aa")),
           "short": (("æ", "a"), ("ø", "o"), ("å", "a"))}


def slugify(text: str, style: str = "long") -> str:
    """ASCII slug of a Danish name: ``Hillerød`` → ``hilleroed``, ``Bramsnæs`` → ``bramsnaes``
    (``style="short"``: ``hillerod``, ``bramsnas``)."""
    text = unicodedata.normalize("NFC", str(text)).strip().casefold()
    for a, b in _DANISH[style]:
        text = text.replace(a, b)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def resolve_kommune(name: str, codebook) -> str:
    """The codebook key of a municipality named by key, Danish label (any case, æøå) or slug.

    Anything else raises :class:`EditionError` listing the valid names — the result is always one
    of the codebook's keys, so it is safe as a folder name."""
    var = codebook["kommune"]
    wanted = unicodedata.normalize("NFC", str(name)).strip().casefold()
    plain = re.fullmatch(r"[\w -]+", wanted) is not None   # letters, digits, space, hyphen
    for code in var.codes:
        label = unicodedata.normalize("NFC", code.label).casefold()
        names = {code.key, label, slugify(code.label), slugify(code.label, "short")}
        if plain and (wanted in names or slugify(name) in names):
            return code.key
    valid = ", ".join(f"{c.label} ({c.key})" for c in var.codes)
    raise EditionError(f"no municipality {name!r} in the codebook; valid names: {valid}")


def edition_dir(out_root: Path, key: str) -> Path:
    """``<out_root>/kommuner/<key>``, checked to lie inside ``out_root``."""
    if not _KEY.match(key):
        raise EditionError(f"not a municipality key: {key!r}")
    root = out_root.resolve()
    path = (root / SUBDIR / key).resolve()
    if not path.is_relative_to(root / SUBDIR):
        raise EditionError(f"{path} is outside {root}")
    return path


def default_root(year: int) -> Path:
    return REPORT_DIR / str(year)


def edition_figure_ids() -> list[str]:
    raw = read_yaml(MANIFEST, "edition manifest") or {}
    return list(raw.get("figures") or [])


# ---------------------------------------------------------------------------- the numbers


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

    @property
    def municipalities(self) -> list[str]:
        return list(self.units)


def make_cube(project, build, min_base: int | None = None) -> Cube:
    from lpj_report import suppression
    from lpj_report.comparison import mean_spread

    config = suppression.load_config(min_base)
    registry = project.registry
    missing = [i for i in edition_figure_ids() if i not in registry]
    if missing:
        raise EditionError(f"{MANIFEST.name}: unknown figures {missing}")
    figures = [registry[i] for i in edition_figure_ids()]
    bad = [f.id for f in figures if f.statistic == "response_rate"
           or "kommune" in (f.variable, f.breakdown, *f.filter)]
    if bad:
        raise EditionError(f"{MANIFEST.name}: figures that cannot be split by municipality: {bad}")
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
    return Cube(project, build, figures, total, units, result, config, spread)


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
    difference to all municipalities and its test) and the rows of all municipalities."""
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


# ---------------------------------------------------------------------------- view model


@dataclass(frozen=True)
class Cmp:
    """One number of the edition for the templates: the municipality beside all
    municipalities. ``k``/``t`` are printed values (the mark when suppressed)."""

    figure: str
    title: str
    group: str
    group_label: str
    category: str
    label: str
    k: str
    t: str
    k_shown: bool
    t_shown: bool
    n_k: str
    n_t: str
    diff: str
    direction: str          # over | under (significant) | uncertain (not) | '' (not tested)
    word: str               # the comparison with all municipalities, worded (templates/editions/_ord.yaml)
    significant: bool
    tested: bool
    p: str
    q: str
    k_ci: str = ""          # the municipality's 95 % interval as printed
    lineage: str = ""       # the comparison's id in the lineage: kommune.<figure>.<group>.<category>
    k_value: float | None = field(default=None, compare=False, repr=False)
    t_value: float | None = field(default=None, compare=False, repr=False)
    unit: str = "pct"
    decimals: int = 0


@dataclass
class EFigure:
    id: str
    title: str
    population: str
    unit: str
    decimals: int
    groups: list[tuple[str, str]]
    categories: list[tuple[str, str]]
    cell: dict[str, dict[str, Cmp]]

    @property
    def alle(self) -> dict[str, Cmp]:
        return self.cell[ALL]

    @property
    def base_k(self) -> str:
        return next(iter(self.cell[ALL].values())).n_k

    @property
    def base_t(self) -> str:
        return next(iter(self.cell[ALL].values())).n_t

    @property
    def shown(self) -> bool:
        return next(iter(self.cell[ALL].values())).k_shown


def _p_text(p) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)) or pd.isna(p):
        return ""
    return fmt.p_value(float(p))


def _value(v, unit: str, decimals: int, mark: str) -> str:
    if v is None or pd.isna(v):
        return mark
    return fmt.unit_value(float(v), unit, decimals)


def _diff_text(d, unit: str, decimals: int) -> str:
    if d is None or pd.isna(d):
        return ""
    if unit == "pct":
        return fmt.pp(float(d), max(decimals, 1))
    text = fmt.number(float(d), max(decimals, 1))
    if fmt.quantize(float(d), max(decimals, 1)) > 0:
        text = "+" + text
    return text + (fmt.NBSP + "år" if unit == "years" else "")


@cache
def _words() -> dict[str, Any]:
    return read_yaml(WORDS_FILE, "phrase file") or {}


def comparison_word(direction: str, unit: str) -> str:
    """How the municipality compares with all municipalities, from its BH-corrected test:
    ``templates/editions/_ord.yaml`` (a difference without evidence is never "at level")."""
    if not direction:
        return ""
    kind = "mean" if unit == "years" else "pct"
    key = direction if direction == "uncertain" else f"{direction}_{kind}"
    return str(_words()["sammenligning"][key])


def _ci_text(r: dict, unit: str, decimals: int) -> str:
    from lpj_report.content import ci_decimals

    low, high = r.get("ci_low"), r.get("ci_high")
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return ""
    return fmt.interval(float(low), float(high), unit, ci_decimals(unit, decimals))


def vs_all(c: Cmp) -> str:
    """The comparison of one number with all municipalities, as a phrase carrying its test in
    the lineage: "sikkert flere end i alle kommuner under ét (40 %; korrigeret p = 0,012)"."""
    from lpj_report.chapters import CLOSE, OPEN, SEP

    if not c.word:
        return ""
    return f"{OPEN}{c.lineage}{SEP}{c.word} ({c.t}; korrigeret {c.q}){CLOSE}"


def edition_views(cube: Cube, rows: pd.DataFrame, key: str) -> dict[str, EFigure]:
    from lpj_report.content import ALL_LABEL, POPULATION_LABELS, _group_label, _label

    cb = cube.project.codebook
    mark = cube.config.mark
    mine = rows[rows["kommune"] == key]
    total = rows[rows["kommune"] == ALL]
    t_by_key = {(r["figure"], r["group"], r["category"]): r
                for r in total.to_dict(orient="records")}
    views: dict[str, EFigure] = {}
    for fig in cube.figures:
        cats = category_keys(fig, cb)
        groups = group_keys(fig, cb)
        cell: dict[str, dict[str, Cmp]] = {g: {} for g in groups}
        for r in mine[mine["figure"] == fig.id].to_dict(orient="records"):
            t = t_by_key[(fig.id, r["group"], r["category"])]
            unit, dec = r["unit"], int(r["decimals"])
            k_shown = not bool(r["suppressed"]) and not pd.isna(r["value"])
            t_shown = not bool(t["suppressed"]) and not pd.isna(t["value"])
            tested = not pd.isna(r["p_value"]) if r["p_value"] is not None else False
            direction = str(r["direction"] or "")
            k_empty = not r["suppressed"] and pd.isna(r["value"])
            cell[r["group"]][r["category"]] = Cmp(
                figure=fig.id, title=fig.title, group=r["group"],
                group_label=ALL_LABEL if r["group"] == ALL else _group_label(cb, fig, r["group"]),
                category=r["category"], label=_label(cb, fig, r["category"]),
                k="–" if k_empty else _value(r["value"], unit, dec, mark),
                t="–" if (not t["suppressed"] and pd.isna(t["value"]))
                else _value(t["value"], unit, dec, mark),
                k_shown=k_shown, t_shown=t_shown,
                n_k=mark if r["suppressed"] else fmt.count(int(r["base"])),
                n_t=mark if t["suppressed"] else fmt.count(int(t["base"])),
                diff=_diff_text(r["diff"], unit, dec), direction=direction,
                word=comparison_word(direction, unit), significant=bool(r["significant"]),
                tested=tested, p=_p_text(r["p_value"]), q=_p_text(r["q_value"]),
                k_ci=_ci_text(r, unit, dec) if k_shown else "",
                lineage=f"kommune.{fig.id}.{r['group']}.{r['category']}",
                k_value=None if not k_shown else float(r["value"]),
                t_value=None if not t_shown else float(t["value"]), unit=unit, decimals=dec)
        views[fig.id] = EFigure(
            id=fig.id, title=fig.title,
            population=POPULATION_LABELS.get(fig.population, fig.population),
            unit=str(mine[mine["figure"] == fig.id]["unit"].iloc[0]), decimals=fig.decimals,
            groups=[(g, ALL_LABEL if g == ALL else _group_label(cb, fig, g)) for g in groups],
            categories=[(c, _label(cb, fig, c)) for c in cats], cell=cell)
    return views


# ---------------------------------------------------------------------------- blocks


def _recipe(function):
    """charts.recipe, applied when the chart is drawn (importing editions draws nothing), so
    that the chart can be drawn again narrow or as PNG."""
    import functools

    @functools.wraps(function)
    def drawn(*args, **kwargs):
        from lpj_report import charts

        return charts.recipe(function)(*args, **kwargs)

    return drawn


@_recipe
def paired_chart(labels: list[str], k: list[float | None], t: list[float | None], names,
                 *, unit: str = "pct", decimals: int = 0, mark: str = "◊") -> str:
    """Horizontal bars, two per item: the municipality and all municipalities. A suppressed
    value has no bar; its label is the mark."""
    from lpj_report import charts
    from lpj_report.charts import Figure as MplFigure

    values = [v for v in (*k, *t) if v is not None]
    with charts.house_style() as palette:
        n = len(labels)
        fig = MplFigure(figsize=(charts.width_in(), charts._bar_height(n, per_row=0.62, extra=1.0)))
        ax = fig.subplots()
        limit = charts._limit(values or [0.0], unit)
        height = 0.38
        colours = [palette[0], palette[6]]
        for side, (vals, colour) in enumerate(zip((k, t), colours, strict=True)):
            ys = [i + (side - 0.5) * height for i in range(n)]
            ax.barh(ys, [v or 0.0 for v in vals], height=height * 0.92, color=colour)
            for y, v in zip(ys, vals, strict=True):
                text = mark if v is None else fmt.unit_value(v, unit, decimals)
                ax.text((v or 0.0) + limit * 0.01, y, text, va="center", ha="left", fontsize=8)
        charts._axis(ax, unit, limit)
        ax.set_yticks(list(range(n)), [charts._wrap(lab) for lab in labels])
        ax.invert_yaxis()
        charts._legend(fig, ax, list(names), colours)
        return charts._finish(fig)


def _items(view: EFigure, spec: dict) -> tuple[str, list[Cmp]]:
    """The comparisons a block shows: categories of one group, or one category by group."""
    if spec.get("category"):
        c = spec["category"]
        if c not in dict(view.categories):
            raise EditionError(f"{view.id}: no category {c!r}")
        groups = [g for g, _ in view.groups if c in view.cell[g]
                  and (g == ALL or view.cell[g][c].n_t != "0")]
        return "groups", [view.cell[g][c] for g in groups]
    group = spec.get("group", ALL)
    cats = spec.get("categories") or [c for c, _ in view.categories]
    unknown = [c for c in cats if c not in view.cell[group]]
    if unknown:
        raise EditionError(f"{view.id}: no categories {unknown}")
    return "categories", [view.cell[group][c] for c in cats]


def edition_block(raw: dict, views: dict[str, EFigure], kname: str, cube: Cube,
                  where: str) -> dict:
    """A rendered edition block (``edition_figure``) → a report-context figure or table block."""
    fid = raw["edition_figure"]
    if fid not in views:
        raise EditionError(f"{where}: figure {fid!r} is not in {MANIFEST.name}")
    view = views[fid]
    mode, items = _items(view, raw)
    mark = cube.config.mark
    label_of = (lambda c: c.group_label) if mode == "groups" else (lambda c: c.label)
    labels = {**(raw.get("labels") or {})}

    def name(c: Cmp) -> str:
        return labels.get(c.group if mode == "groups" else c.category, label_of(c))

    def forskel(c: Cmp) -> str:
        if not c.k_shown:
            return mark if c.k == mark else "–"
        if not c.tested:
            return "–"
        return c.diff + (" *" if c.significant else "")

    if mode == "groups":
        columns = ["", kname, f"Antal svar, {kname}", TOTAL_LABEL, "Antal svar, alle", "Forskel"]
        body = [[name(c), c.k, c.n_k, c.t, c.n_t, forskel(c)] for c in items]
    else:
        columns = ["", kname, TOTAL_LABEL, "Forskel"]
        body = [[name(c), c.k, c.t, forskel(c)] for c in items]
        first = items[0]
        body.append(["Antal svar", first.n_k, first.n_t, ""])
    note = raw.get("note") or f"Kilde: {view.population}. Figur-id: {fid}."
    has_mark = any(mark in cell for row in body for cell in row[1:])
    has_star = any(c.significant for c in items)
    if has_mark:
        note += (f" {mark}: tallet vises ikke af diskretionshensyn – det bygger på færre end "
                 f"{fmt.count(cube.config.min_base)} svar, eller det ville kunne regnes ud fra "
                 "andre viste tal.")
    if has_star:
        note += (" *: forskellen til de øvrige kommuner er statistisk signifikant "
                 "(Benjamini–Hochberg-korrigeret, 5 %).")
    block = {"type": raw.get("type", "figure"), "title": raw.get("title") or view.title,
             "table": {"columns": columns, "rows": body}, "note": note, "figure": fid}
    if block["type"] == "figure":
        block["svg"] = paired_chart(
            [name(c) for c in items], [c.k_value for c in items], [c.t_value for c in items],
            (kname, TOTAL_LABEL), unit=view.unit, decimals=view.decimals, mark=mark)
        block["alt"] = raw.get("alt") or _alt(view, items, kname, name, mark)
    return block


def _alt(view: EFigure, items: list[Cmp], kname: str, name, mark: str) -> str:
    parts = []
    for c in items:
        k = c.k if c.k_shown else "vises ikke"
        parts.append(f"{name(c).lower()}: {k} i {kname}, {c.t} i alle kommuner")
    return f"{view.title}. " + "; ".join(parts) + "."


# ---------------------------------------------------------------------------- context


def kommune_facts(cube: Cube, key: str, rows: pd.DataFrame) -> dict[str, Any]:
    cb = cube.project.codebook
    data = cube.build.data
    mine = data["kommune"] == key
    mine_rows = rows[rows["kommune"] == key]
    suppressed = mine_rows[mine_rows["suppressed"].astype(bool)]
    return {
        "key": key,
        "navn": (navn := cb["kommune"].label_of(key)),
        "navn_gen": navn + ("'" if navn[-1:].lower() in "sxz" else "s"),
        "svar": fmt.count(int(mine.sum())),
        "svar_alle": fmt.count(len(data)),
        "andel": fmt.percent(100 * float(mine.mean()), 0),
        "antal_skjulte": fmt.count(len(suppressed)),
        "antal_test": fmt.count(int(mine_rows["p_value"].notna().sum())),
        "antal_signifikante": fmt.count(int(mine_rows["significant"].fillna(False).sum())),
        "skjulte": len(suppressed) > 0,
    }


def edition_context(cube: Cube, key: str, rows: pd.DataFrame, *, created: str,
                    build_date: str) -> dict:
    """The report context (docs/report-context.md) of one municipality's edition."""
    from lpj_report.chapters import read_source
    from lpj_report.provenance import git_version
    from lpj_report.report_context import chapter_environment, chapter_sources, section, wave_facts
    from lpj_report.wave import sha256

    build = cube.build
    views = edition_views(cube, rows, key)
    facts = kommune_facts(cube, key, rows)
    sig = [c for v in views.values() for g in v.cell.values() for c in g.values()
           if c.significant]
    variables = {
        "K": facts, "E": views, "SIG": sig, "W": wave_facts(build),
        "S": {"min_base": fmt.count(cube.config.min_base), "mark": cube.config.mark,
              "alpha": fmt.percent(100 * ALPHA, 0)},
    }
    env = chapter_environment(build)
    env.globals["vs_all"] = vs_all
    parts: dict[str, list[dict]] = {"introduction": [], "chapter": [], "appendix": []}
    for path in chapter_sources(EDITIONS_DIR):
        sec = section(path, env, variables, {}, cube.project.registry)
        if sec is None:
            continue
        sec["blocks"] = [
            edition_block(b, views, facts["navn"], cube, f"{path.name}: blocks[{i}]")
            if "edition_figure" in b else b for i, b in enumerate(sec["blocks"])]
        parts[read_source(path).kind].append(sec)
    meta = {
        "title": f"Læring på jobbet – {facts['navn']}",
        "subtitle": f"Kommuneudgave {build.wave.year}",
        "publisher": "KL og KTO",
        "edition": (f"{facts['navn']} Kommune sammenlignet med alle kommuner i "
                    f"spørgeskemaundersøgelsen {build.wave.year}"),
        "description": f"{facts['navn']}s tal fra Læring på jobbet {build.wave.year} ved siden "
                       "af alle kommuners.",
        "status": build.wave.status,
        "created": created,
        "provenance": {
            "data_file": build.wave.responses_path.name,
            "data_sha256": sha256(build.wave.responses_path),
            "codebook_version": cube.project.codebook.version,
            "code_version": git_version(),
            "build_date": build_date,
        },
    }
    context = {"meta": meta, "chapters": parts["chapter"], "appendices": parts["appendix"]}
    if parts["introduction"]:
        context["introduction"] = parts["introduction"][0]
    return context


# ---------------------------------------------------------------------------- building


def edition_meta(cube: Cube, key: str) -> dict[str, Any]:
    from lpj_report.provenance import build_meta

    return {**build_meta(cube.build), "kommune": key,
            "kommune_navn": cube.project.codebook["kommune"].label_of(key),
            "min_base": cube.config.min_base, "suppression_mark": cube.config.mark,
            "comparison": "kommunen mod de øvrige kommuner: z-test af to andele (Fisher ved små "
                          "tal), Welch for gennemsnit; Benjamini-Hochberg over udgavens test"}


def write_edition(cube: Cube, key: str, out_root: Path, formats: list[str],
                  pdf=None) -> Path:
    """Build one edition into ``<out_root>/kommuner/<key>`` (atomically) and return the folder.
    ``pdf``: a :class:`lpj_report.publish.PdfWorker` to make the PDF beside the rest."""
    from lpj_report import publish, render
    from lpj_report.folders import mark, replace_folder
    from lpj_report.output import EXCEL_CSV, figures_csv, figures_json, write_atomic
    from lpj_report.workbook import workbook_bytes

    out = edition_dir(out_root, key)
    out.parent.mkdir(parents=True, exist_ok=True)
    from lpj_report.provenance import default_date

    date = render.build_date(default_date(cube.build.wave))
    rows = edition_rows(cube, key)
    work = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=out.parent))
    work.chmod(0o755)
    try:
        write_atomic(work / "figures.json", figures_json(rows, cube.figures,
                                                         edition_meta(cube, key)))
        labels = {"figures": cube.figures, "codebook": cube.project.codebook}
        write_atomic(work / "figures.csv", figures_csv(rows, **labels))
        write_atomic(work / EXCEL_CSV, figures_csv(rows, excel=True, **labels))
        context = edition_context(cube, key, rows, created=date.isoformat(),
                                  build_date=fmt.date_long(date))
        name = cube.project.codebook["kommune"].label_of(key)
        tables = {publish.WORKBOOK: lambda _html: workbook_bytes(
            context, rows, cube.project.registry, cube.project.codebook, mark=cube.config.mark,
            edition={"key": key, "name": name})}
        publish.publish(context, work, f"{NAME}-{key}", formats, files=tables, pdf=pdf)
        mark(work, "built by lpj build --kommune; safe to replace\n")
        replace_folder(work, out)
    finally:
        if work.exists():
            shutil.rmtree(work)
    return out


def _formats(text: str) -> list[str]:
    from lpj_report.publish import FORMATS

    formats = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise EditionError(f"unknown format(s) {', '.join(unknown)}; choose from "
                           f"{', '.join(FORMATS)}")
    return formats


def _load(args) -> tuple[Any, Any]:
    from lpj_report.pipeline import Build, Project

    project = Project()
    build = Build.load(project, args.wave, Path(args.responses) if args.responses else None)
    return project, build


def build_edition(args: argparse.Namespace) -> int:
    """``lpj build --kommune NAME``: one edition."""
    from rich.console import Console

    from lpj_report.pipeline import Project
    from lpj_report.publish import PdfWorker

    console = Console(stderr=True, highlight=False)
    pdf = None
    try:
        formats = _formats(args.formats)
        key = resolve_kommune(args.kommune, Project().codebook)
        pdf = PdfWorker() if "pdf" in formats else None  # WeasyPrint loads meanwhile
        project, build = _load(args)
        root = Path(args.out) if args.out else default_root(build.wave.year)
        edition_dir(root, key)
        with console.status(f"{key}: tal og diskretion"):
            cube = make_cube(project, build, getattr(args, "min_base", None))
        if key not in cube.units:
            raise EditionError(f"{key}: no respondents in wave {build.wave.year}")
        with console.status(f"{key}: {', '.join(formats)}"):
            out = write_edition(cube, key, root, formats, pdf=pdf)
    except EditionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    finally:
        if pdf is not None:
            pdf.close()
    console.print(f"Edition for {key} ({build.wave.year}, {build.wave.status}) built in {out}/:")
    for path in sorted(out.iterdir()):
        if not path.name.startswith("."):
            console.print(f"  {path}")
    return 0


# ---------------------------------------------------------------------------- all editions

_CUBE: Cube | None = None   # the parent's cube, inherited by forked workers


def _worker(key: str, out_root: str, formats: list[str]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        assert _CUBE is not None, "workers must be forked from the process that made the cube"
        out = write_edition(_CUBE, key, Path(out_root), formats)
        rows = _CUBE.suppression
        hidden = sum(1 for u, _, _ in rows.suppressed if u == key)
        return {"key": key, "ok": True, "seconds": time.perf_counter() - started,
                "out": str(out), "hidden": hidden, "error": ""}
    except Exception as err:  # one edition failing must not stop the others
        return {"key": key, "ok": False, "seconds": time.perf_counter() - started, "out": "",
                "hidden": 0, "error": f"{type(err).__name__}: {err}",
                "trace": traceback.format_exc()}


def _warm_up(formats: list[str]) -> None:
    """Import the renderers and register the fonts once in the parent, so that the forked
    workers share them instead of each loading them again."""
    from lpj_report import charts, render

    with charts.house_style():
        pass
    render.environment()
    if "pdf" in formats:
        import weasyprint  # noqa: F401


def run_editions(cube: Cube, keys: list[str], out_root: Path, formats: list[str],
                 jobs: int | None = None, console=None) -> list[dict[str, Any]]:
    """Build the editions of ``keys`` with ``jobs`` forked workers (1: in this process)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    global _CUBE
    _CUBE = cube
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(keys)))
    if jobs > 1:
        _warm_up(formats)
    results = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("kommuneudgaver", total=len(keys))
        if jobs == 1:
            for key in keys:
                results.append(_worker(key, str(out_root), formats))
                bar.advance(task)
        else:
            context = mp.get_context("fork")
            with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
                futures = {pool.submit(_worker, key, str(out_root), formats): key
                           for key in keys}
                for future in as_completed(futures):
                    try:
                        results.append(future.result())
                    except Exception as err:  # a worker that died (killed, out of memory)
                        results.append({"key": futures[future], "ok": False, "seconds": 0.0,
                                        "out": "", "hidden": 0,
                                        "error": f"{type(err).__name__}: {err}"})
                    bar.update(task, description=f"kommuneudgaver ({results[-1]['key']})")
                    bar.advance(task)
    order = {k: i for i, k in enumerate(keys)}
    return sorted(results, key=lambda r: order[r["key"]])


def build_all_editions(args: argparse.Namespace) -> int:
    """``lpj editions``: every municipality's edition in parallel, with a summary."""
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True, highlight=False)
    started = time.perf_counter()
    try:
        formats = _formats(args.formats)
        project, build = _load(args)
        root = Path(args.out) if args.out else default_root(build.wave.year)
        with console.status("tal og diskretion for alle kommuner"):
            cube = make_cube(project, build, args.min_base)
        keys = ([resolve_kommune(k, project.codebook) for k in args.kommune] if args.kommune
                else cube.municipalities)
    except EditionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    prepared = time.perf_counter() - started
    results = run_editions(cube, keys, root, formats, args.jobs, console)
    table = Table(title=f"Kommuneudgaver {build.wave.year} ({build.wave.status})")
    for col in ("Kommune", "Status", "Sekunder", "Skjulte rækker", "Mappe"):
        table.add_column(col, justify="right" if col in ("Sekunder", "Skjulte rækker") else "left")
    for r in results:
        table.add_row(r["key"], "ok" if r["ok"] else f"FEJL: {r['error']}",
                      fmt.number(r["seconds"], 1), str(r["hidden"]), r["out"])
    console.print(table)
    failed = [r for r in results if not r["ok"]]
    for r in failed:
        if r.get("trace"):
            console.print(f"[red]{r['key']}[/]:\n{r['trace']}")
    total = time.perf_counter() - started
    console.print(f"{len(results) - len(failed)} of {len(results)} editions built in "
                  f"{fmt.number(total, 1)} s (data and suppression {fmt.number(prepared, 1)} s, "
                  f"{max(1, min(args.jobs or os.cpu_count() or 1, len(keys)))} workers)")
    return 1 if failed else 0
