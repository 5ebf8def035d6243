"""``lpj diff OLD NEW``: every figure of two waves (or two builds) side by side.

Layer: cli (may import every layer; only lpj_report.cli imports it).

Each number is matched by its stable id — ``figure``, ``group``, ``category`` (and ``kommune`` in
an edition's figures.json) — and gets both values, both bases, the change (in procentpoint for
shares) and a test of the change:

* shares (``pct``): the two-proportion z-test with pooled variance on the counts behind the two
  percentages (the waves are independent samples);
* means: Welch's t-test on the mean, standard deviation and n of both sides: from the
  respondent data of a wave, or worked back from a figures.json's 95 % t interval
  (sd = half-width / t(0,975; n − 1) · √n); a figures.json without the interval leaves its
  means untested, and the command says so;
* counts: not tested (a count is not an estimate of a share).

Multiple comparisons: all tested changes form one family and are corrected together with the
Benjamini–Hochberg procedure (false discovery rate ``--alpha``, default 5 %). A change is
*significant* when its BH-adjusted p-value (q) is below alpha: of all changes flagged, at most
about 5 % are expected to be chance findings. The categories of one figure are dependent (they add
up to 100 %); BH remains valid under the positive dependence of such tests in practice, and the
report says so.

Disclosure control applies: a row suppressed on either side (base below ``min_base`` or hidden
to protect one; :mod:`lpj_report.suppression`) is listed as suppressed, without numbers, and is
not tested. The diff applies the minimum itself: a wave's figures are protected here, and a
figures.json is protected again whatever its ``suppressed`` flags say (:func:`withhold`).

Two sides are comparable when both are national reports or both are editions of the same
municipality (:func:`check_comparable`; anything else is refused). How the comparison is shown
— complementary answers folded, the report's figure numbers, the order — is
:mod:`lpj_report.diff_view`.

:func:`year_over_year` is the entry point for the annual overview: previous value and
significance per (figure, group, category). The matching and the tests live in
:mod:`lpj_report.comparison` (the statistics in :mod:`lpj_report.stats`); this module reads the two
sides and prints, writes diff.html and diff.csv.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lpj_report.cli_errors import InputError
from lpj_report.comparison import (  # noqa: F401 (compare, year_over_year: re-exported)
    KEY,
    REASONS,
    STATUS_ORDER,
    _num,
    compare,
    mean_spread,
    year_over_year,
)
from lpj_report.paths import REPORT_DIR
from lpj_report.readers import read_figures_json

DIFF_FILES = ("diff.html", "diff.csv")


@dataclass
class Side:
    """One side of a comparison: a figure table with suppression flags, and its origin.

    ``source`` is what the user named (a year or a path); ``declarations`` the figure
    declarations the numbers were computed with (figure id → :func:`lpj_report.output.
    figure_meta`)."""

    label: str
    table: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    spread: dict[tuple, tuple[float, float, int]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    source: str = ""
    declarations: dict[str, dict] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return str(self.meta.get("status", "real"))

    @property
    def kommune(self) -> str:
        """The municipality's key for an edition's figures, else ``""`` (national)."""
        return str(self.meta.get("kommune") or "")

    @property
    def slug(self) -> str:
        """The side in a folder name: ``2002``, ``2002-hasle``."""
        year = str(self.meta.get("wave", self.label.split()[0]))
        return f"{year}-{self.kommune}" if self.kommune else year


# ---------------------------------------------------------------------------- inputs


def side_from_wave(year: str | int, project, min_base: int) -> Side:
    """A wave's figures from its respondent data, suppressed as a table of its own."""
    from lpj_report import suppression
    from lpj_report.output import figure_meta
    from lpj_report.pipeline import Build
    from lpj_report.provenance import build_meta

    build = Build.load(project, year)
    result = suppression.protect(build.data, project.codebook, project.figures,
                                 project.populations, min_base=min_base, unit_var=None)
    table = suppression.apply(build.figures, suppression.unit_rows(result, "alle"), min_base)
    spread = {}
    for fig in project.figures:
        if fig.statistic == "mean":
            for g, s in mean_spread(build.data, fig, project.codebook,
                                    project.populations).items():
                spread[(fig.id, g)] = s
    meta = {**build_meta(build), "min_base": min_base}
    return Side(str(build.wave.year), table, meta, spread, {f.id: f.title for f in project.figures},
                source=str(year), declarations={f.id: figure_meta(f) for f in project.figures})


def withhold(table: pd.DataFrame, project, min_base: int) -> pd.DataFrame:
    """Disclosure control applied again to a figures.json's rows, whatever its flags say.

    Per unit (the municipality and ``alle`` of an edition, else the one table): a row the file
    withholds (flag set, or no base) stays withheld; every other row with a base below
    ``min_base`` is withheld, and so are the shown rows of the same figure it could be worked
    back from (:func:`lpj_report.suppression.protect_table`, the withheld rows taken as
    unknown). A figure whose ``alle`` row is withheld is withheld as a whole."""
    from lpj_report import suppression

    table = table.reset_index(drop=True)
    flagged = (table["suppressed"].fillna(False).astype(bool) if "suppressed" in table.columns
               else pd.Series(False, index=table.index))
    withheld = flagged | table["base"].isna()
    units = (table["kommune"].astype(str) if "kommune" in table.columns
             else pd.Series("alle", index=table.index))
    hide = pd.Series(False, index=table.index)
    for _unit, index in units.groupby(units, sort=False).groups.items():
        part = table.loc[index]
        gone = withheld.loc[index]
        whole = set(part.loc[gone & (part["group"] == "alle"), "figure"])
        shown = part[~gone & ~part["figure"].isin(whole)]
        shown = shown.drop(columns=[c for c in ("kommune", "suppressed") if c in shown])
        result = suppression.protect_table(shown, project.figures, project.codebook, min_base)
        rows = suppression.unit_rows(result, "alle")
        keys = zip(part["figure"], part["group"], strict=True)
        by_row = [(f, g) in rows or f in whole for f, g in keys]
        base = part["base"].astype(float)
        hide.loc[index] = (gone.to_numpy() | np.array(by_row, dtype=bool)
                           | ((base > 0) & (base < min_base)).to_numpy())
    out = table.copy()
    out["suppressed"] = hide.to_numpy()
    for col in ("numerator", "base", "value", "ci_low", "ci_high"):
        if col in out.columns:
            out[col] = out[col].astype("Float64").mask(out["suppressed"])
    return out


def spread_from_limits(table: pd.DataFrame) -> dict[tuple, tuple[float, float, int]]:
    """(mean, standard deviation, n) of every mean row with a 95 % t interval, worked back
    from it: sd = (high − low) / 2 / t(0,975; n − 1) · √n. Keyed (figure, group), with the
    municipality as a third part in an edition's table."""
    from scipy import stats as sps

    out: dict[tuple, tuple[float, float, int]] = {}
    if not {"ci_low", "ci_high"} <= set(table.columns):
        return out
    rows = table[(table["unit"] == "years") & table["ci_low"].notna() & table["ci_high"].notna()
                 & table["base"].notna()]
    for r in rows.to_dict(orient="records"):
        n = int(r["base"])
        if n < 2:
            continue
        half = (float(r["ci_high"]) - float(r["ci_low"])) / 2
        sd = half / float(sps.t.ppf(0.975, n - 1)) * np.sqrt(n)
        key = (r["figure"], r["group"]) + ((str(r["kommune"]),) if "kommune" in r else ())
        out[key] = (float(r["value"]), float(sd), n)
    return out


def side_from_json(path: Path, project, min_base: int, source: str = "") -> Side:
    """A build's figures.json, its rows protected again here (:func:`withhold`)."""
    doc = read_figures_json(path)
    table = pd.DataFrame(doc["rows"])
    meta = dict(doc.get("meta") or {})
    titles = {f["id"]: f.get("title", "") for f in doc.get("figures") or []}
    table = withhold(table, project, min_base)
    label = str(meta.get("wave", path.parent.name))
    if meta.get("kommune"):
        label += f" ({meta['kommune']})"
    declarations = {f["id"]: f for f in doc.get("figures") or []}
    return Side(label, table, meta, spread_from_limits(table), titles,
                source=source or str(path), declarations=declarations)


def load_side(spec: str, project, min_base: int) -> Side:
    path = Path(spec)
    if spec.isdigit() and not path.exists():
        return side_from_wave(spec, project, min_base)
    if path.is_dir():
        path = path / "figures.json"
    if not path.exists():
        raise InputError.at(spec, "a survey year with a folder in data/waves, or a "
                            "figures.json written by lpj build (or its folder)")
    return side_from_json(path, project, min_base, source=spec)


#: Declaration keys that decide what a number counts; a figure declared differently on the two
#: sides is not tested.
DECLARATION_KEYS = ("population", "filter", "variable", "breakdown", "statistic", "combine",
                    "exclude")


def check_comparable(old: Side, new: Side) -> list[str]:
    """Refuse two sides that describe different populations; return warnings for the rest.

    A municipality's edition compares only with an edition of the same municipality (its own
    rows and its "all municipalities" rows against theirs): anything else raises
    :class:`InputError` (exit 2, nothing written)."""
    def what(side: Side) -> str:
        if side.kommune:
            name = side.meta.get("kommune_navn") or side.kommune
            return f"the edition for {name} ({side.kommune})"
        return "a national report"

    if old.kommune != new.kommune:
        raise InputError(
            f"{old.source} is {what(old)}, {new.source} is {what(new)}: their numbers describe "
            "different respondents; expected two national reports or two editions of the same "
            "municipality")
    warnings = []
    books = (old.meta.get("codebook_version"), new.meta.get("codebook_version"))
    if all(books) and books[0] != books[1]:
        warnings.append(f"codebook versions differ ({old.source}: {books[0]}, {new.source}: "
                        f"{books[1]}); numbers are matched by figure, group and answer key")
    differ = declared_differently(old, new)
    if differ:
        shown = ", ".join(differ[:5]) + (f" and {len(differ) - 5} more" if len(differ) > 5 else "")
        warnings.append(f"{len(differ)} figure(s) declared differently on the two sides "
                        f"({shown}): their numbers are compared but not tested")
    return warnings


def declared_differently(old: Side, new: Side) -> list[str]:
    """Figure ids whose declarations (who is counted, and how) differ between the sides."""
    def norm(decl: dict) -> tuple:
        return tuple(_plain(decl.get(k)) for k in DECLARATION_KEYS)

    both = sorted(set(old.declarations) & set(new.declarations))
    return [f for f in both if norm(old.declarations[f]) != norm(new.declarations[f])]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((str(k), _plain(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    return value


# ---------------------------------------------------------------------------- comparison


def run_diff(args: argparse.Namespace) -> int:
    """``lpj diff OLD NEW``: the comparison in the terminal, and diff.html and diff.csv in
    ``--out`` (default ``report/diff/<old>-<new>``)."""
    from lpj_report import diff_view, terminal
    from lpj_report.folders import refusal, write_folder
    from lpj_report.pipeline import Project
    from lpj_report.suppression import load_config, lowered

    config = load_config(args.min_base, getattr(args, "allow_low_min_base", False))
    if args.out:
        refused = refusal(Path(terminal.shown(args.out)), "lpj diff", DIFF_FILES)
        if refused:
            raise InputError(refused)
    project = Project()
    old = load_side(args.old, project, config.min_base)
    new = load_side(args.new, project, config.min_base)
    notes = check_comparable(old, new)
    table = compare(old.table, new.table, alpha=args.alpha, old_spread=old.spread,
                    new_spread=new.spread, untested=declared_differently(old, new))
    view = diff_view.make(table, project, old, new, alpha=args.alpha,
                          min_base=config.min_base)
    view.disclosure_lowered = lowered(config)
    page = diff_view.html(view).encode("utf-8")
    rows = diff_view.csv_bytes(view)
    out = Path(args.out) if args.out else default_out(old.slug, new.slug)
    diff_view.print_summary(view, terminal.console(stderr=False), show_all=args.all)
    messages = terminal.console()
    for note in notes + diff_view.warnings(view):
        messages.print(f"warning: {note}", markup=False)
    refused = refusal(Path(terminal.shown(out)), "lpj diff", DIFF_FILES)   # the default folder too
    if refused:
        raise InputError(refused)
    write_folder(out, "lpj diff", {"diff.html": page, "diff.csv": rows})
    messages.print(f"wrote {terminal.shown(out / 'diff.html')} and "
                   f"{terminal.shown(out / 'diff.csv')}", markup=False)
    return 0


def default_out(old: str, new: str) -> Path:
    """``report/diff/<old>-<new>`` (``2002-2005``; an edition's: ``2002-hasle-2005-hasle``)."""
    return REPORT_DIR / "diff" / f"{old}-{new}"
