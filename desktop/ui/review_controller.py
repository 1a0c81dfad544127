"""Reviews in the window: the result panel's review of the shown output, review mode and the
blind comparison over a history selection, and the history's review filters.

The workbench builds one ReviewController and wires the View menu's actions to it; everything
that reads or writes reviews and votes goes through ReviewIO, in worker threads.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, QSettings, QTimer

from desktop.core.model import Job
from desktop.core.reviews import DEFAULT_TAGS, Review
from desktop.core.store.errors import store_errors
from desktop.ui.main_window import MainWindow
from desktop.ui.output_images import OutputImages
from desktop.ui.rankings_panel import scope_text
from desktop.ui.review_io import ReviewIO, ReviewIOError
from desktop.ui.tasks import TaskSet

if TYPE_CHECKING:
    from desktop.core.rankings import Rankings
    from desktop.core.review_facts import Facts
    from desktop.services import Services
    from desktop.ui.arena import Arena
    from desktop.ui.review_mode import ReviewMode

log = logging.getLogger(__name__)

#: Review mode and the blind comparison take at most this many of the newest jobs of a filter.
SELECTION_LIMIT = 5000
#: Bootstrap resamples for the strength intervals and their seed, as restyle-cli rankings:
#: the same votes give the same intervals in the window and in the terminal.
BOOTSTRAP = 1000
SEED = 0
RANKINGS_DELAY_MS = 300  # a burst of filter changes ranks once


@dataclass(frozen=True)
class RankingRun:
    """One computation of the rankings panel: its facts, the tasks it could be narrowed to
    and the result."""

    facts: Facts
    tasks: list[str]
    rankings: Rankings
    task: str


class ReviewController(QObject):
    def __init__(self, window: MainWindow, services: Services, images: OutputImages,
                 qsettings: QSettings, provider_title: Callable[[str], str]) -> None:
        super().__init__(window)
        self.window = window
        self.services = services
        self.images = images
        self.qsettings = qsettings
        self.provider_title = provider_title
        self.io = ReviewIO(services.review_store())
        self.review_mode: ReviewMode | None = None
        self.arena: Arena | None = None
        self._tasks = TaskSet("Reviews", lambda exc: window.set_status(
            f"Something went wrong with the reviews: {exc}. Details are in the log."))
        self._shown: tuple[Job | None, int] = (None, 0)
        self._saving = 0  # panel reviews being saved
        self._panel_generation = 0
        panel = window.result_panel
        panel.outputShown.connect(self._on_output_shown)
        panel.review_editor.edited.connect(self._on_panel_edited)
        bar = window.history_panel.review_bar
        bar.reviewRequested.connect(self.open_review_mode)
        bar.arenaRequested.connect(self.open_arena)
        self._rankings_generation = 0
        self._rankings_timer = QTimer(self)
        self._rankings_timer.setSingleShot(True)
        self._rankings_timer.setInterval(RANKINGS_DELAY_MS)
        self._rankings_timer.timeout.connect(lambda: self._tasks.spawn(self.refresh_rankings()))
        ranking = window.rankings_panel
        ranking.taskChanged.connect(lambda _task: self._rankings_timer.start())
        ranking.refreshRequested.connect(self._rankings_timer.start)
        window.rankings_dock.visibilityChanged.connect(
            lambda shown: self._rankings_timer.start() if shown else None)
        window.rankings_dock.toggleViewAction().toggled.connect(self._rankings_toggled)
        window.history_panel.model.modelReset.connect(self.rankings_outdated)
        self.settings_changed()

    # -- settings -------------------------------------------------------------------------------
    @property
    def reviewer(self) -> str:
        return self.services.settings.review.reviewer

    def tags_for(self, task: str) -> tuple[str, ...]:
        return self.services.settings.review.tags_for(task)

    def all_tags(self) -> list[str]:
        review = self.services.settings.review
        return list(dict.fromkeys(t for family in DEFAULT_TAGS
                                  for t in review.tags_for(family)))

    def settings_changed(self) -> None:
        """A new reviewer name or tag lists: the filters and the result panel follow."""
        bar = self.window.history_panel.review_bar
        bar.set_reviewer(self.reviewer)
        bar.set_tags(self.all_tags())
        self._on_output_shown(*self._shown)

    # -- the result panel's review --------------------------------------------------------------
    def _on_output_shown(self, job: Job | None, index: int) -> None:
        self._shown = (job, index)
        self._panel_generation += 1
        editor = self.window.result_panel.review_editor
        if job is None or not job.outputs:
            editor.set_subject(None)
            return
        self._tasks.spawn(self._load_panel_review(job, index, self._panel_generation))

    async def _load_panel_review(self, job: Job, index: int, generation: int) -> None:
        position = job.outputs[max(0, min(index, len(job.outputs) - 1))].position
        editor = self.window.result_panel.review_editor
        try:
            reviews = await self.io.for_jobs([job.id])
        except ReviewIOError as exc:
            if generation == self._panel_generation:
                editor.set_subject(None)
                editor.show_message(str(exc), error=True)
            return
        if generation != self._panel_generation or not shiboken6.isValid(editor):
            return
        here = [r for r in reviews if r.position == position]
        mine = next((r for r in here if r.reviewer == self.reviewer), None)
        editor.set_subject(mine or Review(job.id, position, self.reviewer),
                           self.tags_for(job.task), [r for r in here if r is not mine])

    def _on_panel_edited(self, review: Review) -> None:
        self._saving += 1  # from now: a reload from the team leaves the editor alone
        if self._tasks.spawn(self._save_panel_review(review)) is None:
            self._saving -= 1

    async def _save_panel_review(self, review: Review) -> None:
        editor = self.window.result_panel.review_editor
        try:
            await self.io.save(review)
        except ReviewIOError as exc:
            editor.show_message(str(exc), error=True)
        else:
            self.rankings_outdated()
        finally:
            self._saving -= 1

    # -- reviews changed elsewhere (team mode) ------------------------------------------------
    def reviews_changed(self, job_ids: Collection[str]) -> None:
        """Reviews or votes of these jobs changed (on another desk, or this one): the result
        panel reads its reviews again when it shows one of them, review mode those of its
        selection; the rankings follow."""
        job, index = self._shown
        if job is not None and job.outputs and job.id in job_ids:
            self._tasks.spawn(self._reload_panel_reviews(job, index, self._panel_generation))
        if self.review_mode is not None:
            self.review_mode.reviews_changed(job_ids)
        self.rankings_outdated()

    async def _reload_panel_reviews(self, job: Job, index: int, generation: int) -> None:
        position = job.outputs[max(0, min(index, len(job.outputs) - 1))].position
        editor = self.window.result_panel.review_editor
        try:
            reviews = await self.io.for_jobs([job.id])
        except ReviewIOError as exc:
            log.info("Reading the reviews again failed: %s", exc)
            return
        if generation != self._panel_generation or not shiboken6.isValid(editor):
            return
        here = [r for r in reviews if r.position == position]
        mine = next((r for r in here if r.reviewer == self.reviewer), None)
        others = [r for r in here if r is not mine]
        current = editor.subject()
        stored = mine or Review(job.id, position, self.reviewer)
        if (current is not None and _content(current) != _content(stored)
                and not self._saving and not editor.note.hasFocus()):
            # This reviewer's review changed on another desk, and nothing is being typed or
            # saved here: show the stored one.
            editor.set_subject(stored, self.tags_for(job.task), others)
        else:
            editor.set_others(others)

    # -- selections -----------------------------------------------------------------------------
    async def selection(self) -> list[Job]:
        """The jobs selected in the history (two or more), else every job its filter shows
        (the newest SELECTION_LIMIT)."""
        panel = self.window.history_panel
        history = self.services.history
        chosen = panel.selected_job_ids()
        if len(chosen) > 1:
            found = await asyncio.to_thread(lambda: [history.get(i) for i in chosen])
            return [job for job in found if job is not None]
        job_filter = panel.job_filter()
        jobs, total = await asyncio.to_thread(
            lambda: (history.list(job_filter, limit=SELECTION_LIMIT), history.count(job_filter)))
        if total > len(jobs):
            self.window.set_status(f"Taking the newest {len(jobs):,} of the {total:,} jobs the "
                                   "history shows; narrow the filter for the others.", 15000)
        return jobs

    # -- review mode ----------------------------------------------------------------------------
    def open_review_mode(self) -> None:
        if self.review_mode is None and self.arena is None:
            self._tasks.spawn(self.start_review_mode())

    async def start_review_mode(self, jobs: list[Job] | None = None) -> ReviewMode | None:
        """Review mode over `jobs` (default: the history's selection or filter)."""
        from desktop.ui.review_mode import ReviewMode, review_items

        if self.review_mode is not None or self.arena is not None:
            return None
        if jobs is None:
            jobs = await self.selection()
        items = review_items(jobs)
        if not items:
            self.window.set_status("Nothing to review: the history shows no results with "
                                   "images. Change the filter or select jobs that succeeded.")
            return None
        mode = ReviewMode(self.window, items, reviewer=self.reviewer, tags_for=self.tags_for,
                          io=self.io, images=self.images, qsettings=self.qsettings,
                          title_of=self.window.history_panel.model.title)
        mode.left.connect(self._review_mode_left)
        self.review_mode = mode
        await mode.start()
        return mode

    def _review_mode_left(self) -> None:
        mode = self.review_mode
        self.review_mode = None
        if mode is None:
            return
        self.window.set_status(f"Review mode: {mode.reviewed_count()} of {len(mode.items)} "
                               "outputs reviewed.")
        self._tasks.spawn(self._after_review_mode(mode))

    async def _after_review_mode(self, mode: ReviewMode) -> None:
        await mode.aclose()  # the last saves land before the history is read again
        mode.deleteLater()
        await self.window.history_panel.reload()  # the rankings follow the reload
        self._on_output_shown(*self._shown)

    # -- blind comparison -----------------------------------------------------------------------
    def open_arena(self) -> None:
        if self.review_mode is None and self.arena is None:
            self._tasks.spawn(self.start_arena())

    async def start_arena(self, jobs: list[Job] | None = None, seed: int | None = None
                          ) -> Arena | None:
        """A blind comparison over `jobs` (default: the history's selection or filter); sides
        and order come from `seed` (default: a new one for this session)."""
        from desktop.ui.arena import Arena, arena_pairs

        if self.review_mode is not None or self.arena is not None:
            return None
        if jobs is None:
            jobs = await self.selection()
        try:
            earlier = await self.io.votes([j.id for j in jobs])
        except ReviewIOError as exc:
            self.window.set_status(str(exc), 15000)
            return None
        voted = [((v.left_job, v.left_position), (v.right_job, v.right_position))
                 for v in earlier if v.reviewer == self.reviewer]
        rng = random.Random(seed if seed is not None else random.SystemRandom().getrandbits(64))
        pairs = arena_pairs(jobs, rng, voted)
        skipped = len(arena_pairs(jobs, random.Random(0))) - len(pairs)
        arena = Arena(self.window, pairs, reviewer=self.reviewer, io=self.io,
                      images=self.images, provider_title=self.provider_title, skipped=skipped)
        arena.ended.connect(self._arena_ended)
        self.arena = arena
        await arena.start()
        return arena

    def _arena_ended(self) -> None:
        arena = self.arena
        self.arena = None
        if arena is not None:
            self._tasks.spawn(self._after_arena(arena))

    async def _after_arena(self, arena: Arena) -> None:
        await arena.aclose()
        arena.deleteLater()
        self.rankings_outdated()

    # -- rankings -------------------------------------------------------------------------------
    def _rankings_toggled(self, shown: bool) -> None:
        """View > Rankings: the dock comes to the front of its tabs, and ranks."""
        if shown:
            self.window.rankings_dock.raise_()
            self._rankings_timer.start()

    def rankings_outdated(self) -> None:
        """Votes, reviews or the history's filter changed: rank again if the panel shows."""
        if not self.window.rankings_dock.isHidden():
            self._rankings_timer.start()

    async def refresh_rankings(self) -> RankingRun | None:
        """Rank the providers from the votes and reviews of the jobs the history shows (for
        the panel's task, when one is chosen), in a worker."""
        self._rankings_generation += 1
        generation = self._rankings_generation
        panel = self.window.rankings_panel
        job_filter = self.window.history_panel.job_filter()
        chosen = panel.task()  # the panel's own choice beats the history's task filter
        task = chosen or job_filter.task or ""
        history, store = self.services.history, self.io.store
        # Loaded on the first ranking (on this thread, not the worker's): start-up needs none.
        from desktop.core.rankings import rank
        from desktop.core.review_facts import gather

        def work() -> RankingRun:
            everything = gather(history, store, replace(job_filter, task=None))
            tasks = sorted({o.task for o in everything.outputs} | {r.task for r in
                                                                   everything.reviews})
            facts = gather(history, store, replace(job_filter, task=task)) if task \
                else everything
            result = rank(facts.votes, facts.reviews, facts.outputs, bootstrap=BOOTSTRAP,
                          seed=SEED)
            return RankingRun(facts, tasks, result, task)

        panel.set_busy("Ranking…")
        try:
            run = await asyncio.to_thread(work)
        except (*store_errors(), ValueError) as exc:
            log.exception("Ranking failed")
            if generation == self._rankings_generation:
                panel.show_problem(f"The rankings could not be computed ({exc}). Change the "
                                   "filter or press Refresh.")
            return None
        if generation != self._rankings_generation or not shiboken6.isValid(panel):
            return None
        panel.set_tasks(run.tasks, chosen)
        facts = run.facts
        title = panel.task_title(run.task) if run.task else ""
        panel.show_rankings(run.rankings, scope_text(facts.jobs, len(facts.votes),
                                                     len(facts.reviews), title))
        if not facts.votes and not facts.reviews:
            panel.show_problem(scope_text(facts.jobs, 0, 0, title) + " Nothing to rank yet: "
                               "compare results blind (View › Blind comparison) or review "
                               "them (View › Review mode).")
        return run

    # -- shutdown -------------------------------------------------------------------------------
    async def idle(self) -> None:
        """Wait for every load and save under way (tests)."""
        await self._tasks.join()
        for page in (self.review_mode, self.arena):
            if page is not None:
                await page.settle()

    async def aclose(self) -> None:
        for page in (self.review_mode, self.arena):
            if page is not None:
                await page.aclose()
        await asyncio.wait([asyncio.ensure_future(self._tasks.join())], timeout=5)
        await self._tasks.aclose()


def _content(review: Review) -> tuple[object, ...]:
    """What a reviewer set (not when it was stored)."""
    return (review.verdict, review.stars, tuple(review.tags), review.note or "")

