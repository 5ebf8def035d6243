"""Layout regressions found by the quality gates (tests/test_build_quality.py) on a full report:
long chart labels ran into each other, and wide tables ran off the A4 page."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from render_demo import demo_context

from lpj_report import charts, render

SVG = "{http://www.w3.org/2000/svg}"
LONG = [
    "Arbejde for, at der holdes medarbejdersamtaler og udarbejdes udviklingsplaner for den "
    "enkelte medarbejder",
    "Indgå lokale aftaler om efteruddannelse og videreuddannelse",
    "Skabe mere sammenhæng mellem ny løn og kompetenceudvikling",
    "Presse på for kurser mv.",
    "Andet",
]


def _label_lines(svg: str, labels: list[str]) -> list[tuple[float, float]]:
    """(top, bottom) y of each label's lines as drawn, in label order (no two labels share a
    line of text here)."""
    lines: dict[str, float] = {}
    for node in ET.fromstring(svg).iter(SVG + "text"):
        moved = re.search(r"translate\(([\d.-]+) ([\d.-]+)\)", node.get("transform", ""))
        y = float(moved.group(2)) if moved else float(node.get("y", "nan"))
        lines["".join(node.itertext())] = y
    spans = []
    for label in labels:
        ys = [lines[line] for line in charts._wrap(label).split("\n")]
        spans.append((min(ys), max(ys)))
    return spans


@pytest.mark.parametrize("kind", ["ranked", "bar", "stacked", "grouped"])
def test_long_labels_do_not_run_into_each_other(kind):
    if kind == "ranked":
        svg = charts.ranked(LONG, [48, 42, 35, 30, 6], top=5)
    elif kind == "bar":
        svg = charts.bar(LONG, [48, 42, 35, 30, 6])
    elif kind == "stacked":
        svg = charts.stacked(LONG, ["Ja", "Nej"], [[60, 40]] * len(LONG))
    else:
        svg = charts.grouped(LONG, ["Ja", "Nej"], [[60, 40]] * len(LONG))
    spans = sorted(_label_lines(svg, LONG))
    font = 9  # pt = SVG user units
    for (_, bottom), (top, _) in zip(spans, spans[1:], strict=False):
        assert top - bottom >= font, f"labels overlap: {spans}"


def test_wide_tables_get_the_compact_print_style():
    context = demo_context()
    wide = {
        "columns": ["", *[f"Kommune{n:02}" for n in range(12)], "Antal svar"],
        "rows": [["Tillidsrepræsentant", *["12\u00a0%"] * 12, "1.680"]],
    }
    context["appendices"][0]["blocks"].append({"type": "table", "title": "Bred", "table": wide})
    ready = render.prepare(context)
    tables = [b["table"] for b in ready["appendices"][0]["blocks"]]
    assert [t["wide"] for t in tables] == [False, True]
    html = render.render_html_text(context)
    assert html.count('class="table-scroll wide"') == 1
    assert ".table-scroll.wide th" in html  # the print rule is in the page's CSS


def test_slash_and_space_are_the_only_break_points_of_the_estimate():
    one = {"columns": ["", "Fritidsordning/fritidsklub"], "rows": [["A", "9\u00a0%"]]}
    assert render._table_width_em(one) == pytest.approx(0.5 * 1 + 1.2 + 0.5 * 15 + 1.2)


def test_text_columns_are_left_aligned_and_number_columns_right_aligned():
    table = {"columns": ["Udsagn", "Test", "n", "p", "Resultat"],
             "rows": [["A", "χ²-test", "1.404", "<\u00a00,001", "holder"],
                      ["B", "Spearmans rangkorrelation", "1.348", "0,015", ""],
                      ["C", "test af to andele", "–", "p = 0,2", "holder ikke"]]}
    context = demo_context()
    context["appendices"][0]["blocks"] = [{"type": "table", "title": "Udsagn", "table": table}]
    ready = render.prepare(context)
    assert ready["appendices"][0]["blocks"][0]["table"]["numeric"] == [
        False, False, True, True, False]
    html = render.render_html_text(context)
    assert '<td class="num">1.404</td>' in html and "<td>χ²-test</td>" in html
    assert '<th scope="col" class="num">p</th>' in html and '<th scope="col">Test</th>' in html


def test_long_tables_may_break_across_pages_short_ones_stay_whole():
    rows = [[f"Række {n}", f"{n}\u00a0%"] for n in range(render.LONG_TABLE_ROWS + 1)]
    context = demo_context()
    context["appendices"][0]["blocks"] = [
        {"type": "table", "title": "Lang", "table": {"columns": ["", "Andel"], "rows": rows}},
        {"type": "table", "title": "Kort", "table": {"columns": ["", "Andel"], "rows": rows[:3]}},
    ]
    html = render.render_html_text(context)
    assert html.count('class="table-scroll long"') == 1
    assert ".table-scroll.long" in html
