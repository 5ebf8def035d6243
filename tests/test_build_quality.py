"""Quality gates of the real report: ``lpj build --wave 2002`` checked as a reader would get it.

The report is built ONCE per test session (``report`` fixture, in a test process through the CLI
entry point into an empty cache folder, logging and Python warnings recorded; tests/built.py) and
once more in a separate process without the cache into another folder (``second_build``, started
in the background so the two builds overlap) to prove that the bytes do not depend on the
process, the folder, the hash seed or the cache.

Checks: PDF (fonts embedded, Danish text extractable, ``qpdf --check``, contents page numbers),
every chart in HTML, PDF and DOCX, byte-identical rebuilds, no warnings, valid HTML (vnu), no
WCAG 2.1 AA violations (axe-core in Debian's chromium), all-or-nothing output folders.

The browser checks skip only where their tools are missing and cannot be installed (see
tests/html_checks.py, ``make htmldeps``); under CI (``CI`` set) a missing tool fails instead.
"""

from __future__ import annotations

import html
import json
import os
import re
import struct
import subprocess
import zipfile
from base64 import b64decode
from pathlib import Path

import html_checks
import pytest
from built import NAME, OUTPUTS, SOURCE_DATE_EPOCH, WAVE
from render_demo import demo_context
from tools import tool as _tool

from lpj_report import build as build_module
from lpj_report import cli, render, report_context

RESPONDENTS = "1.680"  # the 2002 reconstruction's response count, as the report prints it




def _run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def _words(text: str) -> str:
    """Text with every run of white space as one space and the hyphens of line-end
    hyphenation (U+2010 at a line break) removed."""
    return " ".join(re.sub(r"\u2010\s*\n\s*", "", text).split())


@pytest.fixture(scope="session")
def pdf_pages(report) -> list[str]:
    """The PDF's text page by page (pdftotext puts a form feed after every page; the same text
    as ``pdftotext -f N -l N`` per page, in one call)."""
    pages = int(re.search(r"Pages:\s+(\d+)", _run(_tool("pdfinfo", "poppler-utils"),
                                                  str(report.pdf))).group(1))
    text = _run(_tool("pdftotext", "poppler-utils"), str(report.pdf), "-")
    split = text.split("\f")
    assert len(split) == pages + 1 and split[-1] == "", "pdftotext pages do not match pdfinfo"
    return split[:pages]


# --------------------------------------------------------------------------- the build


def test_build_writes_every_output_and_nothing_else(report):
    names = {p.name for p in report.out.iterdir()}
    assert names == {*OUTPUTS, build_module.MARKER, render.CHART_DIR}
    assert all((report.out / name).stat().st_size > 0 for name in OUTPUTS)
    charts = sorted(p.name for p in (report.out / render.CHART_DIR).iterdir())
    assert len(charts) == 2 * len(report.figures)  # an SVG and a PNG of every chart
    leftovers = [p.name for p in report.folder.iterdir() if p.name != report.out.name]
    assert leftovers == [], f"temporary folders left beside the output: {leftovers}"


def test_no_warning_logged_while_building(report, second_build):
    logged = [f"{level} {logger}: {message}" for level, logger, message in report.records]
    assert logged == [], logged
    python = [f"{category}: {message} ({filename}:{lineno})"
              for category, message, filename, lineno in report.warnings]
    assert python == [], python
    # the other process: stderr holds the progress (plain lines: stderr is no terminal there)
    # and the summary, nothing else (no Pango/GLib/pandoc noise)
    lines = [line for line in second_build.stderr.splitlines() if line.strip()]
    progress = [line for line in lines if line.startswith("lpj build: ")]
    assert progress == ["lpj build: 1/3 figures", "lpj build: 2/3 text and charts",
                        "lpj build: 3/3 HTML, PDF, DOCX"], second_build.stderr
    lines = lines[len(progress):]
    assert lines[0].startswith(f"Report for {WAVE} "), second_build.stderr
    assert all(line.startswith("  ") and any(name in line for name in
                                             (*OUTPUTS, f"{render.CHART_DIR}/"))
               for line in lines[1:]), second_build.stderr


def test_response_count_is_printed_in_every_format(report):
    meta = json.loads((report.out / "figures.json").read_text(encoding="utf-8"))["meta"]
    assert f"{meta['respondents']:,}".replace(",", ".") == RESPONDENTS
    assert RESPONDENTS in report.html.read_text(encoding="utf-8")
    assert RESPONDENTS in _docx_text(report.docx)


# --------------------------------------------------------------------------- PDF


def test_pdf_fonts_are_all_embedded_shipped_fonts(report):
    lines = _run(_tool("pdffonts", "poppler-utils"), str(report.pdf)).splitlines()
    assert lines[1].startswith("---"), lines
    fonts = lines[2:]
    assert fonts, "no fonts in the PDF"
    for line in fonts:
        name, emb = line.split()[0], line.split()[-5]
        assert emb == "yes", f"font not embedded: {line}"
        # the @font-face alias of assets/fonts: no system font stood in for a missing glyph
        assert re.fullmatch(r"[A-Z]{6}\+LPJ-Sans(-Bold|-Italic|-BoldItalic)?", name), line


def test_pdf_text_is_extractable_danish(report, pdf_pages):
    text = "\f".join(pdf_pages)
    words = _words(text)
    for letters in ("æ", "ø", "å"):
        assert letters in text, f"no {letters} in the PDF text"
    assert "\ufffd" not in text, "unmappable glyphs in the PDF text"
    assert "Læring på jobbet" in words
    assert RESPONDENTS in words
    notice = report.context["notice"]
    assert notice, "the 2002 wave is a reconstruction: the report must say so"
    missing = [n for n, page in enumerate(pdf_pages, 1) if _words(notice["short"]) not in _words(page)]
    assert not missing, f"status notice missing on pages {missing}"
    info = _run("pdfinfo", str(report.pdf))
    assert re.search(r"Tagged:\s+yes", info)
    assert re.search(r"Title:\s+Læring på jobbet", info)


def test_qpdf_check_is_clean(report):
    check = subprocess.run([_tool("qpdf", "qpdf"), "--check", str(report.pdf)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr  # 3 = warnings, 2 = errors
    assert "No syntax or stream encoding errors" in check.stdout
    assert "WARNING" not in check.stdout + check.stderr


def test_contents_page_numbers_point_at_the_headings(report, pdf_pages):
    toc = report.context["toc"]
    assert toc, "no contents entries"
    first = next(i for i, page in enumerate(pdf_pages)
                 if re.search(r"^Indhold$", page, re.MULTILINE))
    last = first
    leader = re.compile(r"\.{4,}\s*\d+\s*$", re.MULTILINE)
    while last + 1 < len(pdf_pages) and leader.search(pdf_pages[last + 1]):
        last += 1
    contents = _words("\n".join(pdf_pages[first:last + 1]))
    previous = last + 1
    for entry in toc:
        heading = _words(f"{entry['label']} {entry['title']}")
        found = re.search(re.escape(heading) + r" ?[. ]*\.(?: ?\.)* ?(\d+)\b", contents)
        assert found, f"contents entry {heading!r} with a page number not in:\n{contents}"
        page = int(found.group(1))
        # the first page after the contents that shows the heading (label and title; the
        # label is set in capitals by CSS, so compare without case)
        shown = next((i + 1 for i in range(last + 1, len(pdf_pages))
                      if heading.casefold() in _words(pdf_pages[i]).casefold()), None)
        assert shown == page, f"{heading!r}: contents says page {page}, heading is on {shown}"
        assert page >= previous, f"{heading!r}: page {page} before the previous entry's"
        previous = page


def _print_margins_pt() -> tuple[float, float, float, float]:
    """The A4 page margins (top, right, bottom, left) in pt, from report.css's print rules."""
    css = render.CSS_FILE.read_text(encoding="utf-8")
    found = re.search(r"@page\s*{[^}]*margin:\s*([\d.]+)mm ([\d.]+)mm ([\d.]+)mm ([\d.]+)mm", css)
    assert found, "report.css: no '@page { margin: T R B L }' in mm"
    top, right, bottom, left = (float(v) * 72 / 25.4 for v in found.groups())
    return top, right, bottom, left


def test_nothing_runs_off_the_text_area(report):
    """No word of any page (wide tables, long labels, unbreakable strings) reaches into the side
    margins, where WeasyPrint would draw it over the edge or cut it off."""
    _, right, _, left = _print_margins_pt()
    bbox = _run(_tool("pdftotext", "poppler-utils"), "-bbox", str(report.pdf), "-")
    outside = []
    for number, (width, height, body) in enumerate(re.findall(
            r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', bbox, re.S), start=1):
        for x0, y0, x1, y1, word in re.findall(
                r'<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">'
                r"(.*?)</word>", body):
            if (float(x0) < left - 1 or float(x1) > float(width) - right + 1
                    or float(y0) < 0 or float(y1) > float(height)):
                outside.append(f"page {number}: {html.unescape(word)!r} at x {x0}–{x1}")
    assert not outside, "text outside the text area:\n" + "\n".join(outside[:20])


def _after_the_lists(pdf_pages: list[str]) -> int:
    """The first page after the contents and the list of figures and tables (pages with
    leaders and page numbers), where the captions are the figures' and tables' own."""
    leader = re.compile(r"\.{4,}\s*\d+\s*$", re.MULTILINE)
    first = next(i for i, page in enumerate(pdf_pages) if re.search(r"^Indhold$", page, re.M))
    last = first
    while last + 1 < len(pdf_pages) and leader.search(pdf_pages[last + 1]):
        last += 1
    return last + 1


def test_every_table_starts_on_its_captions_page(report, pdf_pages):
    """A caption is never left alone at the foot of a page (or on a page of its own) while its
    table starts on the next one: the first row is on the caption's page."""
    pages = [_words(page) for page in pdf_pages]
    start = _after_the_lists(pdf_pages)
    for table in report.tables:
        caption = _words(f"Tabel {table['number']}. {table['title']}")[:60]
        # the first words of the first row's label: a label wrapped within its cell reads
        # interleaved with the other columns in the page's text
        first_row = " ".join(_words(table["table"]["rows"][0][0]).split()[:2]) if table[
            "table"]["rows"] else ""
        where = next((i for i, page in enumerate(pages) if i >= start and caption in page), None)
        assert where is not None, f"{caption!r} not in the PDF"
        after = pages[where].split(caption, 1)[1]
        assert first_row in after, f"{caption!r} on page {where + 1} without its first row"


# --------------------------------------------------------------------------- every chart


def _svg_texts(block: dict) -> list[str]:
    svg = b64decode(block["src"].split(",", 1)[1]).decode("utf-8")
    return [html.unescape(re.sub(r"<[^>]+>", "", text))
            for text in re.findall(r"<text\b[^>]*>(.*?)</text>", svg, re.S)]


def test_every_chart_is_in_the_html(report):
    text = report.html.read_text(encoding="utf-8")
    images = re.findall(r'<img class="chart" src="data:image/svg\+xml;base64,[^"]+" alt="([^"]*)"',
                        text)
    assert len(images) == len(report.figures) == text.count('<figure class="chart-figure"')
    assert [html.unescape(alt) for alt in images] == [f["alt"] for f in report.figures]


def test_every_chart_is_in_the_pdf(report, pdf_pages):
    data = _qdf(report.pdf).decode("latin-1")
    alts = [_pdf_string(m) for m in re.findall(r"/Alt (<[0-9a-fA-F]+>|\((?:[^)\\]|\\.)*\))\s"
                                              r"(?:(?!endobj).)*?/S /Figure", data, re.S)]
    assert sorted(alts) == sorted(f["alt"] for f in report.figures), "tagged /Figure /Alt differ"
    start = _after_the_lists(pdf_pages)
    for figure in report.figures:
        caption = f"Figur {figure['number']}."
        pages = [page for page in pdf_pages[start:] if caption in page]
        assert pages, f"{caption} not in the PDF"
        flat = "".join(pages[0].split())
        missing = [t for t in _svg_texts(figure) if "".join(t.split()) not in flat]
        assert not missing, f"{caption}: chart text not on its page: {missing}"


def test_every_chart_is_in_the_docx(report):
    with zipfile.ZipFile(report.docx) as docx:
        media = sorted(n for n in docx.namelist() if n.startswith("word/media/"))
        sizes = [_png_size(docx.read(n)) for n in media]
        document = docx.read("word/document.xml").decode("utf-8")
    assert len(media) == len(report.figures), media
    assert all(width >= 600 and height >= 150 for width, height in sizes), sizes
    described = [html.unescape(d) for d in re.findall(r'<wp:docPr [^>]*descr="([^"]*)"', document)]
    assert described == [f["alt"] for f in report.figures]


def _qdf(pdf: Path) -> bytes:
    out = subprocess.run([_tool("qpdf", "qpdf"), "--qdf", "--object-streams=disable",
                          str(pdf), "-"], capture_output=True, check=True)
    return out.stdout


def _pdf_string(token: str) -> str:
    if token.startswith("<"):
        raw = bytes.fromhex(token[1:-1])
        return raw[2:].decode("utf-16-be") if raw.startswith(b"\xfe\xff") else raw.decode("latin-1")
    return re.sub(r"\\(.)", r"\1", token[1:-1])


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def _docx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as docx:
        xml = docx.read("word/document.xml").decode("utf-8")
    return html.unescape(re.sub(r"<[^>]+>", "", xml))


# --------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("name", OUTPUTS)
def test_second_build_is_byte_identical(report, second_build, name):
    first, second = report.out / name, second_build.out / name
    assert first.read_bytes() == second.read_bytes(), f"{name} differs between two builds"


def test_second_build_has_the_same_chart_files(report, second_build):
    first = {p.name: p.read_bytes() for p in (report.out / render.CHART_DIR).iterdir()}
    second = {p.name: p.read_bytes() for p in (second_build.out / render.CHART_DIR).iterdir()}
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []


# --------------------------------------------------------------------------- browser checks


def _require(reason: str | None) -> None:
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason} — CI must run this check (make htmldeps installs it)")
    pytest.skip(reason)


def test_html_is_valid_for_vnu(report):
    _require(html_checks.vnu_missing())
    errors = html_checks.vnu_errors(report.html)
    assert errors == "", errors


def test_html_has_no_wcag21_aa_violations(report):
    _require(html_checks.axe_missing())
    problems = html_checks.axe_problems(html_checks.axe_report(report.html))
    assert problems == [], "\n".join(problems)


# --------------------------------------------------------------------------- all or nothing


def _fail_pdf(html_path, pdf_path):
    Path(pdf_path).write_bytes(b"%PDF-1.7\n% half a file\n")
    raise RuntimeError("rendering failed (test)")


@pytest.mark.parametrize("previous", ["none", "earlier-build"])
def test_failed_build_leaves_nothing_half_written(tmp_path, monkeypatch, previous):
    out = tmp_path / "report"
    if previous == "earlier-build":
        out.mkdir()
        (out / build_module.MARKER).write_text("built by lpj build\n", encoding="utf-8")
        (out / f"{NAME}.pdf").write_bytes(b"the earlier report")
    before = _tree(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
    # the small demo context instead of the whole report: the same build steps, a third the time
    monkeypatch.setattr(report_context, "chapters_context",
                        lambda build, variables, **kwargs: demo_context())
    monkeypatch.setattr(render, "render_pdf", _fail_pdf)
    with pytest.raises(RuntimeError, match="rendering failed"):   # --no-cache: no stored PDF
        cli.main(["build", "--wave", WAVE, "--out", str(out), "--formats", "html,pdf",
                  "--no-cache"])
    assert _tree(tmp_path) == before  # no new folder, no temporary folder, earlier build intact


def test_build_refuses_a_folder_it_did_not_make(tmp_path, monkeypatch, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me\n", encoding="utf-8")
    before = _tree(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
    status = cli.main(["build", "--wave", WAVE, "--out", str(out), "--formats", "html"])
    assert status == 2
    assert "was not made by lpj build" in capsys.readouterr().err
    assert _tree(tmp_path) == before


def _tree(folder: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}

