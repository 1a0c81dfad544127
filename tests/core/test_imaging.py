"""desktop.core.imaging: every fixture is drawn here with Pillow; no binary files are committed."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image, ImageCms, features

from desktop.core import imaging
from desktop.core.imaging import EncodedImage, ImageError, ImageInfo
from desktop.core.model import InvalidInput, ParamSpec, ParamType

RED = (220, 30, 40)
BLUE = (20, 40, 210)


def encode_pil(img: Image.Image, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def noise(width: int, height: int, seed: int = 7) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), "RGB")


def close_to(pixel: tuple[int, ...], expected: tuple[int, ...], tolerance: int) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


def two_tone(width: int = 64, height: int = 48) -> Image.Image:
    """Left half RED, right half BLUE: orientation and colour are both visible in pixels."""
    img = Image.new("RGB", (width, height), RED)
    img.paste(BLUE, (width // 2, 0, width, height))
    return img


def avif_writable() -> bool:
    if not features.check("avif"):
        return False
    try:
        encode_pil(Image.new("RGB", (8, 8)), "AVIF")
    except (OSError, KeyError, ValueError):
        return False
    return True


def heic_writable() -> bool:
    if not imaging.heif_supported():  # registers pillow-heif's opener and saver
        return False
    try:
        encode_pil(Image.new("RGB", (8, 8)), "HEIF")
    except (OSError, KeyError, ValueError):
        return False
    return True


# -- formats ----------------------------------------------------------------------------------

LOSSLESS = [("PNG", "image/png", {}), ("BMP", "image/bmp", {}), ("TIFF", "image/tiff", {}),
            ("WEBP", "image/webp", {"lossless": True})]
LOSSY = [("JPEG", "image/jpeg", {"quality": 95}), ("WEBP", "image/webp", {"quality": 95})]


@pytest.mark.parametrize(("fmt", "mime", "options"), LOSSLESS)
def test_lossless_formats_open_with_exact_pixels(fmt: str, mime: str, options: dict) -> None:
    data = encode_pil(two_tone(), fmt, **options)
    img = imaging.open_image(data, f"two-tone.{fmt.lower()}")
    assert img.mode == "RGB"
    assert img.size == (64, 48)
    assert img.getpixel((5, 5)) == RED
    assert img.getpixel((60, 40)) == BLUE
    info = imaging.probe(data, "x")
    assert (info.width, info.height, info.mime, info.frames) == (64, 48, mime, 1)


@pytest.mark.parametrize(("fmt", "mime", "options"), LOSSY)
def test_lossy_formats_open_with_close_pixels(fmt: str, mime: str, options: dict) -> None:
    data = encode_pil(two_tone(), fmt, **options)
    img = imaging.open_image(data, f"two-tone.{fmt.lower()}")
    assert img.mode == "RGB" and img.size == (64, 48)
    assert close_to(img.getpixel((5, 5)), RED, 12)
    assert close_to(img.getpixel((60, 40)), BLUE, 12)
    assert imaging.probe(data, "x").mime == mime


def test_gif_first_frame_only() -> None:
    frames = [Image.new("RGB", (40, 30), c) for c in (RED, BLUE, (0, 200, 0))]
    data = encode_pil(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    info = imaging.probe(data, "anim.gif")
    assert info.frames == 3 and info.mime == "image/gif" and info.format == "GIF"
    img = imaging.open_image(data, "anim.gif")
    assert img.size == (40, 30)
    assert close_to(img.getpixel((10, 10)), RED, 8)


def test_avif_opens() -> None:
    if not avif_writable():
        pytest.skip("this Pillow build cannot write AVIF, so no AVIF fixture can be made")
    data = encode_pil(two_tone(), "AVIF", quality=90)
    img = imaging.open_image(data, "photo.avif")
    assert img.size == (64, 48)
    assert close_to(img.getpixel((5, 5)), RED, 20)
    assert close_to(img.getpixel((60, 40)), BLUE, 20)
    assert imaging.probe(data, "photo.avif").mime == "image/avif"
    assert imaging.sniff_mime(data) == "image/avif"


def test_heic_opens_when_pillow_heif_is_installed() -> None:
    if not heic_writable():
        pytest.skip("pillow-heif is not installed or has no HEIC encoder")
    data = encode_pil(two_tone(), "HEIF", quality=90)
    img = imaging.open_image(data, "IMG_0001.HEIC")
    assert img.size == (64, 48)
    assert close_to(img.getpixel((5, 5)), RED, 25)
    assert close_to(img.getpixel((60, 40)), BLUE, 25)
    assert imaging.probe(data, "IMG_0001.HEIC").mime == "image/heic"
    assert imaging.sniff_mime(data) == "image/heic"


# -- orientation and modes --------------------------------------------------------------------


def with_orientation(img: Image.Image, orientation: int, fmt: str = "JPEG") -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode_pil(img, fmt, exif=exif.tobytes(), quality=95)


def test_exif_orientation_6_is_applied() -> None:
    data = with_orientation(two_tone(40, 20), 6)
    img = imaging.open_image(data, "rotated.jpg")
    # Orientation 6: the display is the stored image turned 90 degrees clockwise, so the red
    # left half ends up on top.
    assert img.size == (20, 40)
    assert close_to(img.getpixel((10, 5)), RED, 20)
    assert close_to(img.getpixel((10, 35)), BLUE, 20)
    assert "exif" not in img.info
    info = imaging.probe(data, "rotated.jpg")
    assert (info.width, info.height) == (20, 40)


def test_cmyk_converts_to_rgb() -> None:
    cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # full magenta + yellow = red
    img = imaging.open_image(encode_pil(cmyk, "TIFF"), "print.tif")
    assert img.mode == "RGB"
    assert img.getpixel((3, 3)) == (255, 0, 0)
    jpeg = imaging.open_image(encode_pil(cmyk, "JPEG", quality=95), "print.jpg")
    assert jpeg.mode == "RGB"
    assert close_to(jpeg.getpixel((3, 3)), (255, 0, 0), 10)
    assert imaging.probe(encode_pil(cmyk, "TIFF"), "print.tif").mode == "CMYK"


def test_16_bit_grey_is_scaled_not_clipped() -> None:
    values = np.array([[0, 257 * 100, 65535, 30000]], dtype=np.uint16)
    source = Image.fromarray(values)
    assert source.mode.startswith("I;16")
    data = encode_pil(source, "PNG")
    assert imaging.probe(data, "scan.png").mode.startswith("I")
    img = imaging.open_image(data, "scan.png")
    assert img.mode == "RGB"
    row = [img.getpixel((x, 0)) for x in range(4)]
    assert row == [(0, 0, 0), (100, 100, 100), (255, 255, 255), (117, 117, 117)]


def test_float_image_in_unit_range_is_scaled() -> None:
    source = Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32), "F")
    img = imaging.open_image(encode_pil(source, "TIFF"), "depth.tif")
    assert [img.getpixel((x, 0)) for x in range(3)] == [(0, 0, 0), (128, 128, 128),
                                                       (255, 255, 255)]


def test_palette_with_transparency_becomes_rgba() -> None:
    pal = Image.new("P", (4, 4), 1)
    pal.putpalette([0, 0, 0, *RED] + [0] * 762)
    pal.putpixel((0, 0), 0)
    data = encode_pil(pal, "PNG", transparency=0)
    info = imaging.probe(data, "icon.png")
    assert info.mode == "P" and info.has_alpha
    img = imaging.open_image(data, "icon.png")
    assert img.mode == "RGBA"
    assert img.getpixel((0, 0))[3] == 0
    assert img.getpixel((2, 2)) == (*RED, 255)
    assert imaging.alpha_matters(img)


def test_palette_without_transparency_becomes_rgb() -> None:
    pal = Image.new("P", (4, 4), 1)
    pal.putpalette([0, 0, 0, *BLUE] + [0] * 762)
    img = imaging.open_image(encode_pil(pal, "PNG"), "flat.png")
    assert img.mode == "RGB" and img.getpixel((1, 1)) == BLUE


def test_la_l_and_1_modes() -> None:
    la = imaging.open_image(encode_pil(Image.new("LA", (4, 4), (100, 128)), "PNG"), "la.png")
    assert la.mode == "RGBA" and la.getpixel((1, 1)) == (100, 100, 100, 128)
    grey = imaging.open_image(encode_pil(Image.new("L", (4, 4), 77), "PNG"), "l.png")
    assert grey.mode == "RGB" and grey.getpixel((1, 1)) == (77, 77, 77)
    bilevel = Image.new("1", (4, 4), 0)
    bilevel.putpixel((2, 2), 1)
    mono = imaging.open_image(encode_pil(bilevel, "PNG"), "mono.png")
    assert mono.mode == "RGB"
    assert mono.getpixel((0, 0)) == (0, 0, 0) and mono.getpixel((2, 2)) == (255, 255, 255)


def test_srgb_profile_leaves_pixels_alone() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode_pil(two_tone(), "PNG", icc_profile=srgb)
    img = imaging.open_image(data, "tagged.png")
    assert img.getpixel((5, 5)) == RED and img.getpixel((60, 40)) == BLUE


def test_alpha_matters() -> None:
    opaque = Image.new("RGBA", (4, 4), (*RED, 255))
    assert not imaging.alpha_matters(opaque)
    opaque.putpixel((1, 1), (*RED, 254))
    assert imaging.alpha_matters(opaque)
    assert not imaging.alpha_matters(Image.new("RGB", (4, 4)))
    # An RGBA source stays RGBA after opening even when every pixel is opaque.
    img = imaging.open_image(encode_pil(Image.new("RGBA", (4, 4), (*RED, 255)), "PNG"), "a.png")
    assert img.mode == "RGBA" and not imaging.alpha_matters(img)


# -- refusals ---------------------------------------------------------------------------------


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height but carries almost no data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


@pytest.mark.parametrize(("width", "height"), [(9000, 9000), (10_000, 10_000), (20_000, 20_000)])
def test_bomb_header_is_refused_before_decoding(width: int, height: int) -> None:
    # 81 MP: over our limit only; 100 MP: Pillow warns; 400 MP: Pillow raises. All -> ImageError.
    data = png_header_only(width, height)
    for call in (imaging.probe, imaging.open_image):
        with pytest.raises(ImageError) as err:
            call(data, "huge.png")
        message = str(err.value)
        assert message.startswith("huge.png ")
        assert "64-megapixel limit" in message and "downscale it first" in message


def test_megapixel_message_names_the_size() -> None:
    with pytest.raises(ImageError) as err:
        imaging.open_image(png_header_only(9000, 9000), "huge.png")
    assert "81 megapixels" in str(err.value)


def test_real_image_over_a_low_pixel_limit() -> None:
    data = encode_pil(Image.new("RGB", (200, 100)), "PNG")
    with pytest.raises(ImageError, match=r"^big\.png has 0\.02 megapixels"):
        imaging.probe(data, "big.png", max_pixels=10_000)
    with pytest.raises(ImageError, match=r"^big\.png has"):
        imaging.normalize(data, "big.png", max_side=4096, max_bytes=10**7, max_pixels=10_000)
    assert imaging.probe(data, "big.png", max_pixels=20_000).width == 200


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_files_are_refused_with_their_name(fmt: str) -> None:
    data = encode_pil(noise(300, 200), fmt)
    cut = data[: len(data) // 2]
    name = f"scan.{fmt.lower()}"
    for call in (imaging.probe, imaging.open_image, imaging.thumbnail):
        with pytest.raises(ImageError) as err:
            call(cut, name)
        assert str(err.value) == f"{name} is truncated or damaged; re-export it and try again."
    with pytest.raises(ImageError, match="truncated"):
        imaging.normalize(cut, name, max_side=4096, max_bytes=10**8)


def test_file_cut_inside_the_header_is_damaged_not_unknown() -> None:
    data = encode_pil(noise(50, 50), "PNG")[:20]
    with pytest.raises(ImageError, match=r"^cut\.png is truncated or damaged"):
        imaging.probe(data, "cut.png")


def test_empty_random_text_and_video_inputs() -> None:
    with pytest.raises(ImageError) as err:
        imaging.open_image(b"", "empty.jpg")
    assert str(err.value) == "empty.jpg is empty (0 bytes)."
    garbage = b"\x00\x13\x37" + np.random.default_rng(3).bytes(2000)
    with pytest.raises(ImageError) as err:
        imaging.probe(garbage, "photo.jpg")
    assert str(err.value) == "photo.jpg is not an image Restyle can read (unrecognised format)."
    with pytest.raises(ImageError, match=r"^notes\.png is not an image .*contains text"):
        imaging.open_image(b"Shopping list:\n- milk\n- eggs\n", "notes.png")
    with pytest.raises(ImageError, match=r"^clip\.jpg is a video \(video/mp4\)"):
        imaging.open_image(MP4_HEAD + b"\x00" * 64, "clip.jpg")


def test_image_error_is_an_invalid_input() -> None:
    assert issubclass(ImageError, InvalidInput)


# -- normalize --------------------------------------------------------------------------------


def test_normalize_downscales_and_keeps_aspect() -> None:
    data = encode_pil(noise(1200, 600), "PNG")
    out = imaging.normalize(data, "wide.png", max_side=300, max_bytes=10**7)
    assert isinstance(out, EncodedImage)
    assert (out.width, out.height) == (300, 150)
    assert out.mime == "image/jpeg"  # no alpha: JPEG
    decoded = decode(out.data)
    assert decoded.format == "JPEG" and decoded.size == (300, 150)
    assert out.sha256 == hashlib.sha256(out.data).hexdigest()


def test_normalize_keeps_real_alpha_as_png() -> None:
    img = Image.new("RGBA", (800, 400), (*RED, 255))
    img.paste((0, 0, 0, 0), (0, 0, 200, 400))  # left quarter fully transparent
    out = imaging.normalize(encode_pil(img, "PNG"), "cutout.png", max_side=400, max_bytes=10**7)
    assert out.mime == "image/png" and (out.width, out.height) == (400, 200)
    decoded = decode(out.data).convert("RGBA")
    assert decoded.getpixel((10, 100))[3] == 0
    assert decoded.getpixel((300, 100)) == (*RED, 255)


def test_normalize_drops_alpha_that_does_not_matter() -> None:
    img = Image.new("RGBA", (800, 400), (*BLUE, 255))
    out = imaging.normalize(encode_pil(img, "PNG"), "opaque.png", max_side=400, max_bytes=10**7)
    assert out.mime == "image/jpeg"
    assert close_to(decode(out.data).getpixel((100, 100)), BLUE, 6)


def test_normalize_alpha_uses_webp_when_png_is_not_allowed() -> None:
    img = Image.new("RGBA", (64, 64), (*RED, 255))
    img.paste((0, 0, 0, 0), (0, 0, 32, 64))
    out = imaging.normalize(encode_pil(img, "PNG"), "cut.png", max_side=4096, max_bytes=10**7,
                            formats=("image/jpeg", "image/webp"))
    assert out.mime == "image/webp"
    assert decode(out.data).convert("RGBA").getpixel((5, 5))[3] == 0


def test_normalize_meets_max_bytes_on_noise() -> None:
    data = encode_pil(noise(1000, 800), "PNG")
    limit = 60_000
    out = imaging.normalize(data, "noise.png", max_side=4096, max_bytes=limit)
    assert len(out.data) <= limit
    decoded = decode(out.data)
    assert decoded.size == (out.width, out.height)
    assert abs(out.width / out.height - 1.25) < 0.02
    assert out.width < 1000  # quality steps alone cannot fit noise: it was also shrunk


def test_normalize_png_with_alpha_meets_max_bytes() -> None:
    rgba = noise(600, 600).convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize((600, 600)))
    out = imaging.normalize(encode_pil(rgba, "PNG"), "n.png", max_side=4096, max_bytes=150_000)
    assert out.mime == "image/png" and len(out.data) <= 150_000
    assert decode(out.data).mode == "RGBA"


def test_normalize_gives_up_when_it_cannot_fit() -> None:
    data = encode_pil(noise(400, 400), "PNG")
    with pytest.raises(ImageError, match=r"^n\.png cannot be made to fit in 100 bytes"):
        imaging.normalize(data, "n.png", max_side=4096, max_bytes=100, min_side=64)


@pytest.mark.parametrize(("fmt", "mime"), [("JPEG", "image/jpeg"), ("PNG", "image/png")])
def test_normalize_passes_fine_bytes_through_unchanged(fmt: str, mime: str) -> None:
    data = encode_pil(noise(320, 200), fmt)
    out = imaging.normalize(data, "fine", max_side=1024, max_bytes=len(data))
    assert out.data == data
    assert (out.mime, out.width, out.height) == (mime, 320, 200)


def test_normalize_reencodes_what_is_not_acceptable_as_is() -> None:
    gif = encode_pil(two_tone(), "GIF")
    out = imaging.normalize(gif, "a.gif", max_side=1024, max_bytes=10**7)
    assert out.mime in ("image/jpeg", "image/png") and out.data != gif
    rotated = with_orientation(two_tone(40, 20), 6)
    out = imaging.normalize(rotated, "r.jpg", max_side=1024, max_bytes=10**7)
    assert out.data != rotated and (out.width, out.height) == (20, 40)
    jpeg = encode_pil(noise(100, 100), "JPEG")
    out = imaging.normalize(jpeg, "x.jpg", max_side=1024, max_bytes=10**7, formats=("image/png",))
    assert out.mime == "image/png"


def test_normalize_refuses_strips_that_would_fall_below_min_side() -> None:
    data = encode_pil(Image.new("RGB", (5000, 100), BLUE), "PNG")
    with pytest.raises(ImageError, match=r"^strip\.png is 5000x100 pixels, too long and narrow"):
        imaging.normalize(data, "strip.png", max_side=1000, max_bytes=10**7, min_side=64)


def test_normalize_refuses_too_small_images() -> None:
    data = encode_pil(Image.new("RGB", (40, 30)), "PNG")
    with pytest.raises(ImageError) as err:
        imaging.normalize(data, "tiny.png", max_side=4096, max_bytes=10**7, min_side=64)
    assert str(err.value) == (
        "tiny.png is only 40x30 pixels; the provider needs at least 64 pixels on each side."
    )


def test_normalize_is_safe_from_several_threads() -> None:
    sources = [encode_pil(noise(500 + 10 * i, 400, seed=i), "PNG") for i in range(8)]

    def run(data: bytes) -> bytes:
        return imaging.normalize(data, "t.png", max_side=256, max_bytes=40_000).data

    serial = [run(d) for d in sources]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(run, sources * 2))
    assert parallel == serial * 2


# -- thumbnail, encode ------------------------------------------------------------------------


def test_thumbnail_fits_and_picks_the_format() -> None:
    thumb = imaging.thumbnail(encode_pil(two_tone(1000, 500), "JPEG"), "big.jpg", size=256)
    assert (thumb.width, thumb.height) == (256, 128) and thumb.mime == "image/jpeg"
    img = decode(thumb.data)
    assert img.size == (256, 128)
    assert close_to(img.getpixel((20, 64)), RED, 20) and close_to(img.getpixel((236, 64)), BLUE, 20)
    cutout = Image.new("RGBA", (300, 600), (0, 0, 0, 0))
    cutout.paste((*RED, 255), (0, 0, 300, 300))
    thumb = imaging.thumbnail(encode_pil(cutout, "PNG"), "cut.png", size=100)
    assert (thumb.width, thumb.height, thumb.mime) == (50, 100, "image/png")
    assert decode(thumb.data).getpixel((25, 90))[3] == 0


def test_thumbnail_applies_orientation() -> None:
    thumb = imaging.thumbnail(with_orientation(two_tone(400, 200), 6), "r.jpg", size=64)
    assert (thumb.width, thumb.height) == (32, 64)
    assert close_to(decode(thumb.data).getpixel((16, 8)), RED, 25)


def test_encode_jpeg_flattens_alpha_onto_white() -> None:
    img = Image.new("RGBA", (16, 16), (0, 0, 0, 0))
    img.paste((*BLUE, 255), (8, 0, 16, 16))
    out = decode(imaging.encode(img, "image/jpeg"))
    assert out.mode == "RGB"
    assert close_to(out.getpixel((2, 8)), (255, 255, 255), 4)
    assert close_to(out.getpixel((13, 8)), BLUE, 8)
    assert "exif" not in out.info
    with pytest.raises(ImageError, match="image/gif"):
        imaging.encode(img, "image/gif")


# -- colours, data URIs, base64, sniffing -----------------------------------------------------


@pytest.mark.parametrize(("text", "rgb"), [
    ("#f00", (255, 0, 0)), ("00ff00", (0, 255, 0)), ("#0000FF", (0, 0, 255)),
    ("abc", (0xAA, 0xBB, 0xCC)), ("rebeccapurple", (102, 51, 153)), (" Navy ", (0, 0, 128)),
    ("royal blue", (65, 105, 225)),
])
def test_parse_color(text: str, rgb: tuple[int, int, int]) -> None:
    assert imaging.parse_color(text) == rgb


@pytest.mark.parametrize("text", ["blurple", "#12345", "#gggggg", "", "#abcd"])
def test_parse_color_refuses(text: str) -> None:
    with pytest.raises(ImageError) as err:
        imaging.parse_color(text)
    assert str(err.value) == f"Colour '{text}' is not a hex colour (#RRGGBB) or a CSS colour name."


def test_parse_color_sentence_starts_with_what() -> None:
    with pytest.raises(ImageError, match=r"^Background 'blurple' is not a hex colour"):
        imaging.parse_color("blurple", what="Background")
    spec = ParamSpec("color", ParamType.COLOR)
    with pytest.raises(InvalidInput, match=r"^Parameter 'color': 'blurple' is not a hex colour"):
        spec.coerce("blurple")
    assert spec.coerce("#123456") == "#123456"


def test_data_uri_round_trip() -> None:
    png = encode_pil(two_tone(), "PNG")
    uri = imaging.to_data_uri(png, "image/png")
    assert uri.startswith("data:image/png;base64,")
    assert imaging.from_data_uri(uri) == (png, "image/png")
    assert imaging.b64decode(uri, "The result") == png
    assert imaging.b64decode(imaging.b64encode(png), "The result") == png
    assert imaging.from_data_uri("data:,Hello%20World") == (b"Hello World", "text/plain")


def test_base64_is_strict_but_tolerates_padding_and_whitespace() -> None:
    assert imaging.b64decode("aGVsbG8", "x") == b"hello"  # padding left off
    assert imaging.b64decode("aGVs\nbG8=\n", "x") == b"hello"
    assert imaging.b64decode("-_8=", "x") == b"\xfb\xff"  # URL-safe alphabet
    with pytest.raises(ImageError, match=r"^The result is not valid base64 data\.$"):
        imaging.b64decode("not base64 at all!", "The result")
    with pytest.raises(ImageError, match="empty"):
        imaging.b64decode("  ", "The result")


@pytest.mark.parametrize("uri", ["data:image/png;base64", "image/png;base64,AAAA",
                                 "data:image/png;base64,@@@@", "data:png;base64,AAAA"])
def test_malformed_data_uris(uri: str) -> None:
    with pytest.raises(ImageError):
        imaging.from_data_uri(uri)


MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
WEBM_HEAD = (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04"
             b"\x42\xf3\x81\x08\x42\x82\x84webm\x42\x87\x81\x04")


@pytest.mark.parametrize(("fmt", "mime"), [
    ("JPEG", "image/jpeg"), ("PNG", "image/png"), ("GIF", "image/gif"), ("WEBP", "image/webp"),
    ("BMP", "image/bmp"), ("TIFF", "image/tiff"),
])
def test_sniff_mime_images(fmt: str, mime: str) -> None:
    assert imaging.sniff_mime(encode_pil(two_tone(), fmt)) == mime


def test_sniff_mime_videos_and_unknown() -> None:
    assert imaging.sniff_mime(MP4_HEAD + b"\x00" * 32) == "video/mp4"
    assert imaging.sniff_mime(WEBM_HEAD) == "video/webm"
    assert imaging.sniff_mime(b"hello world") is None
    assert imaging.sniff_mime(b"") is None


def test_probe_reports_alpha_and_mode() -> None:
    info = imaging.probe(encode_pil(Image.new("RGBA", (30, 20)), "PNG"), "a.png")
    assert info == ImageInfo(width=30, height=20, mime="image/png", format="PNG", mode="RGBA",
                             has_alpha=True, frames=1)


# -- normalize: reduced JPEG decoding -----------------------------------------------------------
def _loaded_sizes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The pixel size of every image `normalize` decodes (recorded at `_load`)."""
    sizes: list[tuple[int, int]] = []
    real = imaging._load

    def spy(im: Image.Image, name: str) -> None:
        sizes.append(im.size)
        real(im, name)

    monkeypatch.setattr(imaging, "_load", spy)
    return sizes


@pytest.mark.parametrize(("cap", "decoded"), [(4096, (4800, 3200)), (2048, (2400, 1600)),
                                              (1024, (1200, 800)), (500, (600, 400))])
def test_normalize_decodes_a_large_jpeg_reduced(monkeypatch: pytest.MonkeyPatch, cap: int,
                                                decoded: tuple[int, int]) -> None:
    """libjpeg's draft picks the smallest 1/2, 1/4 or 1/8 scale still at least the target."""
    data = encode_pil(two_tone(4800, 3200), "JPEG", quality=90)
    sizes = _loaded_sizes(monkeypatch)
    out = imaging.normalize(data, "big.jpg", max_side=cap, max_bytes=10**8)
    assert sizes == [decoded]
    expected = (4800, 3200) if cap >= 4800 else (cap, round(3200 * cap / 4800))
    assert (out.width, out.height) == expected
    img = decode(out.data)
    assert img.size == expected and not img.info.get("progressive")
    assert close_to(img.getpixel((5, 5)), RED, 12)
    assert close_to(img.getpixel((expected[0] - 5, expected[1] - 5)), BLUE, 12)


def test_normalize_drafts_a_rotated_jpeg_in_its_stored_orientation(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Orientation 6 (turn 90 degrees clockwise): stored 4000x2000, upright 2000x4000."""
    stored = two_tone(4000, 2000)  # RED left, BLUE right as stored
    data = with_orientation(stored, 6)
    sizes = _loaded_sizes(monkeypatch)
    out = imaging.normalize(data, "r.jpg", max_side=1000, max_bytes=10**8)
    assert sizes == [(1000, 500)]  # 1/4 scale of the stored image
    assert (out.width, out.height) == (500, 1000)
    img = decode(out.data)
    # Turned clockwise: the stored left (RED) is now on top, the right (BLUE) at the bottom.
    assert close_to(img.getpixel((250, 10)), RED, 12)
    assert close_to(img.getpixel((250, 990)), BLUE, 12)


def test_normalize_does_not_draft_what_needs_no_shrinking(
        monkeypatch: pytest.MonkeyPatch) -> None:
    data = with_orientation(two_tone(800, 600), 3)  # re-encoded for the orientation only
    sizes = _loaded_sizes(monkeypatch)
    out = imaging.normalize(data, "r.jpg", max_side=1024, max_bytes=10**8)
    assert sizes == [(800, 600)] and (out.width, out.height) == (800, 600)
    fine = encode_pil(two_tone(800, 600), "JPEG")
    out = imaging.normalize(fine, "f.jpg", max_side=1024, max_bytes=10**8)
    assert out.data == fine and sizes == [(800, 600)] * 2  # proved whole before it is sent
