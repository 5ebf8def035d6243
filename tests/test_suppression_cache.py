"""The suppression pattern computed once per wave (lpj_report/suppression_cache.py): a stored
pattern is the computed one, keyed by everything it depends on, and an entry that cannot be
trusted is computed again."""

from __future__ import annotations

import json

import pytest

from lpj_report import suppression, suppression_cache
from lpj_report.pipeline import Build, Project

FIGURES = ["intro.svar", "kap2.laering", "kap2.opbakning_ledelse"]


@pytest.fixture(scope="module")
def wave():
    project = Project()
    build = Build.load(project, 2002)
    return project, build, [project.registry[i] for i in FIGURES]


def protect(wave, folder, min_base=5, data=None):
    project, build, figures = wave
    return suppression.protect(build.data if data is None else data, project.codebook, figures,
                               project.populations, min_base=min_base, cache=folder)


def entries(folder):
    return sorted(folder.glob("*.json"))


def same(a, b):
    return (a.suppressed, a.hidden, a.primary, a.public) == (b.suppressed, b.hidden, b.primary,
                                                             b.public)


def test_a_stored_pattern_is_the_computed_one(wave, tmp_path):
    fresh = protect(wave, None)
    first = protect(wave, tmp_path)
    [entry] = entries(tmp_path)
    stored = entry.read_bytes()
    again = protect(wave, tmp_path)
    assert same(fresh, first) and same(fresh, again)
    assert fresh.suppressed, "the figures have something to hide"
    assert entry.read_bytes() == stored, "read, not written again"
    assert not list(tmp_path.glob(".*")) and not list(tmp_path.glob("*.lock"))


def test_the_key_follows_data_and_settings(wave, tmp_path):
    project, build, _ = wave
    protect(wave, tmp_path)
    protect(wave, tmp_path, min_base=10)
    changed = build.data.copy()
    changed.loc[changed.index[0], "kommune"] = "hasle" if changed["kommune"].iloc[0] != \
        "hasle" else "odense"
    protect(wave, tmp_path, data=changed)
    assert len(entries(tmp_path)) == 3


@pytest.mark.parametrize("damage", ["garbage", "payload", "digest", "truncated", "key"])
def test_an_entry_that_cannot_be_trusted_is_computed_again(wave, tmp_path, damage):
    fresh = protect(wave, tmp_path)
    [entry] = entries(tmp_path)
    good = entry.read_text()
    doc = json.loads(good)
    if damage == "garbage":
        entry.write_bytes(b"\x00\xffnot json")
    elif damage == "payload":    # a suppressed row dropped: would show a hidden number
        doc["payload"]["suppressed"] = doc["payload"]["suppressed"][1:]
        entry.write_text(json.dumps(doc))
    elif damage == "digest":
        doc["sha256"] = "0" * 64
        entry.write_text(json.dumps(doc))
    elif damage == "truncated":
        entry.write_text(good[: len(good) // 2])
    else:
        doc["key"] = "0" * 64
        entry.write_text(json.dumps(doc))
    assert suppression_cache.read(tmp_path, entry.stem) is None
    again = protect(wave, tmp_path)
    assert same(fresh, again)
    assert entry.read_text() == good, "the damaged entry is replaced by a good one"


def test_canonical_form_does_not_depend_on_set_order():
    a = suppression_cache.canonical({"x": frozenset(["b", "a", "c"]), "y": (1, 2)})
    b = suppression_cache.canonical({"x": frozenset(["c", "a", "b"]), "y": (1, 2)})
    assert a == b
    assert suppression_cache.canonical({"x": 1, "y": 2}) != suppression_cache.canonical(
        {"y": 2, "x": 1}), "dict order (categories, filters) is part of the key"
