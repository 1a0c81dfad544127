"""The per-pixel difference of two pictures, optionally ignoring a few pixels of misalignment.

Magnitude = per pixel, the largest channel difference (0-255). With a tolerance k > 0 each
channel of the after is compared with the *range* of the before's values in the (2k+1) x (2k+1)
neighbourhood around the same place: inside [min, max] it counts 0, outside the distance to the
nearer end. A sharp edge moved by up to k pixels then reads as unchanged (every after value
near it occurs in the before near it), while a recoloured area still differs by its full
amount. The price: within k pixels of an edge between very different colours each channel's
range is wide, so a new colour there that falls inside every channel's range (red next to a
black/white edge) reads as unchanged; over flat areas nothing is hidden. The min and max
filters are separable (rows, then columns) and run in row chunks with
a k-row halo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from desktop.core.compare.common import (
    DEFAULT_THRESHOLD,
    CancelCheck,
    check_cancelled,
    check_threshold,
    check_tolerance,
    chunk_rows,
    require_same_size,
    rgb_view,
)

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Difference:
    magnitude: np.ndarray    # (H, W) uint8: per pixel, the largest channel difference 0-255
    changed_fraction: float  # share of pixels whose magnitude > threshold (0..1)
    threshold: int
    tolerance: int           # pixels of misalignment ignored (0 = none)


def difference(before: np.ndarray, after: np.ndarray, *, threshold: int = DEFAULT_THRESHOLD,
               tolerance: int = 0, cancelled: CancelCheck = None) -> Difference:
    """Compare two same-sized RGB(A) uint8 pictures; see the module docstring. Raises
    ValueError (a sentence) for unusable input and Cancelled when `cancelled()` turns true."""
    import numpy as np
    old = rgb_view(before, "the before image")
    new = rgb_view(after, "the after image")
    require_same_size(old.shape, new.shape, "the before image", "the after image")
    threshold = check_threshold(threshold)
    tolerance = check_tolerance(tolerance)
    height, width = new.shape[:2]
    magnitude = np.empty((height, width), dtype=np.uint8)
    step = chunk_rows(width)
    changed = 0
    for top in range(0, height, step):
        check_cancelled(cancelled)
        bottom = min(height, top + step)
        out = magnitude[top:bottom]
        if tolerance == 0:
            _plain(old[top:bottom], new[top:bottom], out)
        else:
            low, high = _neighbourhood_range(old, top, bottom, tolerance)
            _outside(new[top:bottom], low, high, out)
        changed += int(np.count_nonzero(out > threshold))
    return Difference(magnitude, changed / (height * width), threshold, tolerance)


def _channel_max(values: np.ndarray, out: np.ndarray) -> None:
    import numpy as np
    np.maximum(values[..., 0], values[..., 1], out=out)
    np.maximum(out, values[..., 2], out=out)


def _plain(old: np.ndarray, new: np.ndarray, out: np.ndarray) -> None:
    """|new - old| per channel in uint8 (max - min never wraps), then the channel maximum."""
    import numpy as np
    high = np.maximum(old, new)
    high -= np.minimum(old, new)
    _channel_max(high, out)


def _outside(new: np.ndarray, low: np.ndarray, high: np.ndarray, out: np.ndarray) -> None:
    """Per channel the distance of `new` to [low, high] (0 inside), then the channel maximum.
    All in uint8: max(new, high) - high and low - min(new, low) never wrap."""
    import numpy as np
    above = np.maximum(new, high)
    above -= high
    below = np.minimum(new, low)
    np.subtract(low, below, out=below)
    np.maximum(above, below, out=above)
    _channel_max(above, out)


def _along(array: np.ndarray, axis: int, start: int, stop: int | None) -> np.ndarray:
    index: list[slice] = [slice(None)] * array.ndim
    index[axis] = slice(start, stop)
    return array[tuple(index)]


def _sliding(values: np.ndarray, radius: int, axis: int,
             reduce: Callable[..., np.ndarray]) -> np.ndarray:
    """`reduce` (np.minimum or np.maximum) over a window of 2*radius+1 along `axis`, the window
    clipped at the borders (the same as repeating the edge values)."""
    out = values.copy()
    size = values.shape[axis]
    for shift in range(1, min(radius, size - 1) + 1):
        tail = _along(out, axis, shift, None)       # out[i] with values[i - shift]
        reduce(tail, _along(values, axis, 0, size - shift), out=tail)
        head = _along(out, axis, 0, size - shift)   # out[i] with values[i + shift]
        reduce(head, _along(values, axis, shift, None), out=head)
    return out


def _neighbourhood_range(old: np.ndarray, top: int, bottom: int,
                         radius: int) -> tuple[np.ndarray, np.ndarray]:
    """The per-channel min and max of `old` over each pixel's neighbourhood, for rows
    [top, bottom): the rows are filtered over a block with a `radius`-row halo."""
    import numpy as np
    first = max(0, top - radius)
    block = old[first:min(old.shape[0], bottom + radius)]
    rows = slice(top - first, bottom - first)
    low = _sliding(_sliding(block, radius, 0, np.minimum)[rows], radius, 1, np.minimum)
    high = _sliding(_sliding(block, radius, 0, np.maximum)[rows], radius, 1, np.maximum)
    return low, high
