"""``lpj editions --shard I/N``: slices of the municipalities that together give exactly the
editions of one ``lpj editions`` run, byte for byte, and a clear error for a bad slice."""

from __future__ import annotations

import pytest

from lpj_report import cli
from lpj_report.editions import shard_of


def files(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize("n", [1, 2, 5, 12, 16])
def test_every_municipality_in_exactly_one_slice_in_order(n):
    keys = [f"k{i:02d}" for i in range(12)]
    parts = [shard_of(keys, (i, n)) for i in range(1, n + 1)]
    assert sum(parts, []) == keys
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 1


CHOSEN = ["hasle", "munkebo", "ejby"]


def test_two_shards_give_the_bytes_of_one_run(tmp_path, monkeypatch):
    """Three municipalities (the slices are cut from the chosen ones, as from all twelve): one
    run and its two shards give the same files, byte for byte."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1030838400")
    common = ["editions", "--wave", "2002", "--formats", "html", "--jobs", "1",
              *[a for k in CHOSEN for a in ("--kommune", k)]]
    assert cli.main([*common, "--out", str(tmp_path / "one")]) == 0
    for i in (1, 2):
        assert cli.main([*common, "--shard", f"{i}/2", "--out", str(tmp_path / "shards")]) == 0
    one, shards = files(tmp_path / "one"), files(tmp_path / "shards")
    assert {p.split("/")[1] for p in one} == set(CHOSEN)
    assert one.keys() == shards.keys()
    assert [p for p in one if one[p] != shards[p]] == []


@pytest.mark.parametrize("value", ["0/3", "4/3", "a/b", "3", "1/0", "1/2/3", ""])
def test_a_bad_slice_is_a_usage_error(value, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["editions", "--shard", value, "--formats", "html"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "error: argument --shard:" in err and repr(value) in err and "1 ≤ I ≤ N" in err
    assert "Traceback" not in err
