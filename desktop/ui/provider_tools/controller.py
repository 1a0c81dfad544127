"""The Tools menu: what the providers can do besides a job, one dialog each, and the form's
Choose… for parameters a provider's account can fill (the vtryon base pose task, a past Virtual
Staging AI render). The workbench holds one controller.

Anything paid goes through the engine: more variations of a render are a job of the provider's
`variations` task (asked first, with the cost in photos of the plan), bulk staging is a batch
(the New batch dialog, filled with a folder's photos), an import is a job the engine collects.
A provider that is not set up offers "Set up…" (its settings page) instead of a dialog.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from desktop.core.contract import Provider, ProviderError
from desktop.core.model import InvalidInput, JobEvent, JobSpec
from desktop.core.provider_tools import (
    RecolorTools,
    RemoteJobList,
    RemoteJobSummary,
    RenderSummary,
    StagingTools,
)
from desktop.core.provider_tools.imports import ImportReport, import_jobs, known_jobs
from desktop.ui.batch_inputs import images_in
from desktop.ui.job_words import failure_sentence
from desktop.ui.provider_tools.base import ToolDialog
from desktop.ui.provider_tools.recolor import BaseTaskPicker, RecolourTasksDialog
from desktop.ui.provider_tools.remote_jobs import RemoteJobsDialog
from desktop.ui.provider_tools.staging import RendersDialog, VariationsDialog
from desktop.ui.provider_tools.staging_checks import AnalysisDialog, CompatibilityDialog
from desktop.ui.provider_tools.thumbs import Thumbnails
from desktop.ui.tasks import TaskSet

if TYPE_CHECKING:
    from desktop.ui.workbench import Workbench

log = logging.getLogger(__name__)

STAGING = "virtualstaging"
VTRYON = "vtryon"
FITINVIEW = "fitinview"
STATUS_MS = 15_000

#: chooser name (ParamSpec.chooser) -> the provider whose account fills it.
CHOOSERS = {"vtryon.base_task": VTRYON, "virtualstaging.render": STAGING}


class ToolsController(QObject):
    """See the module docstring."""

    def __init__(self, workbench: Workbench) -> None:
        super().__init__(workbench)
        self.wb = workbench
        self.window = workbench.window
        self.services = workbench.services
        self.engine = workbench.engine
        self.thumbs = Thumbnails(self.services.settings.limits)
        self._tasks = TaskSet("Tools", self._on_task_error)
        #: The open dialog of each kind (one at a time; opening again brings it forward).
        self.dialogs: dict[str, ToolDialog] = {}
        #: "Not set up" question, folder chooser (tests and screenshots reach them here).
        self.question: QMessageBox | None = None
        self.folder_dialog: QFileDialog | None = None
        self.closing = False
        #: The menu's actions by objectName.
        self.actions: dict[str, QAction] = {}
        self.menu = self._build_menu()
        self.window.params_form.chooseRequested.connect(self.choose)
        #: Variations jobs started here: when one ends, an open renders list is read again.
        self._variation_jobs: set[str] = set()
        self._unsubscribe = self.engine.subscribe(self._on_event)

    def _on_event(self, event: JobEvent) -> None:
        job = event.job
        if job.id not in self._variation_jobs or not job.state.terminal or self.closing:
            return
        self._variation_jobs.discard(job.id)
        renders = self.dialog("renders")
        if isinstance(renders, RendersDialog):
            render_id = str(job.spec.params.get("render_id") or "")
            renders.run(renders.load(keep=render_id))

    # -- the menu -------------------------------------------------------------------------------
    def _build_menu(self) -> QMenu:
        w = self.window
        menu = QMenu("&Tools", w)
        menu.setObjectName("toolsMenu")
        w.menuBar().insertMenu(w.view_menu.menuAction(), menu)
        title = {pid: self.wb.providers[pid].title for pid in (STAGING, VTRYON, FITINVIEW)
                 if pid in self.wb.providers}
        entries: list[tuple[str, str, str, str, Callable[[], None]]] = [
            (STAGING, "toolsRendersAction", "past renders…",
             "Your past renders with their pictures; add variations to one",
             self.open_renders),
            (STAGING, "toolsBulkStagingAction", "stage a folder of photos…",
             "Every photo of a folder staged the same way: a batch you confirm first",
             self.open_bulk),
            (STAGING, "toolsAnalysisAction", "furniture analysis…",
             "How much of a room photo is furniture", self.open_analysis),
            (STAGING, "toolsCompatibilityAction", "can two photos be staged together?…",
             "Whether two photos of a room can be staged with matching furniture",
             self.open_compatibility),
            (VTRYON, "toolsRecolourTasksAction", "recolour tasks…",
             "The recolour tasks of your vtryon account; delete the ones you no longer need",
             self.open_recolour_tasks),
            (FITINVIEW, "toolsRemoteJobsAction", "jobs on your account…",
             "Every job of your FitInView key; import those the history does not have",
             self.open_remote_jobs),
        ]
        last = ""
        for pid, name, text, tip, slot in entries:
            if pid not in title:
                continue
            if last and pid != last:
                menu.addSeparator()
            last = pid
            action = QAction(f"{title[pid]}: {text}", w)
            action.setObjectName(name)
            action.setToolTip(tip)
            action.setStatusTip(tip)
            action.triggered.connect(lambda *_a, s=slot: s())
            menu.addAction(action)
            self.actions[name] = action
        menu.setToolTipsVisible(True)
        return menu

    # -- plumbing -------------------------------------------------------------------------------
    def spawn(self, coro: Any) -> asyncio.Task[Any] | None:
        return self._tasks.spawn(coro)

    def _on_task_error(self, exc: BaseException) -> None:
        self.window.set_status(f"A tool failed ({type(exc).__name__}); the details are in the "
                               "log.", STATUS_MS)

    async def idle(self) -> None:
        """Wait until every tool action under way has finished (tests, screenshots); the
        dialogs' own work too."""
        await self._tasks.join()
        for dialog in list(self.dialogs.values()):
            await dialog.settled()

    async def aclose(self) -> None:
        self.closing = True
        self._unsubscribe()
        for widget in (*self.dialogs.values(), self.question, self.folder_dialog):
            if widget is not None and shiboken6.isValid(widget):
                widget.reject()
        for dialog in list(self.dialogs.values()):
            await dialog.aclose()
        self.dialogs.clear()
        await self._tasks.aclose()

    def provider(self, provider_id: str) -> Provider:
        """The window's instance (fresh after a settings change)."""
        return self.wb.providers[provider_id]

    async def ready(self, provider_id: str) -> bool:
        """Set up (key, base URL)? If not, say so and offer its settings page."""
        state = await asyncio.to_thread(self.services.readiness, provider_id)
        if state.ready:
            return True
        title = self.provider(provider_id).title
        box = QMessageBox(QMessageBox.Icon.Information, f"{title} is not set up",
                          f"{title} is not set up yet.", QMessageBox.StandardButton.NoButton,
                          self.window)
        box.setObjectName("toolsNotSetUp")
        box.setInformativeText(state.problem)
        setup = box.addButton("Set up…", QMessageBox.ButtonRole.AcceptRole)
        setup.setObjectName("toolsSetUp")
        close = box.addButton(QMessageBox.StandardButton.Close)
        close.setObjectName("toolsNotSetUpClose")
        self.question = box

        def answered(*_args: object) -> None:
            self.question = None
            if box.clickedButton() is setup:
                self.wb.open_settings(provider_id)

        box.finished.connect(answered)
        box.open()
        return False

    def _show(self, kind: str, make: Callable[[], ToolDialog],
              wire: Callable[[Any], None] | None = None) -> ToolDialog:
        """One dialog of a kind at a time: an open one is brought forward. `wire` connects a
        new dialog's signals (once)."""
        open_one = self.dialogs.get(kind)
        if open_one is not None and shiboken6.isValid(open_one) and open_one.isVisible():
            open_one.raise_()
            open_one.activateWindow()
            return open_one
        dialog = make()
        if wire is not None:
            wire(dialog)

        def closed(*_args: object) -> None:
            if self.dialogs.get(kind) is dialog:
                del self.dialogs[kind]
            self.spawn(self._dispose(dialog))

        dialog.finished.connect(closed)
        self.dialogs[kind] = dialog
        dialog.open()
        begin = getattr(dialog, "begin", None)
        if callable(begin):
            begin()
        return dialog

    @staticmethod
    async def _dispose(dialog: ToolDialog) -> None:
        """Delete a closed dialog once its work has stopped (a cancelled task may still touch
        its widgets on the way out)."""
        await dialog.aclose()
        if shiboken6.isValid(dialog):
            dialog.deleteLater()

    def dialog(self, kind: str) -> ToolDialog | None:
        found = self.dialogs.get(kind)
        return found if found is not None and shiboken6.isValid(found) else None

    # -- Virtual Staging AI ---------------------------------------------------------------------
    def open_renders(self) -> None:
        self.spawn(self._open_renders(picking=False))

    async def _open_renders(self, *, picking: bool) -> RendersDialog | None:
        if not await self.ready(STAGING):
            return None
        provider = self.provider(STAGING)
        assert isinstance(provider, StagingTools)
        kind = "render-picker" if picking else "renders"

        def wire(dialog: RendersDialog) -> None:
            if not picking:
                    dialog.addRequested.connect(self.add_variations)

        dialog = self._show(kind, lambda: RendersDialog(provider, self.thumbs, picking=picking,
                                                        parent=self.window), wire)
        assert isinstance(dialog, RendersDialog)
        return dialog

    def add_variations(self, render: RenderSummary) -> VariationsDialog | None:
        """The new variations' settings and cost; once confirmed, a job like any other."""
        provider = self.provider(STAGING)
        task = provider.task("variations")
        if task is None:
            return None
        current = self.wb.current_entry()
        values = (self.wb.params_for(STAGING) if current is not None
                  and current.task_id in ("staging", "variations")
                  and STAGING in current.providers else {})
        values = {k: v for k, v in values.items()
                  if task.param(k) is not None and k not in ("variation_count", "render_id")}

        def wire(dialog: VariationsDialog) -> None:
            dialog.accepted.connect(lambda: dialog.request is not None and self.spawn(
                self.submit_variations(dict(dialog.request))))

        dialog = self._show("variations", lambda: VariationsDialog(
            provider.title, task, render, values, self.window), wire)
        assert isinstance(dialog, VariationsDialog)
        self.spawn(self._limits_into(dialog, provider))
        return dialog

    async def _limits_into(self, dialog: VariationsDialog, provider: Provider) -> None:
        try:
            account = await asyncio.wait_for(provider.account(), 30)
        except (ProviderError, TimeoutError) as exc:
            log.info("Photo limits unavailable: %s", failure_sentence(exc))
            return
        if shiboken6.isValid(dialog):
            dialog.set_limits(account.limits)

    async def submit_variations(self, params: dict[str, Any]) -> None:
        spec = JobSpec(STAGING, "variations", {}, params)
        renders = self.dialog("renders")
        try:
            prepared = await self.engine.prepare(spec)
            job = await self.engine.submit(prepared.spec, prepared)
        except (InvalidInput, ProviderError) as exc:
            text = f"The variations were not sent: {failure_sentence(exc)}"
            if renders is not None:
                renders.say(text, problem=True)
            self.window.set_status(text, STATUS_MS)
            return
        self._variation_jobs.add(job.id)
        self.wb.started([job.id])
        self.window.job_queue.update_job(job)
        self.window.job_queue.select_job(job.id)
        text = (f"Adding variations to render {params.get('render_id')}: the job is in the Jobs "
                "panel and its results land in the history.")
        if renders is not None:
            renders.say(text)
        self.window.set_status(text, STATUS_MS)

    def open_analysis(self) -> None:
        self.spawn(self._open_check("analysis"))

    def open_compatibility(self) -> None:
        self.spawn(self._open_check("compatibility"))

    async def _open_check(self, kind: str) -> None:
        if not await self.ready(STAGING):
            return
        provider = self.provider(STAGING)
        assert isinstance(provider, StagingTools)

        async def prepare(source: str) -> Any:
            return await self.engine.prepare_input(STAGING, "room", source)

        loader = self.window.preview_loader
        limits = self.provider(STAGING).limits
        if kind == "analysis":
            self._show(kind, lambda: AnalysisDialog(provider, prepare, loader, limits,
                                                    self.thumbs, self.window))
        else:
            self._show(kind, lambda: CompatibilityDialog(provider, prepare, loader, limits,
                                                         self.window))

    def open_bulk(self) -> None:
        self.spawn(self.stage_folder())

    async def stage_folder(self) -> None:
        """Every photo of a folder, staged the same way: the New batch dialog with the photos
        as its rows, this provider ticked and the form's staging settings."""
        if not await self.ready(STAGING):
            return
        dialog = QFileDialog(self.window, "Stage every photo of a folder")
        dialog.setObjectName("toolsFolderDialog")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)

        def picked(path: str) -> None:
            if path and not self.closing:
                self.spawn(self.stage_photos_of(path))

        def gone(*_args: object) -> None:
            self.folder_dialog = None
            dialog.deleteLater()

        dialog.fileSelected.connect(picked)
        dialog.finished.connect(gone)
        self.folder_dialog = dialog
        dialog.open()

    async def stage_photos_of(self, folder: str) -> None:
        from desktop.ui.batch_dialog import BatchContext, ProviderChoice

        photos = await asyncio.to_thread(images_in, Path(folder))
        if not photos:
            self.window.set_status(f"There are no photos in {folder} (looked for JPEG, PNG, "
                                   "WebP, AVIF, TIFF, BMP, GIF and HEIC files).", STATUS_MS)
            return
        provider = self.provider(STAGING)
        task = provider.task("staging")
        assert task is not None
        current = self.wb.current_entry()
        values = (self.wb.params_for(STAGING) if current is not None
                  and current.task_id == "staging" and STAGING in current.providers else {})
        context = BatchContext(
            task_id="staging", task_title=task.title,
            providers=(ProviderChoice(STAGING, provider.title, True, "", False),),
            ticked=(STAGING,), tasks={STAGING: task}, base_params={STAGING: values},
            inputs={"room": photos})
        self.wb.batches.open_with(context)

    # -- vtryon ---------------------------------------------------------------------------------
    def open_recolour_tasks(self) -> None:
        self.spawn(self._open_recolour_tasks())

    async def _open_recolour_tasks(self) -> None:
        if not await self.ready(VTRYON):
            return
        provider = self.provider(VTRYON)
        assert isinstance(provider, RecolorTools)
        self._show("recolour-tasks", lambda: RecolourTasksDialog(provider, self.thumbs,
                                                                 self.window))

    # -- FitInView ------------------------------------------------------------------------------
    def open_remote_jobs(self) -> None:
        self.spawn(self._open_remote_jobs())

    async def _open_remote_jobs(self) -> None:
        if not await self.ready(FITINVIEW):
            return
        provider = self.provider(FITINVIEW)
        assert isinstance(provider, RemoteJobList)

        async def known(remotes: Sequence[RemoteJobSummary]) -> dict[str, str]:
            return await asyncio.to_thread(known_jobs, self.services.history, provider.id,
                                           remotes)

        async def importer(remotes: Sequence[RemoteJobSummary]) -> ImportReport:
            report = await import_jobs(self.engine, provider, remotes)
            for job in report.imported:
                self.window.job_queue.update_job(job)
            if report.imported:
                self.window.queue_dock.raise_()
                self.window.set_status(
                    f"Importing {len(report.imported)} {provider.title} job"
                    f"{'' if len(report.imported) == 1 else 's'} into the history.", STATUS_MS)
            return report

        self._show("remote-jobs", lambda: RemoteJobsDialog(provider, known, importer,
                                                           self.window))

    # -- the form's Choose… ---------------------------------------------------------------------
    def choose(self, param: str, chooser: str) -> None:
        self.spawn(self._choose(param, chooser))

    async def _choose(self, param: str, chooser: str) -> None:
        provider_id = CHOOSERS.get(chooser)
        if provider_id is None or provider_id not in self.wb.providers:
            log.warning("No picker for %s", chooser)
            return
        if not await self.ready(provider_id):
            return
        form = self.window.params_form
        if provider_id == VTRYON:
            provider = self.provider(VTRYON)
            assert isinstance(provider, RecolorTools)
            current = form.values().get(param)
            picker = self._show("base-task", lambda: BaseTaskPicker(
                provider, self.thumbs, current=current if isinstance(current, int) else None,
                parent=self.window))
            assert isinstance(picker, BaseTaskPicker)

            def use(pose_id: int, model_task_id: object) -> None:
                values: dict[str, Any] = {param: pose_id}
                if isinstance(model_task_id, int):
                    values["models_image_generation_task_id"] = model_task_id
                form.set_values(values)
                self.window.set_status(f"Base pose task {pose_id} chosen.", STATUS_MS)

            picker.picked.connect(use)
        else:
            dialog = await self._open_renders(picking=True)
            if dialog is None:
                return
            current = form.values().get(param)
            if isinstance(current, str) and current:
                dialog.run(self._select_when_loaded(dialog, current))
            dialog.picked.connect(lambda render: form.set_values({param: render.id}))

    @staticmethod
    async def _select_when_loaded(dialog: RendersDialog, render_id: str) -> None:
        await asyncio.sleep(0)
        for _ in range(600):
            if dialog.select(render_id) or dialog.said_problem():
                return
            await asyncio.sleep(0.05)
