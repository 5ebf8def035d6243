"""Where each figure of the registry appears in a report: its number (``Figur 3``, ``Tabel 2``)
and its chapter, read from the chapter sources without building the report.

Layer: format.

The report numbers its figures and tables in reading order (:mod:`lpj_report.render`): every
``{figure}`` block is the next figure; every ``{table}``, ``{figure_index}``, ``{claims_table}``
and ``{findings_table}`` block the next table. A block names its registry figure with
``figure:``; a table made by hand names the
figures it is made from in its note (``Kilde: figurerne intro.svar og intro.svarprocent``).
A figure shown more than once is placed where it appears first; a figure only quoted in the
text has no number and is placed in the chapter its declaration names (``section: kap2``).

Reading the sources is enough because the fenced blocks do not depend on the data (no block
sits inside a Jinja condition); ``tests/test_diff.py`` checks the numbers against a built
report's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from lpj_report.chapters import read_source
from lpj_report.paths import TEMPLATES_DIR

CHAPTERS_DIR = TEMPLATES_DIR / "chapters"
TABLE_FENCES = ("table", "figure_index", "claims_table", "findings_table")
KIND_WORD = {"figure": "Figur", "table": "Tabel"}
_FENCE = re.compile(r"^```\{(?P<kind>[a-z_]+)\}[ \t]*\n(?P<body>.*?)^```[ \t]*$",
                    re.MULTILINE | re.DOTALL)
_KEY = re.compile(r"^figure:\s*['\"]?(?P<id>[\w.\-]+)", re.MULTILINE)
_HEADING = re.compile(r"^## +(?P<heading>.+?)[ \t]*$", re.MULTILINE)
_NUMBER = re.compile(r"^number:\s*['\"]?(?P<number>[\w.\-]+)", re.MULTILINE)
#: A figure declaration's ``section`` → the id of the chapter that discusses it.
UNPLACED = 1_000_000
SECTION_CHAPTER = {"intro": "indledning", "kap2": "kapitel-2", "kap3": "kapitel-3",
                   "kap4": "kapitel-4", "kap5": "kapitel-5"}


@dataclass(frozen=True)
class Chapter:
    """A part of the report: ``id`` (``kapitel-2``), ``label`` (``Kapitel 2``) and ``title``
    (the front matter's, unrendered: empty when it holds a placeholder)."""

    id: str
    label: str
    title: str

    @property
    def name(self) -> str:
        """``Kapitel 2: Hvor og hvornår medarbejderne lærer``, or the label or title alone."""
        if self.label and self.title:
            return f"{self.label}: {self.title}"
        return self.label or self.title or self.id


@dataclass(frozen=True)
class Place:
    """Where a figure is in the report: ``kind`` figure/table and ``number`` (empty when the
    figure is only quoted in the text), and the chapter."""

    figure: str
    chapter: Chapter
    kind: str = ""
    number: str = ""
    order: int = UNPLACED   # the block's position in reading order

    @property
    def label(self) -> str:
        """``Figur 3`` or ``Tabel 2``; empty for a figure without a number."""
        return f"{KIND_WORD[self.kind]} {self.number}" if self.number else ""


def sources(folder: Path, sections=None) -> list[tuple[Path, tuple[str, ...] | None, bool]]:
    """The chapter sources read, in reading order: an edition's manifest ``sections``
    (:class:`lpj_report.edition_names.Selection`), or every source of the annual report (those
    marked ``unit: kommune`` belong to the editions)."""
    if sections is not None:
        return [(folder / f"{s.source}.md", s.headings, s.intro) for s in sections]
    return [(p, None, True) for p in sorted(folder.glob("[!_]*.md"))
            if read_source(p).meta.get("unit") != "kommune"]


def _chosen_text(text: str, headings: tuple[str, ...] | None, intro: bool) -> str:
    """The part of a source an edition reads: its ``## `` sections named by ``headings`` (and
    the text before the first heading when ``intro``)."""
    if headings is None:
        return text
    marks = list(_HEADING.finditer(text))
    first = marks[0].start() if marks else len(text)
    parts = [text[:first]] if intro else []
    for i, m in enumerate(marks):
        if m["heading"] in headings:
            parts.append(text[m.start():marks[i + 1].start() if i + 1 < len(marks) else len(text)])
    return "".join(parts)


def chapters(folder: Path = CHAPTERS_DIR, sections=None) -> list[Chapter]:
    """The report's parts in reading order (files ``NN_name.md``, not ``_*.md``; an edition's:
    those of its manifest's ``sections``)."""
    out = []
    for path, _, _ in sources(folder, sections):
        meta = read_source(path).meta
        title = str(meta.get("title", ""))
        out.append(Chapter(str(meta.get("id", path.stem)), str(meta.get("label", "")),
                           "" if "{" in title else title))
    return out


def report_places(figures, folder: Path = CHAPTERS_DIR, sections=None) -> dict[str, Place]:
    """Every registry figure's place in the report whose chapters are in ``folder`` (an
    edition's: ``sections`` of its manifest).

    ``figures``: the registry (objects with ``id`` and ``section``). Figures neither shown in
    a block nor mentioned in a table's note get the chapter of their ``section`` (or none)."""
    ids = [f.id for f in figures]
    mention = re.compile(r"(?<![\w.])(" + "|".join(re.escape(i) for i in
                                                     sorted(ids, key=len, reverse=True))
                         + r")(?![\w]|\.\w)") if ids else None
    parts = chapters(folder, sections)
    by_id = {c.id: c for c in parts}
    explicit: dict[str, Place] = {}
    mentioned: dict[str, Place] = {}
    counts = {"figure": 0, "table": 0}
    position = 0
    for (path, headings, intro), chapter in zip(sources(folder, sections), parts, strict=True):
        text = _chosen_text(read_source(path).text, headings, intro)
        for match in _FENCE.finditer(text):
            kind = match["kind"]
            if kind != "figure" and kind not in TABLE_FENCES:
                continue
            kind = "figure" if kind == "figure" else "table"
            counts[kind] += 1
            position += 1
            body = match["body"]
            fixed = _NUMBER.search(body)
            number = fixed["number"] if fixed else str(counts[kind])
            named = _KEY.search(body)
            if named:
                explicit.setdefault(named["id"],
                                    Place(named["id"], chapter, kind, number, position))
            elif mention is not None:
                for fid in dict.fromkeys(m.group(1) for m in mention.finditer(body)):
                    mentioned.setdefault(fid, Place(fid, chapter, kind, number, position))
    out: dict[str, Place] = {}
    for fig in figures:
        place = explicit.get(fig.id) or mentioned.get(fig.id)
        if place is None:
            chapter = by_id.get(SECTION_CHAPTER.get(fig.section, ""))
            place = Place(fig.id, chapter or Chapter("", "", ""))
        out[fig.id] = place
    return out
