"""`python -m desktop` as a user starts it: the window comes up on a fresh folder, and Ctrl+C
in its terminal closes it cleanly (session saved, exit code 130)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support import with_default_sigint

ROOT = Path(__file__).resolve().parents[2]


def test_window_starts_and_ctrl_c_closes_it_cleanly(home: Path) -> None:
    env = {**os.environ, "RESTYLE_HOME": str(home), "PYTHONPATH": str(ROOT),
           "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen(with_default_sigint([sys.executable, "-m", "desktop"]), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = home / "logs" / "restyle.log"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if log.exists() and "Window ready" in log.read_text(encoding="utf-8"):
                break
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        assert "Window ready" in log.read_text(encoding="utf-8")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err[-2000:]
    assert (home / "config" / "window.ini").exists()  # the session was saved on the way out
    assert "Traceback" not in err
