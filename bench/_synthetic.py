"""A wave with N synthetic municipalities, for the benchmarks (not a benchmark itself).

The respondents of a real wave are relabelled into ``n`` municipalities ``k001`` … (a fixed
permutation, so the same ``n`` always gives the same municipalities), and the codebook's
``kommune`` variable lists exactly those. Everything else — answers, roles, workplaces — is the
wave's own, so the figures and their suppression are those of a survey of the same size spread
over more, smaller municipalities.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from lpj_report.codebook import Code
from lpj_report.pipeline import Build, Project


def synthetic(n: int, wave: int = 2002) -> tuple[Project, Build]:
    """The project and the wave with its respondents in ``n`` synthetic municipalities."""
    base = Project()
    build = Build.load(base, wave)
    keys = [f"k{i + 1:03d}" for i in range(n)]
    var = dataclasses.replace(
        base.codebook["kommune"],
        codes=tuple(Code(i + 1, k, f"Kommune {i + 1}") for i, k in enumerate(keys)))
    codebook = dataclasses.replace(base.codebook,
                                   variables={**base.codebook.variables, "kommune": var})
    data = build.data.copy()
    order = np.random.default_rng(0).permutation(len(data))
    labels = np.array(keys, dtype=object)[np.arange(len(data)) % n][np.argsort(order)]
    data["kommune"] = pd.Categorical(labels, categories=keys)
    project = Project(codebook)
    return project, Build(project, build.wave, data)
