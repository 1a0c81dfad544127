"""Grids from the history: "Compare selected" (several jobs made from the same photos) and
"Compare with other providers" (every succeeded job of one job's task made from its photos,
found with a store query). Jobs made from other photos are never mixed in: the before of a
grid is the photos' own, so a cell from another photo would compare nonsense.

Composed by the workbench; the history panel and the result panel only ask."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from desktop.core.model import Job, JobState, OutputKind
from desktop.ui.history_model import when_text

if TYPE_CHECKING:
    from desktop.ui.workbench import Workbench

STATUS_MS = 20_000
#: Jobs a "Compare with other providers" query reads at most (the grid shows 8 results).
PROVIDER_QUERY_LIMIT = 50


def input_key(job: Job) -> frozenset[str]:
    """What "the same inputs" means: the same set of stored input images, whatever the roles
    (one provider's "model" is another's "person")."""
    return frozenset(sha for shas in job.inputs.values() for sha in shas)


def has_image_result(job: Job) -> bool:
    return job.state == JobState.SUCCEEDED and any(o.kind == OutputKind.IMAGE
                                                   for o in job.outputs)


def names(titles: Sequence[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    return titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]


class CompareJobs:
    """See the module docstring."""

    def __init__(self, workbench: Workbench) -> None:
        self.wb = workbench
        self.window = workbench.window

    def attach(self) -> None:
        w = self.window
        w.history_panel.compareRequested.connect(
            lambda ids: self.wb.spawn(self.compare_selected(list(ids))))
        w.history_panel.compareProvidersRequested.connect(
            lambda jid: self.wb.spawn(self.compare_providers(jid)))
        w.result_panel.compareProvidersRequested.connect(
            lambda jid: self.wb.spawn(self.compare_providers(jid)))

    def title(self, job: Job) -> str:
        """'FitInView (12 min ago)': a job as a sentence names it."""
        provider = self.wb.providers.get(job.provider)
        return f"{provider.title if provider else job.provider} ({when_text(job.created_at)})"

    def say(self, text: str, *, error: bool = True) -> None:
        """In the history panel (where the user acted) and in the status bar."""
        self.window.history_panel.say(text, error=error)
        self.window.set_status(text, STATUS_MS)

    async def _jobs(self, job_ids: Sequence[str]) -> list[Job]:
        history = self.wb.services.history

        def read() -> list[Job]:
            return [job for jid in job_ids if (job := history.get(jid)) is not None]

        return await asyncio.to_thread(read)

    async def compare_selected(self, job_ids: Sequence[str]) -> int:
        """The selected jobs as one grid with the before. When they were made from different
        photos, the largest group made from the same photos opens (on a tie, the one listed
        first) and the others are named as left out; when no two share their photos, nothing
        opens. Returns the number of result cells shown."""
        jobs = await self._jobs(job_ids)
        if len(jobs) < 2:
            self.say("Select two or more jobs made from the same photos, then Compare "
                     "selected.")
            return 0
        groups: dict[frozenset[str], list[Job]] = {}
        for job in jobs:
            groups.setdefault(input_key(job), []).append(job)
        key = max((k for k in groups if k),
                  key=lambda k: sum(has_image_result(j) for j in groups[k]), default=None)
        same = groups.get(key, []) if key is not None else []
        other = [job for job in jobs if job not in same]
        shown = [job for job in same if has_image_result(job)]
        empty = [job for job in same if not has_image_result(job)]
        notes: list[str] = []
        if other and same:
            verb = "was" if len(other) == 1 else "were"
            notes.append(f"{names([self.title(j) for j in other])} {verb} not made from the "
                         f"same photos as {names([self.title(j) for j in same])}.")
        elif other:
            notes.append(f"{names([self.title(j) for j in other])} have no stored input "
                         "photos to match.")
        if empty:
            verb = "has" if len(empty) == 1 else "have"
            notes.append(f"{names([self.title(j) for j in empty])} {verb} no image result "
                         "to show.")
        if len(shown) < 2 and not (len(shown) == 1 and len(shown[0].outputs) > 1):
            if len(groups) == len(jobs) and all(groups):
                notes = [f"{names([self.title(j) for j in jobs])} were each made from "
                         "different photos."]
            self.say(" ".join([*notes, "Nothing to compare: select jobs made from the same "
                               "photos (or use Compare with other providers on one job)."]))
            return 0
        cells = await self.wb.results.show_grid(shown)
        if notes:
            self.window.history_panel.say(" ".join(notes) + " They were left out; select jobs "
                                          "made from the same photos to compare them.",
                                          error=True)
        else:
            self.window.history_panel.say("")
        return cells

    async def compare_providers(self, job_id: str) -> int:
        """Every succeeded job of this job's task made from its very photos, as a grid (this
        job first). None found: say so, and how to make some. Returns the cells shown."""
        jobs = await self._jobs([job_id])
        if not jobs:
            self.say("That job is no longer in the history.")
            return 0
        job = jobs[0]
        shas = input_key(job)
        if not shas:
            self.say(f"{self.title(job)} has no stored input photos, so no other job can be "
                     "matched with it.")
            return 0
        found = await asyncio.to_thread(self.wb.services.history.same_inputs, job.task, shas,
                                        limit=PROVIDER_QUERY_LIMIT)
        others = [j for j in found if j.id != job.id and has_image_result(j)]
        if not others:
            self.say(f"No other succeeded job of this task was made from the same photos as "
                     f"{self.title(job)}. To compare providers, tick several providers and "
                     "Generate with these photos, or run them as a batch (New batch…, Ctrl+B).")
            return 0
        ordered = ([job] if has_image_result(job) else []) + others
        providers = {j.provider for j in ordered}
        note = (f"Comparing {len(ordered)} jobs from {len(providers)} "
                f"provider{'s' if len(providers) != 1 else ''} made from the same photos.")
        return await self.wb.results.show_grid(ordered, note=note)
