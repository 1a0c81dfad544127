"""difference(): magnitude, changed fraction, the misalignment tolerance, chunk halos,
cancelling and the sentences for unusable input."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.core.compare import (
    DEFAULT_THRESHOLD,
    MAX_TOLERANCE,
    Cancelled,
    common,
    difference,
    heat_map,
    structure_check,
    structure_overlay,
)


def reference(before: np.ndarray, after: np.ndarray, k: int) -> np.ndarray:
    """Brute force: per channel the distance of after to the before's neighbourhood range."""
    h, w = after.shape[:2]
    b = before[..., :3].astype(int)
    a = after[..., :3].astype(int)
    out = np.zeros((h, w), dtype=int)
    for y in range(h):
        for x in range(w):
            window = b[max(0, y - k):y + k + 1, max(0, x - k):x + k + 1].reshape(-1, 3)
            low, high = window.min(axis=0), window.max(axis=0)
            out[y, x] = np.maximum(np.maximum(a[y, x] - high, low - a[y, x]), 0).max()
    return out


def stripes(width: int = 200, height: int = 120, shift: int = 0) -> np.ndarray:
    """Sharp dark/light vertical stripes 8 px wide, inverted beyond a diagonal edge, the whole
    pattern moved right by `shift` (<= 4) pixels; no edge crosses the picture's border."""
    x = np.arange(width)[None, :] - shift + 4
    y = np.arange(height)[:, None]
    value = np.where(((x // 8) % 2 == 0) ^ (x + y > 150), 230, 20)
    return np.repeat(value[..., None], 3, axis=2).astype(np.uint8)


def test_plain_magnitude_is_the_largest_channel_difference() -> None:
    before = np.zeros((4, 5, 3), dtype=np.uint8)
    after = before.copy()
    after[0, 0] = (10, 200, 30)    # green differs most
    after[1, 1] = (0, 0, 24)       # at the threshold: not changed
    after[2, 2] = (0, 0, 25)       # just over
    before[3, 4] = (255, 0, 0)     # a decrease counts the same
    diff = difference(before, after)
    assert diff.magnitude.dtype == np.uint8 and diff.magnitude.shape == (4, 5)
    assert diff.magnitude[0, 0] == 200 and diff.magnitude[1, 1] == 24
    assert diff.magnitude[2, 2] == 25 and diff.magnitude[3, 4] == 255
    assert diff.changed_fraction == pytest.approx(3 / 20)
    assert (diff.threshold, diff.tolerance) == (DEFAULT_THRESHOLD, 0)
    assert difference(before, after, threshold=199).changed_fraction == pytest.approx(2 / 20)


def test_alpha_is_ignored_and_rgb_meets_rgba() -> None:
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    rgba = np.concatenate([rgb, rng.integers(0, 256, (20, 30, 1), dtype=np.uint8)], axis=2)
    assert difference(rgb, rgba).changed_fraction == 0
    assert not difference(rgba, rgba.copy(), tolerance=1).magnitude.any()


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_matches_brute_force_across_chunk_boundaries(monkeypatch: pytest.MonkeyPatch,
                                                      k: int) -> None:
    """Chunks of a few rows: every chunk boundary needs the k-row halo to match."""
    monkeypatch.setattr(common, "CHUNK_PIXELS", 3 * 23)  # 3 rows per chunk
    rng = np.random.default_rng(k)
    before = rng.integers(0, 256, (37, 23, 4), dtype=np.uint8)
    after = rng.integers(0, 256, (37, 23, 3), dtype=np.uint8)
    got = difference(before, after, threshold=40, tolerance=k)
    expected = reference(before, after, k)
    np.testing.assert_array_equal(got.magnitude, expected)
    assert got.changed_fraction == pytest.approx((expected > 40).mean())


@pytest.mark.parametrize("shift", [1, 2])
def test_tolerance_ignores_shifted_edges(shift: int) -> None:
    before, after = stripes(), stripes(shift=shift)
    plain = difference(before, after).changed_fraction
    assert plain > 0.1 * shift
    one = difference(before, after, tolerance=1).changed_fraction
    assert one == 0 if shift == 1 else 0.6 * plain > one > 0.3 * plain
    assert difference(before, after, tolerance=2).changed_fraction == 0


def test_tolerance_keeps_real_changes_and_larger_shifts() -> None:
    before = stripes()
    before[40:80, 60:140] = 128  # a flat grey panel in the stripes
    after = before.copy()
    after[:, 1:] = before[:, :-1]  # all moved right by a pixel
    after[45:75, 71:131] = (200, 40, 40)  # a real change: red in the middle of the panel
    diff = difference(before, after, tolerance=2)
    assert diff.changed_fraction == pytest.approx(30 * 60 / (200 * 120))
    assert diff.magnitude[60, 100] == 88
    assert difference(before, stripes(shift=4), tolerance=2).changed_fraction > 0.1


def test_tolerance_cannot_see_a_colour_inside_both_sides_range() -> None:
    """The documented limit: next to an edge between black and white every channel's range is
    0-255, so any colour there reads as unchanged."""
    before = stripes()
    after = before.copy()
    after[:, 3:5] = (200, 30, 30)  # on the first stripe edge (x = 4)
    assert difference(before, after, tolerance=2).magnitude[10, 3:5].max() == 0
    assert difference(before, after).magnitude[10, 3:5].min() > DEFAULT_THRESHOLD


def test_structure_check_defaults_to_tolerance_two() -> None:
    before, after = stripes(), stripes(shift=2)
    assert structure_check(before, after).changed_fraction < 0.001
    assert structure_check(before, after, tolerance=0).changed_fraction > 0.2


def test_cancelled_stops_between_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "CHUNK_PIXELS", 10 * 50)  # 10 rows per chunk, 10 chunks
    before = np.zeros((100, 50, 3), dtype=np.uint8)
    after = np.full((100, 50, 3), 99, dtype=np.uint8)
    calls: list[int] = []

    def after_three() -> bool:
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(Cancelled, match="cancelled"):
        difference(before, after, tolerance=2, cancelled=after_three)
    assert len(calls) == 4  # three chunks done, stopped at the fourth
    assert difference(before, after, cancelled=lambda: False).changed_fraction == 1


def test_everything_honours_cancelled() -> None:
    image = np.zeros((30, 40, 3), dtype=np.uint8)
    diff = difference(image, image)
    check = structure_check(image, image)
    for run in (lambda: difference(image, image, cancelled=lambda: True),
                lambda: heat_map(diff, image, cancelled=lambda: True),
                lambda: structure_check(image, image, cancelled=lambda: True),
                lambda: structure_overlay(check, image, cancelled=lambda: True)):
        with pytest.raises(Cancelled):
            run()


def test_structure_check_cancelled_after_the_difference(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cancelling while the structure check runs its own steps (after the difference)."""
    monkeypatch.setattr(common, "CHUNK_PIXELS", 10 * 40)
    image = np.zeros((60, 40, 3), dtype=np.uint8)
    calls: list[int] = []

    def later() -> bool:
        calls.append(1)
        return len(calls) > 7  # the difference checks 6 times

    with pytest.raises(Cancelled):
        structure_check(image, image, tolerance=0, cancelled=later)


def test_mismatched_sizes_say_so_in_a_sentence() -> None:
    small = np.zeros((40, 60, 3), dtype=np.uint8)
    large = np.zeros((400, 600, 4), dtype=np.uint8)
    message = ("Cannot compare pictures of different sizes: the before image is 60 x 40 "
               "pixels, the after image is 600 x 400. Scale one to the other's size first.")
    with pytest.raises(ValueError) as caught:
        difference(small, large)
    assert str(caught.value) == message
    with pytest.raises(ValueError, match="the original image is 60 x 40 pixels, the staged"):
        structure_check(small, large)
    with pytest.raises(ValueError, match="different sizes: the difference is 600 x 400"):
        heat_map(difference(large, large), small)
    with pytest.raises(ValueError, match="different sizes: the structure check is 60 x 40"):
        structure_overlay(structure_check(small, small), large)


@pytest.mark.parametrize(("before", "words"), [
    (np.zeros((4, 4), dtype=np.uint8), "8-bit RGB or RGBA picture, but it is an array of "
                                        "shape (4, 4)"),
    (np.zeros((4, 4, 3), dtype=np.float32), "type float32"),
    (np.zeros((4, 4, 2), dtype=np.uint8), "shape (4, 4, 2)"),
    (np.zeros((0, 4, 3), dtype=np.uint8), "it has no pixels"),
    ([[1, 2, 3]], "it is not a picture (got list)"),
])
def test_unusable_input_is_a_sentence(before: object, words: str) -> None:
    with pytest.raises(ValueError, match=f"^Cannot compare the before image: .*{words}"
                       .replace("(", r"\(").replace(")", r"\)")):
        difference(before, np.zeros((4, 4, 3), dtype=np.uint8))  # type: ignore[arg-type]


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"threshold": 255}, "threshold must be a whole number from 0 to 254 (got 255)"),
    ({"threshold": -1}, "threshold must be a whole number from 0 to 254 (got -1)"),
    ({"threshold": 2.5}, "threshold must be a whole number from 0 to 254 (got 2.5)"),
    ({"tolerance": MAX_TOLERANCE + 1}, f"from 0 to {MAX_TOLERANCE} (got {MAX_TOLERANCE + 1})"),
    ({"tolerance": True}, "tolerance must be a whole number of pixels"),
])
def test_bad_settings_are_sentences(kwargs: dict[str, object], words: str) -> None:
    image = np.zeros((4, 4, 3), dtype=np.uint8)
    with pytest.raises(ValueError) as caught:
        difference(image, image, **kwargs)  # type: ignore[arg-type]
    assert words in str(caught.value)
