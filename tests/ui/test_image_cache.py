"""The window's decoded-picture cache is bounded by bytes, least recently used first out."""

from __future__ import annotations

from PySide6.QtGui import QImage

from desktop.ui.image_cache import ImageCache


def picture(width: int, height: int = 100) -> QImage:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(0)
    return image


def test_the_least_recently_used_pictures_go_once_the_bytes_exceed_the_bound() -> None:
    a, b, c = picture(100), picture(100), picture(200)  # 40 kB, 40 kB, 80 kB
    cache = ImageCache(max_bytes=130_000)
    cache.put("a", a)
    cache.put("b", b)
    assert cache.bytes_held == 80_000
    assert cache.get("a") is a  # a is now the most recently used
    assert cache.put("c", c) == 40_000  # b goes: 40 + 80 fits, 40 + 40 + 80 does not
    assert "b" not in cache and cache.get("a") is a and cache.get("c") is c
    assert cache.bytes_held == 120_000 and len(cache) == 2


def test_a_picture_larger_than_the_cache_is_not_kept_and_replacing_counts_once() -> None:
    cache = ImageCache(max_bytes=50_000)
    cache.put("a", picture(100))
    cache.put("a", picture(100))
    assert cache.bytes_held == 40_000 and len(cache) == 1
    assert cache.put("big", picture(200)) == 0
    assert "big" not in cache and cache.get("a") is not None
    cache.clear()
    assert cache.bytes_held == 0 and cache.get("a") is None
