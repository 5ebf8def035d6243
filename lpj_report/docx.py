"""The Word document: pandoc from the report's HTML, with a reference document made by code.

Layer: render (may import base … charts, and its own layer).

A consultant edits this file, so it is built as Word users expect it, not as a copy of the page:

* :func:`reference_docx` (:mod:`lpj_report.docx_reference`) — the styles, page and margins:
  pandoc's own ``reference.docx`` restyled by code (A4 with the PDF's margins; Liberation Sans —
  Arial where it is missing — and the report's colours as Word styles; Danish as the language;
  Heading 1 starts a new page), with the status notice in the page header and the page number
  in the footer. Same pandoc, same bytes.
* :func:`docx_html` — the HTML as pandoc should read it: charts as full-width PNG pictures with
  their alt text (the PNGs from ``figurer/`` beside the HTML when the build wrote them, else drawn
  from the SVG with ``rsvg-convert``), the numbers behind each figure as an open table after it,
  captions marked for Word's SEQ fields, no screen-only parts (contents list, download links,
  scroll hints, script).
* :func:`finish` — what pandoc cannot write: the contents as an updatable TOC field (and the lists
  of figures and tables as TOC fields over the captions), captions numbered by SEQ fields (Word
  renumbers them), Danish settings, fixed zip entry times, at most one ``w:jc`` per paragraph.

Word shows the contents' entries at once and fills in their page numbers when it updates the
fields on opening (``w:updateFields``); LibreOffice shows the entries as written.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from html import unescape as html_unescape
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

from lpj_report.docx_reference import (  # noqa: F401 (re-exported)
    TEXT_WIDTH_TWIPS,
    _zip,
    labels,
    pandoc_path,
    pandoc_reference,
    reference_docx,
)

#: Every chart across the text width less a little: 16 cm (Word and LibreOffice keep it).
CHART_WIDTH_CM = 16.0

#: Placeholders that pandoc carries through as text and :func:`finish` turns into fields.
_MARK_OPEN, _MARK_CLOSE = "\u2045", "\u2046"
_SEQ = re.compile(
    r"<w:r>(<w:rPr>(?:(?!</w:rPr>).)*</w:rPr>)?<w:t xml:space=\"preserve\">([^<]*?)"
    + _MARK_OPEN + r"SEQ (\w+) (\d+)" + _MARK_CLOSE + r"([^<]*)</w:t></w:r>", re.S)
_PLACEHOLDER = re.compile(
    r"<w:p>(?:(?!</w:p>).)*?" + _MARK_OPEN + r"(TOC|LIST) (\d+)" + _MARK_CLOSE
    + r"(?:(?!</w:p>).)*?</w:p>", re.S)


# --------------------------------------------------------------------------- HTML for pandoc

_BANNER = re.compile(r'<div class="status-banner"[^>]*>(.*?)</div>\n?', re.S)
_NAV = re.compile(r'<nav class="toc( figure-list)?"[^>]*>(.*?)</nav>', re.S)
_NAV_TITLE = re.compile(r"<h2\b[^>]*>(.*?)</h2>", re.S)
_NAV_LIST = re.compile(r"<h3>(.*?)</h3>\s*<ol>(.*?)</ol>", re.S)
_ANCHOR = re.compile(r'<a href="#([^"]+)">(.*?)</a>', re.S)
_CHART = re.compile(r'<img class="chart" src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"'
                    r' alt="([^"]*)"(?: data-file="([^"]*)")?>')
_DROP = re.compile(
    r'<p class="(?:chart-files|scroll-hint|back)"[^>]*>.*?</p>\n?|<script\b[^>]*>.*?</script>\n?'
    r"|<source\b[^>]*>\n?|</?picture>\n?|<summary>.*?</summary>\n?", re.S)


def _text(markup: str) -> str:
    """Plain text of a bit of markup (spaces collapsed)."""
    return " ".join(html_unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def _chapter_heading(markup: str) -> str:
    """``<span class="chapter-label">Kapitel 2</span> Titel`` → ``Kapitel 2. Titel``."""
    return re.sub(r'<span class="(?:chapter|toc)-label">([^<]*?)\.?</span>\s*', r"\1. ", markup)


def _contents(nav: str) -> list[tuple[int, str, str]]:
    """(level, anchor, text) of the contents list: chapters 1, their sections 2."""
    entries, depth = [], 0
    for token in re.finditer(r"<ol\b[^>]*>|</ol>|<a href=\"#([^\"]+)\">(.*?)</a>", nav, re.S):
        if token.group(0).startswith("<ol"):
            depth += 1
        elif token.group(0) == "</ol>":
            depth -= 1
        else:
            entries.append((depth, token.group(1), _text(_chapter_heading(token.group(2)))))
    return entries


def docx_html(html: str, work: Path, source_dir: Path | None = None) -> tuple[str, list]:
    """The report's HTML as pandoc should read it, and the contents for :func:`finish`.

    Chart PNGs are copied (or drawn) into ``work``; ``source_dir`` is where the HTML lies, whose
    ``figurer/`` folder holds the build's PNGs.
    """
    fields: list[dict] = []

    def nav(match: re.Match) -> str:
        body = match.group(2)
        title = _text(_NAV_TITLE.search(body).group(1)) if _NAV_TITLE.search(body) else ""
        if match.group(1):   # the lists of figures and tables
            lists = [(_text(head), [(a, _text(t)) for a, t in _ANCHOR.findall(items)])
                     for head, items in _NAV_LIST.findall(body)]
            fields.append({"kind": "LIST", "title": title, "lists": lists})
        else:
            fields.append({"kind": "TOC", "title": title, "entries": _contents(body)})
        index = len(fields) - 1
        return f"<p>{_MARK_OPEN}{fields[index]['kind']} {index}{_MARK_CLOSE}</p>"

    counter = 0

    def chart(match: re.Match) -> str:
        nonlocal counter
        counter += 1
        name = f"figur-{counter}.png"
        made = Path(source_dir or ".") / f"{match.group(3)}.png" if match.group(3) else None
        if made is not None and made.is_file():
            shutil.copyfile(made, work / name)
        else:
            from lpj_report.pngs import svg_to_png

            svg_to_png(base64.b64decode(match.group(1)).decode("utf-8"), work / name, work)
        return (f'<img class="chart" src="{name}" alt="{match.group(2)}" '
                f'width="{CHART_WIDTH_CM:g}cm">')

    words = labels()
    html = _BANNER.sub("", html)
    # the cover's title, subtitle and publisher are the document's title and author (pandoc's
    # title block, from <title> and <meta name="author">)
    html = re.sub(r'(<header class="cover">).*?(?=<p class="edition">|<div class="status-notice"'
                  r"|</header>)", r"\1", html, count=1, flags=re.S)
    html = _NAV.sub(nav, html)
    html = _DROP.sub("", html)
    html = _CHART.sub(chart, html)
    html = html.replace('<details class="figure-data"', '<div class="figure-data"')
    html = html.replace("</details>", "</div>")
    html = re.sub(r'<span class="figure-label">[^<]*?(\d+)\.</span>',
                  rf"{words['figure']} {_MARK_OPEN}SEQ {words['figure']} \1{_MARK_CLOSE}.", html)
    html = re.sub(r'<span class="table-label">[^<]*?(\d+)\.</span>',
                  rf"{words['table']} {_MARK_OPEN}SEQ {words['table']} \1{_MARK_CLOSE}.", html)
    html = re.sub(r"(<h2\b[^>]*>)(.*?)(</h2>)",
                  lambda m: m.group(1) + _chapter_heading(m.group(2)) + m.group(3), html,
                  flags=re.S)
    # boxes: their headings are not headings of the outline (the PDF's contents skip them too)
    html = re.sub(r'(<div class="key-points">\s*)<h3>(.*?)</h3>',
                  r'\1<div custom-style="Box Heading"><p>\2</p></div>', html, flags=re.S)
    html = re.sub(r'(<aside class="factbox"[^>]*>\s*)<h3 id="[^"]*">(.*?)</h3>',
                  r'\1<div custom-style="Box Heading"><p>\2</p></div>', html, flags=re.S)
    html = re.sub(r'<p class="note">(.*?)</p>', r'<div custom-style="Note"><p>\1</p></div>',
                  html, flags=re.S)
    html = re.sub(r'<p class="edition">(.*?)</p>', r'<div custom-style="Cover Text"><p>\1</p></div>',
                  html, flags=re.S)
    html = re.sub(r'<div class="status-notice">(.*?)</div>',
                  r'<div custom-style="Notice">\1</div>', html, flags=re.S)
    html = html.replace('class="num">', 'class="num" style="text-align: right">')
    return html, fields


# --------------------------------------------------------------------------- after pandoc


def _run(text: str, bold: bool = False) -> str:
    props = "<w:rPr><w:b/></w:rPr>" if bold else ""
    return f'<w:r>{props}<w:t xml:space="preserve">{xml_escape(text)}</w:t></w:r>'


def _field_paragraph(style: str, instruction: str | None, anchor: str, text: str,
                     last: bool) -> str:
    """One entry of a TOC field's result: a linked title (page numbers follow when Word
    updates the field); the first entry opens the field, ``last`` closes it."""
    begin = ""
    if instruction:
        begin = ('<w:r><w:fldChar w:fldCharType="begin" w:dirty="true"/></w:r>'
                 f'<w:r><w:instrText xml:space="preserve"> {xml_escape(instruction)} '
                 '</w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r>')
    end = '<w:r><w:fldChar w:fldCharType="end"/></w:r>' if last else ""
    return (f'<w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr>{begin}'
            f'<w:hyperlink w:anchor="{xml_escape(anchor)}" w:history="1">{_run(text)}'
            f"</w:hyperlink>{end}</w:p>")


def _field(instruction: str, style: str, entries: list[tuple[str, str, str]]) -> str:
    if not entries:
        return ""
    return "".join(_field_paragraph(entry_style or style, instruction if i == 0 else None,
                                    anchor, text, i == len(entries) - 1)
                   for i, (entry_style, anchor, text) in enumerate(entries))


def _toc_xml(field: dict) -> str:
    heading = field["title"] or labels()["contents"]
    head = f'<w:p><w:pPr><w:pStyle w:val="TOCHeading"/></w:pPr>{_run(heading)}</w:p>'
    if field["kind"] == "TOC":
        entries = [(f"TOC{min(level, 2)}", anchor, text)
                   for level, anchor, text in field["entries"]]
        body = _field('TOC \\o "1-2" \\h \\z \\u', "TOC1", entries)
        gallery = ('<w:sdtPr><w:docPartObj><w:docPartGallery w:val="Table of Contents"/>'
                   "<w:docPartUnique/></w:docPartObj></w:sdtPr>")
        return f"<w:sdt>{gallery}<w:sdtContent>{head}{body}</w:sdtContent></w:sdt>"
    body = ""
    for title, items in field["lists"]:
        label = items[0][1].split(" ", 1)[0] if items else title
        body += f'<w:p><w:pPr><w:pStyle w:val="Heading3"/></w:pPr>{_run(title)}</w:p>'
        body += _field(f'TOC \\h \\z \\c "{label}"', "TableofFigures",
                       [("", anchor, text) for anchor, text in items])
    return head + body


def _seq(match: re.Match) -> str:
    props, before, name, number, after = match.groups()
    props = props or ""

    def run(inner: str) -> str:
        return f"<w:r>{props}{inner}</w:r>"

    parts = []
    if before:
        parts.append(run(f'<w:t xml:space="preserve">{before}</w:t>'))
    parts += [run('<w:fldChar w:fldCharType="begin"/>'),
              run(f'<w:instrText xml:space="preserve"> SEQ {name} \\* ARABIC </w:instrText>'),
              run('<w:fldChar w:fldCharType="separate"/>'), run(f"<w:t>{number}</w:t>"),
              run('<w:fldChar w:fldCharType="end"/>')]
    if after:
        parts.append(run(f'<w:t xml:space="preserve">{after}</w:t>'))
    return "".join(parts)


def _one_jc(document: str) -> str:
    """At most one ``w:jc`` per paragraph's properties (the schema allows one; the first wins)."""
    def fix(match: re.Match) -> str:
        seen = False

        def keep(jc: re.Match) -> str:
            nonlocal seen
            if seen:
                return ""
            seen = True
            return jc.group(0)

        return re.sub(r"<w:jc\b[^>]*/>", keep, match.group(0))

    return re.sub(r"<w:pPr>(?:(?!</w:pPr>).)*</w:pPr>", fix, document, flags=re.S)


#: Width of one character of the 9 pt table text, and the cells' padding, in twips.
_CHAR_TWIPS, _CELL_PAD = 100, 230


def _column_widths(rows: list[list[str]], total: int) -> list[int]:
    """Column widths (twips) filling ``total``: each column at least as wide as its longest
    word (so that no word is broken, "Vuggestue/børnehave" included), the rest shared out by how
    much more each column's longest cell would like."""
    columns = max(len(row) for row in rows)
    least, wish = [0] * columns, [0] * columns
    for row in rows:
        for j, cell in enumerate(row):
            words = re.split(r"(?<=/)|\s+", cell) or [""]
            least[j] = max(least[j], max(len(w) for w in words) * _CHAR_TWIPS + _CELL_PAD)
            wish[j] = max(wish[j], min(len(cell), 45) * _CHAR_TWIPS + _CELL_PAD)
    if sum(least) >= total:
        # too wide even so: the widest columns give way (a long id breaks, "1.404" does not)
        cap = total / columns
        for _ in range(columns):
            narrow = [w for w in least if w <= cap]
            cap = (total - sum(narrow)) / max(1, columns - len(narrow))
        widths = [min(w, cap) for w in least]
    else:
        spare = total - sum(least)
        extra = [max(0, w - m) for w, m in zip(wish, least, strict=True)]
        if sum(extra) >= spare:
            widths = [m + spare * e / sum(extra) for m, e in zip(least, extra, strict=True)]
        else:                        # everything fits: the rest in proportion to the wishes
            left = spare - sum(extra)
            widths = [w + left * w / sum(wish) for w in wish]
    out = [int(w) for w in widths]
    out[0] += total - sum(out)
    return out


def _table_layout(table: str) -> str:
    """A pandoc table across the text width with its columns sized by their content."""
    rows = [[_text(cell) for cell in re.findall(r"<w:tc>(.*?)</w:tc>", row, re.S)]
            for row in re.findall(r"<w:tr>(.*?)</w:tr>", table, re.S)]
    rows = [row for row in rows if row]
    if not rows:
        return table
    widths = _column_widths(rows, TEXT_WIDTH_TWIPS)
    grid = "<w:tblGrid>" + "".join(f'<w:gridCol w:w="{w}"/>' for w in widths) + "</w:tblGrid>"
    table = re.sub(r"<w:tblGrid>.*?</w:tblGrid>", grid, table, count=1, flags=re.S)
    table = re.sub(r'<w:tblW w:type="auto" w:w="0" */>',
                   f'<w:tblW w:type="dxa" w:w="{TEXT_WIDTH_TWIPS}"/><w:tblLayout w:type="fixed"/>',
                   table, count=1)

    def cells(row: re.Match) -> str:
        index = iter(range(len(widths)))
        return re.sub(r"<w:tcPr\s*/>|<w:tcPr>", lambda m: (
            f'<w:tcPr><w:tcW w:w="{widths[min(next(index), len(widths) - 1)]}" w:type="dxa"/>'
            + ("</w:tcPr>" if m.group(0) != "<w:tcPr>" else "")), row.group(0))

    return re.sub(r"<w:tr>.*?</w:tr>", cells, table, flags=re.S)


def _settings(settings: str) -> str:
    """Danish settings; Word updates the fields (contents' page numbers) when it opens the file."""
    settings = settings.replace('<w:themeFontLang w:val="en-US" />',
                                '<w:themeFontLang w:val="da-DK"/>')
    settings = settings.replace('<w:decimalSymbol w:val="." />', '<w:decimalSymbol w:val=","/>')
    settings = settings.replace('<w:listSeparator w:val="," />', '<w:listSeparator w:val=";"/>')
    if "<w:updateFields" not in settings:
        settings = re.sub(r"(<w:savePreviewPicture\s*/>)", r'\1<w:updateFields w:val="true"/>',
                          settings, count=1)
    return settings


def finish(path: Path, fields: list[dict]) -> None:
    """The fields, Danish settings and fixed zip entry times (see the module docstring)."""
    with zipfile.ZipFile(path) as source:
        names = source.namelist()
        parts = {name: source.read(name) for name in names}
    document = parts["word/document.xml"].decode("utf-8")
    document = _PLACEHOLDER.sub(lambda m: _toc_xml(fields[int(m.group(2))]), document)
    document = _SEQ.sub(_seq, document)
    # the same captions as attributes (w:tblCaption): the number as it stands
    document = re.sub(_MARK_OPEN + r"SEQ \w+ (\d+)" + _MARK_CLOSE, r"\1", document)
    document = _one_jc(document)
    document = re.sub(r"<w:tbl>.*?</w:tbl>", lambda m: _table_layout(m.group(0)), document,
                      flags=re.S)
    if _MARK_OPEN in document:
        raise RuntimeError("a caption or contents mark was left in the Word document")
    parts["word/document.xml"] = document.encode("utf-8")
    parts["word/settings.xml"] = _settings(parts["word/settings.xml"].decode("utf-8")).encode()
    path.write_bytes(_zip(names, parts))


def render_docx(html_path: Path | str, docx_path: Path | str, created: dt.date | None,
                notice: str | None) -> Path:
    """The Word document of the report's HTML file (see the module docstring)."""
    html_path = Path(html_path)
    html = html_path.read_text(encoding="utf-8")
    epoch = int(dt.datetime.combine(created, dt.time(), tzinfo=dt.UTC).timestamp()) if created \
        else None
    docx_path = Path(docx_path).resolve()
    docx_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lpj-docx-") as folder:
        work = Path(folder)
        text, fields = docx_html(html, work, html_path.resolve().parent)
        (work / "report.html").write_text(text, encoding="utf-8")
        (work / "reference.docx").write_bytes(reference_docx(notice))
        env = dict(os.environ)
        if epoch is not None:
            env["SOURCE_DATE_EPOCH"] = str(epoch)
        subprocess.run(
            [pandoc_path(), "report.html", "--from", "html", "--to", "docx",
             "--reference-doc", "reference.docx", "--shift-heading-level-by=-1",
             "--figure-caption-position=above", "--table-caption-position=above",
             "--metadata", "lang=da-DK", "--output", str(docx_path)],
            cwd=work, env=env, check=True, capture_output=True,
        )
    finish(docx_path, fields)
    return docx_path
