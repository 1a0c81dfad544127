"""The compare view's two toolbar rows.

Row one: the six modes as a segmented row of buttons (they keep their old objectNames
compareMode*) and the zoom cluster. Row two wraps onto more lines in a narrow window (a flow
layout): the tools (loupe, inspector, blink and its interval, swap, keys) and the current
mode's settings (difference: threshold, misalignment tolerance, heat opacity; blend: opacity;
structure: threshold and the service's furniture mask). Every button shows an action from
actions.py, so a button and its key always agree.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.compare import DEFAULT_THRESHOLD
from desktop.ui.compare_view.actions import CompareActions
from desktop.ui.compare_view.model import MODE_TITLES
from desktop.ui.flow_layout import FlowLayout

TOLERANCES = ((0, "off"), (1, "1 px"), (2, "2 px"), (4, "4 px"))
DEFAULT_BLEND = 50  # percent
DEFAULT_HEAT_OPACITY = 85  # percent
DEFAULT_BLINK_MS = 500


def _group(parent: QWidget, *widgets: QWidget) -> QWidget:
    """Widgets kept on one line of the flow layout."""
    box = QWidget(parent)
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(2)
    for widget in widgets:
        row.addWidget(widget)
    return box


def _separator(parent: QWidget) -> QFrame:
    line = QFrame(parent)
    line.setFrameShape(QFrame.Shape.VLine)
    line.setFrameShadow(QFrame.Shadow.Sunken)
    line.setFixedHeight(20)
    return line


class CompareToolbar(QWidget):
    def __init__(self, actions: CompareActions, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("compareToolbar")
        self._actions = actions
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 0)
        outer.setSpacing(2)
        outer.addLayout(self._mode_row())
        self.tools = QWidget(self)
        self.tools.setObjectName("compareTools")
        flow = FlowLayout(self.tools, spacing=4)
        for widget in self._tool_widgets():
            flow.addWidget(widget)
        outer.addWidget(self.tools)

    def button(self, action: QAction, name: str, accessible: str = "") -> QToolButton:
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setObjectName(name)
        button.setAccessibleName(accessible or action.text())
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        return button

    def _mode_row(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.setSpacing(2)
        self.mode_buttons: dict[str, QToolButton] = {}
        segment = QFrame(self)
        segment.setObjectName("compareModes")
        segment.setFrameShape(QFrame.Shape.StyledPanel)
        row = QHBoxLayout(segment)
        row.setContentsMargins(1, 1, 1, 1)
        row.setSpacing(0)
        for mode, (text, _key, name) in MODE_TITLES.items():
            button = self.button(self._actions.mode_action(mode), name,
                                 f"{text} compare mode")
            row.addWidget(button)
            self.mode_buttons[mode.value] = button
        bar.addWidget(segment)
        bar.addStretch(1)
        a = self._actions
        self.zoom_out = self.button(a["zoom_out"], "compareZoomOut", "Zoom out")
        self.zoom_in = self.button(a["zoom_in"], "compareZoomIn", "Zoom in")
        self.fit = self.button(a["fit"], "compareFit", "Fit the image in the view")
        self.actual = self.button(a["actual"], "compareActual", "Zoom to 100 percent")
        self.zoom_label = QLabel("100 %", self)
        self.zoom_label.setObjectName("compareZoomLabel")
        self.zoom_label.setAccessibleName("Zoom level")
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.zoom_label.setMinimumWidth(
            self.zoom_label.fontMetrics().horizontalAdvance("10000 %") + 8)
        for widget in (self.zoom_out, self.zoom_label, self.zoom_in):
            bar.addWidget(widget)
        bar.addSpacing(8)
        bar.addWidget(self.fit)
        bar.addWidget(self.actual)
        return bar

    def _tool_widgets(self) -> list[QWidget]:
        a = self._actions
        self.loupe = self.button(a["loupe"], "compareLoupe")
        self.inspector = self.button(a["inspector"], "compareInspector")
        self.blink = self.button(a["blink"], "compareBlink")
        self.blink_interval = QSpinBox(self)
        self.blink_interval.setObjectName("compareBlinkInterval")
        self.blink_interval.setAccessibleName("Blink interval in milliseconds")
        self.blink_interval.setRange(100, 5000)
        self.blink_interval.setSingleStep(50)
        self.blink_interval.setValue(DEFAULT_BLINK_MS)
        self.blink_interval.setSuffix(" ms")
        self.blink_interval.setToolTip("Time each picture shows while blinking (100-5000 ms)")
        self.swap = self.button(a["swap"], "compareSwap", "Swap the two pictures")
        self.help = self.button(a["help"], "compareHelp", "Show the keys of the compare view")

        self.threshold = QSpinBox(self)
        self.threshold.setObjectName("compareThreshold")
        self.threshold.setAccessibleName("Difference threshold")
        self.threshold.setPrefix("Threshold ")
        self.threshold.setRange(0, 254)
        self.threshold.setValue(DEFAULT_THRESHOLD)
        self.threshold.setToolTip(
            "A pixel counts as changed when a channel differs by more than this (0-254)")
        self.tolerance = QComboBox(self)
        self.tolerance.setObjectName("compareTolerance")
        self.tolerance.setAccessibleName("Ignore misalignment")
        for pixels, text in TOLERANCES:
            self.tolerance.addItem(f"Ignore misalignment: {text}", pixels)
        self.tolerance.setToolTip("Count a pixel as unchanged when the same colour is within "
                                  "this many pixels in the other picture (a slightly shifted "
                                  "render)")
        self.heat_opacity = self._slider("compareHeatOpacity", "Heat map opacity",
                                         DEFAULT_HEAT_OPACITY,
                                         "How strongly the heat colours cover the picture")
        self.heat_label = QLabel(self)
        self.blend_opacity = self._slider("compareBlendOpacity", "Blend opacity",
                                          DEFAULT_BLEND,
                                          "0 %: only A; 100 %: only B; between: B over A")
        self.blend_label = QLabel(self)
        self.ask_mask = QPushButton(self)
        self.ask_mask.setObjectName("compareAskMask")
        self.ask_mask.setToolTip("Ask the service for its furniture mask of the before image: "
                                 "more exact than the local estimate")
        self.ask_mask.hide()

        self.blink_group = _group(self, self.blink, self.blink_interval)
        self.heat_group = _group(self, self.heat_label, self.heat_opacity)
        self.blend_group = _group(self, self.blend_label, self.blend_opacity)
        self.options_separator = _separator(self)
        return [self.loupe, self.inspector, self.blink_group, self.swap, self.help,
                self.options_separator, self.threshold, self.tolerance, self.heat_group,
                self.blend_group, self.ask_mask]

    def _slider(self, name: str, accessible: str, value: int, tip: str) -> QSlider:
        slider = QSlider(Qt.Orientation.Horizontal, self)
        slider.setObjectName(name)
        slider.setAccessibleName(accessible)
        slider.setRange(0, 100)
        slider.setValue(value)
        slider.setPageStep(10)
        slider.setFixedWidth(120)
        slider.setToolTip(tip)
        slider.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        return slider

    def show_options(self, *, difference: bool, blend: bool, structure: bool) -> None:
        """Only the settings of the mode shown."""
        self.threshold.setVisible(difference or structure)
        self.tolerance.setVisible(difference)
        self.heat_group.setVisible(difference)
        self.blend_group.setVisible(blend)
        self.options_separator.setVisible(difference or blend or structure)
        self.heat_label.setText(f"Heat {self.heat_opacity.value()} %")
        self.blend_label.setText(f"Blend {self.blend_opacity.value()} %")
        self.tools.updateGeometry()
