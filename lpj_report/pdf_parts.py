"""The PDF made part by part: each part rendered by WeasyPrint on its own, kept, and joined.

Layer: render (imports :mod:`lpj_report.cache`, :mod:`lpj_report.pdf_join` and
:mod:`lpj_report.pdf_pool`; WeasyPrint only inside :func:`write_pdf`).

The print HTML (as :func:`lpj_report.render.render_pdf` makes it) is cut into the front matter
(cover, colophon, contents, list of figures: everything in ``<main>`` before the first
``<section class="part …">``) and one document per part (each begins a page in print). Every
document gets the same ``<head>`` (styles, fonts, the running notice) and differs only in its
content and in two rules that stand in for what the whole document would carry over:

* the first page's number, ``@page :first { counter-increment: page N }``, where N is the page
  the part begins on in the whole PDF;
* the report's title in the running header (its ``string-set`` is on the cover).

The front matter is rendered last, its contents' page numbers given as text (they are the pages
of the parts' anchors), so that ``target-counter`` is not needed across documents. Links to an
anchor in another part are kept (WeasyPrint would drop a link whose anchor it does not see) and
resolved when the parts are joined (:mod:`lpj_report.pdf_join`).

The parts are rendered by two forked processes side by side (:mod:`lpj_report.pdf_pool`): a
part is handed out as soon as the page count of the part before it is known, so one process lays
out a part while the other writes the PDF of the one before.

Every rendered part is kept in the build cache (kind ``pdf-part``) by its whole HTML and its two
rules, so a build after a change to one chapter's text renders that chapter and the front matter
(when a page number in the contents moved) and takes every other part from the cache; a part
whose length changed moves the parts after it, whose first page number changes, so they are
rendered again. Without a cache every part is rendered: the same bytes either way, since the
PDF is always joined from the parts.
"""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lpj_report import cache, pdf_join, pdf_pool

#: the document's parts begin where a ``section.part`` begins (templates/report.html.j2)
_PART = re.compile(r'(?=<section class="part )')
_COVER_TITLE = re.compile(r'<header class="cover">\s*<h1[^>]*>(.*?)</h1>', re.S)
#: what WeasyPrint makes an anchor of: an element's id, an ``<a>``'s name; a link to one
_ANCHOR = re.compile(r"""<[^>]*?(?<![\w-])id\s*=\s*["']([^"']+)["']"""
                     r"""|<a\b[^>]*?(?<![\w-])name\s*=\s*["']([^"']+)["']""")
_LINK = re.compile(r"""(?<![\w-])href\s*=\s*["']#([^"']+)["']""")
#: a reference WeasyPrint would resolve against the HTML file's folder (print keeps none: the
#: charts are data URLs, the fonts file URLs, the links to chart files are left out)
_RELATIVE = re.compile(r"""(?<![\w-])(?:src|href)\s*=\s*["']?(?![#"']|[a-zA-Z][\w+.-]*:)"""
                       r"""|(?<![\w-])url\(\s*["']?(?!["'#]|[a-zA-Z][\w+.-]*:)""")
#: placeholder page numbers for the front matter's first layout (two digits, like the real ones)
_PLACEHOLDER = '.toc a::after { content: leader(".") " " "00" }'


@dataclass(frozen=True)
class Split:
    """The print HTML cut into its documents' pieces."""

    head: str           # up to and including ``<body>`` and what precedes ``<main>``
    front: str          # ``<main>``'s content before the first part
    parts: tuple[str, ...]
    tail: str           # ``</main>`` and after
    title: str          # the cover's title as plain text (for the running header)

    def document(self, content: str, css: str) -> str:
        head = self.head.replace("</head>", f'<style media="print">\n{css}</style>\n</head>', 1)
        return f"{head}<main>{content}</main>{self.tail}"


def split(text: str) -> Split:
    """Cut the print HTML at ``<main>``, at every ``section.part`` and at ``</main>``."""
    if "<main>" not in text or "</main>" not in text:
        raise ValueError("the print HTML has no <main> element to cut into parts")
    head, rest = text.split("<main>", 1)
    body, tail = rest.rsplit("</main>", 1)
    front, *parts = _PART.split(body)
    found = _COVER_TITLE.search(front)
    title = re.sub(r"<[^>]+>", "", found.group(1)).strip() if found else ""
    return Split(head, front, tuple(parts), "</main>" + tail, title)


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def part_css(title: str, first_page: int) -> str:
    """The rules a part needs to look as it does in the whole document (see the module text)."""
    return (f"@page {{ @top-right {{ content: {_css_string(title)} }} }}\n"
            f"@page :first {{ counter-increment: page {first_page} }}")


def contents_css(front: str, pages_of: dict[str, int]) -> str:
    """The contents' page numbers as text: the page of each linked anchor."""
    return "\n".join(
        f'.toc a[href="#{anchor}"]::after {{ content: leader(".") " " "{pages_of[anchor]}" }}'
        for anchor in dict.fromkeys(_LINK.findall(front)) if anchor in pages_of)


@contextlib.contextmanager
def collector_off() -> Iterator[None]:
    """Python's cycle collector off while WeasyPrint works: WeasyPrint makes millions of small
    objects (boxes, styles, layouts) and keeps most of them to the end, which the collector
    would walk again and again (a sixth of the time). A few MB more memory."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


class _Renderer:
    """Renders documents with one font configuration; the cache key of each."""

    def __init__(self, base_url: str) -> None:
        from weasyprint.text.fonts import FontConfiguration

        self.base_url = base_url
        self.fonts = FontConfiguration()
        self.store = cache.current()
        self.version = cache.code_version() if self.store.enabled else ""

    def links(self, html: str, elsewhere: frozenset[str]) -> frozenset[str]:
        """The anchors of the other parts that ``html`` links to."""
        return frozenset(target for target in _LINK.findall(html) if target in elsewhere)

    def key(self, html: str, write: bool, elsewhere: frozenset[str]) -> str | None:
        """The part's key in the build cache (None without one)."""
        if not self.store.enabled:
            return None
        # the folder matters only to a relative reference (a build writes into a new folder)
        where = self.base_url if _RELATIVE.search(html) else ""
        return cache.key("pdf-part", self.version, where, write, sorted(elsewhere), html)

    def render(self, html: str, write: bool, elsewhere: frozenset[str],
               ready) -> pdf_join.Part:
        """Lay ``html`` out, hand its facts to ``ready``, then write its PDF (when ``write``)."""
        from weasyprint import HTML

        document = HTML(string=html, base_url=self.base_url).render(
            font_config=self.fonts, pdf_variant="pdf/ua-1")
        facts = pdf_join.facts_of(document)
        ready(facts)
        if not write:
            return facts
        pdf_join.keep_links(document, elsewhere)
        return facts.with_pdf(document.write_pdf(pdf_variant="pdf/ua-1"))


def write_pdf(text: str, base_url: str, pdf_path: Path) -> Path:
    """Render the print HTML ``text`` part by part and join the parts into ``pdf_path``.

    The front matter is laid out once with placeholder page numbers to learn its length (kept
    too), the parts are rendered from the page after it, then the front matter with the real
    numbers. Should the real numbers change its length, the parts are placed again from there.
    """
    pieces = split(text)
    renderer = _Renderer(base_url)
    anchors = [frozenset(a or b for a, b in _ANCHOR.findall(piece))
               for piece in (pieces.front, *pieces.parts)]

    def elsewhere(n: int) -> frozenset[str]:
        """The anchors of every piece but the ``n``-th (0: the front matter)."""
        return frozenset().union(*(found for i, found in enumerate(anchors) if i != n))

    with collector_off(), pdf_pool.Pool(renderer.render) as pool:
        def ask(content: str, css: str, n: int, write: bool = True) -> pdf_pool.Ticket:
            html = pieces.document(content, css)
            links = renderer.links(html, elsewhere(n))
            return pool.submit(html, write, links, renderer.key(html, write, links))

        front_pages = pool.facts(ask(pieces.front, _PLACEHOLDER, 0, write=False)).pages
        for _ in range(3):
            tickets, pages_of = [], {}
            number = front_pages
            for n, content in enumerate(pieces.parts, 1):
                ticket = ask(content, part_css(pieces.title, number + 1), n)
                facts = pool.facts(ticket)
                for anchor, page in facts.anchor_pages.items():
                    pages_of.setdefault(anchor, number + 1 + page)
                tickets.append(ticket)
                number += facts.pages
            front = pool.part(ask(pieces.front, contents_css(pieces.front, pages_of), 0))
            if front.pages == front_pages:
                break
            front_pages = front.pages
        else:
            raise RuntimeError("the contents' page numbers keep changing the front matter's "
                               "length; the PDF cannot be laid out")
        parts = [pool.part(ticket) for ticket in tickets]
        pool.replay()
        pdf_join.join([front, *parts], pdf_path)
    return pdf_path
