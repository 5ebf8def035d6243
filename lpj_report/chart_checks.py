"""What a chart function accepts, and which text colour reads on a fill.

Layer: charts (imports lpj_report.format only). The checks refuse labels and values that do not
fit together, naming what was wrong; the colour rule picks near-black or white text by WCAG
contrast. :mod:`lpj_report.charts` re-exports every name.
"""

from __future__ import annotations

from collections.abc import Sequence

from lpj_report import format as fmt

TEXT = "#262626"


def _check(labels: Sequence[str], values: Sequence[float], what: str = "values") -> None:
    if len(labels) != len(values):
        raise ValueError(f"{len(labels)} labels but {len(values)} {what}")
    if not labels:
        raise ValueError("a chart needs at least one value")
    for value in values:
        if not fmt.is_number(value):
            raise ValueError(f"not a finite number in {what}: {value!r}")


def _check_matrix(groups: Sequence[str], categories: Sequence[str], values) -> None:
    if len(values) != len(groups):
        raise ValueError(f"{len(groups)} groups but {len(values)} rows of values")
    for row in values:
        _check(categories, row, "values in a row")


def _luminance(colour: str) -> float:
    rgb = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def text_colour_on(fill: str) -> str:
    """Black-ish or white text on ``fill``, whichever has the higher WCAG contrast."""
    lum = _luminance(fill)
    dark = (lum + 0.05) / (_luminance(TEXT) + 0.05)
    light = 1.05 / (lum + 0.05)
    return TEXT if dark >= light else "#ffffff"
