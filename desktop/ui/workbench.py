"""The window's behaviour: task and provider choice, generating jobs through the engine,
engine events into the queue and history, settings and credits. It composes the parts with a
job of their own: what the compare view shows (ResultPresenter), exports (ExportController),
the queue's and history's job actions (JobActions), whether Generate can run
(GenerateState), jobs that need attention, batches and reviews.

Everything runs on the qasync loop; decoding, file reads and writes and database queries run in
worker threads, so the window never waits on them.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QSettings
from PySide6.QtWidgets import QApplication

from desktop.core.catalog import CatalogEntry, build_catalog
from desktop.core.contract import Provider, ProviderError, TaskVariant
from desktop.core.engine import JobEngine
from desktop.core.model import (
    EventKind,
    InvalidInput,
    Job,
    JobEvent,
    JobSpec,
    JobState,
    TaskSpec,
)
from desktop.general_settings import THEME, general_setting
from desktop.ui.attention import AttentionController
from desktop.ui.batch_controller import BatchController
from desktop.ui.compare_files import CompareFiles
from desktop.ui.compare_jobs import CompareJobs
from desktop.ui.compare_view import CompareMode
from desktop.ui.export_controller import ExportController
from desktop.ui.export_workflows import ExportWorkflows
from desktop.ui.first_paint import next_paint
from desktop.ui.furniture_masks import FurnitureMasks
from desktop.ui.generate_state import GenerateState
from desktop.ui.inputs_controller import InputsController
from desktop.ui.job_actions import JobActions
from desktop.ui.job_sender import JobSender
from desktop.ui.job_words import failure_sentence
from desktop.ui.main_window import MainWindow, window_settings_path
from desktop.ui.output_images import OutputImages
from desktop.ui.provider_choice import ProviderChoice
from desktop.ui.provider_readiness import ProviderReadiness, check_providers
from desktop.ui.provider_tools import ToolsController
from desktop.ui.result_presenter import ResultPresenter
from desktop.ui.review_controller import ReviewController
from desktop.ui.screen_fit import fit_to_screen
from desktop.ui.task_picker import ProviderState
from desktop.ui.tasks import TaskSet
from desktop.ui.team_live import TeamLive

if TYPE_CHECKING:
    from desktop.services import Services

log = logging.getLogger(__name__)


class Workbench(QObject):
    """Wires the window to the engine and the services."""

    def __init__(self, window: MainWindow, services: Services, engine: JobEngine) -> None:
        super().__init__(window)
        self.window = window
        self.services = services
        self.engine = engine
        self.providers: dict[str, Provider] = {
            pid: engine.provider(pid) for pid in services.provider_ids()
        }
        self.variants: dict[str, list[TaskVariant]] = {}
        self._variant_tasks: dict[tuple[str, str], TaskSpec] = {}
        #: Which providers can run here, and why not (set up on start and after settings).
        self.readiness = ProviderReadiness()
        self._values: dict[str, dict[str, Any]] = {}  # provider id -> form values
        #: The provider whose parameters the form shows now.
        self.form_provider = ""
        self._form_entry = ""  # the catalogue key of the task the form was made for
        #: The jobs the last press of Generate (or a re-run) created, one per provider.
        self._batch: list[str] = []
        self._tasks = TaskSet("Window", self._on_task_error)
        self.images = OutputImages(services, lambda: self.providers,
                                   lambda text: self.window.set_status(text, 15000))
        self.results = ResultPresenter(window, services, self.images)
        self.compare_jobs = CompareJobs(self)  # grids from the history
        self.compare_files = CompareFiles(self)  # File > Compare files…, restyle --compare
        self.panes = InputsController(self)
        self.exports = ExportController(window, services, self.images, self.results, self.spawn)
        self.actions = JobActions(self)
        self._credits: dict[str, str] = {}
        self._settings_dialog: Any = None
        self.qsettings = QSettings(str(window_settings_path(services.paths.config_dir)),
                                   QSettings.Format.IniFormat)
        self.choice = ProviderChoice(self, self.qsettings)  # ticks per task, inputs per job
        self.sender = JobSender(services, engine)  # here, or the team's workers (team mode)
        self._unsubscribe = engine.subscribe(self._on_event)
        self.generate_state = GenerateState(self)  # Generate's enabled state, cost, problems
        self.attention = AttentionController(window, engine, services.history, self.providers,
                                             lambda jid: self.spawn(self.show_job(jid)))
        self.reviews = ReviewController(window, services, self.images, self.qsettings,
                                        lambda pid: self.providers[pid].title
                                        if pid in self.providers else pid)
        self._connect()
        self.attention.attach()
        self.batches = BatchController(self)  # New batch…, the Batches panel, the grid
        self.export_workflows = ExportWorkflows(self)  # Export…, listing, lookbook, bundles
        self.tools = ToolsController(self)  # the Tools menu and the form's Choose…
        self.masks = FurnitureMasks(self)  # Virtual Staging AI's mask for the structure check
        self.masks.attach()
        self.team = TeamLive(self)  # team mode: other desks' changes, as they are committed

    # -- plumbing -----------------------------------------------------------------------------
    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any] | None:
        """Run a coroutine on the loop, keep a reference, log and report what it raises."""
        return self._tasks.spawn(coro)

    def _on_task_error(self, exc: BaseException) -> None:
        self.window.set_status(f"Something went wrong: {exc}. Details are in the log.")

    async def idle(self) -> None:
        """Wait until every task the window started has finished (tests use it)."""
        await self._tasks.join()

    def _connect(self) -> None:
        w = self.window
        w.task_selector.entryChanged.connect(self._on_entry_changed)
        w.provider_selector.selectionChanged.connect(self._on_providers_changed)
        w.params_provider.currentIndexChanged.connect(self._on_params_provider_changed)
        w.params_form.changed.connect(self._on_form_changed)
        for pane in w.panes.values():
            pane.changed.connect(self.schedule_refresh)
            pane.busyChanged.connect(self.schedule_refresh)
        w.generate_button.clicked.connect(self.generate_clicked)
        w.generate_action.triggered.connect(self.generate_clicked)
        self.panes.attach()  # which panes show, samples, Open and Paste into a pane
        w.settings_action.triggered.connect(lambda: self.open_settings(None))
        w.quit_action.triggered.connect(w.close)
        w.find_action.triggered.connect(self._find)
        w.problem_label.linkActivated.connect(self.generate_state.on_problem_link)
        w.job_queue.openRequested.connect(lambda jid: self.spawn(self.show_job(jid)))
        w.job_queue.settingsRequested.connect(self.open_settings)
        w.history_panel.openRequested.connect(lambda jid: self.spawn(self.show_job(jid)))
        self.results.attach()  # the compare view's outputs and grid cells
        self.compare_jobs.attach()  # Compare selected, Compare with other providers
        self.compare_files.attach()
        self.choice.attach()  # "Set up…", ticks remembered per task, the panes' usage note
        self.exports.attach()  # Save result…, Save before/after…, Copy result
        self.actions.attach()  # re-run, reuse, delete, remove from the queue
        w.review_mode_action.triggered.connect(self.reviews.open_review_mode)
        w.arena_action.triggered.connect(self.reviews.open_arena)

    # -- start-up and shutdown --------------------------------------------------------------
    async def start(self) -> None:
        """Restore the last session, fill the history, resume unfinished jobs, then look for
        workflows and credits of the providers that are ready.

        The history's first page comes first: it is what the opened window shows, and the
        readiness check behind it asks the system keyring (importing keyring and discovering its
        backends costs a few hundred milliseconds on a cold start)."""
        await self.window.history_panel.reload()
        await next_paint(self.window.history_panel.view.viewport())  # then ask the keyring
        await self._check_providers()
        self._rebuild_catalog(keep=str(self.qsettings.value("task", "") or ""))
        self.restore_layout()
        report = await self.attention.resume_at_start()
        self.attention.start_adopting()
        await self.batches.start()  # after resume: batches left running carry on
        self.team.start()
        self.spawn(self.discover_variants())
        self.spawn(self.refresh_credits())
        self.spawn(self._prune_pasted())
        self.spawn(self.masks.refresh())
        for pid, provider in self.providers.items():
            if pid not in self._problems:
                self.spawn(provider.warm_up())
        log.info("Window ready: %d jobs resumed", len(report.resumed))

    async def _prune_pasted(self) -> None:
        removed = await self.window.preview_loader.prune_pasted()
        if removed:
            log.info("Removed %d pasted images older than 30 days", removed)

    @property
    def _problems(self) -> dict[str, str]:
        """What keeps each provider from working on this desk (its API: credits, tools)."""
        return self.readiness.problems

    async def _check_providers(self) -> None:
        self.readiness = await asyncio.to_thread(check_providers, self.services,
                                              list(self.providers), team=self.sender.team)

    def restore_layout(self) -> None:
        s = self.qsettings
        w = self.window
        geometry = s.value("geometry")
        if geometry is not None:
            w.restoreGeometry(geometry)
        state = s.value("windowState")
        fit_to_screen(w, restored=state is not None and w.restoreState(state))
        for splitter in (w.main_splitter, w.centre_splitter):
            saved = s.value(splitter.objectName())
            if saved is not None:
                splitter.restoreState(saved)
        mode = str(s.value("compareMode", "") or "")
        if mode in {m.value for m in CompareMode}:
            w.compare_view.set_mode(CompareMode(mode))

    def save_layout(self) -> None:
        s = self.qsettings
        w = self.window
        s.setValue("geometry", w.saveGeometry())
        s.setValue("windowState", w.saveState())
        for splitter in (w.main_splitter, w.centre_splitter):
            s.setValue(splitter.objectName(), splitter.saveState())
        s.setValue("task", w.task_selector.current_key())
        s.setValue("providers", ",".join(w.provider_selector.checked()))
        s.setValue("compareMode", w.compare_view.mode().value)
        s.sync()

    async def aclose(self) -> None:
        self._unsubscribe()
        await self.team.aclose()
        self.window.history_panel.cancel_tasks()
        await self.tools.aclose()
        await self.masks.aclose()
        await self.batches.aclose()
        await self.export_workflows.aclose()
        await self.attention.aclose()
        await self.reviews.aclose()
        await self._tasks.aclose()
        await self.sender.aclose()

    # -- catalogue, providers, panes, form --------------------------------------------------
    def _rebuild_catalog(self, keep: str | None = None) -> None:
        entries = build_catalog(self.providers, self.variants)
        self.window.task_selector.set_entries(entries, keep=keep)

    def current_entry(self) -> CatalogEntry | None:
        return self.window.task_selector.current_entry()

    def _on_entry_changed(self, _key: str) -> None:
        entry = self.current_entry()
        if entry is None:
            return
        blocked = self.readiness.form_problems()
        ticked = self.choice.initial_ticked(entry, blocked)
        states = [ProviderState(pid, self.providers[pid].title, pid not in blocked,
                                blocked.get(pid, "")) for pid in entry.providers]
        self._values = {}
        if entry.key != self._form_entry:
            # The form still shows another task: its values are not this one's (a workflow's
            # inputs would reach a tool as free-form parameters). The same entry again (the
            # catalogue rebuilt when workflows are found) keeps what was typed.
            self.form_provider = ""
        self._form_entry = entry.key
        self.window.provider_selector.set_providers(states, ticked)
        self.choice.entry_shown(entry)

    def ticked(self) -> list[str]:
        return self.window.provider_selector.checked()

    def task_for(self, provider_id: str) -> TaskSpec | None:
        entry = self.current_entry()
        if entry is None:
            return None
        if entry.variant is not None:
            return self._variant_tasks.get((provider_id, entry.variant.value))
        return self.providers[provider_id].task(entry.task_id)

    def _on_providers_changed(self) -> None:
        entry = self.current_entry()
        ticked = self.ticked()
        combo = self.window.params_provider
        combo.blockSignals(True)
        combo.clear()
        for pid in ticked:
            combo.addItem(self.providers[pid].title, pid)
        combo.setVisible(len(ticked) > 1)
        keep = combo.findData(self.form_provider)
        combo.setCurrentIndex(max(0, keep))
        combo.blockSignals(False)
        if entry is not None and entry.variant is not None:
            missing = [p for p in ticked if (p, entry.variant.value) not in self._variant_tasks]
            if missing:
                self.spawn(self._load_variant_tasks(entry, missing))
        self.panes.layout_panes()
        self._show_form(str(combo.currentData() or ""))
        self.schedule_refresh()

    async def _load_variant_tasks(self, entry: CatalogEntry, provider_ids: list[str]) -> None:
        assert entry.variant is not None
        for pid in provider_ids:
            try:
                task = await self.providers[pid].variant_task(entry.variant)
            except (ProviderError, InvalidInput) as exc:
                self.window.set_status(f"Could not load workflow {entry.variant.value!r}: "
                                       f"{failure_sentence(exc)}")
                continue
            self._variant_tasks[(pid, entry.variant.value)] = task
        if self.current_entry() == entry:
            self.panes.layout_panes()
            self._show_form(self.form_provider or (provider_ids[0] if provider_ids else ""))
            self.schedule_refresh()

    def _on_params_provider_changed(self, _index: int) -> None:
        self._show_form(str(self.window.params_provider.currentData() or ""))

    def _show_form(self, provider_id: str) -> None:
        form = self.window.params_form
        if self.form_provider and form.task() is not None:
            self._values[self.form_provider] = form.values()
        self.form_provider = provider_id
        task = self.task_for(provider_id) if provider_id else None
        entry = self.current_entry()
        hidden: tuple[str, ...] = ()
        values = dict(self._values.get(provider_id, {}))
        if entry is not None and entry.variant is not None:
            hidden = (entry.variant.param,)
            values[entry.variant.param] = entry.variant.value
        form.set_task(task, values or None, hidden=hidden)

    def set_form_values(self, provider_id: str, values: dict[str, Any]) -> None:
        """Fill the form with a provider's values (a job put back into the form)."""
        self._values[provider_id] = dict(values)
        self._show_form(provider_id)
        self.window.params_form.set_values(dict(values))

    def _on_form_changed(self) -> None:
        if self.form_provider:
            self._values[self.form_provider] = self.window.params_form.values()
        self.schedule_refresh()

    def params_for(self, provider_id: str) -> dict[str, Any]:
        if provider_id == self.form_provider:
            values = self.window.params_form.values()
        else:
            values = dict(self._values.get(provider_id, {}))
        entry = self.current_entry()
        if entry is not None and entry.variant is not None:
            values[entry.variant.param] = entry.variant.value
        return values

    def inputs(self) -> dict[str, list[str]]:
        return {role: pane.sources() for role, pane in self.window.panes.items()
                if not pane.isHidden() and pane.sources()}

    # -- Generate: enabled state, cost, problems (generate_state.py) -------------------------
    def schedule_refresh(self, *_args: object) -> None:
        self.generate_state.schedule()

    def problems(self) -> list[str]:
        """Why Generate cannot run now, as sentences (rich text links to settings)."""
        return self.generate_state.problems()

    # -- generating ---------------------------------------------------------------------------
    def generate_clicked(self) -> None:
        if not self.window.generate_button.isEnabled():
            problems = self.problems()
            if problems:
                self.window.set_status(_plain(problems[0]))
            return
        self.spawn(self.generate())

    async def generate(self) -> list[Job]:
        """One job per ticked provider, with the same inputs. Bad input stops before anything
        is stored; the sentence shows under the form."""
        entry = self.current_entry()
        if entry is None:
            return []
        inputs = self.inputs()
        specs = [JobSpec(pid, entry.task_id, self.choice.inputs_for(pid, inputs),
                         self.params_for(pid)) for pid in self.ticked()]
        self.window.generate_button.setEnabled(False)
        self.window.set_status("Preparing inputs…", 0)
        try:
            prepared = []
            for spec in specs:
                try:
                    prepared.append(await self.engine.prepare(spec))
                except (InvalidInput, ProviderError) as exc:
                    title = self.providers[spec.provider].title
                    text = f"{title}: {failure_sentence(exc)}"
                    self.generate_state.refused(text)
                    self.window.problem_label.setText(html.escape(text))
                    self.window.problem_label.setVisible(True)
                    self.window.set_status(text)
                    return []
            jobs = [await self.sender.send(p) for p in prepared]
        finally:
            self.schedule_refresh()
        self.started([job.id for job in jobs])
        for job in jobs:
            self.window.job_queue.update_job(job)
        if jobs:
            self.window.job_queue.select_job(jobs[0].id)
        self.window.set_status(self.sender.started_sentence(len(jobs)))
        return jobs

    def _on_event(self, event: JobEvent) -> None:
        job = event.job
        self.window.job_queue.update_job(job, message=event.message, retry_at=event.retry_at,
                                         error_code=event.error_code)
        if event.kind == EventKind.STATE:
            self.window.history_panel.refresh_job(job)
            self.update_running_label()
        if job.state.terminal and event.kind == EventKind.STATE:
            self.on_finished(job)

    def update_running_label(self) -> None:
        running = self.window.job_queue.running_count()
        self.window.running_label.setText(f"{running} running" if running else "")

    def on_finished(self, job: Job) -> None:
        batch = self._batch
        if job.state == JobState.SUCCEEDED:
            provider = self.providers.get(job.provider)
            if provider is not None and provider.supports_account:
                self.spawn(self.refresh_credits([job.provider]))
        elif job.error is not None and job.state in (JobState.FAILED, JobState.TIMED_OUT):
            title = self.providers[job.provider].title if job.provider in self.providers else ""
            self.window.set_status(f"{title} job failed: {job.error.message}", 15000)
        if job.id not in batch:
            return
        if len(batch) == 1:
            if job.state == JobState.SUCCEEDED:
                self.spawn(self.show_job(job.id))
        else:
            self.spawn(self.results.show_batch(batch))

    def started(self, job_ids: list[str]) -> None:
        """These jobs were just started from the form (or re-run): when they finish, the
        compare view shows them (several: as a grid)."""
        self._batch = list(job_ids)

    async def show_job(self, job_id: str, output_index: int = 0) -> Job | None:
        """Show a job's outputs with its before image in the compare view."""
        return await self.results.show_job(job_id, output_index)

    # -- inputs ---------------------------------------------------------------------------------
    async def load_samples(self) -> None:
        """Put the sample images into the panes the task shows."""
        await self.panes.load_samples()

    def _find(self) -> None:
        self.window.history_dock.show()
        self.window.history_dock.raise_()
        self.window.history_panel.focus_search()

    def _general(self, name: str) -> Any:
        """A general setting (theme, export folder, format, quality) or its default."""
        return general_setting(self.services.settings, name)

    # -- settings, workflows, credits ---------------------------------------------------------
    def open_settings(self, provider_id: str | None) -> Any:
        from desktop.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.services, self.window, initial_provider=provider_id)
        dialog.settingsSaved.connect(lambda: self.spawn(self.settings_changed()))
        self._settings_dialog = dialog
        dialog.open()
        return dialog

    async def settings_changed(self) -> None:
        """New keys, base URLs or limits: fresh providers, readiness, workflows, credits."""
        policy = self.services.settings.engine_policy(list(self.providers))
        self.engine.reconfigure(policy)
        self.providers = {pid: self.engine.provider(pid) for pid in self.providers}
        self._variant_tasks = {}
        await self._check_providers()
        self._rebuild_catalog()
        self._apply_theme()
        self.reviews.settings_changed()
        self.export_workflows.settings_changed()
        await self.masks.refresh()
        await self.discover_variants()
        await self.refresh_credits()

    def _apply_theme(self) -> None:
        from desktop.ui.theme import apply_theme

        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, str(self._general(THEME)))

    async def discover_variants(self) -> None:
        """Saved workflows of the ready providers become tasks of their own."""
        found: dict[str, list[TaskVariant]] = {}
        for pid, provider in self.providers.items():
            if pid in self._problems or type(provider).task_variants is Provider.task_variants:
                continue
            try:
                found[pid] = await asyncio.wait_for(provider.task_variants(), 30)
            except (ProviderError, InvalidInput, TimeoutError) as exc:
                self.window.set_status(f"Could not list {provider.title} workflows: "
                                       f"{failure_sentence(exc)}", 15000)
        if found != self.variants:
            self.variants = found
            self._rebuild_catalog()

    async def refresh_credits(self, provider_ids: list[str] | None = None) -> None:
        for pid in provider_ids or list(self.providers):
            provider = self.providers[pid]
            if not provider.supports_account or pid in self._problems:
                continue
            try:
                account = await asyncio.wait_for(provider.account(), 30)
            except (ProviderError, TimeoutError) as exc:
                self._credits[pid] = f"{provider.title}: credits unknown"
                log.info("Credits of %s unavailable: %s", pid, failure_sentence(exc))
            else:
                if account.credits is not None:
                    self._credits[pid] = f"{provider.title}: {account.credits:,.0f} credits"
        self.window.credits_label.setText("   ".join(self._credits.values()))


def _plain(rich: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", rich))

