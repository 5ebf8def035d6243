"""Disclosure control computed once per wave: the suppression pattern kept in a file.

Layer: figures (imports base modules only: ``paths``). The complementary suppression over all
municipalities (:func:`lpj_report.suppression.protect`) is the slow part of an edition; it
depends only on the respondent data, the figures, populations and codebook, the minimum base and
the code that computes it. :func:`cached` keys a result by the SHA-256 of all of these and keeps
it in ``.cache/suppression/<key>.json`` (``$LPJ_CACHE_DIR/suppression`` when that is set), so
that every edition of a wave — ``lpj editions``, each shard of ``lpj editions --shard``, each
``lpj build --kommune`` — uses the one pattern.

An entry is written atomically (a temporary file renamed over it) and carries the SHA-256 of its
content; an entry that does not parse, names another key or fails its digest is computed again
and replaced, never used. While one process computes an entry, others asking for the same key
wait for it (an advisory lock on ``<key>.lock``) instead of computing it too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lpj_report.paths import ROOT

FORMAT = 1   # the layout of an entry; part of the key
_SOURCES = ("suppression.py", "suppression_families.py", "suppression_audit.py",
            "suppression_lp.py", "suppression_cache.py")


def default_folder() -> Path | None:
    """``suppression/`` in the cache folder the command chose (``--cache-dir``; None with
    ``--no-cache``), else ``$LPJ_CACHE_DIR/suppression``, or ``.cache/suppression`` in the
    project."""
    from lpj_report import cache

    store = cache.chosen()
    if store is not None:
        return store.folder / "suppression" if store.folder is not None else None
    base = os.environ.get("LPJ_CACHE_DIR")
    return (Path(base) if base else ROOT / ".cache") / "suppression"


def canonical(obj: Any) -> Any:
    """``obj`` as JSON-ready lists and numbers, the same in every process (sets sorted, dicts
    in their order, dataclasses as their fields): the input of a key."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: canonical(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                if f.compare}
    if isinstance(obj, dict):   # in order: the order of categories and filters matters
        return [["dict"], *([canonical(k), canonical(v)] for k, v in obj.items())]
    if isinstance(obj, (set, frozenset)):
        return [["set"], *sorted((canonical(v) for v in obj), key=json.dumps)]
    if isinstance(obj, (list, tuple)):
        return [canonical(v) for v in obj]
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    return repr(obj)


def data_digest(df: pd.DataFrame) -> str:
    """SHA-256 of a data frame's columns, dtypes and values (row order included)."""
    h = hashlib.sha256()
    h.update(json.dumps([[str(c), str(t)] for c, t in df.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()


def code_digest() -> str:
    """SHA-256 of the modules that compute the suppression, and the solver's version."""
    import scipy

    here = Path(__file__).resolve().parent
    h = hashlib.sha256(f"format {FORMAT}; scipy {scipy.__version__}".encode())
    for name in _SOURCES:
        h.update(name.encode())
        h.update((here / name).read_bytes())
    return h.hexdigest()


def key_of(df: pd.DataFrame, settings: Any) -> str:
    """The entry's key: data, settings (figures, populations, codebook, minimum base …) and
    code, hashed together."""
    text = json.dumps([code_digest(), data_digest(df), canonical(settings)], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _digest(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def read(folder: Path, key: str) -> Any | None:
    """The stored payload of ``key``, or None when there is none or it cannot be trusted."""
    try:
        entry = json.loads((folder / f"{key}.json").read_text(encoding="utf-8"))
        if entry.get("key") != key or entry.get("sha256") != _digest(entry.get("payload")):
            return None
        return entry["payload"]
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        return None


def write(folder: Path, key: str, payload: Any) -> None:
    """Store ``payload`` under ``key`` atomically (never a half-written entry)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"key": key, "sha256": _digest(payload), "payload": payload},
                      sort_keys=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{key[:12]}-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, folder / f"{key}.json")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class _Lock:
    """An advisory lock on ``<key>.lock`` (none where the platform has no ``fcntl``)."""

    def __init__(self, path: Path) -> None:
        self.path, self.file = path, None

    def __enter__(self):
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return self
        try:
            self.file = open(self.path, "a")  # noqa: SIM115 (held until __exit__)
            fcntl.flock(self.file.fileno(), fcntl.LOCK_EX)
        except OSError:     # a read-only or lock-less file system: compute without waiting
            self.file = None
        return self

    def __exit__(self, *exc) -> None:
        if self.file is not None:   # the entry is written: who waits re-reads it, then goes
            self.path.unlink(missing_ok=True)
            self.file.close()


def cached(folder: Path | None, key: str, compute: Callable[[], Any]) -> Any:
    """The payload of ``key`` from ``folder``, else ``compute()`` stored there. ``folder=None``:
    always compute, store nothing."""
    if folder is None:
        return compute()
    found = read(folder, key)
    if found is not None:
        return found
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return compute()
    with _Lock(folder / f"{key}.lock"):
        found = read(folder, key)       # another process may have written it meanwhile
        if found is not None:
            return found
        payload = compute()
        with contextlib.suppress(OSError):  # a cache that cannot be written only costs time
            write(folder, key, payload)
        return payload
