"""Build a reconstructed wave, one variable (step) at a time.

Layer: generate (may import base … findings, and its own layer).

For each step the published targets whose *last* generated variable is this step become linear
constraints on whole-respondent counts (see :mod:`lpj_report.generate.quota`); respondents that
all constraints treat alike form a cell. A step is one *draw*:

1. blanks — who leaves the question unanswered (:mod:`.missing`);
2. prior counts — per cell a multinomial draw from the model's prior (so that cells the
   publication does not pin differ by sampling noise, as in a real sample);
3. the quota programme — counts per cell and value that meet every printed number and stay
   close to the drawn counts, and that let every respondent's answer respect the edit rules;
4. assignment — inside a cell, respondents get values in the order of their score: latent
   factors and earlier answers (:mod:`.latent`) plus noise (:mod:`.assign`).

The draw is checked (:mod:`.checks`): the claims that become testable with this step must hold
as printed and every claim of no association must have a p-value in 0,10–0,95. A draw that fails
is discarded and the step is drawn again from the next seed of its own sequence
(``numpy.random.default_rng([seed, step, attempt])``), so a step's randomness does not depend
on how many draws earlier steps needed.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lpj_report.codebook import Codebook
from lpj_report.derive import apply_derived
from lpj_report.editrules import chain_bounds, load_rules
from lpj_report.figures import ALL, Figure
from lpj_report.findings import claim_checks, load_findings
from lpj_report.generate import assign
from lpj_report.generate.cells import CellRules
from lpj_report.generate.checks import claim_ok, spread_of, spread_ok, typed_view
from lpj_report.generate.fill import hall_rows
from lpj_report.generate.latent import Latent, load_latent, score
from lpj_report.generate.missing import MissingModel, load_missing
from lpj_report.generate.model import MISSING, ModelError, Step
from lpj_report.generate.programme import ANSWERED, Expr, Quota, QuotaProgramme, Term
from lpj_report.generate.quota import solve
from lpj_report.targets import NumberTarget, Published, RankingTarget

MAX_DRAWS = 60          # draws of one step before the best one is kept (and reported)
MAX_INFEASIBLE = 8      # stop early when this many draws all miss a printed number
DEFAULT = object()


@dataclass
class Report:
    steps: list[dict[str, Any]] = field(default_factory=list)

    def violated(self) -> dict[str, float]:
        return {t: s for step in self.steps for t, s in step["violated"].items()}

    def failed_checks(self) -> dict[str, str]:
        return {c: step["step"] for step in self.steps for c in step.get("failed", [])}


class Builder(CellRules, QuotaProgramme):
    term = Term

    def __init__(self, codebook: Codebook, figures: list[Figure], populations: dict,
                 published: Published, steps: list[Step], wave: dict[str, Any], seed: int,
                 latent: Latent | None | object = DEFAULT,
                 missing: MissingModel | None | object = DEFAULT, claims: bool = True,
                 reference: pd.DataFrame | None = None, changed: tuple[str, ...] = ()):
        self.cb = codebook
        self.figures = {f.id: f for f in figures}
        self.populations = populations
        self.published = published
        self.steps = steps
        self.step_names = [s.name for s in steps]
        self.wave = wave
        self.seed = int(seed)
        self.rng = np.random.default_rng(seed)
        self.latent = load_latent() if latent is DEFAULT else latent
        self.missing = load_missing() if missing is DEFAULT else missing
        self.rules = [r for r in load_rules(codebook) if r.kind == "compare"]
        # the claims' findings are read only when there are claims (a wave of a few test
        # figures has none, and the findings of the publication name figures it lacks)
        self.claims = ([c for c in claim_checks(published.claims, load_findings(
            codebook, self.figures, populations)) if not c.audit]
            if claims and published.claims else [])
        # a fictitious wave's reference wave (``prior_from``): its responses, cell by cell, are
        # the prior of every variable the wave does not change
        self.reference = (apply_derived(reference, codebook, wave)
                          if reference is not None else None)
        self.changed = set(changed)
        self.report = Report()
        self.allowed: dict[str, pd.Series] = {}
        self.blank_ok: dict[str, np.ndarray] = {}
        self.patterns: dict[str, np.ndarray] = {}
        self.timings: dict[str, float] = {}
        roles = [(role, int(n)) for role, n in wave["returned"].items()]
        rolle = np.concatenate([[r] * n for r, n in roles])
        rolle = rolle[self.rng.permutation(len(rolle))]
        self.table = pd.DataFrame({"respondent": np.arange(1, len(rolle) + 1, dtype=float),
                                   "rolle": rolle})
        self.propensity = self._rng("propensity", 0).standard_normal(len(rolle))
        self.factors: pd.DataFrame | None = None
        self.done = ["rolle", "respondent"]

    def _rng(self, name: str, attempt: int | str) -> np.random.Generator:
        """The seeded stream of one step's ``attempt``-th draw."""
        tag = zlib.crc32(f"{name}:{attempt}".encode())
        return np.random.default_rng([self.seed, tag])

    # ----------------------------------------------------------------- units
    def unit(self, var: str) -> str:
        """The generated variable that decides ``var`` (itself, or the input of a derived one)."""
        if var in self.done or var in self.step_names:
            return var
        info = self.cb[var]
        if not info.derived:
            raise KeyError(f"{var} is neither modelled nor derived")
        units = {self.unit(i) for i in info.inputs}
        if len(units) != 1:
            raise ValueError(f"{var}: derived from several generated variables {sorted(units)}")
        return units.pop()

    def order(self, var: str) -> int:
        u = self.unit(var)
        return -1 if u in ("rolle", "respondent") else self.step_names.index(u)

    # ------------------------------------------------------------ target terms
    def _exprs(self, t: NumberTarget | RankingTarget, group: str, category: str) -> tuple[Expr, Expr]:
        fig = self.figures[t.figure]
        terms = [Term(v, keys) for v, keys in self.populations[fig.population].items()]
        terms += [Term(v, keys) for v, keys in fig.filter.items()]
        if group != ALL:
            terms.append(Term(fig.breakdown, (group,)))
        var = self.cb[fig.variable]
        if fig.statistic == "multi_share":
            base = Expr([*terms, Term(fig.variable, option=ANSWERED)])
            opts = fig.combine.get(category, (category,))
            num = Expr([*base.terms, Term(fig.variable, option=",".join(opts))])
        elif fig.statistic == "mean":
            base = Expr([*terms, Term(fig.variable)])
            num = Expr(base.terms, weight=fig.variable)
        elif fig.statistic in ("count", "response_rate"):
            base = Expr(terms)
            num = base
        else:
            base_terms = [*terms, Term(fig.variable)]
            if fig.exclude:
                base_terms.append(Term(fig.variable, tuple(fig.exclude), negate=True))
            base = Expr(base_terms)
            num = Expr([*base_terms, Term(fig.variable, fig.combine.get(category, (category,)))])
        del var
        return base, num

    def target_step(self, t: NumberTarget | RankingTarget) -> int:
        fig = self.figures[t.figure]
        names = [*fig.variables, *self.populations[fig.population]]
        return max(self.order(v) for v in names)

    # ------------------------------------------------------------- evaluation
    def _known_mask(self, cur: pd.DataFrame, term: Term) -> np.ndarray:
        if term.option is not None:
            cols = self.cb[term.var].columns
            ticks = cur[cols].fillna(0).to_numpy(float)
            if term.option == ANSWERED:
                return ticks.sum(axis=1) > 0
            keys = term.option.split(",")
            idx = [self.cb[term.var].keys.index(k) for k in keys]
            return ticks[:, idx].sum(axis=1) > 0
        col = cur[term.var]
        mask = col.notna().to_numpy(bool) if term.keys is None else col.isin(term.keys).to_numpy(bool)
        return ~mask & col.notna().to_numpy(bool) if term.negate else mask

    def _domain_frame(self, step: Step) -> pd.DataFrame:
        values = [np.nan if v == MISSING else v for v in step.domain]
        frame = pd.DataFrame({step.name: pd.Series(values, dtype="object")})
        if self.cb[step.name].kind == "number":
            frame[step.name] = frame[step.name].astype("Float64")
        return apply_derived(frame, self.cb, self.wave)

    def _domain_mask(self, dom: pd.DataFrame, term: Term) -> np.ndarray:
        col = dom[term.var]
        mask = col.notna().to_numpy(bool) if term.keys is None else col.isin(term.keys).to_numpy(bool)
        return ~mask & col.notna().to_numpy(bool) if term.negate else mask

    # ------------------------------------------------------------------- steps
    def run(self, progress: bool = False) -> pd.DataFrame:
        from rich.progress import Progress

        with Progress(disable=not progress, transient=True) as bar:
            task = bar.add_task("variables", total=len(self.steps))
            for step in self.steps:
                bar.update(task, description=step.name)
                started = time.perf_counter()
                if step.kind == "learning_items":
                    self._learning_items(step)
                else:
                    self._step(step)
                self.done.append(step.name)
                self.timings[step.name] = time.perf_counter() - started
                bar.advance(task)
        return self.table

    def _current(self) -> pd.DataFrame:
        return apply_derived(self.table, self.cb, self.wave)

    def _factors(self, cur: pd.DataFrame) -> pd.DataFrame | None:
        """The latent factors, drawn once (when the workplace type is known, if it shifts them)."""
        if self.latent is None:
            return None
        if self.factors is None and (not self.latent.shift_by or self.latent.shift_by in cur):
            self.factors = self.latent.draw(cur, self._rng("latent", 0))
        return self.factors

    def _score(self, inputs, cur: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
        needs = [i.name for i in inputs if self.latent and i.name in self.latent.factors]
        factors = self._factors(cur)
        if needs and factors is None:
            raise ModelError(f"latent factors {needs} used before {self.latent.shift_by} exists")
        return score(inputs, cur, factors, self.cb, rng.standard_normal(len(cur)))

    def _step_targets(self, step: Step):
        idx = self.step_names.index(step.name)
        numbers = [t for t in self.published.numbers
                   if t.adopt and t.figure in self.figures and self.target_step(t) == idx]
        rankings = [r for r in self.published.rankings
                    if r.adopt and r.figure in self.figures and self.target_step(r) == idx]
        return numbers, rankings

    def _checks_at(self, step: Step) -> tuple[list, list]:
        """Claims and spreads that become testable with this step."""
        idx = self.step_names.index(step.name)
        claims = []
        for c in self.claims:
            names = [c.x, c.y, *c.filter, *self.populations[c.population]]
            try:
                if max(self.order(n) for n in names) == idx:
                    claims.append(c)
            except (KeyError, ValueError):
                continue
        spreads = []
        for s in self.steps:
            spec = spread_of(s.name, s.extra.get("spread"))
            if spec and max(self.order(spec.group), self.order(spec.variable)) == idx:
                spreads.append(spec)
        return claims, spreads

    def _step(self, step: Step) -> None:
        cur = self._current()
        base = cur["rolle"].isin(step.asked).to_numpy(bool).copy()
        for name, keys in self.cb[step.name].asked_if.items():
            base &= cur[name].isin(keys).to_numpy(bool)
        allowed_id = (self.allowed[step.name].to_numpy() if step.name in self.allowed
                      else np.full(len(cur), "all", dtype=object))
        allowed_id = self._consistent(step, cur, allowed_id)
        claims, spreads = self._checks_at(step)
        best = None
        for attempt in range(MAX_DRAWS):
            rng = self._rng(step.name, attempt)
            asked = base & ~self._blanks(step, cur, base, allowed_id, rng)
            quota = self._quota(step, cur, asked, allowed_id, rng)
            result = solve(quota.sizes, self._draw_prior(step, quota, rng), quota.allowed,
                           quota.rows, quota.totals, quota.choices, quota.hard)
            columns = self._assign(step, cur, quota, result.counts, rng)
            failed, values = self._check(step, columns, claims, spreads)
            quality = (len(result.violated), len(failed))
            if best is None or quality < best[0]:
                best = (quality, attempt, quota, result, columns, failed, values)
            if quality == (0, 0) or (attempt + 1 >= MAX_INFEASIBLE and best[0][0] > 0):
                break
        _, attempt, quota, result, columns, failed, values = best
        for col, series in columns.items():
            self.table[col] = series
        self.report.steps.append({
            "step": step.name, "cells": int(len(quota.sizes)), "targets": quota.n_targets,
            "rankings": quota.n_rankings, "violated": result.violated, "draw": attempt,
            "answered": int(quota.sizes.sum()), "checks": values, "failed": failed})

    def _blanks(self, step: Step, cur: pd.DataFrame, base: np.ndarray, allowed_id: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
        """Respondents who leave the question blank (item non-response, :mod:`.missing`)."""
        none = np.zeros(len(cur), dtype=bool)
        if self.missing is None or step.model_missing or self.cb[step.name].derived:
            return none
        if step.name not in self.blank_ok and any(
                step.name in d.inputs and d.name in self.done and len(d.inputs) > 1
                for d in self.cb.derived):
            return none   # inputs of livsform: blanks follow its pattern (_consistent)
        eligible = base & ((allowed_id == "all") | self.blank_ok.get(step.name, none))
        return self.missing.draw(step.name, base, eligible, cur["rolle"].astype(str).to_numpy(),
                                 self.propensity, rng)

    def _draw_prior(self, step: Step, quota: Quota, rng: np.random.Generator) -> np.ndarray:
        """Counts per cell to stay close to: a multinomial draw from the cell's prior shares
        (multiple choice: a binomial draw per option)."""
        if self.reference is not None and step.name not in self.changed:
            return quota.probs * quota.sizes[:, None]   # the reference's shares, as counts
        out = np.zeros_like(quota.probs)
        for c, n in enumerate(quota.sizes):
            if step.kind == "multi":
                out[c] = rng.binomial(int(n), np.clip(quota.probs[c], 0, 1))
            else:
                out[c] = rng.multinomial(int(n), quota.probs[c])
        return out

    def _check(self, step: Step, columns: dict[str, pd.Series], claims, spreads):
        if not claims and not spreads:
            return [], {}
        table = self.table.copy()
        for col, series in columns.items():
            table[col] = series
        typed = typed_view(apply_derived(table, self.cb, self.wave), self.cb)
        failed, values = [], {}
        for c in claims:
            ok, p = claim_ok(c, typed, self.populations, self.cb)
            values[c.id] = round(p, 6)
            if not ok:
                failed.append(c.id)
        for s in spreads:
            ok, pct = spread_ok(s, typed, self.populations, self.seed)
            values[f"spread:{s.group}:{s.variable}"] = round(pct, 2)
            if not ok:
                failed.append(f"spread:{s.group}:{s.variable}")
        return failed, values

    # ------------------------------------------------------------- the programme
    def _bounds(self, step: Step, cur: pd.DataFrame, quota: Quota,
                rng: np.random.Generator) -> None:
        """Per-respondent bounds from the edit rules (the other operands already generated)
        and the counts that let every respondent respect them (Hall's condition).

        ``margin`` (model): a gamma-distributed distance kept from the rule's edge, so that
        answers thin out towards the impossible instead of piling up on it (few start working
        for the municipality at exactly 15); it stays within the prior's range."""
        n = len(cur)
        lo, hi = np.full(n, -np.inf), np.full(n, np.inf)
        known = set(self.done)
        for rule in self.rules:
            names = {x for o in rule.operands for x in o.names}
            if step.name not in names:
                continue
            values = {x: pd.to_numeric(cur[x].astype("object"), errors="coerce")
                      .to_numpy(dtype=float) for x in names if x in cur}
            r_lo, r_hi = chain_bounds(rule, step.name, values, n, known)
            lo, hi = np.maximum(lo, np.ceil(r_lo)), np.minimum(hi, np.floor(r_hi))
        lo_m, hi_m = lo[quota.members], hi[quota.members]
        if not (np.isfinite(lo_m).any() or np.isfinite(hi_m).any()):
            return
        if np.isfinite(lo_m).any() and np.isfinite(hi_m).any():
            raise ModelError(f"{step.name}: the edit rules bound it from both sides; generate "
                             "the variables of a rule in the order of its chain")
        if MISSING in step.domain:
            raise ModelError(f"{step.name}: a number bounded by edit rules cannot have a "
                             "missing: model (its blanks come from the item non-response model)")
        values = np.asarray(step.domain, dtype=float)
        margin = step.extra.get("margin")
        if margin:
            mean, sd = float(margin["mean"]), float(margin["sd"])
            extra = np.floor(rng.gamma((mean / sd) ** 2, sd ** 2 / mean, size=n))
            support = values[quota.probs.sum(axis=0) > 0]
            top, bottom = support.max(), support.min()
            lo = np.where(np.isfinite(lo), np.maximum(lo, np.minimum(lo + extra, top)), lo)
            hi = np.where(np.isfinite(hi), np.minimum(hi, np.maximum(hi - extra, bottom)), hi)
            lo_m, hi_m = lo[quota.members], hi[quota.members]
        quota.hard = hall_rows(quota.cell_of, values, len(values), lo_m, hi_m)
        quota.lo, quota.hi = lo, hi

    # -------------------------------------------------------------- assignment
    def _assign(self, step: Step, cur: pd.DataFrame, quota: Quota, counts: np.ndarray,
                rng: np.random.Generator) -> dict[str, pd.Series]:
        index = self.table.index
        var = self.cb[step.name]
        if step.kind == "multi":
            maxc = step.max_choices or len(var.codes)
            scores = np.column_stack([
                self._score(step.option_score.get(k, ()), cur, rng) for k in var.keys])
            ticks = assign.multi(len(var.codes), counts, quota.cell_of, quota.members, scores,
                                 maxc, len(cur), rng)
            return {col: pd.Series(ticks[:, j], index=index).astype("Float64")
                    for j, col in enumerate(var.columns)}
        is_number = var.kind == "number"
        stay = rng.random(len(cur)) < step.stay if step.stay else None
        values = assign.single_or_number(step.domain, counts, quota.cell_of, quota.members,
                                         self._score(step.score, cur, rng), is_number, len(cur),
                                         rng, quota.lo, quota.hi, stay)
        col = pd.Series(values, index=index)
        return {step.name: col.astype("Float64") if is_number else col}

    def _learning_items(self, step: Step) -> None:
        """Choose which of the eight situations each respondent learned "i høj grad" from.

        A respondent with count k gets exactly k items; how often each item is chosen per
        (role, k) cell is drawn from the items' priors (share answering "i høj grad"; with a
        reference wave: its shares in the same cell) and which respondents get it follows the
        item's score (its latent factors)."""
        cur = self._current()
        rng = self._rng(step.name, 0)
        count = cur[step.extra["count"]].to_numpy(dtype=float, na_value=np.nan)
        item_steps = {s.name: s for s in self.steps if s.name in step.items}
        keyframe = pd.DataFrame({"rolle": cur["rolle"], "k": count})
        keyframe = keyframe[~np.isnan(count)]
        cells = keyframe.drop_duplicates().sort_values(["rolle", "k"]).reset_index(drop=True)
        sizes = np.array([((keyframe.rolle == r.rolle) & (keyframe.k == r.k)).sum()
                          for r in cells.itertuples()])
        ks = cells["k"].to_numpy(int)
        weights = np.array([[item_steps[i].prior[r]["i_hoej_grad"] for i in step.items]
                            for r in cells["rolle"]])
        share = np.array([_capped(w, k) for w, k in zip(weights, ks, strict=True)])
        if self.reference is not None:
            ref = self.reference
            high = (ref[list(step.items)] == "i_hoej_grad").to_numpy()
            for c, r in enumerate(cells.itertuples()):
                rows = ((ref["rolle"] == r.rolle) & (ref[step.extra["count"]] == r.k)).to_numpy()
                if rows.any():
                    share[c] = high[rows].mean(axis=0)
            prior = share * sizes[:, None]
        else:   # per item a binomial draw: how many of the cell's respondents learned from it
            prior = rng.binomial(sizes[:, None], share).astype(float)
        allowed = np.ones_like(prior, dtype=bool)
        result = solve(sizes, prior, allowed, [], (ks * sizes, ks * sizes))
        scores = np.column_stack([self._score(item_steps[i].score, cur, rng)
                                  for i in step.items])
        high = np.zeros((len(self.table), len(step.items)), dtype=bool)
        for c, r in enumerate(cells.itertuples()):
            idx = keyframe.index[(keyframe.rolle == r.rolle) & (keyframe.k == r.k)].to_numpy()
            high[idx] = assign.learning_matrix(np.full(len(idx), r.k), result.counts[c],
                                               scores[idx])
        self.report.steps.append({"step": step.name, "cells": int(len(cells)), "targets": 0,
                                  "rankings": 0, "violated": {}, "draw": 0})
        others = "|".join(k for k in self.cb[step.items[0]].keys if k != "i_hoej_grad")
        for j, item in enumerate(step.items):
            ids = np.where(high[:, j], "i_hoej_grad", others)
            ids[np.isnan(count)] = "all"
            self.allowed[item] = pd.Series(ids, index=self.table.index)
            # a blank item counts as not "i høj grad": only those may leave it blank
            self.blank_ok[item] = ~high[:, j] & ~np.isnan(count)


def _capped(weights: np.ndarray, k: int) -> np.ndarray:
    """Shares q (each at most 1) proportional to ``weights`` with Σ q = k: the chance that a
    respondent with k learning situations has each one."""
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    q = np.zeros_like(w)
    free = np.ones(len(w), dtype=bool)
    rest = float(k)
    for _ in range(len(w)):
        q[free] = rest * w[free] / w[free].sum()
        over = free & (q > 1)
        if not over.any():
            break
        q[over] = 1.0
        free &= ~over
        rest = k - q[~free].sum()
    return np.clip(q, 0, 1)

