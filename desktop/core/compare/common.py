"""What every compare module shares: the default threshold, cancelling, input checks, chunks.

Everything in this package works on numpy arrays (uint8, (H, W, 3) RGB or (H, W, 4) RGBA with
the alpha ignored) in row chunks, so a 24-megapixel pair is compared in a worker thread with a
few tens of MB of temporaries on top of the results, and a newer request can stop an older one
between two chunks through `cancelled`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


#: A channel must differ by more than this (0-254) for a pixel to count as changed.
DEFAULT_THRESHOLD = 24
#: The largest misalignment tolerance in pixels (a (2k+1)^2 neighbourhood per pixel).
MAX_TOLERANCE = 8
#: Pixels per row chunk: one uint8 RGB temporary of a chunk is 3 MB.
CHUNK_PIXELS = 1 << 20

CancelCheck = Callable[[], bool] | None


class Cancelled(Exception):
    """Raised when `cancelled()` turns true part-way through a comparison."""

    def __init__(self, message: str = "The comparison was cancelled before it finished.") -> None:
        super().__init__(message)


def check_cancelled(cancelled: CancelCheck) -> None:
    if cancelled is not None and cancelled():
        raise Cancelled


def size_text(shape: tuple[int, ...]) -> str:
    """'6000 x 4000' (width x height) for an array shape."""
    return f"{shape[1]} x {shape[0]}"


def rgb_view(image: object, role: str) -> np.ndarray:
    """The (H, W, 3) RGB view of an RGB or RGBA uint8 picture (no copy), or a ValueError that
    says what was wrong with `role` (e.g. "the before image")."""
    import numpy as np
    if not isinstance(image, np.ndarray):
        raise ValueError(f"Cannot compare {role}: it is not a picture "
                         f"(got {type(image).__name__}).")
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"Cannot compare {role}: it must be an 8-bit RGB or RGBA picture, "
                         f"but it is an array of shape {image.shape} and type {image.dtype}.")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"Cannot compare {role}: it has no pixels.")
    return image[..., :3]


def require_same_size(first: tuple[int, ...], second: tuple[int, ...], first_role: str,
                      second_role: str) -> None:
    """A ValueError with a sentence when two pictures (or masks) differ in size."""
    if tuple(first[:2]) != tuple(second[:2]):
        raise ValueError(f"Cannot compare pictures of different sizes: {first_role} is "
                         f"{size_text(first)} pixels, {second_role} is {size_text(second)}. "
                         "Scale one to the other's size first.")


def check_threshold(threshold: object) -> int:
    import numpy as np
    if isinstance(threshold, bool) or not isinstance(threshold, int | np.integer) or \
            not 0 <= int(threshold) <= 254:
        raise ValueError("The difference threshold must be a whole number from 0 to 254 "
                         f"(got {threshold!r}).")
    return int(threshold)


def check_tolerance(tolerance: object) -> int:
    import numpy as np
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | np.integer) or \
            not 0 <= int(tolerance) <= MAX_TOLERANCE:
        raise ValueError(f"The misalignment tolerance must be a whole number of pixels from 0 "
                         f"to {MAX_TOLERANCE} (got {tolerance!r}).")
    return int(tolerance)


def chunk_rows(width: int, multiple: int = 1) -> int:
    """Rows per chunk for pictures `width` pixels wide, a multiple of `multiple` (>= 1)."""
    rows = max(1, CHUNK_PIXELS // max(width, 1))
    return max(multiple, rows // multiple * multiple)
