"""The two-colour difference of earlier versions: changed pixels in one colour over a dimmed
grey. The compare view's difference mode now draws a heat map (desktop/core/compare); this
stays for callers that want the plain mask and for scripts written against it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

if TYPE_CHECKING:
    import numpy as np

DIFF_THRESHOLD = 24  # a channel must move by more than this (of 255) to count as changed
DIFF_HIGHLIGHT = (255, 32, 144)  # changed pixels; unchanged ones become a dimmed grey
DIFF_CHUNK_ROWS = 256


class DifferenceCancelled(Exception):
    """A newer pair replaced the one being compared."""


def rgba_rows(image: QImage) -> np.ndarray:
    """A (height, width, 4) uint8 view of an RGBA8888 image's pixels (no copy)."""
    import numpy as np
    buffer = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes())
    rows = buffer.reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 4].reshape(image.height(), image.width(), 4)


def compute_difference(before: QImage, after: QImage, threshold: int = DIFF_THRESHOLD,
                       cancelled: Callable[[], bool] | None = None) -> tuple[QImage, float]:
    """The after in dimmed grey with every changed pixel in DIFF_HIGHLIGHT, and the fraction of
    pixels that changed. The before is first scaled to the after's size. Meant for a worker:
    row chunks keep memory bounded on 12 MP images and let a newer request stop this one."""
    import numpy as np
    fmt = QImage.Format.Format_RGBA8888
    width, height = after.width(), after.height()
    if before.size() != after.size():
        before = before.scaled(width, height, Qt.AspectRatioMode.IgnoreAspectRatio,
                               Qt.TransformationMode.SmoothTransformation)
    # keep the converted images referenced: the arrays below are views into their memory
    after_rgba = after.convertToFormat(fmt)
    before_rgba = before.convertToFormat(fmt)
    after_px = rgba_rows(after_rgba)
    before_px = rgba_rows(before_rgba)
    out = np.empty((height, width, 4), dtype=np.uint8)
    highlight = np.array([*DIFF_HIGHLIGHT, 255], dtype=np.uint8)
    changed_count = 0
    for top in range(0, height, DIFF_CHUNK_ROWS):
        if cancelled is not None and cancelled():
            raise DifferenceCancelled
        a = after_px[top : top + DIFF_CHUNK_ROWS].astype(np.int16)
        b = before_px[top : top + DIFF_CHUNK_ROWS].astype(np.int16)
        changed = np.abs(a - b).max(axis=2) > threshold
        changed_count += int(changed.sum())
        wide = a.astype(np.int32)  # 228 * 150 does not fit an int16
        luma = (wide[..., 0] * 77 + wide[..., 1] * 150 + wide[..., 2] * 29) >> 8
        grey = (40 + luma * 45 // 100).astype(np.uint8)
        chunk = out[top : top + DIFF_CHUNK_ROWS]
        chunk[..., 0] = grey
        chunk[..., 1] = grey
        chunk[..., 2] = grey
        chunk[..., 3] = 255
        chunk[changed] = highlight
    image = QImage(out.data, width, height, width * 4, fmt).copy()
    return image, changed_count / max(width * height, 1)
