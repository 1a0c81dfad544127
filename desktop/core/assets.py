"""Content-addressed files: inputs and outputs named by their SHA-256, written atomically.

Layout: `<root>/<aa>/<sha256>.<ext>` for files and `<root>/thumbs/<aa>/<sha256>-<size>.<ext>`
for cached thumbnails. The same bytes are stored once, whatever job they belong to. All methods
are blocking file I/O: callers on an event loop run them in a worker thread.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from pathlib import Path

from desktop.core import imaging
from desktop.core.files import atomic_write
from desktop.core.limits import Limits
from desktop.core.model import Asset
from desktop.core.permissions import private_dir

_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/avif": "avif",
    "image/gif": "gif",
    "image/bmp": "bmp",
    "image/tiff": "tiff",
    "image/heic": "heic",
    "image/heif": "heif",
    "video/mp4": "mp4",
    "video/webm": "webm",
    "video/quicktime": "mov",
    "video/x-matroska": "mkv",
}


def extension_for(mime: str) -> str:
    return _EXTENSIONS.get(mime, "bin")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class AssetStore:
    def __init__(self, root: Path, *, max_pixels: int = Limits().result_max_pixels) -> None:
        """`max_pixels`: the largest image thumbnails are made of. Stored results were checked
        against limits.result_max_megapixels on the way in, inputs against a lower limit."""
        self.root = private_dir(root)
        self.max_pixels = max_pixels

    def path_for(self, sha256: str, mime: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.{extension_for(mime)}"

    def put(
        self, data: bytes, mime: str, *, width: int | None = None, height: int | None = None
    ) -> Asset:
        """Store bytes under their hash (once) and return the asset describing them."""
        digest = sha256_hex(data)
        path = self.path_for(digest, mime)
        if not (path.exists() and path.stat().st_size == len(data)):
            atomic_write(path, data)
        return Asset(sha256=digest, mime=mime, size=len(data), width=width, height=height)

    def read(self, asset: Asset) -> bytes:
        return self.path_for(asset.sha256, asset.mime).read_bytes()

    def exists(self, asset: Asset) -> bool:
        return self.path_for(asset.sha256, asset.mime).exists()

    def thumbnail(self, asset: Asset, size: int = 256) -> Path:
        """Path of a cached thumbnail no larger than size x size, made on first use (a large
        image is decoded reduced: see imaging.thumbnail)."""
        for ext in ("jpg", "png"):
            cached = self._thumb_path(asset.sha256, size, ext)
            if cached.exists():
                return cached
        thumb = imaging.thumbnail(self.read(asset), self.path_for(asset.sha256, asset.mime).name,
                                  size=size, max_pixels=self.max_pixels)
        path = self._thumb_path(asset.sha256, size, extension_for(thumb.mime))
        atomic_write(path, thumb.data, fsync=False)  # a cache: losing it costs a re-render
        return path

    def _thumb_path(self, sha256: str, size: int, ext: str) -> Path:
        return self.root / "thumbs" / sha256[:2] / f"{sha256}-{size}.{ext}"

    def remove(self, assets: Iterable[Asset]) -> int:
        """Delete files and their thumbnails; returns how many files were removed."""
        removed = 0
        for asset in assets:
            path = self.path_for(asset.sha256, asset.mime)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed += 1
            thumb_dir = self.root / "thumbs" / asset.sha256[:2]
            if thumb_dir.is_dir():
                for thumb in thumb_dir.glob(f"{asset.sha256}-*"):
                    with contextlib.suppress(FileNotFoundError):
                        thumb.unlink()
        return removed
