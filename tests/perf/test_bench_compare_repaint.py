"""The repaint benchmark's quick run, so CI keeps it working (it never fails on time)."""

from __future__ import annotations

import math

import pytest

from tests.perf import bench_compare_repaint

pytestmark = pytest.mark.perf


def test_quick_benchmark_measures_every_case(qapp, capsys) -> None:  # type: ignore[no-untyped-def]
    rows = bench_compare_repaint.main(["--quick", "--repeats", "3"])
    names = [row.name for row in rows]
    for wanted in ("baseline: fill the rectangle", "baseline: draw a pre-scaled picture",
                   "single picture, fitted", "side by side, 100 %", "side by side, 400 %",
                   "wipe, fitted", "blend 50 %, fitted", "side by side, fitted, loupe 4x",
                   "side by side, fitted, inspector locked",
                   "side by side, 100 %, while panning"):
        assert wanted in names
    assert all(len(row.times) == 3 and all(math.isfinite(t) and t >= 0 for t in row.times)
               for row in rows)
    printed = capsys.readouterr().out
    assert "goal < 16 ms" in printed and "blend 50 %, fitted" in printed
