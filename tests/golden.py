"""Golden files of the 2002 report: the rendered HTML and figures.csv.

A deterministic build (fixed code version, created date and build date) of the wave's report is
compared with the files in ``tests/golden/``. The HTML is normalised so that a diff stays
readable: every chart's ``data:`` URI is replaced by the SHA-256 of the chart (chart bytes are
tested for determinism separately, tests/test_golden.py), the inline style sheets by a placeholder
(the CSS is checked by the layout and quality tests, not here), and the document is broken into
one tag or text run per line.

On a mismatch the actual output is written beside the golden file as ``*.actual`` and the test
fails with a unified diff. After reviewing the change, accept it with

    python -m tests.golden accept        (or: make golden-accept)

``python -m tests.golden check`` compares without pytest.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
WAVE = 2002
CREATED = "2002-09-01"
BUILD_DATE = "1. september 2002"
CODE_VERSION = "lpj-report (golden)"
DIFF_LINES = 200

_DATA_URI = re.compile(r'data:(?P<type>[\w/+.-]+);base64,(?P<data>[A-Za-z0-9+/=]+)')
_STYLE = re.compile(r"(<style[^>]*>)(.*?)(</style>)", re.S)


@dataclass(frozen=True)
class Golden:
    name: str
    text: str

    @property
    def path(self) -> Path:
        return GOLDEN_DIR / self.name

    @property
    def actual_path(self) -> Path:
        return GOLDEN_DIR / (self.name + ".actual")


@cache
def golden_build():
    from lpj_report.build import protect
    from lpj_report.pipeline import Build, Project

    build = Build.load(Project(), WAVE)
    protect(build)   # as lpj build publishes it: numbers on too few answers withheld
    return build


def golden_context(build=None) -> dict:
    """The report context with every date and version fixed."""
    from lpj_report.report_context import build_context

    return build_context(build or golden_build(), created=CREATED, build_date=BUILD_DATE,
                         code_version=CODE_VERSION)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def normalise_html(html: str) -> str:
    """The HTML with payloads replaced by their hashes, one tag or text run per line."""
    html = _DATA_URI.sub(lambda m: f"data:{m['type']};sha256,"
                         f"{_sha(base64.b64decode(m['data']))}", html)
    html = _STYLE.sub(lambda m: f"{m[1]}/* style sheet */{m[3]}", html)
    lines = []
    for part in re.split(r"(<[^>]+>)", html):
        part = part.strip()
        if part:
            lines.append(part)
    return "\n".join(lines) + "\n"


def outputs(context: dict | None = None) -> list[Golden]:
    """The current outputs to compare with the golden files (the HTML rendered from
    ``context``, a :func:`golden_context`, when given)."""
    from lpj_report import render
    from lpj_report.output import figures_csv

    build = golden_build()
    html = render.render_html_text(context if context is not None else golden_context(build))
    return [Golden("report.html", normalise_html(html)),
            Golden("figures.csv", figures_csv(build.figures, build.project.figures,
                                              build.project.codebook).decode("utf-8"))]


def compare(golden: Golden) -> str | None:
    """None when the output equals its golden file; otherwise a unified diff (and the output
    is written to ``*.actual``)."""
    expected = golden.path.read_text(encoding="utf-8") if golden.path.exists() else ""
    if expected == golden.text:
        if golden.actual_path.exists():
            golden.actual_path.unlink()
        return None
    golden.actual_path.write_text(golden.text, encoding="utf-8")
    diff = list(difflib.unified_diff(expected.splitlines(), golden.text.splitlines(),
                                     fromfile=str(golden.path), tofile=str(golden.actual_path),
                                     lineterm="", n=2))
    shown = diff[:DIFF_LINES]
    if len(diff) > DIFF_LINES:
        shown.append(f"… {len(diff) - DIFF_LINES} more diff lines; see {golden.actual_path}")
    missing = "" if golden.path.exists() else f"(no golden file {golden.path} yet)\n"
    return (f"{missing}{golden.name} differs from its golden file. Review the diff; accept with "
            f"`python -m tests.golden accept` (make golden-accept).\n" + "\n".join(shown))


def accept() -> list[Path]:
    GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for golden in outputs():
        golden.path.write_text(golden.text, encoding="utf-8")
        if golden.actual_path.exists():
            golden.actual_path.unlink()
        written.append(golden.path)
    return written


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "accept":
        for path in accept():
            print(f"accepted {path}")
        return 0
    if command == "check":
        failed = [d for d in (compare(g) for g in outputs()) if d]
        for diff in failed:
            print(diff)
        print("golden files: " + ("differ" if failed else "ok"))
        return 1 if failed else 0
    print("usage: python -m tests.golden [check|accept]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
