"""Edit rules: what a respondent's answers must satisfy together (``data/codebook/rules.yaml``).

Layer: load (may import base, and its own layer).

Rules are declared as data, like R's ``validate`` rules, and each says why it follows from the
questionnaire's wording. Three kinds:

* ``rule: "aar_stilling <= aar_arbejdsplads <= aar_kommune <= alder - 15"`` — a comparison of
  number variables, possibly chained. Expressions are parsed with :mod:`ast` and only names,
  numbers, ``+``, ``-`` and comparisons are allowed (never ``eval``). A chain is checked between
  the operands that are present: a blank answer drops out of the chain (``a <= b <= c`` with b
  blank still requires ``a <= c``).
* ``from_codebook: asked`` — a question is blank for every role its ``asked`` leaves out;
  ``from_codebook: asked_if`` — a follow-up is blank unless the filter question has one of the
  listed answers. Both are expanded into one rule per question (id ``R-rolle:snak_leder``).
* ``from_codebook: multi_complete`` — a multiple-choice question is answered in all of its
  option columns (0/1) or left blank in all of them.

Each rule has a ``severity``: ``error`` (the file cannot be used: exit 2, nothing written) or
``warning`` (reported, the build goes on). ``lpj validate --edit-rules`` and ``edit_rules:`` in a
wave.yaml override every rule's severity.

:func:`check` runs on the raw table of codes (after the codebook schema has passed) and returns
one :class:`Violation` per respondent and rule, with the row the user sees. :func:`chain_bounds`
gives the generator the bounds a rule puts on one variable once the others are known.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from lpj_report.cli_errors import DataError, Problem, show_value
from lpj_report.codebook import Codebook, CodebookError
from lpj_report.paths import DATA_DIR

SEVERITIES = ("error", "warning")
RULES_FILE = "rules.yaml"
SYMBOL = {"<=": "≤", ">=": "≥", "<": "<", ">": ">", "==": "=", "!=": "≠"}
_OPS = {ast.LtE: "<=", ast.GtE: ">=", ast.Lt: "<", ast.Gt: ">", ast.Eq: "==", ast.NotEq: "!="}


class RuleError(CodebookError):
    """The edit-rule file is malformed or names something the codebook does not have."""


@dataclass(frozen=True)
class Linear:
    """``Σ coef·name + const`` — one operand of a comparison."""

    coef: tuple[tuple[str, float], ...]
    const: float = 0.0

    @property
    def names(self) -> list[str]:
        return [n for n, _ in self.coef]

    def evaluate(self, values: dict[str, np.ndarray], n: int) -> np.ndarray:
        out = np.full(n, self.const, dtype=float)
        for name, c in self.coef:
            out = out + c * values[name]
        return out


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str                               # compare | blank | complete
    why: str
    severity: str
    text: str = ""                          # the comparison as written
    operands: tuple[Linear, ...] = ()       # compare: a op b op c …
    ops: tuple[str, ...] = ()
    variable: str = ""                      # blank / complete: the question
    allowed: dict[str, tuple[str, ...]] = field(default_factory=dict)  # blank unless any holds

    def shown(self) -> str:
        if self.kind == "compare":
            parts = [_show_linear(self.operands[0])]
            for op, operand in zip(self.ops, self.operands[1:], strict=True):
                parts += [SYMBOL[op], _show_linear(operand)]
            return " ".join(parts)
        if self.kind == "complete":
            return f"{self.variable}: all option columns filled in, or all blank"
        cond = " or ".join(f"{k} ∈ {{{', '.join(v)}}}" for k, v in self.allowed.items())
        return f"{self.variable} blank unless {cond}"


def _show_linear(lin: Linear) -> str:
    out = ""
    for i, (name, c) in enumerate(lin.coef):
        sign = "−" if c < 0 else "+"
        mag = "" if abs(c) == 1 else f"{show_value(abs(c))}·"
        out += (f"{'−' if c < 0 else ''}{mag}{name}" if i == 0 else f" {sign} {mag}{name}")
    if lin.const or not lin.coef:
        sign = "−" if lin.const < 0 else "+"
        num = show_value(abs(lin.const))
        out = f"{out} {sign} {num}" if out else show_value(lin.const)
    return out


@dataclass(frozen=True)
class Violation:
    rule: Rule
    row: object                             # the row label the user sees
    respondent: object
    values: tuple[tuple[str, str], ...]     # name → value as shown

    def text(self, file: str, row_kind: str) -> str:
        vals = ", ".join(f"{k} = {v}" for k, v in self.values)
        return (f"{file}, {row_kind} {self.row}, respondent {show_value(self.respondent)}: "
                f"edit rule {self.rule.id} ({self.rule.shown()}) does not hold: {vals}")


# ----------------------------------------------------------------------------- parsing
def _linear(node: ast.AST, where: str) -> Linear:
    """An operand: names, numbers, + and − only."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) \
            and not isinstance(node.value, bool):
        return Linear((), float(node.value))
    if isinstance(node, ast.Name):
        return Linear(((node.id, 1.0),), 0.0)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _linear(node.operand, where)
        return Linear(tuple((n, -c) for n, c in inner.coef), -inner.const)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        left, right = _linear(node.left, where), _linear(node.right, where)
        sign = 1.0 if isinstance(node.op, ast.Add) else -1.0
        coef: dict[str, float] = dict(left.coef)
        for n, c in right.coef:
            coef[n] = coef.get(n, 0.0) + sign * c
        return Linear(tuple((n, c) for n, c in coef.items() if c), left.const + sign * right.const)
    raise RuleError(f"{where}: only names, numbers, + and − are allowed in an operand, "
                    f"not {ast.dump(node)[:40]}")


def parse_linear(text: str, where: str = "expression") -> Linear:
    """A linear expression such as ``aar_kommune - alder`` (names, numbers, + and −)."""
    try:
        tree = ast.parse(str(text), mode="eval")
    except SyntaxError as err:
        raise RuleError(f"{where}: cannot read {text!r} ({err.msg})") from None
    return _linear(tree.body, where)


def parse_comparison(text: str, where: str) -> tuple[tuple[Linear, ...], tuple[str, ...]]:
    """``a <= b <= c - 15`` → operands and operators."""
    try:
        tree = ast.parse(str(text), mode="eval")
    except SyntaxError as err:
        raise RuleError(f"{where}: cannot read {text!r} ({err.msg})") from None
    node = tree.body
    if not isinstance(node, ast.Compare):
        raise RuleError(f"{where}: {text!r} is not a comparison (use <=, <, >=, >, ==, !=)")
    ops = []
    for op in node.ops:
        if type(op) not in _OPS:
            raise RuleError(f"{where}: operator {type(op).__name__} is not allowed")
        ops.append(_OPS[type(op)])
    operands = (node.left, *node.comparators)
    return tuple(_linear(o, where) for o in operands), tuple(ops)


def _expand(raw: dict, codebook: Codebook, severity: str, why: str, rid: str) -> list[Rule]:
    source = raw["from_codebook"]
    out: list[Rule] = []
    role_keys = [r.key for r in codebook.roles]
    for var in codebook.questions:
        if var.name in ("respondent", "rolle"):
            continue
        if source == "asked" and set(var.asked) != set(role_keys):
            out.append(Rule(f"{rid}:{var.name}", "blank", why, severity, variable=var.name,
                            allowed={"rolle": tuple(var.asked)}))
        elif source == "asked_if" and var.asked_if:
            out.append(Rule(f"{rid}:{var.name}", "blank", why, severity, variable=var.name,
                            allowed=dict(var.asked_if)))
        elif source == "multi_complete" and var.kind == "multi":
            out.append(Rule(f"{rid}:{var.name}", "complete", why, severity, variable=var.name))
    if source not in ("asked", "asked_if", "multi_complete"):
        raise RuleError(f"{RULES_FILE}: rule {rid}: from_codebook must be asked, asked_if or "
                        f"multi_complete, not {source!r}")
    return out


def load_rules(codebook: Codebook, folder: Path | None = None) -> list[Rule]:
    """Every edit rule of ``folder/rules.yaml`` (default: the codebook's own folder; none when
    the file does not exist)."""
    path = (folder or codebook.folder or DATA_DIR / "codebook") / RULES_FILE
    if not path.exists():
        return []
    doc = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("edit_rules") or {}
    default = str(doc.get("severity", "warning"))
    if default not in SEVERITIES:
        raise RuleError(f"{path.name}: severity must be one of {SEVERITIES}, not {default!r}")
    rules: list[Rule] = []
    seen: set[str] = set()
    for raw in doc.get("rules") or []:
        rid = str(raw.get("id") or "")
        where = f"{path.name}: rule {rid or '?'}"
        if not rid or rid in seen:
            raise RuleError(f"{where}: every rule needs a unique id")
        seen.add(rid)
        severity = str(raw.get("severity", default))
        if severity not in SEVERITIES:
            raise RuleError(f"{where}: severity must be one of {SEVERITIES}, not {severity!r}")
        why = " ".join(str(raw.get("why") or "").split())
        if not why:
            raise RuleError(f"{where}: say why the rule follows from the questionnaire (why:)")
        if "from_codebook" in raw:
            rules.extend(_expand(raw, codebook, severity, why, rid))
            continue
        if "rule" not in raw:
            raise RuleError(f"{where}: needs rule: or from_codebook:")
        operands, ops = parse_comparison(raw["rule"], where)
        for name in {n for o in operands for n in o.names}:
            if name not in codebook or codebook[name].derived or codebook[name].kind != "number":
                raise RuleError(f"{where}: {name!r} is not a number question of the codebook")
        rules.append(Rule(rid, "compare", why, severity, text=str(raw["rule"]),
                          operands=operands, ops=ops))
    return rules


# ----------------------------------------------------------------------------- checking
def _compare(a: np.ndarray, op: str, b: np.ndarray) -> np.ndarray:
    eps = 1e-9
    if op == "any":
        return np.ones(len(a), dtype=bool)
    return {"<=": a <= b + eps, ">=": a >= b - eps, "<": a < b - eps, ">": a > b + eps,
            "==": np.abs(a - b) <= eps, "!=": np.abs(a - b) > eps}[op]


def _numbers(table: pd.DataFrame, names: list[str]) -> dict[str, np.ndarray]:
    out = {}
    for name in names:
        col = table[name]
        out[name] = pd.to_numeric(col.astype("object").where(col.notna(), None),
                                  errors="coerce").to_numpy(dtype=float)
    return out


def compare_ok(rule: Rule, values: dict[str, np.ndarray], n: int) -> np.ndarray:
    """True where the chain holds between the operands that are present (NaN drops out)."""
    ops_vals = [o.evaluate(values, n) for o in rule.operands]
    ok = np.ones(n, dtype=bool)
    # for each operand, compare with the nearest present operand before it
    last = np.full(n, np.nan)
    last_op_index = np.full(n, -1)
    for j, val in enumerate(ops_vals):
        present = ~np.isnan(val)
        if j:
            seen = present & ~np.isnan(last)
            for k in range(j):
                sel = seen & (last_op_index == k)
                if sel.any():
                    # across a blank operand the chain's direction carries over
                    op = _chain_op(rule.ops[k:j])
                    ok[sel] &= _compare(last[sel], op, val[sel])
        last = np.where(present, val, last)
        last_op_index = np.where(present, j, last_op_index)
    return ok


def _chain_op(ops: tuple[str, ...]) -> str:
    """The relation implied between two operands of a chain across a blank one."""
    if all(o in ("<=", "<", "==") for o in ops):
        return "<" if "<" in ops else ("<=" if "<=" in ops else "==")
    if all(o in (">=", ">", "==") for o in ops):
        return ">" if ">" in ops else (">=" if ">=" in ops else "==")
    return "any"   # a mixed chain says nothing about operands that are not adjacent


def check(table: pd.DataFrame, codebook: Codebook, rules: list[Rule] | tuple[Rule, ...],
          codes: bool = True) -> list[Violation]:
    """Every respondent × rule that does not hold, in row order.

    ``table`` is the raw table of codes (``codes=True``: single-choice cells are codes, as in
    the file) or a typed/generated table with keys (``codes=False``). Its index is the row the
    user sees; ``respondent`` is reported beside it.
    """
    n = len(table)
    found: list[tuple[int, int, Violation]] = []
    rows = list(table.index)
    ids = table["respondent"].tolist() if "respondent" in table else rows
    for r_index, rule in enumerate(rules):
        if rule.kind == "compare":
            names = list(dict.fromkeys(x for o in rule.operands for x in o.names))
            values = _numbers(table, names)
            bad = ~compare_ok(rule, values, n)
            for i in np.flatnonzero(bad):
                shown = tuple((k, show_value(None if np.isnan(values[k][i]) else
                                             float(values[k][i]))) for k in names)
                found.append((i, r_index, Violation(rule, rows[i], ids[i], shown)))
            continue
        var = codebook[rule.variable]
        cols = [c for c in var.columns if c in table.columns]
        filled = table[cols].notna().to_numpy()
        if rule.kind == "complete":
            bad = filled.any(axis=1) & ~filled.all(axis=1)
            for i in np.flatnonzero(bad):
                blank = [c for c, f in zip(cols, filled[i], strict=True) if not f]
                found.append((i, r_index, Violation(
                    rule, rows[i], ids[i], (("blank", ", ".join(blank)),))))
            continue
        allowed = np.zeros(n, dtype=bool)
        for name, keys in rule.allowed.items():
            cond = codebook[name]
            wanted = [cond.code_of(k) for k in keys] if codes else list(keys)
            allowed |= table[name].isin(wanted).to_numpy(bool)
        bad = filled.any(axis=1) & ~allowed
        for i in np.flatnonzero(bad):
            shown = [(name, _shown_answer(table[name].iloc[i], codebook[name], codes))
                     for name in rule.allowed]
            shown.append((rule.variable, ", ".join(
                f"{c} = {show_value(table[c].iloc[i])}" for c in cols if pd.notna(table[c].iloc[i]))
                if var.kind == "multi" else _shown_answer(table[rule.variable].iloc[i], var, codes)))
            found.append((i, r_index, Violation(rule, rows[i], ids[i], tuple(shown))))
    found.sort(key=lambda t: (t[0], t[1]))
    return [v for _, _, v in found]


def _shown_answer(value, var, codes: bool) -> str:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return "blank"
    try:
        key = var.key_of(int(value)) if codes else str(value)
        return f"{show_value(value) if codes else ''} {var.label_of(key)}".strip()
    except (KeyError, ValueError, TypeError):
        return show_value(value)


def severity_of(rule: Rule, override: str | None) -> str:
    return override or rule.severity


def enforce(raw: pd.DataFrame, codebook: Codebook, rules=None, override: str | None = None,
            stream=None) -> list[Violation]:
    """Check ``raw``; raise :class:`DataError` when an ``error`` rule does not hold, print the
    ``warning`` ones to ``stream`` (stderr). Returns every violation."""
    if override is not None and override not in SEVERITIES:
        raise RuleError(f"edit-rule severity must be one of {SEVERITIES}, not {override!r}")
    rules = load_rules(codebook) if rules is None else rules
    found = check(raw, codebook, rules)
    report(found, raw.attrs.get("source", "data"), raw.attrs.get("row_kind", "row"), override,
           stream)
    return found


def report(found: list[Violation], file: str, kind: str, override: str | None = None,
           stream=None) -> None:
    """Raise :class:`DataError` for the violations of ``error`` rules; print the others."""
    if override is not None and override not in SEVERITIES:
        raise RuleError(f"edit-rule severity must be one of {SEVERITIES}, not {override!r}")
    if not found:
        return
    errors = [v for v in found if severity_of(v.rule, override) == "error"]
    if errors:
        raise DataError([_problem(v, file, kind) for v in errors])
    out = stream or sys.stderr
    noun = "answer breaks" if len(found) == 1 else "answers break"
    print(f"{file}: {len(found)} {noun} an edit rule (warning; data/codebook/rules.yaml):",
          file=out)
    for v in found[:50]:
        print(f"  {v.text(file, kind)}", file=out)
    if len(found) > 50:
        print(f"  … and {len(found) - 50} more", file=out)


def _problem(v: Violation, file: str, kind: str) -> Problem:
    vals = ", ".join(f"{k} = {x}" for k, x in v.values)
    return Problem(file, f"respondent {show_value(v.respondent)}: edit rule {v.rule.id} "
                         f"({v.rule.shown()}) does not hold: {vals}", row=v.row, row_kind=kind)


# ----------------------------------------------------------------------------- generator help
def chain_bounds(rule: Rule, var: str, values: dict[str, np.ndarray], n: int,
                 known: set[str]) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) bounds a compare rule puts on ``var`` (an operand ``var`` alone, with
    coefficient 1) from the nearest operand on either side whose variables are all ``known``
    and present. Strict ``<`` on whole numbers becomes ``≤ … − 1``. NaN = no bound."""
    lo = np.full(n, -np.inf)
    hi = np.full(n, np.inf)
    pos = [j for j, o in enumerate(rule.operands) if o.coef == ((var, 1.0),)]
    if not pos:
        return lo, hi
    j = pos[0]
    offset = rule.operands[j].const          # the operand is var + offset
    vals = {}
    for k, o in enumerate(rule.operands):
        if k != j and set(o.names) <= known:
            vals[k] = o.evaluate(values, n) - offset
    for direction in (-1, 1):
        filled = np.zeros(n, dtype=bool)
        k = j + direction
        while 0 <= k < len(rule.operands):
            if k in vals:
                v = vals[k]
                use = ~filled & ~np.isnan(v)
                ops = rule.ops[min(j, k):max(j, k)]
                op = _chain_op(tuple(ops))
                strict = 1.0 if op in ("<", ">") else 0.0
                # direction −1: operand k is before var: ops read "v_k op var"
                if op in ("<=", "<"):
                    if direction < 0:
                        lo = np.where(use, np.maximum(lo, v + strict), lo)
                    else:
                        hi = np.where(use, np.minimum(hi, v - strict), hi)
                elif op in (">=", ">"):
                    if direction < 0:
                        hi = np.where(use, np.minimum(hi, v - strict), hi)
                    else:
                        lo = np.where(use, np.maximum(lo, v + strict), lo)
                filled |= use
            k += direction
    return lo, hi
