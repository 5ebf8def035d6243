"""Benchmark: the reconstruction generator and the figures engine (wall time, peak memory).

    .venv/bin/python bench/generate.py [--repeat N] [--scale K]

Prints measurements; asserts nothing. The generator must rebuild a wave well within five
minutes on a 2-core machine; the engine is timed on the 2002 data and on the data repeated
K times (to see how it scales with respondents).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import pandas as pd

from lpj_report.figures import compute_figures
from lpj_report.generate import generate
from lpj_report.pipeline import Build, Project
from lpj_report.wave import load_wave


def timed(func, repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--scale", type=int, default=50)
    args = parser.parse_args()

    project = Project()
    wave = load_wave(2002)
    published = project.published(2002)
    med, runs = timed(lambda: generate(project.codebook, project.figures, project.populations,
                                       published, wave.meta), args.repeat)
    print(f"generate 2002 (1.680 respondents, {len(project.figures)} figures, "
          f"{len(published.numbers)} targets): median {med:.1f} s over {len(runs)} run(s)")

    build = Build.load(project, 2002)
    med, _ = timed(lambda: compute_figures(build.data, project.codebook, project.figures,
                                           project.populations, wave.meta), max(args.repeat, 3))
    print(f"figures engine, {len(build.data)} respondents: median {med:.2f} s")
    big = pd.concat([build.data] * args.scale, ignore_index=True)
    med, _ = timed(lambda: compute_figures(big, project.codebook, project.figures,
                                           project.populations, wave.meta), args.repeat)
    print(f"figures engine, {len(big)} respondents: median {med:.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {peak:.0f} MiB")


if __name__ == "__main__":
    main()
