"""A survey wave: its metadata (``data/waves/<year>/wave.yaml``) and its typed, derived data.

Layer: derive (may import base and load, and its own layer).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from lpj_report.cli_errors import InputError
from lpj_report.codebook import Codebook
from lpj_report.derive import apply_derived
from lpj_report.paths import WAVES_DIR
from lpj_report.readers import mapping, read_yaml, text, whole_number

STATUSES = ("reconstruction", "fictitious", "real")
SENT = ("a mapping of role → questionnaires sent, each a whole number above 0, e.g. "
        "{medarbejder: 1924, tillidsrepraesentant: 200, leder: 125}")


class WaveError(InputError):
    """The wave folder or its metadata is missing or inconsistent."""


@dataclass(frozen=True)
class Wave:
    year: int
    folder: Path
    meta: dict[str, Any]

    @property
    def status(self) -> str:
        return self.meta.get("status", "real")

    @property
    def responses_path(self) -> Path:
        return self.folder / self.meta.get("responses", "responses.csv")


def available_waves() -> list[int]:
    if not WAVES_DIR.is_dir():
        return []
    return sorted(int(p.name) for p in WAVES_DIR.iterdir()
                  if p.name.isascii() and p.name.isdigit() and p.is_dir()
                  and (p / "wave.yaml").exists())


def load_wave(year: int | str, folder: Path | None = None) -> Wave:
    """The wave's metadata from ``wave.yaml``, checked (see :func:`check_meta`)."""
    folder = folder or WAVES_DIR / str(year)
    path = folder / "wave.yaml"
    if not path.exists():
        valid = ", ".join(map(str, available_waves())) or "none"
        raise WaveError(f"no survey wave {year}: {path} does not exist (available: {valid})")
    doc = mapping(read_yaml(path, "wave file"), str(path), "(top level)",
                  "a mapping with the key 'wave'")
    meta = mapping(doc.get("wave"), str(path), "wave",
                   "a mapping of the wave's facts (year, status, sent, …)")
    check_meta(meta, str(path))
    return Wave(int(meta["year"]), folder, meta)


def check_meta(meta: dict[str, Any], file: str) -> None:
    """The facts of ``wave.yaml`` a build relies on, each of the right kind.

    ``year`` a whole number; ``status`` one of :data:`STATUSES`; ``sent`` a mapping of role →
    questionnaires sent (a whole number above 0); ``returned`` (optional) the same, at most
    ``sent`` per role; ``responses`` a file name; ``municipalities`` a mapping of text.
    """
    for key in ("year", "sent"):
        if key not in meta:
            raise WaveError.at(file, f"the key '{key}' is missing (see docs/design.md, Waves)", key=key)
    whole_number(meta["year"], file, "year", "a whole number (the survey year, e.g. 2002)",
                 minimum=1900, maximum=2999)
    status = meta.get("status", "real")
    if status not in STATUSES:
        raise WaveError.at(file, f"one of {', '.join(STATUSES)}", key="status", value=status)
    sent = _per_role(meta["sent"], file, "sent")
    if "returned" in meta and meta["returned"] is not None:
        returned = _per_role(meta["returned"], file, "returned")
        for role, n in returned.items():
            if role not in sent:
                raise WaveError.at(file, f"a role that 'sent' lists ({', '.join(sent)})",
                                   key=f"returned.{role}", value=n)
            if n > sent[role]:
                raise WaveError.at(file, f"at most the {sent[role]} questionnaires sent to "
                                         f"{role} (returned ≤ sent)", key=f"returned.{role}",
                                   value=n)
    if "responses" in meta:
        text(meta["responses"], file, "responses", "the data file's name, e.g. responses.csv")
    for key, value in mapping(meta.get("municipalities"), file, "municipalities",
                              "a mapping of municipality → size group").items():
        text(value, file, f"municipalities.{key}", "a size group (lille, mellem, stor)")
    for key in ("seed", "predecessor"):
        if meta.get(key) is not None:
            whole_number(meta[key], file, key, "a whole number")


def _per_role(value: Any, file: str, key: str) -> dict[str, int]:
    roles = mapping(value, file, key, SENT, empty_ok=False)
    if not roles:
        raise WaveError.at(file, SENT, key=key, value=value)
    for role, n in roles.items():
        text(role, file, key, SENT)
        whole_number(n, file, f"{key}.{role}", "a whole number above 0", minimum=1)
    return roles


def check_returned(wave: Wave, data: pd.DataFrame, codebook: Codebook) -> None:
    """Every role in the data was sent questionnaires, at least as many as were returned."""
    file = str(wave.folder / "wave.yaml")
    sent = wave.meta["sent"]
    roles = {r.key: r for r in codebook.roles}
    for key in sent:
        if key not in roles:
            raise WaveError.at(file, f"a role of the codebook ({', '.join(roles)})",
                               key=f"sent.{key}", value=key)
    counts = data["rolle"].value_counts()
    data_name = wave.responses_path.name
    for key, role in roles.items():
        n = int(counts.get(key, 0))
        if n and key not in sent:
            raise WaveError.at(file, f"the questionnaires sent to {key} ({data_name} holds {n} "
                                     f"respondents with rolle {role.code} {role.label})",
                               key="sent", value=sorted(sent))
        if n > int(sent.get(key, 0)):
            raise WaveError.at(file, f"at least the {n} questionnaires returned ({data_name} "
                                     f"holds {n} respondents with rolle {role.code} "
                                     f"{role.label}; sent ≥ returned)", key=f"sent.{key}",
                               value=sent[key])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_responses(wave: Wave, codebook: Codebook) -> pd.DataFrame:
    """The wave's responses, validated (codebook schema and edit rules, with the wave's
    ``edit_rules:`` severity if it sets one), typed and with every derived variable added."""
    from lpj_report.validate import read_checked

    typed, _ = read_checked(wave.responses_path, codebook, wave.meta.get("edit_rules"))
    check_returned(wave, typed, codebook)
    return apply_derived(typed, codebook, wave.meta)
