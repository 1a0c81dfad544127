"""The strip of a job's outputs under the compare view, with thumbnails made in a worker."""

from __future__ import annotations

import asyncio

import shiboken6
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPalette, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QListWidget, QListWidgetItem, QWidget

from desktop.ui.compare_view.model import THUMB_SIZE, CompareItem, usable
from desktop.ui.tasks import TaskSet


def _make_thumbnail(image: QImage, size: QSize) -> QImage:
    return image.scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation)


class OutputStrip(QListWidget):
    """One entry per output; `currentRowChanged` says which one the user picked."""

    def __init__(self, tasks: TaskSet, parent: QWidget) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._items: list[CompareItem] = []
        self._thumbs: dict[int, QPixmap] = {}
        self._pending: set[int] = set()
        self.setObjectName("compareStrip")
        self.setAccessibleName("Outputs of this job")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setIconSize(THUMB_SIZE)
        self.setUniformItemSizes(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        line = self.fontMetrics().height()
        self.setGridSize(QSize(THUMB_SIZE.width() + 24, THUMB_SIZE.height() + line + 14))
        scrollbar = self.horizontalScrollBar().sizeHint().height()
        self.setFixedHeight(THUMB_SIZE.height() + line + 24 + scrollbar)
        self.hide()

    def fill(self, items: list[CompareItem], current: int) -> None:
        self.blockSignals(True)
        self.clear()
        self._items = list(items)
        for index, item in enumerate(items):
            entry = QListWidgetItem(item.title or f"Output {index + 1}")
            entry.setToolTip(" · ".join(t for t in (item.title, item.label) if t))
            entry.setData(Qt.ItemDataRole.AccessibleTextRole, item.title or f"Output {index + 1}")
            entry.setIcon(self._blank())  # the layout needs the size from the start
            self.addItem(entry)
            if len(items) >= 2:  # the strip is hidden otherwise
                self._ensure_thumbnail(index)
        if items:
            self.setCurrentRow(current)
        self.blockSignals(False)

    def select_quietly(self, row: int) -> None:
        if self.currentRow() != row:
            self.blockSignals(True)
            self.setCurrentRow(row)
            self.blockSignals(False)

    def _blank(self) -> QIcon:
        ratio = self.devicePixelRatioF()
        blank = QPixmap(round(THUMB_SIZE.width() * ratio), round(THUMB_SIZE.height() * ratio))
        blank.setDevicePixelRatio(ratio)
        blank.fill(self.palette().color(QPalette.ColorRole.Midlight))
        return QIcon(blank)

    def _ensure_thumbnail(self, index: int) -> None:
        image = usable(self._items[index].image)
        if image is None:
            return
        key = image.cacheKey()
        if key in self._thumbs:
            self._apply(key)
        elif key not in self._pending:
            self._pending.add(key)
            self._tasks.spawn(self._make(key, image))

    async def _make(self, key: int, image: QImage) -> None:
        ratio = self.devicePixelRatioF()
        size = QSize(round(THUMB_SIZE.width() * ratio), round(THUMB_SIZE.height() * ratio))
        try:
            thumb = await asyncio.to_thread(_make_thumbnail, image, size)
        finally:
            self._pending.discard(key)
        if not shiboken6.isValid(self):
            return
        pixmap = QPixmap.fromImage(thumb)  # QPixmap only here, on the GUI thread
        pixmap.setDevicePixelRatio(ratio)
        self._thumbs[key] = pixmap
        self._apply(key)

    def _apply(self, key: int) -> None:
        for row, item in enumerate(self._items):
            if item.image.cacheKey() == key and row < self.count():
                icon = QIcon(self._thumbs[key])
                # no selection tint over the picture: the highlight is the caption's colour
                icon.addPixmap(self._thumbs[key], QIcon.Mode.Selected)
                self.item(row).setIcon(icon)
