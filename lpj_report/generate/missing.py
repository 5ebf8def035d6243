"""Item non-response (``data/reconstruction/05_missing.yaml``).

Layer: generate (may import base … findings, and its own layer).

Before a question's answers are generated, some of the respondents who were asked it leave it
blank. Per question and role the number of blanks is a binomial draw at the question's rate,
kept within the model's band (1–5 % of those asked); which respondents are blank is a weighted
draw without replacement whose weights are exp(σ·p) for each respondent's *skipping propensity*
p (one standard-normal value per respondent, so that some people skip more than others across
the questionnaire). The blank respondents are then simply not among those who answered, so every
base of the report follows. Questions whose blanks the publication itself implies are modelled
with ``missing:`` in the variable's own entry instead (education, the livsform items).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil, floor
from pathlib import Path

import numpy as np
import yaml

from lpj_report.generate.errors import ModelError
from lpj_report.paths import DATA_DIR

MISSING_FILE = "05_missing.yaml"


@dataclass(frozen=True)
class MissingModel:
    default: float                          # percent of those asked
    band: tuple[float, float]               # percent per role, inclusive
    propensity_sd: float
    rates: dict[str, float] = field(default_factory=dict)
    not_items: tuple[str, ...] = ()

    def rate(self, name: str) -> float | None:
        """Percent blank for ``name``; None when the question is never left blank."""
        if name in self.not_items:
            return None
        return self.rates.get(name, self.default)

    def draw(self, name: str, asked: np.ndarray, eligible: np.ndarray, roles: np.ndarray,
             propensity: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Boolean: respondents who leave ``name`` blank. The number is drawn for those
        ``asked``; the blanks go to ``eligible`` respondents only (for a learning situation: those
        not answering "i høj grad", since a blank counts as not "i høj grad")."""
        out = np.zeros(len(eligible), dtype=bool)
        rate = self.rate(name)
        if rate is None:
            return out
        eligible = eligible & asked
        for role in sorted(set(roles[asked])):
            idx = np.flatnonzero(eligible & (roles == role))
            n = int((asked & (roles == role)).sum())
            lo = ceil(self.band[0] / 100 * n)
            hi = max(lo, floor(self.band[1] / 100 * n))
            m = int(np.clip(rng.binomial(n, rate / 100), lo, min(hi, len(idx))))
            if not m:
                continue
            # weighted sampling without replacement: the m largest log w + Gumbel keys
            keys = self.propensity_sd * propensity[idx] + rng.gumbel(size=len(idx))
            out[idx[np.argsort(-keys, kind="stable")[:m]]] = True
        return out


def load_missing(folder: Path | None = None) -> MissingModel | None:
    path = (folder or DATA_DIR / "reconstruction") / MISSING_FILE
    if not path.exists():
        return None
    raw = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("missing") or {}
    band = tuple(float(x) for x in raw.get("band", (1, 5)))
    rates = {}
    for group in raw.get("rates") or []:
        for name in group["variables"]:
            rates[name] = float(group["percent"])
    for name, pct in rates.items():
        if not band[0] <= pct <= band[1]:
            raise ModelError(f"{MISSING_FILE}: {name}: {pct} % is outside the band {band}")
    return MissingModel(float(raw.get("default", 2.0)), band,  # type: ignore[arg-type]
                        float(raw.get("propensity_sd", 1.0)), rates,
                        tuple(raw.get("not_items") or ()))
