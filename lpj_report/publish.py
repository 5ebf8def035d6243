"""Writing one report's files into a folder: HTML, charts, workbook, PDF and DOCX.

Layer: render (may import base … charts, and its own layer).

Used by ``lpj build`` (the annual report) and by the municipality editions, so that every report
gets the same files:

* ``<name>.html`` — with each chart's phone layout;
* ``figurer/figur-NN-<id>.svg`` and ``.png`` — every chart as a file (the HTML links to them);
* ``tabeller.xlsx`` and any other file the caller hands over as a function;
* ``<name>.pdf`` and ``<name>.docx`` as asked.

The PDF takes longest. With a :class:`PdfWorker` it is made in a second process, side by side
with everything else: the worker is forked when the build starts and imports WeasyPrint while the
data are loaded, and gets the HTML as soon as there is one (before the charts' phone layouts are
drawn, which print does not use); meanwhile this process draws the chart files, writes the
workbook and the DOCX. Log records and warnings of the worker are handed back and re-issued
here, and an error there is raised here.

With a build cache in use (:mod:`lpj_report.cache`) the PDF and the DOCX are kept by the bytes
they are made from (the HTML, the DOCX's chart PNGs, ``templates/``, the code version): a build
whose HTML did not change writes the stored files and hands the worker nothing. A PDF that
must be made again is made part by part (:mod:`lpj_report.pdf_parts`), the worker reading and
keeping the parts in the same cache: after a change to one chapter's text only that chapter is
laid out again.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from lpj_report import cache, chart_files, pdf_pool, render
from lpj_report.paths import TEMPLATES_DIR

WORKBOOK = "tabeller.xlsx"
#: The formats :func:`publish` makes besides the chart files and the caller's files.
FORMATS = ("html", "pdf", "docx")


class PdfWorker:
    """A forked process that renders one PDF (:func:`lpj_report.render.render_pdf`).

    Start it early (WeasyPrint is imported there while this process works), :meth:`submit` the
    HTML, :meth:`wait` for the result; :meth:`close` in any case (a context manager does)."""

    def __init__(self) -> None:
        context = mp.get_context("fork")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_pdf_worker, args=(child,), daemon=True,
                                        name="lpj-pdf")
        self._process.start()
        child.close()
        self._submitted = False
        self._used = False

    def submit(self, html_path: Path, pdf_path: Path) -> None:
        """Render ``html_path`` into ``pdf_path``, with the build cache in use now (its parts)."""
        folder = cache.current().folder
        self._conn.send((str(html_path), str(pdf_path), None if folder is None else str(folder)))
        self._submitted = self._used = True

    @property
    def pending(self) -> bool:
        """A PDF was handed over and not yet waited for."""
        return self._submitted

    def wait(self) -> Path:
        """The PDF's path once it is written; the worker's error raised here."""
        if not self._submitted:
            raise RuntimeError("no HTML was handed to the PDF worker")
        try:
            status, payload, records, caught = self._conn.recv()
        except EOFError:
            self._process.join()
            raise RuntimeError(f"the PDF process ended without a result "
                               f"(exit code {self._process.exitcode})") from None
        finally:
            self._submitted = False
        for name, level, message in records:
            logging.getLogger(name).log(level, "%s", message)
        for category, message, filename, lineno in caught:
            warnings.warn_explicit(message, category, filename, lineno)
        if status != "ok":
            raise payload
        return Path(payload)

    def close(self) -> None:
        if self._process.is_alive() and not self._used:   # no PDF asked for (the cache had it)
            self._process.kill()
            self._process.join()
        if self._process.is_alive():
            with contextlib.suppress(BrokenPipeError, OSError):
                self._conn.send(None)
            self._process.join(timeout=5)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join()
        self._conn.close()

    def __enter__(self) -> PdfWorker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _pdf_worker(conn) -> None:
    """The worker's life: import WeasyPrint, wait for one job, render, report, exit."""
    handler = pdf_pool.Records(logging.WARNING)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            import weasyprint  # noqa: F401  (paid here, while the parent loads the data)

            job = conn.recv()
            if job is None:
                return
            try:
                html_path, pdf_path, folder = job
                with cache.using(cache.Cache(folder)):
                    result = ("ok", str(render.render_pdf(html_path, pdf_path)))
            except BaseException as error:  # handed back to the parent, raised there
                result = ("error", pdf_pool.picklable(error))
        found = [(w.category, str(w.message), w.filename, w.lineno) for w in caught]
        conn.send((*result, handler.records, found))
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        root.removeHandler(handler)
        conn.close()
        os._exit(0)  # no atexit handlers or buffers of the parent


def _entry(kind: str, *paths: Path) -> str:
    """The build cache's key of a PDF or DOCX: the bytes of the files it is made from (the
    HTML; the DOCX's chart PNGs), of everything under ``templates/`` (CSS, labels) and the code
    version (which covers WeasyPrint's and pandoc's versions and the shipped fonts)."""
    if not cache.current().enabled:
        return ""
    return cache.key(kind, cache.code_version(), cache.files_digest([TEMPLATES_DIR]),
                     *(path.read_bytes() for path in paths))


def _from_cache(kind: str, entry: str, path: Path) -> bool:
    """Write the stored file of ``entry`` to ``path``; False when there is none."""
    data = cache.current().get(kind, entry) if entry else None
    if data is not None:
        path.write_bytes(data)
    return data is not None


def _to_cache(kind: str, entry: str, path: Path) -> None:
    if entry:
        cache.current().put(kind, entry, path.read_bytes())


def publish(context: Mapping, folder: Path, name: str, formats: Iterable[str], *,
            files: Mapping[str, Callable[[str], bytes]] | None = None,
            pdf: PdfWorker | None = None) -> list[Path]:
    """Write the report of ``context`` into ``folder`` (see the module docstring); ``files``
    name further files and the functions that make their bytes from the HTML's text (the
    workbook; figures.json, whose lineage reads the sentences). Returns the files written, the
    chart files included."""
    from lpj_report.output import write_atomic

    formats = list(formats)
    folder = Path(folder)
    pdf_path = folder / f"{name}.pdf"
    early: list[Path] = []
    started: list[chart_files.ChartFiles] = []

    pdf_entry: list[str] = []

    def print_ready(path: Path) -> None:
        """The HTML without the phone layouts is there: start the PDF and the chart PNGs."""
        early.append(path)
        if pdf is not None:
            pdf_entry.append(_entry("pdf", path))
            if not _from_cache("pdf", pdf_entry[0], pdf_path):
                pdf.submit(path, pdf_path)
        started.append(chart_files.start_chart_files(context, folder))

    parallel = pdf is not None and "pdf" in formats
    if not parallel:
        pdf = None
    try:
        html = render.render_html(context, folder, name=name, print_ready=print_ready)
        text = html.read_text(encoding="utf-8")
        made = {filename: make(text) for filename, make in (files or {}).items()}
        written = [write_atomic(folder / filename, data) for filename, data in made.items()]
        written += started.pop().wait()
        if "pdf" in formats and not parallel:
            entry = _entry("pdf", html)
            if not _from_cache("pdf", entry, pdf_path):
                _to_cache("pdf", entry, render.render_pdf(html, pdf_path))
            written.append(pdf_path)
        if "docx" in formats:
            docx_path = folder / f"{name}.docx"
            entry = _entry("docx", html, *sorted((folder / chart_files.CHART_DIR).glob("*.png")))
            if not _from_cache("docx", entry, docx_path):
                _to_cache("docx", entry, render.render_docx(html, docx_path))
            written.append(docx_path)
        if parallel:
            if pdf.pending:
                _to_cache("pdf", pdf_entry[0], pdf.wait())
            written.append(pdf_path)
    finally:
        for path in early:
            path.unlink(missing_ok=True)
        for charts in started:   # only when something failed before they were waited for
            charts.cancel()
    if "html" in formats:
        written.append(html)
    else:
        html.unlink()
    return written
