"""Writing build artefacts: atomically, deterministically, never outside the chosen folder."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from lpj_report.figures import Figure


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def figure_meta(fig: Figure) -> dict[str, Any]:
    return {
        "id": fig.id, "title": fig.title, "section": fig.section, "population": fig.population,
        "filter": {k: list(v) for k, v in fig.filter.items()}, "variable": fig.variable,
        "breakdown": fig.breakdown, "statistic": fig.statistic,
        "combine": {k: list(v) for k, v in fig.combine.items()}, "exclude": list(fig.exclude),
        "decimals": fig.decimals,
    }


def _clean(value: Any) -> Any:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return value
    return value


def figures_json(rows: pd.DataFrame, figures: list[Figure], meta: dict[str, Any],
                 findings: list[dict[str, Any]] | None = None,
                 lineage: list[dict[str, str]] | None = None) -> bytes:
    """``figures.json``: build metadata, the figure declarations, one object per number, and
    when given every finding's test and verdict (``findings``) and every sentence of the text
    that states one, with its finding ids (``lineage``)."""
    records = [{k: _clean(v) for k, v in rec.items()} for rec in rows.to_dict(orient="records")]
    doc = {"meta": meta, "figures": [figure_meta(f) for f in figures], "rows": records}
    if findings is not None:
        doc["findings"] = findings
    if lineage is not None:
        doc["lineage"] = lineage
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def figures_csv(rows: pd.DataFrame) -> bytes:
    """``figures.csv``: the same rows as ``figures.json`` (UTF-8, comma, dot decimals)."""
    return rows.to_csv(index=False, lineterminator="\n", float_format="%.10g").encode("utf-8")
