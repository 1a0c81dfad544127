"""The blind comparison ("arena"): two providers' results of the same inputs side by side, their
names hidden and their sides drawn at random, and one key per verdict.

Jobs are comparable when they ran the same task on the same inputs (their `spec.inputs`);
every pair of image outputs of two different providers in such a group is one question. The
sides and the order are drawn from a random generator seeded once per session. Keys: A (left
is better), B (right is better), T (tie), X (both bad), U takes the last vote back, I shows
the input beside them, Esc ends the session. Each vote is stored at once (ReviewStore.vote,
in a worker) with the jobs that were really on the left and on the right. Nothing about the
providers shows until the session ends; then a short summary names them.
"""

from __future__ import annotations

import asyncio
import html
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import shiboken6
from PySide6.QtCore import QSize, QSizeF, Qt, Signal
from PySide6.QtGui import QFont, QImage, QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.core.model import InvalidInput, Job, JobState, OutputKind
from desktop.core.reviews import VoteOutcome
from desktop.ui.image_canvas import ImageCanvas, ViewState, build_pyramid
from desktop.ui.output_images import OutputImages, message
from desktop.ui.overlay import WindowOverlay
from desktop.ui.review_io import ReviewIO, ReviewIOError
from desktop.ui.tasks import TaskSet

PYRAMID_FROM_SIDE = 1024
OUTCOME_KEYS = {Qt.Key.Key_A: VoteOutcome.LEFT, Qt.Key.Key_B: VoteOutcome.RIGHT,
                Qt.Key.Key_T: VoteOutcome.TIE, Qt.Key.Key_X: VoteOutcome.BAD}


@dataclass(frozen=True)
class ArenaOutput:
    job: Job
    position: int

    @property
    def ref(self) -> tuple[str, int]:
        return (self.job.id, self.position)

    @property
    def provider(self) -> str:
        return self.job.provider


@dataclass(frozen=True)
class ArenaPair:
    """One question, as shown: `left` is drawn on the left."""

    left: ArenaOutput
    right: ArenaOutput


@dataclass(eq=False)  # one vote is one object: compared by identity
class SessionVote:
    pair: ArenaPair
    outcome: VoteOutcome
    vote_id: str = ""
    saving: asyncio.Task[None] | None = field(default=None, repr=False)


def inputs_key(job: Job) -> tuple[object, ...]:
    """Same task, same inputs (role by role, in order)."""
    return (job.task, tuple(sorted((role, tuple(sources))
                                   for role, sources in job.spec.inputs.items())))


def comparable_groups(jobs: Iterable[Job]) -> list[list[Job]]:
    """Succeeded jobs with image results, grouped by task and inputs; only groups in which at
    least two providers took part."""
    groups: dict[tuple[object, ...], list[Job]] = {}
    for job in jobs:
        if job.state == JobState.SUCCEEDED and any(o.kind == OutputKind.IMAGE
                                                   for o in job.outputs):
            groups.setdefault(inputs_key(job), []).append(job)
    return [group for group in groups.values() if len({j.provider for j in group}) >= 2]


def arena_pairs(jobs: Iterable[Job], rng: random.Random,
                voted: Iterable[tuple[tuple[str, int], tuple[str, int]]] = ()
                ) -> list[ArenaPair]:
    """Every pair of two providers' outputs of the same inputs, sides and order drawn from
    `rng`; pairs in `voted` (either way round) are left out."""
    done = {frozenset(pair) for pair in voted}
    pairs: list[ArenaPair] = []
    for group in comparable_groups(jobs):
        outputs = [ArenaOutput(job, out.position) for job in group
                   for out in sorted(job.outputs, key=lambda o: o.position)
                   if out.kind == OutputKind.IMAGE]
        for a, b in combinations(outputs, 2):
            if a.provider == b.provider or frozenset((a.ref, b.ref)) in done:
                continue
            if rng.random() < 0.5:
                a, b = b, a
            pairs.append(ArenaPair(a, b))
    rng.shuffle(pairs)
    return pairs


@dataclass(frozen=True)
class ProviderTally:
    provider: str
    wins: int = 0
    losses: int = 0
    ties: int = 0
    both_bad: int = 0

    @property
    def votes(self) -> int:
        return self.wins + self.losses + self.ties + self.both_bad


def tally(votes: Iterable[tuple[ArenaPair, VoteOutcome]]) -> list[ProviderTally]:
    """Per provider, from one session's votes; most wins over losses first."""
    counts: dict[str, list[int]] = {}
    for pair, outcome in votes:
        left = counts.setdefault(pair.left.provider, [0, 0, 0, 0])
        right = counts.setdefault(pair.right.provider, [0, 0, 0, 0])
        if outcome == VoteOutcome.LEFT:
            left[0] += 1
            right[1] += 1
        elif outcome == VoteOutcome.RIGHT:
            right[0] += 1
            left[1] += 1
        elif outcome == VoteOutcome.TIE:
            left[2] += 1
            right[2] += 1
        else:
            left[3] += 1
            right[3] += 1
    rows = [ProviderTally(p, *c) for p, c in counts.items()]
    return sorted(rows, key=lambda r: (-(r.wins - r.losses), -r.wins, r.provider))


class Arena(WindowOverlay):
    """The blind comparison page; `ended` once the user closes the summary."""

    ended = Signal()

    def __init__(self, window: QWidget, pairs: Sequence[ArenaPair], *, reviewer: str,
                 io: ReviewIO, images: OutputImages, provider_title: Callable[[str], str],
                 skipped: int = 0) -> None:
        super().__init__(window)
        self.setObjectName("arena")
        self.setAccessibleName("Blind comparison")
        self.pairs = list(pairs)
        self.reviewer = reviewer
        self.skipped = skipped
        self._io = io
        self._images = images
        self._provider_title = provider_title
        self._index = 0
        self._votes: list[SessionVote] = []
        self._images_cache: dict[tuple[str, int], QImage | None] = {}
        self._befores: dict[str, QImage | None] = {}
        self._pyramids: dict[int, list[QImage]] = {}
        self._state = ViewState()
        self._tasks = TaskSet("Blind comparison", lambda exc: self.show_message(
            f"Something went wrong: {exc}. Details are in the log.", error=True))
        self._build()

    # -- construction -------------------------------------------------------------------------
    def _build(self) -> None:
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self._build_compare_page())
        self.stack.addWidget(self._build_summary_page())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 10)
        layout.addWidget(self.stack)

    def _build_compare_page(self) -> QWidget:
        page = QWidget(self)
        heading = QLabel("Blind comparison: which result is better?", page)
        font = QFont(heading.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        heading.setFont(font)
        self.remaining = QLabel("", page)
        self.remaining.setObjectName("arenaRemaining")
        self.remaining.setAccessibleName("Pairs left")
        bold = QFont(self.remaining.font())
        bold.setBold(True)
        self.remaining.setFont(bold)
        self.end_button = QPushButton("End session (Esc)", page)
        self.end_button.setObjectName("arenaEnd")
        self.end_button.setAccessibleName("End the session and name the providers")
        self.end_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.end_button.clicked.connect(self.end_session)
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addStretch(1)
        top.addWidget(self.remaining)
        top.addSpacing(12)
        top.addWidget(self.end_button)

        self.input_canvas = self._canvas(page, "arenaInput", "Input image")
        self.input_canvas.hide()
        self.left_canvas = self._canvas(page, "arenaLeft", "Result A, on the left")
        self.right_canvas = self._canvas(page, "arenaRight", "Result B, on the right")
        panes = QHBoxLayout()
        panes.setSpacing(3)
        for canvas in (self.input_canvas, self.left_canvas, self.right_canvas):
            panes.addWidget(canvas, 1)

        self.vote_buttons: dict[VoteOutcome, QPushButton] = {}
        buttons = QHBoxLayout()
        for outcome, text, name in (
                (VoteOutcome.LEFT, "A  ·  left is better", "arenaVoteLeft"),
                (VoteOutcome.TIE, "T  ·  tie", "arenaVoteTie"),
                (VoteOutcome.BAD, "X  ·  both bad", "arenaVoteBad"),
                (VoteOutcome.RIGHT, "B  ·  right is better", "arenaVoteRight")):
            button = QPushButton(text, page)
            button.setObjectName(name)
            button.setAccessibleName(text.split("·", 1)[1].strip().capitalize())
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setMinimumHeight(32)
            button.clicked.connect(lambda _c=False, o=outcome: self.vote(o))
            buttons.addWidget(button, 1)
            self.vote_buttons[outcome] = button
        self.undo_button = QPushButton("U  ·  undo", page)
        self.undo_button.setObjectName("arenaUndo")
        self.undo_button.setAccessibleName("Take the last vote back")
        self.undo_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.undo_button.clicked.connect(self.undo)
        buttons.addWidget(self.undo_button)
        self.message = QLabel("", page)
        self.message.setObjectName("arenaMessage")
        self.message.setWordWrap(True)
        hint = QLabel("Press I to see the input beside them · the wheel zooms both, a drag pans "
                      "both · Ctrl+0 fits, Ctrl+1 is 100 % · the providers are named when the "
                      "session ends", page)
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(placeholder-text);")
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(panes, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(hint)
        return page

    def _build_summary_page(self) -> QWidget:
        page = QWidget(self)
        page.setObjectName("arenaSummary")
        self.summary_heading = QLabel("", page)
        font = QFont(self.summary_heading.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.summary_heading.setFont(font)
        self.summary = QLabel("", page)
        self.summary.setObjectName("arenaSummaryText")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QPushButton("Close (Esc)", page)
        self.close_button.setObjectName("arenaClose")
        self.close_button.setAccessibleName("Close the blind comparison")
        self.close_button.clicked.connect(self.close_arena)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.close_button)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(40, 30, 40, 30)
        layout.addWidget(self.summary_heading)
        layout.addWidget(self.summary)
        layout.addStretch(1)
        layout.addLayout(row)
        return page

    def _canvas(self, parent: QWidget, name: str, accessible: str) -> ImageCanvas:
        canvas = ImageCanvas(self._state, parent)
        canvas.setObjectName(name)
        canvas.setAccessibleName(accessible)
        canvas.set_pyramids(self._pyramids)
        canvas.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the arena keeps the keys
        canvas.resized.connect(self._sync_viewport)
        return canvas

    # -- session --------------------------------------------------------------------------------
    async def start(self) -> None:
        self.cover()
        if not self.pairs:
            self._finish_summary()
            return
        self._show(0)

    def index(self) -> int:
        return self._index

    def current(self) -> ArenaPair | None:
        return self.pairs[self._index] if 0 <= self._index < len(self.pairs) else None

    def pairs_left(self) -> int:
        return len(self.pairs) - self._index

    def session_votes(self) -> list[tuple[ArenaPair, VoteOutcome]]:
        return [(v.pair, v.outcome) for v in self._votes]

    def _show(self, index: int) -> None:
        self._index = index
        self.remaining.setText(f"Pair {index + 1} of {len(self.pairs)} · "
                               f"{self.pairs_left()} left")
        self.undo_button.setEnabled(bool(self._votes))
        for canvas, side in ((self.left_canvas, "A"), (self.right_canvas, "B")):
            canvas.set_labels(side)
            canvas.set_message("Loading…")
        self.input_canvas.set_labels("Input")
        self._tasks.spawn(self._load_pair(index))

    async def _load_pair(self, index: int) -> None:
        pair = self.pairs[index]
        left, right = await asyncio.gather(self._output(pair.left), self._output(pair.right))
        before = await self._before(pair.left.job)
        if not shiboken6.isValid(self) or self._index != index:
            return
        sizes = [i.size() for i in (left, right) if i is not None]
        reference = max(sizes, key=lambda s: s.width() * s.height()) if sizes else QSize()
        self._state.set_reference(reference, refit=reference != self._state.reference)
        for canvas, image in ((self.left_canvas, left), (self.right_canvas, right),
                              (self.input_canvas, before)):
            canvas.set_image(image)
            canvas.set_message("" if image is not None else
                               "This image cannot be shown: its file is missing or does not "
                               "decode. Press X, T, or End session.")
        for image in (left, right, before):
            if image is not None:
                self._tasks.spawn(self._pyramid(image))
        if index + 1 < len(self.pairs):  # have the next pair ready
            following = self.pairs[index + 1]
            await asyncio.gather(self._output(following.left), self._output(following.right))

    async def _output(self, out: ArenaOutput) -> QImage | None:
        if out.ref not in self._images_cache:
            stored = next(o for o in out.job.outputs if o.position == out.position)
            try:
                image: QImage | None = await self._images.output_image(stored)
            except (OSError, InvalidInput) as exc:
                self.show_message(f"A result cannot be shown: {message(exc)}", error=True)
                image = None
            self._images_cache[out.ref] = image
            keep = {o.ref for p in self.pairs[max(0, self._index - 1):self._index + 3]
                    for o in (p.left, p.right)}
            for ref in [r for r in self._images_cache if r not in keep and r != out.ref]:
                del self._images_cache[ref]
        return self._images_cache[out.ref]

    async def _before(self, job: Job) -> QImage | None:
        if job.id not in self._befores:
            self._befores = {job.id: await self._images.before_image(job)}
        return self._befores.get(job.id)

    async def _pyramid(self, image: QImage) -> None:
        key = image.cacheKey()
        if key in self._pyramids or max(image.width(), image.height()) < PYRAMID_FROM_SIDE:
            return
        self._pyramids[key] = []
        levels = await asyncio.to_thread(build_pyramid, image)
        if shiboken6.isValid(self):
            self._pyramids[key] = levels
            for canvas in (self.input_canvas, self.left_canvas, self.right_canvas):
                canvas.update()

    def _sync_viewport(self) -> None:
        self._state.set_viewport(QSizeF(self.left_canvas.size()))

    # -- voting ---------------------------------------------------------------------------------
    def vote(self, outcome: VoteOutcome) -> None:
        """Store the vote on the pair shown, with its real left and right jobs; next pair."""
        pair = self.current()
        if pair is None or self.stack.currentIndex() != 0:
            return
        entry = SessionVote(pair, outcome)
        self._votes.append(entry)
        entry.saving = self._tasks.spawn(self._save(entry))
        self.show_message("")
        if self._index + 1 < len(self.pairs):
            self._show(self._index + 1)
        else:
            self._index = len(self.pairs)
            self.end_session()

    async def _save(self, entry: SessionVote) -> None:
        try:
            vote = await self._io.vote(entry.pair.left.ref, entry.pair.right.ref,
                                       entry.outcome, self.reviewer)
        except ReviewIOError as exc:
            if entry in self._votes and shiboken6.isValid(self):
                at = self.pairs.index(entry.pair)
                del self._votes[self._votes.index(entry):]
                self.show_message(str(exc), error=True)
                self.stack.setCurrentIndex(0)
                self._show(at)
            return
        entry.vote_id = vote.id

    def undo(self) -> None:
        """Take the last vote back and show its pair again."""
        if not self._votes or self.stack.currentIndex() != 0:
            return
        entry = self._votes.pop()
        self._tasks.spawn(self._take_back(entry))
        self._show(self.pairs.index(entry.pair))
        self.show_message("The last vote is taken back: vote on this pair again.")

    async def _take_back(self, entry: SessionVote) -> None:
        if entry.saving is not None:
            await asyncio.gather(entry.saving, return_exceptions=True)
        if entry.vote_id:
            try:
                await self._io.delete_vote(entry.vote_id)
            except ReviewIOError as exc:
                self.show_message(str(exc), error=True)

    def toggle_input(self) -> None:
        self.input_canvas.setVisible(self.input_canvas.isHidden())

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #d23c32;" if error else "")

    # -- the end --------------------------------------------------------------------------------
    def end_session(self) -> None:
        """Show the summary: now, and only now, the providers are named."""
        if self.stack.currentIndex() == 1:
            return
        self._finish_summary()

    def _finish_summary(self) -> None:
        votes = self.session_votes()
        self.summary_heading.setText(
            "Session summary" if votes else "Blind comparison")
        self.summary.setText(summary_html(votes, self._provider_title, len(self.pairs),
                                          self.skipped))
        self.stack.setCurrentIndex(1)
        self.close_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def close_arena(self) -> None:
        self.uncover()
        self.ended.emit()

    async def settle(self) -> None:
        await self._tasks.join()

    async def aclose(self) -> None:
        """Let the votes under way land (briefly), then stop."""
        await asyncio.wait([asyncio.ensure_future(self._tasks.join())], timeout=5)
        await self._tasks.aclose()

    # -- keys -----------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        mods = event.modifiers()
        if mods & Qt.KeyboardModifier.ControlModifier:
            if key == Qt.Key.Key_0:
                self._state.fit()
                return
            if key == Qt.Key.Key_1:
                self._state.set_scale(1.0 / self.left_canvas.devicePixelRatioF())
                return
            super().keyPressEvent(event)
            return
        if mods & (Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier):
            super().keyPressEvent(event)
            return
        if key == Qt.Key.Key_Escape:
            if self.stack.currentIndex() == 1:
                self.close_arena()
            else:
                self.end_session()
        elif key in OUTCOME_KEYS:
            self.vote(OUTCOME_KEYS[key])
        elif key == Qt.Key.Key_U:
            self.undo()
        elif key == Qt.Key.Key_I:
            self.toggle_input()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.stack.currentIndex() == 1:
            self.close_arena()
        else:
            super().keyPressEvent(event)
            return
        event.accept()


def summary_html(votes: Sequence[tuple[ArenaPair, VoteOutcome]],
                 provider_title: Callable[[str], str], pairs: int, skipped: int) -> str:
    """What the session found, providers named: one row per provider."""
    if not pairs and not votes:
        extra = (f" You have already voted on all {skipped} pairs these jobs make."
                 if skipped else "")
        return ("<p>Nothing to compare: the selection needs results of the same task and the "
                "same inputs from at least two providers (run the same inputs with several "
                f"providers ticked, or as a batch).{html.escape(extra)}</p>")
    if not votes:
        return "<p>No votes in this session.</p>"
    rows = "".join(
        f"<tr><td><b>{html.escape(provider_title(t.provider))}</b></td>"
        f"<td align='right'>{t.wins}</td><td align='right'>{t.losses}</td>"
        f"<td align='right'>{t.ties}</td><td align='right'>{t.both_bad}</td>"
        f"<td align='right'>{t.votes}</td></tr>" for t in tally(votes))
    return (f"<p>{len(votes)} vote{'s' if len(votes) != 1 else ''} on {pairs} pair"
            f"{'s' if pairs != 1 else ''}; every vote is saved. The rankings panel (View › "
            "Rankings) puts them together with earlier votes and the reviews.</p>"
            "<table cellspacing='0' cellpadding='6'><tr><th align='left'>Provider</th>"
            "<th>Won</th><th>Lost</th><th>Tie</th><th>Both bad</th><th>Votes</th></tr>"
            f"{rows}</table>")
