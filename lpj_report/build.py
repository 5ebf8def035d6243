"""``lpj build``: figures, HTML, PDF and DOCX of one wave into one folder.

Layer: cli (may import every layer; only lpj_report.cli imports it).

Everything is written to a temporary folder beside the output and moved into place only when
every format has been made, so a failed build leaves nothing half-written.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from lpj_report.folders import MARKER, mark, refusal, replace_folder  # noqa: F401 (re-exported)
from lpj_report.paths import REPORT_DIR

CHART_DIR = "figurer"
NAME = "laering-paa-jobbet"


def build_report(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress

    from lpj_report import format as fmt
    from lpj_report import publish, render
    from lpj_report.finding_views import findings_rows
    from lpj_report.lineage import sentences
    from lpj_report.output import EXCEL_CSV, figures_csv, figures_json, write_atomic
    from lpj_report.pipeline import Build, Project
    from lpj_report.provenance import build_meta, default_date
    from lpj_report.publish import FORMATS
    from lpj_report.report_context import build_context
    from lpj_report.workbook import workbook_bytes

    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        print(f"error: unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}",
              file=sys.stderr)
        return 2
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    out = Path(args.out) if args.out else REPORT_DIR / str(args.wave)
    refused = refusal(out)
    if refused:
        print(f"error: {refused}", file=sys.stderr)
        return 2
    # the PDF is made in a second process, started now so that it imports WeasyPrint while
    # this one loads the data (lpj_report.publish)
    pdf = publish.PdfWorker() if "pdf" in formats else None
    try:
        project = Project()
        build = Build.load(project, args.wave, Path(args.responses) if args.responses else None)
        protect(build, getattr(args, "min_base", None))
        date = render.build_date(default_date(build.wave))
        out.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
        work.chmod(0o755)
        try:
            with Progress(console=console, transient=True) as bar:
                task = bar.add_task("figurer", total=3)
                labels = {"figures": project.figures, "codebook": project.codebook}
                write_atomic(work / "figures.csv", figures_csv(build.figures, **labels))
                write_atomic(work / EXCEL_CSV, figures_csv(build.figures, excel=True, **labels))
                bar.advance(task)
                bar.update(task, description="tekst og diagrammer")
                context = build_context(build, created=date.isoformat(),
                                        build_date=fmt.date_long(date))
                bar.advance(task)
                bar.update(task, description=", ".join(f.upper() for f in formats))
                tables = {"figures.json": lambda html: figures_json(
                    build.figures, project.figures, build_meta(build),
                    findings=findings_rows(build.findings, project.findings),
                    lineage=sentences(html)),
                    publish.WORKBOOK: lambda _html: workbook_bytes(
                    context, build.figures, project.registry, project.codebook)}
                publish.publish(context, work, NAME, formats, files=tables, pdf=pdf)
                bar.advance(task)
            mark(work, "built by lpj build; safe to replace\n")
            replace_folder(work, out)
        finally:
            if work.exists():
                shutil.rmtree(work)
    finally:
        if pdf is not None:
            pdf.close()
    console.print(f"Report for {build.wave.year} ({build.wave.status}) built in {out}/:")
    for path in sorted(out.iterdir()):
        if path.name == CHART_DIR:
            console.print(f"  {path}/ ({len(list(path.iterdir()))} chart files)")
        elif path.name != MARKER:
            console.print(f"  {path}")
    return 0


def protect(build, min_base: int | None = None) -> None:
    """Disclosure control for the annual report: numbers with a base below the minimum
    (data/disclosure.yaml), and those they could be worked back from, are withheld in
    figures.json/csv, tables, charts and text alike (lpj_report.suppression)."""
    from lpj_report import suppression

    config = suppression.load_config(min_base)
    project = build.project
    result = suppression.protect_table(build.figures, project.figures, project.codebook,
                                       config.min_base)
    table = suppression.apply(build.figures, suppression.unit_rows(result, "alle"),
                              config.min_base)
    build.__dict__["figures"] = table   # replaces the cached, unprotected table
