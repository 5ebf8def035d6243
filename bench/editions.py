"""Benchmark: all municipality editions in parallel against building them one after another.

    .venv/bin/python bench/editions.py [--wave 2002] [--formats html,pdf,docx] [--skip-separate]

Three ways to get every edition, each timed by the wall clock in fresh processes, as a user runs
them:

1. ``lpj editions`` — data and suppression once, then the editions on every core (``make
   editions``);
2. ``lpj editions --jobs 1`` — data once, editions one after another in one process;
3. ``lpj build --kommune K`` for each municipality, one after another — data and suppression
   again for every edition.

It measures and reports; it asserts nothing about speed (that depends on the machine and on
what else runs on it — the load average is printed). It does check that the three ways give the
same figures and HTML, byte for byte.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LPJ = str(Path(sys.executable).with_name("lpj"))


def _run(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


_VERSION = re.compile(rb"lpj-report [0-9.]+ \(git [0-9a-f]+\)")


def _digest(folder: Path) -> dict[str, str]:
    """Hashes of the figures and the HTML of every edition (the code version masked: another
    commit during the run changes the colophon, nothing else)."""
    return {str(p.relative_to(folder)): hashlib.sha256(_VERSION.sub(b"", p.read_bytes()))
            .hexdigest() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.suffix in (".json", ".csv", ".html")}


def _spin(_: int) -> float:
    started = time.perf_counter()
    total = 0
    for i in range(20_000_000):
        total += i
    return time.perf_counter() - started


def effective_cores() -> float:
    """How many cores this machine gives right now: the same busy loop on every core at once,
    against one alone (on a shared or throttled machine this is well below os.cpu_count())."""
    import multiprocessing as mp

    cores = os.cpu_count() or 1
    alone = _spin(0)
    with mp.get_context("fork").Pool(cores) as pool:
        started = time.perf_counter()
        pool.map(_spin, range(cores))
        together = time.perf_counter() - started
    return cores * alone / together


def municipalities(wave: str) -> list[str]:
    code = ("from lpj_report.pipeline import Build, Project; p = Project(); "
            f"b = Build.load(p, {wave}); "
            "print(' '.join(k for k in p.codebook['kommune'].keys "
            "if (b.data['kommune'] == k).any()))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return out.split()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--wave", default="2002")
    p.add_argument("--formats", default=os.environ.get("LPJ_BENCH_FORMATS", "html,pdf,docx"))
    p.add_argument("--skip-separate", action="store_true",
                   help="leave out way 3 (one lpj build per municipality)")
    args = p.parse_args(argv)
    env = {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "1030838400")}
    keys = municipalities(args.wave)
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{len(keys)} editions of wave {args.wave} ({args.formats}) on {cores} core(s), "
          f"load average {load:.1f} at the start, {effective_cores():.1f} core(s) effectively "
          "available (busy loop on every core against one)")
    work = Path(tempfile.mkdtemp(prefix="lpj-bench-"))
    try:
        times = {}
        base = [LPJ, "editions", "--wave", args.wave, "--formats", args.formats]
        times["parallel"] = _run([*base, "--out", str(work / "parallel")], env)
        print(f"  lpj editions (all cores, data once):      {times['parallel']:7.1f} s")
        times["sequential"] = _run([*base, "--jobs", "1", "--out", str(work / "sequential")], env)
        print(f"  lpj editions --jobs 1 (data once):        {times['sequential']:7.1f} s")
        if not args.skip_separate:
            started = time.perf_counter()
            for key in keys:
                _run([LPJ, "build", "--wave", args.wave, "--kommune", key, "--formats",
                      args.formats, "--out", str(work / "separate")], env)
            times["separate"] = time.perf_counter() - started
            print(f"  lpj build --kommune, one after another:   {times['separate']:7.1f} s")
        print(f"  speed-up of lpj editions: {times['sequential'] / times['parallel']:.2f}× "
              "against --jobs 1", end="")
        if "separate" in times:
            print(f", {times['separate'] / times['parallel']:.2f}× against separate builds")
        else:
            print()
        reference = _digest(work / "parallel")
        for name in times:
            if name != "parallel" and _digest(work / name) != reference:
                print(f"  WARNING: {name} gave other files than parallel")
        same = all(_digest(work / n) == reference for n in times)
        print(f"  identical figures and HTML from all {len(times)} ways: {same}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
