"""How smooth the window stays while 20 jobs run at once.

Run: QT_QPA_PLATFORM=offscreen python -m tests.perf.bench_window_jobs [local|fitinview]
     [--in-process]   (the emulator runs in a separate process unless --in-process)

Builds the real window on a throw-away folder with the FitInView emulator behind it, submits
20 try-on jobs (inputs 2000 x 1500, so preparing them is real work) plus 20 local recolour
jobs, and measures how late a 16 ms timer on the GUI thread fires meanwhile: the event loop's
worst stalls are what a user feels as a frozen window. Prints figures; asserts nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication


def _inputs(folder: Path) -> tuple[Path, Path]:
    person = folder / "person.jpg"
    garment = folder / "garment.png"
    noise = Image.effect_noise((2000, 1500), 60).convert("RGB")
    noise.save(person, quality=90)
    Image.effect_noise((1200, 1200), 40).convert("RGB").save(garment)
    return person, garment


@contextlib.contextmanager
def _emulators_in_a_subprocess() -> Iterator[dict[str, str]]:
    """`python -m tests.emulators` in its own process; yields the RESTYLE_* variables."""
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-u", "-m", "tests.emulators"], cwd=root,
                            stdout=subprocess.PIPE, text=True)
    found: dict[str, str] = {}
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            match = re.search(r"export (RESTYLE_\w+)=(\S+)", line)
            if match:
                found[match.group(1)] = match.group(2)
            if "Ctrl+C stops" in line:
                break
        yield found
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)


async def scenario() -> None:
    from desktop.app import create_main_window
    from desktop.core.model import JobSpec
    from tests.emulators.fitinview import FitInViewEmulator
    from tests.emulators.kit import serve

    folder = Path(tempfile.mkdtemp(prefix="restyle-bench-"))
    person, garment = _inputs(folder)
    with contextlib.ExitStack() as stack:
        if "--in-process" in sys.argv:  # the emulator competes with the window for the GIL
            emu = FitInViewEmulator(job_delay=1.5, rate_limit_per_min=10_000)
            os.environ["RESTYLE_FITINVIEW_BASE_URL"] = stack.enter_context(serve(emu))
            os.environ["RESTYLE_FITINVIEW_API_KEY"] = emu.api_key
        else:  # as in real use: the service is another process
            os.environ.update(stack.enter_context(_emulators_in_a_subprocess()))
        window = create_main_window(folder / "home")
        window.services.settings = window.services.settings.__class__(global_concurrency=20)
        window.engine.reconfigure(window.services.settings.engine_policy(
            window.services.provider_ids()))
        window.resize(1500, 940)
        window.show()
        await window.start()
        await window.workbench.idle()  # start-up work (worker processes, credits) done first

        lateness: list[float] = []
        last = time.perf_counter()

        def tick() -> None:
            nonlocal last
            now = time.perf_counter()
            lateness.append(max(0.0, (now - last) - 0.016))
            last = now

        timer = QTimer()
        timer.setInterval(16)
        timer.timeout.connect(tick)
        timer.start()
        start = time.perf_counter()
        args = [a for a in sys.argv[1:] if not a.startswith("--")]
        only = args[0] if args else ""
        specs = [JobSpec("fitinview", "tryon", {"person": [str(person)],
                                                "garment": [str(garment)]}, {})
                 for _ in range(20) if only in ("", "fitinview")]
        specs += [JobSpec("local", "recolor", {"image": [str(person)]},
                          {"color": "crimson", "seed": "0.5,0.5"})
                  for _ in range(20) if only in ("", "local")]
        jobs = [await window.engine.submit(spec) for spec in specs]
        for job in jobs:
            window.job_queue.update_job(job)
        done = [await window.engine.wait(job.id) for job in jobs]
        elapsed = time.perf_counter() - start
        timer.stop()
        states = {str(j.state) for j in done}
        lateness.sort()
        print(f"jobs: {len(done)} ({', '.join(sorted(states))}) in {elapsed:.1f} s")
        print(f"GUI timer ticks: {len(lateness)}")
        print(f"lateness median {statistics.median(lateness) * 1000:.1f} ms, "
              f"p95 {lateness[int(len(lateness) * 0.95)] * 1000:.1f} ms, "
              f"p99 {lateness[int(len(lateness) * 0.99)] * 1000:.1f} ms, "
              f"max {lateness[-1] * 1000:.1f} ms")
        print(f"ticks later than one frame (16 ms): {sum(1 for x in lateness if x > 0.016)}")
        window.close()
        await window.aclose()


def main() -> int:
    import qasync

    for name in list(os.environ):
        if name.startswith("RESTYLE_"):
            del os.environ[name]
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    loop.run_until_complete(scenario())
    loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
