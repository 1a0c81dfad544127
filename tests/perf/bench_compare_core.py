"""Benchmark: the compare core (desktop/core/compare) on a 24-megapixel pair (6000 x 4000):
difference (tolerance 0 and 2), heat_map, structure_check and structure_overlay, each beside a
plain numpy baseline measured in the same run on the same arrays
(`np.abs(a.astype(int16) - b).max(axis=2)`, the one-shot difference without chunks), with the
ratio of their times and their peak extra memory.

Run: python -m tests.perf.bench_compare_core [--quick] [repeats]
(or python tests/perf/bench_compare_core.py). `--quick` uses a 600 x 400 pair so a test can run
it. Nothing here passes or fails on time. Time is the median wall time without tracing; peak
memory is measured in a separate run under tracemalloc, which sees numpy's buffers (all the
large arrays here), over what was allocated before the call (the inputs are not counted, the
result is).
"""

from __future__ import annotations

import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a file: make `desktop` and `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from desktop.core.compare import (
    difference,
    heat_map,
    structure_check,
    structure_overlay,
)
from tests.core.compare_scenes import WALL_RECOLOURED, Room, draw_room

FULL = (6000, 4000)
QUICK = (600, 400)


def timed(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time in milliseconds, after one warm-up run."""
    fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def peak_mb(fn: Callable[[], object]) -> float:
    """Peak memory allocated by `fn` (including what it returns), in MB."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del result
    return (peak - base) / 2**20


def baseline(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return np.abs(after.astype(np.int16) - before).max(axis=2)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else list(argv)
    quick = "--quick" in args
    numbers = [a for a in args if a != "--quick"]
    repeats = int(numbers[0]) if numbers else (1 if quick else 3)
    width, height = QUICK if quick else FULL
    started = time.perf_counter()
    original = draw_room(Room(width=width, height=height, noise_seed=1))
    staged = draw_room(Room(width=width, height=height, furniture=True, noise_seed=2, shift=1,
                            wall=WALL_RECOLOURED))
    print(f"Compare core on a {width} x {height} pair ({width * height / 1e6:.1f} MP, made in "
          f"{time.perf_counter() - started:.1f} s), median of {repeats}; each beside the plain "
          "numpy difference in this run")
    diff = difference(original, staged)
    check = structure_check(original, staged)
    cases: list[tuple[str, Callable[[], object]]] = [
        ("baseline np.abs(int16).max", lambda: baseline(original, staged)),
        ("difference, tolerance 0", lambda: difference(original, staged)),
        ("difference, tolerance 2", lambda: difference(original, staged, tolerance=2)),
        ("heat_map, opacity 0.7", lambda: heat_map(diff, staged, opacity=0.7)),
        ("structure_check (estimate)", lambda: structure_check(original, staged)),
        ("structure_overlay", lambda: structure_overlay(check, staged)),
    ]
    print(f"  {'step':<30}{'ms':>8}{'x base':>8}{'peak MB':>9}{'x base':>8}")
    base_ms = base_mb = 0.0
    for label, fn in cases:
        ms = timed(fn, repeats)
        mb = peak_mb(fn)
        base_ms, base_mb = (ms, mb) if not base_ms else (base_ms, base_mb)
        print(f"  {label:<30}{ms:>8.0f}{ms / base_ms:>8.2f}{mb:>9.0f}{mb / base_mb:>8.2f}")
    print(f"  changed {diff.changed_fraction:.1%}, structural {check.structural_fraction:.1%}, "
          f"furniture {check.furniture_fraction:.1%} ({check.source})")


if __name__ == "__main__":
    main()
