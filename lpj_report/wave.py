"""A survey wave: its metadata (``data/waves/<year>/wave.yaml``) and its typed, derived data."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from lpj_report.codebook import Codebook
from lpj_report.derive import apply_derived
from lpj_report.paths import WAVES_DIR

STATUSES = ("reconstruction", "fictitious", "real")


class WaveError(ValueError):
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
    return sorted(int(p.name) for p in WAVES_DIR.iterdir()
                  if p.is_dir() and (p / "wave.yaml").exists())


def load_wave(year: int | str, folder: Path | None = None) -> Wave:
    folder = folder or WAVES_DIR / str(year)
    path = folder / "wave.yaml"
    if not path.exists():
        valid = ", ".join(map(str, available_waves())) or "none"
        raise WaveError(f"no survey wave {year}: {path} does not exist (available: {valid})")
    meta = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("wave") or {}
    if meta.get("status", "real") not in STATUSES:
        raise WaveError(f"{path}: status must be one of {STATUSES}")
    for key in ("year", "sent"):
        if key not in meta:
            raise WaveError(f"{path}: missing '{key}'")
    return Wave(int(meta["year"]), folder, meta)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_responses(wave: Wave, codebook: Codebook) -> pd.DataFrame:
    """The wave's responses, validated (codebook schema and edit rules, with the wave's
    ``edit_rules:`` severity if it sets one), typed and with every derived variable added."""
    from lpj_report.editrules import read_checked

    typed, _ = read_checked(wave.responses_path, codebook, wave.meta.get("edit_rules"))
    return apply_derived(typed, codebook, wave.meta)
