"""Shared test helpers: valid respondent tables made from any codebook, and file writers.

The helpers are plain functions (so ``tests/bad_files/make_corpus.py`` can use them too) and
are handed to tests through fixtures. They read only the :class:`Codebook` object — never
hard-coded columns — so they keep working when the codebook grows.
"""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from built import _session_builds, hasle_edition, report, second_build, shared_folder  # noqa: F401, I001
from hypothesis import strategies as st

from lpj_report.codebook import Codebook, Variable, default_codebook, load_codebook
from lpj_report.load import write_responses

TESTS_DIR = Path(__file__).resolve().parent
BAD_FILES_DIR = TESTS_DIR / "bad_files"
TEST_CODEBOOK_DIR = BAD_FILES_DIR / "codebook"

# name → (suffix, dialect) for every way a responses file can be written
FORMATS = {
    "csv": (".csv", None),
    "excel-da": (".csv", "excel-da"),
    "xlsx": (".xlsx", None),
    "sav": (".sav", None),
    "parquet": (".parquet", None),
}


def _number_bounds(var: Variable) -> tuple[float, float]:
    return var.range if var.range is not None else (0.0, 100.0)


def _random_answer(var: Variable, rng: random.Random, blank_share: float) -> dict:
    """One respondent's cells for ``var`` (asked), with item non-response at ``blank_share``."""
    if rng.random() < blank_share:
        return dict.fromkeys(var.columns)
    if var.kind == "single":
        return {var.name: rng.choice(var.codes).code}
    if var.kind == "multi":
        most = min(var.max_choices or len(var.codes), len(var.codes))
        ticked = set(rng.sample(var.columns, rng.randint(0, most)))
        return {col: int(col in ticked) for col in var.columns}
    lo, hi = _number_bounds(var)
    value = rng.randint(int(lo), int(hi))
    if rng.random() < 0.3 and value + 0.5 <= hi:
        return {var.name: value + 0.5}
    return {var.name: value}


def _filter_met(codebook: Codebook, var: Variable, row: dict) -> bool:
    """A filter question (``asked_if``) is only answered after the named answer."""
    return all(row.get(name) in [codebook[name].code_of(k) for k in keys]
               for name, keys in var.asked_if.items())


def make_valid_raw(codebook: Codebook, per_role: int = 3, seed: int = 0,
                   blank_share: float = 0.1) -> pd.DataFrame:
    """A valid raw table: ``per_role`` respondents per role, in codebook role order.

    Questions a role is not asked stay blank; multi questions respect ``max_choices``;
    numbers stay within ``range`` (some with a half, to exercise decimal separators).
    """
    rng = random.Random(seed)
    rows = []
    for role in codebook.roles:
        for _ in range(per_role):
            row = {}
            for var in codebook.questions:
                if var.name == "respondent":
                    row[var.name] = 1000 + len(rows) * 7
                elif var.name == "rolle":
                    row[var.name] = role.code
                elif role.key not in var.asked or not _filter_met(codebook, var, row):
                    row.update(dict.fromkeys(var.columns))
                else:
                    row.update(_random_answer(var, rng, blank_share))
            rows.append(row)
    return as_raw(rows, codebook.data_columns)


def as_raw(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """A raw table (object columns; None = blank) from row dicts."""
    return pd.DataFrame({c: pd.Series([r.get(c) for r in rows], dtype=object)
                         for c in columns})


@st.composite
def valid_tables(draw, codebook: Codebook, max_rows: int = 6) -> pd.DataFrame:
    """Hypothesis strategy: any valid raw table for ``codebook`` (1..max_rows respondents)."""
    n = draw(st.integers(1, max_rows))
    ids = draw(st.lists(st.integers(1, 999_999), min_size=n, max_size=n, unique=True))
    rows = []
    for rid in ids:
        role = draw(st.sampled_from(codebook.roles))
        row = {}
        for var in codebook.questions:
            if var.name == "respondent":
                row[var.name] = rid
            elif var.name == "rolle":
                row[var.name] = role.code
            elif (role.key not in var.asked or not _filter_met(codebook, var, row)
                  or draw(st.integers(0, 9)) == 0):
                row.update(dict.fromkeys(var.columns))
            elif var.kind == "single":
                row[var.name] = draw(st.sampled_from(var.codes)).code
            elif var.kind == "multi":
                most = min(var.max_choices or len(var.codes), len(var.codes))
                ticked = draw(st.sets(st.sampled_from(var.columns), max_size=most))
                row.update({col: int(col in ticked) for col in var.columns})
            else:
                lo, hi = _number_bounds(var)
                row[var.name] = draw(st.one_of(
                    st.integers(int(lo), int(hi)),
                    st.floats(lo, hi, allow_nan=False, allow_infinity=False)))
        rows.append(row)
    return as_raw(rows, codebook.data_columns)


def write_format(raw: pd.DataFrame, folder: Path, fmt: str, codebook: Codebook,
                 stem: str = "svar") -> Path:
    """Write ``raw`` in format ``fmt`` (a key of :data:`FORMATS`) into ``folder``."""
    suffix, dialect = FORMATS[fmt]
    name = f"{stem}-{fmt}{suffix}" if fmt == "excel-da" else f"{stem}{suffix}"
    return write_responses(raw, folder / name, dialect=dialect, codebook=codebook)


#: The test files that take longest, longest first (measured on two cores, docs/quality.md,
#: "Timings"). With ``--dist loadfile`` each file is one piece of work, handed out in collection
#: order (``--no-loadscope-reorder`` in pyproject.toml; pytest-xdist would otherwise order the
#: files by their number of tests, which put the 75-second generator test near the end). Starting
#: the long files first leaves only short ones for the end, so both workers finish together
#: instead of one waiting idle for the other's last long file. The other files follow in their
#: usual order; a file missing here is only scheduled later, never left out.
LONGEST_FIRST = (
    "test_reconstruction.py", "test_build_quality.py", "test_report_text.py",
    "test_chapter4_text.py", "test_render.py", "test_one_pipeline.py", "test_chapter5_text.py",
    "test_editions.py", "test_diff.py", "test_suppression.py", "test_cache.py", "test_pdf_parts.py",
    "test_inputs_hardening.py", "test_golden.py", "test_handover.py", "test_writers_stay_home.py",
    "test_chapter3_text.py", "test_null_learning.py", "test_preview.py", "test_cli_values.py",
    "test_editrules.py", "test_fuzz_inputs.py", "test_validate.py", "test_load_property.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long test files first (:data:`LONGEST_FIRST`); within a file the tests keep their
    order."""
    rank = {name: place for place, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(scope="session", autouse=True)
def _build_cache(tmp_path_factory):
    """Every build of the tests keeps its cache (lpj_report/cache.py) in the session's
    temporary folder, never in the project's .cache/, so no test depends on an earlier run.
    The folder is the session's, shared by its pytest-xdist workers (entries are written
    atomically, so parallel builds may share it): what one worker's build computed, the
    other's reuses. A test about the cache itself gives its builds a folder of its own."""
    folder = shared_folder(tmp_path_factory) / "lpj-cache"
    folder.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LPJ_CACHE_DIR", str(folder))
        yield folder


@pytest.fixture(scope="session")
def codebook() -> Codebook:
    """The project's real codebook (data/codebook)."""
    return default_codebook()


@pytest.fixture(scope="session")
def test_codebook() -> Codebook:
    """The frozen test codebook with multi questions and role-specific questions."""
    return load_codebook(TEST_CODEBOOK_DIR)


@pytest.fixture(scope="session", params=["real", "test"])
def any_codebook(request, codebook, test_codebook) -> Codebook:
    """Each codebook in turn."""
    return codebook if request.param == "real" else test_codebook


@pytest.fixture(scope="session")
def helpers():
    """The helper functions, for tests that need more than a ready-made table."""
    return SimpleNamespace(make_valid_raw=make_valid_raw, valid_tables=valid_tables,
                           write_format=write_format, as_raw=as_raw, FORMATS=FORMATS,
                           BAD_FILES_DIR=BAD_FILES_DIR, TEST_CODEBOOK_DIR=TEST_CODEBOOK_DIR)
