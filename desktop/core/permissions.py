"""Restyle's own files readable by the user only: 0700 folders, 0600 files (POSIX).

The history holds prompts, parameters and input URLs, the logs hold provider answers, the
settings hold base URLs: none of it is for other accounts on the machine. A file is created
with its final mode (no moment at group- or world-readable), and one that exists with looser
bits is tightened. Only group and other bits are ever taken away; nothing is done on Windows,
where these modes mean nothing (a profile's folders are private there already), nor to a path
another user owns. A failure to change a mode is logged, never fatal: a read-only or foreign
file system must not stop Restyle from starting.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600


def enforced() -> bool:
    """False on Windows, where POSIX modes do not protect anything."""
    return os.name != "nt"


def tighten(path: Path, mode: int) -> None:
    """Drop the bits of `path` that `mode` does not allow (group and other, in practice).
    A missing path, one owned by someone else, or a file system that refuses is left alone."""
    if not enforced():
        return
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    except OSError as exc:
        log.warning("Could not check the permissions of %s: %s", path, exc)
        return
    current = stat.S_IMODE(info.st_mode)
    if current & ~mode == 0 or info.st_uid != os.getuid():
        return
    try:
        os.chmod(path, current & mode)
    except OSError as exc:
        log.warning("Could not make %s private (mode %o): %s", path, current & mode, exc)


def private_dir(path: Path) -> Path:
    """Make the folder (parents as usual) and keep it to the user: 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    tighten(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty with mode 0600 when missing, or tighten it when it exists, so that
    whatever opens it next (SQLite, a log handler) keeps the mode: SQLite gives its -wal and
    -shm files the database file's mode."""
    if enforced():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
        except FileExistsError:
            pass
        except OSError as exc:  # whoever opens it next says what is wrong, in its own words
            log.warning("Could not create %s as a private file: %s", path, exc)
            return path
    if path.is_file():  # never take the search bit off a folder that stands in its place
        tighten(path, FILE_MODE)
    return path
