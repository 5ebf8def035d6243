"""Golden-file tests of the 2002 report (tests/golden.py): the rendered HTML and figures.csv must
equal the reviewed files in tests/golden/; chart SVGs must be byte-identical across builds and
processes (the other process: the session's second ``lpj build``, tests/built.py). Accept a
reviewed change with `python -m tests.golden accept` (make golden-accept)."""

from __future__ import annotations

import base64
import hashlib
import re

import golden
import pytest
from built import NAME


@pytest.fixture(scope="module")
def context() -> dict:
    """The golden context (tests/golden.py), built once for the golden HTML and the charts."""
    return golden.golden_context()


@pytest.fixture(scope="module")
def current(context) -> dict[str, golden.Golden]:
    return {g.name: g for g in golden.outputs(context)}


@pytest.mark.parametrize("name", ["report.html", "figures.csv"])
def test_output_matches_golden_file(current, name):
    diff = golden.compare(current[name])
    if diff:
        pytest.fail(diff, pytrace=False)


def test_golden_html_has_no_payloads_and_one_tag_per_line(current):
    text = current["report.html"].text
    assert ";base64," not in text
    assert re.search(r"data:image/svg\+xml;sha256,[0-9a-f]{64}", text)
    assert all(line.count("<") <= 1 for line in text.splitlines())


def test_compare_writes_actual_and_shows_a_readable_diff(tmp_path, monkeypatch):
    monkeypatch.setattr(golden, "GOLDEN_DIR", tmp_path)
    (tmp_path / "x.txt").write_text("a\nb\nc\n", encoding="utf-8")
    diff = golden.compare(golden.Golden("x.txt", "a\nB\nc\n"))
    assert diff is not None
    assert "-b" in diff and "+B" in diff and "golden-accept" in diff
    assert (tmp_path / "x.txt.actual").read_text(encoding="utf-8") == "a\nB\nc\n"
    assert golden.compare(golden.Golden("x.txt", "a\nb\nc\n")) is None
    assert not (tmp_path / "x.txt.actual").exists()


def _svg_hashes(context: dict) -> list[str]:
    hashes = []
    for section in [context.get("introduction") or {}, *context["chapters"],
                    *context.get("appendices", [])]:
        for block in section.get("blocks", []):
            if block.get("type") == "figure":
                hashes.append(hashlib.sha256(block["svg"].encode("utf-8")).hexdigest())
    return hashes


CHART_IMG = r'<img class="chart" src="data:image/svg\+xml;{}"'


def test_chart_svgs_are_identical_across_builds_and_processes(context, current, second_build):
    first = _svg_hashes(context)
    second = _svg_hashes(golden.golden_context())   # drawn again in this process
    assert first and first == second
    # another process (other hash seed and folder, no cache): the session's second lpj build
    page = (second_build.out / f"{NAME}.html").read_text(encoding="utf-8")
    other = [hashlib.sha256(base64.b64decode(data)).hexdigest()
             for data in re.findall(CHART_IMG.format("base64,([A-Za-z0-9+/=]+)"), page)]
    assert other == first
    # and the golden HTML carries exactly these charts, in this order
    in_html = re.findall(CHART_IMG.format("sha256,([0-9a-f]{64})"), current["report.html"].text)
    assert in_html == first


def test_normalise_replaces_payloads_by_their_hash():
    svg = b"<svg xmlns='http://www.w3.org/2000/svg'/>"
    html = ('<p>x</p><img src="data:image/svg+xml;base64,'
            + base64.b64encode(svg).decode() + '"><style>p{}</style>')
    text = golden.normalise_html(html)
    assert hashlib.sha256(svg).hexdigest() in text
    assert "p{}" not in text and "/* style sheet */" in text
    assert text.splitlines()[:3] == ["<p>", "x", "</p>"]
