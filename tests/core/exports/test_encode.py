"""Exports: formats, quality, side by side, names, and failures that leave nothing behind."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from desktop.core.exports import encode
from desktop.core.model import InvalidInput, Job, JobSpec, JobState, Output
from tests.big_images import grey_jpeg, solid_png


def png(color: tuple[int, ...], size: tuple[int, int] = (80, 60), mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("fmt, pil", [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")])
def test_export_formats(fmt: str, pil: str) -> None:
    out = encode.export_image(png((200, 30, 30)), "r.png", fmt, quality=80)
    img = Image.open(io.BytesIO(out))
    assert img.format == pil and img.size == (80, 60)


def test_png_export_keeps_the_providers_bytes_and_alpha() -> None:
    data = png((10, 20, 30, 0), mode="RGBA")
    assert encode.export_image(data, "a.png", "png") == data
    flat = Image.open(io.BytesIO(encode.export_image(data, "a.png", "jpeg")))
    assert flat.mode == "RGB" and flat.getpixel((5, 5))[0] > 240  # flattened on white


def test_quality_changes_size_and_is_checked() -> None:
    noisy = Image.effect_noise((200, 200), 80).convert("RGB")
    buf = io.BytesIO()
    noisy.save(buf, "PNG")
    low = encode.export_image(buf.getvalue(), "n.png", "jpeg", quality=20)
    high = encode.export_image(buf.getvalue(), "n.png", "jpeg", quality=95)
    assert len(low) < len(high)
    with pytest.raises(InvalidInput, match="between 1 and 100"):
        encode.export_image(buf.getvalue(), "n.png", "jpeg", quality=0)
    with pytest.raises(InvalidInput, match="png, jpeg, webp"):
        encode.export_image(buf.getvalue(), "n.png", "gif")


def test_side_by_side_scales_before_to_the_result_height() -> None:
    before = png((255, 0, 0), (100, 50))
    after = png((0, 0, 255), (400, 200))  # a 4x upscale
    out = Image.open(io.BytesIO(encode.export_side_by_side(before, after, "png")))
    assert out.width == 400 + 16 + 400 and out.height > 200
    band = out.height - 200
    assert out.getpixel((200, band + 100))[:3] == (255, 0, 0)
    assert out.getpixel((416 + 200, band + 100))[:3] == (0, 0, 255)


def test_suggested_name_and_format_for_path() -> None:
    job = Job(id="ab" * 16, spec=JobSpec("local", "recolor"), state=JobState.SUCCEEDED,
              created_at=0.0, updated_at=0.0,
              outputs=(Output(0, "a" * 64, "image/png", 1), Output(1, "b" * 64, "image/png", 1)))
    name = encode.suggested_name(job, 1, "jpeg")
    assert name.startswith("restyle-recolor-local-") and name.endswith("-abababab-2.jpg")
    assert encode.format_for_path(Path("x.JPEG")) == "jpeg"
    assert encode.format_for_path(Path("x.webp")) == "webp"
    assert encode.format_for_path(Path("x"), "png") == "png"


def test_write_export_to_an_unwritable_place_says_so(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InvalidInput, match="Choose another folder"):
        encode.write_export(blocker / "sub" / "out.png", b"data")
    target = encode.write_export(tmp_path / "out" / "r.png", b"data")
    assert target.read_bytes() == b"data"


def test_a_result_over_the_input_limit_exports() -> None:
    # 8200 x 8200 (67 MP) is over the 64 MP input guard; results export up to the result limit.
    data = solid_png(8200, 8200)
    out = encode.export_image(data, "big.png", "jpeg", quality=80)
    img = Image.open(io.BytesIO(out))
    assert img.format == "JPEG" and img.size == (8200, 8200)
    with pytest.raises(InvalidInput, match="megapixel limit"):
        encode.export_image(data, "big.png", "jpeg", max_pixels=64_000_000)
    side = encode.export_side_by_side(png((1, 2, 3), (40, 40)), grey_jpeg(512, 512), "png",
                                         max_pixels=300_000)
    assert Image.open(io.BytesIO(side)).height > 512
    with pytest.raises(InvalidInput, match="megapixel limit"):
        encode.export_side_by_side(png((1, 2, 3), (40, 40)), grey_jpeg(512, 512), "png",
                                      max_pixels=200_000)


def test_webp_export_of_a_16384_px_result_says_to_use_png() -> None:
    data = grey_jpeg(16384, 16, components=1)
    with pytest.raises(InvalidInput) as err:
        encode.export_image(data, "wide.jpg", "webp")
    assert str(err.value) == ("A WEBP image can be at most 16383 pixels a side and this one is "
                              "16384x16; export it as PNG.")
    assert Image.open(io.BytesIO(encode.export_image(data, "wide.jpg", "png"))).width == 16384
