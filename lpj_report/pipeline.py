"""Everything one build needs, loaded once: codebook, registry, targets, data and figures.

Layer: findings (may import base … figures, and its own layer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from lpj_report.codebook import Codebook, load_codebook
from lpj_report.figure_engine import Codes
from lpj_report.figures import Figure, compute_figures, load_figures, load_populations
from lpj_report.findings import Context, Registry, Result, evaluate, load_findings
from lpj_report.paths import PUBLISHED_DIR
from lpj_report.targets import Published, TargetError, load_published
from lpj_report.wave import Wave, load_responses, load_wave


@dataclass
class Project:
    """The project's declarations (independent of any data)."""

    codebook: Codebook = field(default_factory=load_codebook)

    @cached_property
    def populations(self) -> dict:
        return load_populations()

    @cached_property
    def figures(self) -> list[Figure]:
        return load_figures(self.codebook, populations=self.populations)

    @cached_property
    def registry(self) -> dict[str, Figure]:
        return {f.id: f for f in self.figures}

    @cached_property
    def findings(self) -> Registry:
        return load_findings(self.codebook, self.registry, self.populations)

    @cached_property
    def _published(self) -> dict[Path, Published]:
        return {}

    def published(self, year: int) -> Published:
        """The numbers, rankings and claims the publication of ``year`` printed (none for a
        year without data/published/<year>), read once per project."""
        folder = PUBLISHED_DIR / str(year)
        if folder not in self._published:
            self._published[folder] = self._read_published(year, folder)
        return self._published[folder]

    def _read_published(self, year: int, folder: Path) -> Published:
        if not folder.exists():
            return Published(year, [], [], [])
        published = load_published(year, self.codebook, self.figures, folder)
        unknown = [c.id for c in published.claims if c.finding not in self.findings.findings]
        if unknown:
            raise TargetError(f"{folder.name}: claims name findings not in data/findings: "
                              + ", ".join(unknown))
        return published

    def audit_path(self, year: int) -> Path:
        return PUBLISHED_DIR / str(year) / "audit.md"


@dataclass
class Build:
    """One wave's data with its computed figure table."""

    project: Project
    wave: Wave
    data: pd.DataFrame

    @classmethod
    def load(cls, project: Project, year: int | str, responses: Path | None = None) -> Build:
        wave = load_wave(year)
        if responses is not None:
            wave = Wave(wave.year, wave.folder, {**wave.meta, "responses": str(responses.resolve())})
        return cls(project, wave, load_responses(wave, project.codebook))

    @cached_property
    def codes(self) -> Codes:
        """The data's category codes and selections, shared by the figures and the findings."""
        return Codes(self.data)

    @cached_property
    def figures(self) -> pd.DataFrame:
        return compute_figures(self.data, self.project.codebook, self.project.figures,
                               self.project.populations, self.wave.meta, self.codes)

    @cached_property
    def _members(self) -> dict:
        """Each finding cell's respondents, shared by every test of this build's data."""
        return {}

    def finding_context(self, deff: float = 1.0) -> Context:
        project = self.project
        return Context(self.data, project.codebook, project.registry, project.populations,
                       project.findings.settings, figures=self.figures, deff=deff,
                       members=self._members, codes=self.codes)

    @cached_property
    def findings(self) -> dict[str, Result]:
        """Every finding tested on this wave (after disclosure control, when applied: withheld
        numbers are not ranked)."""
        return evaluate(self.project.findings, self.finding_context())
