"""Content-addressed files: inputs and outputs named by their SHA-256, written atomically.

Layout: `<root>/<aa>/<sha256>.<ext>` for files and `<root>/thumbs/<aa>/<sha256>-<size>.<ext>`
for cached thumbnails. The same bytes are stored once, whatever job they belong to. All methods
are blocking file I/O: callers on an event loop run them in a worker thread.

A downloaded result does not pass through memory on its way in: it is written to
`<root>/.incoming/part-*.tmp` as it arrives (`AssetStore.incoming`), hashed while written,
checked, and then renamed to its content address (`AssetStore.commit`): the same filesystem,
so the rename is atomic and a crash leaves at most a part file, never a half file under a
final name. Part files left by a crash are removed when a store is opened a day later.

The folder may be shared by a team (RESTYLE_ASSETS_DIR, a network drive several machines
write to at once): every write goes to a temporary file with a unique name in the folder it
ends in and is renamed onto its content address, so two writers of the same bytes both end
with one intact file, and a reader sees the whole file or none. A shared store leaves the
folder's permissions to whoever set it up and gives its files the user's usual mode (so
teammates can read them), where a desk's own store keeps both to the user.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from desktop.core import imaging
from desktop.core.files import _fsync_dir, atomic_write, shareable
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


#: The folder of results on their way in, beside the stored files (one filesystem).
INCOMING_DIR = ".incoming"
#: Part files older than this are leftovers of a crash (a download never takes a day).
STALE_PART_S = 24 * 3600.0


class IncomingClosed(OSError):
    """A write to an incoming file that was already discarded or committed (a download
    thread that outlived its cancelled job)."""


class AssetMismatch(OSError):
    """A file brought in is not what its name says (its SHA-256 differs): not stored."""


#: The size of the pieces a file is copied and hashed in.
_CHUNK = 1 << 20


class Incoming:
    """One result arriving: a temporary file in the store's folder, hashed as it is written.

    A ResultSink (desktop.core.contract): `write` and `reset` come from the download's worker
    thread, `discard` may come from another thread (a cancelled job), so each takes a lock and
    a write after `discard` raises IncomingClosed instead of writing to a removed file.
    `discard` is safe to call at any time, any number of times; after `AssetStore.commit` it
    does nothing. Use it as a context manager to discard on the way out.
    """

    def __init__(self, folder: Path, *, shared: bool = False) -> None:
        fd, name = tempfile.mkstemp(prefix="part-", suffix=".tmp", dir=folder)
        if shared:
            shareable(fd)
        self.path = Path(name)
        self._file = os.fdopen(fd, "w+b", buffering=0)
        self._hash = hashlib.sha256()
        self._size = 0
        self._lock = threading.Lock()
        self._closed = False

    @property
    def size(self) -> int:
        return self._size

    @property
    def sha256(self) -> str:
        """The hex SHA-256 of everything written since the last reset."""
        with self._lock:
            return self._hash.hexdigest()

    def write(self, chunk: bytes) -> None:
        with self._lock:
            if self._closed:
                raise IncomingClosed("the download's file was discarded")
            self._file.write(chunk)
            self._hash.update(chunk)
            self._size += len(chunk)

    def reset(self) -> None:
        with self._lock:
            if self._closed:
                raise IncomingClosed("the download's file was discarded")
            self._file.seek(0)
            self._file.truncate()
            self._hash = hashlib.sha256()
            self._size = 0

    def head(self, size: int = 4096) -> bytes:
        """The first `size` bytes written (to sniff what the file is)."""
        with self._lock:
            return os.pread(self._file.fileno(), size, 0)

    def read(self) -> bytes:
        """Everything written, read back once (to verify a result it has to be decoded)."""
        with self._lock:
            self._file.seek(0)
            data = self._file.read()
            self._file.seek(0, os.SEEK_END)
            return data

    def _finish(self) -> None:
        """Flush to disk and close before the rename (called by AssetStore.commit)."""
        with self._lock:
            if self._closed:
                raise IncomingClosed("the download's file was discarded")
            os.fsync(self._file.fileno())
            self._file.close()
            self._closed = True

    def discard(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._file.close()
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def __enter__(self) -> Incoming:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.discard()

    def __repr__(self) -> str:
        return f"Incoming({self.path.name}, {self._size} bytes)"


class AssetStore:
    def __init__(self, root: Path, *, max_pixels: int = Limits().result_max_pixels,
                 shared: bool = False) -> None:
        """`max_pixels`: the largest image thumbnails are made of. Stored results were checked
        against limits.result_max_megapixels on the way in, inputs against a lower limit.
        `shared`: a team's folder (see the module docstring)."""
        self.shared = shared
        self.root = self._folder(root)
        self.max_pixels = max_pixels
        self._incoming_dir: Path | None = None

    def _folder(self, path: Path) -> Path:
        if self.shared:
            path.mkdir(parents=True, exist_ok=True)
            return path
        return private_dir(path)

    def incoming(self) -> Incoming:
        """A new temporary file for a result on its way in (see the module docstring)."""
        if self._incoming_dir is None:
            self._incoming_dir = self._folder(self.root / INCOMING_DIR)
            self._remove_stale_parts(self._incoming_dir)
        return Incoming(self._incoming_dir, shared=self.shared)

    @staticmethod
    def _remove_stale_parts(folder: Path) -> None:
        """Part files a crash left behind; a fresh one may be another process's download."""
        cutoff = time.time() - STALE_PART_S
        for part in folder.glob("part-*.tmp"):
            with contextlib.suppress(OSError):
                if part.stat().st_mtime < cutoff:
                    part.unlink()

    def commit(self, incoming: Incoming, mime: str, *, width: int | None = None,
               height: int | None = None) -> Asset:
        """Store a checked incoming file under its hash: fsynced, then renamed into place
        (atomic: the same filesystem). When the same bytes are already stored the part file
        is simply removed."""
        digest = incoming.sha256
        size = incoming.size
        self._place(incoming, self.path_for(digest, mime), keep_stored=True)
        return Asset(sha256=digest, mime=mime, size=size, width=width, height=height)

    def import_file(self, source: Path, sha256: str, mime: str) -> bool:
        """Bring a file from another store (`restyle-cli db copy --assets-from`) in under its
        content address, the way a download comes in (`incoming`): copied to a part file,
        hashed on the way, renamed only when its SHA-256 is `sha256` (else AssetMismatch,
        nothing stored). False when the same file is stored already (its hash is checked
        too: a damaged copy is replaced)."""
        path = self.path_for(sha256, mime)
        if path.exists() and _file_sha256(path) == sha256:
            return False
        with self.incoming() as incoming:
            with source.open("rb") as src:
                while chunk := src.read(_CHUNK):
                    incoming.write(chunk)
            if incoming.sha256 != sha256:
                raise AssetMismatch(f"{source} is not the file its name says: its SHA-256 is"
                                    f" {incoming.sha256}, not {sha256}.")
            self._place(incoming, path, keep_stored=False)
        return True

    @staticmethod
    def _place(incoming: Incoming, path: Path, *, keep_stored: bool) -> None:
        """Flush an incoming file to disk and rename it onto `path`; with `keep_stored`, a
        file of the same size already there is kept (the same bytes: content-addressed)."""
        size = incoming.size
        incoming._finish()
        try:
            if not (keep_stored and _stored(path, size)):
                path.parent.mkdir(parents=True, exist_ok=True)
                _rename_into_place(incoming.path, path, size)
        finally:
            incoming.discard()  # removes the part file if the rename did not happen

    def path_for(self, sha256: str, mime: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.{extension_for(mime)}"

    def put(
        self, data: bytes, mime: str, *, width: int | None = None, height: int | None = None,
        sha256: str | None = None,
    ) -> Asset:
        """Store bytes under their hash (once) and return the asset describing them.
        `sha256`: the hex digest of `data` when the caller has just computed it (a prepared
        input), so megabytes are not hashed twice; only ever this process's own digest."""
        digest = sha256 or sha256_hex(data)
        path = self.path_for(digest, mime)
        if not _stored(path, len(data)):
            try:
                atomic_write(path, data, shared=self.shared)
            except OSError:
                # Another writer's rename of the same bytes may have won (on Windows a file
                # being read cannot be replaced): theirs is as good as ours.
                if not _stored(path, len(data)):
                    raise
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
        # A cache: losing it costs a re-render.
        atomic_write(path, thumb.data, fsync=False, shared=self.shared)
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


def _stored(path: Path, size: int) -> bool:
    """The content address holds a file of this size (its name is its hash: same bytes)."""
    try:
        return path.stat().st_size == size
    except OSError:
        return False


def _rename_into_place(tmp: Path, path: Path, size: int) -> None:
    """Rename a finished temporary file onto its content address (atomic on one filesystem).
    When another writer's rename of the same bytes won and ours cannot replace it (Windows,
    some network drives), theirs stays."""
    try:
        os.replace(tmp, path)
    except OSError:
        if not _stored(path, size):
            raise
        return
    _fsync_dir(path.parent)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
