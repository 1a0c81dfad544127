"""Loading input images for the drop panes, off the GUI thread.

`PreviewLoader.load` turns a source (a file path or an http(s) URL) into a `Preview`: it reads
or downloads the bytes, checks them with `imaging.probe` (which decodes the whole first frame,
so truncated and oversized images are refused here, before a job is ever submitted), and makes
a small thumbnail. All of that runs in a worker thread; only the finished `QImage` crosses back.
Every failure is an `InvalidInput` whose message is the sentence the pane shows. Files are read
by `desktop.core.sources` (the same bounded reader jobs use), within the settings' `Limits`.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QUrl
from PySide6.QtGui import QImage

from desktop.core import imaging
from desktop.core.contract import ProviderError
from desktop.core.files import atomic_write
from desktop.core.humanize import human_bytes, human_duration
from desktop.core.limits import Limits, setting_name
from desktop.core.model import InvalidInput, RestyleError
from desktop.core.sources import (
    classify,
    file_name,
    is_http_url,
    load_file,
    shown,
    shown_url,
    url_name,
)

#: Downloads an http(s) URL and returns its bytes. The app injects one built on the providers'
#: HTTP client (the ui layer never imports httpx); it raises ProviderError or RestyleError with
#: a user sentence.
UrlFetcher = Callable[[str], Awaitable[bytes]]

THUMBNAIL_SIZE = 256


@dataclass(frozen=True)
class Preview:
    """A loaded input: where it came from, what it is, and a thumbnail to show."""

    source: str  # absolute file path or http(s) URL, as it will go into JobSpec.inputs
    name: str  # file name for display
    width: int  # pixel size after EXIF orientation
    height: int
    file_size: int  # bytes of the file / download
    mime: str
    thumbnail: QImage = field(compare=False, repr=False)  # <= 256 px, made in the worker


#: True for an http(s) URL (the only remote sources an input may have).
is_url = is_http_url


def local_path(text: str) -> str | None:
    """The absolute path `text` names (a path, '~/…' or a file:// URL), else None.

    Nothing is checked on disk: the loader says whether the file exists, in a worker.
    """
    text = text.strip()
    if text.lower().startswith("file:"):
        url = QUrl(text)
        return os.path.abspath(url.toLocalFile()) if url.isLocalFile() else None
    expanded = os.path.expanduser(text)
    if os.path.isabs(expanded) and "\n" not in expanded and "\0" not in expanded:
        return os.path.abspath(expanded)
    return None


def _describe(source: str, name: str, data: bytes, max_pixels: int) -> Preview:
    """Probe and thumbnail `data` (worker thread)."""
    info = imaging.probe(data, name, max_pixels=max_pixels)
    thumb = imaging.thumbnail(data, name, size=THUMBNAIL_SIZE)
    image = QImage.fromData(thumb.data)  # decodes into memory the QImage owns
    if image.isNull():
        raise InvalidInput(f"{name} could be read, but its preview could not be drawn.")
    return Preview(
        source=source,
        name=name,
        width=info.width,
        height=info.height,
        file_size=len(data),
        mime=info.mime,
        thumbnail=image,
    )


def _png_bytes(image: QImage) -> bytes:
    """Encode a QImage as PNG (QImage is reentrant: safe in a worker on an image it owns)."""
    array = QByteArray()
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    ok = image.save(buffer, "PNG")
    buffer.close()
    if not ok:
        raise InvalidInput("The pasted image could not be saved as PNG.")
    return bytes(array.data())


def _save_png(image: QImage, directory: Path) -> str:
    data = _png_bytes(image)
    digest = hashlib.sha256(data).hexdigest()
    path = directory / f"pasted-{digest[:16]}.png"
    if not path.exists():
        try:
            atomic_write(path, data)
        except OSError as exc:
            raise InvalidInput(
                f"The pasted image could not be saved in {directory} "
                f"({exc.strerror or exc}); check that the folder is writable."
            ) from None
    return str(path)


#: Pasted images are kept this long (30 days), for a pane that still shows one.
PASTED_KEEP_S = 30 * 24 * 3600.0


def _prune(folder: Path, older_than_s: float) -> int:
    cutoff = time.time() - older_than_s
    removed = 0
    for path in folder.glob("pasted-*.png") if folder.is_dir() else ():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed


class PreviewLoader:
    """Reads, validates and thumbnails input sources in worker threads."""

    def __init__(self, fetch_url: UrlFetcher | None, paste_dir: Path,
                 limits: Limits | None = None) -> None:
        self._fetch_url = fetch_url
        self._paste_dir = Path(paste_dir)
        self.limits = limits or Limits()

    @property
    def can_fetch_urls(self) -> bool:
        return self._fetch_url is not None

    @property
    def paste_dir(self) -> Path:
        return self._paste_dir

    async def load(self, source: str) -> Preview:
        """Load `source` (path, file:// URL or http(s) URL) into a Preview.

        Raises InvalidInput (ImageError for imaging problems) with the sentence to show.
        """
        source = source.strip()
        if not source:
            raise InvalidInput("No file or address was given.")
        if is_url(source):
            return await self._load_url(source)
        path = local_path(source)
        if path is None:
            classify(source)  # the precise sentence: control characters, ftp://, data:, ...
            raise InvalidInput(
                f"{shown(source)} is not a file path or an http(s) address; "
                "drop, paste or browse for an image file."
            )
        data = await load_file(path, self.limits)
        return await asyncio.to_thread(_describe, path, file_name(path), data,
                                       self.limits.input_max_pixels)

    async def _load_url(self, url: str) -> Preview:
        shown_address = shown_url(url)
        if self._fetch_url is None:
            raise InvalidInput(
                f"Cannot download {shown_address}: URL inputs are not enabled here. "
                "Save the image and drop the file instead."
            )
        classify(url)  # control characters
        limits = self.limits
        try:
            data = await asyncio.wait_for(self._fetch_url(url), limits.url_input_timeout_s + 1.0)
        except TimeoutError:
            raise InvalidInput(
                f"Cannot download {shown_address}: it took longer than "
                f"{human_duration(limits.url_input_timeout_s)} "
                f"({setting_name('url_input_timeout_s')} in settings.json)."
            ) from None
        except (RestyleError, ProviderError) as exc:  # ProviderError: the app's URL loader
            text = str(exc)
            if text.startswith("Could not download"):  # the loader's sentence names the URL
                raise InvalidInput(text) from None
            raise InvalidInput(f"Cannot download {shown_address}: {text}") from None
        except OSError as exc:
            raise InvalidInput(
                f"Cannot download {shown_address} ({exc.strerror or exc}); check the address "
                "and your connection."
            ) from None
        if len(data) > limits.url_input_max_bytes:
            raise InvalidInput(
                f"{url_name(url)} is {human_bytes(len(data))}, larger than the "
                f"{human_bytes(limits.url_input_max_bytes)} Restyle downloads for one image "
                f"({setting_name('url_input_max_bytes')} in settings.json)."
            )
        return await asyncio.to_thread(_describe, url, url_name(url), bytes(data),
                                       limits.input_max_pixels)

    async def prune_pasted(self, older_than_s: float = PASTED_KEEP_S) -> int:
        """Delete pasted images older than `older_than_s`; how many were removed.

        A job keeps its own copy of every input in the asset store (re-run and reuse fall
        back to it), so an old pasted file is needed by nothing."""
        return await asyncio.to_thread(_prune, self._paste_dir, older_than_s)

    async def save_pasted(self, image: QImage) -> str:
        """Write clipboard or dragged image data as a PNG named by its content hash; its path.

        The same picture pasted twice gives the same file, so the paste folder does not fill
        up with copies.
        """
        if image.isNull():
            raise InvalidInput("The pasted image is empty.")
        return await asyncio.to_thread(_save_png, image.copy(), self._paste_dir)
