"""Limits on what lpj reads, so that no file can make it run out of memory or time.

Layer: base (imports no other layer).

Each limit has a default and an environment variable that overrides it (a whole number):

================================  =======================  ==========================================
environment variable              default                  what it limits
================================  =======================  ==========================================
``LPJ_MAX_DATA_MB``               2048                     size of a responses file (MiB; for .xlsx
                                                           also the unpacked worksheet)
``LPJ_MAX_XLSX_COLUMNS``          1000                     columns of the used range of a worksheet
``LPJ_MAX_XLSX_ROWS``             1048576                  rows of the used range (Excel's maximum)
``LPJ_MAX_YAML_KB``               4096                     size of a YAML file (KiB)
``LPJ_MAX_YAML_ALIASES``          1000                     aliases (``*name``) in one YAML file
``LPJ_MAX_YAML_NODES``            1000000                  values in one YAML file with aliases expanded
``LPJ_MAX_JSON_MB``               512                      size of a figures.json (MiB)
================================  =======================  ==========================================

The limits are read when used, so a test or a user can set them per run.
"""

from __future__ import annotations

import os

DEFAULTS = {
    "LPJ_MAX_DATA_MB": 2048,
    "LPJ_MAX_XLSX_COLUMNS": 1000,
    "LPJ_MAX_XLSX_ROWS": 1_048_576,
    "LPJ_MAX_YAML_KB": 4096,
    "LPJ_MAX_YAML_ALIASES": 1000,
    "LPJ_MAX_YAML_NODES": 1_000_000,
    "LPJ_MAX_JSON_MB": 512,
}


def limit(name: str) -> int:
    """The limit ``name`` (a key of :data:`DEFAULTS`): the environment's value, else the default.

    A value that is not a positive whole number is ignored (the default applies).
    """
    text = os.environ.get(name, "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    return DEFAULTS[name]


def size_text(n_bytes: int) -> str:
    """A size for messages: ``8,0 GiB``, ``512 KiB`` (Danish decimal comma, binary units)."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n_bytes >= size:
            value = n_bytes / size
            text = f"{value:.1f}" if value < 100 else f"{value:.0f}"
            return f"{text.replace('.', ',')} {unit}"
    return f"{n_bytes} bytes"
