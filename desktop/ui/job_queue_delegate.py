"""Painting a job queue row: title and elapsed time; a dot in the state's colour, the state and
progress; then a countdown, the job's sentence (wrapped, up to three lines) or its note."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from desktop.ui.job_queue_model import ERROR_LINES_MAX, JobListModel
from desktop.ui.state_colors import is_dark, state_color, waiting_color

if TYPE_CHECKING:
    from desktop.ui.job_queue import JobQueueView


def mix(a: QColor, b: QColor, t: float) -> QColor:
    def part(x: int, y: int) -> int:
        return round(x * (1 - t) + y * t)

    return QColor(part(a.red(), b.red()), part(a.green(), b.green()), part(a.blue(), b.blue()))


#: Wrapped error texts whose line count is kept; the cache starts over beyond it.
LINE_COUNT_CACHE = 512


@dataclass(frozen=True)
class QueueFonts:
    """A row's fonts and metrics for one base font, made once (not at every paint)."""

    regular: QFont
    bold: QFont
    metrics: QFontMetrics
    bold_metrics: QFontMetrics
    line: int
    label_w: int  # the progress label's width ("100 %")

    @classmethod
    def of(cls, font: QFont) -> QueueFonts:
        regular = QFont(font)
        bold = QFont(font)
        bold.setBold(True)
        metrics = QFontMetrics(regular)
        return cls(regular, bold, metrics, QFontMetrics(bold), metrics.lineSpacing(),
                   metrics.horizontalAdvance("100 %") + 4)


class JobDelegate(QStyledItemDelegate):
    """Paints a row: title and elapsed time; state dot, state and progress; message lines.

    Fonts and metrics are made once per font and a wrapped sentence's line count once per text
    and width, so a repaint (once a second per live row, and at each progress event) only
    draws."""

    PAD = 6
    GAP = 2

    def __init__(self, queue: JobQueueView) -> None:
        super().__init__(queue)
        self._queue = queue
        self._font_cache: dict[str, QueueFonts] = {}
        self._line_counts: dict[tuple[str, int, str], int] = {}

    def fonts(self, font: QFont) -> QueueFonts:
        key = font.key()
        fonts = self._font_cache.get(key)
        if fonts is None:
            fonts = self._font_cache[key] = QueueFonts.of(font)
        return fonts

    def _wrap_width(self) -> int:
        return max(80, self._queue.list_view.viewport().width() - 2 * self.PAD)

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        fonts = self.fonts(option.font)
        line = fonts.line
        height = 2 * self.PAD + 3 * line + 2 * self.GAP + 2  # title, state, one message line
        model = index.model()
        if isinstance(model, JobListModel) and index.isValid():
            entry = model.entry_at(index.row())
            if entry.height_key:
                lines = self._error_line_count(fonts, entry.height_key)
                height += (lines - 1) * line
        return QSize(200, height)

    def _error_line_count(self, fonts: QueueFonts, text: str) -> int:
        width = self._wrap_width()
        key = (text, width, fonts.regular.key())
        count = self._line_counts.get(key)
        if count is None:
            fm = fonts.metrics
            rect = fm.boundingRect(QRect(0, 0, width, 10_000), int(Qt.TextFlag.TextWordWrap),
                                   text)
            count = max(1, min(ERROR_LINES_MAX, math.ceil(rect.height() / fm.lineSpacing())))
            if len(self._line_counts) >= LINE_COUNT_CACHE:
                self._line_counts.clear()
            self._line_counts[key] = count
        return count

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        model = index.model()
        if not isinstance(model, JobListModel):
            return
        entry = model.entry_at(index.row())
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else self._queue.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, opt, painter, widget)

        palette = option.palette
        dark = is_dark(palette)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        text_role = (QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        text_color = palette.color(text_role)
        muted = mix(text_color, palette.color(
            QPalette.ColorRole.Highlight if selected else QPalette.ColorRole.Base), 0.35)
        fonts = self.fonts(option.font)
        bold, regular, fm, line = fonts.bold, fonts.regular, fonts.metrics, fonts.line
        now = self._queue.now()
        job = entry.job

        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        rect = option.rect.adjusted(self.PAD, self.PAD, -self.PAD, -self.PAD)
        x, y, width = rect.x(), rect.y(), rect.width()

        # Line 1: provider · task, and the elapsed time on the right.
        elapsed = self._queue.elapsed_text(entry, now)
        elapsed_w = fm.horizontalAdvance(elapsed) + 4
        painter.setFont(regular)
        painter.setPen(muted)
        painter.drawText(QRect(x, y, width, line),
                         int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), elapsed)
        painter.setFont(bold)
        painter.setPen(text_color)
        bfm = fonts.bold_metrics
        painter.drawText(QRect(x, y, width - elapsed_w - 8, line),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         bfm.elidedText(entry.title, Qt.TextElideMode.ElideRight,
                                        width - elapsed_w - 8))
        y += line + self.GAP

        # Line 2: coloured dot, state, progress bar (running with known progress).
        dot = max(8, line // 2)
        waiting = entry.live and entry.retry_at is not None
        dot_color = waiting_color(dark) if waiting else state_color(job.state, dark)
        # On a selected row a ring in the highlight's text colour keeps the dot visible.
        painter.setPen(palette.color(QPalette.ColorRole.HighlightedText) if selected
                       else Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(dot_color))
        painter.drawEllipse(x + 1, y + (line - dot) // 2, dot, dot)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setFont(regular)
        painter.setPen(text_color)
        state_text = self._queue.state_line(entry)
        tx = x + dot + 7
        state_w = min(fm.horizontalAdvance(state_text), width - (tx - x))
        painter.drawText(QRect(tx, y, state_w + 2, line),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         fm.elidedText(state_text, Qt.TextElideMode.ElideRight, state_w + 2))
        if job.progress is not None and entry.live:
            self._paint_progress(painter, palette, fonts, job.progress, tx + state_w + 12,
                                 x + width, y, line, text_color, selected)
        y += line + self.GAP

        # Line 3 (and more for errors): countdown, error message or note.
        countdown = self._queue.countdown_text(entry, now)
        if countdown:
            painter.setPen(waiting_color(dark) if not selected else text_color)
            painter.drawText(QRect(x, y, width, line),
                             int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                             fm.elidedText(countdown, Qt.TextElideMode.ElideRight, width))
        elif entry.height_key:
            lines = self._error_line_count(fonts, entry.height_key)
            painter.setPen(text_color)
            self._draw_wrapped(painter, fm, entry.height_key, QRect(x, y, width, lines * line),
                               lines)
        else:
            message = self._queue.message_line(entry)
            if message:
                painter.setPen(muted)
                painter.drawText(QRect(x, y, width, line),
                                 int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                                 fm.elidedText(message, Qt.TextElideMode.ElideRight, width))
        painter.restore()

    @staticmethod
    def _draw_wrapped(painter: QPainter, fm: QFontMetrics, text: str, rect: QRect,
                      lines: int) -> None:
        """Word-wrapped text in at most `lines` lines; the last one elided when it overflows."""
        full = fm.boundingRect(QRect(0, 0, rect.width(), 10_000),
                               int(Qt.TextFlag.TextWordWrap), text)
        if full.height() <= rect.height():
            painter.drawText(rect, int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft
                                       | Qt.AlignmentFlag.AlignTop), text)
            return
        words = text.split()
        y = rect.y()
        line_h = fm.lineSpacing()
        for n in range(lines):
            if n == lines - 1:
                rest = " ".join(words)
                painter.drawText(QRect(rect.x(), y, rect.width(), line_h),
                                 int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                                 fm.elidedText(rest, Qt.TextElideMode.ElideRight, rect.width()))
                break
            current: list[str] = []
            while words and fm.horizontalAdvance(" ".join([*current, words[0]])) <= rect.width():
                current.append(words.pop(0))
            if not current and words:
                current.append(words.pop(0))
            painter.drawText(QRect(rect.x(), y, rect.width(), line_h),
                             int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                             fm.elidedText(" ".join(current), Qt.TextElideMode.ElideRight,
                                           rect.width()))
            y += line_h

    @staticmethod
    def _paint_progress(painter: QPainter, palette: QPalette, fonts: QueueFonts,
                        progress: float, left: int, right: int, y: int, line: int,
                        text_color: QColor, selected: bool) -> None:
        label = f"{round(progress * 100)} %"
        label_w = fonts.label_w
        bar_w = min(160, right - left - label_w - 6)
        if bar_w < 30:
            return
        bar_h = max(4, line // 3)
        bar = QRect(left, y + (line - bar_h) // 2, bar_w, bar_h)
        track = mix(palette.color(QPalette.ColorRole.Base), text_color, 0.18)
        fill = (palette.color(QPalette.ColorRole.HighlightedText) if selected
                else palette.color(QPalette.ColorRole.Highlight))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(track)
        painter.drawRoundedRect(bar, bar_h / 2, bar_h / 2)
        done = round(bar_w * max(0.0, min(1.0, progress)))
        if done > 0:
            painter.setBrush(fill)
            painter.drawRoundedRect(QRect(bar.x(), bar.y(), done, bar_h), bar_h / 2, bar_h / 2)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(text_color)
        painter.drawText(QRect(bar.right() + 6, y, label_w, line),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), label)


