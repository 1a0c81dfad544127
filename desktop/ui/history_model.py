"""The history list's data: a paged Qt model over `History` and a lazy thumbnail cache.

Opening a history of any size costs one page of `History.page()` and one `count()`, each in a
worker thread, the count after the page so the first rows paint first; further pages arrive as
the view scrolls (Qt's canFetchMore/fetchMore, answered asynchronously), each a keyset query
that starts after the last loaded row, so a page costs the same at any depth.

Thumbnails are made by `AssetStore.thumbnail` and decoded into a QImage in a
worker, only for rows the delegate actually paints, and kept in a small LRU.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QStringListModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QImage, QPixmap

from desktop.core.assets import AssetStore
from desktop.core.model import Asset, Job, JobState, OutputKind, TaskSpec
from desktop.core.plain_words import TaskLookup, job_line, no_tasks
from desktop.core.store import History, JobFilter, PageCursor
from desktop.core.store.rows import search_text as _search_text
from desktop.ui.job_words import holder, plain, running_in
from desktop.ui.tasks import TaskSet

log = logging.getLogger(__name__)
T = TypeVar("T")

PAGE_SIZE = 100
#: Thumbnails are requested at the AssetStore's default size so its disk cache is shared with
#: the rest of the window; the worker scales the decoded image down to what a row shows.
STORE_THUMB_SIZE = 256

JobRole = Qt.ItemDataRole.UserRole + 1
JobIdRole = Qt.ItemDataRole.UserRole + 2

#: The roles a changed job changes (dataChanged names them, so views redo no more).
ROW_ROLES = [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole,
             Qt.ItemDataRole.AccessibleTextRole, JobRole, JobIdRole]

FAILED_STATES = (JobState.FAILED, JobState.TIMED_OUT)
UNFINISHED_STATES = tuple(s for s in JobState if not s.terminal)

def in_worker(fn: Callable[..., T], *args: Any) -> Awaitable[T]:
    """Run a blocking call in the loop's executor. Unlike asyncio.to_thread this does not need
    the loop to be *running* when a task steps: qasync may step tasks from Qt's own event
    processing (a test's qtbot wait, a paint before the loop starts)."""
    return asyncio.get_event_loop().run_in_executor(None, functools.partial(fn, *args))


def state_text(job: Job) -> str:
    """'Succeeded', 'Running 40 %', 'Failed: <message>' is left to the tooltip."""
    word = job.state.title
    if job.state == JobState.RUNNING and job.progress is not None:
        return f"{word} {round(job.progress * 100)} %"
    return word


def when_text(created_at: float, now: float | None = None) -> str:
    """A short date for a row: 'just now', '12 min ago', '3 h ago', 'Yesterday 14:02',
    'Mon 14:02' within a week, else '3 May 2024'."""
    now = time.time() if now is None else now
    age = now - created_at
    if -60 < age < 60:
        return "just now"
    if 0 < age < 3600:
        return f"{int(age // 60)} min ago"
    if 0 < age < 6 * 3600:
        return f"{int(age // 3600)} h ago"
    then = time.localtime(created_at)
    today = time.localtime(now)
    day_diff = _day_number(today) - _day_number(then)
    clock = time.strftime("%H:%M", then)
    if day_diff == 0:
        return f"Today {clock}"
    if day_diff == 1:
        return f"Yesterday {clock}"
    if 1 < day_diff < 7:
        return f"{time.strftime('%a', then)} {clock}"
    return f"{then.tm_mday} {time.strftime('%b %Y', then)}"


def _day_number(t: time.struct_time) -> int:
    return int(time.mktime((t.tm_year, t.tm_mon, t.tm_mday, 12, 0, 0, 0, 0, -1)) // 86400)


def absolute_time(created_at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(created_at))


def sort_key(job: Job) -> tuple[float, str]:
    """History.list order is created_at DESC, id DESC: a larger key comes first."""
    return (job.created_at, job.id)


def job_matches(job: Job, f: JobFilter, *, listed: bool = False) -> bool:
    """The Python twin of the store's WHERE clause, so engine events can be placed without a
    query. Text terms match the same `search_text` the store indexes.

    Reviews are not part of a Job: a `listed` row (the store matched it) keeps matching the
    review fields and the text (which may have matched a review's tag or note), since a job
    event does not change its reviews; a job new to the list has no review yet."""
    if f.provider and job.provider != f.provider:
        return False
    if f.task and job.task != f.task:
        return False
    if f.states and job.state not in f.states:
        return False
    if f.favorite is not None and job.favorite != f.favorite:
        return False
    if f.since is not None and job.created_at < f.since:
        return False
    if f.until is not None and job.created_at >= f.until:
        return False
    if not listed and (f.tag or f.verdict in ("pass", "fail", "reviewed")
                       or (f.reviewer and f.verdict != "unreviewed")):
        return False
    terms = (f.text or "").lower().split()
    if terms and not listed:
        text = _search_text(job)
        return all(term in text for term in terms)
    return True


def filter_is_empty(f: JobFilter) -> bool:
    return f == JobFilter()


# -- thumbnails -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThumbSource:
    """Which asset a row shows: the first output, else the first input (mime looked up)."""

    sha256: str
    mime: str | None  # None: an input, whose mime is read from the store in the worker
    is_output: bool
    kind: OutputKind = OutputKind.IMAGE


def thumb_source(job: Job) -> ThumbSource | None:
    """The first output; the first input when there is none; nothing for a failed job (its
    row shows the neutral placeholder with a failure mark)."""
    if job.outputs:
        first = min(job.outputs, key=lambda o: o.position)
        return ThumbSource(first.sha256, first.mime, True, first.kind)
    if job.state in FAILED_STATES:
        return None
    # The picture the job works on (person, room, image) says more than a garment does.
    ordered = sorted(job.inputs, key=lambda r: (_ROLE_ORDER.get(r, len(_ROLE_ORDER)), r))
    for role in ordered:
        if job.inputs[role]:
            return ThumbSource(job.inputs[role][0], None, False)
    return None


_ROLE_ORDER = {"person": 0, "room": 1, "image": 2, "garment": 3}


class ThumbStatus(Enum):
    LOADING = "loading"
    READY = "ready"
    MISSING = "missing"  # the file is gone from the asset store
    NO_PREVIEW = "no_preview"  # a video, or a file that does not decode


@dataclass
class _Failure:
    status: ThumbStatus
    message: str


class ThumbnailCache(QObject):
    """Thumbnails by asset hash: QImages decoded in workers, turned into QPixmaps on the GUI
    thread when first painted, at most `capacity` kept (least recently painted go first).

    Requests are served newest first (a fast scroll wants the rows now on screen, not the
    ones it flew past) by at most `workers` concurrent worker calls; the queue is capped, and
    dropped requests are simply asked again when their row is painted again.
    """

    ready = Signal(str)  # sha256 of a thumbnail that just loaded (or failed)

    def __init__(self, history: History, assets: AssetStore, *, capacity: int = 500,
                 workers: int = 2, max_queue: int = 64, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._history = history
        self._assets = assets
        self.capacity = capacity
        self._workers = workers
        self._max_queue = max_queue
        self._images: OrderedDict[str, QImage | QPixmap] = OrderedDict()
        self._failures: dict[str, _Failure] = {}
        self._queue: OrderedDict[str, tuple[ThumbSource, int]] = OrderedDict()
        self._running: set[str] = set()
        self._tasks = TaskSet("Thumbnail loading")

    # -- reading ------------------------------------------------------------------------------
    def status(self, sha256: str) -> ThumbStatus:
        if sha256 in self._images:
            return ThumbStatus.READY
        failure = self._failures.get(sha256)
        return failure.status if failure else ThumbStatus.LOADING

    def failure_message(self, sha256: str) -> str:
        failure = self._failures.get(sha256)
        return failure.message if failure else ""

    def has(self, sha256: str) -> bool:
        return sha256 in self._images

    def image(self, sha256: str) -> QImage | None:
        """The decoded image (tests and tools); None while not loaded."""
        entry = self._images.get(sha256)
        if entry is None:
            return None
        return entry.toImage() if isinstance(entry, QPixmap) else entry

    def pixmap(self, sha256: str) -> QPixmap | None:
        """For painting (GUI thread only): converts a worker's QImage on first use."""
        entry = self._images.get(sha256)
        if entry is None:
            return None
        if isinstance(entry, QImage):
            pixmap = QPixmap.fromImage(entry)
            pixmap.setDevicePixelRatio(entry.devicePixelRatio())
            entry = pixmap
            self._images[sha256] = entry
        self._images.move_to_end(sha256)
        return entry

    def __len__(self) -> int:
        return len(self._images)

    # -- loading ------------------------------------------------------------------------------
    def request(self, source: ThumbSource, pixels: int) -> None:
        """Ask for a thumbnail at most `pixels` device pixels wide; returns at once."""
        key = source.sha256
        if key in self._images or key in self._failures or key in self._running:
            return
        if source.kind != OutputKind.IMAGE:
            self._failures[key] = _Failure(ThumbStatus.NO_PREVIEW,
                                           f"No preview for a {source.kind} result.")
            return
        self._queue[key] = (source, pixels)
        self._queue.move_to_end(key)
        while len(self._queue) > self._max_queue:
            self._queue.popitem(last=False)
        if asyncio._get_running_loop() is None:
            return  # painted outside the loop (start-up, tests): the next paint asks again
        while len(self._tasks) < self._workers and self._queue:
            self._tasks.spawn(self._pump())

    def forget(self, sha256s: Iterable[str]) -> None:
        """Drop cached entries (files deleted): the next paint asks again."""
        for key in sha256s:
            self._images.pop(key, None)
            self._failures.pop(key, None)

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._queue.clear()

    async def settle(self) -> None:
        """Wait until every queued thumbnail is loaded (tests, benchmarks)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)



    async def _pump(self) -> None:
        while self._queue:
            key, (source, pixels) = self._queue.popitem(last=True)
            self._running.add(key)
            try:
                image, failure = await in_worker(self._load, source, pixels)
            finally:
                self._running.discard(key)
            if image is not None:
                self._images[key] = image
                self._images.move_to_end(key)
                while len(self._images) > self.capacity:
                    self._images.popitem(last=False)
            elif failure is not None:
                self._failures[key] = failure
            self.ready.emit(key)

    def _load(self, source: ThumbSource, pixels: int) -> tuple[QImage | None, _Failure | None]:
        """Worker thread: find the file, make (or reuse) the cached thumbnail, decode it."""
        what = "Result" if source.is_output else "Input"
        mime = source.mime
        if mime is None:
            stored: Asset | None = self._history.asset(source.sha256)
            if stored is None:
                return None, _Failure(ThumbStatus.MISSING, f"{what} file missing")
            mime = stored.mime
        if not mime.startswith("image/"):
            return None, _Failure(ThumbStatus.NO_PREVIEW, f"No preview for a {mime} file.")
        asset = Asset(source.sha256, mime, 0)
        if not self._assets.path_for(source.sha256, mime).exists():
            return None, _Failure(ThumbStatus.MISSING, f"{what} file missing")
        try:
            path: Path = self._assets.thumbnail(asset, STORE_THUMB_SIZE)
        except FileNotFoundError:
            return None, _Failure(ThumbStatus.MISSING, f"{what} file missing")
        except Exception as exc:  # imaging errors carry a sentence for the user
            return None, _Failure(ThumbStatus.NO_PREVIEW, f"No preview: {exc}")
        image = QImage(str(path))
        if image.isNull():
            return None, _Failure(ThumbStatus.NO_PREVIEW,
                                  "No preview: the thumbnail file could not be read.")
        if max(image.width(), image.height()) > pixels:
            image = image.scaled(pixels, pixels, Qt.AspectRatioMode.KeepAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)
        return image, None


# -- the list model ---------------------------------------------------------------------------


class HistoryModel(QStringListModel):
    """Jobs matching a filter, newest first, one page at a time.

    Why a QStringListModel (of empty strings, one per row) and not a QAbstractListModel: after
    every inserted page QListView lays all its rows out again, asking `index()` (and so
    `rowCount()`) once or twice per row. With `rowCount` written in Python that is a Python
    call per loaded row per page: 60 ms a page at 30,000 rows, growing with depth. Here the
    row count and the indexes stay in C++ (the string list only mirrors the number of rows);
    `data()` and `flags()`, asked for painted rows only, are ours. Rows change through
    `_insert_rows`, `_remove_rows` and `_reset_rows`, which keep the two lists in step.

    `reload()` replaces everything (first page, then the count); `fetchMore()` appends the next
    page, asked for after the last loaded row (a keyset cursor, never an OFFSET). More pages are
    asked for until one comes back short. Each reload bumps a generation number so a page or
    count that was already under way when the filter changed is dropped instead of mixing two
    filters.
    """

    loadingChanged = Signal(bool)
    totalChanged = Signal(int)
    loadFailed = Signal(str)  # a sentence for the user

    def __init__(self, history: History, provider_titles: dict[str, str],
                 task_titles: dict[str, str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._history = history
        self._provider_titles = provider_titles
        self._task_titles = task_titles
        self.page_size = PAGE_SIZE
        self._filter = JobFilter()
        self._jobs: list[Job] = []
        self._rows: dict[str, int] = {}
        self._total = 0
        self._counted = False
        #: The last loaded row's place in the order: the next page starts after it.
        self._cursor: PageCursor | None = None
        self._exhausted = False
        self._generation = 0
        self._loaded_once = False
        self._reloading = 0
        self._fetch_task: asyncio.Task[None] | None = None
        self._tasks = TaskSet("History page fetch")
        self._thumbnails: ThumbnailCache | None = None
        #: This window's engine: unfinished jobs owned by another say where they run.
        self.own_owner: str | None = None
        #: How to find a job's task (its settings in plain words, its description).
        self.task_lookup: TaskLookup = no_tasks
        # Connected before any view connects: rows leave `_jobs` before views hear of it.
        self.rowsRemoved.connect(self._rows_removed)
        self._removing: tuple[int, int] | None = None

    # -- Qt model -----------------------------------------------------------------------------
    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        """Selectable rows, not editable, no drag and drop (a string list's are)."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemNeverHasChildren)

    def setData(self, index: QModelIndex | QPersistentModelIndex, value: Any,
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        return False  # read-only

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._jobs):
            return None
        job = self._jobs[index.row()]
        if role == JobRole:
            return job
        if role == JobIdRole:
            return job.id
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(job)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            parts = [self.title(job), state_text(job), when_text(job.created_at)]
            if job.favorite:
                parts.append("favourite")
            return ", ".join(parts)
        return None

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._loaded_once and not self._exhausted

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:  # noqa: B008
        """Schedule the next page; a page already under way is not asked for twice."""
        if not self.canFetchMore(parent):
            return
        if self._fetch_task is not None and not self._fetch_task.done():
            return
        self._fetch_task = self._tasks.spawn(self._fetch_page(self._generation, self._cursor))

    # -- public -------------------------------------------------------------------------------
    @property
    def job_filter(self) -> JobFilter:
        return self._filter

    def set_job_filter(self, job_filter: JobFilter) -> None:
        """Takes effect at the next reload()."""
        self._filter = job_filter

    @property
    def total(self) -> int:
        """How many jobs match the filter: the count once it is in, else the rows loaded."""
        return self._total

    @property
    def counted(self) -> bool:
        """Whether `total` is the store's count (it arrives after the first page)."""
        return self._counted

    @property
    def loaded_once(self) -> bool:
        return self._loaded_once

    @property
    def loading(self) -> bool:
        return self._reloading > 0

    @property
    def fetching(self) -> bool:
        return self._fetch_task is not None and not self._fetch_task.done()

    def task_of(self, job: Job) -> TaskSpec | None:
        return self.task_lookup(job.provider, job.task)

    def title(self, job: Job) -> str:
        provider = self._provider_titles.get(job.provider, job.provider)
        task = self._task_titles.get(job.task, job.task)
        workflow = job.spec.params.get("workflow")  # a saved workflow: its own name
        if job.task == "workflow" and isinstance(workflow, str) and workflow.strip():
            task = workflow.strip()
        return f"{provider} · {task}"

    def set_thumbnails(self, cache: ThumbnailCache) -> None:
        """Lets tooltips say when a row's file is missing."""
        self._thumbnails = cache

    def tooltip(self, job: Job) -> str:
        lines: list[str] = []
        source = thumb_source(job)
        if source is not None and self._thumbnails is not None:
            status = self._thumbnails.status(source.sha256)
            if status in (ThumbStatus.MISSING, ThumbStatus.NO_PREVIEW):
                lines.append(self._thumbnails.failure_message(source.sha256))
        lines.append(self.title(job))
        lines.append(f"{state_text(job)} · {absolute_time(job.created_at)}")
        elsewhere = holder(job, self.own_owner)
        if elsewhere:
            lines.append(running_in(elsewhere))
        if job.error is not None and job.error.message:
            lines.append(plain(job.error.message))
        elif line := job_line(job, self.task_of(job)):
            lines.append(line)
        if job.outputs:
            count = len(job.outputs)
            lines.append(f"{count} result" + ("" if count == 1 else "s"))
        lines.append(f"Job {job.id}")
        return "\n".join(lines)

    def job_at(self, row: int) -> Job | None:
        return self._jobs[row] if 0 <= row < len(self._jobs) else None

    def job(self, job_id: str) -> Job | None:
        row = self._rows.get(job_id)
        return None if row is None else self._jobs[row]

    def row_of(self, job_id: str) -> int:
        return self._rows.get(job_id, -1)

    def job_ids(self) -> list[str]:
        return [job.id for job in self._jobs]

    async def reload(self) -> None:
        """The first page for the current filter, shown as soon as it is read; then the count
        (a separate worker call, so a slow count never holds the first rows back)."""
        self._generation += 1
        generation = self._generation
        if self._fetch_task is not None:
            self._fetch_task.cancel()
            self._fetch_task = None
        job_filter = self._filter
        self._set_reloading(+1)
        try:
            jobs = await in_worker(self._page, job_filter, None)
        except Exception as exc:
            if generation == self._generation:
                self._report_read_failure(exc)
            return
        finally:
            self._set_reloading(-1)
        if generation != self._generation:
            return  # a newer reload supersedes this one
        self._cursor = PageCursor.after(jobs[-1]) if jobs else None
        self._exhausted = len(jobs) < self.page_size
        self._total = len(jobs)
        self._counted = self._exhausted  # a short first page is the whole list
        self._loaded_once = True
        self._reset_rows(list(jobs))
        self.totalChanged.emit(self._total)
        if not self._counted:
            await self._count(generation, job_filter)

    async def _count(self, generation: int, job_filter: JobFilter) -> None:
        try:
            total = await in_worker(self._history.count, job_filter)
        except Exception as exc:
            if generation == self._generation:
                self._report_read_failure(exc)
            return
        if generation != self._generation:
            return
        # Rows placed by engine events meanwhile may or may not be in the count.
        self._total = max(total, len(self._jobs))
        self._counted = True
        self.totalChanged.emit(self._total)

    def _report_read_failure(self, exc: Exception) -> None:
        log.exception("Reading the history failed")
        self.loadFailed.emit(
            f"The job history could not be read ({exc}). Close other programs using"
            " it and try again; your files are untouched."
        )

    def update_job(self, job: Job) -> None:
        """Place a changed or new job: update its row, drop it when it no longer matches,
        insert it where it sorts when it falls within the loaded rows."""
        row = self._rows.get(job.id)
        matches = job_matches(job, self._filter, listed=row is not None)
        if row is not None:
            if matches:
                if self._jobs[row] == job:
                    return  # nothing a row shows changed: no repaint
                self._jobs[row] = job
                index = self.index(row)
                self.dataChanged.emit(index, index, ROW_ROLES)
            else:
                self.remove(job.id)
            return
        if not matches or not self._loaded_once:
            return
        all_loaded = self._exhausted
        key = sort_key(job)
        position = next((i for i, other in enumerate(self._jobs) if sort_key(other) < key),
                        len(self._jobs))
        if position == len(self._jobs) and not all_loaded:
            # Older than every loaded row: it arrives with a later page. New jobs are the
            # newest, so such a job most likely existed already and is counted.
            return
        self._total += 1
        self._insert_rows(position, [job])
        self.totalChanged.emit(self._total)

    def remove(self, job_id: str) -> bool:
        row = self._rows.get(job_id)
        if row is None:
            return False
        self._remove_rows(row, 1)
        self._total = max(len(self._jobs), self._total - 1)
        self.totalChanged.emit(self._total)
        return True

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    async def settle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- internals ----------------------------------------------------------------------------
    def _page(self, job_filter: JobFilter, after: PageCursor | None) -> list[Job]:
        """Worker thread: one keyset page."""
        return self._history.page(job_filter, limit=self.page_size, after=after)

    async def _fetch_page(self, generation: int, after: PageCursor | None) -> None:
        try:
            jobs = await in_worker(self._page, self._filter, after)
        except Exception as exc:
            log.exception("Reading a page of history failed")
            if generation == self._generation:
                self.loadFailed.emit(
                    f"More jobs could not be read from the history ({exc}). Scroll again to"
                    " retry."
                )
            return
        if generation != self._generation:
            return
        if jobs:
            self._cursor = PageCursor.after(jobs[-1])
        if len(jobs) < self.page_size:
            self._exhausted = True
        fresh = [job for job in jobs if job.id not in self._rows]
        if fresh:
            self._insert_rows(len(self._jobs), fresh)
        if self._exhausted and self._total != len(self._jobs):
            # The end of the list: what is loaded is what there is (the count may have been
            # taken before jobs were added or deleted elsewhere).
            self._total = len(self._jobs)
            self.totalChanged.emit(self._total)
        elif len(self._jobs) > self._total:
            self._total = len(self._jobs)
            self.totalChanged.emit(self._total)

    # -- rows (see the class's docstring) -----------------------------------------------------
    def _reset_rows(self, jobs: list[Job]) -> None:
        self._jobs = jobs
        self._reindex()
        self.setStringList([""] * len(jobs))  # emits the reset

    def _insert_rows(self, position: int, jobs: list[Job]) -> None:
        """The jobs are in `_jobs` before rowsInserted tells anyone (views ask for the new rows'
        data then, never before)."""
        if position == len(self._jobs):
            first = position
            self._jobs.extend(jobs)
            for i, job in enumerate(jobs, start=first):
                self._rows[job.id] = i
        else:
            self._jobs[position:position] = jobs
            self._reindex()
        super().insertRows(position, len(jobs))

    def _remove_rows(self, row: int, count: int) -> None:
        """The jobs stay in `_jobs` while rowsAboutToBeRemoved is heard (a view moving its
        current row reads them then), and leave in `_rows_removed`, the first to hear
        rowsRemoved."""
        self._removing = (row, count)
        try:
            super().removeRows(row, count)
        finally:
            self._removing = None

    def _rows_removed(self, _parent: QModelIndex, first: int, last: int) -> None:
        if self._removing is not None:
            del self._jobs[first:last + 1]
            self._reindex()

    def _reindex(self) -> None:
        self._rows = {job.id: i for i, job in enumerate(self._jobs)}

    def _set_reloading(self, delta: int) -> None:
        was = self._reloading > 0
        self._reloading += delta
        if (self._reloading > 0) != was:
            self.loadingChanged.emit(self._reloading > 0)


