"""``lpj diff OLD NEW``: every figure of two waves (or two builds) side by side.

Layer: cli (may import every layer; only lpj_report.cli imports it).

Each number is matched by its stable id — ``figure``, ``group``, ``category`` (and ``kommune`` in
an edition's figures.json) — and gets both values, the change (in percentage points for shares)
and a test of the change:

* shares (``pct``): the two-proportion z-test with pooled variance on the counts behind the two
  percentages (the waves are independent samples);
* means: Welch's t-test, when both sides come from respondent data (a figures.json holds no
  spread, so means compared between two files are not tested);
* counts: not tested (a count is not an estimate of a share).

Multiple comparisons: all tested changes form one family and are corrected together with the
Benjamini–Hochberg procedure (false discovery rate ``--alpha``, default 5 %). A change is
*significant* when its BH-adjusted p-value (q) is below alpha: of all changes flagged, at most
about 5 % are expected to be chance findings. The categories of one figure are dependent (they add
up to 100 %); BH remains valid under the positive dependence of such tests in practice, and the
report says so.

Disclosure control applies: a row suppressed on either side (base below ``min_base`` or hidden
to protect one; :mod:`lpj_report.suppression`) is listed as suppressed, without numbers, and is
not tested.

:func:`year_over_year` is the entry point for the annual overview: previous value and
significance per (figure, group, category). The matching and the tests live in
:mod:`lpj_report.comparison` (the statistics in :mod:`lpj_report.stats`); this module reads the two
sides and prints, writes diff.html and diff.csv.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from lpj_report import format as fmt
from lpj_report.comparison import (  # noqa: F401 (KEY, STATUS_ORDER, year_over_year: re-exported)
    KEY,
    STATUS_ORDER,
    _num,
    compare,
    mean_spread,
    year_over_year,
)
from lpj_report.paths import REPORT_DIR, TEMPLATES_DIR
from lpj_report.readers import read_figures_json

STATUS_TEXT = {
    "changed": "signifikant ændring",
    "unchanged": "ingen signifikant ændring",
    "not_tested": "ikke testet",
    "suppressed": "vises ikke (diskretion)",
    "added": "ny",
    "removed": "udgået",
    "no_data": "ingen svar",
}


@dataclass
class Side:
    """One side of a comparison: a figure table with suppression flags, and its origin."""

    label: str
    table: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    spread: dict[tuple[str, str], tuple[float, float, int]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return str(self.meta.get("status", "real"))


# ---------------------------------------------------------------------------- inputs


def side_from_wave(year: str | int, project, min_base: int) -> Side:
    """A wave's figures from its respondent data, suppressed as a table of its own."""
    from lpj_report import suppression
    from lpj_report.pipeline import Build
    from lpj_report.provenance import build_meta

    build = Build.load(project, year)
    result = suppression.protect(build.data, project.codebook, project.figures,
                                 project.populations, min_base=min_base, unit_var=None)
    table = suppression.apply(build.figures, suppression.unit_rows(result, "alle"), min_base)
    spread = {}
    for fig in project.figures:
        if fig.statistic == "mean":
            for g, s in mean_spread(build.data, fig, project.codebook,
                                    project.populations).items():
                spread[(fig.id, g)] = s
    meta = {**build_meta(build), "min_base": min_base}
    return Side(str(build.wave.year), table, meta, spread, {f.id: f.title for f in project.figures})


def side_from_json(path: Path, project, min_base: int) -> Side:
    """A build's figures.json; rows without suppression flags are suppressed here (from the
    table alone: small bases and the rows that would give them away within each figure)."""
    from lpj_report import suppression

    doc = read_figures_json(path)
    table = pd.DataFrame(doc["rows"])
    meta = dict(doc.get("meta") or {})
    titles = {f["id"]: f.get("title", "") for f in doc.get("figures") or []}
    if "suppressed" not in table.columns:
        result = suppression.protect_table(table, project.figures, project.codebook, min_base)
        table = suppression.apply(table, suppression.unit_rows(result, "alle"), min_base)
    else:
        table["suppressed"] = table["suppressed"].fillna(False).astype(bool)
    label = str(meta.get("wave", path.parent.name))
    if meta.get("kommune"):
        label += f" ({meta['kommune']})"
    return Side(label, table, meta, {}, titles)


def load_side(spec: str, project, min_base: int) -> Side:
    path = Path(spec)
    if spec.isdigit() and not path.exists():
        return side_from_wave(spec, project, min_base)
    if path.is_dir():
        path = path / "figures.json"
    if not path.exists():
        raise FileNotFoundError(f"{spec}: neither a survey year nor a figures.json file")
    return side_from_json(path, project, min_base)


# ---------------------------------------------------------------------------- output


def _value_text(value: float | None, unit: str, decimals: int) -> str:
    value = _num(value)
    if value is None:
        return "–"
    return fmt.unit_value(value, unit, decimals)


def _change_text(change: float | None, unit: str, decimals: int) -> str:
    change = _num(change)
    if change is None:
        return "–"
    if unit == "pct":
        return fmt.pp(change, max(decimals, 1))
    text = fmt.number(change, max(decimals, 1) if unit == "years" else 0)
    if fmt.quantize(change, 1) > 0:
        text = "+" + text
    return text + (fmt.NBSP + "år" if unit == "years" else "")


def _p_text(p) -> str:
    p = _num(p)
    if p is None:
        return "–"
    return "< 0,001" if p < 0.001 else fmt.number(float(p), 3)


def labels(project) -> tuple[dict, dict]:
    """Danish titles of figures and labels of (figure, key) for groups and categories."""
    from lpj_report.content import ALL_LABEL

    cb = project.codebook
    titles = {f.id: f.title for f in project.figures}
    names: dict[tuple[str, str], str] = {}
    for f in project.figures:
        names[(f.id, "alle")] = ALL_LABEL
        if f.breakdown:
            for c in cb[f.breakdown].codes:
                names[(f.id, "g:" + c.key)] = c.label
        var = cb[f.variable]
        for c in var.codes:
            names[(f.id, "c:" + c.key)] = c.label
        for k, parts in f.combine.items():
            names[(f.id, "c:" + k)] = " eller ".join(
                var.label_of(p).lower() if i else var.label_of(p) for i, p in enumerate(parts))
        names[(f.id, "c:mean")] = "Gennemsnit"
        names[(f.id, "c:n")] = "Antal"
    return titles, names


def view_rows(table: pd.DataFrame, project, old: Side, new: Side) -> list[dict[str, str]]:
    titles, names = labels(project)
    titles = {**old.titles, **new.titles, **titles}
    rows = []
    for r in table.to_dict(orient="records"):
        dec = int(r["decimals"])
        group = r["group"]
        rows.append({
            "id": r["figure"],
            "title": titles.get(r["figure"], r["figure"]),
            "group": names.get((r["figure"], "g:" + group), names.get((r["figure"], group), group)),
            "category": names.get((r["figure"], "c:" + r["category"]), r["category"]),
            "kommune": str(r.get("kommune") or ""),
            "old": _value_text(r["old"], r["unit"], dec),
            "new": _value_text(r["new"], r["unit"], dec),
            "change": _change_text(r["change"], r["unit"], dec),
            "p": _p_text(r["p"]),
            "q": _p_text(r["q"]),
            "status": r["status"],
            "status_text": STATUS_TEXT[r["status"]],
            "direction": ("op" if (_num(r["change"]) or 0) > 0 else "ned")
            if r["significant"] else "",
        })
    return rows


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters.update(fmt.FILTERS)
    return env


def html(table: pd.DataFrame, project, old: Side, new: Side, alpha: float) -> str:
    from lpj_report.render import CSS_FILE, _notices

    rows = view_rows(table, project, old, new)
    counts = table["status"].value_counts().to_dict()
    notices = []
    for side in (old, new):
        notice = _notices().get(side.status)
        if notice and notice not in notices:
            notices.append(notice)
    context = {
        "old": old.label, "new": new.label,
        "notices": notices,
        "changed": [r for r in rows if r["status"] == "changed"],
        "added": [r for r in rows if r["status"] == "added"],
        "removed": [r for r in rows if r["status"] == "removed"],
        "rest": [r for r in rows if r["status"] not in ("changed", "added", "removed")],
        "has_kommune": "kommune" in table.columns,
        "counts": {k: fmt.count(int(counts.get(k, 0))) for k in STATUS_ORDER},
        "tested": fmt.count(int(table["q"].notna().sum())),
        "alpha": fmt.percent(100 * alpha, 0),
        "min_base": fmt.count(int(new.meta.get("min_base") or old.meta.get("min_base") or 0)),
        "css": jinja2.utils.markupsafe.Markup(CSS_FILE.read_text(encoding="utf-8")),
    }
    return _environment().get_template("diff.html.j2").render(context)


def csv_bytes(table: pd.DataFrame) -> bytes:
    cols = [c for c in [*KEY, "kommune", "unit", "decimals", "old", "new", "old_base",
                        "new_base", "change", "test", "statistic", "p", "q", "significant",
                        "status"] if c in table.columns]
    buffer = io.StringIO()
    table[cols].to_csv(buffer, index=False, lineterminator="\n", float_format="%.10g",
                       quoting=csv.QUOTE_MINIMAL)
    return buffer.getvalue().encode("utf-8")


def print_summary(table: pd.DataFrame, project, old: Side, new: Side, alpha: float,
                  show_all: bool = False, console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console(highlight=False)
    rows = view_rows(table, project, old, new)
    counts = table["status"].value_counts().to_dict()
    for side in (old, new):
        if side.status != "real":
            console.print(f"[bold yellow]{side.label}: {side.status.upper()}[/] — "
                          "tallene beskriver ikke en virkelig undersøgelse"
                          if side.status == "fictitious" else
                          f"[yellow]{side.label}: {side.status}[/]")
    shown = rows if show_all else [r for r in rows if r["status"] in
                                   ("changed", "added", "removed")]
    grid = Table(title=f"{old.label} → {new.label}: "
                 f"{counts.get('changed', 0)} signifikante ændringer", show_lines=False)
    columns = ["Figur", "Gruppe", "Kategori", old.label, new.label, "Ændring", "q"]
    if show_all or counts.get("added") or counts.get("removed"):
        columns.append("Status")
    for col in columns:
        grid.add_column(col, justify="right" if col in columns[3:7] else "left",
                        overflow="fold")
    for r in shown[:200]:
        cells = [r["id"], r["group"], r["category"], r["old"], r["new"],
                 r["change"].replace("procentpoint", "pp"), r["q"], r["status_text"]]
        grid.add_row(*cells[: len(columns)])
    if shown:
        console.print(grid)
    console.print(
        f"{len(table)} tal: {counts.get('changed', 0)} signifikant ændret, "
        f"{counts.get('unchanged', 0)} uden signifikant ændring, "
        f"{counts.get('not_tested', 0)} ikke testet, {counts.get('suppressed', 0)} skjult "
        f"(diskretion), {counts.get('added', 0)} nye, {counts.get('removed', 0)} udgået. "
        f"Test: to andele (z) / Welch; Benjamini–Hochberg over alle "
        f"{int(table['q'].notna().sum())} test, FDR {fmt.number(100 * alpha, 0)} %.")


def run_diff(args: argparse.Namespace) -> int:
    from lpj_report.output import write_atomic
    from lpj_report.pipeline import Project
    from lpj_report.suppression import load_config

    config = load_config(args.min_base)
    project = Project()
    try:
        old = load_side(args.old, project, config.min_base)
        new = load_side(args.new, project, config.min_base)
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for side in (old, new):
        side.meta.setdefault("min_base", config.min_base)
    table = compare(old.table, new.table, alpha=args.alpha, old_spread=old.spread,
                    new_spread=new.spread)
    print_summary(table, project, old, new, args.alpha, show_all=args.all)
    if args.out:
        out = Path(args.out)
        write_atomic(out / "diff.html", html(table, project, old, new, args.alpha)
                     .encode("utf-8"))
        write_atomic(out / "diff.csv", csv_bytes(table))
        print(f"wrote {out / 'diff.html'} and {out / 'diff.csv'}", file=sys.stderr)
    return 0


def default_out(old: str, new: str) -> Path:
    return REPORT_DIR / "diff" / f"{old}-{new}"
