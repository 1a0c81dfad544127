"""Decoding stored images into QImages, meant to run in a worker thread.

Pillow (through core.imaging) decodes every format Restyle accepts, HEIC and AVIF included,
with EXIF orientation applied; the pixels are copied into a QImage that owns its memory, so it
can cross to the GUI thread (a QImage over a Python buffer does not own it: DESIGN.md 5).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage

from desktop.core import imaging


def qimage_from_bytes(data: bytes, name: str) -> QImage:
    """Decode and return an RGBA QImage that owns its pixels. Raises imaging.ImageError."""
    img = imaging.open_image(data, name)
    rgba = img if img.mode == "RGBA" else img.convert("RGBA")
    raw = rgba.tobytes("raw", "RGBA")
    image = QImage(raw, rgba.width, rgba.height, rgba.width * 4, QImage.Format.Format_RGBA8888)
    return image.copy()


def qimage_from_file(path: Path) -> QImage:
    return qimage_from_bytes(path.read_bytes(), path.name)
