"""The shortcuts help (F1 or ?): a small non-modal window listing every key of the compare view.

Its rows are made from the view's actions (actions.py) each time it opens, so a key added,
moved or remapped (review mode) shows as it is; the mouse gestures follow.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.compare_view.actions import CompareActions, key_text
from desktop.ui.keys_table import KeysTable

MOUSE_ROWS = (
    ("Wheel", "zoom around the cursor (every pane follows)"),
    ("Drag", "pan; in wipe mode, a drag on the divider moves it"),
    ("Double-click", "100 % at that point, or back to fit"),
    ("Click a cell", "select it: it is compared with the before"),
    ("Ctrl+click a cell", "compare the selected cell with this one (two providers)"),
    ("Shift+wheel", "loupe magnification, while the loupe is on"),
    ("Click", "lock or unlock the inspector on a pixel, while it is on"),
)


def help_rows(actions: CompareActions) -> list[tuple[str, str]]:
    """(keys, what they do) for every action that has a key, then the mouse."""
    rows: list[tuple[str, str]] = []
    for name in actions.names():
        keys = actions.keys(name)
        if not keys:
            continue
        spec = actions.spec(name)
        rows.append((" or ".join(key_text(key) for key in keys), f"{spec.text}: {spec.hint}"))
    return rows + list(MOUSE_ROWS)


class ShortcutsHelp(QDialog):
    def __init__(self, actions: CompareActions, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("compareShortcutsHelp")
        self.setWindowTitle("Compare view keys")
        self.setModal(False)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self._actions = actions
        layout = QVBoxLayout(self)
        intro = QLabel("These keys work while the compare view has the focus (click a picture "
                       "first). A is the first picture of the pair compared, B the second.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = KeysTable(["Key", "Does"], "compareShortcutsTable", self, wrap=True)
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        self.resize(560, 520)
        self.refresh()

    def refresh(self) -> None:
        self.table.set_rows(help_rows(self._actions))

    def rows(self) -> list[tuple[str, str]]:
        return self.table.texts()  # type: ignore[return-value]
