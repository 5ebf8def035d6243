"""Hand-overs as their users get them: the Word document opened in a word processor, the
workbook in a spreadsheet, the CSV files, the chart files and the HTML on a phone.

The 2002 report is the session's build (tests/built.py); one municipality's edition (the
smallest, with withheld numbers) is built here. The Word documents are converted to PDF with
LibreOffice (Debian ``libreoffice-writer-nogui``, ``make officedeps``) and the PDF checked as a
reader sees it; python-docx and the XML say what the document holds. Tools that are missing skip
their tests here and fail them under CI (``CI`` set).
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from types import SimpleNamespace

import docx
import html_checks
import jsonschema
import openpyxl
import pandas as pd
import pytest
from built import NAME, SOURCE_DATE_EPOCH, WAVE
from tools import tool as _tool

from lpj_report import cli, render
from lpj_report import format as fmt
from lpj_report.paths import ROOT

EDITION = "hasle"            # the smallest municipality: its edition withholds numbers
SCHEMA = ROOT / "docs" / "figures.schema.json"
OFFICE_HINT = ("run `make officedeps` (as root: apt-get install -y --no-install-recommends "
               "libreoffice-writer-nogui)")
MIN_CHART_CM = 14.0
MIN_TEXT_PX = 9.0


def _require(reason: str | None) -> None:
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason} — CI must run this check")
    pytest.skip(reason)




def _blocks(context: dict) -> list[dict]:
    parts = [context["introduction"], *context["chapters"], *context["appendices"]]
    return [b for part in parts if part for b in part["blocks"] if b["type"] in ("figure", "table")]


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    """The smallest municipality's edition with its Word document, through the command."""
    out = tmp_path_factory.mktemp("edition")
    contexts = []
    original = render.render_html

    def spy(context, *args, **kwargs):
        contexts.append(render.prepare(context))
        return original(context, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
        mp.setattr(render, "render_html", spy)
        assert cli.main(["build", "--wave", WAVE, "--kommune", EDITION, "--formats",
                         "html,docx", "--out", str(out)]) == 0
    folder = out / "kommuner" / EDITION
    name = f"{NAME}-{EDITION}"
    return SimpleNamespace(out=folder, context=contexts[0], html=folder / f"{name}.html",
                           docx=folder / f"{name}.docx", xlsx=folder / "tabeller.xlsx")


@pytest.fixture(scope="module")
def office(report, edition, tmp_path_factory):
    """Both Word documents converted to PDF by LibreOffice (its own profile folder)."""
    soffice = shutil.which("soffice")
    _require(None if soffice else f"LibreOffice is missing: {OFFICE_HINT}")
    out = tmp_path_factory.mktemp("office")
    profile = (out / "profile").as_uri()
    subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to",
                    "pdf", "--outdir", str(out), str(report.docx), str(edition.docx)],
                   check=True, capture_output=True, timeout=600)
    pdfs = {"report": out / f"{report.docx.stem}.pdf", "edition": out / f"{edition.docx.stem}.pdf"}
    assert all(p.exists() for p in pdfs.values()), subprocess.run(["ls", str(out)],
                                                                  capture_output=True).stdout
    return pdfs


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run([_tool("pdftotext", "poppler-utils"), "-layout", str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]


def _words(text: str) -> str:
    return " ".join(text.split())


def _heading(entry: dict) -> str:
    return f"{entry['label']}. {entry['title']}" if entry["label"] else entry["title"]


# --------------------------------------------------------------------------- Word in LibreOffice


@pytest.mark.parametrize("which", ["report", "edition"])
def test_word_document_in_libreoffice(report, edition, office, which):
    built = report if which == "report" else edition
    pdf = office[which]
    info = subprocess.run([_tool("pdfinfo", "poppler-utils"), "-f", "1", "-l", "9999", str(pdf)],
                          capture_output=True, text=True, check=True).stdout
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)
    assert sizes, info
    assert all(abs(float(w) - 595.3) < 1 and abs(float(h) - 841.9) < 1 for w, h in sizes), \
        "not every page is A4"
    pages = _pages(pdf)
    assert len(pages) == len(sizes)
    # page numbers in the footer: "Side n" on page n
    unnumbered = [n for n, page in enumerate(pages, 1) if not re.search(rf"\bSide {n}\b", page)]
    assert unnumbered == [], f"pages without their number: {unnumbered}"
    # a contents page listing every chapter
    start = next((n for n, p in enumerate(pages) if re.search(r"^\s*Indhold\s*$", p, re.M)),
                 None)
    assert start is not None, "no contents page"
    end = next(n for n in range(start, len(pages))
               if re.search(r"^\s*Figurer og tabeller\s*$", pages[n], re.M))
    contents = _words(" ".join(pages[start:end]))   # up to the lists of figures and tables
    missing = [_heading(e) for e in built.context["toc"] if _words(_heading(e)) not in contents]
    assert missing == [], f"chapters not in the contents: {missing}"
    # every chart a full-width picture, none squeezed into a table
    listing = subprocess.run([_tool("pdfimages", "poppler-utils"), "-list", str(pdf)],
                             capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    widths = [int(row.split()[3]) / int(row.split()[12]) * 2.54 for row in listing
              if row.split()[2] == "image"]
    figures = [b for b in _blocks(built.context) if b["type"] == "figure"]
    assert len(widths) == len(figures)
    narrow = [round(w, 1) for w in widths if w < MIN_CHART_CM]
    assert narrow == [], f"chart pictures narrower than {MIN_CHART_CM} cm: {narrow}"
    with zipfile.ZipFile(built.docx) as package:
        document = package.read("word/document.xml").decode("utf-8")
    tables = re.findall(r"<w:tbl>.*?</w:tbl>", document, re.S)
    assert tables and not any("<w:drawing" in t for t in tables), "a figure inside a table"


# --------------------------------------------------------------------------- Word's structure


def _style(paragraph) -> str:
    return paragraph.style.name if paragraph.style is not None else ""


def _seq(paragraph) -> tuple[str, str] | None:
    """(identifier, shown number) of the paragraph's SEQ field."""
    xml = paragraph._p.xml
    found = re.search(r"<w:instrText[^>]*> SEQ (\w+) [^<]*</w:instrText>.*?"
                      r"<w:fldChar w:fldCharType=\"separate\"/>.*?<w:t>(\d+)</w:t>", xml, re.S)
    return found.groups() if found else None


@pytest.mark.parametrize("which", ["report", "edition"])
def test_word_headings_captions_and_tables(report, edition, which):
    built = report if which == "report" else edition
    document = docx.Document(str(built.docx))
    paragraphs = document.paragraphs
    first = [p.text for p in paragraphs if _style(p) == "Heading 1"]
    assert first == ["Kolofon", *[_heading(e) for e in built.context["toc"]]]
    assert document.styles["Heading 1"].paragraph_format.page_break_before
    second = [p.text for p in paragraphs if _style(p) == "Heading 2"]
    sections = [c["title"] for e in built.context["toc"] for c in e["children"]]
    assert [s for s in sections if s not in second] == []
    assert not any(_style(p).startswith("Heading") and "pointer" in p.text for p in paragraphs)
    blocks = _blocks(built.context)
    captions = [p for p in paragraphs if _style(p) == "Image Caption"]
    figures = [b for b in blocks if b["type"] == "figure"]
    assert [c.text for c in captions] == [f"Figur {b['number']}. {b['title']}" for b in figures]
    assert [_seq(c) for c in captions] == [("Figur", b["number"]) for b in figures]
    table_captions = [p for p in paragraphs if _style(p) == "Table Caption"]
    numbered = [c for c in table_captions if c.text.startswith("Tabel ")]
    tables = [b for b in blocks if b["type"] == "table"]
    assert [c.text for c in numbered] == [f"Tabel {b['number']}. {b['title']}" for b in tables]
    assert [_seq(c) for c in numbered] == [("Tabel", b["number"]) for b in tables]
    data = [c.text for c in table_captions if c.text.startswith("Tal bag figur")]
    assert data == [f"Tal bag figur {b['number']}. {b['title']}" for b in figures]
    # every table repeats its header row on each page
    assert len(document.tables) == len(figures) + len(tables)
    assert all(t.rows[0]._tr.trPr is not None and t.rows[0]._tr.trPr.xpath("w:tblHeader")
               for t in document.tables)
    # each chart is followed by its numbers: caption, picture, note, table caption
    order = [(_style(p), p.text) for p in paragraphs
             if _style(p) in ("Image Caption", "Table Caption")]
    for block in figures:
        at = order.index(("Image Caption", f"Figur {block['number']}. {block['title']}"))
        assert order[at + 1] == ("Table Caption",
                                 f"Tal bag figur {block['number']}. {block['title']}")


def test_word_document_is_danish_and_schema_shaped(report):
    with zipfile.ZipFile(report.docx) as package:
        document = package.read("word/document.xml").decode("utf-8")
        styles = package.read("word/styles.xml").decode("utf-8")
        settings = package.read("word/settings.xml").decode("utf-8")
    assert re.search(r'<w:docDefaults>.*<w:lang [^>]*w:val="da-DK"', styles, re.S)
    assert '<w:themeFontLang w:val="da-DK"/>' in settings
    assert '<w:updateFields w:val="true"/>' in settings   # Word fills in the contents' pages
    # no property given twice where the schema allows it once (Word would "repair" the file)
    for holder in ("w:pPr", "w:rPr", "w:tblPr", "w:trPr", "w:tcPr", "w:sectPr"):
        for block in re.findall(rf"<{holder}>(.*?)</{holder}>", document, re.S):
            names = re.findall(r"<(w:[A-Za-z]+)\b", re.sub(r"<w:rPr>.*?</w:rPr>", "", block,
                                                            flags=re.S))
            top = [n for n in names if n not in ("w:tab", "w:top", "w:left", "w:bottom",
                                                 "w:right", "w:insideH", "w:insideV")]
            doubled = {n for n in top if top.count(n) > 1}
            assert not doubled, f"{holder} with {doubled} twice: {block[:200]}"
    assert "TOC \\o" in document and 'SEQ Figur' in document


# --------------------------------------------------------------------------- the workbook


def _sheet_rows(ws) -> list[list]:
    return [[c.value for c in row] for row in ws.iter_rows()]


@pytest.mark.parametrize("which", ["report", "edition"])
def test_workbook_has_a_sheet_per_figure_and_table_with_numbers(report, edition, which):
    built = report if which == "report" else edition
    path = built.out / "tabeller.xlsx"
    book = openpyxl.load_workbook(path)
    blocks = _blocks(built.context)
    expected = [f"{'Figur' if b['type'] == 'figure' else 'Tabel'} {b['number']}" for b in blocks]
    assert book.sheetnames == ["Om tabellerne", *expected]
    front = "\n".join(str(v) for row in _sheet_rows(book["Om tabellerne"]) for v in row if v)
    notice = built.context["notice"]
    assert notice["title"] in front and notice["text"] in front
    assert built.context["meta"]["provenance"]["data_sha256"] in front
    assert "◊" in front and "Sådan læses arkene" in front
    links = [c.hyperlink.location for row in book["Om tabellerne"].iter_rows() for c in row
             if c.hyperlink is not None]
    assert links == [f"'{name}'!A1" for name in expected]
    numbers = 0
    for block, name in zip(blocks, expected, strict=True):
        ws = book[name]
        assert ws["A1"].value == f"{name}. {html.unescape(re.sub('<[^>]+>', '', block['title']))}"
        assert ws.freeze_panes in ("B5", "B6"), name
        header_row = int(ws.freeze_panes[1:]) - 1
        header = [c.value for c in ws[header_row]]
        assert all(isinstance(h, str) and h for h in header), (name, header)
        for row in ws.iter_rows(min_row=header_row + 1, min_col=2):
            for cell in row:
                if isinstance(cell.value, int | float):
                    numbers += 1
                    assert cell.number_format != "General", (name, cell.coordinate)
                elif isinstance(cell.value, str):
                    # text only where the report prints text: labels, the mark, yes/no
                    assert not re.fullmatch(r"[−\-+]?\d[\d.]*(,\d+)?( ?%)?", cell.value), \
                        (name, cell.coordinate, cell.value)
    assert numbers > 100


def test_workbook_numbers_are_the_figure_tables(report):
    """Each figure's sheet holds its rows of figures.json, rounded as the report prints them,
    percentages as fractions; limits and bases beside them."""
    rows = pd.DataFrame(json.loads((report.out / "figures.json").read_text("utf-8"))["rows"])
    book = openpyxl.load_workbook(report.out / "tabeller.xlsx")
    checked = withheld = 0
    for block in report.figures:
        ws = book[f"Figur {block['number']}"]
        header = [c.value for c in ws[4]]
        mine = rows[(rows["figure"] == block["figure"])
                    & ((rows["base"] > 0) | rows["suppressed"])]
        body = [[c.value for c in row] for row in ws.iter_rows(min_row=5)]
        assert len(body) == len(mine), block["figure"]
        value_at = header.index(next(h for h in header if h in ("Procent", "Gennemsnit (år)",
                                                               "Antal")))
        for (_, row), cells in zip(mine.iterrows(), body, strict=True):
            if row["suppressed"]:   # withheld in the report (too few answers): the mark
                assert cells[value_at] == cells[header.index("Antal svar")] == "◊", block
                withheld += 1
                continue
            scale = 100 if row["unit"] == "pct" else 1
            expected = fmt.round_half_up(row["value"], int(row["decimals"]))
            assert cells[value_at] * scale == pytest.approx(expected), (block["figure"], row)
            assert cells[header.index("Antal svar")] == int(row["base"])
            if "Nedre 95 %-grænse" in header:
                low = fmt.round_half_up(row["ci_low"], int(row["decimals"]))
                assert cells[header.index("Nedre 95 %-grænse")] * scale == pytest.approx(low)
            checked += 1
    assert checked > 500
    assert withheld == int(rows.loc[rows["figure"].isin({b["figure"] for b in report.figures}),
                                    "suppressed"].sum())


def test_workbook_marks_withheld_numbers(edition):
    """Every number the edition withholds is the mark in the workbook, in the municipality's
    value column, and nothing else is."""
    rows = pd.DataFrame(json.loads((edition.out / "figures.json").read_text("utf-8"))["rows"])
    mine = rows[rows["kommune"] == EDITION]
    book = openpyxl.load_workbook(edition.xlsx)
    marked = 0
    for block in _blocks(edition.context):
        if not block["figure"]:
            continue
        ws = book[f"{'Figur' if block['type'] == 'figure' else 'Tabel'} {block['number']}"]
        header = [c.value for c in ws[5]]
        column = 2 if header[0] == "Gruppe" else 1    # the municipality's value
        values = [row[column].value for row in ws.iter_rows(min_row=6)]
        hidden = mine[(mine["figure"] == block["figure"]) & mine["suppressed"]]
        assert values.count("◊") == len(hidden), block["figure"]
        assert all(v is None or v == "◊" or isinstance(v, int | float) for v in values)
        marked += len(hidden)
    assert marked > 0, "the smallest municipality's edition withholds numbers"


def test_workbook_dates_are_the_reports_own(report):
    """No clock in the workbook: created and modified are meta.created, zip entries dated 1980
    (two builds' bytes are compared in test_build_quality)."""
    with zipfile.ZipFile(report.out / "tabeller.xlsx") as book:
        core = book.read("docProps/core.xml").decode("utf-8")
        times = {info.date_time for info in book.infolist()}
    created = report.context["meta"]["created"]
    assert re.findall(r"<dcterms:(?:created|modified)[^>]*>([^<]+)<", core) == \
        [f"{created}T00:00:00Z"] * 2
    assert times == {(1980, 1, 1, 0, 0, 0)}


# --------------------------------------------------------------------------- CSV and JSON


def test_figures_csv_has_labels_and_rounded_values(report):
    csv = pd.read_csv(report.out / "figures.csv")
    for column in ("figure_title", "group_label", "category_label", "ci_low", "ci_high"):
        assert column in csv.columns
    # the total is "Alle", or "Alle i figuren" where the figure leaves some respondents out
    totals = csv.loc[csv["group"] == "alle", "group_label"]
    assert totals.isin(["Alle", "Alle i figuren"]).all()
    assert (csv["group_label"].isin(["Alle", "Alle i figuren"])).sum() == len(totals)
    assert not csv["category_label"].str.fullmatch(r"[a-z_]+").any(), "codes as labels"
    places = csv["value"].dropna().map(lambda v: len(repr(float(v)).split(".")[1].rstrip("0")))
    allowed = csv.loc[csv["value"].notna(), "decimals"] + 2
    assert (places <= allowed).all(), "values not rounded"
    assert (csv["value"].round(0) != csv["value"]).any(), "rounded too far"


def test_excel_csv_opens_in_danish_excel(report):
    raw = (report.out / "figures-excel.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "no BOM: Excel would guess the encoding"
    header = raw[3:].split(b"\r\n", 1)[0].decode("utf-8")
    assert header.split(";")[:3] == ["figure", "figure_title", "group"]
    assert re.search(rb";\d+,\d+;", raw), "no decimal comma"
    excel = pd.read_csv(io.BytesIO(raw), sep=";", decimal=",", encoding="utf-8-sig")
    plain = pd.read_csv(report.out / "figures.csv")
    pd.testing.assert_frame_equal(excel, plain)


def _validator():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_figures_json_follows_its_schema(report, edition):
    validator = _validator()
    for folder in (report.out, edition.out):
        doc = json.loads((folder / "figures.json").read_text(encoding="utf-8"))
        errors = [f"{'/'.join(map(str, e.path))}: {e.message}"
                  for e in validator.iter_errors(doc)]
        assert errors == [], errors[:5]
    broken = json.loads((report.out / "figures.json").read_text(encoding="utf-8"))
    broken["rows"][0]["value"] = "21 %"
    del broken["rows"][1]["base"]
    assert len(list(validator.iter_errors(broken))) == 2  # the schema does catch mistakes


# --------------------------------------------------------------------------- chart files


def test_every_chart_is_a_file_named_by_number_and_id(report):
    page = report.html.read_text(encoding="utf-8")
    for block in report.figures:
        stem = f"figurer/figur-{int(block['number']):02d}-{block['figure']}"
        assert block["file"] == stem
        svg, png = report.out / f"{stem}.svg", report.out / f"{stem}.png"
        assert svg.read_text(encoding="utf-8") == block["svg"]
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        points = float(re.search(r'<svg[^>]*\swidth="([\d.]+)pt"', block["svg"]).group(1))
        assert abs(int.from_bytes(data[16:20], "big") - points / 72 * render.PNG_DPI) <= 2
        assert f'href="{stem}.svg"' in page and f'href="{stem}.png"' in page


# --------------------------------------------------------------------------- HTML on a phone


def _smallest_text_px(src: str, rendered_width: float) -> float:
    svg = base64.b64decode(src.split(",", 1)[1]).decode("utf-8")
    view = re.search(r'<svg[^>]*viewBox="[\d.]+ [\d.]+ ([\d.]+) [\d.]+"', svg)
    sizes = [float(s) for s in re.findall(r"font-size: ([\d.]+)px", svg)]
    assert view and sizes, "no text in the chart"
    return min(sizes) * rendered_width / float(view.group(1))


@pytest.mark.parametrize("width", [390, 1280])
def test_html_reads_on_a_phone_and_a_desktop(report, width):
    _require(html_checks.axe_missing())
    found = html_checks.phone_report(report.html, width)
    assert found["overflow"] <= 0, f"the page is {found['overflow']} px wider than the screen"
    assert len(found["charts"]) == len(report.figures)
    small = {c["figure"]: round(_smallest_text_px(c["src"], c["width"]), 1)
             for c in found["charts"]
             if _smallest_text_px(c["src"], c["width"]) < MIN_TEXT_PX}
    assert small == {}, f"chart text below {MIN_TEXT_PX} px at {width} px: {small}"
    if width < 500:   # the phone layout is what a phone shows
        wide = {b["id"]: b["src"] for b in report.figures}
        assert all(c["src"] != wide[c["figure"]] for c in found["charts"])
    cut = [t["caption"] for t in found["tables"]
           if t["scrollWidth"] > t["clientWidth"] + 1
           and not (t["overflowX"] in ("auto", "scroll") and t["hint"])]
    assert cut == [], f"tables cut off without a cue: {cut}"
    if width < 500:   # some tables are wider than a phone: the cue is tested, not assumed
        assert any(t["scrollWidth"] > t["clientWidth"] + 1 for t in found["tables"])
    targets = set(found["targets"])
    assert targets == {b["id"] for b in _blocks(report.context)}
    assert targets - set(found["links"]) == set(), "figures or tables no link points to"
    assert all(link in targets or f'id="{link}"' in report.html.read_text("utf-8")
               for link in found["links"]), "a link to nothing"
