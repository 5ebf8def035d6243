"""Rendering: a report context (strings only) → one HTML file → PDF (WeasyPrint) and DOCX (pandoc).

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
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Mapping
from functools import cache
from html import unescape as html_unescape
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import jinja2
from markupsafe import Markup

from lpj_report import format as fmt
from lpj_report.paths import ROOT, TEMPLATES_DIR
from lpj_report.readers import read_yaml

FONT_DIR = ROOT / "assets" / "fonts"
CSS_FILE = TEMPLATES_DIR / "static" / "report.css"
SCREEN_CSS_FILE = TEMPLATES_DIR / "static" / "screen.css"
PAGED_CSS_FILE = TEMPLATES_DIR / "static" / "paged.css"
STATUSES = ("reconstruction", "fictitious", "real")
BLOCK_KEYS = {  # required keys, then optional keys with their defaults
    "text": (("paragraphs",), {"heading": ""}),
    "list": (("items",), {"heading": ""}),
    "figure": (("title", "alt", "svg", "table"), {"note": "", "number": ""}),
    "table": (("title", "table"), {"note": "", "number": ""}),
    "factbox": (("title",), {"items": [], "paragraphs": []}),
    "highlight": (("value", "text"), {}),
}
_ID = re.compile(r"^[a-z][a-z0-9-]*$")
_FONT_FACES = (
    ("LiberationSans-Regular.ttf", "normal", "normal"),
    ("LiberationSans-Bold.ttf", "bold", "normal"),
    ("LiberationSans-Italic.ttf", "normal", "italic"),
    ("LiberationSans-BoldItalic.ttf", "bold", "italic"),
)


class ContextError(ValueError):
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

    def claim(self, element_id: str, where: str) -> str:
        if element_id in self.ids:
            raise ContextError(f"{where}: id {element_id!r} used twice")
        self.ids.add(element_id)
        return element_id


def _prepare_block(block: dict, where: str, numbering: _Numbering) -> dict:
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
        if not block["svg"].lstrip().startswith(("<?xml", "<svg")):
            raise ContextError(f"{where}: svg is not an SVG document")
        data = base64.b64encode(block["svg"].encode("utf-8")).decode("ascii")
        block["src"] = "data:image/svg+xml;base64," + data
        _check_table(block["table"], where + ".table")
    elif kind == "table":
        numbering.tables += 1
        block["number"] = block["number"] or _number_label(numbering.tables)
        block["id"] = numbering.claim("tabel-" + block["number"].replace(".", "-"), where)
        _check_table(block["table"], where + ".table")
    elif kind == "factbox":
        numbering.boxes += 1
        block["id"] = numbering.claim(f"boks-{numbering.boxes}", where)
    return block


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
        _prepare_block(block, f"{where}.blocks[{index}]", numbering)
        for index, block in enumerate(section["blocks"])
    ]
    return section


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
        toc.append({"id": section["id"], "label": section["label"], "title": section["title"]})
    ctx.setdefault("foreword", None)
    ctx.setdefault("introduction", None)
    ctx.setdefault("appendices", [])
    ctx["toc"] = toc
    ctx["notice"] = _notices().get(meta["status"])
    return ctx


# --------------------------------------------------------------------------- HTML


def render_html_text(context: Mapping) -> str:
    """The report as one self-contained HTML document (CSS inline, charts as data URIs)."""
    ctx = prepare(context)
    ctx["css"] = Markup(CSS_FILE.read_text(encoding="utf-8"))
    ctx["screen_css"] = Markup(SCREEN_CSS_FILE.read_text(encoding="utf-8"))
    return environment().get_template("report.html.j2").render(ctx)


def render_html(context: Mapping, out_dir: Path | str, name: str = "report") -> Path:
    """Write ``<out_dir>/<name>.html`` and return its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.html"
    path.write_text(render_html_text(context), encoding="utf-8", newline="\n")
    return path


# --------------------------------------------------------------------------- PDF


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


def render_pdf(html_path: Path | str, pdf_path: Path | str) -> Path:
    """A4 PDF/UA-1 from the HTML file: shipped fonts embedded, no clock in the bytes.

    The paged-media rules (``templates/static/paged.css``: margin boxes, running notice, contents
    page numbers) and the ``@font-face`` rules are added here, as author styles, so that the HTML
    file itself stays plain, valid CSS for browsers.
    """
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    html_path = Path(html_path)
    text = html_path.read_text(encoding="utf-8")
    if "</head>" not in text:
        raise ValueError(f"{html_path}: not an HTML document made by render_html")
    paged = font_face_css() + "\n" + PAGED_CSS_FILE.read_text(encoding="utf-8")
    text = text.replace("</head>", f'<style media="print">\n{paged}</style>\n</head>', 1)
    fonts = FontConfiguration()
    pdf_path = Path(pdf_path)
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    HTML(string=text, base_url=str(html_path.resolve().parent) + "/").write_pdf(
        pdf_path,
        font_config=fonts,
        pdf_variant="pdf/ua-1",
    )
    return pdf_path


# --------------------------------------------------------------------------- DOCX

_IMG = re.compile(r'<img class="chart" src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"')
_SVG_WIDTH = re.compile(r'<svg[^>]*\swidth="([0-9.]+)pt"')
_CREATED = re.compile(r'<meta name="dcterms.created" content="([0-9-]+)">')
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


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


def _fontconfig(folder: Path) -> Path:
    """A fontconfig file that knows only the shipped fonts (rsvg-convert draws with them)."""
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        f"<dir>{FONT_DIR}</dir>\n<cachedir>{folder / 'fc-cache'}</cachedir>\n</fontconfig>\n",
        encoding="utf-8",
    )
    return conf


def svg_to_png(svg: str, png_path: Path, work: Path, dpi: int = 200) -> None:
    """PNG twin of a chart with ``rsvg-convert`` (Debian ``librsvg2-bin``) and the shipped font."""
    tool = shutil.which("rsvg-convert")
    if tool is None:
        raise RuntimeError("rsvg-convert not found: apt-get install librsvg2-bin")
    env = {**os.environ, "FONTCONFIG_FILE": str(_fontconfig(work))}
    subprocess.run(
        [tool, "--dpi-x", str(dpi), "--dpi-y", str(dpi), "--format", "png", "-o", str(png_path)],
        input=svg.encode("utf-8"),
        env=env,
        check=True,
        capture_output=True,
    )


def _docx_html(html: str, work: Path) -> str:
    """The HTML as pandoc should read it: PNG charts, open data tables, right-aligned numbers."""
    counter = 0

    def to_png(match: re.Match) -> str:
        nonlocal counter
        counter += 1
        svg = base64.b64decode(match.group(1)).decode("utf-8")
        name = f"figur-{counter}.png"
        svg_to_png(svg, work / name, work)
        width = _SVG_WIDTH.search(svg)
        inches = float(width.group(1)) / 72 if width else 6.3
        return f'<img class="chart" src="{name}" style="width: {min(inches, 6.3):.2f}in"'

    html = _IMG.sub(to_png, html)
    html = html.replace('<details class="figure-data">', '<div class="figure-data">')
    html = html.replace("</details>", "</div>")
    html = re.sub(r"<summary>(.*?)</summary>", r"<p><strong>\1</strong></p>", html)
    html = html.replace('class="num">', 'class="num" style="text-align: right">')
    return html


_BANNER = re.compile(r'<div class="status-banner"[^>]*>(.*?)</div>', re.S)
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_HEADER_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/header"
_HEADER_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"


def _with_notice_header(parts: dict[str, bytes], notice: str) -> dict[str, bytes]:
    """Add a page header carrying the status notice to every page of the DOCX."""
    text = xml_escape(notice)
    parts["word/lpj-notice-header.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:hdr xmlns:w="{_W}">'
        '<w:p><w:pPr><w:pStyle w:val="Header"/></w:pPr><w:r><w:rPr><w:b/>'
        f'<w:color w:val="7A4F00"/><w:sz w:val="16"/></w:rPr><w:t xml:space="preserve">{text}'
        "</w:t></w:r></w:p></w:hdr>"
    ).encode()
    rels = parts["word/_rels/document.xml.rels"].decode("utf-8")
    relation = (
        f'<Relationship Id="rIdLpjNotice" Type="{_HEADER_REL}" Target="lpj-notice-header.xml"/>'
    )
    parts["word/_rels/document.xml.rels"] = rels.replace(
        "</Relationships>", relation + "</Relationships>"
    ).encode("utf-8")
    types = parts["[Content_Types].xml"].decode("utf-8")
    override = f'<Override PartName="/word/lpj-notice-header.xml" ContentType="{_HEADER_TYPE}"/>'
    parts["[Content_Types].xml"] = types.replace("</Types>", override + "</Types>").encode("utf-8")
    document = parts["word/document.xml"].decode("utf-8")
    if document.count("<w:sectPr>") != 1:
        raise RuntimeError("unexpected DOCX from pandoc: not exactly one <w:sectPr>")
    reference = '<w:sectPr><w:headerReference w:type="default" r:id="rIdLpjNotice"/>'
    parts["word/document.xml"] = document.replace("<w:sectPr>", reference).encode("utf-8")
    return parts


def _finish_docx(path: Path, notice: str | None) -> None:
    """Add the notice header; rewrite the zip with fixed entry times in a fixed order."""
    with zipfile.ZipFile(path) as source:
        names = source.namelist()
        parts = {name: source.read(name) for name in names}
    if notice:
        parts = _with_notice_header(parts, notice)
        names.append("word/lpj-notice-header.xml")
    with zipfile.ZipFile(path, "w") as target:
        for name in names:
            fixed = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, parts[name], compresslevel=9)


def render_docx(html_path: Path | str, docx_path: Path | str) -> Path:
    """DOCX from the HTML file via pandoc, with PNG charts (Word shows SVG unreliably).

    The status notice (the HTML banner, which pandoc drops with everything outside ``<main>``)
    becomes the page header of every page.
    """
    import pypandoc

    html = Path(html_path).read_text(encoding="utf-8")
    # The DOCX dates are the document's own (meta.created, as in the PDF), not the environment's:
    # the same HTML gives the same bytes whatever SOURCE_DATE_EPOCH the caller has set.
    created = _CREATED.search(html)
    if created:
        day = dt.date.fromisoformat(created.group(1))
        epoch = int(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp())
    else:
        epoch = source_date_epoch()
    docx_path = Path(docx_path).resolve()
    docx_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lpj-docx-") as folder:
        work = Path(folder)
        (work / "report.html").write_text(_docx_html(html, work), encoding="utf-8")
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch)}
        subprocess.run(
            [pypandoc.get_pandoc_path(), "report.html", "--from", "html", "--to", "docx"]
            + ["--output", str(docx_path)],
            cwd=work,
            env=env,
            check=True,
            capture_output=True,
        )
    banner = _BANNER.search(html)
    _finish_docx(docx_path, html_unescape(banner.group(1)).strip() if banner else None)
    return docx_path
