"""The chart files beside a report: ``figurer/figur-03-<figure id>.svg`` and ``.png``.

Layer: render (may import base … charts, and its own layer).

The SVG is the chart as the report shows it; the PNG (200 dpi, for Word and for slides) is drawn
by one process for all charts (:mod:`lpj_report.pngs`: librsvg with the shipped font) while the
build goes on; where librsvg cannot be called, by matplotlib (:func:`lpj_report.charts.png`) or
``rsvg-convert``. A PNG drawn by librsvg is kept in the build cache (:mod:`lpj_report.cache`) by
its SVG's bytes; a build that finds every PNG there starts no process. The names come from
:func:`chart_file`, which ``render.prepare`` uses for the HTML's download links.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from lpj_report import cache, pngs
from lpj_report.chart_names import CHART_DIR, PNG_DPI, chart_file  # noqa: F401 (re-exported)
from lpj_report.pngs import FONT_DIR, fontconfig, svg_to_png  # noqa: F401 (re-exported)
from lpj_report.render import figure_blocks, prepare


class ChartFiles:
    """The chart files of a report while their PNGs are being drawn (:func:`start_chart_files`);
    :meth:`wait` returns the files once all are written."""

    def __init__(self, blocks: list[dict], out: Path, svgs: list[Path],
                 process: subprocess.Popen | None, folder: Path,
                 pending: dict[Path, str] | None = None) -> None:
        self.blocks, self.out, self.svgs, self.process, self.folder = (blocks, out, svgs,
                                                                       process, folder)
        #: the SVGs whose PNG is being drawn (not found in the build cache) → their entries
        self.pending = dict.fromkeys(svgs, "") if pending is None else pending

    def wait(self) -> list[Path]:
        try:
            status, problem = pngs.NO_LIBRARY, ""
            if self.process is not None:
                _, err = self.process.communicate()
                status, problem = self.process.returncode, err.decode("utf-8", "replace")
            if status == pngs.NO_LIBRARY:   # no librsvg to call: matplotlib, else rsvg-convert
                charts = sys.modules.get("lpj_report.charts")
                for block, svg_path in zip(self.blocks, self.svgs, strict=True):
                    if svg_path not in self.pending:
                        continue
                    data = charts.png(block["svg"]) if charts is not None else None
                    if data is None:
                        svg_to_png(block["svg"], svg_path.with_suffix(".png"), self.folder)
                    else:
                        svg_path.with_suffix(".png").write_bytes(data)
            elif status != 0:
                raise RuntimeError(f"chart PNGs: {problem.strip()}")
            else:   # drawn by librsvg: kept for the next build
                store = cache.current()
                for svg_path, entry in self.pending.items():
                    if entry:
                        store.put("chart-file-png", entry, svg_path.with_suffix(".png").read_bytes())
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
        return [path for svg in self.svgs for path in (svg, svg.with_suffix(".png"))]

    def cancel(self) -> None:
        """Stop drawing (the build failed elsewhere)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.communicate()
        shutil.rmtree(self.folder, ignore_errors=True)


def _png_entry(svg: str) -> str:
    """The build cache's key of a chart's PNG drawn by librsvg: the SVG, the resolution and
    the code version (which covers the shipped font)."""
    return cache.key("chart-file-png", cache.code_version(), PNG_DPI, svg.encode("utf-8"))


def start_chart_files(context: Mapping, out_dir: Path | str) -> ChartFiles:
    """Every chart as SVG and PNG under ``<out_dir>/figurer/`` (``figur-03-<id>.svg``/``.png``,
    the names the HTML links to). The SVGs are written at once; the PNGs are drawn by one
    process for all charts (:mod:`lpj_report.pngs`, librsvg with the shipped font) while the
    caller goes on; :meth:`ChartFiles.wait` for them."""
    ctx = prepare(context)
    out = Path(out_dir)
    blocks = figure_blocks(ctx)
    store = cache.current()
    svgs, pending = [], {}
    for block in blocks:
        path = out / f"{block['file']}.svg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block["svg"], encoding="utf-8", newline="\n")
        svgs.append(path)
        entry = _png_entry(block["svg"]) if store.enabled else ""
        png = store.get("chart-file-png", entry) if entry else None
        if png is None:
            pending[path] = entry
        else:
            path.with_suffix(".png").write_bytes(png)
    folder = Path(tempfile.mkdtemp(prefix="lpj-charts-"))
    process = None
    if pending:
        env = {**os.environ, "FONTCONFIG_FILE": str(fontconfig(folder))}
        process = subprocess.Popen(
            [sys.executable, "-m", "lpj_report.pngs", "--dpi", str(PNG_DPI), *map(str, pending)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return ChartFiles(blocks, out, svgs, process, folder, pending)


def write_chart_files(context: Mapping, out_dir: Path | str) -> list[Path]:
    """:func:`start_chart_files` and wait for them."""
    return start_chart_files(context, out_dir).wait()
