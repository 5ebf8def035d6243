"""Separately rendered PDF/UA documents joined into one, as WeasyPrint would write them whole.

Layer: render (imports pikepdf, and WeasyPrint's bookmark tree inside :func:`join`).

:func:`lpj_report.pdf_parts.write_pdf` renders the front matter and each part of the report as
a document of its own; :func:`join` puts their pages in order and rebuilds what WeasyPrint
writes for a whole document:

* the **structure tree** (PDF/UA): one ``Document`` element whose children are every part's,
  in page order; the parent tree numbers pages 0…n-1, then the link annotations in page order
  (as ``weasyprint.pdf.tags`` numbers them), each page's ``/StructParents`` and each
  annotation's ``/StructParent`` renumbered to match;
* the **named destinations** of the anchors: each name's first real anchor in document order
  (a part's links to anchors in other parts were kept by :func:`keep_links` with a stand-in
  destination, left out here), one sorted array as WeasyPrint writes it;
* the **bookmarks**, made from every page's bookmarks by WeasyPrint's own tree builder;
* the catalogue's language, viewer preferences, marking and XMP metadata and the document
  information, from the first document (they come from ``<head>``, the same in every part).

Each part keeps its own fonts (subsets of the same shipped fonts) and resources. pikepdf writes
the result with an identifier computed from its content: the same parts give the same bytes.
"""

from __future__ import annotations

import dataclasses
import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

#: WeasyPrint's scale from CSS pixels to PDF points (``weasyprint.pdf.generate_pdf``, zoom 1)
_SCALE = 0.75
#: where a link to an anchor in another part points until the parts are joined
_STAND_IN = (0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Part:
    """One rendered document: its PDF (None when only laid out) and what joining needs."""

    pages: int
    heights: tuple[float, ...]              # each page's height, CSS px
    bookmarks: tuple[tuple, ...]            # each page's ``Page.bookmarks``
    anchor_pages: dict[str, int] = field(default_factory=dict)   # real anchor → page (0-based)
    pdf: bytes | None = None

    def with_pdf(self, pdf: bytes) -> Part:
        return dataclasses.replace(self, pdf=pdf)


def facts_of(document) -> Part:
    """What :func:`join` needs of a laid-out WeasyPrint document (taken before
    :func:`keep_links` adds its stand-ins)."""
    anchor_pages: dict[str, int] = {}
    for number, page in enumerate(document.pages):
        for anchor in page.anchors:
            anchor_pages.setdefault(anchor, number)
    return Part(pages=len(document.pages),
                heights=tuple(page.height for page in document.pages),
                bookmarks=tuple(tuple(page.bookmarks) for page in document.pages),
                anchor_pages=anchor_pages)


def keep_links(document, elsewhere: frozenset[str]) -> None:
    """Give every link to an anchor of ``elsewhere`` (the anchors of the other parts) that
    ``document`` does not hold a stand-in anchor on its last page, so that WeasyPrint writes the
    link (by name) instead of dropping it; :func:`join` points the name at the real anchor. A
    link to an anchor no part holds is left to WeasyPrint, which drops it with an error, as it
    does in a whole document."""
    if not document.pages:
        return
    present = {anchor for page in document.pages for anchor in page.anchors}
    missing = sorted({target for page in document.pages
                      for kind, target, _, _ in page.links
                      if kind == "internal" and target not in present and target in elsewhere})
    for anchor in missing:
        document.pages[-1].anchors[anchor] = _STAND_IN


def _bookmark_tree(parts: list[Part]) -> list:
    from weasyprint.document import Document

    pages = [SimpleNamespace(height=height, bookmarks=list(bookmarks))
             for part in parts for height, bookmarks in zip(part.heights, part.bookmarks, strict=True)]
    return Document.make_bookmark_tree(SimpleNamespace(pages=pages), _SCALE,
                                       transform_pages=True)


def _outlines(pdf, tree: list, pages: list, parent) -> tuple[list, int]:
    """``weasyprint.pdf.anchors.add_outlines`` with pikepdf objects."""
    import pikepdf

    count = len(tree)
    items = []
    for title, (page, x, y), children, state in tree:
        item = pdf.make_indirect(pikepdf.Dictionary(
            Title=pikepdf.String(title),
            Dest=pikepdf.Array([pages[page], pikepdf.Name.XYZ, x, y, 0])))
        kids, kids_count = _outlines(pdf, children, pages, item)
        item.Count = -kids_count if state == "closed" else kids_count
        if state != "closed":
            count += kids_count
        if items:
            item.Prev = items[-1]
            items[-1].Next = item
        if kids:
            item.First, item.Last = kids[0], kids[-1]
        item.Parent = parent
        items.append(item)
    return items, count


class _Joined:
    """The PDF being joined: pages appended part by part, the shared entries made at the end."""

    def __init__(self, first) -> None:
        import pikepdf

        self.out = out = pikepdf.new()
        self.version = str(first.pdf_version)
        for name in ("/Lang", "/ViewerPreferences", "/MarkInfo", "/Metadata"):
            if name in first.Root:
                value = first.Root[name]   # a direct one holds no reference: written again
                out.Root[name] = (out.copy_foreign(value) if value.is_indirect
                                  else pikepdf.Object.parse(value.unparse()))
        out.docinfo = out.copy_foreign(first.trailer.Info)
        self.root = out.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructTreeRoot))
        self.document = out.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.StructElem, S=pikepdf.Name.Document, K=pikepdf.Array(),
            P=self.root))
        self.root.K = pikepdf.Array([self.document])
        self.page_entries: list = []   # page number → the elements of its marked content
        self.link_entries: list = []   # (annotation, its element), in page order
        self.destinations: dict = {}   # anchor → [page, /XYZ, x, y, 0]
        self.replaced: set[tuple[int, int]] = set()   # the parts' own Document elements

    def add(self, part: Part, source) -> None:
        """Append the pages of ``source`` (the PDF of ``part``) with their elements, links and
        real anchors."""
        import pikepdf

        out, offset = self.out, len(self.out.pages)
        with warnings.catch_warnings():   # the named destinations are joined here, by name
            warnings.simplefilter("ignore", pikepdf.PageCopyWarning)
            out.pages.extend(source.pages)
        pages = [out.pages[offset + n].obj for n in range(len(source.pages))]
        tree = source.Root.StructTreeRoot
        own_document = out.copy_foreign(tree.K[0])   # the pages were copied: same objects
        self.document.K.extend(own_document.K)
        self.replaced.add(own_document.objgen)
        numbers = out.copy_foreign(tree.ParentTree).Nums
        by_number = {int(numbers[i]): numbers[i + 1] for i in range(0, len(numbers), 2)}
        for n, page in enumerate(pages):
            page.StructParents = offset + n
            self.page_entries.append(by_number[n])
            for annotation in page.get("/Annots", []):
                if "/StructParent" in annotation:
                    self.link_entries.append((annotation,
                                              by_number[int(annotation.StructParent)]))
        page_of = {page.obj.objgen: pages[n] for n, page in enumerate(source.pages)}
        names = source.Root.Names.Dests.Names if "/Names" in source.Root else []
        for i in range(0, len(names), 2):
            anchor = str(names[i])
            if anchor in part.anchor_pages and anchor not in self.destinations:
                target, *place = names[i + 1]
                self.destinations[anchor] = pikepdf.Array([page_of[target.objgen], *place])

    def finish(self, parts: list[Part]) -> None:
        """The structure tree's parents and numbers, the named destinations, the bookmarks."""
        import pikepdf

        out = self.out
        for element in out.objects:   # what the parts' Document elements held: the joined one's
            if (isinstance(element, pikepdf.Dictionary) and "/P" in element
                    and element.P.objgen in self.replaced):
                element.P = self.document
        nums = pikepdf.Array()
        for n, entry in enumerate(self.page_entries):
            nums.extend([n, entry])
        for n, (annotation, element) in enumerate(self.link_entries,
                                                  start=len(self.page_entries)):
            annotation.StructParent = n
            nums.extend([n, element])
        self.root.ParentTree = out.make_indirect(pikepdf.Dictionary(Nums=nums))
        out.Root.StructTreeRoot = self.root
        if self.destinations:
            flat = pikepdf.Array()
            for anchor in sorted(self.destinations):
                flat.extend([pikepdf.String(anchor), self.destinations[anchor]])
            out.Root.Names = pikepdf.Dictionary(Dests=pikepdf.Dictionary(Names=flat))
        tree = _bookmark_tree(parts)
        if tree:
            outlines = out.make_indirect(pikepdf.Dictionary())
            items, count = _outlines(out, tree, [page.obj for page in out.pages], outlines)
            outlines.Count, outlines.First, outlines.Last = count, items[0], items[-1]
            out.Root.Outlines = outlines

    def save(self, path: Path) -> None:
        import pikepdf

        self.out.save(path, deterministic_id=True, min_version=self.version,
                      object_stream_mode=pikepdf.ObjectStreamMode.generate,
                      fix_metadata_version=False)


def join(parts: list[Part], path: Path) -> Path:
    """Write the documents ``parts`` (in order, each with its PDF) as one PDF to ``path``."""
    import pikepdf

    sources = [pikepdf.open(io.BytesIO(part.pdf)) for part in parts]
    try:
        joined = _Joined(sources[0])
        for part, source in zip(parts, sources, strict=True):
            joined.add(part, source)
        joined.finish(parts)
        joined.save(Path(path))
    finally:
        for source in sources:
            source.close()
    return Path(path)
