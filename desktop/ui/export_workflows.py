"""The window's exports people hand on: File > Export… and Export for listing… (the export
dialog), Lookbook…, Report…, Save as bundle… and Import bundle…, the History dock's Export
menu and each batch's Export… button.

The controller decides what "the selection" is (the shown result, the shown job, the history's
selection or filter, a batch), loads those jobs, and runs the core's exports
(desktop/core/exports: files, stamping, lookbook, report, bundle) in worker threads, feeding
progress back to the GUI thread and ending with a sentence. The GUI thread only shows.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMenu

from desktop.config import save_settings
from desktop.core.catalog import COMMON_TASKS
from desktop.core.exports import encode
from desktop.core.exports.naming import BEFORE_ROLES
from desktop.core.model import InvalidInput, Job, OutputKind
from desktop.core.sources import shown
from desktop.core.store import JobFilter
from desktop.general_settings import (
    EXPORT_DIR,
    EXPORT_FORMAT,
    EXPORT_QUALITY,
    EXPORT_SIDECAR,
    EXPORT_TEMPLATE,
    LISTING_URL,
    general_setting,
)
from desktop.ui.export_words import plural, report_words
from desktop.ui.tasks import TaskSet

if TYPE_CHECKING:
    from desktop.core.exports.bundle import ImportResult
    from desktop.core.exports.files import ExportReport
    from desktop.ui.export_dialog import ExportChoice, ExportDefaults, ExportDialog, ExportRequest
    from desktop.ui.export_progress import ExportTaskDialog
    from desktop.ui.workbench import Workbench

log = logging.getLogger(__name__)

#: The most jobs one export, lookbook or report takes from a history filter or a batch.
MAX_JOBS = 5000
_MIME_EXT = {mime: encode.EXTENSIONS[fmt] for fmt, mime in encode.EXPORT_FORMATS.items()}


@dataclass(frozen=True)
class Scope:
    """A set of jobs a lookbook, report or bundle is made of, as people call it."""

    words: str
    job_ids: tuple[str, ...] = ()
    filter: JobFilter | None = None
    batch_id: str | None = None
    jobs: tuple[Job, ...] = ()


class ExportWorkflows(QObject):
    """See the module docstring."""

    def __init__(self, workbench: Workbench) -> None:
        super().__init__(workbench)
        self.wb = workbench
        self.window = workbench.window
        self.services = workbench.services
        self._tasks = TaskSet("Exports", self._on_task_error)
        self.dialog: ExportDialog | None = None
        self._dialog_batch: str | None = None
        self._task_dialogs: dict[str, ExportTaskDialog] = {}
        self._file_dialog: QFileDialog | None = None
        self._stop: threading.Event | None = None
        self._work: asyncio.Future[Any] | None = None
        #: Opens a folder in the file manager (tests replace it).
        self.open_folder: Callable[[Path], bool] = lambda path: QDesktopServices.openUrl(
            QUrl.fromLocalFile(str(path)))
        self._attach()

    # -- wiring ------------------------------------------------------------------------------
    def _attach(self) -> None:
        w = self.window
        w.export_action.triggered.connect(lambda: self.open_dialog())
        w.export_listing_action.triggered.connect(lambda: self.open_dialog(listing=True))
        w.lookbook_action.triggered.connect(lambda: self.ask_lookbook(self.history_scope()))
        w.report_action.triggered.connect(lambda: self.ask_report(self.history_scope()))
        w.save_bundle_action.triggered.connect(lambda: self.ask_bundle(self.bundle_scope()))
        w.import_bundle_action.triggered.connect(self.ask_import)
        menu = QMenu(w.history_panel)
        menu.setObjectName("historyExportMenu")
        for text, name, slot in (
                ("Export…", "historyExportFiles",
                 lambda: self.open_dialog(initial=self._history_choice())),
                ("Export for listing…", "historyExportListing",
                 lambda: self.open_dialog(listing=True, initial=self._history_choice())),
                ("Lookbook…", "historyLookbook",
                 lambda: self.ask_lookbook(self.history_scope())),
                ("Report…", "historyReport", lambda: self.ask_report(self.history_scope())),
                ("Save as bundle…", "historySaveBundle",
                 lambda: self.ask_bundle(self.history_scope(selection_only=True)))):
            action = menu.addAction(text)
            action.setObjectName(name)
            action.triggered.connect(slot)
        w.history_panel.add_export_menu(menu)
        self.wb.batches.panel.exportRequested.connect(self.batch_export)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any] | None:
        return self._tasks.spawn(coro)

    def _on_task_error(self, exc: BaseException) -> None:
        self.window.set_status(f"The export stopped: something unexpected went wrong ({exc}). "
                               "Details are in the log.", 15000)

    async def idle(self) -> None:
        await self._tasks.join()

    async def aclose(self) -> None:
        """Stop a running export after the file being written (it is written whole)."""
        if self._stop is not None:
            self._stop.set()
        if self._work is not None:
            await asyncio.gather(self._work, return_exceptions=True)
        await self._tasks.aclose()

    # -- what "the selection" is ---------------------------------------------------------------
    def _shown(self) -> tuple[Job, int] | None:
        """The job the compare view shows and the position of the output shown."""
        job = self.wb.results.shown_job
        images = [o for o in job.outputs if o.kind == OutputKind.IMAGE] if job else []
        if job is None or not images:
            return None
        index = min(max(0, self.wb.results.output_index()), len(images) - 1)
        return job, images[index].position

    def choices(self, batch_id: str | None = None) -> list[ExportChoice]:
        from desktop.ui.export_dialog import ExportChoice

        found: list[ExportChoice] = []
        shown_job = self._shown()
        if shown_job is not None:
            job, position = shown_job
            images = [o for o in job.outputs if o.kind == OutputKind.IMAGE]
            which = f"output {position + 1} of " if len(images) > 1 else ""
            found.append(ExportChoice("shown", f"The result shown ({which}job {job.id[:8]})",
                                      all_outputs=False))
            if len(images) > 1:
                found.append(ExportChoice("shown_job", f"All {len(images)} outputs of the "
                                                       "shown job", all_outputs=True))
        selected = self.window.history_panel.selected_job_ids()
        if selected:
            found.append(ExportChoice("selected", "The job selected in the history"
                                      if len(selected) == 1 else
                                      f"The {len(selected)} jobs selected in the history"))
        total = self.window.history_panel.total_count()
        if total:
            found.append(ExportChoice("filtered", f"All {plural(total, 'job')} the history "
                                                  "shows" if total > 1 else
                                      "The one job the history shows"))
        if batch_id is not None:
            batch = self.wb.batches.store.get(batch_id)
            name = batch.name if batch is not None else batch_id[:8]
            found.append(ExportChoice(f"batch:{batch_id}", f"Batch “{shown(name, 60)}”",
                                      batch_id=batch_id))
        if not found:
            found.append(ExportChoice("none", "Nothing yet: run a job first"))
        return found

    def _history_choice(self) -> str:
        return "selected" if self.window.history_panel.selected_job_ids() else "filtered"

    def history_scope(self, *, selection_only: bool = False) -> Scope | None:
        """The history's selection, else everything its filter shows (None: nothing)."""
        panel = self.window.history_panel
        ids = tuple(panel.selected_job_ids())
        if ids:
            return Scope("the job selected in the history" if len(ids) == 1 else
                         f"the {len(ids)} jobs selected in the history", job_ids=ids)
        if selection_only:
            return None
        if panel.total_count():
            return Scope(f"the {plural(panel.total_count(), 'job')} the history shows",
                         filter=panel.job_filter())
        return None

    def bundle_scope(self) -> Scope | None:
        """Save as bundle…: the history's selection, else the job shown."""
        found = self.history_scope(selection_only=True)
        if found is not None:
            return found
        job = self.wb.results.shown_job
        return Scope(f"job {job.id[:8]}", jobs=(job,)) if job is not None else None

    def batch_scope(self, batch_id: str) -> Scope:
        batch = self.wb.batches.store.get(batch_id)
        name = batch.name if batch is not None else batch_id[:8]
        return Scope(f"batch “{shown(name, 60)}”", filter=JobFilter(batch=batch_id),
                     batch_id=batch_id)

    def batch_export(self, batch_id: str, kind: str) -> None:
        """A batch row's Export… menu."""
        if kind in ("files", "listing"):
            self.open_dialog(listing=kind == "listing", initial=f"batch:{batch_id}",
                             batch_id=batch_id)
        elif kind == "lookbook":
            self.ask_lookbook(self.batch_scope(batch_id))
        elif kind == "report":
            self.ask_report(self.batch_scope(batch_id))

    async def load_scope(self, scope: Scope) -> list[Job]:
        """The scope's jobs, oldest first (a worker reads the history)."""
        if scope.jobs:
            return list(scope.jobs)
        return await asyncio.to_thread(self._load_sync, scope)

    async def load_choice(self, key: str) -> list[Job]:
        """The jobs an export choice stands for. "shown" is the shown job narrowed to the
        output shown (so the runner writes that one); stamping reads the stored job whole."""
        if key in ("shown", "shown_job"):
            found = self._shown()
            if found is None:
                return []
            job, position = found
            if key == "shown":
                return [replace(job, outputs=tuple(o for o in job.outputs
                                                   if o.position == position))]
            return [job]
        if key == "selected":
            scope = self.history_scope(selection_only=True)
        elif key == "filtered":
            panel = self.window.history_panel
            scope = Scope("", filter=panel.job_filter())
        elif key.startswith("batch:"):
            scope = self.batch_scope(key.split(":", 1)[1])
        else:
            scope = None
        return await self.load_scope(scope) if scope is not None else []

    def _original_ext(self, jobs: list[Job]) -> dict[str, str]:
        """The extension a listing set's original keeps, for the first jobs (the example)."""
        found: dict[str, str] = {}
        for job in jobs[:20]:
            sha = next((job.inputs[r][0] for r in BEFORE_ROLES if job.inputs.get(r)), None)
            asset = self.services.history.asset(sha) if sha else None
            if asset is not None:
                found[job.id] = _MIME_EXT.get(asset.mime, ".png")
        return found

    # -- the export dialog -------------------------------------------------------------------
    def _defaults(self, folder: Path | None = None) -> ExportDefaults:
        from desktop.export_setup import C2PA_NOT_SET_UP, c2pa_paths, listing_label
        from desktop.ui.export_dialog import ExportDefaults

        settings = self.services.settings
        folder = folder or Path(str(general_setting(settings, EXPORT_DIR)))
        paths = c2pa_paths(settings)
        return ExportDefaults(
            folder=folder, format=str(general_setting(settings, EXPORT_FORMAT)),
            quality=int(general_setting(settings, EXPORT_QUALITY)),
            template=str(general_setting(settings, EXPORT_TEMPLATE)),
            label=listing_label(settings, folder),
            url_pattern=str(general_setting(settings, LISTING_URL)),
            sidecar=bool(general_setting(settings, EXPORT_SIDECAR)),
            c2pa_ready=paths is not None,
            c2pa_note=(f"Signed with the certificate in {shown(paths[0].name, 60)}."
                       if paths is not None else
                       C2PA_NOT_SET_UP.replace("Settings > Export",
                                               '<a href="settings">Settings › Export</a>')))

    def open_dialog(self, *, listing: bool = False, initial: str | None = None,
                    batch_id: str | None = None) -> ExportDialog:
        """Open the export dialog (or bring the open one forward, unless it is idle and asked
        for something else: then it is made anew)."""
        from desktop.ui.export_dialog import ExportDialog

        old = self.dialog
        if old is not None and old.isVisible() and old.run_panel.running:
            old.raise_()
            old.activateWindow()
            return old
        if old is not None:
            old.close()
            old.deleteLater()
        choices = self.choices(batch_id)
        if initial is None:
            keys = [c.key for c in choices]
            preferred = (("shown_job", "shown") if listing else ("shown",)) + (
                "selected", "filtered")
            initial = next((k for k in preferred if k in keys), keys[0])
        dialog = ExportDialog(choices, self._defaults(), initial=initial, listing=listing,
                              parent=self.window)
        self.dialog = dialog
        self._dialog_batch = batch_id
        dialog.choiceChanged.connect(lambda key: self.spawn(self._load_into(dialog, key)))
        dialog.exportRequested.connect(lambda: self._start(dialog))
        dialog.folderChanged.connect(lambda text: self._folder_changed(dialog, text))
        dialog.settingsRequested.connect(self._open_export_settings)
        dialog.run_panel.cancelRequested.connect(self.cancel)
        dialog.run_panel.showFolderRequested.connect(lambda p: self.show_folder(Path(p)))
        dialog.finished.connect(lambda _r: self.cancel())
        screen = self.window.screen().availableGeometry()
        dialog.fit_to(min(1040, screen.width() - 40), screen.height() - 60)
        dialog.show()
        self.spawn(self._load_into(dialog, dialog.choice().key))
        return dialog

    async def _load_into(self, dialog: ExportDialog, key: str) -> None:
        jobs = await self.load_choice(key)
        ext = await asyncio.to_thread(self._original_ext, jobs)
        dialog.set_jobs(key, jobs, ext)

    def _folder_changed(self, dialog: ExportDialog, text: str) -> None:
        from desktop.export_setup import listing_label

        if not text.strip():
            return
        label = listing_label(self.services.settings, Path(text.strip()).expanduser())
        dialog.set_listing_url(label.url or "")

    def _open_export_settings(self) -> None:
        dialog = self.wb.open_settings(None)
        dialog.show_export_page()

    def settings_changed(self) -> None:
        """New settings: an open, idle export dialog learns whether C2PA is set up now."""
        dialog = self.dialog
        if dialog is not None and not dialog.run_panel.running:
            defaults = self._defaults()
            dialog.set_c2pa(defaults.c2pa_ready, defaults.c2pa_note)

    def _start(self, dialog: ExportDialog) -> None:
        request = dialog.request()
        if isinstance(request, str):
            dialog.run_panel.finish(request, ok=False)
            return
        self.spawn(self.run_export(dialog, request))

    def cancel(self) -> None:
        if self._stop is not None:
            self._stop.set()

    async def run_export(self, dialog: ExportDialog, request: ExportRequest
                         ) -> ExportReport | None:
        """Write the request's files in a worker, progress into the dialog; the outcome in a
        sentence there and in the status bar."""
        from desktop.core.exports.files import export_jobs, plan
        from desktop.export_setup import c2pa_signer, export_sources, stamping

        panel = dialog.run_panel
        if panel.running:
            return None
        jobs = list(request.jobs)
        items, _skipped = plan(jobs, request.options)
        stop = self._stop = threading.Event()
        loop = asyncio.get_running_loop()
        panel.start(f"Exporting {plural(len(items), 'image')}…", len(items))
        dialog.set_running(True)
        self.spawn(self._remember(request))

        def progress(done: int, total: int, text: str) -> None:
            loop.call_soon_threadsafe(panel.set_progress, done, total, text)

        def work() -> ExportReport:
            signer = c2pa_signer(self.services.settings) if request.c2pa else None
            sources = export_sources(self.services, jobs)
            whole = [self.services.history.get(j.id) or j for j in jobs]
            hooks = stamping(self.services, whole, sidecar=request.sidecar, signer=signer,
                             task_titles=self.task_titles())
            return export_jobs(jobs, request.folder, request.options, sources,
                               progress=progress, cancelled=stop.is_set, stamp=hooks.stamp,
                               extra_files=hooks.extra_files)

        self._work = asyncio.ensure_future(asyncio.to_thread(work))
        try:
            report: ExportReport | None = await asyncio.shield(self._work)
        except asyncio.CancelledError:
            stop.set()
            raise
        except InvalidInput as exc:
            report = None
            panel.finish(str(exc), ok=False)
            self.window.set_status(f"Export failed: {exc}", 15000)
        except Exception as exc:  # any failure becomes a sentence
            log.exception("Export into %s failed", request.folder)
            report = None
            panel.finish(f"The export stopped: something unexpected went wrong ({exc}). "
                         "Files written so far are complete; details are in the log.", ok=False)
        finally:
            self._work = None
            self._stop = None
            dialog.set_running(False)
        if report is not None:
            text = report_words(report)
            panel.finish(text, report.folder, ok=not (report.stopped or report.skipped))
            self.window.set_status(text, 15000)
        return report

    async def _remember(self, request: ExportRequest) -> None:
        """The folder and template of this export become the dialog's next start."""
        settings = self.services.settings
        general = {**settings.general, EXPORT_DIR: str(request.folder),
                   EXPORT_TEMPLATE: request.options.template}
        if general == settings.general:
            return
        updated = replace(settings, general=general)
        try:
            await asyncio.to_thread(save_settings, self.services.paths, updated)
        except OSError as exc:
            log.warning("Could not remember the export folder: %s", exc)
            return
        self.services.settings = updated

    def task_titles(self) -> dict[str, str]:
        """Task titles as the window's providers name them."""
        titles = dict(COMMON_TASKS)
        for provider in self.wb.providers.values():
            for task in provider.tasks:
                titles.setdefault(task.id, task.title)
        return titles

    def show_folder(self, folder: Path) -> None:
        if not self.open_folder(folder):
            self.window.set_status(f"No file manager could open {folder}.", 15000)

    # -- lookbook, report, bundles -----------------------------------------------------------
    def _task_dialog(self, kind: str, title: str) -> ExportTaskDialog:
        from desktop.ui.export_progress import ExportTaskDialog

        dialog = self._task_dialogs.get(kind)
        if dialog is None:
            dialog = ExportTaskDialog(title, f"{kind}TaskDialog", self.window)
            dialog.panel.showFolderRequested.connect(lambda p: self.show_folder(Path(p)))
            self._task_dialogs[kind] = dialog
        dialog.show()
        dialog.raise_()
        return dialog

    def task_dialog(self, kind: str) -> ExportTaskDialog | None:
        return self._task_dialogs.get(kind)

    def _ask_path(self, title: str, filters: list[str], name: str,
                  then: Callable[[Path], Coroutine[Any, Any, Any]], *,
                  save: bool = True) -> None:
        """A non-blocking file dialog; `then(path)` runs on the loop when a file is chosen."""
        folder = Path(str(general_setting(self.services.settings, EXPORT_DIR)))
        dialog = QFileDialog(self.window, title, str(folder))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave if save
                             else QFileDialog.AcceptMode.AcceptOpen)
        if not save:
            dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters(filters)
        if name:
            dialog.selectFile(name)
        suffixes = {f: f.rsplit("*.", 1)[-1].rstrip(")") for f in filters if "*." in f}
        if save and filters[0] in suffixes:
            dialog.setDefaultSuffix(suffixes[filters[0]])
            dialog.filterSelected.connect(
                lambda f: dialog.setDefaultSuffix(suffixes.get(f, "")))
        dialog.fileSelected.connect(lambda path: self.spawn(then(Path(path))))
        dialog.finished.connect(dialog.deleteLater)
        self._file_dialog = dialog
        dialog.open()

    def _nothing(self, what: str) -> None:
        self.window.set_status(f"Nothing to make {what} of: select jobs in the history, or "
                               "show a result.", 15000)

    def ask_lookbook(self, scope: Scope | None) -> None:
        if scope is None:
            self._nothing("a lookbook")
            return
        self._ask_path("Save lookbook (PDF, with PNG pages beside it)", ["PDF (*.pdf)"],
                       "lookbook.pdf", lambda path: self.make_lookbook(path, scope))

    def ask_report(self, scope: Scope | None) -> None:
        if scope is None:
            self._nothing("a report")
            return
        self._ask_path("Save report", ["HTML page (*.html)", "CSV table (*.csv)"],
                       "report.html", lambda path: self.make_report(path, scope))

    def ask_bundle(self, scope: Scope | None) -> None:
        if scope is None:
            self._nothing("a bundle")
            return
        name = (f"restyle-{scope.jobs[0].id[:8]}.zip" if len(scope.jobs) == 1 else
                "restyle-jobs.zip")
        self._ask_path("Save as bundle", ["Job bundle (*.zip)"], name,
                       lambda path: self.save_bundle(path, scope))

    def ask_import(self) -> None:
        self._ask_path("Import bundle", ["Job bundle (*.zip)", "All files (*)"], "",
                       self.import_bundle, save=False)

    async def make_lookbook(self, path: Path, scope: Scope) -> list[Path]:
        """The scope's try-ons as one PDF at `path` and PNG pages in `<name> pages/` beside
        it."""
        from desktop.core.exports.lookbook import build_lookbook, write_lookbook

        if path.suffix.lower() != ".pdf":
            path = path.with_name(path.name + ".pdf")
        pages = path.with_name(f"{path.stem} pages")
        dialog = self._task_dialog("lookbook", "Lookbook")
        dialog.panel.start(f"Making a lookbook of {scope.words}…", cancellable=False)
        services = self.services

        def work() -> tuple[list[Path], str]:
            jobs = self._load_sync(scope)
            book = build_lookbook(jobs, services.history, services.assets,
                                  limits=services.settings.limits)
            written = write_lookbook(book, path) + write_lookbook(book, pages)
            text = (f"Wrote {path.name} ({plural(len(book.pages), 'page')}, "
                    f"{plural(len(book.persons), 'person', 'people')}, "
                    f"{plural(book.looks, 'look')}) and its pages as PNG in “{pages.name}”.")
            if book.skipped:
                reasons = "; ".join(f"job {s.job_id[:8]}: {s.reason}" for s in book.skipped[:3])
                more = len(book.skipped) - 3
                text += (f" Left out {len(book.skipped)}: {reasons}"
                         + (f"; and {more} more" if more > 0 else "") + ".")
            return written, text

        return await self._run_task(dialog, work, path.parent) or []

    async def make_report(self, path: Path, scope: Scope) -> list[Path]:
        """The scope as an HTML page or a CSV table, as the file name says."""
        from desktop.core.exports.report import write_report

        if path.suffix.lower() not in (".html", ".htm", ".csv"):
            path = path.with_name(path.name + ".html")
        dialog = self._task_dialog("report", "Report")
        dialog.panel.start(f"Writing a report of {scope.words}…", cancellable=False)
        services = self.services

        def work() -> tuple[list[Path], str]:
            jobs = self._load_sync(scope)
            written = write_report(jobs, services.history, services.assets,
                                   services.review_store(), path)
            names = " and ".join(p.name for p in written.files)
            return list(written.files), (f"Wrote {names}: {plural(written.jobs, 'job')} "
                                         f"({written.format.upper()}).")

        return await self._run_task(dialog, work, path.parent) or []

    async def save_bundle(self, path: Path, scope: Scope) -> list[Path]:
        from desktop.core.exports.bundle import write_bundle

        if path.suffix.lower() != ".zip":
            path = path.with_name(path.name + ".zip")
        dialog = self._task_dialog("bundle", "Save as bundle")
        dialog.panel.start(f"Saving {scope.words} as a bundle…", cancellable=False)
        services = self.services

        def work() -> tuple[list[Path], str]:
            jobs = self._load_sync(scope)
            written = write_bundle(jobs, services.history, services.assets,
                                   services.review_store(), path)
            size = written.size / 1_000_000
            return [written.path], (f"Saved {plural(len(written.jobs), 'job')} as "
                                    f"{path.name} ({size:.1f} MB): their inputs, results, "
                                    "reviews and settings. Import bundle… adds them to "
                                    "another Restyle's history.")

        return await self._run_task(dialog, work, path.parent) or []

    async def import_bundle(self, path: Path) -> ImportResult | None:
        """Add the bundle's jobs to the history (refused with the core's sentence); the
        history shows and selects them."""
        from desktop.core.exports.bundle import import_bundle

        dialog = self._task_dialog("import", "Import bundle")
        dialog.panel.start(f"Importing {shown(path.name, 80)}…", cancellable=False)
        services = self.services
        result: list[ImportResult] = []

        def work() -> tuple[list[Path], str]:
            found = import_bundle(path, services.history, services.assets,
                                  services.review_store(), services.settings.limits)
            result.append(found)
            return [], _import_words(found)

        await self._run_task(dialog, work, None)
        if not result:
            return None
        panel = self.window.history_panel
        await panel.reload()
        if result[0].imported:
            panel.select_job(result[0].imported[0])
            self.window.history_dock.show()
            self.window.history_dock.raise_()
        return result[0]

    def _load_sync(self, scope: Scope) -> list[Job]:
        """The scope's jobs, oldest first (blocking: in a worker)."""
        if scope.jobs:
            return list(scope.jobs)
        history = self.services.history
        if scope.job_ids:
            jobs = [j for j in (history.get(i) for i in scope.job_ids) if j is not None]
        else:
            where = scope.filter or JobFilter()
            jobs = history.list(where, limit=max(1, min(history.count(where), MAX_JOBS)))
        return sorted(jobs, key=lambda j: (j.created_at, j.id))

    async def _run_task(self, dialog: ExportTaskDialog,
                        work: Callable[[], tuple[list[Path], str]],
                        folder: Path | None) -> list[Path] | None:
        try:
            written, text = await asyncio.to_thread(work)
        except InvalidInput as exc:
            dialog.panel.finish(str(exc), ok=False)
            self.window.set_status(str(exc), 15000)
            return None
        except Exception as exc:  # any failure becomes a sentence
            log.exception("%s failed", dialog.windowTitle())
            text = (f"{dialog.windowTitle()} stopped: something unexpected went wrong "
                    f"({exc}). Details are in the log.")
            dialog.panel.finish(text, ok=False)
            return None
        dialog.panel.finish(text, folder)
        self.window.set_status(text, 15000)
        return written


def _import_words(result: ImportResult) -> str:
    count = len(result.imported)
    text = (f"Imported {plural(count, 'job')} from {shown(result.path.name, 80)}, with "
            f"{plural(result.reviews, 'review')} and {plural(result.votes, 'vote')}; the "
            "history shows them.")
    if result.already_present:
        text += (f" {plural(len(result.already_present), 'job')} already in your history "
                 "left as they are.")
    if result.renamed:
        text += (f" {plural(len(result.renamed), 'job')} stored under a new id: another job "
                 "here had its id.")
    if result.unfinished:
        text += (f" {plural(len(result.unfinished), 'job')} had not ended where it was "
                 "exported; kept as failed here and never sent again.")
    if count == 0 and not result.already_present:
        text = f"{shown(result.path.name, 80)} held no job to import."
    return text

