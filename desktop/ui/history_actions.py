"""The history panel's actions: their keys and tooltips, the compact toolbar buttons and the
list's context menu, and the two ways into the compare view's grid ("Compare selected" for
several jobs, "Compare with other providers" for one).

The panel owns the slots (what an action does to a job); this module only builds and offers
them, so the panel stays about the list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QToolButton

if TYPE_CHECKING:
    from desktop.ui.history_view import HistoryPanel

COMPARE_SELECTED_KEY = "Ctrl+G"
COMPARE_PROVIDERS_KEY = "Ctrl+Shift+G"


def make_action(panel: HistoryPanel, name: str, text: str, slot: Callable[[], None],
                shortcut: str | None = None, tip: str = "") -> QAction:
    action = QAction(text, panel)
    action.setObjectName(name)
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    action.setToolTip(tip or text)
    action.triggered.connect(slot)
    panel.addAction(action)
    return action


def build_actions(panel: HistoryPanel) -> None:
    """The panel's actions, as attributes of the panel (open_action, rerun_action, …)."""
    panel.open_action = make_action(panel, "historyOpen", "Open", panel._open_current, None,
                                    "Show in the compare view (Enter)")
    panel.rerun_action = make_action(panel, "historyRerun", "Re-run", panel._rerun_current,
                                     "Ctrl+R", "Run the same job again (Ctrl+R)")
    panel.reuse_action = make_action(panel, "historyReuse", "Reuse parameters",
                                     panel._reuse_current, "Ctrl+U",
                                     "Put this job's inputs and parameters in the form"
                                     " (Ctrl+U)")
    panel.favorite_action = make_action(panel, "historyFavorite", "Favourite",
                                        panel._toggle_favorite_current, "Ctrl+D",
                                        "Mark or unmark as favourite (Ctrl+D)")
    panel.favorite_action.setCheckable(True)
    panel.delete_action = make_action(panel, "historyDelete", "Delete…", panel._delete_current,
                                      None, "Delete this job and its files (Delete)")
    panel.reveal_action = make_action(panel, "historyReveal", "Reveal in file manager",
                                      panel._reveal_current, "Ctrl+Shift+E",
                                      "Open the folder holding the result file"
                                      " (Ctrl+Shift+E)")
    panel.copy_path_action = make_action(panel, "historyCopyPath", "Copy file path",
                                         panel._copy_path_current, "Ctrl+Shift+C",
                                         "Copy the result file's path (Ctrl+Shift+C)")
    panel.compare_selected_action = make_action(
        panel, "historyCompareSelected", "Compare selected", panel._compare_selected,
        COMPARE_SELECTED_KEY,
        "Open the selected jobs, made from the same photos, as one grid with the before "
        f"({COMPARE_SELECTED_KEY})")
    panel.compare_providers_action = make_action(
        panel, "historyCompareProviders", "Compare with other providers",
        panel._compare_providers_current, COMPARE_PROVIDERS_KEY,
        "Open every succeeded job of this task made from the same photos as a grid "
        f"({COMPARE_PROVIDERS_KEY})")
    # Enter and Delete belong to the list only (the search field keeps its own keys).
    panel.open_action.setShortcuts([QKeySequence(Qt.Key.Key_Return),
                                    QKeySequence(Qt.Key.Key_Enter)])
    panel.delete_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
    for action in (panel.open_action, panel.delete_action):
        panel.removeAction(action)
        panel.view.addAction(action)
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
    # Ctrl+F is the window's (it calls focus_search); a second binding here would make
    # the shortcut ambiguous while the panel has focus.


def tool_button(panel: HistoryPanel, action: QAction, text: str, name: str) -> QToolButton:
    """A compact button for an action: short text, the action's tooltip and state (not
    setDefaultAction, which would show the action's long menu text)."""
    button = QToolButton(panel)
    button.setText(text)
    button.setObjectName(name)
    button.setToolTip(action.toolTip())
    button.setAccessibleName(action.text().rstrip("…"))
    button.setAutoRaise(True)
    button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
    button.clicked.connect(action.trigger)
    button.setEnabled(action.isEnabled())
    action.enabledChanged.connect(button.setEnabled)
    return button


def show_context_menu(panel: HistoryPanel, pos: QPoint) -> None:
    """The list's menu at `pos`: a click outside the selection makes that row the selection
    (as in a file manager); a click inside keeps a multi-selection, so "Compare selected"
    acts on it."""
    view = panel.view
    index = view.indexAt(pos)
    if index.isValid() and not view.selectionModel().isSelected(index):
        view.setCurrentIndex(index)
    elif index.isValid():
        view.selectionModel().setCurrentIndex(index, view.selectionModel().SelectionFlag.NoUpdate)
    if not panel.current_job_id():
        return
    menu = QMenu(panel)
    menu.setObjectName("historyMenu")
    menu.addAction(panel.open_action)
    if len(panel.selected_job_ids()) > 1:
        menu.addAction(panel.compare_selected_action)
    menu.addAction(panel.compare_providers_action)
    menu.addAction(panel.rerun_action)
    menu.addAction(panel.reuse_action)
    menu.addSeparator()
    menu.addAction(panel.favorite_action)
    menu.addAction(panel.reveal_action)
    menu.addAction(panel.copy_path_action)
    if panel.export_menu is not None:
        menu.addSeparator()
        menu.addActions(panel.export_menu.actions())
    menu.addSeparator()
    menu.addAction(panel.delete_action)
    menu.aboutToHide.connect(menu.deleteLater)
    panel._menu = menu
    menu.popup(view.viewport().mapToGlobal(pos))
