"""A municipality's edition as a report context: the annual report's pipeline for one unit.

Layer: render (imports base to charts modules and ``report_context``, never a command).

An edition is made from the report's own chapter sources (``templates/chapters``) by
:func:`lpj_report.report_context.chapters_context`, like the annual report. It differs in what
the sources see and which of them it reads (the manifest, ``templates/editions/manifest.yaml``):

* ``F`` — the whole survey's figures as in the annual report (disclosure-protected), and for
  every figure the manifest publishes per municipality also the municipality's numbers beside
  all municipalities: ``F[id].compared(category, group)`` is a :class:`lpj_report.content.
  Compared`, and a figure or table block of such a figure shows both (:mod:`lpj_report.paired`);
* ``U`` — the unit: ``U.kommune`` is true, ``U.navn``, ``U.svar`` (its answers), ``U.significant``
  (its comparisons that the test calls sure) …; in the annual report ``U.kommune`` is false;
* ``R``, ``W``, ``O``, ``D``, ``Y`` — as in the annual report (the whole survey's).

Only the numbers of the manifest's figures are the municipality's own, so the disclosure
control across all municipalities (:mod:`lpj_report.edition_numbers`) covers every number of
the municipality that any edition prints.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pandas as pd

from lpj_report import format as fmt
from lpj_report import paired
from lpj_report.content import ALL_LABEL, Compared, FigureView, _group_label, _label, ci_decimals
from lpj_report.edition_names import CHAPTERS_DIR, Manifest, load_manifest
from lpj_report.edition_numbers import ALPHA, Cube
from lpj_report.figures import ALL


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


def _ci_text(r: dict, unit: str, decimals: int) -> str:
    low, high = r.get("ci_low"), r.get("ci_high")
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return ""
    return fmt.interval(float(low), float(high), unit, ci_decimals(unit, decimals))


def previous_cube(cube: Cube) -> Cube | None:
    """The editions' numbers of the predecessor wave (``predecessor`` in wave.yaml), protected
    as its own editions were; None when the wave has none. Computed once per wave."""
    if "previous" not in cube.shared:
        from lpj_report.edition_numbers import make_cube
        from lpj_report.pipeline import Build
        from lpj_report.wave import WaveError

        year = cube.build.wave.meta.get("predecessor")
        previous = None
        if year:
            try:
                before = Build.load(cube.project, year)
            except WaveError:
                before = None
            if before is not None:
                previous = make_cube(cube.project, before, cube.config.min_base,
                                     cube.config.lowered)
        cube.shared["previous"] = previous
    return cube.shared["previous"]


def own_previous(cube: Cube, rows: pd.DataFrame, key: str) -> dict[tuple[str, str, str], Any]:
    """The municipality's own numbers of the predecessor wave beside this wave's: per (figure,
    group, category) a :class:`lpj_report.trend.Previous` (the change tested by the two-
    proportion z-test or Welch's t-test, Benjamini–Hochberg over the edition's changes; none for
    a number withheld in either wave)."""
    from lpj_report.comparison import year_over_year
    from lpj_report.edition_numbers import edition_rows
    from lpj_report.trend import previous_values

    before = previous_cube(cube)
    if before is None or key not in before.units:
        return {}
    old = edition_rows(before, key)

    def spread(c: Cube) -> dict:
        return {(fid, g): s for (scope, fid, g), s in c.spread.items() if scope == key}

    table = year_over_year(old[old["kommune"] == key], rows[rows["kommune"] == key],
                           old_spread=spread(before), new_spread=spread(cube))
    units = {f.id: (str(r["unit"]), int(r["decimals"])) for f in cube.figures
             for r in rows[rows["figure"] == f.id].head(1).to_dict(orient="records")}
    return previous_values(str(before.build.wave.year), table, units)


def compared_cells(cube: Cube, rows: pd.DataFrame, key: str) -> dict[str, dict]:
    """Per figure of the manifest: ``{group: {category: Compared}}`` — the municipality's row
    of :func:`lpj_report.edition_numbers.edition_rows` (its value or the mark, its interval,
    base, difference, test and q) beside the same row of all municipalities, and its own
    number of the predecessor wave (:func:`own_previous`)."""
    cb = cube.project.codebook
    before = own_previous(cube, rows, key)
    mark = cube.config.mark
    mine = rows[rows["kommune"] == key]
    total = rows[rows["kommune"] == ALL]
    t_by_key = {(r["figure"], r["group"], r["category"]): r
                for r in total.to_dict(orient="records")}
    out: dict[str, dict] = {}
    for fig in cube.figures:
        cell: dict[str, dict[str, Compared]] = {}
        for r in mine[mine["figure"] == fig.id].to_dict(orient="records"):
            t = t_by_key[(fig.id, r["group"], r["category"])]
            unit, dec = r["unit"], int(r["decimals"])
            k_shown = not bool(r["suppressed"]) and not pd.isna(r["value"])
            t_shown = not bool(t["suppressed"]) and not pd.isna(t["value"])
            tested = not pd.isna(r["p_value"]) if r["p_value"] is not None else False
            direction = str(r["direction"] or "")
            k_empty = not r["suppressed"] and pd.isna(r["value"])
            cell.setdefault(r["group"], {})[r["category"]] = Compared(
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
                word=paired.comparison_word(direction, unit),
                significant=bool(r["significant"]), tested=tested,
                p=_p_text(r["p_value"]), q=_p_text(r["q_value"]),
                k_ci=_ci_text(r, unit, dec) if k_shown else "",
                lineage=f"kommune.{fig.id}.{r['group']}.{r['category']}",
                k_value=None if not k_shown else float(r["value"]),
                t_value=None if not t_shown else float(t["value"]), unit=unit, decimals=dec,
                previous=before.get((fig.id, r["group"], r["category"])) if k_shown else None)
        out[fig.id] = cell
    return out


def unit_facts(cube: Cube, key: str, rows: pd.DataFrame,
               cells: dict[str, dict]) -> dict[str, Any]:
    """``U``: the municipality, its answers and what its edition withholds and tests."""
    cb = cube.project.codebook
    data = cube.build.data
    mine = data["kommune"] == key
    mine_rows = rows[rows["kommune"] == key]
    suppressed = mine_rows[mine_rows["suppressed"].astype(bool)]
    navn = cb["kommune"].label_of(key)
    before = previous_cube(cube)
    significant = [c for fig in cells.values() for group in fig.values() for c in group.values()
                   if c.significant]
    return {
        "kommune": True,
        "key": key,
        "navn": navn,
        "navn_gen": navn + ("'" if navn[-1:].lower() in "sxz" else "s"),
        "svar": fmt.count(int(mine.sum())),
        "svar_alle": fmt.count(len(data)),
        "andel": fmt.percent(100 * float(mine.mean()), 0),
        "antal_skjulte": fmt.count(len(suppressed)),
        "antal_test": fmt.count(int(mine_rows["p_value"].notna().sum())),
        "antal_signifikante": fmt.count(len(significant)),
        "skjulte": len(suppressed) > 0,
        "significant": significant,
        "min_base": fmt.count(cube.config.min_base),
        "mark": cube.config.mark,
        "alpha": fmt.percent(100 * ALPHA, 0),
        "previous_year": str(before.build.wave.year) if before is not None else "",
    }


def wave_variables(cube: Cube) -> dict[str, Any]:
    """What the chapter sources see of the whole survey (``F``, ``R``, ``W`` …), computed once
    per wave and shared by every edition (the cube's build is disclosure-protected first, as
    the annual report is)."""
    if "text" not in cube.shared:
        from lpj_report.edition_numbers import protect_wave
        from lpj_report.report_context import text_variables

        protect_wave(cube.build, cube.config.min_base, cube.config.lowered)
        cube.shared["text"] = text_variables(cube.build)
    return cube.shared["text"]


def edition_variables(cube: Cube, key: str, rows: pd.DataFrame) -> dict[str, Any]:
    """What an edition's sources see: the whole survey's variables, with the manifest's figures
    carrying the municipality's numbers and ``U`` the municipality. ``lpj preview`` keeps it
    while only the text changes."""
    base = wave_variables(cube)
    cells = compared_cells(cube, rows, key)
    views: dict[str, FigureView] = dict(base["F"])
    for fid, cell in cells.items():
        if fid in views:
            views[fid] = dataclasses.replace(views[fid], compared_cells=cell)
    return {**base, "F": views, "U": unit_facts(cube, key, rows, cells)}


def title_page(cube: Cube, key: str, manifest: Manifest) -> dict[str, str]:
    """The title page of an edition (``templates/editions/_ord.yaml``, the manifest's
    subtitle)."""
    year = str(cube.build.wave.year)
    navn = cube.project.codebook["kommune"].label_of(key)
    return {"title": paired.text("titel", navn=navn),
            "subtitle": (manifest.subtitle or str(paired.words()["tekst"]["undertitel"]))
            .format(aar=year),
            "edition": paired.text("udgave", navn=navn, aar=year),
            "description": paired.text("beskrivelse", navn=navn, aar=year)}


def edition_context(cube: Cube, key: str, rows: pd.DataFrame, *, created: str,
                    build_date: str, manifest: str | None = None, folder=None, env=None,
                    variables: dict[str, Any] | None = None) -> dict:
    """The report context (docs/report-context.md) of one municipality's edition: the chapter
    sources its manifest names (``manifest``: an edition of ``templates/editions/manifest.yaml``,
    default the one marked ``default``) rendered by the annual report's
    :func:`~lpj_report.report_context.chapters_context`. ``env`` and ``variables``
    (:func:`edition_variables`) are reused when given (``lpj preview``)."""
    from lpj_report.report_context import chapter_environment, chapters_context

    folder = folder or CHAPTERS_DIR
    chosen = load_manifest(manifest, folder)
    variables = variables or edition_variables(cube, key, rows)
    return chapters_context(cube.build, variables, created=created, build_date=build_date,
                            env=env or chapter_environment(cube.build), folder=folder,
                            sections=chosen.sections, meta=title_page(cube, key, chosen))
