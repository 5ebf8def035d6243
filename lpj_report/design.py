"""The sampling design in the method appendix: margins of error, and what a design effect would
change.

Layer: format (may import base … generate, and its own layer).

Every test of the report assumes simple random sampling of respondents (unless the data carry a
cluster id, :mod:`lpj_report.findings`). The survey drew municipalities, then workplaces, then
people, so answers from one workplace may be more alike than a simple random sample's; the
design effect (deff) says by how much the variance grows. This module

* computes the margin of error (half the 95 % interval) of a 50 % share for the base of each
  role, under simple random sampling and under deff 1,5 and 2 (× √deff);
* re-runs every finding with its statistic deflated by deff 1,5 and 2 (χ²/deff, z and t by
  √deff) and lists the findings whose verdict would change.
"""

from __future__ import annotations

import math
from typing import Any

from lpj_report import format as fmt
from lpj_report.findings import changed_by_design, evaluate

DESIGN_EFFECTS = (1.5, 2.0)
Z95 = 1.959963984540054


def margin_of_error(n: int, deff: float = 1.0) -> float:
    """Half the 95 % interval of a 50 % share on n answers, in percentage points."""
    return 100 * Z95 * math.sqrt(0.25 * deff / n) if n else math.nan


def design_facts(build) -> dict[str, Any]:
    """Strings for the method appendix: ``moe`` per role (SRS and each deff), and per design
    effect the findings whose verdict it would change (``changes[i].statements``)."""
    project = build.project
    ctx = build.finding_context()
    roles = build.data["rolle"].astype("object").value_counts()
    moe = {}
    for role in project.codebook["rolle"].keys:
        n = int(roles.get(role, 0))
        moe[role] = {"n": fmt.count(n),
                     "srs": fmt.number(margin_of_error(n), 1) if n else "–",
                     **{f"deff_{str(d).replace('.', '_')}": fmt.number(margin_of_error(n, d), 1)
                        if n else "–" for d in DESIGN_EFFECTS}}
    base = build.findings
    changes = []
    for deff in DESIGN_EFFECTS:
        other = evaluate(project.findings, _deflated(ctx, deff))
        ids = changed_by_design(base, other)
        changes.append({
            "deff": fmt.number(deff, 0 if float(deff).is_integer() else 1),
            "count": fmt.count(len(ids)),
            "any": bool(ids),
            "statements": [base[i].finding.statement for i in ids],
            "ids": ids,
        })
    supported = sum(r.verdict == "supported" for r in base.values())
    return {"moe": moe, "changes": changes, "clustered": ctx.cluster(
        build.data["rolle"].notna().to_numpy(bool)) is not None,
        "supported": fmt.count(supported), "findings": fmt.count(len(base))}


def _deflated(ctx, deff: float):
    from dataclasses import replace

    return replace(ctx, deff=deff)
