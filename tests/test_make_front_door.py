"""The Makefile runs nothing a user's value says: every value reaches lpj as text, or is refused.

Each test runs the real Makefile in a temporary folder with a stand-in for lpj that records the
arguments and environment it was started with, so a value that slipped into the shell (or into
make's own expansion) would leave a file ``pwned`` behind, and a refused one leaves no record.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")

FAKE_LPJ = f"""#!{sys.executable}
import json, os, sys
with open("lpj-ran.json", "w", encoding="utf-8") as out:
    json.dump({{"argv": sys.argv[1:], "KOMMUNE": os.environ.get("KOMMUNE")}}, out)
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A folder with the Makefile, a venv stamp newer than its inputs, and the stand-in lpj."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    for name in ("pyproject.toml", "constraints.txt"):
        (tmp_path / name).write_text("", encoding="utf-8")
        os.utime(tmp_path / name, (1_000_000_000, 1_000_000_000))
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / ".installed").write_text("", encoding="utf-8")
    lpj = tmp_path / "fake-lpj"
    lpj.write_text(FAKE_LPJ, encoding="utf-8")
    lpj.chmod(0o755)
    return tmp_path


def make(folder: Path, *args: str, env: dict[str, str] | None = None):
    """``make`` in ``folder`` with the stand-in lpj; sysdeps is taken as done."""
    environ = {k: v for k, v in os.environ.items()
               if k not in ("WAVE", "KOMMUNE", "FORMATS", "PORT", "DIFF_OLD", "DIFF_NEW",
                            "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    environ.update(env or {})
    return subprocess.run(["make", "--no-print-directory", "-o", "sysdeps", *args,
                           "LPJ=./fake-lpj"],
                          cwd=folder, env=environ, capture_output=True, text=True, timeout=60)


def ran(folder: Path) -> dict | None:
    record = folder / "lpj-ran.json"
    return json.loads(record.read_text(encoding="utf-8")) if record.exists() else None


# (target, variable=value, fragment of make's refusal)
REFUSED = [
    ("report", "KOMMUNE=$(shell touch pwned)y", "a value with '$' is refused"),
    ("report", "KOMMUNE=$(touch pwned)", "a value with '$' is refused"),
    ("report", "KOMMUNE=", "KOMMUNE='' is blank"),
    ("report", "KOMMUNE= ", "is blank"),
    ("report", "WAVE=9999;touch pwned;y", "expected a survey year of four digits"),
    ("report", "WAVE=../waves/2002", "expected a survey year of four digits"),
    ("report", "WAVE=2002 ", "expected a survey year of four digits"),
    ("report", "FORMATS=$(shell touch pwned)", "a value with '$' is refused"),
    ("preview", "PORT=$(shell touch pwned)", "a value with '$' is refused"),
    ("diff", "DIFF_OLD=$(shell touch pwned)", "a value with '$' is refused"),
    ("diff", "DIFF_NEW=", "DIFF_NEW='' is blank"),
    ("clean", "WAVE=..", "expected a survey year of four digits"),
    ("report", "KOMMUNE_ARG=; touch pwned", "KOMMUNE_ARG cannot be set"),
    ("report", "SHELL=./pwn.sh", "SHELL cannot be set"),
    ("report", "VENV=.venv;touch pwned", "VENV='.venv;touch pwned': expected a path"),
]


@pytest.mark.parametrize(("target", "setting", "message"), REFUSED)
def test_a_hostile_value_is_refused_before_anything_runs(checkout, target, setting, message):
    result = make(checkout, target, setting)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (checkout / "pwned").exists()
    assert ran(checkout) is None


def test_a_value_from_the_environment_is_not_expanded_either(checkout):
    result = make(checkout, "report", env={"KOMMUNE": "$(shell touch pwned)"})
    assert result.returncode == 2
    assert "KOMMUNE='$(shell touch pwned)': a value with '$' is refused" in result.stderr
    assert not (checkout / "pwned").exists()
    assert ran(checkout) is None


@pytest.mark.parametrize("name", ["a;touch pwned", "x' \"; touch pwned; echo \"", "--help",
                                  "`touch pwned`", "Ærø kommune"])
def test_a_name_reaches_lpj_as_one_value(checkout, name):
    result = make(checkout, "report", f"KOMMUNE={name}", "FORMATS=html")
    assert result.returncode == 0, result.stderr
    assert not (checkout / "pwned").exists()
    assert ran(checkout) == {"argv": ["build", "--wave=2002", "--out=report/2002",
                                      f"--kommune={name}", "--formats=html"],
                             "KOMMUNE": name}


def test_diff_passes_both_sides_as_operands(checkout):
    result = make(checkout, "diff", "DIFF_OLD=--out=/etc", "DIFF_NEW=2005;touch pwned")
    assert result.returncode == 0, result.stderr
    assert not (checkout / "pwned").exists()
    assert ran(checkout)["argv"] == ["diff", "--", "--out=/etc", "2005;touch pwned"]


@pytest.mark.parametrize(("target", "argv"), [
    ("report", ["build", "--wave=2002", "--out=report/2002"]),
    ("editions", ["editions", "--wave=2002", "--out=report/2002"]),
    ("diff", ["diff", "--", "2002", "2005"]),
    ("verify", ["verify", "--wave=2002"]),
    ("preview", ["preview", "--wave=2002", "--port=8000"]),
])
def test_normal_values_still_build(checkout, target, argv):
    result = make(checkout, target)
    assert result.returncode == 0, result.stderr
    assert ran(checkout)["argv"] == argv


def test_test_options_are_words_never_shell_code(checkout):
    result = subprocess.run(["make", "-n", "--no-print-directory", "-o", ".venv/.installed",
                             "test", "PYTEST_ARGS=-k x;touch pwned", "TEST_JOBS=1"],
                            cwd=checkout, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "touch pwned" not in result.stdout     # not pasted into the command line
    assert 'pytest -n "$TEST_JOBS" --dist loadfile $PYTEST_ARGS' in result.stdout
