"""Charts made lighter for the PDF: matplotlib's SVG as WeasyPrint draws it with less work.

Layer: render (imports nothing of the project).

:func:`print_charts` rewrites every chart of a report's HTML (its ``data:`` URIs) before
WeasyPrint lays the page out (:func:`lpj_report.render.render_pdf`); the pages look the same.
"""

from __future__ import annotations

import base64
import re

_SVG_NS = "{http://www.w3.org/2000/svg}"
_SVG_URI = re.compile(r'(src="data:image/svg\+xml;base64,)([A-Za-z0-9+/=]+)"')
#: One declaration of a chart's ``style`` attribute as matplotlib writes it: a property, a value
#: without quotes other than single ones, escapes, ``!important``, comments or semicolons.
_SVG_DECLARATION = re.compile(r"\s*([a-z][a-z-]*)\s*:\s*((?:[^;:!\"'\\/{}]|'[^'\\]*')*?)\s*(?:;|$)")
_SVG_STAR_RULE = re.compile(r"\s*\*\s*\{([^{}]*)\}\s*")
_SVG_NO_ROTATION = re.compile(r"rotate\(-?0 -?[0-9.]+ -?[0-9.]+\)")


def _svg_declarations(text: str) -> dict[str, str] | None:
    """The declarations of a ``style`` attribute or rule, or None when one is not plain."""
    found, pos, text = {}, 0, text.strip()
    while pos < len(text):
        match = _SVG_DECLARATION.match(text, pos)
        if match is None or match.end() == pos:
            return None
        found[match.group(1)] = match.group(2)
        pos = match.end()
    return found


def print_svg(svg: str) -> str:
    """The chart ``svg`` (matplotlib's) as WeasyPrint draws the same picture with less work.

    WeasyPrint matches every element of an SVG against the SVG's own stylesheet and parses every
    ``style`` attribute when it draws; matplotlib's SVG has a stylesheet of one rule for every
    element (``*{stroke-linejoin: round; stroke-linecap: butt}``), a ``style`` on each path and
    text, a ``<g id=…>`` around nearly every element and an RDF description. Here the rule and
    the ``style`` attributes become presentation attributes of each element (the rule's values
    below the element's ``style``, above its attributes: the cascade WeasyPrint applies), the
    groups that only carry an id nobody refers to give their children to their parent, the
    description and rotations by 0° go. An SVG that is not of that plain form is returned as it
    is.
    """
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(svg)
    except ET.ParseError:
        return svg
    rule: dict[str, str] = {}
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag == f"{_SVG_NS}metadata":
                parent.remove(child)
            elif child.tag == f"{_SVG_NS}style":
                match = _SVG_STAR_RULE.fullmatch(child.text or "")
                found = _svg_declarations(match.group(1)) if match else None
                if found is None or child.get("type", "text/css") != "text/css":
                    return svg
                rule.update(found)
                parent.remove(child)
    referred = set(re.findall(r"#([^\s\"')]+)", svg))

    def ungroup(parent) -> None:
        children = []
        for child in parent:
            ungroup(child)
            if child.tag == f"{_SVG_NS}g" and set(child.attrib) <= {"id"} \
                    and child.get("id") not in referred:
                children.extend(child)
            else:
                children.append(child)
        parent[:] = children

    ungroup(root)
    for element in root.iter():
        if not element.tag.startswith(_SVG_NS):
            return svg
        own = _svg_declarations(element.attrib.pop("style", ""))
        if own is None or "font" in own:
            return svg
        for name, value in {**rule, **own}.items():
            element.set(name, value)
        if _SVG_NO_ROTATION.fullmatch(element.get("transform", "")):
            del element.attrib["transform"]
        element.tag = element.tag[len(_SVG_NS):]
    root.set("xmlns", _SVG_NS[1:-1])
    return ET.tostring(root, encoding="unicode")


def print_charts(text: str) -> str:
    """Every chart of the HTML ``text`` (a data URI) as :func:`print_svg` makes it."""
    def chart(match: re.Match) -> str:
        svg = print_svg(base64.b64decode(match.group(2)).decode("utf-8"))
        return match.group(1) + base64.b64encode(svg.encode("utf-8")).decode("ascii") + '"'

    return _SVG_URI.sub(chart, text)
