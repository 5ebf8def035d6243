"""The reconstruction model: generation order, priors and associations (``data/reconstruction``).

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
from lpj_report.paths import DATA_DIR
from lpj_report.readers import read_yaml

MISSING = "__missing__"


class ModelError(ValueError):
    """The reconstruction model does not fit the codebook."""


@dataclass(frozen=True)
class Step:
    name: str
    kind: str                                   # single | multi | number | learning_items
    asked: tuple[str, ...]
    prior: dict[str, dict[Any, float]]          # role → value → percent
    prior_by: tuple[str, dict[str, dict[Any, float]], tuple[str, ...]] | None = None
    associate: tuple[str, float] | None = None
    domain: tuple[Any, ...] = ()
    max_choices: int | None = None
    items: tuple[str, ...] = ()                 # learning_items: the item variables
    balance: tuple[str, ...] = ()               # same prior in every group of these: independent
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
            name = raw["name"]
            raw = {**raw, **overrides.pop(name, {})}
            if name in seen:
                raise ModelError(f"{path.name}: {name} modelled twice")
            seen.add(name)
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
            assoc = raw.get("associate")
            if any(MISSING in d for d in prior.values()):
                domain = [*domain, MISSING]
            steps.append(Step(
                name=name, kind=kind, asked=asked, prior=prior, prior_by=prior_by,
                associate=(assoc["with"], float(assoc.get("strength", 0.5))) if assoc else None,
                domain=tuple(domain), max_choices=var.max_choices, note=raw.get("note", ""),
                balance=tuple(raw.get("balance") or ()),
                extra={k: v for k, v in raw.items() if k in ("fixed_by",)},
            ))
    if overrides:
        raise ModelError("changes name variables not in the model: " + ", ".join(sorted(overrides)))
    return steps
