"""When the display goes away under a running window (Xvfb stopped, an X session killed).

Qt notices on its next pass over X events: it prints "The X11 connection broke (error 1). Did
the X11 server die?" on every pass and stops its event loop, so the asyncio loop on top of it
(qasync) stops too, before the window closed, and a RuntimeError "Event loop stopped before
Future completed" surfaces from `qasync.run`. Nothing can be drawn any more, and the loop cannot
run the window's asynchronous close. So the app closes what it can without a loop (the layout,
the history, the worker processes; jobs a provider accepted are in the history and resume at
the next start), says so in one sentence on stderr and exits with `EXIT_DISPLAY_LOST`.

Qt's repeated warning goes to the log instead of the terminal (`QtMessages`); every other Qt
message is printed as Qt would print it.
(A Wayland compositor that dies makes Qt end the process itself, with no chance to save.)
"""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import QMessageLogContext, QtMsgType, qFormatLogMessage, qInstallMessageHandler

log = logging.getLogger(__name__)

#: The exit status after the display went away: the window did not close by request and its
#: asynchronous close could not run (1, Qt's own status for a broken X11 connection).
EXIT_DISPLAY_LOST = 1

#: How Qt's X11 platform says its connection to the X server is gone.
X11_BROKE = "The X11 connection broke"

SENTENCE = ("Restyle lost its display (the X server or the desktop session ended), so its "
            "window closed: the layout was saved, and jobs a provider accepted resume at the "
            "next start.")


class QtMessages:
    """Qt's messages as before, except the lost-display warning, which is noted and logged
    once instead of printed on every pass of the event loop."""

    def __init__(self) -> None:
        self.display_lost = False

    def install(self) -> None:
        qInstallMessageHandler(self._handle)

    def uninstall(self) -> None:
        qInstallMessageHandler(None)

    def _handle(self, kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if message.startswith(X11_BROKE):
            if not self.display_lost:
                self.display_lost = True
                log.warning("The display went away: %s", message)
            return
        sys.stderr.write(qFormatLogMessage(kind, context, message) + "\n")
        sys.stderr.flush()
