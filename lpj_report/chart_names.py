"""The names of the chart files beside a report: ``figurer/figur-03-<figure id>.svg`` and ``.png``.

Layer: charts (imports nothing from lpj_report). :func:`lpj_report.render.prepare` links the HTML
to these names, :mod:`lpj_report.chart_files` writes the files under them.
"""

from __future__ import annotations

import re

CHART_DIR = "figurer"
PNG_DPI = 200  # chart PNGs (files, Word): 1.260 px across the 16 cm text width


def chart_file(number: str, figure_id: str = "") -> str:
    """The chart files' path without suffix, relative to the report: ``figurer/figur-03-kap2.laering``
    (the figure's number, two digits, then its id in the figure registry when it has one)."""
    head, _, tail = number.partition(".")
    head = head.zfill(2) if head.isdigit() else re.sub(r"[^a-z0-9]+", "-", head.casefold())
    stem = "figur-" + head + (f"-{tail}" if tail else "")
    if figure_id:
        stem += "-" + re.sub(r"[^a-z0-9_.-]+", "-", figure_id.casefold())
    return f"{CHART_DIR}/{stem}"
