"""With learning unrelated to everything, the report must (almost) never state a learning
finding.

The eight learning items are permuted together among the employees with seeds 0–19 (numpy
default_rng), so learning keeps its distribution but every association of learning with
anything else is truly null. With the Benjamini–Hochberg correction within the learning family
about one report in twenty may still state one; at least 18 of the 20 must state none.
"""

from __future__ import annotations

import pytest

from textkit import (
    altered,
    base_build,
    finding_ids,
    learning_associations,
    make_context,
    shuffle_learning,
    text,
)

SEEDS = range(20)


@pytest.fixture(scope="module")
def base():
    return base_build()


def test_learning_associations_are_one_family(base):
    """Every finding relating learning to something else is in the family 'laering' (and the
    family holds nothing else), so that BH controls the chance of any false learning finding."""
    assoc = learning_associations(base.project)
    families = {base.project.findings.findings[f].family for f in assoc}
    assert assoc and families == {"laering"}
    in_family = {fid for fid, f in base.project.findings.findings.items() if f.family == "laering"}
    assert in_family == assoc


def test_shuffled_learning_gives_no_learning_finding(base):
    assoc = learning_associations(base.project)
    stated = []
    for seed in SEEDS:
        build = altered(base, lambda data, s=seed: shuffle_learning(data, s))
        supported = {fid for fid in assoc if build.findings[fid].verdict == "supported"}
        ctx = make_context(build)
        in_text = supported & finding_ids(ctx)
        if seed == 0:   # the statements of the 2002 result are gone from the text
            body = text(ctx, "kapitel-2")
            assert "Afveksling i opgaverne går klart sammen med læring" not in body
            assert ("Data viser ingen sikker sammenhæng mellem variation i opgaverne og læring"
                    in body) or "kap2.opgaver_forskellige_laering" in supported
        stated.append(bool(supported) or bool(in_text))
    assert sum(stated) <= 2, f"{sum(stated)} of 20 reports state a learning finding"
