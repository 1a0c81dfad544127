"""QImage <-> numpy for the compare workers. Everything here runs in a worker thread: a
24-megapixel picture converts in tens of milliseconds, far too long for the GUI thread."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage

if TYPE_CHECKING:
    import numpy as np


def rgba_rows(image: QImage) -> np.ndarray:
    """A (height, width, 4) uint8 view of an RGBA8888 image's pixels (no copy)."""
    import numpy as np
    buffer = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes())
    rows = buffer.reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 4].reshape(image.height(), image.width(), 4)


class PixelArray:
    """A (H, W, 4) uint8 RGBA view of a picture scaled to `size`. The QImage that owns the
    memory lives as long as this object, so the view never outlives its pixels."""

    def __init__(self, image: QImage, size: QSize) -> None:
        if image.size() != size:
            image = image.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)
        self._owner = image.convertToFormat(QImage.Format.Format_RGBA8888)
        self.array = rgba_rows(self._owner)


def gray_array(image: QImage) -> np.ndarray:
    """A (H, W) uint8 copy of a mask picture's brightness (a service's furniture mask)."""
    import numpy as np
    grey = image.convertToFormat(QImage.Format.Format_Grayscale8)
    buffer = np.frombuffer(grey.constBits(), dtype=np.uint8, count=grey.sizeInBytes())
    rows = buffer.reshape(grey.height(), grey.bytesPerLine())
    return rows[:, : grey.width()].copy()


def to_qimage(rgba: np.ndarray) -> QImage:
    """An opaque (H, W, 4) RGBA array as a QImage of its own in Format_RGB32, the format Qt's
    painter scales fastest (the conversion copies, so the array may go)."""
    import numpy as np
    height, width = rgba.shape[:2]
    data = np.ascontiguousarray(rgba)
    view = QImage(data.data, width, height, width * 4, QImage.Format.Format_RGBA8888)
    return view.convertToFormat(QImage.Format.Format_RGB32)
