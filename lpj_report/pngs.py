"""PNG copies of SVG charts, all in one process: ``python -m lpj_report.pngs --dpi 200 A.svg …``.

Layer: charts (may import base … format, and its own layer).

Writes ``A.png`` beside every ``A.svg`` with librsvg and cairo (Debian ``librsvg2-2``, which
``rsvg-convert`` brings) called through ctypes: one process for every chart instead of one
``rsvg-convert`` each. The caller sets ``FONTCONFIG_FILE`` so that only the shipped font is
known (:func:`svg_to_png` does the same for one chart with rsvg-convert). Imports nothing but
the standard library, :mod:`lpj_report.paths` and :mod:`lpj_report.chart_names`, so that it
starts at once.

Exit status 0: every PNG written; 3: librsvg or cairo cannot be loaded here (the caller draws
the PNGs another way); 1: a file could not be converted (named on stderr).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import subprocess
import sys
from pathlib import Path

from lpj_report.chart_names import PNG_DPI
from lpj_report.paths import ROOT

FONT_DIR = ROOT / "assets" / "fonts"

NO_LIBRARY = 3
_FORMAT_ARGB32 = 0


class _Rectangle(ctypes.Structure):
    _fields_ = [("x", ctypes.c_double), ("y", ctypes.c_double),
                ("width", ctypes.c_double), ("height", ctypes.c_double)]


class _GError(ctypes.Structure):
    _fields_ = [("domain", ctypes.c_uint32), ("code", ctypes.c_int),
                ("message", ctypes.c_char_p)]


def _libraries():
    rsvg = ctypes.CDLL("librsvg-2.so.2")
    cairo = ctypes.CDLL("libcairo.so.2")
    gobject = ctypes.CDLL("libgobject-2.0.so.0")
    error = ctypes.POINTER(ctypes.POINTER(_GError))
    rsvg.rsvg_handle_new_from_data.restype = ctypes.c_void_p
    rsvg.rsvg_handle_new_from_data.argtypes = [ctypes.c_char_p, ctypes.c_size_t, error]
    rsvg.rsvg_handle_set_dpi.argtypes = [ctypes.c_void_p, ctypes.c_double]
    rsvg.rsvg_handle_get_intrinsic_size_in_pixels.restype = ctypes.c_int
    rsvg.rsvg_handle_get_intrinsic_size_in_pixels.argtypes = [
        ctypes.c_void_p, ctypes.POINTER(ctypes.c_double), ctypes.POINTER(ctypes.c_double)]
    rsvg.rsvg_handle_render_document.restype = ctypes.c_int
    rsvg.rsvg_handle_render_document.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                                                 ctypes.POINTER(_Rectangle), error]
    cairo.cairo_image_surface_create.restype = ctypes.c_void_p
    cairo.cairo_image_surface_create.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    cairo.cairo_create.restype = ctypes.c_void_p
    cairo.cairo_create.argtypes = [ctypes.c_void_p]
    cairo.cairo_set_source_rgb.argtypes = [ctypes.c_void_p] + [ctypes.c_double] * 3
    cairo.cairo_paint.argtypes = [ctypes.c_void_p]
    cairo.cairo_surface_write_to_png.restype = ctypes.c_int
    cairo.cairo_surface_write_to_png.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    cairo.cairo_destroy.argtypes = [ctypes.c_void_p]
    cairo.cairo_surface_destroy.argtypes = [ctypes.c_void_p]
    gobject.g_object_unref.argtypes = [ctypes.c_void_p]
    return rsvg, cairo, gobject


def _message(error) -> str:
    return error.contents.message.decode("utf-8", "replace") if error else "unknown error"


def convert(svg: Path, dpi: float, libraries) -> Path:
    """``svg`` → ``svg.with_suffix('.png')`` at ``dpi``, on white."""
    rsvg, cairo, gobject = libraries
    data = svg.read_bytes()
    error = ctypes.POINTER(_GError)()
    handle = rsvg.rsvg_handle_new_from_data(data, len(data), ctypes.byref(error))
    if not handle:
        raise ValueError(f"{svg}: {_message(error)}")
    try:
        rsvg.rsvg_handle_set_dpi(handle, dpi)
        width, height = ctypes.c_double(), ctypes.c_double()
        if not rsvg.rsvg_handle_get_intrinsic_size_in_pixels(handle, ctypes.byref(width),
                                                             ctypes.byref(height)):
            raise ValueError(f"{svg}: the SVG has no width and height")
        w, h = round(width.value), round(height.value)
        surface = cairo.cairo_image_surface_create(_FORMAT_ARGB32, w, h)
        context = cairo.cairo_create(surface)
        try:
            cairo.cairo_set_source_rgb(context, 1.0, 1.0, 1.0)
            cairo.cairo_paint(context)
            area = _Rectangle(0.0, 0.0, float(w), float(h))
            if not rsvg.rsvg_handle_render_document(handle, context, ctypes.byref(area),
                                                    ctypes.byref(error)):
                raise ValueError(f"{svg}: {_message(error)}")
            png = svg.with_suffix(".png")
            if cairo.cairo_surface_write_to_png(surface, str(png).encode()) != 0:
                raise OSError(f"{png}: cairo could not write the PNG")
            return png
        finally:
            cairo.cairo_destroy(context)
            cairo.cairo_surface_destroy(surface)
    finally:
        gobject.g_object_unref(handle)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lpj_report.pngs", description=__doc__)
    parser.add_argument("--dpi", type=float, default=200.0)
    parser.add_argument("svg", nargs="+", type=Path)
    args = parser.parse_args(argv)
    try:
        libraries = _libraries()
    except (OSError, AttributeError) as error:
        print(f"librsvg/cairo not usable here: {error}", file=sys.stderr)
        return NO_LIBRARY
    for svg in args.svg:
        try:
            convert(svg, args.dpi, libraries)
        except (OSError, ValueError) as error:
            print(error, file=sys.stderr)
            return 1
    return 0


def fontconfig(folder: Path) -> Path:
    """A fontconfig file that knows only the shipped fonts (rsvg-convert draws with them)."""
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        f"<dir>{FONT_DIR}</dir>\n<cachedir>{folder / 'fc-cache'}</cachedir>\n</fontconfig>\n",
        encoding="utf-8",
    )
    return conf


def svg_to_png(svg: str, png_path: Path, work: Path, dpi: int = PNG_DPI) -> None:
    """PNG twin of a chart with ``rsvg-convert`` (Debian ``librsvg2-bin``) and the shipped font."""
    tool = shutil.which("rsvg-convert")
    if tool is None:
        raise RuntimeError("rsvg-convert not found: apt-get install librsvg2-bin")
    env = {**os.environ, "FONTCONFIG_FILE": str(fontconfig(work))}
    subprocess.run(
        [tool, "--dpi-x", str(dpi), "--dpi-y", str(dpi), "--format", "png", "-o", str(png_path)],
        input=svg.encode("utf-8"),
        env=env,
        check=True,
        capture_output=True,
    )


if __name__ == "__main__":
    sys.exit(main())
