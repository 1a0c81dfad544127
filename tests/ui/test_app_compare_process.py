"""`restyle --compare A B` as a user types it: the real app starts under the offscreen platform,
opens the files in the compare view (its log says so), says which file could not be opened and
still starts, and quits cleanly on Ctrl+C. A wrong option is a usage error (exit code 2)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

from tests.support import with_default_sigint

ROOT = Path(__file__).resolve().parents[2]


def env_for(home: Path) -> dict[str, str]:
    return {**os.environ, "RESTYLE_HOME": str(home), "PYTHONPATH": str(ROOT),
            "QT_QPA_PLATFORM": "offscreen"}


def run_until_logged(home: Path, args: list[str], wanted: str) -> tuple[str, str, int]:
    """Start the app, wait until its log holds `wanted`, then Ctrl+C it; (log, stderr, code)."""
    proc = subprocess.Popen(with_default_sigint([sys.executable, "-m", "desktop", *args]),
                            env=env_for(home), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    log = home / "logs" / "restyle.log"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            if log.exists() and wanted in log.read_text(encoding="utf-8"):
                break
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        text = log.read_text(encoding="utf-8")
        assert wanted in text, text[-3000:]
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return text, err, proc.returncode


def test_restyle_compare_opens_the_files(home: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "before.png", tmp_path / "after.jpg"
    Image.new("RGB", (200, 150), (200, 40, 40)).save(a)
    Image.new("RGB", (200, 150), (40, 40, 200)).save(b)
    text, err, code = run_until_logged(
        home, ["-platform", "offscreen", "--compare", str(a), str(b)],
        "Compare files: 2 of 2 shown")
    assert code == 130, err[-2000:]
    assert "Window ready" in text and "Traceback" not in err


def test_restyle_compare_with_a_bad_file_still_starts_and_says_so(home: Path,
                                                                  tmp_path: Path) -> None:
    a = tmp_path / "before.png"
    Image.new("RGB", (200, 150), (200, 40, 40)).save(a)
    text, err, code = run_until_logged(
        home, ["--compare", str(a), str(tmp_path / "missing.jpg")],
        "Compare files: 1 of 2 shown")
    assert code == 130, err[-2000:]
    assert "missing.jpg does not exist; it may have been moved or deleted." in text
    assert "Traceback" not in err


def test_an_unknown_option_is_a_usage_error(home: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "desktop", "--compare"], env=env_for(home),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "usage: restyle" in done.stderr and "--compare" in done.stderr
    assert "Traceback" not in done.stderr
