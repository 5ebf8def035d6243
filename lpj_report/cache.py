"""The build cache: results stored under ``.cache/`` by the hashes of their inputs.

Layer: base (imports only the standard library and :mod:`lpj_report.paths`).

A build reuses what it computed before when nothing it was computed from has changed: the
loaded, validated, derived and protected data with its figures, findings and text variables
(:mod:`lpj_report.cached_build`), every chart (:mod:`lpj_report.chart_cache`: wide, narrow),
every chart's PNG (:mod:`lpj_report.chart_files`), the chapters' compiled Jinja code
(:mod:`lpj_report.chapters`), the PDF and DOCX of an HTML (:mod:`lpj_report.publish`) and each
separately rendered part of a PDF (:mod:`lpj_report.pdf_parts`). Each
entry's key is a SHA-256 over what it depends
on, always including :func:`code_version` (the package's sources, the libraries' versions, the
shipped fonts), so a changed input or changed code simply finds no entry; nothing is ever
invalidated by hand and nothing stale can be read.

Entries are files ``<folder>/<kind>/<key>``: a header line with the SHA-256 of the payload, then
the payload. An entry whose payload does not match its digest (a truncated or altered file) is
removed and counted as a miss, so the caller computes the value again; it is never trusted.
Writes go to a temporary file in the same folder, then :func:`os.replace`, so parallel builds
(the editions' workers, ``make -j``) can share one folder: a reader sees a whole entry or none.
Pickled entries are only ever the project's own, read after their digest matched.

The folder is ``--cache-dir``, else ``LPJ_CACHE_DIR``, else ``.cache/`` in the project;
``--no-cache`` builds without reading or writing it; ``make clean`` removes ``.cache/``. The
cache changes no output byte: a build with it gives the same files as one without.

:data:`STATS` counts hits, misses and rejected entries per kind, for the tests and the
benchmark (``lpj build`` prints nothing about it).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

from lpj_report.paths import ROOT

DEFAULT_DIR = ROOT / ".cache"
ENV_VAR = "LPJ_CACHE_DIR"
_MAGIC = b"lpj-cache 1 "
_KIND_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
#: hits, misses and rejected (corrupt) entries, by ``"<event>:<kind>"``
STATS: Counter[str] = Counter()
#: the libraries whose versions can change a cached value (numbers, charts, pickles)
LIBRARIES = ("numpy", "pandas", "pyarrow", "scipy", "statsmodels", "matplotlib", "jinja2",
             "markdown-it-py", "babel", "pandera", "weasyprint", "pydyf", "pikepdf",
             "fonttools", "pypandoc-binary", "openpyxl", "xlsxwriter")


class Cache:
    """One cache folder (``folder=None``: a cache that holds nothing and keeps nothing)."""

    def __init__(self, folder: Path | str | None) -> None:
        self.folder = Path(folder) if folder is not None else None

    @property
    def enabled(self) -> bool:
        return self.folder is not None

    def _path(self, kind: str, key: str) -> Path:
        if not kind or set(kind) - _KIND_CHARS or not key.isalnum():
            raise ValueError(f"bad cache entry name {kind!r}/{key!r}")
        return self.folder / kind / key

    def get(self, kind: str, key: str) -> bytes | None:
        """The payload stored under ``kind``/``key``, or None (absent, unreadable, corrupt)."""
        if self.folder is None:
            return None
        path = self._path(kind, key)
        try:
            raw = path.read_bytes()
        except OSError:
            STATS[f"miss:{kind}"] += 1
            return None
        head, _, payload = raw.partition(b"\n")
        if head != _MAGIC + hashlib.sha256(payload).hexdigest().encode("ascii"):
            STATS[f"corrupt:{kind}"] += 1
            STATS[f"miss:{kind}"] += 1
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        STATS[f"hit:{kind}"] += 1
        return payload

    def put(self, kind: str, key: str, payload: bytes) -> None:
        """Store ``payload`` atomically; a folder that cannot be written is no error (the
        build goes on without keeping it)."""
        if self.folder is None:
            return
        path = self._path(kind, key)
        head = _MAGIC + hashlib.sha256(payload).hexdigest().encode("ascii") + b"\n"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=f".{key[:16]}-", dir=path.parent)
        except OSError:
            STATS[f"unwritable:{kind}"] += 1
            return
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(head + payload)
            os.replace(temp, path)
            STATS[f"stored:{kind}"] += 1
        except OSError:
            STATS[f"unwritable:{kind}"] += 1
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temp)

    def get_object(self, kind: str, key: str) -> Any | None:
        """A pickled entry of this project, after its digest matched; None as for :meth:`get`
        (and when it cannot be unpickled)."""
        payload = self.get(kind, key)
        if payload is None:
            return None
        try:
            return pickle.loads(payload)  # noqa: S301 (own entry, digest checked)
        except Exception:
            STATS[f"corrupt:{kind}"] += 1
            return None

    def put_object(self, kind: str, key: str, value: Any) -> None:
        try:
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            STATS[f"unpicklable:{kind}"] += 1
            return
        self.put(kind, key, payload)

    def object(self, kind: str, key: str | None, make: Callable[[], Any],
               valid: Callable[[Any], bool]) -> Any:
        """The object stored under ``kind``/``key`` when ``valid`` says it is one, else
        ``make()``'s, stored there (``key`` None, or no folder: made and not kept)."""
        if key is None or not self.enabled:
            return make()
        found = self.get_object(kind, key)
        if found is not None and valid(found):
            return found
        value = make()
        self.put_object(kind, key, value)
        return value


_NONE = Cache(None)
_CURRENT: ContextVar[Cache | None] = ContextVar("lpj_cache", default=None)


def current() -> Cache:
    """The cache of the build running now (:func:`using`); by default one that holds nothing."""
    return _CURRENT.get() or _NONE


def chosen() -> Cache | None:
    """The cache a command chose (:func:`using`: a folder, or none with ``--no-cache``); None
    outside a command that chose one."""
    return _CURRENT.get()


@contextlib.contextmanager
def using(store: Cache) -> Iterator[Cache]:
    token = _CURRENT.set(store)
    try:
        yield store
    finally:
        _CURRENT.reset(token)


def folder_for(cache_dir: str | Path | None = None, no_cache: bool = False) -> Path | None:
    """The folder a command uses: None with ``no_cache``, else ``cache_dir``, else
    ``LPJ_CACHE_DIR``, else ``.cache/`` in the project."""
    if no_cache:
        return None
    if cache_dir:
        return Path(cache_dir)
    return Path(os.environ[ENV_VAR]) if os.environ.get(ENV_VAR) else DEFAULT_DIR


def key(*parts: object) -> str:
    """A SHA-256 (hex) over ``parts``: bytes as they are, anything else by its ``repr``; each
    part's length is hashed before it, so that no two different lists give the same key."""
    digest = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else repr(part).encode("utf-8")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def files_digest(paths: Iterable[Path], root: Path = ROOT) -> str:
    """A SHA-256 over the files' names (relative to ``root`` where possible) and bytes; files
    under a folder in ``paths`` are included, sorted, hidden ones left out."""
    files: set[Path] = set()
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files.update(p for p in path.rglob("*") if p.is_file()
                         and not any(part.startswith(".") for part in p.relative_to(path).parts)
                         and "__pycache__" not in p.parts)
        elif path.is_file():
            files.add(path)
    digest = hashlib.sha256()
    for path in sorted(files):
        resolved = path.resolve()
        try:
            name = str(resolved.relative_to(root.resolve()))
        except ValueError:
            name = str(resolved)
        data = resolved.read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


@cache
def code_version() -> str:
    """A SHA-256 over everything besides the inputs that can change a cached value: the
    package's sources, the shipped fonts, the Python and the libraries' versions."""
    from importlib import metadata

    versions = []
    for name in LIBRARIES:
        try:
            versions.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name}=-")
    package = Path(__file__).resolve().parent
    return key(sys.version, versions, files_digest([package], package),
               files_digest([ROOT / "assets" / "fonts"]))
