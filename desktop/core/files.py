"""Atomic file writes: a crash never leaves a half-written file under the final name."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def _read_umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


#: The process's umask, read once at import (reading it means setting it for a moment).
_UMASK = _read_umask()


def shareable(fd: int) -> None:
    """Give a file made by mkstemp (owner-only, 0600) the mode any new file of the user gets
    (0666 less the umask): an export is handed on, uploaded or opened by other programs, so
    it must not stay private like the history's own files."""
    if hasattr(os, "fchmod"):
        with contextlib.suppress(OSError):
            os.fchmod(fd, 0o666 & ~_UMASK)


def atomic_write(path: Path, data: bytes, *, fsync: bool = True, shared: bool = False) -> None:
    """Write `data` to a temp file beside `path`, fsync it, then rename it over `path`.
    `shared`: the file gets the user's usual mode (exports) instead of owner-only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    if shared:
        shareable(fd)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if fsync:
        _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
