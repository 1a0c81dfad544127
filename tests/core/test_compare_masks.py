"""mask_from_image(), dilation, the reduced grid and region labelling of the compare core."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from desktop.core.compare import MASK_LEVEL, common, mask_from_image
from desktop.core.compare.labels import label_regions
from desktop.core.compare.masks import Grid, dilate, majority


def test_a_smaller_mask_is_scaled_to_the_picture() -> None:
    small = np.zeros((4, 6), dtype=np.uint8)
    small[1:3, 2:4] = 255
    mask = mask_from_image(small, (40, 60))
    assert mask.shape == (40, 60) and mask.dtype == np.bool_
    assert mask[15:25, 25:35].all()                 # the centre of the scaled block
    assert not mask[:5].any() and not mask[:, :15].any() and not mask[:, 45:].any()
    assert 200 <= mask.sum() <= 600                 # about the block's 20 x 20 pixels


def test_a_larger_mask_is_scaled_down_and_the_shape_may_carry_channels() -> None:
    big = np.zeros((400, 600, 3), dtype=np.uint8)
    big[100:300, 300:600] = 255
    mask = mask_from_image(big, (40, 60, 3))
    assert mask.shape == (40, 60)
    assert mask[12:28, 32:].all() and not mask[:, :28].any()


def test_a_downscaled_mask_counts_the_share_of_furniture_not_one_sample() -> None:
    quarter = np.zeros((40, 400), dtype=np.uint8)
    quarter[:, 2::4] = 255            # a quarter of every 4 x 4 block
    three_quarters = np.full((40, 400), 255, dtype=np.uint8)
    three_quarters[:, 2::4] = 0
    assert not mask_from_image(quarter, (10, 100)).any()
    assert mask_from_image(three_quarters, (10, 100)).all()


def test_same_size_keeps_every_pixel() -> None:
    rng = np.random.default_rng(2)
    grey = rng.integers(0, 256, (30, 20), dtype=np.uint8)
    np.testing.assert_array_equal(mask_from_image(grey, (30, 20)), grey >= MASK_LEVEL)


def test_level_colour_and_alpha() -> None:
    assert MASK_LEVEL == 128
    rgba = np.zeros((1, 6, 4), dtype=np.uint8)
    rgba[0, 0] = (127, 127, 127, 255)  # just under the level
    rgba[0, 1] = (128, 128, 128, 255)  # at it: furniture
    rgba[0, 2] = (0, 0, 200, 255)      # any colour counts
    rgba[0, 3] = (255, 255, 255, 0)    # transparent: not furniture
    rgba[0, 4] = (255, 255, 255, 130)  # mostly opaque white
    rgba[0, 5] = (255, 255, 255, 120)  # mostly transparent
    assert mask_from_image(rgba, (1, 6)).tolist() == [[False, True, True, False, True, False]]
    rgb = rgba[..., :3].copy()
    assert mask_from_image(rgb, (1, 6)).tolist() == [[False, True, True, True, True, True]]
    assert mask_from_image(rgb[..., :1], (1, 6)).tolist() == \
        [[False, True, False, True, True, True]]
    boolean = np.array([[True, False]])
    assert mask_from_image(boolean, (1, 2)).tolist() == [[True, False]]


@pytest.mark.parametrize(("mask", "shape", "words"), [
    (np.zeros((4, 4), dtype=np.float32), (4, 4), "type float32"),
    (np.zeros((4, 4, 2), dtype=np.uint8), (4, 4), "shape (4, 4, 2)"),
    (np.zeros((0, 4), dtype=np.uint8), (4, 4), "shape (0, 4)"),
    (np.zeros((4, 4), dtype=np.uint8), (0, 4), "Cannot scale the furniture mask to 4 x 0"),
    ("mask.png", (4, 4), "not a picture (got str)"),
])
def test_unusable_masks_are_sentences(mask: object, shape: tuple[int, int], words: str) -> None:
    with pytest.raises(ValueError) as caught:
        mask_from_image(mask, shape)  # type: ignore[arg-type]
    assert words in str(caught.value)


@pytest.mark.parametrize("radius", [0, 1, 3, 7])
def test_dilate_matches_brute_force(monkeypatch: pytest.MonkeyPatch, radius: int) -> None:
    monkeypatch.setattr(common, "CHUNK_PIXELS", 4 * 29)  # 4-row chunks: halos matter
    rng = np.random.default_rng(radius)
    mask = rng.random((33, 29)) < 0.03
    mask[0, 0] = mask[-1, -1] = True
    got = dilate(mask, radius)
    expected = np.zeros_like(mask)
    for y, x in zip(*np.nonzero(mask), strict=True):
        expected[max(0, y - radius):y + radius + 1, max(0, x - radius):x + radius + 1] = True
    np.testing.assert_array_equal(got, expected)


def test_grid_pools_and_expands() -> None:
    grid = Grid(10, 23, side=8)  # cells of 3 px: 4 rows x 8 columns, the last ones smaller
    assert (grid.cell, grid.rows, grid.columns) == (3, 4, 8)
    areas = grid.areas()
    assert areas.sum() == 230 and areas[0, 0] == 9 and areas[-1, -1] == 1 * 2
    pixels = np.zeros((10, 23), dtype=bool)
    pixels[0:2, 0:2] = True
    pixels[9, 22] = True
    counts = np.concatenate([grid.pool(pixels[0:6]), grid.pool(pixels[6:10])])
    assert counts[0, 0] == 4 and counts[-1, -1] == 1 and counts.sum() == 5
    cells = np.zeros((4, 8), dtype=bool)
    cells[1, 2] = True
    full = grid.full(cells)
    assert full.shape == (10, 23) and full.sum() == 9 and full[3:6, 6:9].all()
    np.testing.assert_array_equal(grid.expand(cells, 3, 6), full[3:6])


def test_majority_removes_speckle_and_thin_lines_keeps_blobs() -> None:
    cells = np.zeros((12, 12), dtype=bool)
    cells[1, 1] = True                # a speck
    cells[5, 0:12] = True             # a one-cell line
    cells[8:12, 6:12] = True          # a blob in the corner (the edge counts as repeated)
    cells[1:3, 8:10] = True           # 2 x 2: each cell sees only 4 set
    kept = majority(cells)
    assert not kept[1, 1] and not kept[5].any() and not kept[1:3, 8:10].any()
    assert kept[8:12, 7:12].all()


def bfs_labels(grid: np.ndarray) -> list[set[tuple[int, int]]]:
    seen = np.zeros_like(grid)
    regions = []
    for start in zip(*np.nonzero(grid), strict=True):
        if seen[start]:
            continue
        seen[start] = True
        region, todo = set(), deque([start])
        while todo:
            y, x = todo.popleft()
            region.add((int(y), int(x)))
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ny, nx = y + dy, x + dx
                    if 0 <= ny < grid.shape[0] and 0 <= nx < grid.shape[1] and \
                            grid[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        todo.append((ny, nx))
        regions.append(region)
    return regions


@pytest.mark.parametrize("density", [0.2, 0.45, 0.6])
def test_labels_match_a_breadth_first_search(density: float) -> None:
    grid = np.random.default_rng(int(density * 100)).random((40, 50)) < density
    regions = label_regions(grid)
    expected = bfs_labels(grid)
    assert regions.count == len(expected)
    for region in expected:
        labels = {int(regions.labels[cell]) for cell in region}
        assert len(labels) == 1 and 0 not in labels
        label = labels.pop()
        assert (regions.labels == label).sum() == len(region) == regions.area[label]
        ys, xs = zip(*region, strict=True)
        assert (regions.top[label], regions.left[label], regions.right[label]) == \
            (min(ys), min(xs), max(xs))
    assert (regions.labels > 0).sum() == grid.sum()


def test_labels_of_an_empty_grid_and_a_spiral() -> None:
    assert label_regions(np.zeros((5, 5), dtype=bool)).count == 0
    spiral = np.zeros((9, 9), dtype=bool)
    spiral[0, :] = spiral[:, 8] = spiral[8, :] = spiral[2:, 0] = True
    spiral[2, 0:7] = spiral[2:7, 6] = spiral[6, 2:7] = spiral[4:7, 2] = True
    regions = label_regions(spiral)
    assert regions.count == 1 and regions.area[1] == spiral.sum()
    assert regions.area_from_row(7).tolist() == [0, spiral[7:].sum()]
