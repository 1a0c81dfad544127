"""Starting the window with no display: one sentence on stderr and exit code 2, checked before
Qt would abort the process; a headless platform, Wayland or an answering X server pass."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.display_check import EXIT_NO_DISPLAY, missing_display, x_server_answers

ROOT = Path(__file__).resolve().parents[1]
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="X displays and abstract sockets are Linux's")


@pytest.fixture
def x_display() -> str:
    """A fake local X server: something listening on the display's abstract socket."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    for _ in range(20):
        number = random.randint(2000, 60000)
        try:
            server.bind(f"\0/tmp/.X11-unix/X{number}")
            break
        except OSError:
            continue
    server.listen(4)
    try:
        yield f":{number}"
    finally:
        server.close()


def _free_display() -> str:
    while True:
        number = random.randint(2000, 60000)
        if not Path(f"/tmp/.X11-unix/X{number}").exists():
            return f":{number}"


def test_no_display_at_all_is_one_sentence_that_says_how_to_run() -> None:
    problem = missing_display({}, ["restyle"], "linux")
    assert problem is not None
    assert "DISPLAY and WAYLAND_DISPLAY are not set" in problem
    assert "QT_QPA_PLATFORM=offscreen" in problem and "xvfb-run restyle" in problem
    assert "\n" not in problem and problem.count(". ") == 0 and problem.endswith(".")


@pytest.mark.parametrize("environ, argv", [
    ({"QT_QPA_PLATFORM": "offscreen"}, []),
    ({"QT_QPA_PLATFORM": "minimal"}, []),
    ({"QT_QPA_PLATFORM": "vnc:size=800x600"}, []),
    ({"QT_QPA_PLATFORM": "xcb;offscreen"}, []),
    ({}, ["restyle", "-platform", "offscreen"]),
    ({}, ["restyle", "--platform=linuxfb"]),
    ({"WAYLAND_DISPLAY": "wayland-1"}, []),
    ({"QT_QPA_PLATFORM": "wayland", "WAYLAND_DISPLAY": "wayland-1"}, []),
])
def test_headless_platforms_and_wayland_need_no_x(environ: dict[str, str],
                                                  argv: list[str]) -> None:
    assert missing_display(environ, argv, "linux") is None


def test_windows_and_macos_always_have_a_display() -> None:
    assert missing_display({}, [], "win32") is None
    assert missing_display({}, [], "darwin") is None


def test_asking_for_a_platform_whose_server_is_missing_says_which() -> None:
    problem = missing_display({"QT_QPA_PLATFORM": "wayland"}, [], "linux")
    assert problem is not None and "WAYLAND_DISPLAY is not set" in problem
    problem = missing_display({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "w"}, [], "linux")
    assert problem is not None and "DISPLAY is not set" in problem
    # -platform on the command line wins over the variable
    assert missing_display({"QT_QPA_PLATFORM": "offscreen"}, ["r", "-platform", "xcb"],
                           "linux") is not None


@linux_only
def test_an_x_server_that_answers_passes_and_a_stopped_one_does_not(x_display: str) -> None:
    assert x_server_answers(x_display)
    assert missing_display({"DISPLAY": x_display}, [], "linux") is None
    gone = _free_display()
    assert not x_server_answers(gone)
    problem = missing_display({"DISPLAY": gone}, [], "linux")
    assert problem is not None and f"no X server answers on DISPLAY={gone}" in problem


def test_an_unfamiliar_display_form_is_left_to_qt() -> None:
    assert x_server_answers("/private/tmp/com.apple.launchd.x/org.xquartz:0")


@linux_only
@pytest.mark.parametrize("display", [None, "dead"])
def test_restyle_without_a_display_exits_2_with_one_sentence(tmp_path: Path,
                                                             display: str | None) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
           and not k.startswith("RESTYLE_")}
    env.update(RESTYLE_HOME=str(tmp_path / "home"), PYTHONPATH=str(ROOT))
    if display is not None:
        env["DISPLAY"] = _free_display()
    proc = subprocess.run([sys.executable, "-m", "desktop"], env=env, cwd=ROOT, text=True,
                          capture_output=True, timeout=60)
    assert proc.returncode == EXIT_NO_DISPLAY, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("Restyle cannot open its window")
    assert "QT_QPA_PLATFORM=offscreen" in lines[0] and "xvfb-run" in lines[0]
    assert not (tmp_path / "home").exists()  # refused before anything was set up
