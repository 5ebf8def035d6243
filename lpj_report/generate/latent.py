"""The latent structure behind the reconstruction (``data/reconstruction/00_latent.yaml``).

Layer: generate (may import base … findings, and its own layer).

Every respondent gets a few latent factors — job variety, contact with colleagues, support from
the leader, own attitude to learning, demands — drawn once from a multivariate normal
distribution whose means shift with the workplace type and whose correlations the model states.
Questions then receive their answers in the order of a *score*: a weighted sum of factors and of
already generated answers, plus seeded noise (:func:`score`). Two questions that load on the same
factor are therefore related also among respondents with the same learning count, and the
learning count itself follows from the factors.

A score spec is a mapping ``input → weight`` (or ``input → {weight, within}``): an input is a
factor name, a generated or derived variable (single-choice answers by their codebook position,
the first code lowest), or a linear expression of number variables (``aar_kommune - alder``).
Each input is standardised (mean 0, sd 1 over the respondents it is known for; ``within``:
separately inside each group of the named variables, so that the input says nothing about those
variables); missing values count as the mean. The noise has weight √(1 − Σ w²) (at least 0,2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from lpj_report.codebook import Codebook
from lpj_report.generate.errors import ModelError
from lpj_report.paths import DATA_DIR

LATENT_FILE = "00_latent.yaml"
MIN_NOISE = 0.2


@dataclass(frozen=True)
class Input:
    name: str
    weight: float
    within: tuple[str, ...] = ()


@dataclass(frozen=True)
class Latent:
    factors: tuple[str, ...]
    correlation: np.ndarray
    shift_by: str | None = None
    shift: dict[str, dict[str, float]] = field(default_factory=dict)
    shift_roles: tuple[str, ...] = ()
    note: str = ""

    def draw(self, table: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        """Factor values per respondent: shifted means (workplace type) + correlated normals."""
        n = len(table)
        chol = np.linalg.cholesky(self.correlation)
        values = rng.standard_normal((n, len(self.factors))) @ chol.T
        if self.shift_by and self.shift_by in table:
            by = table[self.shift_by].astype("object").to_numpy()
            roles = table["rolle"].astype("object").to_numpy()
            for key, shifts in self.shift.items():
                rows = (by == key) & np.isin(roles, self.shift_roles)
                for name, delta in shifts.items():
                    values[rows, self.factors.index(name)] += delta
        return pd.DataFrame(values, columns=list(self.factors), index=table.index)


def load_latent(folder: Path | None = None) -> Latent | None:
    path = (folder or DATA_DIR / "reconstruction") / LATENT_FILE
    if not path.exists():
        return None
    raw = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("latent") or {}
    names = tuple(f["name"] for f in raw.get("factors") or [])
    corr = np.eye(len(names))
    for pair, r in (raw.get("correlation") or {}).items():
        a, _, b = str(pair).partition(".")
        if a not in names or b not in names:
            raise ModelError(f"{LATENT_FILE}: correlation {pair}: unknown factor")
        corr[names.index(a), names.index(b)] = corr[names.index(b), names.index(a)] = float(r)
    if np.linalg.eigvalsh(corr).min() <= 0:
        raise ModelError(f"{LATENT_FILE}: the factor correlations are not a valid correlation "
                         "matrix (not positive definite)")
    shift = raw.get("shift") or {}
    values = shift.get("values") or {}
    for key, deltas in values.items():
        unknown = set(deltas) - set(names)
        if unknown:
            raise ModelError(f"{LATENT_FILE}: shift {key}: unknown factor(s) {sorted(unknown)}")
    return Latent(names, corr, shift.get("variable"), {k: dict(v) for k, v in values.items()},
                  tuple(shift.get("roles") or ()), str(raw.get("note", "")))


def parse_score(raw: dict[str, Any] | None) -> tuple[Input, ...]:
    out = []
    for name, spec in (raw or {}).items():
        if isinstance(spec, dict):
            out.append(Input(str(name), float(spec["weight"]), tuple(spec.get("within") or ())))
        else:
            out.append(Input(str(name), float(spec)))
    return tuple(out)


def _standardise(values: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
    out = np.zeros_like(values)
    known = ~np.isnan(values)
    keys = np.zeros(len(values), dtype=int) if groups is None else groups
    for g in np.unique(keys[known]):
        sel = known & (keys == g)
        v = values[sel]
        sd = v.std()
        out[sel] = (v - v.mean()) / sd if sd > 0 else 0.0
    return out


def _values(name: str, table: pd.DataFrame, factors: pd.DataFrame | None,
            codebook: Codebook) -> np.ndarray:
    if factors is not None and name in factors:
        return factors[name].to_numpy(float)
    if name in table:
        col = table[name]
        var = codebook.variables.get(name)
        if var is not None and var.kind == "single":
            order = {k: i for i, k in enumerate(var.keys)}
            return col.astype("object").map(order).to_numpy(dtype=float, na_value=np.nan)
        return pd.to_numeric(col.astype("object"), errors="coerce").to_numpy(dtype=float)
    from lpj_report.editrules import RuleError, parse_linear

    try:
        lin = parse_linear(name, f"score input {name!r}")
    except RuleError as err:
        raise ModelError(str(err)) from None
    missing = [n for n in lin.names if n not in table]
    if missing or not lin.names:
        raise ModelError(f"score input {name!r}: {', '.join(missing) or name} not generated yet")
    vals = {n: pd.to_numeric(table[n].astype("object"), errors="coerce").to_numpy(dtype=float)
            for n in lin.names}
    return lin.evaluate(vals, len(table))


def score(inputs: tuple[Input, ...], table: pd.DataFrame, factors: pd.DataFrame | None,
          codebook: Codebook, noise: np.ndarray) -> np.ndarray:
    """Σ wᵢ·zᵢ + √(1 − Σ wᵢ²)·noise over every respondent of ``table`` (see module doc)."""
    total = np.zeros(len(table))
    for inp in inputs:
        vals = _values(inp.name, table, factors, codebook)
        groups = None
        if inp.within:
            cols = [table[w].astype("object").to_numpy() for w in inp.within]
            keys = ["|".join(str(c[i]) for c in cols) for i in range(len(table))]
            groups = pd.factorize(pd.Series(keys))[0]
        total += inp.weight * _standardise(vals, groups)
    rest = 1.0 - sum(i.weight ** 2 for i in inputs)
    return total + max(MIN_NOISE, np.sqrt(max(rest, 0.0))) * noise
