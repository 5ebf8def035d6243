"""Strict readers for the files lpj reads besides respondent data: YAML and figures.json.

Layer: base (imports no other layer).

Every problem becomes one :class:`InputError` naming the file, the line or key, the value and
what was expected — never a traceback:

* :func:`read_yaml` — the one way project YAML is read (codebook, figures, populations,
  published targets, waves, disclosure settings): size limit, UTF-8, the C safe loader when
  installed (``yaml.CSafeLoader``), no tags beyond plain YAML (``!!python/…`` is refused),
  no duplicate keys, at most ``LPJ_MAX_YAML_ALIASES`` aliases and ``LPJ_MAX_YAML_NODES``
  values once aliases are expanded (an "alias bomb" is refused, not expanded).
* :func:`read_figures_json` — a ``figures.json`` written by ``lpj build`` / ``lpj figures``,
  checked row by row before ``lpj diff`` uses it.
* small checkers (:func:`mapping`, :func:`whole_number`, …) for the values inside.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import yaml

from lpj_report.cli_errors import InputError
from lpj_report.limits import limit, size_text

__all__ = ["InputError", "mapping", "read_figures_json", "read_text", "read_yaml", "sequence",
           "text", "whole_number"]

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_Loader):  # type: ignore[misc, valid-type]
    """The safe loader, refusing a key that appears twice in one mapping."""


def _construct_mapping(loader, node, deep=False):
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            first = seen.get(key)
        except TypeError:
            continue  # unhashable: the base constructor reports it
        line = key_node.start_mark.line + 1
        if first is not None:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} appears twice (lines {first} and {line}); "
                            "expected each key once", key_node.start_mark)
        seen[key] = line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_text(path: Path, what: str, most: int) -> str:
    """A file as UTF-8 text (BOM allowed), refused above ``most`` bytes or when not UTF-8."""
    name = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError.at(name, f"the {what} does not exist") from None
    except OSError as err:
        raise InputError.at(name, f"cannot read the {what}: {err.strerror or err}") from None
    if not path.is_file():
        raise InputError.at(name, f"expected a file ({what}), not a folder")
    if size > most:
        raise InputError.at(name, f"the {what} is {size_text(size)}; expected at most "
                                  f"{size_text(most)}")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError.at(name, f"cannot read the {what}: {err.strerror or err}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise InputError.at(name, f"cannot decode byte 0x{data[err.start]:02x}; expected UTF-8 "
                                  "text (save the file as UTF-8)", line=line) from None


def _yaml_problem(err: yaml.YAMLError) -> tuple[int | None, str]:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(err, "problem", None) or str(err)
    if isinstance(err, yaml.constructor.ConstructorError) and "constructor for the tag" in problem:
        tag = problem.split("tag", 1)[1].strip(" '")
        shown = tag.replace("tag:yaml.org,2002:", "!!")
        return line, (f"the tag {shown} is not allowed; expected plain YAML (text, numbers, "
                      "lists and mappings)")
    if "appears twice" in problem:
        return line, problem
    if isinstance(err, yaml.reader.ReaderError):
        return None, f"unreadable character {err.character!r}; expected printable text"
    return line, f"not valid YAML: {problem}"


def _expanded_size(doc: Any, most_nodes: int, most_aliases: int, name: str) -> None:
    """Refuse a document whose aliases repeat too much (sizes memoised per shared object)."""
    sizes: dict[int, int] = {}
    aliases = 0
    stack: list[tuple[Any, bool]] = [(doc, False)]
    while stack:
        obj, done = stack.pop()
        if not isinstance(obj, dict | list):
            continue
        key = id(obj)
        if done:
            children = obj.values() if isinstance(obj, dict) else obj
            total = 1 + sum(sizes.get(id(c), 1) for c in children)
            sizes[key] = total
            if total > most_nodes:
                raise InputError.at(name, f"more than {most_nodes:,} values once its aliases are "
                                          "expanded; expected a plain file (is it an alias "
                                          "bomb?)".replace(",", "."))
            continue
        if key in sizes:
            aliases += 1
            if aliases > most_aliases:
                raise InputError.at(name, f"more than {most_aliases} aliases; expected at most "
                                          f"{most_aliases}")
            continue
        sizes[key] = 0
        stack.append((obj, True))
        children = obj.values() if isinstance(obj, dict) else obj
        stack.extend((c, False) for c in children)


def parse_yaml(source: str, name: str, line_offset: int = 0) -> Any:
    """A YAML document given as text (a chapter's front matter or block options), read like
    :func:`read_yaml`; ``name`` and ``line_offset`` place an error in its file."""
    try:
        doc = yaml.load(source, Loader=_StrictLoader)  # noqa: S506 — a safe loader
    except yaml.YAMLError as err:
        line, problem = _yaml_problem(err)
        raise InputError.at(name, problem, line=None if line is None else line + line_offset) \
            from None
    except RecursionError:
        raise InputError.at(name, "nested too deeply; expected plain YAML") from None
    _expanded_size(doc, limit("LPJ_MAX_YAML_NODES"), limit("LPJ_MAX_YAML_ALIASES"), name)
    return doc


def read_yaml(path: Path, what: str = "YAML file") -> Any:
    """The document of a YAML file (``None`` when it is empty), read strictly (module docstring)."""
    path = Path(path)
    name = str(path)
    source = read_text(path, what, limit("LPJ_MAX_YAML_KB") << 10)
    try:
        doc = yaml.load(source, Loader=_StrictLoader)  # noqa: S506 — a safe loader
    except yaml.YAMLError as err:
        line, problem = _yaml_problem(err)
        raise InputError.at(name, problem, line=line) from None
    except RecursionError:
        raise InputError.at(name, "nested too deeply; expected a plain file") from None
    _expanded_size(doc, limit("LPJ_MAX_YAML_NODES"), limit("LPJ_MAX_YAML_ALIASES"), name)
    return doc


# ---------------------------------------------------------------------------- value checks


def mapping(value: Any, file: str, key: str, expected: str, *, empty_ok: bool = True) -> dict:
    """``value`` as a mapping (``None`` → ``{}`` when ``empty_ok``)."""
    if value is None and empty_ok:
        return {}
    if not isinstance(value, dict):
        raise InputError.at(file, expected, key=key, value=value)
    return value


def sequence(value: Any, file: str, key: str, expected: str) -> list:
    """``value`` as a list (``None`` → ``[]``)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError.at(file, expected, key=key, value=value)
    return value


def text(value: Any, file: str, key: str, expected: str = "text") -> str:
    """``value`` as text (a YAML string; numbers are refused where text is expected)."""
    if not isinstance(value, str):
        raise InputError.at(file, expected, key=key, value=value)
    return value


def whole_number(value: Any, file: str, key: str, expected: str, *,
                 minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an ``int`` (not a bool, not text, not a fraction) within the bounds."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError.at(file, expected, key=key, value=value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise InputError.at(file, expected, key=key, value=value)
    return value


def number(value: Any, file: str, key: str, expected: str) -> float:
    """``value`` as a finite number (int or float, not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError.at(file, expected, key=key, value=value)
    return float(value)


# ---------------------------------------------------------------------------- figures.json

_ROW_TEXT = ("figure", "group", "category")


def _json_object(pairs: list[tuple[str, Any]]) -> dict:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def _no_constant(text_: str) -> None:
    raise ValueError(f"{text_} is not a number in JSON")


def read_figures_json(path: Path) -> dict[str, Any]:
    """A ``figures.json`` (``meta``, ``figures``, ``rows``), every row checked.

    Each row needs ``figure``, ``group``, ``category`` (text), ``base`` (a whole number ≥ 0,
    also written as ``5.0``, or null), ``numerator``, ``value`` (numbers or null), ``unit``
    (text) and ``decimals`` (a whole number ≥ 0); ``ci_low``/``ci_high`` are numbers or null
    and ``suppressed`` true, false or null when present.
    """
    path = Path(path)
    name = str(path)
    source = read_text(path, "figures.json", limit("LPJ_MAX_JSON_MB") << 20)
    if not source.strip():
        raise InputError.at(name, "the file is empty; expected a figures.json written by "
                                  "lpj build or lpj figures")
    try:
        doc = json.loads(source, object_pairs_hook=_json_object, parse_constant=_no_constant)
    except json.JSONDecodeError as err:
        raise InputError.at(name, f"not valid JSON: {err.msg} (column {err.colno})",
                            line=err.lineno) from None
    except (ValueError, RecursionError) as err:
        raise InputError.at(name, f"not usable JSON: {err}") from None
    expected = "a JSON object with 'meta', 'figures' and 'rows' (written by lpj build)"
    if not isinstance(doc, dict):
        raise InputError.at(name, expected, value=type(doc).__name__)
    rows = doc.get("rows")
    if not isinstance(rows, list):
        raise InputError.at(name, "a list of rows (one object per number)", key="rows",
                            value=rows)
    mapping(doc.get("meta"), name, "meta", "an object of build facts")
    for i, fig in enumerate(sequence(doc.get("figures"), name, "figures", "a list of figures")):
        if not isinstance(fig, dict) or not isinstance(fig.get("id"), str):
            raise InputError.at(name, "an object with the figure's 'id' (text)",
                                key=f"figures[{i}]", value=fig)
    for i, row in enumerate(rows):
        _check_row(row, name, f"rows[{i}]")
    return doc


def _whole(value: Any, name: str, key: str, expected: str, maximum: float = math.inf) -> None:
    """A count as JSON writes it: ``5`` or ``5.0`` (a table with gaps holds floats)."""
    number(value, name, key, expected)
    if not float(value).is_integer() or not 0 <= value <= maximum:
        raise InputError.at(name, expected, key=key, value=value)


def _check_row(row: Any, name: str, where: str) -> None:
    if not isinstance(row, dict):
        raise InputError.at(name, "an object (one number of the report)", key=where, value=row)
    for key in _ROW_TEXT:
        text(row.get(key), name, f"{where}.{key}", "text")
    text(row.get("unit"), name, f"{where}.unit", "the unit as text (pct, years, count)")
    _whole(row.get("decimals"), name, f"{where}.decimals", "a whole number from 0 to 10", 10)
    base = row.get("base")
    if base is not None:
        _whole(base, name, f"{where}.base", "a whole number ≥ 0 or null")
    for key in ("numerator", "value", "ci_low", "ci_high"):
        value = row.get(key)
        if value is not None:
            number(value, name, f"{where}.{key}", "a number or null")
    if row.get("suppressed") not in (None, True, False):
        raise InputError.at(name, "true, false or null", key=f"{where}.suppressed",
                            value=row.get("suppressed"))
