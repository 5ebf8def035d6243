"""Helpers for the tests of the report's text: builds on altered data, the text of a section,
and the lineage check of a rendered context."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from lpj_report import lineage, render
from lpj_report.derive import LEARNING_ITEMS, apply_derived
from lpj_report.pipeline import Build, Project
from lpj_report.report_context import build_context, words
from lpj_report.wave import Wave

CREATED = "2002-09-01"
BUILD_DATE = "1. september 2002"


def base_build() -> Build:
    return Build.load(Project(), 2002)


def make_context(build: Build, charts: bool = False) -> dict:
    return build_context(build, created=CREATED, build_date=BUILD_DATE, code_version="test",
                         charts=charts)


def altered(base: Build, change=None, meta: dict | None = None) -> Build:
    """A new build whose data are the wave's data changed by ``change(data)`` (in place) and
    derived again, and whose wave metadata are updated by ``meta``."""
    data = base.data.copy()
    if change is not None:
        changed = change(data)      # changes data in place, or returns a new table
        if changed is not None:
            data = changed
    wave = base.wave if meta is None else Wave(base.wave.year, base.wave.folder,
                                               {**base.wave.meta, **meta})
    return Build(base.project, wave, apply_derived(data, base.project.codebook, wave.meta))


def employees(data: pd.DataFrame, **where) -> pd.Series:
    mask = data["rolle"] == "medarbejder"
    for name, key in where.items():
        mask &= data[name] == key
    return mask


def set_learning(data: pd.DataFrame, mask, answer: str) -> None:
    for item in LEARNING_ITEMS:
        data.loc[mask, item] = answer


def shuffle_learning(data: pd.DataFrame, seed: int) -> None:
    """The eight learning items permuted together among the employees (numpy default_rng):
    learning keeps its distribution and becomes unrelated to everything else."""
    rows = np.flatnonzero((data["rolle"] == "medarbejder").to_numpy())
    order = np.random.default_rng(seed).permutation(rows)
    for item in LEARNING_ITEMS:
        values = data[item].to_numpy(copy=True)
        values[rows] = values[order]
        data[item] = pd.Categorical(values, categories=data[item].cat.categories,
                                    ordered=data[item].cat.ordered)


def sections(context: dict) -> list[dict]:
    intro = [context["introduction"]] if context.get("introduction") else []
    return [*intro, *context["chapters"], *context.get("appendices", [])]


def section(context: dict, section_id: str) -> dict:
    return next(s for s in sections(context) if s["id"] == section_id)


def flat(value) -> str:
    """A paragraph, item or string as plain text with ordinary spaces."""
    if isinstance(value, list):
        value = "".join(s["text"] for s in value)
    return str(value).replace("\u00a0", " ")


def texts(sec: dict) -> list[str]:
    out = [*sec.get("intro", []), *sec.get("key_points", [])]
    for block in sec["blocks"]:
        out += block.get("paragraphs", []) + block.get("items", [])
        if block.get("type") == "highlight":
            out.append(f"{block['value']} {block['text']}")
    return [flat(t) for t in out]


def text(context: dict, section_id: str | None = None) -> str:
    secs = sections(context) if section_id is None else [section(context, section_id)]
    return "\n".join(t for s in secs for t in texts(s))


def block(context: dict, section_id: str, *, title: str | None = None,
          figure: str | None = None) -> dict:
    for b in section(context, section_id)["blocks"]:
        if title is not None and b.get("title") == title:
            return b
        if figure is not None and b.get("note", "").split(" ")[-1:] and (
                f"Figur-id: {figure}." in b.get("note", "")):
            return b
    raise KeyError(title or figure)


def finding_ids(context: dict) -> set[str]:
    """The ids of every finding the text states."""
    ids: set[str] = set()
    for sec in sections(context):
        parts = [*sec.get("intro", []), *sec.get("key_points", [])]
        for b in sec["blocks"]:
            parts += b.get("paragraphs", []) + b.get("items", [])
        for part in parts:
            if isinstance(part, list):
                for seg in part:
                    ids |= set(seg["findings"].split())
    return ids


def html_of(context: dict) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        return render.render_html(context, Path(tmp), name="r").read_text(encoding="utf-8")


def unsupported(context: dict, project: Project) -> list[tuple[str, str]]:
    """The sentences of the rendered text that state a comparison without a finding."""
    labels = lineage.codebook_labels(project.codebook, words(), project.figures)
    return lineage.unsupported(html_of(context), labels)


LEARNING = {"laering", "laering_alt", "laering_antal", *LEARNING_ITEMS}


def learning_associations(project: Project) -> set[str]:
    """Findings that relate the employees' learning to something else (a finding about the
    learning items alone, or about learning's own distribution, is not one)."""
    out = set()
    registry = project.registry
    for fid, f in project.findings.findings.items():
        names: set[str] = {n for n in (f.x, f.y) if n}
        for c in f.cells:
            fig = registry[c.figure]
            names |= {fig.variable} | ({fig.breakdown} if c.group != "alle" else set())
        if f.figure:
            fig = registry[f.figure]
            names |= {fig.variable, *fig.filter} | ({fig.breakdown} if f.across == "groups"
                                                   else set())
        names |= set(f.filter)
        if names & LEARNING and names - LEARNING:
            out.add(fid)
    return out
