"""Pixel-level tests of the offline operations, on synthetic images drawn with Pillow."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest
from PIL import Image, ImageDraw

from desktop.core.model import InvalidInput
from desktop.providers.local import ops

WHITE = (245, 245, 245)
RED = (200, 30, 40)
GREEN = (30, 160, 60)


def subject_on_plain(size: tuple[int, int] = (400, 300)) -> Image.Image:
    """A red disc on a near-white background, with a little noise in the background."""
    rng = np.random.default_rng(1)
    arr = np.full((size[1], size[0], 3), WHITE, dtype=np.int16)
    arr += rng.integers(-4, 5, arr.shape, dtype=np.int16)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    ImageDraw.Draw(img).ellipse((100, 50, 300, 250), fill=RED)
    return img


def alpha(img: Image.Image) -> np.ndarray:
    return np.asarray(img.getchannel("A"))


def hue_deg(rgb: np.ndarray) -> np.ndarray:
    """Hue in degrees of (N, 3) uint8 colours."""
    return np.array([colorsys.rgb_to_hsv(*(c / 255.0))[0] * 360 for c in rgb])


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def hue_distance(a: float, b: float) -> float:
    d = abs(a - b) % 360
    return min(d, 360 - d)


# -- background removal -----------------------------------------------------------------------


def test_remove_background_corners_transparent_subject_opaque() -> None:
    out = ops.remove_background(subject_on_plain(), tolerance=40, feather=2)
    assert out.mode == "RGBA" and out.size == (400, 300)
    a = alpha(out)
    for x, y in [(0, 0), (399, 0), (0, 299), (399, 299), (20, 150), (380, 150)]:
        assert a[y, x] == 0, (x, y)
    assert a[150, 200] == 255
    assert a[150, 110] == 255  # inside the disc, near its edge
    # Colour channels are kept as they were.
    assert out.getpixel((200, 150))[:3] == RED


def test_feather_makes_a_soft_edge_and_zero_feather_a_hard_one() -> None:
    hard = alpha(ops.remove_background(subject_on_plain(), tolerance=40, feather=0))
    assert set(np.unique(hard)) == {0, 255}
    soft = alpha(ops.remove_background(subject_on_plain(), tolerance=40, feather=8))
    row = soft[150, 80:120]  # across the disc's left edge at x = 100
    assert ((row > 0) & (row < 255)).sum() >= 4
    assert np.all(np.diff(row.astype(int)) >= 0)  # rises monotonically into the subject


def test_enclosed_background_coloured_hole_is_kept_open_gap_is_removed() -> None:
    """Documented choice: a background-coloured area fully enclosed by the subject stays opaque
    (it may be part of the subject: a white logo, a collar); one that reaches the edge through a
    gap is background and becomes transparent."""
    img = Image.new("RGB", (300, 300), WHITE)
    draw = ImageDraw.Draw(img)
    draw.ellipse((20, 20, 140, 140), fill=RED)
    draw.ellipse((50, 50, 110, 110), fill=WHITE)  # closed ring: hole at (80, 80)
    draw.rectangle((160, 160, 280, 280), fill=GREEN)
    draw.rectangle((190, 190, 250, 250), fill=WHITE)
    draw.rectangle((215, 250, 225, 280), fill=WHITE)  # a gap to the outside: (220, 220) is open
    a = alpha(ops.remove_background(img, tolerance=30, feather=0))
    assert a[80, 80] == 255
    assert a[220, 220] == 0
    assert a[30, 80] == 255 and a[170, 170] == 255


def test_existing_transparency_is_kept() -> None:
    img = subject_on_plain().convert("RGBA")
    img.putpixel((200, 150), (*RED, 0))
    a = alpha(ops.remove_background(img, tolerance=40, feather=0))
    assert a[150, 200] == 0 and a[150, 210] == 255


def test_flood_follows_a_winding_corridor() -> None:
    """The run-based fill must follow paths that turn many times, not just straight lines."""
    cand = np.zeros((41, 41), dtype=bool)
    for i, row in enumerate(range(1, 40, 4)):  # a serpentine: rows joined at alternating ends
        cand[row, 1:40] = True
        if row + 4 < 40:
            x = 39 if i % 2 == 0 else 1
            cand[row:row + 5, x] = True
    cand[3, 20] = True  # an island between two corridors, touching neither
    seeds = np.zeros_like(cand)
    seeds[1, 1] = True
    reached = ops.flood(cand, seeds)
    corridor = cand.copy()
    corridor[3, 20] = False
    assert np.array_equal(reached, corridor)  # the whole serpentine, nine turns, no island
    assert not ops.flood(cand, np.zeros_like(cand)).any()
    assert not ops.flood(cand, ~cand).any()  # seeds outside the candidates reach nothing


def bfs_reference(cand: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """The obvious pixel-by-pixel flood fill, to check the vectorised one against."""
    height, width = cand.shape
    reached = np.zeros_like(cand)
    stack = [(int(y), int(x)) for y, x in zip(*np.nonzero(cand & seeds), strict=True)]
    for y, x in stack:
        reached[y, x] = True
    while stack:
        y, x = stack.pop()
        for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
            if 0 <= ny < height and 0 <= nx < width and cand[ny, nx] and not reached[ny, nx]:
                reached[ny, nx] = True
                stack.append((ny, nx))
    return reached


@pytest.mark.parametrize("density", [0.45, 0.59, 0.75])
def test_flood_matches_a_plain_flood_fill_on_random_masks(density: float) -> None:
    rng = np.random.default_rng(int(density * 100))
    cand = rng.random((90, 120)) < density  # near 0.59 the clusters are maximally winding
    border = np.zeros_like(cand)
    border[0, :] = border[-1, :] = border[:, 0] = border[:, -1] = True
    point = np.zeros_like(cand)
    point[45, 60] = True
    for seeds in (border, point):
        assert np.array_equal(ops.flood(cand, seeds), bfs_reference(cand, seeds))


# -- recolour ---------------------------------------------------------------------------------


def shaded_shirt() -> tuple[Image.Image, np.ndarray]:
    """A red rectangle shaded left (dark) to right (light) on grey, with a red square elsewhere
    (not connected). Returns the image and the rectangle's mask."""
    img = Image.new("RGB", (300, 200), (128, 128, 128))
    arr = np.array(img)
    base = np.array(RED, dtype=np.float64)
    for i, x in enumerate(range(40, 200)):
        arr[40:160, x] = np.clip(base * (0.75 + 0.5 * i / 159), 0, 255).astype(np.uint8)
    arr[20:60, 240:280] = RED  # a separate red patch
    mask = np.zeros((200, 300), dtype=bool)
    mask[40:160, 40:200] = True
    return Image.fromarray(arr, "RGB"), mask


def check_recolor(src: Image.Image, out: Image.Image, region: np.ndarray, target_hue: float
                  ) -> None:
    before, after = np.asarray(src.convert("RGB")), np.asarray(out.convert("RGB"))
    assert np.array_equal(before[~region], after[~region])  # byte-for-byte outside
    hues = hue_deg(after[region][::37])
    mean = np.degrees(np.arctan2(np.sin(np.radians(hues)).mean(), np.cos(np.radians(hues)).mean()))
    assert hue_distance(float(mean) % 360, target_hue) <= 3


def test_recolor_seed_region_changes_hue_keeps_shading_and_the_rest() -> None:
    img, mask = shaded_shirt()
    out = ops.recolor(img, color="#2050d0", seed=(100, 100), tolerance=90)
    region = ops.recolor_region(img, seed=(100, 100), source_color=None, tolerance=90)
    # The whole shaded rectangle, but not the red patch that touches no part of it.
    assert np.array_equal(region, mask)
    check_recolor(img, out, region, hue_deg(np.array([[0x20, 0x50, 0xD0]]))[0])
    # Shading order along the gradient is kept: luminance never decreases left to right.
    row_before = luma(np.asarray(img)[100, 40:200])
    row_after = luma(np.asarray(out)[100, 40:200])
    assert np.all(np.diff(row_before) >= 0)
    assert np.all(np.diff(row_after) >= -0.5)
    assert row_after[-1] - row_after[0] > 20  # the shading is still there


def test_recolor_source_color_changes_every_match_anywhere() -> None:
    img, _mask = shaded_shirt()
    out = ops.recolor(img, color="green", source_color="#c81e28", tolerance=10)
    region = ops.recolor_region(img, seed=None, source_color="#c81e28", tolerance=10)
    assert region[20:60, 240:280].all()  # the separate patch matches too
    assert region[:, :40].sum() == 0
    check_recolor(img, out, region, 120.0)
    # A flat region becomes exactly the target colour.
    assert out.getpixel((260, 40)) == (0, 128, 0)


def test_recolor_fraction_seed_and_default_centre() -> None:
    img = Image.new("RGB", (200, 100), WHITE)
    ImageDraw.Draw(img).rectangle((60, 20, 140, 80), fill=RED)
    by_fraction = ops.recolor(img, color="blue", seed=(0.5, 0.5), tolerance=20)
    by_pixels = ops.recolor(img, color="blue", seed=(100, 50), tolerance=20)
    by_default = ops.recolor(img, color="blue", tolerance=20)
    assert by_fraction.tobytes() == by_pixels.tobytes() == by_default.tobytes()
    assert by_fraction.getpixel((100, 50)) == (0, 0, 255)
    assert by_fraction.getpixel((10, 10)) == WHITE
    corner = ops.recolor(img, color="blue", seed=(0.01, 0.01), tolerance=20)
    assert corner.getpixel((100, 50)) == RED and corner.getpixel((10, 10)) != WHITE


def test_recolor_seed_and_source_color_together() -> None:
    img, _ = shaded_shirt()
    region = ops.recolor_region(img, seed=(260, 40), source_color="#c81e28", tolerance=10)
    assert region[20:60, 240:280].all() and region.sum() == 40 * 40
    with pytest.raises(InvalidInput, match="not within tolerance"):
        ops.recolor(img, color="blue", seed=(5, 5), source_color="#c81e28", tolerance=10)


def test_recolor_keeps_alpha_and_refuses_bad_input() -> None:
    img = Image.new("RGBA", (50, 50), (*RED, 200))
    out = ops.recolor(img, color="#00ff00", tolerance=10)
    assert out.mode == "RGBA" and out.getpixel((25, 25)) == (0, 255, 0, 200)
    with pytest.raises(InvalidInput, match="outside the 50x50 image"):
        ops.recolor(img, color="blue", seed=(80, 10), tolerance=10)
    with pytest.raises(InvalidInput, match="No pixels within tolerance"):
        ops.recolor(img, color="blue", source_color="#0000ff", tolerance=5)
    with pytest.raises(InvalidInput, match="not a hex colour"):
        ops.recolor(img, color="blurple", tolerance=5)


# -- upscale ----------------------------------------------------------------------------------


@pytest.mark.parametrize("factor", [2, 4])
def test_upscale_sizes_and_content(factor: int) -> None:
    img = Image.new("RGB", (60, 40), WHITE)
    ImageDraw.Draw(img).rectangle((0, 0, 29, 39), fill=RED)
    out = ops.upscale(img, factor=factor)
    assert out.size == (60 * factor, 40 * factor) and out.mode == "RGB"
    assert out.getpixel((5 * factor, 20 * factor)) == RED
    assert out.getpixel((55 * factor, 20 * factor)) == WHITE


def test_upscale_keeps_alpha() -> None:
    img = Image.new("RGBA", (20, 20), (0, 0, 0, 0))
    img.paste((*RED, 255), (10, 0, 20, 20))
    out = ops.upscale(img, factor=2)
    assert out.mode == "RGBA" and alpha(out)[20, 2] == 0 and alpha(out)[20, 38] == 255


def test_upscale_refuses_too_large_and_bad_factors() -> None:
    with pytest.raises(InvalidInput, match=r"16384 pixels a side.*crop the image first"):
        ops.upscale(Image.new("RGB", (4100, 10)), factor=4)
    with pytest.raises(InvalidInput, match="100 megapixels"):
        ops.upscale(Image.new("RGB", (5100, 5100)), factor=2)
    with pytest.raises(InvalidInput, match="must be 2 or 4"):
        ops.upscale(Image.new("RGB", (10, 10)), factor=3)


# -- reframe ----------------------------------------------------------------------------------


def reframe_source() -> Image.Image:
    rng = np.random.default_rng(5)
    return Image.fromarray(rng.integers(0, 256, (150, 240, 3), dtype=np.uint8), "RGB")


@pytest.mark.parametrize("ratio", list(ops.RATIOS))
@pytest.mark.parametrize("fill", ops.FILLS)
def test_reframe_ratio_and_untouched_centre(ratio: str, fill: str) -> None:
    img = reframe_source()
    out = ops.reframe(img, ratio=ratio, fill=fill)
    a, b = ops.RATIOS[ratio]
    assert out.width * b == out.height * a  # exactly the ratio
    assert out.width >= img.width and out.height >= img.height  # never cropped
    # As small as an exact ratio allows: one step smaller would not hold the image.
    assert out.width - a < img.width or out.height - b < img.height
    left, top = (out.width - img.width) // 2, (out.height - img.height) // 2
    centre = out.crop((left, top, left + img.width, top + img.height))
    assert centre.tobytes() == img.tobytes()


def test_reframe_fills_differ_and_make_sense() -> None:
    img = Image.new("RGB", (100, 100), RED)
    img.paste(GREEN, (0, 0, 10, 100))  # a green strip on the left edge
    blur = np.asarray(ops.reframe(img, ratio="16:9", fill="blur"))
    mirror = np.asarray(ops.reframe(img, ratio="16:9", fill="mirror"))
    assert blur.shape == mirror.shape == (108, 192, 3)
    # Mirror: the column just left of the original is a reflection of its green left edge.
    left = (192 - 100) // 2
    assert tuple(mirror[50, left - 1]) == GREEN and tuple(mirror[50, left - 12]) == RED
    # Blur: the margins are a smooth blend of the image's colours, not a hard copy.
    margin = blur[:, :left].reshape(-1, 3).astype(int)
    assert margin[:, 0].mean() > 60 and np.abs(np.diff(blur[50, :left, 0].astype(int))).max() < 40


def test_reframe_keeps_alpha_and_refuses_bad_values() -> None:
    img = Image.new("RGBA", (40, 20), (*RED, 100))
    out = ops.reframe(img, ratio="1:1", fill="blur")
    assert out.mode == "RGBA" and out.size == (40, 40) and out.getpixel((20, 20)) == (*RED, 100)
    with pytest.raises(InvalidInput, match="ratio"):
        ops.reframe(img, ratio="5:7", fill="blur")
    with pytest.raises(InvalidInput, match="fill"):
        ops.reframe(img, ratio="1:1", fill="stretch")


# -- try-on preview ---------------------------------------------------------------------------


def person_on_plain(size: tuple[int, int] = (300, 600)) -> Image.Image:
    """A stick-figure person: head, neck, wide shoulders, torso, legs, on a plain background."""
    img = Image.new("RGB", size, (235, 235, 235))
    draw = ImageDraw.Draw(img)
    skin, trousers = (190, 150, 120), (40, 40, 60)
    draw.ellipse((125, 40, 175, 100), fill=skin)  # head: 50 wide
    draw.rectangle((140, 100, 160, 120), fill=skin)  # neck
    draw.rectangle((80, 120, 220, 330), fill=skin)  # torso: 140 wide, shoulders at y=120
    draw.rectangle((95, 330, 145, 560), fill=trousers)
    draw.rectangle((155, 330, 205, 560), fill=trousers)
    return img


def garment_on_plain() -> Image.Image:
    img = Image.new("RGB", (400, 400), (250, 250, 250))
    ImageDraw.Draw(img).rectangle((60, 40, 340, 380), fill=(20, 90, 200))  # a blue "shirt"
    return img


def test_torso_is_found_from_the_silhouette() -> None:
    cx, shoulder, width, bottom = ops.torso_box(person_on_plain())
    assert abs(cx - 150) <= 3
    assert 110 <= shoulder <= 130
    assert 130 <= width <= 150
    assert bottom > shoulder + 100


def test_torso_falls_back_to_proportions_on_a_busy_background() -> None:
    rng = np.random.default_rng(2)
    busy = Image.fromarray(rng.integers(0, 256, (500, 400, 3), dtype=np.uint8), "RGB")
    cx, shoulder, _width, bottom = ops.torso_box(busy)
    assert cx == 200 and shoulder == pytest.approx(90) and bottom == pytest.approx(275)


@pytest.mark.parametrize("shadow", [True, False])
def test_tryon_places_the_garment_on_the_torso(shadow: bool) -> None:
    person = person_on_plain()
    out = ops.tryon_preview(person, garment_on_plain(), scale=1.0, shadow=shadow)
    assert out.size == person.size and out.mode == "RGB"
    arr = np.asarray(out).astype(int)
    blue = (arr[..., 2] > 150) & (arr[..., 0] < 60)
    assert blue[140:270, 100:200].mean() > 0.95  # the torso is covered by the garment
    before = np.asarray(person).astype(int)
    changed = np.abs(arr - before).sum(axis=2) > 6
    outside = np.ones(changed.shape, dtype=bool)
    outside[100:360, 60:240] = False  # the torso area with room for shadow and scaling
    outside[560:, :200] = False  # the caption in the bottom-left corner
    assert changed[outside].mean() < 0.02
    assert changed[560:, :200].any()  # the caption is there


def test_tryon_scale_changes_the_garment_width() -> None:
    person = person_on_plain()
    widths = []
    for scale in (0.6, 1.4):
        arr = np.asarray(ops.tryon_preview(person, garment_on_plain(), scale=scale, shadow=False))
        blue_cols = ((arr[200, :, 2] > 150) & (arr[200, :, 0] < 60)).sum()
        widths.append(int(blue_cols))
    assert widths[1] > widths[0] * 2


def test_tryon_refuses_an_empty_garment() -> None:
    with pytest.raises(InvalidInput, match="garment"):
        ops.tryon_preview(person_on_plain(), Image.new("RGB", (100, 100), WHITE))
