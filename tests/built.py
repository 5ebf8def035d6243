"""The 2002 report built once per test session, for the quality gates and the hand-over tests.

``report`` builds it in this process through the CLI entry point (``lpj build``), recording log
records, Python warnings and the context handed to the renderer; ``second_build`` builds it again
in a separate process into another folder (started in the background so the two overlap) to
prove that the bytes do not depend on the process, the folder or the hash seed. conftest.py
makes the fixtures available to every test module.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

from lpj_report import build as build_module
from lpj_report import cli, render

WAVE = "2002"
SOURCE_DATE_EPOCH = "1030838400"  # 2002-09-01 00:00 UTC: fixed, so the tests pin the bytes
NAME = build_module.NAME
OUTPUTS = ("figures.json", "figures.csv", "figures-excel.csv", "tabeller.xlsx", f"{NAME}.html",
           f"{NAME}.pdf", f"{NAME}.docx")


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _start_build(out: Path, cwd: Path) -> subprocess.Popen:
    """``lpj build`` in a fresh interpreter with another hash seed and working folder."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, "PYTHONHASHSEED": "4242",
           "COLUMNS": "500"}  # rich wraps long paths at 80 columns when not on a terminal
    return subprocess.Popen(
        [sys.executable, "-m", "lpj_report.cli", "build", "--wave", WAVE, "--out", str(out)],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytest.fixture(scope="session")
def _second_build_process(tmp_path_factory):
    folder = tmp_path_factory.mktemp("build-b")
    process = _start_build(folder / "report", folder)
    yield SimpleNamespace(process=process, out=folder / "report")
    if process.poll() is None:  # the session ended without a test asking for it
        process.kill()
    process.communicate()


@pytest.fixture(scope="session")
def report(tmp_path_factory, _second_build_process):
    """The 2002 report built in this process via ``lpj build`` (``cli.main``).

    The second build (another process) is already running beside it. Records every log record
    at WARNING or above and every Python warning, and the context handed to the renderer.
    """
    folder = tmp_path_factory.mktemp("build-a")
    out = folder / "report"
    contexts = []
    original = render.render_html

    def spy(context, *args, **kwargs):
        contexts.append(render.prepare(context))
        return original(context, *args, **kwargs)

    handler = _Records()
    root = logging.getLogger()
    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mp.setenv("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
        mp.setattr(render, "render_html", spy)
        level = root.level
        root.setLevel(min(level, logging.WARNING))
        root.addHandler(handler)
        try:
            status = cli.main(["build", "--wave", WAVE, "--out", str(out)])
        finally:
            root.removeHandler(handler)
            root.setLevel(level)
    assert status == 0, f"lpj build exited {status}"
    assert len(contexts) == 1
    context = contexts[0]
    parts = [p for p in (context["introduction"], *context["chapters"], *context["appendices"]) if p]
    return SimpleNamespace(
        folder=folder, out=out, context=context,
        figures=[b for part in parts for b in part["blocks"] if b["type"] == "figure"],
        tables=[b for part in parts for b in part["blocks"] if b["type"] == "table"],
        html=out / f"{NAME}.html", pdf=out / f"{NAME}.pdf", docx=out / f"{NAME}.docx",
        records=handler.records, warnings=list(caught),
    )


@pytest.fixture(scope="session")
def second_build(_second_build_process):
    stdout, stderr = _second_build_process.process.communicate(timeout=900)
    status = _second_build_process.process.returncode
    assert status == 0, f"second lpj build exited {status}:\n{stderr}"
    return SimpleNamespace(out=_second_build_process.out, stdout=stdout, stderr=stderr)


