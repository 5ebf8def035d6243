"""Findings: every statement of the report about an association, a difference, a ranking or an
equality, declared once in ``data/findings/*.yaml`` and decided by its test on the data in hand.

Layer: findings (may import base … figures, and its own layer).

A finding names its population (and filter), its variables or figure cells, the test, the
direction it states and its *family*. :func:`evaluate` computes every finding into a
:class:`Result` — the estimates with 95 % confidence intervals, the statistic, p, and q (the
Benjamini–Hochberg adjusted p within the family) — and a verdict:

* ``supported`` — q < alpha and, for a directional statement, the estimate has that direction;
* ``opposite`` — q < alpha in the other direction (directional statements only);
* ``not_supported`` — the data give no sure evidence either way (never worded as equality);
* ``not_testable`` — a group is empty or below the minimum base, or the table degenerate.

Tests (missing answers are left out; bases as in the figures):

* ``chi2`` — x × y independence (Pearson; Rao–Scott with clusters);
* ``spearman`` — ρ of the codebook orders of x and y (``reverse_x`` reads x backwards);
* ``two_proportions`` — share of y ∈ ``contrast.category`` in x ∈ ``contrast.a`` against
  x ∈ ``contrast.b`` (z, or Fisher's exact test for small counts); a multiple-choice y counts
  those who ticked the option among those who answered;
* ``two_means`` — the mean of y in group a against group b (Welch);
* ``cells`` — two printed cells ``a`` and ``b`` (``{figure, group, category}``): independent
  groups by z (or Welch), the same respondents by McNemar's test;
* ``ranking`` — the first ``top`` items of a figure (its groups on one category, or the
  categories of one group) against the next: the last of the top (ties on the printed value
  join it) tested against the first after it;
* ``options`` — two groups across every option of a multiple-choice question: alike when every
  option's difference lies within ±``margin`` (TOST); ``opposite`` when some option differs
  (q < alpha over the options).

Every test assumes simple random sampling unless the data carry the codebook's cluster
variable (``settings.cluster``); then shares use the linearised cluster-robust variance and
tables the Rao–Scott correction (:mod:`lpj_report.stats`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from lpj_report import stats
from lpj_report.codebook import Codebook
from lpj_report.figure_engine import Codes
from lpj_report.figures import Figure, category_keys, cell_members, group_keys
from lpj_report.finding_registry import (  # noqa: F401 (re-exported)
    DIRECTIONS,
    FINDINGS_DIR,
    TESTS,
    VERDICTS,
    Cell,
    Estimate,
    Family,
    Finding,
    FindingError,
    Registry,
    Result,
    Settings,
    load_findings,
)

# ---------------------------------------------------------------------------- computing


@dataclass
class Context:
    """What every test needs: the data, the declarations and the design."""

    data: pd.DataFrame
    codebook: Codebook
    registry: dict[str, Figure]
    populations: dict
    settings: Settings
    figures: pd.DataFrame | None = None      # the (suppressed) figure table, for rankings
    deff: float = 1.0
    #: each cell's respondents, computed once per data (a build hands the same dict to each
    #: of its contexts, and a copy with another deff shares it)
    members: dict = field(default_factory=dict, repr=False, compare=False)
    #: the data's category codes and selections (shared the same way)
    codes: Codes | None = field(default=None, repr=False, compare=False)
    _shown: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.codes is None:
            self.codes = Codes(self.data)

    def cell(self, c: Cell) -> tuple[np.ndarray, np.ndarray]:
        """``(base, hit)`` of one cell (:func:`lpj_report.figures.cell_members`), cached."""
        key = (c.figure, c.group, c.category)
        if key not in self.members:
            self.members[key] = cell_members(self.registry[c.figure], self.data, self.codebook,
                                             self.populations, c.group, c.category, self.codes)
        return self.members[key]

    def shown(self, figure: str) -> dict[tuple[str, str], bool]:
        """The figure's rows in the figure table: (group, category) → withheld."""
        if not self._shown:   # the whole table at once, read as plain values
            table = self.figures
            withheld = (table["suppressed"].fillna(False).astype(bool).tolist()
                        if "suppressed" in table else [False] * len(table))
            for fid, group, category, hidden in zip(
                    table["figure"].tolist(), table["group"].tolist(),
                    table["category"].tolist(), withheld, strict=True):
                self._shown.setdefault(fid, {})[(group, category)] = hidden
        return self._shown.get(figure, {})

    def cluster(self, mask: np.ndarray) -> np.ndarray | None:
        name = self.settings.cluster
        if not name or name not in self.data.columns:
            return None
        col = self.data[name]
        if col.isna().all():
            return None
        return col.to_numpy()[mask]


def _mask(ctx: Context, f: Finding) -> np.ndarray:
    """The finding's respondents: its population and filter (a fresh array: callers narrow it)."""
    return ctx.codes.mask({**ctx.populations[f.population], **f.filter}).copy()


def _codes(col: pd.Series) -> np.ndarray:
    if isinstance(col.dtype, pd.CategoricalDtype):
        vals = col.cat.codes.to_numpy(dtype=float)
        vals[vals < 0] = np.nan
        return vals
    return col.to_numpy(dtype=float, na_value=np.nan)


def _untestable(f: Finding, reason: str, n: int = 0, **extra) -> Result:
    return Result(f, "not_testable", stats.NOT_TESTED, n, reason=reason, **extra)


def _share(key: str, hit: np.ndarray) -> Estimate:
    n = int(len(hit))
    x = float(hit.sum())
    low, high = stats.wilson(x, n) if n else (None, None)
    return Estimate(key, x / n if n else None, low, high, n, x)


def _mean(key: str, values: np.ndarray) -> Estimate:
    n = int(len(values))
    sd = float(values.std(ddof=1)) if n > 1 else None
    low, high = stats.t_interval(float(values.sum()), n, sd)
    return Estimate(key, float(values.mean()) if n else None, low, high, n,
                    float(values.sum()), "mean")


def _min_base(ctx: Context, f: Finding) -> int:
    return f.min_base if f.min_base is not None else ctx.settings.min_base


def compute(f: Finding, ctx: Context) -> Result:
    """The finding's test on the data (verdict before multiplicity control: q = p)."""
    return {"chi2": _chi2, "spearman": _spearman, "two_proportions": _two_proportions,
            "two_means": _two_means, "cells": _cells, "ranking": _ranking,
            "options": _options}[f.test](f, ctx)


def _chi2(f: Finding, ctx: Context) -> Result:
    (cx, x_keys), (cy, y_keys) = ctx.codes.codes(f.x), ctx.codes.codes(f.y)
    mask = _mask(ctx, f) & (cx >= 0) & (cy >= 0)
    x = np.asarray(x_keys, dtype=object)[cx[mask]]
    y = np.asarray(y_keys, dtype=object)[cy[mask]]
    n = int(mask.sum())
    groups, counts = np.unique(x, return_counts=True)
    big = groups[counts >= _min_base(ctx, f)]
    if len(big) < 2 or len(np.unique(y)) < 2:
        return _untestable(f, "fewer than two groups with enough answers", n)
    keep = np.isin(x, big)
    cluster = ctx.cluster(mask)
    test = stats.chi2_independence(x[keep], y[keep], deff=ctx.deff,
                                   cluster=None if cluster is None else cluster[keep])
    return Result(f, _verdict(f, test, ctx), test, int(keep.sum()))


def _spearman(f: Finding, ctx: Context) -> Result:
    mask = _mask(ctx, f) & ctx.data[f.x].notna().to_numpy(bool) & ctx.data[f.y].notna().to_numpy(bool)
    x = _codes(ctx.data.loc[mask, f.x])
    y = _codes(ctx.data.loc[mask, f.y])
    if f.reverse_x:
        x = -x
    n = int(mask.sum())
    if n < _min_base(ctx, f):
        return _untestable(f, "too few answers", n)
    test = stats.spearman(x, y, deff=ctx.deff, cluster=ctx.cluster(mask))
    if not test.finite:
        return _untestable(f, "a variable without variation", n)
    return Result(f, _verdict(f, test, ctx), test, n)


def _hits(f: Finding, ctx: Context, mask: np.ndarray, category) -> tuple[np.ndarray, np.ndarray]:
    """(answered, hit) over the data for y ∈ category (a multi question: the option ticked)."""
    var = ctx.codebook[f.y]
    cats = category if isinstance(category, list | tuple) else [category]
    if var.kind == "multi":
        answered = mask & ctx.codes.any_ticked(var.columns)
        hit = np.zeros(len(ctx.data), dtype=bool)
        for c in cats:
            hit |= ctx.codes.ticked(var.columns[var.keys.index(c)])
        return answered, answered & hit
    answered = mask & ctx.codes.answered(f.y)
    return answered, answered & ctx.codes.isin(f.y, tuple(cats))


def _groups(f: Finding, ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    con = f.contrast or {}
    return ctx.codes.isin(f.x, tuple(con["a"])), ctx.codes.isin(f.x, tuple(con["b"]))


def _missing_named(f: Finding, ctx: Context, answered: np.ndarray) -> list[str]:
    """Keys a sentence names that have no answers: every key of group a, and those of group b
    when b is one or two named groups (a longer b reads as "the others")."""
    con = f.contrast or {}
    named = list(con["a"]) + (list(con["b"]) if len(con["b"]) <= 2 else [])
    return [k for k in named if not (answered & ctx.codes.isin(f.x, (k,))).any()]


def _two_proportions(f: Finding, ctx: Context) -> Result:
    in_a, in_b = _groups(f, ctx)
    answered, hit = _hits(f, ctx, _mask(ctx, f), f.contrast["category"])
    a, b = answered & in_a, answered & in_b
    est = {"a": _share("a", hit[a]), "b": _share("b", hit[b])}
    missing = _missing_named(f, ctx, answered)
    if missing:
        return _untestable(f, f"no answers from {', '.join(missing)}", int(a.sum() + b.sum()),
                           estimates=est)
    return _two_groups(f, ctx, est, hit, a, b)


def _two_groups(f: Finding, ctx: Context, est: dict[str, Estimate], hit, a, b) -> Result:
    ea, eb = est["a"], est["b"]
    n = ea.base + eb.base
    if min(ea.base, eb.base) < _min_base(ctx, f):
        return _untestable(f, "a group below the minimum base", n, estimates=est)
    cluster = ctx.cluster(a | b)
    if cluster is not None:
        both = a | b
        test = stats.cluster_two_proportions(hit[both].astype(float), a[both], b[both], cluster)
    else:
        test = stats.two_proportions(ea.numerator, ea.base, eb.numerator, eb.base, deff=ctx.deff)
    return Result(f, _verdict(f, test, ctx), test, n, estimates=est)


def _two_means(f: Finding, ctx: Context) -> Result:
    in_a, in_b = _groups(f, ctx)
    values = ctx.data[f.y].to_numpy(dtype=float, na_value=np.nan)
    ok = _mask(ctx, f) & ~np.isnan(values)
    est = {"a": _mean("a", values[ok & in_a]), "b": _mean("b", values[ok & in_b])}
    return _mean_result(f, ctx, est, values[ok & in_a], values[ok & in_b])


def _mean_result(f, ctx, est, va, vb) -> Result:
    n = len(va) + len(vb)
    if min(len(va), len(vb)) < _min_base(ctx, f):
        return _untestable(f, "a group below the minimum base", n, estimates=est)
    test = stats.welch(float(va.mean()), float(va.std(ddof=1)), len(va), float(vb.mean()),
                       float(vb.std(ddof=1)), len(vb), deff=ctx.deff)
    return Result(f, _verdict(f, test, ctx), test, n, estimates=est)


def _cell(ctx: Context, c: Cell):
    return ctx.registry[c.figure], *ctx.cell(c)


def _cells(f: Finding, ctx: Context) -> Result:
    (fa, base_a, hit_a), (fb, base_b, hit_b) = (_cell(ctx, c) for c in f.cells)
    mean = fa.statistic == "mean"
    if mean:
        est = {"a": _mean("a", hit_a[base_a]), "b": _mean("b", hit_b[base_b])}
        if (base_a & base_b).any():
            return _untestable(f, "means of the same respondents are not compared", 0,
                               estimates=est)
        return _mean_result(f, ctx, est, hit_a[base_a], hit_b[base_b])
    est = {"a": _share("a", hit_a[base_a]), "b": _share("b", hit_b[base_b])}
    overlap = base_a & base_b
    if not overlap.any():
        hit = np.where(base_a, hit_a, hit_b)
        return _two_groups(f, ctx, est, hit, base_a, base_b)
    # the same respondents answer both: paired test on those in both bases
    n = int(overlap.sum())
    if n < _min_base(ctx, f):
        return _untestable(f, "too few answers", n, estimates=est)
    test = stats.paired_proportions(hit_a[overlap], hit_b[overlap], deff=ctx.deff)
    return Result(f, _verdict(f, test, ctx), test, n, estimates=est)


def _ranking(f: Finding, ctx: Context) -> Result:
    from lpj_report.format import quantize

    fig = ctx.registry[f.figure]
    shown = ctx.shown(f.figure) if ctx.figures is not None else None
    if f.across == "groups":
        keys = [g for g in group_keys(fig, ctx.codebook)[1:] if g not in f.exclude]
        cells = [Cell(f.figure, g, f.category) for g in keys]
    else:
        keys = [c for c in category_keys(fig, ctx.codebook)
                if c not in fig.combine and c not in f.exclude]
        cells = [Cell(f.figure, f.group, c) for c in keys]
    est: dict[str, Estimate] = {}
    members: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for key, c in zip(keys, cells, strict=True):
        if shown is not None and shown.get((c.group, c.category), True):
            continue   # withheld numbers (disclosure control) are never ranked
        _, base, hit = _cell(ctx, c)
        if int(base.sum()) == 0:
            continue
        est[key] = _mean(key, hit[base]) if fig.statistic == "mean" else _share(key, hit[base])
        members[key] = (base, hit)
    big = [k for k in est if est[k].base >= _min_base(ctx, f)]
    sign = 1 if f.direction != "negative" else -1
    small = [k for k in est if k not in big and est[k].value is not None]
    if big and any(sign * est[k].value > max(sign * est[b].value for b in big) for k in small):
        return _untestable(f, "a group too small to rank lies ahead of the others", 0,
                           estimates=est)
    scale = 1 if fig.statistic == "mean" else 100
    printed = {k: quantize(scale * est[k].value, fig.decimals) for k in big}
    order = tuple(sorted(big, key=lambda k: (-sign * est[k].value, keys.index(k))))
    if len(order) <= f.top:
        return _untestable(f, "too few groups with enough answers", 0, estimates=est, order=order)
    cut = printed[order[f.top - 1]]
    top = tuple(k for k in order if sign * printed[k] >= sign * cut)
    rest = [k for k in order if k not in top]
    if not rest:
        return _untestable(f, "every group ties", 0, estimates=est, order=order, top=top)
    nxt = printed[rest[0]]
    after = tuple(k for k in rest if printed[k] == nxt)
    last, first = top[-1], rest[0]
    (base_a, hit_a), (base_b, hit_b) = members[last], members[first]
    ea, eb = est[last], est[first]
    if fig.statistic == "mean":
        test = stats.welch(ea.value, float(np.std(hit_a[base_a], ddof=1)), ea.base, eb.value,
                           float(np.std(hit_b[base_b], ddof=1)), eb.base, deff=ctx.deff)
    elif (base_a & base_b).any():
        both = base_a & base_b
        test = stats.paired_proportions(hit_a[both], hit_b[both], deff=ctx.deff)
    else:
        test = stats.two_proportions(ea.numerator, ea.base, eb.numerator, eb.base, deff=ctx.deff)
    if sign < 0 and test.effect is not None:
        test = replace(test, effect=-test.effect, low=-test.high, high=-test.low)
    # the respondents in the test: the same people when the two items share a base
    n = int((base_a | base_b).sum())
    return Result(f, _verdict(f, test, ctx), test, n, estimates=est, order=order, top=top,
                  after=after)


def _options(f: Finding, ctx: Context) -> Result:
    var = ctx.codebook[f.y]
    in_a, in_b = _groups(f, ctx)
    mask = _mask(ctx, f)
    margin = f.margin if f.margin is not None else ctx.settings.margin
    rows: list[dict[str, Any]] = []
    for key in var.keys:
        answered, hit = _hits(f, ctx, mask, key)
        a, b = answered & in_a, answered & in_b
        ea, eb = _share("a", hit[a]), _share("b", hit[b])
        if min(ea.base, eb.base) < _min_base(ctx, f):
            return _untestable(f, "a group below the minimum base", ea.base + eb.base)
        diff = stats.two_proportions(ea.numerator, ea.base, eb.numerator, eb.base, deff=ctx.deff)
        tost = stats.tost_proportions(ea.numerator, ea.base, eb.numerator, eb.base, margin)
        rows.append({"key": key, "a": ea, "b": eb, "test": diff, "tost": tost})
    q = stats.bh([r["test"].p for r in rows])
    for r, qi in zip(rows, q, strict=True):
        r["q"] = float(qi)
    alpha = f.alpha or ctx.settings.alpha
    n = rows[0]["a"].base + rows[0]["b"].base
    worst = max(rows, key=lambda r: r["tost"].p)
    equivalence = replace(worst["tost"], name="tost")
    differing = [r for r in rows if r["q"] < alpha]
    if differing:
        verdict = "opposite"
    elif equivalence.p < alpha:
        verdict = "supported"
    else:
        verdict = "not_supported"
    return Result(f, verdict, equivalence, n, options=tuple(rows))


def _verdict(f: Finding, test: stats.Test, ctx: Context, q: float | None = None) -> str:
    alpha = f.alpha or ctx.settings.alpha
    p = test.p if q is None else q
    if not test.finite:
        return "not_testable"
    if p >= alpha:
        return "not_supported"
    if f.test == "ranking" or f.direction != "any":
        effect = test.effect or 0.0
        want = -1 if f.direction == "negative" and f.test != "ranking" else 1
        return "supported" if effect * want > 0 else "opposite"
    return "supported"


# ---------------------------------------------------------------------------- all findings


def evaluate(reg: Registry, ctx: Context) -> dict[str, Result]:
    """Every finding computed and decided, with BH within each family: the verdict of a
    tested finding is taken at its q. ``options`` findings are corrected over their options
    and enter their family with the TOST p (the family adjusts it again)."""
    raw = {fid: compute(f, ctx) for fid, f in reg.findings.items()}
    out: dict[str, Result] = dict(raw)
    for fam in reg.families:
        ids = [fid for fid, r in raw.items() if r.finding.family == fam and r.tested]
        if not ids:
            continue
        q = stats.bh([raw[i].test.p for i in ids])
        for fid, qi in zip(ids, q, strict=True):
            r = raw[fid]
            verdict = r.verdict if r.finding.test == "options" else _verdict(
                r.finding, r.test, ctx, float(qi))
            if r.finding.test == "options" and r.verdict == "supported" and qi >= (
                    r.finding.alpha or ctx.settings.alpha):
                verdict = "not_supported"
            out[fid] = replace(r, q=float(qi), verdict=verdict)
    return out


def sensitivity(reg: Registry, ctx: Context, deff: float) -> dict[str, Result]:
    """The findings again with every statistic deflated by a design effect (χ²/deff, z and
    t by √deff): what a clustered sample of that design effect would leave standing."""
    return evaluate(reg, replace(ctx, deff=deff))


def changed_by_design(base: dict[str, Result], other: dict[str, Result]) -> list[str]:
    """Ids of findings whose verdict differs between two evaluations, in declaration order."""
    return [fid for fid, r in base.items() if other[fid].verdict != r.verdict]


# ---------------------------------------------------------------------------- the publication's claims


@dataclass(frozen=True)
class ClaimCheck:
    """A claim of the publication joined with the finding that tests it, in the terms the
    reconstruction generator and the plausibility report use: the variables it reads and
    ``expect`` — ``none`` for a claim of no association, else the finding's direction."""

    id: str
    statement: str
    finding: Finding
    expect: str
    audit: str | None = None

    @property
    def x(self) -> str:
        return self.finding.x or ""

    @property
    def y(self) -> str:
        return self.finding.y or ""

    @property
    def filter(self) -> dict[str, tuple[str, ...]]:
        return self.finding.filter

    @property
    def population(self) -> str:
        return self.finding.population

    @property
    def test(self) -> str:
        return self.finding.test


def claim_checks(claims, reg: Registry) -> list[ClaimCheck]:
    """The publication's claims with their findings (claims on variables only)."""
    out = []
    for c in claims:
        f = reg.findings[c.finding]
        expect = "none" if c.expect == "not_supported" else (
            f.direction if f.direction != "any" else "differ")
        out.append(ClaimCheck(c.id, c.statement, f, expect, c.audit))
    return out


def claim_result(check: ClaimCheck, data: pd.DataFrame, codebook: Codebook,
                 populations: dict, settings: Settings | None = None) -> Result:
    """The claim's finding tested on ``data`` on its own (no family correction): what the
    generator checks a draw against."""
    ctx = Context(data, codebook, {}, populations, settings or Settings())
    return compute(check.finding, ctx)
