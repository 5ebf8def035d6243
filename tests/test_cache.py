"""The build cache (lpj_report/cache.py): same bytes with and without it, corrupt entries rebuilt,
a chapter's text edit rendered again while the data and the charts come from the cache.

What was reused is read from ``cache.STATS`` (hits and misses per kind), never from timings.
The builds without and with a cold cache are the session's two builds of the report
(tests/built.py), made side by side in two processes: ``second_build`` with ``--no-cache``,
``report`` with ``--cache-dir`` an empty folder of its own. The warm build (reading the folder
the cold build filled), the corrupt-entry build and the text-edit build run in this process.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from built import SOURCE_DATE_EPOCH, WAVE, clear_memory

from lpj_report import cache, cli, report_context

NAME = "laering-paa-jobbet"
NEW_SENTENCE = "Denne sætning er skrevet ind for at prøve, at en ændret tekst bygges igen."


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _build_here(*args: str) -> None:
    """``lpj build`` in this process as in a new one: the cache's counters at zero, and no
    chart or compiled chapter of an earlier build of this process kept in memory."""
    clear_memory()
    cache.STATS.clear()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
        assert cli.main(["build", "--wave", WAVE, *args]) == 0


@pytest.fixture(scope="module")
def builds(report, second_build, tmp_path_factory):
    """Three builds of every format: without the cache (the session's second build), with an
    empty one (the session's report build), and with the folder that one filled."""
    root = tmp_path_factory.mktemp("cache-builds")
    _build_here("--out", str(root / "warm"), "--cache-dir", str(report.store))
    return SimpleNamespace(store=report.store, plain=second_build.out, cold=report.out,
                           warm=root / "warm", warm_stats=dict(cache.STATS),
                           plain_env=second_build.env_cache, cold_env=report.env_cache)


def test_same_bytes_with_and_without_the_cache(builds):
    plain = _files(builds.plain)
    assert f"{NAME}.pdf" in plain and f"{NAME}.docx" in plain
    assert any(name.endswith(".png") for name in plain)
    for other in (builds.cold, builds.warm):
        files = _files(other)
        assert sorted(files) == sorted(plain), str(other)
        differ = [name for name in plain if files[name] != plain[name]]
        assert differ == [], f"{other}: {differ}"


def test_nothing_changed_reuses_everything_but_the_writing(builds):
    stats = builds.warm_stats
    assert stats.get("hit:build") == 1
    for kind in ("chart", "chart-narrow", "chart-file-png", "chapter-code", "pdf", "docx"):
        assert stats.get(f"hit:{kind}", 0) > 0, (kind, stats)
        assert stats.get(f"miss:{kind}", 0) == 0, (kind, stats)
    assert not any(k.startswith(("miss:", "corrupt:")) for k in stats), stats


def test_no_cache_writes_nothing_and_cache_dir_wins(builds):
    assert not builds.plain_env.exists()       # LPJ_CACHE_DIR, but --no-cache
    assert not builds.cold_env.exists()        # LPJ_CACHE_DIR, but --cache-dir
    assert (builds.store / "build").is_dir()   # --cache-dir: kept there


def test_a_corrupt_entry_is_rebuilt_never_trusted(builds, tmp_path):
    store = tmp_path / "cache"
    shutil.copytree(builds.store, store)
    (entry,) = (store / "build").iterdir()
    entry.write_bytes(entry.read_bytes()[:1000])                  # truncated
    charts = sorted((store / "chart").iterdir())
    good = charts[0].read_bytes()
    charts[0].write_bytes(good.replace(b"<svg", b"<svx", 1))       # altered, same length
    pngs = sorted((store / "chart-file-png").iterdir())
    pngs[0].write_bytes(b"")                                       # emptied
    _build_here("--out", str(tmp_path / "out"), "--formats", "html", "--cache-dir", str(store))
    stats = cache.STATS
    assert stats["corrupt:build"] == 1 and stats["stored:build"] == 1, stats
    assert stats["corrupt:chart"] == 1 and stats["stored:chart"] == 1, stats
    assert stats["corrupt:chart-file-png"] == 1 and stats["stored:chart-file-png"] == 1, stats
    made, plain = _files(tmp_path / "out"), _files(builds.plain)
    assert f"{NAME}.html" in made and any(name.endswith(".png") for name in made)
    assert made == {name: plain[name] for name in made}
    assert charts[0].read_bytes() == good                          # stored again, whole


def test_a_chapter_text_edit_renders_the_text_with_cached_data_and_charts(builds, tmp_path,
                                                                         monkeypatch):
    chapters = tmp_path / "chapters"
    shutil.copytree(report_context.CHAPTERS_DIR, chapters)
    source = chapters / "90_metode.md"
    text = source.read_text(encoding="utf-8")
    assert "## Læringsmålet\n\n" in text
    source.write_text(text.replace("## Læringsmålet\n\n", f"## Læringsmålet\n\n{NEW_SENTENCE}\n\n",
                                   1), encoding="utf-8")
    monkeypatch.setattr(report_context, "CHAPTERS_DIR", chapters)
    store = tmp_path / "cache"
    shutil.copytree(builds.store, store)
    out = tmp_path / "out"
    _build_here("--out", str(out), "--formats", "html", "--cache-dir", str(store))
    stats = cache.STATS
    assert stats["hit:build"] == 1 and stats["miss:build"] == 0, stats
    assert stats["hit:chart"] > 0 and stats["miss:chart"] == 0, stats
    assert stats["hit:chart-file-png"] > 0 and stats["miss:chart-file-png"] == 0, stats
    assert stats["miss:chapter-code"] == 1, stats          # only the edited chapter compiled
    html = (out / f"{NAME}.html").read_text(encoding="utf-8")
    assert NEW_SENTENCE in html
    assert NEW_SENTENCE not in (builds.plain / f"{NAME}.html").read_text(encoding="utf-8")
    assert _files(out / "figurer") == _files(builds.plain / "figurer")


# ---------------------------------------------------------------------------- the store itself


def test_entries_round_trip_and_refuse_damage(tmp_path):
    store = cache.Cache(tmp_path)
    cache.STATS.clear()
    assert store.get("chart", "a1") is None
    store.put("chart", "a1", b"<svg/>")
    assert store.get("chart", "a1") == b"<svg/>"
    path = tmp_path / "chart" / "a1"
    path.write_bytes(path.read_bytes() + b"x")
    assert store.get("chart", "a1") is None and not path.exists()
    store.put_object("build", "b2", {"n": [1, 2]})
    assert store.get_object("build", "b2") == {"n": [1, 2]}
    assert cache.STATS["corrupt:chart"] == 1 and cache.STATS["hit:build"] == 1
    assert [p.name for p in tmp_path.rglob(".*")] == []           # no temporary file left
    disabled = cache.Cache(None)
    disabled.put("chart", "a1", b"x")
    assert disabled.get("chart", "a1") is None
    with pytest.raises(ValueError):
        store.get("../x", "a1")


def test_keys_follow_the_bytes_of_the_inputs(tmp_path):
    (tmp_path / "a.yaml").write_text("x: 1\n", encoding="utf-8")
    before = cache.files_digest([tmp_path], tmp_path)
    assert cache.files_digest([tmp_path], tmp_path) == before
    (tmp_path / "a.yaml").write_text("x: 2\n", encoding="utf-8")
    assert cache.files_digest([tmp_path], tmp_path) != before
    assert cache.key("a", "bc") != cache.key("ab", "c")
    assert cache.folder_for(no_cache=True) is None
    assert cache.folder_for(tmp_path) == tmp_path


def test_an_edition_uses_the_cache_its_command_chose(tmp_path, monkeypatch):
    """``lpj build --kommune``: the annual build's entry and the disclosure pattern across
    municipalities go to ``--cache-dir``; ``--no-cache`` keeps nothing anywhere (not even the
    pattern) and gives the same bytes."""
    monkeypatch.setenv("LPJ_CACHE_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1030838400")
    chosen = tmp_path / "chosen"
    common = ["build", "--wave", "2002", "--kommune", "hasle", "--formats", "html"]
    assert cli.main([*common, "--cache-dir", str(chosen), "--out", str(tmp_path / "a")]) == 0
    assert list((chosen / "suppression").glob("*.json")), "the pattern kept"
    assert (chosen / "build").is_dir() and not (tmp_path / "env").exists()
    assert cli.main([*common, "--no-cache", "--out", str(tmp_path / "b")]) == 0
    assert not (tmp_path / "env").exists()
    page = "kommuner/hasle/laering-paa-jobbet-hasle.html"
    assert (tmp_path / "a" / page).read_bytes() == (tmp_path / "b" / page).read_bytes()
