"""Composites: side by side, split, caption, and the listing label with its QR code."""

from __future__ import annotations

import numpy as np
import pytest
import zxingcpp
from PIL import Image, ImageDraw

from desktop.core.exports import composites
from desktop.core.exports.composites import ListingLabel
from desktop.core.model import InvalidInput
from tests.core.exports.library import photo_image

RED, BLUE = (210, 40, 30), (30, 60, 200)


def solid(color: tuple[int, int, int], size: tuple[int, int]) -> Image.Image:
    return Image.new("RGB", size, color)


def near(pixel: tuple[int, ...], color: tuple[int, int, int], tol: int = 6) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(pixel[:3], color, strict=True))


def text_rows(img: Image.Image, box: tuple[int, int, int, int], dark: bool = True
              ) -> tuple[int, int]:
    """The first and last rows in `box` holding text pixels (dark ones, or light ones)."""
    grey = np.asarray(img.convert("L").crop(box))
    mask = grey < 100 if dark else grey > 155
    rows = np.flatnonzero(mask.any(axis=1))
    assert rows.size, "no text in the box"
    return int(rows[0]), int(rows[-1])


def test_side_by_side_scales_the_before_to_the_results_height() -> None:
    out = composites.side_by_side(solid(RED, (100, 50)), solid(BLUE, (400, 200)))
    gap = max(4, round(200 * 0.02))
    assert out.size == (400 + gap + 400, 200)
    assert near(out.getpixel((10, 100)), RED) and near(out.getpixel((390, 10)), RED)
    assert out.getpixel((400 + gap // 2, 100)) == (255, 255, 255)
    assert near(out.getpixel((400 + gap + 5, 100)), BLUE)


@pytest.mark.parametrize("at", [0.0, 0.2, 0.5, 0.83, 1.0])
def test_split_takes_before_left_of_the_cut_and_after_right_of_it(at: float) -> None:
    after = solid(BLUE, (600, 400))
    before = solid(RED, (150, 100))  # smaller: scaled up to the result's size
    out = composites.split(before, after, at)
    assert out.size == after.size
    cut = round(600 * at)
    half = composites.divider_half_width(out.size)
    for x in range(0, 600, 7):
        colour = out.getpixel((x, 200))
        if x < cut - half:
            assert near(colour, RED), (x, colour)
        elif x >= cut + half or cut == 0:
            assert near(colour, BLUE), (x, colour)
        else:
            assert colour == (255, 255, 255), (x, colour)  # the divider
    if 0 < cut < 600:
        assert [out.getpixel((x, 200)) for x in range(cut - half - 1, cut + half + 1)] == [
            RED, *[(255, 255, 255)] * (2 * half), BLUE]


def test_split_fills_the_frame_with_a_before_of_another_shape() -> None:
    before = Image.new("RGB", (400, 400), RED)
    ImageDraw.Draw(before).rectangle((0, 0, 399, 49), fill=(0, 255, 0))  # a band cut away
    out = composites.split(before, solid(BLUE, (800, 400)), 0.5)
    # Scaled to cover 800x400 (x2) and centred: the top 100 rows of the 800x800 are cut off.
    assert near(out.getpixel((100, 0)), RED) and near(out.getpixel((100, 399)), RED)
    with pytest.raises(InvalidInput, match="between 0 and 1"):
        composites.split(before, before, 1.5)


@pytest.mark.parametrize("size", [(512, 384), (6000, 4000), (384, 512)])
def test_caption_reads_at_any_resolution(size: tuple[int, int]) -> None:
    picture = solid((120, 160, 90), size)
    text = composites.caption_text("Virtual Staging AI", "room_staging", 0.0, composite=True)
    out = composites.add_caption(picture, text)
    band = composites.caption_band_height(size)
    assert out.size == (size[0], size[1] + band)
    assert out.crop((0, 0, *size)).getcolors(1) is not None  # the picture itself untouched
    top, bottom = text_rows(out, (0, size[1], size[0], size[1] + band))
    height = bottom - top + 1
    short = min(size)
    assert 0.02 <= height / short <= 0.05, (height, short)
    assert height >= 12  # never below a readable size on a small picture
    dark = np.asarray(out.convert("L").crop((0, size[1], size[0], size[1] + band))) < 100
    assert dark.any(axis=0).sum() > size[0] * 0.3  # a line of text across, not a dot


def test_a_long_caption_is_fitted_to_a_narrow_picture() -> None:
    out = composites.add_caption(solid((200, 200, 200), (200, 600)), "word " * 40)
    band_box = (0, 600, 200, out.height)
    dark = np.asarray(out.convert("L").crop(band_box)) < 100
    columns = np.flatnonzero(dark.any(axis=0))
    assert columns.size and columns[-1] < 200 - 2  # ellipsised inside the width


@pytest.mark.parametrize("corner", composites.CORNERS)
def test_label_goes_in_its_corner_and_changes_the_pixels_there(corner: str) -> None:
    base = photo_image((900, 600), seed=5)
    label = ListingLabel(corner=corner).checked()
    out = composites.draw_label(base, label)
    left, top, right, bottom = composites.label_box(label, base.size)
    assert (left < 450) == corner.endswith("left") and (top < 300) == corner.startswith("top")
    before = np.asarray(base.crop((left, top, right, bottom)), dtype=int)
    after = np.asarray(out.crop((left, top, right, bottom)), dtype=int)
    assert (np.abs(before - after).sum(axis=2) > 60).mean() > 0.8  # a plate covers the box
    outside = (0, 0, 50, 50) if corner != "top-left" else (850, 550, 900, 600)
    assert np.array_equal(np.asarray(base.crop(outside)), np.asarray(out.crop(outside)))


@pytest.mark.parametrize("background", [(255, 255, 255), (0, 0, 0), (128, 128, 128)])
def test_label_reads_on_light_dark_and_middling_photos(background: tuple[int, int, int]
                                                       ) -> None:
    base = solid(background, (800, 600))
    label = ListingLabel().checked()
    out = composites.draw_label(base, label)
    left, top, right, bottom = composites.label_box(label, base.size)
    grey = np.asarray(out.convert("L").crop((left, top, right, bottom)), dtype=int)
    plate = int(np.median(grey))
    ink = grey[np.abs(grey - plate) > 100]
    assert ink.size > 200  # the text stands out from its plate
    assert abs(int(np.mean(ink)) - plate) > 150
    assert abs(plate - int(np.asarray(base.convert("L")).mean())) > 60  # and from the photo


def test_label_size_is_a_share_of_the_photo() -> None:
    heights = []
    for size, share in (((800, 600), 0.04), ((8000, 6000), 0.04), ((800, 600), 0.08)):
        label = ListingLabel(size=share).checked()
        out = composites.draw_label(solid((255, 255, 255), size), label)
        left, top, right, bottom = composites.label_box(label, size)
        inset = (bottom - top) // 2  # clear of the plate's rounded corners
        first, last = text_rows(out, (left + inset, top, right - inset, bottom), dark=False)
        heights.append((last - first + 1) / min(size))
    assert heights[0] == pytest.approx(heights[1], rel=0.15)
    assert heights[2] == pytest.approx(2 * heights[0], rel=0.2)
    assert 0.025 <= heights[0] <= 0.06


@pytest.mark.parametrize("size", [(512, 384), (3000, 2000)])
def test_qr_code_scans_to_the_originals_address(size: tuple[int, int]) -> None:
    url = "https://listings.example/12-elm-street/photos/original-3.jpg"
    label = ListingLabel(url=url, qr=True).checked()
    out = composites.draw_label(photo_image(size, seed=9), label)
    [code] = zxingcpp.read_barcodes(out)
    assert code.text == url
    width = code.position.top_right.x - code.position.top_left.x
    assert width >= 0.1 * min(size)  # large enough to scan from a screen or a print


def test_printed_link_and_qr_make_room_on_the_plate() -> None:
    size = (1200, 800)
    url = "https://listings.example/a/very/long/address/that/needs/wrapping/" + "x" * 60
    plain = composites.label_box(ListingLabel().checked(), size)
    linked = composites.label_box(ListingLabel(url=url).checked(), size)
    coded = composites.label_box(ListingLabel(url=url, qr=True, link=False).checked(), size)
    assert linked[3] - linked[1] > 1.4 * (plain[3] - plain[1])  # a line (or more) below
    assert linked[2] - linked[0] <= size[0]
    assert coded[2] - coded[0] > plain[2] - plain[0]
    out = composites.draw_label(solid((255, 255, 255), size), ListingLabel(url=url).checked())
    assert zxingcpp.read_barcodes(out) == []  # no code unless asked


def test_label_on_a_photo_too_small_says_so() -> None:
    with pytest.raises(InvalidInput, match="too small to carry the listing label"):
        composites.draw_label(solid((255, 255, 255), (40, 30)),
                              ListingLabel(text="Virtually staged, furniture not included"))


@pytest.mark.parametrize("label, message", [
    (ListingLabel(text="  "), "empty"),
    (ListingLabel(text="x" * 101), "under 100"),
    (ListingLabel(text="staged\u202e"), "control characters"),
    (ListingLabel(corner="middle"), "top-left, top-right"),
    (ListingLabel(size=0.5), "between 1 and 20 %"),
    (ListingLabel(qr=True), "needs the address"),
    (ListingLabel(url="javascript:alert(1)"), "https://"),
    (ListingLabel(url="https://ana:pw@listings.example/1"), "user name or password"),
    (ListingLabel(url="https://listings.example/a b"), "spaces"),
    (ListingLabel(url="https://x.example/" + "a" * 600), "at most 500"),
])
def test_label_settings_are_checked(label: ListingLabel, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        label.checked()


def draws(font: object, text: str) -> bool:
    """Whether `font` draws every character of `text` as itself, not as a missing-glyph box."""
    missing = composites._glyph(font, "\U0010fffd")  # type: ignore[arg-type]
    return all(composites._glyph(font, ch) != missing  # type: ignore[arg-type]
               for ch in text if not ch.isspace())


def test_label_text_in_other_scripts_uses_a_font_that_has_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    if composites._font_file("DejaVuSans.ttf", 40) is None or composites._font_file(
            "LiberationSans-Regular.ttf", 40) is None:
        pytest.skip("needs the DejaVu and Liberation fonts (Debian fonts-dejavu-core and "
                    "fonts-liberation)")
    assert not draws(composites._default_font(40), "é")  # Pillow's own font draws a box
    assert draws(composites.font_for("Meublé virtuellement", 40), "Meublé virtuellement")
    # Liberation first: it lacks the ballot box, so the next font that has it is chosen.
    monkeypatch.setattr(composites, "_FONT_FILES", ("NoSuchFont.ttf",
                                                    "LiberationSans-Regular.ttf",
                                                    "DejaVuSans.ttf"))
    assert not draws(composites.font_for("x", 40), "☐")
    assert composites.font_for("x", 40).path.endswith("LiberationSans-Regular.ttf")
    assert draws(composites.font_for("☐ Virtually staged", 40), "☐ Virtually staged")
