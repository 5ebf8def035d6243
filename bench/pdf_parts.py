"""Prototype, not used by the build: the PDF rendered part by part, the pages put together.

    .venv/bin/python bench/pdf_parts.py [--html report/2002/laering-paa-jobbet.html]

The report's print HTML (as :func:`lpj_report.render.render_pdf` hands it to WeasyPrint) is cut
into the front matter (cover, colophon, contents, list of figures) and one document per
``section.part`` (each begins a page in print). Every part is rendered on its own, its first
page counter set to where it begins (``@page :first { counter-increment: page N }``) and the
report title of the running header given as text (its ``string-set`` is on the cover); then the
front matter once more with the contents' page numbers as text (they are the parts' anchors'
pages, so ``target-counter`` is not needed); then ``Document.copy`` of all pages is written as
one PDF. It prints the CPU time of each render and of the writing, and checks the result
against the whole document rendered at once: the number of pages, the pixels of every page
(``pdftoppm -r 60``), the text (``pdftotext``), the bookmarks, link annotations and structure
elements. Without ``--html`` it builds the HTML first (``lpj build --formats html``).

It asserts nothing about speed (the machine may be shared). See docs/quality.md, "The build and
its cache", for what it showed.
"""

from __future__ import annotations

import argparse
import gc
import pickle
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lpj_report import render

ROOT = Path(__file__).resolve().parent.parent


def _print_text(html_path: Path) -> str:
    text = render._print_charts(render._PRINT_ONLY.sub("", html_path.read_text(encoding="utf-8")))
    paged = render.font_face_css() + "\n" + render.PAGED_CSS_FILE.read_text(encoding="utf-8")
    return text.replace("</head>", f'<style media="print">\n{paged}</style>\n</head>', 1)


def _pngs(pdf: Path, folder: Path) -> list[bytes]:
    folder.mkdir()
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(folder / "p")], check=True)
    return [path.read_bytes() for path in sorted(folder.glob("p-*.png"))]


def _facts(pdf: Path, folder: Path) -> dict:
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    qdf = folder / f"{pdf.stem}.qdf.pdf"
    subprocess.run(["qpdf", "--qdf", "--object-streams=disable", str(pdf), str(qdf)], check=True)
    raw = qdf.read_bytes()
    outlines = subprocess.run(["qpdf", "--json", "--json-key=outlines", str(pdf)],
                              capture_output=True, text=True, check=True).stdout
    return {"text": text, "links": raw.count(b"/Subtype /Link"),
            "structure elements": raw.count(b"/Type /StructElem"),
            "outlines": re.sub(r'"object": "[^"]*"', "", outlines)}


def main(argv: list[str] | None = None) -> int:
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--html", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lpj-pdf-parts-") as tmp:
        folder = Path(tmp)
        html_path = args.html
        if html_path is None:
            subprocess.run([str(Path(sys.executable).with_name("lpj")), "build", "--formats",
                            "html", "--out", str(folder / "report"), "--no-cache"],
                           cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            html_path = next((folder / "report").glob("*.html"))
        text = _print_text(html_path)
        base_url = str(html_path.resolve().parent) + "/"
        head, rest = text.split("<main>", 1)
        body, tail = rest.rsplit("</main>", 1)
        front, *parts = re.split(r'(?=<section class="part )', body)
        title = re.search(r'<header class="cover">\s*<h1[^>]*>(.*?)</h1>', front, re.S).group(1)
        title = re.sub(r"<[^>]+>", "", title).strip().replace('"', '\\"')
        fonts = FontConfiguration()
        times: dict[str, float] = {}

        def rendered(name: str, content: str, css: str):
            document = head.replace("</head>", f'<style media="print">\n{css}</style>\n</head>', 1)
            started = time.process_time()
            result = HTML(string=f"{document}<main>{content}</main>{tail}", base_url=base_url
                          ).render(font_config=fonts, pdf_variant="pdf/ua-1")
            times[name] = time.process_time() - started
            return result

        gc.disable()   # as render_pdf does
        started = time.process_time()
        whole = HTML(string=text, base_url=base_url).render(font_config=FontConfiguration(),
                                                            pdf_variant="pdf/ua-1")
        times["whole: render"] = time.process_time() - started
        started = time.process_time()
        whole.write_pdf(folder / "whole.pdf", pdf_variant="pdf/ua-1")
        times["whole: write"] = time.process_time() - started

        first = rendered("front matter (1st)", front,
                         '.toc a::after { content: leader(".") " " "00" }')
        begins = len(first.pages) + 1
        documents = []
        for n, part in enumerate(parts, 1):
            css = (f'@page {{ @top-right {{ content: "{title}" }} }}\n'
                   f"@page :first {{ counter-increment: page {begins} }}")
            documents.append(rendered(f"part {n}", part, css))
            begins += len(documents[-1].pages)
        pages_of: dict[str, int] = {}
        number = len(first.pages)
        for document in documents:
            for page in document.pages:
                number += 1
                for anchor in page.anchors:
                    pages_of.setdefault(anchor, number)
        numbers = "\n".join(
            f'.toc a[href="#{anchor}"]::after {{ content: leader(".") " " "{pages_of[anchor]}" }}'
            for anchor in re.findall(r'<a href="#([^"]+)"', front) if anchor in pages_of)
        front_doc = rendered("front matter (2nd)", front, numbers)
        if len(front_doc.pages) != len(first.pages):
            print("the contents' page numbers changed the front matter's length: "
                  "the parts would have to be rendered again")
        pages = front_doc.pages + [page for document in documents for page in document.pages]
        started = time.process_time()
        front_doc.copy(pages).write_pdf(folder / "parts.pdf", pdf_variant="pdf/ua-1")
        times["parts: write"] = time.process_time() - started
        gc.enable()

        for name, seconds in times.items():
            print(f"{name:>22}: {seconds:5.2f} s CPU")
        parts_render = sum(s for name, s in times.items() if name.startswith(("part ", "front")))
        print(f"{'parts: render (all)':>22}: {parts_render:5.2f} s CPU")
        same_pixels = _pngs(folder / "whole.pdf", folder / "w") == _pngs(folder / "parts.pdf",
                                                                          folder / "p")
        print(f"pages {len(whole.pages)} / {len(pages)}; every page the same pixels: {same_pixels}")
        facts = _facts(folder / "whole.pdf", folder), _facts(folder / "parts.pdf", folder)
        for key in facts[0]:
            print(f"{key}: {'the same' if facts[0][key] == facts[1][key] else 'DIFFERENT'}")
        try:
            pickle.dumps(documents[0].pages[0])
            print("a page can be pickled")
        except (TypeError, pickle.PicklingError) as error:
            print(f"a page cannot be pickled (kept only in memory): {error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
