"""The hand-over between a second `restyle` and the running window: the server name per user
and data folder, a request delivered and answered, bad messages logged and refused, a stale
socket of a crashed window replaced, and a window that holds the name but does not answer."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.open_request import VERSION, OpenRequest, encode_request
from desktop.single_instance import (
    DELIVERED_OPEN,
    DELIVERED_RAISE,
    HandOver,
    InstanceServer,
    Outcome,
    hand_over,
    server_name,
)


def test_the_name_is_per_user_and_per_data_folder(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    a, b = tmp_path / "a" / "config", tmp_path / "b" / "config"
    assert server_name(a, "ann") == server_name(a, "ann")
    assert server_name(a, "ann").startswith("restyle-")
    assert len({server_name(a, "ann"), server_name(b, "ann"), server_name(a, "bob")}) == 3
    runtime = tmp_path / "run"
    runtime.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    in_runtime = server_name(a, "ann")
    assert Path(in_runtime).parent == runtime  # the user's private folder, where there is one


@pytest.fixture
def name(tmp_path: Path) -> str:
    return str(tmp_path / "restyle.sock")


@pytest.fixture
def server(qapp: Any, name: str) -> Iterator[InstanceServer]:
    made = InstanceServer(name)
    yield made
    made.close()
    made.deleteLater()


def in_thread(call: Callable[[], Any]) -> Callable[[], Any]:
    """Run a blocking client in a thread while the test pumps Qt events; returns a getter."""
    box: list[Any] = []
    thread = threading.Thread(target=lambda: box.append(call()), daemon=True)
    thread.start()

    def result(wait: float = 0) -> Any:
        """The call's value, None while it runs (`wait`: seconds to give it to finish)."""
        thread.join(wait)
        return box[0] if box else None
    return result


def raw_exchange(name: str, data: bytes) -> Callable[[], Any]:
    def talk() -> bytes:
        with socket.socket(socket.AF_UNIX) as client:
            client.settimeout(10)
            client.connect(name)
            client.sendall(data)
            answer = b""
            while not answer.endswith(b"\n"):
                chunk = client.recv(4096)
                if not chunk:
                    break
                answer += chunk
            return answer
    return in_thread(talk)


def test_a_request_is_delivered_answered_and_kept_until_the_window_is_ready(
        server: InstanceServer, name: str, qtbot: Any) -> None:
    assert server.listen() and server.is_listening()
    assert Path(name).stat().st_mode & 0o077 == 0  # the user's own: no one else connects
    request = OpenRequest(("/photos/person.png", "/photos/shirt.png"), "garment")
    result = in_thread(lambda: hand_over(name, request))
    qtbot.waitUntil(lambda: result() is not None, timeout=10_000)
    assert result() == HandOver(Outcome.DELIVERED, DELIVERED_OPEN)
    assert result().exit_code == 0
    got: list[OpenRequest] = []
    server.set_handler(got.append)  # the window got ready after the request came
    assert got == [request]
    raised = in_thread(lambda: hand_over(name, OpenRequest(kind="raise")))
    qtbot.waitUntil(lambda: raised() is not None, timeout=10_000)
    assert raised() == HandOver(Outcome.DELIVERED, DELIVERED_RAISE)
    assert got == [request, OpenRequest(kind="raise")]


@pytest.mark.parametrize("line", [
    b"{not json}\n",
    json.dumps({"v": VERSION + 1, "kind": "open", "files": ["/a.png"]}).encode() + b"\n",
    json.dumps({"v": VERSION, "kind": "open", "files": ["a.png"]}).encode() + b"\n",
])
def test_bad_messages_are_logged_refused_and_never_opened(
        server: InstanceServer, name: str, qtbot: Any, line: bytes,
        caplog: pytest.LogCaptureFixture) -> None:
    got: list[OpenRequest] = []
    server.set_handler(got.append)
    assert server.listen()
    with caplog.at_level(logging.INFO, "desktop.single_instance"):
        answer = raw_exchange(name, line)
        qtbot.waitUntil(lambda: answer() is not None, timeout=10_000)
    reply = json.loads(answer())
    assert reply["v"] == VERSION and reply["ok"] is False
    assert reply["error"].startswith("The request could not be read (")
    assert got == []
    assert "Ignored a message from another restyle process" in caplog.text


def test_a_message_too_long_is_refused_without_waiting_for_its_end(
        server: InstanceServer, name: str, qtbot: Any) -> None:
    got: list[OpenRequest] = []
    server.set_handler(got.append)
    assert server.listen()
    answer = raw_exchange(name, b"x" * (1 << 20) + b"y" * 100)  # no newline at all
    qtbot.waitUntil(lambda: answer() is not None, timeout=10_000)
    assert json.loads(answer())["ok"] is False and got == []


def test_no_window_is_not_running(name: str, qapp: Any) -> None:
    began = time.monotonic()
    assert hand_over(name, OpenRequest(("/a.png",))) == HandOver(Outcome.NOT_RUNNING)
    assert HandOver(Outcome.NOT_RUNNING).exit_code is None
    assert time.monotonic() - began < 2


def test_a_stale_socket_of_a_crashed_window_is_replaced(
        server: InstanceServer, name: str, qtbot: Any,
        caplog: pytest.LogCaptureFixture) -> None:
    crashed = socket.socket(socket.AF_UNIX)
    crashed.bind(name)  # the file stays, nobody listens: what a killed window leaves
    crashed.close()
    assert Path(name).exists()
    assert hand_over(name, OpenRequest(("/a.png",))).outcome == Outcome.NOT_RUNNING
    with caplog.at_level(logging.INFO, "desktop.single_instance"):
        assert server.listen()
    assert "Removed the hand-over socket" in caplog.text
    result = in_thread(lambda: hand_over(name, OpenRequest(("/a.png",))))
    qtbot.waitUntil(lambda: result() is not None, timeout=10_000)
    assert result().outcome == Outcome.DELIVERED


def test_a_window_that_does_not_answer_lets_a_new_one_start(
        server: InstanceServer, name: str, qtbot: Any) -> None:
    stuck = socket.socket(socket.AF_UNIX)
    stuck.bind(name)
    stuck.listen(8)  # accepts connections (the kernel does) but never reads or answers
    try:
        began = time.monotonic()
        result = hand_over(name, OpenRequest(("/a.png",)), connect_ms=500, answer_ms=700)
        assert 0.6 < time.monotonic() - began < 3
        assert result.outcome == Outcome.NO_ANSWER and result.exit_code is None
        assert result.sentence == (
            "A Restyle window is running for this data folder but did not answer within 0.7 "
            "seconds (it may be busy or stuck); starting another window.")
        assert not server.listen()  # the stuck one keeps its name; nothing is removed
        assert Path(name).exists()
    finally:
        stuck.close()


def test_a_refusal_is_reported_with_the_windows_reason(name: str, qapp: Any) -> None:
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(name)
    listener.listen(1)

    def serve() -> bytes:
        conn, _ = listener.accept()
        with conn:
            data = conn.recv(65536)
            conn.sendall(json.dumps({"v": VERSION, "ok": False,
                                     "error": "It is busy."}).encode() + b"\n")
            return data

    received = in_thread(serve)
    try:
        result = hand_over(name, OpenRequest(("/a.png",)))
    finally:
        listener.close()
    assert result == HandOver(Outcome.REFUSED, "The running Restyle window did not take the "
                              "files: It is busy. Close that window and start Restyle again.")
    assert result.exit_code == 2
    # the fake window returns after its answer is sent: give its thread time to end
    assert received(10) == encode_request(OpenRequest(("/a.png",)))
