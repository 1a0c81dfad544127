"""Pictures for the provider tools' lists: a service's picture downloaded through the provider
(its download rules and size limits), checked and shrunk in a worker thread, shown as an icon.

A picture that cannot be had (an expired link, a damaged file) is a grey tile with the reason
as its tooltip: a list is never held up or broken by one picture.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap

from desktop.core import imaging
from desktop.core.contract import ProviderError
from desktop.core.limits import Limits
from desktop.core.model import InvalidInput

log = logging.getLogger(__name__)

Download = Callable[[str], Awaitable[bytes]]

ICON_SIZE = 112


def _shrink(data: bytes, size: int, max_pixels: int) -> QImage:
    """Check and shrink a picture (worker thread); the QImage owns its memory."""
    thumb = imaging.thumbnail(data, "The picture", size=size, max_pixels=max_pixels)
    image = QImage.fromData(thumb.data)
    if image.isNull():
        raise InvalidInput("The picture could not be shown.")
    return image


def placeholder(size: int = ICON_SIZE, text: str = "") -> QIcon:
    """A grey tile (with a word on it) where a picture is missing or still loading."""
    pixmap = QPixmap(QSize(size, size))
    pixmap.fill(QColor(200, 200, 200))
    if text:
        painter = QPainter(pixmap)
        painter.setPen(QColor(90, 90, 90))
        painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                         text)
        painter.end()
    return QIcon(pixmap)


class Thumbnails:
    """Downloads and shrinks pictures once per address (a link seen again is not fetched
    again)."""

    def __init__(self, limits: Limits | None = None, size: int = ICON_SIZE) -> None:
        self.size = size
        self.max_pixels = (limits or Limits()).result_max_pixels
        self._images: dict[str, QImage] = {}

    async def image(self, url: str, download: Download) -> QImage:
        """The shrunk picture; ProviderError or InvalidInput (a sentence) when there is none."""
        found = self._images.get(url)
        if found is not None:
            return found
        data = await download(url)
        image = await asyncio.to_thread(_shrink, data, self.size, self.max_pixels)
        self._images[url] = image
        return image

    async def icon(self, url: str | None, download: Download) -> tuple[QIcon, str]:
        """An icon for a list (on the GUI thread: QPixmap is made here), and "" or the reason
        the picture is missing."""
        if not url:
            return placeholder(self.size, "No picture"), "There is no picture yet."
        try:
            image = await self.image(url, download)
        except (ProviderError, InvalidInput) as exc:
            why = exc.message if isinstance(exc, ProviderError) else str(exc)
            log.info("A tool's picture could not be loaded: %s", why)
            return placeholder(self.size, "No picture"), why
        return QIcon(QPixmap.fromImage(image)), ""
