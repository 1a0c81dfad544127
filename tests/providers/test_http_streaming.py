"""Result downloads streamed into a file: `ApiClient.download_into` against a real local server.

The body goes from the socket to the sink in a worker thread, chunk by chunk: never through
the event loop, never whole in memory. These tests prove it on the outcome (the thread that
wrote, the memory a 50 MB download peaks at, a timer on the loop that keeps firing), and that a
retried, refused or cancelled download leaves nothing half written behind.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from desktop.core.assets import AssetStore, Incoming, IncomingClosed
from desktop.core.contract import MemorySink
from desktop.core.model import ErrorCode
from desktop.providers.base import ProviderError, ResultRefused
from desktop.providers.http import ApiClient, Auth, _encode_json
from tests.emulators.kit import ServerThread
from tests.support import run

KEY = "sk-test-SECRET-123"
BLOCK = hashlib.sha256(b"restyle").digest() * 8192  # 256 KiB of bytes that do not repeat much
MB = 1 << 20


def body_of(size: int) -> Iterator[bytes]:
    """The bytes the server sends for `size`: numbered 256 KiB blocks."""
    sent = 0
    number = 0
    while sent < size:
        block = number.to_bytes(8, "big") + BLOCK[8:]
        piece = block[: size - sent]
        yield piece
        sent += len(piece)
        number += 1


def sha_of(size: int) -> str:
    digest = hashlib.sha256()
    for piece in body_of(size):
        digest.update(piece)
    return digest.hexdigest()


class Hits:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        #: Set by the drip route when the client went away (its send failed).
        self.gone: dict[str, threading.Event] = {}

    def hit(self, token: str) -> int:
        with self.lock:
            self.counts[token] += 1
            return self.counts[token]


def make_app(hits: Hits) -> Starlette:
    class Big:
        """`size` bytes with a Content-Length (or without: ?length=no); with ?cut=N the first
        N requests stop half way (the connection closes short of the Content-Length)."""

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            query = dict(p.split("=") for p in scope["query_string"].decode().split("&") if p)
            size = int(query["size"])
            count = hits.hit(query.get("token", ""))
            cut = count <= int(query.get("cut", "0"))
            headers = [(b"content-type", b"image/png")]
            if query.get("length") != "no":
                headers.append((b"content-length", str(size).encode()))
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            sent = 0
            for piece in body_of(size):
                if cut and sent >= size // 2:
                    return  # uvicorn closes the connection: the body ends short
                await send({"type": "http.response.body", "body": piece, "more_body": True})
                sent += len(piece)
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    class Drip:
        """512 KiB of a promised 1000 MB, then silence for 20 s; notes when the client has
        gone (closed or shut down its connection)."""

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            token = scope["path_params"]["token"]
            gone = hits.gone.setdefault(token, threading.Event())
            hits.hit(token)
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-length", str(1000 * MB).encode())]})

            async def watch() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                gone.set()

            watcher = asyncio.create_task(watch())
            try:
                for _ in range(8):
                    await send({"type": "http.response.body", "body": b"d" * 65536,
                                "more_body": True})
                end = time.monotonic() + 20
                while time.monotonic() < end and not gone.is_set():
                    await asyncio.sleep(0.05)  # silent: the client is blocked in a read
            finally:
                watcher.cancel()

    return Starlette(routes=[Route("/big", Big()), Route("/drip/{token}", Drip())])


class Live:
    def __init__(self, hits: Hits, base: str) -> None:
        self.hits = hits
        self.base = base


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    hits = Hits()
    server = ServerThread(make_app(hits), http="h11")
    try:
        yield Live(hits, server.start())
    finally:
        server.stop()


async def no_sleep(seconds: float) -> None:
    del seconds


def client(base: str, **kw: Any) -> ApiClient:
    return ApiClient("vistoure", "VistoureAI", base, auth=Auth.bearer(lambda: KEY),
                     sleep=no_sleep, **kw)


class RecordingSink(MemorySink):
    """A MemorySink that notes which thread wrote and how often it was reset."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[int] = set()
        self.resets = 0

    def write(self, chunk: bytes) -> None:
        self.threads.add(threading.get_ident())
        super().write(chunk)

    def reset(self) -> None:
        self.resets += 1
        super().reset()


def part_files(store: AssetStore) -> list[Path]:
    return sorted((store.root / ".incoming").glob("part-*"))


# -- the body goes to the sink from a worker thread, in pieces -----------------------------------
def test_a_download_is_written_from_a_worker_thread_not_the_event_loop(live: Live) -> None:
    sink = RecordingSink()

    async def main() -> tuple[int, str | None]:
        async with client(live.base) as api:
            media = await api.download_into(f"{live.base}/big?size={3 * MB}", sink)
        return threading.get_ident(), media

    loop_thread, media = run(main())
    assert media == "image/png"
    assert sink.threads and loop_thread not in sink.threads
    assert hashlib.sha256(sink.getvalue()).hexdigest() == sha_of(3 * MB)


def test_a_50_mb_download_into_a_file_never_holds_the_body_in_memory(live: Live,
                                                                     tmp_path: Path) -> None:
    """tracemalloc counts every Python allocation in every thread: the peak stays far below
    the body's 50 MB (the chunks are written and dropped one by one)."""
    store = AssetStore(tmp_path / "assets")
    size = 50 * MB

    async def main() -> Incoming:
        async with client(live.base, max_download_bytes=size) as api:
            incoming = store.incoming()
            await api.download_into(f"{live.base}/big?size={size}", incoming)
            return incoming

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        incoming = run(main())
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * MB, f"peak {peak / MB:.1f} MB of Python memory for a 50 MB download"
    assert incoming.size == size and incoming.sha256 == sha_of(size)
    asset = store.commit(incoming, "image/png")
    stored = store.path_for(asset.sha256, asset.mime)
    assert asset.sha256 == sha_of(size) and stored.stat().st_size == size
    assert part_files(store) == []


def test_the_event_loop_keeps_running_during_a_large_download(live: Live) -> None:
    """A timer on the loop keeps firing while 40 MB arrive (on the loop itself, a blocking
    read would starve it; chunk by chunk it would still fire, so the thread test above is
    the one that tells those apart)."""
    size = 40 * MB
    sink = RecordingSink()

    async def main() -> tuple[int, float, float]:
        ticks = 0
        done = asyncio.Event()

        async def timer() -> None:
            nonlocal ticks
            while not done.is_set():
                await asyncio.sleep(0.005)
                ticks += 1

        ticking = asyncio.create_task(timer())
        started = time.monotonic()
        async with client(live.base, max_download_bytes=size) as api:
            await api.download_into(f"{live.base}/big?size={size}", sink)
        elapsed = time.monotonic() - started
        done.set()
        await ticking
        return ticks, elapsed, started

    ticks, elapsed, _ = run(main())
    assert sink.size == size
    # At least a tick per 50 ms of download (a 5 ms timer on an idle loop does ~10 times that).
    assert ticks >= max(3, int(elapsed / 0.05)), (ticks, elapsed)


# -- retries, limits and cancellation leave nothing half written ---------------------------------
def test_a_download_cut_short_is_retried_from_the_start(live: Live) -> None:
    sink = RecordingSink()
    token = uuid.uuid4().hex
    size = 2 * MB

    async def main() -> None:
        async with client(live.base, max_retries=3) as api:
            await api.download_into(f"{live.base}/big?size={size}&cut=2&token={token}", sink)

    run(main())
    assert live.hits.counts[token] == 3
    assert sink.resets == 3  # once per answer: what the cut attempts wrote is forgotten
    assert sink.size == size
    assert hashlib.sha256(sink.getvalue()).hexdigest() == sha_of(size)


def test_a_download_that_keeps_breaking_off_says_so(live: Live) -> None:
    token = uuid.uuid4().hex

    async def main() -> None:
        async with client(live.base, max_retries=1) as api:
            await api.download_into(f"{live.base}/big?size={2 * MB}&cut=9&token={token}",
                                    MemorySink())

    with pytest.raises(ProviderError) as info:
        run(main())
    assert info.value.code == ErrorCode.RESULT_UNAVAILABLE
    host = live.base.removeprefix("http://")
    assert info.value.message.startswith(
        f"The download of the result from {host} kept breaking off (got ")
    assert info.value.message.endswith(f" of {2 * MB} bytes); try again later.")


def test_a_body_over_the_limit_without_a_length_is_refused_as_it_arrives(live: Live) -> None:
    sink = RecordingSink()

    async def main() -> None:
        async with client(live.base, max_download_bytes=MB) as api:
            await api.download_into(f"{live.base}/big?size={6 * MB}&length=no", sink)

    with pytest.raises(ResultRefused) as info:
        run(main())
    assert info.value.message == (
        f"The result at {live.base}/big?… is larger than the 1.0 MB Restyle downloads "
        "(limits.result_max_bytes in settings.json).")
    assert sink.size <= MB  # stopped at the limit, not after reading everything


def test_a_cancelled_download_stops_its_thread_at_once(live: Live) -> None:
    """The worker thread is told to stop and its connection is shut down: a read blocked on a
    server gone silent ends at once, not at the read timeout (minutes), so a cancelled job or
    a closing app does not leave a thread behind."""
    token = uuid.uuid4().hex
    sink = RecordingSink()

    async def main() -> None:
        async with client(live.base, max_download_bytes=2000 * MB) as api:
            task = asyncio.create_task(api.download_into(f"{live.base}/drip/{token}", sink))
            while sink.size < 512 * 1024:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)  # the thread is now blocked reading
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    run(main())
    assert live.hits.gone[token].wait(5), "the connection stayed open: the thread did not stop"


def test_an_event_loop_only_transport_is_read_on_the_loop() -> None:
    """httpx.ASGITransport-like transports have no blocking side: the same policy applies."""

    class LoopOnly(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, content=b"x" * 5000,
                                  headers={"content-type": "image/webp"})

    sink = RecordingSink()

    async def main() -> str | None:
        async with ApiClient("vistoure", "VistoureAI", "https://api.example.test",
                             transport=LoopOnly(), sleep=no_sleep,
                             max_download_bytes=4096) as api:
            with pytest.raises(ResultRefused):
                await api.download_into("https://cdn.example.test/r.webp", MemorySink())
        async with ApiClient("vistoure", "VistoureAI", "https://api.example.test",
                             transport=LoopOnly(), sleep=no_sleep) as api:
            return await api.download_into("https://cdn.example.test/r.webp", sink)

    assert run(main()) == "image/webp"
    assert sink.getvalue() == b"x" * 5000


# -- the part file ---------------------------------------------------------------------------------
def test_a_write_after_discard_is_refused(tmp_path: Path) -> None:
    store = AssetStore(tmp_path / "assets")
    incoming = store.incoming()
    incoming.write(b"abc")
    incoming.discard()
    incoming.discard()  # twice is fine
    with pytest.raises(IncomingClosed):
        incoming.write(b"more")
    assert part_files(store) == []


# -- JSON bodies with megabytes of base64 ----------------------------------------------------------
@pytest.mark.parametrize("body", [
    {"image": "QUJD" * 700_000, "n": 1.5, "flag": True, "none": None},
    {"images": ["QUJD" * 400_000, "short", {"mask": "data:image/png;base64," + "A/+=" * 300_001}]},
    {"text": ("é\"\\\n\u2028" * 300_000), "key": "value"},  # escapes across slice boundaries
    ["x" * (1 << 20), "x" * ((1 << 20) + 1)],
    "a" * 3_000_000,
    {"small": "only", "list": (1, 2, 3)},
])
def test_large_json_bodies_encode_exactly_as_json_dumps(body: Any) -> None:
    import json
    expected = json.dumps(body, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False).encode("utf-8")
    assert _encode_json(body) == expected


def test_a_json_body_is_encoded_once_for_every_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop.providers import http

    calls: list[int] = []
    real = http._encode_json

    def counting(body: Any) -> bytes:
        calls.append(threading.get_ident())
        return real(body)

    monkeypatch.setattr(http, "_encode_json", counting)
    seen: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        if len(seen) < 3:
            return httpx.Response(503, json={"error": "busy"})
        return httpx.Response(200, json={"ok": True})

    body = {"image": "QUJD" * 500_000}

    async def main() -> tuple[Any, Any, int]:
        async with ApiClient("vistoure", "VistoureAI", "https://api.example.test",
                             transport=httpx.MockTransport(answer), sleep=no_sleep) as api:
            first = await api.request("PUT", "/a", json=body)
            second = await api.post_json("/b", body, idempotency_key="k")
            return first.json(), second, threading.get_ident()

    first, second, loop_thread = run(main())
    assert first == {"ok": True} and second == {"ok": True}
    assert len(calls) == 2 and loop_thread not in calls  # once per call, in a worker thread
    assert seen[0] == seen[1] == seen[2] == _encode_json(body)


def test_every_ascii_character_in_a_large_string_encodes_as_json_dumps() -> None:
    import json

    from desktop.core.contract import Base64Text
    for code in range(128):
        text = "QUJD" * 2000 + chr(code) + "QUJD" * 10  # over the size taken out of the dumps
        body = {"image": text, "list": [text, Base64Text("QUJD" * 3000)]}
        expected = json.dumps(body, ensure_ascii=False, separators=(",", ":"),
                              allow_nan=False).encode("utf-8")
        assert _encode_json(body) == expected, f"character {code:#x}"


def test_base64_text_is_written_without_an_escaping_pass(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    import json

    from desktop.core.contract import Base64Text
    from desktop.providers import http

    dumped: list[int] = []
    real = http._json.dumps

    def watching(value: Any, **kw: Any) -> str:
        dumped.append(len(value) if isinstance(value, str) else 0)
        return real(value, **kw)

    monkeypatch.setattr(http._json, "dumps", watching)
    image = Base64Text("QUJD" * 500_000)
    body = {"image": image, "id": "job-1"}
    assert _encode_json(body) == json.dumps(body, separators=(",", ":")).encode()
    assert max(dumped) < 1000  # the 2 MB string never went through the JSON encoder


def test_an_attempt_is_described_only_when_debug_logging_is_on(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from desktop.providers import http

    described: list[int] = []
    real = http.redact_headers

    def counting(headers: Any) -> Any:
        described.append(1)
        return real(headers)

    monkeypatch.setattr(http, "redact_headers", counting)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ok": True})

    async def call() -> Any:
        async with ApiClient("vistoure", "VistoureAI", "https://api.example.test",
                             auth=Auth.bearer(lambda: "sk-secret-1234567890"),
                             transport=httpx.MockTransport(answer), sleep=no_sleep) as api:
            return await api.get_json("/jobs/1")

    caplog.set_level("INFO", logger="restyle.http")
    assert run(call()) == {"ok": True}
    assert described == [] and not caplog.records
    caplog.set_level("DEBUG", logger="restyle.http")
    assert run(call()) == {"ok": True}
    assert described == [1]
    text = caplog.text
    assert "GET https://api.example.test/jobs/1 -> 200" in text
    assert "sk-secret-1234567890" not in text


def test_a_path_is_made_into_a_url_once() -> None:
    api = ApiClient("vistoure", "VistoureAI", "https://api.example.test/v2/")
    first = api.url("/jobs/1?full=1")
    assert str(first) == "https://api.example.test/v2/jobs/1?full=1"
    assert api.url("/jobs/1?full=1") is first
    assert str(api.url("jobs/2")) == "https://api.example.test/v2/jobs/2"
    absolute = "https://cdn.example.test/r/1.png?sig=abc"
    assert str(api.url(absolute)) == absolute and absolute not in api._paths
    for n in range(300):
        api.url(f"/jobs/{n}")
    assert len(api._paths) <= 256 and str(api.url("/jobs/299")).endswith("/v2/jobs/299")
