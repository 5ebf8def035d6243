"""The codebook: every variable the publication reports on, read from ``data/codebook/*.yaml``.

The codebook is the single source of variable names, Danish wordings, answer codes (in
questionnaire order) and who was asked. Derived variables are documented in
``data/codebook/derived.yaml``; their rules are implemented in :mod:`lpj_report.derive`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from lpj_report.paths import DATA_DIR

KINDS = ("single", "multi", "number")


class CodebookError(ValueError):
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


def _parse_codes(name: str, raw: list | None) -> tuple[Code, ...]:
    codes = tuple(Code(int(c["code"]), str(c["key"]), str(c["label"])) for c in raw or [])
    keys = [c.key for c in codes]
    nums = [c.code for c in codes]
    if len(set(keys)) != len(keys) or len(set(nums)) != len(nums):
        raise CodebookError(f"{name}: duplicate code or key")
    return codes


def _parse_variable(raw: dict, *, derived: bool, source: Path) -> Variable:
    name = raw.get("name")
    if not name or not str(name).replace("_", "").isalnum() or name != name.lower():
        raise CodebookError(f"{source.name}: bad variable name {name!r}")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise CodebookError(f"{source.name}: {name}: kind must be one of {KINDS}, not {kind!r}")
    codes = _parse_codes(name, raw.get("codes") or raw.get("options"))
    if kind in ("single", "multi") and not codes:
        raise CodebookError(f"{source.name}: {name}: a {kind} variable needs codes/options")
    rng = raw.get("range")
    return Variable(
        name=name,
        label=str(raw.get("label", "")),
        kind=kind,
        asked=tuple(raw.get("asked") or ()),
        asked_if={k: tuple(v) for k, v in (raw.get("asked_if") or {}).items()},
        section=str(raw.get("section", "")),
        codes=codes,
        max_choices=raw.get("max_choices"),
        unit=raw.get("unit"),
        range=(float(rng[0]), float(rng[1])) if rng else None,
        derived=derived,
        inputs=tuple(raw.get("inputs") or ()),
        rule=str(raw.get("rule", "")),
        optional=bool(raw.get("optional", False)),
    )


def load_codebook(folder: Path | None = None) -> Codebook:
    """Read and check every ``*.yaml`` in the codebook folder (name order)."""
    folder = folder or DATA_DIR / "codebook"
    meta: dict = {}
    variables: dict[str, Variable] = {}
    for path in sorted(folder.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        meta.update(doc.get("codebook") or {})
        for key, derived in (("variables", False), ("derived", True)):
            for raw in doc.get(key) or []:
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
    )


@cache
def default_codebook() -> Codebook:
    return load_codebook()
