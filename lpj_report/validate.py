"""Validate a raw respondent table against the codebook, reporting every bad cell at once.

Layer: load (may import base, and its own layer).

The rules are a pandera schema built from the codebook (:func:`build_schema`):

* every codebook data column is present, and no other column;
* single-choice cells hold one of the variable's codes, multi-choice cells 0 or 1;
* number cells are numbers within the variable's ``range``;
* ``respondent`` is a whole number, unique; ``rolle`` is never blank;
* a respondent whose ``rolle`` is not in a variable's ``asked`` leaves it blank;
* a multi-choice question has at most ``max_choices`` ticks.

``validate(raw, lazy=True)`` collects every failure; :func:`problems_from` turns pandera's
``failure_cases`` into :class:`Problem` lines with the row number the user sees.
:func:`read_and_validate` is the public entry point; it never writes anything.

Files are checked batch by batch with the same rules, vectorised over columns
(:class:`lpj_report.columns.Checker`); only the rows that break a rule are rebuilt as a raw
table and run through the pandera schema, which names every problem. At most
:data:`lpj_report.columns.MAX_NAMED_ROWS` rows with problems are named; the rest are counted.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from lpj_report import editrules
from lpj_report.cell_codes import GROUPED
from lpj_report.cli_errors import DataError, Problem, run_guarded, show_value
from lpj_report.codebook import Codebook, Variable, default_codebook, load_codebook
from lpj_report.columns import MAX_NAMED_ROWS, Checker
from lpj_report.load import open_source
from lpj_report.sources import Source, UseCellReader, source_from_raw

__all__ = ["DataError", "Problem", "build_schema", "check_source", "problems_from",
           "read_and_validate", "validate", "validate_files"]

ID_COLUMN = "respondent"
ROLE_COLUMN = "rolle"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _column_checks(var: Variable) -> list[pa.Check]:
    """Element checks for one data column; ``error`` is a tag that :func:`_describe` explains."""
    if var.kind == "single":
        codes = [c.code for c in var.codes]
        return [pa.Check(lambda s, codes=codes: s.isin(codes), error=f"code:{var.name}")]
    if var.kind == "multi":
        return [pa.Check(lambda s: s.isin([0, 1]), error=f"multi:{var.name}")]
    checks = [pa.Check(lambda s: s.map(_is_number).astype(bool), error=f"number:{var.name}")]
    if var.range is not None:
        lo, hi = var.range
        checks.append(pa.Check(
            lambda s, lo=lo, hi=hi: s.map(lambda v: not _is_number(v) or lo <= v <= hi)
            .astype(bool), error=f"range:{var.name}"))
    if var.name == ID_COLUMN:
        checks.append(pa.Check(
            lambda s: s.map(lambda v: not _is_number(v) or isinstance(v, int)).astype(bool),
            error=f"integer:{var.name}"))
    return checks


def _asked_check(codebook: Codebook, asked_by_column: dict[str, tuple[str, ...]]) -> pa.Check:
    """A cell must be blank when the respondent's role is not in its variable's ``asked``."""
    role_codes = {r.key: r.code for r in codebook.roles}
    allowed = {col: {role_codes[k] for k in asked} for col, asked in asked_by_column.items()}

    def check(df: pd.DataFrame) -> pd.DataFrame:
        ok = np.ones(df.shape, dtype=bool)
        if ROLE_COLUMN in df.columns:
            role = df[ROLE_COLUMN]
            known = role.isin(list(role_codes.values())).to_numpy()
            for col, codes in allowed.items():
                if col in df.columns:
                    not_asked = known & ~role.isin(list(codes)).to_numpy()
                    ok[:, df.columns.get_loc(col)] = ~not_asked | df[col].isna().to_numpy()
        return pd.DataFrame(ok, index=df.index, columns=df.columns)

    return pa.Check(check, error="asked", ignore_na=False)


def _asked_if_check(codebook: Codebook, questions: list[Variable]) -> pa.Check:
    """A filter question's cells must be blank unless the named answer was given."""

    def check(df: pd.DataFrame) -> pd.DataFrame:
        ok = np.ones(df.shape, dtype=bool)
        for var in questions:
            asked = np.ones(len(df), dtype=bool)
            for name, keys in var.asked_if.items():
                codes = [codebook[name].code_of(k) for k in keys]
                asked &= df[name].isin(codes).to_numpy() if name in df.columns else True
            for col in var.columns:
                if col in df.columns:
                    ok[:, df.columns.get_loc(col)] = asked | df[col].isna().to_numpy()
        return pd.DataFrame(ok, index=df.index, columns=df.columns)

    return pa.Check(check, error="asked_if", ignore_na=False)


def _max_check(questions: list[Variable]) -> pa.Check:
    """No more than ``max_choices`` ticks over each multi question's option columns."""

    def check(df: pd.DataFrame) -> pd.DataFrame:
        ok = np.ones(df.shape, dtype=bool)
        for var in questions:
            cols = [c for c in var.columns if c in df.columns]
            if not cols:
                continue
            ticked = (df[cols] == 1).to_numpy()
            over = ticked.sum(axis=1) > var.max_choices
            for i, col in enumerate(cols):
                ok[:, df.columns.get_loc(col)] = ~(over & ticked[:, i])
        return pd.DataFrame(ok, index=df.index, columns=df.columns)

    return pa.Check(check, error="max", ignore_na=False)


def build_schema(codebook: Codebook) -> pa.DataFrameSchema:
    """The pandera schema for the raw table of ``codebook``'s data columns."""
    columns = {}
    for var in codebook.questions:
        for col in var.columns:
            columns[col] = pa.Column(None, checks=_column_checks(var), required=not var.optional,
                                     nullable=var.name not in (ROLE_COLUMN, ID_COLUMN),
                                     unique=var.name == ID_COLUMN)
    # Cross-column rules: one wide check each (pandera's cost grows with every wide check).
    all_roles = {r.key for r in codebook.roles}
    asked = {col: var.asked for var in codebook.questions for col in var.columns
             if set(var.asked) != all_roles and var.name != ROLE_COLUMN}
    limited = [v for v in codebook.questions if v.kind == "multi" and v.max_choices]
    filtered = [v for v in codebook.questions if v.asked_if]
    wide = ([_asked_check(codebook, asked)] if asked else []) + (
        [_max_check(limited)] if limited else []) + (
        [_asked_if_check(codebook, filtered)] if filtered else [])
    return pa.DataFrameSchema(columns, checks=wide, strict=True, name="responses")


def _codes_text(var: Variable) -> str:
    return ", ".join(f"{c.code} {c.label}" for c in var.codes)


def _range_text(var: Variable) -> str:
    unit = f" ({var.unit})" if var.unit else ""
    if var.range is None:
        return f"a number{unit}"
    lo, hi = (show_value(x) for x in var.range)
    return f"a number from {lo} to {hi}{unit}"


def _describe(tag: str, column: str, value: object, row: object, raw: pd.DataFrame,
              codebook: Codebook, owner: dict[str, Variable]) -> str:
    """What was expected in ``column`` (plain English, with codes and Danish labels)."""
    var = owner.get(column)
    kind, _, _name = tag.partition(":")
    if var is None:
        return tag
    if tag == "not_nullable" and var.name == ID_COLUMN:
        return "a respondent number (every row needs one)"
    if tag == "not_nullable":
        return f"the respondent's role, one of {_codes_text(var)}"
    grouped = isinstance(value, str) and GROUPED.fullmatch(value) is not None
    hint = (f" ({value!r} has a thousands separator: write the code as a whole number without "
            "separators)") if grouped else ""
    if kind == "code":
        text = f"one of {_codes_text(var)}" + hint
        labelled = [c for c in var.codes if str(value).strip().lower() == c.label.lower()]
        if labelled:
            text += f" ({value!r} is the label of code {labelled[0].code}: write codes, not labels)"
        return text
    if kind == "multi":
        return "1 (ticked), 0 (not ticked) or blank" + hint
    if kind in ("number", "range"):
        return _range_text(var) + hint
    if kind == "integer":
        return "a whole number"
    if tag == "field_uniqueness":
        rows = [str(r) for r in raw.index[raw[column] == value] if r != row]
        more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
        kind_word = raw.attrs.get("row_kind", "row")
        return f"each respondent number once (also on {kind_word} {', '.join(rows[:5])}{more})"
    if kind == "asked":
        roles = {r.code: r.label for r in codebook.roles}
        who = " and ".join(r.label for r in codebook.roles if r.key in var.asked)
        this = roles.get(raw.at[row, ROLE_COLUMN], "?")
        return f"blank: only {who} are asked this question, and this respondent is {this}"
    if kind == "asked_if":
        cond = " or ".join(f"{name} = {', '.join(str(codebook[name].code_of(k)) for k in keys)}"
                           for name, keys in var.asked_if.items())
        return f"blank: the question is only asked when {cond}"
    return tag


def problems_from(failure_cases: pd.DataFrame, raw: pd.DataFrame,
                  codebook: Codebook) -> list[Problem]:
    """Every failure in pandera's ``failure_cases`` as a :class:`Problem`, sorted by row."""
    file = raw.attrs.get("source", "data")
    row_kind = raw.attrs.get("row_kind", "row")
    owner = {col: var for var in codebook.questions for col in var.columns}
    problems: list[Problem] = []
    ticks: dict[tuple[object, str], list[str]] = {}
    for rec in failure_cases.itertuples(index=False):
        tag, case, row = str(rec.check), rec.failure_case, rec.index
        if tag == "column_in_schema":
            close = difflib.get_close_matches(str(case), list(owner), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(Problem(file, f"not in the codebook{hint}; expected only codebook "
                                          "columns", column=str(case)))
            continue
        if tag == "column_in_dataframe":
            label = owner[case].label if case in owner else ""
            problems.append(Problem(file, f"missing from the file; expected this column "
                                          f"({label})", column=str(case)))
            continue
        cells = case.items() if isinstance(case, dict) else [(rec.column, case)]
        for column, value in cells:
            if column not in owner:
                # a check that could not run (pandera reports its error on the schema)
                problems.append(Problem(file, f"the check {tag!r} could not be run: {case}"))
                break
            if tag == "max":
                ticks.setdefault((row, owner[column].name), []).append(column)
                continue
            expected = _describe(tag, column, value, row, raw, codebook, owner)
            problems.append(Problem(file, expected, row, row_kind, column, show_value(value)))
    for (row, name), cols in ticks.items():
        var = codebook[name]
        problems.append(Problem(
            file, f"at most {var.max_choices} ticks (højst {var.max_choices} svar)", row,
            row_kind, name, f"{len(cols)} ticks ({', '.join(cols)})"))
    order = {c: i for i, c in enumerate(list(raw.columns) + list(owner))}
    problems.sort(key=lambda p: (p.row is not None, p.row or 0,
                                 order.get(p.column or "", -1), p.expected))
    return list(dict.fromkeys(problems))


def _schema_problems(raw: pd.DataFrame, codebook: Codebook) -> list[Problem]:
    try:
        build_schema(codebook).validate(raw, lazy=True)
    except pa.errors.SchemaErrors as err:
        return problems_from(err.failure_cases, raw, codebook)
    return []


def check_source(source: Source, codebook: Codebook,
                 raw: pd.DataFrame | None = None) -> pd.DataFrame:
    """Check every batch of ``source``; the typed table, or :class:`DataError` with every
    problem (the rows that break a rule are named by the pandera schema; with ``raw``, its
    own rows are used instead of rebuilt ones)."""
    checker = Checker(codebook, source.names)
    for batch, n in source.batches:
        checker.add(batch, n)
    if source.problems:
        raise DataError(source.problems)
    if not checker.rows:
        raise DataError.single(source.name, "the file has a header but no data rows")
    if checker.has_problems:
        positions, unnamed = checker.named_rows()
        if raw is not None:
            rows = raw.iloc[positions]
        else:
            rows = pd.DataFrame({c: pd.Series(v, dtype=object)
                                 for c, v in checker.raw_rows(positions).items()})
            rows.index = pd.Index(source.row_numbers(positions), name=source.kind)
            rows.attrs.update(source=source.name, row_kind=source.kind)
        problems = _schema_problems(rows, codebook)
        if unnamed:
            last = rows.index[-1] if len(rows) else "?"
            more, first = (f"{n:,}".replace(",", ".") for n in (unnamed, MAX_NAMED_ROWS))
            problems.insert(0, Problem(  # first, so that the capped report shows it
                source.name, f"{more} more rows with problems after {source.kind} {last} are "
                             f"not listed (the first {first} are); fix these and check again"))
        if problems:
            raise DataError(problems)
    return checker.typed_frame()


def validate(raw: pd.DataFrame, codebook: Codebook) -> None:
    """Check ``raw`` against the codebook; raise :class:`DataError` listing every problem."""
    name = raw.attrs.get("source", "data")
    source = source_from_raw(raw, name, raw.attrs.get("row_kind", "row"))
    check_source(source, codebook, raw=raw)


def read_and_validate(path: str | Path, codebook: Codebook | None = None) -> pd.DataFrame:
    """Read, validate and type a responses file (see :func:`lpj_report.load.typed_table`).

    Raises :class:`DataError` with every problem found. Nothing is written.
    """
    codebook = codebook or default_codebook()
    try:
        return check_source(open_source(path, codebook), codebook)
    except UseCellReader:
        return check_source(open_source(path, codebook, cell_by_cell=True), codebook)
    except MemoryError:
        raise DataError.single(Path(path).name, "not enough memory to read and check this "
                                                "file; expected a smaller file") from None


def read_checked(path: str | Path, codebook: Codebook, override: str | None = None,
                 stream=None) -> tuple[pd.DataFrame, list[editrules.Violation]]:
    """Read a responses file, check it against the codebook schema and the edit rules, and
    return the typed table with the (warning) violations. Raises :class:`DataError` on a
    schema problem or an edit rule of severity ``error``; nothing is written.

    The rules are checked on the typed table (single-choice answers as keys), so the fast
    reader of this module serves; only the rows with a violation are turned
    into the row numbers the user sees."""
    try:
        source = open_source(path, codebook)
        typed = check_source(source, codebook)
    except UseCellReader:
        source = open_source(path, codebook, cell_by_cell=True)
        typed = check_source(source, codebook)
    found = editrules.check(typed, codebook, editrules.load_rules(codebook), codes=False)
    if found:
        shown = source.row_numbers([int(v.row) for v in found])
        found = [editrules.Violation(v.rule, row, v.respondent, v.values)
                 for v, row in zip(found, shown, strict=True)]
    editrules.report(found, source.name, source.kind, override, stream)
    return typed, found


def validate_files(paths: list[Path], codebook: Codebook, edit_rules: str | None = None) -> int:
    """Check every file (all of them, whatever the first gives) against the codebook and the
    edit rules (``edit_rules``: warning | error overrides the rules' own severity), print each
    result and a summary; 0 when every file passed, 2 otherwise."""
    none = not editrules.load_rules(codebook)
    failed = 0
    for path in paths:
        try:
            typed, warnings = read_checked(path, codebook, edit_rules)
        except DataError as err:
            failed += 1
            print(err.report(), file=sys.stderr)
            continue
        rules = (f"; {len(warnings)} edit-rule warning(s) above" if warnings
                 else ", no edit rules to check (no rules.yaml beside the codebook)" if none
                 else ", edit rules hold")
        print(f"{Path(path).name}: {len(typed)} respondents, codebook checks passed{rules}")
    if len(paths) > 1:
        ok = len(paths) - failed
        print(f"{len(paths)} files checked: {ok} passed, {failed} with problems",
              file=sys.stderr if failed else sys.stdout)
    return 2 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """``python -m lpj_report.validate [--codebook DIR] FILE…``: exit 2 on problems."""
    parser = argparse.ArgumentParser(
        prog="python -m lpj_report.validate",
        description="Check respondent data files (nothing is written).")
    parser.add_argument("--codebook", type=Path, help="codebook folder (default: data/codebook)")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)

    def check_all() -> int:
        codebook = load_codebook(args.codebook) if args.codebook else default_codebook()
        return validate_files(args.files, codebook)

    return run_guarded(check_all)


if __name__ == "__main__":
    sys.exit(main())
