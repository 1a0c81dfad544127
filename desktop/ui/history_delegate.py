"""A history row, painted: thumbnail, 'Provider · Task', the state in its colour and the date,
then a line saying what the job did (settings in plain words) or what went wrong, and a star
for a favourite. Kept apart from the panel (history_view.py) so each stays small."""

from __future__ import annotations

import math

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from desktop.core.model import Job, JobState, TaskSpec
from desktop.core.plain_words import job_line, param_summary
from desktop.ui.history_model import (
    FAILED_STATES,
    HistoryModel,
    JobRole,
    ThumbnailCache,
    ThumbStatus,
    state_text,
    thumb_source,
    when_text,
)
from desktop.ui.job_words import holder, plain, running_in, short_sentence
from desktop.ui.state_colors import is_dark, state_color


class HistoryDelegate(QStyledItemDelegate):
    """A row: thumbnail, 'Provider · Task', coloured state and date, a detail line, a star.

    Painting a row whose thumbnail is not cached asks the cache for it; only visible rows are
    painted, so only they load.
    """

    THUMB = 64
    MARGIN = 8

    def __init__(self, model: HistoryModel, cache: ThumbnailCache,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self.cache = cache

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(max(240, option.rect.width()), self.THUMB + 2 * self.MARGIN)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        job: Job | None = index.data(JobRole)
        if job is None:
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget  # type: ignore[attr-defined]
        style = widget.style() if widget is not None else None
        painter.save()
        try:
            if style is not None:
                style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, opt, painter,
                                    widget)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            rect: QRect = opt.rect  # type: ignore[attr-defined]
            thumb_rect = QRect(rect.left() + self.MARGIN, rect.top() + self.MARGIN, self.THUMB,
                               self.THUMB)
            dpr = widget.devicePixelRatioF() if widget is not None else 1.0
            self._paint_thumb(painter, opt, thumb_rect, job, dpr)
            self._paint_text(painter, opt, rect, thumb_rect, job)
        finally:
            painter.restore()

    # -- parts --------------------------------------------------------------------------------
    def _paint_thumb(self, painter: QPainter, opt: QStyleOptionViewItem, rect: QRect, job: Job,
                     dpr: float) -> None:
        palette: QPalette = opt.palette  # type: ignore[attr-defined]
        source = thumb_source(job)
        pixmap = None
        status = ThumbStatus.NO_PREVIEW
        if source is not None:
            status = self.cache.status(source.sha256)
            if status == ThumbStatus.READY:
                pixmap = self.cache.pixmap(source.sha256)
            elif status == ThumbStatus.LOADING:
                self.cache.request(source, math.ceil(self.THUMB * dpr))
        if pixmap is not None and not pixmap.isNull():
            size = pixmap.deviceIndependentSize().toSize().scaled(
                rect.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(rect.center())
            painter.drawPixmap(target, pixmap)
            return
        base = palette.color(QPalette.ColorRole.Mid)
        base.setAlpha(60)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(base)
        painter.drawRoundedRect(rect, 6, 6)
        glyph = ""
        colour = palette.color(QPalette.ColorRole.PlaceholderText)
        if job.state in FAILED_STATES and not job.outputs:
            glyph, colour = "!", state_color(job.state, is_dark(palette))
        elif status == ThumbStatus.MISSING:
            glyph = "?"
        elif status == ThumbStatus.NO_PREVIEW:
            glyph = "▶" if source is not None and source.kind != "image" else "–"
        if glyph:
            font = QFont(opt.font)  # type: ignore[attr-defined]
            font.setPixelSize(26)
            font.setBold(True)
            painter.setFont(font)
            painter.setPen(colour)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, glyph)

    def _paint_text(self, painter: QPainter, opt: QStyleOptionViewItem, rect: QRect,
                    thumb_rect: QRect, job: Job) -> None:
        palette: QPalette = opt.palette  # type: ignore[attr-defined]
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        text_role = (QPalette.ColorRole.HighlightedText if selected
                     else QPalette.ColorRole.Text)
        text_colour = palette.color(text_role)
        dim = QColor(text_colour)
        dim.setAlphaF(0.68)
        left = thumb_rect.right() + 1 + self.MARGIN + 2
        right = rect.right() - self.MARGIN
        base_font = QFont(opt.font)  # type: ignore[attr-defined]
        line_h = QFontMetrics(base_font).height()
        top = rect.top() + self.MARGIN + max(0, (self.THUMB - 3 * line_h - 4) // 2)

        # Line 1: title, star at the right.
        title_font = QFont(base_font)
        title_font.setBold(True)
        star_w = 0
        if job.favorite:
            star_font = QFont(base_font)
            star_font.setPixelSize(max(14, line_h))
            star_w = QFontMetrics(star_font).horizontalAdvance("★") + 4
            painter.setFont(star_font)
            painter.setPen(QColor("#e0a800"))
            painter.drawText(QRect(right - star_w, top, star_w, line_h + 2),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, "★")
        painter.setFont(title_font)
        painter.setPen(text_colour)
        fm = QFontMetrics(title_font)
        title = fm.elidedText(self._model.title(job), Qt.TextElideMode.ElideRight,
                              max(0, right - left - star_w))
        painter.drawText(QRect(left, top, right - left - star_w, line_h),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title)

        # Line 2: state (coloured) · date.
        y = top + line_h + 2
        painter.setFont(base_font)
        fm = QFontMetrics(base_font)
        state = state_text(job)
        state_colour = (text_colour if selected
                        else state_color(job.state, is_dark(palette)))
        painter.setPen(state_colour)
        state_w = fm.horizontalAdvance(state)
        painter.drawText(QRect(left, y, state_w + 1, line_h),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, state)
        painter.setPen(dim)
        when = fm.elidedText(f" · {when_text(job.created_at)}", Qt.TextElideMode.ElideRight,
                             max(0, right - left - state_w))
        painter.drawText(QRect(left + state_w, y, max(0, right - left - state_w), line_h),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, when)

        # Line 3: the error, or how many results and the parameters.
        y += line_h + 2
        detail = fm.elidedText(detail_text(job, self._model.own_owner, self._model.task_of(job)),
                               Qt.TextElideMode.ElideRight,
                               max(0, right - left))
        painter.drawText(QRect(left, y, right - left, line_h),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, detail)


def detail_text(job: Job, own_owner: str | None = None, task: TaskSpec | None = None) -> str:
    """A row's third line: who else runs the job, the first sentence of what it waits for,
    the error, or how many results and the settings in plain words ("Living room ·
    Scandinavian"); the provider's own line when there are none, never the task's
    description."""
    elsewhere = holder(job, own_owner)
    if elsewhere:
        return running_in(elsewhere)
    if job.error is not None and job.error.message:
        if job.state == JobState.NEEDS_ATTENTION:
            return short_sentence(job.error.message)
        return plain(job.error.message)
    parts: list[str] = []
    if len(job.outputs) > 1:
        parts.append(f"{len(job.outputs)} results")
    summary = param_summary(task, job.spec.params) if job.spec.params else ""
    line = job_line(job, task)
    if summary:
        parts.append(summary)
    elif line:
        parts.append(line)
    return " · ".join(parts)


__all__ = ["HistoryDelegate", "detail_text"]
