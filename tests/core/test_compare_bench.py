"""The compare core's benchmark runs (on its quick, small pair) and prints every step, so it
cannot rot unnoticed."""

from __future__ import annotations

import pytest

from tests.perf import bench_compare_core


@pytest.mark.perf
def test_quick_benchmark_prints_every_step(capsys: pytest.CaptureFixture[str]) -> None:
    bench_compare_core.main(["--quick"])
    out = capsys.readouterr().out
    assert "600 x 400 pair" in out
    for step in ("baseline np.abs(int16).max", "difference, tolerance 0",
                 "difference, tolerance 2", "heat_map, opacity 0.7",
                 "structure_check (estimate)", "structure_overlay"):
        line = next(row for row in out.splitlines() if row.strip().startswith(step))
        ms, ratio, mb, mb_ratio = (float(v) for v in line[len("  ") + 30:].split())
        assert ms >= 0 and ratio >= 0 and mb > 0 and mb_ratio > 0
    assert "structural" in out and "(estimate)" in out
