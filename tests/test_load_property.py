"""Property: any valid table, written in any supported format and read back, is unchanged."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lpj_report.load import typed_table
from lpj_report.validate import read_and_validate


def _round_trip(data, codebook, helpers) -> None:
    raw = data.draw(helpers.valid_tables(codebook), label="table")
    fmt = data.draw(st.sampled_from(sorted(helpers.FORMATS)), label="format")
    with tempfile.TemporaryDirectory() as folder:
        path = helpers.write_format(raw, Path(folder), fmt, codebook)
        got = read_and_validate(path, codebook)
    pd.testing.assert_frame_equal(got, typed_table(raw, codebook))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_valid_table_survives_any_format(data, test_codebook, helpers):
    """The small test codebook: every kind of variable, many examples."""
    _round_trip(data, test_codebook, helpers)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_real_codebook_tables_survive_any_format(data, codebook, helpers):
    """The project's codebook (wide tables, so fewer examples)."""
    _round_trip(data, codebook, helpers)
