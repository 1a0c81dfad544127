"""A scripted provider for engine and CLI tests: a fake "remote service" whose jobs survive the
provider instance (so a restart can be simulated), and which records every call."""

from __future__ import annotations

import asyncio
import io
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

from PIL import Image

from desktop.core.model import ErrorCode, InputRole, ParamSpec, ParamType, TaskSpec
from desktop.providers.base import (
    AccountInfo,
    InputLimits,
    PreparedJob,
    Provider,
    ProviderConfig,
    ProviderError,
    RemoteOutput,
    RemoteRef,
    RemoteState,
    RemoteStatus,
)


def png_bytes(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (64, 48)
              ) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


Step = RemoteStatus | ProviderError | Callable[[], RemoteStatus]


@dataclass
class FakeBackend:
    """The remote side: which jobs exist and how each poll answers."""

    #: Answers for successive polls of any job; the last one repeats.
    script: list[Step] = field(
        default_factory=lambda: [RemoteStatus(RemoteState.RUNNING, progress=0.5),
                                 RemoteStatus(RemoteState.SUCCEEDED)]
    )
    outputs: int = 1
    output_bytes: bytes | None = None
    submit_error: ProviderError | None = None
    submit_delay: float = 0.0
    submits: list[PreparedJob] = field(default_factory=list)
    polls: list[str] = field(default_factory=list)
    cancels: list[str] = field(default_factory=list)
    fetches: list[str] = field(default_factory=list)
    reconciles: list[str] = field(default_factory=list)
    jobs: dict[str, int] = field(default_factory=dict)  # remote id -> polls so far
    by_local_id: dict[str, str] = field(default_factory=dict)
    in_flight: int = 0
    max_in_flight: int = 0
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def status_for(self, remote_id: str) -> RemoteStatus:
        n = self.jobs[remote_id]
        self.jobs[remote_id] = n + 1
        step = self.script[min(n, len(self.script) - 1)]
        if isinstance(step, ProviderError):
            raise step
        status = step() if callable(step) else step
        if status.state == RemoteState.SUCCEEDED and not status.outputs:
            data = self.output_bytes if self.output_bytes is not None else png_bytes(
                (10 * len(self.jobs) % 255, 120, 40))
            status = RemoteStatus(
                RemoteState.SUCCEEDED,
                outputs=tuple(RemoteOutput(url=f"https://cdn.example/{remote_id}/{i}.png",
                                           extra={"data": data}, label=f"variation {i + 1}")
                              for i in range(self.outputs)),
                cost_credits=status.cost_credits,
                poll_after=status.poll_after,
            )
        return status


class FakeProvider(Provider):
    id = "fake"
    title = "Fake Service"
    needs_key = False
    poll_interval = 0.01
    limits = InputLimits(max_side=512, max_bytes=1_000_000, min_side=8)
    supports_cancel = True

    #: Tests set this to share one backend across provider instances (a "restart").
    backend: FakeBackend = FakeBackend()

    def __init__(self, backend: FakeBackend | None = None) -> None:
        if backend is not None:
            self.backend = backend
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True

    @classmethod
    def from_config(cls, config: ProviderConfig) -> Self:
        return cls()

    @property
    def tasks(self) -> tuple[TaskSpec, ...]:
        return (
            TaskSpec(
                id="echo",
                title="Echo",
                inputs=(InputRole("image", "Image"),),
                params=(ParamSpec("strength", ParamType.NUMBER, default=0.5, minimum=0,
                                  maximum=1),),
            ),
        )

    async def submit(self, job: PreparedJob) -> RemoteRef:
        b = self.backend
        b.in_flight += 1
        b.max_in_flight = max(b.max_in_flight, b.in_flight)
        try:
            if b.submit_delay:
                await asyncio.sleep(b.submit_delay)
            b.submits.append(job)
            if b.submit_error is not None:
                raise b.submit_error
        except BaseException:
            b.in_flight -= 1
            raise
        remote_id = f"r{next(b.counter)}"
        b.jobs[remote_id] = 0
        b.by_local_id[job.job_id] = remote_id
        return RemoteRef(remote_id, {"status_url": f"/jobs/{remote_id}"}, cost_credits=1.0)

    async def poll(self, ref: RemoteRef) -> RemoteStatus:
        b = self.backend
        b.polls.append(ref.remote_id)
        if ref.remote_id not in b.jobs:
            raise ProviderError(ErrorCode.NOT_FOUND, "No such job.")
        status = b.status_for(ref.remote_id)
        if status.state.terminal:
            b.in_flight = max(0, b.in_flight - 1)
        return status

    async def fetch(self, output: RemoteOutput) -> bytes:
        self.backend.fetches.append(output.url or "")
        return output.extra["data"]

    async def cancel(self, ref: RemoteRef) -> None:
        self.backend.cancels.append(ref.remote_id)
        self.backend.in_flight = max(0, self.backend.in_flight - 1)

    async def account(self) -> AccountInfo:
        return AccountInfo(provider=self.id, credits=42.0)


class ReconcilingFakeProvider(FakeProvider):
    supports_reconcile = True

    async def reconcile(self, job: PreparedJob) -> RemoteRef | None:
        self.backend.reconciles.append(job.job_id)
        remote_id = self.backend.by_local_id.get(job.job_id)
        return RemoteRef(remote_id) if remote_id else None


def factory(backend: FakeBackend, cls: type[FakeProvider] = FakeProvider,
            **others: Any) -> Callable[[str], Provider]:
    """A provider factory for JobEngine: 'fake' (and any extra ids) share `backend`."""

    def make(provider_id: str) -> Provider:
        if provider_id == "fake":
            return cls(backend)
        if provider_id in others:
            return others[provider_id]
        raise KeyError(provider_id)

    return make
