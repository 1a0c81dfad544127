"""Help: Keyboard shortcuts (made from the window's own actions, so it cannot go stale), Open
log folder (where crash reports go) and About Restyle (the versions a bug report needs)."""

from __future__ import annotations

import asyncio
import platform
import threading
from collections.abc import Iterator
from pathlib import Path

import PIL
import pytest
from PySide6 import QtCore
from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QLabel, QMenu, QMessageBox

from desktop import __version__
from desktop.app import RestyleWindow, create_main_window
from desktop.crash_reports import CrashReporter
from desktop.ui.crash_notice import CrashNotice
from desktop.ui.help_menu import shortcut_rows


@pytest.fixture
def window(tmp_path: Path, loop: asyncio.AbstractEventLoop,
           qtbot) -> Iterator[RestyleWindow]:  # type: ignore[no-untyped-def]
    made = create_main_window(tmp_path / "home")
    qtbot.addWidget(made)
    yield made
    loop.run_until_complete(made.aclose())


def _native(key: str) -> str:
    return QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText)


def test_the_help_menu_comes_last_with_its_three_actions(window: RestyleWindow) -> None:
    menus = [a.menu() for a in window.menuBar().actions()]
    assert isinstance(menus[-1], QMenu) and menus[-1].objectName() == "helpMenu"
    names = [a.objectName() for a in menus[-1].actions() if not a.isSeparator()]
    assert names == ["keyboardShortcutsAction", "openLogFolderAction", "aboutAction"]


def test_keyboard_shortcuts_list_every_key_of_the_window(window: RestyleWindow) -> None:
    dialog = window.help_menu.show_shortcuts()
    assert dialog.objectName() == "keyboardShortcutsDialog" and dialog.isVisible()
    rows = dialog.rows()
    assert (_native("Ctrl+E"), "Export", "File") in rows
    assert (_native("Ctrl+Shift+R"), "Review mode", "View") in rows
    assert (_native("Ctrl+/"), "Keyboard shortcuts", "Help") in rows
    assert any(keys.startswith(_native("Ctrl+Return")) and does == "Generate"
               for keys, does, _menu in rows)
    # Every action of the window that has a key is there, and the compare view's are not.
    expected = {a.text().replace("&", "").rstrip("…") for a in window.findChildren(QAction)
                if not a.shortcut().isEmpty() and not a.objectName().startswith("compare.")}
    assert {does for _keys, does, _menu in rows} == expected
    assert not any(does.startswith("Loupe") for _keys, does, _menu in rows)
    # A key added later (a tool, a new feature) shows the next time it opens.
    extra = QAction("Do the new thing", window)
    extra.setShortcut(QKeySequence("Ctrl+Alt+J"))
    window.view_menu.addAction(extra)
    window.help_menu.show_shortcuts()
    assert (_native("Ctrl+Alt+J"), "Do the new thing", "View") in dialog.rows()
    assert dialog.rows() == shortcut_rows(window)


def test_the_compare_view_keys_open_from_the_shortcuts(window: RestyleWindow) -> None:
    dialog = window.help_menu.show_shortcuts()
    dialog.compare_button.click()
    help_box = window.compare_view.findChild(QtCore.QObject, "compareShortcutsHelp")
    assert help_box is not None and help_box.isVisible()


def test_open_log_folder_opens_the_log_folder(window: RestyleWindow,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl",
                        staticmethod(lambda url: opened.append(url) or True))
    window.help_menu.log_folder_action.trigger()
    assert [Path(u.toLocalFile()) for u in opened] == [window.services.paths.log_dir]
    assert window.services.paths.log_dir.is_dir()
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: False))
    assert window.help_menu.open_log_folder() is False
    message = window.statusBar().currentMessage()
    assert "Could not open the log folder" in message and str(window.services.paths.log_dir) \
        in message


def test_about_names_the_versions(window: RestyleWindow) -> None:
    window.help_menu.about_action.trigger()
    about = window.help_menu.about_dialog
    assert about is not None and about.objectName() == "aboutDialog" and about.isVisible()
    shown = {name: label.text() for name, label in about.values.items()}
    assert shown["Restyle"] == __version__
    assert shown["Qt"] == QtCore.qVersion()
    assert shown["Pillow"] == PIL.__version__
    assert shown["Python"].startswith(platform.python_version())
    assert shown["PySide6"][0].isdigit()
    assert about.findChild(QLabel, "aboutVersion_Qt") is not None


def test_a_crash_shows_one_sentence_and_the_log_folder_button(  # type: ignore[no-untyped-def]
        window: RestyleWindow, qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl",
                        staticmethod(lambda url: opened.append(url) or True))
    notice = CrashNotice(window, window.help_menu.open_log_folder)
    reporter = CrashReporter(window.services.paths.log_dir, notice.notify)
    reporter.install()
    try:  # from a worker thread: the sentence reaches the GUI thread through a queued signal
        thread = threading.Thread(target=lambda: {}["a bug"], name="worker")
        thread.start()
        thread.join()
    finally:
        reporter.uninstall()
    assert len(reporter.written) == 1
    path = reporter.written[0]
    qtbot.waitUntil(lambda: notice.box is not None and notice.box.isVisible())
    box = notice.box
    assert isinstance(box, QMessageBox) and box.objectName() == "crashNotice"
    assert str(path) in box.text() and "Traceback" not in box.text()
    box.findChild(QtCore.QObject, "crashNoticeOpenLogs").click()
    assert [Path(u.toLocalFile()) for u in opened] == [window.services.paths.log_dir]
    assert box.isVisible()  # the folder opened, the sentence stays
