"""Fuzz tests: whatever a file holds, the readers give a result or their clear error.

Loaders (CSV, Excel, SPSS, Parquet), the metadata readers (wave.yaml, codebook YAML) and the
figures.json reader of ``lpj diff`` are fed generated input: random bytes, mutated valid
files, random YAML and JSON. A result, :class:`DataError` or :class:`InputError` is fine;
anything else (a traceback) fails. Seeds are fixed (``derandomize``) and the examples bounded,
so the run is the same every time and takes a few seconds.

A second property pins the vectorised screen of :mod:`lpj_report.columns`: on corrupted
tables it reports exactly what the pandera schema reports when run on every row.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lpj_report.cli_errors import DataError, InputError
from lpj_report.codebook import load_codebook
from lpj_report.readers import read_figures_json
from lpj_report.validate import _schema_problems, read_and_validate, validate
from lpj_report.wave import load_wave

ROOT = Path(__file__).resolve().parent.parent
FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
#: For the examples that run the pandera schema (about 50 ms each).
FUZZ_SCHEMA = settings(FUZZ, max_examples=15)
CELLS = st.one_of(st.none(), st.integers(-3, 12), st.sampled_from(
    [1.5, 34.5, 200, "x", " 3 ", "1.000", "3_5", "fyrre", "", "1,5", "=A1", "inf", "١"]))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=8),
                    st.floats(allow_nan=True), st.lists(st.integers(), max_size=3))
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
              st.text(max_size=6)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=12)


def _tmp() -> Path:
    return Path(tempfile.mkdtemp(prefix="lpj-fuzz-"))


@settings(FUZZ, max_examples=25)
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".xlsx", ".sav",
                                                             ".parquet"]))
def test_any_bytes_as_a_data_file(data, suffix, test_codebook):
    path = _tmp() / f"svar{suffix}"
    path.write_bytes(data)
    with contextlib.suppress(DataError):
        read_and_validate(path, test_codebook)


@FUZZ_SCHEMA
@given(data=st.data())
def test_mutated_data_files(data, test_codebook, helpers):
    raw = helpers.make_valid_raw(test_codebook, per_role=2, seed=data.draw(st.integers(0, 9)))
    for _ in range(data.draw(st.integers(0, 4))):
        row = data.draw(st.integers(0, len(raw) - 1))
        col = data.draw(st.sampled_from(list(raw.columns)))
        raw.at[row, col] = data.draw(CELLS)
    fmt = data.draw(st.sampled_from(sorted(helpers.FORMATS)))
    path = helpers.write_format(raw, _tmp(), fmt, test_codebook)
    blob = bytearray(path.read_bytes())
    if data.draw(st.booleans()) and blob:  # sometimes damage the bytes as well
        pos = data.draw(st.integers(0, len(blob) - 1))
        blob[pos] = data.draw(st.integers(0, 255))
        path.write_bytes(bytes(blob))
    try:
        read_and_validate(path, test_codebook)
    except DataError as err:
        assert err.problems and all(p.file == path.name for p in err.problems)


@FUZZ_SCHEMA
@given(data=st.data())
def test_screen_reports_what_the_schema_reports(data, test_codebook, helpers):
    raw = data.draw(helpers.valid_tables(test_codebook, max_rows=5))
    for _ in range(data.draw(st.integers(0, 5))):
        row = data.draw(st.integers(0, len(raw) - 1))
        col = data.draw(st.sampled_from(list(raw.columns)))
        raw.at[row, col] = data.draw(CELLS)
    raw.index = range(2, len(raw) + 2)
    raw.attrs.update(source="t.csv", row_kind="line")
    expected = _schema_problems(raw, test_codebook)
    try:
        validate(raw, test_codebook)
    except DataError as err:
        assert err.problems == expected
    else:
        assert expected == []


WAVE = (ROOT / "tests" / "bad_files" / "make_corpus.py")


def _wave_text() -> str:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_corpus", WAVE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.WAVE


WAVE_TEXT = _wave_text()


@FUZZ
@given(text=st.one_of(st.text(max_size=200), st.binary(max_size=200)))
def test_any_wave_file(text):
    folder = _tmp()
    (folder / "wave.yaml").write_bytes(text if isinstance(text, bytes) else text.encode())
    with contextlib.suppress(InputError):
        load_wave(2002, folder)


@FUZZ
@given(data=st.data())
def test_mutated_wave_file(data):
    lines = WAVE_TEXT.splitlines()
    i = data.draw(st.integers(2, len(lines) - 1))
    key = lines[i].split(":")[0]
    lines[i] = f"{key}: {json.dumps(data.draw(SCALARS)) if data.draw(st.booleans()) else ''}"
    folder = _tmp()
    (folder / "wave.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with contextlib.suppress(InputError):
        load_wave(2002, folder)


@FUZZ
@given(data=st.data())
def test_mutated_codebook_file(data, helpers):
    text = (helpers.TEST_CODEBOOK_DIR / "codebook.yaml").read_text(encoding="utf-8")
    lines = text.splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(lines) - 1))
        if ":" in lines[i]:
            head = lines[i].split(":")[0]
            lines[i] = f"{head}: {json.dumps(data.draw(SCALARS))}"
    folder = _tmp()
    (folder / "codebook.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with contextlib.suppress(InputError):
        load_codebook(folder)


def _figures_doc() -> dict:
    row = {"figure": "intro.svar", "group": "alle", "category": "n", "numerator": 5,
           "base": 5, "value": 5.0, "ci_low": None, "ci_high": None, "unit": "count",
           "decimals": 0}
    return {"meta": {"wave": 2002}, "figures": [{"id": "intro.svar"}], "rows": [row, row]}


@FUZZ
@given(doc=JSON_VALUES)
def test_any_json_as_figures_json(doc):
    path = _tmp() / "figures.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with contextlib.suppress(InputError):
        read_figures_json(path)


@FUZZ
@given(data=st.data())
def test_mutated_figures_json(data):
    doc = _figures_doc()
    where = data.draw(st.sampled_from(["meta", "figures", "rows", "row"]))
    value = data.draw(JSON_VALUES)
    if where == "row":
        key = data.draw(st.sampled_from(sorted(doc["rows"][0])))
        doc["rows"][1] = {**doc["rows"][1], key: value}
    else:
        doc[where] = value
    text = json.dumps(doc)
    if data.draw(st.booleans()):
        cut = data.draw(st.integers(0, len(text)))
        text = text[:cut]
    path = _tmp() / "figures.json"
    path.write_text(text, encoding="utf-8")
    with contextlib.suppress(InputError):
        read_figures_json(path)


@pytest.mark.parametrize("name", ["several_bad.csv", "ragged_row.csv", "bad_cell.xlsx"])
def test_corpus_files_keep_their_messages_through_both_readers(name, test_codebook, helpers):
    """The fast reader and the cell-by-cell reader name the same problems."""
    from lpj_report.load import UseCellReader, open_source
    from lpj_report.validate import check_source

    path = helpers.BAD_FILES_DIR / name
    with pytest.raises(DataError) as fast:
        read_and_validate(path, test_codebook)
    if path.suffix == ".csv":
        with pytest.raises(DataError) as slow:
            try:
                check_source(open_source(path, test_codebook, cell_by_cell=True), test_codebook)
            except UseCellReader:  # pragma: no cover — the reference reader never hands over
                pytest.fail("the cell-by-cell reader handed over")
        assert fast.value.problems == slow.value.problems
