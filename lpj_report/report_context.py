"""Assemble the report context (docs/report-context.md) from a build.

The Danish text lives in ``templates/chapters/*.yaml``: each file is one section (introduction,
chapter or appendix) whose strings are small Jinja templates. They are rendered here against the
view model — ``F`` (figures, :mod:`lpj_report.content`), ``C`` (claims and their tests), ``W``
(survey facts) — in a strict environment whose filters are :data:`lpj_report.format.FILTERS`.
The strings come out as plain text; the HTML template escapes them.
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
    FigureView,
    alt_text,
    build_views,
    chart_svg,
    table_of,
)
from lpj_report.paths import ROOT, TEMPLATES_DIR
from lpj_report.stats import TestResult, test_claim

CHAPTERS_DIR = TEMPLATES_DIR / "chapters"
TEST_NAMES = {"chi2": "χ²-test", "spearman": "Spearmans rangkorrelation",
              "two_proportions": "test af to andele"}


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


def claim_view(claim, result: TestResult) -> ClaimView:
    p = result.p_value
    p_text = "p < 0,001" if p < 0.001 else "p = " + fmt.number(p, 3)
    return ClaimView(id=claim.id, statement=claim.statement, holds=result.holds,
                     significant=p < claim.alpha, test=TEST_NAMES.get(result.test, result.test),
                     p=p_text, n=fmt.count(result.n), expect=claim.expect)


@cache
def text_environment() -> jinja2.Environment:
    """Strict Jinja for the chapter strings. Output is plain text, escaped later by the HTML
    template, so escaping here would escape twice."""
    env = jinja2.Environment(  # noqa: S701 - plain text; report.html.j2 autoescapes it
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)
    env.filters.update(fmt.FILTERS)
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
    block = {"type": raw["type"], "title": raw.get("title") or view.title,
             "table": table_of(view), "note": raw.get("note", "")}
    block["note"] = block["note"] or f"Kilde: {view.population}, {view.base}. Figur-id: {fid}."
    if raw["type"] == "figure":
        svg = chart_svg(view, fig)
        if svg is None:
            raise TemplateError(f"{where}: figure {fid} has no chart type (use type: table)")
        block["svg"] = svg
        block["alt"] = raw.get("alt") or alt_text(view)
    return block


def section(path: Path, variables: dict[str, Any], views: dict[str, FigureView],
            registry: dict) -> dict:
    """One section from its YAML template: strings rendered, figure blocks built."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    where = path.name
    blocks = []
    for i, block in enumerate(raw.get("blocks") or []):
        bwhere = f"{where}: blocks[{i}]"
        if "when" in block and _render(block["when"], variables, bwhere) != "True":
            continue
        block = {k: v for k, v in block.items() if k != "when"}
        if block.get("type") in ("figure", "table") and "figure" in block:
            texts = _render_all({k: v for k, v in block.items() if k not in ("figure", "type")},
                                variables, bwhere)
            blocks.append(_figure_block({**block, **texts}, views, registry, bwhere))
        else:
            blocks.append(_render_all(block, variables, bwhere))
    out = {k: _render_all(v, variables, f"{where}.{k}") for k, v in raw.items()
           if k not in ("blocks", "kind", "order")}
    out["blocks"] = blocks
    return out


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
    published = project.published(build.wave.year)
    claims = {c.id: claim_view(c, test_claim(build.data, c, project.populations,
                                             project.codebook)) for c in published.claims}
    variables = {"F": views, "C": claims, "W": wave_facts(build), **(extra or {})}
    parts: dict[str, list[dict]] = {"introduction": [], "chapter": [], "appendix": []}
    for path in sorted(CHAPTERS_DIR.glob("*.yaml")):
        kind = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("kind", "chapter")
        parts[kind].append(section(path, variables, views, project.registry))
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
