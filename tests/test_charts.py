"""charts.py: deterministic SVG with real Danish text, decimal commas and the shipped font."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from lpj_report import charts

PLACES = ["Forvaltning", "Skole", "Vuggestue/børnehave", "Fritidsordning/fritidsklub", "Dagplejen"]
LEVELS = ["Lav læring", "Middel læring", "Høj læring"]
MATRIX = [
    [21.5, 45.0, 33.5],
    [50.0, 30.0, 20.0],
    [20.0, 50.0, 30.0],
    [18.0, 42.0, 40.0],
    [57.0, 33.0, 10.0],
]

CHARTS = {
    "pie": lambda: charts.pie(LEVELS, [21.45, 45.3, 33.25], decimals=1),
    "pies": lambda: charts.pies(PLACES, LEVELS, MATRIX, decimals=1),
    "bar": lambda: charts.bar(PLACES, [12.25, 50.0, 20.0, 9.0, 57.0], decimals=1, sort=True),
    "stacked": lambda: charts.stacked(
        PLACES,
        ["Forskellige", "Ens"],
        [[77.5, 22.5], [75, 25], [69, 31], [68, 32], [52, 48]],
        decimals=1,
    ),
    "ranked": lambda: charts.ranked(
        ["Kolleger", "Opgaver", "Nysgerrighed", "Tillid", "Evaluering", "Kurser"],
        [55.5, 48.25, 40.1, 33.3, 20.15, 60.0],
        top=5,
        decimals=1,
    ),
    "grouped": lambda: charts.grouped(
        ["Forvaltning", "Dagpasning", "Ældre"],
        ["Faglig", "Personale"],
        [[30.5, 69.5], [20.0, 80.0], [45.0, 55.0]],
        decimals=1,
    ),
    "years": lambda: charts.bar(
        ["Medarbejdere", "Ledere"], [44.25, 49.0], unit="years", decimals=1
    ),
}


def _texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(node.itertext()) for node in root.iter("{http://www.w3.org/2000/svg}text")]


@pytest.mark.parametrize("kind", CHARTS)
def test_same_input_same_bytes(kind):
    first, second = CHARTS[kind](), CHARTS[kind]()
    assert first == second


@pytest.mark.parametrize("kind", CHARTS)
def test_svg_has_real_danish_text_with_decimal_comma(kind):
    svg = CHARTS[kind]()
    assert svg.lstrip().startswith("<?xml")
    texts = _texts(svg)
    assert texts, "text was drawn as paths"
    joined = " ".join(texts)
    assert re.search(r"\d,\d", joined), joined
    assert not re.search(r"\d\.\d", joined), joined  # no decimal point anywhere
    assert "<dc:date>" not in svg
    assert "font-family: 'LPJ Sans', 'Liberation Sans'" in svg


def test_labels_and_values_in_danish():
    texts = " ".join(_texts(CHARTS["pies"]()))
    assert "Vuggestue/" in texts and "børnehave" in texts
    assert "57,0\u00a0%" in texts and "Høj læring" in texts
    assert "44,3\u00a0år" in " ".join(_texts(CHARTS["years"]()))  # 44.25 rounds half up


def test_ranked_keeps_top_n_highest_first():
    texts = _texts(CHARTS["ranked"]())
    order = [
        t
        for t in texts
        if t in {"Kolleger", "Opgaver", "Nysgerrighed", "Tillid", "Evaluering", "Kurser"}
    ]
    assert order == ["Kurser", "Kolleger", "Opgaver", "Nysgerrighed", "Tillid"]


def test_bar_sort_and_given_order():
    given = [t for t in _texts(charts.bar(["B", "A", "C"], [1, 3, 2])) if t in "ABC"]
    ranked = [t for t in _texts(charts.bar(["B", "A", "C"], [1, 3, 2], sort=True)) if t in "ABC"]
    assert given == ["B", "A", "C"] and ranked == ["A", "C", "B"]


def test_percent_axis_ticks_are_danish():
    texts = _texts(charts.bar(["A", "B"], [40, 80]))
    assert "0\u00a0%" in texts and "80\u00a0%" in texts


@pytest.mark.parametrize(
    "call",
    [
        lambda: charts.pie(["a", "b"], [1.0]),
        lambda: charts.bar([], []),
        lambda: charts.bar(["a"], [float("nan")]),
        lambda: charts.bar(["a"], [None]),
        lambda: charts.stacked(["g"], ["a", "b"], [[70, 40]]),
        lambda: charts.grouped(["g", "h"], ["a"], [[1]]),
        lambda: charts.ranked(["a"], [1], top=0),
        lambda: charts.pie([str(i) for i in range(12)], [1.0] * 12),
    ],
)
def test_bad_input_raises(call):
    with pytest.raises(ValueError):
        call()


def test_text_colour_has_contrast():
    assert charts.text_colour_on("#0173b2") == "#ffffff"
    assert charts.text_colour_on("#de8f05") == charts.TEXT


def test_shipped_font_is_the_one_measured():
    from matplotlib import font_manager

    with charts.house_style():
        path = font_manager.findfont("Liberation Sans")
    assert path.startswith(str(charts.FONT_DIR))
    assert (charts.FONT_DIR / "OFL.txt").exists()


# --------------------------------------------------------------------------- other forms


def _width_pt(svg: str) -> float:
    return float(re.search(r'<svg[^>]*\swidth="([\d.]+)pt"', svg).group(1))


@pytest.mark.parametrize("kind", CHARTS)
def test_phone_layout_is_narrower_and_keeps_its_text(kind):
    wide = CHARTS[kind]()
    narrow = charts.narrow_svg(wide)
    assert narrow is not None and narrow != wide
    assert _width_pt(narrow) <= charts.NARROW.width_in * 72 + 40 < _width_pt(wide)
    # the same text, wrapped differently (lines break at spaces and after "/")
    letters = sorted("".join("".join(_texts(wide)).split()))
    assert sorted("".join("".join(_texts(narrow)).split())) == letters
    assert charts.narrow_svg(wide) == narrow  # drawn once, and the same


@pytest.mark.parametrize("kind", ["pie", "stacked"])
def test_png_is_the_chart_at_200_dpi(kind):
    svg = CHARTS[kind]()
    data = charts.png(svg)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(data[16:20], "big")
    assert abs(width - _width_pt(svg) / 72 * charts.PNG_DPI) <= 3
    assert charts.png(svg) == data


def test_other_forms_only_of_charts_drawn_here():
    assert charts.narrow_svg('<svg xmlns="http://www.w3.org/2000/svg"/>') is None
    assert charts.png("<svg/>") is None


@pytest.mark.parametrize("label", ["5 $ og 10 $", "$x^2$", "$\\alpha$ og $"])
def test_a_label_with_dollars_is_literal_text(label):
    """Labels are never matplotlib math: "5 $ og 10 $" prints as typed (no italics, no error)."""
    for svg in (charts.bar([label, "B"], [10, 20]), charts.ranked([label, "B"], [10, 20])):
        assert label in _texts(svg)
