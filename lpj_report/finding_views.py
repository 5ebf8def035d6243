"""Findings for the text: every result of :mod:`lpj_report.findings` as the strings a sentence
needs (estimates with confidence intervals, p, the corrected p, the verdict), made by
:mod:`lpj_report.format`. Rankings carry the figure's printed values (:class:`content.Value`),
so a sentence names tied groups together and never a group without data.

Layer: format (may import base … generate, and its own layer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from lpj_report import format as fmt
from lpj_report.content import FigureView, Value, ci_decimals
from lpj_report.findings import Estimate, Registry, Result

TEST_NAMES = {
    "chi2": "χ²-test",
    "rao_scott": "Rao–Scott-korrigeret χ²-test",
    "spearman": "Spearmans rangkorrelation",
    "z": "test af to andele",
    "cluster_z": "test af to andele, korrigeret for klynger",
    "fisher": "Fishers eksakte test",
    "welch": "Welchs t-test",
    "mcnemar": "McNemars test",
    "tost": "ækvivalenstest (TOST)",
}
VERDICT_NAMES = {"supported": "holder", "not_supported": "ingen sikker evidens",
                 "opposite": "det modsatte", "not_testable": "kan ikke testes"}


@dataclass(frozen=True)
class EstimateView:
    """One estimate as printed: ``text`` 38 %, ``ci`` 33–43 %, ``base`` 120, ``with_ci``
    "38 % (95 %-KI 33–43 %)" and, for inside a parenthesis, ``ci_inline`` "38 %, 95 %-KI
    33–43 %"."""

    text: str
    ci: str
    base: str
    with_ci: str
    ci_inline: str


@dataclass(frozen=True)
class OptionView:
    key: str
    label: str
    a: EstimateView
    b: EstimateView
    diff: str               # size of the difference, unsigned: "18 procentpoint"
    p: str
    differs: bool
    higher: bool            # the first group's share is the higher


@dataclass(frozen=True)
class FindingView:
    """A finding for the chapter text (``r`` inside ``{% finding %}``)."""

    id: str
    family: str
    statement: str
    verdict: str
    verdict_text: str
    test: str
    p: str
    q: str
    ref: str                 # "χ²-test, korrigeret p = 0,012": the parenthesis after a result
    short: str               # "korrigeret p = 0,012"
    n: str
    stat: str
    reason: str = ""
    a: EstimateView | None = None
    b: EstimateView | None = None
    diff: str = ""           # size of the difference: "5 procentpoint", "1 år"
    diff_ci: str = ""        # its 95 % interval
    rho: str = ""
    rho_ci: str = ""
    rho_text: str = ""       # "ρ = 0,44, 95 %-KI 0,40–0,48"
    top: list[Value] = field(default_factory=list)
    after: list[Value] = field(default_factory=list)
    order: list[Value] = field(default_factory=list)
    options: list[OptionView] = field(default_factory=list)
    differing: list[OptionView] = field(default_factory=list)
    margin: str = ""
    versus: str = ""         # ranking: "21 % mod 15 %" (the top against the first after it)
    top_value: str = ""      # ranking: the printed value at the last stated place ("21 %")
    after_value: str = ""    # ranking: the printed value of the first after them ("15 %")

    @property
    def supported(self) -> bool:
        return self.verdict == "supported"

    @property
    def tested(self) -> bool:
        return self.verdict != "not_testable"


def _estimate(e: Estimate | None, unit: str, decimals: int) -> EstimateView | None:
    if e is None or e.value is None:
        return None
    scale = 100.0 if unit == "pct" else 1.0
    text = fmt.unit_value(scale * e.value, unit, decimals)
    ci = "" if e.low is None else fmt.interval(scale * e.low, scale * e.high, unit,
                                               ci_decimals(unit, decimals))
    return EstimateView(text, ci, fmt.count(e.base),
                        f"{text} (95{fmt.NBSP}%-KI {ci})" if ci else text,
                        f"{text}, 95{fmt.NBSP}%-KI {ci}" if ci else text)


def _unit(res: Result, registry) -> tuple[str, int]:
    f = res.finding
    fid = f.figure or (f.cells[0].figure if f.cells else None)
    if fid:
        fig = registry[fid]
        return ("years" if fig.statistic == "mean" else "pct"), fig.decimals
    return ("years" if f.test == "two_means" else "pct"), 0


def _stat(res: Result) -> str:
    t = res.test
    if not t.finite or t.statistic is None or not math.isfinite(t.statistic):
        return ""
    if t.name in ("chi2", "rao_scott"):
        return f"χ² = {fmt.number(t.statistic, 1)} ({fmt.number(t.df or 0, 0)} frihedsgrader)"
    if t.name == "spearman":
        return f"ρ = {fmt.number(t.statistic, 2)}"
    if t.name == "welch":
        return f"t = {fmt.number(t.statistic, 2)}"
    return f"z = {fmt.number(t.statistic, 2)}"


def _values(view: FigureView | None, res: Result, keys: tuple[str, ...]) -> list[Value]:
    if view is None:
        return []
    f = res.finding
    if f.across == "groups":
        return [view.cell[k][f.category] for k in keys if k in view.cell]
    return [view.cell[f.group][k] for k in keys if k in view.cell[f.group]]


def finding_view(res: Result, reg: Registry, registry: dict, views: dict[str, FigureView],
                 codebook) -> FindingView:
    f = res.finding
    unit, decimals = _unit(res, registry)
    t = res.test
    p = fmt.p_value(t.p) if t.finite else ""
    q = fmt.p_value(res.q) if res.q is not None else p
    name = TEST_NAMES.get(t.name, t.name)
    ref = f"{name}, korrigeret {q}" if res.q is not None and t.finite else (
        f"{name}, {p}" if p else "")
    view = {
        "id": f.id, "family": f.family, "statement": f.statement, "verdict": res.verdict,
        "verdict_text": VERDICT_NAMES[res.verdict], "test": name, "p": p, "q": q, "ref": ref,
        "short": f"korrigeret {q}" if res.q is not None and t.finite else p,
        "n": fmt.count(res.n), "stat": _stat(res), "reason": res.reason,
        "a": _estimate(res.estimates.get("a"), unit, decimals),
        "b": _estimate(res.estimates.get("b"), unit, decimals)}
    if t.effect is not None and math.isfinite(t.effect) and t.name != "tost":
        if t.name == "spearman":
            rho_ci = fmt.interval(t.low, t.high, "", 2) if t.low is not None else ""
            view.update(rho=fmt.number(t.effect, 2), rho_ci=rho_ci,
                        rho_text=f"ρ = {fmt.number(t.effect, 2)}"
                        + (f", 95{fmt.NBSP}%-KI {rho_ci}" if rho_ci else ""))
        elif t.name not in ("chi2", "rao_scott"):
            scale = 100.0 if unit == "pct" else 1.0
            dec = max(decimals, 0)
            diff_unit = "pp" if unit == "pct" else unit
            view["diff"] = (fmt.points(scale * t.effect, dec) if unit == "pct"
                            else fmt.years(abs(t.effect), max(dec, 1)))
            if t.low is not None:
                view["diff_ci"] = fmt.interval(scale * t.low, scale * t.high, diff_unit,
                                               max(dec, 1) if unit != "pct" else dec)
    if f.test == "ranking":
        fv = views.get(f.figure)
        top, after = _values(fv, res, res.top), _values(fv, res, res.after)
        view.update(top=top, after=after, order=_values(fv, res, res.order),
                    versus=f"{top[-1].text} mod {after[0].text}" if top and after else "",
                    top_value=top[-1].text if top else "",
                    after_value=after[0].text if after else "")
    if f.test == "options":
        var = codebook[f.y]
        opts = [OptionView(o["key"], var.label_of(o["key"]), _estimate(o["a"], "pct", 0),
                           _estimate(o["b"], "pct", 0),
                           fmt.points(100 * o["test"].effect, 0), fmt.p_value(o["q"]),
                           o["q"] < reg.settings.alpha, o["test"].effect > 0)
                for o in res.options]
        margin = f.margin if f.margin is not None else reg.settings.margin
        view.update(options=opts, differing=[o for o in opts if o.differs],
                    margin=fmt.points(100 * margin, 0))
    return FindingView(**view)


def finding_views(results: dict[str, Result], reg: Registry, registry: dict,
                  views: dict[str, FigureView], codebook) -> dict[str, FindingView]:
    return {fid: finding_view(r, reg, registry, views, codebook) for fid, r in results.items()}


def possible_verdicts(reg: Registry) -> dict[str, set[str]]:
    """The verdicts each finding can get (what a chapter must word)."""
    out = {}
    for fid, f in reg.findings.items():
        verdicts = {"supported", "not_supported", "not_testable"}
        if f.directional:
            verdicts.add("opposite")
        out[fid] = verdicts
    return out


def findings_rows(results: dict[str, Result], reg: Registry) -> list[dict[str, Any]]:
    """One record per finding for figures.json / the workbook: test, statistic, p, q,
    verdict and the estimates with their intervals (plain numbers)."""
    rows = []
    for fid, r in results.items():
        t = r.test
        rows.append({
            "id": fid, "family": r.finding.family, "statement": r.finding.statement,
            "test": t.name, "statistic": _num(t.statistic), "df": _num(t.df), "p": _num(t.p),
            "q": _num(r.q), "effect": _num(t.effect), "effect_low": _num(t.low),
            "effect_high": _num(t.high), "n": r.n, "verdict": r.verdict, "reason": r.reason,
            "estimates": {k: {"value": _num(e.value), "ci_low": _num(e.low),
                              "ci_high": _num(e.high), "base": e.base}
                          for k, e in r.estimates.items()},
            "top": list(r.top), "after": list(r.after),
        })
    return rows


def _num(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None

