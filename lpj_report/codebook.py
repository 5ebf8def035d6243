"""The codebook: every variable the publication reports on, read from ``data/codebook/*.yaml``.

Layer: load (may import base, and its own layer).

The codebook is the single source of variable names, Danish wordings, answer codes (in
questionnaire order) and who was asked. Derived variables are documented in
``data/codebook/derived.yaml``; their rules are implemented in :mod:`lpj_report.derive`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from lpj_report.cli_errors import InputError
from lpj_report.paths import DATA_DIR
from lpj_report.readers import mapping, number, read_yaml, sequence, text, whole_number

KINDS = ("single", "multi", "number")
_NAME = re.compile(r"[a-z][a-z0-9_]*")


class CodebookError(InputError):
    """The codebook files themselves are inconsistent."""


@dataclass(frozen=True)
class Code:
    """One answer code (single choice) or option (multiple choice)."""

    code: int
    key: str
    label: str


@dataclass(frozen=True)
class Variable:
    """One question or derived variable."""

    name: str
    label: str
    kind: str
    asked: tuple[str, ...] = ()
    asked_if: dict[str, tuple[str, ...]] = field(default_factory=dict)
    section: str = ""
    codes: tuple[Code, ...] = ()
    max_choices: int | None = None
    unit: str | None = None
    range: tuple[float, float] | None = None
    derived: bool = False
    inputs: tuple[str, ...] = ()
    rule: str = ""
    optional: bool = False      # a data file may leave the column out (e.g. a cluster id)

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.codes]

    @property
    def columns(self) -> list[str]:
        """Data-file columns: the name itself, or ``name_<code>`` per option of a multi question."""
        if self.kind == "multi":
            return [f"{self.name}_{c.code}" for c in self.codes]
        return [self.name]

    def code_of(self, key: str) -> int:
        for c in self.codes:
            if c.key == key:
                return c.code
        raise KeyError(f"{self.name}: no category {key!r} (valid: {', '.join(self.keys)})")

    def key_of(self, code: int) -> str:
        for c in self.codes:
            if c.code == code:
                return c.key
        raise KeyError(f"{self.name}: no code {code!r}")

    def label_of(self, key: str) -> str:
        for c in self.codes:
            if c.key == key:
                return c.label
        raise KeyError(f"{self.name}: no category {key!r}")


@dataclass(frozen=True)
class Codebook:
    version: str
    title: str
    roles: tuple[Code, ...]
    variables: dict[str, Variable] = field(default_factory=dict)
    #: the folder it was read from; its rules.yaml holds the edit rules (lpj_report.editrules)
    folder: Path | None = field(default=None, compare=False)

    def __getitem__(self, name: str) -> Variable:
        try:
            return self.variables[name]
        except KeyError:
            raise KeyError(f"unknown variable {name!r} (not in the codebook)") from None

    def __contains__(self, name: str) -> bool:
        return name in self.variables

    @property
    def questions(self) -> list[Variable]:
        """Variables that come from the data file (not derived), in codebook order."""
        return [v for v in self.variables.values() if not v.derived]

    @property
    def derived(self) -> list[Variable]:
        return [v for v in self.variables.values() if v.derived]

    @property
    def data_columns(self) -> list[str]:
        return [c for v in self.questions for c in v.columns]


def _parse_codes(name: str, raw: Any, source: str = "codebook") -> tuple[Code, ...]:
    where = f"{name}.codes"
    codes = []
    for i, c in enumerate(sequence(raw, source, where, "a list of {code, key, label}")):
        at = f"{where}[{i}]"
        c = mapping(c, source, at, "a mapping {code: <whole number>, key: <name>, label: <text>}",
                    empty_ok=False)
        code = whole_number(c.get("code"), source, f"{at}.code", "a whole number (the code)")
        key = c.get("key")
        if not isinstance(key, str) or not _NAME.fullmatch(key):
            raise CodebookError.at(source, "a key of lower-case letters, digits and _",
                                   key=f"{at}.key", value=key)
        label = c.get("label")
        if not isinstance(label, str | int | float) or isinstance(label, bool):
            raise CodebookError.at(source, "the label as text", key=f"{at}.label", value=label)
        codes.append(Code(code, key, str(label)))
    keys = [c.key for c in codes]
    nums = [c.code for c in codes]
    if len(set(keys)) != len(keys) or len(set(nums)) != len(nums):
        raise CodebookError(f"{source}: {name}: duplicate code or key")
    return tuple(codes)


def _names(value: Any, source: str, key: str, expected: str) -> tuple[str, ...]:
    out = []
    for item in sequence(value, source, key, expected):
        if not isinstance(item, str):
            raise CodebookError.at(source, expected, key=key, value=item)
        out.append(item)
    return tuple(out)


def _parse_variable(raw: Any, *, derived: bool, source: Path) -> Variable:
    file = source.name
    raw = mapping(raw, file, "variables", "a mapping per variable (name, label, kind, …)",
                  empty_ok=False)
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise CodebookError(f"{file}: bad variable name {name!r}")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise CodebookError(f"{file}: {name}: kind must be one of {KINDS}, not {kind!r}")
    codes = _parse_codes(name, raw.get("codes") or raw.get("options"), file)
    if kind in ("single", "multi") and not codes:
        raise CodebookError(f"{file}: {name}: a {kind} variable needs codes/options")
    rng = raw.get("range")
    if rng is not None:
        if not isinstance(rng, list) or len(rng) != 2:
            raise CodebookError.at(file, "[lowest, highest]", key=f"{name}.range", value=rng)
        lo, hi = (number(v, file, f"{name}.range", "[lowest, highest] as numbers") for v in rng)
        if lo > hi:
            raise CodebookError.at(file, "[lowest, highest] with lowest ≤ highest",
                                   key=f"{name}.range", value=rng)
        rng = (lo, hi)
    max_choices = raw.get("max_choices")
    if max_choices is not None:
        max_choices = whole_number(max_choices, file, f"{name}.max_choices",
                                   "a whole number above 0, or null", minimum=1)
    asked_if = {}
    for cond, keys in mapping(raw.get("asked_if"), file, f"{name}.asked_if",
                              "a mapping of question → answer keys").items():
        asked_if[str(cond)] = _names(keys, file, f"{name}.asked_if.{cond}", "a list of keys")
    unit = raw.get("unit")
    return Variable(
        name=name,
        label=str(raw.get("label", "")),
        kind=kind,
        asked=_names(raw.get("asked"), file, f"{name}.asked", "a list of roles"),
        asked_if=asked_if,
        section=str(raw.get("section", "")),
        codes=codes,
        max_choices=max_choices,
        unit=None if unit is None else text(unit, file, f"{name}.unit", "the unit as text"),
        range=rng,
        derived=derived,
        inputs=_names(raw.get("inputs"), file, f"{name}.inputs", "a list of variable names"),
        rule=str(raw.get("rule", "")),
        optional=bool(raw.get("optional", False)),
    )


def load_codebook(folder: Path | None = None) -> Codebook:
    """Read and check every ``*.yaml`` in the codebook folder (name order)."""
    folder = folder or DATA_DIR / "codebook"
    meta: dict = {}
    variables: dict[str, Variable] = {}
    for path in sorted(folder.glob("*.yaml")):
        doc = mapping(read_yaml(path, "codebook file"), path.name, "(top level)",
                      "a mapping with 'codebook', 'variables' or 'derived'")
        meta.update(mapping(doc.get("codebook"), path.name, "codebook",
                            "a mapping (version, title, roles)"))
        for key, derived in (("variables", False), ("derived", True)):
            for raw in sequence(doc.get(key), path.name, key, "a list of variables"):
                var = _parse_variable(raw, derived=derived, source=path)
                if var.name in variables:
                    raise CodebookError(f"{path.name}: variable {var.name!r} defined twice")
                variables[var.name] = var
    roles = _parse_codes("roles", meta.get("roles"))
    role_keys = {r.key for r in roles}
    for var in variables.values():
        for name, keys in var.asked_if.items():
            cond = variables.get(name)
            if cond is None or cond.kind != "single" or set(keys) - set(cond.keys):
                raise CodebookError(f"{var.name}: asked_if refers to {name} {list(keys)}, "
                                    "which is not a single-choice question with those answers")
        unknown = set(var.asked) - role_keys
        if unknown:
            raise CodebookError(f"{var.name}: unknown role(s) in asked: {sorted(unknown)}")
        for name in var.inputs:
            if name not in variables:
                raise CodebookError(f"{var.name}: input {name!r} is not in the codebook")
    return Codebook(
        version=str(meta.get("version", "")),
        title=str(meta.get("title", "")),
        roles=roles,
        variables=variables,
        folder=folder,
    )


@cache
def default_codebook() -> Codebook:
    return load_codebook()
