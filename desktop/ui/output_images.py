"""A job's pictures for the window: the "before" a result is compared with, and its outputs as
compare-view items, decoded in worker threads.

The compare view of the main window, review mode and the blind comparison all show stored
results this way, so it lives here rather than in the workbench.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QImage

from desktop.core.contract import Provider, ProviderError
from desktop.core.humanize import human_bytes
from desktop.core.model import InvalidInput, Job, Output, OutputKind
from desktop.core.plain_words import output_title
from desktop.ui.compare_view import CompareItem
from desktop.ui.qimages import qimage_from_bytes, qimage_from_file
from desktop.ui.role_words import role_kind
from desktop.ui.video_view import video_poster

if TYPE_CHECKING:
    from desktop.services import Services

#: Roles whose first image is the "before" of a result, in order of preference.
BEFORE_ROLES = ("person", "room", "image", "garment")


def _before_order(inputs: Mapping[str, object]) -> list[str]:
    """The roles of a job's inputs, the likeliest "before" first: the usual roles in
    BEFORE_ROLES order, then a workflow's inputs by what their names say (its model photo
    before its garment), then the rest."""
    def rank(role: str) -> int:
        kind = role_kind(role)
        return BEFORE_ROLES.index(kind) if kind in BEFORE_ROLES else len(BEFORE_ROLES)

    return sorted(inputs, key=lambda role: (rank(role), role not in BEFORE_ROLES))


def variation_name(job: Job, out: Output) -> str:
    """What tells a job's outputs apart in a grid's label: "Variation 2" when the job made
    several, "" for one; a saved workflow's named outputs keep their names."""
    if job.task == "workflow" and out.label.strip():
        return out.label.strip()
    return f"Variation {out.position + 1}" if len(job.outputs) > 1 else ""


def message(exc: BaseException) -> str:
    """A failure's sentence (ProviderError and InvalidInput carry one); asyncio's TimeoutError
    has none."""
    return str(exc) or "the service did not answer in time."


class OutputImages:
    """Reads a job's before and results from the asset store (in workers).

    `providers` gives the current providers (they change when settings are saved): a vtryon
    recolour uploads nothing, so its before is the provider's own reference image, fetched once
    per job. `report` shows a sentence in the status bar.
    """

    def __init__(self, services: Services, providers: Callable[[], Mapping[str, Provider]],
                 report: Callable[[str], None]) -> None:
        self.services = services
        self._providers = providers
        self._report = report
        self._references: dict[str, bytes | None] = {}  # job id -> provider's before

    def max_pixels(self) -> int:
        """The largest image the window opens: a stored result may be as large as the result
        limit allows (limits.result_max_megapixels), an input as its own limit allows."""
        limits = self.services.settings.limits
        return max(limits.result_max_pixels, limits.input_max_pixels)

    def _stored_before(self, job: Job) -> bytes | None:
        """The first person, room, image or garment input as stored with the job (for a
        workflow's own inputs, by what their names say), else any (worker)."""
        sha = next((job.inputs[r][0] for r in _before_order(job.inputs) if job.inputs.get(r)),
                   None)
        asset = self.services.history.asset(sha) if sha else None
        return self.services.assets.read(asset) if asset is not None else None

    def before_path(self, job: Job) -> tuple[str, Path] | None:
        """The stored file of the input a result is compared with, and its sha256 (worker);
        None when the job has no stored input (a vtryon recolour)."""
        sha = next((job.inputs[r][0] for r in _before_order(job.inputs) if job.inputs.get(r)),
                   None)
        asset = self.services.history.asset(sha) if sha else None
        if asset is None:
            return None
        return asset.sha256, self.services.assets.path_for(asset.sha256, asset.mime)

    async def before_bytes(self, job: Job) -> bytes | None:
        """What a result is compared with: its stored input, else the provider's own copy (a
        vtryon recolour uploads nothing), fetched once per job."""
        try:
            data = await asyncio.to_thread(self._stored_before, job)
        except OSError:
            data = None
        if data is not None or any(job.inputs.values()):
            return data
        if job.id not in self._references:
            provider = self._providers().get(job.provider)
            reference = None
            if provider is not None:
                try:
                    reference = await provider.reference_image(job.task, dict(job.spec.params))
                except (ProviderError, InvalidInput) as exc:
                    self._report(f"No before image: {message(exc)}")
            self._references[job.id] = reference
        return self._references[job.id]

    async def before_image(self, job: Job) -> QImage | None:
        data = await self.before_bytes(job)
        if data is None:
            return None
        try:
            return await asyncio.to_thread(qimage_from_bytes, data, "before",
                                           max_pixels=self.max_pixels())
        except InvalidInput:
            return None

    async def output_image(self, out: Output) -> QImage:
        """One stored result, decoded; OSError or InvalidInput when it cannot be."""
        path = self.services.assets.path_for(out.sha256, out.mime)
        return await asyncio.to_thread(qimage_from_file, path, max_pixels=self.max_pixels())

    async def output_items(self, job: Job) -> list[CompareItem]:
        items = []
        providers = self._providers()
        provider = providers.get(job.provider)
        title = provider.title if provider is not None else ""
        task = provider.task(job.task) if provider is not None else None
        for out in job.outputs:
            if out.kind == OutputKind.VIDEO:
                items.append(self.video_item(job, out, title))
                continue
            if out.kind != OutputKind.IMAGE:
                continue
            try:
                image = await self.output_image(out)
            except (OSError, InvalidInput) as exc:
                self._report(f"Result {out.position + 1} cannot be shown: {message(exc)}")
                continue
            # One result: the provider names it; several: the strip tells them apart by their
            # human names ("Staged, variation 2"), never a raw label (`result_image`).
            human = output_title(job, out, task)
            name = title if len(job.outputs) == 1 else human
            label = human if human != name else ""
            if out.width and image.width() < out.width:
                note = (f"shown at {image.width()}x{image.height()} of {out.width}x{out.height};"
                        " export saves the full size")
                label = f"{label} · {note}" if label else note
            items.append(CompareItem(image, name, label, job_id=job.id, provider=title,
                                     variation=variation_name(job, out)))
        return items

    def video_item(self, job: Job, out: Output, provider_title: str) -> CompareItem:
        """A video result: its stored file, played by the compare view, with a poster for the
        strip and grids."""
        path = self.services.assets.path_for(out.sha256, out.mime)
        name = provider_title if len(job.outputs) == 1 else (out.label or
                                                              f"Result {out.position + 1}")
        label = out.label if out.label != name else ""
        return CompareItem(video_poster(text=f"Video · {human_bytes(out.size)}"), name, label,
                           video=str(path), job_id=job.id, provider=provider_title,
                           variation=variation_name(job, out))
