"""Decoding stored images into QImages, meant to run in a worker thread.

Pillow (through core.imaging) decodes every format Restyle accepts, HEIC and AVIF included,
with EXIF orientation applied; the pixels are copied into a QImage that owns its memory, so it
can cross to the GUI thread (a QImage over a Python buffer does not own it:
docs/ARCHITECTURE.md, Images).

The QImage comes in the format the panes draw fast (desktop/ui/canvas_images.py
`display_format`): Format_RGB32 when every pixel is opaque, Format_ARGB32_Premultiplied
otherwise. Pillow's packers write that layout (BGRX / premultiplied BGRa on little-endian
machines) band by band straight into the QImage's memory, so a decode holds Pillow's pixels
and the QImage, never a third full-size buffer, and the GUI thread converts nothing.

Results can be far larger than a screen needs (a 4x upscale is 16384 x 16384, 1 GB as a
QImage). Two limits reduce a decode (core.imaging's reduced decoding: JPEG at libjpeg's
reduced scales, PNG band by band, never the full size in memory):
- `fit`: the largest size, in physical pixels, the picture is shown at while fitted (the
  screen). A 4000 x 6000 photo shown on a 1920 x 1080 screen is decoded at 1/5 (800 x 1200),
  enough for every fitted view; the window decodes the full size only when the user zooms in
  past that (desktop/ui/output_images.py).
- `display_pixels`: images over DISPLAY_MAX_PIXELS are never held at full size, zoomed or not;
  export and save still read the full-size file.
Qt's own decoders and their allocation limit (`QImageReader.allocationLimit`) are not involved.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QSize
from PySide6.QtGui import QImage

from desktop.core import imaging
from desktop.ui.canvas_images import display_format

#: Images with more pixels are shown reduced by the smallest whole factor that fits: 8192 x
#: 8192 is a 256 MiB QImage, the size Qt itself allows a decoded image by default.
DISPLAY_MAX_PIXELS = 8192 * 8192
_BAND_BYTES = 16 << 20  # pixels copied into the QImage at once
_LITTLE_ENDIAN = sys.byteorder == "little"
#: A copy reduced for the screen keeps at least this many pixels on its longer side (the
#: compare view's PYRAMID_FROM_SIDE): sharp in a large pane on a small screen, and prepared
#: by the view's worker, which also drops the pictures the view no longer shows.
MIN_REDUCED_SIDE = 1024


def fit_factor(width: int, height: int, fit: QSize | None) -> int:
    """The largest whole factor by which a width x height picture can be reduced and still
    have at least one pixel per screen pixel when fitted into `fit` (either way round: EXIF
    may turn it), and MIN_REDUCED_SIDE on its longer side; 1 without a `fit`."""
    if fit is None or fit.width() <= 0 or fit.height() <= 0:
        return 1
    # fitted, a picture is drawn at 1 / max(w / fw, h / fh) of its size; the orientation
    # that draws it largest decides
    needed = min(max(width / fit.width(), height / fit.height()),
                 max(width / fit.height(), height / fit.width()))
    return max(1, min(int(needed), max(width, height) // MIN_REDUCED_SIDE))


def _opaque(img: Image.Image) -> bool:
    return img.mode != "RGBA" or img.getchannel("A").getextrema() == (255, 255)


def _into_qimage(img: Image.Image, name: str) -> QImage:
    """Copy a decoded RGB/RGBA picture into a new QImage in its display format, band by band."""
    width, height = img.size
    opaque = _opaque(img)
    if not _LITTLE_ENDIAN:  # Pillow has no packer for big-endian ARGB32: convert as before
        return display_format(_rgba_qimage(img, name))
    fmt = QImage.Format.Format_RGB32 if opaque else QImage.Format.Format_ARGB32_Premultiplied
    image = QImage(width, height, fmt)
    if image.isNull():
        raise imaging.ImageError(f"{name} is too large to show ({width}x{height}): there is "
                                 "not enough memory.")
    # RGB32 is 0xffRRGGBB in native order: bytes B, G, R, 0xff. Pillow's BGRX pads with 0, so
    # an RGB picture's alpha bytes are set afterwards; BGRA / BGRa carry the alpha themselves.
    raw = "BGRX" if img.mode == "RGB" else ("BGRA" if opaque else "BGRa")
    line = image.bytesPerLine()
    bits = image.bits()
    rows = max(1, _BAND_BYTES // line)
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        bits[top * line:bottom * line] = img.crop((0, top, width, bottom)).tobytes("raw", raw)
    if raw == "BGRX":
        import numpy as np  # deferred: numpy is not needed for the window's first paint

        np.frombuffer(bits, dtype=np.uint8)[3::4] = 255
    return image


def _rgba_qimage(img: Image.Image, name: str) -> QImage:
    width, height = img.size
    image = QImage(width, height, QImage.Format.Format_RGBA8888)
    if image.isNull():
        raise imaging.ImageError(f"{name} is too large to show ({width}x{height}): there is "
                                 "not enough memory.")
    line = image.bytesPerLine()
    bits = image.bits()
    rows = max(1, _BAND_BYTES // line)
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        bits[top * line:bottom * line] = img.crop((0, top, width, bottom)).convert(
            "RGBA").tobytes("raw", "RGBA")
    return image


def qimage_from_bytes(data: bytes, name: str, *, max_pixels: int = imaging.DEFAULT_MAX_PIXELS,
                      display_pixels: int = DISPLAY_MAX_PIXELS,
                      fit: QSize | None = None) -> QImage:
    """Decode and return a QImage in its display format that owns its pixels, reduced when
    the image has more than `display_pixels` or when `fit` (see `fit_factor`) allows.
    `max_pixels` is the largest image accepted at all (the result limit for results). Raises
    imaging.ImageError."""
    def factor_for(width: int, height: int) -> int:
        return max(imaging.display_factor(width, height, display_pixels),
                   fit_factor(width, height, fit))

    img = imaging._decode_reduced(data, name, max_pixels=max_pixels, factor_for=factor_for)
    try:
        return _into_qimage(img, name)
    finally:
        img.close()


def qimage_from_file(path: Path, *, max_pixels: int = imaging.DEFAULT_MAX_PIXELS,
                     display_pixels: int = DISPLAY_MAX_PIXELS,
                     fit: QSize | None = None) -> QImage:
    return qimage_from_bytes(path.read_bytes(), path.name, max_pixels=max_pixels,
                             display_pixels=display_pixels, fit=fit)
