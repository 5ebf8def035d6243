"""The output folders of ``lpj build`` and the editions: built beside, moved into place whole.

Layer: render (imports nothing from lpj_report). A folder is replaced only when an earlier build
made it — it holds the marker file :data:`MARKER` — or it is empty; any other existing folder is
refused, so that a mistyped ``--out`` never deletes someone's files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

MARKER = ".lpj-build"

#: Sub-folders of a wave's report folder that other commands own (``lpj build --kommune``,
#: ``lpj editions``): kept when the report itself is rebuilt.
KEEP = ("kommuner",)


def replaceable(out: Path) -> bool:
    """An earlier build made ``out`` (marker file), or it is empty, or it holds only the
    municipality editions."""
    return (out / MARKER).exists() or all(p.name in KEEP for p in out.iterdir())


def refusal(out: Path) -> str | None:
    """The error message when ``out`` exists and may not be replaced, else None."""
    if out.exists() and not replaceable(out):
        return f"{out} exists and was not made by lpj build; choose another --out"
    return None


def mark(work: Path, text: str) -> None:
    """Leave the marker file in a finished build folder (``text`` says who made it)."""
    (work / MARKER).write_text(text, encoding="utf-8")


def replace_folder(work: Path, out: Path) -> None:
    """Move the finished build into place; an existing folder is replaced only when an earlier
    build made it (it holds the marker file) or it is empty. Editions inside it (``KEEP``) are
    moved over to the new build unless it brings its own."""
    if out.exists():
        if not replaceable(out):
            raise FileExistsError(f"{out} exists and was not made by lpj build; "
                                  "choose another --out or empty it")
        for name in KEEP:
            if (out / name).is_dir() and not (work / name).exists():
                (out / name).rename(work / name)
        shutil.rmtree(out)
    work.rename(out)
