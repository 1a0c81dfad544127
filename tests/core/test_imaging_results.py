"""desktop.core.imaging for provider results: verify_result, and thumbnails and display copies
of results too large to decode at full size."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from desktop.core import imaging, png
from desktop.core.imaging import ImageError, ResultTooLarge
from desktop.core.limits import Limits
from tests.big_images import grey_jpeg, png_chunk, solid_png

RESULT_LIMIT = Limits().result_max_pixels
NAME = "The result 1 from Acme"
ROOT = Path(__file__).resolve().parents[2]


def encode(img: Image.Image, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def photo(width: int = 300, height: int = 200, mode: str = "RGB", seed: int = 3) -> Image.Image:
    """Smooth noise: compresses like a photo, every pixel different."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (height // 8 + 1, width // 8 + 1, 4), dtype=np.uint8)
    img = Image.fromarray(small, "RGBA").resize((width, height), Image.Resampling.BICUBIC)
    return img.convert(mode)


def verify(data: bytes, **kw: int) -> imaging.ImageInfo:
    kw.setdefault("max_pixels", RESULT_LIMIT)
    return imaging.verify_result(data, NAME, **kw)


def refused(data: bytes, **kw: int) -> str:
    with pytest.raises(ImageError) as err:
        verify(data, **kw)
    return str(err.value)


def header_only_png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (png.SIGNATURE + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + png_chunk(b"IEND", b""))


# -- verify_result ----------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "mime"), [("PNG", "image/png"), ("JPEG", "image/jpeg"),
                                           ("WEBP", "image/webp"), ("GIF", "image/gif")])
def test_a_good_result_is_described_like_probe_does(fmt: str, mime: str) -> None:
    data = encode(photo(), fmt)
    info = verify(data)
    assert info == imaging.probe(data, "x")
    assert (info.width, info.height, info.mime) == (300, 200, mime)


def test_rgba_palette_and_grey_pngs_are_described_from_the_header() -> None:
    assert verify(encode(photo(mode="RGBA"), "PNG")).has_alpha
    info = verify(encode(photo(mode="P"), "PNG", transparency=0))
    assert (info.mode, info.has_alpha) == ("P", True)
    assert verify(encode(photo(mode="L"), "PNG")).mode == "L"


def test_exif_rotation_swaps_the_reported_size_without_decoding(
        monkeypatch: pytest.MonkeyPatch) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    jpeg = encode(photo(40, 20), "JPEG", exif=exif.tobytes())
    png_data = encode(photo(40, 20), "PNG", exif=exif.tobytes())
    # eXIf after the pixel data is allowed too: Pillow decodes the whole image to find it.
    chunks = [(kind, bytes(body)) for kind, body in png.chunks(png_data)]
    late = [c for c in chunks if c[0] not in (b"eXIf", b"IEND")]
    late += [c for c in chunks if c[0] == b"eXIf"] + [(b"IEND", b"")]
    png_late = png.SIGNATURE + b"".join(png_chunk(kind, body) for kind, body in late)
    assert "exif" not in Image.open(io.BytesIO(png_late)).info
    for data in (jpeg, png_data, png_late):
        info = verify(data)
        assert (info.width, info.height) == (20, 40)
    # The PNG's orientation is read from its eXIf chunk, not by letting Pillow decode.
    monkeypatch.setattr(ImageFile.ImageFile, "load", _no_decoding)
    assert (verify(png_late).width, verify(png_late).height) == (20, 40)


def _no_decoding(self: ImageFile.ImageFile) -> None:
    raise AssertionError(f"{self.format} pixels were decoded")


def test_png_is_proved_without_decoding_pixels(monkeypatch: pytest.MonkeyPatch) -> None:
    data = encode(photo(), "PNG")
    monkeypatch.setattr(ImageFile.ImageFile, "load", _no_decoding)
    assert verify(data).width == 300


def test_jpeg_is_decoded_at_one_eighth(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[tuple[int, int]] = []
    load = ImageFile.ImageFile.load

    def recording(self: ImageFile.ImageFile) -> object:
        sizes.append(self.size)
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", recording)
    info = verify(grey_jpeg(16384, 16384))
    assert (info.width, info.height, info.format) == (16384, 16384, "JPEG")
    assert sizes == [(2048, 2048)]


def test_8200_px_png_result_is_accepted_with_the_default_limit() -> None:
    data = solid_png(8200, 8200)
    info = verify(data)
    assert (info.width, info.height, info.mime) == (8200, 8200, "image/png")
    # An input that size is still refused: the 64 MP guard for inputs is unchanged.
    with pytest.raises(ImageError, match="64-megapixel limit"):
        imaging.probe(data, "input.png")


def test_16384_px_jpeg_result_is_accepted_and_pillow_is_left_alone() -> None:
    info = verify(grey_jpeg(16384, 16384))
    assert (info.width, info.height) == (16384, 16384)
    # Pillow's process-wide ceiling (179 MP refused) is bypassed, never changed.
    assert Image.MAX_IMAGE_PIXELS == 1024 * 1024 * 1024 // 4 // 3


def test_result_over_the_limit_names_the_setting_and_its_size() -> None:
    with pytest.raises(ResultTooLarge) as err:
        verify(header_only_png(17000, 17000))
    assert str(err.value) == (
        f"{NAME} has 289 megapixels (17000x17000), more than the 270-megapixel limit for "
        "results (limits.result_max_megapixels in settings.json); raise that setting to "
        "accept images this large.")
    assert "limits.result_max_megapixels" in refused(grey_jpeg(300, 200), max_pixels=50_000)
    assert verify(grey_jpeg(300, 200), max_pixels=60_000).width == 300


def test_empty_and_non_image_bodies_are_refused_with_a_sentence() -> None:
    assert refused(b"") == f"{NAME} is empty (0 bytes)."
    html = b"<!DOCTYPE html>\n<html><head><title>Expired</title></head><body>Gone</body></html>"
    assert refused(html) == (f"{NAME} could not be read as an image: it is a web page (HTML), "
                             "not image data: the server sent a page where the image should "
                             "be.")
    assert "web page (HTML)" in refused(b"\n  <html><body>503</body></html>")
    body = json.dumps({"error": "not_found", "message": "no such output"}).encode()
    assert "JSON document" in refused(body)
    xml = b'<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>'
    assert "XML document" in refused(xml)
    assert refused(b"Service Unavailable") == (
        f"{NAME} could not be read as an image: it is text, not image data.")
    assert "format is not one Restyle can read" in refused(b"\x00\x01" + bytes(range(256)))
    secret = b'{"error": "bad token sk-live-123"}'
    assert "sk-live" not in refused(secret)  # an error body is described, never quoted


def test_truncated_png_is_refused() -> None:
    data = encode(photo(), "PNG")
    message = refused(data[: len(data) // 2])
    assert message.startswith(f"{NAME} could not be read as an image: it ends inside its IDAT")
    assert message.endswith("it was cut short.")
    assert "IEND" in refused(data[:-12])


@pytest.mark.parametrize("progressive", [False, True])
def test_truncated_jpeg_is_refused_even_when_only_its_end_marker_is_missing(
        progressive: bool) -> None:
    data = encode(photo(), "JPEG", quality=90, progressive=progressive)
    for cut in (len(data) // 2, len(data) - 2):
        assert refused(data[:cut]) == (f"{NAME} could not be read as an image: its data ends "
                                       "before the image does: it was cut short.")


def test_truncated_huge_jpeg_is_refused_at_one_eighth_scale() -> None:
    data = grey_jpeg(16384, 16384)
    assert "cut short" in refused(data[: len(data) // 2])


def test_png_with_a_corrupted_crc_is_refused() -> None:
    data = bytearray(encode(photo(), "PNG"))
    data[len(data) // 2] ^= 0x40
    assert refused(bytes(data)) == (f"{NAME} could not be read as an image: its IDAT chunk "
                                    "fails its checksum (CRC).")


def test_png_with_corrupt_compressed_data_but_good_crcs_is_refused() -> None:
    data = encode(photo(60, 40), "PNG")
    head, tail = data.split(b"IEND")[0][:33], png_chunk(b"IEND", b"")
    stream = bytearray(zlib.compress(bytes(60 * 40 * 3 + 40)))
    stream[2] = 0xFF
    broken = head + png_chunk(b"IDAT", bytes(stream)) + tail
    assert "compressed pixel data is corrupt" in refused(broken)


def test_damaged_header_says_so() -> None:
    data = bytearray(encode(photo(), "JPEG"))
    data[2:] = b"\xff\xc0\x00\x02" + bytes(data[6:])  # a frame header with no content
    assert refused(bytes(data)).startswith(f"{NAME} could not be read as an image:")


def test_other_formats_are_decoded_whole_up_to_their_own_setting() -> None:
    data = encode(photo(), "WEBP", quality=80)
    assert verify(data, full_decode_max_pixels=60_000).width == 300
    with pytest.raises(ResultTooLarge) as err:
        verify(data, full_decode_max_pixels=50_000)
    message = str(err.value)
    assert "limits.result_full_decode_max_megapixels" in message
    assert "0.06 megapixels (300x200)" in message and "WEBP results" in message
    assert "cut short" in refused(data[: len(data) // 2])


# -- decoding reduced: thumbnails and display copies ------------------------------------------


def reduced(data: bytes, factor: int) -> Image.Image:
    return imaging._decode_reduced(data, "r", max_pixels=RESULT_LIMIT,
                                   factor_for=lambda _w, _h: factor)


PNG_KINDS = {
    "RGB": lambda: encode(photo(mode="RGB"), "PNG"),
    "RGBA": lambda: encode(photo(mode="RGBA"), "PNG"),
    "L": lambda: encode(photo(mode="L"), "PNG"),
    "LA": lambda: encode(photo(mode="LA"), "PNG"),
    "P": lambda: encode(photo(mode="P"), "PNG"),
    "P+tRNS": lambda: encode(photo(mode="P"), "PNG", transparency=3),
    "RGB+tRNS": lambda: encode(photo(mode="RGB"), "PNG", transparency=(0, 0, 0)),
    "L+tRNS": lambda: encode(photo(mode="L"), "PNG", transparency=200),
    "filters": lambda: encode(photo(mode="RGB"), "PNG", optimize=True),
}


@pytest.mark.parametrize("kind", sorted(PNG_KINDS))
@pytest.mark.parametrize("factor", [2, 3, 7])
def test_png_read_band_by_band_equals_reducing_the_whole_image(
        kind: str, factor: int, monkeypatch: pytest.MonkeyPatch) -> None:
    data = PNG_KINDS[kind]()
    monkeypatch.setattr(imaging, "_BAND_BYTES", 4000)  # a few rows a band: many bands
    bands: list[int] = []
    filtered_rows = png.filtered_rows

    def counting(*args: object) -> object:
        for band in filtered_rows(*args):  # type: ignore[arg-type]
            bands.append(len(band))
            yield band

    monkeypatch.setattr(png, "filtered_rows", counting)
    expected = imaging.open_image(data, "r").reduce(factor)
    got = reduced(data, factor)
    assert len(bands) > 3
    assert got.mode == expected.mode and got.size == expected.size
    assert np.array_equal(np.asarray(got), np.asarray(expected))


@pytest.mark.parametrize("kind", ["16-bit", "interlaced", "1-bit"])
def test_pngs_not_read_in_bands_are_still_reduced(kind: str) -> None:
    img = photo(64, 40)
    if kind == "16-bit":
        data = encode(Image.fromarray(np.asarray(img.convert("L"), np.uint16) * 257), "PNG")
    elif kind == "1-bit":
        data = encode(img.convert("1"), "PNG")
    else:
        from tests.core.test_png import _interlaced
        data = _interlaced(img)
    got = reduced(data, 4)
    assert got.size == (16, 10) and got.mode in ("RGB", "RGBA")


def test_jpeg_is_reduced_through_draft_and_turned_upright() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    img = Image.new("RGB", (800, 400), (220, 30, 40))
    img.paste((20, 40, 210), (400, 0, 800, 400))
    got = reduced(encode(img, "JPEG", quality=95, exif=exif.tobytes()), 4)
    assert got.size == (100, 200)  # 200 x 100 stored, upright is portrait
    top, bottom = got.getpixel((50, 20)), got.getpixel((50, 180))
    assert top[0] > 180 and bottom[2] > 180  # red above, blue below after the rotation
    assert "exif" not in got.info


def test_display_factor() -> None:
    cap = 8192 * 8192
    assert imaging.display_factor(16384, 16384, cap) == 2
    assert imaging.display_factor(8192, 8192, cap) == 1
    assert imaging.display_factor(16385, 16384, cap) == 3
    assert imaging.display_factor(100_000, 1000, 64_000_000) == 2


def test_huge_results_open_for_display_reduced() -> None:
    img = imaging.open_for_display(grey_jpeg(16384, 16384), "r", max_pixels=RESULT_LIMIT,
                                   display_pixels=8192 * 8192)
    assert img.size == (8192, 8192) and img.getpixel((100, 100)) == (128, 128, 128)
    img = imaging.open_for_display(solid_png(4000, 3000), "r", max_pixels=RESULT_LIMIT,
                                   display_pixels=2000 * 1500)
    assert img.size == (2000, 1500) and img.getpixel((1999, 1499)) == (200, 30, 40)
    small = encode(photo(), "PNG")
    assert imaging.open_for_display(small, "r", max_pixels=RESULT_LIMIT,
                                    display_pixels=8192 * 8192).size == (300, 200)


def test_thumbnails_of_huge_results() -> None:
    thumb = imaging.thumbnail(solid_png(8200, 8200), "big.png", max_pixels=RESULT_LIMIT)
    assert (thumb.width, thumb.height, thumb.mime) == (256, 256, "image/jpeg")
    pixel = Image.open(io.BytesIO(thumb.data)).getpixel((128, 128))
    assert all(abs(a - b) <= 4 for a, b in zip(pixel, (200, 30, 40), strict=True))
    thumb = imaging.thumbnail(grey_jpeg(16384, 8192), "big.jpg", max_pixels=RESULT_LIMIT)
    assert (thumb.width, thumb.height) == (256, 128)
    with pytest.raises(ImageError, match="64-megapixel limit"):
        imaging.thumbnail(solid_png(8200, 8200), "big.png")  # inputs keep the input limit


def test_truncated_big_png_thumbnail_is_a_sentence() -> None:
    data = solid_png(3000, 3000, idat_size=4096)
    with pytest.raises(ImageError, match=r"^cut\.png is truncated or damaged"):
        imaging.thumbnail(data[: len(data) // 2] + png_chunk(b"IEND", b""), "cut.png")


_MEMORY_PROBE = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    from desktop.core import imaging
    from tests.big_images import grey_jpeg, solid_png
    data = {"png": solid_png(10000, 10000), "jpeg": grey_jpeg(16384, 16384)}[sys.argv[2]]
    def hwm():  # peak RSS of this process in kB; unlike ru_maxrss, not inherited from
        # the parent across fork (a large pytest process would hide any growth)
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    before = hwm()
    imaging.verify_result(data, "r", max_pixels=270_000_000)
    imaging.thumbnail(data, "r", max_pixels=270_000_000)
    after = hwm()
    print((after - before) // 1024)
""")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("kind", ["png", "jpeg"])
def test_verifying_and_thumbnailing_a_huge_result_does_not_hold_its_pixels(kind: str) -> None:
    # Decoded whole, the 100 MP PNG would take 400 MB and the 268 MP JPEG 1 GB.
    out = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, str(ROOT), kind],
                         capture_output=True, text=True, check=True, timeout=120)
    grown_mb = int(out.stdout.strip())
    assert grown_mb < 150, f"peak memory grew by {grown_mb} MB"
