"""The reconstruction model: generation order, priors and associations (``data/reconstruction``).

Layer: generate (may import base … findings, and its own layer).

Each entry names one *step*: a codebook question, or a derived variable that is generated first
and whose inputs are then generated to match it (``laering_antal``). Priors are percentages per
role; a number variable has a parametric prior (``mean``, ``sd``, ``min``, ``max``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from lpj_report.codebook import Codebook, Variable
from lpj_report.generate.errors import ModelError
from lpj_report.generate.latent import parse_score
from lpj_report.paths import DATA_DIR
from lpj_report.readers import read_yaml

MISSING = "__missing__"


@dataclass(frozen=True)
class Step:
    name: str
    kind: str                                   # single | multi | number | learning_items
    asked: tuple[str, ...]
    prior: dict[str, dict[Any, float]]          # role → value → percent
    prior_by: tuple[str, dict[str, dict[Any, float]], tuple[str, ...]] | None = None
    score: tuple[Any, ...] = ()                 # latent.Input: who gets the first codes
    domain: tuple[Any, ...] = ()
    max_choices: int | None = None
    items: tuple[str, ...] = ()                 # learning_items: the item variables
    option_score: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # multi: per option
    stay: float = 0.0                           # bounded numbers: share taking their bound
    model_missing: bool = False                 # blanks are part of the model (``missing:``)
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _number_prior(spec: dict[str, float], domain: list[int]) -> dict[Any, float]:
    """Percent per whole value from a normal or gamma shape truncated to [min, max]."""
    values = np.asarray(domain, dtype=float)
    lo, hi = spec.get("min", values[0]), spec.get("max", values[-1])
    if spec.get("shape", "normal") == "gamma":
        mean, sd = spec["mean"] - lo + 0.5, spec["sd"]
        k = (mean / sd) ** 2
        dens = stats.gamma.pdf(values - lo + 0.5, a=k, scale=sd**2 / mean)
    else:
        dens = stats.norm.pdf(values, loc=spec["mean"], scale=spec["sd"])
    dens[(values < lo) | (values > hi)] = 0
    dens = dens / dens.sum() * 100
    return {int(v): float(p) for v, p in zip(domain, dens, strict=True)}


def _domain(var: Variable, raw: dict[str, Any]) -> list[Any]:
    if "values" in raw:
        return list(raw["values"])
    if var.kind == "number":
        lo, hi = var.range or (0, 0)
        return list(range(int(lo), int(hi) + 1))
    return var.keys


def _prior(raw_prior: Any, var: Variable, asked: tuple[str, ...], domain: list[Any],
           missing: dict[str, float]) -> dict[str, dict[Any, float]]:
    prior: dict[str, dict[Any, float]] = {}
    raw_prior = raw_prior or {}
    for role in asked:
        spec = raw_prior.get(role) or raw_prior.get("medarbejder") or {}
        if var.kind == "number" and "mean" in spec:
            dist = _number_prior(spec, domain)
        elif spec:
            unknown = set(spec) - set(domain)
            if unknown:
                raise ModelError(f"{var.name}: prior has unknown values {sorted(map(str, unknown))}")
            dist = {v: float(spec.get(v, 0)) for v in domain}
        else:
            dist = {v: 100.0 / len(domain) for v in domain}
        if missing.get(role):
            scale = (100 - missing[role]) / max(sum(dist.values()), 1e-9)
            dist = {v: p * scale for v, p in dist.items()}
            dist[MISSING] = float(missing[role])
        prior[role] = dist
    return prior


def _score(raw: dict[str, Any]) -> tuple[Any, ...]:
    """``score:`` (inputs and weights) or the older ``associate: {with, strength}``."""
    if raw.get("score") and raw.get("associate"):
        raise ModelError(f"{raw['name']}: give score or associate, not both")
    if raw.get("associate"):
        assoc = raw["associate"]
        return parse_score({assoc["with"]: float(assoc.get("strength", 0.5))})
    return parse_score(raw.get("score"))


def load_model(codebook: Codebook, folder: Path | None = None,
               overrides: dict[str, dict[str, Any]] | None = None) -> list[Step]:
    """Read the generation steps in file-name order.

    ``overrides`` replaces entries of a variable's model (``prior``, ``prior_by``, …) — the
    documented changes of a fictitious wave (``changes:`` in its wave.yaml)."""
    folder = folder or DATA_DIR / "reconstruction"
    overrides = dict(overrides or {})
    steps: list[Step] = []
    seen: set[str] = set()
    for path in sorted(folder.glob("*.yaml")):
        for raw in (read_yaml(path, "reconstruction model") or {}).get("variables") or []:
            # 00_latent.yaml and 05_missing.yaml hold no variables
            name = raw["name"]
            override = overrides.pop(name, {})
            if "associate" in override:
                raw = {k: v for k, v in raw.items() if k != "score"}
            if "score" in override:
                raw = {k: v for k, v in raw.items() if k != "associate"}
            raw = {**raw, **override}
            if name in seen:
                raise ModelError(f"{path.name}: {name} modelled twice")
            seen.add(name)
            if raw.get("balance"):
                raise ModelError(f"{path.name}: {name}: balance is no longer supported; "
                                 "independence comes from random assignment within cells")
            if raw.get("kind") == "learning_items":
                steps.append(Step(name=name, kind="learning_items", asked=tuple(raw["asked"]),
                                  prior={}, items=tuple(raw["items"]), note=raw.get("note", ""),
                                  extra={"count": raw["count"]}))
                continue
            if name not in codebook:
                raise ModelError(f"{path.name}: {name} is not in the codebook")
            var = codebook[name]
            kind = raw.get("kind", var.kind)
            asked = tuple(raw.get("asked") or var.asked)
            domain = _domain(var, raw)
            missing = {k: float(v) for k, v in (raw.get("missing") or {}).items()}
            prior = _prior(raw.get("prior"), var, asked, domain, missing)
            prior_by = None
            if raw.get("prior_by"):
                by = raw["prior_by"]
                values = {}
                for stratum, dist in by["values"].items():
                    if var.kind == "number" and "mean" in dist:
                        values[stratum] = _number_prior(dist, domain)
                    else:
                        values[stratum] = {v: float(dist.get(v, 0)) for v in domain}
                prior_by = (by["variable"], values, tuple(by.get("roles") or asked))
            model_missing = any(MISSING in d for d in prior.values())
            if model_missing:
                domain = [*domain, MISSING]
            unknown = set(raw.get("option_score") or {}) - set(var.keys)
            if unknown:
                raise ModelError(f"{path.name}: {name}: option_score for unknown options "
                                 f"{sorted(unknown)}")
            steps.append(Step(
                name=name, kind=kind, asked=asked, prior=prior, prior_by=prior_by,
                score=_score(raw), domain=tuple(domain), max_choices=var.max_choices,
                option_score={k: parse_score(v) for k, v in
                              (raw.get("option_score") or {}).items()},
                stay=float(raw.get("stay", 0.0)), model_missing=model_missing,
                note=raw.get("note", ""),
                extra={k: v for k, v in raw.items() if k in ("fixed_by", "spread", "margin")},
            ))
    if overrides:
        raise ModelError("changes name variables not in the model: " + ", ".join(sorted(overrides)))
    return steps
