"""bar_svg.py: the editions' paired bars, written as SVG without matplotlib's figure machinery.

The chart is read back as SVG: bars proportional to their values, withheld values as the mark
without a bar, labels left of the axis and every value label inside the chart, in the wide and
in the phone layout, and the same bytes for the same input.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from lpj_report import bar_svg, charts, paired

NS = {"s": "http://www.w3.org/2000/svg"}
LABELS = ["Højt arbejdstempo", "Manglende opbakning fra overordnede", "Økonomi & <kontrol>"]
K = [39.6, None, 100.0]
T = [45.9, 14.4, 16.2]
NAMES = ("Hasle", "Alle kommuner")
FONT = str(charts.FONT_DIR / "LiberationSans-Regular.ttf")


def _draw(layout=charts.WIDE, **kwargs) -> str:
    token = charts._LAYOUT.set(layout)
    try:
        return paired.paired_chart.__wrapped__(LABELS, K, T, NAMES, unit="pct", decimals=0,
                                               **kwargs)
    finally:
        charts._LAYOUT.reset(token)


def _size(style: str) -> float:
    return float(re.search(r"font-size: ([0-9.]+)px", style).group(1))


def _texts(root) -> list[tuple[float, float, str, str, float]]:
    """(x, y, anchor, text, size) of every text element."""
    out = []
    for t in root.iter("{http://www.w3.org/2000/svg}text"):
        anchor = re.search(r"text-anchor: (\w+)", t.get("style")).group(1)
        out.append((float(t.get("x")), float(t.get("y")), anchor, t.text, _size(t.get("style"))))
    return out


def _extent(x: float, anchor: str, text: str, size: float) -> tuple[float, float]:
    width = bar_svg.text_width(text, size, FONT)
    return {"start": (x, x + width), "end": (x - width, x),
            "middle": (x - width / 2, x + width / 2)}[anchor]


@pytest.mark.parametrize("layout", [charts.WIDE, charts.NARROW], ids=["wide", "narrow"])
def test_paired_bars_read_back(layout):
    svg = _draw(layout)
    assert svg == _draw(layout)                       # same input, same bytes
    root = ET.fromstring(svg)
    width = float(root.get("viewBox").split()[2])
    assert width == pytest.approx(layout.width_in * 72, abs=0.01)
    texts = _texts(root)
    words = [t[3].replace("\xa0", " ") for t in texts]   # a no-break space before '%'
    assert {"Hasle", "Alle kommuner", "40 %", "46 %", "◊", "14 %", "100 %", "16 %"} <= set(words)
    assert "Økonomi & <kontrol>" in " ".join(words)   # escaped, read back as written
    assert min(t[4] for t in texts) >= 8.0
    rects = root.findall("s:rect", NS)[1:]            # the first is the white background
    colours = [re.search(r"fill: (#\w+)", r.get("style")).group(1) for r in rects]
    bars = [(float(r.get("width")), c) for r, c in zip(rects, colours, strict=True)
            if float(r.get("height")) > 8]
    # five bars (the withheld one has none), in the municipality's and the total's colours
    assert [c for _, c in bars] == [charts.PALETTE[0], charts.PALETTE[6], charts.PALETTE[6],
                                    charts.PALETTE[0], charts.PALETTE[6]]
    lengths = [w for w, _ in bars]
    for (length, value) in zip(lengths, [39.6, 45.9, 14.4, 100.0, 16.2], strict=True):
        assert length / lengths[3] == pytest.approx(value / 100.0, rel=1e-3)
    # the axis sits right of every category label; every text lies inside the chart
    axis_x = min(float(r.get("x")) for r in rects if float(r.get("height")) > 8)
    for x, _, anchor, text, size in texts:
        left, right = _extent(x, anchor, text, size)
        assert left >= 0 and right <= width, text
        if anchor == "end":                           # a category label
            assert right < axis_x, text


def test_a_png_of_paired_bars_comes_from_the_svg():
    """Asked for a PNG (charts.png), the writer hands it on: the chart files draw it from the
    SVG with librsvg, like every chart."""
    svg = paired.paired_chart(LABELS, K, T, NAMES, unit="pct", decimals=0)
    assert charts.png(svg) is None
    assert charts.narrow_svg(svg) == _draw(charts.NARROW)


def test_long_names_make_a_legend_of_rows_on_a_phone():
    names = ("Kommunen med det meget lange navn", "Alle kommuner i undersøgelsen")
    token = charts._LAYOUT.set(charts.NARROW)
    try:
        svg = paired.paired_chart.__wrapped__(LABELS, K, T, names, unit="pct", decimals=0)
    finally:
        charts._LAYOUT.reset(token)
    texts = {t[3]: t for t in _texts(ET.fromstring(svg))}
    assert texts[names[1]][1] > texts[names[0]][1]   # the second entry on a row of its own
