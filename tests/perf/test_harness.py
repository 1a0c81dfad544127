"""The benchmark harness: verdicts, ratios, --check's exit code (ratios only), crashes and
skipped modules; and its quick run of every benchmark, end to end (never judged on time)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.perf import harness
from tests.perf.harness import Benchmark, Outcome
from tests.perf.kit import ROOT, Row, percentile, tagged_png

pytestmark = pytest.mark.perf


def row(measured: float, baseline: float | None, goal_ratio: float | None = 1.5,
        **extra: object) -> Row:
    return Row("figure", "goal", goal_ratio, measured, baseline, "ms", **extra)  # type: ignore[arg-type]


def fake_runner(outcomes: dict[str, Outcome]):  # type: ignore[no-untyped-def]
    def run(bench: Benchmark, quick: bool, verbose: bool) -> Outcome:
        return outcomes[bench.name]
    return run


BENCHES = (Benchmark("a", "tests.perf.nothing_a"), Benchmark("b", "tests.perf.nothing_b"))


def test_ratio_and_verdict() -> None:
    assert row(30, 20).ratio == pytest.approx(1.5)
    assert row(30, 20).verdict() == "met"  # exactly at the goal meets it
    assert row(31, 20).verdict() == "not met"
    assert row(10, None, None).verdict() == "-"
    assert row(10, 0).ratio is None and row(10, 0).verdict() == "not met"  # cannot be judged
    # absolute limits count in the verdict, but never in ratio_met (what --check reads)
    assert row(20, 20, goal_max=16.0).verdict() == "not met"
    assert row(20, 20, goal_max=16.0).ratio_met() is True
    assert row(15, 20, None, goal_min=20.0).verdict() == "not met"
    assert row(20, None, None, goal_min=20.0).verdict() == "met"


def test_check_exits_1_when_a_ratio_misses_and_0_when_all_meet(capsys) -> None:  # type: ignore[no-untyped-def]
    miss = {"a": Outcome("a", [row(10, 10)]), "b": Outcome("b", [row(40, 20)])}
    meet = {"a": Outcome("a", [row(10, 10)]), "b": Outcome("b", [row(29, 20)])}
    assert harness.main(["--check"], BENCHES, fake_runner(miss)) == 1
    assert "1 ratio(s) miss their goal" in capsys.readouterr().out
    assert harness.main(["--check"], BENCHES, fake_runner(meet)) == 0
    assert harness.main([], BENCHES, fake_runner(miss)) == 0  # without --check: figures only


def test_check_ignores_absolute_limits(capsys) -> None:  # type: ignore[no-untyped-def]
    slow = {"a": Outcome("a", [row(900, 1000, goal_max=16.0)]),
            "b": Outcome("b", [row(500, None, None, goal_max=100.0)])}
    assert harness.main(["--check"], BENCHES, fake_runner(slow)) == 0
    assert "not met" in capsys.readouterr().out


def test_a_crash_fails_the_run_a_missing_module_does_not(capsys) -> None:  # type: ignore[no-untyped-def]
    crashed = {"a": Outcome("a", [row(1, 1)]), "b": Outcome("b", error="crashed (exit 1): X")}
    assert harness.main([], BENCHES, fake_runner(crashed)) == 2
    assert "b: CRASHED, crashed (exit 1): X" in capsys.readouterr().out
    outcome = harness.run_one(Benchmark("gone", "tests.perf.bench_not_here"), quick=True)
    assert outcome.skipped == "skipped: tests/perf/bench_not_here.py is not here"
    assert not outcome.error and not outcome.rows


def test_only_json_and_table(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    outcomes = {"a": Outcome("a", [row(30, 20, note="median of 3")]),
                "b": Outcome("b", [row(1, 1)])}
    out = tmp_path / "rows.json"
    assert harness.main(["--only", "a", "--json", str(out)], BENCHES, fake_runner(outcomes)) == 0
    printed = capsys.readouterr().out
    assert "| figure | 30.0 ms | 20.0 ms | 1.50 x | met | median of 3 |" in printed.replace(
        "| goal ", "")
    written = json.loads(out.read_text())
    assert [r["benchmark"] for r in written["rows"]] == ["a"]
    assert written["rows"][0]["ratio"] == pytest.approx(1.5)
    assert written["rows"][0]["verdict"] == "met"
    with pytest.raises(SystemExit):
        harness.main(["--only", "nope"], BENCHES, fake_runner(outcomes))


def test_percentile_and_tagged_png() -> None:
    assert percentile(list(range(1, 101)), 99) == 99
    assert percentile([5.0], 99) == 5.0
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buf, "PNG")
    tagged = tagged_png(buf.getvalue(), "job 1")
    assert tagged != buf.getvalue()
    with Image.open(io.BytesIO(tagged)) as im:
        im.load()  # Pillow checks every chunk's CRC
        assert im.getpixel((0, 0)) == (1, 2, 3) and im.text["Comment"] == "job 1"


def test_quick_run_of_every_benchmark(tmp_path: Path) -> None:
    """`python -m tests.perf --quick` runs every benchmark to rows without a crash."""
    out = tmp_path / "quick.json"
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "tests.perf", "--quick", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=110)
    assert done.returncode == 0, done.stdout + done.stderr
    written = json.loads(out.read_text())
    assert not written["errors"]
    names = {r["benchmark"] for r in written["rows"]} | set(written["skipped"])
    assert names == {b.name for b in harness.BENCHMARKS}
    for item in written["rows"]:
        assert item["measured"] >= 0 and item["verdict"] in ("met", "not met", "-")
    assert "| figure | goal | measured |" in done.stdout
    print(f"quick run: {time.perf_counter() - started:.0f} s")
