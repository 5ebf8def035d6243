"""Two forked processes that render the parts of a PDF side by side (:mod:`lpj_report.pdf_parts`).

Layer: render (imports :mod:`lpj_report.cache` and :mod:`lpj_report.pdf_join`).

A part's layout needs the page count of the parts before it (its first page number); its PDF
does not. So the parts go to two helper processes, forked from this one: a helper sends a part's
facts (pages, anchors) as soon as the part is laid out, then its PDF once written, and while one
helper writes a PDF the other lays out the next part. The parts the build cache holds are taken
from it and never sent.

The first part to render is rendered here, before any helper exists: it loads the fonts into the
font configuration (WeasyPrint writes each font face to a file once) and warms WeasyPrint's
caches, and the helpers, forked after it, inherit both and only read them. A part's bytes depend
only on its HTML (the tests compare a PDF made this way with one rendered whole, and with one
made from the cache). What WeasyPrint logs or warns while it renders a part is recorded in the
helper and logged or warned again here by :meth:`Pool.replay`, in the order the parts were asked
for, as if they had been rendered one after the other in this process. Where ``fork`` is missing, or the
machine has one core, the parts are rendered here, one after the other.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import queue
import signal
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lpj_report import cache, pdf_join

#: helper processes: one lays out while the other writes
HELPERS = 2

#: ``render(html, write, elsewhere, facts_ready)``: the part, calling ``facts_ready(facts)``
#: once it is laid out
Render = Callable[[str, bool, frozenset, Callable[[pdf_join.Part], None]], pdf_join.Part]


@dataclass
class Ticket:
    """One part asked for: from the cache (``part`` set at once) or sent to ``helper``."""

    index: int
    key: str | None
    helper: int | None = None
    facts: pdf_join.Part | None = None
    part: pdf_join.Part | None = None
    records: list[tuple[str, int, str]] = field(default_factory=list)
    caught: list[tuple[Any, str, str, int]] = field(default_factory=list)


class Records(logging.Handler):
    """Log records kept as (logger, level, message), to be logged again in another process."""

    def __init__(self, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))


def _serve(conn, render: Render) -> None:
    """A helper's life: render each part sent, send its facts, then the part; exit on None."""
    capture = Records()
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        if isinstance(logger, logging.Logger):
            for handler in list(logger.handlers):
                logger.removeHandler(handler)   # the parent's handlers: the parent logs them
    logging.getLogger().addHandler(capture)
    # jobs are read as they come, so that the parent never waits to hand one over while this
    # process waits to hand back a part (each side blocked on a full pipe)
    jobs: queue.SimpleQueue = queue.SimpleQueue()

    def read() -> None:
        try:
            while True:
                job = conn.recv()
                jobs.put(job)
                if job is None:
                    return
        except (EOFError, OSError):
            jobs.put(None)

    threading.Thread(target=read, daemon=True, name="lpj-pdf-jobs").start()
    try:
        while (job := jobs.get()) is not None:
            index, html, write, elsewhere = job
            capture.records = []
            with warnings.catch_warnings(record=True) as caught:
                try:
                    part = render(html, write, elsewhere,
                                  lambda facts, i=index: conn.send(("facts", i, facts)))
                    outcome = ("part", index, part)
                except BaseException as error:  # noqa: BLE001  (raised again in the parent)
                    outcome = ("error", index, picklable(error))
            found = [(w.category, str(w.message), w.filename, w.lineno) for w in caught]
            conn.send((*outcome, capture.records, found))
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        conn.close()
        os._exit(0)  # no atexit handlers or buffers of the parent


def _ended(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for the child ``pid`` to end (and reap it)."""
    deadline = time.monotonic() + timeout
    while True:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def picklable(error: BaseException) -> BaseException:
    """``error`` when it survives pickling (to be raised in another process), else a
    RuntimeError holding its whole traceback as text."""
    import pickle

    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:  # noqa: BLE001
        return RuntimeError("".join(traceback.format_exception(error)))


class Pool:
    """Parts asked for in order (:meth:`submit`), their facts (:meth:`facts`) and the parts
    (:meth:`part`); use as a context manager (the helpers end with it)."""

    def __init__(self, render: Render, kind: str = "pdf-part",
                 parallel: bool | None = None) -> None:
        """``parallel``: use the helpers (default: where ``fork`` exists and there are two
        cores or more)."""
        self._render, self._kind = render, kind
        self._warm = False   # a part rendered here (fonts loaded) before the first fork
        self._store = cache.current()
        self._tickets: list[Ticket] = []
        self._helpers: list[tuple[Any, int]] = []   # (connection, process id; 0: reaped)
        self._next = 0
        if parallel is None:
            parallel = (os.cpu_count() or 1) > 1 and hasattr(os, "fork")
        self._parallel = parallel

    # ------------------------------------------------------------------ asking
    def submit(self, html: str, write: bool, elsewhere: frozenset[str],
               key: str | None) -> Ticket:
        """Ask for one part, ``key`` its cache key (None: not kept, as without a cache)."""
        ticket = Ticket(len(self._tickets), key)
        self._tickets.append(ticket)
        found = self._store.get_object(self._kind, key) if key is not None else None
        if isinstance(found, pdf_join.Part) and (found.pdf is not None or not write):
            ticket.facts = ticket.part = found
            return ticket
        if not self._parallel or not self._warm:
            self._here(ticket, html, write, elsewhere)
            self._warm = True
            return ticket
        ticket.helper = self._helper()
        self._helpers[ticket.helper][0].send((ticket.index, html, write, elsewhere))
        return ticket

    def _here(self, ticket: Ticket, html: str, write: bool, elsewhere: frozenset[str]) -> None:
        def ready(facts: pdf_join.Part) -> None:
            ticket.facts = facts

        ticket.part = self._render(html, write, elsewhere, ready)
        self._keep(ticket)

    def _helper(self) -> int:
        """The helper for the next part: the two in turn (the other may still be writing),
        each forked when first needed."""
        number = self._next % HELPERS
        self._next += 1
        if number == len(self._helpers):
            parent, child = mp.Pipe()
            # os.fork, not multiprocessing.Process: this may run in the build's PDF worker,
            # a daemonic process, which multiprocessing allows no children
            pid = os.fork()
            if pid == 0:   # the helper
                parent.close()
                _serve(child, self._render)   # never returns
            child.close()
            self._helpers.append((parent, pid))
        return number

    # ------------------------------------------------------------------ waiting
    def facts(self, ticket: Ticket) -> pdf_join.Part:
        """The part's facts (pages, anchors), as soon as it is laid out."""
        while ticket.facts is None:
            self._receive(ticket.helper)
        return ticket.facts

    def part(self, ticket: Ticket) -> pdf_join.Part:
        """The part with its PDF (kept in the build cache when it has a key)."""
        while ticket.part is None:
            self._receive(ticket.helper)
        return ticket.part

    def _receive(self, helper: int) -> None:
        conn, pid = self._helpers[helper]
        try:
            message = conn.recv()
        except EOFError:
            _, status = os.waitpid(pid, 0)
            self._helpers[helper] = (conn, 0)
            raise RuntimeError(f"a PDF part's process ended without a result "
                               f"(exit status {os.waitstatus_to_exitcode(status)})") from None
        what, index, payload = message[:3]
        ticket = self._tickets[index]
        if what == "facts":
            ticket.facts = payload
            return
        ticket.records, ticket.caught = message[3], message[4]
        if what == "error":
            self.replay(upto=index)
            raise payload
        ticket.part = payload
        ticket.facts = ticket.facts or payload
        self._keep(ticket)

    def _keep(self, ticket: Ticket) -> None:
        if ticket.key is not None:
            self._store.put_object(self._kind, ticket.key, ticket.part)

    # ------------------------------------------------------------------ ending
    def replay(self, upto: int | None = None) -> None:
        """Log and warn here what the helpers recorded, part by part in the order asked for
        (those up to ``upto``); each record once."""
        # a part asked for and not waited for is waited for here, for its records; before an
        # error, whatever becomes of it: the error raised is the one being reported
        quietly = contextlib.suppress(Exception) if upto is not None else contextlib.nullcontext()
        for ticket in self._tickets[: None if upto is None else upto + 1]:
            if ticket.part is None and ticket.index != upto:
                with quietly:
                    self.part(ticket)
            for name, level, message in ticket.records:
                logging.getLogger(name).log(level, "%s", message)
            for category, message, filename, lineno in ticket.caught:
                warnings.warn_explicit(message, category, filename, lineno)
            ticket.records, ticket.caught = [], []

    def close(self) -> None:
        """Tell the helpers to end and wait for them (a helper still rendering is stopped)."""
        for conn, _ in self._helpers:
            with contextlib.suppress(BrokenPipeError, OSError):
                conn.send(None)
        for conn, pid in self._helpers:
            if pid and not _ended(pid, timeout=5.0):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            conn.close()
        self._helpers = []

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
