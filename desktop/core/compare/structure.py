"""Structure check for virtual staging: did the render change the room itself?

Listing rules let a staging render add furniture but not alter the room. The check marks what
changed between the original and the staged picture *outside the furniture*, and its share of
the picture:

1. Change mask: `difference(original, staged, threshold, tolerance)` magnitude > threshold
   (tolerance 2 by default, so edges the render moved by a pixel or two do not count). Speckle
   is removed on a reduced grid (longer side about GRID_SIDE cells): a cell counts as changed
   when at least CELL_FILL of its pixels changed, and stays only when at least 5 of the 9
   cells around it (itself included) changed. Isolated changes smaller than about 3 x 3 cells
   (at 24 MP about 45 px) and lines one cell wide are dropped as speckle.
2. Furniture: a service's furniture mask when given (Virtual Staging AI's `/analyze`), or
   else a local estimate (below). Either is grown by SHADOW_MARGIN of the picture's shorter
   side (about 1 %: 40 px at 6000 x 4000), because furniture edges and shadows spill over.
3. Everything changed outside the furniture is structural.

**The local estimate** labels the connected changed regions of the reduced grid and calls a
region furniture when it looks like an object placed in the room:

- it does not touch the top edge of the photo (ceilings and walls usually do);
- at least FURNITURE_MIN_BELOW (three quarters) of its area lies below an assumed eye-level
  horizon at FURNITURE_HORIZON (40 %) of the height from the top: furniture stands on the
  floor, and a camera at eye level sees the floor below about that line;
- it does not span (nearly) the whole width (FURNITURE_MAX_SPAN, 90 %): a recoloured wall or
  a new floor does.

What it detects: walls recoloured or re-textured, windows and doors moved, added or removed
(a door reaches well above the horizon), ceiling changes and floor changes that span the room,
and any change mostly above the horizon (mouldings, lights, sockets high on a wall).

What it cannot: art hung on walls, mirrors, curtains, tall plants or a tall wardrobe are
"staging" but read as structural (they stand above the horizon); a floor recoloured only under
and around the furniture, or a rug, reads as furniture; a change hidden behind new furniture (a
window removed behind a sofa) cannot be seen at all; a structural change that touches furniture
is judged together with it (as one region); a photo taken from very low or very high moves the
real horizon away from 40 %; and a render that is shifted, re-framed or re-scaled against the
original reads as changed everywhere: align and crop it to the original first (the tolerance
absorbs only a couple of pixels). With a service's furniture mask only the mask decides what
is furniture, so the first three limits go away, the others remain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from desktop.core.compare.common import (
    DEFAULT_THRESHOLD,
    CancelCheck,
    check_cancelled,
    chunk_rows,
    require_same_size,
    rgb_view,
)
from desktop.core.compare.difference import difference
from desktop.core.compare.labels import label_regions
from desktop.core.compare.masks import Grid, as_mask, dilate, majority

if TYPE_CHECKING:
    import numpy as np

#: Cells along the reduced grid's longer side.
GRID_SIDE = 400
#: A grid cell counts as changed when at least this share of its pixels changed.
CELL_FILL = 0.25
#: The assumed eye-level horizon, as a share of the height from the top.
FURNITURE_HORIZON = 0.40
#: A furniture region has at least this share of its area below the horizon.
FURNITURE_MIN_BELOW = 0.75
#: A region at least this share of the width wide is a wall, floor or ceiling, not furniture.
FURNITURE_MAX_SPAN = 0.90
#: Furniture is grown by this share of the shorter side for its edges and shadows.
SHADOW_MARGIN = 0.01

#: structure_overlay colours: furniture tinted lightly, structural changes strongly.
FURNITURE_TINT = (64, 160, 255)
FURNITURE_TINT_WEIGHT = 77        # of 256: 30 %
STRUCTURAL_COLOUR = (255, 0, 160)
STRUCTURAL_WEIGHT = 205           # of 256: 80 %


@dataclass(frozen=True)
class StructureCheck:
    structural: np.ndarray      # (H, W) bool: changed pixels outside the furniture
    furniture: np.ndarray       # (H, W) bool: the furniture mask used (with its margin)
    structural_fraction: float  # structural changed pixels / all pixels (0..1)
    furniture_fraction: float
    source: str                 # "service" (a provider's mask) or "estimate" (local)
    changed_fraction: float = 0.0  # all changed pixels after speckle removal / all pixels


def estimate_furniture(changed: np.ndarray, cancelled: CancelCheck = None) -> np.ndarray:
    """The regions of a (reduced) change grid that look like furniture (module docstring)."""
    rows, columns = changed.shape
    regions = label_regions(changed, cancelled)
    below = regions.area_from_row(round(FURNITURE_HORIZON * rows))
    span = (regions.right - regions.left + 1) / columns
    furniture = (regions.top > 0) & (below >= FURNITURE_MIN_BELOW * regions.area) & (
        span < FURNITURE_MAX_SPAN)
    furniture[0] = False
    return furniture[regions.labels]


def structure_check(original: np.ndarray, staged: np.ndarray, *,
                    furniture_mask: np.ndarray | None = None,
                    threshold: int = DEFAULT_THRESHOLD, tolerance: int = 2,
                    cancelled: CancelCheck = None) -> StructureCheck:
    """What changed outside the furniture between `original` and `staged` (same size, RGB(A)
    uint8). `furniture_mask`: a service's mask (a bool (H, W) array, or any picture
    mask_from_image reads); None for the local estimate. Raises ValueError (a sentence) for
    unusable input and Cancelled when `cancelled()` turns true."""
    import numpy as np
    shape = rgb_view(staged, "the staged image").shape
    require_same_size(rgb_view(original, "the original image").shape, shape,
                      "the original image", "the staged image")
    service = as_mask(furniture_mask, shape) if furniture_mask is not None else None
    diff = difference(original, staged, threshold=threshold, tolerance=tolerance,
                      cancelled=cancelled)
    height, width = shape[:2]
    grid = Grid(height, width, GRID_SIDE)
    step = grid.chunk()
    counts = np.empty((grid.rows, grid.columns), dtype=np.int64)
    for top in range(0, height, step):
        check_cancelled(cancelled)
        bottom = min(height, top + step)
        pooled = grid.pool(diff.magnitude[top:bottom] > diff.threshold)
        counts[top // grid.cell:top // grid.cell + pooled.shape[0]] = pooled
    kept = majority(counts >= CELL_FILL * grid.areas())
    check_cancelled(cancelled)
    if service is not None:
        source, found = "service", service
    else:
        source, found = "estimate", grid.full(estimate_furniture(kept, cancelled), cancelled)
    margin = max(1, round(SHADOW_MARGIN * min(height, width)))
    furniture = dilate(found, margin, cancelled)
    del found, service
    structural = np.empty((height, width), dtype=np.bool_)
    structural_count = changed_count = furniture_count = 0
    for top in range(0, height, step):
        check_cancelled(cancelled)
        bottom = min(height, top + step)
        rows = structural[top:bottom]
        np.greater(diff.magnitude[top:bottom], diff.threshold, out=rows)
        rows &= grid.expand(kept, top, bottom)
        changed_count += int(np.count_nonzero(rows))
        rows &= ~furniture[top:bottom]
        structural_count += int(np.count_nonzero(rows))
        furniture_count += int(np.count_nonzero(furniture[top:bottom]))
    total = height * width
    return StructureCheck(structural, furniture, structural_count / total,
                          furniture_count / total, source, changed_count / total)


def structure_overlay(check: StructureCheck, staged: np.ndarray, *,
                      cancelled: CancelCheck = None) -> np.ndarray:
    """(H, W, 4) uint8 opaque RGBA: the staged picture, the furniture tinted lightly, the
    structural changes in a strong colour."""
    import numpy as np
    rgb = rgb_view(staged, "the staged image")
    require_same_size(check.structural.shape, rgb.shape, "the structure check",
                      "the staged image")
    height, width = rgb.shape[:2]
    out = np.empty((height, width, 4), dtype=np.uint8)
    out[..., 3] = 255
    table = _overlay_table()
    step = chunk_rows(width)
    for top in range(0, height, step):
        check_cancelled(cancelled)
        rows = slice(top, min(height, top + step))
        kind = check.furniture[rows].astype(np.uint16)  # 0 plain, 1 furniture, 2 structural
        kind[check.structural[rows]] = 2
        kind <<= 8
        for channel in range(3):
            index = kind | rgb[rows, :, channel]
            np.take(table[channel], index, out=out[rows, :, channel], mode="clip")
    return out


def _overlay_table() -> np.ndarray:
    """(3, 768) uint8: per channel, the shown value of a plain, furniture or structural pixel,
    indexed by kind << 8 | value."""
    import numpy as np
    value = np.arange(256, dtype=np.int32)
    table = np.empty((3, 3, 256), dtype=np.uint8)
    for channel in range(3):
        table[channel, 0] = value
        table[channel, 1] = (value * (256 - FURNITURE_TINT_WEIGHT)
                             + FURNITURE_TINT[channel] * FURNITURE_TINT_WEIGHT) >> 8
        table[channel, 2] = (value * (256 - STRUCTURAL_WEIGHT)
                             + STRUCTURAL_COLOUR[channel] * STRUCTURAL_WEIGHT) >> 8
    return table.reshape(3, 768)
