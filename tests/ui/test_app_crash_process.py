"""The real app (desktop.app.main, in a process of its own) meets errors nothing caught: one in
a Qt callback, one in an asyncio task nobody awaited. Each leaves a crash report in the log
folder, without the key the message held; the window shows one sentence and keeps running."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import asyncio, sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox
    import desktop.app as app_module

    made = app_module.create_main_window

    async def fails():
        raise LookupError("the task failed with api_key=sk-task-secret-777")

    def boom():
        asyncio.ensure_future(fails())
        raise RuntimeError("the callback failed with token=sk-callback-secret-555")

    def create(home=None):
        window = made(home)
        logs = window.services.paths.log_dir

        def look():
            box = window.findChild(QMessageBox, "crashNotice")
            if box is not None and box.isVisible() and len(list(logs.glob("crash-*"))) >= 2:
                print("NOTICE " + box.text().replace(chr(10), " "), flush=True)
                window.close()
            else:
                QTimer.singleShot(100, look)

        QTimer.singleShot(1500, boom)
        QTimer.singleShot(1600, look)
        QTimer.singleShot(30000, window.close)  # give up: the test then says what is missing
        return window

    app_module.create_main_window = create
    sys.exit(app_module.main())
""")


def test_unhandled_errors_leave_reports_and_one_sentence(home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTYLE_")}
    env.update(RESTYLE_HOME=str(home), PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=ROOT, text=True,
                          capture_output=True, timeout=90)
    assert proc.returncode == 0, proc.stderr[-3000:]
    notices = [line for line in proc.stdout.splitlines() if line.startswith("NOTICE ")]
    assert len(notices) == 1, proc.stdout + proc.stderr[-3000:]
    reports = sorted((home / "logs").glob("crash-*.txt"))
    assert len(reports) == 2
    texts = "".join(p.read_text(encoding="utf-8") for p in reports)
    assert "RuntimeError: the callback failed" in texts and "LookupError" in texts
    assert "Task exception was never retrieved" in texts
    assert "sk-callback-secret-555" not in texts and "sk-task-secret-777" not in texts
    assert str(reports[-1]) in notices[0] or str(reports[0]) in notices[0]
    assert "Traceback" not in proc.stderr and "sk-" not in proc.stderr
    log = (home / "logs" / "restyle.log").read_text(encoding="utf-8")
    assert "Unhandled exception" in log and "sk-callback-secret-555" not in log
