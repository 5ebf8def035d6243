"""Municipality editions: one municipality's numbers beside all municipalities of the wave.

Layer: cli (may import every layer; only lpj_report.cli imports it).

``lpj build --kommune NAME`` (``make report KOMMUNE=NAME``) builds one edition into
``report/<year>/kommuner/<key>/``; ``lpj editions`` (``make editions``) builds all of them in
parallel, the data loaded, the whole survey's text variables and the suppression computed once.

An edition is the annual report's pipeline for one unit (:mod:`lpj_report.edition_context`):
the same chapter sources (``templates/chapters``), chosen by the manifest
(``templates/editions/manifest.yaml``: ``--manifest kort`` the municipality's own chapter and
appendix, ``--manifest fuld`` the whole publication), the same blocks, charts and tables. The
figures the manifest lists carry the municipality's numbers beside all municipalities, each
tested against the other municipalities (two-proportion z-test, Fisher's exact test for small
counts, Welch's t-test for means) with Benjamini–Hochberg over every test of the edition
(:mod:`lpj_report.edition_numbers`).

Disclosure control (:mod:`lpj_report.suppression`) runs over all municipalities together, so that
no suppressed number can be worked out by combining editions. Suppressed numbers print as the mark
of ``data/disclosure.yaml`` (``◊``), explained under every table that has one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from lpj_report import format as fmt
from lpj_report import paired, terminal
from lpj_report.edition_context import (  # noqa: F401 (edition_variables re-exported)
    edition_context,
    edition_variables,
)
from lpj_report.edition_names import (  # noqa: F401 (re-exported)
    EDITIONS_DIR,
    REPORT_DIR,
    EditionError,
    default_manifest,
    default_root,
    edition_dir,
    edition_figure_ids,
    load_manifest,
    resolve_kommune,
    slugify,
)
from lpj_report.edition_numbers import Cube, edition_rows, make_cube  # noqa: F401 (re-exported)

NAME = "laering-paa-jobbet"


# ---------------------------------------------------------------------------- building


def edition_meta(cube: Cube, key: str) -> dict[str, Any]:
    from lpj_report import suppression
    from lpj_report.provenance import build_meta

    return {**build_meta(cube.build), "kommune": key,
            "kommune_navn": cube.project.codebook["kommune"].label_of(key),
            "min_base": cube.config.min_base, "suppression_mark": cube.config.mark,
            **({"disclosure_lowered": suppression.lowered(cube.config)} if cube.config.lowered
               else {}),
            "comparison": paired.text("sammenligning_meta")}


def write_edition(cube: Cube, key: str, out_root: Path, formats: list[str],
                  pdf=None, files: dict[str, list[str]] | None = None,
                  manifest: str | None = None) -> Path:
    """Build one edition into ``<out_root>/kommuner/<key>`` (atomically) and return the folder.
    ``pdf``: a :class:`lpj_report.publish.PdfWorker` to make the PDF beside the rest.
    ``files``: filled with the names of the other formats' files ``kept`` from the earlier
    build (same inputs) or ``removed`` (:func:`lpj_report.build.carry_over`). ``manifest``: the
    kind of edition (``templates/editions/manifest.yaml``; default the one marked default)."""
    from lpj_report import publish, render, suppression
    from lpj_report.build import carry_over, inputs_digest, mark_lowered, write_marker
    from lpj_report.folders import replace_folder, stage
    from lpj_report.output import EXCEL_CSV, figures_csv, figures_json, write_atomic
    from lpj_report.provenance import default_date, git_version
    from lpj_report.workbook import workbook_bytes

    out = edition_dir(out_root, key)
    date = render.build_date(default_date(cube.build.wave))
    rows = edition_rows(cube, key)
    work = stage(out)
    try:
        meta = {**edition_meta(cube, key), "manifest": manifest or default_manifest()}
        write_atomic(work / "figures.json", figures_json(rows, cube.figures, meta))
        labels = {"figures": cube.figures, "codebook": cube.project.codebook,
                  "lowered": suppression.lowered(cube.config)}
        write_atomic(work / "figures.csv", figures_csv(rows, **labels))
        write_atomic(work / EXCEL_CSV, figures_csv(rows, excel=True, **labels))
        context = edition_context(cube, key, rows, created=date.isoformat(),
                                  build_date=fmt.date_long(date), manifest=manifest)
        mark_lowered(context, suppression.lowered(cube.config))
        name = cube.project.codebook["kommune"].label_of(key)
        tables = {publish.WORKBOOK: lambda _html: workbook_bytes(
            context, rows, cube.project.registry, cube.project.codebook, mark=cube.config.mark,
            edition={"key": key, "name": name}, whole=cube.build.figures)}
        publish.publish(context, work, f"{NAME}-{key}", formats, files=tables, pdf=pdf)
        inputs = inputs_digest({**meta, "date": date.isoformat(), "code": git_version()})
        write_marker(work, "lpj build --kommune", inputs)
        kept, removed = carry_over(out, work, f"{NAME}-{key}", formats, inputs)
        if files is not None:
            files.update(kept=kept, removed=removed)
        replace_folder(work, out)
    finally:
        if work.exists():
            shutil.rmtree(work)
    return out


def check_root(root: Path) -> None:
    """``--out`` of the editions: a folder lpj made (the wave's report, or one holding only
    editions), an empty one or a new one — never a file or someone else's folder."""
    from lpj_report.folders import refusal

    refused = refusal(Path(terminal.shown(root)), "lpj build or lpj editions")
    if refused:
        raise EditionError(refused)


def _formats(text: str) -> list[str]:
    from lpj_report.build import parse_formats

    try:
        return parse_formats(text)
    except ValueError as err:
        raise EditionError(str(err)) from None


def _load(args) -> tuple[Any, Any, dict[str, Any], str | None]:
    """(project, the wave's protected build, the whole survey's text variables, the key of the
    build's inputs or None without a cache): through the build cache the command chose, shared
    with ``lpj build`` of the same inputs. The cube (:func:`make_cube`) is kept under the key."""
    from lpj_report import cache, cached_build
    from lpj_report.build import protect

    options = (args.wave, Path(args.responses) if args.responses else None,
               getattr(args, "min_base", None), getattr(args, "allow_low_min_base", False))
    inputs = cached_build.inputs_key(*options) if cache.current().enabled else None
    build, variables = cached_build.load(*options, protect, inputs=inputs)
    return build.project, build, variables, inputs


def _store(args):
    """The build cache of the command (``--cache-dir``, ``--no-cache``)."""
    from lpj_report import cache

    return cache.Cache(cache.folder_for(getattr(args, "cache_dir", None),
                                        getattr(args, "no_cache", False)))


def build_edition(args: argparse.Namespace) -> int:
    """``lpj build --kommune NAME``: one edition (with the build cache the command chose)."""
    from lpj_report import cache

    with cache.using(_store(args)):
        return _build_edition(args)


def _build_edition(args: argparse.Namespace) -> int:
    from lpj_report import terminal
    from lpj_report.build import report_removed
    from lpj_report.pipeline import Project
    from lpj_report.publish import PdfWorker

    console = terminal.console()
    files: dict[str, list[str]] = {"kept": [], "removed": []}
    pdf = None
    try:
        formats = _formats(args.formats)
        manifest = load_manifest(getattr(args, "manifest", None)).name
        key = resolve_kommune(args.kommune, Project().codebook)
        pdf = PdfWorker() if "pdf" in formats else None  # WeasyPrint loads meanwhile
        project, build, variables, inputs = _load(args)
        root = Path(args.out) if args.out else default_root(build.wave.year)
        check_root(root)
        edition_dir(root, key)
        with terminal.steps(f"lpj build --kommune {key}", 3) as progress:
            progress.step("figures and disclosure control")
            cube = make_cube(project, build, getattr(args, "min_base", None),
                             getattr(args, "allow_low_min_base", False), inputs=inputs)
            if key not in cube.units:
                raise EditionError(f"{key}: no respondents in wave {build.wave.year}")
            progress.step("the whole survey's figures and findings")
            cube.shared["text"] = variables   # the whole survey's, from the build cache
            progress.step(", ".join(f.upper() for f in formats))
            out = write_edition(cube, key, root, formats, pdf=pdf, files=files,
                                manifest=manifest)
    except EditionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    finally:
        if pdf is not None:
            pdf.close()
    console.print(f"Edition for {key} ({manifest}; {build.wave.year}, {build.wave.status}) built in "
                  f"{terminal.shown(out)}/:", markup=False)
    for path in sorted(out.iterdir()):
        if not path.name.startswith("."):
            kept = " (kept from the earlier build)" if path.name in files["kept"] else ""
            console.print(f"  {terminal.shown(path)}{'/' if path.is_dir() else ''}{kept}",
                          markup=False)
    report_removed(console, files["removed"])
    return 0


# ---------------------------------------------------------------------------- shards


def shard_of(keys: list[str], shard: tuple[int, int] | None) -> list[str]:
    """The ``I``-th of ``N`` contiguous slices of ``keys`` (``lpj editions --shard I/N``), their
    sizes differing by one at most; every key is in exactly one slice, in its order."""
    if shard is None:
        return list(keys)
    index, count = shard
    size, extra = divmod(len(keys), count)
    start = (index - 1) * size + min(index - 1, extra)
    return list(keys[start: start + size + (index <= extra)])


# ---------------------------------------------------------------------------- all editions

_CUBE: Cube | None = None   # the parent's cube, inherited by forked workers


def _worker(key: str, out_root: str, formats: list[str],
            manifest: str | None = None) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        assert _CUBE is not None, "workers must be forked from the process that made the cube"
        out = write_edition(_CUBE, key, Path(out_root), formats, manifest=manifest)
        rows = _CUBE.suppression
        hidden = sum(1 for u, _, _ in rows.suppressed if u == key)
        return {"key": key, "ok": True, "seconds": time.perf_counter() - started,
                "out": str(out), "hidden": hidden, "error": ""}
    except Exception as err:  # one edition failing must not stop the others
        return {"key": key, "ok": False, "seconds": time.perf_counter() - started, "out": "",
                "hidden": 0, "error": f"{type(err).__name__}: {err}",
                "trace": traceback.format_exc()}


def _warm_up(formats: list[str]) -> None:
    """Import the renderers and register the fonts once in the parent, so that the forked
    workers share them instead of each loading them again."""
    from lpj_report import charts, render

    with charts.house_style():
        pass
    render.environment()
    if "pdf" in formats:
        import weasyprint  # noqa: F401


def run_editions(cube: Cube, keys: list[str], out_root: Path, formats: list[str],
                 jobs: int | None = None, console=None,
                 manifest: str | None = None) -> list[dict[str, Any]]:
    """Build the editions of ``keys`` with ``jobs`` forked workers (1: in this process)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    global _CUBE
    _CUBE = cube
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(keys)))
    if jobs > 1:
        _warm_up(formats)
    results = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    if not terminal.is_terminal(console.file if console is not None else None):
        bar = _PlainBar(len(keys))   # a log or a pipe: one line per edition
    else:
        bar = Progress(*columns, console=console, transient=False)
    with bar:
        task = bar.add_task("editions", total=len(keys))
        if jobs == 1:
            for key in keys:
                results.append(_worker(key, str(out_root), formats, manifest))
                bar.advance(task)
        else:
            context = mp.get_context("fork")
            with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
                futures = {pool.submit(_worker, key, str(out_root), formats, manifest): key
                           for key in keys}
                for future in as_completed(futures):
                    try:
                        results.append(future.result())
                    except Exception as err:  # a worker that died (killed, out of memory)
                        results.append({"key": futures[future], "ok": False, "seconds": 0.0,
                                        "out": "", "hidden": 0,
                                        "error": f"{type(err).__name__}: {err}"})
                    bar.update(task, description=f"editions ({results[-1]['key']})")
                    bar.advance(task)
    order = {k: i for i, k in enumerate(keys)}
    return sorted(results, key=lambda r: order[r["key"]])


class _PlainBar:
    """The progress of :func:`run_editions` as plain lines on stderr (``lpj editions: 3/12
    hasle``), where a bar would only fill a log with control codes."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.last = total, 0, ""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def add_task(self, description: str, total: int) -> int:
        return 0

    def update(self, task: int, description: str = "") -> None:
        self.last = description

    def advance(self, task: int) -> None:
        self.done += 1
        print(f"lpj editions: {self.done}/{self.total} {self.last}".rstrip(), file=sys.stderr,
              flush=True)


def build_all_editions(args: argparse.Namespace) -> int:
    """``lpj editions``: every municipality's edition in parallel, with a summary (with the
    build cache the command chose)."""
    from lpj_report import cache

    with cache.using(_store(args)):
        return _build_all_editions(args)


def _build_all_editions(args: argparse.Namespace) -> int:
    from rich.table import Table

    console = terminal.console()
    started = time.perf_counter()
    try:
        formats = _formats(args.formats)
        manifest = load_manifest(getattr(args, "manifest", None)).name
        project, build, variables, inputs = _load(args)
        root = Path(args.out) if args.out else default_root(build.wave.year)
        check_root(root)
        with terminal.steps("lpj editions", 2) as progress:
            progress.step("figures and disclosure control for every municipality")
            cube = make_cube(project, build, args.min_base, args.allow_low_min_base,
                             inputs=inputs)
            progress.step("the whole survey's figures and findings")
            cube.shared["text"] = variables   # once, shared by the forked workers
        keys = ([resolve_kommune(k, project.codebook) for k in args.kommune] if args.kommune
                else cube.municipalities)
        keys = shard_of(keys, getattr(args, "shard", None))
    except EditionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    prepared = time.perf_counter() - started
    results = run_editions(cube, keys, root, formats, args.jobs, console, manifest)
    table = Table(title=f"Editions {build.wave.year} ({build.wave.status})")
    for col in ("Municipality", "Status", "Seconds", "Withheld rows", "Folder"):
        table.add_column(col, justify="right" if col in ("Seconds", "Withheld rows") else "left")
    for r in results:
        table.add_row(r["key"], "ok" if r["ok"] else f"FAILED: {r['error']}",
                      f"{r['seconds']:.1f}", str(r["hidden"]),
                      terminal.shown(r["out"]) if r["out"] else "")
    console.print(table)
    failed = [r for r in results if not r["ok"]]
    for r in failed:
        if r.get("trace"):
            console.print(f"[red]{r['key']}[/]:\n{r['trace']}")
    total = time.perf_counter() - started
    console.print(f"{len(results) - len(failed)} of {len(results)} editions built in "
                  f"{total:.1f} s (data and suppression {prepared:.1f} s, "
                  f"{max(1, min(args.jobs or os.cpu_count() or 1, len(keys)))} workers)")
    return 1 if failed else 0
