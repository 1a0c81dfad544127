"""A compact list of images for the New batch dialog: the rows (people, rooms, images) and the
garments. Files, folders and links are dropped or added with buttons; each image is checked
and shrunk to a thumbnail by the window's PreviewLoader in a worker, a few at a time, so a
folder of 200 photos neither blocks the window nor decodes 200 images at once."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import shiboken6
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QIcon,
    QKeyEvent,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.humanize import human_bytes
from desktop.core.model import InvalidInput
from desktop.ui.input_pane import IMAGE_FILTER, extract
from desktop.ui.previews import Preview, PreviewLoader
from desktop.ui.tasks import TaskSet

log = logging.getLogger(__name__)

#: File name endings taken from a folder (the formats Restyle reads).
IMAGE_SUFFIXES = frozenset(
    s.strip("*") for s in IMAGE_FILTER.split(";;")[0].split("(")[1].rstrip(")").split())
#: At most this many images are checked at the same time.
LOAD_AT_ONCE = 3
#: A list holds at most this many images (a batch of more is better split).
MAX_IMAGES = 500
ICON = QSize(64, 64)


def images_in(folder: Path) -> list[str]:
    """The image files directly in `folder`, by name (runs in a worker)."""
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name.lower())
    except OSError as exc:
        raise InvalidInput(f"The folder {folder} cannot be read ({exc.strerror or exc}).") \
            from None
    return [str(p) for p in entries if p.suffix.lower() in IMAGE_SUFFIXES
            and not p.name.startswith(".") and p.is_file()]


class ImageList(QWidget):
    """Images of one role for a batch, in order; `changed` when the list changes."""

    changed = Signal()

    def __init__(self, title: str, noun: str, loader: PreviewLoader,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title = title
        self._noun = noun
        self._loader = loader
        self._previews: list[Preview] = []
        self._loading = 0
        self._slots = asyncio.Semaphore(LOAD_AT_ONCE)
        self._tasks = TaskSet(f"Batch {noun}")
        self._dialog: QFileDialog | None = None
        self.setAcceptDrops(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        header = QHBoxLayout()
        self.title_label = QLabel(self)
        font = self.title_label.font()
        font.setBold(True)
        self.title_label.setFont(font)
        header.addWidget(self.title_label)
        header.addStretch(1)
        self.add_files_button = self._button("Add files…", "addFiles",
                                             f"Add {noun} image files", self.browse_files)
        self.add_folder_button = self._button("Add folder…", "addFolder",
                                              f"Add every image in a folder as {noun}",
                                              self.browse_folder)
        self.remove_button = self._button("Remove", "remove", f"Remove the selected {noun}",
                                          self.remove_selected)
        self.clear_button = self._button("Clear", "clear", f"Remove every {noun}", self.clear)
        for button in (self.add_files_button, self.add_folder_button, self.remove_button,
                       self.clear_button):
            header.addWidget(button)
        layout.addLayout(header)

        self.view = QListWidget(self)
        self.view.setObjectName("images")
        self.view.setAccessibleName(title)
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setFlow(QListView.Flow.LeftToRight)
        self.view.setWrapping(True)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setIconSize(ICON)
        line = self.view.fontMetrics().height()
        self.view.setGridSize(QSize(ICON.width() + 56, ICON.height() + line + 10))
        self.view.setUniformItemSizes(True)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setMinimumHeight(ICON.height() + line + 24)
        # Two rows of pictures; more scroll inside the list, so the dialog's parameters stay
        # in view.
        self.view.setMaximumHeight(2 * (ICON.height() + line + 10) + 16)
        self.view.setAcceptDrops(False)  # the list widget itself takes the drops
        self.view.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.view, 1)
        self.hint = QLabel(self)
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        self._update()

    def _button(self, text: str, name: str, tip: str, slot: object) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.setAccessibleName(tip)
        button.setAutoRaise(True)
        button.clicked.connect(lambda _c=False: slot())  # type: ignore[operator]
        return button

    # -- content ---------------------------------------------------------------------------
    def sources(self) -> list[str]:
        return [p.source for p in self._previews]

    def is_busy(self) -> bool:
        return self._loading > 0

    def error_text(self) -> str:
        return self.hint.text() if self.hint.property("error") else ""

    async def add_sources(self, sources: list[str]) -> None:
        """Check and add images (folders give the images directly in them), in the order
        given; what cannot be used is said under the list."""
        self._set_loading(+1)
        errors: list[str] = []
        try:
            expanded: list[str] = []
            for source in sources:
                if not source.startswith(("http://", "https://")) and \
                        await asyncio.to_thread(os.path.isdir, source):
                    try:
                        found = await asyncio.to_thread(images_in, Path(source))
                    except InvalidInput as exc:
                        errors.append(str(exc))
                        continue
                    if not found:
                        errors.append(f"The folder {Path(source).name} holds no images.")
                    expanded.extend(found)
                else:
                    expanded.append(source)
            known = set(self.sources())
            wanted = [s for s in dict.fromkeys(expanded) if s not in known]
            room = MAX_IMAGES - len(self._previews)
            if len(wanted) > room:
                errors.append(f"A batch takes at most {MAX_IMAGES} {self._noun}; "
                              f"{len(wanted) - room} were left out.")
                wanted = wanted[:max(0, room)]
            results = await asyncio.gather(*(self._load(s) for s in wanted),
                                           return_exceptions=True)
        finally:
            if shiboken6.isValid(self):
                self._set_loading(-1)
        if not shiboken6.isValid(self):
            return
        added = 0
        for result in results:
            if isinstance(result, Preview):
                if result.source not in self.sources():
                    self._previews.append(result)
                    self._add_item(result)
                    added += 1
            elif isinstance(result, InvalidInput):
                errors.append(str(result))
            elif isinstance(result, BaseException):
                log.error("Loading a batch image failed", exc_info=result)
                errors.append("An image could not be loaded because of an unexpected error; "
                              "the log has the details.")
        self._update(errors)
        if added:
            self.changed.emit()

    async def _load(self, source: str) -> Preview:
        async with self._slots:
            return await self._loader.load(source)

    def _add_item(self, preview: Preview) -> None:
        item = QListWidgetItem(preview.name)
        item.setToolTip(f"{preview.source}\n{preview.width} x {preview.height} px, "
                        f"{human_bytes(preview.file_size)}")
        item.setData(Qt.ItemDataRole.UserRole, preview.source)
        pixmap = QPixmap.fromImage(preview.thumbnail.scaled(
            ICON * self.devicePixelRatioF(), Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation))
        pixmap.setDevicePixelRatio(self.devicePixelRatioF())
        item.setIcon(QIcon(pixmap))
        self.view.addItem(item)

    def remove_selected(self) -> None:
        chosen = {i.data(Qt.ItemDataRole.UserRole) for i in self.view.selectedItems()}
        if not chosen:
            return
        self._previews = [p for p in self._previews if p.source not in chosen]
        for row in reversed(range(self.view.count())):
            if self.view.item(row).data(Qt.ItemDataRole.UserRole) in chosen:
                self.view.takeItem(row)
        self._update()
        self.changed.emit()

    def clear(self) -> None:
        had = bool(self._previews)
        self._previews = []
        self.view.clear()
        self._update()
        if had:
            self.changed.emit()

    # -- presentation ------------------------------------------------------------------------
    def _set_loading(self, delta: int) -> None:
        self._loading = max(0, self._loading + delta)
        self._update()
        if delta < 0 and not self._loading:
            self.changed.emit()  # the dialog waits for loads before it plans

    def _update(self, errors: list[str] | None = None) -> None:
        count = len(self._previews)
        self.title_label.setText(f"{self._title} ({count})" if count else self._title)
        if errors:
            self.hint.setText("\n".join(errors[:4]) + (
                f"\n… and {len(errors) - 4} more." if len(errors) > 4 else ""))
            self.hint.setProperty("error", True)
            self.hint.setStyleSheet("color: #d23c32;")
        elif errors is not None or not self.hint.property("error"):
            self.hint.setProperty("error", False)
            self.hint.setStyleSheet("")
            if self._loading:
                self.hint.setText(f"Checking {self._noun}…")
            elif not count:
                self.hint.setText(f"Drop {self._noun} here (files or folders), or use "
                                  "Add files… / Add folder….")
            else:
                self.hint.setText("")
        self.hint.setVisible(bool(self.hint.text()))
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(bool(self.view.selectedItems()))
        self.clear_button.setEnabled(bool(self._previews))

    # -- adding ------------------------------------------------------------------------------
    def browse_files(self) -> None:
        self._open_dialog(QFileDialog.FileMode.ExistingFiles, f"Choose {self._noun}")

    def browse_folder(self) -> None:
        self._open_dialog(QFileDialog.FileMode.Directory, f"Choose a folder of {self._noun}")

    def _open_dialog(self, mode: QFileDialog.FileMode, caption: str) -> None:
        if self._dialog is not None and shiboken6.isValid(self._dialog):
            self._dialog.close()
        dialog = QFileDialog(self, caption)
        dialog.setObjectName("batchBrowseDialog")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setFileMode(mode)
        if mode == QFileDialog.FileMode.Directory:
            dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        else:
            dialog.setNameFilter(IMAGE_FILTER)
        known = [s for s in self.sources() if not s.startswith(("http://", "https://"))]
        if known:
            dialog.setDirectory(os.path.dirname(known[-1]))
        dialog.filesSelected.connect(
            lambda files: self._tasks.spawn(self.add_sources(list(files))))
        self._dialog = dialog
        dialog.open()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if extract(event.mimeData(), prefer_image=False).sources:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        offered = extract(event.mimeData(), prefer_image=False)
        if offered.sources:
            event.acceptProposedAction()
            self._tasks.spawn(self.add_sources(list(offered.sources)))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.remove_selected()
            event.accept()
            return
        super().keyPressEvent(event)

    async def idle(self) -> None:
        await self._tasks.join()

    async def aclose(self) -> None:
        await self._tasks.aclose()
