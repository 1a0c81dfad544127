"""The Help menu: Keyboard shortcuts, Open log folder, About Restyle.

The shortcuts list is made from the window's own QActions each time it opens, so a key added,
changed or removed anywhere shows as it is; the compare view's keys, which work only while it
has the focus, are in its own help (F1 there), which a button here opens.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.permissions import private_dir
from desktop.ui.keys_table import KeysTable

#: The compare view's actions are named "compare.<name>" (compare_view/actions.py).
COMPARE_PREFIX = "compare."


def _plain(text: str) -> str:
    """A menu text without its mnemonic ampersand and trailing dots."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").rstrip(".")


def _menu_titles(window: QMainWindow) -> dict[int, str]:
    """id(action) -> "File", "View > Panels", ... for every action in the menu bar."""
    found: dict[int, str] = {}

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            sub = action.menu()
            if isinstance(sub, QMenu):
                walk(sub, f"{path} > {_plain(sub.title())}")
            else:
                found.setdefault(id(action), path)

    for action in window.menuBar().actions():
        menu = action.menu()
        if isinstance(menu, QMenu):
            walk(menu, _plain(menu.title()))
    return found


def shortcut_rows(window: QMainWindow) -> list[tuple[str, str, str]]:
    """(keys, action, menu) for every action of the window that has a key, in menu order."""
    menus = _menu_titles(window)
    order = list(menus)
    rows: list[tuple[int, str, str, str]] = []
    seen: set[int] = set()
    for action in window.findChildren(QAction):
        if id(action) in seen or action.objectName().startswith(COMPARE_PREFIX):
            continue
        seen.add(id(action))
        keys = [k for k in action.shortcuts() if not k.isEmpty()]
        if not keys or not action.text():
            continue
        text = " or ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys)
        menu = menus.get(id(action), "Window")
        rank = order.index(id(action)) if id(action) in menus else len(order)
        rows.append((rank, text, _plain(action.text()), menu))
    rows.sort(key=lambda row: row[0])
    return [(keys, name, menu) for _rank, keys, name, menu in rows]


class ShortcutsDialog(QDialog):
    """Every key of the window, from its actions; a button opens the compare view's keys."""

    def __init__(self, window: QMainWindow, open_compare_keys: Callable[[], object]) -> None:
        super().__init__(window)
        self.setObjectName("keyboardShortcutsDialog")
        self.setWindowTitle("Keyboard shortcuts")
        self.setModal(False)
        self._window = window
        layout = QVBoxLayout(self)
        self.table = KeysTable(["Key", "Does", "Menu"], "keyboardShortcutsTable", self)
        layout.addWidget(self.table, 1)
        note = QLabel("The compare view has keys of its own (modes, loupe, zoom...) that work "
                      "while it has the focus: press F1 there, or use the button below.")
        note.setWordWrap(True)
        layout.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.compare_button = QPushButton("Compare view keys…", self)
        self.compare_button.setObjectName("compareKeysButton")
        self.compare_button.clicked.connect(open_compare_keys)
        buttons.addButton(self.compare_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        self.resize(560, 560)
        self.refresh()

    def refresh(self) -> None:
        self.table.set_rows(shortcut_rows(self._window))

    def rows(self) -> list[tuple[str, str, str]]:
        return self.table.texts()  # type: ignore[return-value]


class AboutDialog(QDialog):
    """The versions of Restyle and what it runs on, selectable for a bug report."""

    def __init__(self, parent: QWidget, app_name: str, versions: dict[str, str]) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle(f"About {app_name}")
        layout = QVBoxLayout(self)
        title = QLabel(f"<b>{app_name}</b>: run and compare generative image jobs.")
        layout.addWidget(title)
        form = QFormLayout()
        self.values: dict[str, QLabel] = {}
        for name, value in versions.items():
            label = QLabel(value)
            label.setObjectName(f"aboutVersion_{name}")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{name}:", label)
            self.values[name] = label
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)


class HelpMenu(QObject):
    """Adds the Help menu (last in the menu bar) to `window` and does what it offers."""

    def __init__(self, window: QMainWindow, *, app_name: str, log_dir: Path,
                 versions: Callable[[], dict[str, str]],
                 open_compare_keys: Callable[[], object]) -> None:
        super().__init__(window)
        self.window = window
        self.app_name = app_name
        self.log_dir = log_dir
        self._versions = versions
        self._open_compare_keys = open_compare_keys
        self.shortcuts_dialog: ShortcutsDialog | None = None
        self.about_dialog: AboutDialog | None = None
        self.menu = window.menuBar().addMenu("&Help")
        self.menu.setObjectName("helpMenu")
        self.shortcuts_action = self._add("&Keyboard shortcuts", "keyboardShortcutsAction",
                                          self.show_shortcuts, "Ctrl+/")
        self.log_folder_action = self._add("Open &log folder", "openLogFolderAction",
                                           self.open_log_folder)
        self.menu.addSeparator()
        self.about_action = self._add(f"&About {app_name}", "aboutAction", self.show_about)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)

    def _add(self, text: str, name: str, slot: Callable[[], object],
             key: str | None = None) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(name)
        if key:
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.window.addAction(action)
        action.triggered.connect(lambda _checked=False: slot())
        self.menu.addAction(action)
        return action

    def show_shortcuts(self) -> ShortcutsDialog:
        if self.shortcuts_dialog is None:
            self.shortcuts_dialog = ShortcutsDialog(self.window, self._open_compare_keys)
        self.shortcuts_dialog.refresh()
        self.shortcuts_dialog.show()
        self.shortcuts_dialog.raise_()
        return self.shortcuts_dialog

    def show_about(self) -> AboutDialog:
        if self.about_dialog is None:
            self.about_dialog = AboutDialog(self.window, self.app_name, self._versions())
        self.about_dialog.show()
        self.about_dialog.raise_()
        return self.about_dialog

    def open_log_folder(self) -> bool:
        """Open the log folder (crash reports are there too) in the file manager; says so in
        the status bar when the system has no way to open it."""
        private_dir(self.log_dir)
        opened = QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.log_dir)))
        if not opened:
            self.window.statusBar().showMessage(
                f"Could not open the log folder: no file manager answered. It is "
                f"{self.log_dir}.", 15000)
        return bool(opened)
