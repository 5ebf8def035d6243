"""Respondent data checked and typed column by column, one batch of rows at a time.

Layer: load (may import base, and its own layer).

Readers (:mod:`lpj_report.load`) hand over each batch as encoded columns:

* :class:`Coded` — ``index[i]`` points into ``cells``, the distinct parsed cells of the batch
  (``int``, ``float`` or ``str``; ``-1`` = blank). Every per-value decision (is it a code,
  which category, is it in range) is made once per distinct cell and applied to the rows with
  one ``take``, so the cost per cell is a few array operations, never a Python object.
* :class:`Numeric` — float64 values, NaN = blank (SPSS, Parquet and unique columns such as
  ``respondent``).

:class:`Checker` applies the codebook's rules (the same rules as the pandera schema of
:mod:`lpj_report.validate`) to every batch, keeps the typed columns (category codes, ``Int8``,
``Float64``) and notes which rows break a rule. It never names a problem itself: the rows it
flags are rebuilt as a small raw table and handed to the pandera schema, which words every
problem exactly as for a table read cell by cell. The screen may flag a row the schema then
finds fine; it never misses one the schema would report (a property test checks this).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lpj_report.cell_codes import parse_cell
from lpj_report.codebook import Codebook, Variable

ID_COLUMN = "respondent"
ROLE_COLUMN = "rolle"
#: At most this many rows with problems are named cell by cell; the rest are counted.
MAX_NAMED_ROWS = 10_000


@dataclass
class Coded:
    """One column of one batch as an index into its distinct parsed cells (-1 = blank)."""

    index: np.ndarray
    cells: list

    def __len__(self) -> int:
        return len(self.index)


@dataclass
class Numeric:
    """One column of one batch as float64 numbers (NaN = blank)."""

    values: np.ndarray

    def __len__(self) -> int:
        return len(self.values)


Column = Coded | Numeric


def coded_from_objects(values: list, parse: Callable[[object], object] | None = None) -> Coded:
    """Encode parsed cells (``None`` = blank); ``parse`` is applied to each distinct value."""
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    index, uniques = pd.factorize(arr, use_na_sentinel=True)
    return _compact(index.astype(np.intp, copy=False), list(uniques), parse)


def _compact(index: np.ndarray, cells: list, parse: Callable | None) -> Coded:
    """Apply ``parse`` to the distinct cells; cells that parse to blank get index -1."""
    if parse is not None:
        cells = [parse(c) for c in cells]
    if any(c is None for c in cells):
        remap = np.empty(len(cells) + 1, dtype=np.intp)
        kept = []
        for i, cell in enumerate(cells):
            if cell is None:
                remap[i] = -1
            else:
                remap[i] = len(kept)
                kept.append(cell)
        remap[-1] = -1
        index, cells = remap[index], kept
    return Coded(index, cells)


def coded_from_numbers(values: np.ndarray, parse: Callable[[object], object]) -> Coded:
    """Encode float values (NaN = blank) by their distinct values."""
    index, uniques = pd.factorize(values, use_na_sentinel=True)
    return _compact(index.astype(np.intp, copy=False), uniques.tolist(), parse)


def _number(cell: object) -> float:
    """A parsed cell as a float (NaN for text)."""
    if isinstance(cell, str):
        return math.nan
    try:
        return float(cell)
    except OverflowError:
        return math.inf if cell > 0 else -math.inf


@dataclass(frozen=True)
class Rule:
    """What one data column must hold (see :mod:`lpj_report.validate`)."""

    column: str
    var: Variable
    nullable: bool
    positions: dict[int, int] = field(default_factory=dict)  # code → category position

    @classmethod
    def of(cls, var: Variable, column: str) -> Rule:
        if var.kind == "single":
            positions = {c.code: i for i, c in enumerate(var.codes)}
        elif var.kind == "multi":
            positions = {0: 0, 1: 1}
        else:
            positions = {}
        return cls(column, var, var.name not in (ROLE_COLUMN, ID_COLUMN), positions)


@dataclass
class Checked:
    """One column of one batch after the element rules: typed values and what failed."""

    typed: np.ndarray          # category position (-1 NA), 0/1 (-1 NA) or float (NaN NA)
    blank: np.ndarray          # bool
    bad: np.ndarray | None     # bool, None when no cell breaks a rule


def check_column(rule: Rule, column: Column) -> Checked:
    """The element rules of one column: codes, 0/1, numbers in range, whole ids, not blank."""
    if rule.var.kind == "number":
        return _check_number(rule, column)
    if isinstance(column, Numeric):
        column = coded_from_numbers(column.values, parse_cell)
    cells = column.cells
    small = np.int8 if len(rule.positions) < 127 else np.int16
    lut = np.fromiter((rule.positions.get(c, -1) if type(c) is int else -1 for c in cells),
                      dtype=small, count=len(cells))
    lut = np.append(lut, small(-1))
    typed = lut[column.index]
    blank = column.index < 0
    bad_lut = lut < 0
    bad_lut[-1] = not rule.nullable
    bad = bad_lut[column.index] if bad_lut.any() else None
    return Checked(typed, blank, bad)


def _check_number(rule: Rule, column: Column) -> Checked:
    var = rule.var
    lo, hi = var.range if var.range is not None else (-math.inf, math.inf)
    whole = var.name == ID_COLUMN
    if isinstance(column, Coded):
        nums = np.fromiter((_number(c) for c in column.cells), dtype=np.float64,
                           count=len(column.cells))
        with np.errstate(invalid="ignore"):
            bad_lut = ~((nums >= lo) & (nums <= hi))  # text (NaN) fails too
            if whole:
                bad_lut |= np.isfinite(nums) & (nums != np.floor(nums))
        nums = np.append(nums, np.nan)
        bad_lut = np.append(bad_lut, not rule.nullable)
        typed = nums[column.index]
        blank = column.index < 0
        bad = bad_lut[column.index] if bad_lut.any() else None
        return Checked(typed, blank, bad)
    typed = column.values
    blank = np.isnan(typed)
    with np.errstate(invalid="ignore"):
        bad = ~blank & ~((typed >= lo) & (typed <= hi))
        if whole:
            bad |= np.isfinite(typed) & (typed != np.floor(typed))
    if not rule.nullable:
        bad |= blank
    return Checked(typed, blank, bad if bad.any() else None)


def original_cell(column: Column, row: int) -> object:
    """The parsed cell of ``row`` as the raw table holds it (None, int, float or str)."""
    if isinstance(column, Coded):
        i = column.index[row]
        return None if i < 0 else column.cells[i]
    value = float(column.values[row])
    if math.isnan(value):
        return None
    return int(value) if value.is_integer() else value


class Checker:
    """Checks and types a respondent file batch by batch (see the module docstring)."""

    def __init__(self, codebook: Codebook, names: list[str]):
        self.codebook = codebook
        self.names = list(names)
        present = set(names)
        self.rules = {col: Rule.of(var, col) for var in codebook.questions
                      for col in var.columns if col in present}
        self.missing = [c for v in codebook.questions if not v.optional
                        for c in v.columns if c not in present]
        self.unknown = [c for c in names if c not in self.rules]
        roles = [r.key for r in codebook.roles]
        all_roles = set(roles)
        asked_sets: dict[tuple[str, ...], list[str]] = {}
        for var in codebook.questions:
            if set(var.asked) != all_roles and var.name != ROLE_COLUMN:
                cols = [c for c in var.columns if c in self.rules]
                asked_sets.setdefault(tuple(sorted(var.asked)), []).extend(cols)
        #: (allowed[role position + 1] → asked, columns asked of exactly those roles)
        self.asked: list[tuple[np.ndarray, list[str]]] = [
            (np.array([False] + [k in keys for k in roles]), cols)
            for keys, cols in asked_sets.items() if cols]
        self.limited = [v for v in codebook.questions if v.kind == "multi" and v.max_choices]
        self.filtered = [v for v in codebook.questions if v.asked_if]
        self.typed: dict[str, list[np.ndarray]] = {col: [] for col in self.rules}
        self.blanks: dict[str, list[np.ndarray]] = {col: [] for col in self.rules
                                                    if self.rules[col].var.kind != "single"}
        self.rows = 0
        self.flagged = 0                       # rows with problems seen so far
        self.stored: list[int] = []            # positions of the rows kept for naming
        self.bad_cells: dict[tuple[int, str], object] = {}
        self._duplicates: np.ndarray | None = None

    # ------------------------------------------------------------------ batches
    def add(self, batch: dict[str, Column], n: int) -> None:
        """Check and keep one batch of ``n`` rows (columns by file name)."""
        offset, self.rows = self.rows, self.rows + n
        row_bad = np.zeros(n, dtype=bool)
        checked: dict[str, Checked] = {}
        bad_columns = []
        for col, rule in self.rules.items():
            result = check_column(rule, batch[col])
            checked[col] = result
            self.typed[col].append(result.typed)
            if col in self.blanks:
                self.blanks[col].append(result.blank)
            if result.bad is not None:
                row_bad |= result.bad
                bad_columns.append(col)
        row_bad |= self._cross_rules(checked, n)
        if not row_bad.any():
            return
        rows = np.flatnonzero(row_bad)
        self.flagged += len(rows)
        room = MAX_NAMED_ROWS - len(self.stored)
        if room <= 0:
            return
        rows = rows[:room]
        self.stored.extend((offset + rows).tolist())
        keep = np.zeros(n, dtype=bool)
        keep[rows] = True
        for col in bad_columns:
            for r in np.flatnonzero(checked[col].bad & keep).tolist():
                self.bad_cells[(offset + r, col)] = original_cell(batch[col], r)

    def _cross_rules(self, checked: dict[str, Checked], n: int) -> np.ndarray:
        """Rows breaking a rule across columns: not asked, filter question, too many ticks."""
        bad = np.zeros(n, dtype=bool)
        if ROLE_COLUMN in checked:
            role = checked[ROLE_COLUMN].typed.astype(np.intp) + 1   # 0 = unknown role
            for allowed, cols in self.asked:
                answered = np.zeros(n, dtype=bool)
                for col in cols:
                    answered |= ~checked[col].blank
                bad |= answered & ~allowed[role] & (role > 0)
        for var in self.filtered:
            asked = np.ones(n, dtype=bool)
            for name, keys in var.asked_if.items():
                if name in checked:
                    cond = self.codebook[name]
                    allowed = np.array([cond.keys.index(k) for k in keys], dtype=np.int16)
                    asked &= np.isin(checked[name].typed, allowed)
            for col in var.columns:
                if col in checked:
                    bad |= ~asked & ~checked[col].blank
        for var in self.limited:
            cols = [c for c in var.columns if c in checked]
            if cols:
                ticks = np.zeros(n, dtype=np.int16)
                for col in cols:
                    ticks += checked[col].typed == 1
                bad |= ticks > var.max_choices
        return bad

    # ------------------------------------------------------------------ results
    def duplicates(self) -> np.ndarray:
        """Positions of rows whose respondent number occurs more than once."""
        if self._duplicates is None:
            self._duplicates = self._find_duplicates()
        return self._duplicates

    def _find_duplicates(self) -> np.ndarray:
        if ID_COLUMN not in self.typed or not self.rows:
            return np.zeros(0, dtype=np.intp)
        ids = _joined(self.typed[ID_COLUMN])
        known = ~np.isnan(ids)
        order = np.argsort(ids, kind="stable")
        ordered = ids[order]
        same = np.zeros(len(ids), dtype=bool)
        eq = (ordered[1:] == ordered[:-1]) & known[order][1:]
        same[1:] |= eq
        same[:-1] |= eq
        return np.sort(order[same])

    def named_rows(self) -> tuple[list[int], int]:
        """(positions of the rows to name, number of rows with problems left unnamed)."""
        dups = self.duplicates()
        extra = np.setdiff1d(dups, np.asarray(self.stored, dtype=np.intp))
        rows = sorted(set(self.stored) | set(dups.tolist()))
        total = self.flagged + len(extra)
        named = rows[:MAX_NAMED_ROWS]
        return named, total - len(named)

    @property
    def has_problems(self) -> bool:
        return bool(self.flagged or self.missing or self.unknown or len(self.duplicates()))

    def raw_rows(self, positions: list[int]) -> dict[str, list]:
        """The raw cells of the rows at ``positions`` (file columns; unknown columns blank)."""
        out: dict[str, list] = {}
        pos = np.asarray(positions, dtype=np.intp)
        for col in self.names:
            rule = self.rules.get(col)
            if rule is None:
                out[col] = [None] * len(positions)
                continue
            typed = np.concatenate(self.typed[col])[pos] if len(pos) else np.zeros(0)
            cells = []
            for p, value in zip(positions, typed.tolist(), strict=True):
                if (p, col) in self.bad_cells:
                    cells.append(self.bad_cells[(p, col)])
                else:
                    cells.append(_restore(rule, value))
            out[col] = cells
        return out

    def typed_frame(self) -> pd.DataFrame:
        """The contract table (codebook order; see :func:`lpj_report.load.typed_table`)."""
        out = {}
        for var in self.codebook.questions:
            for col in var.columns:
                if col not in self.typed:  # an optional column the file leaves out: blank
                    blank = np.full(self.rows, -1, dtype=np.int8)
                    self.typed[col] = [blank if var.kind != "number"
                                       else np.full(self.rows, np.nan)]
                    if var.kind != "single":
                        self.blanks[col] = [np.ones(self.rows, dtype=bool)]
                typed = _joined(self.typed.pop(col))
                if var.kind == "single":
                    codes = typed.astype(np.int8 if len(var.codes) < 127 else np.int16,
                                         copy=False)
                    dtype = pd.CategoricalDtype(var.keys, ordered=True)
                    out[col] = pd.Categorical.from_codes(codes, dtype=dtype)
                elif var.kind == "multi":
                    mask = _joined(self.blanks.pop(col))
                    values = np.where(mask, 0, typed).astype(np.int8)
                    out[col] = pd.arrays.IntegerArray(values, mask)
                else:
                    mask = _joined(self.blanks.pop(col))
                    values = np.where(mask, 0.0, typed)
                    out[col] = pd.arrays.FloatingArray(values, mask)
                del typed
        return pd.DataFrame(out, index=pd.RangeIndex(self.rows), copy=False)


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.zeros(0)


def _restore(rule: Rule, value: float | int) -> object:
    """A valid typed cell back as the raw cell it was read from."""
    kind = rule.var.kind
    if kind == "single":
        return None if value < 0 else rule.var.codes[int(value)].code
    if kind == "multi":
        return None if value < 0 else int(value)
    if value != value:  # NaN
        return None
    return int(value) if float(value).is_integer() else float(value)
