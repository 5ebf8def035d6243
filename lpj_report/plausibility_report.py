"""Presenting the plausibility checks: ``plausibility.md`` of a wave and the section of
``lpj verify`` (the statistics are defined in :mod:`lpj_report.plausibility`).

Layer: render (may import base … charts, and its own layer).
"""

from __future__ import annotations

from lpj_report.plausibility import (
    DIP_MIN_BASE,
    DIP_NEIGHBOUR,
    DIP_RATIO,
    N_SIM,
    NULL_BAND,
    RELATED_MIN_WEIGHT,
    Assessment,
    assess,
)


def _f(x: float, d: int = 3) -> str:
    return "–" if x != x else f"{x:.{d}f}"


def summary_rows(a: Assessment) -> list[tuple[str, str, bool]]:
    """(check, result, passes) — the lines ``lpj verify`` prints."""
    n_viol = sum(a.rules.values())
    in_band = sum(n.in_band for n in a.nulls)
    ps = [n.p for n in a.nulls]
    miss = [m.percent for m in a.missing if m.asked]
    none = [m.item for m in a.missing if m.asked and m.blank == 0]
    low_rel = min((r.partial for r in a.related), default=float("nan"))
    return [
        ("edit rules", f"{n_viol} violation(s) of {len(a.rules)} rules", n_viol == 0),
        ("no-association claims", f"{in_band} of {len(a.nulls)} with p in "
         f"{NULL_BAND[0]:.2f}–{NULL_BAND[1]:.2f} (p {_f(min(ps))}–{_f(max(ps))})",
         in_band == len(a.nulls)),
        ("municipality spread", f"high learning spans {a.spread.span:.1f} points: percentile "
         f"{a.spread.percentile:.1f} of equal shares (5–95 %: {a.spread.p05:.1f}–"
         f"{a.spread.p95:.1f})", a.spread_in_band),
        ("missing answers", f"{min(miss):.1f}–{max(miss):.1f} % per question; "
         f"{len(none)} question(s) without blanks", not none),
        ("related questions", f"{len(a.related)} pairs; smallest ρ partial on learning "
         f"{_f(low_rel)}", bool(a.related) and low_rel > 0),
        ("unrelated questions", f"{len(a.unrelated)} pairs; KS against U(0,1): D = "
         f"{_f(a.ks[0])}, p = {_f(a.ks[1])}", a.ks[1] >= 0.05),
        ("holes in answer scales", f"{len(a.dips)}", not a.dips),
    ]


def markdown(a: Assessment, seed: int | None) -> str:
    """``plausibility.md`` of a wave."""
    kind = {"reconstruction": "reconstruction", "fictitious": "FICTITIOUS data",
            "real": "real data"}.get(a.status, a.status)
    lines = [f"# Plausibility of the {a.year} responses ({kind})", "",
             f"Written by `lpj generate --wave {a.year}` with the responses "
             f"(lpj_report/plausibility.py, where every statistic is defined); `lpj verify "
             f"--wave {a.year}` prints the same checks. {a.respondents} respondents"
             + (f", seed {seed}." if seed is not None else "."), "",
             "| check | result | passes |", "|-------|--------|--------|"]
    lines += [f"| {c} | {r} | {'yes' if ok else 'NO'} |" for c, r, ok in summary_rows(a)]
    lines += ["", "## Edit rules (data/codebook/rules.yaml)", "",
              "| rule | violations |", "|------|-----------:|"]
    lines += [f"| {rid} | {n} |" for rid, n in a.rules.items()]
    lines += ["", "## Claims of no association", "",
              "Statistic of the claim's test (Pearson's χ² for `chi2`, z for `two_proportions`) "
              "and its percentile under the null hypothesis (100 · (1 − p)). A value near 100 "
              "rejects; one near 0 is a table balanced by construction. Required: p in "
              f"{NULL_BAND[0]:.2f}–{NULL_BAND[1]:.2f}.", "",
              "| claim | test | statistic | df | p | percentile |",
              "|-------|------|----------:|---:|--:|-----------:|"]
    lines += [f"| `{n.id}` {n.statement} | {n.test} | {_f(n.statistic)} | "
              f"{'' if n.dof is None else n.dof} | {_f(n.p)} | {n.percentile:.1f} |"
              for n in a.nulls]
    s = a.spread
    lines += ["", "## Municipalities", "",
              f"The share of employees with high learning (6–8 situations) spans {s.span:.1f} "
              f"percentage points across the {s.groups} municipalities ({s.n} employees). With "
              "the same true share everywhere (binomial draws at the pooled share with each "
              f"municipality's size, {N_SIM} simulations) the span has median {s.median:.1f}, "
              f"5th percentile {s.p05:.1f} and 95th percentile {s.p95:.1f}; the observed span is "
              f"at the {s.percentile:.1f}th percentile.", "",
              "## Missing answers", "",
              "Blank among those asked (role, and the filter question for a follow-up); a list "
              "question is blank when all its options are.", "",
              "| question | asked | blank | % |", "|----------|------:|------:|--:|"]
    lines += [f"| {m.item} | {m.asked} | {m.blank} | {m.percent:.1f} |" for m in a.missing]
    lines += ["", "## Related questions", "",
              f"Employees' questions that load on the same latent factor with weight "
              f"≥ {RELATED_MIN_WEIGHT} each (data/reconstruction): Spearman's ρ (codebook order, "
              "first code first) and ρ partial on the learning count. Two learning situations "
              "are not paired (they add up to the count).", "",
              "| question | question | factor | ρ | partial ρ | n |",
              "|----------|----------|--------|--:|----------:|--:|"]
    lines += [f"| {r.a} | {r.b} | {r.factor} | {_f(r.rho)} | {_f(r.partial)} | {r.n} |"
              for r in sorted(a.related, key=lambda r: (r.factor, -r.rho))]
    lines += ["", "## Unrelated questions", "",
              f"{len(a.unrelated)} pairs drawn (seeded) from the employees' questions that share "
              "no ancestor in the generation graph (no common factor, stratum, score input, "
              "target or check); Pearson's χ² p-value of each pair's table. Under independence "
              f"they are uniform: Kolmogorov–Smirnov D = {_f(a.ks[0])}, p = {_f(a.ks[1])}.", "",
              "| question | question | p |", "|----------|----------|--:|"]
    lines += [f"| {x} | {y} | {_f(p)} |" for x, y, p in a.unrelated]
    lines += ["", "## Holes in answer scales", "",
              f"A category below {DIP_RATIO:g} of both neighbours that hold {DIP_NEIGHBOUR:g} % "
              f"or more, per role and per learning level of the employees (at least "
              f"{DIP_MIN_BASE} answers): "
              + ("none." if not a.dips else "")]
    lines += [f"* {d.item}, {d.population}: {d.category} {d.shares[1]:.1f} % between "
              f"{d.shares[0]:.1f} and {d.shares[2]:.1f} % (n = {d.n})" for d in a.dips]
    return "\n".join(lines) + "\n"


def print_section(a: Assessment, console=None) -> None:
    """The plausibility checks as one table (``lpj verify``, ``lpj generate``)."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console(highlight=False, width=160)
    table = Table(title=f"Plausibility ({a.status})")
    for col in ("check", "result", "passes"):
        table.add_column(col)
    for check, result, ok in summary_rows(a):
        table.add_row(check, result, "yes" if ok else "NO")
    console.print(table)


def write_report(project, wave, responses, path) -> Assessment:
    """Assess ``responses`` (read back like any data file) and write ``path`` (markdown)."""
    from lpj_report.output import write_atomic
    from lpj_report.pipeline import Build

    build = Build.load(project, wave.year, responses)
    result = assess(project, build.wave, build.data)
    write_atomic(path, markdown(result, wave.meta.get("seed")).encode("utf-8"))
    return result
