"""``lpj preview``: the served page follows the chapter sources as they are saved.

The server runs in this process on a free port, over a copy of the chapter sources in a
temporary folder (the project's own are never touched), and is stopped after the module.
Every wait polls the page with a timeout; none sleeps a fixed time.
"""

from __future__ import annotations

import html
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from lpj_report import cli_errors
from lpj_report.chapters import ChapterError
from lpj_report.findings import FindingError
from lpj_report.preview import DATA, LAYOUT, TEXT, PreviewServer, ReportSource, change_kind
from lpj_report.report_context import CHAPTERS_DIR

FIRST_BUILD = 600      # seconds: data, figures, findings and every chart, on two busy cores
REBUILD = 60           # generous: a text-only rebuild takes about a second
REPORT_MARK = 'id="kapitel-1"'
ERROR_TITLE = "Rapporten kunne ikke bygges"


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read().decode("utf-8")


def wait_for(url: str, wanted, timeout: float, what: str) -> str:
    """The page once ``wanted(page)`` holds, polled until ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    page = ""
    while time.monotonic() < deadline:
        page = fetch(url)
        if wanted(page):
            return page
        time.sleep(0.1)
    pytest.fail(f"after {timeout} s the page still does not show {what}; it begins "
                f"{page[:300]!r}")


@pytest.fixture(scope="module")
def preview(tmp_path_factory):
    chapters = tmp_path_factory.mktemp("preview") / "chapters"
    shutil.copytree(CHAPTERS_DIR, chapters)
    log: list[str] = []
    server = PreviewServer(ReportSource("2002", chapters=chapters), port=0, log=log.append,
                           watched=())            # only the copy: the project stays as it is
    server.start()
    try:
        page = wait_for(server.url, lambda p: REPORT_MARK in p or ERROR_TITLE in p,
                        FIRST_BUILD, "the first build")
        assert ERROR_TITLE not in page, log
        yield SimpleNamespace(url=server.url, chapters=chapters, log=log, server=server)
    finally:
        server.stop()


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_saved_sentence_is_served(preview):
    page = fetch(preview.url)
    version = fetch(preview.url + "version")
    assert f'var shown = "{version}";' in page      # the page knows the build it shows
    assert "<script src" not in page                 # nothing from elsewhere
    sentence = "Denne sætning er skrevet af testen for forhåndsvisningen."
    assert sentence not in page
    _append(preview.chapters / "10_kapitel1.md", f"\n{sentence}\n")
    page = wait_for(preview.url, lambda p: sentence in p, REBUILD, "the new sentence")
    assert REPORT_MARK in page
    assert fetch(preview.url + "version") != version
    assert any(line.endswith("(text)") for line in preview.log), preview.log


@pytest.mark.parametrize("broken, message", [
    ('\n{% finding "kap9.findes_ikke" %}{% when supported %}Nej.{% endfinding %}\n',
     "unknown finding 'kap9.findes_ikke' (not in data/findings)"),
    ("\nSvarprocenten er {{ W.year }.\n", "unexpected '}'"),
], ids=["unknown-finding", "jinja-syntax"])
def test_broken_chapter_shows_its_error_until_fixed(preview, broken, message):
    path = preview.chapters / "20_kapitel2.md"
    original = path.read_text(encoding="utf-8")
    wait_for(preview.url, lambda p: REPORT_MARK in p, REBUILD, "the report")
    try:
        _append(path, broken)
        line = len(path.read_text(encoding="utf-8").splitlines())
        expected = f"error: 20_kapitel2.md, line {line}: {message}"
        page = wait_for(preview.url, lambda p: ERROR_TITLE in p, REBUILD, "the error")
        assert html.escape(expected) in page         # what `lpj build` prints, word for word
        assert REPORT_MARK not in page               # not the stale report
        assert "var shown" in page                   # and it reloads itself once fixed
    finally:
        path.write_text(original, encoding="utf-8")
    page = wait_for(preview.url, lambda p: REPORT_MARK in p, REBUILD, "the report again")
    assert ERROR_TITLE not in page


def test_unknown_paths_answer_404(preview):
    with pytest.raises(urllib.error.HTTPError) as err:
        fetch(preview.url + "data/codebook/codebook.yaml")
    assert err.value.code == 404


@pytest.mark.parametrize("error", [
    ChapterError("20_kapitel2.md, line 3: unknown finding 'x' (not in data/findings)"),
    FindingError("20_kapitel2.yaml: finding 'kap2.x': unknown figure 'kap2.y'"),
], ids=["chapter", "finding"])
def test_page_message_is_what_the_command_prints(error, capsys):
    def fails():
        raise error

    assert cli_errors.run_guarded(fails) == 2
    assert capsys.readouterr().err == cli_errors.describe(error) + "\n"


def test_what_a_save_rebuilds(tmp_path):
    from lpj_report.paths import DATA_DIR, TEMPLATES_DIR

    chapters = tmp_path / "chapters"
    assert change_kind([chapters / "10_kapitel1.md"], chapters) == TEXT
    assert change_kind([TEMPLATES_DIR / "chapters" / "10_kapitel1.md"], chapters) == TEXT
    assert change_kind([TEMPLATES_DIR / "chapters" / "_ord.yaml"], chapters) == LAYOUT
    assert change_kind([TEMPLATES_DIR / "static" / "report.css"], chapters) == LAYOUT
    assert change_kind([TEMPLATES_DIR / "editions" / "manifest.yaml"], chapters) == DATA
    for folder in ("figures", "findings", "codebook"):
        assert change_kind([DATA_DIR / folder / "x.yaml"], chapters) == DATA
    assert change_kind([DATA_DIR / "disclosure.yaml"], chapters) == DATA
    assert change_kind([DATA_DIR / "waves" / "2002" / "plausibility.md"], chapters) is None
    assert change_kind([DATA_DIR / "reconstruction" / "00_latent.yaml"], chapters) is None
    assert change_kind([chapters / "10_kapitel1.md", DATA_DIR / "findings" / "x.yaml"],
                       chapters) == DATA
    assert change_kind([], chapters) is None
