"""Rendering: a report context (strings only) → one HTML file → PDF (WeasyPrint) and DOCX (pandoc).

Layer: render (may import base … charts, and its own layer).

The context shape is documented in ``docs/report-context.md``. Every printed value in it is already
a string made by :mod:`lpj_report.format`; :func:`prepare` rejects numbers so that no template ever
formats or computes. Jinja runs strict (autoescape, ``StrictUndefined``); its filters are the
functions of ``format.FILTERS`` and nothing else.

Outputs are deterministic: the same context gives the same HTML, PDF and DOCX bytes. Dates come from
``meta.created`` (``dcterms.created`` in the HTML, PDF metadata, DOCX properties), never from the
clock or the environment; the caller picks ``meta.created``, e.g. with :func:`build_date`, which
reads ``SOURCE_DATE_EPOCH``.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import os
import re
import sys
from collections.abc import Callable, Mapping
from functools import cache
from html import unescape as html_unescape
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from lpj_report import format as fmt
from lpj_report import pdf_parts
from lpj_report.chart_names import CHART_DIR, PNG_DPI, chart_file  # noqa: F401 (re-exported)
from lpj_report.cli_errors import InputError
from lpj_report.paths import ROOT, TEMPLATES_DIR
from lpj_report.print_svg import print_charts
from lpj_report.readers import read_yaml

FONT_DIR = ROOT / "assets" / "fonts"
CSS_FILE = TEMPLATES_DIR / "static" / "report.css"
SCREEN_CSS_FILE = TEMPLATES_DIR / "static" / "screen.css"
PAGED_CSS_FILE = TEMPLATES_DIR / "static" / "paged.css"
SCRIPT_FILE = TEMPLATES_DIR / "static" / "report.js"
STATUSES = ("reconstruction", "fictitious", "real")
BLOCK_KEYS = {  # required keys, then optional keys with their defaults
    "text": (("paragraphs",), {"heading": ""}),
    "list": (("items",), {"heading": ""}),
    "figure": (("title", "alt", "svg", "table"),
               {"note": "", "number": "", "figure": "", "ref": "", "svg_narrow": ""}),
    "table": (("title", "table"), {"note": "", "number": "", "figure": "", "ref": ""}),
    "factbox": (("title",), {"items": [], "paragraphs": []}),
    "highlight": (("value", "text"), {}),
}
_ID = re.compile(r"^[a-z][a-z0-9-]*$")
#: A reference in a text to a figure, a table or a section: ``[[key]]`` or ``[[key|link text]]``
#: (docs/report-context.md, "References").
_REFERENCE = re.compile(r"\[\[([^\[\]|]+?)(?:\|([^\[\]]+?))?\]\]")
#: Context keys whose strings are running text (may hold references); nested lists and dicts
#: (paragraph segments) included.
TEXT_KEYS = ("intro", "key_points", "paragraphs", "items", "note", "text")
_FONT_FACES = (
    ("LiberationSans-Regular.ttf", "normal", "normal"),
    ("LiberationSans-Bold.ttf", "bold", "normal"),
    ("LiberationSans-Italic.ttf", "normal", "italic"),
    ("LiberationSans-BoldItalic.ttf", "bold", "italic"),
)


class ContextError(InputError):
    """The report context does not have the documented shape."""


# --------------------------------------------------------------------------- Jinja


@cache
def environment() -> jinja2.Environment:
    """The one strict Jinja environment (filters = ``format.FILTERS``)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(fmt.FILTERS)
    return env


@cache
def _notices() -> dict[str, dict[str, str]]:
    return read_yaml(TEMPLATES_DIR / "notices.yaml", "notices file")


def disclosure_notice(lowered: dict | None) -> dict[str, str] | None:
    """The notice of a build with disclosure control below the project's floor
    (``{"min_base", "floor"}``, :func:`lpj_report.suppression.lowered`), else None."""
    if not lowered:
        return None
    numbers = {k: v if isinstance(v, str) else fmt.count(int(v)) for k, v in lowered.items()}
    return {k: str(v).format(**numbers) for k, v in _notices()["disclosure_lowered"].items()}


@cache
def _labels() -> dict[str, Any]:
    """The renderer's fixed Danish wording outside the templates' markup (labels.yaml)."""
    return read_yaml(TEMPLATES_DIR / "labels.yaml", "labels file")


# --------------------------------------------------------------------------- context


def _only_strings(value: Any, where: str) -> None:
    """Every leaf is a string (or a bool flag): numbers must be formatted before rendering."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            _only_strings(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _only_strings(item, f"{where}[{index}]")
    elif not isinstance(value, str | bool) and value is not None:
        raise ContextError(
            f"{where}: {value!r} is a {type(value).__name__}; format it with lpj_report.format"
        )


def _need(mapping: Mapping, keys: tuple[str, ...], where: str) -> None:
    missing = [key for key in keys if key not in mapping]
    if missing:
        raise ContextError(f"{where}: missing {', '.join(missing)}")


def _check_table(table: dict, where: str) -> None:
    """Check the table's shape and add its layout: ``wide`` (compact print style), ``long`` (may
    break across pages) and ``numeric`` (per column: right-aligned numbers or left-aligned text)."""
    _need(table, ("columns", "rows"), where)
    width = len(table["columns"])
    if width < 2:
        raise ContextError(f"{where}: a table needs a label column and at least one value column")
    for index, row in enumerate(table["rows"]):
        if len(row) != width:
            raise ContextError(f"{where}.rows[{index}]: {len(row)} cells, {width} columns")
    table["wide"] = _table_width_em(table) > TEXT_WIDTH_EM
    table["long"] = len(table["rows"]) > LONG_TABLE_ROWS
    table["numeric"] = [False] + [
        all(_NUMBER.match(row[index]) or not row[index].strip() for row in table["rows"])
        for index in range(1, width)
    ]


#: Tables with more rows than this may break across pages; shorter ones are kept on one page with
#: their caption (a table kept whole that is taller than the page leaves its caption alone).
LONG_TABLE_ROWS = 20
#: A formatted number as format.py writes it: "21 %", "1.404", "−1,5 procentpoint", "44 år", "–"
#: (suppressed), "< 0,001", "p = 0,015", "n = 1.404".
_NUMBER = re.compile(r"^\s*(?:(?:[a-zæøå]{1,2}\s*)?[<>=≤≥]\s*)?[−\-+]?\d|^\s*[–—]\s*$")


#: The PDF's text width (A4 less 22 + 20 mm margins = 168 mm = 476 pt) in em of the 9 pt table
#: text (report.css: 10 pt body, tables 0.9 em).
TEXT_WIDTH_EM = 52.0
_BREAK = re.compile(r"(?<=/)| ")  # where a cell's text may wrap: at spaces and after a slash


def _table_width_em(table: Mapping) -> float:
    """A table's narrowest width in em, estimated: per column its longest unbreakable word
    (~0.5 em a character; no-break spaces hold "12 %" together) plus 1.2 em cell padding.
    Generous on purpose: a table estimated too wide only gets the compact print style."""
    total = 0.0
    for index, column in enumerate(table["columns"]):
        cells = [column, *(row[index] for row in table["rows"])]
        longest = max((len(word) for cell in cells for word in _BREAK.split(cell)), default=0)
        total += 0.5 * longest + 1.2
    return total


def _number_label(number: int) -> str:
    return fmt.count(number)


class _Numbering:
    """Figure and table numbers in reading order, and unique element ids."""

    def __init__(self) -> None:
        self.figures = 0
        self.tables = 0
        self.boxes = 0
        self.ids: set[str] = set()

        self.targets: dict[str, list[dict]] = {}   # reference key → what it points at

    def claim(self, element_id: str, where: str) -> str:
        if element_id in self.ids:
            raise ContextError(f"{where}: id {element_id!r} used twice")
        self.ids.add(element_id)
        return element_id

    def unique(self, stem: str) -> str:
        """``stem``, or ``stem-2``, ``stem-3`` … when taken (ids made from headings)."""
        candidate, n = stem, 1
        while candidate in self.ids:
            n += 1
            candidate = f"{stem}-{n}"
        self.ids.add(candidate)
        return candidate

    def target(self, keys: list[str], kind: str, element_id: str, number: str = "",
               label: str = "", title: str = "") -> dict:
        entry = {"kind": kind, "id": element_id, "number": number, "label": label,
                 "title": title}
        for key in dict.fromkeys(k for k in keys if k):
            self.targets.setdefault(key, []).append(entry)
        return entry


_DANISH_ASCII = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "é": "e", "ü": "u"})


def slug(text: str) -> str:
    """An id made from a heading: ``Et mål for læring`` → ``et-maal-for-laering``."""
    text = html_unescape(re.sub(r"<[^>]+>", "", str(text))).casefold().translate(_DANISH_ASCII)
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "afsnit"


def _prepare_block(block: dict, where: str, numbering: _Numbering, section_id: str) -> dict:
    kind = block.get("type")
    if kind not in BLOCK_KEYS:
        raise ContextError(f"{where}: unknown block type {kind!r} ({', '.join(BLOCK_KEYS)})")
    required, optional = BLOCK_KEYS[kind]
    _need(block, required, where)
    for key, default in optional.items():
        block.setdefault(key, copy.deepcopy(default))
    if kind == "figure":
        numbering.figures += 1
        block["number"] = block["number"] or _number_label(numbering.figures)
        block["id"] = numbering.claim("figur-" + block["number"].replace(".", "-"), where)
        if not block["alt"].strip():
            raise ContextError(f"{where}: a figure needs alt text")
        for key in ("svg", "svg_narrow"):
            if block[key] and not block[key].lstrip().startswith(("<?xml", "<svg")):
                raise ContextError(f"{where}: {key} is not an SVG document")
        block["src"] = _data_uri(block["svg"])
        block["src_narrow"] = _data_uri(block["svg_narrow"]) if block["svg_narrow"] else ""
        block["file"] = chart_file(block["number"], block["figure"])
        _check_table(block["table"], where + ".table")
        numbering.target([block["ref"], block["figure"], block["id"]], "figure", block["id"],
                         block["number"], title=block["title"])
    elif kind == "table":
        numbering.tables += 1
        block["number"] = block["number"] or _number_label(numbering.tables)
        block["id"] = numbering.claim("tabel-" + block["number"].replace(".", "-"), where)
        _check_table(block["table"], where + ".table")
        numbering.target([block["ref"], block["figure"], block["id"]], "table", block["id"],
                         block["number"], title=block["title"])
    elif kind == "factbox":
        numbering.boxes += 1
        block["id"] = numbering.claim(f"boks-{numbering.boxes}", where)
    elif kind in ("text", "list") and block["heading"]:
        block["id"] = numbering.unique(f"{section_id}-{slug(block['heading'])}")
        numbering.target([block["id"]], "section", block["id"], title=block["heading"])
    return block


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _prepare_section(section: dict, where: str, numbering: _Numbering) -> dict:
    _need(section, ("id", "title", "blocks"), where)
    if not _ID.match(section["id"]):
        raise ContextError(f"{where}: id {section['id']!r} must match {_ID.pattern}")
    numbering.claim(section["id"], where)
    for key, default in (("label", ""), ("intro", []), ("key_points", []),
                         ("key_points_lead", [])):
        section.setdefault(key, default)
    section.setdefault("key_points_title", "")
    section["running"] = section["title"]
    section["blocks"] = [
        _prepare_block(block, f"{where}.blocks[{index}]", numbering, section["id"])
        for index, block in enumerate(section["blocks"])
    ]
    numbering.target([section["id"]], "section", section["id"], label=section["label"],
                     title=section["title"])
    return section


def _reference_text(target: dict) -> str:
    words = _labels()["reference"]
    if target["kind"] in ("figure", "table"):
        return words[target["kind"]].format(number=target["number"])
    if target["label"]:
        return target["label"][:1].lower() + target["label"][1:]
    return target["title"]


def _resolve(text: str, targets: dict[str, list[dict]], where: str) -> str:
    """``text`` with its references (``[[key]]``, ``[[key|link text]]``) as links: Markup, the
    rest escaped. Text without a reference is returned as it is."""
    if "[[" not in text:
        return text
    parts, last = [], 0
    for match in _REFERENCE.finditer(text):
        key, shown = match.group(1).strip(), match.group(2)
        found = targets.get(key)
        if not found:
            raise ContextError(f"{where}: unknown reference [[{key}]] (a figure or table id, "
                               "its ref or a section id)")
        if len({t["id"] for t in found}) > 1:
            raise ContextError(f"{where}: [[{key}]] names {len(found)} places "
                               f"({', '.join(t['id'] for t in found)}); give the block a ref")
        target = found[0]
        parts.append(escape(text[last:match.start()]))
        parts.append(Markup('<a class="ref" href="#{}">{}</a>').format(
            target["id"], shown.strip() if shown else _reference_text(target)))
        last = match.end()
    if "[[" in text[last:]:
        raise ContextError(f"{where}: unclosed or empty reference in {text[last:][:40]!r}")
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


def _resolve_all(value: Any, targets: dict[str, list[dict]], where: str) -> Any:
    if isinstance(value, str):
        return _resolve(value, targets, where)
    if isinstance(value, list):
        return [_resolve_all(v, targets, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _resolve_all(v, targets, f"{where}.{k}") for k, v in value.items()}
    return value


def _resolve_texts(node: Any, targets: dict[str, list[dict]], where: str) -> None:
    """Resolve the references of every running-text value (``TEXT_KEYS``) in place."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in TEXT_KEYS:
                node[key] = _resolve_all(value, targets, f"{where}.{key}")
            elif isinstance(value, dict | list):
                _resolve_texts(value, targets, f"{where}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            _resolve_texts(item, targets, f"{where}[{index}]")


def prepare(context: Mapping) -> dict:
    """Check the context and complete it for the templates (numbers, ids, image data, contents).

    Returns a new dict; the argument is not changed. Raises :class:`ContextError`.
    """
    ctx = copy.deepcopy(dict(context))
    _only_strings(ctx, "context")
    _need(ctx, ("meta", "chapters"), "context")
    meta = ctx["meta"]
    _need(meta, ("title", "status", "created", "provenance"), "meta")
    _need(
        meta["provenance"],
        ("data_file", "data_sha256", "codebook_version", "code_version", "build_date"),
        "meta.provenance",
    )
    if meta["status"] not in STATUSES:
        raise ContextError(f"meta.status: {meta['status']!r} is not one of {', '.join(STATUSES)}")
    try:
        dt.date.fromisoformat(meta["created"])
    except ValueError as error:
        raise ContextError(f"meta.created: {meta['created']!r} is not an ISO date") from error
    for key in ("subtitle", "publisher", "edition"):
        meta.setdefault(key, "")
    meta.setdefault("description", meta["title"])

    numbering = _Numbering()
    for reserved in ("kolofon-titel", "indhold-titel"):
        numbering.claim(reserved, "context")
    toc = []
    foreword = ctx.get("foreword")
    if foreword:
        _need(foreword, ("title", "paragraphs"), "foreword")
        foreword.setdefault("signature", "")
        foreword["id"] = numbering.claim(foreword.get("id", "forord"), "foreword")
        toc.append({"id": foreword["id"], "label": "", "title": foreword["title"]})
    parts = []
    if ctx.get("introduction"):
        parts.append(("introduction", ctx["introduction"]))
    parts += [(f"chapters[{i}]", chapter) for i, chapter in enumerate(ctx["chapters"])]
    parts += [(f"appendices[{i}]", a) for i, a in enumerate(ctx.get("appendices", []))]
    for where, section in parts:
        _prepare_section(section, where, numbering)
        toc.append({"id": section["id"], "label": section["label"], "title": section["title"],
                    "children": [{"id": b["id"], "title": b["heading"]}
                                 for b in section["blocks"]
                                 if b["type"] in ("text", "list") and b["heading"]]})
    if foreword:
        toc[0]["children"] = []
    ctx.setdefault("foreword", None)
    ctx.setdefault("introduction", None)
    ctx.setdefault("appendices", [])
    blocks = [b for _, section in parts for b in section["blocks"]]
    ctx["toc"] = toc
    ctx["figure_list"] = [{"id": b["id"], "number": b["number"], "title": b["title"]}
                          for b in blocks if b["type"] == "figure"]
    ctx["table_list"] = [{"id": b["id"], "number": b["number"], "title": b["title"]}
                         for b in blocks if b["type"] == "table"]
    ctx["notice"] = _notices().get(meta["status"])
    ctx["disclosure_notice"] = disclosure_notice(meta.get("disclosure_lowered"))
    ctx["labels"] = _labels()
    _resolve_texts({"foreword": ctx["foreword"], "introduction": ctx["introduction"],
                    "chapters": ctx["chapters"], "appendices": ctx["appendices"]},
                   numbering.targets, "context")
    return ctx


# --------------------------------------------------------------------------- HTML


def render_html_text(context: Mapping, *, narrow: bool = True) -> str:
    """The report as one self-contained HTML document (CSS inline, charts as data URIs).

    ``narrow``: each chart also in its phone layout (``<picture><source media=…>``), drawn by
    :func:`lpj_report.charts.narrow_svg` when the block brings none. The PDF never uses it
    (:func:`render_pdf` drops the ``<source>`` elements), so a build can hand the PDF an HTML
    made with ``narrow=False`` first and write the full one while the PDF is being made.
    """
    ctx = prepare(context)
    if narrow:
        _add_narrow_charts(ctx)
    return _render_prepared(ctx)


def _render_prepared(ctx: dict) -> str:
    ctx["css"] = Markup(CSS_FILE.read_text(encoding="utf-8"))
    ctx["screen_css"] = Markup(SCREEN_CSS_FILE.read_text(encoding="utf-8"))
    ctx["script"] = Markup(SCRIPT_FILE.read_text(encoding="utf-8"))
    return environment().get_template("report.html.j2").render(ctx)


def figure_blocks(ctx: Mapping) -> list[dict]:
    """The figure blocks of a prepared context, in reading order."""
    parts = [ctx.get("introduction"), *ctx["chapters"], *ctx.get("appendices", [])]
    return [b for part in parts if part for b in part["blocks"] if b["type"] == "figure"]


def _add_narrow_charts(ctx: dict) -> None:
    charts = sys.modules.get("lpj_report.charts")  # only charts drawn in this process
    for block in figure_blocks(ctx):
        if not block["src_narrow"] and charts is not None:
            svg = charts.narrow_svg(block["svg"])
            block["src_narrow"] = _data_uri(svg) if svg else ""


def render_html(context: Mapping, out_dir: Path | str, name: str = "report", *,
                print_ready: Callable[[Path], object] | None = None) -> Path:
    """Write ``<out_dir>/<name>.html`` and return its path.

    ``print_ready``: called with the path of the same HTML without the phone layouts of the
    charts (``.<name>.print.html`` in ``out_dir``; the caller removes it) before those are
    drawn, so that the PDF can start at once (:func:`render_pdf` gives the same bytes from
    either file).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ctx = prepare(context)
    if print_ready is not None:
        early = out / f".{name}.print.html"
        early.write_text(_render_prepared(copy.copy(ctx)), encoding="utf-8", newline="\n")
        print_ready(early)
    _add_narrow_charts(ctx)
    path = out / f"{name}.html"
    path.write_text(_render_prepared(ctx), encoding="utf-8", newline="\n")
    return path


def font_face_css() -> str:
    """``@font-face`` rules for the shipped fonts (file URLs; used for the PDF only)."""
    rules = []
    for filename, weight, style in _FONT_FACES:
        url = (FONT_DIR / filename).as_uri()
        rules.append(
            f"@font-face {{ font-family: 'LPJ Sans'; src: url('{url}'); "
            f"font-weight: {weight}; font-style: {style}; }}"
        )
    return "\n".join(rules)


#: What print never shows (report.css hides it): the charts' phone layouts, the script, the
#: figures' number tables, the contents' sections, links to chart files and back to the contents.
#: Left out before WeasyPrint parses the HTML (the same PDF, a fifth faster).
_PRINT_ONLY = re.compile(
    r"<source\b[^>]*>\n?|<script\b[^>]*>.*?</script>\n?"
    r'|<details class="figure-data"[^>]*>.*?</details>\n?'
    r'|<ol class="toc-sections">.*?</ol>\n?'
    r'|<p class="(?:chart-files|back|scroll-hint)"[^>]*>.*?</p>\n?', re.S)


def print_html(html_path: Path | str) -> tuple[str, str]:
    """The document WeasyPrint lays out, and its base URL: the HTML file without what print
    never shows (:data:`_PRINT_ONLY`), its charts as :func:`print_charts` makes them, and the
    paged-media rules (``templates/static/paged.css``: margin boxes, running notice, contents
    page numbers) with the ``@font-face`` rules added as author styles, so that the HTML file
    itself stays plain, valid CSS for browsers."""
    html_path = Path(html_path)
    text = html_path.read_text(encoding="utf-8")
    if "</head>" not in text:
        raise ValueError(f"{html_path}: not an HTML document made by render_html")
    text = print_charts(_PRINT_ONLY.sub("", text))
    paged = font_face_css() + "\n" + PAGED_CSS_FILE.read_text(encoding="utf-8")
    text = text.replace("</head>", f'<style media="print">\n{paged}</style>\n</head>', 1)
    return text, str(html_path.resolve().parent) + "/"


def render_pdf(html_path: Path | str, pdf_path: Path | str) -> Path:
    """A4 PDF/UA-1 from the HTML file: shipped fonts embedded, no clock in the bytes.

    Rendered part by part (:mod:`lpj_report.pdf_parts`), each part kept in the build cache, so
    that a change to one chapter renders that chapter again and not the whole document; the
    pages, text, links, bookmarks and tags are those of :func:`render_pdf_whole`.
    """
    pdf_path = Path(pdf_path)
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    return pdf_parts.write_pdf(*print_html(html_path), pdf_path)


def render_pdf_whole(html_path: Path | str, pdf_path: Path | str) -> Path:
    """The same PDF from WeasyPrint alone, the whole document at once: what the part-by-part
    PDF is checked against (tests/test_pdf_parts.py) and the benchmark's reference."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    text, base_url = print_html(html_path)
    pdf_path = Path(pdf_path)
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    with pdf_parts.collector_off():
        HTML(string=text, base_url=base_url).write_pdf(
            pdf_path, font_config=FontConfiguration(), pdf_variant="pdf/ua-1")
    return pdf_path


# --------------------------------------------------------------------------- DOCX

_CREATED = re.compile(r'<meta name="dcterms.created" content="([0-9-]+)">')


def source_date_epoch(default: dt.date | None = None) -> int:
    """``SOURCE_DATE_EPOCH`` from the environment, else midnight UTC of ``default``."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value:
        return int(value)
    if default is None:
        raise RuntimeError("SOURCE_DATE_EPOCH is not set and no default date was given")
    return int(dt.datetime.combine(default, dt.time(), tzinfo=dt.UTC).timestamp())


def build_date(default: dt.date | None = None) -> dt.date:
    """The build date for the colophon: ``SOURCE_DATE_EPOCH`` (UTC), else ``default``."""
    return dt.datetime.fromtimestamp(source_date_epoch(default), tz=dt.UTC).date()


_BANNER = re.compile(r'<div class="status-banner"[^>]*>(.*?)</div>', re.S)


def render_docx(html_path: Path | str, docx_path: Path | str) -> Path:
    """The Word document of the HTML file (pandoc; :mod:`lpj_report.docx`): A4, the house styles,
    contents and lists of figures and tables as fields, captions numbered by SEQ fields, charts
    as full-width PNG pictures with their alt text, the numbers behind each figure as a table.

    The status notice (the HTML banner) is the page header of every page; the document's dates
    are its own (``meta.created``), so the same HTML gives the same bytes whatever
    ``SOURCE_DATE_EPOCH`` the caller has set.
    """
    from lpj_report import docx

    html = Path(html_path).read_text(encoding="utf-8")
    created = _CREATED.search(html)
    day = dt.date.fromisoformat(created.group(1)) if created else \
        dt.datetime.fromtimestamp(source_date_epoch(), tz=dt.UTC).date()
    banner = _BANNER.search(html)
    notice = html_unescape(banner.group(1)).strip() if banner else None
    return docx.render_docx(html_path, docx_path, day, notice)
