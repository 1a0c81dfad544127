"""Preparing a job before anything is stored or sent: parameters checked, inputs read,
validated, normalised to the provider's limits, encoded once and hashed.

Nothing here writes to the history: a spec that fails preparation leaves no trace, and the
user gets a sentence naming the problem (InvalidInput, or ProviderError for an input URL that
cannot be fetched).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from desktop.core import imaging, sources
from desktop.core.assets import AssetStore
from desktop.core.contract import PreparedInput, PreparedJob, Provider, ProviderError
from desktop.core.engine.input_cache import NormalizedCache
from desktop.core.humanize import human_bytes, human_duration
from desktop.core.image_params import params_to_inputs
from desktop.core.limits import Limits, setting_name
from desktop.core.model import Asset, InvalidInput, Job, JobSpec
from desktop.core.store import History

T = TypeVar("T")

#: Loads an http(s) input given by the user; wired by the app or CLI (httpx stays out of core).
#: A loader with a `limits` attribute (the providers' UrlSourceLoader) lends the Preparer its
#: limits when none are given.
SourceLoader = Callable[[str], Awaitable[bytes]]
#: Runs a blocking function off the event loop (the engine's CPU pool).
CpuRunner = Callable[..., Awaitable[Any]]

#: The largest input file read from disk (the default of Limits.input_max_bytes).
MAX_INPUT_FILE_BYTES = Limits().input_max_bytes
#: The URL loader enforces the download time limit itself; the Preparer's own bound (for any
#: loader) is this much later, so the loader's more precise sentence normally wins.
URL_TIMEOUT_GRACE_S = 1.0

#: Kept for callers of the earlier name; `sources.is_http_url` is the one helper.
is_url = sources.is_http_url


@dataclass(frozen=True)
class PreparedSpec:
    """A spec whose params are coerced and whose inputs are read, validated and encoded."""

    spec: JobSpec
    inputs: dict[str, list[PreparedInput]]


class Preparer:
    """Turns a JobSpec into a PreparedSpec for one provider; stores nothing."""

    def __init__(self, cpu_run: CpuRunner, load_url: SourceLoader | None,
                 limits: Limits | None = None, cache: NormalizedCache | None = None) -> None:
        self._cpu_run = cpu_run
        self._load_url = load_url
        #: Inputs normalised before, by content (input_cache.py): a photo sent in many jobs
        #: is decoded once.
        self.cache = cache or NormalizedCache()
        lent = getattr(load_url, "limits", None)
        self.limits = limits or (lent if isinstance(lent, Limits) else Limits())

    async def prepare(self, provider: Provider, spec: JobSpec) -> PreparedSpec:
        """Validate the spec and read, check and encode every input. Raises InvalidInput (or
        ProviderError for a URL that cannot be fetched) on bad input."""
        task = provider.task(spec.task)
        if task is None:
            names = ", ".join(t.id for t in provider.tasks)
            raise InvalidInput(
                f"{provider.title} has no task '{sources.shown(spec.task, 60)}' "
                f"(it offers: {names})."
            )
        # An image given as a parameter (a file path, an address) is an input like any other.
        spec, moved = params_to_inputs(spec, await provider.image_params(task, spec.params))
        params = task.validate(spec.inputs, spec.params)
        kinds = {s: _classify(s, moved.get(r)) for r, items in spec.inputs.items() for s in items}
        coros = [
            self._prepare_param(provider, role, source, moved[role]) if role in moved
            else self.prepare_input(provider, role, source)
            for role, items in spec.inputs.items()
            for source in items
        ]
        prepared = await _gather_all(coros)
        inputs: dict[str, list[PreparedInput]] = {}
        for item in prepared:
            inputs.setdefault(item.role, []).append(item)
        await provider.check(task, params, inputs)
        normalized_inputs = {
            role: [s if kinds[s] == "url" else sources.absolute_path(s) for s in items]
            for role, items in spec.inputs.items()
            if items
        }
        return PreparedSpec(
            spec=JobSpec(provider=spec.provider, task=spec.task, inputs=normalized_inputs,
                         params=params, deadline_s=spec.deadline_s),
            inputs=inputs,
        )

    async def _prepare_param(self, provider: Provider, role: str, source: str, param: str
                             ) -> PreparedInput:
        """An input given as parameter `param`: its sentences name the parameter."""
        try:
            return await self.prepare_input(provider, role, source)
        except InvalidInput as exc:
            raise InvalidInput(_about_param(param, str(exc))) from None
        except ProviderError as exc:
            raise exc.rephrased(exc.code, _about_param(param, exc.message)) from None

    async def prepare_input(self, provider: Provider, role: str, source: str) -> PreparedInput:
        limits = self.limits
        url = sources.classify(source) == "url"
        if url:
            data = await self._download(source)
            name = sources.url_name(source)
        else:
            data = await sources.load_file(source, limits, self._cpu_run)
            name = sources.file_name(source)
        accepted = provider.limits
        encoded, digest = await self._cpu_run(
            self.cache.normalize_and_hash, data, name, max_side=accepted.max_side,
            max_bytes=accepted.max_bytes, formats=accepted.formats, min_side=accepted.min_side,
            max_pixels=limits.input_max_pixels,
        )
        return PreparedInput(
            role=role, data=encoded.data, mime=encoded.mime, width=encoded.width,
            height=encoded.height, sha256=digest,
            source_url=source if url else None, filename=name,
        )

    async def _download(self, url: str) -> bytes:
        """The bytes of an input URL, within the URL limits whatever the loader does."""
        if self._load_url is None:
            raise InvalidInput(
                f"Cannot download {sources.shown_url(url)}: URL inputs are not enabled here."
            )
        limits = self.limits

        def too_slow() -> InvalidInput:
            return InvalidInput(
                f"Could not download {sources.shown_url(url)}: it took longer than "
                f"{human_duration(limits.url_input_timeout_s)} "
                f"({setting_name('url_input_timeout_s')} in settings.json); try again later "
                "or save the image and give the file."
            )

        data = await sources.within(self._load_url(url),
                                    limits.url_input_timeout_s + URL_TIMEOUT_GRACE_S, too_slow)
        if len(data) > limits.url_input_max_bytes:
            raise InvalidInput(
                f"{sources.url_name(url)} is {human_bytes(len(data))}, larger than the "
                f"{human_bytes(limits.url_input_max_bytes)} Restyle downloads for one image "
                f"({setting_name('url_input_max_bytes')} in settings.json)."
            )
        return data


def _about_param(param: str, sentence: str) -> str:
    return f"Parameter '{sources.shown(param, 60)}' names an image to read: {sentence}"


def _classify(source: str, param: str | None) -> str:
    try:
        return sources.classify(source)
    except InvalidInput as exc:
        if param is None:
            raise
        raise InvalidInput(_about_param(param, str(exc))) from None


async def _gather_all(coros: list[Awaitable[T]]) -> list[T]:
    """Like asyncio.gather, but when one fails the others are cancelled and awaited first, so
    no download or read keeps running after the spec was refused."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def store_inputs(assets: AssetStore, prepared: PreparedSpec
                 ) -> tuple[list[Asset], dict[str, list[str]]]:
    """Write the prepared inputs into the asset store (blocking: run in a worker)."""
    stored: list[Asset] = []
    inputs: dict[str, list[str]] = {}
    for role, items in prepared.inputs.items():
        for item in items:
            # The digest was taken when the input was prepared: no second pass over the bytes.
            asset = assets.put(item.data, item.mime, width=item.width, height=item.height,
                               sha256=item.sha256)
            stored.append(asset)
            inputs.setdefault(role, []).append(asset.sha256)
    return stored, inputs


def rebuild_prepared(history: History, assets: AssetStore, job: Job) -> PreparedJob | None:
    """The PreparedJob of a stored job from its stored inputs (blocking: run in a worker);
    None when an input is no longer in the asset store."""
    inputs: dict[str, list[PreparedInput]] = {}
    for role, shas in job.inputs.items():
        for sha in shas:
            asset = history.asset(sha)
            if asset is None or not assets.exists(asset):
                return None
            inputs.setdefault(role, []).append(PreparedInput(
                role=role, data=assets.read(asset), mime=asset.mime,
                width=asset.width or 0, height=asset.height or 0, sha256=sha,
            ))
    return PreparedJob(job_id=job.id, task=job.task, inputs=inputs, params=job.spec.params)


def normalize_and_hash(data: bytes, name: str, **limits: Any
                       ) -> tuple[imaging.EncodedImage, str]:
    """Normalise and hash in the worker: hashing megabytes on the loop thread stalls a window."""
    encoded = imaging.normalize(data, name, **limits)
    return encoded, encoded.sha256
