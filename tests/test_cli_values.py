"""Every value typed on the command line is checked before any work: exit 2 and a message naming
the option, the value and what was expected (lpj_report/cli_values.py).

Disclosure control below the floor of data/disclosure.yaml needs --allow-low-min-base, and then
every output of the build says so.
"""

from __future__ import annotations

import json

import openpyxl
import pytest

from lpj_report import cli, suppression
from lpj_report.cli_errors import InputError

# argv → fragment of the message
REFUSED = [
    (["diff", "2002", "2005", "--alpha", "7"],
     "argument --alpha: value '7' — expected a false discovery rate between 0 and 1"),
    (["diff", "2002", "2005", "--alpha", "0"], "argument --alpha: value '0'"),
    (["diff", "2002", "2005", "--alpha", "nan"], "argument --alpha: value 'nan'"),
    (["diff", "2002", "2005", "--alpha", "fem"], "argument --alpha: value 'fem'"),
    (["build", "--kommune", "Munkebo", "--min-base", "0"],
     "argument --min-base: value '0' — expected a whole number of respondents, at least 1"),
    (["editions", "--min-base", "-3"], "argument --min-base: value '-3'"),
    (["build", "--kommune", ""],
     "argument --kommune: value '' — expected a municipality's key or name"),
    (["editions", "--kommune", "  "], "argument --kommune: value '  '"),
    (["build", "--wave", "../waves/2002"],
     "argument --wave: value '../waves/2002' — expected a survey wave, the year of a folder in "
     "data/waves (known waves: 2002, 2005)"),
    (["figures", "--wave", "/tmp/2002", "--out", "x"], "argument --wave: value '/tmp/2002'"),
    (["verify", "--wave", "1999"], "argument --wave: value '1999'"),
    (["preview", "--port", "99999"], "argument --port: value '99999' — expected a port number"),
]


@pytest.mark.parametrize(("argv", "message"), REFUSED)
def test_a_bad_value_is_refused_by_its_option(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as caught:
        cli.main(argv)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []          # nothing written


def test_min_base_below_the_floor_is_refused_without_the_override(tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["build", "--kommune", "Munkebo", "--min-base", "1", "--formats", "html",
                     "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == ("error: --min-base: value 1 — expected at least 5, the floor of disclosure "
                   "control in data/disclosure.yaml (min_base); --allow-low-min-base lowers it, "
                   "and every output then says so\n")
    assert not out.exists()


def test_load_config_checks_the_floor():
    with pytest.raises(InputError, match="value 0 — expected a whole number"):
        suppression.load_config(0)
    with pytest.raises(InputError, match="value 4 — expected at least 5"):
        suppression.load_config(4)
    assert not suppression.load_config(9).lowered
    low = suppression.load_config(2, allow_low=True)
    assert low.lowered and suppression.lowered(low) == {"min_base": 2, "floor": 5}
    assert suppression.lowered(suppression.load_config()) is None


def test_a_lowered_min_base_marks_every_output(tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["build", "--kommune", "Munkebo", "--min-base", "1", "--allow-low-min-base",
                     "--formats", "html", "--out", str(out)]) == 0
    assert "warning: disclosure control lowered: --min-base 1 is below the floor 5" \
        in capsys.readouterr().err
    edition = out / "kommuner" / "munkebo"
    page = (edition / "laering-paa-jobbet-munkebo.html").read_text(encoding="utf-8")
    assert "SVAGERE DISKRETION – tal på 1 svar eller flere vises; normalt kræves mindst 5" in page
    meta = json.loads((edition / "figures.json").read_text(encoding="utf-8"))["meta"]
    assert meta["disclosure_lowered"] == {"min_base": 1, "floor": 5}
    front = openpyxl.load_workbook(edition / "tabeller.xlsx", read_only=True).worksheets[0]
    cells = [c for row in front.iter_rows(values_only=True) for c in row if c]
    assert "SVAGERE DISKRETION" in cells
    import pandas as pd

    for name in ("figures.csv", "figures-excel.csv"):
        table = pd.read_csv(edition / name, sep=";" if "excel" in name else ",",
                            encoding="utf-8-sig")
        assert set(table["min_base"]) == {1} and set(table["min_base_floor"]) == {5}, name

    figures = str(edition / "figures.json")
    assert cli.main(["diff", figures, figures, "--min-base", "1", "--allow-low-min-base",
                     "--out", str(tmp_path / "diff")]) == 0
    assert "SVAGERE DISKRETION" in (tmp_path / "diff" / "diff.html").read_text(encoding="utf-8")
    import pandas as pd

    diff = pd.read_csv(tmp_path / "diff" / "diff.csv")
    assert len(diff) and set(diff["min_base"]) == {1} and set(diff["min_base_floor"]) == {5}


def test_a_normal_build_carries_no_such_notice(tmp_path):
    out = tmp_path / "out"
    assert cli.main(["build", "--kommune", "Munkebo", "--formats", "html", "--out",
                     str(out)]) == 0
    edition = out / "kommuner" / "munkebo"
    assert "SVAGERE" not in (edition / "laering-paa-jobbet-munkebo.html").read_text("utf-8")
    assert "disclosure_lowered" not in json.loads(
        (edition / "figures.json").read_text(encoding="utf-8"))["meta"]
    assert "min_base" not in (edition / "figures.csv").read_text(encoding="utf-8").split("\n")[0]


def test_only_year_folders_are_waves(tmp_path, monkeypatch):
    from lpj_report import wave

    for name in ("2002", "noter", "2003"):
        (tmp_path / name).mkdir()
    (tmp_path / "2002" / "wave.yaml").write_text("", encoding="utf-8")
    (tmp_path / "noter" / "wave.yaml").write_text("", encoding="utf-8")
    monkeypatch.setattr(wave, "WAVES_DIR", tmp_path)
    assert wave.available_waves() == [2002]
