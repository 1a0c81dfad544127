"""Runs every benchmark, each in its own process, and prints one table.

`python -m tests.perf [--quick] [--check] [--only NAME] [--json FILE]` (see __main__.py). A
benchmark is a function `rows(quick: bool) -> list[Row]` in a module of tests/perf; the harness
starts `python -m tests.perf.harness --child MODULE FUNCTION` for it, so its memory figures
start from a clean process and a crash (or a hang, after a timeout) costs only its own rows.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.perf.kit import ROOT, Row, qt_platform


@dataclass(frozen=True)
class Benchmark:
    name: str
    module: str
    function: str = "rows"
    #: Seconds before the run is stopped and counted as crashed.
    timeout: float = 420.0
    quick_timeout: float = 90.0


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("window", "tests.perf.bench_window_jobs"),
    Benchmark("startup", "tests.perf.bench_startup"),
    Benchmark("engine", "tests.perf.bench_engine"),
    Benchmark("normalize", "tests.perf.bench_normalize"),
    Benchmark("history", "tests.perf.bench_history_view"),
    Benchmark("memory", "tests.perf.bench_memory"),
    Benchmark("compare_repaint", "tests.perf.compare_rows", "repaint_rows"),
    Benchmark("compare_core", "tests.perf.compare_rows", "core_rows"),
)


@dataclass
class Outcome:
    """What one benchmark's process gave: rows, or why there are none."""

    name: str
    rows: list[Row] = field(default_factory=list)
    seconds: float = 0.0
    #: A sentence when the benchmark crashed or timed out (the run then fails).
    error: str = ""
    #: A sentence when it was skipped (a module that is not here); not a failure.
    skipped: str = ""


# ------------------------------------------------------------------ running


def _child(module: str, function: str, quick: bool, out: Path) -> int:
    """In the benchmark's own process: run it, write its rows as JSON."""
    fn: Callable[[bool], list[Row]] = getattr(importlib.import_module(module), function)
    rows = fn(quick)
    out.write_text(json.dumps([row.to_dict() for row in rows]))
    return 0


def _missing(bench: Benchmark) -> str:
    """A sentence when the benchmark's code is not here (or names a module it needs that is
    not), else ""."""
    if importlib.util.find_spec(bench.module) is None:
        return f"{bench.module.replace('.', '/')}.py is not here"
    if bench.module == "tests.perf.compare_rows":
        wanted = {"repaint_rows": "tests.perf.bench_compare_repaint",
                  "core_rows": "tests.perf.bench_compare_core"}[bench.function]
        if importlib.util.find_spec(wanted) is None:
            return f"{wanted.replace('.', '/')}.py is not here (yet)"
    return ""


def run_one(bench: Benchmark, quick: bool, verbose: bool = False) -> Outcome:
    missing = _missing(bench)
    if missing:
        return Outcome(bench.name, skipped=f"skipped: {missing}")
    with tempfile.TemporaryDirectory(prefix="restyle-perf-") as tmp:
        out = Path(tmp) / "rows.json"
        command = [sys.executable, "-m", "tests.perf.harness", "--child", bench.module,
                   bench.function, str(out)] + (["--quick"] if quick else [])
        env = {**os.environ, "QT_QPA_PLATFORM": qt_platform()}
        env = {k: v for k, v in env.items() if not k.startswith("RESTYLE_")}
        started = time.perf_counter()
        timeout = bench.quick_timeout if quick else bench.timeout
        try:
            done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            tail = _tail(exc.stderr) or _tail(exc.stdout)
            return Outcome(bench.name, seconds=time.perf_counter() - started,
                           error=f"did not finish in {timeout:.0f} s{tail}")
        seconds = time.perf_counter() - started
        if verbose and done.stdout:
            print(done.stdout.rstrip())
        if done.returncode != 0 or not out.exists():
            return Outcome(bench.name, seconds=seconds,
                           error=f"crashed (exit {done.returncode}){_tail(done.stderr)}")
        rows = [Row.from_dict(item) for item in json.loads(out.read_text())]
        return Outcome(bench.name, rows=rows, seconds=seconds)


def _tail(text: str | bytes | None) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return f": {lines[-1].strip()}" if lines else ""


# ------------------------------------------------------------------ reporting


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if value == 0:
        text = "0"
    elif abs(value) >= 100:
        text = f"{value:.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def table(outcomes: Sequence[Outcome]) -> str:
    """A Markdown table: one line a row, then a line for each benchmark without rows."""
    lines = ["| figure | goal | measured | baseline (same run) | ratio | verdict | note |",
             "|---|---|---|---|---|---|---|"]
    for outcome in outcomes:
        for row in outcome.rows:
            ratio = row.ratio
            lines.append(
                f"| {row.figure} | {row.goal} | {fmt(row.measured, row.unit)} | "
                f"{fmt(row.baseline, row.unit)} | "
                f"{'-' if ratio is None else f'{ratio:.2f} x'} | {row.verdict()} | "
                f"{row.note} |")
    for outcome in outcomes:
        if outcome.error:
            lines.append(f"\n{outcome.name}: CRASHED, {outcome.error}")
        elif outcome.skipped:
            lines.append(f"\n{outcome.name}: {outcome.skipped}")
    return "\n".join(lines)


def ratio_misses(outcomes: Sequence[Outcome]) -> list[Row]:
    """Rows whose ratio misses its goal: what `--check` fails on (never absolute times)."""
    return [row for o in outcomes for row in o.rows if row.ratio_met() is False]


def exit_code(outcomes: Sequence[Outcome], check: bool) -> int:
    """2 when a benchmark crashed; with `check`, 1 when a ratio missed its goal; else 0."""
    if any(o.error for o in outcomes):
        return 2
    if check and ratio_misses(outcomes):
        return 1
    return 0


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        ram = f", {kb / 2**20:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    try:
        import PySide6

        qt = f", PySide6 {PySide6.__version__}"
    except ImportError:
        qt = ""
    load = ""
    if hasattr(os, "getloadavg"):
        load = f", load average {os.getloadavg()[0]:.2f}"
    return (f"{os.cpu_count()} cores ({model or platform.processor() or 'unknown CPU'})"
            f"{ram}, Python {platform.python_version()}{qt}{load}")


def main(argv: list[str] | None = None, benchmarks: Sequence[Benchmark] = BENCHMARKS,
         runner: Callable[[Benchmark, bool, bool], Outcome] = run_one) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf", description=(
        "Run Restyle's benchmarks, each in its own process, and print one table."))
    parser.add_argument("--quick", action="store_true",
                        help="small sizes, seconds per benchmark (what .ci/run runs)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when a ratio misses its goal (never on absolute times)")
    parser.add_argument("--only", metavar="NAME", action="append",
                        help="run only this benchmark (repeatable): "
                             + ", ".join(b.name for b in benchmarks))
    parser.add_argument("--json", metavar="FILE", type=Path, help="write the rows as JSON")
    parser.add_argument("--verbose", action="store_true", help="show each benchmark's output")
    args = parser.parse_args(argv)
    chosen = list(benchmarks)
    if args.only:
        unknown = sorted(set(args.only) - {b.name for b in benchmarks})
        if unknown:
            parser.error(f"no benchmark named {', '.join(unknown)}; choose from "
                         + ", ".join(b.name for b in benchmarks))
        chosen = [b for b in benchmarks if b.name in args.only]
    print(f"Restyle benchmarks ({'quick' if args.quick else 'full'}) on {machine()}",
          flush=True)
    started = time.perf_counter()
    outcomes = []
    for bench in chosen:
        outcome = runner(bench, args.quick, args.verbose)
        state = outcome.error or outcome.skipped or f"{len(outcome.rows)} rows"
        print(f"  {bench.name}: {state} ({outcome.seconds:.0f} s)", flush=True)
        outcomes.append(outcome)
    print(f"\nAll done in {time.perf_counter() - started:.0f} s. Ratios are measured / baseline "
          "from the same run; gaps and latencies are medians of repeated runs where noted "
          "(the machine may be shared).\n")
    print(table(outcomes))
    if args.json:
        args.json.write_text(json.dumps({
            "machine": machine(), "quick": args.quick,
            "rows": [dict(benchmark=o.name, **r.to_dict()) for o in outcomes for r in o.rows],
            "errors": {o.name: o.error for o in outcomes if o.error},
            "skipped": {o.name: o.skipped for o in outcomes if o.skipped}}, indent=2))
    code = exit_code(outcomes, args.check)
    if args.check:
        misses = ratio_misses(outcomes)
        print(f"\n--check: {len(misses)} ratio(s) miss their goal" + (
            ": " + "; ".join(f"{r.figure} ({r.ratio or 0:.2f} x, goal <= {r.goal_ratio} x)"
                             for r in misses) if misses else "."))
    return code


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "--child":
        sys.exit(_child(sys.argv[2], sys.argv[3], "--quick" in sys.argv[5:], Path(sys.argv[4])))
    sys.exit(main())
