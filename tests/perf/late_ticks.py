"""What the GUI thread was doing while the window benchmark's 5 ms timer ticked late.

Run: python -m tests.perf.late_ticks [--quick] [--top N]
     (LATE_SWITCH_MS=5 runs it with another GIL switch interval; LATE_NICE=10 renices every
     thread but the GUI's, to compare)

Runs tests/perf/bench_window_jobs.py's scenario with a watchdog thread that, every millisecond,
looks at how long ago the GUI timer last ticked; while a tick is overdue (over 8 ms since the
last) it samples the GUI thread's Python stack (sys._current_frames). After the run each sample
is matched to the gap it fell in; only gaps over one frame (16 ms) count. The table gives, per
place (the innermost frame in Restyle's code, and the innermost frame of all), the share of
the late time it was seen in.

Also printed: CPU seconds per thread and the GUI thread's time runnable but waiting for a CPU
(/proc schedstat), garbage collections (how many, how long, on which thread) and the modules
imported while the jobs ran.

The watchdog needs the GIL to take a sample: while a thread holds it in C for long, the
watchdog is late too. Its own lateness is counted as "watchdog starved" (someone held the GIL
or the CPU was taken by another process); samples show the GUI thread's stack as the watchdog
got it, so time stuck in C under the GIL is charged to the frame that called into C.
"""

from __future__ import annotations

import gc
import itertools
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from types import FrameType

from tests.perf import bench_window_jobs as bench
from tests.perf.kit import ROOT, qt_platform

OVERDUE_MS = 8.0
PERIOD_S = 0.001


def _stack(frame: FrameType | None, depth: int = 60) -> tuple[tuple[str, int, str], ...]:
    out: list[tuple[str, int, str]] = []
    while frame is not None and len(out) < depth:
        code = frame.f_code
        out.append((code.co_filename, frame.f_lineno, code.co_name))
        frame = frame.f_back
    return tuple(out)  # innermost first


def _where(filename: str) -> str:
    path = Path(filename)
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        parts = path.parts
        if "site-packages" in parts:
            return "/".join(parts[parts.index("site-packages") + 1:])
        return "/".join(parts[-2:])


class Watchdog:
    """Samples the GUI thread's stack while the recorder's tick is overdue."""

    def __init__(self, recorder: bench.GapRecorder) -> None:
        self.recorder = recorder
        self.gui = threading.get_ident()
        self.samples: list[tuple[float, tuple[tuple[str, int, str], ...]]] = []
        self.starved: list[tuple[float, float]] = []  # (when, ms late)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="late-tick-watchdog",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        last = time.perf_counter()
        while not self._stop.is_set():
            time.sleep(PERIOD_S)
            now = time.perf_counter()
            if (now - last) * 1000 > 4.0:
                self.starved.append((now, (now - last) * 1000 - PERIOD_S * 1000))
            last = now
            since = (now - self.recorder.last_tick) * 1000
            if self.recorder.running and since > OVERDUE_MS:
                frame = sys._current_frames().get(self.gui)
                self.samples.append((now, _stack(frame)))


def thread_cpu() -> dict[str, float]:
    """CPU seconds (user + system) of each of this process's threads, summed by name."""
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    names = {t.native_id: t.name for t in threading.enumerate()}
    for task in Path("/proc/self/task").iterdir():
        try:
            name = names.get(int(task.name)) or (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = name.rstrip("0123456789_") or name
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def gui_schedstat() -> tuple[float, float]:
    """(seconds on a CPU, seconds runnable but waiting for a CPU) of the GUI thread."""
    fields = Path(f"/proc/self/task/{threading.main_thread().native_id}/schedstat").read_text()
    ran, waited = fields.split()[:2]
    return int(ran) / 1e9, int(waited) / 1e9


class TimedRecorder(bench.GapRecorder):
    """The benchmark's recorder, also keeping when each tick happened."""

    def __init__(self) -> None:
        super().__init__()
        self.ticks: list[float] = []
        self.last_tick = time.perf_counter()
        self.running = False

    def _tick(self) -> None:
        super()._tick()
        self.last_tick = self._last
        self.ticks.append(self._last)

    def start(self) -> None:
        super().start()
        self.ticks = [self._last]
        self.last_tick = self._last
        self.running = True
        self.cpu_before = thread_cpu()
        self.sched_before = gui_schedstat()
        self.started_at = time.perf_counter()

    def stop(self) -> list[float]:
        self.running = False
        self.cpu_after = thread_cpu()
        self.sched_after = gui_schedstat()
        self.stopped_at = time.perf_counter()
        return super().stop()


def analyse(recorder: TimedRecorder, dog: Watchdog, top: int) -> str:
    ticks = recorder.ticks
    late = [(a, b) for a, b in itertools.pairwise(ticks) if (b - a) * 1000 > bench.FRAME_MS]
    late_ms = sum((b - a) * 1000 for a, b in late)
    inner: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    chains: Counter[str] = Counter()
    full: Counter[str] = Counter()
    per_gap_top: list[tuple[float, str]] = []
    samples = dog.samples
    i = 0
    counted = 0
    for a, b in late:
        while i < len(samples) and samples[i][0] < a:
            i += 1
        seen: Counter[str] = Counter()
        while i < len(samples) and samples[i][0] <= b:
            stack = samples[i][1]
            counted += 1
            if stack:
                f, line, name = stack[0]
                inner[f"{_where(f)}:{line} {name}"] += 1
                mine = [s for s in stack if s[0].startswith(str(ROOT / "desktop"))]
                label = (f"{_where(mine[0][0])}:{mine[0][1]} {mine[0][2]}" if mine
                         else "(no Restyle frame: the event loop itself)")
                ours[label] += 1
                seen[label] += 1
                chain = " < ".join(f"{s[2]}" for s in mine[:5]) if mine else label
                chains[chain] += 1
                full[" < ".join(f"{_where(s[0]).split('/')[-1]}:{s[2]}"
                                for s in stack[:12])] += 1
            i += 1
        if seen:
            per_gap_top.append(((b - a) * 1000, seen.most_common(1)[0][0]))
    starved_in_late = 0.0
    for when, ms in dog.starved:
        if any(a <= when <= b for a, b in late):
            starved_in_late += ms
    lines = [f"{len(late)} gaps over {bench.FRAME_MS:g} ms, {late_ms:.0f} ms in all; "
             f"{counted} samples in them; watchdog starved {starved_in_late:.0f} ms "
             f"inside them ({len(dog.starved)} times over 4 ms in the whole run)"]
    for title, counter in (("innermost Restyle frame", ours), ("innermost frame", inner),
                           ("Restyle call chain (innermost first)", chains),
                           ("whole stack, 12 innermost frames", full)):
        total = sum(counter.values()) or 1
        lines.append(f"\n-- {title} (% of samples in late gaps)")
        for label, n in counter.most_common(top):
            lines.append(f"{100 * n / total:5.1f} %  {n:5d}  {label}")
    lines.append("\n-- the 15 longest gaps: ms, where the GUI thread was seen most")
    for ms, label in sorted(per_gap_top, reverse=True)[:15]:
        lines.append(f"{ms:7.1f}  {label}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    os.environ["QT_QPA_PLATFORM"] = qt_platform()  # as the harness runs the benchmark
    quick = "--quick" in argv
    top = int(argv[argv.index("--top") + 1]) if "--top" in argv else 30
    holder: dict[str, object] = {}

    class Recorder(TimedRecorder):
        def __init__(self) -> None:
            super().__init__()
            holder["recorder"] = self
            dog = Watchdog(self)
            holder["dog"] = dog
            dog.start()

    imports: list[tuple[float, str, bool]] = []

    def audit(event: str, args: tuple[object, ...]) -> None:
        recorder = holder.get("recorder")
        if event == "import" and isinstance(recorder, TimedRecorder) and recorder.running:
            imports.append((time.perf_counter(), str(args[0]),
                            threading.get_ident() == threading.main_thread().ident))

    sys.addaudithook(audit)
    if os.environ.get("LATE_NICE"):  # experiment: every thread but the GUI's and the watchdog's
        nice = int(os.environ["LATE_NICE"])

        def renice() -> None:
            done: set[int] = set()
            while True:
                time.sleep(0.2)
                for t in threading.enumerate():
                    if t.native_id and t.native_id not in done and t.name not in (
                            "MainThread", "late-tick-watchdog"):
                        os.setpriority(os.PRIO_PROCESS, t.native_id, nice)
                        done.add(t.native_id)

        threading.Thread(target=renice, daemon=True, name="renice").start()
    collections: list[tuple[int, float, float, bool]] = []  # generation, start, ms, GUI thread
    started: dict[int, float] = {}

    def on_gc(phase: str, info: dict[str, int]) -> None:
        recorder = holder.get("recorder")
        if not (isinstance(recorder, TimedRecorder) and recorder.running):
            return
        now = time.perf_counter()
        if phase == "start":
            started[threading.get_ident()] = now
        elif threading.get_ident() in started:
            begin = started.pop(threading.get_ident())
            collections.append((info["generation"], begin, (now - begin) * 1000,
                                threading.get_ident() == threading.main_thread().ident))

    gc.callbacks.append(on_gc)
    if os.environ.get("LATE_SWITCH_MS"):  # to compare switch intervals
        from desktop.ui import runtime

        runtime.SWITCH_INTERVAL_S = float(os.environ["LATE_SWITCH_MS"]) / 1000
    bench.GapRecorder = Recorder  # type: ignore[misc]
    got = bench.measure(bench.QUICK if quick else bench.FULL)
    dog: Watchdog = holder["dog"]  # type: ignore[assignment]
    dog.stop()
    busy: list[float] = got["busy"]  # type: ignore[assignment]
    busy_sorted = sorted(busy)
    p99 = busy_sorted[int(0.99 * len(busy_sorted))] if busy_sorted else 0.0
    print(f"busy: {len(busy)} ticks, p99 {p99:.1f} ms, max {max(busy, default=0):.1f} ms, "
          f"{sum(1 for g in busy if g > bench.FRAME_MS)} over {bench.FRAME_MS:g} ms, "
          f"{got['elapsed']:.0f} s; in flight {got['in_flight']}")
    rec: TimedRecorder = holder["recorder"]  # type: ignore[assignment]
    wall = rec.stopped_at - rec.started_at
    used = {k: v - rec.cpu_before.get(k, 0.0) for k, v in rec.cpu_after.items()}
    print(f"CPU while the jobs ran ({wall:.0f} s): " + ", ".join(
        f"{k} {v:.1f} s ({100 * v / wall:.0f} %)"
        for k, v in sorted(used.items(), key=lambda kv: -kv[1]) if v > 0.05))
    ran = rec.sched_after[0] - rec.sched_before[0]
    waited = rec.sched_after[1] - rec.sched_before[1]
    print(f"GUI thread while the jobs ran: on a CPU {ran:.1f} s, runnable but waiting for a "
          f"CPU {waited:.1f} s (the rest it slept: events, or the GIL)")
    idle = got["idle"]  # type: ignore[index]
    print("idle p99 per stretch: " + ", ".join(
        f"{sorted(g)[int(0.99 * len(g))]:.1f} ms" for g in idle))  # type: ignore[union-attr]
    # Only the busy stretch: the recorder's ticks were reset at its last start().
    print(analyse(holder["recorder"], dog, top))  # type: ignore[arg-type]
    for gen in (0, 1, 2):
        mine = [c for c in collections if c[0] == gen]
        gui = [c for c in mine if c[3]]
        longest = max((c[2] for c in mine), default=0.0)
        print(f"gc gen {gen}: {len(mine)} passes ({len(gui)} on the GUI thread), "
              f"{sum(c[2] for c in mine):.0f} ms in all, longest {longest:.1f} ms")
    for gui in (True, False):
        names = list(dict.fromkeys(name for _when, name, on_gui in imports if on_gui == gui))
        print(f"\n-- {len(names)} modules imported while the jobs ran, "
              f"{'on the GUI thread' if gui else 'in other threads'}:")
        print(", ".join(names))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
