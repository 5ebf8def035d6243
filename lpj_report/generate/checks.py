"""Acceptance checks of a generated step: the publication's claims and the municipality spread.

Layer: generate (may import base … findings, and its own layer).

A step is drawn (blanks, prior counts, quota programme, assignment) and then checked against
every claim that becomes testable with it — a claim of association must hold as printed; a claim
of *no* association must have a p-value in :data:`~lpj_report.plausibility_stats.NULL_BAND` — and
against the model's ``spread:`` declarations (the span of a share across groups within the
5–95 % band of its sampling distribution). A failing draw is thrown away and the step is drawn
again with the next seed of its sequence: the data are a draw from the model *conditional on*
not contradicting the publication, and every no-association claim is a genuine draw from its
null distribution that happens to fall in the band.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lpj_report.findings import ClaimCheck, claim_result
from lpj_report.plausibility_stats import NULL_BAND, SPREAD_BAND, spread_test


@dataclass(frozen=True)
class Spread:
    group: str
    variable: str
    category: str
    population: str
    band: tuple[float, float] = SPREAD_BAND


def spread_of(step_name: str, raw: dict[str, Any] | None) -> Spread | None:
    if not raw:
        return None
    return Spread(step_name, str(raw["of"]), str(raw["category"]),
                  str(raw.get("population", "alle")),
                  tuple(float(b) for b in raw.get("band", SPREAD_BAND)))  # type: ignore[arg-type]


def typed_view(table: pd.DataFrame, codebook) -> pd.DataFrame:
    """Single-choice question columns as ordered categoricals (as the loader types them)."""
    out = table.copy()
    for name in out.columns:
        if name in codebook and codebook[name].kind == "single" and not isinstance(
                out[name].dtype, pd.CategoricalDtype):
            out[name] = pd.Categorical(out[name].astype("object"), categories=codebook[name].keys,
                                       ordered=True)
    return out


def claim_ok(claim: ClaimCheck, typed: pd.DataFrame, populations: dict,
             codebook) -> tuple[bool, float]:
    """A claim of association holds as printed (its finding supported at its own p); a claim
    of no association has its p-value in :data:`NULL_BAND`."""
    res = claim_result(claim, typed, codebook, populations)
    p = float(res.test.p) if res.test.finite else float("nan")
    if claim.expect == "none":
        return bool(NULL_BAND[0] <= p <= NULL_BAND[1]), p
    return res.verdict == "supported", p


def spread_ok(spec: Spread, typed: pd.DataFrame, populations: dict,
              seed: int) -> tuple[bool, float]:
    mask = np.ones(len(typed), dtype=bool)
    for name, keys in populations[spec.population].items():
        mask &= typed[name].isin(keys).to_numpy(bool)
    mask &= typed[spec.group].notna().to_numpy(bool) & typed[spec.variable].notna().to_numpy(bool)
    hit = (typed.loc[mask, spec.variable].astype("object") == spec.category).to_numpy()
    res = spread_test(hit, typed.loc[mask, spec.group].astype("object").astype(str).to_numpy(),
                      seed=seed)
    return spec.band[0] <= res.percentile <= spec.band[1], res.percentile
