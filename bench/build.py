"""Benchmark: one annual build from cold, warm and after a text edit, against the renderers
alone on the same HTML.

    .venv/bin/python bench/build.py [--wave 2002] [--runs 3] [--kinds cold,warm,edit,weasyprint]

Timed by the wall clock, every run a fresh process as a user starts it (imports included),
the kinds alternated so that a busy machine slows them alike; medians of ``--runs``:

* ``cold``: ``lpj build`` with every format (HTML, PDF, DOCX, chart files, tabeller.xlsx, CSV)
  and an empty build cache (``--cache-dir``, a new folder each run);
* ``warm``: the same with a cache filled by one build before the runs (nothing changed);
* ``edit``: the same warm cache after a one-sentence edit of one chapter (a new sentence each
  run, in a copy of ``templates/chapters``), so the text, the HTML, the PDF and the DOCX are
  made again while data, figures, findings and charts come from the cache;
* ``weasyprint``: WeasyPrint alone, a fresh interpreter rendering the build's HTML to PDF as
  one document (``lpj_report.render.render_pdf_whole``: the same print HTML, paged-media CSS
  and fonts; the build renders it part by part and keeps the parts);
* ``pdf``, ``docx``: ``lpj build --no-cache --formats pdf`` and ``--formats docx``, beside
  WeasyPrint alone and ``pandoc`` alone (``pandoc report.html -o report.docx``) on the same HTML.

It prints times and ratios and asserts nothing (the machine is shared; see the load average).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LPJ = str(Path(sys.executable).with_name("lpj"))
NAME = "laering-paa-jobbet"
PDF_ALONE = ("import sys; from lpj_report import render; "
             "render.render_pdf_whole(sys.argv[1], sys.argv[2])")
#: lpj build with the chapter sources of another folder (argv[1]); the rest of argv is lpj's
EDITED = ("import sys; from pathlib import Path; from lpj_report import cli, report_context; "
          "report_context.CHAPTERS_DIR = Path(sys.argv[1]); sys.exit(cli.main(sys.argv[2:]))")
KINDS = ("cold", "warm", "edit", "weasyprint", "pdf", "docx", "pandoc")


def edited_chapters(folder: Path, n: int) -> Path:
    """A copy of templates/chapters with one new sentence (its own for each ``n``) after the
    first section heading of the first chapter that has one."""
    copy = folder / f"chapters-{n}"
    shutil.copytree(ROOT / "templates" / "chapters", copy)
    for source in sorted(copy.glob("[!_]*.md")):
        lines = source.read_text(encoding="utf-8").split("\n")
        heading = next((i for i, line in enumerate(lines) if line.startswith("## ")), None)
        if heading is not None:
            lines[heading + 1:heading + 1] = ["", f"Dette er prøvesætning nummer {n + 1}."]
            source.write_text("\n".join(lines), encoding="utf-8")
            return copy
    raise SystemExit("no chapter with a section heading to edit")


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wave", default="2002")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help=f"comma-separated, of {', '.join(KINDS)} (default all)")
    args = parser.parse_args(argv)
    chosen = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = [k for k in chosen if k not in KINDS]
    if unknown:
        parser.error(f"unknown kinds {unknown}; choose from {', '.join(KINDS)}")
    env = {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "1030838400")}
    import pypandoc

    pandoc = pypandoc.get_pandoc_path()
    folder = Path(tempfile.mkdtemp(prefix="lpj-bench-build-"))
    build = [LPJ, "build", "--wave", args.wave]
    try:
        reference = folder / "reference"
        warm_cache = folder / "warm-cache"
        # the HTML for the renderers alone, and the warm cache filled (untimed)
        subprocess.run([*build, "--out", str(reference), "--cache-dir", str(warm_cache)],
                       cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        html = reference / f"{NAME}.html"
        for n in range(args.runs):
            edited_chapters(folder, n)
        commands = {
            "cold": lambda n: [*build, "--out", str(folder / f"cold-{n}"),
                               "--cache-dir", str(folder / f"cold-cache-{n}")],
            "warm": lambda n: [*build, "--out", str(folder / f"warm-{n}"),
                               "--cache-dir", str(warm_cache)],
            "edit": lambda n: [sys.executable, "-c", EDITED, str(folder / f"chapters-{n}"),
                               *build[1:], "--out", str(folder / f"edit-{n}"),
                               "--cache-dir", str(warm_cache)],
            "weasyprint": lambda n: [sys.executable, "-c", PDF_ALONE, str(html),
                                     str(folder / f"alone-{n}.pdf")],
            "pdf": lambda n: [*build, "--out", str(folder / f"pdf-{n}"), "--no-cache",
                              "--formats", "pdf"],
            "docx": lambda n: [*build, "--out", str(folder / f"docx-{n}"), "--no-cache",
                               "--formats", "docx"],
            "pandoc": lambda n: [pandoc, str(html), "--from", "html", "--to", "docx",
                                 "--output", str(folder / f"alone-{n}.docx")],
        }
        times: dict[str, list[float]] = {kind: [] for kind in chosen}
        for n in range(args.runs):
            for kind in chosen:
                times[kind].append(_timed(commands[kind](n), env))
        median = {kind: statistics.median(values) for kind, values in times.items()}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"annual build {args.wave}: medians of {args.runs} alternated runs, fresh processes; "
          f"{_cores()} cores, load average {load:.1f}")
    for kind, value in median.items():
        spread = ", ".join(f"{t:.2f}" for t in times[kind])
        print(f"  {kind:<12} {value:7.2f} s   ({spread})")
    ratios = [
        ("cold", "weasyprint", "cold build / WeasyPrint alone", "issue 11 target: within 2"),
        ("warm", "weasyprint", "warm build / WeasyPrint alone", "target: within 1,5"),
        ("warm", "cold", "warm build / cold build", "target: within 0,15"),
        ("edit", "cold", "one-chapter edit / cold build", "target: within 0,35"),
        ("edit", "weasyprint", "one-chapter edit / WeasyPrint alone", ""),
        ("pdf", "weasyprint", "build --formats pdf / WeasyPrint alone", ""),
        ("docx", "pandoc", "build --formats docx / pandoc alone", ""),
    ]
    shown = [r for r in ratios if r[0] in median and r[1] in median]
    if shown:
        print("ratios:")
    for top, bottom, label, target in shown:
        note = f"   ({target})" if target else ""
        print(f"  {label:<40} {median[top] / median[bottom]:5.2f}{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
