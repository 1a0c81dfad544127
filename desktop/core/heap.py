"""Giving freed memory back to the operating system (glibc on Linux; a no-op elsewhere).

Decoding a 24-megapixel result allocates a few hundred megabytes in worker threads and frees
them when the next result is shown. glibc keeps freed heap in per-thread arenas, and its
dynamic mmap threshold climbs after the first large free, so later image buffers come from
those arenas and stay with the process: the window grew to 1.9 GB after 100 large results,
1.43 GB of it freed memory (issue 13). Two settings, made once at start-up, stop that:

- M_ARENA_MAX 2: at most two arenas, so freed blocks are reused rather than stranded in
  the arena of a thread that will not allocate again;
- M_MMAP_THRESHOLD 1 MiB (fixed, which also stops glibc raising it): pixel buffers (Pillow's
  blocks, QImages) are mapped on their own and unmapped the moment they are freed.

`trim()` (malloc_trim) hands back what the heap still holds after a large free.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

ARENA_MAX = 2
MMAP_THRESHOLD = 1 << 20

#: The settings `install` makes: (mallopt parameter, value).
SETTINGS: tuple[tuple[int, int], ...] = ((M_ARENA_MAX, ARENA_MAX),
                                         (M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (it has mallopt and malloc_trim), else None."""
    name = ctypes.util.find_library("c") or "libc.so.6"
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    if not (hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim")):
        return None  # musl and others
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.mallopt.restype = ctypes.c_int
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    libc.malloc_trim.restype = ctypes.c_int
    return libc


def install(*, platform: str = sys.platform,
            load: Callable[[], ctypes.CDLL | None] = _glibc) -> bool:
    """Make the settings above; True when glibc accepted every one (mallopt returns 1),
    False on other systems, where nothing is done. Call once, early, before threads start."""
    if not platform.startswith("linux"):
        return False
    libc = load()
    if libc is None:
        return False
    results = [libc.mallopt(param, value) for param, value in SETTINGS]
    return all(result == 1 for result in results)


_libc: ctypes.CDLL | None = None
_loaded = False


def trim(*, platform: str = sys.platform) -> bool:
    """Return free heap memory to the system (malloc_trim(0)); True when some was released.
    Cheap when there is nothing to give back; releases the GIL while it runs (ctypes)."""
    global _libc, _loaded
    if not platform.startswith("linux"):
        return False
    if not _loaded:
        _libc, _loaded = _glibc(), True
    return _libc is not None and _libc.malloc_trim(0) == 1
