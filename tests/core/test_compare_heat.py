"""heat_map() and heat_legend(): colours at known magnitudes, the threshold, the opacity."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.core.compare import Difference, common, difference, heat_legend, heat_map, heat_scale

AFTER = (100, 150, 200)
GREY = 40 + ((100 * 77 + 150 * 150 + 200 * 29) >> 8) * 45 // 100  # 103: the dimmed after
MAGNITUDES = [0, 10, 24, 25, 64, 100, 128, 192, 230, 255]


def diff_of(magnitudes: list[int], threshold: int = 24) -> Difference:
    magnitude = np.array([magnitudes], dtype=np.uint8)
    return Difference(magnitude, float((magnitude > threshold).mean()), threshold, 0)


def after_row(width: int) -> np.ndarray:
    return np.tile(np.array(AFTER, dtype=np.uint8), (1, width, 1))


def test_legend_stops_run_dark_red_red_orange_yellow_white() -> None:
    stops = heat_legend()
    assert [m for m, _c in stops] == [0, 64, 128, 192, 255]
    dark_red, red, orange, yellow, white = (c for _m, c in stops)
    assert dark_red[0] < 128 and dark_red[1:] == (0, 0)
    assert red[0] > 180 and red[1] < 40 and red[2] == 0
    assert orange[0] == 255 and 90 < orange[1] < 160 and orange[2] == 0
    assert yellow[:2] == (255, 220) and yellow[2] < 80
    assert white == (255, 255, 255)


def test_scale_brightness_rises_with_magnitude() -> None:
    scale = heat_scale().astype(float)
    assert scale.shape == (256, 3)
    assert (np.diff(scale, axis=0) >= 0).all()  # no channel ever falls
    luminance = scale @ np.array([0.2126, 0.7152, 0.0722])
    assert (np.diff(luminance) > 0).all()


def test_full_opacity_colours_follow_the_scale_over_the_threshold() -> None:
    out = heat_map(diff_of(MAGNITUDES), after_row(len(MAGNITUDES)), opacity=1.0)
    assert out.shape == (1, len(MAGNITUDES), 4) and out.dtype == np.uint8
    assert (out[..., 3] == 255).all()
    scale = heat_scale()
    for i, m in enumerate(MAGNITUDES):
        expected = (GREY, GREY, GREY) if m <= 24 else tuple(scale[m])
        assert tuple(out[0, i, :3]) == expected, m
    for m, colour in heat_legend():
        if m > 24:
            assert tuple(out[0, MAGNITUDES.index(m), :3]) == colour


def test_threshold_decides_what_is_coloured() -> None:
    out = heat_map(diff_of(MAGNITUDES, threshold=100), after_row(len(MAGNITUDES)))
    grey = [tuple(px) == (GREY, GREY, GREY) for px in out[0, :, :3]]
    assert grey == [m <= 100 for m in MAGNITUDES]


@pytest.mark.parametrize("opacity", [0.0, 0.5, 1.0])
def test_opacity_blends_the_heat_over_the_grey(opacity: float) -> None:
    out = heat_map(diff_of(MAGNITUDES), after_row(len(MAGNITUDES)), opacity=opacity)
    scale = heat_scale().astype(float)
    for i, m in enumerate(MAGNITUDES):
        if m <= 24:
            expected = np.array([GREY] * 3, dtype=float)
        else:
            expected = GREY + (scale[m] - GREY) * opacity
        assert np.abs(out[0, i, :3] - expected).max() <= 0.5, (m, out[0, i], expected)


def test_opacity_outside_zero_to_one_is_clamped_and_nan_refused() -> None:
    row = after_row(len(MAGNITUDES))
    np.testing.assert_array_equal(heat_map(diff_of(MAGNITUDES), row, opacity=3),
                                  heat_map(diff_of(MAGNITUDES), row, opacity=1))
    np.testing.assert_array_equal(heat_map(diff_of(MAGNITUDES), row, opacity=-1),
                                  heat_map(diff_of(MAGNITUDES), row, opacity=0))
    with pytest.raises(ValueError, match="opacity must be a number from 0 to 1"):
        heat_map(diff_of(MAGNITUDES), row, opacity=float("nan"))


def test_grey_follows_the_after_and_chunks_cover_every_row(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "CHUNK_PIXELS", 7 * 16)
    rng = np.random.default_rng(3)
    before = rng.integers(0, 256, (45, 16, 3), dtype=np.uint8)
    after = np.concatenate([rng.integers(0, 256, (45, 16, 3), dtype=np.uint8),
                            np.zeros((45, 16, 1), dtype=np.uint8)], axis=2)
    diff = difference(before, after)
    out = heat_map(diff, after, opacity=1.0)
    wide = after[..., :3].astype(int)
    luma = (wide[..., 0] * 77 + wide[..., 1] * 150 + wide[..., 2] * 29) >> 8
    grey = 40 + luma * 45 // 100
    over = diff.magnitude > diff.threshold
    expected = np.where(over[..., None], heat_scale()[diff.magnitude], grey[..., None])
    np.testing.assert_array_equal(out[..., :3], expected)
    assert (out[..., 3] == 255).all()
