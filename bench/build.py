"""Benchmark: one annual build against the renderers alone, on the same HTML.

    .venv/bin/python bench/build.py [--wave 2002] [--runs 3]

Timed by the wall clock, every run a fresh process as a user starts it (imports included),
the kinds alternated so that a busy machine slows them alike; medians of ``--runs``:

* ``lpj build`` with every format (HTML, PDF, DOCX, chart files, tabeller.xlsx, CSV);
* WeasyPrint alone: a fresh interpreter rendering the build's HTML to PDF
  (``lpj_report.render.render_pdf``: the same paged-media CSS and fonts);
* ``lpj build --formats pdf`` and ``--formats docx`` beside WeasyPrint alone and pandoc alone
  (``pandoc report.html -o report.docx``) on the same HTML.

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
PDF_ALONE = "import sys; from lpj_report import render; render.render_pdf(sys.argv[1], sys.argv[2])"


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
    args = parser.parse_args(argv)
    env = {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "1030838400")}
    import pypandoc

    pandoc = pypandoc.get_pandoc_path()
    folder = Path(tempfile.mkdtemp(prefix="lpj-bench-build-"))
    try:
        reference = folder / "reference"
        subprocess.run([LPJ, "build", "--wave", args.wave, "--out", str(reference),
                        "--formats", "html"], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        html = reference / f"{NAME}.html"
        kinds = {
            "build (all formats)": lambda n: [LPJ, "build", "--wave", args.wave,
                                              "--out", str(folder / f"all-{n}")],
            "build --formats pdf": lambda n: [LPJ, "build", "--wave", args.wave, "--out",
                                              str(folder / f"pdf-{n}"), "--formats", "pdf"],
            "build --formats docx": lambda n: [LPJ, "build", "--wave", args.wave, "--out",
                                               str(folder / f"docx-{n}"), "--formats", "docx"],
            "WeasyPrint alone": lambda n: [sys.executable, "-c", PDF_ALONE, str(html),
                                           str(folder / f"alone-{n}.pdf")],
            "pandoc alone": lambda n: [pandoc, str(html), "--from", "html", "--to", "docx",
                                       "--output", str(folder / f"alone-{n}.docx")],
        }
        times: dict[str, list[float]] = {kind: [] for kind in kinds}
        for n in range(args.runs):
            for kind, cmd in kinds.items():
                times[kind].append(_timed(cmd(n), env))
        median = {kind: statistics.median(values) for kind, values in times.items()}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"annual build {args.wave}: medians of {args.runs} alternated runs, fresh processes; "
          f"{_cores()} cores, load average {load:.1f}")
    for kind, value in median.items():
        spread = ", ".join(f"{t:.2f}" for t in times[kind])
        print(f"  {kind:<22} {value:7.2f} s   ({spread})")
    weasy, pandoc_time = median["WeasyPrint alone"], median["pandoc alone"]
    print("ratios:")
    print(f"  build (all formats) / WeasyPrint alone   {median['build (all formats)'] / weasy:5.2f}"
          "   (issue 11 target: within 2)")
    print(f"  build --formats pdf / WeasyPrint alone   {median['build --formats pdf'] / weasy:5.2f}")
    print(f"  build --formats docx / pandoc alone      "
          f"{median['build --formats docx'] / pandoc_time:5.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
