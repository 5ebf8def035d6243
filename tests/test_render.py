"""Rendering: HTML structure and accessibility, PDF checks, DOCX, determinism, no warnings.

The context (tests/render_demo.py) is TEST DATA: made-up numbers in the shape of
docs/report-context.md, labelled ``fictitious`` so that every output carries the notice.
"""

from __future__ import annotations

import base64
import html.parser
import json
import logging
import os
import re
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import html_checks
import pytest
from render_demo import LEVELS, demo_context
from tools import tool as _tool

from lpj_report import chart_files, charts, print_svg, render
from lpj_report import format as fmt


class _Outline(html.parser.HTMLParser):
    """Collects what the structural assertions need."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _outline(text: str) -> list[tuple[str, dict]]:
    parser = _Outline()
    parser.feed(text)
    return parser.tags


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """HTML, PDF and DOCX of the demo context, rendered twice each into two folders."""
    out = {}
    for run in ("a", "b"):
        folder = tmp_path_factory.mktemp(run)
        html_path = render.render_html(demo_context(), folder)
        out[f"html_{run}"] = html_path
        out[f"pdf_{run}"] = render.render_pdf(html_path, folder / "report.pdf")
        out[f"docx_{run}"] = render.render_docx(html_path, folder / "report.docx")
    return out




# --------------------------------------------------------------------------- context checks


def test_numbers_in_context_are_rejected():
    context = demo_context()
    context["chapters"][0]["key_points"].append(21.4)
    with pytest.raises(render.ContextError, match=r"key_points\[2\].*format"):
        render.prepare(context)


def test_missing_alt_text_is_rejected():
    context = demo_context()
    context["chapters"][0]["blocks"][1]["alt"] = "  "
    with pytest.raises(render.ContextError, match="alt text"):
        render.prepare(context)


def test_table_rows_must_match_columns():
    context = demo_context()
    context["appendices"][0]["blocks"][0]["table"]["rows"][0].pop()
    with pytest.raises(render.ContextError, match="3 cells, 4 columns"):
        render.prepare(context)


def test_unknown_block_type_and_duplicate_ids_are_rejected():
    context = demo_context()
    context["chapters"][0]["blocks"].append({"type": "chart"})
    with pytest.raises(render.ContextError, match="unknown block type"):
        render.prepare(context)
    context = demo_context()
    context["chapters"][1]["id"] = "kapitel-2"
    with pytest.raises(render.ContextError, match="used twice"):
        render.prepare(context)


def test_prepare_numbers_figures_in_reading_order_and_leaves_input_alone():
    context = demo_context()
    before = json.dumps(context, sort_keys=True)
    ready = render.prepare(context)
    numbers = [b["number"] for c in ready["chapters"] for b in c["blocks"] if b["type"] == "figure"]
    assert numbers == ["1", "2", "3", "4", "5", "6"]
    assert ready["appendices"][0]["blocks"][0]["id"] == "tabel-1"
    assert json.dumps(context, sort_keys=True) == before


def test_environment_is_strict_and_filters_are_format_functions():
    env = render.environment()
    assert env.autoescape is True
    assert env.undefined is __import__("jinja2").StrictUndefined
    for name, function in fmt.FILTERS.items():
        assert env.filters[name] is function
    with pytest.raises(__import__("jinja2").UndefinedError):
        env.from_string("{{ missing }}").render()
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"


def test_real_data_has_no_notice():
    context = demo_context()
    context["meta"]["status"] = "real"
    text = render.render_html_text(context)
    assert 'class="status-banner"' not in text and "FIKTIVE" not in text


# --------------------------------------------------------------------------- HTML


def test_html_structure_and_accessibility(built):
    text = built["html_a"].read_text(encoding="utf-8")
    tags = _outline(text)
    assert ("html", {"lang": "da"}) in tags
    names = [tag for tag, _ in tags]
    assert names.count("main") == 1
    assert names.count("h1") == 1
    images = [attrs for tag, attrs in tags if tag == "img"]
    assert len(images) == 6
    assert all(attrs.get("alt", "").strip() for attrs in images)
    assert all(attrs["src"].startswith("data:image/svg+xml;base64,") for attrs in images)
    levels = [int(tag[1]) for tag in names if re.fullmatch(r"h[1-6]", tag)]
    assert levels[0] == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), (
        "heading level skipped"
    )
    assert names.count("table") == 7  # one per figure and the appendix table
    assert "FIKTIVE DATA" in text and 'class="status-banner"' in text
    assert "<link" not in text and "<script src" not in text  # self-contained
    assert text.count("<script>") == 1  # the one inline script (tables: scroll cue, sorting)
    assert "@media print" in text and "max-width: 40em" in text


def test_html_carries_provenance_and_formatted_numbers(built):
    text = built["html_a"].read_text(encoding="utf-8")
    assert "testdata.csv" in text and "0" * 64 in text
    assert "1. september 2002" in text
    assert "1.680" in text and "−1,5\u00a0procentpoint" in text and "førsteplads" in text
    assert '<meta name="dcterms.created" content="2002-09-01">' in text


def test_chart_images_are_the_charts(built):
    text = built["html_a"].read_text(encoding="utf-8")
    first = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', text).group(1)
    svg = base64.b64decode(first).decode("utf-8")
    assert svg == charts.pie(LEVELS, [21.4, 45.3, 33.3])


# --------------------------------------------------------------------------- PDF


def test_pdf_fonts_embedded_text_extractable_and_valid(built):
    pdf = built["pdf_a"]
    fonts = subprocess.run(
        [_tool("pdffonts", "poppler-utils"), str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert fonts, "no fonts in the PDF"
    for line in fonts:
        assert "LPJ-Sans" in line, line  # the @font-face alias: only assets/fonts can match
        assert line.split()[-5] == "yes", f"not embedded: {line}"
    text = subprocess.run(
        [_tool("pdftotext", "poppler-utils"), "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    words = " ".join(text.split())  # line breaks and justification spaces do not matter
    assert "Æbleøstersøen ærgrer sig over ålegræsset" in words
    assert "FIKTIVE DATA" in text
    assert "21 %" in text  # text inside the SVG chart stays text
    check = subprocess.run(
        [_tool("qpdf", "qpdf"), "--check", str(pdf)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No syntax or stream encoding errors" in check.stdout


def test_pdf_pages_notice_on_every_page_and_contents_page_numbers(built):
    pdf = built["pdf_a"]
    info = subprocess.run(
        [_tool("pdfinfo", "poppler-utils"), str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages > 1
    assert re.search(r"PDF version:\s+1\.7", info)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    page_texts = text.split("\f")[:pages]
    assert all("FIKTIVE DATA" in page for page in page_texts)
    contents = next(page for page in page_texts if "Indhold" in page and "Kapitel 2" in page)
    assert re.search(r"Læring i kommunerne[ .]*\d+", contents), contents


def test_pdf_is_tagged_with_danish_language(built, tmp_path):
    plain = tmp_path / "plain.pdf"
    subprocess.run(
        [
            _tool("qpdf", "qpdf"),
            "--qdf",
            "--object-streams=disable",
            str(built["pdf_a"]),
            str(plain),
        ],
        check=True,
    )
    data = plain.read_bytes()
    assert b"/StructTreeRoot" in data
    assert b"/Lang (da)" in data
    assert b"pdfuaid:part" in data
    alt = "Lagkagediagram: 21 % lav".encode("utf-16-be").hex().encode()
    assert alt in data  # the img alt text is the tagged figure's /Alt


# --------------------------------------------------------------------------- DOCX


def test_docx_has_png_charts_and_danish_text(built):
    with zipfile.ZipFile(built["docx_a"]) as docx:
        names = docx.namelist()
        document = docx.read("word/document.xml").decode("utf-8")
        times = {info.date_time for info in docx.infolist()}
        header = docx.read("word/header1.xml").decode("utf-8")
        footer = docx.read("word/footer1.xml").decode("utf-8")
        styles = docx.read("word/styles.xml").decode("utf-8")
    media = [name for name in names if name.startswith("word/media/")]
    assert len(media) == 6 and all(name.endswith(".png") for name in media)
    assert "Æbleøstersøen" in document and "FIKTIVE DATA" in document
    assert 'descr="Lagkagediagram: 21 % lav' in document.replace("\u00a0", " ")
    assert times == {(1980, 1, 1, 0, 0, 0)}
    assert "FIKTIVE DATA – kun til demonstration" in header  # the notice on every page
    assert "PAGE" in footer and "Side" in footer              # and the page number
    section = re.search(r"<w:sectPr>.*?</w:sectPr>", document, re.S).group(0)
    assert re.search(r'<w:headerReference [^>]*w:type="default"', section)
    assert re.search(r'<w:footerReference [^>]*w:type="default"', section)
    page = re.search(r"<w:pgSz ([^>]*)/>", section).group(1)
    assert 'w:w="11906"' in page and 'w:h="16838"' in page  # A4
    assert re.search(r'<w:lang [^>]*w:val="da-DK"', styles)
    assert document.count("SEQ Figur") == 6 and document.count("SEQ Tabel") == 1
    assert 'TOC \\o "1-2"' in document and 'TOC \\h \\z \\c "Figur"' in document
    pandoc = __import__("pypandoc").get_pandoc_path()
    plain = subprocess.run(
        [pandoc, str(built["docx_a"]), "-t", "plain"], capture_output=True, text=True, check=True
    ).stdout
    assert "Tal bag figur 6" in plain  # pandoc reads the finished file back


def test_pdf_is_hyphenated_in_danish(built):
    text = subprocess.run(
        [_tool("pdftotext", "poppler-utils"), str(built["pdf_a"]), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert re.search(r"\w\u2010$", text, re.MULTILINE), "no hyphen (U+2010) at any line end"


def test_build_date_comes_from_source_date_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1030838400")
    assert render.build_date() == __import__("datetime").date(2002, 9, 1)
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert render.source_date_epoch(__import__("datetime").date(2002, 9, 1)) == 1030838400
    with pytest.raises(RuntimeError, match="SOURCE_DATE_EPOCH"):
        render.build_date()


# --------------------------------------------------------------------------- determinism, logs


@pytest.mark.parametrize("kind", ["html", "pdf", "docx"])
def test_two_renders_are_byte_identical(built, kind):
    assert built[f"{kind}_a"].read_bytes() == built[f"{kind}_b"].read_bytes()


_RENDER_IN_CHILD = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from render_demo import demo_context
from lpj_report import render
out = Path(sys.argv[1])
html = render.render_html(demo_context(), out)
render.render_pdf(html, out / "report.pdf")
render.render_docx(html, out / "report.docx")
"""


def test_another_process_renders_the_same_bytes(built, tmp_path):
    """Fresh interpreter, other hash seed, other folder: still the same three files."""
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    env.pop("SOURCE_DATE_EPOCH", None)
    tests = Path(__file__).resolve().parent
    subprocess.run(
        [sys.executable, "-c", _RENDER_IN_CHILD, str(tmp_path), str(tests)],
        env=env,
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    for kind in ("html", "pdf", "docx"):
        assert (tmp_path / f"report.{kind}").read_bytes() == built[f"{kind}_a"].read_bytes(), kind


def test_no_warnings_logged_while_rendering(tmp_path, caplog):
    with (
        caplog.at_level(logging.WARNING),
        caplog.at_level(logging.WARNING, logger="weasyprint"),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("error")  # Python warnings (matplotlib, Babel, …) fail too
        html_path = render.render_html(demo_context(), tmp_path)
        render.render_pdf(html_path, tmp_path / "report.pdf")
        render.render_docx(html_path, tmp_path / "report.docx")
    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not noisy, [f"{r.name}: {r.getMessage()}" for r in noisy]


# --------------------------------------------------------------------------- browser checks
# Optional tools: `npm ci` (vnu-jar, axe-core, playwright-core from package.json), Java 17,
# Debian `chromium`. Each test skips with the reason when its tool is missing.

def test_html_is_valid_for_vnu(built):
    reason = html_checks.vnu_missing()
    if reason:
        pytest.skip(reason)
    assert html_checks.vnu_errors(built["html_a"]) == ""


def test_html_passes_axe_wcag21_aa_on_desktop_and_phone(built):
    reason = html_checks.axe_missing()
    if reason:
        pytest.skip(reason)
    assert html_checks.axe_problems(html_checks.axe_report(built["html_a"])) == []


# --------------------------------------------------------------------------- navigation, files


def _with_references() -> dict:
    context = demo_context()
    chapter = context["chapters"][0]
    chapter["blocks"][1]["figure"] = "demo.laering"
    chapter["blocks"][0]["paragraphs"].append(
        "Se [[demo.laering]], [[tabel-1|tabellen over svar]] og [[bilag-a]] & mere <her>.")
    return context


def test_references_become_links_to_figures_tables_and_sections():
    ready = render.prepare(_with_references())
    paragraph = ready["chapters"][0]["blocks"][0]["paragraphs"][-1]
    assert paragraph == ('Se <a class="ref" href="#figur-1">figur 1</a>, <a class="ref" '
                         'href="#tabel-1">tabellen over svar</a> og <a class="ref" '
                         'href="#bilag-a">bilag A</a> &amp; mere &lt;her&gt;.')
    text = render.render_html_text(_with_references())
    assert 'href="#figur-1">figur 1</a>' in text and "&amp; mere &lt;her&gt;" in text


@pytest.mark.parametrize("reference, message", [
    ("[[kap9.ukendt]]", "unknown reference"), ("[[figur-1", "unclosed"),
    ("[[]]", "unclosed or empty")])
def test_bad_references_are_rejected(reference, message):
    context = demo_context()
    context["chapters"][0]["blocks"][0]["paragraphs"].append(f"Se {reference}.")
    with pytest.raises(render.ContextError, match=message):
        render.prepare(context)


def test_a_reference_to_two_places_must_be_made_unique():
    context = demo_context()
    for block in context["chapters"][0]["blocks"][1:5:2]:
        block["figure"] = "demo.laering"          # the same figure shown twice
    context["chapters"][0]["blocks"][0]["paragraphs"].append("Se [[demo.laering]].")
    with pytest.raises(render.ContextError, match="names 2 places"):
        render.prepare(context)


def test_contents_go_down_to_sections_and_list_every_figure_and_table():
    ready = render.prepare(demo_context())
    chapter = next(e for e in ready["toc"] if e["id"] == "kapitel-2")
    assert chapter["children"] == [{"id": "kapitel-2-et-maal-for-oplevet-laering",
                                    "title": "Et mål for oplevet læring"}]
    assert [f["id"] for f in ready["figure_list"]] == [f"figur-{n}" for n in range(1, 7)]
    assert [t["id"] for t in ready["table_list"]] == ["tabel-1"]
    text = render.render_html_text(demo_context())
    for entry in (*ready["figure_list"], *ready["table_list"], *chapter["children"]):
        assert f'href="#{entry["id"]}"' in text and f'id="{entry["id"]}"' in text
    assert text.count('<p class="back"><a href="#indhold-titel">') == 5  # after every part


def test_chart_files_are_named_by_number_and_figure_id():
    assert chart_files.chart_file("3", "kap2.laering") == "figurer/figur-03-kap2.laering"
    assert chart_files.chart_file("12") == "figurer/figur-12"
    assert chart_files.chart_file("3.1", "a") == "figurer/figur-03-1-a"


def test_phone_layouts_are_offered_and_print_leaves_them_out(tmp_path):
    seen = []
    html = render.render_html(demo_context(), tmp_path, print_ready=lambda path: seen.append(
        path.read_text(encoding="utf-8")))
    final = html.read_text(encoding="utf-8")
    assert final.count('<source media="(max-width: 32em)" srcset="data:image/svg+xml;') == 6
    assert "<source" not in seen[0]
    # the PDF is the same from either file: print drops what differs
    assert render._PRINT_ONLY.sub("", seen[0]) == render._PRINT_ONLY.sub("", final)
    narrow = re.findall(r'srcset="data:image/svg\+xml;base64,([^"]+)"', final)[0]
    width = float(re.search(r'width="([\d.]+)pt"', base64.b64decode(narrow).decode()).group(1))
    assert width <= charts.NARROW.width_in * 72 + 1


def test_chart_files_are_svg_and_png(tmp_path):
    written = chart_files.write_chart_files(demo_context(), tmp_path)
    assert [p.name for p in written][:2] == ["figur-01.svg", "figur-01.png"]
    assert len(written) == 12 and all(p.stat().st_size > 1000 for p in written)
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in written if p.suffix == ".png")


# --------------------------------------------------------------------------- charts for print


def _demo_charts() -> list[str]:
    text = render.render_html_text(demo_context())
    return [base64.b64decode(uri).decode("utf-8") for uri in
            dict.fromkeys(re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', text))]


def test_print_svg_hands_weasyprint_the_cascade_done():
    for svg in _demo_charts():
        simple = print_svg.print_svg(svg)
        assert "style=" not in simple and "<metadata" not in simple and "rotate(-0 " not in simple
        assert not re.search(r'<g id="[^"]*">', simple)  # groups of an id only are gone
        # every path and text has the stylesheet's values unless its own style said otherwise
        for element in re.findall(r"<(?:path|text)\b[^>]*>", simple):
            assert 'stroke-linecap="' in element and 'stroke-linejoin="' in element, element
        assert simple.count("<text") == svg.count("<text")
        assert simple.count("<path") == svg.count("<path")
    svg = _demo_charts()[0]
    miter = re.search(r'<path [^>]*style="[^"]*stroke-linejoin: miter', svg)
    assert miter is None or 'stroke-linejoin="miter"' in print_svg.print_svg(svg)


@pytest.mark.parametrize("change", [
    ("*{stroke-linejoin: round; stroke-linecap: butt}", "path{stroke: red}"),  # not one * rule
    ('style="fill: #ffffff"', 'style="fill: #ffffff !important"'),
    ('style="fill: #ffffff"', 'style="font: 9px sans-serif"'),
    ('style="fill: #ffffff"', 'style="fill: #ffffff; /* note */"'),
])
def test_print_svg_leaves_an_svg_it_does_not_know_as_it_is(change):
    svg = _demo_charts()[0]
    assert change[0] in svg
    changed = svg.replace(change[0], change[1], 1)
    assert print_svg.print_svg(changed) == changed
    assert print_svg.print_svg("<svg") == "<svg"


def test_print_svg_draws_the_same_pdf_page(tmp_path):
    """The charts as WeasyPrint draws them from the SVG as it is and from print_svg's: the same
    pixels and the same text."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    def page(variant) -> str:
        images = "".join(
            f'<img style="display:block; width: 100%" src="data:image/svg+xml;base64,'
            f'{base64.b64encode(variant(svg).encode()).decode()}">' for svg in _demo_charts())
        return (f"<html><head><style>{render.font_face_css()}</style></head>"
                f"<body>{images}</body></html>")

    seen = []
    for name, variant in (("as-is", lambda svg: svg), ("print", print_svg.print_svg)):
        pdf = tmp_path / f"{name}.pdf"
        HTML(string=page(variant)).write_pdf(pdf, font_config=FontConfiguration())
        subprocess.run([_tool("pdftoppm", "poppler-utils"), "-r", "100", "-png", str(pdf),
                        str(tmp_path / name)], check=True)
        text = subprocess.run([_tool("pdftotext", "poppler-utils"), str(pdf), "-"],
                              capture_output=True, text=True, check=True).stdout
        pngs = [path.read_bytes() for path in sorted(tmp_path.glob(f"{name}-*.png"))]
        seen.append((text, pngs))
    assert seen[0][1] and seen[0] == seen[1]
