"""A history row, painted: thumbnail, 'Provider · Task', the state in its colour and the date,
then a line saying what the job did (settings in plain words) or what went wrong, and a star
for a favourite. Kept apart from the panel (history_view.py) so each stays small."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

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

#: Rows whose laid-out text is kept (a few screens' worth); the cache starts over beyond it.
TEXT_CACHE_ROWS = 2000
#: Dates like "12 min ago" are redone at most this often.
WHEN_REFRESH_S = 30
STAR_COLOUR = QColor("#e0a800")


@dataclass(frozen=True)
class RowFonts:
    """The fonts and metrics of rows painted in one base font, made once per font."""

    base: QFont
    title: QFont
    star: QFont
    glyph: QFont
    metrics: QFontMetrics
    title_metrics: QFontMetrics
    line_h: int
    star_w: int

    @classmethod
    def of(cls, base_font: QFont) -> RowFonts:
        base = QFont(base_font)
        metrics = QFontMetrics(base)
        line_h = metrics.height()
        title = QFont(base)
        title.setBold(True)
        star = QFont(base)
        star.setPixelSize(max(14, line_h))
        glyph = QFont(base)
        glyph.setPixelSize(26)
        glyph.setBold(True)
        return cls(base, title, star, glyph, metrics, QFontMetrics(title), line_h,
                   QFontMetrics(star).horizontalAdvance("★") + 4)


@dataclass(frozen=True)
class RowText:
    """A row's three lines, elided to its width: made when the job, the width, the font or the
    clock's half minute changes, not at every paint."""

    job: Job
    key: tuple[object, ...]
    title: str
    state: str
    state_w: int
    when: str
    detail: str


class HistoryDelegate(QStyledItemDelegate):
    """A row: thumbnail, 'Provider · Task', coloured state and date, a detail line, a star.

    Painting a row whose thumbnail is not cached asks the cache for it; only visible rows are
    painted, so only they load. Painting does no text work a previous paint already did: fonts
    and metrics are made once per font (`RowFonts`), each row's elided lines once per job
    version and width (`RowText`); `invalidate()` drops them when what rows say changes.
    """

    THUMB = 64
    MARGIN = 8

    def __init__(self, model: HistoryModel, cache: ThumbnailCache,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self.cache = cache
        self._fonts: dict[str, RowFonts] = {}
        self._texts: dict[str, RowText] = {}
        #: How many row texts were laid out (tests: a repaint of an unchanged row makes none).
        self.layouts = 0

    def invalidate(self) -> None:
        """Lay every row's text out again at its next paint (the owner or task lookup that
        the detail line depends on changed)."""
        self._texts.clear()

    def fonts(self, font: QFont) -> RowFonts:
        key = font.key()
        fonts = self._fonts.get(key)
        if fonts is None:
            fonts = self._fonts[key] = RowFonts.of(font)
        return fonts

    def row_text(self, job: Job, fonts: RowFonts, width: int, star_w: int) -> RowText:
        key: tuple[object, ...] = (width, fonts.base.key(), star_w,
                                   int(time.time() // WHEN_REFRESH_S))
        cached = self._texts.get(job.id)
        if cached is not None and cached.job is job and cached.key == key:
            return cached
        self.layouts += 1
        fm = fonts.metrics
        state = state_text(job)
        state_w = fm.horizontalAdvance(state)
        text = RowText(
            job=job, key=key,
            title=fonts.title_metrics.elidedText(self._model.title(job),
                                                 Qt.TextElideMode.ElideRight,
                                                 max(0, width - star_w)),
            state=state, state_w=state_w,
            when=fm.elidedText(f" · {when_text(job.created_at)}", Qt.TextElideMode.ElideRight,
                               max(0, width - state_w)),
            detail=fm.elidedText(detail_text(job, self._model.own_owner,
                                             self._model.task_of(job)),
                                 Qt.TextElideMode.ElideRight, max(0, width)),
        )
        if len(self._texts) >= TEXT_CACHE_ROWS:
            self._texts.clear()
        self._texts[job.id] = text
        return text

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
            fonts = self.fonts(opt.font)  # type: ignore[attr-defined]
            self._paint_thumb(painter, opt, thumb_rect, job, dpr, fonts)
            self._paint_text(painter, opt, rect, thumb_rect, job, fonts)
        finally:
            painter.restore()

    # -- parts --------------------------------------------------------------------------------
    def _paint_thumb(self, painter: QPainter, opt: QStyleOptionViewItem, rect: QRect, job: Job,
                     dpr: float, fonts: RowFonts) -> None:
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
            painter.setFont(fonts.glyph)
            painter.setPen(colour)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, glyph)

    def _paint_text(self, painter: QPainter, opt: QStyleOptionViewItem, rect: QRect,
                    thumb_rect: QRect, job: Job, fonts: RowFonts) -> None:
        palette: QPalette = opt.palette  # type: ignore[attr-defined]
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        text_role = (QPalette.ColorRole.HighlightedText if selected
                     else QPalette.ColorRole.Text)
        text_colour = palette.color(text_role)
        dim = QColor(text_colour)
        dim.setAlphaF(0.68)
        left = thumb_rect.right() + 1 + self.MARGIN + 2
        right = rect.right() - self.MARGIN
        line_h = fonts.line_h
        top = rect.top() + self.MARGIN + max(0, (self.THUMB - 3 * line_h - 4) // 2)
        star_w = fonts.star_w if job.favorite else 0
        text = self.row_text(job, fonts, right - left, star_w)

        # Line 1: title, star at the right.
        if job.favorite:
            painter.setFont(fonts.star)
            painter.setPen(STAR_COLOUR)
            painter.drawText(QRect(right - star_w, top, star_w, line_h + 2),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, "★")
        painter.setFont(fonts.title)
        painter.setPen(text_colour)
        painter.drawText(QRect(left, top, right - left - star_w, line_h),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text.title)

        # Line 2: state (coloured) · date.
        y = top + line_h + 2
        painter.setFont(fonts.base)
        state_colour = (text_colour if selected
                        else state_color(job.state, is_dark(palette)))
        painter.setPen(state_colour)
        painter.drawText(QRect(left, y, text.state_w + 1, line_h),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text.state)
        painter.setPen(dim)
        painter.drawText(QRect(left + text.state_w, y, max(0, right - left - text.state_w),
                               line_h),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text.when)

        # Line 3: the error, or how many results and the parameters.
        y += line_h + 2
        painter.drawText(QRect(left, y, right - left, line_h),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text.detail)


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


__all__ = ["HistoryDelegate", "RowFonts", "RowText", "detail_text"]
