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
from pathlib import Path
from typing import Any, TypeVar

from desktop.core import imaging
from desktop.core.assets import AssetStore
from desktop.core.contract import PreparedInput, PreparedJob, Provider
from desktop.core.humanize import human_bytes
from desktop.core.model import Asset, InvalidInput, Job, JobSpec
from desktop.core.store import History

T = TypeVar("T")

#: Loads an http(s) input given by the user; wired by the app or CLI (httpx stays out of core).
SourceLoader = Callable[[str], Awaitable[bytes]]
#: Runs a blocking function off the event loop (the engine's CPU pool).
CpuRunner = Callable[..., Awaitable[Any]]

MAX_INPUT_FILE_BYTES = 200 * 1000 * 1000


@dataclass(frozen=True)
class PreparedSpec:
    """A spec whose params are coerced and whose inputs are read, validated and encoded."""

    spec: JobSpec
    inputs: dict[str, list[PreparedInput]]


class Preparer:
    """Turns a JobSpec into a PreparedSpec for one provider; stores nothing."""

    def __init__(self, cpu_run: CpuRunner, load_url: SourceLoader | None) -> None:
        self._cpu_run = cpu_run
        self._load_url = load_url

    async def prepare(self, provider: Provider, spec: JobSpec) -> PreparedSpec:
        """Validate the spec and read, check and encode every input. Raises InvalidInput (or
        ProviderError for a URL that cannot be fetched) on bad input."""
        task = provider.task(spec.task)
        if task is None:
            names = ", ".join(t.id for t in provider.tasks)
            raise InvalidInput(
                f"{provider.title} has no task '{spec.task}' (it offers: {names})."
            )
        params = task.validate(spec.inputs, spec.params)
        coros = [
            self.prepare_input(provider, role, source)
            for role, sources in spec.inputs.items()
            for source in sources
        ]
        prepared = await asyncio.gather(*coros)
        inputs: dict[str, list[PreparedInput]] = {}
        for item in prepared:
            inputs.setdefault(item.role, []).append(item)
        await provider.check(task, params, inputs)
        normalized_inputs = {
            role: [s if is_url(s) else str(Path(s).expanduser().resolve()) for s in sources]
            for role, sources in spec.inputs.items()
            if sources
        }
        return PreparedSpec(
            spec=JobSpec(provider=spec.provider, task=spec.task, inputs=normalized_inputs,
                         params=params, deadline_s=spec.deadline_s),
            inputs=inputs,
        )

    async def prepare_input(self, provider: Provider, role: str, source: str) -> PreparedInput:
        if is_url(source):
            if self._load_url is None:
                raise InvalidInput(f"Cannot download {source}: URL inputs are not enabled here.")
            data = await self._load_url(source)
            name = source.rsplit("/", 1)[-1].split("?", 1)[0] or "image"
        else:
            data = await self._cpu_run(read_input_file, source)
            name = Path(source).name
        limits = provider.limits
        encoded, digest = await self._cpu_run(
            normalize_and_hash, data, name, max_side=limits.max_side,
            max_bytes=limits.max_bytes, formats=limits.formats, min_side=limits.min_side,
        )
        return PreparedInput(
            role=role, data=encoded.data, mime=encoded.mime, width=encoded.width,
            height=encoded.height, sha256=digest,
            source_url=source if is_url(source) else None, filename=name,
        )


def store_inputs(assets: AssetStore, prepared: PreparedSpec
                 ) -> tuple[list[Asset], dict[str, list[str]]]:
    """Write the prepared inputs into the asset store (blocking: run in a worker)."""
    stored: list[Asset] = []
    inputs: dict[str, list[str]] = {}
    for role, items in prepared.inputs.items():
        for item in items:
            asset = assets.put(item.data, item.mime, width=item.width, height=item.height)
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


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def read_input_file(source: str) -> bytes:
    path = Path(source).expanduser()
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InvalidInput(f"{source} does not exist.") from None
    except PermissionError:
        raise InvalidInput(f"{source} cannot be read (permission denied).") from None
    if path.is_dir():
        raise InvalidInput(f"{source} is a folder, not an image file.")
    if size > MAX_INPUT_FILE_BYTES:
        raise InvalidInput(
            f"{path.name} is {human_bytes(size)}, larger than the "
            f"{human_bytes(MAX_INPUT_FILE_BYTES)} Restyle accepts for one image."
        )
    try:
        return path.read_bytes()
    except PermissionError:
        raise InvalidInput(f"{source} cannot be read (permission denied).") from None
    except OSError as exc:
        raise InvalidInput(f"{source} cannot be read ({exc.strerror or exc}).") from None
