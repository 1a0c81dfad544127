"""One window per user and data folder, as a user meets it: the real app starts offscreen with a
file, a second `restyle FILE` (a relative path) hands the file to it and exits 0 at once, the
first window's log says it got the file and which pane it went to; `restyle` alone brings that
window to the front; `--compare` goes through it too. A socket left by a crashed window is
replaced, and a window on another data folder starts side by side."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

from desktop.config import resolve_paths
from desktop.single_instance import DELIVERED_OPEN, DELIVERED_RAISE, server_name, socket_file
from tests.support import with_default_sigint
from tests.ui.test_app_compare_process import env_for
from tests.ui.test_window import image_file


class Window:
    """A `restyle` process with a window (ended with Ctrl+C) and its log."""

    def __init__(self, home: Path, args: list[str], cwd: Path) -> None:
        self.home = home
        self.log = home / "logs" / "restyle.log"
        self.err = ""  # its stderr, once closed
        self.proc = subprocess.Popen(
            with_default_sigint([sys.executable, "-m", "desktop", *args]), env=env_for(home),
            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8") if self.log.exists() else ""

    def wait_for(self, *wanted: str, timeout: float = 90) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            if all(w in self.text() for w in wanted):
                return self.text()
            time.sleep(0.1)
        assert self.proc.poll() is None, self.proc.communicate()[1][-3000:]
        raise AssertionError(f"{wanted} not in the log:\n{self.text()[-3000:]}")

    def close(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(2)  # Ctrl+C: the window closes the normal way
            try:
                self.err = self.proc.communicate(timeout=60)[1]
            finally:
                if self.proc.poll() is None:
                    self.proc.kill()
        return self.proc.returncode


def second(home: Path, args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str],
                                                             float]:
    """A second `restyle ARGS`; one that does not exit by itself (it opened a window of its
    own) is closed with Ctrl+C, so its worker processes end too, and the test fails."""
    began = time.monotonic()
    argv = with_default_sigint([sys.executable, "-m", "desktop", *args])
    proc = subprocess.Popen(argv, env=env_for(home), cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        proc.send_signal(2)
        try:
            proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        raise AssertionError("the second restyle did not exit: it opened a window") from None
    took = time.monotonic() - began
    return subprocess.CompletedProcess(argv, proc.returncode, out, err), took


def test_a_second_restyle_hands_its_files_to_the_running_window(home: Path,
                                                                tmp_path: Path) -> None:
    image_file(tmp_path / "person.png", (200, 150, 120), (300, 400))
    image_file(tmp_path / "shirt.png", (30, 60, 200), (200, 200))
    image_file(tmp_path / "a.png", (200, 40, 40))
    image_file(tmp_path / "b.png", (40, 40, 200))
    window = Window(home, ["person.png"], tmp_path)
    try:
        window.wait_for("Serving hand-overs", "Open files: 1 of 1 opened; person.png in Person")

        done, took = second(home, ["shirt.png"], tmp_path)
        assert done.returncode == 0, done.stderr[-3000:]
        assert done.stdout.strip() == DELIVERED_OPEN and "Traceback" not in done.stderr
        assert took < 60  # it did not open a window of its own (that would not exit by itself)
        window.wait_for("Hand-over from another restyle process: 1 file(s): shirt.png",
                        "Open files: 1 of 1 opened; shirt.png in Garment")

        done, _ = second(home, [], tmp_path)
        assert (done.returncode, done.stdout.strip()) == (0, DELIVERED_RAISE), done.stderr
        window.wait_for("Hand-over from another restyle process: bring the window to the front")

        done, _ = second(home, ["--compare", "a.png", "b.png"], tmp_path)
        assert (done.returncode, done.stdout.strip()) == (0, DELIVERED_OPEN), done.stderr
        window.wait_for("Compare files: 2 of 2 shown")
        assert window.text().count("Window ready") == 1  # never a second window on this home
    finally:
        code = window.close()
    assert code == 130


def test_a_stale_socket_is_replaced_and_another_home_runs_side_by_side(
        home: Path, tmp_path: Path) -> None:
    image_file(tmp_path / "room.png", (120, 100, 80), (640, 480))
    image_file(tmp_path / "person.png", (200, 150, 120), (300, 400))
    path = socket_file(server_name(resolve_paths(home).config_dir))
    assert path is not None
    crashed = socket.socket(socket.AF_UNIX)
    crashed.bind(str(path))  # what a window killed with SIGKILL leaves behind
    crashed.close()
    other_home = tmp_path / "other-home"
    first = Window(home, ["--role", "room", "room.png"], tmp_path)
    other = None
    try:
        first.wait_for("Removed the hand-over socket a closed Restyle window left behind",
                       "Serving hand-overs", "Open files: 1 of 1 opened; room.png in Room photo")
        other = Window(other_home, ["person.png"], tmp_path)  # starts, does not hand over
        other.wait_for("Serving hand-overs", "Open files: 1 of 1 opened; person.png in Person")
        assert "Hand-over from" not in first.text()
        done, _ = second(home, ["person.png"], tmp_path)
        assert (done.returncode, done.stdout.strip()) == (0, DELIVERED_OPEN), done.stderr
        first.wait_for("Hand-over from another restyle process: 1 file(s): person.png")
        assert "Hand-over from" not in other.text()
    finally:
        codes = [first.close(), other.close() if other is not None else None]
    assert codes == [130, 130]


def test_a_window_that_does_not_answer_does_not_stop_a_new_one(home: Path,
                                                               tmp_path: Path) -> None:
    image_file(tmp_path / "person.png", (200, 150, 120), (300, 400))
    path = socket_file(server_name(resolve_paths(home).config_dir))
    assert path is not None
    stuck = socket.socket(socket.AF_UNIX)
    stuck.bind(str(path))
    stuck.listen(8)  # takes connections (the kernel does) and never answers: a hung window
    window = None
    try:
        window = Window(home, ["person.png"], tmp_path)
        text = window.wait_for("did not answer within 5 seconds",
                               "Another Restyle window serves this data folder",
                               "Open files: 1 of 1 opened; person.png in Person")
        assert "Serving hand-overs" not in text  # the hung one keeps its name
        assert path.exists()
    finally:
        code = window.close() if window is not None else None
        stuck.close()
    assert code == 130
    assert "A Restyle window is running for this data folder but did not answer within 5 " \
           "seconds (it may be busy or stuck); starting another window." in window.err
    assert "Traceback" not in window.err
