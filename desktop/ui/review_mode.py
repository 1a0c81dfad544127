"""Review mode: a full-window pass over a selection of results, one output at a time.

The output is shown large in a compare view (before/after, wipe, toggle, difference, zoom),
with the review editor beside it. Keys: Left/Right or K/J move, P pass, F fail, 1-5 stars (0
clears them), T opens the tags (typing the first letters picks one, Enter or Space ticks it),
N edits the note, U undoes the last change (the review as it was before, a new one removed),
Esc leaves. The digits and F belong to the review here, so the compare modes move to Alt+1 to
Alt+6 and Fit to Ctrl+0.

Every change is saved at once, in a worker (ReviewIO keeps the saves in order). Where the pass
stopped is kept per selection in QSettings, so opening the same selection again resumes there.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import shiboken6
from PySide6.QtCore import QEvent, QObject, QSettings, Qt, Signal
from PySide6.QtGui import QFont, QImage, QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.model import InvalidInput, Job, OutputKind
from desktop.core.plain_words import output_title
from desktop.core.reviews import Review, Verdict
from desktop.ui.compare_view import CompareItem, CompareView
from desktop.ui.history_model import when_text
from desktop.ui.output_images import OutputImages, message
from desktop.ui.overlay import WindowOverlay
from desktop.ui.review_editor import ReviewEditor
from desktop.ui.review_io import ReviewIO, ReviewIOError
from desktop.ui.review_tag_picker import TagPicker
from desktop.ui.tasks import TaskSet

log = logging.getLogger(__name__)

#: The compare view's keys that review mode takes for itself, and where they move.
REVIEW_KEYS = {"1": "Alt+1", "2": "Alt+2", "3": "Alt+3", "4": "Alt+4", "5": "Alt+5",
               "6": "Alt+6", "F": ""}
CACHE_ITEMS = 6  # decoded outputs kept (the current one, the next, the way back)
SETTINGS_GROUP = "reviewMode"

KEY_HELP = (
    ("← → or K J", "previous / next"),
    ("P  F", "pass / fail"),
    ("1 – 5, 0", "stars, clear stars"),
    ("T", "tags: type the first letters, Enter ticks"),
    ("N", "note (Enter keeps it, Esc drops it)"),
    ("U", "undo the last change"),
    ("Alt+1 – 6", "side by side, wipe, toggle, difference, blend, structure"),
    ("Space", "flip before / after (toggle mode)"),
    ("Ctrl+0  Ctrl+1", "fit, 100 %; wheel zooms"),
    ("Esc", "leave review mode"),
)


@dataclass(frozen=True)
class ReviewItem:
    """One output of one job: what a review is about."""

    job: Job
    position: int

    @property
    def key(self) -> tuple[str, int]:
        return (self.job.id, self.position)


def review_items(jobs: Sequence[Job]) -> list[ReviewItem]:
    """Every image output of the jobs, in the jobs' order."""
    return [ReviewItem(job, out.position) for job in jobs
            for out in sorted(job.outputs, key=lambda o: o.position)
            if out.kind == OutputKind.IMAGE]


def selection_key(items: Sequence[ReviewItem]) -> str:
    """The same outputs give the same key, whatever their order."""
    ids = sorted(f"{item.job.id}:{item.position}" for item in items)
    return hashlib.sha1("\n".join(ids).encode()).hexdigest()[:20]


class ReviewMode(WindowOverlay):
    """The full-window review pass; `left` when the user leaves (Esc or the button)."""

    left = Signal()

    def __init__(self, window: QWidget, items: Sequence[ReviewItem], *, reviewer: str,
                 tags_for: Callable[[str], Sequence[str]], io: ReviewIO,
                 images: OutputImages, qsettings: QSettings,
                 title_of: Callable[[Job], str]) -> None:
        super().__init__(window)
        self.setObjectName("reviewMode")
        self.setAccessibleName("Review mode")
        self.items = list(items)
        self.reviewer = reviewer
        self._tags_for = tags_for
        self._io = io
        self._images = images
        self._qsettings = qsettings
        self._title_of = title_of
        self._index = -1
        self._index_of = {item.key: i for i, item in enumerate(self.items)}
        self._mine: dict[tuple[str, int], Review] = {}
        self._others: dict[tuple[str, int], list[Review]] = {}
        self._undo: list[tuple[tuple[str, int], Review | None]] = []
        #: Saves under way per output: a review read back meanwhile may be older than them.
        self._saving: dict[tuple[str, int], int] = {}
        self._job_ids = {item.job.id for item in self.items}
        self._cache: OrderedDict[tuple[str, int], CompareItem | None] = OrderedDict()
        self._befores: OrderedDict[str, QImage | None] = OrderedDict()
        self._tasks = TaskSet("Review mode", lambda exc: self.show_message(
            f"Something went wrong: {exc}. Details are in the log.", error=True))
        self._key = selection_key(self.items)
        self._build()

    # -- construction -------------------------------------------------------------------------
    def _build(self) -> None:
        self.heading = QLabel("Review", self)
        font = QFont(self.heading.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.heading.setFont(font)
        self.where = QLabel("", self)
        self.where.setObjectName("reviewWhere")
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.counter = QLabel("", self)
        self.counter.setObjectName("reviewCounter")
        self.counter.setAccessibleName("Reviewed so far")
        counter_font = QFont(self.counter.font())
        counter_font.setBold(True)
        self.counter.setFont(counter_font)
        self.leave_button = QPushButton("Leave (Esc)", self)
        self.leave_button.setObjectName("reviewLeave")
        self.leave_button.setAccessibleName("Leave review mode")
        self.leave_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.leave_button.clicked.connect(self.leave)
        top = QHBoxLayout()
        top.addWidget(self.heading)
        top.addSpacing(12)
        top.addWidget(self.where, 1)
        top.addWidget(self.counter)
        top.addSpacing(12)
        top.addWidget(self.leave_button)

        self.view = CompareView(self)
        self.view.setObjectName("reviewCompareView")
        self.view.remap_keys(REVIEW_KEYS)
        self.view.set_placeholder("Loading…")

        self.side = QWidget(self)
        self.side.setObjectName("reviewSide")
        self.side.setFixedWidth(360)
        self.editor = ReviewEditor(self.side)
        self.editor.edited.connect(self._on_edited)
        self.editor.note.installEventFilter(self)
        self.editor.note.setPlaceholderText("Note (N)")
        self.prev_button = QPushButton("← Previous", self.side)
        self.prev_button.setObjectName("reviewPrevious")
        self.next_button = QPushButton("Next →", self.side)
        self.next_button.setObjectName("reviewNext")
        self.prev_button.setAccessibleName("Previous output")
        self.next_button.setAccessibleName("Next output")
        for button, step in ((self.prev_button, -1), (self.next_button, 1)):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _c=False, s=step: self.go(self._index + s))
        moves = QHBoxLayout()
        moves.addWidget(self.prev_button)
        moves.addWidget(self.next_button)
        help_label = QLabel(self._help_html(), self.side)
        help_label.setObjectName("reviewKeys")
        help_label.setTextFormat(Qt.TextFormat.RichText)
        help_label.setWordWrap(True)  # the side panel is narrow on a small screen
        help_label.setStyleSheet("color: palette(placeholder-text);")
        side = QVBoxLayout(self.side)
        side.setContentsMargins(8, 0, 0, 0)
        side.addWidget(self.editor)
        side.addLayout(moves)
        side.addStretch(1)
        side.addWidget(help_label)

        body = QHBoxLayout()
        body.setSpacing(8)
        body.addWidget(self.view, 1)
        body.addWidget(self.side)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 10)
        layout.addLayout(top)
        layout.addLayout(body, 1)

        self.tag_picker = TagPicker(self)
        self.tag_picker.toggled.connect(self._on_picker_toggled)
        self.tag_picker.closed.connect(self._refocus)

    @staticmethod
    def _help_html() -> str:
        rows = "".join(f"<tr><td style='padding-right:10px'><b>{k}</b></td><td>{v}</td></tr>"
                       for k, v in KEY_HELP)
        return f"<table cellspacing='1'>{rows}</table>"

    # -- start and leave ------------------------------------------------------------------------
    async def start(self) -> None:
        """Read the reviews of the selection, then show where the last pass stopped (or the
        first output this reviewer has not reviewed)."""
        self.cover()
        if not self.items:
            self.view.set_placeholder("Nothing to review: the selection has no image results.")
            self._update_counter()
            return
        try:
            reviews = await self._io.for_jobs(list(dict.fromkeys(i.job.id for i in self.items)))
        except ReviewIOError as exc:
            self.show_message(str(exc), error=True)
            reviews = []
        for review in reviews:
            key = (review.job_id, review.position)
            if key not in self._index_of:
                continue
            if review.reviewer == self.reviewer:
                self._mine[key] = review
            else:
                self._others.setdefault(key, []).append(review)
        self.go(self._resume_index())
        self._refocus()

    def _resume_index(self) -> int:
        saved = str(self._qsettings.value(f"{SETTINGS_GROUP}/{self._key}", "") or "")
        job_id, _, position = saved.rpartition(":")
        if job_id and position.isdigit() and (job_id, int(position)) in self._index_of:
            return self._index_of[(job_id, int(position))]
        return next((i for i, item in enumerate(self.items) if item.key not in self._mine), 0)

    def leave(self) -> None:
        self.tag_picker.close_picker()
        self.editor.note.clearFocus()
        self._qsettings.sync()
        self.uncover()
        self.left.emit()

    async def settle(self) -> None:
        """Wait for every load and save under way (tests, and before closing)."""
        await self._tasks.join()

    async def aclose(self) -> None:
        """Let the saves under way land (briefly), then stop."""
        await asyncio.wait([asyncio.ensure_future(self._tasks.join())], timeout=5)
        await self._tasks.aclose()

    # -- moving ---------------------------------------------------------------------------------
    def index(self) -> int:
        return self._index

    def current(self) -> ReviewItem | None:
        return self.items[self._index] if 0 <= self._index < len(self.items) else None

    def go(self, index: int) -> None:
        if not self.items:
            return
        if index < 0 or index >= len(self.items):
            self.show_message("That was the first output." if index < 0 else
                              "That was the last output; Esc leaves review mode.")
            return
        self.tag_picker.close_picker()
        self._index = index
        item = self.items[index]
        self._qsettings.setValue(f"{SETTINGS_GROUP}/{self._key}",
                                 f"{item.job.id}:{item.position}")
        self._show_review(item)
        outputs = len([o for o in item.job.outputs if o.kind == OutputKind.IMAGE])
        which = f" · result {item.position + 1} of {outputs}" if outputs > 1 else ""
        self.where.setText(f"{self._title_of(item.job)}{which} · "
                           f"{when_text(item.job.created_at)} · job {item.job.id[:8]}"
                           f"   —   output {index + 1} of {len(self.items)}")
        self.prev_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < len(self.items) - 1)
        self._tasks.spawn(self._show_images(index))

    def _show_review(self, item: ReviewItem) -> None:
        mine = self._mine.get(item.key) or Review(item.job.id, item.position, self.reviewer)
        self.editor.set_subject(mine, self._tags_for(item.job.task),
                                self._others.get(item.key, []))
        self._update_counter()

    def _update_counter(self) -> None:
        self.counter.setText(f"{self.reviewed_count()} / {len(self.items)} reviewed")

    def reviewed_count(self) -> int:
        return sum(1 for item in self.items if item.key in self._mine)

    async def _show_images(self, index: int) -> None:
        item = self.items[index]
        before, shown = await self._load(item)
        if not shiboken6.isValid(self) or self._index != index:
            return
        self.view.set_before(before)
        if shown is None:
            self.view.set_outputs([])
            self.view.set_placeholder("This result cannot be shown: its file is missing or "
                                      "does not decode. You can still review it.")
        else:
            self.view.set_outputs([shown])
        if index + 1 < len(self.items):  # the next one is ready when asked for
            await self._load(self.items[index + 1])

    async def _load(self, item: ReviewItem) -> tuple[QImage | None, CompareItem | None]:
        job = item.job
        if job.id not in self._befores:
            self._befores[job.id] = await self._images.before_image(job)
            while len(self._befores) > CACHE_ITEMS:
                self._befores.popitem(last=False)
        before = self._befores.get(job.id)
        if item.key not in self._cache:
            out = next(o for o in job.outputs if o.position == item.position)
            try:
                image = await self._images.output_image(out)
            except (OSError, InvalidInput) as exc:
                self.show_message(f"Result {item.position + 1} cannot be shown: "
                                  f"{message(exc)}", error=True)
                shown = None
            else:
                shown = CompareItem(image, self._title_of(job), output_title(job, out))
            self._cache[item.key] = shown
            while len(self._cache) > CACHE_ITEMS:
                self._cache.popitem(last=False)
        return before, self._cache.get(item.key)

    # -- changing -------------------------------------------------------------------------------
    def review(self, key: tuple[str, int] | None = None) -> Review | None:
        """This reviewer's review of an output (the current one by default), as on screen."""
        item = self.current()
        if key is None and item is None:
            return None
        return self._mine.get(key or item.key)  # type: ignore[union-attr]

    def _on_edited(self, review: Review) -> None:
        key = (review.job_id, review.position)
        self._undo.append((key, self._mine.get(key)))
        self._remember(review)
        self._tasks.spawn(self._save(review))

    def _remember(self, review: Review) -> None:
        key = (review.job_id, review.position)
        if review.empty:
            self._mine.pop(key, None)
        else:
            self._mine[key] = review
        self._update_counter()
        if not self.tag_picker.isHidden():
            self.tag_picker.set_chosen(review.tags)

    async def _save(self, review: Review) -> None:
        key = (review.job_id, review.position)
        self._saving[key] = self._saving.get(key, 0) + 1
        try:
            await self._io.save(review)
        except ReviewIOError as exc:
            if shiboken6.isValid(self):
                self.show_message(str(exc), error=True)
        finally:
            left = self._saving.pop(key, 1) - 1
            if left:
                self._saving[key] = left

    # -- other desks (team mode) ------------------------------------------------------------------
    def reviews_changed(self, job_ids: Collection[str]) -> None:
        """Reviews of these jobs changed, perhaps on another desk: read those of the selection
        again. Other reviewers' show at once; this reviewer's own (changed on another desk of
        theirs) replaces the one here unless it is being typed or saved."""
        wanted = sorted(self._job_ids.intersection(job_ids))
        if wanted:
            self._tasks.spawn(self._reload(wanted))

    async def _reload(self, job_ids: list[str]) -> None:
        try:
            reviews = await self._io.for_jobs(job_ids)
        except ReviewIOError as exc:
            log.info("Reading the reviews again failed: %s", exc)
            return
        if not shiboken6.isValid(self):
            return
        mine: dict[tuple[str, int], Review] = {}
        others: dict[tuple[str, int], list[Review]] = {}
        for review in reviews:
            key = (review.job_id, review.position)
            if review.reviewer == self.reviewer:
                mine[key] = review
            else:
                others.setdefault(key, []).append(review)
        current = self.current()
        typing = self.editor.note.hasFocus() or not self.tag_picker.isHidden()
        changed_here = False
        for key in (k for k in self._index_of if k[0] in job_ids):
            self._others[key] = others.get(key, [])
            busy = self._saving.get(key) or (typing and current is not None
                                             and key == current.key)
            if not busy and mine.get(key) != self._mine.get(key):
                if key in mine:
                    self._mine[key] = mine[key]
                else:
                    self._mine.pop(key, None)
                changed_here = changed_here or (current is not None and key == current.key)
        if current is not None and current.job.id in job_ids:
            if changed_here:
                self._show_review(current)
            else:
                self.editor.set_others(self._others.get(current.key, []))
        self._update_counter()

    def undo(self) -> None:
        """Put the last changed review back as it was (a review that did not exist is
        removed)."""
        if not self._undo:
            self.show_message("Nothing to undo.")
            return
        key, previous = self._undo.pop()
        restored = previous or Review(key[0], key[1], self.reviewer)
        self._remember(restored)
        index = self._index_of[key]
        if index != self._index:
            self.go(index)
        else:
            self._show_review(self.items[index])
        self._tasks.spawn(self._save(restored))
        self.show_message("Undone: the review is back as it was." if previous else
                          "Undone: the review is removed.")

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.editor.show_message(text, error=error)

    def open_tags(self) -> None:
        item = self.current()
        if item is None:
            return
        review = self._mine.get(item.key)
        picker = self.tag_picker
        picker.setFixedWidth(self.side.width())
        picker.open_with(self.editor.tags(), review.tags if review else ())
        top_left = self.editor.tag_area.mapTo(self, self.editor.tag_area.rect().topLeft())
        picker.move(self.side.mapTo(self, self.side.rect().topLeft()).x(), top_left.y())

    def _on_picker_toggled(self, tag: str) -> None:
        self.editor.toggle_tag(tag)

    def _refocus(self) -> None:
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- keys -----------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.editor.note and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.editor.set_note(self.editor.note.text())
                self._refocus()
                return True
            if event.key() == Qt.Key.Key_Escape:
                review = self.review()
                self.editor.note.setText(review.note if review else "")
                self._refocus()
                return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        blocked = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier \
            | Qt.KeyboardModifier.MetaModifier
        if event.modifiers() & blocked:
            if key == Qt.Key.Key_Z and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self.undo()
                return
            super().keyPressEvent(event)
            return
        actions: dict[int, Callable[[], None]] = {
            Qt.Key.Key_Left: lambda: self.go(self._index - 1),
            Qt.Key.Key_K: lambda: self.go(self._index - 1),
            Qt.Key.Key_Right: lambda: self.go(self._index + 1),
            Qt.Key.Key_J: lambda: self.go(self._index + 1),
            Qt.Key.Key_P: lambda: self.editor.set_verdict(Verdict.PASS),
            Qt.Key.Key_F: lambda: self.editor.set_verdict(Verdict.FAIL),
            Qt.Key.Key_0: lambda: self.editor.set_stars(None),
            Qt.Key.Key_T: self.open_tags,
            Qt.Key.Key_N: lambda: self.editor.note.setFocus(Qt.FocusReason.ShortcutFocusReason),
            Qt.Key.Key_U: self.undo,
            Qt.Key.Key_Escape: self.leave,
        }
        for n in range(1, 6):
            actions[Qt.Key.Key_0 + n] = lambda n=n: self.editor.set_stars(n)
        action = actions.get(key)
        if action is None or (self.current() is None and key != Qt.Key.Key_Escape):
            super().keyPressEvent(event)
            return
        event.accept()
        action()
