"""Pictures made from a result and its before: side by side, split at a position, a caption
band, and the listing label ("Virtually staged", an optional QR code and printed link).

Works on images `imaging.open_image` decoded (RGB or RGBA) and returns new ones; encoding is
the caller's. Every size here is a share of the picture's own size, so a caption or a label
reads the same on a 512-pixel preview and on a 6000-pixel photo. Text is set in the first
font found on the system that has every character of it (DejaVu Sans, Arial, Liberation
Sans, Noto Sans, ...), else Pillow's built-in scalable font.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import unicodedata
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from desktop.core.model import InvalidInput

CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
DEFAULT_LABEL = "Virtually staged"
DEFAULT_CORNER = "bottom-left"
#: The label's type size as a share of the photo's shorter side (settable 1-20 %).
DEFAULT_LABEL_SIZE = 0.04
MIN_LABEL_SIZE = 0.01
MAX_LABEL_SIZE = 0.20
#: The caption's type size as a share of the picture's shorter side.
CAPTION_SIZE = 0.035
#: No text is set smaller than this many pixels (a tiny image gets a relatively larger one).
MIN_TEXT_PX = 12
MAX_LABEL_CHARS = 100
MAX_URL_CHARS = 500
#: A QR code's side as a share of the photo's shorter side (it is never smaller than two
#: pixels a module, nor smaller than the label's text beside it).
QR_SIZE = 0.16

_FONT_FILES = (
    "DejaVuSans.ttf", "Arial.ttf", "arial.ttf", "LiberationSans-Regular.ttf",
    "NotoSans-Regular.ttf", "Helvetica.ttc", "segoeui.ttf", "NotoSansCJK-Regular.ttc",
    "msyh.ttc", "Arial Unicode.ttf",
)
_BAND_BACKGROUND = (246, 246, 246)
_BAND_TEXT = (28, 28, 28)


# -- fonts ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _font_file(name: str, size: int) -> ImageFont.FreeTypeFont | None:
    try:
        return ImageFont.truetype(name, size)
    except OSError:
        return None


@functools.lru_cache(maxsize=256)
def _default_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _glyph(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, ch: str) -> bytes:
    canvas = Image.new("L", (48, 48))
    ImageDraw.Draw(canvas).text((4, 4), ch, font=font, fill=255)
    return canvas.tobytes()


@functools.lru_cache(maxsize=4096)
def _has_glyph(name: str, ch: str) -> bool:
    """Whether the font draws `ch` as itself rather than as its missing-glyph box."""
    font = _font_file(name, 24) if name else _default_font(24)
    if font is None:
        return False
    if ch.isspace() or unicodedata.category(ch).startswith(("C", "Z")):
        return True
    return _glyph(font, ch) != _glyph(font, "\U0010fffd")


def font_for(text: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A font of `size` pixels that has every character of `text`: the first system font that
    does, else the first one found, else Pillow's built-in font."""
    first: ImageFont.FreeTypeFont | None = None
    for name in _FONT_FILES:
        font = _font_file(name, size)
        if font is None:
            continue
        first = first or font
        if all(_has_glyph(name, ch) for ch in set(text)):
            return font
    if all(_has_glyph("", ch) for ch in set(text)) or first is None:
        return _default_font(size)
    return first


def _text_width(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, text: str) -> int:
    left, _top, right, _bottom = font.getbbox(text)
    return math.ceil(right - min(0, left))


def _line_height(font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> int:
    if isinstance(font, ImageFont.FreeTypeFont):
        ascent, descent = font.getmetrics()
        return ascent + descent
    return int(font.getbbox("Ag")[3])


# -- sizes ---------------------------------------------------------------------------------------


def _flat(img: Image.Image, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """RGB, any transparency laid on `background`."""
    if "A" not in img.getbands():
        return img if img.mode == "RGB" else img.convert("RGB")
    base = Image.new("RGBA", img.size, (*background, 255))
    base.alpha_composite(img.convert("RGBA"))
    return base.convert("RGB")


def fit_long_side(img: Image.Image, max_side: int | None) -> Image.Image:
    """`img` with its longer side at most `max_side` pixels (never enlarged)."""
    if not max_side or max(img.size) <= max_side:
        return img
    return scaled(img, max_side / max(img.size))


def scaled(img: Image.Image, factor: float) -> Image.Image:
    """`img` resized by `factor` (Lanczos), at least one pixel a side."""
    size = (max(1, math.floor(img.width * factor + 0.5)),
            max(1, math.floor(img.height * factor + 0.5)))
    return img if size == img.size else img.resize(size, Image.Resampling.LANCZOS)


def cover(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """`img` scaled to fill `size` without distortion, the overflow cut evenly on both sides
    (a before of another shape than its result, after a reframe, say)."""
    width, height = size
    if img.size == size:
        return img
    scale = max(width / img.width, height / img.height)
    scaled = img.resize((max(width, round(img.width * scale)),
                         max(height, round(img.height * scale))), Image.Resampling.LANCZOS)
    left = (scaled.width - width) // 2
    top = (scaled.height - height) // 2
    return scaled.crop((left, top, left + width, top + height))


# -- composites ----------------------------------------------------------------------------------


def side_by_side(before: Image.Image, after: Image.Image) -> Image.Image:
    """Before | after on white, the before scaled to the after's height, a gap between them
    of 2 % of that height (at least 4 pixels)."""
    height = after.height
    before = before.resize((max(1, round(before.width * height / before.height)), height),
                           Image.Resampling.LANCZOS)
    gap = max(4, round(height * 0.02))
    canvas = Image.new("RGB", (before.width + gap + after.width, height), (255, 255, 255))
    canvas.paste(_flat(before), (0, 0))
    canvas.paste(_flat(after), (before.width + gap, 0))
    return canvas


def split(before: Image.Image, after: Image.Image, at: float) -> Image.Image:
    """The after's frame with the before (scaled to fill it) left of the cut at `at` (0..1 of
    the width) and the after right of it, and a thin white divider on the cut."""
    if not 0.0 <= at <= 1.0 or math.isnan(at):
        raise InvalidInput(f"The split position must be between 0 and 1 (got {at}).")
    canvas = _flat(after).copy()
    cut = round(canvas.width * at)
    if cut > 0:
        left = _flat(cover(before, after.size)).crop((0, 0, cut, canvas.height))
        canvas.paste(left, (0, 0))
    if 0 < cut < canvas.width:
        half = divider_half_width(canvas.size)
        ImageDraw.Draw(canvas).rectangle((cut - half, 0, cut + half - 1, canvas.height),
                                         fill=(255, 255, 255))
    return canvas


def divider_half_width(size: tuple[int, int]) -> int:
    """Half the split divider's width in pixels for a picture of `size`."""
    return max(1, round(min(size) * 0.0015))


def caption_text(provider: str, task: str, created_at: float, *, composite: bool) -> str:
    """'Before | After · Fake Service · room staging · 2026-02-03' (without the first part
    for a single result)."""
    day = dt.datetime.fromtimestamp(created_at).strftime("%Y-%m-%d")
    parts = [provider, task.replace("_", " "), day]
    return ("Before | After · " if composite else "") + " · ".join(p for p in parts if p)


def caption_band_height(size: tuple[int, int]) -> int:
    """The caption band's height for a picture of `size` (before the band is added)."""
    return round(_caption_px(size) * 1.9)


def _caption_px(size: tuple[int, int]) -> int:
    return max(MIN_TEXT_PX, round(min(size) * CAPTION_SIZE))


def add_caption(img: Image.Image, text: str) -> Image.Image:
    """`img` with a light band below it holding `text` in dark type 3.5 % of the picture's
    shorter side tall (smaller only where a long text would not fit the width, ellipsised
    where even the smallest size does not)."""
    band = caption_band_height(img.size)
    px = _caption_px(img.size)
    pad = max(4, px // 2)
    room = img.width - 2 * pad
    font = font_for(text, px)
    if _text_width(font, text) > room:
        px = max(MIN_TEXT_PX, math.floor(px * room / _text_width(font, text)))
        font = font_for(text, px)
    shown = _ellipsised(font, text, room)
    canvas = Image.new("RGB", (img.width, img.height + band), _BAND_BACKGROUND)
    canvas.paste(_flat(img), (0, 0))
    ImageDraw.Draw(canvas).text((pad, img.height + band // 2), shown, fill=_BAND_TEXT, font=font,
                                anchor="lm")
    return canvas


def _ellipsised(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, text: str, room: int) -> str:
    if _text_width(font, text) <= room:
        return text
    while text and _text_width(font, text + "…") > room:
        text = text[:-1]
    return text + "…"


# -- the listing label ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ListingLabel:
    """The disclosure drawn on a staged photo for a listing: its text, corner and type size
    (a share of the photo's shorter side), and optionally where the unaltered original is
    published, as a QR code and/or a printed link."""

    text: str = DEFAULT_LABEL
    corner: str = DEFAULT_CORNER
    size: float = DEFAULT_LABEL_SIZE
    url: str | None = None
    qr: bool = False
    link: bool = True

    def checked(self) -> ListingLabel:
        """The label as given, or InvalidInput with a sentence."""
        text = " ".join(self.text.split())
        if not text:
            raise InvalidInput("The listing label's text is empty; write what it must say, "
                               f"such as '{DEFAULT_LABEL}'.")
        if len(text) > MAX_LABEL_CHARS:
            raise InvalidInput(f"The listing label is {len(text)} characters long; keep it "
                               f"under {MAX_LABEL_CHARS}.")
        if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
            raise InvalidInput("The listing label has invisible control characters; type it "
                               "again.")
        if self.corner not in CORNERS:
            raise InvalidInput(f"The label's corner '{self.corner}' is not one of "
                               f"{', '.join(CORNERS)}.")
        if not MIN_LABEL_SIZE <= self.size <= MAX_LABEL_SIZE or math.isnan(self.size):
            raise InvalidInput(
                f"The label's size must be between {MIN_LABEL_SIZE * 100:g} and "
                f"{MAX_LABEL_SIZE * 100:g} % of the photo's shorter side "
                f"(got {self.size * 100:g} %).")
        url = self.url.strip() if self.url else None
        if url:
            check_original_url(url)
        if self.qr and not url:
            raise InvalidInput("A QR code needs the address where the original photo is "
                               "published; give it (--original-url).")
        return ListingLabel(text, self.corner, self.size, url or None, self.qr, self.link)


def check_original_url(url: str) -> None:
    """InvalidInput unless `url` is a plain http(s) address fit to print on a photo."""
    if len(url) > MAX_URL_CHARS:
        raise InvalidInput(f"The original's address is {len(url)} characters long; a QR code "
                           f"or printed link takes at most {MAX_URL_CHARS}.")
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in url):
        raise InvalidInput("The original's address has spaces or invisible characters; copy "
                           "it again from the browser's address bar.")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"The original's address must start with https:// or http:// and "
                           f"name a site (got '{url[:80]}').")
    if parts.username or parts.password:
        raise InvalidInput("The original's address carries a user name or password; give the "
                           "public address, which is printed on the photo.")


def qr_modules(url: str) -> list[list[bool]]:
    """The QR code of `url` (error correction M) as rows of dark modules, with the standard
    quiet zone of 4 light modules around it."""
    import qrcode  # loaded on first use: not needed to open the window
    import qrcode.constants

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(url)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def _qr_image(modules: Sequence[Sequence[bool]], module_px: int) -> Image.Image:
    side = len(modules)
    small = Image.new("L", (side, side), 255)
    small.putdata([0 if dark else 255 for row in modules for dark in row])
    return small.resize((side * module_px, side * module_px), Image.Resampling.NEAREST
                        ).convert("RGB")


def _wrap(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, text: str, room: int
          ) -> list[str]:
    """`text` (a URL: no spaces to break at) cut into lines of at most `room` pixels."""
    lines: list[str] = []
    line = ""
    for ch in text:
        if line and _text_width(font, line + ch) > room:
            lines.append(line)
            line = ""
        line += ch
    return [*lines, line] if line else lines


@dataclass(frozen=True)
class _Layout:
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont
    link_font: ImageFont.FreeTypeFont | ImageFont.ImageFont | None
    link_lines: tuple[str, ...]
    qr: Image.Image | None
    pad: int
    width: int
    height: int
    block_h: int  # the text lines' height


def _layout(label: ListingLabel, size: tuple[int, int], text_px: int) -> _Layout:
    short = min(size)
    pad = max(3, round(text_px * 0.45))
    margin = max(2, round(short * 0.02))
    room = size[0] - 2 * margin - 2 * pad
    font = font_for(label.text, text_px)
    text_h = _line_height(font)
    text_w = _text_width(font, label.text)
    link_font = None
    link_lines: tuple[str, ...] = ()
    block_h = text_h
    qr_img = None
    if label.url and label.qr:
        modules = qr_modules(label.url)
        target = max(round(short * QR_SIZE), text_h)
        module_px = max(2, target // len(modules))
        qr_img = _qr_image(modules, module_px)
        room -= qr_img.width + pad
    if label.url and label.link:
        link_px = max(MIN_TEXT_PX, round(text_px * 0.6))
        link_font = font_for(label.url, link_px)
        link_lines = tuple(_wrap(link_font, label.url, max(room, text_w)))
        block_h += round(text_h * 0.2) + _line_height(link_font) * len(link_lines)
        text_w = max(text_w, *(_text_width(link_font, line) for line in link_lines))
    inner_h = max(block_h, qr_img.height if qr_img else 0)
    width = pad + (qr_img.width + pad if qr_img else 0) + text_w + pad
    return _Layout(font, link_font, link_lines, qr_img, pad, width, inner_h + 2 * pad,
                   block_h)


def label_box(label: ListingLabel, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Where the label's plate goes on a photo of `size`: (left, top, right, bottom)."""
    return _place(label, size)[1]


def _place(label: ListingLabel, size: tuple[int, int]
           ) -> tuple[_Layout, tuple[int, int, int, int]]:
    width, height = size
    short = min(size)
    margin = max(2, round(short * 0.02))
    text_px = max(MIN_TEXT_PX, round(short * label.size))
    layout = _layout(label, size, text_px)
    while layout.width > width - 2 * margin and text_px > MIN_TEXT_PX:
        text_px = max(MIN_TEXT_PX, math.floor(text_px * 0.9))  # a long label on a narrow photo
        layout = _layout(label, size, text_px)
    if layout.width > width - 2 * margin or layout.height > height - 2 * margin:
        raise InvalidInput(f"A {width}x{height} photo is too small to carry the listing label"
                           f"{' and its QR code' if label.qr else ''} legibly; export it larger "
                           "or shorten the label.")
    left = margin if label.corner.endswith("left") else width - margin - layout.width
    top = margin if label.corner.startswith("top") else height - margin - layout.height
    return layout, (left, top, left + layout.width, top + layout.height)


def draw_label(img: Image.Image, label: ListingLabel) -> Image.Image:
    """`img` with the label on a plate in its corner. The plate is dark with white type over a
    light part of the photo and light with dark type over a dark part, 85-90 % opaque, so the
    notice reads on any photo. InvalidInput when the photo is too small to carry it."""
    layout, box = _place(label, img.size)
    left, top, right, bottom = box
    under = img.convert("L").crop(box)
    mean = sum(i * n for i, n in enumerate(under.histogram())) / max(1, under.width * under.height)
    if mean >= 128:
        plate, ink = (18, 18, 18, 225), (255, 255, 255, 255)
    else:
        plate, ink = (250, 250, 250, 230), (12, 12, 12, 255)
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rounded_rectangle((left, top, right - 1, bottom - 1), radius=layout.pad, fill=plate)
    x = left + layout.pad
    if layout.qr is not None:
        overlay.paste(layout.qr, (x, top + layout.pad))
        x += layout.qr.width + layout.pad
    y = top + layout.pad + (layout.height - 2 * layout.pad - layout.block_h) // 2
    draw.text((x, y), label.text, font=layout.font, fill=ink)
    y += _line_height(layout.font)
    if layout.link_font is not None:
        y += round(_line_height(layout.font) * 0.2)
        for line in layout.link_lines:
            draw.text((x, y), line, font=layout.link_font, fill=ink)
            y += _line_height(layout.link_font)
    base = img.convert("RGBA")
    base.alpha_composite(overlay)
    return base if img.mode == "RGBA" else base.convert(img.mode)
