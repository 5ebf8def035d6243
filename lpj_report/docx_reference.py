"""The Word document's reference document: styles, page, header and footer made by code.

Layer: render (imports base modules only). :func:`reference_docx` is pandoc's own
``reference.docx`` restyled — A4 with the PDF's margins, Liberation Sans (Arial where it is
missing) and the report's colours as Word styles, Danish as the language, Heading 1 on a new
page — with the status notice in the page header and the page number in the footer. Same
pandoc, same bytes. :mod:`lpj_report.docx` hands it to pandoc.
"""

from __future__ import annotations

import re
import subprocess
import zipfile
from functools import cache
from xml.sax.saxutils import escape as xml_escape

import yaml

from lpj_report.paths import TEMPLATES_DIR

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_HEADER = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/header"
_FOOTER = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer"
_HEADER_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"
_FOOTER_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

#: The house style (templates/static/report.css) in Word's terms.
FONT = "Liberation Sans"
INK, MUTED, ACCENT, RULE = "1A1A1A", "4D4D4D", "0B5C8A", "C8C8C8"
WARN_INK, WARN_BG, WARN_RULE = "5C3D00", "FFF4D6", "B37400"
#: A4 in twentieths of a point, margins as the PDF's (22/20/24/22 mm); text width 168 mm.
PAGE = {"w": 11906, "h": 16838, "top": 1247, "right": 1134, "bottom": 1361, "left": 1247}
TEXT_WIDTH_TWIPS = PAGE["w"] - PAGE["left"] - PAGE["right"]
@cache
def labels() -> dict[str, str]:
    data = yaml.safe_load((TEMPLATES_DIR / "labels.yaml").read_text(encoding="utf-8"))
    return data["docx"]


def pandoc_path() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


def _style(style_id: str, name: str, body: str, kind: str = "paragraph", based: str = "Normal",
           custom: bool = False, extra: str = "") -> str:
    custom_attr = ' w:customStyle="1"' if custom else ""
    based_on = f'<w:basedOn w:val="{based}"/>' if based else ""
    return (f'<w:style w:type="{kind}"{custom_attr} w:styleId="{style_id}">'
            f'<w:name w:val="{name}"/>{based_on}{extra}<w:qFormat/>{body}</w:style>')


def _fonts(size: int | None = None, colour: str | None = None, bold: bool = False,
           italic: bool | None = None, caps: bool = False) -> str:
    parts = [f'<w:rFonts w:ascii="{FONT}" w:hAnsi="{FONT}" w:eastAsia="{FONT}" w:cs="{FONT}"/>']
    if bold:
        parts.append("<w:b/><w:bCs/>")
    if italic is False:
        parts.append('<w:i w:val="0"/><w:iCs w:val="0"/>')
    if caps:
        parts.append("<w:caps/>")
    if colour:
        parts.append(f'<w:color w:val="{colour}"/>')
    if size:
        parts.append(f'<w:sz w:val="{size}"/><w:szCs w:val="{size}"/>')
    return "<w:rPr>" + "".join(parts) + "</w:rPr>"


def _styles() -> dict[str, str]:
    """The styles that replace pandoc's (by id), in the PDF's look."""
    box = (f'<w:pBdr><w:top w:val="single" w:sz="12" w:space="4" w:color="{WARN_RULE}"/>'
           f'<w:left w:val="single" w:sz="12" w:space="4" w:color="{WARN_RULE}"/>'
           f'<w:bottom w:val="single" w:sz="12" w:space="4" w:color="{WARN_RULE}"/>'
           f'<w:right w:val="single" w:sz="12" w:space="4" w:color="{WARN_RULE}"/></w:pBdr>'
           f'<w:shd w:val="clear" w:color="auto" w:fill="{WARN_BG}"/>')
    return {
        "Normal": _style("Normal", "Normal", "<w:pPr><w:spacing w:after=\"120\" w:line=\"269\" "
                         "w:lineRule=\"auto\"/></w:pPr>" + _fonts(20, INK), based="",
                         extra="").replace('<w:style w:type="paragraph"',
                                           '<w:style w:type="paragraph" w:default="1"', 1),
        "BodyText": _style("BodyText", "Body Text",
                           '<w:pPr><w:spacing w:before="0" w:after="120"/></w:pPr>',
                           extra='<w:link w:val="BodyTextChar"/>'),
        "Compact": _style("Compact", "Compact",
                          '<w:pPr><w:spacing w:before="20" w:after="20"/></w:pPr>',
                          based="BodyText", custom=True),
        "Title": _style("Title", "Title",
                        '<w:pPr><w:spacing w:before="2400" w:after="240"/></w:pPr>'
                        + _fonts(68, INK, bold=True), extra='<w:next w:val="BodyText"/>'),
        "Subtitle": _style("Subtitle", "Subtitle", '<w:pPr><w:spacing w:after="480"/></w:pPr>'
                           + _fonts(36, MUTED), based="Title", extra='<w:next w:val="BodyText"/>'
                           ).replace(_fonts(36, MUTED), _fonts(36, MUTED).replace(
                               "</w:rPr>", '<w:b w:val="0"/><w:bCs w:val="0"/></w:rPr>')),
        "Heading1": _style("Heading1", "heading 1",
                           '<w:pPr><w:keepNext/><w:keepLines/><w:pageBreakBefore/>'
                           '<w:spacing w:before="0" w:after="240"/><w:outlineLvl w:val="0"/>'
                           "</w:pPr>" + _fonts(40, ACCENT, bold=True),
                           extra='<w:next w:val="BodyText"/><w:uiPriority w:val="9"/>'),
        "Heading2": _style("Heading2", "heading 2",
                           '<w:pPr><w:keepNext/><w:keepLines/><w:spacing w:before="280" '
                           'w:after="80"/><w:outlineLvl w:val="1"/></w:pPr>'
                           + _fonts(24, INK, bold=True),
                           extra='<w:next w:val="BodyText"/><w:uiPriority w:val="9"/>'),
        "Heading3": _style("Heading3", "heading 3",
                           '<w:pPr><w:keepNext/><w:keepLines/><w:spacing w:before="200" '
                           'w:after="60"/><w:outlineLvl w:val="2"/></w:pPr>'
                           + _fonts(20, INK, bold=True),
                           extra='<w:next w:val="BodyText"/><w:uiPriority w:val="9"/>'),
        "TOCHeading": _style("TOCHeading", "TOC Heading",
                             '<w:pPr><w:outlineLvl w:val="9"/></w:pPr>', based="Heading1",
                             extra='<w:next w:val="BodyText"/><w:uiPriority w:val="39"/>'),
        "TOC1": _style("TOC1", "toc 1", '<w:pPr><w:tabs><w:tab w:val="right" w:leader="dot" '
                       f'w:pos="{TEXT_WIDTH_TWIPS}"/></w:tabs><w:spacing w:before="120" '
                       'w:after="40"/></w:pPr>' + _fonts(bold=True),
                       extra='<w:next w:val="Normal"/><w:uiPriority w:val="39"/>'),
        "TOC2": _style("TOC2", "toc 2", '<w:pPr><w:tabs><w:tab w:val="right" w:leader="dot" '
                       f'w:pos="{TEXT_WIDTH_TWIPS}"/></w:tabs><w:spacing w:before="0" '
                       'w:after="20"/><w:ind w:left="284"/></w:pPr>',
                       extra='<w:next w:val="Normal"/><w:uiPriority w:val="39"/>'),
        "TableofFigures": _style("TableofFigures", "table of figures",
                                 '<w:pPr><w:tabs><w:tab w:val="right" w:leader="dot" '
                                 f'w:pos="{TEXT_WIDTH_TWIPS}"/></w:tabs><w:spacing w:after="40"/>'
                                 '<w:ind w:left="851" w:hanging="851"/></w:pPr>',
                                 extra='<w:next w:val="Normal"/><w:uiPriority w:val="99"/>'),
        "Caption": _style("Caption", "caption", '<w:pPr><w:keepNext/><w:spacing w:before="240" '
                          'w:after="80"/></w:pPr>' + _fonts(20, INK, bold=True, italic=False),
                          extra='<w:next w:val="BodyText"/><w:uiPriority w:val="35"/>'),
        "ImageCaption": _style("ImageCaption", "Image Caption", "", based="Caption",
                               custom=True),
        "TableCaption": _style("TableCaption", "Table Caption",
                               '<w:pPr><w:keepNext/></w:pPr>', based="Caption", custom=True),
        "CaptionedFigure": _style("CaptionedFigure", "Captioned Figure",
                                  '<w:pPr><w:keepNext/><w:spacing w:after="60"/></w:pPr>',
                                  based="Figure", custom=True),
        "Figure": _style("Figure", "Figure", '<w:pPr><w:spacing w:after="60"/></w:pPr>',
                         custom=True),
        "Note": _style("Note", "Note", '<w:pPr><w:spacing w:before="0" w:after="160"/></w:pPr>'
                       + _fonts(17, MUTED), custom=True),
        "Notice": _style("Notice", "Notice", f"<w:pPr>{box}<w:spacing w:before=\"120\" "
                         'w:after="0"/></w:pPr>' + _fonts(20, WARN_INK), custom=True),
        "BoxHeading": _style("BoxHeading", "Box Heading", '<w:pPr><w:keepNext/><w:spacing '
                             'w:before="240" w:after="60"/></w:pPr>'
                             + _fonts(20, ACCENT, bold=True, caps=True), custom=True),
        "Author": _style("Author", "Author", '<w:pPr><w:spacing w:before="240" w:after="60"/>'
                         "</w:pPr>" + _fonts(26, INK, bold=True), custom=True,
                         extra='<w:next w:val="BodyText"/>'),
        "CoverText": _style("CoverText", "Cover Text", '<w:pPr><w:spacing w:after="60"/>'
                            "</w:pPr>" + _fonts(22, INK), custom=True),
        "Header": _style("Header", "header", _fonts(16, WARN_INK, bold=True),
                         extra='<w:uiPriority w:val="99"/>'),
        "Footer": _style("Footer", "footer", '<w:pPr><w:jc w:val="right"/></w:pPr>'
                         + _fonts(18, MUTED), extra='<w:uiPriority w:val="99"/>'),
        "DefinitionTerm": _style("DefinitionTerm", "Definition Term",
                                 '<w:pPr><w:keepNext/><w:spacing w:before="80" w:after="0"/>'
                                 "</w:pPr>" + _fonts(bold=True), custom=True),
        "Definition": _style("Definition", "Definition",
                             '<w:pPr><w:spacing w:after="60"/></w:pPr>', custom=True),
        "Hyperlink": _style("Hyperlink", "Hyperlink",
                            f'<w:rPr><w:color w:val="{ACCENT}"/><w:u w:val="single"/></w:rPr>',
                            kind="character", based="DefaultParagraphFont"),
        "Table": (
            '<w:style w:type="table" w:default="1" w:styleId="Table"><w:name w:val="Table"/>'
            '<w:basedOn w:val="TableNormal"/><w:uiPriority w:val="59"/><w:qFormat/>'
            '<w:pPr><w:spacing w:before="20" w:after="20" w:line="240" w:lineRule="auto"/></w:pPr>'
            + _fonts(18) +
            '<w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblBorders>'
            f'<w:bottom w:val="single" w:sz="4" w:space="0" w:color="{RULE}"/>'
            f'<w:insideH w:val="single" w:sz="4" w:space="0" w:color="{RULE}"/></w:tblBorders>'
            '<w:tblCellMar><w:top w:w="29" w:type="dxa"/><w:left w:w="85" w:type="dxa"/>'
            '<w:bottom w:w="29" w:type="dxa"/><w:right w:w="85" w:type="dxa"/></w:tblCellMar>'
            '</w:tblPr><w:tblStylePr w:type="firstRow"><w:rPr><w:b/><w:bCs/></w:rPr><w:tcPr>'
            f'<w:tcBorders><w:bottom w:val="single" w:sz="12" w:space="0" w:color="{INK}"/>'
            '</w:tcBorders><w:vAlign w:val="bottom"/></w:tcPr></w:tblStylePr></w:style>'),
    }


def _restyle(styles: str) -> str:
    """pandoc's styles.xml with the house styles and Danish as the document language."""
    styles = re.sub(r"<w:docDefaults>.*?</w:docDefaults>", lambda _: (
        "<w:docDefaults><w:rPrDefault><w:rPr>"
        f'<w:rFonts w:ascii="{FONT}" w:eastAsia="{FONT}" w:hAnsi="{FONT}" w:cs="{FONT}"/>'
        '<w:sz w:val="20"/><w:szCs w:val="20"/>'
        '<w:lang w:val="da-DK" w:eastAsia="da-DK" w:bidi="ar-SA"/></w:rPr></w:rPrDefault>'
        '<w:pPrDefault><w:pPr><w:spacing w:after="120"/></w:pPr></w:pPrDefault>'
        "</w:docDefaults>"), styles, count=1, flags=re.S)
    # no theme fonts anywhere: every style that named one takes the house font
    styles = re.sub(r"<w:rFonts\b[^>]*Theme[^>]*/>",
                    f'<w:rFonts w:ascii="{FONT}" w:eastAsia="{FONT}" w:hAnsi="{FONT}" '
                    f'w:cs="{FONT}"/>', styles)
    for style_id, xml in _styles().items():
        pattern = re.compile(r'<w:style\b[^>]*w:styleId="' + style_id + r'"[^>]*>.*?</w:style>',
                             re.S)
        if pattern.search(styles):
            styles = pattern.sub(lambda _, xml=xml: xml, styles, count=1)
        else:
            styles = styles.replace("</w:styles>", xml + "</w:styles>")
    return styles


def _header(notice: str | None) -> bytes:
    run = (f'<w:r><w:t xml:space="preserve">{xml_escape(notice)}</w:t></w:r>' if notice else "")
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:hdr xmlns:w="{_W}">'
            f'<w:p><w:pPr><w:pStyle w:val="Header"/></w:pPr>{run}</w:p></w:hdr>').encode()


def _footer() -> bytes:
    page = xml_escape(labels()["page"])
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:ftr xmlns:w="{_W}">'
            '<w:p><w:pPr><w:pStyle w:val="Footer"/></w:pPr>'
            f'<w:r><w:t xml:space="preserve">{page} </w:t></w:r>'
            '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
            '<w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r>'
            '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p></w:ftr>').encode()


_FONT_ENTRY = (f'<w:font w:name="{FONT}"><w:altName w:val="Arial"/>'
               '<w:panose1 w:val="020B0604020202020204"/><w:charset w:val="00"/>'
               '<w:family w:val="swiss"/><w:pitch w:val="variable"/></w:font>')


@cache
def pandoc_reference() -> bytes:
    """pandoc's default reference.docx (the pinned pypandoc-binary's pandoc)."""
    return subprocess.run([pandoc_path(), "--print-default-data-file", "reference.docx"],
                          check=True, capture_output=True).stdout


@cache
def reference_docx(notice: str | None) -> bytes:
    """The project's reference document: pandoc's, restyled (see the module docstring), with
    ``notice`` in the header of every page and the page number in the footer."""
    with zipfile.ZipFile(_bytes_io(pandoc_reference())) as source:
        names = source.namelist()
        parts = {name: source.read(name) for name in names}
    parts["word/styles.xml"] = _restyle(parts["word/styles.xml"].decode("utf-8")).encode()
    theme = parts["word/theme/theme1.xml"].decode("utf-8")
    theme = re.sub(r'(<a:(?:major|minor)Font>\s*<a:latin typeface=")[^"]*"', rf'\1{FONT}"', theme)
    parts["word/theme/theme1.xml"] = theme.encode()
    fonts = parts["word/fontTable.xml"].decode("utf-8")
    parts["word/fontTable.xml"] = fonts.replace("</w:fonts>", _FONT_ENTRY + "</w:fonts>").encode()
    document = parts["word/document.xml"].decode("utf-8")
    section = (f'<w:sectPr><w:headerReference w:type="default" r:id="rIdLpjHeader"/>'
               '<w:footerReference w:type="default" r:id="rIdLpjFooter"/>'
               '<w:footnotePr><w:numRestart w:val="eachSect"/></w:footnotePr>'
               f'<w:pgSz w:w="{PAGE["w"]}" w:h="{PAGE["h"]}"/>'
               f'<w:pgMar w:top="{PAGE["top"]}" w:right="{PAGE["right"]}" '
               f'w:bottom="{PAGE["bottom"]}" w:left="{PAGE["left"]}" w:header="567" '
               'w:footer="567" w:gutter="0"/><w:cols w:space="708"/></w:sectPr>')
    document, count = re.subn(r"<w:sectPr>.*?</w:sectPr>", lambda _: section, document,
                              flags=re.S)
    if count != 1:
        raise RuntimeError("unexpected reference.docx from pandoc: not exactly one <w:sectPr>")
    parts["word/document.xml"] = document.encode()
    parts["word/header1.xml"] = _header(notice)
    parts["word/footer1.xml"] = _footer()
    rels = parts["word/_rels/document.xml.rels"].decode("utf-8")
    rels = rels.replace("</Relationships>",
                        f'<Relationship Id="rIdLpjHeader" Type="{_HEADER}" Target="header1.xml"/>'
                        f'<Relationship Id="rIdLpjFooter" Type="{_FOOTER}" Target="footer1.xml"/>'
                        "</Relationships>")
    parts["word/_rels/document.xml.rels"] = rels.encode()
    types = parts["[Content_Types].xml"].decode("utf-8")
    types = types.replace("</Types>",
                          f'<Override PartName="/word/header1.xml" ContentType="{_HEADER_TYPE}"/>'
                          f'<Override PartName="/word/footer1.xml" ContentType="{_FOOTER_TYPE}"/>'
                          "</Types>")
    parts["[Content_Types].xml"] = types.encode()
    names += ["word/header1.xml", "word/footer1.xml"]
    return _zip(names, parts)


def _bytes_io(data: bytes):
    import io

    return io.BytesIO(data)


def _zip(names: list[str], parts: dict[str, bytes]) -> bytes:
    """A zip with the entries in ``names`` order, fixed times and modes."""
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name in names:
            fixed = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, parts[name], compresslevel=9)
    return buffer.getvalue()


