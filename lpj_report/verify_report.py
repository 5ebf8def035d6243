"""Presenting a verification: a terminal table (rich) and a CSV for reviewers.

Layer: render (may import base … charts, and its own layer).
"""

from __future__ import annotations

import csv
import io
from fractions import Fraction
from pathlib import Path

from rich.console import Console
from rich.table import Table

from lpj_report.output import write_atomic
from lpj_report.verify import Verification, claim_holds


def _num(value: float | None, decimals: int) -> str:
    if value is None or value != value:
        return "–"
    return f"{value:.{decimals}f}"


def _show(value: Fraction | None, decimals: int) -> str:
    if value is None:
        return "–"
    return f"{float(value):.{decimals + 2}f}"


def _printed(t) -> str:
    if t.bounds is not None:
        return f"[{t.bounds[0]:g}; {t.bounds[1]:g}]"
    return f"{t.value:g}"


def print_verification(result: Verification, verbose: bool = False,
                       console: Console | None = None) -> None:
    console = console or Console(highlight=False, width=160)
    table = Table(title="Published numbers", show_lines=False)
    for col in ("target", "figure · group · category", "printed", "computed", "n", "status"):
        table.add_column(col)
    for c in result.numbers:
        if c.holds and not verbose:
            continue
        status = "ok" if c.holds else ("explained: " + c.target.audit if c.explained else "MISMATCH")
        t = c.target
        table.add_row(t.id, f"{t.figure} · {t.group} · {t.category}", _printed(t),
                      _show(c.computed, t.decimals), str(c.base or ""), status)
    if table.row_count:
        console.print(table)
    ranks = Table(title="Rankings")
    for col in ("target", "printed order", "computed order", "status"):
        ranks.add_column(col)
    for r in result.rankings:
        if r.holds and not verbose:
            continue
        status = "ok" if r.holds else ("explained: " + r.target.audit if r.explained else "MISMATCH")
        ranks.add_row(r.target.id, " > ".join(r.target.order), " > ".join(r.computed), status)
    if ranks.row_count:
        console.print(ranks)
    claims = Table(title="Claims")
    for col in ("claim", "finding · test", "statistic", "p", "q", "n", "verdict", "status"):
        claims.add_column(col)
    for claim, res, explained in result.claims:
        holds = claim_holds(claim, res)
        if holds and not verbose:
            continue
        status = "holds" if holds else ("explained: " + str(claim.audit) if explained
                                            else "DOES NOT HOLD")
        claims.add_row(f"{claim.id}: {claim.statement}", f"{claim.finding} · {res.test.name}",
                       _num(res.test.statistic, 3), _num(res.test.p, 4), _num(res.q, 4),
                       str(res.n), f"{res.verdict} (expected {claim.expect})", status)
    if claims.row_count:
        console.print(claims)


def write_verification(result: Verification, path: Path) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["kind", "id", "figure", "group", "category", "printed", "decimals", "computed",
                "base", "holds", "audit"])
    for c in result.numbers:
        t = c.target
        w.writerow(["number", t.id, t.figure, t.group, t.category, _printed(t), t.decimals,
                    "" if c.computed is None else f"{float(c.computed):.6f}", c.base or "",
                    int(c.holds), t.audit or ""])
    for r in result.rankings:
        t = r.target
        w.writerow(["ranking", t.id, t.figure, t.group, t.category or "", " > ".join(t.order),
                    "", " > ".join(r.computed), "", int(r.holds), t.audit or ""])
    for claim, res, _ in result.claims:
        w.writerow(["claim", claim.id, claim.finding, res.test.name, "", claim.expect, "",
                    f"{res.verdict} p={_num(res.test.p, 6)} q={_num(res.q, 6)}", res.n,
                    int(claim_holds(claim, res)), claim.audit or ""])
    write_atomic(path, buf.getvalue().encode("utf-8"))
