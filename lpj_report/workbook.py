"""``tabeller.xlsx``: every figure and table of a report as a worksheet a consultant can reuse.

Layer: render (may import base … charts, and its own layer).

One sheet per figure and table, named and numbered as in the report (``Figur 3``, ``Tabel 2``),
after a front sheet (title, status notice, provenance, the mark for withheld numbers, how to
read the sheets, links to every sheet). The numbers are numbers with number formats, never text:
percentages are stored as fractions shown as ``21 %``, means in years, counts as whole numbers.

Nothing is recomputed. The sheets follow the *prepared report context* (the same numbering,
titles and notes as the HTML) and take their numbers from the *figure table* the context was
made from:

* a block that names its figure (``figure``: the registry id) lists every row of that figure —
  group, answer, the value, its 95 % confidence limits and its base — rounded as the report
  prints it (:func:`lpj_report.format.round_half_up`); an edition shows the municipality beside
  all municipalities, with the difference and whether it is significant;
* any other table (the figure index, the tested claims) is the report's table with each printed
  number read back as a number.

Withheld numbers are the mark (``◊``), groups without answers are blank. Same input, same bytes:
the workbook's creation date is ``meta.created`` and XlsxWriter writes no clock time. The Danish
wording is in ``templates/workbook.yaml``.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

import pandas as pd
import yaml

from lpj_report import format as fmt
from lpj_report.figures import ALL
from lpj_report.paths import TEMPLATES_DIR

WORDING_FILE = TEMPLATES_DIR / "workbook.yaml"
TITLE_ROWS = 3           # title, source/note, blank; the table's header follows
MAX_WIDTH = 60
#: A printed number as format.py writes it, read back: sign, digits with thousands points,
#: decimals after a comma, an optional unit.
_PRINTED = re.compile(r"^(?P<sign>[−\-+]?)(?P<int>\d{1,3}(?:\.\d{3})+|\d+)(?:,(?P<dec>\d+))?"
                      r"(?:\u00a0| )?(?P<unit>%|år|procentpoint)?$")


@cache
def wording() -> dict[str, Any]:
    return yaml.safe_load(WORDING_FILE.read_text(encoding="utf-8"))


def _number_format(unit: str, decimals: int) -> str:
    places = "." + "0" * decimals if decimals else ""
    if unit == "pct":
        return f"0{places} %"
    if unit == "pp":
        return f"+0{places};-0{places};0{places}"
    return f"#,##0{places}"


def _rounded(value: Any, decimals: int) -> float | None:
    if value is None or pd.isna(value):
        return None
    return fmt.round_half_up(float(value), decimals)


class _Sheets:
    """The XlsxWriter workbook with the house formats."""

    def __init__(self, buffer: io.BytesIO, meta: Mapping) -> None:
        import xlsxwriter

        self.book = xlsxwriter.Workbook(buffer, {"in_memory": True})
        created = dt.datetime.combine(dt.date.fromisoformat(meta["created"]), dt.time())
        self.book.set_properties({
            "title": f"{meta['title']} {meta.get('subtitle', '')}".strip(),
            "author": meta.get("publisher", ""), "company": meta.get("publisher", ""),
            "comments": meta.get("description", ""), "created": created,
        })
        add = self.book.add_format
        self.title = add({"bold": True, "font_size": 13, "font_color": "#0B5C8A"})
        self.source = add({"italic": True, "font_color": "#4D4D4D", "text_wrap": False})
        self.heading = add({"bold": True, "font_size": 11})
        self.header = add({"bold": True, "bottom": 2, "text_wrap": True, "valign": "bottom"})
        self.header_num = add({"bold": True, "bottom": 2, "text_wrap": True, "valign": "bottom",
                               "align": "right"})
        self.group = add({"bold": True, "align": "center", "bottom": 1})
        self.text = add({"valign": "top", "text_wrap": True})
        self.plain = add({"valign": "top"})
        self.mark = add({"align": "right", "valign": "top"})
        self.link = add({"font_color": "#0B5C8A", "underline": 1})
        self.warn = add({"bold": True, "font_color": "#5C3D00", "bg_color": "#FFF4D6"})
        self.warn_text = add({"font_color": "#5C3D00", "bg_color": "#FFF4D6", "text_wrap": True,
                              "valign": "top"})
        self._numbers: dict[str, Any] = {}

    def number(self, code: str):
        if code not in self._numbers:
            self._numbers[code] = self.book.add_format({"num_format": code, "valign": "top"})
        return self._numbers[code]

    def close(self) -> None:
        self.book.close()


def _cell(sheets: _Sheets, value: Any, code: str, mark: str) -> tuple[Any, Any]:
    """(value, format) of one cell: a number with its format, the mark, or blank."""
    if value is None:
        return None, sheets.plain
    if isinstance(value, str):
        return value, sheets.mark if value == mark else sheets.text
    return value, sheets.number(code)


def _write_table(sheets: _Sheets, ws, header: list[str], numeric: list[bool],
                 rows: list[list[tuple[Any, Any]]], widths: list[float], first: int,
                 groups: list[tuple[int, int, str]] | None = None) -> None:
    """Header at row ``first`` (a group row above it when ``groups``), rows below, frozen
    header, a filter, column widths from the content."""
    if groups:
        for start, end, label in groups:
            if end > start:
                ws.merge_range(first - 1, start, first - 1, end, label, sheets.group)
            else:
                ws.write(first - 1, start, label, sheets.group)
    for col, text in enumerate(header):
        ws.write(first, col, text, sheets.header_num if numeric[col] else sheets.header)
    for r, row in enumerate(rows, start=first + 1):
        for col, (value, cell_format) in enumerate(row):
            if value is None:
                ws.write_blank(r, col, None, cell_format)
            else:
                ws.write(r, col, value, cell_format)
    ws.freeze_panes(first + 1, 1)
    if rows:
        ws.autofilter(first, 0, first + len(rows), len(header) - 1)
    ws.repeat_rows(first - (1 if groups else 0), first)
    for col, width in enumerate(widths):
        ws.set_column(col, col, min(MAX_WIDTH, max(8.0, width)))


def _width(values) -> float:
    longest = 0
    for value in values:
        text = value if isinstance(value, str) else fmt.number(value, 2) if value is not None \
            else ""
        longest = max([longest, *(len(part) for part in str(text).split("\n"))])
    return longest * 1.1 + 2


# --------------------------------------------------------------------------- figure sheets


class Labels:
    """Danish labels of a figure's groups and answers (content.py's, from the codebook)."""

    def __init__(self, registry: Mapping, codebook) -> None:
        self.registry, self.codebook = registry, codebook

    def group(self, fid: str, key: str) -> str:
        from lpj_report.content import _group_label

        return _group_label(self.codebook, self.registry[fid], key)

    def category(self, fid: str, key: str) -> str:
        from lpj_report.content import _label

        return _label(self.codebook, self.registry[fid], key)


def _by_figure(rows: pd.DataFrame | None) -> dict[str, list[dict]]:
    """The rows of a figure table as records, by figure, in the table's order (one pass over
    the table, however many sheets read it)."""
    out: dict[str, list[dict]] = {}
    for record in ([] if rows is None else rows.to_dict(orient="records")):
        out.setdefault(record["figure"], []).append(record)
    return out


def _shown(row: Mapping) -> bool:
    """A row with numbers or a withheld mark (groups without answers are left out)."""
    return bool(row.get("suppressed")) or (not pd.isna(row.get("base")) and row.get("base", 0) > 0)


def _values(row: Mapping | None, mark: str, with_ci: bool) -> list[Any]:
    """value, [ci_low, ci_high,] base of one row, rounded as printed; the mark when withheld."""
    width = 4 if with_ci else 2
    if row is None:
        return [None] * width
    if bool(row.get("suppressed")):
        return [mark] * width
    decimals = int(row["decimals"])
    scale = 0.01 if row["unit"] == "pct" else 1.0
    out = [_scaled(_rounded(row["value"], decimals), scale)]
    if with_ci:
        out += [_scaled(_rounded(row.get("ci_low"), decimals), scale),
                _scaled(_rounded(row.get("ci_high"), decimals), scale)]
    base = row.get("base")
    out.append(None if base is None or pd.isna(base) else int(base))
    return out


def _scaled(value: float | None, scale: float) -> float | None:
    return None if value is None else round(value * scale, 10)


def _has_ci(records: list[dict]) -> bool:
    return any(r.get("ci_low") is not None and not pd.isna(r.get("ci_low")) for r in records)


def _figure_sheet(sheets: _Sheets, ws, block: Mapping, records: list[dict], labels: Labels,
                  mark: str, edition: Mapping | None) -> None:
    """The sheet of one figure: ``records`` are its rows (:func:`_by_figure`)."""
    words = wording()["columns"]
    fid = block["figure"]
    if edition:
        mine = [r for r in records if r["kommune"] == edition["key"]]
        total = {(r["group"], r["category"]): r for r in records if r["kommune"] == ALL}
    else:
        mine, total = list(records), {}
    mine = [r for r in mine if _shown(r) or _shown(total.get((r["group"], r["category"]), {}))]
    if not mine:
        return
    unit, decimals = str(mine[0]["unit"]), int(mine[0]["decimals"])
    with_ci = _has_ci(mine) or _has_ci(list(total.values()))
    grouped = any(r["group"] != ALL for r in mine)
    code = _number_format(unit, decimals)
    value_cols = [words["value"][unit]] + ([words["ci_low"], words["ci_high"]] if with_ci
                                            else []) + [words["base"]]
    codes = [code] * (3 if with_ci else 1) + ["#,##0"]
    label_cols = ([words["group"]] if grouped else []) + [words["category"]]
    header = list(label_cols) + value_cols
    groups = None
    if edition:
        header += value_cols + [words["diff"][unit], words["significant"]]
        start = len(label_cols)
        groups = [(start, start + len(value_cols) - 1, edition["name"]),
                  (start + len(value_cols), start + 2 * len(value_cols) - 1, words["total"])]
    body = []
    for r in mine:
        cells = ([(labels.group(fid, r["group"]), sheets.text)] if grouped else [])
        cells.append((labels.category(fid, r["category"]), sheets.text))
        values = _values(r, mark, with_ci)
        cells += [_cell(sheets, v, c, mark) for v, c in zip(values, codes, strict=True)]
        if edition:
            other = total.get((r["group"], r["category"]))
            cells += [_cell(sheets, v, c, mark)
                      for v, c in zip(_values(other, mark, with_ci), codes, strict=True)]
            diff = _rounded(r.get("diff"), max(decimals, 1))
            cells.append(_cell(sheets, diff, _number_format("pp", max(decimals, 1)), mark))
            tested = r.get("p_value") is not None and not pd.isna(r.get("p_value"))
            significant = words["significant_yes"] if bool(r.get("significant")) else words["significant_no"]
            cells.append((significant if tested else None, sheets.text))
        body.append(cells)
    numeric = [False] * len(label_cols) + [True] * (len(header) - len(label_cols))
    if edition:
        numeric[-1] = False
    widths = [_width([h, *(row[i][0] for row in body)]) for i, h in enumerate(header)]
    first = TITLE_ROWS + (1 if groups else 0)
    _write_table(sheets, ws, header, numeric, body, widths, first, groups)


def _read_back(text: str, mark: str) -> tuple[Any, str]:
    """A printed cell as (value, number format): ``21 %`` → (0.21, ``0 %``), ``1.404`` →
    (1404, ``#,##0``); the mark stays the mark; anything else stays text; ``–`` is blank."""
    text = str(text).strip()
    if text in ("", "–", "—"):
        return None, ""
    if text == mark:
        return mark, ""
    found = _PRINTED.match(text)
    if not found:
        return text, ""
    decimals = len(found["dec"] or "")
    digits = found["int"].replace(".", "") + ("." + found["dec"] if found["dec"] else "")
    value = float(digits) if decimals else int(digits)
    if found["sign"] in ("−", "-"):
        value = -value
    unit = found["unit"]
    if unit == "%":
        return round(value / 100, decimals + 2), _number_format("pct", decimals)
    if unit == "procentpoint":
        return value, _number_format("pp", decimals)
    return value, _number_format("count", decimals)


def _table_sheet(sheets: _Sheets, ws, block: Mapping, mark: str) -> None:
    table = block["table"]
    header = [_plain(c) for c in table["columns"]]
    body = []
    for row in table["rows"]:
        cells = [(_plain(row[0]), sheets.text)]
        for cell in row[1:]:
            value, code = _read_back(_plain(cell), mark)
            cells.append(_cell(sheets, value, code, mark) if code or value == mark or value is None
                         else (value, sheets.text))
        body.append(cells)
    numeric = [False] + [bool(n) for n in table["numeric"][1:]]
    widths = [_width([h, *(row[i][0] for row in body)]) for i, h in enumerate(header)]
    _write_table(sheets, ws, header, numeric, body, widths, TITLE_ROWS)


def _plain(text: Any) -> str:
    """Text without markup (notes and cells may hold reference links)."""
    from html import unescape

    return unescape(re.sub(r"<[^>]+>", "", str(text)))


# --------------------------------------------------------------------------- the workbook


def _blocks(ctx: Mapping) -> list[dict]:
    parts = [ctx.get("introduction"), *ctx["chapters"], *ctx.get("appendices", [])]
    return [b for part in parts if part for b in part["blocks"]
            if b["type"] in ("figure", "table")]


def _sheet_name(block: Mapping) -> str:
    pattern = wording()["sheet"]["figure" if block["type"] == "figure" else "table"]
    return re.sub(r"[\[\]:*?/\\]", "-", pattern.format(number=block["number"]))[:31]


def _front(sheets: _Sheets, ws, ctx: Mapping, entries: list[tuple[str, str]],
           mark: str) -> None:
    words = wording()["front"]
    meta = ctx["meta"]
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 100)
    row = 0
    title = f"{meta['title']} {meta.get('subtitle', '')}".strip()
    ws.write(row, 0, f"{title}: {words['workbook_title'].lower()}", sheets.title)
    row += 1
    for line in (meta.get("publisher", ""), meta.get("edition", "")):
        if line:
            ws.write(row, 0, line)
            row += 1
    for notice in (ctx.get("notice"), ctx.get("disclosure_notice")):
        if notice:
            row += 1
            ws.write(row, 0, notice["title"], sheets.warn)
            ws.write(row, 1, notice["text"], sheets.warn_text)
            ws.set_row(row, 45)
            row += 1
    row += 1
    ws.write(row, 0, words["provenance"], sheets.heading)
    row += 1
    for key, label in words["provenance_rows"].items():
        ws.write(row, 0, label)
        ws.write(row, 1, meta["provenance"][key])
        row += 1
    row += 1
    ws.write(row, 0, words["legend"], sheets.heading)
    row += 1
    for sign, meaning in words["legend_rows"]:
        ws.write(row, 0, mark if sign == "◊" else sign)
        ws.write(row, 1, meaning, sheets.text)
        row += 1
    row += 1
    ws.write(row, 0, words["reading"], sheets.heading)
    row += 1
    for line in words["reading_rows"]:
        ws.write(row, 1, line, sheets.text)
        ws.set_row(row, 30 if len(line) > 100 else None)
        row += 1
    row += 1
    ws.write(row, 0, words["sheet"], sheets.header)
    ws.write(row, 1, words["content"], sheets.header)
    row += 1
    for name, text in entries:
        ws.write_url(row, 0, f"internal:'{name}'!A1", sheets.link, name)
        ws.write(row, 1, text, sheets.text)
        row += 1


def workbook_bytes(context: Mapping, rows: pd.DataFrame, registry: Mapping, codebook, *,
                   mark: str = "◊", edition: Mapping | None = None,
                   whole: pd.DataFrame | None = None) -> bytes:
    """``tabeller.xlsx`` of a report: ``context`` is the report context (docs/report-context.md),
    ``rows`` the figure table it was made from (with ``suppressed``; an edition's rows with
    ``kommune``), ``edition`` ``{"key", "name"}`` of the municipality for an edition, ``whole``
    the whole survey's (protected) figure table, for an edition's figures that are not the
    municipality's own (their sheets are the annual report's)."""
    from lpj_report import render

    ctx = render.prepare(context)
    buffer = io.BytesIO()
    sheets = _Sheets(buffer, ctx["meta"])
    labels = Labels(registry, codebook)
    blocks = _blocks(ctx)
    own = _by_figure(rows)
    survey = cache(lambda: _by_figure(whole))   # only if a sheet needs it
    entries = [(_sheet_name(b), f"{_sheet_name(b)}. {_plain(b['title'])}") for b in blocks]
    front = sheets.book.add_worksheet(wording()["sheet"]["front"][:31])
    _front(sheets, front, ctx, entries, mark)
    for block, (name, title) in zip(blocks, entries, strict=True):
        ws = sheets.book.add_worksheet(name)
        ws.write(0, 0, title, sheets.title)
        if block.get("note"):
            ws.write(1, 0, _plain(block["note"]), sheets.source)
        fid = block.get("figure")
        if fid in registry and fid in own:
            _figure_sheet(sheets, ws, block, own[fid], labels, mark, edition)
        elif fid in registry and whole is not None and fid in survey():
            _figure_sheet(sheets, ws, block, survey()[fid], labels, mark, None)
        else:
            _table_sheet(sheets, ws, block, mark)
        ws.set_landscape()
        ws.set_paper(9)            # A4
        ws.fit_to_pages(1, 0)
    front.activate()
    sheets.close()
    return buffer.getvalue()
