"""Could the data be a real survey? The statistics behind ``plausibility.md`` and ``lpj verify``.

Layer: generate (may import base … findings, and its own layer).

* **Edit rules** — violations of ``data/codebook/rules.yaml`` (:mod:`lpj_report.editrules`).
* **"No association" claims** — Pearson's χ² statistic of the claim's x × y table (or the claim's
  own test) and its percentile under the null: the χ² distribution function at the statistic
  with (r − 1)(c − 1) degrees of freedom (1 − p). A statistic at the 99,9th percentile rejects; one
  at the 0,01st is suspiciously small (a table balanced by construction, p ≈ 1).
* **Municipality spread** — the span (largest minus smallest) of the share with high learning
  across the municipalities, against its sampling distribution when every municipality has the
  same true share: binomial draws at the pooled share with each municipality's size, simulated
  (seeded). Reported as the percentile of the observed span.
* **Missing answers** per question: blank among those asked (role and filter).
* **Related items** — Spearman's ρ of pairs the model relates through a common factor, also
  *partial* on the learning count (ρ of the rank residuals after a linear fit on the ranks of
  ``laering_antal``): related questions must stay related among respondents who learn alike.
* **Unrelated items** — 40 seeded random pairs of questions the model generates independently
  (no common factor, stratum, score input or target); the χ² test p-values of their tables must
  look uniform (Kolmogorov–Smirnov test against U(0, 1)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lpj_report.plausibility_stats import (  # noqa: F401 (re-exported)
    N_SIM,
    NULL_BAND,
    SPREAD_BAND,
    SpreadResult,
    chi2_table,
    ks_uniform,
    null_percentile,
    share_span,
    spearman_partial,
    spread_test,
)

# ----------------------------------------------------------------------------- model structure
FACTOR = "factor:"


def model_parents(builder) -> dict[str, set[str]]:
    """Direct parents of every generated item in the generation graph: what the quota cells,
    the prior strata, the score and the acceptance checks of its step read. Items are question
    names, and ``name_<code>`` for the options of a multiple-choice question."""
    cb = builder.cb
    latent = builder.latent
    correlated = set()
    if latent is not None:
        corr = latent.correlation - np.eye(len(latent.factors))
        correlated = {f for i, f in enumerate(latent.factors) if np.abs(corr[i]).sum() > 0}

    def node(name: str) -> set[str]:
        if latent is not None and name in latent.factors:
            return {FACTOR + ("correlated" if name in correlated else name)}
        from lpj_report.editrules import RuleError, parse_linear

        if name in cb or name in builder.step_names:
            return {builder.unit(name)}
        try:
            return {builder.unit(n) for n in parse_linear(name).names}
        except RuleError:
            return set()

    parents: dict[str, set[str]] = {}
    if latent is not None and latent.shift_by:
        for f in latent.factors:
            parents.update({n: {builder.unit(latent.shift_by)} for n in node(f)})
    for step in builder.steps:
        own: set[str] = set()
        if step.prior_by:
            own |= node(step.prior_by[0])
        for inp in step.score:
            own |= node(inp.name)
            for w in inp.within:
                own |= node(w)
        numbers, rankings = builder._step_targets(step)
        for t in [*numbers, *rankings]:
            fig = builder.figures[t.figure]
            for v in [*fig.variables, *builder.populations[fig.population]]:
                own |= node(v)
        claims, spreads = builder._checks_at(step)
        for c in claims:
            for v in (c.x, c.y, *c.filter):
                own |= node(v)
        for s in spreads:
            own |= node(s.group) | node(s.variable)
        if step.name in cb:
            own |= {builder.unit(n) for n in cb[step.name].asked_if}
        for d in cb.derived:  # inputs generated after their derived variable (livsform)
            if step.name in d.inputs and d.name in builder.step_names:
                own.add(d.name)
        if step.kind == "learning_items":
            own.add(step.extra["count"])
        for learn in builder.steps:
            if learn.kind == "learning_items" and step.name in learn.items:
                own.add(learn.name)
        own -= {"rolle", "respondent", step.name}
        var = cb.variables.get(step.name)
        if var is not None and var.kind == "multi":
            # the options of one list share each respondent's ticks: an option that follows a
            # factor takes ticks from the others, so every option depends on every option score
            for inps in step.option_score.values():
                for inp in inps:
                    own |= node(inp.name)
            for col in var.columns:
                parents[col] = own | {step.name}
            parents[step.name] = own
        else:
            parents[step.name] = own
    return parents


def ancestors(parents: dict[str, set[str]]) -> dict[str, set[str]]:
    """Every item's ancestors (itself included)."""
    out: dict[str, set[str]] = {}

    def visit(name: str) -> set[str]:
        if name in out:
            return out[name]
        out[name] = {name}
        for p in parents.get(name, ()):
            out[name] |= visit(p)
        return out[name]

    for name in parents:
        visit(name)
    return out


def unrelated_pairs(builder, role: str) -> list[tuple[str, str]]:
    """Pairs of items asked of ``role`` that share no ancestor in the generation graph (the
    model draws them independently); options of one question are never paired."""
    cb = builder.cb
    anc = ancestors(model_parents(builder))
    items = []
    for var in cb.questions:
        if var.name in ("respondent", "rolle") or role not in var.asked or var.asked_if:
            continue
        if var.kind == "number":
            continue
        items += var.columns if var.kind == "multi" else [var.name]
    owner = {col: var.name for var in cb.questions for col in var.columns}
    out = []
    for i, a in enumerate(items):
        for b in items[i + 1:]:
            if owner[a] == owner[b] or a not in anc or b not in anc:
                continue
            if not anc[a] & anc[b]:
                out.append((a, b))
    return out


# ----------------------------------------------------------------------------- the assessment
DESIGN = ("respondent", "rolle", "kommune")   # from the sample, not answers
NOMINAL = ("arbejdssted", "kommune", "leder_tid", "overordnet_tid", "rolle")
RELATED_MIN_WEIGHT = 0.4
N_UNRELATED = 40
DIP_RATIO = 0.25        # a category below a quarter of both neighbours …
DIP_NEIGHBOUR = 10.0    # … that hold at least 10 % each, on at least 30 answers
DIP_MIN_BASE = 30


@dataclass(frozen=True)
class NullClaim:
    id: str
    statement: str
    test: str
    statistic: float
    dof: int | None
    p: float
    percentile: float
    n: int

    @property
    def in_band(self) -> bool:
        return NULL_BAND[0] <= self.p <= NULL_BAND[1]


@dataclass(frozen=True)
class Missing:
    item: str
    asked: int
    blank: int

    @property
    def percent(self) -> float:
        return 100 * self.blank / self.asked if self.asked else float("nan")


@dataclass(frozen=True)
class Related:
    a: str
    b: str
    factor: str
    rho: float
    partial: float
    n: int


@dataclass(frozen=True)
class Dip:
    item: str
    population: str
    category: str
    shares: tuple[float, float, float]     # left neighbour, category, right neighbour (percent)
    n: int


@dataclass
class Assessment:
    year: int
    status: str
    respondents: int
    rules: dict[str, int]
    violations: list
    nulls: list[NullClaim]
    spread: SpreadResult
    missing: list[Missing]
    related: list[Related]
    unrelated: list[tuple[str, str, float]]
    ks: tuple[float, float]
    dips: list[Dip]

    @property
    def spread_in_band(self) -> bool:
        return SPREAD_BAND[0] <= self.spread.percentile <= SPREAD_BAND[1]


def _claim_rows(data: pd.DataFrame, claims, populations: dict, codebook) -> list[NullClaim]:
    """The claims of no association (:class:`lpj_report.findings.ClaimCheck`) on the data."""
    from lpj_report.findings import claim_result

    out = []
    for c in claims:
        if c.expect != "none":
            continue
        res = claim_result(c, data, codebook, populations)
        dof = None
        stat = float(res.test.statistic)
        if c.test == "chi2":
            mask = np.ones(len(data), dtype=bool)
            for name, keys in {**populations[c.population], **c.filter}.items():
                mask &= data[name].isin(keys).to_numpy(bool)
            stat, dof, _ = chi2_table(data.loc[mask, c.x], data.loc[mask, c.y])
        out.append(NullClaim(c.id, c.statement, c.test, stat, dof, float(res.test.p),
                             100 * (1 - float(res.test.p)), int(res.n)))
    return out


def _asked(data: pd.DataFrame, var) -> np.ndarray:
    mask = data["rolle"].isin(var.asked).to_numpy(bool).copy()
    for name, keys in var.asked_if.items():
        mask &= data[name].isin(keys).to_numpy(bool)
    return mask


def missing_answers(data: pd.DataFrame, codebook) -> list[Missing]:
    """Blanks per question among those asked (a multiple-choice question is blank when all its
    option columns are)."""
    out = []
    for var in codebook.questions:
        if var.name in DESIGN or var.optional:    # a cluster id real data may carry
            continue
        asked = _asked(data, var)
        blank = data.loc[asked, var.columns].isna().all(axis=1).to_numpy()
        out.append(Missing(var.name, int(asked.sum()), int(blank.sum())))
    return out


def _order(col: pd.Series) -> np.ndarray:
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy(dtype=float)
        codes[codes < 0] = np.nan
        return codes
    return pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)


def related_items(data: pd.DataFrame, steps, codebook, role: str = "medarbejder") -> list[Related]:
    """Pairs of single-choice questions asked of ``role`` that load on the same factor with a
    weight of at least :data:`RELATED_MIN_WEIGHT` each: ρ and ρ partial on the learning count."""
    loads: dict[str, dict[str, float]] = {}
    for step in steps:
        var = codebook.variables.get(step.name)
        if var is None or var.kind != "single" or role not in var.asked or var.derived:
            continue
        for inp in step.score:
            if inp.weight >= RELATED_MIN_WEIGHT:
                loads.setdefault(inp.name, {})[step.name] = inp.weight
    rows = data["rolle"].isin([role]).to_numpy(bool)
    z = _order(data.loc[rows, "laering_antal"])
    from lpj_report.derive import LEARNING_ITEMS

    out = []
    for factor, items in loads.items():
        if factor in codebook:
            continue   # a loading on another question, not a factor
        names = list(items)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                if a in LEARNING_ITEMS and b in LEARNING_ITEMS:
                    continue   # two of the eight: they add up to the count held constant
                rho, partial, n = spearman_partial(_order(data.loc[rows, a]),
                                                   _order(data.loc[rows, b]), z)
                out.append(Related(a, b, factor, rho, partial, n))
    return out


def unrelated_tests(data: pd.DataFrame, builder, seed: int, role: str = "medarbejder",
                    n_pairs: int = N_UNRELATED) -> list[tuple[str, str, float]]:
    """χ² p-values of ``n_pairs`` seeded random pairs from :func:`unrelated_pairs`."""
    pairs = unrelated_pairs(builder, role)
    rng = np.random.default_rng(seed)
    chosen = [pairs[i] for i in sorted(rng.choice(len(pairs), size=min(n_pairs, len(pairs)),
                                                  replace=False))]
    rows = data["rolle"].isin([role]).to_numpy(bool)
    owner = {col: var for var in builder.cb.questions for col in var.columns}
    out = []
    for a, b in chosen:
        cols = {}
        for item in (a, b):
            var = owner[item]
            if var.kind == "multi":  # answered the list: ticked or not
                answered = data.loc[rows, var.columns].notna().all(axis=1)
                cols[item] = data.loc[rows, item].astype("Float64").where(answered)
            else:
                cols[item] = data.loc[rows, item]
        _, _, p = chi2_table(cols[a], cols[b])
        out.append((a, b, p))
    return out


def dips(data: pd.DataFrame, codebook) -> list[Dip]:
    """Holes in ordered answer scales: a category below :data:`DIP_RATIO` of both neighbours,
    per role and, for employees, per learning level; and in the learning count (0–8) of the
    employees of each workplace type."""
    pops = [(f"rolle={r.key}", data["rolle"] == r.key) for r in codebook.roles]
    if "laering" in data:
        emp = data["rolle"] == "medarbejder"
        pops += [(f"medarbejder, laering={k}", emp & (data["laering"] == k))
                 for k in codebook["laering"].keys]
    out = []
    scales = [(v.name, [k for k in v.keys if k != "ved_ikke"], pops) for v in codebook.questions
              if v.kind == "single" and v.name not in NOMINAL and len(v.codes) >= 3]
    if "laering_antal" in data and "arbejdssted" in data:   # the count, per workplace
        emp = data["rolle"] == "medarbejder"
        scales.append(("laering_antal", list(range(9)),
                       [(f"medarbejder, arbejdssted={k}", emp & (data["arbejdssted"] == k))
                        for k in codebook["arbejdssted"].keys]))
    for name, keys, groups in scales:
        for label, mask in groups:
            col = data.loc[mask.to_numpy(bool), name]
            col = col[col.notna()]
            if len(col) < DIP_MIN_BASE:
                continue
            shares = [100 * float((col == k).mean()) for k in keys]
            for i in range(1, len(keys) - 1):
                left, mid, right = shares[i - 1], shares[i], shares[i + 1]
                if min(left, right) >= DIP_NEIGHBOUR and mid < DIP_RATIO * min(left, right):
                    out.append(Dip(name, label, str(keys[i]), (left, mid, right), len(col)))
    return out


def assess(project, wave, data: pd.DataFrame) -> Assessment:
    """Every plausibility statistic of one wave's typed, derived data."""
    from lpj_report.editrules import check, load_rules
    from lpj_report.generate import model_overrides
    from lpj_report.generate.build import Builder
    from lpj_report.generate.model import load_model

    cb = project.codebook
    rules = load_rules(cb)
    table = data.assign(respondent=data["respondent"].astype("Float64"))
    found = check(table.set_index(table["respondent"]), cb, rules, codes=False)
    counts = {r.id.split(":")[0]: 0 for r in rules}
    for v in found:
        counts[v.rule.id.split(":")[0]] += 1
    year = int(wave.meta.get("targets_from") or wave.year)
    published = project.published(year)
    from lpj_report.findings import claim_checks

    nulls = _claim_rows(data, claim_checks(published.claims, project.findings),
                        project.populations, cb)
    emp = data["rolle"].isin(["medarbejder"]).to_numpy(bool) & data["kommune"].notna().to_numpy(
        bool) & data["laering"].notna().to_numpy(bool)
    spread = spread_test((data.loc[emp, "laering"].astype("object") == "hoej").to_numpy(),
                         data.loc[emp, "kommune"].astype("object").astype(str).to_numpy(),
                         seed=int(wave.meta.get("seed", wave.year)))
    steps = load_model(cb, overrides=model_overrides(list(wave.meta.get("changes") or [])))
    meta = {**wave.meta, "returned": wave.meta.get("returned")
            or {r: int((data["rolle"] == r).sum()) for r in ("medarbejder",
                                                               "tillidsrepraesentant", "leder")}}
    builder = Builder(cb, project.figures, project.populations, published, steps, meta,
                      int(wave.meta.get("seed", wave.year)))
    unrelated = unrelated_tests(data, builder, int(wave.meta.get("seed", wave.year)))
    return Assessment(wave.year, wave.status, len(data), counts, found, nulls, spread,
                      missing_answers(data, cb), related_items(data, steps, cb), unrelated,
                      ks_uniform([p for _, _, p in unrelated]), dips(data, cb))
