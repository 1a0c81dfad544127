"""Inputs normalised once per content: the same photo sent in many jobs is decoded once.

Normalising an input proves it decodes (a full decode even when the bytes are sent as they
are) and may re-encode it: about 6 ms for a 1024 px JPEG, far more for a large photo. A batch,
a retry or a comparison sends the same file again and again, so the engine keeps the result
by the SHA-256 of the bytes read and the provider limits it was normalised to. The bytes are
still read and hashed for every job: a file changed on disk is a new key, never a stale hit.
Only successes are kept (a refused image is refused again, with its own sentence), and the
cache is bounded by the bytes it holds, least recently used first out.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from desktop.core import imaging

#: The encoded bytes the cache holds at most (a few large photos, dozens of small ones).
DEFAULT_MAX_BYTES = 32 << 20

Normalizer = Callable[..., imaging.EncodedImage]


class NormalizedCache:
    """A thread-safe LRU of (raw SHA-256, limits) -> (EncodedImage, its SHA-256)."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES,
                 normalize: Normalizer = imaging.normalize) -> None:
        self.max_bytes = max_bytes
        self._normalize = normalize
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[Any, ...], tuple[imaging.EncodedImage, str]] = (
            OrderedDict())
        self._bytes = 0
        #: Lookups answered from the cache and lookups that normalised (for tests and figures).
        self.hits = 0
        self.misses = 0

    def normalize_and_hash(self, data: bytes, name: str, **limits: Any
                           ) -> tuple[imaging.EncodedImage, str]:
        """`imaging.normalize(data, name, **limits)` and the SHA-256 of its bytes, from the
        cache when these bytes were normalised to these limits before (blocking: run it in a
        worker, it hashes megabytes)."""
        raw = hashlib.sha256(data).hexdigest()
        key = (raw, len(data), *sorted(limits.items()))
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
        encoded = self._normalize(data, name, **limits)
        # Bytes sent as they are keep their hash: no second pass over them.
        digest = raw if encoded.data is data else encoded.sha256
        entry = (encoded, digest)
        size = len(encoded.data)
        if size > self.max_bytes:
            return entry
        with self._lock:
            if key not in self._entries:
                self._entries[key] = entry
                self._bytes += size
                while self._bytes > self.max_bytes:
                    _key, (old, _digest) = self._entries.popitem(last=False)
                    self._bytes -= len(old.data)
        return entry

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
