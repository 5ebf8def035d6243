"""Derived variables: one function per variable documented in ``data/codebook/derived.yaml``.

Layer: derive (may import base and load, and its own layer).

Every function takes the typed respondent table (single-choice answers as codebook keys, numbers
as floats) plus the wave metadata and returns one column. A missing input gives a missing
derived value unless the rule in the codebook says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from lpj_report.codebook import Codebook, Variable

LEARNING_ITEMS = (
    "ls_uden_for_omraade",
    "ls_ikke_rustet",
    "ls_kolleger",
    "ls_overordnet",
    "ls_moeder",
    "ls_lettere",
    "ls_bedre",
    "ls_fejl",
)
LEARNED = "i_hoej_grad"

AREA_OF_WORKPLACE = {
    "forvaltning": "administration",
    "skole": "skole",
    "vuggestue_boernehave": "dagpasning",
    "fritidsordning_fritidsklub": "dagpasning",
    "dagpleje": "dagpasning",
    "hjemmepleje": "aeldre",
    "plejehjem_plejecenter": "aeldre",
    "andet": "andet",
}

Derivation = Callable[[pd.DataFrame, dict[str, Any]], pd.Series]
DERIVATIONS: dict[str, Derivation] = {}


def derivation(name: str) -> Callable[[Derivation], Derivation]:
    def register(func: Derivation) -> Derivation:
        DERIVATIONS[name] = func
        return func

    return register


def _bins(values: pd.Series, edges: list[float], keys: list[str]) -> pd.Series:
    """Whole-year groups: ``edges`` are the upper limits (inclusive) of all but the last group.

    Returns a categorical of ``keys`` (missing where the value is missing)."""
    whole = np.floor(values.astype("Float64").to_numpy(dtype=float, na_value=np.nan))
    codes = np.full(len(whole), -1, dtype=np.int8)
    known = ~np.isnan(whole)
    codes[known] = np.searchsorted(np.asarray(edges, dtype=float), whole[known], side="left")
    return pd.Series(pd.Categorical.from_codes(codes, categories=keys), index=values.index)


def _recode(values: pd.Series, mapping: dict[str, str]) -> pd.Series:
    """Each key replaced by ``mapping[key]`` (missing where the key is missing or unmapped).

    A categorical is recoded through its categories, without touching each row."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        return values.astype("object").map(mapping)
    targets = list(dict.fromkeys(str(v) for v in mapping.values()))
    lut = np.array([targets.index(str(mapping[c])) if c in mapping else -1
                    for c in values.cat.categories] + [-1], dtype=np.int16)
    codes = lut[values.cat.codes.to_numpy()]
    return pd.Series(pd.Categorical.from_codes(codes, categories=targets), index=values.index)


def _points(values: pd.Series, points: dict[str, int]) -> np.ndarray:
    """The points of each answer as floats (NaN where missing)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        lut = np.array([points.get(c, np.nan) for c in values.cat.categories] + [np.nan],
                       dtype=float)
        return lut[values.cat.codes.to_numpy()]
    return values.astype("object").map(points).to_numpy(dtype=float, na_value=np.nan)


@derivation("laering_antal")
def learning_count(df: pd.DataFrame, wave: dict[str, Any]) -> pd.Series:
    """Number of the eight learning situations answered "i høj grad" (0–8).

    An unanswered item counts as not "i høj grad"; with all eight unanswered the count is missing.
    """
    items = df[list(LEARNING_ITEMS)]
    count = (items == LEARNED).sum(axis=1).astype("Float64")
    count[items.isna().all(axis=1)] = pd.NA
    return count


def _learning_levels(df: pd.DataFrame, low_max: int) -> pd.Series:
    count = df["laering_antal"] if "laering_antal" in df else learning_count(df, {})
    return _bins(count, [low_max, 5], ["lav", "mellem", "hoej"])


@derivation("laering")
def learning(df: pd.DataFrame, wave: dict[str, Any]) -> pd.Series:
    """Publication definition: lav 0–2, mellem 3–5, høj 6–8 situations."""
    return _learning_levels(df, 2)


@derivation("laering_alt")
def learning_alt(df: pd.DataFrame, wave: dict[str, Any]) -> pd.Series:
    """The cut-off behind the pies by workplace: lav 0–3, mellem 4–5, høj 6–8."""
    return _learning_levels(df, 3)


@derivation("omraade")
def area(df: pd.DataFrame, wave: dict[str, Any]) -> pd.Series:
    """Work area from workplace type (see ``AREA_OF_WORKPLACE``)."""
    return _recode(df["arbejdssted"], AREA_OF_WORKPLACE)


@derivation("aldersgruppe")
def age_group(df: pd.DataFrame, wave: dict[str, Any]) -> pd.Series:
    """Under 30; 30–39; 40–49; 50 and over (whole years)."""
    return _bins(df["alder"], [29, 39, 49], ["under_30", "a30_39", "a40_49", "a50_plus"])


TENURE_EDGES = [3, 5, 15, 25]
TENURE_KEYS = ["aar_0_3", "aar_4_5", "aar_6_15", "aar_16_25", "over_25"]


@derivation("stilling_gruppe")
def position_tenure_group(df: pd.DataFrame, wave: dict[str, Any]) -> pd.Series:
    """Years in present position: 0–3, 4–5, 6–15, 16–25, over 25."""
    return _bins(df["aar_stilling"], TENURE_EDGES, TENURE_KEYS)


@derivation("arbejdsplads_gruppe")
def workplace_tenure_group(df: pd.DataFrame, wave: dict[str, Any]) -> pd.Series:
    """Years at present workplace, grouped as ``stilling_gruppe``."""
    return _bins(df["aar_arbejdsplads"], TENURE_EDGES, TENURE_KEYS)


@derivation("kommune_gruppe")
def municipality_tenure_group(df: pd.DataFrame, wave: dict[str, Any]) -> pd.Series:
    """Years in the municipality, grouped as ``stilling_gruppe``."""
    return _bins(df["aar_kommune"], TENURE_EDGES, TENURE_KEYS)


@derivation("kommunestoerrelse")
def municipality_size(df: pd.DataFrame, wave: dict[str, Any]) -> pd.Series:
    """Size group of the respondent's municipality from the wave's ``municipalities`` table."""
    sizes = wave.get("municipalities") or {}
    return _recode(df["kommune"], sizes)


AGREEMENT_POINTS = {"helt_enig": 3, "delvis_enig": 2, "delvis_uenig": 1, "helt_uenig": 0}


@derivation("livsform")
def life_form(df: pd.DataFrame, wave: dict[str, Any]) -> pd.Series:
    """Karriere (5–9 points) or lønmodtager (0–4) from three attitude items.

    Agreeing to work outside one's area and to take on work one is not equipped for scores high
    (helt enig 3 … helt uenig 0); agreeing that the job should stay stable scores low (reversed).
    Missing when any of the three answers is missing.
    """
    points = (_points(df["holdning_uden_for_omraade"], AGREEMENT_POINTS)
              + _points(df["holdning_ikke_rustet"], AGREEMENT_POINTS)
              + 3 - _points(df["holdning_stabilitet"], AGREEMENT_POINTS))
    codes = np.where(np.isnan(points), -1, np.where(points >= 5, 0, 1)).astype(np.int8)
    return pd.Series(pd.Categorical.from_codes(codes, categories=["karriere", "loenmodtager"]),
                     index=df.index)


def apply_derived(df: pd.DataFrame, codebook: Codebook, wave: dict[str, Any]) -> pd.DataFrame:
    """Add every derived variable whose inputs are present, in codebook order.

    Single-choice results become ordered categoricals of the codebook keys; numbers Float64.
    """
    missing = [v.name for v in codebook.derived if v.name not in DERIVATIONS]
    if missing:
        raise NotImplementedError(f"no derivation for {', '.join(missing)}")
    out = df.copy(deep=False)  # new columns only: the caller's table stays as it was
    for var in codebook.derived:
        if not all(name in out for name in var.inputs):
            continue
        out[var.name] = as_typed(DERIVATIONS[var.name](out, wave), var)
    return out


def as_typed(values: pd.Series, var: Variable) -> pd.Series:
    """Cast a column of keys (single) or numbers to the table's typed representation."""
    if var.kind == "single" and isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        used = values.cat.categories[np.unique(codes[codes >= 0])]
        unknown = set(map(str, used)) - set(var.keys)
        if unknown:
            raise ValueError(f"{var.name}: values outside the codebook: {sorted(unknown)}")
        typed = values.cat.set_categories(var.keys).cat.as_ordered()
        return pd.Series(typed.array, index=values.index)
    if var.kind == "single":
        unknown = set(values.dropna().unique()) - set(var.keys)
        if unknown:
            raise ValueError(f"{var.name}: values outside the codebook: {sorted(map(str, unknown))}")
        dtype = pd.CategoricalDtype(var.keys, ordered=True)
        return pd.Series(pd.Categorical(values.astype("object"), dtype=dtype), index=values.index)
    return values.astype("Float64")
