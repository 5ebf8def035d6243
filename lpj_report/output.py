"""Writing build artefacts: atomically, deterministically, never outside the chosen folder.

Layer: render (may import base … charts, and its own layer).
"""

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
            try:
                fh.write(data)
            except OSError as err:   # a full disk names no file: name the one being written
                raise OSError(err.errno, err.strerror, str(path)) from err
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


#: The Danish Excel variant of figures.csv: UTF-8 with BOM, semicolons, decimal comma, CRLF.
EXCEL_CSV = "figures-excel.csv"
#: Extra decimals of the CSV's values and limits beyond the printed ones (34.97150997 → 34.97
#: for a share printed as 35 %).
CSV_EXTRA_DECIMALS = 2


def labelled_rows(rows: pd.DataFrame, figures: list[Figure], codebook) -> pd.DataFrame:
    """The figure table with the Danish labels beside the codes (figure title, group, answer;
    municipality in an edition) and its values rounded half up to the printed decimals plus
    :data:`CSV_EXTRA_DECIMALS` (means' sums too)."""
    from lpj_report import format as fmt
    from lpj_report.content import _group_label, _label

    registry = {f.id: f for f in figures}
    out = rows.copy()
    fig_of = [registry[f] for f in out["figure"]]
    labels = {
        "figure": ("figure_title", [f.title for f in fig_of]),
        "group": ("group_label", [_group_label(codebook, f, g)
                                  for f, g in zip(fig_of, out["group"], strict=True)]),
        "category": ("category_label", [_label(codebook, f, c)
                                        for f, c in zip(fig_of, out["category"], strict=True)]),
    }
    if "kommune" in out.columns:
        from lpj_report.workbook import wording

        kommune, total = codebook["kommune"], wording()["columns"]["total"]
        labels["kommune"] = ("kommune_label", [
            total if k == "alle" else kommune.label_of(k) for k in out["kommune"]])
    for column, (name, values) in labels.items():
        out.insert(out.columns.get_loc(column) + 1, name, values)
    places = out["decimals"].astype(int) + CSV_EXTRA_DECIMALS

    def rounded(column: str) -> pd.Series:
        return pd.Series([None if pd.isna(v) else fmt.round_half_up(float(v), int(d))
                          for v, d in zip(out[column], places, strict=True)],
                         index=out.index, dtype="Float64")

    for column in ("value", "ci_low", "ci_high", "diff"):
        if column in out.columns:
            out[column] = rounded(column)
    means = out["unit"] == "years"
    if means.any():
        out["numerator"] = out["numerator"].astype("Float64")
        out.loc[means, "numerator"] = rounded("numerator")[means]
    return out


def figures_csv(rows: pd.DataFrame, figures: list[Figure] | None = None, codebook=None, *,
                excel: bool = False, lowered: dict | None = None) -> bytes:
    """``figures.csv``: the same rows as ``figures.json`` (UTF-8, comma, dot decimals); with the
    registry and codebook given, with Danish labels and rounded values (:func:`labelled_rows`).
    ``excel``: the variant Danish Excel opens in columns (:data:`EXCEL_CSV`). ``lowered``
    (``suppression.lowered``: disclosure control below its floor, --allow-low-min-base): every
    row carries the minimum used and the floor, columns ``min_base`` and ``min_base_floor``."""
    if figures is not None and codebook is not None:
        rows = labelled_rows(rows, figures, codebook)
    if lowered:
        rows = rows.assign(min_base=lowered["min_base"], min_base_floor=lowered["floor"])
    if excel:
        text = rows.to_csv(index=False, sep=";", decimal=",", lineterminator="\r\n",
                           float_format="%.10g")
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    return rows.to_csv(index=False, lineterminator="\n", float_format="%.10g").encode("utf-8")
