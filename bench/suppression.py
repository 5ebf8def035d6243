"""Benchmark: disclosure control and the editions at 12 and at 98 municipalities.

    .venv/bin/python bench/suppression.py [--sizes 12,98] [--formats html] [--skip-editions]

For each size — the 2002 wave's 12 municipalities, and the same respondents relabelled into
synthetic municipalities (``bench/_synthetic.py``) — it times, by the wall clock:

1. the complementary suppression over all municipalities, computed (no cache) and read back
   from the cache (``lpj_report.suppression_cache``);
2. every edition (figures, disclosure control from the warm cache, the files) with one worker
   and with two, in this process as ``lpj editions`` does it (the whole survey's text made once
   before, as ``lpj editions`` reads it from the annual build's cache entry; timed apart);

and, for the 2002 wave, one ``lpj build --kommune`` in a fresh process with the shared parts in
the cache, beside the time the same edition takes in ``lpj editions`` (its own margin; see
:func:`bench_one_edition`).
It prints the times and their ratios and asserts nothing about speed (that depends on the
machine and on what else runs on it: the load average is printed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from _synthetic import synthetic  # noqa: E402

from lpj_report import suppression  # noqa: E402
from lpj_report.edition_context import wave_variables  # noqa: E402
from lpj_report.editions import (  # noqa: E402
    _warm_up,
    edition_figure_ids,
    make_cube,
    run_editions,
)
from lpj_report.pipeline import Build, Project  # noqa: E402


def _wave(n: int):
    if n == 12:
        project = Project()
        return project, Build.load(project, 2002)
    return synthetic(n)


def _timed(func):
    started = time.perf_counter()
    value = func()
    return time.perf_counter() - started, value


def bench_size(n: int, formats: list[str], cache: Path, editions: bool) -> dict[str, float]:
    project, build = _wave(n)
    figures = [project.registry[i] for i in edition_figure_ids()]
    out: dict[str, float] = {}

    def protect(folder):
        return suppression.protect(build.data, project.codebook, figures, project.populations,
                                   min_base=5, cache=folder)

    out["cold"], result = _timed(lambda: protect(None))
    _timed(lambda: protect(cache))                    # stores the pattern
    out["warm"], again = _timed(lambda: protect(cache))
    assert again.suppressed == result.suppressed
    print(f"  {n:3d} municipalities: suppression {out['cold']:6.1f} s computed, "
          f"{out['warm']:5.2f} s from the cache ({out['cold'] / out['warm']:.0f}×); "
          f"{len(result.suppressed)} rows withheld", flush=True)
    if not editions:
        return out
    os.environ["LPJ_CACHE_DIR"] = str(cache.parent)
    work = Path(tempfile.mkdtemp(prefix="lpj-bench-supp-"))
    try:
        # the whole survey's text, made once before the editions (lpj editions reads it from
        # the annual build's cache entry) and timed on its own
        out["text"], text = _timed(lambda: wave_variables(make_cube(project, build, 5)))
        for jobs in (1, 2):
            started = time.perf_counter()
            cube = make_cube(project, build, 5)
            cube.shared["text"] = text
            results = run_editions(cube, cube.municipalities, work / f"jobs{jobs}", formats,
                                   jobs)
            out[f"jobs{jobs}"] = time.perf_counter() - started
            out[f"own{jobs}"] = {r["key"]: r["seconds"] for r in results}
            failed = [r for r in results if not r["ok"]]
            if failed:
                print(f"  WARNING: {len(failed)} editions failed; the first, "
                      f"{failed[0]['key']}: {failed[0]['error']}\n{failed[0].get('trace', '')}")
        print(f"  {n:3d} municipalities: editions ({','.join(formats)}) {out['jobs1']:6.1f} s "
              f"with one worker, {out['jobs2']:6.1f} s with two "
              f"({out['jobs1'] / out['jobs2']:.2f}×); with the suppression computed and the "
              f"whole survey's text ({out['text']:.1f} s): "
              f"{out['cold'] + out['text'] + out['jobs2']:6.1f} s on two workers", flush=True)
    finally:
        os.environ.pop("LPJ_CACHE_DIR", None)
        shutil.rmtree(work, ignore_errors=True)
    return out


def bench_one_edition(formats: list[str], first: str = "hasle", other: str = "ejby") -> None:
    """One ``lpj build --kommune`` with a warm cache against its own margin.

    The margin: the time the edition itself takes in a batch (``lpj editions`` on one worker,
    the data, the cube and the whole survey's text made before, as the batch makes them once).
    The single build: ``lpj build --kommune OTHER`` in a fresh process, after ``lpj build
    --kommune FIRST`` filled the cache (data, figures, disclosure control, the whole survey's
    text, the cube) — so it pays what a separate build of one more municipality pays: starting
    up, reading the shared parts from the cache and its own edition, none of which is cached.
    """
    from lpj_report import cache as cache_module

    lpj = str(Path(sys.executable).with_name("lpj"))
    store = Path(tempfile.mkdtemp(prefix="lpj-bench-cache-"))
    work = Path(tempfile.mkdtemp(prefix="lpj-bench-one-"))
    env = {**os.environ, "LPJ_CACHE_DIR": str(store),
           "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "1030838400")}

    def single(key: str) -> float:
        started = time.perf_counter()
        subprocess.run([lpj, "build", "--wave", "2002", "--kommune", key, "--formats",
                        ",".join(formats), "--out", str(work / "single")], cwd=ROOT, env=env,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - started

    try:
        project = Project()
        with cache_module.using(cache_module.Cache(None)):
            cube = make_cube(project, Build.load(project, 2002), 5)
            wave_variables(cube)
            _warm_up(formats)       # the renderers are imported once in a batch, not per edition
            margin = run_editions(cube, [other], work / "batch", formats, 1)[0]["seconds"]
        cold = single(first)
        warm = single(other)
        print(f"  lpj build --kommune ({','.join(formats)}): {first} {cold:5.1f} s with an empty "
              f"cache; then {other} {warm:5.1f} s; {other}'s own margin in lpj editions "
              f"{margin:.1f} s: the single build is {warm / margin:.2f}× its margin", flush=True)
    finally:
        shutil.rmtree(store, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="12,98", help="numbers of municipalities (12: the wave's)")
    p.add_argument("--formats", default=os.environ.get("LPJ_BENCH_SUPPRESSION_FORMATS", "html"))
    p.add_argument("--skip-editions", action="store_true", help="time the suppression only")
    p.add_argument("--single-formats", default="html,pdf,docx",
                   help="formats of the single lpj build --kommune (default: all, as lpj builds)")
    args = p.parse_args(argv)
    formats = args.formats.split(",")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"disclosure control and editions on {os.cpu_count()} core(s), load average "
          f"{load:.1f} at the start")
    cache = Path(tempfile.mkdtemp(prefix="lpj-bench-cache-")) / "suppression"
    results = {}
    try:
        for n in (int(s) for s in args.sizes.split(",")):
            results[n] = bench_size(n, formats, cache, not args.skip_editions)
        if len(results) > 1:
            (a, ra), (b, rb) = sorted(results.items())[:1] + sorted(results.items())[-1:]
            print(f"  {b} against {a} municipalities: suppression {rb['cold'] / ra['cold']:.1f}× "
                  f"the time for {b / a:.1f}× the municipalities", end="")
            if "jobs2" in ra and "jobs2" in rb:
                print(f", editions on two workers {rb['jobs2'] / ra['jobs2']:.1f}×")
            else:
                print()
        if not args.skip_editions and 12 in results:
            bench_one_edition(args.single_formats.split(","))
    finally:
        shutil.rmtree(cache.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
