"""Exports of results: one output re-encoded as PNG, JPEG or WebP, a before/after
side-by-side image. Pure functions over bytes; the caller runs them off the GUI thread.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.core import imaging
from desktop.core.files import atomic_write
from desktop.core.limits import Limits
from desktop.core.model import InvalidInput, Job

if TYPE_CHECKING:
    from PIL import Image

#: Export format name -> MIME type, in the order a format menu lists them.
EXPORT_FORMATS: dict[str, str] = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
EXTENSIONS: dict[str, str] = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}
DEFAULT_QUALITY = 92
#: The most pixels a side each format can hold (PNG's limit is far beyond any result).
MAX_SIDE: dict[str, int] = {"webp": 16383, "jpeg": 65535}

_LIMITS = Limits()


def format_for_path(path: Path, fallback: str = "png") -> str:
    """The export format a file name asks for (.jpg/.jpeg/.png/.webp), else `fallback`."""
    suffix = path.suffix.lower()
    for fmt, ext in EXTENSIONS.items():
        if suffix == ext or (fmt == "jpeg" and suffix == ".jpeg"):
            return fmt
    return fallback


def mime_for_format(fmt: str) -> str:
    """The MIME type of an export format; InvalidInput naming the formats there are."""
    try:
        return EXPORT_FORMATS[fmt]
    except KeyError:
        known = ", ".join(EXPORT_FORMATS)
        raise InvalidInput(f"Cannot export as '{fmt}': choose one of {known}.") from None


def checked_quality(quality: int) -> int:
    """`quality` when it is 1..100; else InvalidInput."""
    if not 1 <= quality <= 100:
        raise InvalidInput(f"Export quality must be between 1 and 100 (got {quality}).")
    return quality


_mime = mime_for_format
_quality = checked_quality


def encode_image(img: Image.Image, fmt: str, *, quality: int = DEFAULT_QUALITY,
                 what: str = "this image") -> bytes:
    """A decoded image in an export format, refused with a sentence when the format cannot
    hold its size or memory runs out."""
    mime = mime_for_format(fmt)
    quality = checked_quality(quality)
    try:
        _fits(img.width, img.height, fmt)
        return imaging.encode(img, mime, quality=quality)
    except MemoryError:
        raise InvalidInput(f"There is not enough memory to export {what} as {fmt.upper()}; "
                           "close other programs or export it as PNG.") from None


def _fits(width: int, height: int, fmt: str) -> None:
    """Refuse before encoding what the format cannot hold (WebP stops at 16383 px a side, and
    a 4x upscale is 16384)."""
    limit = MAX_SIDE.get(fmt)
    if limit is not None and max(width, height) > limit:
        raise InvalidInput(
            f"A {fmt.upper()} image can be at most {limit} pixels a side and this one is "
            f"{width}x{height}; export it as PNG."
        )


def export_image(data: bytes, name: str, fmt: str, *, quality: int = DEFAULT_QUALITY,
                 max_pixels: int = _LIMITS.result_max_pixels) -> bytes:
    """One result in the chosen format. PNG keeps transparency; JPEG flattens it on white.

    `max_pixels` is the result limit (limits.result_max_megapixels): a result that was stored
    can always be exported, however large."""
    mime = _mime(fmt)
    quality = _quality(quality)
    if imaging.sniff_mime(data) == mime and fmt == "png":
        return data  # lossless and already PNG: the provider's bytes, untouched
    try:
        img = imaging.open_image(data, name, max_pixels=max_pixels)
        _fits(img.width, img.height, fmt)
        return imaging.encode(img, mime, quality=quality)
    except MemoryError:
        raise InvalidInput(f"There is not enough memory to export {name} as {fmt.upper()}; "
                           "close other programs or export it as PNG.") from None


def export_side_by_side(before: bytes, after: bytes, fmt: str, *,
                        quality: int = DEFAULT_QUALITY,
                        labels: tuple[str, str] = ("Before", "After"),
                        max_pixels: int = _LIMITS.result_max_pixels) -> bytes:
    """Before | after as one image, both at the result's height, labelled. `max_pixels`
    applies to both (the result limit: the before may be a provider's reference image)."""
    mime = _mime(fmt)
    quality = _quality(quality)
    try:
        composite = imaging.side_by_side(
            imaging.open_image(before, "before", max_pixels=max_pixels),
            imaging.open_image(after, "after", max_pixels=max_pixels), labels=labels)
        _fits(composite.width, composite.height, fmt)
        return imaging.encode(composite, mime, quality=quality)
    except MemoryError:
        raise InvalidInput("There is not enough memory to put this large result beside its "
                           "before image; export the result alone.") from None


def suggested_name(job: Job, position: int, fmt: str, *, suffix: str = "") -> str:
    """restyle-<task>-<provider>-<date>-<id8>[-<n>][<suffix>].<ext>"""
    import time

    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(job.created_at))
    base = f"restyle-{job.task}-{job.provider}-{stamp}-{job.id[:8]}"
    if len(job.outputs) > 1:
        base += f"-{position + 1}"
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base + suffix)
    return base + EXTENSIONS.get(fmt, ".png")


def write_export(path: Path, data: bytes) -> Path:
    """Write atomically so a failed export never leaves half a file under the user's name."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data, shared=True)
    except OSError as exc:
        raise InvalidInput(
            f"Could not save {path.name} in {path.parent}: {exc.strerror or exc}. "
            "Choose another folder."
        ) from None
    return path
