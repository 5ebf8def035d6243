"""The names and folders of the municipality editions, and which figures they publish.

Layer: figures (imports base modules only). A municipality is named by its codebook key, its
Danish label (any case, æøå) or an ASCII slug; :func:`resolve_kommune` always returns a codebook
key, so that it is safe as a folder name under ``<report>/kommuner/``. The figures of an edition
and the kinds of edition (which chapter sources each carries) are declared in
``templates/editions/manifest.yaml`` (:data:`MANIFEST`), read by :func:`edition_figure_ids` and
:func:`manifest_sections`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from lpj_report.cli_errors import InputError
from lpj_report.paths import REPORT_DIR, TEMPLATES_DIR
from lpj_report.readers import read_yaml

EDITIONS_DIR = TEMPLATES_DIR / "editions"
MANIFEST = EDITIONS_DIR / "manifest.yaml"
CHAPTERS_DIR = TEMPLATES_DIR / "chapters"
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


def _manifest() -> dict:
    raw = read_yaml(MANIFEST, "edition manifest") or {}
    if not isinstance(raw, dict):
        raise EditionError(f"{MANIFEST.name}: expected keys figures and editions")
    return raw


def edition_figure_ids() -> list[str]:
    """The figures published per municipality (``figures:`` of the manifest)."""
    figures = _manifest().get("figures") or []
    if not isinstance(figures, list) or not all(isinstance(f, str) for f in figures):
        raise EditionError(f"{MANIFEST.name}: figures: expected a list of figure ids")
    return list(figures)


@dataclass(frozen=True)
class Selection:
    """One chapter source of an edition: ``headings`` None for all of it, else the ``## ``
    sections kept (by heading); ``intro``: keep what precedes the first heading."""

    source: str
    headings: tuple[str, ...] | None = None
    intro: bool = True


@dataclass(frozen=True)
class Manifest:
    """A kind of edition: its name, subtitle and chapter sources in reading order."""

    name: str
    subtitle: str
    sections: tuple[Selection, ...]


def manifest_names() -> list[str]:
    return [str(k) for k in (_manifest().get("editions") or {})]


def default_manifest() -> str:
    editions = _manifest().get("editions") or {}
    marked = [k for k, v in editions.items() if isinstance(v, dict) and v.get("default")]
    if len(marked) != 1:
        raise EditionError(f"{MANIFEST.name}: editions: expected exactly one with default: true")
    return str(marked[0])


def load_manifest(name: str | None = None, folder: Path = CHAPTERS_DIR) -> Manifest:
    """The edition ``name`` (default: the one marked ``default: true``), its sources checked
    against the chapter sources of ``folder``."""
    name = name or default_manifest()
    editions = _manifest().get("editions") or {}
    if name not in editions:
        from lpj_report.terminal import suggestion

        hint = suggestion(str(name), {str(k): str(k) for k in editions})
        raise EditionError(f"{MANIFEST.name}: no edition {name!r}{hint}; choose from "
                           + ", ".join(map(str, editions)))
    spec = editions[name]
    where = f"{MANIFEST.name}: editions.{name}"
    if not isinstance(spec, dict):
        raise EditionError(f"{where}: expected keys sections and subtitle")
    known = sorted(p.stem for p in folder.glob("[!_]*.md"))
    raw = spec.get("sections")
    if raw == "all":
        sections = tuple(Selection(stem) for stem in known)
    elif isinstance(raw, list) and raw:
        out = []
        for i, item in enumerate(raw):
            item = {"source": item} if isinstance(item, str) else item
            if not isinstance(item, dict) or item.get("source") not in known:
                got = item.get("source") if isinstance(item, dict) else item
                raise EditionError(f"{where}.sections[{i}]: {got!r} is not a chapter source "
                                   f"of {folder.name}/; expected one of {', '.join(known)}")
            heads = item.get("headings")
            if heads is not None and (not isinstance(heads, list)
                                      or not all(isinstance(h, str) for h in heads)):
                raise EditionError(f"{where}.sections[{i}].headings: expected a list of "
                                   "headings")
            out.append(Selection(item["source"], None if heads is None else tuple(heads),
                                 bool(item.get("intro", True))))
        sections = tuple(out)
    else:
        raise EditionError(f"{where}.sections: expected a list of chapter sources or 'all'")
    return Manifest(str(name), str(spec.get("subtitle") or ""), sections)
