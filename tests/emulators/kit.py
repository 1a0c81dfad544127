"""What every provider emulator shares: a real HTTP server on 127.0.0.1, a record of every
request, scripted faults, result URLs that expire, and result images derived from the inputs.

An emulator subclasses `Emulator`, declares its documented routes in `routes()`, and is served
with `serve(emulator)` (uvicorn in a background thread, real sockets) or used in-process through
`httpx.ASGITransport(app=emulator.asgi)`.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import secrets
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn
from PIL import Image, ImageDraw, ImageFont, ImageOps
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

FaultKind = Literal["status", "html", "malformed_json", "drop", "slow", "truncate", "page",
                    "short"]

#: What a captive portal or a CDN's error page looks like when it is served as a success.
ERROR_PAGE = (b"<!doctype html><html><head><title>Service temporarily unavailable</title></head>"
              b"<body><h1>We'll be right back</h1><p>Please try again later.</p></body></html>")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    #: time.monotonic() when the whole request had arrived (0.0 where a test made one by hand).
    at: float = 0.0

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def host(self) -> str:
        """The Host header: which of an emulator's ports (`serve_ports`) the request came to."""
        return self.headers.get("host", "")


@dataclass
class Fault:
    """A scripted misbehaviour for the next `times` requests matching method and path prefix.

    - status: answer `status` with `body` (JSON unless bytes) and `headers`, e.g. 429 with
      Retry-After, 500, 503, 402 out of credits;
    - html: a 502 with an HTML page (a proxy in front of a dead service);
    - malformed_json: a 200 whose JSON body is cut short;
    - drop: headers promise a body, then the connection closes (outcome unknown to the client);
    - slow: wait `delay` seconds, then answer normally (past a client's read timeout);
    - truncate: answer normally but send only half the body (a broken download);
    - page: a 200 whose body is an HTML page (a captive portal, a CDN's error page served as a
      success) where a result or an answer was expected;
    - short: answer normally, but with only the first half of the body and a Content-Length
      that matches it: the file itself is damaged, nothing at the HTTP level shows it.

    With `host` ("127.0.0.1:PORT"), only requests that came to that port match: one emulator
    served on several ports (`serve_ports`) can misbehave for one client process only.

    With `after`, the emulator handles the request first (a POST creates its job, and charges
    for it) and only then misbehaves: its own answer is replaced (status, html,
    malformed_json, drop, page), delayed (slow) or cut (truncate, short). Without it the
    request never reaches the emulated service, except for slow, truncate and short, which
    always pass it on.
    """

    kind: FaultKind
    method: str | None = None
    path: str = ""
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    times: int = 1
    after: bool = False
    host: str = ""

    def matches(self, method: str, path: str, host: str = "") -> bool:
        return ((self.method is None or self.method == method) and path.startswith(self.path)
                and (not self.host or self.host == host))


class ResultStore:
    """Bytes served under random tokens until they expire (then 403, as signed URLs do).

    A link lives `ttl` seconds from when it was made; `ttl` is read when the link is used, so a
    test that raises it brings links made under a short one back (a CDN that was misbehaving
    and recovered). `expire_all` ends every link made so far for good."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._items: dict[str, tuple[bytes, str, float]] = {}
        self._expired: set[str] = set()
        self._lock = threading.Lock()

    def put(self, data: bytes, mime: str) -> str:
        token = secrets.token_urlsafe(12)
        with self._lock:
            self._items[token] = (data, mime, time.monotonic())
        return token

    def get(self, token: str) -> tuple[bytes, str] | None:
        with self._lock:
            item = self._items.get(token)
            expired = token in self._expired
        if item is None or expired or time.monotonic() - item[2] > self.ttl:
            return None
        return item[0], item[1]

    def expire_all(self) -> None:
        with self._lock:
            self._expired.update(self._items)


class Emulator(ABC):
    """Base class: recording and fault injection wrap the documented routes."""

    #: The key the emulator accepts unless a test passes another.
    default_key = "test-key"

    def __init__(self, *, api_key: str | None = None, job_delay: float = 0.2,
                 url_ttl: float = 300.0) -> None:
        self.api_key = api_key or self.default_key
        self.job_delay = job_delay
        self.results = ResultStore(url_ttl)
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self.public_url = "http://testserver"
        #: Requests being handled now (a slow answer, a job being created).
        self.in_flight = 0
        self._lock = threading.Lock()
        self.app = Starlette(routes=[*self.routes(),
                                     Route("/results/{token}", self._serve_result)])

    @abstractmethod
    def routes(self) -> list[Route]:
        """The provider's documented endpoints."""

    # -- helpers for emulators ---------------------------------------------------------------
    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self.faults.extend(faults)

    def clear_faults(self) -> None:
        """The service is fixed: every scripted fault still pending is dropped."""
        with self._lock:
            self.faults.clear()

    def wait_idle(self, timeout: float = 15.0) -> None:
        """Block until no request is being handled (a slow answer has been given, a job whose
        client was killed has been created), so a test reads settled state."""
        deadline = time.monotonic() + timeout
        while self.in_flight > 0:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.in_flight} requests still in flight")
            time.sleep(0.01)

    def requests_to(self, method: str, path_prefix: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def result_url(self, data: bytes, mime: str) -> str:
        return f"{self.public_url}/results/{self.results.put(data, mime)}"

    def ready(self, created: float) -> bool:
        """True once a job created at `created` (time.monotonic) has run for job_delay."""
        return time.monotonic() - created >= self.job_delay

    async def _serve_result(self, request: Request) -> Response:
        item = self.results.get(request.path_params["token"])
        if item is None:
            return Response(b"<Error><Code>AccessDenied</Code><Message>Request has expired"
                            b"</Message></Error>", status_code=403,
                            media_type="application/xml")
        data, mime = item
        return Response(data, media_type=mime)

    # -- the ASGI entry point ----------------------------------------------------------------
    async def asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        query = dict(
            pair.split("=", 1) if "=" in pair else (pair, "")
            for pair in scope.get("query_string", b"").decode("latin-1").split("&") if pair
        )
        method, path = scope["method"], scope["path"]
        recorded = RecordedRequest(method, path, query, headers, body, time.monotonic())
        with self._lock:
            self.requests.append(recorded)
            fault = next((f for f in self.faults if f.matches(method, path, recorded.host)),
                         None)
            if fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
            self.in_flight += 1

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return {"type": "http.disconnect"}
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        try:
            if fault is None:
                await self.app(scope, replay, send)
            else:
                await self._misbehave(fault, scope, replay, send)
        finally:
            with self._lock:
                self.in_flight -= 1

    async def _misbehave(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        handled: list[Message] | None = None
        if fault.after:  # the service acts on the request; its answer is kept back
            handled = []

            async def keep(message: Message) -> None:
                assert handled is not None
                handled.append(message)

            await self.app(scope, receive, keep)

        async def answer(target: Send) -> None:
            """The service's own answer, sent to `target`."""
            if handled is None:
                await self.app(scope, receive, target)
                return
            for message in handled:
                await target(message)

        if fault.kind == "status":
            payload = fault.body if isinstance(fault.body, bytes) else json.dumps(
                fault.body if fault.body is not None else {"message": "Injected fault"}
            ).encode()
            kind = "application/octet-stream" if isinstance(fault.body, bytes) else (
                "application/json")
            await _respond(send, fault.status, payload, {"content-type": kind, **fault.headers})
        elif fault.kind == "html":
            await _respond(send, 502, b"<html><head><title>502 Bad Gateway</title></head><body>"
                           b"<center><h1>502 Bad Gateway</h1></center><hr><center>nginx"
                           b"</center></body></html>", {"content-type": "text/html"})
        elif fault.kind == "malformed_json":
            await _respond(send, 200, b'{"status": "processing", "id": ',
                           {"content-type": "application/json"})
        elif fault.kind == "drop":
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", b"100")]})
            await send({"type": "http.response.body", "body": b'{"id"', "more_body": False})
        elif fault.kind == "slow":
            await asyncio.sleep(fault.delay)
            await answer(send)
        elif fault.kind == "truncate":
            await answer(_truncating(send))
        elif fault.kind == "short":
            await answer(_shortening(send))
        elif fault.kind == "page":
            await _respond(send, 200, ERROR_PAGE, {"content-type": "text/html; charset=utf-8"})


async def _respond(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _truncating(send: Send) -> Send:
    """Pass the response through, but send only the first half of the body."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.body":
            body = message.get("body", b"")
            await send({**message, "body": body[: len(body) // 2], "more_body": False})
            return
        await send(message)

    return wrapped


def _shortening(send: Send) -> Send:
    """Pass the response through with the first half of its body and a Content-Length that
    says so: a damaged file, served correctly."""
    start: Message | None = None
    chunks: list[bytes] = []

    async def wrapped(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
            return
        if message["type"] != "http.response.body" or start is None:
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(chunks)
        cut = body[: len(body) // 2]
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(cut)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": cut, "more_body": False})

    return wrapped


# -- images ----------------------------------------------------------------------------------
def derive_image(inputs: list[bytes], label: str, *, size: tuple[int, int] | None = None) -> bytes:
    """A real PNG made from the inputs, tinted by `label` (e.g. the job id) so outputs of
    different jobs differ: the first input as the base, the others pasted over its middle."""
    images = [ImageOps.exif_transpose(Image.open(io.BytesIO(d))).convert("RGB") for d in inputs]
    base = images[0].copy()
    if size is not None:
        base = base.resize(size)
    for i, extra in enumerate(images[1:]):
        extra.thumbnail((max(1, base.width // 2), max(1, base.height // 2)))
        x = (base.width - extra.width) // 2
        y = base.height // 4 + i * base.height // 10
        base.paste(extra, (x, min(y, base.height - extra.height)))
    digest = hashlib.sha256(label.encode()).digest()
    tint = Image.new("RGB", base.size, (digest[0], digest[1], digest[2]))
    out = Image.blend(base, tint, 0.25)
    draw = ImageDraw.Draw(out)
    font = ImageFont.load_default(size=max(10, out.height // 24))
    draw.text((6, 6), label[:40], fill=(255, 255, 255), font=font, stroke_width=1,
              stroke_fill=(0, 0, 0))
    buf = io.BytesIO()
    out.save(buf, "PNG")
    return buf.getvalue()


# -- serving ---------------------------------------------------------------------------------
class ServerThread:
    """uvicorn on 127.0.0.1, on a port the OS picks, in a daemon thread."""

    def __init__(self, app: Callable[..., Awaitable[None]], host: str = "127.0.0.1",
                 http: str = "auto") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.base_url = f"http://{host}:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False,
                                interface="asgi3", http=http, timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True, name=f"emulator-{self.base_url}")

    def start(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"The emulator at {self.base_url} did not start.")
            time.sleep(0.01)
        return self.base_url

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@contextmanager
def serve(emulator: Emulator) -> Iterator[str]:
    """Serve an emulator over real HTTP for the duration of the block; yields its base URL."""
    server = ServerThread(emulator.asgi)
    emulator.public_url = server.start()
    try:
        yield emulator.public_url
    finally:
        server.stop()


@contextmanager
def serve_ports(emulator: Emulator, count: int) -> Iterator[list[str]]:
    """Serve one emulator on `count` ports at once; yields their base URLs, the first being
    its public URL (result links). Give each client process its own base URL and its requests
    can be told apart in the log by `RecordedRequest.host`."""
    servers: list[ServerThread] = []
    try:
        for _ in range(max(1, count)):
            server = ServerThread(emulator.asgi)
            servers.append(server)
            server.start()
        emulator.public_url = servers[0].base_url
        yield [s.base_url for s in servers]
    finally:
        for server in servers:
            if server.thread.ident is not None:
                server.stop()
            else:
                server.sock.close()
