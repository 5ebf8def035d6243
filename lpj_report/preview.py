"""``lpj preview``: the HTML of one wave or edition on localhost, rebuilt when a source is saved.

Layer: cli.

    lpj preview --wave 2002              the annual report at http://127.0.0.1:8000/
    lpj preview --kommune hasle          one municipality's edition
    lpj preview --port 8001 --chapters D the chapter sources of folder D instead

The page is the HTML ``lpj build`` writes (:func:`lpj_report.render.render_html_text` of the same
context), with a small inline script that asks ``/version`` twice a second and reloads the page
when a new build is there. A build that fails shows the first error instead, worded as the
command prints it (:func:`lpj_report.cli_errors.describe`), until a save fixes it.

What a save costs depends on what was saved (:func:`change_kind`):

* a chapter source (``*.md`` under ``templates/`` or ``--chapters``): only the text is rendered
  again. The loaded data, figures, findings and everything the sources see
  (:func:`lpj_report.report_context.text_variables`, or the edition's cube) are kept, and so
  are the drawn charts (:func:`lpj_report.charts.reuse`) and the compiled sources of the
  chapters that did not change;
* any other file under ``templates/`` (phrases, the page templates, CSS): the cached phrase and
  label files are read again, the data are kept;
* a file under ``data/figures``, ``data/findings``, ``data/codebook`` (or the waves, the
  published numbers, populations, disclosure; the editions' ``manifest.yaml``): the project and
  the data are loaded again. Charts whose numbers did not change are still not drawn again.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import os
import queue
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from lpj_report.paths import DATA_DIR, TEMPLATES_DIR

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: What a save of a file asks for, weakest first (see the module docstring).
TEXT, LAYOUT, DATA = "text", "layout", "data"
_ORDER = {None: 0, TEXT: 1, LAYOUT: 2, DATA: 3}
#: Folders watched, besides the chapter folder: whole folders, so that a save by renaming a new
#: file over the old one (as many editors do) is seen too; :func:`change_kind` picks the files.
WATCHED = (TEMPLATES_DIR, DATA_DIR)
#: What under ``data/`` the report is built from (the generator's settings are not).
DATA_PARTS = ("figures", "findings", "codebook", "published", "waves", "populations.yaml",
              "disclosure.yaml")
#: Charts kept between builds (the report draws about 60; old versions are dropped first).
KEPT_CHARTS = 400
POLL_MS = 500

# Charts are kept by their arguments, so a stale one cannot be shown; these caches of files are
# not, and are emptied when their files may have changed.
_TEXT_CACHES = (("lpj_report.report_context", "words"),
                ("lpj_report.report_context", "_environment"), ("lpj_report.paired", "words"),
                ("lpj_report.render", "_labels"), ("lpj_report.render", "_notices"))
_DATA_CACHES = (("lpj_report.codebook", "default_codebook"),
                ("lpj_report.figures", "default_figures"),
                ("lpj_report.suppression", "_file_config"))


def _clear(caches) -> None:
    for module, name in caches:
        loaded = sys.modules.get(module)
        if loaded is not None:
            getattr(loaded, name).cache_clear()


# ---------------------------------------------------------------------------- what is shown


class ReportSource:
    """The annual report of one wave, as ``lpj build`` makes its HTML."""

    def __init__(self, wave: str, responses: Path | None = None, min_base: int | None = None,
                 chapters: Path | None = None):
        from lpj_report.report_context import CHAPTERS_DIR

        self.wave, self.responses, self.min_base = wave, responses, min_base
        self.chapters = Path(chapters) if chapters else CHAPTERS_DIR
        self.build = None

    def load(self) -> None:
        """Project, data, figures and findings, and what the chapters see of them."""
        from lpj_report import render
        from lpj_report.build import protect
        from lpj_report.pipeline import Build, Project
        from lpj_report.provenance import default_date
        from lpj_report.report_context import chapter_environment, text_variables

        self.build = None
        project = Project()
        build = Build.load(project, self.wave, self.responses)
        protect(build, self.min_base)
        self.date = render.build_date(default_date(build.wave))
        self.variables = text_variables(build)
        self.env = chapter_environment(build)
        self.build = build

    def reread(self) -> None:
        """After a change of the phrase file: what the chapters see of it."""
        from lpj_report.report_context import wave_facts, words

        self.variables["O"] = words()
        self.variables["W"] = wave_facts(self.build)

    def context(self) -> dict:
        from lpj_report import format as fmt
        from lpj_report.report_context import chapters_context

        return chapters_context(self.build, self.variables, created=self.date.isoformat(),
                                build_date=fmt.date_long(self.date), env=self.env,
                                folder=self.chapters)

    @property
    def loaded(self) -> bool:
        return self.build is not None

    def describe(self) -> str:
        return f"wave {self.wave}"


class EditionSource:
    """One municipality's edition, as ``lpj build --kommune`` makes its HTML."""

    def __init__(self, wave: str, kommune: str, responses: Path | None = None,
                 min_base: int | None = None, chapters: Path | None = None,
                 manifest: str | None = None):
        from lpj_report.report_context import CHAPTERS_DIR

        self.wave, self.kommune, self.responses, self.min_base = wave, kommune, responses, min_base
        self.chapters = Path(chapters) if chapters else CHAPTERS_DIR
        self.manifest = manifest
        self.cube = None

    def load(self) -> None:
        from lpj_report import render
        from lpj_report.editions import (
            EditionError,
            edition_rows,
            edition_variables,
            make_cube,
            resolve_kommune,
        )
        from lpj_report.pipeline import Build, Project
        from lpj_report.provenance import default_date
        from lpj_report.report_context import chapter_environment

        self.cube = None
        project = Project()
        self.key = resolve_kommune(self.kommune, project.codebook)
        build = Build.load(project, self.wave, self.responses)
        cube = make_cube(project, build, self.min_base)
        if self.key not in cube.units:
            raise EditionError(f"{self.key}: no respondents in wave {build.wave.year}")
        self.rows = edition_rows(cube, self.key)
        self.date = render.build_date(default_date(build.wave))
        self.env = chapter_environment(build)
        self.cube = cube
        self.variables = edition_variables(cube, self.key, self.rows)

    def reread(self) -> None:
        """After a change of a phrase file: the comparisons worded again."""
        from lpj_report.editions import edition_variables
        from lpj_report.report_context import wave_facts, words

        shared = self.cube.shared.get("text")
        if shared is not None:
            shared.update(O=words(), W=wave_facts(self.cube.build))
        self.variables = edition_variables(self.cube, self.key, self.rows)

    def context(self) -> dict:
        from lpj_report import format as fmt
        from lpj_report.editions import edition_context

        return edition_context(self.cube, self.key, self.rows, created=self.date.isoformat(),
                               build_date=fmt.date_long(self.date), folder=self.chapters,
                               env=self.env, variables=self.variables, manifest=self.manifest)

    @property
    def loaded(self) -> bool:
        return self.cube is not None

    def describe(self) -> str:
        return f"the edition of {self.kommune}, wave {self.wave}"


def change_kind(paths, chapters: Path) -> str | None:
    """What the saved ``paths`` ask for: :data:`TEXT`, :data:`LAYOUT`, :data:`DATA` or None."""
    kind = None
    chapters = chapters.resolve()
    for path in map(Path, paths):
        path = path.resolve()
        if path.suffix == ".md" and (path.is_relative_to(chapters)
                                     or path.is_relative_to(TEMPLATES_DIR)):
            found = TEXT
        elif path.name == "manifest.yaml":      # the figures and parts of the editions
            found = DATA
        elif path.is_relative_to(chapters) or path.is_relative_to(TEMPLATES_DIR):
            found = LAYOUT
        elif (path.is_relative_to(DATA_DIR) and path.suffix not in (".md", ".txt", ".log")
              and path.relative_to(DATA_DIR).parts[:1] in [(p,) for p in DATA_PARTS]):
            found = DATA                        # not the notes beside the data
        else:
            found = None
        if _ORDER[found] > _ORDER[kind]:
            kind = found
    return kind


# ---------------------------------------------------------------------------- the page


@dataclass(frozen=True)
class Page:
    version: str
    body: bytes
    error: str = ""


_RELOAD = """<script>
(function () {
  var shown = "%(version)s";
  function ask() {
    fetch("/version", {cache: "no-store"}).then(function (answer) { return answer.text(); })
      .then(function (version) { if (version !== shown) { location.reload(); } })
      .catch(function () {});
  }
  setInterval(ask, %(poll)d);
})();
</script>
"""

_MESSAGE = """<!DOCTYPE html>
<html lang="da">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%(title)s</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 48rem; margin: 3rem auto; padding: 0 1rem;
       color: #262626; line-height: 1.5; }
pre { white-space: pre-wrap; background: #fff4e5; border-left: 4px solid #d55e00;
      padding: 1rem; font-size: 1rem; }
</style>
</head>
<body>
<main>
<h1>%(title)s</h1>
%(body)s
</main>
%(script)s</body>
</html>
"""


def _with_reload(document: str, version: str) -> str:
    script = _RELOAD % {"version": version, "poll": POLL_MS}
    head, found, tail = document.rpartition("</body>")
    return head + script + found + tail if found else document + script


def message_page(title: str, body: str, version: str) -> str:
    """A page of plain text (while building, or the error) that reloads itself."""
    return _MESSAGE % {"title": html.escape(title), "body": body,
                       "script": _RELOAD % {"version": version, "poll": POLL_MS}}


def error_page(message: str, version: str) -> str:
    return message_page(
        "Rapporten kunne ikke bygges",
        "<p>Den første fejl:</p>\n<pre>" + html.escape(message) + "</pre>\n"
        "<p>Ret filen og gem den igen; siden opdateres af sig selv.</p>", version)


class Preview:
    """The shown source, its latest page, and the rebuild after a save."""

    def __init__(self, source, log=None):
        self.source = source
        self.log = log or (lambda text: print(text, file=sys.stderr, flush=True))
        self._drawn: dict = {}                 # charts kept across builds (charts.reuse)
        self._count = 0
        self._stamp = f"{os.getpid()}-{time.monotonic_ns()}"
        self._lock = threading.Lock()
        version = self._next_version()
        self.page = Page(version, message_page(
            "Rapporten bygges", "<p>Siden vises, så snart den første udgave er bygget.</p>",
            version).encode("utf-8"))

    def _next_version(self) -> str:
        self._count += 1
        return f"{self._stamp}-{self._count}"

    def rebuild(self, kind: str = DATA) -> Page:
        """Build the page again after a change of ``kind`` (see :func:`change_kind`)."""
        from lpj_report import charts, render
        from lpj_report.cli_errors import describe

        started = time.perf_counter()
        with self._lock:
            version = self._next_version()
            try:
                with charts.reuse(self._drawn):
                    if kind == DATA or not self.source.loaded:
                        _clear(_DATA_CACHES + _TEXT_CACHES)
                        self.source.load()
                        kind = DATA
                    elif kind == LAYOUT:
                        _clear(_TEXT_CACHES)
                        self.source.reread()
                    document = render.render_html_text(self.source.context())
                page = Page(version, _with_reload(document, version).encode("utf-8"))
                self.log(f"built {self.source.describe()} in "
                         f"{time.perf_counter() - started:.1f} s ({kind})")
            except Exception as err:  # shown on the page; the preview goes on
                message = describe(err)
                if message is None:     # a fault of lpj, not of a file: the trace is for us
                    self.log("".join(traceback.format_exception(err)).rstrip())
                    message = ("internal error (please report it): "
                               + "".join(traceback.format_exception_only(err)).strip())
                else:
                    self.log(message)
                page = Page(version, error_page(message, version).encode("utf-8"), message)
            while len(self._drawn) > KEPT_CHARTS:
                del self._drawn[next(iter(self._drawn))]
            self.page = page
        return page


# ---------------------------------------------------------------------------- serving


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self._answer(body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(body=False)

    def _answer(self, body: bool) -> None:
        page = self.server.preview.page
        path = urlsplit(self.path).path
        if path in ("/", "/index.html"):
            data, kind = page.body, "text/html; charset=utf-8"
        elif path == "/version":
            data, kind = page.version.encode("ascii"), "text/plain; charset=utf-8"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's name)
        pass    # one line per poll would drown the build messages


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    preview: Preview


class PreviewServer:
    """Serve a :class:`Preview` and rebuild it when a watched file is saved.

    ``start`` binds the port, serves in a thread, builds once and then watches; ``stop`` (or
    leaving the ``with`` block) ends all of it."""

    def __init__(self, source, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, log=None,
                 watched=WATCHED):
        self.preview = Preview(source, log)
        self.host, self.port = host, port
        paths = [Path(p).resolve() for p in (*watched, source.chapters) if Path(p).exists()]
        self.paths = [p for p in dict.fromkeys(paths)     # none inside another (one event each)
                      if not any(p != q and p.is_relative_to(q) for q in paths)]
        self._stop = threading.Event()
        self._changes: queue.Queue = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._server: _Server | None = None
        self.first_build = threading.Event()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def start(self) -> PreviewServer:
        self._server = _Server((self.host, self.port), _Handler)
        self._server.preview = self.preview
        self.port = self._server.server_address[1]
        for target, name in ((self._server.serve_forever, "lpj-preview-http"),
                             (self._watch, "lpj-preview-watch"),
                             (self._build, "lpj-preview-build")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _watch(self) -> None:
        import watchfiles

        for changes in watchfiles.watch(*self.paths, stop_event=self._stop, debounce=1600,
                                        step=50, watch_filter=watchfiles.DefaultFilter(),
                                        raise_interrupt=False):
            kind = change_kind({path for _, path in changes}, self.preview.source.chapters)
            if kind is not None:
                self._changes.put(kind)

    def _build(self) -> None:
        self.preview.rebuild(DATA)
        self.first_build.set()
        while not self._stop.is_set():
            try:
                kind = self._changes.get(timeout=0.2)
            except queue.Empty:
                continue
            with contextlib.suppress(queue.Empty):  # saves made during the last build
                while True:
                    more = self._changes.get_nowait()
                    kind = more if _ORDER[more] > _ORDER[kind] else kind
            self.preview.rebuild(kind)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout)

    def wait(self) -> None:
        """Until :meth:`stop` or :meth:`request_stop` (Ctrl+C raises KeyboardInterrupt here)."""
        while not self._stop.wait(0.5):
            pass

    def request_stop(self, *_signal) -> None:
        """Make :meth:`wait` return (a signal handler)."""
        self._stop.set()

    def __enter__(self) -> PreviewServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def run_preview(args: argparse.Namespace) -> int:
    """``lpj preview``."""
    responses = Path(args.responses) if getattr(args, "responses", None) else None
    chapters = Path(args.chapters) if getattr(args, "chapters", None) else None
    if chapters is not None and not chapters.is_dir():
        print(f"error: {chapters}: --chapters must name a folder of chapter sources",
              file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print(f"error: --port {args.port}: expected a port number from 0 to 65535",
              file=sys.stderr)
        return 2
    min_base = getattr(args, "min_base", None)
    if getattr(args, "kommune", None):
        from lpj_report.cli_errors import InputError
        from lpj_report.codebook import load_codebook
        from lpj_report.editions import EditionError, load_manifest, resolve_kommune

        try:      # a name typed wrong is said at once; a codebook error shows on the page
            load_manifest(getattr(args, "manifest", None), chapters or TEMPLATES_DIR / "chapters")
            resolve_kommune(args.kommune, load_codebook())
        except EditionError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        except (InputError, OSError):
            pass
        source = EditionSource(args.wave, args.kommune, responses, min_base, chapters,
                               getattr(args, "manifest", None))
    else:
        source = ReportSource(args.wave, responses, min_base, chapters)
    server = PreviewServer(source, args.host, args.port)
    try:
        server.start()
    except OSError as err:
        print(f"error: {args.host}:{args.port}: {err.strerror or err}; choose another --port",
              file=sys.stderr)
        return 2
    print(f"Preview of {source.describe()} at {server.url} (Ctrl+C stops)", flush=True)
    signal.signal(signal.SIGTERM, server.request_stop)
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
