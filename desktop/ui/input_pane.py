"""The input drop pane: one role's images (person, garments, room, image).

A pane takes files dropped from a file manager, images or links dragged from a web browser,
Ctrl+V (image data, file paths, http(s) addresses), a click or Enter/Space to browse, and shows
each loaded image as a thumbnail with its pixel and file size, plus a warning when the chosen
provider will downscale it or finds it too small. Loading happens in `PreviewLoader` workers.

Decisions worth knowing:
- Items beyond `max_count` (after switching to a provider that takes fewer garments) are kept
  and marked "Not used", and `sources()` leaves them out; switching back uses them again.
- On a one-image pane a new drop replaces the first item, and a newer drop supersedes one that
  is still loading. A multi-image pane that is full refuses the extra images with a sentence.
- A failed load changes nothing but the error line; the next successful load clears it.
- Ctrl+V is claimed through ShortcutOverride while the pane has focus, so a window-wide Paste
  action does not steal it from the focused pane.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEvent, QMimeData, QRectF, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QFocusEvent,
    QImage,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from desktop.core.contract import InputLimits
from desktop.core.humanize import human_bytes
from desktop.core.model import InvalidInput
from desktop.ui.previews import Preview, PreviewLoader, is_url, local_path, url_name
from desktop.ui.tasks import TaskSet

log = logging.getLogger(__name__)

#: Singular and plural nouns per role, for hints and messages.
_ROLE_NOUNS: dict[str, tuple[str, str]] = {
    "person": ("person photo", "person photos"),
    "garment": ("garment", "garments"),
    "room": ("room photo", "room photos"),
    "image": ("image", "images"),
}

IMAGE_FILTER = (
    "Images (*.png *.jpg *.jpeg *.webp *.avif *.bmp *.tif *.tiff *.gif *.heic *.heif);;"
    "All files (*)"
)

THUMB_SIDE = 96  # logical pixels; thumbnails are up to 256 px, so crisp up to 2.6x DPR

_last_browse_dir = ""  # shared by all panes: people keep their photos in one folder


def _is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def _warning_color(palette: QPalette) -> str:
    return "#f0a436" if _is_dark(palette) else "#9a5b00"


def _error_color(palette: QPalette) -> str:
    return "#ff7b72" if _is_dark(palette) else "#c62828"


@dataclass
class _Extracted:
    """What a drop or the clipboard offers, read synchronously before the event ends."""

    sources: list[str]
    image: QImage | None = None

    @property
    def usable(self) -> bool:
        return bool(self.sources) or self.image is not None


def _sources_from_text(text: str) -> list[str]:
    """Paths, file:// URLs and http(s) URLs in `text`, one per line; [] if any line is not."""
    found: list[str] = []
    for raw in text.splitlines():
        line = raw.strip().strip('"').strip("'")
        if not line or line.startswith("#"):  # text/uri-list allows comment lines
            continue
        if is_url(line):
            found.append(line)
            continue
        path = local_path(line)
        if path is None:
            return []
        found.append(path)
    return found


def extract(mime: QMimeData | None, *, prefer_image: bool) -> _Extracted:
    """Sources or image data a QMimeData offers, in order of preference.

    Local files win; then remote URLs, unless `prefer_image` (no URL fetcher) and the data
    also carries the picture itself (a browser drag); then image data; then text naming paths
    or URLs. Plain prose yields nothing, so the pane does not light up for it.
    """
    if mime is None:
        return _Extracted([])
    files: list[str] = []
    remote: list[str] = []
    if mime.hasUrls():
        for url in mime.urls():
            if url.isLocalFile():
                files.append(os.path.abspath(url.toLocalFile()))
            elif url.scheme().lower() in ("http", "https"):
                remote.append(url.toString(QUrl.ComponentFormattingOption.FullyEncoded))
    if files:
        return _Extracted(files)
    image: QImage | None = None
    if mime.hasImage():
        data = mime.imageData()
        if isinstance(data, QImage) and not data.isNull():
            image = data.copy()
    if remote and not (prefer_image and image is not None):
        return _Extracted(remote)
    if image is not None:
        return _Extracted([], image)
    if mime.hasText():
        return _Extracted(_sources_from_text(mime.text()))
    return _Extracted([])


class _Thumbnail(QWidget):
    """A thumbnail drawn at the screen's device pixel ratio, centred in a fixed square."""

    def __init__(self, image: QImage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image = image
        self._cache: tuple[tuple[int, int, float], QPixmap] | None = None
        self.setFixedSize(THUMB_SIDE, THUMB_SIDE)
        self.setObjectName("thumbnail")

    def sizeHint(self) -> QSize:
        return QSize(THUMB_SIDE, THUMB_SIDE)

    def _pixmap(self) -> QPixmap:
        dpr = self.devicePixelRatioF()
        key = (self.width(), self.height(), dpr)
        if self._cache is None or self._cache[0] != key:
            target = QSize(round(self.width() * dpr), round(self.height() * dpr))
            scaled = self._image
            if scaled.width() > target.width() or scaled.height() > target.height():
                scaled = scaled.scaled(
                    target,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            pixmap = QPixmap.fromImage(scaled)
            pixmap.setDevicePixelRatio(dpr)
            self._cache = (key, pixmap)
        return self._cache[1]

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        if not self.isEnabled():
            painter.setOpacity(0.4)  # an item the provider will not use
        pixmap = self._pixmap()
        size = pixmap.deviceIndependentSize()
        x = (self.width() - size.width()) / 2
        y = (self.height() - size.height()) / 2
        rect = QRectF(x, y, size.width(), size.height())
        if self._image.hasAlphaChannel():
            self._checker(painter, rect)
        painter.drawPixmap(rect.topLeft(), pixmap)
        painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Mid), 1))
        painter.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5))
        painter.end()

    @staticmethod
    def _checker(painter: QPainter, rect: QRectF) -> None:
        """A light checkerboard behind transparent images so their shape shows."""
        painter.save()
        painter.setClipRect(rect)
        painter.fillRect(rect, QColor("#ffffff"))
        step = 8
        dark = QColor("#d9d9d9")
        y = int(rect.top())
        row = 0
        while y < rect.bottom():
            x = int(rect.left()) + (step if row % 2 else 0)
            while x < rect.right():
                painter.fillRect(x, y, step, step, dark)
                x += 2 * step
            y += step
            row += 1
        painter.restore()


class _ElidedLabel(QLabel):
    """A one-line label that elides in the middle instead of widening its parent."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = text
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(40)
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(self.width(), 40)
        super().setText(
            self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle, width)
        )


class _ItemRow(QFrame):
    """One loaded image: thumbnail, name, size, warning, and (multi-image panes) remove."""

    def __init__(self, preview: Preview, pane: InputPane) -> None:
        super().__init__(pane)
        self.preview = preview
        self.setObjectName("inputItem")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(10)
        self.thumb = _Thumbnail(preview.thumbnail, self)
        row.addWidget(self.thumb, 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        text.setSpacing(2)
        self.name_label = _ElidedLabel(preview.name, self)
        self.name_label.setObjectName("nameLabel")
        self.name_label.setToolTip(preview.source)
        font = self.name_label.font()
        font.setBold(True)
        self.name_label.setFont(font)
        self.size_label = QLabel(
            f"{preview.width} × {preview.height} px · {human_bytes(preview.file_size)}", self
        )
        self.size_label.setObjectName("sizeLabel")
        self.warning_label = QLabel(self)
        self.warning_label.setObjectName("warningLabel")
        self.warning_label.setWordWrap(True)
        self.warning_label.hide()
        text.addWidget(self.name_label)
        text.addWidget(self.size_label)
        text.addWidget(self.warning_label)
        text.addStretch(1)
        row.addLayout(text, 1)
        self.remove_button = QToolButton(self)
        self.remove_button.setObjectName("removeButton")
        self.remove_button.setText("✕")
        self.remove_button.setAutoRaise(True)
        self.remove_button.setToolTip(f"Remove {preview.name}")
        self.remove_button.setAccessibleName(f"Remove {preview.name}")
        self.remove_button.clicked.connect(lambda: pane.remove(self.preview.source))
        row.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignTop)
        self.setAccessibleName(preview.name)

    def set_state(self, warnings: list[str], used: bool, color: str) -> None:
        self.warning_label.setText("\n".join(warnings))
        self.warning_label.setStyleSheet(f"color: {color};")
        self.warning_label.setVisible(bool(warnings))
        self.thumb.setEnabled(used)
        self.name_label.setEnabled(used)
        self.size_label.setEnabled(used)
        self.setAccessibleDescription(
            ", ".join([self.size_label.text(), *warnings]).replace("×", "by")
        )


class InputPane(QFrame):
    """A drop target for one input role; see the module docstring for the behaviour."""

    changed = Signal()  # the list of usable sources changed
    busyChanged = Signal(bool)

    def __init__(
        self,
        role: str,
        title: str,
        loader: PreviewLoader,
        *,
        max_count: int = 1,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._role = role
        self._title = title
        self._loader = loader
        self._max_count = max(1, max_count)
        self._limits: InputLimits | None = None
        self._provider_title = ""
        self._count_title = ""
        self._items: list[Preview] = []
        self._rows: list[_ItemRow] = []
        self._nouns: tuple[str, str] | None = None
        self._required = False
        self._error = ""
        self._busy = 0
        self._reserved = 0  # slots taken by loads still running (multi-image panes)
        self._tasks = TaskSet("Input pane")
        self._loads: set[asyncio.Task[Any]] = set()
        self._dialog: QFileDialog | None = None
        self._drag_active = False

        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.setMinimumWidth(220)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 10)
        layout.setSpacing(6)
        header = QHBoxLayout()
        header.setSpacing(4)
        self._title_label = QLabel(self)
        self._title_label.setObjectName("titleLabel")
        font = self._title_label.font()
        font.setBold(True)
        self._title_label.setFont(font)
        header.addWidget(self._title_label)
        self._required_label = QLabel("*", self)
        self._required_label.setObjectName("requiredMark")
        self._required_label.setToolTip("Required: the task cannot run without this image")
        self._required_label.setAccessibleName("required")
        self._required_label.hide()
        header.addWidget(self._required_label)
        self._count_label = QLabel(self)
        self._count_label.setObjectName("countLabel")
        header.addWidget(self._count_label)
        header.addStretch(1)
        self._busy_bar = QProgressBar(self)
        self._busy_bar.setObjectName("busyIndicator")
        self._busy_bar.setAccessibleName("Loading")
        self._busy_bar.setRange(0, 0)
        self._busy_bar.setTextVisible(False)
        self._busy_bar.setFixedSize(48, 8)
        self._busy_bar.hide()
        header.addWidget(self._busy_bar)
        self._browse_button = QToolButton(self)
        self._browse_button.setObjectName("browseButton")
        self._browse_button.setText("Browse…")
        self._browse_button.setAutoRaise(True)
        self._browse_button.clicked.connect(self.browse)
        header.addWidget(self._browse_button)
        self._clear_button = QToolButton(self)
        self._clear_button.setObjectName("clearButton")
        self._clear_button.setText("Clear")
        self._clear_button.setAutoRaise(True)
        self._clear_button.clicked.connect(self.clear)
        header.addWidget(self._clear_button)
        layout.addLayout(header)

        self._hint = QLabel(self)
        self._hint.setObjectName("dropHint")
        self._hint.setWordWrap(True)
        self._hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._hint.setMinimumHeight(72)
        layout.addWidget(self._hint)

        self._items_box = QVBoxLayout()
        self._items_box.setSpacing(8)
        layout.addLayout(self._items_box)

        self._error_label = QLabel(self)
        self._error_label.setObjectName("errorLabel")
        self._error_label.setWordWrap(True)
        self._error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._error_label.hide()
        layout.addWidget(self._error_label)

        self._apply_colors()
        self.set_title(title)

    # -- public interface ------------------------------------------------------------------

    def role(self) -> str:
        return self._role

    def title(self) -> str:
        return self._title

    def max_count(self) -> int:
        return self._max_count

    def set_title(self, title: str) -> None:
        self._title = title
        self._title_label.setText(title)
        self._browse_button.setAccessibleName(f"Browse for {title} image")
        self._browse_button.setToolTip(f"Browse for {self._noun(plural=self._max_count > 1)}")
        self._clear_button.setAccessibleName(f"Clear {title}")
        self._clear_button.setToolTip(f"Clear {title}")
        self.setAccessibleName(f"{title} input" + (", required" if self._required else ""))
        self._refresh()

    def set_nouns(self, singular: str, plural: str) -> None:
        """What the pane's hints and messages call its images ("image", "images"), for a role
        named by a task at run time (a workflow's "Garment image (User Garment)") whose title
        does not make a noun."""
        self._nouns = (singular, plural)
        self.set_title(self._title)

    def set_help(self, text: str) -> None:
        """What the pane's image is for, on its title's tooltip (a workflow input's own
        name and whether the workflow needs it)."""
        self._title_label.setToolTip(text)

    def set_required(self, required: bool) -> None:
        """Mark the pane as one the task cannot run without (a workflow's mandatory input)."""
        self._required = required
        self._required_label.setVisible(required)
        self.setAccessibleName(f"{self._title} input" + (", required" if required else ""))

    def is_required(self) -> bool:
        return self._required

    def set_max_count(self, n: int) -> None:
        """How many images the provider takes. Extra items stay, marked "Not used"."""
        before = self.sources()
        self._max_count = max(1, n)
        self._refresh()
        self.set_title(self._title)
        if self.sources() != before:
            self.changed.emit()

    def set_limits(self, limits: InputLimits | None) -> None:
        self._limits = limits
        self._refresh()

    def set_provider_title(self, title: str) -> None:
        self._provider_title = title
        self._refresh()

    def set_count_title(self, title: str) -> None:
        """The provider that takes the most images (it sets `max_count`): images beyond them
        are "Not used" because of it, whatever provider's limits the warnings name."""
        self._count_title = title
        self._refresh()

    def sources(self) -> list[str]:
        return [p.source for p in self._items[: self._max_count]]

    def previews(self) -> list[Preview]:
        """The usable previews (the same items as `sources()`)."""
        return list(self._items[: self._max_count])

    def all_previews(self) -> list[Preview]:
        """Every loaded item, including those beyond max_count that are marked "Not used"."""
        return list(self._items)

    def error_text(self) -> str:
        return self._error

    def warning_text(self) -> str:
        return "\n".join(w for p, i in self._enumerated() for w in self._warnings(p, i))

    def is_busy(self) -> bool:
        return self._busy > 0

    async def add_sources(self, sources: list[str]) -> None:
        """Load `sources` and add the good ones; bad ones only set the error line.

        On a one-image pane the first source replaces the first item, and a newer call cancels
        an older one still loading (the older call then returns without changing anything).
        """
        wanted = [s.strip() for s in sources if s and s.strip()]
        if not wanted:
            return
        notes: list[str] = []
        single = self._max_count == 1
        if single:
            if len(wanted) > 1:
                notes.append(
                    f"The {self._title} pane takes one {self._noun()}; only the first of the "
                    f"{len(wanted)} dropped was used."
                )
                wanted = wanted[:1]
            for task in list(self._loads):
                task.cancel()
        else:
            room = max(0, self._max_count - len(self._items) - self._reserved)
            if len(wanted) > room:
                notes.append(self._full_sentence())
                wanted = wanted[:room]
        if not wanted:
            self._set_error("\n".join(notes))
            return
        reserved = 0 if single else len(wanted)
        self._reserved += reserved
        self._set_busy(+1)
        inner = asyncio.ensure_future(self._load_all(wanted))
        self._loads.add(inner)
        try:
            results = await inner
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if inner.cancelled() and (current is None or current.cancelling() == 0):
                return  # superseded by a newer drop, or the pane was cleared
            raise
        finally:
            self._loads.discard(inner)
            if isValid(self):
                self._reserved -= reserved
                self._set_busy(-1)
        if isValid(self):
            self._accept(results, notes, single)

    def clear(self) -> None:
        """Remove every item, cancel loads in progress, and clear the error."""
        for task in list(self._loads):
            task.cancel()
        had = bool(self.sources())
        self._items = []
        self._error = ""
        self._refresh()
        if had:
            self.changed.emit()

    def remove(self, source: str) -> None:
        """Remove the item loaded from `source` (the per-item remove button)."""
        before = self.sources()
        self._items = [p for p in self._items if p.source != source]
        self._error = ""
        self._refresh()
        if self.sources() != before:
            self.changed.emit()

    def browse(self) -> None:
        """Open a non-blocking file dialog; the chosen files are loaded when it closes."""
        if self._dialog is not None and isValid(self._dialog):
            self._dialog.raise_()
            self._dialog.activateWindow()
            return
        dialog = QFileDialog(self, f"Choose {self._noun(plural=self._max_count > 1)}")
        dialog.setObjectName("browseDialog")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
        dialog.setFileMode(
            QFileDialog.FileMode.ExistingFiles
            if self._max_count > 1
            else QFileDialog.FileMode.ExistingFile
        )
        dialog.setNameFilter(IMAGE_FILTER)
        start = self._browse_start_dir()
        if start:
            dialog.setDirectory(start)
        dialog.filesSelected.connect(self._on_files_selected)
        dialog.destroyed.connect(self._on_dialog_gone)
        self._dialog = dialog
        dialog.open()

    def paste(self) -> None:
        """Paste from the clipboard: image data, file URLs, or text naming a path or URL."""
        clipboard = QApplication.clipboard()
        offered = extract(clipboard.mimeData(), prefer_image=not self._loader.can_fetch_urls)
        if not offered.usable:
            self._set_error(
                "The clipboard holds no image, file or web address to paste; copy an image "
                "or a file first."
            )
            return
        self._tasks.spawn(self._take(offered))

    # -- loading ---------------------------------------------------------------------------

    async def _load_all(self, sources: list[str]) -> list[Preview | BaseException]:
        return list(
            await asyncio.gather(*(self._loader.load(s) for s in sources), return_exceptions=True)
        )

    def _accept(
        self, results: list[Preview | BaseException], notes: list[str], single: bool
    ) -> None:
        before = self.sources()
        errors: list[str] = []
        good: list[Preview] = []
        for result in results:
            if isinstance(result, Preview):
                good.append(result)
            elif isinstance(result, InvalidInput):
                errors.append(str(result))
            elif isinstance(result, asyncio.CancelledError):
                continue
            else:
                log.error("Loading an input failed", exc_info=result)
                errors.append(
                    "An image could not be loaded because of an unexpected error; the log "
                    "has the details."
                )
        if single and good:
            if self._items:
                self._items[0] = good[0]
            else:
                self._items.append(good[0])
        else:
            known = {p.source for p in self._items}
            for preview in good:
                if preview.source in known:
                    notes.append(f"{preview.name} is already in the {self._title} pane.")
                    continue
                known.add(preview.source)
                self._items.append(preview)
        self._error = "\n".join(errors + notes)
        self._refresh()
        if self.sources() != before:
            self.changed.emit()

    async def _take(self, offered: _Extracted) -> None:
        """Add what a drop or paste offered; image data is first saved as a PNG file."""
        sources = list(offered.sources)
        if offered.image is not None:
            self._set_busy(+1)
            try:
                sources = [await self._loader.save_pasted(offered.image)]
            except InvalidInput as exc:
                if isValid(self):
                    self._set_error(str(exc))
                return
            finally:
                if isValid(self):
                    self._set_busy(-1)
        if isValid(self):
            await self.add_sources(sources)

    def _on_files_selected(self, files: list[str]) -> None:
        global _last_browse_dir
        if files:
            _last_browse_dir = os.path.dirname(files[0])
            self._tasks.spawn(self.add_sources(list(files)))

    def _on_dialog_gone(self) -> None:
        self._dialog = None

    def _browse_start_dir(self) -> str:
        for preview in reversed(self._items):
            if not is_url(preview.source):
                return os.path.dirname(preview.source)
        return _last_browse_dir

    def _set_busy(self, delta: int) -> None:
        was = self._busy > 0
        self._busy = max(0, self._busy + delta)
        now = self._busy > 0
        if now != was:
            self._busy_bar.setVisible(now)
            self._refresh_hint()
            self.busyChanged.emit(now)

    def _set_error(self, text: str) -> None:
        self._error = text
        self._refresh_error()

    # -- presentation ----------------------------------------------------------------------

    def _noun(self, *, plural: bool = False) -> str:
        singular, plural_noun = self._nouns or _ROLE_NOUNS.get(
            self._role, (f"{self._title.lower()} image", f"{self._title.lower()} images")
        )
        return plural_noun if plural else singular

    def _full_sentence(self) -> str:
        count = self._max_count
        noun = self._noun(plural=count != 1)
        return f"This pane takes at most {count} {noun}; remove one to add another."

    def _enumerated(self) -> list[tuple[Preview, int]]:
        return [(p, i) for i, p in enumerate(self._items)]

    def _provider_name(self) -> str:
        return self._provider_title or "this provider"

    def _warnings(self, preview: Preview, index: int) -> list[str]:
        if index >= self._max_count:
            noun = self._noun(plural=self._max_count != 1)
            who = self._count_title or self._provider_name()
            return [f"Not used: {who} takes {self._max_count} {noun} at most."]
        limits = self._limits
        if limits is None:
            return []
        found: list[str] = []
        provider = self._provider_name()
        if min(preview.width, preview.height) < limits.min_side:
            found.append(f"Too small: {provider} needs at least {limits.min_side} px")
        if max(preview.width, preview.height) > limits.max_side:
            found.append(
                f"Will be downscaled to {limits.max_side} px on the long side for {provider}"
            )
        elif preview.file_size > limits.max_bytes:
            found.append(
                f"Will be recompressed to fit {human_bytes(limits.max_bytes)} for {provider}"
            )
        return found

    def _refresh(self) -> None:
        """Rebuild the item rows when the items changed, then update every label."""
        if len(self._rows) != len(self._items) or any(
            row.preview is not preview for row, preview in zip(self._rows, self._items,
                                                              strict=True)
        ):
            for row in self._rows:
                self._items_box.removeWidget(row)
                row.hide()
                row.deleteLater()
            self._rows = []
            for preview in self._items:
                row = _ItemRow(preview, self)
                self._items_box.addWidget(row)
                row.show()  # now, not on the layout's queued show, so state reads true at once
                self._rows.append(row)
        color = _warning_color(self.palette())
        multi = self._max_count > 1 or len(self._items) > 1
        for index, row in enumerate(self._rows):
            row.set_state(self._warnings(row.preview, index), index < self._max_count, color)
            row.remove_button.setVisible(multi)
        self._count_label.setText(f"{len(self.sources())} of {self._max_count}")
        self._count_label.setVisible(self._max_count > 1)
        self._refresh_hint()
        self._refresh_error()
        self.update()

    def _refresh_hint(self) -> None:
        if self._items:
            self._hint.hide()
            return
        if self._busy:
            self._hint.setText("Loading…")
        else:
            what = (
                f"up to {self._max_count} {self._noun(plural=True)}"
                if self._max_count > 1
                else f"{_article(self._noun())} {self._noun()}"
            )
            self._hint.setText(f"Drop {what} here, paste, or click to browse")
        self._hint.show()
        self.setAccessibleDescription(self._hint.text())

    def _refresh_error(self) -> None:
        self._error_label.setText(self._error)
        self._error_label.setVisible(bool(self._error))
        self._clear_button.setEnabled(bool(self._items) or bool(self._error))

    def _apply_colors(self) -> None:
        palette = self.palette()
        self._error_label.setStyleSheet(f"color: {_error_color(palette)};")
        self._required_label.setStyleSheet(f"color: {_error_color(palette)}; font-weight: bold;")
        muted = QColor(palette.color(QPalette.ColorRole.WindowText))
        muted.setAlpha(150)  # readable on light and dark themes alike
        for label in (self._hint, self._count_label):
            label_palette = label.palette()
            label_palette.setColor(QPalette.ColorRole.WindowText, muted)
            label.setPalette(label_palette)

    # -- events ----------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_colors()
            self._refresh()

    def paintEvent(self, event: QPaintEvent) -> None:
        palette = self.palette()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        highlight = palette.color(QPalette.ColorRole.Highlight)
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        if self._drag_active:
            fill = QColor(highlight)
            fill.setAlpha(40)
            painter.setBrush(fill)
            pen = QPen(highlight, 2)
        elif self.hasFocus():
            pen = QPen(highlight, 2)
        else:
            pen = QPen(palette.color(QPalette.ColorRole.Mid), 1)
            if not self._items:
                pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawRoundedRect(rect, 6, 6)
        painter.end()

    def is_drag_highlighted(self) -> bool:
        return self._drag_active

    def _set_drag_active(self, active: bool) -> None:
        if active != self._drag_active:
            self._drag_active = active
            self.update()

    def _acceptable(self, mime: QMimeData | None) -> bool:
        return extract(mime, prefer_image=not self._loader.can_fetch_urls).usable

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._acceptable(event.mimeData()):
            event.acceptProposedAction()
            self._set_drag_active(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._acceptable(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._set_drag_active(False)
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self._set_drag_active(False)
        offered = extract(event.mimeData(), prefer_image=not self._loader.can_fetch_urls)
        if not offered.usable:
            event.ignore()
            return
        event.acceptProposedAction()
        self._tasks.spawn(self._take(offered))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and not self._items:
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            event.accept()  # so the release comes here too and opens the dialog
            return
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if (
            event.button() == Qt.MouseButton.LeftButton
            and not self._items
            and self.rect().contains(event.position().toPoint())
        ):
            event.accept()
            self.browse()
            return
        super().mouseReleaseEvent(event)

    def event(self, event: QEvent) -> bool:
        # Claim Ctrl+V while focused, before a window-wide Paste shortcut can take it.
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.matches(QKeySequence.StandardKey.Paste)
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Paste):
            event.accept()
            self.paste()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space) and not (
            event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ):
            event.accept()
            self.browse()
            return
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and not event.modifiers():
            event.accept()
            self.clear()
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.update()


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"


__all__ = ["InputPane", "Preview", "PreviewLoader", "extract", "url_name"]
