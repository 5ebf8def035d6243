"""Where a build's numbers come from: the metadata of figures.json, the code version and the
default build date.

Layer: findings (imports base, load and derive modules only: ``wave`` for the data file's hash).
``lpj build``, ``lpj figures``, ``lpj diff``, the editions and the report context read these
instead of each other.
"""

from __future__ import annotations

import datetime as dt
import subprocess

from lpj_report import __version__
from lpj_report.paths import ROOT


def build_meta(build) -> dict:
    """The ``meta`` of a build's figures.json: wave, status, data file and its SHA-256, codebook
    and code version, number of respondents."""
    from lpj_report.wave import sha256

    path = build.wave.responses_path
    meta = {
        "wave": build.wave.year,
        "status": build.wave.status,
        "data_file": path.name,
        "data_sha256": sha256(path),
        "codebook_version": build.project.codebook.version,
        "code_version": __version__,
        "respondents": int(len(build.data)),
    }
    lowered = lowered_of(build)
    if lowered:
        meta["disclosure_lowered"] = lowered
    return meta


def lowered_of(build) -> dict[str, int] | None:
    """``{"min_base", "floor"}`` when the build's disclosure control (set by
    :func:`lpj_report.edition_numbers.protect_wave`) was lowered below its floor
    (--allow-low-min-base), else None."""
    from lpj_report import suppression

    return suppression.lowered(build.__dict__.get("disclosure"))


def git_version() -> str:
    """``lpj-report 0.1.0 (git abc1234)``, the code version printed in the colophon; without git,
    the package version alone."""
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"lpj-report {__version__}"
    return f"lpj-report {__version__} (git {rev})"


def default_date(wave) -> dt.date:
    """The date used when SOURCE_DATE_EPOCH is not set (never the clock): the date of the last
    commit of the checkout, else the wave's ``date``, else the last day of the survey year."""
    try:
        day = subprocess.run(["git", "log", "-1", "--format=%cs"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.strip()
        return dt.date.fromisoformat(day)
    except (OSError, subprocess.CalledProcessError, ValueError):
        pass
    value = wave.meta.get("date")
    if value:
        return dt.date.fromisoformat(str(value))
    return dt.date(int(wave.year), 12, 31)
