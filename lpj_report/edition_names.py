"""The names and folders of the municipality editions, and which figures they publish.

Layer: figures (imports base modules only). A municipality is named by its codebook key, its
Danish label (any case, æøå) or an ASCII slug; :func:`resolve_kommune` always returns a codebook
key, so that it is safe as a folder name under ``<report>/kommuner/``. The figures of an edition
are listed in ``templates/editions/_figurer.yaml`` (:data:`MANIFEST`).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from lpj_report.cli_errors import InputError
from lpj_report.paths import REPORT_DIR, TEMPLATES_DIR
from lpj_report.readers import read_yaml

EDITIONS_DIR = TEMPLATES_DIR / "editions"
MANIFEST = EDITIONS_DIR / "_figurer.yaml"
SUBDIR = "kommuner"
_KEY = re.compile(r"^[a-z0-9_]+$")


class EditionError(InputError):
    """An edition cannot be built as asked (unknown municipality, bad template)."""


_DANISH = {"long": (("æ", "ae"), ("ø", "oe"), ("å", "aa")),
           "short": (("æ", "a"), ("ø", "o"), ("å", "a"))}


def slugify(text: str, style: str = "long") -> str:
    """ASCII slug of a Danish name: ``Hillerød`` → ``hilleroed``, ``Bramsnæs`` → ``bramsnaes``
    (``style="short"``: ``hillerod``, ``bramsnas``)."""
    text = unicodedata.normalize("NFC", str(text)).strip().casefold()
    for a, b in _DANISH[style]:
        text = text.replace(a, b)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def resolve_kommune(name: str, codebook) -> str:
    """The codebook key of a municipality named by key, Danish label (any case, æøå) or slug.

    Anything else raises :class:`EditionError` listing the valid names — the result is always one
    of the codebook's keys, so it is safe as a folder name."""
    var = codebook["kommune"]
    wanted = unicodedata.normalize("NFC", str(name)).strip().casefold()
    plain = re.fullmatch(r"[\w -]+", wanted) is not None   # letters, digits, space, hyphen
    for code in var.codes:
        label = unicodedata.normalize("NFC", code.label).casefold()
        names = {code.key, label, slugify(code.label), slugify(code.label, "short")}
        if plain and (wanted in names or slugify(name) in names):
            return code.key
    from lpj_report.terminal import suggestion

    valid = ", ".join(f"{c.label} ({c.key})" for c in var.codes)
    by_name = {**{c.label: c.label for c in var.codes}, **{c.key: c.key for c in var.codes}}
    hint = suggestion(str(name).strip(), by_name) if plain else ""
    raise EditionError(f"no municipality {name!r} in the codebook{hint}; valid names: {valid} "
                       "(lpj kommuner lists them)")


def edition_dir(out_root: Path, key: str) -> Path:
    """``<out_root>/kommuner/<key>``, checked to lie inside ``out_root``."""
    if not _KEY.match(key):
        raise EditionError(f"not a municipality key: {key!r}")
    root = out_root.resolve()
    path = (root / SUBDIR / key).resolve()
    if not path.is_relative_to(root / SUBDIR):
        raise EditionError(f"{path} is outside {root}")
    return path


def default_root(year: int) -> Path:
    return REPORT_DIR / str(year)


def edition_figure_ids() -> list[str]:
    raw = read_yaml(MANIFEST, "edition manifest") or {}
    return list(raw.get("figures") or [])
