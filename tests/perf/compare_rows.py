"""The compare benchmarks as rows for the harness: bench_compare_repaint (two synced 24 MP
pictures) and bench_compare_core (difference, heat map, structure check on a 24 MP pair). Both
modules belong to the compare work and are called here, never changed; the harness skips a row
set whose module is not here.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys

from tests.perf.kit import Row

#: A line of bench_compare_core's table: label, ms, x base, peak MB, x base.
_CORE_LINE = re.compile(r"^  (?P<label>\S.*?)\s+(?P<ms>\d+)\s+(?P<x>[\d.]+)\s+(?P<mb>\d+)"
                        r"\s+(?P<xmb>[\d.]+)$")


def repaint_rows(quick: bool = False) -> list[Row]:
    from PySide6.QtWidgets import QApplication

    from tests.perf import bench_compare_repaint as bench

    _app = QApplication.instance() or QApplication(sys.argv[:1])
    repeats = 10 if quick else 40
    measured = bench.run(quick, "display", repeats)
    base = measured[0]  # a plain widget filling the same rectangle
    size = "600 x 400" if quick else "24 MP"
    out = []
    for row in measured[2:]:
        out.append(Row(f"compare view repaint, two synced {size} pictures: {row.name}",
                       "< 16 ms", None, row.median, base.median, "ms", goal_max=16.0,
                       note=f"median of {repeats} (p95 {row.p95:.1f} ms); baseline: a plain "
                            "widget filling the same rectangle"))
    return out


def core_rows(quick: bool = False) -> list[Row]:
    from tests.perf import bench_compare_core as bench

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        bench.main(["--quick"] if quick else [])
    lines = [m for m in map(_CORE_LINE.match, printed.getvalue().splitlines()) if m]
    if len(lines) < 2:
        raise RuntimeError("bench_compare_core printed no table this harness can read:\n"
                           + printed.getvalue())
    base_ms = float(lines[0]["ms"])
    size = "600 x 400" if quick else "24 MP"
    return [Row(f"compare core on a {size} pair: {m['label']}", "-", None, float(m["ms"]),
                base_ms, "ms", note=f"peak {m['mb']} MB; baseline: plain numpy difference")
            for m in lines[1:]]


if __name__ == "__main__":
    for row in repaint_rows("--quick" in sys.argv) + core_rows("--quick" in sys.argv):
        print(f"{row.figure}: {row.measured:.1f} ms (baseline {row.baseline:.1f}) "
              f"{row.verdict()}")
