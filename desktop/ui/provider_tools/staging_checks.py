"""Two checks a staging service makes on photos, in plain words: how much of a room is
furniture (with the mask it found), and whether two photos of a room can be staged together.

The photos are dropped, pasted or browsed into input panes like a job's, and read, checked and
normalised the same way (`JobEngine.prepare_input`) before anything is sent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.core.contract import InputLimits, PreparedInput
from desktop.core.provider_tools import (
    Compatibility,
    StagingTools,
    analysis_words,
    compatibility_words,
)
from desktop.ui.input_pane import InputPane
from desktop.ui.previews import PreviewLoader
from desktop.ui.provider_tools.base import EXPECTED, ToolDialog
from desktop.ui.provider_tools.thumbs import Thumbnails
from desktop.ui.state_colors import is_dark

#: Reads, checks and normalises one photo for the provider (JobEngine.prepare_input).
Prepare = Callable[[str], Awaitable[PreparedInput]]

MASK_SIZE = 360


def _pane(role: str, title: str, loader: PreviewLoader, limits: InputLimits,
          provider_title: str, name: str) -> InputPane:
    pane = InputPane(role, title, loader)
    pane.setObjectName(name)
    pane.setAccessibleName(f"{title} input")
    pane.set_max_count(1)
    pane.set_limits(limits)
    pane.set_provider_title(provider_title)
    return pane


def _verdict_label(name: str) -> QLabel:
    label = QLabel("")
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.15)
    label.setFont(font)
    label.hide()
    return label


async def photo_for(prepare: Prepare, source: str) -> str | bytes:
    """The photo as the service takes it: its http(s) URL as given, else the checked bytes."""
    item = await prepare(source)
    return item.source_url or item.data


class AnalysisDialog(ToolDialog):
    """Furniture analysis: a photo in, a sentence and the furniture mask out."""

    def __init__(self, provider: StagingTools, prepare: Prepare, loader: PreviewLoader,
                 limits: InputLimits, thumbs: Thumbnails,
                 parent: QWidget | None = None) -> None:
        super().__init__(f"{provider.title}: furniture analysis", "analysisDialog", parent)
        self.provider = provider
        self.prepare = prepare
        self.thumbs = Thumbnails(size=MASK_SIZE)
        self.pane = _pane("room", "Room photo", loader, limits, provider.title, "analysisPane")
        self.pane.changed.connect(self._refresh)
        self.pane.busyChanged.connect(self._refresh)
        self.run_button = QPushButton("Analyse")
        self.run_button.setObjectName("analysisRun")
        self.run_button.setToolTip("Ask the service how much of the photo is furniture")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(lambda: self.run(self.analyse()))
        self.verdict = _verdict_label("analysisVerdict")
        self.mask = QLabel()
        self.mask.setObjectName("analysisMask")
        self.mask.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.mask.setMinimumSize(QSize(200, 150))
        self.mask.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.mask.setToolTip("The furniture the service found (its mask)")
        self.mask.hide()
        self.mask_caption = QLabel("The furniture it found:")
        self.mask_caption.hide()
        close = QPushButton("Close")
        close.setObjectName("analysisClose")
        close.clicked.connect(self.reject)
        intro = QLabel("Drop a room photo to learn how much of it is furniture, and whether to "
                       "remove the furniture before staging it.")
        intro.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.pane, 1, Qt.AlignmentFlag.AlignTop)
        side = QVBoxLayout()
        side.addWidget(self.mask_caption)
        side.addWidget(self.mask, 1)
        row.addLayout(side, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.run_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.verdict)
        layout.addLayout(row, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.resize(820, 520)
        self._refresh()

    def _refresh(self, *_args: object) -> None:
        self.run_button.setEnabled(bool(self.pane.sources()) and not self.pane.is_busy())

    async def analyse(self) -> None:
        sources = self.pane.sources()
        if not sources:
            return
        self.run_button.setEnabled(False)
        self.verdict.hide()
        self.mask.hide()
        self.mask_caption.hide()
        self.say(f"Asking {self.provider.title}…")
        try:
            photo = await photo_for(self.prepare, sources[0])
            found = await self.provider.analyze(photo)
        except EXPECTED as exc:
            self.fail("The analysis failed", exc)
            return
        finally:
            self._refresh()
        self.verdict.setText(analysis_words(found, self.provider.title))
        self.verdict.show()
        self.say("")
        if found.result_url:
            try:
                image = await self.thumbs.image(found.result_url, self.provider.download)
            except EXPECTED as exc:
                self.fail("The mask could not be shown", exc)
                return
            self.mask.setPixmap(QPixmap.fromImage(image))
            self.mask.show()
            self.mask_caption.show()


class CompatibilityDialog(ToolDialog):
    """Multi-view compatibility: two photos in, a verdict out."""

    def __init__(self, provider: StagingTools, prepare: Prepare, loader: PreviewLoader,
                 limits: InputLimits, parent: QWidget | None = None) -> None:
        super().__init__(f"{provider.title}: can two photos be staged together?",
                         "compatibilityDialog", parent)
        self.provider = provider
        self.prepare = prepare
        self.first = _pane("room", "First photo", loader, limits, provider.title,
                           "compatibilityFirst")
        self.second = _pane("room", "Second photo", loader, limits, provider.title,
                            "compatibilitySecond")
        for pane in (self.first, self.second):
            pane.changed.connect(self._refresh)
            pane.busyChanged.connect(self._refresh)
        self.run_button = QPushButton("Check")
        self.run_button.setObjectName("compatibilityRun")
        self.run_button.setToolTip("Ask the service whether the two photos can be staged "
                                   "with matching furniture")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(lambda: self.run(self.check()))
        self.verdict = _verdict_label("compatibilityVerdict")
        self.result: Compatibility | None = None
        close = QPushButton("Close")
        close.setObjectName("compatibilityClose")
        close.clicked.connect(self.reject)
        intro = QLabel("Two photos of the same room from different angles can be staged "
                       "together, with the same furniture in both. Drop them here to check.")
        intro.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.first, 1, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.second, 1, Qt.AlignmentFlag.AlignTop)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.run_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.verdict)
        layout.addStretch(1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.resize(820, 420)
        self._refresh()

    def _refresh(self, *_args: object) -> None:
        ready = all(p.sources() and not p.is_busy() for p in (self.first, self.second))
        self.run_button.setEnabled(ready)

    async def check(self) -> None:
        if not (self.first.sources() and self.second.sources()):
            return
        self.run_button.setEnabled(False)
        self.verdict.hide()
        self.say(f"Asking {self.provider.title}…")
        try:
            one = await photo_for(self.prepare, self.first.sources()[0])
            two = await photo_for(self.prepare, self.second.sources()[0])
            self.result = await self.provider.multi_view_compatibility(one, two)
        except EXPECTED as exc:
            self.fail("The check failed", exc)
            return
        finally:
            self._refresh()
        dark = is_dark(self.palette())
        if self.result.compatible:
            color = "#4cc38a" if dark else "#1f7a45"
        elif self.result.hard_rejected:
            color = "#ff6b6b" if dark else "#c62828"
        else:
            color = "#ffb347" if dark else "#b45309"
        self.verdict.setStyleSheet(f"color: {color};")
        self.verdict.setText(compatibility_words(self.result, self.provider.title))
        self.verdict.show()
        self.say("")
