"""Disclosure control: no number computed on too few respondents, nor any number it could be
worked back from.

Layer: figures (may import base … derive, and its own layer).

The rule (``data/disclosure.yaml``, ``--min-base``): a row of a figure table — a group of one
figure in one municipality, with its percentages, counts and base n — whose base is below
``min_base`` (default 5) is **primary suppressed**. Other rows are then suppressed as well
(**complementary suppression**) until no primary-suppressed number can be recovered from what is
shown.

What an attacker is assumed to know (deliberately more than the editions show):

* every shown row of every municipality's edition (counts, not only the rounded percentages);
* every number of the whole wave (the ``alle kommuner`` column, which the main report prints
  without suppression);
* the base n of every group in every municipality (group sizes follow from distribution tables
  such as "arbejdssted fordelt på rolle", which the rule allows to be shown);
* how the tables hang together: municipalities add up to the whole wave; the groups of a
  breakdown add up to ``alle`` (with a hidden group for respondents without an answer to the
  breakdown, or outside a figure's filter); the categories of a single-choice figure add up to
  the base; a combined category is the sum of its parts; figures on the same question for
  different groupings of the same respondents (with or without a filter, by role or for one
  role only) count the same people; counts are whole numbers between 0 and n.

Relations between *different* questions are not modelled (two figures about two questions are
linked only through the group sizes, which the attacker knows anyway).

How it is done. Figures on one question (same statistic, exclusions and categories) form a
*family*. The family's unknowns are counts per municipality, per block of respondents (blocks:
the coarsest partition of the family's populations, filters and breakdown groups — by role, and
by each breakdown or filter variable) and per answer category. Every row of every table is a sum
of unknowns. A primary-suppressed row is *determined* when every solution of the shown rows'
equations (within the bounds) gives it the same value; this is decided exactly for the linear
relaxation by linear programmes on the cone of feasible directions at the true data. For a
determined row, a second linear programme (the Farkas certificate) names the shown rows the
derivation uses; the cheapest of them (smallest base; whole-municipality rows last) is suppressed
too, and the family is checked again. The status of a row is tied across figures: a group of one
municipality (same respondents) is suppressed in every table or in none. Everything iterates to a
fixed point. Numbers that the whole-wave figures alone already determine (a category nobody in a
group chose anywhere) are left as they are: suppression cannot hide what the main report prints.

Each family's linear programmes are built once and re-solved with other bounds; a direction
found once is kept (hiding rows only adds directions); a target its own municipality's tables pin
is recognised by a small programme over that municipality (:mod:`lpj_report.suppression_audit`).
The pattern of a wave is computed once and kept under ``.cache/suppression`` for every edition
and shard (:mod:`lpj_report.suppression_cache`).

``tests/test_suppression.py`` attacks the result with integer programmes built from the written
edition tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lpj_report.codebook import Codebook
from lpj_report.figures import ALL, Figure
from lpj_report.paths import DATA_DIR
from lpj_report.suppression_families import (  # noqa: F401 (re-exported)
    MISSING,
    TOTAL,
    Cond,
    Family,
    Row,
    RowKey,
    build_families,
    families_from_table,
    row_cond,
)

CONFIG_FILE = DATA_DIR / "disclosure.yaml"


@dataclass(frozen=True)
class Config:
    min_base: int = 5
    mark: str = "◊"
    floor: int = 5      # the file's min_base: --min-base goes below it only by explicit override

    @property
    def lowered(self) -> bool:
        return self.min_base < self.floor


@cache
def _file_config(path: Path = CONFIG_FILE) -> dict[str, Any]:
    from lpj_report.readers import mapping, read_yaml, text, whole_number

    if not path.exists():
        return {}
    file = path.name
    doc = mapping(read_yaml(path, "disclosure settings"), file, "(top level)",
                  "a mapping with the key 'disclosure'")
    raw = mapping(doc.get("disclosure"), file, "disclosure", "a mapping (min_base, mark)")
    if "min_base" in raw:
        whole_number(raw["min_base"], file, "disclosure.min_base", "a whole number ≥ 1",
                     minimum=1)
    if "mark" in raw:
        text(raw["mark"], file, "disclosure.mark", "the mark as text, e.g. ◊")
    return raw


def load_config(min_base: int | None = None, allow_low: bool = False) -> Config:
    """The disclosure settings: ``data/disclosure.yaml``, ``min_base`` (``--min-base``) overriding
    the file's — upwards, or below it only with ``allow_low`` (``--allow-low-min-base``), and
    then every output says so (:func:`lowered`). Raises InputError otherwise."""
    from lpj_report.cli_errors import InputError

    raw = _file_config()
    floor = int(raw.get("min_base", Config.min_base))
    base = floor if min_base is None else min_base
    if not isinstance(base, int) or isinstance(base, bool) or base < 1:
        raise InputError.at("--min-base", "a whole number of respondents, at least 1",
                            value=base)
    if base < floor and not allow_low:
        raise InputError.at("--min-base", f"at least {floor}, the floor of disclosure control "
                            f"in {CONFIG_FILE.parent.name}/{CONFIG_FILE.name} (min_base); "
                            "--allow-low-min-base lowers it, and every output then says so",
                            value=base)
    return Config(min_base=base, mark=str(raw.get("mark", Config.mark)), floor=floor)


def lowered(config: Config | None) -> dict[str, int] | None:
    """``{"min_base", "floor"}`` when ``config`` lowers disclosure control below the file's
    floor (recorded in figures.json's meta, and a notice in every page and workbook), else
    None (also for no ``config``: none applied)."""
    if config is None or not config.lowered:
        return None
    return {"min_base": config.min_base, "floor": config.floor}


# ---------------------------------------------------------------------------- the procedure


@dataclass
class Result:
    """Which rows are suppressed, and why."""

    min_base: int
    hidden: set[tuple[str, Cond]]               # (unit, respondents) hidden in every table
    primary: set[RowKey]
    suppressed: set[RowKey]
    public: list[str] = field(default_factory=list)   # determined by the whole wave alone
    rounds: int = 0

    def is_suppressed(self, unit: str, figure: str, group: str) -> bool:
        return (unit, figure, group) in self.suppressed


def _row_cost(row: Row) -> float:
    return float(row.base) + (1e5 if row.group == ALL else 0.0)


def protect_families(families: list[Family], min_base: int,
                     max_rounds: int = 200) -> Result:
    """Primary and complementary suppression over all families, to a fixed point.

    A hidden group (unit, respondents) is hidden in every table that shows it, so that the
    tables of different questions cannot be played against each other through the group's
    size."""
    from lpj_report.suppression_audit import Audit, targets_of  # scipy: only to compute

    hidden: set[tuple[str, Cond]] = set()
    primary_rows: set[RowKey] = set()
    by_cond: dict[tuple[str, Cond], set[int]] = defaultdict(set)
    for fi, fam in enumerate(families):
        for row in fam.rows:
            if row.unit == TOTAL:
                continue
            by_cond[(row.unit, row.cond)].add(fi)
            if 0 < row.base < min_base:
                hidden.add((row.unit, row.cond))
    for fam in families:
        for row in fam.rows:
            if row.unit != TOTAL and (row.unit, row.cond) in hidden and row.base > 0:
                primary_rows.add(row.key)
    public: set[str] = set()
    audits: dict[int, Audit] = {}
    verdict: dict[int, dict[tuple, bool]] = defaultdict(dict)   # functional → pinned by totals
    dirty = list(range(len(families)))
    rounds = 0
    while dirty:
        fi = dirty.pop(0)
        fam = families[fi]
        if fi not in audits:   # the family's programmes, built once and kept for revisits
            audits[fi] = Audit(fam)
        audit = audits[fi]
        for _ in range(max_rounds):
            rounds += 1
            # every hidden number is a target, complementary ones too: none may be pinned
            hidden_rows = {k for k, row in enumerate(fam.rows) if row.unit != TOTAL
                           and row.base > 0 and (row.unit, row.cond) in hidden}
            targets = targets_of(fam, hidden_rows, min_base)
            new = [t for t in targets if t.functional not in verdict[fi]]
            if new:
                # numbers the whole wave alone determines: not the editions' doing
                known_t = [k for k, row in enumerate(fam.rows) if row.unit == TOTAL]
                free = audit.free(known_t, new, purpose="whole wave")
                for i, t in enumerate(new):
                    verdict[fi][t.functional] = i not in free
                    if i not in free:
                        public.add(t.label)
            targets = [t for t in targets if not verdict[fi][t.functional]]
            if not targets:
                break
            known = [k for k, row in enumerate(fam.rows)
                     if row.unit == TOTAL or (row.unit, row.cond) not in hidden]
            free = audit.free(known, targets)
            stuck = [t for i, t in enumerate(targets) if i not in free]
            if not stuck:
                break
            # a row without respondents hides nothing (its zeros follow from its n = 0)
            cost = {k: _row_cost(fam.rows[k]) for k in known
                    if fam.rows[k].unit != TOTAL and fam.rows[k].base > 0}
            added = False
            # one derivation per row: its categories are usually derived the same way
            stuck = list({t.label.rsplit("/", 1)[0]: t for t in reversed(stuck)}.values())
            for t in stuck:
                used = [k for k in audit.certificate(known, t, cost) if k in cost]
                if not used:
                    used = [k for k in cost if fam.rows[k].unit == t.unit]
                if not used:
                    continue
                k = min(used, key=lambda k: (cost[k], fam.rows[k].key))
                mark = (fam.rows[k].unit, fam.rows[k].cond)
                if mark not in hidden:
                    hidden.add(mark)
                    added = True
                    for other in by_cond[mark]:
                        if other != fi and other not in dirty:
                            dirty.append(other)
            if not added:
                break
        else:
            raise RuntimeError(f"suppression of {fam.key} did not converge")
    suppressed = {row.key for fam in families for row in fam.rows
                  if row.unit != TOTAL and (row.unit, row.cond) in hidden and row.base > 0}
    return Result(min_base, hidden, primary_rows, suppressed, sorted(public), rounds)


def protect(df: pd.DataFrame, codebook: Codebook, figures: list[Figure], populations: dict,
            *, min_base: int, unit_var: str | None = "kommune",
            cache: Path | None | bool = True) -> Result:
    """Suppression for the tables of every unit (municipality), the whole wave being public.

    With ``unit_var=None`` the wave itself is the one unit and nothing else is public (the
    setting for ``lpj diff``). ``cache``: the folder of computed patterns
    (:mod:`lpj_report.suppression_cache`; True: its default folder, None or False: compute)."""
    from lpj_report import suppression_cache

    def compute() -> dict:
        return _to_payload(_protect(df, codebook, figures, populations, min_base, unit_var))

    folder = suppression_cache.default_folder() if cache is True else (cache or None)
    if folder is None:
        return _from_payload(compute())
    settings = {"figures": figures, "populations": populations, "codebook": codebook,
                "min_base": min_base, "unit_var": unit_var}
    key = suppression_cache.key_of(df, settings)
    return _from_payload(suppression_cache.cached(Path(folder), key, compute))


def _protect(df: pd.DataFrame, codebook: Codebook, figures: list[Figure], populations: dict,
             min_base: int, unit_var: str | None) -> Result:
    if unit_var is None:
        unit_of = np.array(["alle"] * len(df), dtype=object)
        display, known_total = ["alle"], False
    else:
        col = df[unit_var].astype("object")
        unit_of = col.where(col.notna(), MISSING).astype(str).to_numpy()
        display = [k for k in codebook[unit_var].keys if (unit_of == k).any()]
        known_total = True
    fams = build_families(df, codebook, figures, populations, unit_of, display, known_total)
    return protect_families(fams, min_base)


def _to_payload(result: Result) -> dict:
    """A result as JSON-ready lists, sorted (the same text for the same result)."""
    def cond(c: Cond) -> list:
        return sorted([var, sorted(keys)] for var, keys in c)

    return {"min_base": result.min_base,
            "hidden": sorted([unit, cond(c)] for unit, c in result.hidden),
            "primary": sorted(list(k) for k in result.primary),
            "suppressed": sorted(list(k) for k in result.suppressed),
            "public": list(result.public), "rounds": result.rounds}


def _from_payload(payload: dict) -> Result:
    def cond(items: list) -> Cond:
        return frozenset((var, frozenset(keys)) for var, keys in items)

    return Result(int(payload["min_base"]),
                  {(unit, cond(c)) for unit, c in payload["hidden"]},
                  {tuple(k) for k in payload["primary"]},
                  {tuple(k) for k in payload["suppressed"]},
                  list(payload["public"]), int(payload["rounds"]))


def protect_table(rows: pd.DataFrame, figures: list[Figure], codebook: Codebook,
                  min_base: int) -> Result:
    """Suppression of a figure table on its own (no data): each figure separately."""
    fams = families_from_table(rows, figures, codebook)
    result = protect_families(fams, min_base)
    small = rows[(rows["base"] > 0) & (rows["base"] < min_base)]
    extra = {("alle", f, g) for f, g in zip(small["figure"], small["group"], strict=True)}
    result.suppressed |= extra
    result.primary |= extra
    return result


# ---------------------------------------------------------------------------- applying


def apply(table: pd.DataFrame, suppressed: set[tuple[str, str]] | Iterable[tuple[str, str]],
          min_base: int) -> pd.DataFrame:
    """The figure table with a ``suppressed`` column: True for the (figure, group) rows given
    and for every row whose base is below ``min_base``; their numbers become missing. A row
    without respondents (base 0) has no numbers to hide and is not flagged."""
    hide = set(suppressed)
    out = table.copy()
    keys = list(zip(out["figure"], out["group"], strict=True))
    base = out["base"].to_numpy(float)
    flag = np.array([k in hide for k in keys], dtype=bool) & (base > 0)
    flag |= (base > 0) & (base < min_base)
    out["suppressed"] = flag
    for col in ("numerator", "base", "value", "ci_low", "ci_high"):
        if col in out.columns:
            out[col] = out[col].astype("Float64").mask(flag)
    return out


def unit_rows(result: Result, unit: str) -> set[tuple[str, str]]:
    """The suppressed (figure, group) rows of one unit."""
    return {(f, g) for u, f, g in result.suppressed if u == unit}


# ---------------------------------------------------------------------------- exact audit


def audit_integer(fam: Family, result: Result, units: Iterable[str] | None = None,
                  time_limit: float = 20.0) -> list[str]:
    """The targets of ``units`` an attacker can pin exactly with integer programming (min =
    max over all whole-number tables that agree with everything shown), leaving out those the
    whole-wave numbers alone pin. Empty when the suppression holds. Slow; for tests."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    from lpj_report.suppression_audit import known_system, targets_of

    units = set(units) if units is not None else None
    hidden = {k for k, row in enumerate(fam.rows) if row.key in result.suppressed}
    targets = [t for t in targets_of(fam, hidden, result.min_base)
               if units is None or t.unit in units]
    if not targets:
        return []
    n = fam.n_cols
    g = np.stack([t.vector(n) for t in targets])
    truth = g @ fam.truth()

    def pinned(known: list[int]) -> set[int]:
        system = known_system(fam, known)
        cons = [LinearConstraint(system.a_eq, system.b_eq, system.b_eq)]
        if system.a_ub.shape[0]:
            cons.append(LinearConstraint(system.a_ub, -np.inf, 0.0))
        moved = np.zeros(len(targets), dtype=bool)
        out = set()
        for i in range(len(targets)):
            if moved[i]:
                continue
            for sign in (1.0, -1.0):
                res = milp(-sign * g[i], constraints=cons, integrality=fam.integrality(),
                           bounds=Bounds(0, 1e7), options={"time_limit": time_limit})
                if res.x is None:
                    raise RuntimeError(f"audit of {fam.key}: {res.message}")
                moved |= np.abs(g @ res.x - truth) > 1e-6
                if moved[i]:
                    break
            if not moved[i]:
                out.add(i)
        return out

    known = [k for k, row in enumerate(fam.rows)
             if row.unit == TOTAL or row.key not in result.suppressed]
    pinned_now = pinned(known)
    if not pinned_now:
        return []
    public = pinned([k for k, row in enumerate(fam.rows) if row.unit == TOTAL])
    return [targets[i].label for i in sorted(pinned_now - public)]
