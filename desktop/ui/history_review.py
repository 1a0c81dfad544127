"""The history panel's review filters (verdict, defect tag, "Mine") and its buttons that start
review mode or a blind comparison over the jobs it lists.

"Failed try-ons from FitInView this week" is provider FitInView, task Try-on, date "Last 7
days" and verdict "Fail"; "tagged hands or face broken" is the tag filter (the search box also
finds tags and notes).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from desktop.core.reviews import DEFAULT_TAGS, default_reviewer
from desktop.core.store import JobFilter

#: Verdict filter choices: label -> JobFilter.verdict.
VERDICT_CHOICES: tuple[tuple[str, str | None], ...] = (
    ("Any review", None),
    ("Pass", "pass"),
    ("Fail", "fail"),
    ("Reviewed", "reviewed"),
    ("Unreviewed", "unreviewed"),
)
ANY_TAG = "Any tag"


def all_default_tags() -> list[str]:
    return list(dict.fromkeys(t for tags in DEFAULT_TAGS.values() for t in tags))


class HistoryReviewBar(QWidget):
    """Verdict, tag and "Mine" filters; `changed` when one of them changes."""

    changed = Signal()
    reviewRequested = Signal()
    arenaRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyReviewFilters")
        self._reviewer = default_reviewer()
        self.verdict_combo = QComboBox(self)
        self.verdict_combo.setObjectName("historyVerdictFilter")
        self.verdict_combo.setAccessibleName("Filter by review verdict")
        self.verdict_combo.setToolTip("Filter by review: pass, fail, reviewed or not")
        for label, value in VERDICT_CHOICES:
            self.verdict_combo.addItem(label, value)
        self.tag_combo = QComboBox(self)
        self.tag_combo.setObjectName("historyTagFilter")
        self.tag_combo.setAccessibleName("Filter by defect tag")
        self.tag_combo.setToolTip("Only jobs a review tagged with this defect")
        self.set_tags(all_default_tags())
        for combo in (self.verdict_combo, self.tag_combo):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
            combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.mine = QToolButton(self)
        self.mine.setObjectName("historyMineOnly")
        self.mine.setText("Mine")
        self.mine.setCheckable(True)
        self.mine.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.mine.setAccessibleName("My reviews only")
        self.mine.toggled.connect(lambda _on: self.changed.emit())
        self._tip_mine()

        self.review_button = QToolButton()
        self.review_button.setObjectName("historyReviewThese")
        self.review_button.setAccessibleName("Review these jobs")
        self.review_button.setText("Review these")
        self.review_button.setAutoRaise(True)
        self.review_button.setToolTip("Review mode over the selected jobs, or over every job the"
                                      " filter shows when one or none is selected")
        self.review_button.clicked.connect(self.reviewRequested)
        self.arena_button = QToolButton()
        self.arena_button.setObjectName("historyCompareBlind")
        self.arena_button.setAccessibleName("Compare these jobs blind")
        self.arena_button.setText("Compare blind")
        self.arena_button.setAutoRaise(True)
        self.arena_button.setToolTip("Blind A/B comparison of the providers' results of the same"
                                     " inputs among these jobs")
        self.arena_button.clicked.connect(self.arenaRequested)

        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        row.addWidget(self.verdict_combo, 1)
        row.addWidget(self.tag_combo, 1)
        row.addWidget(self.mine)

    def _tip_mine(self) -> None:
        self.mine.setToolTip(f"Only reviews by {self._reviewer} (the reviewer name in Settings)")

    def set_reviewer(self, name: str) -> None:
        """Whose reviews "Mine" means; a checked Mine filters by the new name."""
        if name == self._reviewer:
            return
        self._reviewer = name
        self._tip_mine()
        if self.mine.isChecked():
            self.changed.emit()

    def reviewer(self) -> str:
        return self._reviewer

    def set_tags(self, tags: Iterable[str]) -> None:
        """The tags offered (every task family's list); the chosen one stays chosen."""
        current = self.tag_combo.currentData()
        self.tag_combo.blockSignals(True)
        self.tag_combo.clear()
        self.tag_combo.addItem(ANY_TAG, None)
        for tag in dict.fromkeys(tags):
            self.tag_combo.addItem(tag, tag)
        self.tag_combo.blockSignals(False)
        self._select_tag(current)

    def _select_tag(self, tag: str | None) -> None:
        self.tag_combo.blockSignals(True)
        try:
            if not tag:
                self.tag_combo.setCurrentIndex(0)
                return
            index = self.tag_combo.findData(tag)
            if index < 0:
                self.tag_combo.addItem(tag, tag)
                index = self.tag_combo.count() - 1
            self.tag_combo.setCurrentIndex(index)
        finally:
            self.tag_combo.blockSignals(False)

    def apply(self, job_filter: JobFilter) -> JobFilter:
        """`job_filter` with this bar's review fields."""
        return replace(job_filter, verdict=self.verdict_combo.currentData() or None,
                       tag=self.tag_combo.currentData() or None,
                       reviewer=self._reviewer if self.mine.isChecked() else None)

    def show_filter(self, job_filter: JobFilter) -> None:
        """Set the widgets from a filter, without emitting `changed`."""
        for widget in (self.verdict_combo, self.mine):
            widget.blockSignals(True)
        try:
            index = self.verdict_combo.findData(job_filter.verdict)
            self.verdict_combo.setCurrentIndex(max(0, index) if job_filter.verdict else 0)
            self.mine.setChecked(bool(job_filter.reviewer))
            if job_filter.reviewer:
                self._reviewer = job_filter.reviewer
                self._tip_mine()
        finally:
            for widget in (self.verdict_combo, self.mine):
                widget.blockSignals(False)
        self._select_tag(job_filter.tag)
