"""What the queue and the history do to a job: run it again, put it back into the form,
delete it, take it off the queue. A job that may already be paid for is never run a second
time: it is looked up again instead."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.core.catalog import entry_for
from desktop.core.contract import ProviderError
from desktop.core.model import InvalidInput, Job, JobSpec, JobState
from desktop.ui.job_words import failure_sentence

if TYPE_CHECKING:
    from desktop.ui.workbench import Workbench


class JobActions:
    """Re-run, reuse, delete and remove, for the queue's and the history's menus."""

    def __init__(self, wb: Workbench) -> None:
        self.wb = wb
        self.window = wb.window
        self.services = wb.services

    def attach(self) -> None:
        spawn = self.wb.spawn
        q = self.window.job_queue  # Cancel / Abandon and Retry of a waiting job: attention
        q.retryRequested.connect(lambda jid: spawn(self.rerun(jid)))
        q.removeRequested.connect(self.remove_from_queue)
        h = self.window.history_panel
        h.rerunRequested.connect(lambda jid: spawn(self.rerun(jid)))
        h.reuseRequested.connect(lambda jid: spawn(self.reuse(jid)))
        h.deleteRequested.connect(lambda jid: spawn(self.delete(jid)))
        self.window.result_panel.reuseRequested.connect(lambda jid: spawn(self.reuse(jid)))

    def remove_from_queue(self, job_id: str) -> None:
        job = self.window.job_queue.job(job_id)
        if job is not None and not job.state.terminal:
            self.window.set_status("Cancel the job before removing it from the queue.")
            return
        self.window.job_queue.remove_job(job_id)

    async def _reusable_inputs(self, job: Job) -> dict[str, list[str]]:
        """The job's inputs as sources that still exist: the original file or URL, else the
        copy kept in the asset store."""
        history, assets = self.services.history, self.services.assets

        def resolve() -> dict[str, list[str]]:
            result: dict[str, list[str]] = {}
            for role, sources in job.spec.inputs.items():
                shas = job.inputs.get(role, [])
                for i, source in enumerate(sources):
                    if source.startswith(("http://", "https://")) or Path(source).is_file():
                        result.setdefault(role, []).append(source)
                        continue
                    asset = history.asset(shas[i]) if i < len(shas) else None
                    if asset is None:
                        raise InvalidInput(f"The input {source} no longer exists and no copy "
                                           "was kept; choose the image again.")
                    path = assets.path_for(asset.sha256, asset.mime)
                    result.setdefault(role, []).append(str(path))
            return result

        return await asyncio.to_thread(resolve)

    async def rerun(self, job_id: str) -> Job | None:
        """A new job with the same provider, task, inputs and parameters."""
        job = await asyncio.to_thread(self.services.history.get, job_id)
        if job is None:
            self.window.set_status("That job is no longer in the history.")
            return None
        if not job.state.terminal and job.may_be_charged:
            # Never a second paid job for one that can still be collected.
            if job.state == JobState.NEEDS_ATTENTION:
                self.window.set_status("This job may already be paid for: Restyle checks it "
                                       "again instead of running a new one.", 15000)
                await self.wb.attention.retry(job_id)
            else:
                self.window.set_status("This job is still running; its result will be "
                                       "collected.", 15000)
            return None
        try:
            inputs = await self._reusable_inputs(job)
            spec = JobSpec(job.provider, job.task, inputs, dict(job.spec.params),
                           job.spec.deadline_s)
            new = await self.wb.sender.send(await self.wb.engine.prepare(spec))
        except (InvalidInput, ProviderError) as exc:
            self.window.set_status(f"Could not run it again: {failure_sentence(exc)}", 15000)
            return None
        self.wb.started([new.id])
        self.window.job_queue.update_job(new)
        self.window.job_queue.select_job(new.id)
        return new

    async def reuse(self, job_id: str) -> None:
        """Put the job's task, provider, inputs and parameters back into the form."""
        job = await asyncio.to_thread(self.services.history.get, job_id)
        if job is None:
            return
        try:
            inputs = await self._reusable_inputs(job)
        except InvalidInput as exc:
            self.window.set_status(str(exc))
            inputs = {}
        entry = entry_for(self.window.task_selector.entries(), job.provider, job.task,
                          job.spec.params)
        if entry is None or not self.window.task_selector.select_key(entry.key):
            self.window.set_status(f"The task {job.task} of {job.provider} is not available.")
            return
        self.window.provider_selector.set_checked([job.provider])
        self.wb.set_form_values(job.provider, dict(job.spec.params))
        for role, pane in self.window.panes.items():
            if not pane.isHidden():
                pane.clear()
                if inputs.get(role):
                    await pane.add_sources(inputs[role])
        self.wb.schedule_refresh()
        self.window.set_status("Parameters and inputs of that job are back in the form.")

    async def delete(self, job_id: str) -> None:
        try:
            await self.wb.engine.delete(job_id)
        except InvalidInput as exc:
            self.window.set_status(str(exc))
            return
        self.window.history_panel.remove_job(job_id)
        self.window.job_queue.remove_job(job_id)
        self.wb.results.forget(job_id)
        self.window.set_status("Deleted the job and the files no other job uses.")
