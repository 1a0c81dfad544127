"""Decoding stored images into QImages, meant to run in a worker thread.

Pillow (through core.imaging) decodes every format Restyle accepts, HEIC and AVIF included,
with EXIF orientation applied; the pixels are copied into a QImage that owns its memory, so it
can cross to the GUI thread (a QImage over a Python buffer does not own it: ARCHITECTURE.md,
Images).

Results can be far larger than a screen needs (a 4x upscale is 16384 x 16384, 1 GB as a
QImage, and the compare view adds pyramids and difference images on top). Images over
`DISPLAY_MAX_PIXELS` are therefore decoded reduced (core.imaging.open_for_display: JPEG at
libjpeg's reduced scales, PNG band by band), never held at full size; export and save still
read the full-size file. Qt's own decoders and their allocation limit
(`QImageReader.allocationLimit`, 256 MB in Qt 6) are not involved: Pillow decodes.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage

from desktop.core import imaging

#: Images with more pixels are shown reduced by the smallest whole factor that fits: 8192 x
#: 8192 is a 256 MiB RGBA QImage, the size Qt itself allows a decoded image by default.
DISPLAY_MAX_PIXELS = 8192 * 8192
_BAND_BYTES = 16 << 20  # pixels copied into the QImage at once


def qimage_from_bytes(data: bytes, name: str, *, max_pixels: int = imaging.DEFAULT_MAX_PIXELS,
                      display_pixels: int = DISPLAY_MAX_PIXELS) -> QImage:
    """Decode and return an RGBA QImage that owns its pixels, reduced when the image has more
    than `display_pixels`. `max_pixels` is the largest image accepted at all (the result
    limit for results). Raises imaging.ImageError."""
    img = imaging.open_for_display(data, name, max_pixels=max_pixels,
                                   display_pixels=display_pixels)
    width, height = img.size
    image = QImage(width, height, QImage.Format.Format_RGBA8888)
    if image.isNull():
        raise imaging.ImageError(f"{name} is too large to show ({width}x{height}): there is "
                                 "not enough memory.")
    # Band by band, so no second full-size buffer exists next to Pillow's and Qt's.
    line = image.bytesPerLine()
    bits = image.bits()
    rows = max(1, _BAND_BYTES // line)
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        band = img.crop((0, top, width, bottom))
        if band.mode != "RGBA":
            band = band.convert("RGBA")
        bits[top * line:bottom * line] = band.tobytes("raw", "RGBA")
    return image


def qimage_from_file(path: Path, *, max_pixels: int = imaging.DEFAULT_MAX_PIXELS,
                     display_pixels: int = DISPLAY_MAX_PIXELS) -> QImage:
    return qimage_from_bytes(path.read_bytes(), path.name, max_pixels=max_pixels,
                             display_pixels=display_pixels)
