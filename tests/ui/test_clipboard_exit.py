"""Copying a video puts its file on the clipboard; the app lets go of it when it quits, so
PySide6 does not crash at exit (it does, with SIGSEGV, when a QMimeData made in Python is
still there)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
from desktop.ui import clipboard
app = QApplication(sys.argv)
app.aboutToQuit.connect(clipboard.release)
clipboard.copy_files([Path(sys.argv[1])], text=sys.argv[1])
assert [u.toLocalFile() for u in app.clipboard().mimeData().urls()] == [sys.argv[1]]
from PySide6.QtCore import QTimer
QTimer.singleShot(0, app.quit)
sys.exit(app.exec())
"""


def test_quitting_after_copying_a_file_exits_cleanly(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(clip)], env=env, timeout=60,
                          capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
