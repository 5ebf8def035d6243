"""The vectorised figure engine and derived variables give exactly the reference results.

``compute_figures`` (``lpj_report.figure_engine``) must equal ``compute_figure`` figure by
figure — counts, sums, values and intervals bit for bit — on the 2002 data, on small samples
of it and on degenerate tables (one role only, all answers blank, a handful of respondents).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lpj_report.derive import DERIVATIONS, apply_derived, as_typed
from lpj_report.figures import COLUMNS, compute_figure, compute_figures
from lpj_report.pipeline import Build, Project


@pytest.fixture(scope="module")
def build() -> Build:
    return Build.load(Project(), 2002)


def _reference(df, project, wave) -> pd.DataFrame:
    rows = [r for fig in project.figures
            for r in compute_figure(fig, df, project.codebook, project.populations, wave)]
    return pd.DataFrame(rows, columns=COLUMNS)


def _same(df, project, wave) -> pd.DataFrame:
    fast = compute_figures(df, project.codebook, project.figures, project.populations, wave)
    pd.testing.assert_frame_equal(fast, _reference(df, project, wave), check_exact=True)
    return fast


def test_engine_equals_reference_on_the_wave(build):
    table = _same(build.data, build.project, build.wave.meta)
    assert len(table) > 1000 and table["base"].sum() > 0


@pytest.mark.parametrize("seed", [1, 2])
def test_engine_equals_reference_on_samples(build, seed):
    sample = build.data.sample(n=40, random_state=seed).reset_index(drop=True)
    _same(sample, build.project, build.wave.meta)


def test_engine_on_one_role_and_blank_answers(build):
    project, wave = build.project, build.wave.meta
    data = build.data
    employees = data[data["rolle"] == "medarbejder"].head(20).reset_index(drop=True)
    table = _same(employees, project, wave)
    leaders = table[table["figure"].str.startswith("kap4") & (table["base"] == 0)]
    assert leaders["value"].isna().all()
    blank = data.head(5).copy()
    for col in project.codebook.data_columns:
        if col not in ("respondent", "rolle"):
            blank[col] = pd.Series([pd.NA] * len(blank), dtype=blank[col].dtype)
    blank = apply_derived(blank[project.codebook.data_columns], project.codebook, wave)
    table = _same(blank, project, wave)
    shares = table[table["unit"] == "pct"]
    assert (shares.loc[shares["base"] == 0, "value"].isna()).all()


def test_fast_derivations_equal_the_object_path(build):
    """Derivations on categoricals (the loader's table) and on plain keys (the generator's
    frames) give the same typed column."""
    codebook = build.project.codebook
    typed = build.data[codebook.data_columns].head(300)
    keys = pd.DataFrame({c: (typed[c].astype("object") if isinstance(typed[c].dtype,
                                                                      pd.CategoricalDtype)
                             else typed[c]) for c in typed.columns})
    derived_cat = apply_derived(typed, codebook, build.wave.meta)
    for var in codebook.derived:
        from_keys = as_typed(DERIVATIONS[var.name](derived_cat.assign(**{
            c: keys[c] for c in keys.columns}), build.wave.meta), var)
        pd.testing.assert_series_equal(derived_cat[var.name], from_keys, check_names=False)
    assert np.isfinite(derived_cat["laering_antal"].to_numpy(dtype=float, na_value=0)).all()
