"""Start-up: from starting the process to the window shown and the first history page painted,
with a 10,000-job history, beside a bare QMainWindow shown, each in a fresh process.

Run: QT_QPA_PLATFORM=offscreen python -m tests.perf.bench_startup [--quick]

Restyle is started the way `restyle` starts it (desktop.app.main) on a copy of a home folder
whose history holds 10,000 jobs; a paint-event filter on the history list prints a line once it
has painted with rows in it, and the window is closed. The time is wall time from Popen to that
line, interpreter start-up included, so both sides pay the same. Median of 5 runs each,
alternating (quick: 1 run each, a 200-job history).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from tests.perf.kit import ROOT, Row, filled_home, qt_platform

APP = textwrap.dedent("""
    import sys
    import desktop.app as app_module  # first, as the `restyle` script does
    from PySide6.QtCore import QEvent, QObject, QTimer

    made = app_module.create_main_window

    class Watch(QObject):
        def __init__(self, window):
            super().__init__()
            self.window, self.done = window, False

        def eventFilter(self, watched, event):
            if (event.type() == QEvent.Type.Paint and not self.done
                    and self.window.history_panel.model.rowCount() > 0):
                self.done = True
                QTimer.singleShot(0, self.painted)  # after this paint has been drawn
            return False

        def painted(self):
            print("PAINTED", flush=True)
            self.window.close()

    def create(home=None):
        window = made(home)
        window._bench_watch = Watch(window)
        window.history_panel.view.viewport().installEventFilter(window._bench_watch)
        return window

    app_module.create_main_window = create
    sys.exit(app_module.main())
""")

BARE = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    class Watch(QObject):
        done = False

        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.Paint and not self.done:
                self.done = True
                QTimer.singleShot(0, self.painted)
            return False

        def painted(self):
            print("PAINTED", flush=True)
            app.quit()

    app = QApplication(sys.argv)
    window = QMainWindow()
    window.resize(1500, 940)
    watch = Watch()
    window.installEventFilter(watch)
    window.show()
    sys.exit(app.exec())
""")


def time_to_paint(script: str, home: Path | None) -> float:
    """Seconds from starting `python -c script` to its PAINTED line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTYLE_")}
    env["QT_QPA_PLATFORM"] = qt_platform()
    if home is not None:
        env["RESTYLE_HOME"] = str(home)
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if line.strip() == "PAINTED":
                took = time.perf_counter() - started
                break
        else:
            raise RuntimeError("The window never painted: " + (proc.communicate(timeout=30)[1]
                                                                or "").strip()[-500:])
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return took


def compile_sources() -> None:
    """Byte-compile Restyle and its libraries first, as `pip install` does: a machine with
    PYTHONDONTWRITEBYTECODE set (this one) would otherwise compile every module on every start
    (about 0.4 s), which no installed copy pays."""
    import compileall
    import sysconfig

    compileall.compile_dir(ROOT / "desktop", quiet=1)
    compileall.compile_dir(sysconfig.get_paths()["purelib"], quiet=1, workers=2)


def rows(quick: bool = False) -> list[Row]:
    count, runs = (200, 1) if quick else (10_000, 5)
    compile_sources()
    app_times: list[float] = []
    bare_times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="restyle-startup-") as tmp:
        for run in range(runs):
            home = filled_home(count, Path(tmp) / f"home{run}")  # a fresh copy each run
            bare_times.append(time_to_paint(BARE, None))
            app_times.append(time_to_paint(APP, home))
    app_s, bare_s = statistics.median(app_times), statistics.median(bare_times)
    note = (f"median of {runs} fresh processes each (Restyle {min(app_times):.2f}-"
            f"{max(app_times):.2f} s); bytecode compiled first, as an installed copy has it")
    return [Row(f"start-up to window and first history page painted, {count:,}-job history",
                "<= 1.5 x a bare QMainWindow shown", 1.5, app_s, bare_s, "s", note=note)]


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    for row in rows("--quick" in args):
        print(f"{row.figure}: {row.measured:.2f} s vs {row.baseline:.2f} s bare "
              f"({row.ratio or 0:.1f} x) {row.verdict()}; {row.note}")


if __name__ == "__main__":
    main()
