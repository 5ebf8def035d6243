"""The output folders of every command that writes: built beside, moved into place whole.

Layer: render (imports nothing from lpj_report). A folder is replaced only when an earlier build
made it — it holds the marker file :data:`MARKER` — or it is empty; any other existing folder is
refused, so that a mistyped ``--out`` never deletes someone's files.

The work is done in a hidden folder beside the target (:func:`stage`: ``.<name>-<random>``,
holding :data:`WORK_MARKER` with the process id), so it never leaves the target's parent. The
command removes it when it fails or is interrupted (SIGINT, SIGTERM: lpj_report.cli); one left by
a process that was killed outright is removed by the next :func:`stage` for the same target
(:func:`remove_stale`) — only folders of that name pattern with the work marker of a process that
no longer runs.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
from pathlib import Path

MARKER = ".lpj-build"
WORK_MARKER = ".lpj-work"

#: Sub-folders of a wave's report folder that other commands own (``lpj build --kommune``,
#: ``lpj editions``): kept when the report itself is rebuilt.
KEEP = ("kommuner",)


def replaceable(out: Path, names: tuple[str, ...] = ()) -> bool:
    """An earlier build made ``out`` (marker file), or it is empty, or it holds only the
    municipality editions (or only files called ``names``: what the command writes)."""
    return (out / MARKER).exists() or all(p.name in KEEP + names for p in out.iterdir())


def refusal(out: Path, command: str = "lpj build", names: tuple[str, ...] = ()) -> str | None:
    """The error message when ``out`` is a file, or a folder that may not be replaced, else
    None."""
    if out.is_file() or (out.exists() and not out.is_dir()):
        return f"{out} is a file, not a folder; --out names the folder to write into"
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                return f"{parent} is a file, not a folder; --out {out} cannot be made in it"
            break
    if out.exists() and not replaceable(out, names):
        return f"{out} exists and was not made by {command}; choose another --out"
    return None


def stage(out: Path) -> Path:
    """A new hidden work folder beside ``out`` (created with its parents), marked with this
    process's id; stale ones of earlier, killed runs are removed first."""
    parent = out.parent
    if parent.exists() and not parent.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(parent))
    parent.mkdir(parents=True, exist_ok=True)
    remove_stale(out)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=parent))
    work.chmod(0o755)
    (work / WORK_MARKER).write_text(f"{os.getpid()}\n", encoding="utf-8")
    return work


def remove_stale(out: Path) -> list[Path]:
    """Remove the work folders of ``out`` (:func:`stage`) whose process is gone; return them."""
    pattern = re.compile(re.escape(f".{out.name}-") + r"[a-z0-9_]{8}")
    removed = []
    try:
        entries = list(out.parent.iterdir())
    except OSError:
        return removed
    for path in entries:
        if not pattern.fullmatch(path.name) or not path.is_dir() or path.is_symlink():
            continue
        try:
            pid = int((path / WORK_MARKER).read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            continue            # not a work folder lpj made
        if pid > 0 and (pid == os.getpid() or _running(pid)):
            continue            # another lpj is working there now
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark(work: Path, text: str) -> None:
    """Leave the marker file in a finished build folder (``text`` says who made it)."""
    (work / MARKER).write_text(text, encoding="utf-8")


def replace_folder(work: Path, out: Path, names: tuple[str, ...] = ()) -> None:
    """Move the finished build into place; an existing folder is replaced only when an earlier
    build made it (it holds the marker file) or it is empty. Editions inside it (``KEEP``) are
    moved over to the new build unless it brings its own."""
    (work / WORK_MARKER).unlink(missing_ok=True)
    if not out.exists():
        work.rename(out)
        return
    if not replaceable(out, names):
        raise FileExistsError(errno.EEXIST, "exists and was not made by lpj; choose another "
                              "--out or empty it", str(out))
    for name in KEEP:
        if (out / name).is_dir() and not (work / name).exists():
            (out / name).rename(work / name)
    # the old folder is moved aside first, so that a file in it that cannot be removed never
    # leaves a half-deleted build in place; what is left of it is removed by the next build
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    (old / WORK_MARKER).write_text("0\n", encoding="utf-8")
    out.rename(old / "old")
    work.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    if old.exists():     # marked again, so that the next build knows it for lpj's own
        (old / WORK_MARKER).write_text("0\n", encoding="utf-8")


def write_folder(out: Path, command: str, files: dict[str, bytes]) -> None:
    """``files`` (name → bytes) as the folder ``out``, written beside it and moved into place
    whole (:func:`replace_folder`); nothing of it is left when writing fails."""
    work = stage(out)
    try:
        for name, data in files.items():
            try:
                (work / name).write_bytes(data)
            except OSError as err:     # a full disk names no file: name the one being written
                raise OSError(err.errno, err.strerror, str(out / name)) from err
            (work / name).chmod(0o644)
        mark(work, f"built by {command}; safe to replace\n")
        replace_folder(work, out, tuple(files))
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
