"""The rankings panel (a dock): providers ranked from the blind votes and the reviews of the
jobs the history shows.

A chart draws each provider's strength as a dot with its 95 % interval as a bar, strongest on
top, on a log scale around 1 (an average provider); a table gives the numbers (win rate, votes,
pass rate, stars, median time, credits per passed output, the most given defects), and a line
says how far the reviewers agree. The numbers come from `desktop.core.rankings.rank`; the
panel only shows them (the controller computes them off the GUI thread).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.humanize import human_duration

if TYPE_CHECKING:  # the rankings load when first computed, not at start-up
    from desktop.core.rankings import Agreement, ProviderRanking, Rankings

COLUMNS = ("Provider", "Strength (95 %)", "Win rate", "Votes", "Pass rate", "Stars",
           "Median time", "Credits / pass", "Top defects")
ROW_HEIGHT = 26
AXIS_HEIGHT = 34


def kappa_words(kappa: float) -> str:
    """Landis and Koch's (1977) words for a kappa."""
    if kappa < 0:
        return "less agreement than chance"
    for limit, words in ((0.20, "slight agreement"), (0.40, "fair agreement"),
                         (0.60, "moderate agreement"), (0.80, "substantial agreement")):
        if kappa <= limit:
            return words
    return "almost perfect agreement"


def agreement_line(agreement: Agreement) -> str:
    """"Fleiss' kappa 0.41 over 30 outputs rated by 3 people: moderate agreement"."""
    if agreement.kappa is None:
        return agreement.note
    name = "Cohen's" if agreement.method == "cohen" else "Fleiss'"
    outputs = f"{agreement.items} output" + ("" if agreement.items == 1 else "s")
    line = (f"{name} kappa {agreement.kappa:.2f} over {outputs} rated by "
            f"{agreement.reviewers} people: {kappa_words(agreement.kappa)}")
    if agreement.stars_weighted_kappa is not None:
        line += (f"; on the stars, weighted kappa {agreement.stars_weighted_kappa:.2f} over "
                 f"{agreement.stars_items} outputs")
    return line + "."


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


def strength_text(row: ProviderRanking) -> str:
    if row.strength is None:
        return "no votes"
    text = f"{row.strength:.2f}"
    if row.strength_ci is not None:
        text += f" ({row.strength_ci.low:.2f}–{row.strength_ci.high:.2f})"
    return text


def row_cells(row: ProviderRanking, title: str) -> list[str]:
    """The table's cells for one provider, in COLUMNS order."""
    review = row.review
    rate = _percent(review.pass_rate)
    if review.pass_rate is not None:
        rate += f" of {review.outputs_reviewed}"
    return [
        title,
        strength_text(row),
        _percent(row.win_rate),
        str(row.votes),
        rate,
        f"{review.mean_stars:.1f}" if review.mean_stars is not None else "–",
        human_duration(review.median_duration_s) if review.median_duration_s is not None
        else "–",
        f"{review.credits_per_pass:.3g}" if review.credits_per_pass is not None else "–",
        ", ".join(f"{tag} ({n})" for tag, n in review.top_defects[:3]) or "–",
    ]


class StrengthChart(QWidget):
    """Dots with error bars, one row per provider, strongest first, on a log scale."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rankingsChart")
        self.setAccessibleName("Strength of each provider with its 95 percent interval")
        self._rows: list[tuple[str, ProviderRanking]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_rows(self, rows: Sequence[tuple[str, ProviderRanking]]) -> None:
        self._rows = list(rows)
        self.setFixedHeight(self.sizeHint().height())
        self.setAccessibleDescription("; ".join(f"{title}: {strength_text(r)}"
                                                for title, r in self._rows))
        self.update()

    def rows(self) -> list[tuple[str, ProviderRanking]]:
        return list(self._rows)

    def sizeHint(self) -> QSize:
        return QSize(360, max(1, len(self._rows)) * ROW_HEIGHT + AXIS_HEIGHT + 8)

    def scale_range(self) -> tuple[float, float]:
        """Log10 of the axis ends: every interval and 1 inside, with a little room."""
        values = [1.0]
        for _title, row in self._rows:
            if row.strength is not None:
                values.append(row.strength)
            if row.strength_ci is not None:
                values += [row.strength_ci.low, row.strength_ci.high]
        logs = [math.log10(max(v, 1e-6)) for v in values]
        low, high = min(logs), max(logs)
        span = max(high - low, 0.3)
        return low - span * 0.08, high + span * 0.08

    def x_for(self, value: float, plot: QRectF) -> float:
        low, high = self.scale_range()
        fraction = (math.log10(max(value, 1e-6)) - low) / (high - low)
        return plot.left() + fraction * plot.width()

    def plot_rect(self) -> QRectF:
        metrics = QFontMetrics(self.font())
        names = max((metrics.horizontalAdvance(t) for t, _r in self._rows), default=60)
        left = min(names + 16, self.width() * 0.4)
        return QRectF(left, 4, max(10.0, self.width() - left - 16),
                      len(self._rows) * ROW_HEIGHT)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.Text)
        dim = QColor(text)
        dim.setAlphaF(0.55)
        accent = palette.color(QPalette.ColorRole.Highlight)
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        if not self._rows:
            painter.setPen(dim)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No providers yet")
            painter.end()
            return
        plot = self.plot_rect()
        metrics = QFontMetrics(self.font())
        # The average (strength 1), and ticks on the axis.
        low, high = self.scale_range()
        axis_y = plot.bottom() + 4
        painter.setPen(QPen(dim, 1))
        painter.drawLine(QPointF(plot.left(), axis_y), QPointF(plot.right(), axis_y))
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.85))
        painter.setFont(small)
        for tick in (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 10, 20):
            if low <= math.log10(tick) <= high:
                x = self.x_for(tick, plot)
                painter.drawLine(QPointF(x, axis_y), QPointF(x, axis_y + 4))
                label = f"{tick:g}" + (" = average" if tick == 1 else "")
                width = QFontMetrics(small).horizontalAdvance(label)
                painter.drawText(QRectF(x - width / 2 - 2, axis_y + 5, width + 4, 16),
                                 Qt.AlignmentFlag.AlignCenter, label)
        one = self.x_for(1.0, plot)
        painter.setPen(QPen(dim, 1, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(one, plot.top()), QPointF(one, axis_y))
        painter.setFont(self.font())
        for i, (title, row) in enumerate(self._rows):
            y = plot.top() + i * ROW_HEIGHT + ROW_HEIGHT / 2
            painter.setPen(text)
            name = metrics.elidedText(title, Qt.TextElideMode.ElideRight, int(plot.left() - 12))
            painter.drawText(QRectF(4, y - ROW_HEIGHT / 2, plot.left() - 12, ROW_HEIGHT),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, name)
            if row.strength is None:
                painter.setPen(dim)
                painter.drawText(QRectF(plot.left() + 6, y - ROW_HEIGHT / 2, plot.width(),
                                        ROW_HEIGHT), Qt.AlignmentFlag.AlignVCenter,
                                 "no votes yet")
                continue
            if row.strength_ci is not None:
                x1 = self.x_for(row.strength_ci.low, plot)
                x2 = self.x_for(row.strength_ci.high, plot)
                painter.setPen(QPen(text, 2))
                painter.drawLine(QPointF(x1, y), QPointF(x2, y))
                painter.drawLine(QPointF(x1, y - 5), QPointF(x1, y + 5))
                painter.drawLine(QPointF(x2, y - 5), QPointF(x2, y + 5))
            x = self.x_for(row.strength, plot)
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Base), 1.5))
            painter.setBrush(accent)
            painter.drawEllipse(QPointF(x, y), 6, 6)
            painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.end()


class RankingsPanel(QWidget):
    """Chart, table and agreement line; `taskChanged` and `refreshRequested` for the
    controller, which calls `show_rankings`."""

    taskChanged = Signal(str)  # "" for every task
    refreshRequested = Signal()

    def __init__(self, provider_titles: Mapping[str, str], task_titles: Mapping[str, str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rankingsPanel")
        self.setAccessibleName("Provider rankings")
        self._provider_titles = dict(provider_titles)
        self._task_titles = dict(task_titles)
        self._rankings: Rankings | None = None

        self.scope = QLabel("", self)
        self.scope.setObjectName("rankingsScope")
        self.scope.setWordWrap(True)
        self.task_combo = QComboBox(self)
        self.task_combo.setObjectName("rankingsTask")
        self.task_combo.setAccessibleName("Rank for one task")
        self.task_combo.addItem("All tasks", "")
        self.task_combo.currentIndexChanged.connect(
            lambda _i: self.taskChanged.emit(str(self.task_combo.currentData() or "")))
        self.refresh_button = QToolButton(self)
        self.refresh_button.setObjectName("rankingsRefresh")
        self.refresh_button.setAccessibleName("Rank again")
        self.refresh_button.setText("Refresh")
        self.refresh_button.setToolTip("Rank again from the votes and reviews now stored")
        self.refresh_button.clicked.connect(self.refreshRequested)
        top = QHBoxLayout()
        top.addWidget(self.task_combo, 1)
        top.addWidget(self.refresh_button)

        self.chart = StrengthChart(self)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("rankingsTable")
        self.table.setAccessibleName("Rankings table")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.agreement = QLabel("", self)
        self.agreement.setObjectName("rankingsAgreement")
        self.agreement.setWordWrap(True)
        self.agreement.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note = QLabel("", self)
        self.note.setObjectName("rankingsNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(placeholder-text);")
        self.note.setText("Strength: how often a provider wins blind votes (Bradley–Terry), "
                          "1 = average; the bar is its 95 % interval. Strength 2 beats an "
                          "average provider two votes in three.")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.scope)
        layout.addWidget(self.chart)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.agreement)
        layout.addWidget(self.note)

    # -- state ----------------------------------------------------------------------------------
    def title(self, provider: str) -> str:
        return self._provider_titles.get(provider, provider)

    def set_tasks(self, tasks: Sequence[str], current: str = "") -> None:
        """The tasks one can rank for (keeps the choice when it is among them)."""
        chosen = current or str(self.task_combo.currentData() or "")
        self.task_combo.blockSignals(True)
        self.task_combo.clear()
        self.task_combo.addItem("All tasks", "")
        for task in sorted(set(tasks) | ({chosen} if chosen else set()),
                           key=lambda t: self._task_titles.get(t, t).lower()):
            self.task_combo.addItem(self._task_titles.get(task, task), task)
        self.task_combo.setCurrentIndex(max(0, self.task_combo.findData(chosen)))
        self.task_combo.blockSignals(False)

    def task_title(self, task: str) -> str:
        return self._task_titles.get(task, task)

    def task(self) -> str:
        return str(self.task_combo.currentData() or "")

    def set_busy(self, text: str) -> None:
        self.scope.setText(text)
        self.refresh_button.setEnabled(False)

    def show_problem(self, text: str) -> None:
        self.scope.setText(text)
        self.refresh_button.setEnabled(True)

    def rankings(self) -> Rankings | None:
        return self._rankings

    def show_rankings(self, rankings: Rankings, scope: str) -> None:
        self._rankings = rankings
        self.refresh_button.setEnabled(True)
        self.scope.setText(scope)
        rows = [(self.title(r.provider), r) for r in rankings.providers]
        self.chart.set_rows(rows)
        self.table.setRowCount(len(rows))
        for i, (title, row) in enumerate(rows):
            for j, text in enumerate(row_cells(row, title)):
                item = QTableWidgetItem(text)
                if j not in (0, len(COLUMNS) - 1):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(i, j, item)
        self.agreement.setText(agreement_line(rankings.agreement))
        fit = rankings.fit
        if not fit.connected and len(fit.components) > 1:
            groups = "; ".join(", ".join(self.title(p) for p in g) for g in fit.components)
            self.agreement.setText(self.agreement.text() + f"\nSome providers were never "
                                   f"compared with each other ({groups}): strengths compare "
                                   "only within a group.")

    def table_text(self) -> list[list[str]]:
        """The table as shown (tests)."""
        return [[self.table.item(r, c).text() for c in range(self.table.columnCount())]
                for r in range(self.table.rowCount())]


def scope_text(jobs: int, votes: int, reviews: int, task_title: str = "") -> str:
    """'From the 120 jobs the history shows (Try-on): 45 votes and 80 reviews.'"""
    what = f" ({task_title})" if task_title else ""
    return (f"From the {jobs:,} job{'' if jobs == 1 else 's'} the history shows{what}: "
            f"{votes:,} vote{'' if votes == 1 else 's'} and {reviews:,} "
            f"review{'' if reviews == 1 else 's'}.")
