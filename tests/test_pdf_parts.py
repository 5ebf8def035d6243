"""The PDF rendered part by part (lpj_report.pdf_parts, pdf_join) is the PDF WeasyPrint makes of
the whole document: the same pixels on every page, the same text, the same links, named
destinations, bookmarks, tags and metadata; and an edit renders only what it changed.

The small document is the demo context (tests/render_demo.py, fictitious numbers, five parts);
the real one is the session's 2002 build (tests/built.py).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from pdf_structure import structure
from render_demo import demo_context
from tools import tool as _tool

from lpj_report import cache, pdf_parts, render


def _pixels(pdf: Path, folder: Path, dpi: int) -> list[bytes]:
    folder.mkdir()
    subprocess.run([_tool("pdftoppm", "poppler-utils"), "-r", str(dpi), "-png", str(pdf),
                    str(folder / "p")],
                   check=True)
    return [path.read_bytes() for path in sorted(folder.glob("p-*.png"))]


def _text(pdf: Path) -> str:
    return subprocess.run([_tool("pdftotext", "poppler-utils"), "-layout", str(pdf), "-"],
                          capture_output=True,
                          text=True, check=True).stdout


def assert_same_pdf(joined: Path, whole: Path, folder: Path, dpi: int = 40) -> None:
    """``joined`` shows, reads and navigates as ``whole`` does."""
    expected, found = structure(whole), structure(joined)
    for key in expected:
        assert found[key] == expected[key], f"{key} differs from WeasyPrint's whole document"
    assert _text(joined) == _text(whole)
    shown = _pixels(joined, folder / "joined", dpi), _pixels(whole, folder / "whole", dpi)
    assert len(shown[0]) == len(shown[1]) == expected["pages"]
    differing = [n + 1 for n, (a, b) in enumerate(zip(*shown, strict=True)) if a != b]
    assert not differing, f"pages {differing} look different"


@pytest.fixture
def demo_html(tmp_path) -> Path:
    return render.render_html(demo_context(), tmp_path / "html")


def _edited(html: Path, part_id: str, paragraphs: int, folder: Path) -> Path:
    """A copy of ``html`` with ``paragraphs`` new paragraphs at the start of one part."""
    text = html.read_text(encoding="utf-8")
    heading = re.search(rf'<section class="part [^"]*" id="{part_id}"[^>]*>\s*<h2[^>]*>.*?</h2>',
                        text, re.S)
    assert heading, part_id
    added = "".join(f"<p>Ny sætning nummer {n} om læring på jobbet, tilføjet for at prøve, at "
                    f"kun den ændrede del lægges op igen.</p>\n" for n in range(paragraphs))
    folder.mkdir()
    edited = folder / html.name
    edited.write_text(text[:heading.end()] + "\n" + added + text[heading.end():],
                      encoding="utf-8")
    return edited


def test_the_demo_in_parts_is_the_whole_document(demo_html, tmp_path):
    joined = render.render_pdf(demo_html, tmp_path / "joined.pdf")
    whole = render.render_pdf_whole(demo_html, tmp_path / "whole.pdf")
    assert_same_pdf(joined, whole, tmp_path)
    facts = structure(joined)
    # links across parts survived: the contents and the list of figures point into the parts
    names = {name for name, _ in facts["destinations"]}
    assert {"kapitel-2", "kapitel-3", "bilag-a", "figur-1", "tabel-1"} <= names
    targets = {link[1] for page in facts["links"] for link in page[3]}
    assert {"kapitel-2", "figur-1"} <= targets
    # a name is its first real anchor, never the stand-in a part gave a link to another part
    pages = dict(facts["destinations"])
    assert pages["kapitel-3"][0] > pages["kapitel-2"][0] > 0
    # one Document element holds every part's elements
    assert [element[0] for element in facts["tree"]] == ["/Document"]


def test_an_edit_renders_its_part_and_the_bytes_match_a_build_without_the_cache(demo_html,
                                                                                  tmp_path):
    store = cache.Cache(tmp_path / "cache")
    with cache.using(store):
        render.render_pdf(demo_html, tmp_path / "first.pdf")
        edited = _edited(demo_html, "bilag-a", 2, tmp_path / "edited")
        cache.STATS.clear()
        again = render.render_pdf(edited, tmp_path / "again.pdf")
    # the front matter's layout, the four parts before the appendix and the front matter with
    # its page numbers came from the cache; only the appendix was laid out and written again
    assert cache.STATS["miss:pdf-part"] == 1, cache.STATS
    assert cache.STATS["hit:pdf-part"] == 6, cache.STATS
    uncached = render.render_pdf(edited, tmp_path / "uncached.pdf")
    assert again.read_bytes() == uncached.read_bytes()
    assert "Ny sætning nummer 1" in _text(again)
    assert "Ny sætning nummer 1" not in _text(tmp_path / "first.pdf")


def test_a_part_that_grows_moves_the_page_numbers_after_it(demo_html, tmp_path):
    store = cache.Cache(tmp_path / "cache")
    with cache.using(store):
        first = render.render_pdf(demo_html, tmp_path / "first.pdf")
        edited = _edited(demo_html, "indledning", 60, tmp_path / "edited")
        cache.STATS.clear()
        joined = render.render_pdf(edited, tmp_path / "joined.pdf")
    whole = render.render_pdf_whole(edited, tmp_path / "whole.pdf")
    assert_same_pdf(joined, whole, tmp_path)
    assert structure(joined)["pages"] > structure(first)["pages"]
    # the foreword stayed where it was; the introduction and every part after it were laid out
    # again (their first page moved), the front matter too (its contents' numbers moved)
    assert cache.STATS["hit:pdf-part"] == 2, cache.STATS
    assert cache.STATS["miss:pdf-part"] == 5, cache.STATS


def test_a_document_without_main_is_refused():
    with pytest.raises(ValueError, match="<main>"):
        pdf_parts.split("<html><head></head><body><p>x</p></body></html>")


def test_a_relative_reference_keys_a_part_by_its_folder():
    assert pdf_parts._RELATIVE.search('<img src="figurer/a.png">')
    assert pdf_parts._RELATIVE.search("background: url('a.png')")
    for kept in ('<a href="#figur-1">', '<img src="data:image/svg+xml;base64,AA">',
                 "src: url('file:///fonts/a.ttf')", '<a href="https://kl.dk">', 'data-href="x"'):
        assert not pdf_parts._RELATIVE.search(kept), kept


def test_the_2002_report_in_parts_is_the_whole_document(report, tmp_path):
    whole = render.render_pdf_whole(report.html, tmp_path / "whole.pdf")
    assert_same_pdf(report.pdf, whole, tmp_path, dpi=30)


def test_a_link_to_no_anchor_is_dropped_with_weasyprints_error_as_in_the_whole(demo_html,
                                                                               tmp_path, caplog):
    text = demo_html.read_text(encoding="utf-8")
    first = text.index('<section class="part chapter" id="kapitel-2"')
    paragraph = text.index("<p>", first)
    broken = tmp_path / "broken" / demo_html.name
    broken.parent.mkdir()
    broken.write_text(text[:paragraph] + '<p><a href="#ingen-steder">Se ingen steder</a> og '
                      '<a href="#bilag-a">bilag A</a>.</p>\n' + text[paragraph:], encoding="utf-8")
    with caplog.at_level("ERROR", logger="weasyprint"):
        joined = render.render_pdf(broken, tmp_path / "joined.pdf")
    assert "No anchor #ingen-steder for internal URI reference" in caplog.text
    whole = render.render_pdf_whole(broken, tmp_path / "whole.pdf")
    assert_same_pdf(joined, whole, tmp_path)
    targets = {link[1] for page in structure(joined)["links"] for link in page[3]}
    assert "bilag-a" in targets and "ingen-steder" not in targets


def test_anchors_and_links_are_read_as_weasyprint_reads_them():
    found = pdf_parts._ANCHOR.findall('<h2 id="a"><div data-id="b"><a name="c"><a data-name="d">'
                                      '<p class="x" id="e">')
    assert [a or b for a, b in found] == ["a", "c", "e"]
    assert pdf_parts._LINK.findall('<a href="#x"><a data-href="#y"><a href="figur.svg">') == ["x"]
