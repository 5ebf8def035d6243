"""The 2002 report built once per test session, for the quality gates, the hand-over tests, the
build cache's tests and the golden charts.

``report`` builds it through the CLI entry point (``lpj build --cache-dir``, into an empty cache
folder of its own: a cold build), recording log records, Python warnings and the context handed
to the renderer; ``second_build`` builds it again in a separate process with ``--no-cache`` into
another folder (started in the background so the two overlap) to prove that the bytes do not
depend on the process, the folder, the hash seed or the cache. conftest.py makes the fixtures
available to every test module.

Both builds are made once per test session, not once per pytest-xdist worker: the first worker
that asks builds them in the session's shared temporary folder (the parent of the workers' own
ones) under a file lock, and stores what the tests read of the in-process build (the prepared
context, the log records and warnings as text); every other worker waits for the lock and reads
the same values back. :func:`once_per_session` does the same for a folder other test files read
alike (``hasle_edition``).
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import subprocess
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from filelock import FileLock

from lpj_report import build as build_module
from lpj_report import cache, chart_cache, charts, cli, render, report_context

WAVE = "2002"
SOURCE_DATE_EPOCH = "1030838400"  # 2002-09-01 00:00 UTC: fixed, so the tests pin the bytes
NAME = build_module.NAME
OUTPUTS = ("figures.json", "figures.csv", "figures-excel.csv", "tabeller.xlsx", f"{NAME}.html",
           f"{NAME}.pdf", f"{NAME}.docx")
SECOND_BUILD_TIMEOUT = 900  # s
SHARED_BUILD_TIMEOUT = 900  # s: how long a worker waits for another's once_per_session


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def shared_folder(tmp_path_factory) -> Path:
    """A folder of this test session that every pytest-xdist worker sees (the parent of the
    workers' temporary folders; without xdist the session's own temporary folder)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    folder = base / "shared"
    folder.mkdir(exist_ok=True)
    return folder


def clear_memory() -> None:
    """Forget the charts and compiled chapters an earlier build of this process kept in memory,
    so that the next build in this process draws and compiles as a new process would."""
    charts._RECIPES.clear()
    charts._VARIANTS.clear()
    chart_cache._ENTRIES.clear()
    report_context._environment.cache_clear()


def _start_second_build(folder: Path) -> tuple[subprocess.Popen, threading.Thread]:
    """``lpj build --no-cache`` in a fresh interpreter with another hash seed and working folder;
    its output goes to files in ``folder`` and its exit status to ``folder/status`` (written
    whole, once it has ended), so that any worker can read them."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, "PYTHONHASHSEED": "4242",
           "COLUMNS": "500",   # rich wraps long paths at 80 columns when not on a terminal
           cache.ENV_VAR: str(folder / "env-cache")}   # must stay unused: --no-cache
    with open(folder / "stdout", "w") as stdout, open(folder / "stderr", "w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "lpj_report.cli", "build", "--wave", WAVE,
             "--out", str(folder / "report"), "--no-cache"],
            cwd=folder, env=env, stdout=stdout, stderr=stderr,
        )

    def record_status() -> None:
        status = process.wait()
        (folder / "status.tmp").write_text(str(status), encoding="utf-8")
        os.replace(folder / "status.tmp", folder / "status")

    recorder = threading.Thread(target=record_status, daemon=True)
    recorder.start()
    return process, recorder


def _build_here(folder: Path, store: Path, env_cache: Path) -> dict:
    """The in-process ``lpj build`` and what the tests read of it (picklable values only)."""
    out = folder / "report"
    contexts = []
    original = render.render_html

    def spy(context, *args, **kwargs):
        contexts.append(render.prepare(context))
        return original(context, *args, **kwargs)

    handler = _Records()
    root = logging.getLogger()
    clear_memory()
    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mp.setenv("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
        mp.setenv(cache.ENV_VAR, str(env_cache))   # must stay unused: --cache-dir wins
        mp.setattr(render, "render_html", spy)
        level = root.level
        root.setLevel(min(level, logging.WARNING))
        root.addHandler(handler)
        try:
            status = cli.main(["build", "--wave", WAVE, "--out", str(out),
                               "--cache-dir", str(store)])
        finally:
            root.removeHandler(handler)
            root.setLevel(level)
    return {
        "status": status, "contexts": contexts,
        "records": [(r.levelname, r.name, r.getMessage()) for r in handler.records],
        "warnings": [(w.category.__name__, str(w.message), w.filename, w.lineno) for w in caught],
    }


@pytest.fixture(scope="session")
def _session_builds(tmp_path_factory):
    """Both builds, made by the first worker that asks and read back by the others."""
    shared = shared_folder(tmp_path_factory)
    a, b = shared / "build-a", shared / "build-b"
    result = shared / "build-a.pickle"
    process = recorder = None
    with FileLock(shared / "builds.lock"):
        if not result.exists():
            b.mkdir()
            a.mkdir()
            process, recorder = _start_second_build(b)
            try:
                made = _build_here(a, shared / "report-cache", shared / "report-env-cache")
            except Exception:
                made = {"error": traceback.format_exc()}
            temp = result.with_suffix(".tmp")
            temp.write_bytes(pickle.dumps(made))
            os.replace(temp, result)
    made = pickle.loads(result.read_bytes())  # noqa: S301 (written above, by this session)
    builds = SimpleNamespace(a=a, b=b, store=shared / "report-cache",
                             env_cache=shared / "report-env-cache", made=made, asked=False)
    yield builds
    if process is None:
        return
    if process.poll() is None:
        if os.environ.get("PYTEST_XDIST_WORKER") or builds.asked:
            process.wait(timeout=SECOND_BUILD_TIMEOUT)   # another worker may still read it
        else:
            process.kill()   # the session ended without a test asking for it
    recorder.join(timeout=60)   # its status written before this worker ends


@pytest.fixture(scope="session")
def report(_session_builds):
    """The 2002 report built in a test process via ``lpj build`` (``cli.main``), with
    ``--cache-dir`` an empty folder of its own (``store``; ``LPJ_CACHE_DIR`` pointed at
    ``env_cache``, which must stay unused).

    The second build (another process) ran beside it. Holds every log record at WARNING or
    above as (level, logger, message), every Python warning as (category, message, file,
    line), and the context handed to the renderer.
    """
    made = _session_builds.made
    if "error" in made:
        pytest.fail(f"lpj build raised:\n{made['error']}", pytrace=False)
    assert made["status"] == 0, f"lpj build exited {made['status']}"
    assert len(made["contexts"]) == 1
    context = made["contexts"][0]
    folder = _session_builds.a
    out = folder / "report"
    parts = [p for p in (context["introduction"], *context["chapters"], *context["appendices"]) if p]
    return SimpleNamespace(
        folder=folder, out=out, context=context,
        figures=[b for part in parts for b in part["blocks"] if b["type"] == "figure"],
        tables=[b for part in parts for b in part["blocks"] if b["type"] == "table"],
        html=out / f"{NAME}.html", pdf=out / f"{NAME}.pdf", docx=out / f"{NAME}.docx",
        records=made["records"], warnings=made["warnings"],
        store=_session_builds.store, env_cache=_session_builds.env_cache,
    )


@pytest.fixture(scope="session")
def second_build(_session_builds):
    """The second build (``lpj build --no-cache`` in another process, ``LPJ_CACHE_DIR`` pointed
    at ``env_cache``, which must stay unused), once it has ended."""
    _session_builds.asked = True
    folder = _session_builds.b
    deadline = time.monotonic() + SECOND_BUILD_TIMEOUT
    while not (folder / "status").exists():
        assert time.monotonic() < deadline, "the second lpj build did not end in time"
        time.sleep(0.2)
    status = int((folder / "status").read_text(encoding="utf-8"))
    stdout, stderr = (folder / "stdout").read_text(), (folder / "stderr").read_text()
    assert status == 0, f"second lpj build exited {status}:\n{stderr}"
    return SimpleNamespace(out=folder / "report", stdout=stdout, stderr=stderr,
                           env_cache=folder / "env-cache")


def once_per_session(tmp_path_factory, name: str, make: Callable[[Path], None]) -> Path:
    """The folder ``name`` in the session's shared folder, filled by ``make(folder)`` once per
    test session: by the first pytest-xdist worker that asks, under a file lock; the others wait
    for the lock and read the same folder.

    What ``make`` raised is recorded, so that the workers after it fail at once with its
    traceback instead of waiting or building again; a worker that dies while building releases
    the lock with its process, and one that hangs makes the others fail after
    :data:`SHARED_BUILD_TIMEOUT` seconds."""
    shared = shared_folder(tmp_path_factory)
    folder, outcome = shared / name, shared / f"{name}.outcome"
    with FileLock(shared / f"{name}.lock", timeout=SHARED_BUILD_TIMEOUT):
        if not outcome.exists():
            shutil.rmtree(folder, ignore_errors=True)   # what a worker that died left behind
            folder.mkdir()
            try:
                make(folder)
                error = ""
            except Exception:
                error = traceback.format_exc()
            temp = outcome.with_suffix(".tmp")
            temp.write_text(error, encoding="utf-8")
            os.replace(temp, outcome)
    error = outcome.read_text(encoding="utf-8")
    if error:
        pytest.fail(f"building {name} raised:\n{error}", pytrace=False)
    return folder


@pytest.fixture(scope="session")
def hasle_edition(tmp_path_factory, _build_cache) -> Path:
    """The 2002 edition of Hasle, the smallest municipality (HTML, figures and workbook), built
    through ``lpj build --kommune`` (cache: the session's, ``_build_cache``) once per test
    session for tests/test_editions.py and tests/test_diff.py, which read the same files; its
    folder ``kommuner/hasle``. The tests only read it."""
    def make(out: Path) -> None:
        assert cli.main(["build", "--wave", WAVE, "--kommune", "Hasle", "--formats", "html",
                         "--out", str(out)]) == 0

    return once_per_session(tmp_path_factory, "hasle-edition", make) / "kommuner" / "hasle"
