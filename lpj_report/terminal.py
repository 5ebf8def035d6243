"""What the ``lpj`` command shows in the terminal: one language (English), paths as the user
would type them, progress that suits where stderr goes, and "did you mean" suggestions.

Layer: base.

The report and everything in it is Danish; numbers, titles and answer labels quoted from it in
the terminal stay as the report prints them (``+33,4 procentpoint``). Messages about the run
are English.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


def shown(path: Path | str) -> str:
    """``path`` as a message shows it: relative to the working folder when inside it
    (``report/2002/laering-paa-jobbet.pdf``), else absolute. Never wrapped by the console."""
    path = Path(path)
    try:
        absolute = path.resolve()
        here = Path.cwd().resolve()
    except OSError:
        return str(path)
    if absolute == here:
        return "."
    if absolute.is_relative_to(here):
        return str(absolute.relative_to(here))
    return str(absolute)


def console(stderr: bool = True, **options):
    """A rich Console for messages: no highlighting, and long lines (paths) are not broken."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True, **options)


def suggestion(word: str, choices: Iterable[str], *, cutoff: float = 0.6) -> str:
    """`` (did you mean 'build'?)`` for the choice closest to ``word`` (difflib), else ``""``."""
    names = list(dict.fromkeys(choices))
    lowered = {c.casefold(): c for c in names}
    close = difflib.get_close_matches(str(word).casefold(), list(lowered), n=1, cutoff=cutoff)
    return f" (did you mean {lowered[close[0]]!r}?)" if close else ""


def is_terminal(stream=None) -> bool:
    stream = stream if stream is not None else sys.stderr
    try:
        return bool(stream.isatty()) and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


class _PlainSteps:
    """Progress as plain lines (``lpj build: 2/3 text and charts``), for logs and pipes."""

    def __init__(self, name: str, total: int, stream) -> None:
        self.name, self.total, self.stream, self.done = name, total, stream, 0

    def step(self, description: str) -> None:
        self.done += 1
        print(f"{self.name}: {self.done}/{self.total} {description}", file=self.stream,
              flush=True)


class _BarSteps:
    def __init__(self, bar, task) -> None:
        self.bar, self.task, self.started = bar, task, False

    def step(self, description: str) -> None:
        if self.started:
            self.bar.advance(self.task)
        self.started = True
        self.bar.update(self.task, description=description)


@contextmanager
def steps(name: str, total: int, out=None) -> Iterator:
    """Progress over ``total`` steps; ``.step(description)`` starts the next one. A bar on a
    terminal (gone when done), otherwise one plain line per step on stderr."""
    stream = out if out is not None else sys.stderr
    if not is_terminal(stream):
        yield _PlainSteps(name, total, stream)
        return
    from rich.progress import Progress

    with Progress(console=console(file=stream), transient=True) as bar:
        task = bar.add_task(name, total=total)
        progress = _BarSteps(bar, task)
        yield progress
        bar.update(task, completed=total)


def listing(paths: Sequence[Path]) -> list[str]:
    """Output files as the message lists them, one per line, relative paths."""
    return [f"  {shown(p)}{'/' if p.is_dir() else ''}" for p in paths]
