"""A municipality's numbers beside all municipalities: the table and chart of a figure block.

Layer: render (imports base to charts modules). In a municipality's edition every figure its
manifest publishes carries the municipality's numbers (``FigureView.compared_cells``, made by
:mod:`lpj_report.edition_context`); a ``{figure}`` or ``{table}`` block of such a figure, in any
chapter source, becomes this block instead of the whole survey's: the two value columns, the
bases, the difference (``*`` when the test says it is sure) and paired bars. The Danish words
of the columns and notes are ``templates/editions/_ord.yaml``'s.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from lpj_report.content import Compared, FigureView
from lpj_report.figures import ALL
from lpj_report.paths import TEMPLATES_DIR
from lpj_report.readers import read_yaml

WORDS_FILE = TEMPLATES_DIR / "editions" / "_ord.yaml"
#: The picture of a chart left out (text and tables alone, for tests of the text).
EMPTY_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'


@cache
def words() -> dict[str, Any]:
    """The editions' phrases: ``sammenligning`` (a comparison worded from its test) and
    ``tekst`` (column heads, notes, the title)."""
    return read_yaml(WORDS_FILE, "phrase file") or {}


def text(key: str, **values: str) -> str:
    """One of the editions' texts (``tekst`` of _ord.yaml) with its ``{name}`` fields filled."""
    return str(words()["tekst"][key]).format(**values)


def comparison_word(direction: str, unit: str) -> str:
    """How the municipality compares with all municipalities, from its BH-corrected test
    (a difference without evidence is never "at level")."""
    if not direction:
        return ""
    kind = "mean" if unit == "years" else "pct"
    key = direction if direction == "uncertain" else f"{direction}_{kind}"
    return str(words()["sammenligning"][key])


def vs_all(c: Compared) -> str:
    """The comparison of one number with all municipalities, as a phrase carrying its test in
    the lineage: "sikkert flere end i alle kommuner under ét (40 %; korrigeret p = 0,012)"."""
    from lpj_report.chapters import CLOSE, OPEN, SEP

    if not c.word:
        return ""
    return f"{OPEN}{c.lineage}{SEP}{c.word} ({c.t}; korrigeret {c.q}){CLOSE}"


def _recipe(function):
    """charts.recipe, applied when the chart is drawn (importing this module draws nothing), so
    that the chart can be drawn again narrow or as PNG."""
    import functools

    @functools.wraps(function)
    def drawn(*args, **kwargs):
        from lpj_report import charts

        return charts.recipe(function)(*args, **kwargs)

    return drawn


@_recipe
def paired_chart(labels: list[str], k: list[float | None], t: list[float | None], names,
                 *, unit: str = "pct", decimals: int = 0, mark: str = "◊") -> str | None:
    """Horizontal bars, two per item: the municipality and all municipalities. A withheld
    value has no bar; its label is the mark. Written as SVG by :mod:`lpj_report.bar_svg` in
    the current layout (wide, or narrow for phones); None when asked for a PNG, which is then
    drawn from the SVG by librsvg like every chart file."""
    from lpj_report import bar_svg, charts

    if charts._AS_PNG.get():
        return None
    values = [v for v in (*k, *t) if v is not None]
    style = bar_svg.Style(
        width_pt=charts.width_in() * 72, font_path=str(charts.FONT_DIR / "LiberationSans-Regular.ttf"),
        font_family=charts.SVG_FONT_STACK, colours=(charts.PALETTE[0], charts.PALETTE[6]),
        legend_columns=charts._legend_columns(list(names)))
    return bar_svg.paired_bars(labels, k, t, list(names), style=style, unit=unit,
                               decimals=decimals, mark=mark,
                               limit=charts._limit(values or [0.0], unit), wrap=charts._wrap)


def items(view: FigureView, spec: dict) -> tuple[str, list[Compared]]:
    """The numbers a block shows: the categories of one group (``categories:`` picks them), or
    one category by group (``category:``)."""
    cells = view.compared_cells
    if spec.get("category"):
        c = spec["category"]
        if c not in dict(view.categories):
            raise KeyError(c)
        groups = [g for g, _ in view.groups if g in cells and c in cells[g]
                  and (g == ALL or cells[g][c].n_t != "0")]
        return "groups", [cells[g][c] for g in groups]
    group = spec.get("group", ALL)
    cats = spec.get("categories") or [c for c, _ in view.categories]
    unknown = [c for c in cats if c not in cells.get(group, {})]
    if unknown:
        raise KeyError(", ".join(unknown))
    return "categories", [cells[group][c] for c in cats]


def block(raw: dict, view: FigureView, unit_name: str, mark: str, min_base: str,
          charts: bool = True) -> dict:
    """A figure or table block of a figure with the municipality's numbers: the municipality
    beside all municipalities (``raw``: the block's options, as for any figure block)."""
    fid = view.id
    mode, shown = items(view, raw)
    total = text("alle_kommuner")
    labels = {**(raw.get("labels") or {})}

    def name(c: Compared) -> str:
        return labels.get(c.group if mode == "groups" else c.category,
                          c.group_label if mode == "groups" else c.label)

    def difference(c: Compared) -> str:
        if not c.k_shown:
            return mark if c.k == mark else "–"
        if not c.tested:
            return "–"
        return c.diff + (" *" if c.significant else "")

    if mode == "groups":
        columns = ["", unit_name, text("antal_svar_i", navn=unit_name), total,
                   text("antal_svar_alle"), text("forskel")]
        body = [[name(c), c.k_with_previous, c.n_k, c.t, c.n_t, difference(c)] for c in shown]
    else:
        columns = ["", unit_name, total, text("forskel")]
        body = [[name(c), c.k_with_previous, c.t, difference(c)] for c in shown]
        body.append([text("antal_svar"), shown[0].n_k, shown[0].n_t, ""])
    note = raw.get("note") or text("kilde", population=view.population, figur=fid)
    if any(mark in cell for row in body for cell in row[1:]):
        note += " " + text("note_skjult", mark=mark, min_base=min_base)
    if any(c.significant for c in shown):
        note += " " + text("note_stjerne")
    years = {c.previous.year for c in shown if c.previous is not None}
    if years:
        note += " " + text("note_tidligere", navn=unit_name, aar=min(years))
    out = {"type": raw["type"], "title": raw.get("title") or view.title,
           "table": {"columns": columns, "rows": body}, "note": note, "figure": fid}
    if raw["type"] == "figure":
        out["svg"] = paired_chart(
            [name(c) for c in shown], [c.k_value for c in shown], [c.t_value for c in shown],
            (unit_name, total), unit=view.unit, decimals=view.decimals, mark=mark) \
            if charts else EMPTY_SVG
        out["alt"] = raw.get("alt") or _alt(view, shown, unit_name, name)
    return out


def _alt(view: FigureView, shown: list[Compared], unit_name: str, name) -> str:
    parts = []
    for c in shown:
        k = c.k if c.k_shown else text("vises_ikke")
        parts.append(text("alt_del", navn=name(c).lower(), k=k, kommune=unit_name, t=c.t))
    return f"{view.title}. " + "; ".join(parts) + "."
