"""One Restyle window per user and data folder: a second `restyle FILE...` hands its files to the
window already running (QLocalServer / QLocalSocket) and exits, instead of opening another window
on the same history.

- The server name is a hash of the user and Restyle's config folder, so every user, and every
  RESTYLE_HOME (tests use temporary ones), has its own; on Linux the socket lives in the user's
  private XDG_RUNTIME_DIR when there is one, else in Qt's temporary folder, readable by its user
  only (QLocalServer.UserAccessOption).
- A socket left behind by a window that crashed is removed when nothing answers on it
  (QLocalServer.removeServer), and the new window serves in its place.
- A window that accepts the connection but does not answer within ANSWER_MS does not keep a new
  one from starting: the new one says why and starts normally (without serving: the silent one
  still holds the name).
- The messages are versioned JSON lines (desktop/open_request.py); what does not validate is
  logged and answered with an error, never opened.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from PySide6.QtCore import QDir, QObject, QTimer
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from desktop.open_request import (
    MAX_LINE,
    OpenRequest,
    ProtocolError,
    decode_answer,
    decode_request,
    encode_answer,
    encode_request,
)

log = logging.getLogger(__name__)

#: How long a second `restyle` waits to reach a running window, and then for its answer.
CONNECT_MS = 2000
ANSWER_MS = 5000
SLICE_MS = 50
#: A connection that has not sent its request by then is dropped.
IDLE_MS = 10_000

DELIVERED_OPEN = "Opened in the running Restyle window."
DELIVERED_RAISE = "Restyle is already running; its window was brought to the front."


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container): the number will do
        return str(os.getuid()) if hasattr(os, "getuid") else "user"


def server_name(root: Path, user: str | None = None) -> str:
    """The local server name for Restyle's folder `root` (its config folder) and the user."""
    key = f"{user if user is not None else _user()}\0{Path(root).resolve()}"
    name = "restyle-" + hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if sys.platform.startswith("linux") and runtime and os.path.isdir(runtime) \
            and os.access(runtime, os.W_OK) and len(runtime) + len(name) < 100:
        return os.path.join(runtime, name)  # private to the user (0700)
    return name


class Outcome(Enum):
    NOT_RUNNING = "not running"  # start a window (and serve)
    DELIVERED = "delivered"  # the running window took the request: exit 0
    NO_ANSWER = "no answer"  # a window holds the name but did not answer: start one anyway
    REFUSED = "refused"  # the running window refused the request: exit 2


@dataclass(frozen=True)
class HandOver:
    outcome: Outcome
    sentence: str = ""

    @property
    def exit_code(self) -> int | None:
        """How the second `restyle` exits; None when it goes on to open a window."""
        return {Outcome.DELIVERED: 0, Outcome.REFUSED: 2}.get(self.outcome)


def hand_over_and_say(name: str, request: OpenRequest) -> HandOver:
    """`hand_over`, its sentence printed: on stdout when the files were handed over, else on
    stderr (why a window starts anyway, or why the running one refused)."""
    handed = hand_over(name, request)
    if handed.sentence:
        stream = sys.stdout if handed.outcome == Outcome.DELIVERED else sys.stderr
        print(handed.sentence, file=stream, flush=True)
    return handed


def hand_over(name: str, request: OpenRequest, *, connect_ms: int = CONNECT_MS,
              answer_ms: int = ANSWER_MS) -> HandOver:
    """Give `request` to the window serving `name`, waiting at most about
    connect_ms + answer_ms; what happened, with the sentence to print."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(connect_ms):
        error = socket.error()
        if error == QLocalSocket.LocalSocketError.SocketTimeoutError:
            return HandOver(Outcome.NO_ANSWER, _silent(connect_ms))
        # No server, or a socket a crashed window left (connection refused): the window that
        # starts now removes it when it serves.
        return HandOver(Outcome.NOT_RUNNING)
    try:
        line = _exchange(socket, encode_request(request), answer_ms)
    except ProtocolError as exc:
        log.info("Hand-over: %s", exc)
        return HandOver(Outcome.NO_ANSWER, _silent(answer_ms))
    finally:
        socket.abort()
    try:
        answer = decode_answer(line)
    except ProtocolError as exc:
        log.info("Hand-over: the running window's answer was not understood: %s", exc)
        return HandOver(Outcome.NO_ANSWER,
                        "A Restyle window is running for this data folder but its answer was "
                        "not understood (another version?); starting another window.")
    if not answer.ok:
        why = answer.error.strip() or "no reason given"
        why += "" if why.endswith((".", "!", "?")) else "."
        return HandOver(Outcome.REFUSED,
                        f"The running Restyle window did not take the files: {why} "
                        "Close that window and start Restyle again.")
    sentence = DELIVERED_RAISE if request.kind == "raise" else DELIVERED_OPEN
    return HandOver(Outcome.DELIVERED, sentence)


def _silent(ms: int) -> str:
    return (f"A Restyle window is running for this data folder but did not answer within "
            f"{ms / 1000:g} seconds (it may be busy or stuck); starting another window.")


def _exchange(socket: QLocalSocket, data: bytes, answer_ms: int) -> bytes:
    """Send one line and read one back within answer_ms; ProtocolError when there is none."""
    deadline = time.monotonic() + answer_ms / 1000
    socket.write(data)
    buffer = b""
    while b"\n" not in buffer:
        left = int((deadline - time.monotonic()) * 1000)
        if left <= 0:
            raise ProtocolError(f"no answer within {answer_ms} ms")
        # Short waits: PySide6 holds the GIL in them, and a Python thread may be the other end.
        # waitForReadyRead is False also when the answer came with the close: read anyway.
        if socket.bytesToWrite():
            socket.waitForBytesWritten(min(left, SLICE_MS))
            continue
        socket.waitForReadyRead(min(left, SLICE_MS))
        if not socket.bytesAvailable():
            if socket.state() == QLocalSocket.LocalSocketState.UnconnectedState:
                raise ProtocolError("the window closed the connection without an answer")
            continue
        buffer += bytes(socket.readAll().data())
        if len(buffer) > MAX_LINE:
            raise ProtocolError("the answer is too long")
    return buffer.split(b"\n", 1)[0]


def _answers(name: str, timeout_ms: int = 1000) -> bool:
    """Whether a process accepts connections on `name` (a live window, not a stale socket)."""
    probe = QLocalSocket()
    probe.connectToServer(name)
    try:
        return probe.waitForConnected(timeout_ms)
    finally:
        probe.abort()


def socket_file(name: str) -> Path | None:
    """Where a Unix QLocalServer keeps its socket (None on Windows: named pipes leave none)."""
    if sys.platform == "win32":
        return None
    return Path(name) if os.path.isabs(name) else Path(QDir.tempPath()) / name


class InstanceServer(QObject):
    """The running window's end: takes requests from later `restyle` processes.

    Requests that come before the window is ready wait until `set_handler` is called."""

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_new_connection)
        self._handler: Callable[[OpenRequest], None] | None = None
        self._pending: list[OpenRequest] = []
        self._buffers: dict[QLocalSocket, bytes] = {}

    def listen(self) -> bool:
        """Serve the name; False (logged) when another live window already does, or the system
        refuses. A stale socket of a crashed window is removed first.

        The live check comes first because Qt, asked for user-only access, binds the socket
        elsewhere and renames it into place: it would take the name from a live window."""
        if _answers(self.name):
            log.warning("Another Restyle window serves this data folder; files opened with "
                        "`restyle FILE` go to that one")
            return False
        stale = socket_file(self.name)
        if stale is not None and (stale.exists() or stale.is_symlink()):
            QLocalServer.removeServer(self.name)
            log.info("Removed the hand-over socket a closed Restyle window left behind")
        if self._server.listen(self.name):
            log.info("Serving hand-overs as %s", self.name)
            return True
        log.warning("Cannot serve hand-overs (%s): a second `restyle FILE` will open another "
                    "window", self._server.errorString())
        return False

    def is_listening(self) -> bool:
        return self._server.isListening()

    def set_handler(self, handler: Callable[[OpenRequest], None]) -> None:
        """Where requests go from now on (the ones that came meanwhile first)."""
        self._handler = handler
        pending, self._pending = self._pending, []
        for request in pending:
            handler(request)

    def close(self) -> None:
        self._server.close()
        for socket in list(self._buffers):
            socket.abort()
        self._buffers.clear()

    # -- connections ------------------------------------------------------------------------
    def _on_new_connection(self) -> None:
        while (socket := self._server.nextPendingConnection()) is not None:
            self._buffers[socket] = b""
            socket.readyRead.connect(lambda s=socket: self._on_ready_read(s))
            socket.disconnected.connect(lambda s=socket: self._forget(s))
            QTimer.singleShot(IDLE_MS, socket, socket.abort)

    def _forget(self, socket: QLocalSocket) -> None:
        self._buffers.pop(socket, None)
        socket.deleteLater()

    def _on_ready_read(self, socket: QLocalSocket) -> None:
        if socket not in self._buffers:
            return
        buffer = self._buffers[socket] + bytes(socket.readAll().data())
        self._buffers[socket] = buffer
        if b"\n" not in buffer and len(buffer) <= MAX_LINE:
            return
        del self._buffers[socket]  # one message per connection: the rest is not read
        line = buffer.split(b"\n", 1)[0]
        try:
            request = decode_request(line)
        except ProtocolError as exc:
            log.warning("Ignored a message from another restyle process: %s", exc)
            socket.write(encode_answer(f"The request could not be read ({exc})."))
            socket.disconnectFromServer()
            return
        socket.write(encode_answer())
        socket.disconnectFromServer()
        log.info("Hand-over from another restyle process: %s", request.describe())
        if self._handler is None:
            self._pending.append(request)
        else:
            self._handler(request)
