"""Crash reports: an error nothing caught (main thread, a worker thread, an asyncio task nobody
awaited) becomes a private file in the log folder with the traceback and the versions, never
with a key, and the user gets one sentence naming the file."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import threading
from pathlib import Path

import pytest

from desktop import __version__, crash_reports
from desktop.core.permissions import enforced
from desktop.core.redaction import forget_secret, register_secret

KEY = "sk-live-4f9a2b7c1d0e8f6a5b3c"


def _raise(message: str) -> crash_reports.ExcInfo:
    try:
        raise ValueError(message)
    except ValueError:
        info = sys.exc_info()
    assert info[0] is not None and info[1] is not None
    return info  # type: ignore[return-value]


@pytest.fixture
def reporter(tmp_path: Path) -> crash_reports.CrashReporter:
    said: list[str] = []
    reporter = crash_reports.CrashReporter(tmp_path / "logs", said.append)
    reporter.said = said  # type: ignore[attr-defined]
    return reporter


def test_a_report_holds_the_traceback_and_versions_but_no_key(
        reporter: crash_reports.CrashReporter) -> None:
    register_secret(KEY)
    try:
        path = reporter.report(
            _raise(f"provider said no to {KEY} (api_key=unregistered-secret-99)"), "main thread")
    finally:
        forget_secret(KEY)
    assert path is not None and path.parent == reporter.folder
    assert path.name.startswith("crash-") and path.suffix == ".txt"
    text = path.read_text(encoding="utf-8")
    assert KEY not in text and "unregistered-secret-99" not in text
    assert "[REDACTED]" in text
    assert "Traceback (most recent call last)" in text and "ValueError" in text
    assert "_raise" in text  # the frame it came from
    for line in (f"Restyle: {__version__}", "Python: ", "PySide6: ", "Pillow: ", "Platform: ",
                 "Where: main thread", "Time: "):
        assert line in text, line
    if enforced():
        assert path.stat().st_mode & 0o777 == 0o600
    said = reporter.said  # type: ignore[attr-defined]
    assert len(said) == 1 and str(path) in said[0]
    assert "Traceback" not in said[0] and "\n" not in said[0]


def test_qt_versions_are_named_once_qt_is_loaded() -> None:
    from PySide6 import QtCore

    found = crash_reports.versions()
    assert found["Qt"] == QtCore.qVersion()
    assert found["PySide6"][0].isdigit() and found["Pillow"][0].isdigit()


def test_uncaught_errors_in_the_main_thread_and_in_threads_are_reported(
        reporter: crash_reports.CrashReporter) -> None:
    reporter.install()
    try:
        sys.excepthook(*_raise("qzx-main-fault"))
        thread = threading.Thread(target=lambda: 1 / 0, name="decoder")
        thread.start()
        thread.join()
    finally:
        reporter.uninstall()
    assert sys.excepthook is not reporter._sys_hook
    texts = [p.read_text(encoding="utf-8") for p in reporter.written]
    assert len(texts) == 2
    assert "qzx-main-fault" in texts[0] and "Where: main thread" in texts[0]
    assert "ZeroDivisionError" in texts[1] and "Where: thread decoder" in texts[1]


def test_a_task_error_nobody_awaited_is_reported(reporter: crash_reports.CrashReporter) -> None:
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(reporter.loop_handler)

    async def fails() -> None:
        raise RuntimeError("qzx-task-fault")

    try:
        task = loop.create_task(fails())
        loop.run_until_complete(asyncio.wait([task]))
        del task
        gc.collect()  # the task's __del__ says "Task exception was never retrieved"
    finally:
        loop.close()
    assert len(reporter.written) == 1
    text = reporter.written[0].read_text(encoding="utf-8")
    assert "qzx-task-fault" in text and "Task exception was never retrieved" in text


def test_other_loop_messages_keep_the_default_handler(
        reporter: crash_reports.CrashReporter, caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.new_event_loop()
    try:
        reporter.loop_handler(loop, {"message": "Fatal error on transport",
                                     "exception": ConnectionResetError("peer went away")})
    finally:
        loop.close()
    assert reporter.written == []
    assert "Fatal error on transport" in caplog.text


def test_one_session_writes_a_few_reports_and_the_folder_keeps_the_newest(
        reporter: crash_reports.CrashReporter, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(crash_reports.PER_SESSION + 3):
        reporter.report(_raise(f"qzx-again-{i}"), "main thread")
    assert len(reporter.written) == crash_reports.PER_SESSION
    monkeypatch.setattr(crash_reports, "KEEP", 3)
    for i in range(5):
        crash_reports.write_report(reporter.folder, _raise(f"qzx-later-{i}"), "main thread")
    left = sorted(reporter.folder.glob("crash-*.txt"))
    assert len(left) == 3
    assert any("qzx-later-4" in p.read_text(encoding="utf-8") for p in left)


def test_a_report_that_cannot_be_written_does_not_raise(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the log folder should be")
    said: list[str] = []
    reporter = crash_reports.CrashReporter(blocked, said.append)
    assert reporter.report(_raise("qzx-nowhere"), "main thread") is None
    assert os.path.isfile(blocked)
    assert len(said) == 1 and "could not save a report" in said[0] and str(blocked) in said[0]
