"""Assemble the report context (docs/report-context.md) from a build.

The Danish text lives in ``templates/chapters/*.yaml``: each file is one section (introduction,
chapter or appendix) whose strings are small Jinja templates. They are rendered here against the
view model — ``F`` (figures, :mod:`lpj_report.content`), ``C`` (claims and their tests), ``W``
(survey facts) — in a strict environment whose filters are :data:`lpj_report.format.FILTERS`.
The strings come out as plain text; the HTML template escapes them.

What a chapter file may use besides the block types of docs/report-context.md:

* ``O`` — Danish phrases per key from ``templates/chapters/_ord.yaml`` (files starting with
  ``_`` are not sections), with the helpers ``group_names(values, form)``,
  ``category_names(values, form)``, ``group_list``/``category_list`` (with the values) and
  ``name_of(key, form)``; filters ``lcfirst`` and ``ucfirst`` besides those of ``format``.
* Comparative words come from the computed orders of :class:`lpj_report.content.FigureView`
  (``highest``, ``lowest``, ``top_groups``, ``top_categories``, ``place``, ``Value.vs``), which
  decide ties on the printed values.
* ``when:`` on a block — an expression; the block is left out unless it renders ``True``.
* ``items_from:`` on a list or fact box — items from a computed order:
  ``{figure, group, top, numbered, exclude}`` ranks the categories of a group,
  ``{figure, category, …}`` the groups on one category, ``{wave: key, suffix}`` a survey fact.
* figure and table blocks naming a ``figure:`` may choose what is shown: ``categories``,
  ``category`` (one value per group), ``labels`` (shorter legend labels), ``sort``; tables
  also ``transpose``, ``table_categories`` and ``base_label``.
* ``type: figure_index`` (``sections: [...]``) — a table of the registry's figures: title, id,
  who is counted, the statistic and the base n; ``type: claims_table`` — every tested claim.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import yaml

from lpj_report import __version__
from lpj_report import format as fmt
from lpj_report.content import (
    SUPPRESSED,
    FigureView,
    alt_text,
    build_views,
    chart_svg,
    table_of,
)
from lpj_report.paths import ROOT, TEMPLATES_DIR
from lpj_report.stats import TestResult, test_claim
from lpj_report.trend import attach, previous_table, significant_changes

CHAPTERS_DIR = TEMPLATES_DIR / "chapters"
WORDS_FILE = CHAPTERS_DIR / "_ord.yaml"
TEST_NAMES = {"chi2": "χ²-test", "spearman": "Spearmans rangkorrelation",
              "two_proportions": "test af to andele"}
#: Keys of a figure or table block that choose what its chart or table shows (content.py).
CHART_OPTIONS = ("categories", "category", "sort", "labels")
TABLE_OPTIONS = {"table_categories": "categories", "transpose": "transpose",
                 "base_label": "base_label", "labels": "labels"}


class TemplateError(ValueError):
    """A chapter template refers to something the build does not have."""


@dataclass(frozen=True)
class ClaimView:
    """A claim's test for the text: ``holds`` decides the wording; ``p`` is ``p = 0,003``."""

    id: str
    statement: str
    holds: bool
    significant: bool
    test: str
    p: str
    n: str
    expect: str
    alpha: str = ""
    where: str = ""


def claim_view(claim, result: TestResult) -> ClaimView:
    p = result.p_value
    p_text = "p < 0,001" if p < 0.001 else "p = " + fmt.number(p, 3)
    return ClaimView(id=claim.id, statement=claim.statement, holds=result.holds,
                     significant=p < claim.alpha, test=TEST_NAMES.get(result.test, result.test),
                     p=p_text, n=fmt.count(result.n), expect=claim.expect,
                     alpha=fmt.number(claim.alpha, 2), where=getattr(claim, "where", "") or "")


STATISTIC_NAMES = {"share": "andel", "multi_share": "andel, flere svar mulige",
                   "mean": "gennemsnit", "count": "antal", "response_rate": "svarprocent"}


def _population_text(fig, codebook) -> str:
    """Who a figure counts, in Danish: the population and any extra filter."""
    from lpj_report.content import POPULATION_LABELS

    text = POPULATION_LABELS.get(fig.population, fig.population)
    for name, keys in fig.filter.items():
        var = codebook[name]
        rest = [k for k in var.keys if k not in keys]
        if len(keys) > 3 and len(rest) <= 2:
            text += ", undtagen " + fmt.join_words([lcfirst(var.label_of(k)) for k in rest], "og")
        else:
            text += ", " + _phrase("variabel", name, lcfirst(var.label)) + ": " + fmt.join_words(
                [lcfirst(var.label_of(k)) for k in keys], "eller")
    return text


def figure_index(block: dict, views: dict[str, FigureView], registry: dict,
                 variables: dict[str, Any], where: str) -> dict:
    """A table block listing every registered figure (or those of ``sections``): title, id,
    who is counted, the statistic and the base n of the whole population."""
    codebook = variables["_codebook"]
    sections = block.get("sections")
    rows = []
    for fid, fig in registry.items():
        if sections and fig.section not in sections:
            continue
        statistic = STATISTIC_NAMES.get(fig.statistic, fig.statistic)
        if fig.breakdown:
            statistic += " fordelt på " + _phrase("variabel", fig.breakdown,
                                                  lcfirst(codebook[fig.breakdown].label))
        base = fmt.count(views[fid].base_n) if fid in views else "–"
        rows.append([fig.title, fid, _population_text(fig, codebook), statistic, base])
    if not rows:
        raise TemplateError(f"{where}: no figures for sections {sections}")
    return _table_block(block, variables, where, "Figuroversigt",
                        ["Figur", "Id", "Hvem tælles", "Statistik", "Antal svar"], rows)


def claims_table(block: dict, variables: dict[str, Any], where: str) -> dict:
    """A table block with every tested claim: the statement, the test, n, p and the result."""
    claims = variables["C"]
    only = block.get("claims")
    rows = []
    for cid, c in claims.items():
        if only and cid not in only:
            continue
        result = "holder" if c.holds else "holder ikke"
        p = c.p.removeprefix("p = ").removeprefix("p ").replace("< ", "<\u00a0")
        rows.append([c.statement, c.test, c.n, p, result])
    return _table_block(block, variables, where, "Udsagn og test",
                        ["Udsagn", "Test", "Antal svar", "p", "Resultat"], rows)


def _table_block(block: dict, variables: dict[str, Any], where: str, title: str,
                 columns: list[str], rows: list[list[str]]) -> dict:
    """A generated table block; its title and note may be given (as templates) in the block."""
    texts = _render_all({k: v for k, v in block.items()
                         if k in ("title", "note", "number")}, variables, where)
    return {"type": "table", "title": texts.get("title") or title,
            "note": texts.get("note", ""), "table": {"columns": columns, "rows": rows}}


def lcfirst(text: str) -> str:
    """A label inside a sentence: first letter lower-cased unless the word is an abbreviation
    (``Opbakning fra kolleger`` → ``opbakning fra kolleger``; ``HF-uddannelse`` stays)."""
    text = str(text)
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def ucfirst(text: str) -> str:
    """A phrase at the start of a sentence: ``i dagplejen`` → ``I dagplejen``."""
    text = str(text)
    return text[:1].upper() + text[1:]


@cache
def words() -> dict[str, dict[str, str]]:
    """Danish phrases per key (``templates/chapters/_ord.yaml``): how a group is named in a
    sentence ("i dagplejen", "dagplejerne")."""
    if not WORDS_FILE.exists():
        return {}
    return yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8")) or {}


def _phrase(form: str, key: str, fallback: str) -> str:
    return (words().get(form) or {}).get(key) or fallback


def group_names(values, form: str = "navn", conjunction: str = "og") -> str:
    """The groups of ``values`` (content.Value) named by ``form`` of _ord.yaml, joined in Danish:
    ``group_names(F[id].highest('hoej'), 'sted_i')`` → ``i fritidsordninger og fritidsklubber``.
    Without a phrase the label is used inside the sentence (``form='label'``: as it is)."""
    return fmt.join_words([_phrase(form, v.group, v.group_label if form == "label"
                                   else lcfirst(v.group_label)) for v in values], conjunction)


def category_names(values, form: str = "navn", conjunction: str = "og") -> str:
    """The categories of ``values`` named by ``form`` of _ord.yaml (default: the label in a
    sentence; ``form='label'``: as it is), joined in Danish."""
    return fmt.join_words([_phrase(form, v.category, v.label if form == "label"
                                   else lcfirst(v.label)) for v in values], conjunction)


def category_list(values, form: str = "navn", conjunction: str = "og") -> str:
    """The categories of ``values`` with their values: ``opbakning fra kolleger (40 %),
    udfordrende arbejdsopgaver (37 %) og egen nysgerrighed (34 %)``."""
    return fmt.join_words([f"{_phrase(form, v.category, lcfirst(v.label))} ({v.text})"
                           for v in values], conjunction)


def group_list(values, form: str = "navn", conjunction: str = "og") -> str:
    """The groups of ``values`` with their values: ``i dagplejen (57 %) og på skolerne (50 %)``."""
    return fmt.join_words([f"{_phrase(form, v.group, lcfirst(v.group_label))} ({v.text})"
                           for v in values], conjunction)


def name_of(key: str, form: str = "navn") -> str:
    """One key's phrase (``name_of('dagpleje', 'i')`` → ``i dagplejen``)."""
    return _phrase(form, key, key)


@cache
def text_environment() -> jinja2.Environment:
    """Strict Jinja for the chapter strings. Output is plain text, escaped later by the HTML
    template, so escaping here would escape twice."""
    env = jinja2.Environment(  # plain text; report.html.j2 autoescapes it
        undefined=jinja2.StrictUndefined, keep_trailing_newline=False,
        autoescape=False)  # noqa: S701
    env.filters.update(fmt.FILTERS)
    env.filters["lcfirst"] = lcfirst
    env.filters["ucfirst"] = ucfirst
    env.globals.update(group_names=group_names, category_names=category_names, name_of=name_of,
                       category_list=category_list, group_list=group_list)
    return env


def _render(text: str, variables: dict[str, Any], where: str) -> str:
    try:
        out = text_environment().from_string(text).render(variables)
    except jinja2.TemplateError as err:
        raise TemplateError(f"{where}: {err}") from None
    return re.sub(r"\s+", " ", out).strip()


def _render_all(value: Any, variables: dict[str, Any], where: str) -> Any:
    if isinstance(value, str):
        return _render(value, variables, where)
    if isinstance(value, list):
        rendered = [_render_all(v, variables, f"{where}[{i}]") for i, v in enumerate(value)]
        return [r for r in rendered if r != ""]
    if isinstance(value, dict):
        return {k: _render_all(v, variables, f"{where}.{k}") for k, v in value.items()}
    return value


def _figure_block(raw: dict, views: dict[str, FigureView], registry: dict, where: str) -> dict:
    fid = raw["figure"]
    if fid not in views:
        raise TemplateError(f"{where}: unknown figure {fid!r}")
    view, fig = views[fid], registry[fid]
    options = {k: raw[k] for k in CHART_OPTIONS if k in raw}
    table_options = {arg: raw[k] for k, arg in TABLE_OPTIONS.items() if k in raw}
    try:
        table = table_of(view, **table_options)
    except KeyError as err:
        raise TemplateError(f"{where}: figure {fid} has no category {err}") from None
    block = {"type": raw["type"], "title": raw.get("title") or view.title,
             "table": table, "note": raw.get("note", ""), "figure": fid}
    block["note"] = block["note"] or f"Kilde: {view.population}, {view.base}. Figur-id: {fid}."
    if any(SUPPRESSED in cell for row in table["rows"] for cell in row):
        block["note"] += (f" {SUPPRESSED}: tallet vises ikke, fordi det bygger på for få svar "
                          "eller ville kunne regnes ud fra et sådant tal.")
    if raw["type"] == "figure":
        try:
            svg = chart_svg(view, fig, options)
        except (KeyError, ValueError) as err:
            raise TemplateError(f"{where}: figure {fid}: {err}") from None
        if svg is None:
            raise TemplateError(f"{where}: figure {fid} has no chart type (use type: table)")
        block["svg"] = svg
        block["alt"] = raw.get("alt") or alt_text(view, options)
    return block


def ranked_items(spec: dict, views: dict[str, FigureView], variables: dict[str, Any],
                 where: str) -> list[str]:
    """List items from a figure's computed order (``items_from`` of a list or fact box):
    ``{figure, group, top}`` ranks the categories of a group, ``{figure, category, top}`` the
    groups on one category; ``exclude`` leaves keys out; ``numbered`` prefixes the place (tied
    values share a place). Each item is ``Label (value)``. ``{wave: key, suffix}`` lists a survey
    fact instead (``W.municipalities``)."""
    if "wave" in spec:
        return [f"{item}{spec.get('suffix', '')}" for item in variables["W"][spec["wave"]]]
    fid = spec.get("figure")
    if fid not in views:
        raise TemplateError(f"{where}: unknown figure {fid!r}")
    view = views[fid]
    exclude = tuple(spec.get("exclude") or ())
    top = int(spec.get("top", 0)) or None
    by_group = "category" in spec
    if by_group:
        values = view.groups_by(spec["category"], exclude)
    else:
        values = view.categories_by(spec.get("group", "alle"), exclude)
    if top is not None and values:
        values = [v for v in values if v.printed >= values[min(top, len(values)) - 1].printed]
    items = []
    for v in values:
        place = 1 + sum(1 for w in values if w.printed > v.printed)
        prefix = f"{place}. " if spec.get("numbered") else ""
        items.append(f"{prefix}{v.group_label if by_group else v.label} ({v.text})")
    if not items:
        raise TemplateError(f"{where}: figure {fid} gives no items")
    return items


def section(path: Path, variables: dict[str, Any], views: dict[str, FigureView],
            registry: dict) -> dict | None:
    """One section from its YAML template: strings rendered, figure blocks built."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    where = path.name
    if "when" in raw and _render(raw["when"], variables, where) != "True":
        return None  # a section only some builds have (e.g. development since the last wave)
    blocks = []
    for i, block in enumerate(raw.get("blocks") or []):
        bwhere = f"{where}: blocks[{i}]"
        if "when" in block and _render(block["when"], variables, bwhere) != "True":
            continue
        block = {k: v for k, v in block.items() if k != "when"}
        if block.get("type") == "figure_index":
            blocks.append(figure_index(block, views, registry, variables, bwhere))
            continue
        if block.get("type") == "claims_table":
            blocks.append(claims_table(block, variables, bwhere))
            continue
        if "items_from" in block:
            spec = block.pop("items_from")
            head = _render_all(block.get("items") or [], variables, bwhere)
            rest = _render_all(block, variables, bwhere)
            rest["items"] = head + ranked_items(spec, views, variables, bwhere)
            blocks.append(rest)
            continue
        if block.get("type") in ("figure", "table") and "figure" in block:
            texts = _render_all({k: v for k, v in block.items() if k not in ("figure", "type")},
                                variables, bwhere)
            blocks.append(_figure_block({**block, **texts}, views, registry, bwhere))
        else:
            blocks.append(_render_all(block, variables, bwhere))
    out = {k: _render_all(v, variables, f"{where}.{k}") for k, v in raw.items()
           if k not in ("blocks", "kind", "order", "when")}
    out["blocks"] = blocks
    return out


def claims_for(build) -> list:
    """The statements of association the text is worded around, tested on this wave's data.

    They are the publication's claims (``data/published/<year>/``). A wave without published
    claims of its own (a later or fictitious wave, real data dropped in) is tested against the
    claims of the year it follows (``targets_from``, then ``predecessor``), so that the same
    sentences are decided by the same tests on the new data."""
    project, meta = build.project, build.wave.meta
    for year in (build.wave.year, meta.get("targets_from"), meta.get("predecessor")):
        if year:
            claims = project.published(int(year)).claims
            if claims:
                return list(claims)
    return []


def git_version() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"lpj-report {__version__}"
    return f"lpj-report {__version__} (git {rev})"


def build_context(build, *, created: str, build_date: str, code_version: str | None = None,
                  extra: dict[str, Any] | None = None) -> dict:
    """The whole report context for one build (see docs/report-context.md)."""
    from lpj_report.wave import sha256

    project = build.project
    views = build_views(project.figures, build.figures, project.codebook)
    trend = previous_table(build)
    if trend is not None:
        attach(views, *trend)
    claims = {c.id: claim_view(c, test_claim(build.data, c, project.populations,
                                             project.codebook)) for c in claims_for(build)}
    year_before = trend[0] if trend is not None else ""
    variables = {"F": views, "C": claims, "W": wave_facts(build), "O": words(),
                 "Y": {"year": year_before, "changes": significant_changes(views)},
                 "_codebook": project.codebook, **(extra or {})}
    parts: dict[str, list[dict]] = {"introduction": [], "chapter": [], "appendix": []}
    for path in sorted(CHAPTERS_DIR.glob("[!_]*.yaml")):
        kind = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("kind", "chapter")
        part = section(path, variables, views, project.registry)
        if part is not None:
            parts[kind].append(part)
    meta = {
        "title": "Læring på jobbet",
        "subtitle": "– et overblik",
        "publisher": "KL og KTO",
        "edition": f"Genberegnet udgave, spørgeskemaundersøgelsen {build.wave.year}",
        "status": build.wave.status,
        "created": created,
        "provenance": {
            "data_file": build.wave.responses_path.name,
            "data_sha256": sha256(build.wave.responses_path),
            "codebook_version": project.codebook.version,
            "code_version": code_version or git_version(),
            "build_date": build_date,
        },
    }
    context = {"meta": meta, "chapters": parts["chapter"], "appendices": parts["appendix"]}
    if parts["introduction"]:
        context["introduction"] = parts["introduction"][0]
    return context


def wave_facts(build) -> dict[str, Any]:
    """Survey facts for the text: sent, returned and rates per role, the municipalities."""
    meta = build.wave.meta
    sent = meta.get("sent") or {}
    codebook = build.project.codebook
    kommune = codebook["kommune"]
    present = [k for k in kommune.keys if (build.data["kommune"] == k).any()]
    return {
        "year": str(build.wave.year),
        "status": build.wave.status,
        "reconstruction": build.wave.status == "reconstruction",
        "fictitious": build.wave.status == "fictitious",
        "sent_total": fmt.count(sum(sent.values())),
        "sent": {role: fmt.count(n) for role, n in sent.items()},
        "municipalities": [kommune.label_of(k) for k in present],
        "municipality_count": fmt.count(len(present)),
        "fieldwork": str(meta.get("fieldwork", "")),
    }
