"""A PDF's navigation and tagging as plain data, pages named by their number (for comparing two
PDFs whose object numbers differ): bookmarks, named destinations, link annotations, the
structure tree with its parent tree, the catalogue's entries and the document information."""

from __future__ import annotations

from pathlib import Path

import pikepdf


def _number(value) -> object:
    return round(float(value), 3) if isinstance(value, (int, float, pikepdf.Object)) \
        and not isinstance(value, (pikepdf.Dictionary, pikepdf.Array)) else value


def _place(array, pages: dict) -> tuple:
    target, kind, *rest = array
    return (pages[target.objgen], str(kind), *(_number(x) for x in rest))


def _outline(item, pages: dict) -> list:
    found = []
    while item is not None:
        kids = _outline(item.get("/First"), pages)
        found.append((str(item.Title), _place(item.Dest, pages), int(item.Count), kids))
        item = item.get("/Next")
    return found


def _element(element, pages: dict, seen: dict) -> tuple:
    """A structure element as (type, page, kids): marked-content ids as numbers, object
    references as ("annotation", its page), elements recursively."""
    kids = element.get("/K", pikepdf.Array())
    if not isinstance(kids, pikepdf.Array):
        kids = [kids]
    shown = []
    for kid in kids:
        if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/OBJR":
            shown.append(("annotation", pages.get(kid.Pg.objgen) if "/Pg" in kid else None))
        elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
            shown.append(("mcr", int(kid.MCID)))
        elif isinstance(kid, pikepdf.Dictionary):
            seen[kid.objgen] = len(seen)
            shown.append(_element(kid, pages, seen))
        else:
            shown.append(int(kid))
    page = pages.get(element.Pg.objgen) if "/Pg" in element else None
    extra = tuple((key, str(element[key])) for key in ("/Alt", "/ActualText", "/Lang", "/T")
                  if key in element)
    return (str(element.S), page, extra, tuple(shown))


def structure(path: Path) -> dict:
    """Everything a reader, a screen reader or a link uses, independent of object numbers."""
    pdf = pikepdf.open(path)
    pages = {page.obj.objgen: n for n, page in enumerate(pdf.pages)}
    seen: dict = {}
    root = pdf.Root.StructTreeRoot
    tree = [_element(kid, pages, seen) for kid in root.K]
    nums = root.ParentTree.Nums
    parent_tree = []
    for i in range(0, len(nums), 2):
        value = nums[i + 1]
        if isinstance(value, pikepdf.Array):
            parent_tree.append((int(nums[i]), tuple(seen.get(x.objgen) for x in value)))
        else:
            parent_tree.append((int(nums[i]), seen.get(value.objgen)))
    links = []
    for n, page in enumerate(pdf.pages):
        links.append((n, int(page.obj.StructParents), str(page.obj.get("/Tabs")),
                      tuple((tuple(_number(x) for x in a.Rect), str(a.get("/Dest", "")),
                             str(a.A.URI) if "/A" in a else "", int(a.StructParent),
                             str(a.get("/Contents", "")))
                            for a in page.obj.get("/Annots", []))))
    dests = pdf.Root.Names.Dests.Names if "/Names" in pdf.Root else []
    destinations = [(str(dests[i]), _place(dests[i + 1], pages)) for i in range(0, len(dests), 2)]
    outlines = _outline(pdf.Root.Outlines.get("/First"), pages) if "/Outlines" in pdf.Root else []
    catalog = {key: (pdf.Root[key].is_indirect, bytes(pdf.Root[key].unparse(resolved=True)))
               for key in ("/Lang", "/ViewerPreferences", "/MarkInfo") if key in pdf.Root}
    return {"pages": len(pdf.pages), "tree": tree, "parent tree": parent_tree, "links": links,
            "destinations": destinations, "outlines": outlines, "catalog": catalog,
            "metadata": pdf.Root.Metadata.read_bytes() if "/Metadata" in pdf.Root else b"",
            "info": {str(k): str(v) for k, v in pdf.docinfo.items()},
            "version": pdf.pdf_version}
