"""A wave's protected build and its text variables, through the build cache.

Layer: cli (may import every layer; imported by :mod:`lpj_report.build`).

Everything ``lpj build`` computes from the data before the chapters are written — the responses
read, validated and derived, the figure table, the disclosure control, the findings and what the
chapter sources see (:func:`lpj_report.report_context.text_variables`) — is one pickled entry of
the build cache (:mod:`lpj_report.cache`, kind ``build``). Its key covers every file it is made
from: the data file, ``data/`` (codebook, figure registry, findings, published numbers, waves,
populations, disclosure settings), the phrase and label files under ``templates/`` (``*.yaml``),
the options and the code version. The chapter sources (``templates/chapters/*.md``) are not in
it: a change of a chapter's text finds this entry and only renders the text again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from lpj_report import cache
from lpj_report.paths import DATA_DIR, TEMPLATES_DIR

#: What under ``data/`` a build reads (the generator's settings are left out).
DATA_PARTS = ("figures", "findings", "codebook", "published", "waves", "populations.yaml",
              "disclosure.yaml")


def inputs_key(wave: str | int, responses: Path | None, min_base: int | None,
               allow_low: bool = False) -> str:
    """The key of a build's entry: the code version, the files it reads and the options."""
    sources = [DATA_DIR / part for part in DATA_PARTS]
    sources += sorted(TEMPLATES_DIR.rglob("*.yaml"))
    if responses is not None:
        sources.append(responses)
    return cache.key("build", cache.code_version(), cache.files_digest(sources), str(wave),
                     str(responses.resolve()) if responses is not None else "", min_base,
                     bool(allow_low))


def load(wave: str | int, responses: Path | None, min_base: int | None, allow_low: bool,
         protect: Callable[[Any, int | None, bool], None],
         inputs: str | None = None) -> tuple[Any, dict[str, Any]]:
    """(the protected :class:`lpj_report.pipeline.Build`, its text variables): from the cache
    in use when it holds them, else computed (``protect`` applies the disclosure control) and
    stored there. ``allow_low``: --allow-low-min-base. ``inputs``: :func:`inputs_key` of these
    arguments when the caller has it already."""
    from lpj_report.pipeline import Build, Project
    from lpj_report.report_context import text_variables

    store = cache.current()
    entry = (inputs or inputs_key(wave, responses, min_base, allow_low)) if store.enabled \
        else None

    def made() -> tuple[Any, dict[str, Any]]:
        build = Build.load(Project(), wave, responses)
        protect(build, min_base, allow_low)
        variables = text_variables(build)
        if entry is not None:
            build.__dict__.pop("_members", None)   # the findings' working set, not needed after
        return build, variables

    return store.object("build", entry, made, lambda found: isinstance(found, tuple)
                        and len(found) == 2 and isinstance(found[0], Build))
