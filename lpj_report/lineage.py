"""Sentence lineage: which rendered sentences state a finding, and which state a comparison
without one.

Layer: base (imports no other layer).

Every sentence of the report that compares, ranks, quantifies a relation or concludes must come
from a ``{% finding %}`` block (:mod:`lpj_report.chapters`) and so carry the finding's id
(``data-finding`` in the HTML). :func:`unsupported` reads a rendered HTML file and returns the
sentences of running text (paragraphs and list items) that contain one of :data:`WORDS` outside
any finding and outside method text (``data-kind="metode"``) and the source notes under
figures and tables (``p.note``); contents lists (``<nav>``) are headings, not sentences.
Category labels and question wordings (``i mindre grad``, ``Mere tid til de samme opgaver``) are
facts of the questionnaire, not comparisons: they are removed before the words are looked for.

:func:`sentences` lists every sentence with its finding ids, for figures.json and
``lpj build --trace``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html.parser import HTMLParser

#: Words that state a comparison, a ranking, a relation or a conclusion (stems; Danish).
WORDS = (
    r"oftere", r"oftest", r"sjældnere", r"sjældnest", r"flere", r"flest(e)?", r"færre",
    r"færrest(e)?", r"mere", r"mest", r"mindre", r"mindst(e)?", r"større", r"størst(e)?",
    r"højere", r"højest(e)?", r"lavere", r"lavest(e)?", r"øverst(e)?", r"nederst(e)?",
    r"bedre", r"bedst(e)?", r"dårligere", r"ringere", r"ens", r"samme", r"afhænger",
    r"afhængig(e)?", r"betyder", r"betydning", r"hænger\s+(tæt\s+)?sammen", r"sammenhæng(en|e)?",
    r"går\s+sammen\s+med", r"forskel(len|le|lene)?", r"forskellig(e|t)?", r"adskiller",
    r"skiller\s+sig", r"på\s+niveau\s+med", r"tendens(en)?", r"de\s+fleste", r"hovedparten",
    r"størstedelen", r"flertallet", r"fører\s+til", r"skyldes", r"viser,\s+at",
    r"bekræfter", r"stemmer\s+med", r"lige\s+så",
)
#: Fixed expressions that contain such a word but compare nothing (definitions, the
#: questionnaire's categories, "ens" as in "one's").
TERMS = (
    "højeste uddannelse", "mindst én gang", "én eller flere gange", "flere gange",
    "flere svar", "flere svarmuligheder", "på samme niveau", "samme kommune",
    "de samme opgaver", "samme opgaver", "i alle eller de fleste", "ens erfaringer",
    "ens eget", "ens egen", "ens arbejde", "mere end 25 år", "i mindre grad",
    "i høj eller nogen grad", "ikke mindst",
)
_QUOTED = re.compile(r'"[^"]*"|“[^”]*”|»[^«]*«')
_PATTERN = re.compile(r"(?<![\wæøå])(" + "|".join(WORDS) + r")(?![\wæøå])", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?:;])\s+(?=[A-ZÆØÅ0-9\"“(])")
_TEXT_TAGS = {"p", "li"}


class _Reader(HTMLParser):
    """Collects (text, finding ids, kind) runs of every ``<p>`` and ``<li>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str, str]] = []   # (tag, findings, kind)
        self.depth = 0                                  # inside p/li
        self.nav = 0                                    # inside <nav> (contents lists)
        self.blocks: list[list[tuple[str, str, str]]] = []
        self.sections: list[str] = []                   # the section id of each block
        self.section = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "p" and "note" in (a.get("class") or "").split():
            a["data-kind"] = "note"     # a figure's or table's source and method note
        if tag == "nav":
            self.nav += 1
        if tag == "section" and a.get("id"):
            self.section = a["id"]
        if tag in _TEXT_TAGS and not self.nav:
            self.depth += 1
            if self.depth == 1:
                self.blocks.append([])
                self.sections.append(self.section)
        parent = self.stack[-1] if self.stack else ("", "", "")
        findings = " ".join(x for x in (parent[1], a.get("data-finding") or "") if x).strip()
        kind = a.get("data-kind") or parent[2]
        if tag not in ("br", "img", "meta", "link", "input", "hr"):
            self.stack.append((tag, findings, kind))

    def handle_endtag(self, tag):
        while self.stack:
            top = self.stack.pop()[0]
            if top == tag:
                break
        if tag == "nav" and self.nav:
            self.nav -= 1
        if tag in _TEXT_TAGS and self.depth and not self.nav:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth and self.blocks:
            ctx = self.stack[-1] if self.stack else ("", "", "")
            self.blocks[-1].append((data, ctx[1], ctx[2]))


def _runs(html: str) -> list[list[tuple[str, str, str]]]:
    return _read(html).blocks


def _read(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    return reader


def _strip_labels(text: str, labels: list[str]) -> str:
    """``text`` with every label blanked out (longest first where labels overlap)."""
    pattern = _labels_pattern(tuple(labels))
    return pattern.sub(" ", text) if pattern is not None else text


@lru_cache(maxsize=32)
def _labels_pattern(labels: tuple[str, ...]) -> re.Pattern | None:
    wanted = sorted({lab for lab in labels if lab}, key=len, reverse=True)
    if not wanted:
        return None
    return re.compile("|".join(re.escape(lab) for lab in wanted), re.IGNORECASE)


def unsupported(html: str, labels: list[str] | None = None) -> list[tuple[str, str]]:
    """(sentence, word) for every sentence of running text that states a comparison (a word of
    :data:`WORDS`) in text that carries no finding and is not method text. Quoted text (the
    questionnaire's wording), the labels given and :data:`TERMS` are not read."""
    labels = sorted({lab.strip() for lab in [*(labels or []), *TERMS] if len(lab.strip()) > 3},
                    key=len, reverse=True)
    out = []
    for block in _runs(html):
        bare = "".join(text if not findings and not kind else " ¤ "
                       for text, findings, kind in block)
        for sentence in _SENTENCE.split(" ".join(bare.split())):
            m = _PATTERN.search(_strip_labels(_QUOTED.sub(" ", sentence.replace("¤", " ")),
                                              labels))
            if m:
                out.append((sentence.strip(), m.group(1)))
    return out


def sentences(html: str) -> list[dict[str, str]]:
    """Every run of running text that carries findings: ``{section, text, findings}`` in
    reading order (one entry per finding block's sentence or sentences)."""
    out = []
    reader = _read(html)
    for block, section in zip(reader.blocks, reader.sections, strict=True):
        current: dict[str, str] | None = None
        for text, findings, _ in block:
            if not findings:
                current = None
                continue
            if current is not None and current["findings"] == findings:
                current["text"] += text
            else:
                current = {"section": section, "text": text, "findings": findings}
                out.append(current)
    for item in out:
        item["text"] = " ".join(item["text"].split())
    return out


def codebook_labels(codebook, words: dict | None = None, figures=()) -> list[str]:
    """The questionnaire's own phrases: variable and answer labels (as written and with a small
    first letter), the phrase dictionary of the chapters and the figure titles."""
    out: list[str] = []
    for var in codebook.variables.values():
        for text in (var.label, *(c.label for c in var.codes)):
            out += [text, text[:1].lower() + text[1:]]
    for forms in (words or {}).values():
        if isinstance(forms, dict):
            out += [str(v) for v in forms.values()]
    out += [f.title for f in figures]
    return out
