"""A job's pictures for the window: the "before" a result is compared with, and its outputs as
compare-view items, decoded in worker threads.

Pictures are decoded for the size they are shown at (`reduced=True`: the screen, see
desktop/ui/qimages.py `fit`), kept in a cache bounded by bytes (desktop/ui/image_cache.py),
and decoded at full size only when asked (`full_image`: the user zoomed in past the reduced
copy's own pixels).

The compare view of the main window, review mode and the blind comparison all show stored
results this way, so it lives here rather than in the workbench.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize
from PySide6.QtGui import QGuiApplication, QImage

from desktop.core import imaging
from desktop.core.contract import Provider, ProviderError
from desktop.core.humanize import human_bytes
from desktop.core.model import InvalidInput, Job, Output, OutputKind
from desktop.core.plain_words import output_title
from desktop.ui.compare_view import CompareItem
from desktop.ui.image_cache import ImageCache
from desktop.ui.qimages import DISPLAY_MAX_PIXELS, qimage_from_bytes, qimage_from_file
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


def screen_fit() -> QSize | None:
    """The primary screen's size in physical pixels: no fitted view is ever larger (GUI
    thread); None without a screen."""
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return None
    size, ratio = screen.size(), screen.devicePixelRatio()
    return QSize(round(size.width() * ratio), round(size.height() * ratio))


class OutputImages:
    """Reads a job's before and results from the asset store (in workers).

    `providers` gives the current providers (they change when settings are saved): a vtryon
    recolour uploads nothing, so its before is the provider's own reference image, fetched once
    per job. `report` shows a sentence in the status bar.
    """

    def __init__(self, services: Services, providers: Callable[[], Mapping[str, Provider]],
                 report: Callable[[str], None], *,
                 fit: Callable[[], QSize | None] = screen_fit,
                 cache: ImageCache | None = None) -> None:
        self.services = services
        self._providers = providers
        self._report = report
        self._fit = fit
        self.cache = cache if cache is not None else ImageCache()
        self._references: dict[str, bytes | None] = {}  # job id -> provider's before
        #: A reduced picture's cacheKey -> what decodes it at full size (`full_image`).
        self._full: dict[int, Callable[[], Awaitable[QImage | None]]] = {}

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

    async def before_image(self, job: Job, *, reduced: bool = False) -> QImage | None:
        """The before, decoded (None when there is none); `reduced`: for the screen (see
        `full_image`)."""
        sha = next((job.inputs[r][0] for r in _before_order(job.inputs) if job.inputs.get(r)),
                   job.id)
        max_pixels = self.max_pixels()

        async def decode(fit: QSize | None) -> QImage:
            # read again for the full size rather than keep megabytes of file alive
            data = await self.before_bytes(job)
            if data is None:
                raise InvalidInput("The before image is no longer stored.")
            return await asyncio.to_thread(qimage_from_bytes, data, "before",
                                           max_pixels=max_pixels, fit=fit)

        try:
            return await self._decoded(("before", sha), decode, reduced)
        except InvalidInput:
            return None

    async def output_image(self, out: Output, *, reduced: bool = False) -> QImage:
        """One stored result, decoded (`reduced`: for the screen, see `full_image`); OSError
        or InvalidInput when it cannot be."""
        path = self.services.assets.path_for(out.sha256, out.mime)
        max_pixels = self.max_pixels()

        async def decode(fit: QSize | None) -> QImage:
            return await asyncio.to_thread(qimage_from_file, path, max_pixels=max_pixels,
                                           fit=fit)

        return await self._decoded(("output", out.sha256), decode, reduced)

    async def _decoded(self, key: tuple[str, str],
                       decode: Callable[[QSize | None], Awaitable[QImage]],
                       reduced: bool) -> QImage:
        """A picture from the cache, else decoded (and kept). A reduced one remembers how to
        decode its full size."""
        fit = self._fit() if reduced else None
        full_key: Hashable = (*key, None)
        cache_key: Hashable = (*key, fit.toTuple() if fit is not None else None)
        image = self.cache.get(cache_key)
        if image is None and reduced:
            image = self.cache.get(full_key)  # the full size, decoded already, serves too
        if image is None:
            image = await decode(fit)
            self.cache.put(cache_key, image)
        if fit is not None and cache_key != full_key:
            async def full() -> QImage | None:
                found = self.cache.get(full_key)
                if found is None:
                    found = await decode(None)
                    self.cache.put(full_key, found)
                return found

            if len(self._full) > 256:  # keys of pictures long gone
                self._full.clear()
            self._full[image.cacheKey()] = full
        return image

    def is_reduced(self, image: QImage) -> bool:
        """Whether `image` was decoded for the screen and has a larger full size."""
        return image.cacheKey() in self._full

    async def full_image(self, image: QImage) -> QImage | None:
        """The full-size decode of a picture decoded reduced (None: it was not, or it cannot
        be decoded any more). Full size is still at most DISPLAY_MAX_PIXELS."""
        full = self._full.get(image.cacheKey())
        if full is None:
            return None
        try:
            found = await full()
        except (OSError, InvalidInput):
            return None
        if found is not None and found.width() <= image.width():
            return None  # the file was no larger than the screen after all
        return found

    async def output_items(self, job: Job, *, reduced: bool = False) -> list[CompareItem]:
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
                image = await self.output_image(out, reduced=reduced)
            except (OSError, InvalidInput) as exc:
                self._report(f"Result {out.position + 1} cannot be shown: {message(exc)}")
                continue
            # One result: the provider names it; several: the strip tells them apart by their
            # human names ("Staged, variation 2"), never a raw label (`result_image`).
            human = output_title(job, out, task)
            name = title if len(job.outputs) == 1 else human
            label = human if human != name else ""
            factor = imaging.display_factor(out.width, out.height, DISPLAY_MAX_PIXELS)
            if out.width and factor > 1:  # even zoomed in, it is not held at full size
                shown = f"{-(-out.width // factor)}x{-(-out.height // factor)}"
                note = f"shown at {shown} of {out.width}x{out.height}; export saves the full size"
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
