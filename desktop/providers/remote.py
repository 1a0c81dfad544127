"""What every remote provider shares: one ApiClient, built from a base URL, an Auth and the
network options tests and settings pass, and closed with the provider."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Self, TypedDict

import httpx

from desktop.core.contract import deliver
from desktop.providers.base import (
    MemorySink,
    Provider,
    ProviderConfig,
    RemoteOutput,
    ResultSink,
)
from desktop.providers.http import ApiClient, Sleep, Timeouts


class ClientOptions(TypedDict, total=False):
    """ApiClient's network knobs: timeouts, retries, and (for tests) a sleep, a random source,
    a clock and a transport such as httpx.ASGITransport."""

    timeouts: Timeouts | None
    max_retries: int
    retry_after_ceiling: float
    sleep: Sleep | None
    rng: random.Random | None
    clock: Callable[[], float]
    transport: httpx.AsyncBaseTransport | None
    #: The largest API answer read (settings' limits.api_body_max_bytes).
    max_body_bytes: int
    #: The largest result file downloaded (settings' limits.result_max_bytes).
    max_download_bytes: int


class RemoteProvider(Provider):
    """A service reached over HTTP through `self.client`."""

    client: ApiClient

    @classmethod
    def from_config(cls, config: ProviderConfig) -> Self:
        """The configured base URL (else the provider's default), key and limits; providers
        with settings of their own in `config.extra` override this (and pass
        `client_options(config)` on)."""
        return cls(config.base_url or cls.default_base_url,  # type: ignore[call-arg]
                   config.key_source, **cls.client_options(config))

    @staticmethod
    def client_options(config: ProviderConfig) -> ClientOptions:
        """The ApiClient options settings decide (answer and download size limits)."""
        return {"max_body_bytes": config.limits.api_body_max_bytes,
                "max_download_bytes": config.limits.result_max_bytes}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.client!r})"

    async def fetch(self, output: RemoteOutput) -> bytes:
        """The bytes of one output, in memory: `fetch_into` (which each remote provider
        defines, streaming to the engine's file) with a MemorySink."""
        sink = MemorySink()
        await self.fetch_into(output, sink)
        return sink.getvalue()

    @staticmethod
    async def deliver(sink: ResultSink, data: bytes) -> None:
        """Hand an inline result (base64 in the status answer) to `sink`, off the loop."""
        await asyncio.to_thread(deliver, sink, data)

    async def aclose(self) -> None:
        await self.client.aclose()


__all__ = ["ClientOptions", "RemoteProvider"]
