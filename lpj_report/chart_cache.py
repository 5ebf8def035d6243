"""Charts in the build cache (:mod:`lpj_report.cache`): each chart by the call that drew it.

Layer: charts (imports base only: :mod:`lpj_report.cache`).

A chart is a function of its arguments (:func:`lpj_report.charts.recipe`), so its entry's key is
the code version with the chart function's name and its pickled arguments (lists of labels and
numbers: the same pickle in every process). The wide SVG is stored as ``chart``, its phone layout
as ``chart-narrow`` and a PNG drawn by matplotlib as ``chart-png<dpi>``, all under the wide
chart's key, which :func:`entry_of` finds again from the SVG text.
"""

from __future__ import annotations

from collections.abc import Callable

from lpj_report import cache

#: svg text → its entry, for the charts drawn or read in this process while a cache was in use
_ENTRIES: dict[str, str] = {}


def call_key(function: Callable, args: tuple, kwargs: dict) -> tuple | None:
    """A chart call as something to compare: the function's name and its pickled arguments
    (None for arguments that cannot be pickled: such a chart is drawn again)."""
    import pickle

    try:
        return (function.__module__, function.__qualname__, pickle.dumps((args, kwargs)))
    except (pickle.PicklingError, TypeError, AttributeError):
        return None


def entry(call_key: tuple | None) -> str | None:
    """The entry of a chart call (:func:`call_key`), or None without a cache in use."""
    if call_key is None or not cache.current().enabled:
        return None
    return cache.key("chart", cache.code_version(), *call_key)


def stored_svg(entry_: str | None) -> str | None:
    data = cache.current().get("chart", entry_) if entry_ else None
    return data.decode("utf-8") if data is not None else None


def keep_svg(entry_: str | None, svg: str, stored: bool) -> None:
    """Remember ``svg``'s entry; store it unless it came from the cache."""
    if entry_:
        _ENTRIES.setdefault(svg, entry_)
        if not stored:
            cache.current().put("chart", entry_, svg.encode("utf-8"))


def entry_of(svg: str) -> str | None:
    return _ENTRIES.get(svg) if cache.current().enabled else None


def stored_variant(svg: str, kind: str) -> str | bytes | None:
    """The stored ``narrow`` (text) or ``png<dpi>`` (bytes) form of a chart, or None."""
    entry_ = entry_of(svg)
    data = cache.current().get(f"chart-{kind}", entry_) if entry_ else None
    if data is None or kind.startswith("png"):
        return data
    return data.decode("utf-8")


def keep_variant(svg: str, kind: str, value: object) -> None:
    entry_ = entry_of(svg)
    if entry_ and isinstance(value, str | bytes):
        cache.current().put(f"chart-{kind}", entry_,
                            value if isinstance(value, bytes) else value.encode("utf-8"))
