"""Benchmark: checking, thumbnailing and showing a very large result (default 16384 x 16384,
a 4x upscale of a 4096 px image). Prints time and peak memory of each step, each measured in
a fresh process, next to a full decode for comparison.

Run: python -m tests.perf.bench_large_results [side]
(or python tests/perf/bench_large_results.py). Nothing here passes or fails on time. Making
the photo-like PNG takes a while (zlib over 800 MB) and about 1 GB of memory.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

ROOT = Path(__file__).resolve().parents[2]
if __package__ in (None, ""):  # run as a file: make `desktop` importable
    sys.path.insert(0, str(ROOT))

LIMIT = 270_000_000
STEPS = {
    "full decode (old check)": "imaging.probe(data, 'r', max_pixels=LIMIT)",
    "verify_result": "imaging.verify_result(data, 'r', max_pixels=LIMIT)",
    "thumbnail 256": "imaging.thumbnail(data, 'r', max_pixels=LIMIT)",
    "display copy": "qimages.qimage_from_bytes(data, 'r', max_pixels=LIMIT)",
}
_MEASURE = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, sys.argv[1])
    from desktop.core import imaging
    from desktop.ui import qimages
    LIMIT = int(sys.argv[4])
    data = open(sys.argv[2], "rb").read()
    def hwm():  # peak RSS of this process in kB; unlike ru_maxrss, not inherited from
        # the parent across fork (a large pytest process would hide any growth)
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    base = hwm()
    start = time.perf_counter()
    exec(sys.argv[3])
    took = time.perf_counter() - start
    peak = hwm()
    print(f"{took:.2f} {(peak - base) // 1024}")
""")


def photo_like(side: int) -> Image.Image:
    """Smooth noise over a vertical gradient, tiled: compresses like a photo, not like a flat
    colour (the tiles repeat every 2048 px, beyond what zlib can exploit across rows)."""
    rng = np.random.default_rng(1)
    noise = Image.fromarray(rng.integers(0, 256, (512, 512, 3), dtype=np.uint8), "RGB")
    tile = noise.filter(ImageFilter.GaussianBlur(3)).resize((2048, 2048),
                                                            Image.Resampling.BICUBIC)
    ramp = np.linspace(0, 255, 2048, dtype=np.float32)[:, None, None]
    tile = Image.fromarray(np.clip(np.asarray(tile, np.float32) * 0.6 + ramp * 0.4, 0, 255)
                           .astype(np.uint8), "RGB")
    big = Image.new("RGB", (side, side))
    for x in range(0, side, 2048):
        for y in range(0, side, 2048):
            big.paste(tile, (x, y))
    return big


def main() -> None:
    side = int(sys.argv[1]) if len(sys.argv) > 1 else 16384
    Image.MAX_IMAGE_PIXELS = None  # this script writes the file; Restyle never sets this
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        started = time.perf_counter()
        big = photo_like(side)
        for fmt, ext, options in (("PNG", "png", {"compress_level": 3}),
                                  ("JPEG", "jpg", {"quality": 90})):
            path = Path(tmp) / f"result.{ext}"
            big.save(path, fmt, **options)
            files[fmt] = path
        del big
        print(f"{side} x {side} ({side * side / 1e6:.0f} MP) written in "
              f"{time.perf_counter() - started:.0f} s: " + ", ".join(
                  f"{fmt} {path.stat().st_size / 1e6:.0f} MB" for fmt, path in files.items()))
        print(f"{'file':6} {'step':26} {'time':>8} {'peak memory':>12}")
        for fmt, path in files.items():
            for step, code in STEPS.items():
                out = subprocess.run(
                    [sys.executable, "-c", _MEASURE, str(ROOT), str(path), code, str(LIMIT)],
                    capture_output=True, text=True, env={"QT_QPA_PLATFORM": "offscreen"})
                if out.returncode != 0:
                    print(f"{fmt:6} {step:26} failed: {out.stderr.strip().splitlines()[-1]}")
                    continue
                took, grown = out.stdout.split()
                print(f"{fmt:6} {step:26} {float(took):7.2f}s {int(grown):9d} MB")


if __name__ == "__main__":
    main()
