"""The difference as a heat map: how much each pixel changed, not only whether it did.

Pixels at or under the threshold show the after in dimmed grey (40 + 45 % of its luma, as the
compare view's plain difference always did), so the picture stays recognisable. Pixels over it
take a colour from a heat scale indexed by magnitude (0-255): dark red -> red -> orange ->
yellow -> white. Every channel of the scale rises monotonically, so brightness rises with the
magnitude and the order of colours reads without a legend; the legend (`heat_legend`) gives its
stops. `opacity` blends the heat colours over the grey. One 65536-entry table per (threshold,
opacity), indexed by (luma, magnitude), makes each pixel a single lookup.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING

from desktop.core.compare.common import (
    CancelCheck,
    check_cancelled,
    check_threshold,
    chunk_rows,
    require_same_size,
    rgb_view,
)
from desktop.core.compare.difference import Difference

if TYPE_CHECKING:
    import numpy as np

#: Magnitude stops of the heat scale and their colours; linear in between.
HEAT_STOPS: tuple[tuple[int, tuple[int, int, int]], ...] = (
    (0, (96, 0, 0)),        # dark red
    (64, (200, 16, 0)),     # red
    (128, (255, 120, 0)),   # orange
    (192, (255, 220, 40)),  # yellow
    (255, (255, 255, 255)),  # white
)
#: The dimmed grey under the threshold: GREY_BASE + luma * GREY_PERCENT // 100.
GREY_BASE = 40
GREY_PERCENT = 45


def heat_scale() -> np.ndarray:
    """(256, 3) uint8: the heat colour of every magnitude."""
    return _heat_scale().copy()


@lru_cache(maxsize=1)
def _heat_scale() -> np.ndarray:
    import numpy as np
    positions = [stop for stop, _colour in HEAT_STOPS]
    magnitudes = np.arange(256)
    channels = [np.interp(magnitudes, positions, [colour[c] for _s, colour in HEAT_STOPS])
                for c in range(3)]
    return np.clip(np.rint(np.stack(channels, axis=1)), 0, 255).astype(np.uint8)


def heat_legend() -> list[tuple[int, tuple[int, int, int]]]:
    """The scale's magnitude stops with their colours, for a legend beside the picture."""
    return [(stop, colour) for stop, colour in HEAT_STOPS]


def dimmed_grey(rgb: np.ndarray) -> np.ndarray:
    """The dimmed grey value (uint8) of RGB pixels (..., 3): what unchanged pixels show."""
    import numpy as np
    wide = rgb.astype(np.int32)
    luma = (wide[..., 0] * 77 + wide[..., 1] * 150 + wide[..., 2] * 29) >> 8
    return (GREY_BASE + luma * GREY_PERCENT // 100).astype(np.uint8)


def _opacity_weight(opacity: float) -> int:
    value = float(opacity)
    if not math.isfinite(value):
        raise ValueError(f"The heat map's opacity must be a number from 0 to 1 (got {opacity!r}).")
    return round(min(1.0, max(0.0, value)) * 256)


@lru_cache(maxsize=16)
def _lookup(threshold: int, weight: int) -> np.ndarray:
    """(65536,) uint32 RGBA pixels indexed by luma << 8 | magnitude."""
    import numpy as np
    luma = np.arange(256, dtype=np.int32)
    grey = (GREY_BASE + luma * GREY_PERCENT // 100)[:, None, None]       # (256, 1, 1)
    heat = _heat_scale().astype(np.int32)[None, :, :]                  # (1, 256, 3)
    blended = grey + (((heat - grey) * weight + 128) >> 8)              # (256, 256, 3)
    over = (np.arange(256) > threshold)[None, :, None]
    table = np.empty((256, 256, 4), dtype=np.uint8)
    table[..., :3] = np.where(over, blended, grey)
    table[..., 3] = 255
    return table.reshape(65536, 4).view(np.uint32).reshape(65536)


def heat_map(diff: Difference, after: np.ndarray, *, opacity: float = 1.0,
             cancelled: CancelCheck = None) -> np.ndarray:
    """(H, W, 4) uint8 opaque RGBA: `after` in dimmed grey, the pixels over `diff.threshold`
    coloured by magnitude on the heat scale, blended over the grey by `opacity` (0..1)."""
    import numpy as np
    rgb = rgb_view(after, "the after image")
    require_same_size(diff.magnitude.shape, rgb.shape, "the difference", "the after image")
    table = _lookup(check_threshold(diff.threshold), _opacity_weight(opacity))
    height, width = rgb.shape[:2]
    out = np.empty((height, width, 4), dtype=np.uint8)
    pixels = out.view(np.uint32)[..., 0]  # (H, W), one uint32 per RGBA pixel
    step = chunk_rows(width)
    for top in range(0, height, step):
        check_cancelled(cancelled)
        rows = slice(top, min(height, top + step))
        chunk = rgb[rows]
        index = chunk[..., 0].astype(np.uint16)
        index *= 77
        for channel, weight in ((1, 150), (2, 29)):  # at most 255 * 256: fits uint16
            part = chunk[..., channel].astype(np.uint16)
            part *= weight
            index += part
        index &= 0xFF00  # (luma >> 8) << 8
        index |= diff.magnitude[rows]
        np.take(table, index, out=pixels[rows], mode="clip")
    return out
