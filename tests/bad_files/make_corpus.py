"""Make the corpus of bad respondent files: one file per problem, from the valid fixture.

Run from the repository root after changing the fixture or the writers, then commit the files:

    .venv/bin/python tests/bad_files/make_corpus.py

The files use the frozen test codebook in ``tests/bad_files/codebook/``. The base table is
``make_valid_raw(test_codebook, per_role=3, seed=2002)``: nine respondents, three per role
(medarbejder rows 0–2, tillidsrepræsentant 3–5, leder 6–8); row ``i`` is CSV line / Excel
row ``i + 2`` and SPSS case ``i + 1``. ``test_validate_corpus.py`` states what each file must
report and checks that the committed files are what this script makes.
"""

from __future__ import annotations

import gzip
import importlib.util
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent


def _helpers():
    """tests/conftest.py, loaded by path (works whether or not ``tests`` is a package)."""
    conftest = HERE.parent / "conftest.py"
    if str(HERE.parent) not in sys.path:   # conftest imports its sibling modules (built.py)
        sys.path.insert(0, str(HERE.parent))
    spec = importlib.util.spec_from_file_location("lpj_corpus_conftest", conftest)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _csv(raw: pd.DataFrame) -> bytes:
    from lpj_report.write import _csv_bytes

    return _csv_bytes(raw, "utf-8")


def build_corpus(out: Path) -> list[Path]:
    """Write every bad file into ``out``; return their paths."""
    from lpj_report.codebook import load_codebook
    from lpj_report.load import write_responses

    helpers = _helpers()
    codebook = load_codebook(helpers.TEST_CODEBOOK_DIR)
    base = helpers.make_valid_raw(codebook, per_role=3, seed=2002)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def variant(name: str, changes: dict[tuple[int, str], object], **kwargs) -> None:
        raw = base.copy()
        for (row, col), value in changes.items():
            raw.at[row, col] = value
        written.append(write_responses(raw, out / name, codebook=codebook, **kwargs))

    def raw_bytes(name: str, data: bytes) -> None:
        (out / name).write_bytes(data)
        written.append(out / name)

    variant("unknown_code.csv", {(2, "koen"): 3})
    variant("age_out_of_range.csv", {(0, "alder"): 12})
    variant("number_not_numeric.csv", {(4, "alder"): "fyrre"})
    raw_bytes("missing_column.csv", _csv(base.drop(columns=["koen"])))
    extra = base.copy()
    extra.insert(4, "bemaerkning", ["god dag"] + [None] * (len(base) - 1))
    raw_bytes("unknown_column.csv", _csv(extra))
    raw_bytes("renamed_column.csv", _csv(base.rename(columns={"alder": "aldre"})))
    variant("duplicate_respondent.csv", {(5, "respondent"): base.at[1, "respondent"]})
    variant("multi_value_2.csv", {(1, "fremmer_laering_2"): 2})
    variant("too_many_ticks.csv", {(0, f"fremmer_laering_{k}"): t
                                   for k, t in zip(range(1, 6), (1, 1, 0, 1, 1), strict=True)})
    variant("not_asked.csv", {(2, "leder_udvikling"): 1})
    raw_bytes("empty.csv", b"")
    raw_bytes("header_only.csv", _csv(base.iloc[:0]))
    variant("excel_da_bad_code.csv", {(3, "kommune"): "Hillerød", (3, "alder"): 34.5},
            dialect="excel-da")
    lines = _csv(base).split(b"\n")
    lines[3] = lines[3].replace(b",", b",\x81\x8d", 1)
    raw_bytes("undecodable.csv", b"\n".join(lines))
    raw_bytes("compressed.csv", gzip.compress(_csv(base), mtime=0))
    raw_bytes("utf16_no_bom.csv", _csv(base).decode().encode("utf-16-le"))
    variant("bad_code.sav", {(6, "koen"): 9})
    variant("bad_cell.xlsx", {(2, "alder"): "ukendt"})
    variant("several_bad.csv", {
        (1, "koen"): 5,                       # line 3: not a code
        (3, "alder"): 99,                     # line 5: out of range
        (3, "kommune"): "Aalborg",            # line 5: a label instead of a code
        (4, "aar_kommune"): "-",              # line 6: not a number
        (5, "leder_udvikling"): 2,            # line 7: a TR answering a leader question
        (6, "rolle"): None,                   # line 8: role missing
        (7, "fremmer_laering_1"): 1,          # line 9: a leader answering an employee question
    })
    twice = base.copy()
    twice.insert(len(base.columns), "koen_copy", base["koen"])
    raw_bytes("duplicate_columns.csv", _csv(twice).replace(b"koen_copy", b"KOEN", 1))
    raw_bytes("not_excel.xlsx", _csv(base))
    raw_bytes("not_spss.sav", _csv(base))
    ragged = _csv(base).split(b"\n")
    ragged[4] += b",7,8"
    raw_bytes("ragged_row.csv", b"\n".join(ragged))
    raw_bytes("responses.xls", _csv(base))
    variant("underscore_number.csv", {(1, "alder"): "3_5"})      # Python's float() reads 35
    variant("thousands_code.csv", {(2, "koen"): "1.000"})        # 1 or 1000?
    variant("formula_no_value.xlsx", {(2, "alder"): "=40+1"})    # no saved result
    raw_bytes("far_cell.xlsx", _far_cell_xlsx(base))
    return written


def _far_cell_xlsx(base: pd.DataFrame) -> bytes:
    """A valid workbook whose only oddity is one formatted, empty cell at XFD1048576."""
    import io
    import zipfile

    import openpyxl
    from openpyxl.styles import Font
    from openpyxl.writer.excel import ExcelWriter

    from lpj_report.write import FIXED_TIME, _fixed_zip

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "svar"
    sheet.append(list(base.columns))
    for row in base.itertuples(index=False):
        sheet.append(list(row))
    sheet["XFD1048576"].font = Font(bold=True)
    book.properties.creator = book.properties.lastModifiedBy = "lpj-report"
    book.properties.created = book.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    ExcelWriter(book, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    return _fixed_zip(buffer.getvalue())


# A frozen, minimal wave.yaml (not data/waves: the corpus must not go stale when a wave changes).
WAVE = """\
# Survey wave: the facts the build needs.
wave:
  year: 2002
  title: "Læring på jobbet - et overblik"
  status: reconstruction
  status_note: Rekonstruktion.
  responses: responses.csv
  sent:
    medarbejder: 1924
    tillidsrepraesentant: 200
    leder: 125
  returned:
    medarbejder: 1404
    tillidsrepraesentant: 156
    leder: 120
"""
SENT = "  sent:\n    medarbejder: 1924\n    tillidsrepraesentant: 200\n    leder: 125\n"
BOMB = "".join(f"{a}: &{a} [{', '.join([f'*{p}'] * 10)}]\n"
               for p, a in zip("abcdef", "bcdefg", strict=True))
CODEBOOK = """\
variables:
  - name: koen
    label: Køn
    kind: single
    asked: [medarbejder]
    codes:
      - {code: 1, key: kvinde, label: Kvinde}
      - {code: 2, key: mand, label: Mand}
  - name: alder
    label: Alder
    kind: number
    range: [18, 70]
    asked: [medarbejder]
"""
ROW = {"figure": "intro.svar", "group": "alle", "category": "n", "numerator": 5, "base": 5,
       "value": 5.0, "unit": "count", "decimals": 0}


def build_metadata_corpus(out: Path) -> list[Path]:
    """Broken wave.yaml, codebook and figures.json files, one per class of problem, in
    ``out`` (tests/bad_files/metadata); tests/test_inputs_hardening.py says what each gives."""
    import json

    out.mkdir(parents=True, exist_ok=True)
    files = {
        "syntax.wave.yaml": "wave:\n  year: 2002\n  sent: {medarbejder: 3\n",
        "python_tag.wave.yaml": "wave: !!python/object/apply:os.system ['touch /tmp/pwned']\n",
        "latin1.wave.yaml": WAVE.encode("latin-1"),
        "year_words.wave.yaml": WAVE.replace("year: 2002", "year: tyve"),
        "sent_list.wave.yaml": WAVE.replace(SENT, "  sent: [1924, 200, 125]\n"),
        "sent_words.wave.yaml": WAVE.replace("medarbejder: 1924", "medarbejder: mange"),
        "sent_zero.wave.yaml": WAVE.replace("leder: 125", "leder: 0"),
        "sent_negative.wave.yaml": WAVE.replace("leder: 125", "leder: -5"),
        "returned_over_sent.wave.yaml": WAVE.replace("leder: 120", "leder: 1200"),
        "alias_bomb.wave.yaml": "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + BOMB
                                + "wave: {year: 2002, sent: {leder: 1}, more: *g}\n",
        "duplicate_key.wave.yaml": WAVE.replace("  status: reconstruction\n",
                                                "  status: reconstruction\n  status: real\n"),
        "empty.wave.yaml": "",
        "list.wave.yaml": "- 1\n- 2\n",
        "syntax.codebook.yaml": CODEBOOK.replace("kind: single", "kind: [single"),
        "python_tag.codebook.yaml": CODEBOOK.replace("label: Køn", "label: !!python/name:os.system"),
        "code_words.codebook.yaml": CODEBOOK.replace("code: 2,", "code: to,"),
        "range_words.codebook.yaml": CODEBOOK.replace("range: [18, 70]", "range: atten"),
        "codes_not_list.codebook.yaml": CODEBOOK.split("    codes:")[0]
                                        + "    codes: kvinde, mand\n",
        "variables_mapping.codebook.yaml": "variables:\n  name: x\n",
        "empty.figures.json": "",
        "truncated.figures.json": '{"meta": {},\n "rows": [{"figure": "intro.svar", ',
        "list.figures.json": "[1, 2, 3]\n",
        "no_rows.figures.json": '{"meta": {}, "figures": []}\n',
        "base_text.figures.json": json.dumps({"meta": {}, "figures": [], "rows": [
            ROW, {**ROW, "base": "fem"}]}) + "\n",
        "nan_value.figures.json": json.dumps({"rows": [{**ROW, "value": float("nan")}]}) + "\n",
        "row_list.figures.json": '{"rows": [[1, 2]]}\n',
        "duplicate_key.figures.json": '{"rows": [{"base": 5, "base": 6}]}\n',
    }
    written = []
    for name, data in files.items():
        path = out / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        written.append(path)
    return written


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent.parent))
    for path in build_corpus(HERE) + build_metadata_corpus(HERE / "metadata"):
        print(path.relative_to(HERE.parent.parent))
