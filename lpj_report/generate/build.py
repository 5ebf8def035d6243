"""Build a reconstructed wave, one variable (step) at a time.

For each step the published targets whose *last* generated variable is this step become linear
constraints on whole-respondent counts (see :mod:`lpj_report.generate.quota`); respondents that
all constraints treat alike form a cell. Inside a cell, respondents get values in the order of a
latent score — the ``associate`` variable (standardised) times the strength plus seeded noise —
so that the associations the publication reports appear while every quota holds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from lpj_report.codebook import Codebook
from lpj_report.derive import apply_derived
from lpj_report.figures import ALL, Figure, category_keys, group_keys
from lpj_report.generate.constraints import feasible_sizes, ranking_rows, target_rows
from lpj_report.generate.model import MISSING, Step
from lpj_report.generate.quota import Choice, Row, solve
from lpj_report.targets import NumberTarget, Published, RankingTarget

ANSWERED = "__answered__"


@dataclass
class Term:
    """A condition ``var ∈ keys`` (keys None: var not missing); ``option`` for multi ticks."""

    var: str
    keys: tuple | None = None
    negate: bool = False
    option: str | None = None


@dataclass
class Expr:
    """Base or numerator of a target: respondents meeting all terms; ``weight`` = value var."""

    terms: list[Term]
    weight: str | None = None


@dataclass
class Report:
    steps: list[dict[str, Any]] = field(default_factory=list)

    def violated(self) -> dict[str, float]:
        return {t: s for step in self.steps for t, s in step["violated"].items()}


class Builder:
    def __init__(self, codebook: Codebook, figures: list[Figure], populations: dict,
                 published: Published, steps: list[Step], wave: dict[str, Any], seed: int):
        self.cb = codebook
        self.figures = {f.id: f for f in figures}
        self.populations = populations
        self.published = published
        self.steps = steps
        self.step_names = [s.name for s in steps]
        self.wave = wave
        self.rng = np.random.default_rng(seed)
        self.report = Report()
        self.allowed: dict[str, pd.Series] = {}
        self.timings: dict[str, float] = {}
        roles = [(role, int(n)) for role, n in wave["returned"].items()]
        rolle = np.concatenate([[r] * n for r, n in roles])
        rolle = rolle[self.rng.permutation(len(rolle))]
        self.table = pd.DataFrame({"respondent": np.arange(1, len(rolle) + 1, dtype=float),
                                   "rolle": rolle})
        self.done = ["rolle", "respondent"]

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

    def _step_targets(self, step: Step):
        idx = self.step_names.index(step.name)
        numbers = [t for t in self.published.numbers
                   if t.adopt and t.figure in self.figures and self.target_step(t) == idx]
        rankings = [r for r in self.published.rankings
                    if r.adopt and r.figure in self.figures and self.target_step(r) == idx]
        return numbers, rankings

    def _step(self, step: Step) -> None:
        cur = self._current()
        asked = cur["rolle"].isin(step.asked).to_numpy(bool).copy()
        for name, keys in self.cb[step.name].asked_if.items():
            asked &= cur[name].isin(keys).to_numpy(bool)
        numbers, rankings = self._step_targets(step)
        multi = step.kind == "multi"
        dom = None if multi else self._domain_frame(step)
        n_vals = len(step.domain)

        exprs: list[tuple[str, Any, Expr, Expr]] = []
        for t in numbers:
            base, num = self._exprs(t, t.group, t.category)
            exprs.append((t.id, t, base, num))
        for r in rankings:
            items = r.order
            fig = self.figures[r.figure]
            others = ([k for k in category_keys(fig, self.cb) if k not in fig.combine]
                      if r.across == "categories" else group_keys(fig, self.cb)[1:])
            for key in dict.fromkeys([*items, *others]):
                g, c = (r.group, key) if r.across == "categories" else (key, r.category)
                base, num = self._exprs(r, g, c)
                exprs.append((f"{r.id}:{key}", (r, key), base, num))

        # known part of each expression, per respondent
        def known(expr: Expr) -> np.ndarray:
            mask = asked.copy()
            for term in expr.terms:
                if self.unit(term.var) != step.name:
                    mask &= self._known_mask(cur, term)
            return mask

        def domain_part(expr: Expr) -> np.ndarray:
            if multi:
                out = np.zeros(n_vals)
                opt_terms = [t for t in expr.terms if t.var == step.name and t.option
                             and t.option != ANSWERED]
                if not opt_terms:
                    return np.full(n_vals, np.nan)  # constant: every asked respondent answers
                for k in opt_terms[0].option.split(","):
                    out[list(step.domain).index(k)] = 1
                return out
            mask = np.ones(n_vals, dtype=bool)
            for term in expr.terms:
                if self.unit(term.var) == step.name:
                    mask &= self._domain_mask(dom, term)
            weight = np.ones(n_vals)
            if expr.weight is not None:
                weight = dom[expr.weight].to_numpy(dtype=float, na_value=0.0)
            return mask * weight

        known_masks = []
        for _, _, base, num in exprs:
            known_masks.append(known(base))
            known_masks.append(known(num))
        ahead = self._lookahead(step)
        for pop_terms, _, _, _ in ahead:
            known_masks.append(known(Expr(pop_terms)))

        # cells: role, prior stratum, allowed set and every known mask
        stratum = (cur[step.prior_by[0]].astype("object").to_numpy()
                   if step.prior_by else np.full(len(cur), None))
        allowed_id = (self.allowed[step.name].to_numpy() if step.name in self.allowed
                      else np.full(len(cur), "all", dtype=object))
        allowed_id = self._consistent(step, cur, allowed_id)
        sig = {"rolle": cur["rolle"].astype(str).to_numpy(), "stratum": stratum.astype(str),
               "allowed": allowed_id.astype(str)}
        sig.update({f"k{i}": m for i, m in enumerate(known_masks)})
        sig.update({f"b{j}": cur[name].astype("object").astype(str).to_numpy()
                    for j, name in enumerate(step.balance)})
        sig_frame = pd.DataFrame(sig)
        sig_frame = sig_frame[asked]
        cells = sig_frame.drop_duplicates().reset_index(drop=True)
        cell_of = sig_frame.merge(cells.reset_index(), how="left", on=list(cells.columns))["index"]
        cell_of = cell_of.to_numpy()
        members = np.flatnonzero(asked)
        sizes = np.bincount(cell_of, minlength=len(cells))
        cell_known = cells[[f"k{i}" for i in range(len(known_masks))]].to_numpy(bool)

        prior = np.zeros((len(cells), n_vals))
        allowed = np.ones((len(cells), n_vals), dtype=bool)
        for c, row in cells.iterrows():
            dist = step.prior[row["rolle"]]
            if (step.prior_by and row["stratum"] in step.prior_by[1]
                    and row["rolle"] in step.prior_by[2]):
                dist = {**dist, **step.prior_by[1][row["stratum"]]}
            p = np.array([dist.get(v, 0.0) for v in step.domain])
            if row["allowed"] != "all":
                allowed[c] = [str(v) in row["allowed"].split("|") for v in step.domain]
                p = np.where(allowed[c], p + 1e-3, 0)
            p = p / p.sum() if p.sum() else allowed[c] / allowed[c].sum()
            prior[c] = p * sizes[c] if not multi else np.array(
                [dist.get(v, 0.0) for v in step.domain]) / 100 * sizes[c]

        def linear(expr_idx: int, expr: Expr):
            """(coef over flattened x, constant)."""
            kc = cell_known[:, expr_idx]
            dpart = domain_part(expr)
            if multi and np.isnan(dpart).all():
                return {}, Fraction(int((kc * sizes).sum()))
            if not multi and expr.weight is None and all(
                    dpart[allowed[c]].all() for c in np.flatnonzero(kc)):
                return {}, Fraction(int((kc * sizes).sum()))  # every answer counts: fixed
            coef: dict[int, Fraction] = {}
            for c in np.flatnonzero(kc):
                for v in np.flatnonzero(dpart):
                    coef[c * n_vals + v] = Fraction(str(dpart[v]))
            return coef, Fraction(0)

        rows: list[Row] = []
        rank_terms: dict[str, list[tuple[Any, dict, Fraction, dict, Fraction]]] = {}
        for i, (tid, t, base, num) in enumerate(exprs):
            bc, bk = linear(2 * i, base)
            nc, nk = linear(2 * i + 1, num)
            if isinstance(t, NumberTarget):
                rows.extend(target_rows(tid, t, self.figures[t.figure], bc, bk, nc, nk))
            else:
                rank_terms.setdefault(t[0].id, []).append((t[1], bc, bk, nc, nk))
        for r in rankings:
            rows.extend(ranking_rows(r, rank_terms.get(r.id, [])))

        choices = []
        for j, (_, breakdown, group, targets) in enumerate(ahead):
            kc = cell_known[:, 2 * len(exprs) + j]
            member = self._domain_mask(dom, Term(breakdown, (group,)))
            coef = {c * n_vals + v: 1 for c in np.flatnonzero(kc) for v in np.flatnonzero(member)}
            expected = sum(prior[c, v] for c, v in ((k // n_vals, k % n_vals) for k in coef))
            values = feasible_sizes(targets, expected, self._partitions(targets))
            if values:
                choices.append(Choice(coef, values))
        if multi:
            maxc = step.max_choices or n_vals
            totals = (sizes, sizes * maxc)
        else:
            totals = None
        result = solve(sizes, prior, allowed, rows, totals, choices)
        self.report.steps.append({"step": step.name, "cells": int(len(cells)),
                                  "targets": len(numbers), "rankings": len(rankings),
                                  "violated": result.violated})
        self._assign(step, cur, members, cell_of, result.counts)

    def _consistent(self, step: Step, cur: pd.DataFrame, allowed_id: np.ndarray) -> np.ndarray:
        """Restrict answers so that a variable derived from several questions, generated
        before them (e.g. ``livsform``), comes out as generated once all its inputs exist."""
        counts = {s.extra.get("count") for s in self.steps if s.kind == "learning_items"}
        out = allowed_id.copy()
        for derived in self.cb.derived:
            if (step.name not in derived.inputs or derived.name not in self.done
                    or len(derived.inputs) < 2 or derived.name in counts):
                continue
            done = [i for i in derived.inputs if i in self.done]
            todo = [i for i in derived.inputs if i not in self.done and i != step.name]
            keys = [derived.name, *done]
            frame = cur[keys].astype("object")
            if not done and MISSING in step.domain:
                # generated as missing: the first of its questions is left blank
                d_step = self.steps[self.step_names.index(derived.name)]
                blank = (frame[derived.name].isna() & cur["rolle"].isin(d_step.asked)).to_numpy()
                out[blank] = MISSING
            cache: dict[tuple, str] = {}
            for i in np.flatnonzero(frame[derived.name].notna().to_numpy()):
                key = tuple(frame.iloc[i])
                if key not in cache:
                    cache[key] = self._completions(derived, step, dict(zip(keys, key, strict=True)),
                                                   todo)
                ok = cache[key]
                if out[i] != "all":
                    ok = "|".join(v for v in ok.split("|") if v in out[i].split("|"))
                out[i] = ok
        return out

    def _completions(self, derived, step: Step, fixed: dict, todo: list[str]) -> str:
        """Values of ``step`` for which some answers to ``todo`` give ``fixed[derived]``."""
        from itertools import product

        from lpj_report.derive import DERIVATIONS

        values = [v for v in step.domain if v != MISSING]
        combos = list(product(values, *[self.cb[t].keys for t in todo]))
        frame = pd.DataFrame(combos, columns=[step.name, *todo], dtype="object")
        for name, value in fixed.items():
            if name != derived.name:
                frame[name] = value
        result = DERIVATIONS[derived.name](frame, self.wave).astype("object")
        good = frame.loc[result.to_numpy() == fixed[derived.name], step.name]
        return "|".join(str(v) for v in values if v in set(good))

    def _lookahead(self, step: Step) -> list[tuple[list[Term], str, str, list[NumberTarget]]]:
        """Later targets whose base is a group of this variable: their printed percentages
        restrict the group's size (with 17 respondents, 61 % cannot be printed)."""
        if step.kind == "multi":
            return []
        idx = self.step_names.index(step.name)
        groups: dict[tuple, list[NumberTarget]] = {}
        for t in self.published.numbers:
            fig = self.figures.get(t.figure)
            if (fig is None or not t.adopt or t.group == ALL or fig.exclude
                    or any(v != fig.breakdown or t.group not in keys
                           for v, keys in fig.filter.items())
                    or fig.statistic not in ("share", "multi_share") or t.field != "value"
                    or not fig.breakdown or self.unit(fig.breakdown) != step.name
                    or self.order(fig.variable) <= idx
                    or any(self.order(v) >= idx for v in self.populations[fig.population])):
                continue
            key = (fig.population, fig.breakdown, t.group)
            groups.setdefault(key, []).append(t)
        out = []
        for (pop, breakdown, group), targets in sorted(groups.items()):
            terms = [Term(v, keys) for v, keys in self.populations[pop].items()]
            out.append((terms, breakdown, group, targets))
        return out

    def _partitions(self, targets: list[NumberTarget]) -> list[list[NumberTarget]]:
        """Targets that print every category of one figure's group (they sum to its base)."""
        by_fig: dict[str, list[NumberTarget]] = {}
        for t in targets:
            if t.bounds is None:
                by_fig.setdefault(t.figure, []).append(t)
        out = []
        for fid, ts in by_fig.items():
            fig = self.figures[fid]
            plain = {k for k in category_keys(fig, self.cb) if k not in fig.combine}
            if fig.statistic == "share" and {t.category for t in ts} == plain:
                out.append(ts)
        return out

    # -------------------------------------------------------------- assignment
    def _scores(self, step: Step, cur: pd.DataFrame, idx: np.ndarray) -> np.ndarray:
        noise = self.rng.standard_normal(len(idx))
        if not step.associate:
            return noise
        var, strength = step.associate
        col = cur[var]
        if self.cb[var].kind == "single":
            order = {k: i for i, k in enumerate(self.cb[var].keys)}
            vals = col.astype("object").map(order).to_numpy(dtype=float, na_value=np.nan)
        else:
            vals = col.to_numpy(dtype=float, na_value=np.nan)
        vals = vals[idx]
        sd = np.nanstd(vals) or 1.0
        z = np.nan_to_num((vals - np.nanmean(vals)) / sd)
        s = max(-1.0, min(1.0, strength))
        return s * z + np.sqrt(1 - s * s) * noise

    def _assign(self, step: Step, cur, members, cell_of, counts) -> None:
        name = step.name
        if step.kind == "multi":
            self._assign_multi(step, cur, members, cell_of, counts)
            return
        values = np.empty(len(self.table), dtype=object)
        values[:] = None
        is_number = self.cb[name].kind == "number"
        for c in range(counts.shape[0]):
            idx = members[cell_of == c]
            score = self._scores(step, cur, idx)
            order = idx[np.argsort(score if is_number else -score, kind="stable")]
            seq = [v for v, n in zip(step.domain, counts[c], strict=True) if v != MISSING
                   for _ in range(n)]
            n_missing = counts[c][list(step.domain).index(MISSING)] if MISSING in step.domain else 0
            if n_missing:
                drop = self.rng.choice(len(order), size=n_missing, replace=False)
                order = np.delete(order, drop)
            values[order] = seq
        col = pd.Series(values, index=self.table.index)
        self.table[name] = col.astype("Float64") if is_number else col

    def _assign_multi(self, step: Step, cur, members, cell_of, counts) -> None:
        var = self.cb[step.name]
        ticks = np.full((len(self.table), len(var.codes)), np.nan)
        maxc = step.max_choices or len(var.codes)
        for c in range(counts.shape[0]):
            idx = members[cell_of == c]
            cell_ticks = np.zeros((len(idx), len(var.codes)))
            for o in np.argsort(-counts[c], kind="stable"):
                n = counts[c][o]
                if not n:
                    continue
                load = cell_ticks.sum(axis=1)
                prio = self.rng.random(len(idx)) - 2.0 * load
                prio[load >= maxc] = -np.inf
                chosen = np.argsort(-prio, kind="stable")[:n]
                cell_ticks[chosen, o] = 1
            for z in np.flatnonzero(cell_ticks.sum(axis=1) == 0):
                donors = np.flatnonzero(cell_ticks.sum(axis=1) >= 2)
                for d in donors:
                    opts = np.flatnonzero((cell_ticks[d] == 1) & (cell_ticks[z] == 0))
                    if len(opts):
                        cell_ticks[d, opts[0]] = 0
                        cell_ticks[z, opts[0]] = 1
                        break
            ticks[idx] = cell_ticks
        for j, col in enumerate(var.columns):
            self.table[col] = pd.Series(ticks[:, j], index=self.table.index).astype("Float64")

    def _learning_items(self, step: Step) -> None:
        """Choose which of the eight situations each respondent learned "i høj grad" from.

        A respondent with count k gets exactly k items; how often each item is chosen per
        (role, k) cell follows the items' priors (share answering "i høj grad").
        """
        cur = self._current()
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
        prior = weights / weights.sum(axis=1, keepdims=True) * (ks * sizes)[:, None]
        allowed = np.ones_like(prior, dtype=bool)
        result = solve(sizes, prior, allowed, [], (ks * sizes, ks * sizes))
        high = np.zeros((len(self.table), len(step.items)), dtype=bool)
        for c, r in enumerate(cells.itertuples()):
            idx = keyframe.index[(keyframe.rolle == r.rolle) & (keyframe.k == r.k)].to_numpy()
            idx = idx[self.rng.permutation(len(idx))]
            pos = 0
            for j in np.argsort(-result.counts[c], kind="stable"):
                for _ in range(result.counts[c][j]):
                    high[idx[pos % len(idx)], j] = True
                    pos += 1
        self.report.steps.append({"step": step.name, "cells": int(len(cells)), "targets": 0,
                                  "rankings": 0, "violated": {}})
        others = "|".join(k for k in self.cb[step.items[0]].keys if k != "i_hoej_grad")
        for j, item in enumerate(step.items):
            ids = np.where(high[:, j], "i_hoej_grad", others)
            ids[np.isnan(count)] = "all"
            self.allowed[item] = pd.Series(ids, index=self.table.index)
