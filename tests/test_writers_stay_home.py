"""Every command that writes keeps to folders lpj made: it refuses a file or someone else's
folder, works in a hidden folder beside the target, and leaves nothing half-written when the
file system fails (lpj_report/folders.py)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from lpj_report import cli, folders


def hidden(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


WRITERS = pytest.mark.parametrize("argv", [
    ["figures", "--out", "{out}"],
    ["diff", "2002", "2005", "--out", "{out}"],
    ["build", "--kommune", "hasle", "--formats", "html", "--out", "{out}"],
    ["editions", "--formats", "html", "--out", "{out}"],
])


@WRITERS
def test_a_folder_lpj_did_not_make_is_refused(argv, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    assert cli.main([a.format(out=out) for a in argv]) == 2
    err = capsys.readouterr().err
    assert f"error: {out} exists and was not made by lpj" in err and "Traceback" not in err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert hidden(tmp_path) == []


@WRITERS
def test_out_naming_a_file_is_refused(argv, tmp_path, capsys):
    out = tmp_path / "figures.json"
    out.write_text("{}", encoding="utf-8")
    assert cli.main([a.format(out=out) for a in argv]) == 2
    assert f"error: {out} is a file, not a folder" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "{}"


def test_out_inside_a_file_is_refused(tmp_path, capsys):
    parent = tmp_path / "afile"
    parent.write_text("", encoding="utf-8")
    assert cli.main(["figures", "--out", str(parent / "x")]) == 2
    assert f"error: {parent} is a file, not a folder" in capsys.readouterr().err


def test_figures_replace_their_own_folder_whole(tmp_path):
    out = tmp_path / "figs"
    assert cli.main(["figures", "--out", str(out)]) == 0
    (out / "figures.csv").write_text("stale", encoding="utf-8")
    assert cli.main(["figures", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [".lpj-build", "figures.csv", "figures.json"]
    assert (out / "figures.csv").read_text(encoding="utf-8") != "stale"
    assert hidden(tmp_path) == []


def test_a_full_disk_names_the_file_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    out = tmp_path / "figs"
    assert cli.main(["figures", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {out / 'figures.json'}: No space left on device; nothing was written\n"
    assert list(tmp_path.iterdir()) == []


def test_permission_denied_names_the_folder(tmp_path, monkeypatch, capsys):
    import tempfile

    def denied(prefix, dir):
        raise PermissionError(errno.EACCES, "Permission denied", str(Path(dir) / prefix))

    monkeypatch.setattr(tempfile, "mkdtemp", denied)
    assert cli.main(["figures", "--out", str(tmp_path / "figs")]) == 2
    assert capsys.readouterr().err == (f"error: {tmp_path / '.figs-'}: Permission denied; "
                                       "nothing was written\n")


def test_an_earlier_build_with_a_file_that_cannot_be_removed(tmp_path, monkeypatch):
    """The old folder is moved aside before it is removed: a file in it that cannot be removed
    (read-only) never leaves a half-deleted folder in place, and the next run clears it."""
    out = tmp_path / "figs"
    assert cli.main(["figures", "--out", str(out)]) == 0
    before = (out / "figures.json").stat().st_ino
    real_unlink = os.unlink

    def unlink(path, *args, **kwargs):
        if str(path).endswith("figures.json"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    assert cli.main(["figures", "--out", str(out)]) == 0
    assert (out / "figures.json").stat().st_ino != before       # the new build is in place
    assert len(hidden(tmp_path)) == 1                            # the old one, set aside
    monkeypatch.setattr(os, "unlink", real_unlink)
    assert cli.main(["figures", "--out", str(out)]) == 0
    assert hidden(tmp_path) == []


def test_only_stale_work_folders_of_lpj_are_removed(tmp_path):
    out = tmp_path / "2002"
    dead = tmp_path / ".2002-abcd1234"
    dead.mkdir()
    (dead / folders.WORK_MARKER).write_text("999999999\n", encoding="utf-8")
    alive = tmp_path / ".2002-efgh5678"
    alive.mkdir()
    (alive / folders.WORK_MARKER).write_text(f"{os.getppid()}\n", encoding="utf-8")
    foreign = tmp_path / ".2002-ijkl9012"          # right name, no marker: not lpj's
    foreign.mkdir()
    other = tmp_path / ".2005-abcd1234"            # another target's
    other.mkdir()
    (other / folders.WORK_MARKER).write_text("999999999\n", encoding="utf-8")
    assert folders.remove_stale(out) == [dead]
    assert sorted(hidden(tmp_path)) == [".2002-efgh5678", ".2002-ijkl9012", ".2005-abcd1234"]
