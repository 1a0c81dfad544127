"""imaging.normalize on a 24 MP JPEG to the 4096 px / 10 MB cap (FitInView's), to 2048 and 1024
px caps, and on a noisy 8 MB JPEG; each beside plain Pillow doing the same job in the same
run: open + draft (JPEG's reduced decode, when the cap allows it) + LANCZOS resize + save as
JPEG 92, what normalize itself encodes to.

Run: python -m tests.perf.bench_normalize [--quick]

The pictures are photo-like (smooth detail and grain, tests/perf/kit.photo_like), 6000 x 4000,
encoded once and cached. Median of 5 runs each, alternating (quick: 600 x 400, 3 runs).
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from tests.perf.kit import Row, cached_image

CAP_BYTES = 10 * 2**20


def pillow(data: bytes, max_side: int) -> bytes:
    """The baseline: what normalize has to do at least, in plain Pillow."""
    with Image.open(io.BytesIO(data)) as im:
        scale = min(1.0, max_side / max(im.size))
        size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
        im.draft("RGB", size)
        img = im.convert("RGB")
        if img.size != size:
            img = img.resize(size, Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=92)
    return buf.getvalue()


def noisy_jpeg(width: int, height: int, target_mb: float) -> Path:
    """A noisy JPEG about `target_mb` in size (the highest quality that is not larger)."""
    for quality in (92, 85, 80, 75, 70, 60, 50, 40):
        path = cached_image("noisy", width, height, "JPEG", kind="noisy", quality=quality)
        if path.stat().st_size <= target_mb * 1.06 * 2**20:
            return path
    return path


def median_ms(fn: Callable[[], object], other: Callable[[], object], runs: int
              ) -> tuple[float, float]:
    """Median ms of `fn` and of `other`, run alternately after one warm-up each."""
    fn()
    other()
    mine, theirs = [], []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        mine.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        other()
        theirs.append((time.perf_counter() - start) * 1000)
    return statistics.median(mine), statistics.median(theirs)


def rows(quick: bool = False) -> list[Row]:
    from desktop.core import imaging

    width, height, runs = (600, 400, 3) if quick else (6000, 4000, 5)
    scale = width / 6000
    photo = cached_image("photo", width, height, "JPEG", quality=92).read_bytes()
    noise = noisy_jpeg(width, height, 8 * scale * scale).read_bytes()
    megapixels = width * height / 1e6
    cases = [
        (f"normalise a {megapixels:.2g} MP JPEG to the 4096 px / 10 MB cap", photo,
         round(4096 * scale)),
        (f"normalise a {megapixels:.2g} MP JPEG to a 2048 px cap", photo, round(2048 * scale)),
        (f"normalise a {megapixels:.2g} MP JPEG to a 1024 px cap", photo, round(1024 * scale)),
        (f"normalise a noisy {len(noise) / 2**20:.1f} MB JPEG to the 4096 px / 10 MB cap",
         noise, round(4096 * scale)),
    ]
    out = []
    for figure, data, side in cases:
        ms, base = median_ms(
            lambda d=data, s=side: imaging.normalize(d, "photo.jpg", max_side=s,
                                                     max_bytes=CAP_BYTES),
            lambda d=data, s=side: pillow(d, s), runs)
        out.append(Row(figure, "<= 1.2 x Pillow open + draft + resize + save", 1.2, ms, base,
                       "ms", note=f"median of {runs}"))
    return out


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    for row in rows("--quick" in args):
        print(f"{row.figure}: {row.measured:.0f} ms vs {row.baseline:.0f} ms "
              f"({row.ratio or 0:.2f} x) {row.verdict()}")


if __name__ == "__main__":
    main()
