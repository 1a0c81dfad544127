"""Pictures are decoded at the size they are shown at: reduced for a fitted view."""

from __future__ import annotations

import io

from PIL import Image
from PySide6.QtCore import QSize
from PySide6.QtGui import QImage

from desktop.ui import qimages


def jpeg(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 100, 50)).save(buf, "JPEG")
    return buf.getvalue()


def test_the_factor_keeps_a_pixel_per_screen_pixel_either_way_round() -> None:
    screen = QSize(1920, 1080)
    assert qimages.fit_factor(4000, 6000, screen) == 3  # turned: 6000 / 1920
    assert qimages.fit_factor(6000, 4000, screen) == 3
    assert qimages.fit_factor(1000, 800, screen) == 1
    assert qimages.fit_factor(4000, 6000, None) == 1
    assert qimages.fit_factor(4000, 6000, QSize(800, 600)) == 5  # not 7: 1200 px >= 1024


def test_a_decode_for_a_small_view_is_reduced_and_a_full_one_is_not() -> None:
    data = jpeg(2000, 3000)
    small = qimages.qimage_from_bytes(data, "r.jpg", fit=QSize(500, 300))
    assert qimages.fit_factor(2000, 3000, QSize(500, 300)) == 2  # 1500 px still >= 1024
    assert (small.width(), small.height()) == (1000, 1500)
    assert small.format() == QImage.Format.Format_RGB32
    r, g, b, _a = small.pixelColor(100, 100).getRgb()
    assert abs(r - 200) <= 3 and abs(g - 100) <= 3 and abs(b - 50) <= 3
    full = qimages.qimage_from_bytes(data, "r.jpg")
    assert (full.width(), full.height()) == (2000, 3000)
