"""``lpj build``: figures, HTML, PDF and DOCX of one wave into one folder.

Layer: cli (may import every layer; only lpj_report.cli imports it).

Everything is written to a temporary folder beside the output and moved into place only when
every format has been made, so a failed build leaves nothing half-written. A build of some
formats (``--formats html,pdf``) into a folder an earlier build made keeps that build's files of
the other formats when they were made from the same inputs (data, code, settings, date: the
marker file records them), and removes them otherwise — saying which (:func:`carry_over`).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from lpj_report import cache, cached_build, terminal
from lpj_report.folders import (  # noqa: F401 (re-exported)
    KEEP,
    MARKER,
    refusal,
    replace_folder,
    replaceable,
    stage,
)
from lpj_report.paths import REPORT_DIR

CHART_DIR = "figurer"
NAME = "laering-paa-jobbet"


def build_report(args: argparse.Namespace) -> int:
    from lpj_report import publish

    try:
        formats = parse_formats(args.formats)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    console = terminal.console()
    out = Path(args.out) if args.out else REPORT_DIR / str(args.wave)
    refused = refusal(Path(terminal.shown(out)))
    if refused:
        print(f"error: {refused}", file=sys.stderr)
        return 2
    # the PDF is made in a second process, started now (before the data modules are imported
    # here) so that it imports WeasyPrint while this one loads the data (lpj_report.publish)
    pdf = publish.PdfWorker() if "pdf" in formats else None
    store = cache.Cache(cache.folder_for(getattr(args, "cache_dir", None),
                                         getattr(args, "no_cache", False)))
    try:
        with cache.using(store):
            return _build(args, formats, out, pdf, console)
    finally:
        if pdf is not None:
            pdf.close()


def _build(args: argparse.Namespace, formats: list[str], out: Path, pdf, console) -> int:
    from lpj_report import format as fmt
    from lpj_report import publish, render
    from lpj_report.finding_views import findings_rows
    from lpj_report.lineage import sentences
    from lpj_report.output import EXCEL_CSV, figures_csv, figures_json, write_atomic
    from lpj_report.provenance import build_meta, default_date, git_version, lowered_of
    from lpj_report.report_context import chapters_context
    from lpj_report.workbook import workbook_bytes

    responses = Path(args.responses) if args.responses else None
    build, variables = cached_build.load(args.wave, responses, getattr(args, "min_base", None),
                                         getattr(args, "allow_low_min_base", False), protect)
    project = build.project
    date = render.build_date(default_date(build.wave))
    work = stage(out)
    try:
        with terminal.steps("lpj build", 3) as progress:
            progress.step("figures")
            labels = {"figures": project.figures, "codebook": project.codebook,
                      "lowered": lowered_of(build)}
            write_atomic(work / "figures.csv", figures_csv(build.figures, **labels))
            write_atomic(work / EXCEL_CSV, figures_csv(build.figures, excel=True, **labels))
            progress.step("text and charts")
            context = chapters_context(build, variables, created=date.isoformat(),
                                       build_date=fmt.date_long(date))
            mark_lowered(context, lowered_of(build))
            progress.step(", ".join(f.upper() for f in formats))
            tables = {"figures.json": lambda html: figures_json(
                build.figures, project.figures, build_meta(build),
                findings=findings_rows(build.findings, project.findings),
                lineage=sentences(html)),
                publish.WORKBOOK: lambda _html: workbook_bytes(
                context, build.figures, project.registry, project.codebook)}
            publish.publish(context, work, NAME, formats, files=tables, pdf=pdf)
        inputs = inputs_digest({**build_meta(build), "min_base": args.min_base,
                                "date": date.isoformat(), "code": git_version()})
        write_marker(work, "lpj build", inputs)
        kept, removed = carry_over(out, work, NAME, formats, inputs)
        replace_folder(work, out)
    finally:
        if work.exists():
            shutil.rmtree(work)
    console.print(f"Report for {build.wave.year} ({build.wave.status}) built in "
                  f"{terminal.shown(out)}/:", markup=False)
    for path in sorted(out.iterdir()):
        if path.name == CHART_DIR:
            console.print(f"  {terminal.shown(path)}/ ({len(list(path.iterdir()))} chart files)",
                          markup=False)
        elif path.name != MARKER:
            console.print(f"  {terminal.shown(path)}"
                          + (" (kept from the earlier build)" if path.name in kept else ""),
                          markup=False)
    report_removed(console, removed)
    return 0


def parse_formats(text: str) -> list[str]:
    """``--formats``: comma-separated, any case (``PDF`` = ``pdf``), each once, in the order
    given. Raises ValueError naming an unknown one and the closest known."""
    from lpj_report.publish import FORMATS

    formats = list(dict.fromkeys(f.strip().lower() for f in str(text).split(",") if f.strip()))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        hint = terminal.suggestion(unknown[0], FORMATS)
        raise ValueError(f"unknown format(s) {', '.join(repr(f) for f in unknown)}{hint}; "
                         f"choose from {', '.join(FORMATS)}")
    if not formats:
        raise ValueError(f"no format given; choose from {', '.join(FORMATS)}")
    return formats


def inputs_digest(facts: dict) -> str:
    """A fingerprint of everything a build's files depend on besides the formats chosen."""
    import hashlib
    import json

    text = json.dumps(facts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_marker(work: Path, command: str, inputs: str) -> None:
    (work / MARKER).write_text(f"built by {command}; safe to replace\ninputs {inputs}\n",
                               encoding="utf-8")


def _marker_inputs(folder: Path) -> str:
    try:
        lines = (folder / MARKER).read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    return next((line.split(None, 1)[1] for line in lines if line.startswith("inputs ")), "")


def carry_over(out: Path, work: Path, name: str, formats: list[str],
               inputs: str) -> tuple[list[str], list[str]]:
    """Before ``out`` is replaced by ``work``: the files of the formats not built this time
    (``<name>.docx`` for ``--formats html,pdf``) move into ``work`` when the earlier build had
    the same ``inputs``; otherwise they go with the old folder. Returns (kept, removed) names."""
    kept, removed = [], []
    if not out.is_dir():
        return kept, removed
    from lpj_report.publish import FORMATS

    same = bool(inputs) and _marker_inputs(out) == inputs
    for kind in FORMATS:
        path = out / f"{name}.{kind}"
        if kind in formats or not path.is_file() or (work / path.name).exists():
            continue
        if same:
            path.replace(work / path.name)
            kept.append(path.name)
        else:
            removed.append(path.name)
    return kept, removed


def report_removed(console, removed: list[str]) -> None:
    for filename in removed:
        kind = filename.rsplit(".", 1)[-1]
        console.print(f"  removed {filename}: made by an earlier build from other inputs (data, "
                      f"code, settings or date); rebuild it with --formats {kind}", markup=False)


def mark_lowered(context: dict, lowered: dict[str, int] | None) -> None:
    """A report or edition built with --allow-low-min-base (``lowered``: suppression.lowered)
    says so on every page (render.prepare)."""
    from lpj_report import format as fmt

    if lowered:
        context["meta"]["disclosure_lowered"] = {k: fmt.count(v) for k, v in lowered.items()}


def protect(build, min_base: int | None = None, allow_low: bool = False) -> None:
    """Disclosure control for the annual report (:func:`lpj_report.edition_numbers.
    protect_wave`)."""
    from lpj_report.edition_numbers import protect_wave

    protect_wave(build, min_base, allow_low)
