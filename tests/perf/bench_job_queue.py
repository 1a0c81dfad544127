"""Benchmark: the job queue under load. Prints the cost of an update and of a timer tick.

Run: QT_QPA_PLATFORM=offscreen python -m tests.perf.bench_job_queue
(under xvfb-run without QT_QPA_PLATFORM the paint figures include a real X server.)
"""

from __future__ import annotations

import statistics
import time

from PySide6.QtWidgets import QApplication

from desktop.core.model import ErrorCode, Job, JobSpec, JobState
from desktop.ui.job_queue import JobQueueView

T0 = 1_700_000_000.0


def main(rows: int = 200, updates: int = 20_000, live: int = 20) -> None:
    app = QApplication.instance() or QApplication([])
    now = [T0]
    queue = JobQueueView({"fitinview": "FitInView"}, {("fitinview", "tryon"): "Try-on"},
                         clock=lambda: now[0])
    queue.resize(420, 900)
    queue.show()
    app.processEvents()
    jobs = [Job(id=f"{i:032x}", spec=JobSpec("fitinview", "tryon"),
                state=JobState.RUNNING if i >= rows - live else JobState.SUCCEEDED,
                created_at=T0 + i, updated_at=T0 + i, started_at=T0 + i,
                finished_at=None if i >= rows - live else T0 + i + 3)
            for i in range(rows)]
    start = time.perf_counter()
    for job in jobs:
        queue.update_job(job)
    app.processEvents()
    print(f"add {rows} rows: {(time.perf_counter() - start) * 1000:.1f} ms")

    running = jobs[rows - live:]
    start = time.perf_counter()
    for n in range(updates):
        job = running[n % live]
        now[0] += 0.001
        if n % 97 == 0:
            queue.update_job(job, message="Rate limited. Checking again in 5 s.",
                             retry_at=now[0] + 5, error_code=ErrorCode.RATE_LIMITED)
        else:
            queue.update_job(job.evolve(progress=(n % 100) / 100), message=f"step {n}")
        if n % 200 == 0:
            app.processEvents()  # paints what changed, as the event loop would
    app.processEvents()
    per_update = (time.perf_counter() - start) / updates * 1e6
    print(f"update_job ({live} live jobs, {updates} updates, painting every 200): "
          f"{per_update:.1f} µs per update")

    ticks = []
    for _ in range(50):
        now[0] += 1
        start = time.perf_counter()
        queue.tick()
        app.processEvents()
        ticks.append((time.perf_counter() - start) * 1000)
    print(f"timer tick + repaint of visible live rows: median {statistics.median(ticks):.2f} ms,"
          f" max {max(ticks):.2f} ms")
    queue.close()


if __name__ == "__main__":
    main()
