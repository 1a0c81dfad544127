"""The settings dialog's "Review" page: the reviewer's name, and the defect tags offered per task
family (try-on, staging, other), one tag a line; saved to settings.json "review"."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.reviews import DEFAULT_TAGS, ReviewSettings, default_reviewer

#: (family in settings.json, label, object name)
FAMILIES: tuple[tuple[str, str, str], ...] = (
    ("tryon", "Try-on tags", "reviewTagsTryon"),
    ("staging", "Staging tags", "reviewTagsStaging"),
    ("other", "Other tasks' tags", "reviewTagsOther"),
)
MAX_TAG_LENGTH = 60


def tags_from_text(text: str) -> tuple[str, ...]:
    """One tag a line; blank lines and repeats dropped, order kept."""
    return tuple(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))


class ReviewSettingsPage(QWidget):
    def __init__(self, settings: ReviewSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reviewSettingsPage")
        layout = QVBoxLayout(self)
        heading = QLabel("Review", self)
        font = QFont(heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        heading.setFont(font)
        layout.addWidget(heading)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.reviewer = QLineEdit(settings.reviewer, self)
        self.reviewer.setObjectName("reviewerField")
        self.reviewer.setAccessibleName("Reviewer name")
        self.reviewer.setPlaceholderText(default_reviewer())
        self.reviewer.setToolTip("Your reviews and votes are stored under this name; empty "
                                 "means your user name on this computer")
        label = QLabel("&Reviewer:", self)
        label.setBuddy(self.reviewer)
        form.addRow(label, self.reviewer)
        self.tag_fields: dict[str, QPlainTextEdit] = {}
        tags_row = QHBoxLayout()
        for family, title, name in FAMILIES:
            column = QVBoxLayout()
            column.setSpacing(2)
            field = QPlainTextEdit(self)
            field.setObjectName(name)
            field.setAccessibleName(title)
            field.setTabChangesFocus(True)
            field.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
            field.setPlainText("\n".join(settings.tags_for(family)))
            caption = QLabel(title, self)
            caption.setBuddy(field)
            column.addWidget(caption)
            column.addWidget(field, 1)
            tags_row.addLayout(column, 1)
            self.tag_fields[family] = field
        layout.addLayout(form)
        layout.addLayout(tags_row, 1)
        self.defaults_button = QPushButton("Restore the default tags", self)
        self.defaults_button.setObjectName("reviewTagsDefaults")
        self.defaults_button.setAccessibleName("Restore the default tags")
        self.defaults_button.clicked.connect(self.restore_defaults)
        row = QHBoxLayout()
        row.addWidget(self.defaults_button)
        row.addStretch(1)
        layout.addLayout(row)
        note = QLabel("One tag a line. They are the defect chips offered when you review a "
                      "result of that kind of task; a list left empty uses the defaults. "
                      "Renaming a tag does not change reviews already stored.", self)
        note.setWordWrap(True)
        note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        note.setStyleSheet("color: palette(placeholder-text);")
        layout.addWidget(note)

    def restore_defaults(self) -> None:
        for family, field in self.tag_fields.items():
            field.setPlainText("\n".join(DEFAULT_TAGS[family]))

    def problem(self) -> tuple[str, QWidget] | None:
        """The first thing wrong, as a sentence and the field to fix."""
        for family, title, _name in FAMILIES:
            field = self.tag_fields[family]
            for tag in tags_from_text(field.toPlainText()):
                if len(tag) > MAX_TAG_LENGTH:
                    return (f"{title}: “{tag[:30]}…” is longer than {MAX_TAG_LENGTH} "
                            "characters; shorten it.", field)
        return None

    def values(self) -> ReviewSettings:
        """The page as settings: lists equal to the defaults are not stored (a later Restyle
        with better defaults then offers those)."""
        tags: dict[str, tuple[str, ...]] = {}
        for family, field in self.tag_fields.items():
            chosen = tags_from_text(field.toPlainText())
            if chosen and chosen != DEFAULT_TAGS[family]:
                tags[family] = chosen
        return ReviewSettings(reviewer=self.reviewer.text().strip() or default_reviewer(),
                              tags=tags)
