"""The ``lpj`` command line as a user meets it: help, version, suggestions for typos, the
municipality list, formats in any case, English messages with relative paths that do not wrap,
plain progress in logs, kept or removed formats, and shell completion."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest

from lpj_report import build, cli, publish, terminal
from lpj_report.codebook import default_codebook


def test_version(capsys):
    from lpj_report import __version__

    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out == f"lpj {__version__}\n"


def test_bare_lpj_prints_help(capsys):
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: lpj")
    for command in ("generate", "verify", "figures", "build", "editions", "diff", "validate",
                    "kommuner", "completion"):
        assert f"    {command}" in out
    assert "Messages are English; the report is Danish." in " ".join(out.split())


@pytest.mark.parametrize(("typed", "meant"), [("biuld", "build"), ("dif", "diff"),
                                              ("komuner", "kommuner"), ("verfy", "verify")])
def test_a_misspelt_command_gets_a_suggestion(typed, meant, capsys):
    assert cli.main([typed, "--wave", "2002"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: unknown command {typed!r} (did you mean {meant!r}?)")
    assert "Traceback" not in err


def test_nothing_close_gets_no_guess(capsys):
    assert cli.main(["xyzzy"]) == 2
    err = capsys.readouterr().err
    assert "did you mean" not in err and "commands: generate, verify" in err


@pytest.mark.parametrize(("typed", "meant"), [("Hilerød", "Hillerød"), ("odnese", "odense"),
                                              ("aalbrog", "aalborg")])
def test_a_misspelt_municipality_gets_a_suggestion(typed, meant, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["build", "--kommune", typed, "--formats", "html", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"no municipality {typed!r} in the codebook (did you mean {meant!r}?)" in err
    assert "lpj kommuner" in err and "Traceback" not in err
    assert not out.exists(), "nothing written"


def test_editions_suggest_too(capsys):
    assert cli.main(["editions", "--kommune", "gentofe", "--formats", "html"]) == 2
    assert "(did you mean 'gentofte'?)" in capsys.readouterr().err


def test_a_name_that_is_no_name_gets_no_suggestion(capsys):
    assert cli.main(["build", "--kommune", "odense; rm -rf ~", "--formats", "html"]) == 2
    err = capsys.readouterr().err
    assert "no municipality 'odense; rm -rf ~'" in err and "did you mean" not in err


def test_kommuner_lists_the_codebook(capsys):
    assert cli.main(["kommuner"]) == 0
    lines = capsys.readouterr().out.splitlines()
    codes = default_codebook()["kommune"].codes
    assert len(lines) == len(codes) == 12
    assert [line.split()[0] for line in lines] == [c.key for c in codes]
    assert "hilleroed  Hillerød" in lines and "aalborg    Aalborg" in lines


def test_formats_in_any_case():
    assert build.parse_formats("PDF") == ["pdf"]
    assert build.parse_formats(" Html, DOCX ,html") == ["html", "docx"]
    with pytest.raises(ValueError, match=r"unknown format\(s\) 'pfd' \(did you mean 'pdf'\?\)"):
        build.parse_formats("html,pfd")
    with pytest.raises(ValueError, match="no format given"):
        build.parse_formats(" , ")


def test_an_unknown_format_is_refused_before_any_work(tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["build", "--formats", "HTML,word", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == "error: unknown format(s) 'word'; choose from html, pdf, docx\n"
    assert not out.exists()


def test_paths_are_shown_relative_to_the_working_folder(tmp_path, monkeypatch):
    (tmp_path / "report" / "2002").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "report")
    assert terminal.shown(tmp_path / "report" / "2002" / "x.pdf") == "2002/x.pdf"
    assert terminal.shown("2002") == "2002"
    assert terminal.shown(tmp_path / "report") == "."
    assert terminal.shown(tmp_path / "elsewhere.pdf") == str(tmp_path / "elsewhere.pdf")


def test_messages_do_not_wrap_paths():
    buffer = io.StringIO()
    console = terminal.console(file=buffer, width=40)
    path = "report/2002/kommuner/hilleroed/laering-paa-jobbet-hilleroed.docx"
    console.print(f"  {path}", markup=False)
    assert buffer.getvalue() == f"  {path}\n"


def test_progress_is_plain_lines_when_stderr_is_no_terminal():
    buffer = io.StringIO()
    with terminal.steps("lpj build", 3, out=buffer) as progress:
        for step in ("figures", "text and charts", "HTML, PDF"):
            progress.step(step)
    assert buffer.getvalue() == ("lpj build: 1/3 figures\nlpj build: 2/3 text and charts\n"
                                 "lpj build: 3/3 HTML, PDF\n")
    assert "\x1b" not in buffer.getvalue()


def _earlier_build(folder, inputs: str) -> None:
    folder.mkdir()
    build.write_marker(folder, "lpj build", inputs)
    for kind in publish.FORMATS:
        (folder / f"{build.NAME}.{kind}").write_text(f"old {kind}", encoding="utf-8")


def test_building_some_formats_keeps_the_others_from_the_same_inputs(tmp_path):
    out, work = tmp_path / "report", tmp_path / "work"
    _earlier_build(out, "same")
    work.mkdir()
    (work / f"{build.NAME}.html").write_text("new html", encoding="utf-8")
    kept, removed = build.carry_over(out, work, build.NAME, ["html", "pdf"], "same")
    assert (kept, removed) == ([f"{build.NAME}.docx"], [])
    build.replace_folder(work, out)
    assert (out / f"{build.NAME}.docx").read_text(encoding="utf-8") == "old docx"
    assert (out / f"{build.NAME}.html").read_text(encoding="utf-8") == "new html"
    assert not (out / f"{build.NAME}.pdf").exists(), "pdf was asked for: not carried over"


def test_other_inputs_remove_the_other_formats_and_say_so(tmp_path):
    out, work = tmp_path / "report", tmp_path / "work"
    _earlier_build(out, "before")
    work.mkdir()
    kept, removed = build.carry_over(out, work, build.NAME, ["html"], "after")
    assert kept == [] and removed == [f"{build.NAME}.pdf", f"{build.NAME}.docx"]
    build.replace_folder(work, out)
    assert not (out / f"{build.NAME}.docx").exists()
    buffer = io.StringIO()
    build.report_removed(terminal.console(file=buffer, width=60), removed)
    assert buffer.getvalue().splitlines()[1] == (
        f"  removed {build.NAME}.docx: made by an earlier build from other inputs (data, code, "
        "settings or date); rebuild it with --formats docx")


def test_the_marker_records_the_inputs(tmp_path):
    build.write_marker(tmp_path, "lpj build", "abc")
    assert (tmp_path / build.MARKER).read_text(encoding="utf-8") == (
        "built by lpj build; safe to replace\ninputs abc\n")
    digest = build.inputs_digest({"data_sha256": "x", "min_base": None})
    assert digest == build.inputs_digest({"min_base": None, "data_sha256": "x"})
    assert digest != build.inputs_digest({"data_sha256": "y", "min_base": None})


@pytest.fixture(scope="module")
def bash_script():
    from lpj_report.completion import script

    return script("bash", cli.parser())


def test_completion_script(bash_script, capsys):
    assert cli.main(["completion", "bash"]) == 0
    assert capsys.readouterr().out == bash_script
    assert bash_script.rstrip().endswith("complete -o filenames -F _lpj lpj")
    assert "hilleroed" in bash_script and "html,pdf,docx" in bash_script
    assert cli.main(["completion", "zsh"]) == 0
    assert "bashcompinit" in capsys.readouterr().out


def _complete(script: str, words: list[str]) -> list[str]:
    words_text = " ".join(f"'{w}'" for w in words)
    program = (f"{script}\nCOMP_WORDS=({words_text}); COMP_CWORD={len(words) - 1}; _lpj; "
               'printf "%s\\n" "${COMPREPLY[@]}"')
    done = subprocess.run(["bash", "--norc", "--noprofile", "-c", program], check=True,
                          capture_output=True, text=True, timeout=30)
    return sorted(line for line in done.stdout.splitlines() if line)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_completion_completes(bash_script):
    assert _complete(bash_script, ["lpj", "bu"]) == ["build"]
    assert _complete(bash_script, ["lpj", "build", "--kommune", "hi"]) == ["hilleroed"]
    assert _complete(bash_script, ["lpj", "build", "--wave", "20"]) == ["2002", "2005"]
    assert _complete(bash_script, ["lpj", "build", "--form"]) == ["--formats"]
    assert "html,pdf" in _complete(bash_script, ["lpj", "build", "--formats", "html,p"])
    assert _complete(bash_script, ["lpj", "completion", "z"]) == ["zsh"]
