"""Decoded pictures the window keeps for a while, bounded by their bytes (least recently used
first out).

Going back and forth between two results, or from a grid cell to its job, decodes nothing a
second time; a hundred results opened in turn hold at most `max_bytes` of pixels. Whatever
the cache drops and nothing else holds is freed at once (the QImage's memory is its own).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

from PySide6.QtGui import QImage

#: About thirty pictures decoded for a 1920 x 1080 screen (2 MB each): going back and forth
#: is instant, and the window stays well within its memory goal (issue 13: < 400 MB). Full
#: sizes larger than this are held by the view only while shown.
DEFAULT_MAX_BYTES = 64 << 20


class ImageCache:
    """QImages by key, at most `max_bytes` of pixels together (GUI thread only)."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._images: OrderedDict[Hashable, QImage] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._images)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._images

    @property
    def bytes_held(self) -> int:
        return self._bytes

    def get(self, key: Hashable) -> QImage | None:
        """The picture kept under `key` (now the most recently used), else None."""
        image = self._images.get(key)
        if image is not None:
            self._images.move_to_end(key)
        return image

    def put(self, key: Hashable, image: QImage) -> int:
        """Keep `image` under `key`, dropping the least recently used pictures until the
        total fits; a picture larger than the whole cache is not kept. Returns the bytes
        dropped."""
        self.discard(key)
        size = image.sizeInBytes()
        if image.isNull() or size > self.max_bytes:
            return 0
        self._images[key] = image
        self._bytes += size
        dropped = 0
        while self._bytes > self.max_bytes:
            _key, old = self._images.popitem(last=False)
            self._bytes -= old.sizeInBytes()
            dropped += old.sizeInBytes()
        return dropped

    def discard(self, key: Hashable) -> None:
        old = self._images.pop(key, None)
        if old is not None:
            self._bytes -= old.sizeInBytes()

    def clear(self) -> None:
        self._images.clear()
        self._bytes = 0
