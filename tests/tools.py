"""The command-line programs the tests call (poppler, qpdf, librsvg, …), found on PATH."""

from __future__ import annotations

import shutil

import pytest


def tool(name: str, package: str) -> str:
    """The path of ``name``; the test fails (never skips) naming the package to install."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: apt-get install -y {package} (or `make sysdeps`)")
    return path
