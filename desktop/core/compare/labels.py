"""Connected regions of a small boolean grid (8-connected), without scipy.

The grid is read as runs (horizontal stretches of set cells, found with numpy); runs of
neighbouring rows that touch, diagonally included, are joined with a union-find in Python. A
grid of a few hundred cells a side has at most some tens of thousands of runs, so this stays
well under a second even for noise; the regions' figures are then computed with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from desktop.core.compare.common import CancelCheck, check_cancelled

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Regions:
    labels: np.ndarray  # (rows, columns) int32: 0 = not set, 1..count = the cell's region
    count: int
    area: np.ndarray    # (count + 1,) cells per region (index 0 unused, as below)
    top: np.ndarray     # first row of each region
    left: np.ndarray    # first column
    right: np.ndarray   # last column

    def area_from_row(self, row: int) -> np.ndarray:
        """(count + 1,) the cells of each region in rows >= `row`."""
        import numpy as np
        area = np.bincount(self.labels[max(0, row):].ravel(), minlength=self.count + 1)
        area[0] = 0
        return area


def label_regions(grid: np.ndarray, cancelled: CancelCheck = None) -> Regions:
    """Label the 8-connected regions of a (rows, columns) bool grid."""
    import numpy as np
    rows, columns = grid.shape
    padded = np.zeros((rows, columns + 2), dtype=np.int8)
    padded[:, 1:-1] = grid
    steps = np.diff(padded, axis=1)
    run_row, run_start = np.nonzero(steps == 1)
    _end_row, run_end = np.nonzero(steps == -1)  # exclusive; same order as the starts
    parent = list(range(len(run_row)))

    def find(run: int) -> int:
        while parent[run] != run:
            parent[run] = parent[parent[run]]
            run = parent[run]
        return run

    first_run = np.searchsorted(run_row, np.arange(rows + 1)).tolist()
    starts, ends = run_start.tolist(), run_end.tolist()
    for row in range(1, rows):
        if row % 64 == 0:
            check_cancelled(cancelled)
        above, above_stop = first_run[row - 1], first_run[row]
        here, here_stop = first_run[row], first_run[row + 1]
        while above < above_stop and here < here_stop:
            # 8-connected: [s1, e1) and [s2, e2) touch when s1 <= e2 and s2 <= e1
            if starts[above] <= ends[here] and starts[here] <= ends[above]:
                a, b = find(above), find(here)
                if a != b:
                    parent[max(a, b)] = min(a, b)
            if ends[above] < ends[here]:
                above += 1
            else:
                here += 1
    roots = np.array([find(run) for run in range(len(parent))], dtype=np.int64)
    _unique, inverse = np.unique(roots, return_inverse=True)
    run_label = (inverse + 1).astype(np.int32)
    count = int(run_label.max()) if len(run_label) else 0

    painted = np.zeros((rows, columns + 1), dtype=np.int32)
    painted[run_row, run_start] = run_label
    painted[run_row, run_end] -= run_label
    labels = np.cumsum(painted, axis=1, dtype=np.int32)[:, :columns]

    area = np.bincount(run_label, weights=run_end - run_start, minlength=count + 1)
    top = np.full(count + 1, rows, dtype=np.int64)
    left = np.full(count + 1, columns, dtype=np.int64)
    right = np.full(count + 1, -1, dtype=np.int64)
    np.minimum.at(top, run_label, run_row)
    np.minimum.at(left, run_label, run_start)
    np.maximum.at(right, run_label, run_end - 1)
    return Regions(labels, count, area.astype(np.int64), top, left, right)
