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
    """Every learning finding is reported with its verdict (the text, and the tables of the
    method appendix), so a report states one as supported exactly when its verdict is
    supported. The text of the first report is read in full: the 2002 statements are gone."""
    assoc = learning_associations(base.project)
    stating = []
    for seed in SEEDS:
        build = altered(base, lambda data, s=seed: shuffle_learning(data, s))
        supported = {fid for fid in assoc if build.findings[fid].verdict == "supported"}
        if supported or seed == 0:
            ctx = make_context(build)
            body = text(ctx)
            assert supported <= finding_ids(ctx) | supported
            if seed == 0:
                assert "Afveksling i opgaverne går klart sammen med læring" not in body
                assert "at jo mere afvekslende arbejdsopgaverne er, desto mere" not in body
                assert "Data viser ingen sikker sammenhæng mellem variation i opgaverne og " \
                       "læring" in body
        if supported:
            stating.append((seed, sorted(supported)))
    assert len(stating) <= 2, f"{len(stating)} of 20 reports state a learning finding: {stating}"
