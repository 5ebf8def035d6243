"""The reconstruction generator: respondent data calibrated to the published numbers.

Layer: generate (may import base … findings, and its own layer).

Method (documented for users in ``data/waves/2002/README.md``): sequential generation, one
variable at a time in the model's order. Each variable is a draw (:mod:`.build`): blanks
(:mod:`.missing`), prior counts per cell drawn from the model, a mixed-integer programme that fixes
whole respondent counts per cell so that every published number involving it rounds to the printed
value and every edit rule can hold (:mod:`.quota`, :mod:`.fill`), and assignment by a seeded score
of latent factors and earlier answers (:mod:`.latent`, :mod:`.assign`); a draw that contradicts a
claim of the publication is drawn again (:mod:`.checks`). Same seed and inputs → the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lpj_report.codebook import Codebook
from lpj_report.figures import Figure
from lpj_report.generate.build import Builder, Report
from lpj_report.generate.model import ModelError, load_model
from lpj_report.targets import Published

DEFAULT_SEED = 2002


@dataclass
class Generated:
    responses: pd.DataFrame   # raw integer codes, codebook column order
    report: Report


def to_codes(table: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Keys → integer codes in codebook column order; not asked / missing → blank."""
    out = {}
    for var in codebook.questions:
        if var.optional and var.name not in table.columns:
            continue      # e.g. a cluster id the reconstruction does not model
        if var.kind == "single":
            codes = {c.key: c.code for c in var.codes}
            col = table[var.name].astype("object").map(codes)
            out[var.name] = pd.array(col, dtype="Int64")
        elif var.kind == "multi":
            for col in var.columns:
                out[col] = pd.array(table[col], dtype="Int64")
        else:
            out[var.name] = pd.array(np.rint(table[var.name].astype(float)), dtype="Int64")
    frame = pd.DataFrame(out)
    return frame.sort_values("respondent", kind="stable").reset_index(drop=True)


CHANGE_KEYS = ("prior", "prior_by", "associate", "score", "missing")


def model_overrides(changes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``changes:`` of a wave.yaml → replacement model entries per variable."""
    out: dict[str, dict[str, Any]] = {}
    for change in changes:
        name = change["variable"]
        if name in out:
            raise ModelError(f"changes: {name} changed twice; merge the two changes")
        out[name] = {k: change[k] for k in CHANGE_KEYS if k in change}
    return out


def without_changed(published: Published, figures: list[Figure], populations: dict,
                    changes: list[dict[str, Any]]) -> Published:
    """The published targets minus every number and ranking whose figure reads a changed
    variable — unless the change lists it under ``keep_targets`` (a number the change leaves
    as it was, such as a combined category whose parts trade places)."""
    if not changes:
        return published
    changed = {c["variable"] for c in changes}
    keep = {t for c in changes for t in c.get("keep_targets") or []}
    by_id = {f.id: f for f in figures}

    def stays(target) -> bool:
        fig = by_id.get(target.figure)
        if fig is None or target.id in keep:
            return True
        names = {*fig.variables, *populations[fig.population]}
        return not names & changed

    return Published(published.year, [t for t in published.numbers if stays(t)],
                     [r for r in published.rankings if stays(r)], list(published.claims))


def generate(codebook: Codebook, figures: list[Figure], populations: dict,
             published: Published, wave: dict[str, Any], seed: int = DEFAULT_SEED,
             progress: bool = False) -> Generated:
    changes = list(wave.get("changes") or [])
    steps = load_model(codebook, overrides=model_overrides(changes))
    published = without_changed(published, figures, populations, changes)
    modelled = {s.name for s in steps} | {i for s in steps for i in s.items}
    missing = [v.name for v in codebook.questions
               if v.name not in modelled and v.name not in ("respondent", "rolle")
               and not v.optional]
    if missing:
        raise ModelError("not in the reconstruction model (data/reconstruction): "
                         + ", ".join(missing))
    reference = None
    if wave.get("prior_from"):
        from lpj_report.wave import load_wave

        ref = load_wave(wave["prior_from"])
        from lpj_report.validate import read_checked

        reference, _ = read_checked(ref.responses_path, codebook)
    builder = Builder(codebook, figures, populations, published, steps, wave, seed,
                      reference=reference, changed=tuple(c["variable"] for c in changes))
    table = builder.run(progress=progress)
    return Generated(to_codes(table, codebook), builder.report)
