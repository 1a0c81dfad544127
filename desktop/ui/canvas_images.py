"""Preparing pictures for the image panes (desktop/ui/image_canvas.py): pyramids of shrunk
copies and the pixel format that draws fast. Both run in a worker thread, once per picture.

Why a display format: pictures are decoded as RGBA8888 (desktop/ui/qimages.py), a format
Qt's raster painter cannot scale directly; every repaint then converts each drawn pixel first.
Opaque pictures drawn from Format_RGB32, and pictures with transparency drawn from
Format_ARGB32_Premultiplied, take Qt's fast paths instead (tests/perf/bench_compare_repaint.py
has the figures). The memory is the same (4 bytes a pixel) and the pixel values are unchanged
for opaque pictures.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

PYRAMID_MIN_SIDE = 512  # stop halving once a copy's longer side falls below this

_FAST_FORMATS = (QImage.Format.Format_RGB32, QImage.Format.Format_ARGB32_Premultiplied)
_ALPHA_ROWS = 512  # rows checked for transparency at a time (bounded temporary memory)


def _all_opaque(image: QImage) -> bool:
    """Whether every pixel of a Format_ARGB32_Premultiplied image has alpha 255."""
    import numpy as np
    buffer = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes())
    rows = buffer.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 4]
    # ARGB32 is stored as 0xAARRGGBB in native order: alpha is byte 3 on little endian
    alpha_byte = 3 if np.little_endian else 0
    for top in range(0, image.height(), _ALPHA_ROWS):
        if rows[top : top + _ALPHA_ROWS, alpha_byte::4].min(initial=255) != 255:
            return False
    return True


def display_format(image: QImage) -> QImage:
    """`image` in the format that draws fastest: Format_RGB32 when every pixel is opaque,
    Format_ARGB32_Premultiplied otherwise. Returns `image` itself when it already is in one
    of them. Meant for a worker thread (a 24 MP picture takes a few tens of ms)."""
    if image.isNull() or image.format() in _FAST_FORMATS:
        return image
    if not image.hasAlphaChannel():
        return image.convertToFormat(QImage.Format.Format_RGB32)
    converted = image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    if _all_opaque(converted):
        # an opaque premultiplied pixel is stored exactly as RGB32's 0xffRRGGBB: same bytes
        converted.reinterpretAsFormat(QImage.Format.Format_RGB32)
    return converted


def build_pyramid(image: QImage) -> list[QImage]:
    """Halved copies of `image` (largest first) down to PYRAMID_MIN_SIDE; run in a worker.

    Drawing a strongly shrunk image with bilinear filtering aliases; drawing from the copy
    nearest above the needed size looks like a proper downscale and is cheaper. The copies
    are in the display format (see `display_format`) whatever the format of `image`."""
    levels: list[QImage] = []
    current = display_format(image)
    while max(current.width(), current.height()) // 2 >= PYRAMID_MIN_SIDE:
        current = display_format(current.scaled(
            max(1, current.width() // 2), max(1, current.height() // 2),
            Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation))
        levels.append(current)
    return levels
