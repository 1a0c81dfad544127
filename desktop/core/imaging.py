"""Everything Restyle does with Pillow: open, validate, normalise, encode
(docs/ARCHITECTURE.md, "Images").

This is the one module that decodes and encodes with Pillow (exports/composites.py only draws
on images decoded here). Its functions are synchronous and pure (bytes in,
plain data or images out) so callers run them in worker threads; nothing here touches global
Pillow settings, so several threads may call them at once. Every failure a user can cause is
raised as `ImageError` with a sentence that names the file and says what to do.

Safety rules:
- The pixel count is checked from the header before any pixel is decoded (`max_pixels`: the
  input limit for inputs, limits.result_max_megapixels for results). Pillow's own global
  decompression-bomb ceiling is bypassed (`_identify`), as it is below what providers return
  and is process-wide; a bomb error raised inside an opener still becomes `ImageError`.
- `ImageFile.LOAD_TRUNCATED_IMAGES` is never set: truncated files fail to decode and are
  reported as damaged.
- Only the formats listed in `_BASE_FORMATS` are tried, so exotic decoders are never reached.
- A large result is never decoded at full size to be checked, thumbnailed or shown
  (`verify_result`, `thumbnail`, `open_for_display`); only exports need every pixel.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import math
import re
import struct
import threading
import urllib.parse
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PIL import Image, ImageCms, ImageColor, ImageDraw, ImageFile, ImageFont, ImageOps

from desktop.core import png
from desktop.core.humanize import human_bytes
from desktop.core.limits import setting_name
from desktop.core.model import InvalidInput

if TYPE_CHECKING:
    import numpy as np

DEFAULT_MAX_PIXELS = 64_000_000

#: Pillow format names we let Image.open try (the JPEG opener also returns MPO camera files).
_BASE_FORMATS = ("JPEG", "PNG", "WEBP", "AVIF", "BMP", "TIFF", "GIF")

_FORMAT_MIME = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "AVIF": "image/avif",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
    "GIF": "image/gif",
    "HEIF": "image/heif",
}

_ENCODE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}

#: JPEG/WebP qualities tried in turn when an encoding is over the byte limit.
_QUALITY_STEPS = (92, 85, 78, 70)
_SHRINK_STEP = 0.85

_ORIENTATION_TAG = 0x0112
_SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})

#: What a damaged file can make Pillow's decoders raise (besides MemoryError, handled apart).
_DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    ZeroDivisionError,
    OverflowError,
)


class ImageError(InvalidInput):
    """An image cannot be used; the message names the file and the reason."""


@dataclass(frozen=True)
class ImageInfo:
    """What `probe` learned from fully decoding an image.

    `width`/`height` are the size as displayed (EXIF orientation applied); `mode` is the mode
    Pillow decoded (e.g. "CMYK", "I;16", "P"), before any conversion.
    """

    width: int
    height: int
    mime: str
    format: str
    mode: str
    has_alpha: bool
    frames: int


@dataclass(frozen=True)
class EncodedImage:
    """Encoded bytes with their type and pixel size."""

    data: bytes = field(repr=False)
    mime: str
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


# -- format registry --------------------------------------------------------------------------

_formats_lock = threading.Lock()
_heif_state: bool | None = None  # None: not tried yet; True: registered; False: unavailable
_open_formats: tuple[str, ...] | None = None


def heif_supported() -> bool:
    """Register pillow-heif's opener once (thread-safe) and say whether HEIC/HEIF can be read."""
    global _heif_state
    if _heif_state is not None:
        return _heif_state
    with _formats_lock:
        if _heif_state is None:
            try:
                import pillow_heif  # optional dependency
            except ImportError:
                _heif_state = False
            else:
                pillow_heif.register_heif_opener()
                _heif_state = True
    return _heif_state


def _allowed_formats() -> tuple[str, ...]:
    """The Pillow openers Image.open may try: ours, and only those this build really has.

    (Pillow raises KeyError for a listed format it has no opener for, e.g. AVIF in a build
    without libavif; MPO needs no entry because the JPEG opener returns MPO files itself.)
    """
    global _open_formats
    if _open_formats is not None:
        return _open_formats
    wanted = (*_BASE_FORMATS, "HEIF") if heif_supported() else _BASE_FORMATS
    with _formats_lock:
        if _open_formats is None:
            Image.init()
            _open_formats = tuple(f for f in wanted if f in Image.OPEN)
    return _open_formats


# -- opening ----------------------------------------------------------------------------------


def _megapixels(pixels: int) -> str:
    value = pixels / 1_000_000
    if value >= 10:
        return f"{value:.0f}"
    if value >= 1:
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{value:.2g}"


def _unreadable(data: bytes, name: str) -> ImageError:
    """The error for bytes Pillow could not identify, with the most useful reason we can give."""
    sniffed = sniff_mime(data)
    if sniffed in ("image/heic", "image/heif") and not heif_supported():
        return ImageError(
            f"{name} is a HEIC/HEIF photo and HEIC support (pillow-heif) is not installed; "
            "install it or convert the photo to JPEG."
        )
    if sniffed is not None and sniffed.startswith("video/"):
        return ImageError(f"{name} is a video ({sniffed}), not an image Restyle can read.")
    if sniffed is not None:
        return ImageError(f"{name} is truncated or damaged; re-export it and try again.")
    if _looks_like_text(data):
        return ImageError(
            f"{name} is not an image Restyle can read (it contains text, not image data)."
        )
    return ImageError(f"{name} is not an image Restyle can read (unrecognised format).")


def _looks_like_text(data: bytes) -> bool:
    head = data[:4096]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character cut at the end of the sample is still text.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return all(ch.isprintable() or ch in "\r\n\t\f" for ch in text)


def _too_large(name: str, width: int, height: int, max_pixels: int) -> ImageError:
    return ImageError(
        f"{name} has {_megapixels(width * height)} megapixels ({width}x{height}), more than "
        f"the {_megapixels(max_pixels)}-megapixel limit; downscale it first."
    )


def _identify(data: bytes) -> ImageFile.ImageFile:
    """What `Image.open` does for our formats, without its decompression-bomb check.

    That check compares against the process-wide `Image.MAX_IMAGE_PIXELS` (warning over 89
    megapixels, refusing over 179), which is below what providers legitimately return (a 4x
    upscale is 268 megapixels) and which this module must not change for every thread. Each
    caller compares the header's size with its own limit instead, before any pixel is decoded.
    Raises UnidentifiedImageError when no opener accepts the bytes.
    """
    fp = io.BytesIO(data)
    prefix = data[:16]
    for fmt in _allowed_formats():
        factory, accept = Image.OPEN[fmt]
        accepted = not accept or accept(prefix)
        if isinstance(accepted, str) or not accepted:  # a str is Pillow's reason to decline
            continue
        fp.seek(0)
        try:
            return factory(fp, "")
        except (SyntaxError, IndexError, TypeError, struct.error):
            continue  # as Image.open does: not this format after all, try the next
    raise Image.UnidentifiedImageError("cannot identify image file")


def _open_header(data: bytes, name: str, max_pixels: int) -> ImageFile.ImageFile:
    """Identify the image and check its size from the header; no pixels are decoded yet."""
    if not data:
        raise ImageError(f"{name} is empty (0 bytes).")
    try:
        im = _identify(data)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Some openers check frame sizes themselves while reading the header.
        raise ImageError(
            f"{name} has more pixels than Restyle opens safely (over the "
            f"{_megapixels(max_pixels)}-megapixel limit); downscale it first."
        ) from None
    except Image.UnidentifiedImageError:
        raise _unreadable(data, name) from None
    except MemoryError:
        raise ImageError(f"{name} is too large to open in memory; downscale it first.") from None
    except _DECODE_ERRORS:
        raise ImageError(f"{name} is truncated or damaged; re-export it and try again.") from None
    width, height = im.size
    if width <= 0 or height <= 0:
        im.close()
        raise ImageError(f"{name} has no pixels ({width}x{height}); re-export it and try again.")
    if width * height > max_pixels:
        im.close()
        raise _too_large(name, width, height, max_pixels)
    return im


def _load(im: ImageFile.ImageFile, name: str) -> None:
    """Decode the current frame's pixels, turning decoder failures into ImageError."""
    try:
        im.load()
    except Image.DecompressionBombError:
        raise ImageError(
            f"{name} has more pixels than Restyle opens safely; downscale it first."
        ) from None
    except MemoryError:
        raise ImageError(f"{name} is too large to decode in memory; downscale it first.") from None
    except _DECODE_ERRORS:
        raise ImageError(f"{name} is truncated or damaged; re-export it and try again.") from None


def _orientation(im: Image.Image, data: bytes | None = None) -> int:
    """The EXIF orientation (1 = upright). Pass the file's `data` while `im` is not decoded
    yet: a PNG's eXIf chunk is then looked up in the bytes, because Pillow decodes the whole
    image to look for one after the pixel data (1 GB for a 268-megapixel result)."""
    try:
        if data is not None and im.format == "PNG" and "exif" not in im.info:
            body = png.find(data, b"eXIf")
            if body is None:
                return 1
            exif = Image.Exif()
            exif.load(b"Exif\x00\x00" + body)
            value = exif.get(_ORIENTATION_TAG, 1)
        else:
            value = im.getexif().get(_ORIENTATION_TAG, 1)
    except _DECODE_ERRORS:
        return 1  # unreadable EXIF: treat as upright rather than refuse the photo
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _frame_count(im: Image.Image) -> int:
    try:
        return int(getattr(im, "n_frames", 1))
    except _DECODE_ERRORS:
        return 1


def _has_alpha_channel(im: Image.Image) -> bool:
    return "A" in im.getbands() or "a" in im.getbands() or "transparency" in im.info


def _mime_for(im: Image.Image, data: bytes) -> str:
    fmt = im.format or ""
    if fmt == "HEIF":
        sniffed = sniff_mime(data)
        return sniffed if sniffed in ("image/heic", "image/heif", "image/avif") else "image/heif"
    return _FORMAT_MIME.get(fmt) or im.get_format_mimetype() or "application/octet-stream"


def probe(data: bytes, name: str, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """Fully decode the first frame (so truncation is detected) and describe the image."""
    im = _open_header(data, name, max_pixels)
    with im:
        _load(im, name)
        width, height = im.size
        if _orientation(im) in _SWAPPING_ORIENTATIONS:
            width, height = height, width
        return ImageInfo(
            width=width,
            height=height,
            mime=_mime_for(im, data),
            format=im.format or "",
            mode=im.mode,
            has_alpha=_has_alpha_channel(im),
            frames=_frame_count(im),
        )


def open_image(data: bytes, name: str, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """The first frame, decoded, upright (EXIF orientation applied), as 8-bit RGB or RGBA.

    RGBA is returned whenever the source has an alpha channel (or palette/tRNS transparency),
    even if every pixel is opaque; `alpha_matters` decides whether the alpha is worth keeping.
    Embedded ICC profiles other than sRGB are converted to sRGB when littlecms is available.
    """
    return _decode(data, name, max_pixels=max_pixels)


def _decode(data: bytes, name: str, *, max_pixels: int) -> Image.Image:
    im = _open_header(data, name, max_pixels)
    img: Image.Image | None = None
    try:
        img = _decode_loaded(im, name)
        return img
    finally:
        if img is not im:
            im.close()


def _decode_loaded(im: ImageFile.ImageFile, name: str) -> Image.Image:
    """Decode `im` and return it upright as RGB/RGBA: `im` itself when nothing had to change
    (no copy of a large image), else a new image (the caller then closes `im`)."""
    _load(im, name)
    return _upright_rgb(im, name, may_return_source=True)


#: EXIF orientation -> the transpose that makes the image upright (what exif_transpose does).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _upright_rgb(im: Image.Image, name: str, *, may_return_source: bool = False) -> Image.Image:
    """`im` (already loaded) turned upright and converted to 8-bit RGB/RGBA.

    The result is a new, independent image (the caller may close `im` afterwards), unless
    `may_return_source` allows handing back `im` itself when it needs no change: a decoded
    268-megapixel result is 1 GB, and a copy of it would be another.
    """
    try:
        upright = im if _orientation(im) == 1 else (ImageOps.exif_transpose(im) or im)
        converted = _to_rgb_or_rgba(upright, name)
    except MemoryError:
        raise ImageError(f"{name} is too large to convert in memory.") from None
    except _DECODE_ERRORS:
        raise ImageError(f"{name} is truncated or damaged; re-export it and try again.") from None
    if converted is im and not may_return_source:
        converted = im.copy()  # closing `im` would release the pixels we return
    converted.info.pop("exif", None)
    return converted


def _to_rgb_or_rgba(im: Image.Image, name: str) -> Image.Image:
    """Convert any decoded mode to 8-bit RGB, or RGBA when the source carries alpha."""
    mode = im.mode
    icc = im.info.get("icc_profile")
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        import numpy as np  # deferred: numpy costs ~0.2 s of start-up, and few images need it

        return Image.fromarray(_to_uint8(np.asarray(im)), "L").convert("RGB")
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif mode in ("LA", "La", "PA", "RGBa") or (
        mode in ("L", "1", "RGB") and "transparency" in im.info
    ):
        im = im.convert("RGBA")
    if icc and im.mode in ("RGB", "RGBA", "CMYK"):
        srgb = _icc_to_srgb(im, icc)
        if srgb is not None:
            return srgb
    if im.mode not in ("RGB", "RGBA"):
        try:
            im = im.convert("RGB")
        except ValueError:
            raise ImageError(
                f"{name} uses a colour mode Restyle cannot convert ({mode}); save it as RGB."
            ) from None
    if mode not in ("RGB", "RGBA") and "icc_profile" in im.info:
        # A CMYK or grey profile no longer describes these RGB pixels (PNG would embed it).
        im.info.pop("icc_profile", None)
    return im


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    """Map 16-bit, 32-bit integer or float grey levels onto 0..255.

    16-bit data (the usual case) is scaled by 65535/255; values that already fit 0..255 are
    kept; floats in 0..1 are scaled by 255; anything else is stretched from its min to its max.
    """
    import numpy as np

    if arr.size == 0:
        return arr.astype(np.uint8)
    values = arr.astype(np.float64)
    lo, hi = float(values.min()), float(values.max())
    if arr.dtype.kind == "f":
        if lo >= 0 and hi <= 1:
            scaled = values * 255.0
        elif lo >= 0 and hi <= 255:
            scaled = values
        else:
            scaled = (values - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(values)
    elif arr.dtype.itemsize <= 2:
        scaled = values / 257.0  # an unsigned 16-bit channel (I;16*)
    elif lo >= 0 and hi <= 255:
        scaled = values
    elif lo >= 0 and hi <= 65535:
        scaled = values / 257.0  # 16-bit data that Pillow widened to mode "I"
    else:
        scaled = (values - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(values)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _icc_to_srgb(im: Image.Image, icc: bytes) -> Image.Image | None:
    """Convert pixels described by an embedded ICC profile to sRGB; None if not needed/possible."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = ImageCms.getProfileDescription(source) or ""
        if im.mode != "CMYK" and "srgb" in description.lower():
            return None
        out_mode = "RGBA" if im.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(
            im, source, ImageCms.createProfile("sRGB"), outputMode=out_mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None
    if converted is None:
        return None
    converted.info.pop("icc_profile", None)
    return converted


def alpha_matters(img: Image.Image) -> bool:
    """True when the image has an alpha channel and at least one pixel is not fully opaque."""
    bands = img.getbands()
    if "A" in bands:
        return img.getchannel("A").getextrema()[0] < 255
    if "a" in bands or "transparency" in img.info:
        return alpha_matters(img.convert("RGBA"))
    return False


# -- encoding ---------------------------------------------------------------------------------


def _flatten(img: Image.Image, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """Composite an image with alpha onto a solid colour; RGB out."""
    rgba = img if img.mode == "RGBA" else img.convert("RGBA")
    base = Image.new("RGBA", rgba.size, (*background, 255))
    base.alpha_composite(rgba)
    return base.convert("RGB")


def encode(img: Image.Image, mime: str, *, quality: int = 92, compress_level: int = 6,
           progressive: bool = True) -> bytes:
    """Encode as image/jpeg, image/png or image/webp. No EXIF or other metadata is written.

    JPEG flattens any alpha onto white. PNG and WebP keep alpha only when it matters.
    `quality` applies to JPEG and WebP, `compress_level` (zlib 0-9) to PNG: lower levels are
    several times faster on large photos for files 10-20% bigger. `progressive` JPEG (for files
    people open) costs three to four times the encoding time of a baseline JPEG; uploads,
    which a server decodes whole, are encoded baseline.
    """
    fmt = _ENCODE_FORMATS.get(mime)
    if fmt is None:
        raise ImageError(f"Restyle cannot encode images as {mime}.")
    has_alpha = "A" in img.getbands() or "a" in img.getbands() or "transparency" in img.info
    keep_alpha = has_alpha and alpha_matters(img)
    if fmt == "JPEG":
        if keep_alpha:
            out = _flatten(img)
        elif img.mode in ("RGB", "L"):
            out = img
        else:
            out = img.convert("RGB")
    elif keep_alpha:
        out = img if img.mode == "RGBA" else img.convert("RGBA")
    elif img.mode in ("RGB", "L"):
        out = img
    else:
        out = img.convert("RGB")
    buf = io.BytesIO()
    if fmt == "JPEG":
        out.save(buf, "JPEG", quality=quality, optimize=True, progressive=progressive)
    elif fmt == "PNG":
        out.save(buf, "PNG", optimize=False, compress_level=compress_level)
    else:
        out.save(buf, "WEBP", quality=quality, method=4)
    return buf.getvalue()


def _fit(img: Image.Image, max_side: int) -> Image.Image:
    size = _fit_size(img.width, img.height, max_side)
    return img if size == img.size else img.resize(size, Image.Resampling.LANCZOS)


def _fit_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """(width, height) scaled to at most `max_side` on the long side, aspect kept."""
    longest = max(width, height)
    if longest <= max_side:
        return width, height
    scale = max_side / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def _choose_mime(img: Image.Image, formats: tuple[str, ...]) -> str:
    usable = [m for m in formats if m in _ENCODE_FORMATS]
    if not usable:
        raise ImageError(
            "The provider accepts no image format Restyle can write "
            f"({', '.join(formats) or 'none'})."
        )
    if alpha_matters(img):
        for mime in ("image/png", "image/webp"):
            if mime in usable:
                return mime
    if "image/jpeg" in usable:
        return "image/jpeg"
    return usable[0]


def normalize(
    data: bytes,
    name: str,
    *,
    max_side: int,
    max_bytes: int,
    formats: tuple[str, ...] = ("image/jpeg", "image/png"),
    min_side: int = 1,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> EncodedImage:
    """Make an image acceptable for upload: upright, 8-bit, within the side and byte limits.

    Bytes that already meet every condition (allowed format, single frame, upright, plain mode,
    within limits) are returned unchanged (once proved to decode) so nothing is lost to a
    re-encode. Otherwise the image is downscaled (LANCZOS) to `max_side`, encoded as PNG when
    alpha matters (else baseline JPEG 92, or the first allowed format), and then, while over
    `max_bytes`, encoded at lower quality and then smaller until it fits.

    A JPEG larger than `max_side` is decoded reduced by libjpeg (`draft`: 1/2, 1/4 or 1/8 scale,
    never below the target size) before the LANCZOS step, so a 24-megapixel photo normalised to
    1024 pixels does not decode 24 megapixels first.
    """
    im = _open_header(data, name, max_pixels)
    with im:
        width, height = im.size
        short = min(width, height)
        if short < min_side:
            raise ImageError(
                f"{name} is only {width}x{height} pixels; the provider needs at least "
                f"{min_side} pixels on each side."
            )
        mime = _mime_for(im, data)
        orientation = _orientation(im, data)
        if (
            mime in formats
            and max(width, height) <= max_side
            and len(data) <= max_bytes
            and orientation == 1
            and im.mode in ("RGB", "RGBA", "L")
            and "transparency" not in im.info
            and _frame_count(im) == 1
        ):
            _load(im, name)  # bytes sent as they are must still be a whole image
            return EncodedImage(data=data, mime=mime, width=width, height=height)
        upright = (height, width) if orientation in _SWAPPING_ORIENTATIONS else (width, height)
        target = _fit_size(*upright, max_side)
        if im.format in _JPEG_FORMATS and target != upright:
            # draft works in stored orientation: ask for the target turned back the same way.
            stored_target = target if upright == (width, height) else target[::-1]
            im.draft(None, stored_target)
        _load(im, name)
        source = _upright_rgb(im, name, may_return_source=True)
        if source.size != target:
            img = source.resize(target, Image.Resampling.LANCZOS)
        else:
            img = source.copy() if source is im else source  # `im` is closed below
    if min(img.size) < min_side:
        raise ImageError(
            f"{name} is {width}x{height} pixels, too long and narrow to fit {max_side} pixels "
            f"on its long side and keep {min_side} pixels on its short side; crop it first."
        )
    out_mime = _choose_mime(img, formats)
    lossy = out_mime in ("image/jpeg", "image/webp")
    encoded = encode(img, out_mime, quality=_QUALITY_STEPS[0], progressive=False)
    if len(encoded) <= max_bytes:
        return EncodedImage(encoded, out_mime, img.width, img.height)
    quality = _QUALITY_STEPS[0]
    if lossy:
        for quality in _QUALITY_STEPS[1:]:
            encoded = encode(img, out_mime, quality=quality, progressive=False)
            if len(encoded) <= max_bytes:
                return EncodedImage(encoded, out_mime, img.width, img.height)
    base = img
    scale = 1.0
    while True:
        # Shrink by at least the 0.85 step, more when the size says it is needed (bytes grow
        # roughly with the pixel count), so a very large image does not take dozens of rounds.
        step = min(_SHRINK_STEP, (max_bytes / len(encoded)) ** 0.5 * 0.97)
        scale *= step
        size = (round(base.width * scale), round(base.height * scale))
        if min(size) < max(min_side, 1):
            raise ImageError(
                f"{name} cannot be made to fit in {human_bytes(max_bytes)} (the provider's "
                f"limit) without going below {max(min_side, 1)} pixels on a side; use a "
                "simpler or smaller image."
            )
        img = base.resize(size, Image.Resampling.LANCZOS)
        encoded = encode(img, out_mime, quality=quality, progressive=False)
        if len(encoded) <= max_bytes:
            return EncodedImage(encoded, out_mime, img.width, img.height)


# -- results: verified, thumbnailed and shown without decoding them at full size -------------

#: Bytes of still-filtered PNG rows decoded at once when a large PNG is read band by band.
_BAND_BYTES = 4 << 20
#: Pillow modes of 8-bit PNGs whose rows Pillow hands back byte for byte (see _png_reduced).
_BAND_MODES = frozenset({"L", "LA", "RGB", "RGBA", "P"})
_JPEG_FORMATS = ("JPEG", "MPO")


class ResultTooLarge(ImageError):
    """A result has more pixels than a setting allows; the sentence names the setting."""


def _result_too_large(name: str, width: int, height: int, limit: int, setting: str,
                      what: str = "results") -> ResultTooLarge:
    return ResultTooLarge(
        f"{name} has {_megapixels(width * height)} megapixels ({width}x{height}), more than "
        f"the {_megapixels(limit)}-megapixel limit for {what} ({setting} in settings.json); "
        "raise that setting to accept images this large."
    )


def _unreadable_result(name: str, reason: str) -> ImageError:
    return ImageError(f"{name} could not be read as an image: {reason}.")


def _not_image_reason(data: bytes) -> str:
    """Why bytes that no opener accepts are not an image, in words (never quoting them: an
    error page may carry tokens)."""
    sniffed = sniff_mime(data)
    if sniffed in ("image/heic", "image/heif") and not heif_supported():
        return ("it is a HEIC/HEIF image and HEIC support (pillow-heif) is not installed; "
                "install it to read such results")
    if sniffed is not None and sniffed.startswith("video/"):
        return f"it is a video ({sniffed}), not an image"
    if sniffed is not None:
        return f"it is an incomplete or damaged {sniffed} file"
    if _looks_like_text(data):
        head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head or \
                b"<body" in head:
            return ("it is a web page (HTML), not image data: the server sent a page where the "
                    "image should be")
        if head.startswith(b"<"):
            return ("it is an XML document, not image data: the server sent a message (often "
                    "an expired or refused download link) where the image should be")
        if head.startswith((b"{", b"[")):
            return ("it is a JSON document, not image data: the provider sent a message where "
                    "the image should be")
        return "it is text, not image data"
    return "its format is not one Restyle can read"


def verify_result(data: bytes, name: str, *, max_pixels: int,
                  full_decode_max_pixels: int = 100_000_000) -> ImageInfo:
    """Prove a downloaded result is a complete image Restyle can open, and describe it,
    without decoding a large one at full size.

    - PNG: every chunk's CRC, the IEND marker, and the pixel stream inflated in pieces to its
      full length with a valid filter on every row (`desktop.core.png`): what a full decode
      would refuse, in a few megabytes. For 16384 x 16384: 1-2 s and under 10 MB, where
      decoding takes 6 s and 1 GB.
    - JPEG: decoded at 1/8 scale (`draft`). libjpeg still reads every byte of the entropy-coded
      data, so a file cut anywhere, even just its end marker, fails as it does at full size.
    - Other formats (WebP, AVIF, GIF, TIFF, BMP, HEIF): decoded whole, up to
      `full_decode_max_pixels` (limits.result_full_decode_max_megapixels); larger ones are
      refused with a sentence naming that setting.

    Raises ResultTooLarge over `max_pixels` (the sentence names limits.result_max_megapixels)
    and ImageError for an empty body, an HTML, XML or JSON page, or a truncated, corrupt or
    unknown file. Every sentence starts with `name`.
    """
    if not data:
        raise ImageError(f"{name} is empty (0 bytes).")
    if data.startswith(png.SIGNATURE):
        # Before Pillow, which would only say "broken", this says exactly what is wrong.
        try:
            head = png.header(data)
            _check_result_size(name, head.width, head.height, max_pixels)
            png.check(data)
        except png.PngDamaged as exc:
            raise _unreadable_result(name, str(exc)) from None
    try:
        im = _identify(data)
    except Image.UnidentifiedImageError:
        raise _unreadable_result(name, _not_image_reason(data)) from None
    except MemoryError:
        raise _unreadable_result(name, "its header needs more memory than is free") from None
    except (*_DECODE_ERRORS, Image.DecompressionBombError) as exc:
        raise _unreadable_result(name, _damage_reason(data, exc)) from None
    with im:
        width, height = im.size
        if width <= 0 or height <= 0:
            raise _unreadable_result(name, f"it has no pixels ({width}x{height})")
        _check_result_size(name, width, height, max_pixels)
        fmt = im.format or ""
        swapped = _orientation(im, data) in _SWAPPING_ORIENTATIONS
        info = ImageInfo(
            width=height if swapped else width,
            height=width if swapped else height,
            mime=_mime_for(im, data),
            format=fmt,
            mode=im.mode,
            has_alpha=_has_alpha_channel(im),
            frames=_frame_count(im),
        )
        if fmt == "PNG":
            return info  # checked above, without a pixel buffer
        if fmt in _JPEG_FORMATS:
            im.draft(None, (-(-width // 8), -(-height // 8)))
        elif width * height > full_decode_max_pixels:
            raise _result_too_large(
                name, width, height, full_decode_max_pixels,
                setting_name("result_full_decode_max_megapixels"),
                what=f"{fmt or 'such'} results, which are checked by decoding them whole")
        _load_result(im, data, name)
        return info


def _check_result_size(name: str, width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise _result_too_large(name, width, height, max_pixels,
                                setting_name("result_max_megapixels"))


def _damage_reason(data: bytes, exc: BaseException) -> str:
    """Why a file of a known kind failed to open or decode, in words."""
    riff_size = int.from_bytes(data[4:8], "little") + 8 if data.startswith(b"RIFF") else 0
    if "truncated" in str(exc) or len(data) < riff_size:
        return "its data ends before the image does: it was cut short"
    return f"it is an incomplete or damaged {sniff_mime(data) or 'image'} file"


def _load_result(im: ImageFile.ImageFile, data: bytes, name: str) -> None:
    try:
        im.load()
    except MemoryError:
        raise _unreadable_result(name, "decoding it needs more memory than is free") from None
    except (*_DECODE_ERRORS, Image.DecompressionBombError) as exc:
        raise _unreadable_result(name, _damage_reason(data, exc)) from None


def _decode_reduced(data: bytes, name: str, *, max_pixels: int,
                    factor_for: Callable[[int, int], int]) -> Image.Image:
    """The first frame upright, as 8-bit RGB/RGBA, shrunk by the whole factor
    `factor_for(width, height)` picks from the stored size (each side ceil(side / factor)).

    Never decodes a large image at full size when it can be avoided: a JPEG is decoded at
    1/2, 1/4 or 1/8 scale by libjpeg (`draft`), an 8-bit non-interlaced PNG band by band
    (`_png_reduced`); other images are decoded whole and then reduced.
    """
    im = _open_header(data, name, max_pixels)
    img: Image.Image | None = None
    try:
        width, height = im.size
        factor = max(1, factor_for(width, height))
        if factor == 1:
            img = _decode_loaded(im, name)
            return img
        target = (-(-width // factor), -(-height // factor))
        orientation = _orientation(im, data)
        head = _band_header(data, im)
        if head is not None:
            img = _png_reduced(data, name, im, head, factor, target)
        else:
            if im.format in _JPEG_FORMATS:
                im.draft(None, target)  # libjpeg picks a scale whose size is at least target
            _load(im, name)
            img = _to_rgb_or_rgba_safely(im, name)
            if img.size == (width, height):
                img = img.reduce(factor)
            elif img.size != target:
                img = img.resize(target, Image.Resampling.BOX)
            elif img is im:
                img = im.copy()
        if orientation in _UPRIGHT:
            img = img.transpose(_UPRIGHT[orientation])
        img.info.pop("exif", None)
        return img
    finally:
        if img is not im:
            im.close()


def _band_header(data: bytes, im: ImageFile.ImageFile) -> png.Header | None:
    """The PNG header when `im` can be read band by band (8-bit, not interlaced), else None."""
    if im.format != "PNG" or im.mode not in _BAND_MODES:
        return None
    try:
        head = png.header(data)
    except png.PngDamaged:
        return None  # the full decode below reports the damage
    return head if head.bit_depth == 8 and not head.interlaced else None


def _to_rgb_or_rgba_safely(im: Image.Image, name: str) -> Image.Image:
    try:
        return _to_rgb_or_rgba(im, name)
    except MemoryError:
        raise ImageError(f"{name} is too large to convert in memory.") from None
    except _DECODE_ERRORS:
        raise ImageError(f"{name} is truncated or damaged; re-export it and try again.") from None


def _png_reduced(data: bytes, name: str, im: ImageFile.ImageFile, head: png.Header,
                 factor: int, target: tuple[int, int]) -> Image.Image:
    """A large PNG decoded band by band and reduced by `factor`: memory holds one band of a
    few megabytes and the reduced image, never the full-size pixels.

    Each band of rows is turned into a small PNG of its own that Pillow decodes: the band's
    rows (still filtered, as inflated from the file) preceded by the previous band's last row,
    unfiltered, under filter type None, so the first row's Up/Average/Paeth filters have their
    reference. Bands are a multiple of `factor` rows tall, so the result equals reducing the
    whole image. The palette and tRNS chunks go into every band; an ICC profile is applied to
    the reduced image. For 8-bit modes Pillow gives a row's bytes back exactly
    (`tobytes("raw", mode)`), which is why only those are read this way (see `_band_header`).
    """
    stride = 1 + head.row_bytes
    rows = factor * max(1, _BAND_BYTES // (stride * factor))
    extra = b""
    for kind, body in png.chunks(data):
        if kind in (b"PLTE", b"tRNS"):
            extra += png.chunk(kind, bytes(body))
        elif kind == b"IDAT":
            break
    out: Image.Image | None = None
    prior: bytes | None = None
    top = 0
    try:
        for band in png.filtered_rows(data, head, rows):
            count = len(band) // stride
            raw = band if prior is None else b"\x00" + prior + band
            skip = 0 if prior is None else 1
            part = _identify(png.SIGNATURE + png.chunk(b"IHDR", head.ihdr(height=count + skip))
                             + extra + png.chunk(b"IDAT", zlib.compress(raw, 0))
                             + png.chunk(b"IEND", b""))
            with part:
                _load(part, name)
                prior = part.crop((0, count + skip - 1, head.width, count + skip)).tobytes(
                    "raw", part.mode)
                box = (0, skip, head.width, count + skip)
                if part.mode in ("RGB", "RGBA") and "transparency" not in part.info:
                    small = part.reduce(factor, box)  # no copy of the band's rows
                else:
                    small = _to_rgb_or_rgba_safely(part.crop(box), name).reduce(factor)
            if out is None:
                out = Image.new(small.mode, target)
            out.paste(small, (0, top // factor))
            top += count
    except png.PngDamaged:
        raise ImageError(f"{name} is truncated or damaged; re-export it and try again.") from None
    except MemoryError:
        raise ImageError(f"{name} is too large to decode in memory.") from None
    assert out is not None  # a PNG has at least one row
    icc = im.info.get("icc_profile")
    if icc:
        out.info["icc_profile"] = icc
        out = _to_rgb_or_rgba_safely(out, name)
    return out


def thumbnail(data: bytes, name: str, *, size: int = 256,
              max_pixels: int = DEFAULT_MAX_PIXELS) -> EncodedImage:
    """A preview that fits in size x size: PNG when alpha matters, else JPEG quality 85.

    A large image is first reduced while it is decoded (see `_decode_reduced`) to at least
    twice the thumbnail, then resized with LANCZOS: a 268-megapixel PNG result needs about
    50 MB instead of 1 to 2 GB.
    """
    if size < 1:
        raise ImageError(f"A thumbnail of {name} must be at least 1 pixel wide.")
    img = _decode_reduced(data, name, max_pixels=max_pixels,
                          factor_for=lambda w, h: max(w, h) // (2 * size))
    img.thumbnail((size, size), Image.Resampling.LANCZOS)
    if alpha_matters(img):
        return EncodedImage(encode(img, "image/png"), "image/png", img.width, img.height)
    return EncodedImage(encode(img, "image/jpeg", quality=85), "image/jpeg", img.width, img.height)


def display_factor(width: int, height: int, display_pixels: int) -> int:
    """The smallest whole factor that brings width x height within `display_pixels`."""
    if display_pixels <= 0 or width * height <= display_pixels:
        return 1
    factor = max(2, math.ceil(math.sqrt(width * height / display_pixels)))
    while -(-width // factor) * -(-height // factor) > display_pixels:
        factor += 1
    return factor


def open_for_display(data: bytes, name: str, *, max_pixels: int,
                     display_pixels: int) -> Image.Image:
    """Like `open_image`, but an image over `display_pixels` comes back reduced by the
    smallest whole factor that fits (decoded reduced, see `_decode_reduced`), so showing a
    268-megapixel result does not hold gigabytes."""
    return _decode_reduced(data, name, max_pixels=max_pixels,
                           factor_for=lambda w, h: display_factor(w, h, display_pixels))


# -- colours ----------------------------------------------------------------------------------

_HEX_COLOR = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


def parse_color(text: str, *, what: str = "Colour") -> tuple[int, int, int]:
    """Parse '#rgb', '#rrggbb' (the '#' optional) or a CSS colour name into an RGB triple.

    `what` starts the error sentence: "Colour 'blurple' is not a hex colour ...".
    """
    value = text.strip()
    match = _HEX_COLOR.fullmatch(value)
    if match:
        digits = match.group(1)
        if len(digits) == 3:
            digits = "".join(ch * 2 for ch in digits)
        return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))
    if value and not value.startswith("#"):
        try:  # "royal blue" is written as words; CSS names have no spaces
            rgb = ImageColor.getrgb(value.replace(" ", ""))
        except ValueError:
            pass
        else:
            return (rgb[0], rgb[1], rgb[2])
    separator = ": " if what.endswith("'") else " "
    raise ImageError(
        f"{what}{separator}'{text}' is not a hex colour (#RRGGBB) or a CSS colour name."
    )


# -- bytes, MIME types, base64 -------------------------------------------------------------------

_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"}
_HEIF_BRANDS = {b"mif1", b"msf1", b"mif2"}
_AVIF_BRANDS = {b"avif", b"avis"}
_MP4_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1",
               b"dash", b"M4V ", b"M4A ", b"f4v ", b"mmp4", b"3gp4", b"3gp5", b"MSNV"}


def _sniff_isobmff(data: bytes) -> str | None:
    box_size = int.from_bytes(data[0:4], "big")
    major = data[8:12]
    end = min(len(data), box_size if 16 <= box_size <= 4096 else 64)
    compatible = {data[i:i + 4] for i in range(16, end - 3, 4)}
    brands = {major} | compatible
    if major in _AVIF_BRANDS or (major in _HEIF_BRANDS and brands & _AVIF_BRANDS):
        return "image/avif"
    if major in _HEIC_BRANDS or (major in _HEIF_BRANDS and brands & _HEIC_BRANDS):
        return "image/heic"
    if major in _HEIF_BRANDS:
        return "image/heif"
    if major == b"qt  ":
        return "video/quicktime"
    if major in _MP4_BRANDS or brands & _MP4_BRANDS:
        return "video/mp4"
    return None


def sniff_mime(data: bytes) -> str | None:
    """The MIME type named by the first bytes (magic numbers), without decoding; None if unknown."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return "image/tiff"
    if data.startswith(b"BM") and len(data) >= 14:
        return "image/bmp"
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return _sniff_isobmff(data)
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm" if b"webm" in data[:64] else "video/x-matroska"
    return None


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


_B64_WHITESPACE = re.compile(r"\s+")


def b64decode(text: str, what: str) -> bytes:
    """Decode base64 strictly (only base64 characters, padding optional); a data URI is accepted.

    The URL-safe alphabet ('-', '_') is accepted too, since some services return it.
    Raises ImageError naming `what` when the text is not base64.
    """
    if text.lstrip().startswith("data:"):
        return from_data_uri(text.strip())[0]
    cleaned = _B64_WHITESPACE.sub("", text)
    if not cleaned:
        raise ImageError(f"{what} is empty: no base64 data was received.")
    if "-" in cleaned or "_" in cleaned:
        cleaned = cleaned.replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raise ImageError(f"{what} is not valid base64 data.") from None


def to_data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{b64encode(data)}"


_DATA_URI = re.compile(r"data:([^,]*?),(.*)", re.DOTALL | re.IGNORECASE)


def from_data_uri(uri: str) -> tuple[bytes, str]:
    """Split a `data:` URI into its bytes and MIME type ("text/plain" when none is given)."""
    match = _DATA_URI.fullmatch(uri.strip())
    if not match:
        raise ImageError("The data URI is malformed (it must look like data:<type>;base64,<data>).")
    meta, payload = match.group(1), match.group(2)
    parts = [p.strip() for p in meta.split(";")]
    mime = parts[0].lower() or "text/plain"
    if "/" not in mime:
        raise ImageError(f"The data URI is malformed (its type {mime!r} is not a MIME type).")
    if any(p.lower() == "base64" for p in parts[1:]):
        return b64decode(payload, f"The {mime} data URI"), mime
    return urllib.parse.unquote_to_bytes(payload), mime


def side_by_side(before: Image.Image, after: Image.Image, *,
                 labels: tuple[str, str] = ("Before", "After"), gap: int = 16,
                 background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """Before | after on one canvas, both at the after image's height, labelled at the top.

    The before image is scaled to the after's height (upscaled results stay comparable); alpha
    is flattened onto `background`.
    """
    height = after.height
    scale = height / before.height
    before = before.resize((max(1, round(before.width * scale)), height),
                           Image.Resampling.LANCZOS)
    band = max(24, height // 18) if any(labels) else 0
    canvas = Image.new("RGB", (before.width + gap + after.width, height + band), background)
    for img, x in ((before, 0), (after, before.width + gap)):
        flat = _flatten(img, background) if "A" in img.getbands() else img.convert("RGB")
        canvas.paste(flat, (x, band))
    if band:
        draw = ImageDraw.Draw(canvas)
        font = ImageFont.load_default(size=max(12, band * 2 // 3))
        for text, x in ((labels[0], 0), (labels[1], before.width + gap)):
            draw.text((x + band // 4, band // 2), text, fill=(40, 40, 40), font=font,
                      anchor="lm")
    return canvas
