"""structure_check() on synthetic rooms: furniture added vs the room itself changed, with the
local furniture estimate and with a service's mask; structure_overlay() colours."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.core.compare import StructureCheck, structure_check, structure_overlay
from desktop.core.compare import structure as structure_module
from desktop.core.compare.masks import dilate
from desktop.core.compare.structure import estimate_furniture
from tests.core.compare_scenes import WALL_RECOLOURED, Room, draw_room, furniture_mask

ORIGINAL = Room()
# The renders: every one has the furniture, sensor noise of its own and is moved a pixel.
FURNISHED = Room(furniture=True, noise_seed=2, shift=1)
STRUCTURAL = {
    "wall recoloured": Room(furniture=True, noise_seed=3, shift=1, wall=WALL_RECOLOURED),
    "window moved": Room(furniture=True, noise_seed=4, shift=1, window_x=0.45),
    "door repainted": Room(furniture=True, noise_seed=5, shift=1, door=(235, 235, 230)),
    "ceiling changed": Room(furniture=True, noise_seed=6, shift=1, ceiling=(200, 170, 150)),
    "floor changed": Room(furniture=True, noise_seed=7, shift=1, floor=(190, 190, 185)),
}
#: The structural share each change must reach at least (its changed area, roughly).
FLOORS = {"wall recoloured": 0.25, "window moved": 0.06, "door repainted": 0.03,
          "ceiling changed": 0.08, "floor changed": 0.2}


@pytest.fixture(scope="module")
def original() -> np.ndarray:
    return draw_room(ORIGINAL)


@pytest.fixture(scope="module")
def furnished_check(original: np.ndarray) -> StructureCheck:
    return structure_check(original, draw_room(FURNISHED))


def test_furniture_only_is_a_small_structural_change(furnished_check: StructureCheck) -> None:
    check = furnished_check
    assert check.source == "estimate"
    assert check.structural_fraction < 0.005
    assert check.changed_fraction > 0.06  # the furniture did change the picture
    drawn = furniture_mask(FURNISHED)
    assert check.furniture[drawn].mean() > 0.95  # the estimate found the drawn furniture
    assert check.furniture_fraction < 2 * drawn.mean()
    assert check.structural.shape == check.furniture.shape == drawn.shape
    assert check.structural.dtype == check.furniture.dtype == np.bool_
    assert check.structural_fraction == pytest.approx(check.structural.mean())
    assert check.furniture_fraction == pytest.approx(check.furniture.mean())


@pytest.mark.parametrize("change", list(STRUCTURAL))
def test_changing_the_room_is_clearly_larger(original: np.ndarray,
                                             furnished_check: StructureCheck,
                                             change: str) -> None:
    check = structure_check(original, draw_room(STRUCTURAL[change]))
    assert check.structural_fraction >= FLOORS[change]
    assert check.structural_fraction >= 5 * max(furnished_check.structural_fraction, 0.001)
    assert not (check.structural & check.furniture).any()


def test_the_moved_window_is_where_the_structural_change_is(original: np.ndarray) -> None:
    check = structure_check(original, draw_room(STRUCTURAL["window moved"]))
    old_place = check.structural[80:130, 70:140]   # the window was at x 0.12-0.32, y 0.2-0.45
    new_place = check.structural[80:130, 230:290]  # and is now at x 0.45-0.65
    assert old_place.mean() > 0.9 and new_place.mean() > 0.9
    assert not check.structural[210:, :].any()  # nothing on the floor


def test_a_service_mask_is_followed(original: np.ndarray) -> None:
    staged = draw_room(FURNISHED)
    drawn = furniture_mask(FURNISHED)
    whole = structure_check(original, staged, furniture_mask=drawn)
    assert whole.source == "service"
    assert whole.structural_fraction < 0.003
    assert whole.furniture[drawn].all()  # the mask, grown by its margin
    assert drawn.mean() < whole.furniture_fraction < 1.6 * drawn.mean()

    # A mask with only the sofa: the table and the lamp are now changes outside the furniture,
    # though the estimate would call them furniture.
    others = furniture_mask(FURNISHED, sofa=False)
    sofa_only = structure_check(original, staged,
                                furniture_mask=furniture_mask(FURNISHED, others=False))
    assert 0.7 * others.mean() < sofa_only.structural_fraction < 1.2 * others.mean()
    # (the sofa's shadow reaches a little beyond the margin at its ends: under 0.1 %)
    assert (sofa_only.structural & ~dilate(others, 3)).mean() < 0.001

    # An empty mask: every change counts.
    empty = structure_check(original, staged, furniture_mask=np.zeros_like(drawn))
    assert empty.structural_fraction == pytest.approx(empty.changed_fraction)
    assert empty.furniture_fraction == 0


def test_a_service_mask_picture_of_another_size(original: np.ndarray) -> None:
    """As a service sends it: an RGBA picture at half size, white furniture on transparent."""
    drawn = furniture_mask(FURNISHED)
    half = np.zeros((drawn.shape[0] // 2, drawn.shape[1] // 2, 4), dtype=np.uint8)
    half[drawn[::2, ::2]] = (255, 255, 255, 255)
    check = structure_check(original, draw_room(FURNISHED), furniture_mask=half)
    assert check.source == "service" and check.structural_fraction < 0.005
    wall = structure_check(original, draw_room(STRUCTURAL["wall recoloured"]),
                           furniture_mask=half)
    assert wall.structural_fraction >= FLOORS["wall recoloured"]


def test_margin_is_about_one_percent_of_the_shorter_side() -> None:
    assert structure_module.SHADOW_MARGIN == 0.01
    image = np.zeros((200, 300, 3), dtype=np.uint8)
    mask = np.zeros((200, 300), dtype=bool)
    mask[100, 150] = True
    check = structure_check(image, image, furniture_mask=mask)
    assert check.furniture.sum() == 5 * 5  # 1 % of 200 = 2 px each way


def grid_with(*boxes: tuple[int, int, int, int]) -> np.ndarray:
    grid = np.zeros((100, 100), dtype=bool)
    for top, left, bottom, right in boxes:
        grid[top:bottom, left:right] = True
    return grid


@pytest.mark.parametrize(("box", "furniture"), [
    ((60, 30, 90, 70), True),    # on the floor: an object placed in the room
    ((45, 10, 95, 20), True),    # tall and narrow, 90 % below the horizon (a floor lamp)
    ((25, 40, 62, 50), False),   # a door: 40 % of it above the horizon
    ((10, 30, 50, 70), False),   # mostly above the horizon (a window)
    ((0, 30, 90, 70), False),    # touches the top edge (a wall panel up to the ceiling)
    ((60, 4, 90, 96), False),    # 92 % of the width (a floor, a wall)
    ((60, 6, 90, 94), True),     # 88 %: still furniture
])
def test_estimate_rules(box: tuple[int, int, int, int], furniture: bool) -> None:
    found = estimate_furniture(grid_with(box))
    top, left, bottom, right = box
    assert found[top:bottom, left:right].all() == furniture
    assert found.sum() == (furniture and (bottom - top) * (right - left))


def test_estimate_region_touching_the_top_is_structural() -> None:
    """A pendant lamp's cord from the ceiling to its shade: nearly all of it below the
    horizon, but it touches the top edge."""
    grid = grid_with((0, 48, 60, 50), (60, 30, 95, 70))
    assert not estimate_furniture(grid).any()
    hanging = grid_with((1, 48, 60, 50), (60, 30, 95, 70))  # the same, a cell lower
    np.testing.assert_array_equal(estimate_furniture(hanging), hanging)


def test_speckle_is_not_a_structural_change(original: np.ndarray) -> None:
    """Scattered single changed pixels (dust, a render's grain) over the whole room."""
    staged = draw_room(FURNISHED).copy()
    rng = np.random.default_rng(9)
    dust = rng.random(staged.shape[:2]) < 0.02
    staged[dust] = 255 - staged[dust]
    check = structure_check(original, staged)
    assert check.structural_fraction < 0.002
    assert (check.structural & dust).sum() < 0.05 * dust.sum()


def test_estimate_judges_each_region_on_its_own() -> None:
    found = estimate_furniture(grid_with((60, 10, 90, 30), (10, 50, 30, 70), (70, 60, 95, 90)))
    assert found[60:90, 10:30].all() and found[70:95, 60:90].all()
    assert not found[10:30, 50:70].any()


def test_overlay_colours(original: np.ndarray) -> None:
    staged = draw_room(STRUCTURAL["window moved"])
    check = structure_check(original, staged)
    out = structure_overlay(check, staged)
    assert out.shape == (*staged.shape[:2], 4) and (out[..., 3] == 255).all()
    base = staged.astype(int)
    plain = ~check.structural & ~check.furniture
    np.testing.assert_array_equal(out[plain][:, :3], staged[plain])
    strong = (base * (256 - 205) + np.array((255, 0, 160)) * 205) >> 8
    tinted = (base * (256 - 77) + np.array((64, 160, 255)) * 77) >> 8
    np.testing.assert_array_equal(out[check.structural][:, :3], strong[check.structural])
    np.testing.assert_array_equal(out[check.furniture][:, :3], tinted[check.furniture])
    assert check.structural.any() and check.furniture.any() and plain.any()
