"""Every mode and tool of the compare view as a QAction named `compare.<name>`.

The table below is the single source of the keys: the shortcuts, the tooltips and the
shortcuts help (help.py) are all made from it, so none of them can go stale. Shortcuts live
only while focus is in the compare view (Qt.WidgetWithChildrenShortcut), so the digits and
letters never fight text fields elsewhere in the window; a disabled action lets its key pass
on (review mode's arrows). A disabled action's tooltip says why it is disabled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QWidget

from desktop.ui.compare_view.model import MODE_HINTS, MODE_TITLES, CompareMode

ACTION_PREFIX = "compare."


@dataclass(frozen=True)
class ActionSpec:
    name: str  # "wipe" -> objectName "compare.wipe"
    text: str
    keys: tuple[str, ...]  # portable key sequences; the first is the one tooltips show
    hint: str  # what it does (tooltip, help)
    checkable: bool = False
    #: False: the view reads the key itself (Space in toggle mode must see the release too),
    #: the action only carries it for the tooltip and the help.
    shortcut: bool = True


MODE_SPECS = [ActionSpec(mode.value, text, (key,), MODE_HINTS[mode], checkable=True)
              for mode, (text, key, _name) in MODE_TITLES.items()]

TOOL_SPECS = [
    ActionSpec("grid", "Back to grid", ("Esc",),
               "leave the pair and show every cell of the grid side by side again"),
    ActionSpec("flip", "Flip", ("Space",),
               "show the other picture (tap); held, show it until release", shortcut=False),
    ActionSpec("swap", "Swap A/B", ("X",), "swap the two pictures compared"),
    ActionSpec("previous", "Previous", ("Left",), "the previous output, or the previous cell"),
    ActionSpec("next", "Next", ("Right",), "the next output, or the next cell"),
    ActionSpec("cell_up", "Cell above", ("Up",), "select the cell above in the grid"),
    ActionSpec("cell_down", "Cell below", ("Down",), "select the cell below in the grid"),
    ActionSpec("wipe_left", "Divider left", ("Shift+Left",), "move the wipe divider left"),
    ActionSpec("wipe_right", "Divider right", ("Shift+Right",), "move the wipe divider right"),
    ActionSpec("loupe", "Loupe", ("L",),
               "a magnifier that follows the mouse in every pane at once", checkable=True),
    ActionSpec("loupe_smaller", "Loupe weaker", ("[",), "less magnification (down to 2x)"),
    ActionSpec("loupe_larger", "Loupe stronger", ("]",), "more magnification (up to 8x)"),
    ActionSpec("inspector", "Inspector", ("I",),
               "each pane's RGB and hex under the mouse; a click locks it on a pixel",
               checkable=True),
    ActionSpec("blink", "Blink", ("B",),
               "flip between the two pictures at a steady pace (toggle mode)", checkable=True),
    ActionSpec("fit", "Fit", ("F", "Ctrl+0"), "fit the image in the view"),
    ActionSpec("actual", "1:1", ("Ctrl+1",), "100 %: one image pixel per screen pixel"),
    ActionSpec("zoom_in", "+", ("Ctrl++", "Ctrl+="), "zoom in"),
    ActionSpec("zoom_out", "−", ("Ctrl+-",), "zoom out"),
    ActionSpec("help", "Keys", ("F1", "?"), "list every key of the compare view"),
]

SPECS = MODE_SPECS + TOOL_SPECS


class CompareActions(QObject):
    """The actions of one compare view, added to it (so their keys work inside it only)."""

    def __init__(self, owner: QWidget, handlers: dict[str, Callable[[], None]]) -> None:
        super().__init__(owner)
        self._actions: dict[str, QAction] = {}
        self._specs = {spec.name: spec for spec in SPECS}
        self._remap: dict[str, str] = {}
        self._reasons: dict[str, str] = {}
        self.modes = QActionGroup(self)
        self.modes.setExclusive(True)
        for spec in SPECS:
            action = QAction(spec.text, owner)
            action.setObjectName(ACTION_PREFIX + spec.name)
            action.setCheckable(spec.checkable)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(lambda _c=False, f=handlers[spec.name]: f())
            if spec in MODE_SPECS:
                self.modes.addAction(action)
            owner.addAction(action)
            self._actions[spec.name] = action
        self._apply_keys()

    def __getitem__(self, name: str) -> QAction:
        return self._actions[name]

    def names(self) -> list[str]:
        return list(self._actions)

    def spec(self, name: str) -> ActionSpec:
        return self._specs[name]

    def mode_action(self, mode: CompareMode) -> QAction:
        return self._actions[mode.value]

    def keys(self, name: str) -> list[str]:
        """The keys of an action as the user types them now (after any remapping)."""
        found = [self._remap.get(key, key) for key in self._specs[name].keys]
        return [key for key in found if key]

    def remap(self, keys: dict[str, str]) -> None:
        """Move keys elsewhere, "" drops one (review mode: {"1": "Alt+1", "F": ""})."""
        self._remap.update(keys)
        self._apply_keys()

    def _apply_keys(self) -> None:
        for name, action in self._actions.items():
            if self._specs[name].shortcut:
                action.setShortcuts([QKeySequence(key) for key in self.keys(name)])
            self._update_tip(name)

    def set_state(self, name: str, enabled: bool, reason: str = "") -> None:
        """Enable an action, or disable it saying why (shown in its tooltip)."""
        action = self._actions[name]
        self._reasons[name] = "" if enabled else reason
        if action.isEnabled() != enabled:
            action.setEnabled(enabled)
        self._update_tip(name)

    def reason(self, name: str) -> str:
        return self._reasons.get(name, "")

    def _update_tip(self, name: str) -> None:
        spec, action = self._specs[name], self._actions[name]
        keys = self.keys(name)
        title = f"{spec.text} ({keys[0]})" if keys else spec.text
        tip = f"{title}: {spec.hint}"
        reason = self._reasons.get(name, "")
        if reason:
            tip += f"\nUnavailable now: {reason}"
        if action.toolTip() != tip:
            action.setToolTip(tip)


def key_text(key: str) -> str:
    """A key as the user's platform writes it ("Ctrl++" -> "Ctrl++", "Esc" -> "Esc")."""
    return QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText) or key
