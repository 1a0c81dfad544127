"""One person's review of one output, editable: pass or fail, 1-5 stars, defect tags as chips,
a note; under it what the other reviewers said, with their names and when.

The editor holds no store: every change emits `edited` with the whole review as it now is
(an empty review means "no review": the store deletes it), and whoever owns the editor saves
it off the GUI thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.reviews import Review, Verdict
from desktop.ui.flow_layout import FlowLayout
from desktop.ui.history_model import when_text

PASS_COLOUR = "#2e9d4f"
FAIL_COLOUR = "#d23c32"
STAR_COLOUR = "#e0a800"

EDITOR_STYLE = f"""
QToolButton#reviewTag {{
    border: 1px solid palette(mid); border-radius: 10px; padding: 2px 8px;
}}
QToolButton#reviewTag:checked {{
    background: palette(highlight); color: palette(highlighted-text);
    border-color: palette(highlight);
}}
QToolButton#reviewPass, QToolButton#reviewFail {{
    border: 1px solid palette(mid); border-radius: 4px; padding: 3px 10px; font-weight: bold;
}}
QToolButton#reviewPass:checked {{ background: {PASS_COLOUR}; color: white;
    border-color: {PASS_COLOUR}; }}
QToolButton#reviewFail:checked {{ background: {FAIL_COLOUR}; color: white;
    border-color: {FAIL_COLOUR}; }}
QToolButton[star="true"] {{ border: none; color: {STAR_COLOUR}; font-size: 18px;
    padding: 0px 1px; }}
"""


def stars_text(stars: int | None) -> str:
    return "" if not stars else "★" * stars + "☆" * (5 - stars)


def verdict_word(verdict: Verdict | None) -> str:
    return {Verdict.PASS: "Pass", Verdict.FAIL: "Fail"}.get(verdict, "") if verdict else ""


def review_line(review: Review, *, now: float | None = None) -> str:
    """'ben: Fail · ★★☆☆☆ · hands or face broken · “fingers” · Today 14:02'."""
    parts = [p for p in (verdict_word(review.verdict), stars_text(review.stars),
                         ", ".join(review.tags)) if p]
    if review.note:
        parts.append(f"“{review.note}”")
    when = when_text(review.updated_at or review.created_at, now) if (
        review.updated_at or review.created_at) else ""
    if when:
        parts.append(when)
    return f"{review.reviewer}: " + " · ".join(parts)


class ReviewEditor(QWidget):
    """Verdict buttons, stars, tag chips and a note for one output; others' reviews below."""

    #: This reviewer's review after a change (empty when everything was cleared).
    edited = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reviewEditor")
        self.setAccessibleName("Review of the shown result")
        self.setStyleSheet(EDITOR_STYLE)
        self._review: Review | None = None
        self._tags: tuple[str, ...] = ()
        self._chips: dict[str, QToolButton] = {}

        self.heading = QLabel("Your review", self)
        self.heading.setObjectName("reviewHeading")
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        self.pass_button = self._verdict_button("✓ Pass", "reviewPass", Verdict.PASS,
                                                "Pass (P in review mode)")
        self.fail_button = self._verdict_button("✗ Fail", "reviewFail", Verdict.FAIL,
                                                "Fail (F in review mode)")
        self.star_buttons: list[QToolButton] = []
        for n in range(1, 6):
            star = QToolButton(self)
            star.setObjectName(f"reviewStar{n}")
            star.setProperty("star", True)
            star.setText("☆")
            star.setAccessibleName(f"{n} star" + ("" if n == 1 else "s"))
            star.setToolTip(f"{n} of 5 ({n} in review mode); click again to clear")
            star.setCursor(Qt.CursorShape.PointingHandCursor)
            star.clicked.connect(lambda _c=False, v=n: self.set_stars(
                None if self.stars() == v else v))
            self.star_buttons.append(star)
        top = QHBoxLayout()
        top.setSpacing(4)
        top.addWidget(self.pass_button)
        top.addWidget(self.fail_button)
        top.addSpacing(10)
        for star in self.star_buttons:
            top.addWidget(star)
        top.addStretch(1)

        self.tag_area = QWidget(self)
        self.tag_area.setObjectName("reviewTags")
        self.tag_layout = FlowLayout(self.tag_area, spacing=4)
        self.note = QLineEdit(self)
        self.note.setObjectName("reviewNote")
        self.note.setAccessibleName("Review note")
        self.note.setPlaceholderText("Note")
        self.note.setClearButtonEnabled(True)
        self.note.editingFinished.connect(self._note_finished)
        self.others = QLabel("", self)
        self.others.setObjectName("reviewOthers")
        self.others.setAccessibleName("Other reviewers")
        self.others.setWordWrap(True)
        self.others.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message = QLabel("", self)
        self.message.setObjectName("reviewMessage")
        self.message.setWordWrap(True)
        self.message.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(5)
        layout.addWidget(self.heading)
        layout.addLayout(top)
        layout.addWidget(self.tag_area)
        layout.addWidget(self.note)
        layout.addWidget(self.others)
        layout.addWidget(self.message)
        self.set_subject(None)

    def _verdict_button(self, text: str, name: str, verdict: Verdict, tip: str) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setObjectName(name)
        button.setAccessibleName(verdict_word(verdict))
        button.setToolTip(tip + "; click again to clear")
        button.setCheckable(True)
        button.clicked.connect(lambda _c=False: self.toggle_verdict(verdict))
        return button

    # -- what is shown --------------------------------------------------------------------------
    def set_subject(self, review: Review | None, tags: Sequence[str] = (),
                    others: Iterable[Review] = ()) -> None:
        """Show `review` (this reviewer's, possibly empty: no verdict yet) with the task's
        `tags`; None shows nothing to review. No signal."""
        self._review = review
        known = tuple(tags)
        extra = tuple(t for t in (review.tags if review else ()) if t not in known)
        self._tags = known + extra
        self._build_chips()
        self.note.blockSignals(True)
        self.note.setText(review.note if review else "")
        self.note.blockSignals(False)
        for widget in (self.pass_button, self.fail_button, *self.star_buttons, self.note,
                       self.tag_area):
            widget.setEnabled(review is not None)
        self.heading.setText(f"Your review ({review.reviewer})" if review else
                             "Review: show a result to review it")
        self.set_others(others)
        self.show_message("")
        self._sync()

    def set_others(self, others: Iterable[Review]) -> None:
        """Show the other reviewers' reviews (another desk reviewed the shown output); this
        reviewer's review, perhaps being edited, stays as it is."""
        lines = [review_line(r) for r in others]
        self.others.setText("Other reviews:\n" + "\n".join(lines) if lines else
                            ("No one else has reviewed it." if self._review else ""))

    def subject(self) -> Review | None:
        return self._review

    def tags(self) -> tuple[str, ...]:
        """The tags offered (the task's list, and any others the review carries)."""
        return self._tags

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {FAIL_COLOUR};" if error else "")
        self.message.setVisible(bool(text))

    def _build_chips(self) -> None:
        for chip in self._chips.values():
            self.tag_layout.removeWidget(chip)
            chip.deleteLater()
        self._chips = {}
        for tag in self._tags:
            chip = QToolButton(self.tag_area)
            chip.setObjectName("reviewTag")
            chip.setText(tag)
            chip.setAccessibleName(f"Tag {tag}")
            chip.setCheckable(True)
            chip.clicked.connect(lambda _c=False, t=tag: self.toggle_tag(t))
            self.tag_layout.addWidget(chip)
            self._chips[tag] = chip
        self.tag_area.updateGeometry()

    def _sync(self) -> None:
        review = self._review
        self.pass_button.setChecked(bool(review and review.verdict == Verdict.PASS))
        self.fail_button.setChecked(bool(review and review.verdict == Verdict.FAIL))
        stars = review.stars if review else None
        for n, star in enumerate(self.star_buttons, start=1):
            star.setText("★" if stars is not None and n <= stars else "☆")
        for tag, chip in self._chips.items():
            chip.setChecked(bool(review and tag in review.tags))

    # -- values ---------------------------------------------------------------------------------
    def verdict(self) -> Verdict | None:
        return self._review.verdict if self._review else None

    def stars(self) -> int | None:
        return self._review.stars if self._review else None

    def chip(self, tag: str) -> QToolButton | None:
        return self._chips.get(tag)

    def _change(self, **changes: object) -> None:
        if self._review is None:
            return
        updated = replace(self._review, **changes)  # type: ignore[arg-type]
        if updated == self._review:
            return
        self._review = updated
        self._sync()
        self.edited.emit(updated)

    def set_verdict(self, verdict: Verdict | None) -> None:
        self._change(verdict=verdict)

    def toggle_verdict(self, verdict: Verdict) -> None:
        """Set it, or clear it when it is already the verdict."""
        self.set_verdict(None if self.verdict() == verdict else verdict)
        self._sync()  # a click on the checked button unchecks it even when nothing changed

    def set_stars(self, stars: int | None) -> None:
        self._change(stars=stars)

    def toggle_tag(self, tag: str) -> None:
        if self._review is None:
            return
        tags = list(self._review.tags)
        if tag in tags:
            tags.remove(tag)
        else:
            tags.append(tag)
        self._change(tags=tuple(t for t in self._tags if t in tags))

    def set_note(self, text: str) -> None:
        self.note.blockSignals(True)
        self.note.setText(text)
        self.note.blockSignals(False)
        self._change(note=text.strip())

    def _note_finished(self) -> None:
        if self._review is not None and self.note.text().strip() != self._review.note:
            self._change(note=self.note.text().strip())
