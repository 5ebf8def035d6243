"""How ``lpj diff`` shows a comparison: rows a reviewer reads in a minute.

Layer: cli.

From the comparison table of :func:`lpj_report.diff.compare`:

* **one row per answer that says something**: in a question whose two answers (or an answer
  and a combined answer) make up every answer, the second is the first's complement — its
  change is the first's with the sign reversed, its test the same — and is folded away: a
  yes/no question shows "Ja" only (:func:`complements`);
* every row names its figure as the report does (``Figur 21``, ``Tabel 2``, the title, the
  chapter: :mod:`lpj_report.places`), with both bases beside the change;
* order: the significant changes first, largest first (shares in procentpoint, then means in
  years), then new and gone numbers, then the rest in the report's order, chapter by chapter;
* every row has exactly one status, and the counts add up to the rows shown.

The tests are not redone: a folded answer stays in the Benjamini–Hochberg family it was tested
in (so the q values are those of the report's year-over-year columns). Danish wording:
``templates/diff.yaml``; the terminal's wording is English (:mod:`lpj_report.terminal`).
"""

from __future__ import annotations

import base64
import csv
import io
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

import jinja2
import pandas as pd

from lpj_report import format as fmt
from lpj_report.comparison import STATUS_ORDER
from lpj_report.figures import ALL, category_keys, group_keys
from lpj_report.paths import TEMPLATES_DIR
from lpj_report.places import CHAPTERS_DIR, Chapter, Place, chapters, report_places
from lpj_report.readers import read_yaml

if TYPE_CHECKING:   # annotations only: lpj_report.diff imports this module
    from lpj_report.diff import Side


WORDING_FILE = TEMPLATES_DIR / "diff.yaml"
#: Most bars in the chart of the largest significant changes.
CHART_BARS = 10
#: Statuses in the order the summary lists them.
SUMMARY_ORDER = ("changed", "not_significant", "not_tested", "suppressed", "no_data", "added",
                 "removed")
#: The terminal's names of the statuses.
STATUS_ENGLISH = {"changed": "significant", "not_significant": "no sure change",
                  "not_tested": "not testable", "suppressed": "withheld (disclosure)",
                  "no_data": "no answers", "added": "new", "removed": "gone"}


@cache
def wording() -> dict[str, Any]:
    return read_yaml(WORDING_FILE, "diff wording file")


def complements(fig, codebook) -> dict[str, str]:
    """Folded category → the category it complements, for a single-choice figure.

    Two categories complement each other when their answers are disjoint and together every
    answer the base counts (the codebook's answers less ``exclude``): ``ja``/``nej``, or a
    combined ``ja`` (``ja_helt_sikkert`` + ``ja_maaske``) and ``nej``. The one holding the
    first answer is kept."""
    if fig.statistic != "share":
        return {}
    var = codebook[fig.variable]
    valid = [k for k in var.keys if k not in fig.exclude]
    if not valid:
        return {}
    cats = category_keys(fig, codebook)
    parts = {c: set(fig.combine.get(c, (c,))) for c in cats}
    folded: dict[str, str] = {}
    for i, a in enumerate(cats):
        for b in cats[i + 1:]:
            if a in folded or b in folded or parts[a] & parts[b]:
                continue
            if parts[a] | parts[b] != set(valid):
                continue
            keep, fold = (a, b) if valid[0] in parts[a] else (b, a)
            if fold not in folded.values():
                folded[fold] = keep
    return folded


@dataclass
class Row:
    """One compared number as the page and the terminal show it (strings made by format.py)
    with the raw values it is sorted and written by."""

    figure: str
    group: str
    category: str
    kommune: str
    kommune_label: str    # "Hasle", "Alle kommuner"; "" outside an edition
    place: str            # "Figur 21", "Tabel 2" or ""
    title: str
    chapter: Chapter
    group_label: str
    category_label: str
    old: str
    new: str
    old_n: str
    new_n: str
    change: str
    p: str
    q: str
    status: str
    status_text: str
    direction: str        # "op" / "ned" for a significant change, else ""
    reason: str
    unit: str
    change_value: float | None
    order: tuple = ()
    record: dict = field(default_factory=dict, repr=False)

    @property
    def question(self) -> str:
        """``Figur 21: title``, or the title alone for a figure only quoted in the text."""
        return f"{self.place}: {self.title}" if self.place else self.title


@dataclass
class DiffView:
    old: Side
    new: Side
    rows: list[Row]
    folded: int
    tested: int
    alpha: float
    min_base: int
    chapters: list[Chapter]
    disclosure_lowered: dict | None = None   # --allow-low-min-base (suppression.lowered)

    @property
    def counts(self) -> dict[str, int]:
        """Rows per status; every row in exactly one, so they add up to ``len(rows)``."""
        out = dict.fromkeys(SUMMARY_ORDER, 0)
        for r in self.rows:
            out[r.status] += 1
        return out

    @property
    def significant(self) -> list[Row]:
        return [r for r in self.rows if r.status == "changed"]

    def skipped_means(self) -> int:
        return sum(1 for r in self.rows if r.reason == "no_spread")


# ---------------------------------------------------------------------------- text


def _num(value) -> float | None:
    if value is None or pd.isna(value):
        return None
    return float(value)


def value_text(value, unit: str, decimals: int) -> str:
    value = _num(value)
    return "–" if value is None else fmt.unit_value(value, unit, decimals)


def change_text(change, unit: str, decimals: int) -> str:
    """``+33,4 procentpoint`` for shares, ``+1,2 år`` for means, ``+12`` for counts."""
    change = _num(change)
    if change is None:
        return "–"
    if unit == "pct":
        return fmt.pp(change, max(decimals, 1))
    places = max(decimals, 1) if unit == "years" else 0
    text = fmt.number(change, places)
    if fmt.quantize(change, places) > 0:
        text = "+" + text
    return text + (fmt.NBSP + "år" if unit == "years" else "")


def p_text(p) -> str:
    p = _num(p)
    if p is None:
        return "–"
    return "<" + fmt.NBSP + "0,001" if p < 0.001 else fmt.number(p, 3)


def base_text(n) -> str:
    n = _num(n)
    return "–" if n is None else fmt.count(int(n))


def kommune_label(project, key: str) -> str:
    if not key:
        return ""
    if key == ALL:
        return wording()["all_municipalities"]
    try:
        return project.codebook["kommune"].label_of(key)
    except KeyError:
        return key


def _labels(project, fig, side_titles: dict[str, str], figure: str, group: str,
            category: str) -> tuple[str, str, str]:
    from lpj_report.content import _group_label, _label

    words = wording()
    if fig is None:
        return side_titles.get(figure, figure), words["all_label"] if group == ALL else group, \
            category
    special = {"mean": words["mean_label"],
               "n": words["rate_label"] if fig.statistic == "response_rate"
               else words["count_label"]}
    try:
        group_label = _group_label(project.codebook, fig, group)
    except KeyError:
        group_label = group
    try:
        category_label = special.get(category) or _label(project.codebook, fig, category)
    except KeyError:
        category_label = category
    return fig.title, group_label, category_label


# ---------------------------------------------------------------------------- the view


def make(table: pd.DataFrame, project, old: Side, new: Side, *, alpha: float,
         min_base: int) -> DiffView:
    """The view of a comparison (``table`` from :func:`lpj_report.diff.compare`)."""
    sections = None
    if new.kommune or old.kommune:   # an edition: the chapter sources of its manifest
        from lpj_report.edition_names import EditionError, load_manifest

        name = str(new.meta.get("manifest") or old.meta.get("manifest") or "") or None
        try:
            sections = load_manifest(name).sections
        except EditionError:
            sections = load_manifest().sections
    places = report_places(project.figures, CHAPTERS_DIR, sections)
    parts = chapters(CHAPTERS_DIR, sections)
    chapter_rank = {c.id: i for i, c in enumerate(parts)}
    other = Chapter("", "", wording()["other_chapter"])
    registry = project.registry
    fig_rank = {f.id: i for i, f in enumerate(project.figures)}
    titles = {**old.titles, **new.titles}
    words = wording()
    rows, folded = [], 0
    for r in table.to_dict(orient="records"):
        fig = registry.get(r["figure"])
        if fig is not None and r["category"] in complements(fig, project.codebook):
            folded += 1
            continue
        place = places.get(r["figure"]) or Place(r["figure"], other)
        chapter = place.chapter if place.chapter.id else other
        title, group_label, category_label = _labels(project, fig, titles, r["figure"],
                                                     r["group"], r["category"])
        decimals = int(r["decimals"])
        groups = group_keys(fig, project.codebook) if fig is not None else []
        cats = category_keys(fig, project.codebook) if fig is not None else []
        status = r["status"]
        change = _num(r["change"])
        direction = ""
        if status == "changed" and change is not None:
            direction = words["direction"]["up" if change > 0 else "down"]
        order = (chapter_rank.get(chapter.id, len(parts)), place.order,
                 fig_rank.get(r["figure"], len(fig_rank)), r["figure"],
                 str(r.get("kommune") or "") != "alle",
                 groups.index(r["group"]) if r["group"] in groups else len(groups), r["group"],
                 cats.index(r["category"]) if r["category"] in cats else len(cats),
                 r["category"])
        rows.append(Row(
            figure=r["figure"], group=r["group"], category=r["category"],
            kommune=str(r.get("kommune") or ""), kommune_label=kommune_label(
                project, str(r.get("kommune") or "")), place=place.label, title=title,
            chapter=chapter, group_label=group_label, category_label=category_label,
            old=value_text(r["old"], r["unit"], decimals),
            new=value_text(r["new"], r["unit"], decimals),
            old_n=base_text(r["old_base"]), new_n=base_text(r["new_base"]),
            change=change_text(r["change"], r["unit"], decimals), p=p_text(r["p"]),
            q=p_text(r["q"]), status=status, status_text=words["status"][status],
            direction=direction, reason=str(r.get("reason") or ""), unit=r["unit"],
            change_value=change, order=order, record=r))
    rows = ordered(rows)
    used = {r.chapter for r in rows}
    shown_chapters = [c for c in parts if c in used] + ([other] if other in used else [])
    return DiffView(old, new, rows, folded, int(table["q"].notna().sum()), alpha, min_base,
                    shown_chapters)


def ordered(rows: list[Row]) -> list[Row]:
    """Significant changes first — shares before means, each largest first — then new and
    gone numbers, then the rest in the report's order."""
    unit_rank = {"pct": 0, "years": 1}

    def key(r: Row) -> tuple:
        if r.status == "changed":
            return (0, unit_rank.get(r.unit, 2), -abs(r.change_value or 0.0), r.order)
        if r.status in ("added", "removed"):
            return (1, STATUS_ORDER[r.status], r.order)
        return (2, r.order)

    return sorted(rows, key=key)


# ---------------------------------------------------------------------------- files


CSV_COLUMNS = ["figure", "place", "title", "chapter", "group", "group_label", "category",
               "category_label", "kommune", "unit", "decimals", "old", "new", "old_base",
               "new_base", "change", "test", "statistic", "p", "q", "significant", "status",
               "reason"]


def csv_bytes(view: DiffView) -> bytes:
    """``diff.csv``: the rows of the page in its order, unrounded, with the report's labels
    (UTF-8, commas, decimal points); withheld numbers are empty."""
    records = []
    for r in view.rows:
        rec = dict(r.record)
        rec.update(place=r.place, title=r.title, chapter=r.chapter.label or r.chapter.title,
                   group_label=r.group_label, category_label=r.category_label)
        records.append(rec)
    frame = pd.DataFrame(records)
    columns = [c for c in CSV_COLUMNS if c in frame.columns]
    if view.disclosure_lowered:     # --allow-low-min-base: every row says so
        frame = frame.assign(min_base=view.disclosure_lowered["min_base"],
                             min_base_floor=view.disclosure_lowered["floor"])
        columns += ["min_base", "min_base_floor"]
    if "kommune" in columns and not frame["kommune"].astype(str).str.len().any():
        columns.remove("kommune")
    buffer = io.StringIO()
    frame[columns].to_csv(buffer, index=False, lineterminator="\n", float_format="%.10g",
                          quoting=csv.QUOTE_MINIMAL)
    return buffer.getvalue().encode("utf-8")


def chart_svg(view: DiffView) -> str | None:
    """Bars of the largest significant changes of shares (at most :data:`CHART_BARS`), in
    procentpoint, up to the right and down to the left; None when there is none."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    from lpj_report import charts

    rows = [r for r in view.significant if r.unit == "pct"][:CHART_BARS]
    if not rows:
        return None
    values = [float(r.change_value) for r in rows]
    labels = [chart_label(r) for r in rows]
    with charts.house_style() as palette:
        wrapped = [charts._wrap(label, 44) for label in labels]
        fig = Figure(figsize=(charts.width_in(), charts._bar_height(len(rows), labels=wrapped)))
        ax = fig.subplots()
        positions = list(range(len(rows)))
        colours = [palette[0] if v > 0 else palette[3] for v in values]
        ax.barh(positions, values, color=colours, height=0.62)
        limit = max(abs(v) for v in values) * 1.35
        ax.set_xlim(-limit, limit)
        ax.axvline(0, color=charts.TEXT, linewidth=0.8)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10], integer=True))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: fmt.number(x, 0)))
        ax.grid(axis="x", color="#d9d9d9", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel("Ændring i procentpoint")
        for y, r, v in zip(positions, rows, values, strict=True):
            text = r.change.replace(fmt.NBSP + "procentpoint", "")
            ax.text(v + (limit * 0.02 if v > 0 else -limit * 0.02), y, text, va="center",
                    ha="left" if v > 0 else "right")
        ax.set_yticks(positions, wrapped)
        ax.invert_yaxis()
        return charts._finish(fig)


def chart_label(r: Row) -> str:
    group = "" if r.group == ALL else f" ({r.group_label.lower()})"
    kommune = f" – {r.kommune_label}" if r.kommune_label else ""
    place = f"{r.place}: " if r.place else ""
    return f"{place}{r.title}: {r.category_label.lower()}{group}{kommune}"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters.update(fmt.FILTERS)
    return env


def html(view: DiffView) -> str:
    """``diff.html``: one self-contained page (styles inline, the chart as a data URI)."""
    from lpj_report.render import _notices, disclosure_notice

    notices = []
    for side in (view.old, view.new):
        notice = _notices().get(side.status)
        if notice and notice not in notices:
            notices.append(notice)
    if view.disclosure_lowered:
        notices.append(disclosure_notice(view.disclosure_lowered))
    counts = view.counts
    summary = wording()["summary"]
    svg = chart_svg(view)
    rest = [r for r in view.rows if r.status not in ("changed", "added", "removed")]
    sections = []
    for chapter in view.chapters:
        rows = [r for r in rest if r.chapter == chapter]
        if rows:
            sections.append({"chapter": chapter, "slug": chapter.id or "oevrige", "rows": rows,
                             "count": fmt.count(len(rows))})
    context = {
        "old": view.old.label, "new": view.new.label,
        "notices": notices,
        "total": fmt.count(len(view.rows)),
        "summary": [summary[k].format(n=fmt.count(counts[k])) for k in SUMMARY_ORDER
                    if counts[k] or k in ("changed", "not_significant")],
        "folded": fmt.count(view.folded),
        "changed": view.significant,
        "moved": [r for r in view.rows if r.status in ("added", "removed")],
        "sections": sections,
        "chapters": [{"slug": c.id or "oevrige", "name": c.name} for c in view.chapters],
        "has_kommune": any(r.kommune for r in view.rows),
        "tested": fmt.count(view.tested),
        "alpha": fmt.percent(100 * view.alpha, 0),
        "min_base": fmt.count(view.min_base),
        "chart": ("data:image/svg+xml;base64,"
                  + base64.b64encode(svg.encode("utf-8")).decode("ascii")) if svg else "",
        "chart_rows": fmt.count(min(CHART_BARS, sum(1 for r in view.significant
                                                     if r.unit == "pct"))),
    }
    return _environment().get_template("diff.html.j2").render(context)


# ---------------------------------------------------------------------------- terminal


def summary_line(view: DiffView) -> str:
    """``1380 numbers compared: 8 significant, …`` — the classes add up to the total."""
    counts = view.counts
    parts = [f"{counts[k]} {STATUS_ENGLISH[k]}" for k in SUMMARY_ORDER]
    return f"{len(view.rows)} numbers compared: " + ", ".join(parts) + "."


def entry(r: Row, old: str, new: str) -> list[str]:
    """One compared number in the terminal, two lines: the question, then the change.

    ``Figur 21: Lederne: … (Kapitel 4)`` /
    ``  Alle · Ja: 2002 37 % (n 118) → 2005 71 % (n 116): +33,4 procentpoint, q < 0,001``"""
    chapter = r.chapter.label or r.chapter.title
    head = r.question + (f" ({chapter})" if chapter else "")
    who = r.group_label + (f", {r.kommune_label}" if r.kommune_label else "")
    line = (f"  {who} · {r.category_label}: {old} {r.old} (n {r.old_n}) → {new} {r.new} "
            f"(n {r.new_n}): {r.change}, q {r.q}")
    if r.status != "changed":
        line += f" — {STATUS_ENGLISH[r.status]}"
    return [head, line]


def print_summary(view: DiffView, console, show_all: bool = False) -> None:
    """The comparison in the terminal (English; numbers and labels as the report prints
    them): the significant changes, largest first, new and gone numbers (``show_all``: every
    row), then the counts."""
    from rich.text import Text

    old, new = view.old, view.new
    for side in (old, new):
        if side.status == "fictitious":
            console.print(Text(f"{side.label}: FICTITIOUS data — the numbers describe no real "
                               "survey", style="bold yellow"))
        elif side.status != "real":
            console.print(Text(f"{side.label}: {side.status}", style="yellow"))
    counts = view.counts
    shown = view.rows if show_all else [r for r in view.rows
                                        if r.status in ("changed", "added", "removed")]
    console.print(Text(f"{old.label} → {new.label}: {counts['changed']} significant "
                       "change(s), largest first", style="bold"))
    for r in shown:
        head, line = entry(r, old.label, new.label)
        console.print(Text(head, style="bold" if r.status == "changed" else ""))
        console.print(Text(line))
    console.print(Text(summary_line(view)))
    if view.folded:
        console.print(Text(f"Not listed again: {view.folded} complementary answers (such as "
                           "'Nej' beside 'Ja'); each changes by the same amount as the answer "
                           "it complements, with the sign reversed."))
    console.print(Text(
        f"Tests: two proportions (z), Welch's t for means; Benjamini–Hochberg over all "
        f"{view.tested} tests (the complementary answers included), false discovery rate "
        f"{fmt.number(100 * view.alpha, 0).replace(',', '.')} %. Numbers with a base below "
        f"{view.min_base} are withheld."))


def warnings(view: DiffView) -> list[str]:
    """What the comparison could not do, for stderr."""
    out = []
    skipped = [r for r in view.rows if r.reason == "no_spread"]
    if skipped:
        def lacks(side: Side, r: Row) -> bool:
            key = (r.figure, r.group) + ((r.kommune,) if r.kommune else ())
            return key not in side.spread and key[:2] not in side.spread

        sources = [s.source for s in (view.old, view.new) if any(lacks(s, r) for r in skipped)]
        where = " and ".join(sources) or "a side"
        skipped = len(skipped)
        out.append(f"{skipped} mean(s) not tested: {where} holds no spread (no 95 % interval "
                   "to work the standard deviation back from), which Welch's test needs; "
                   f"compare the waves themselves (lpj diff {view.old.slug.split('-')[0]} "
                   f"{view.new.slug.split('-')[0]}) to test them")
    return out


def counts_add_up(view: DiffView) -> bool:
    return sum(view.counts.values()) == len(view.rows)

