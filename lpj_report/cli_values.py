"""The values of the ``lpj`` command's options, checked before any work starts.

Layer: cli (may import every layer; only lpj_report.cli imports it).

Each ``*_value`` function is an argparse ``type=``: it returns the value or raises
:class:`argparse.ArgumentTypeError` with the value and what was expected, which argparse prints as
``lpj build: error: argument --wave: …`` with exit code 2. :func:`check_disclosure` checks
``--min-base`` against the floor of ``data/disclosure.yaml`` once the options are known.
"""

from __future__ import annotations

import argparse
import math
import re
import sys

_YEAR = re.compile(r"[0-9]{4}")


def wave_value(text: str) -> str:
    """``--wave``: a wave's name, a plain year with a folder in data/waves — never a path."""
    from lpj_report.wave import available_waves

    known = available_waves()
    if _YEAR.fullmatch(text) and int(text) in known:
        return text
    shown = ", ".join(map(str, known)) or "none"
    raise argparse.ArgumentTypeError(
        f"value {text!r} — expected a survey wave, the year of a folder in data/waves "
        f"(known waves: {shown})")


def kommune_value(text: str) -> str:
    """``--kommune``: not blank (a blank name would build the annual report instead)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            f"value {text!r} — expected a municipality's key or name (lpj kommuner lists them)")
    return text


def alpha_value(text: str) -> float:
    """``--alpha``: a false discovery rate strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(
            f"value {text!r} — expected a false discovery rate between 0 and 1 (exclusive), "
            "e.g. 0.05")
    return value


def min_base_value(text: str) -> int:
    """``--min-base``: a whole number of at least 1 (the floor is checked later)."""
    if not re.fullmatch(r"[0-9]+", text.strip()) or int(text) < 1:
        raise argparse.ArgumentTypeError(
            f"value {text!r} — expected a whole number of respondents, at least 1")
    return int(text)


def port_value(text: str) -> int:
    """``--port``: 0 (any free port) to 65535."""
    if not re.fullmatch(r"[0-9]{1,5}", text.strip()) or int(text) > 65535:
        raise argparse.ArgumentTypeError(
            f"value {text!r} — expected a port number from 0 to 65535")
    return int(text)


def check_disclosure(args: argparse.Namespace) -> None:
    """``--min-base`` below the floor of data/disclosure.yaml is refused (InputError, exit 2)
    unless ``--allow-low-min-base`` is given; then it is said on stderr, and every output says
    so too (:func:`lpj_report.suppression.lowered`)."""
    if getattr(args, "min_base", None) is None:
        return
    from lpj_report.suppression import load_config

    config = load_config(args.min_base, allow_low=getattr(args, "allow_low_min_base", False))
    if config.lowered:
        print(f"warning: disclosure control lowered: --min-base {config.min_base} is below the "
              f"floor {config.floor} of data/disclosure.yaml (--allow-low-min-base); every "
              "output says so", file=sys.stderr)
