"""Is there a display to open the window on? Asked before QApplication exists: without one, Qt
prints a paragraph about platform plugins and aborts the process (SIGABRT, exit status 134).

On Linux and the BSDs the window needs an X server (DISPLAY) or a Wayland compositor
(WAYLAND_DISPLAY), unless Qt was asked for a platform that draws nowhere (`offscreen`,
`minimal`, `vnc`, the framebuffer ones...) through QT_QPA_PLATFORM or `-platform`. A local X
display (`:0`) is also checked for a server that answers, which catches a DISPLAY left behind
by a stopped Xvfb. Windows and macOS always have a display.

`restyle` prints the sentence on stderr and exits with code 2, the code Restyle uses when it
was started in a way it cannot work with (as for a wrong option).
"""

from __future__ import annotations

import os
import re
import socket
import sys
from collections.abc import Mapping, Sequence

EXIT_NO_DISPLAY = 2

#: Qt platform plugins that need no display server.
HEADLESS_PLATFORMS = frozenset({
    "offscreen", "minimal", "minimalegl", "vnc", "linuxfb", "eglfs", "vkkhrdisplay",
    "directfb", "bsdfb", "webgl",
})

_X_DISPLAY = re.compile(r"^(?P<host>[^:]*):(?P<number>\d+)(\.\d+)?$")

HOW_TO = ("start it from a desktop session, or run it without a screen with "
          "QT_QPA_PLATFORM=offscreen (nothing is shown) or under a virtual X server "
          "(xvfb-run restyle)")


def requested_platform(environ: Mapping[str, str], argv: Sequence[str]) -> str:
    """The platform Qt will be asked for: `-platform NAME` on the command line wins over
    QT_QPA_PLATFORM; "" when neither is given."""
    for i, arg in enumerate(argv):
        if arg in ("-platform", "--platform") and i + 1 < len(argv):
            return argv[i + 1]
        for prefix in ("-platform=", "--platform="):
            if arg.startswith(prefix):
                return arg[len(prefix):]
    return environ.get("QT_QPA_PLATFORM", "")


def x_server_answers(display: str, timeout: float = 2.0) -> bool:
    """False only when DISPLAY names a local X display (`:N`, `unix:N`) whose socket takes
    no connection, or a TCP one that refuses; anything else (ssh forwarding that is slow to
    answer, a form this does not know) is left to Qt."""
    parts = _X_DISPLAY.match(display.strip())
    if parts is None:
        return bool(display.strip())  # launchd's /private/tmp/...:0 and the like
    host, number = parts["host"], int(parts["number"])
    if host in ("", "unix"):
        path = f"/tmp/.X11-unix/X{number}"
        # The file, then Linux's abstract socket of the same name (Xorg and Xvfb listen on both).
        return any(_unix_connects(address, timeout) for address in (path, "\0" + path))
    try:
        with socket.create_connection((host, 6000 + number), timeout=timeout):
            return True
    except ConnectionRefusedError:
        return False
    except OSError:  # a timeout, an unknown host: not sure, let Qt try
        return True


def _unix_connects(address: str, timeout: float) -> bool:
    if not hasattr(socket, "AF_UNIX"):
        return True
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except OSError:
            return False
    return True


def missing_display(environ: Mapping[str, str] | None = None,
                    argv: Sequence[str] | None = None,
                    platform: str | None = None) -> str | None:
    """One sentence saying what is missing and how to run anyway; None when the window can
    open (as far as can be told before Qt tries)."""
    environ = os.environ if environ is None else environ
    argv = sys.argv if argv is None else argv
    platform = sys.platform if platform is None else platform
    if platform.startswith(("win", "darwin", "cygwin")):
        return None
    display = environ.get("DISPLAY", "")
    wayland = environ.get("WAYLAND_DISPLAY", "")
    runtime = environ.get("XDG_RUNTIME_DIR", "")
    # Asked for by name, Wayland's client library falls back to the compositor's usual socket.
    default_wayland = bool(runtime) and os.path.exists(os.path.join(runtime, "wayland-0"))
    requested = requested_platform(environ, argv)
    names = [name.split(":", 1)[0].strip().lower() for name in requested.split(";")
             if name.strip()]
    if any(name in HEADLESS_PLATFORMS for name in names):
        return None
    if any(name.startswith("wayland") for name in names) and (wayland or default_wayland):
        return None
    wants_x = not names or "xcb" in names
    if wants_x and display:
        if x_server_answers(display):
            return None
        return (f"Restyle cannot open its window: no X server answers on DISPLAY={display} "
                f"(was a virtual display stopped?); {HOW_TO}.")
    if not names and wayland:
        return None
    if names and not wants_x and not any(n.startswith("wayland") for n in names):
        return None  # a platform this does not know: Qt says what it needs
    missing = "DISPLAY and WAYLAND_DISPLAY are not set" if not names else (
        f"QT_QPA_PLATFORM or -platform asks for {requested}, but "
        + ("DISPLAY is not set" if wants_x else "WAYLAND_DISPLAY is not set"))
    return f"Restyle cannot open its window: there is no display ({missing}); {HOW_TO}."
