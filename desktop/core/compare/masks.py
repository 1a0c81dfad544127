"""Boolean masks at full size: a service's mask picture scaled to the image, dilation by a
margin, and the reduced grid the structure check judges regions on (pooling and scaling back).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PIL import Image

from desktop.core.compare.common import CancelCheck, check_cancelled, chunk_rows, size_text

if TYPE_CHECKING:
    import numpy as np

#: A mask pixel at or above this value (0-255, after scaling) is furniture.
MASK_LEVEL = 128


def mask_from_image(mask_rgba_or_l: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A service's mask picture -> (H, W) bool at `shape` ((H, W, ...) as numpy gives it).

    The picture may be any size: greyscale (H, W) or (H, W, 1), RGB or RGBA uint8, or bool.
    White or any colour is furniture, black is not: a pixel's value is its brightest channel
    (so a coloured segmentation counts), times its alpha in RGBA (transparent is not furniture).
    The value picture is scaled bilinearly, then pixels >= MASK_LEVEL count."""
    import numpy as np
    if not isinstance(mask_rgba_or_l, np.ndarray):
        raise ValueError("The furniture mask is not a picture "
                         f"(got {type(mask_rgba_or_l).__name__}).")
    height, width = (int(side) for side in tuple(shape)[:2])
    if height <= 0 or width <= 0:
        raise ValueError(f"Cannot scale the furniture mask to {width} x {height} pixels.")
    mask = mask_rgba_or_l
    if mask.dtype == np.bool_:
        mask = mask.astype(np.uint8) * 255
    if mask.dtype != np.uint8 or mask.ndim not in (2, 3) or (
            mask.ndim == 3 and mask.shape[2] not in (1, 3, 4)) or mask.size == 0:
        raise ValueError("The furniture mask must be an 8-bit greyscale, RGB or RGBA picture, "
                         f"but it is an array of shape {mask.shape} and type {mask.dtype}.")
    if mask.ndim == 2:
        value = mask
    elif mask.shape[2] == 1:
        value = mask[..., 0]
    else:
        value = mask[..., :3].max(axis=2)
        if mask.shape[2] == 4:
            value = ((value.astype(np.uint16) * mask[..., 3] + 127) // 255).astype(np.uint8)
    if value.shape != (height, width):
        value = np.asarray(Image.fromarray(np.ascontiguousarray(value), "L").resize(
            (width, height), Image.Resampling.BILINEAR))
    return value >= MASK_LEVEL


def as_mask(mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A furniture mask at `shape`: a bool (H, W) array of that size as is, anything else
    through mask_from_image."""
    import numpy as np
    if isinstance(mask, np.ndarray) and mask.dtype == np.bool_ and mask.shape == tuple(shape[:2]):
        return mask
    return mask_from_image(mask, shape)


def dilate(mask: np.ndarray, radius: int, cancelled: CancelCheck = None) -> np.ndarray:
    """`mask` grown by `radius` pixels in every direction (a square of side 2*radius+1), in row
    chunks with a `radius`-row halo. Separable: a window count from running sums per axis."""
    import numpy as np
    if radius <= 0:
        return mask.copy()
    height, width = mask.shape
    out = np.empty_like(mask)
    columns = np.arange(width)
    col_hi = np.minimum(columns + radius + 1, width)
    col_lo = np.maximum(columns - radius, 0)
    step = chunk_rows(width)
    sums = np.zeros((min(height, step + 2 * radius) + 1, width), dtype=np.int32)
    across = np.zeros((step, width + 1), dtype=np.int32)
    for top in range(0, height, step):
        check_cancelled(cancelled)
        bottom = min(height, top + step)
        first = max(0, top - radius)
        block = mask[first:min(height, bottom + radius)]
        count = block.shape[0]
        np.cumsum(block, axis=0, out=sums[1:count + 1])
        rows = np.arange(top - first, bottom - first)
        upper = np.minimum(rows + radius + 1, count)
        lower = np.maximum(rows - radius, 0)
        vertical = sums[upper] > sums[lower]
        line = across[:bottom - top]
        np.cumsum(vertical, axis=1, out=line[:, 1:])
        out[top:bottom] = line[:, col_hi] > line[:, col_lo]
    return out


class Grid:
    """A reduced grid over an H x W picture: cells of `cell` x `cell` pixels (the last row and
    column of cells may be smaller), `cell` chosen so the longer side has about `side` cells."""

    def __init__(self, height: int, width: int, side: int) -> None:
        self.height, self.width = height, width
        self.cell = max(1, math.ceil(max(height, width) / side))
        self.rows = math.ceil(height / self.cell)
        self.columns = math.ceil(width / self.cell)

    def __repr__(self) -> str:
        return (f"Grid({size_text((self.height, self.width))} in cells of {self.cell} px: "
                f"{self.columns} x {self.rows})")

    def areas(self) -> np.ndarray:
        """(rows, columns) int: the pixels in each cell."""
        import numpy as np
        def sides(total: int, count: int) -> np.ndarray:
            sizes = np.full(count, self.cell, dtype=np.int64)
            sizes[-1] = total - self.cell * (count - 1)
            return sizes
        return np.outer(sides(self.height, self.rows), sides(self.width, self.columns))

    def chunk(self) -> int:
        """Rows per pixel chunk: a whole number of cell rows."""
        return chunk_rows(self.width, self.cell)

    def pool(self, rows: np.ndarray) -> np.ndarray:
        """Count the True pixels of a chunk of rows (starting at a cell boundary) per cell."""
        import numpy as np
        cell = self.cell
        count = math.ceil(rows.shape[0] / cell)
        padded = np.zeros((count * cell, self.columns * cell), dtype=np.uint16)
        padded[:rows.shape[0], :self.width] = rows
        return padded.reshape(count, cell, self.columns, cell).sum(axis=(1, 3))

    def expand(self, grid: np.ndarray, top: int, bottom: int) -> np.ndarray:
        """The pixel rows [top, bottom) (top at a cell boundary) of a (rows, columns) grid
        scaled up to the picture."""
        import numpy as np
        cell = self.cell
        part = grid[top // cell:math.ceil(bottom / cell)]
        if cell > 1:
            part = np.repeat(np.repeat(part, cell, axis=0), cell, axis=1)
        return part[:bottom - top, :self.width]

    def full(self, grid: np.ndarray, cancelled: CancelCheck = None) -> np.ndarray:
        """The whole (rows, columns) bool grid at picture size."""
        import numpy as np
        out = np.empty((self.height, self.width), dtype=np.bool_)
        step = self.chunk()
        for top in range(0, self.height, step):
            check_cancelled(cancelled)
            bottom = min(self.height, top + step)
            out[top:bottom] = self.expand(grid, top, bottom)
        return out


def majority(grid: np.ndarray) -> np.ndarray:
    """A cell stays set when at least 5 of the 9 cells of its 3 x 3 neighbourhood are set (the
    picture's edge repeated): removes isolated cells and one-cell lines (speckle)."""
    import numpy as np
    padded = np.pad(grid.astype(np.uint8), 1, mode="edge")
    rows, columns = grid.shape
    total = np.zeros(grid.shape, dtype=np.uint8)
    for dy in range(3):
        for dx in range(3):
            total += padded[dy:dy + rows, dx:dx + columns]
    return total >= 5
