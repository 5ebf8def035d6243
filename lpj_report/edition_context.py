"""The report context (docs/report-context.md) of one municipality's edition.

Layer: render (imports base to charts modules and ``report_context``, never a command). The
templates of ``templates/editions/*.yaml`` see ``K`` (the municipality), ``E`` (the comparisons,
:class:`Cmp` per figure, group and category), ``SIG``, ``W`` and ``S`` (see
:mod:`lpj_report.editions`); a block ``{edition_figure: <id>}`` becomes a chart of the municipality
beside all municipalities (:func:`paired_chart`) with its table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from lpj_report import format as fmt
from lpj_report.edition_names import EDITIONS_DIR, MANIFEST, EditionError
from lpj_report.edition_numbers import ALPHA, Cube
from lpj_report.figures import ALL, category_keys, group_keys
from lpj_report.readers import read_yaml

TOTAL_LABEL = "Alle kommuner"
WORDS_FILE = EDITIONS_DIR / "_ord.yaml"


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


def edition_variables(cube: Cube, key: str, rows: pd.DataFrame) -> dict[str, Any]:
    """What the edition's sources see (``K``, ``E``, ``SIG``, ``W``, ``S``): everything that
    comes from the data. ``lpj preview`` keeps it while only the text changes."""
    from lpj_report.report_context import wave_facts

    views = edition_views(cube, rows, key)
    sig = [c for v in views.values() for g in v.cell.values() for c in g.values()
           if c.significant]
    return {
        "K": kommune_facts(cube, key, rows), "E": views, "SIG": sig,
        "W": wave_facts(cube.build),
        "S": {"min_base": fmt.count(cube.config.min_base), "mark": cube.config.mark,
              "alpha": fmt.percent(100 * ALPHA, 0)},
    }


def edition_context(cube: Cube, key: str, rows: pd.DataFrame, *, created: str,
                    build_date: str, folder: Path | None = None, env=None,
                    variables: dict[str, Any] | None = None) -> dict:
    """The report context (docs/report-context.md) of one municipality's edition, from the
    sources of ``folder`` (default ``EDITIONS_DIR``). ``env`` (a chapter environment) and
    ``variables`` (:func:`edition_variables`) are reused when given (``lpj preview``: a text
    edit neither compiles the unchanged sources nor computes the comparisons again)."""
    from lpj_report.chapters import read_source
    from lpj_report.provenance import git_version
    from lpj_report.report_context import chapter_environment, chapter_sources, section
    from lpj_report.wave import sha256

    build = cube.build
    variables = variables or edition_variables(cube, key, rows)
    views, facts = variables["E"], variables["K"]
    env = env or chapter_environment(build)
    # the comparison phrase is the edition's own: a render variable, not a global of the
    # chapters' environment, which the annual report shares
    variables = {**variables, "vs_all": vs_all}
    parts: dict[str, list[dict]] = {"introduction": [], "chapter": [], "appendix": []}
    for path in chapter_sources(folder or EDITIONS_DIR):
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
