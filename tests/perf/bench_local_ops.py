"""Benchmark: the offline provider's operations and imaging.normalize/thumbnail. Prints figures.

Run: python -m tests.perf.bench_local_ops [repeats]
(or python tests/perf/bench_local_ops.py). Nothing here passes or fails on time.
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

if __package__ in (None, ""):  # run as a file: make `desktop` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from desktop.core import imaging
from desktop.providers.local import ops

SIZES = ((2000, 1500), (4000, 3000))


def synthetic_photo(width: int, height: int, seed: int = 11) -> Image.Image:
    """A studio-like shot: a shaded subject on a light gradient background with sensor noise."""
    rng = np.random.default_rng(seed)
    ys = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    background = 235 - 12 * ys + np.zeros((1, width), dtype=np.float32)
    arr = np.repeat(background[..., None], 3, axis=2)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    cx, cy = width // 2, height // 2
    draw.ellipse((cx - width // 12, cy - height // 2.6, cx + width // 12, cy - height // 4.5),
                 fill=(190, 150, 120))  # head
    draw.rounded_rectangle((cx - width // 6, cy - height // 4.5, cx + width // 6,
                            cy + height // 3), radius=width // 40, fill=(160, 40, 50))  # torso
    shaded = np.asarray(img).astype(np.float32)
    shade = 0.85 + 0.3 * np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    shaded = shaded * shade
    shaded += rng.normal(0, 2.0, shaded.shape).astype(np.float32)
    return Image.fromarray(np.clip(shaded, 0, 255).astype(np.uint8), "RGB")


def garment_image() -> Image.Image:
    img = Image.new("RGB", (900, 1100), (250, 250, 250))
    ImageDraw.Draw(img).polygon(
        [(150, 60), (350, 20), (550, 20), (750, 60), (880, 300), (720, 360), (700, 1060),
         (200, 1060), (180, 360), (20, 300)], fill=(30, 90, 190))
    return img


def encode_pil(img: Image.Image, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float, object]:
    """Median and best wall time in milliseconds, and the last result."""
    samples: list[float] = []
    result: object = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), min(samples), result


def describe(result: object) -> str:
    if isinstance(result, Image.Image):
        return f"{result.width}x{result.height} {result.mode}"
    if isinstance(result, np.ndarray):
        return f"{int(result.sum())} pixels reached"
    if isinstance(result, bytes):
        return f"{len(result) / 1e6:.1f} MB"
    if isinstance(result, imaging.EncodedImage):
        return f"{result.width}x{result.height} {result.mime} {len(result.data) / 1024:.0f} KB"
    return ""


def bench_size(width: int, height: int, repeats: int) -> None:
    photo = synthetic_photo(width, height)
    jpeg = encode_pil(photo, "JPEG", quality=92)
    png = encode_pil(photo, "PNG")
    garment = garment_image()
    # A random mask at the percolation threshold: the most winding regions a fill can meet.
    maze = np.random.default_rng(3).random((height, width)) < 0.593
    border = np.zeros_like(maze)
    border[0, :] = border[-1, :] = border[:, 0] = border[:, -1] = True
    megapixels = width * height / 1e6
    print(f"\n{width}x{height} ({megapixels:.0f} MP): JPEG {len(jpeg) / 1e6:.1f} MB, "
          f"PNG {len(png) / 1e6:.1f} MB")
    cases: list[tuple[str, Callable[[], object]]] = [
        ("imaging.probe (JPEG)", lambda: imaging.probe(jpeg, "photo.jpg")),
        ("imaging.open_image (JPEG)", lambda: imaging.open_image(jpeg, "photo.jpg")),
        ("imaging.open_image (PNG)", lambda: imaging.open_image(png, "photo.png")),
        ("normalize JPEG, fits as is", lambda: imaging.normalize(
            jpeg, "photo.jpg", max_side=4096, max_bytes=50 * 2**20)),
        ("normalize JPEG -> 1024 px", lambda: imaging.normalize(
            jpeg, "photo.jpg", max_side=1024, max_bytes=10 * 2**20)),
        ("normalize PNG -> JPEG <= 1 MB", lambda: imaging.normalize(
            png, "photo.png", max_side=4096, max_bytes=2**20)),
        ("thumbnail 256 (JPEG, draft)", lambda: imaging.thumbnail(jpeg, "photo.jpg", size=256)),
        ("thumbnail 256 (PNG)", lambda: imaging.thumbnail(png, "photo.png", size=256)),
        ("encode PNG (level 6, default)", lambda: imaging.encode(photo, "image/png")),
        ("encode PNG (level 3, provider)", lambda: imaging.encode(photo, "image/png",
                                                                  compress_level=3)),
        ("flood, random maze (worst case)", lambda: ops.flood(maze, border)),
        ("remove_background", lambda: ops.remove_background(photo, tolerance=40, feather=2)),
        ("recolor (seed)", lambda: ops.recolor(photo, color="#2050d0", seed=(0.5, 0.55),
                                               tolerance=40)),
        ("recolor (source colour)", lambda: ops.recolor(photo, color="navy",
                                                        source_color="#a02832", tolerance=60)),
        ("upscale 2x", lambda: ops.upscale(photo, factor=2)),
        ("reframe 9:16 blur", lambda: ops.reframe(photo, ratio="9:16", fill="blur")),
        ("reframe 9:16 mirror", lambda: ops.reframe(photo, ratio="9:16", fill="mirror")),
        ("tryon_preview", lambda: ops.tryon_preview(photo, garment, scale=1.0, shadow=True)),
    ]
    if max(width, height) * 4 <= ops.MAX_UPSCALE_SIDE and (
        width * height * 16 <= ops.MAX_UPSCALE_PIXELS
    ):
        cases.append(("upscale 4x", lambda: ops.upscale(photo, factor=4)))
    print(f"  {'operation':<32}{'median ms':>10}{'best ms':>10}   result")
    for label, fn in cases:
        median, best, result = timed(fn, repeats)
        print(f"  {label:<32}{median:>10.0f}{best:>10.0f}   {describe(result)}")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    repeats = int(args[0]) if args else 3
    print(f"Local ops benchmark, median and best of {repeats} runs each")
    for width, height in SIZES:
        bench_size(width, height, repeats)


if __name__ == "__main__":
    main()
