"""The quota programme of one generation step: the printed numbers as linear rows on cell counts.

Layer: generate (imports base to findings modules and ``generate``'s own). :class:`QuotaProgramme`
is the part of :class:`lpj_report.generate.build.Builder` that turns a step's published targets
(and the rankings among them) into the rows, choices and hard bounds that
:func:`lpj_report.generate.quota.solve` meets, with the prior shares of every cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from lpj_report.figures import category_keys, group_keys
from lpj_report.generate.constraints import feasible_sizes, ranking_rows, target_rows
from lpj_report.generate.model import MISSING, Step
from lpj_report.generate.quota import Choice, Hard, Row
from lpj_report.targets import NumberTarget

ANSWERED = "__answered__"      # the option of a multi question: "ticked at least one"


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
class Quota:
    """One step's quota programme: cells, their sizes and the rows."""

    members: np.ndarray                 # respondents answering (table positions)
    cell_of: np.ndarray                 # their cell
    sizes: np.ndarray
    probs: np.ndarray                   # cells × values: prior shares (multi: per option)
    allowed: np.ndarray
    rows: list[Row]
    choices: list[Choice]
    hard: list[Hard]
    totals: tuple[np.ndarray, np.ndarray] | None
    lo: np.ndarray | None = None        # bounds per respondent (numbers under edit rules)
    hi: np.ndarray | None = None
    n_targets: int = 0
    n_rankings: int = 0


class QuotaProgramme:
    """The quota programme of a :class:`~lpj_report.generate.build.Builder` step (a mixin: it
    uses the builder's codebook, targets and helpers)."""

    def _quota(self, step: Step, cur: pd.DataFrame, asked: np.ndarray,
               allowed_id: np.ndarray, rng: np.random.Generator) -> Quota:
        numbers, rankings = self._step_targets(step)
        multi = step.kind == "multi"
        dom = None if multi else self._domain_frame(step)
        n_vals = len(step.domain)

        exprs: list[tuple[str, Any, Expr, Expr]] = []
        for t in numbers:
            base, num = self._exprs(t, t.group, t.category)
            exprs.append((t.id, t, base, num))
        for r in rankings:
            fig = self.figures[r.figure]
            others = ([k for k in category_keys(fig, self.cb) if k not in fig.combine]
                      if r.across == "categories" else group_keys(fig, self.cb)[1:])
            for key in dict.fromkeys([*r.order, *others]):
                g, c = (r.group, key) if r.across == "categories" else (key, r.category)
                base, num = self._exprs(r, g, c)
                exprs.append((f"{r.id}:{key}", (r, key), base, num))

        def known_all(expr: Expr) -> np.ndarray:
            """Respondents meeting every term on other variables (the known part)."""
            mask = np.ones(len(cur), dtype=bool)
            for term in expr.terms:
                if self.unit(term.var) != step.name:
                    mask &= self._known_mask(cur, term)
            return mask

        def on_step(expr: Expr) -> bool:
            return expr.weight is not None or any(self.unit(t.var) == step.name
                                                  for t in expr.terms)

        def domain_part(expr: Expr) -> np.ndarray:
            if multi:
                out = np.zeros(n_vals)
                opt_terms = [t for t in expr.terms if t.var == step.name and t.option
                             and t.option != ANSWERED]
                if not opt_terms:
                    return np.full(n_vals, np.nan)  # constant: every answering respondent
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

        known_masks, outside, known_exprs = [], [], []
        for _, _, base, num in exprs:
            for expr in (base, num):
                mask = known_all(expr)
                known_masks.append(mask & asked)
                known_exprs.append(expr)
                # respondents not answering count only where the step does not matter
                outside.append(0 if on_step(expr) else int((mask & ~asked).sum()))
        ahead = self._lookahead(step)
        for pop_terms, _, _, _ in ahead:
            known_masks.append(known_all(Expr(pop_terms)) & asked)
            known_exprs.append(Expr(pop_terms))

        # cells: role, prior stratum, allowed set and every known mask
        stratum = (cur[step.prior_by[0]].astype("object").to_numpy()
                   if step.prior_by else np.full(len(cur), None))
        sig = {"rolle": cur["rolle"].astype(str).to_numpy(), "stratum": stratum.astype(str),
               "allowed": allowed_id.astype(str)}
        sig.update({f"k{i}": m for i, m in enumerate(known_masks)})
        sig_frame = pd.DataFrame(sig)[asked]
        cells = sig_frame.drop_duplicates().reset_index(drop=True)
        cell_of = sig_frame.merge(cells.reset_index(), how="left", on=list(cells.columns))["index"]
        cell_of = cell_of.to_numpy()
        members = np.flatnonzero(asked)
        sizes = np.bincount(cell_of, minlength=len(cells))
        cell_known = cells[[f"k{i}" for i in range(len(known_masks))]].to_numpy(bool)

        probs = np.zeros((len(cells), n_vals))
        allowed = np.ones((len(cells), n_vals), dtype=bool)
        for c, row in cells.iterrows():
            dist = step.prior[row["rolle"]]
            if (step.prior_by and row["stratum"] in step.prior_by[1]
                    and row["rolle"] in step.prior_by[2]):
                dist = {**dist, **step.prior_by[1][row["stratum"]]}
            p = np.array([dist.get(v, 0.0) for v in step.domain])
            if multi:
                probs[c] = p / 100
                continue
            if row["allowed"] != "all":
                allowed[c] = [str(v) in row["allowed"].split("|") for v in step.domain]
                p = np.where(allowed[c], p + 1e-3, 0)
            probs[c] = p / p.sum() if p.sum() else allowed[c] / allowed[c].sum()
        if self.reference is not None and step.name not in self.changed:
            self._reference_probs(step, cells, known_exprs, probs, allowed)

        def linear(expr_idx: int, expr: Expr):
            """(coef over flattened x, constant)."""
            kc = cell_known[:, expr_idx]
            const = Fraction(outside[expr_idx])
            dpart = domain_part(expr)
            if multi and np.isnan(dpart).all():
                return {}, const + int((kc * sizes).sum())
            if not multi and expr.weight is None and all(
                    dpart[allowed[c]].all() for c in np.flatnonzero(kc)):
                return {}, const + int((kc * sizes).sum())  # every answer counts: fixed
            coef: dict[int, Fraction] = {}
            for c in np.flatnonzero(kc):
                for v in np.flatnonzero(dpart):
                    coef[c * n_vals + v] = Fraction(str(dpart[v]))
            return coef, const

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
            expected = sum(probs[c, v] * sizes[c]
                           for c, v in ((k // n_vals, k % n_vals) for k in coef))
            values = feasible_sizes(targets, expected, self._partitions(targets))
            if values:
                choices.append(Choice(coef, values))
        totals = (sizes, sizes * (step.max_choices or n_vals)) if multi else None
        quota = Quota(members, cell_of, sizes, probs, allowed, rows, choices, [], totals,
                      n_targets=len(numbers), n_rankings=len(rankings))
        if self.cb[step.name].kind == "number":
            self._bounds(step, cur, quota, rng)
        return quota

    def _reference_probs(self, step: Step, cells: pd.DataFrame, exprs: list[Expr],
                         probs: np.ndarray, allowed: np.ndarray) -> None:
        """Replace each cell's prior shares by the reference wave's shares among its respondents
        in the same cell (role, stratum and every target condition); cells the reference does
        not have keep the model prior."""
        ref = self.reference
        var = self.cb[step.name]
        answered = ref["rolle"].isin(step.asked).to_numpy(bool).copy()
        for name, keys in var.asked_if.items():
            answered &= ref[name].isin(keys).to_numpy(bool)
        if MISSING not in step.domain:
            answered &= ref[var.columns].notna().all(axis=1).to_numpy(bool)
        sig = {"rolle": ref["rolle"].astype(str).to_numpy(),
               "stratum": (ref[step.prior_by[0]].astype("object").to_numpy()
                           if step.prior_by else np.full(len(ref), None)).astype(str)}
        for i, expr in enumerate(exprs):
            mask = np.ones(len(ref), dtype=bool)
            for term in expr.terms:
                if self.unit(term.var) != step.name:
                    mask &= self._known_mask(ref, term)
            sig[f"k{i}"] = mask & answered
        frame = pd.DataFrame(sig)[answered]
        keys = ["rolle", "stratum", *[f"k{i}" for i in range(len(exprs))]]
        groups = {k: np.asarray(v) for k, v in frame.groupby(keys, sort=False).groups.items()}
        if step.kind == "multi":
            values = ref[var.columns].fillna(0).to_numpy(float)
        else:
            domain = list(step.domain)
            col = ref[step.name].astype("object").to_numpy()
            values = np.array([domain.index(v) if not pd.isna(v) else
                               (domain.index(MISSING) if MISSING in domain else -1) for v in col])
        for c, row in cells.iterrows():
            key = tuple(row[k] for k in keys)
            rows = groups.get(key if len(keys) > 1 else key[0])
            if rows is None or not len(rows):
                continue
            if step.kind == "multi":
                probs[c] = values[rows].mean(axis=0)
                continue
            counts = np.bincount(values[rows], minlength=len(step.domain)).astype(float)
            p = np.where(allowed[c], counts + 1e-3, 0)
            if p.sum():
                probs[c] = p / p.sum()
