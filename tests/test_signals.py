"""SIGTERM and SIGINT during a build remove its hidden work folder; one left by SIGKILL is removed
by the next build of the same folder (lpj_report.cli.stopped_by_signals, lpj_report.folders)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lpj_report import folders


def start_build(out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "lpj_report.cli", "build", "--wave", "2002",
                             "--formats", "html", "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_for_work_folder(out: Path, process: subprocess.Popen, seconds: float = 120) -> Path:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [p for p in out.parent.glob(f".{out.name}-*") if (p / folders.WORK_MARKER).exists()]
        if found:
            return found[0]
        if process.poll() is not None:
            pytest.fail(f"the build ended before its work folder appeared: {process.stderr.read()}")
        time.sleep(0.05)
    process.kill()
    pytest.fail("no work folder appeared")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_removes_the_work_folder(tmp_path, signum):
    out = tmp_path / "2002"
    process = start_build(out)
    wait_for_work_folder(out, process)
    process.send_signal(signum)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signum
    lines = [line for line in err.splitlines() if not re.match(r"lpj build: \d+/\d+ ", line)]
    assert lines == [f"lpj build: stopped by {signal.Signals(signum).name}; its temporary files "
                     "were removed, nothing was written"]
    assert list(tmp_path.iterdir()) == []


def test_the_next_build_removes_what_sigkill_left(tmp_path):
    out = tmp_path / "2002"
    process = start_build(out)
    work = wait_for_work_folder(out, process)
    process.kill()
    process.communicate(timeout=60)
    assert work.exists()
    assert folders.remove_stale(out) == [work]      # what the next build does first
    assert list(tmp_path.iterdir()) == []
