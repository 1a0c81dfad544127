"""The HTTP policy every remote provider uses (docs/ARCHITECTURE.md, "HTTP policy").

One place decides how Restyle talks to web services, so five adapters behave alike:

- explicit timeouts per call kind (API calls are short; uploads and downloads get long read and
  write timeouts);
- retries only where no duplicate job can result, with capped exponential backoff and jitter,
  `Retry-After` / `retry-after-ms` honoured up to a ceiling;
- "out of credits" answers are final, whatever their status;
- every failure becomes a `ProviderError` in the common taxonomy, with a sentence a user can act
  on and the provider's own code and message kept;
- API keys are read at request time, sent only to the provider's own origin, and never reach a
  log line, an exception message or a repr.

Status -> ErrorCode (`map_status`):

    400, 413, 422, other 4xx   invalid_input
    401                        auth_failed          (result_unavailable on a foreign download host)
    402                        insufficient_credits (final)
    403                        forbidden, or insufficient_credits when the body talks of credits
    404                        not_found
    408                        network              (the request did not reach the server in time)
    409                        conflict
    429                        rate_limited, or insufficient_credits when the body talks of credits
    5xx (incl. 504)            provider_unavailable
    3xx on a non-GET           not_configured       (usually http:// vs https:// in the base URL)

`timed_out` is left to the engine: it means the job's own deadline passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json as _json
import logging
import math
import random
import re
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Literal, Self, TypeVar

import httpx

from desktop import __version__
from desktop.core.contract import Base64Text, MemorySink, ResultSink
from desktop.core.humanize import human_bytes, human_duration
from desktop.core.limits import Limits, setting_name
from desktop.core.model import ErrorCode
from desktop.core.redaction import (
    redact_headers,
    redact_mapping,
    redact_text,
    redact_url,
    register_secret,
)
from desktop.providers.base import KeyUnavailable, ProviderError, ResultRefused

log = logging.getLogger("restyle.http")

Kind = Literal["api", "upload", "download"]
Sleep = Callable[[float], Awaitable[None]]
ErrorExtractor = Callable[[int, Any, str], tuple[str | None, str | None]]
AuthFor = Callable[[httpx.URL], Mapping[str, str]]
T = TypeVar("T")

USER_AGENT = f"Restyle/{__version__}"

#: Methods whose repetition has no further effect on the server (RFC 9110 section 9.2.2).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})
#: Statuses worth another attempt for an idempotent request.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: Statuses that prove a POST was rejected before anything was created.
REJECTED_STATUSES = frozenset({429, 503})
#: Gone for good, as far as a result link is concerned.
RESULT_GONE_STATUSES = frozenset({403, 404, 410})

BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
#: Each backoff is shortened by up to this fraction at random, so it never exceeds the cap and
#: clients that failed together do not retry in lockstep.
JITTER = 0.25
MAX_REDIRECTS = 5
MESSAGE_CAP = 200

# The request certainly never reached the server: safe to repeat any method.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)
# The request may have been received and acted on: only idempotent requests are repeated.
_UNKNOWN = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)

_CREDIT_WORDS = re.compile(
    r"credit|quota|insufficient|balance|\btokens\b|payment required|top[ -]?up", re.IGNORECASE
)
# "Quota exceeded: 60 requests per minute" is a rate limit, not an empty wallet.
_RATE_WORDS = re.compile(
    r"per (second|minute|hour)|rate[ _-]?limit|too many requests|requests/(s|min)", re.IGNORECASE
)
_JSON_TYPES = re.compile(r"[/+]json\b", re.IGNORECASE)


# -- small public helpers ---------------------------------------------------------------------
def new_idempotency_key() -> str:
    """A fresh key for one logical submit; reuse it on every attempt of that submit."""
    return str(uuid.uuid4())


def parse_retry_after(
    headers: Mapping[str, str] | httpx.Headers, now: float | None = None
) -> float | None:
    """Seconds the server asks us to wait, from `retry-after-ms` or `Retry-After`.

    `Retry-After` may be delta-seconds or an HTTP-date (RFC 9110 section 10.2.3); `now` is the
    current Unix time for the latter (default: the system clock). A date in the past gives 0.
    Unparseable or negative values give None.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_ms = lowered.get("retry-after-ms")
    if raw_ms:
        try:
            ms = float(raw_ms.strip())
        except ValueError:
            ms = math.nan
        if math.isfinite(ms) and ms >= 0:
            return ms / 1000.0
    raw = lowered.get("retry-after")
    if not raw:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def default_extract_error(status: int, body: Any, text: str) -> tuple[str | None, str | None]:
    """The provider's (code, message) from a JSON error body of the usual shapes.

    Looks at `code`, `errorCode`, `error_code`, `type`, `error.code`, `error.type` for the code
    and at `message`, `error.message`, `detail` (text or FastAPI's list), `error` (text),
    `errors[0]`, `msg`, `error_description` for the message. `{"error": "InsufficientTokens"}`
    yields that word as both.
    """
    del status, text  # the default looks at the parsed body only
    if not isinstance(body, Mapping):
        return None, None
    code: str | None = None
    message: str | None = None
    error = body.get("error")
    for key in ("code", "errorCode", "error_code", "type"):
        code = code or _scalar(body.get(key))
    if isinstance(error, Mapping):
        code = code or _scalar(error.get("code")) or _scalar(error.get("type"))
        message = _text(error.get("message")) or _text(error.get("detail"))
    for candidate in (body.get("message"), body.get("detail"), body.get("msg"),
                      body.get("error_description")):
        message = message or _text(candidate)
    if isinstance(error, str) and error.strip():
        word = error.strip()
        if code is None and re.fullmatch(r"[A-Za-z][A-Za-z0-9_.:-]{1,63}", word):
            code = word
        message = message or word
    errors = body.get("errors")
    if not message and isinstance(errors, list) and errors:
        message = _text(errors[0])
    return code, message


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (str, int, float)):
        text = str(value).strip()
        return text or None
    return None


def _text(value: Any) -> str | None:
    """A message from a string, a {message|msg|detail} object, or the first of a list."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, Mapping):
        for key in ("message", "msg", "detail", "description"):
            found = _text(value.get(key))
            if found:
                loc = value.get("loc")
                if isinstance(loc, list) and loc:
                    return f"{'.'.join(str(p) for p in loc)}: {found}"
                return found
        return None
    if isinstance(value, list) and value:
        return _text(value[0])
    return None


def clip(text: str, limit: int = MESSAGE_CAP) -> str:
    """Redact, flatten whitespace and cap text meant for a message or a log line.

    Redaction comes first: a key cut in half by the cap would no longer be recognised.
    """
    flat = " ".join(redact_text(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def display_url(url: httpx.URL | str) -> str:
    """A URL fit for messages and logs: no user info, no query at all (signed links carry
    tokens there), path capped. Stricter than `redact_url`, which keeps the query's harmless
    parameters: a request log names the endpoint, its parameters are not needed there."""
    parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    path = parsed.path if len(parsed.path) <= 80 else parsed.path[:79] + "…"
    query = "?…" if parsed.query else ""
    return redact_text(f"{parsed.scheme}://{_host_port(parsed)}{path}{query}")


def _host_port(url: httpx.URL) -> str:
    return f"{url.host}:{url.port}" if url.port is not None else url.host


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return (url.scheme, url.host.lower(), url.port if url.port is not None else default)


def _reason(status: int) -> str:
    phrase = httpx.codes.get_reason_phrase(status)
    return f"HTTP {status} {phrase}" if phrase else f"HTTP {status}"


def _seconds(value: float | None) -> str:
    return human_duration(value) if value is not None else "the time limit"


def _sentence(text: str) -> str:
    return text.rstrip(" .")


# -- configuration ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Timeouts:
    """Seconds per phase. `read`/`write` serve API calls; uploads and downloads move megabytes
    over home connections and get `transfer_read`/`transfer_write`."""

    connect: float = 10.0
    read: float = 30.0
    write: float = 30.0
    pool: float = 10.0
    transfer_read: float = 120.0
    transfer_write: float = 120.0

    def for_kind(self, kind: Kind) -> httpx.Timeout:
        if kind == "api":
            return httpx.Timeout(connect=self.connect, read=self.read, write=self.write,
                                 pool=self.pool)
        if kind in ("upload", "download"):
            return httpx.Timeout(connect=self.connect, read=self.transfer_read,
                                 write=self.transfer_write, pool=self.pool)
        raise ValueError(f"Unknown request kind {kind!r} (api, upload or download).")


class Auth:
    """How a provider wants its key: a header name and a scheme prefix.

    `Auth(src)` sends `Authorization: Bearer <key>`; `Auth(src, header="X-API-KEY", scheme="")`
    sends the bare key. The key comes from `key_source` at request time, so a key changed in
    Settings applies at once and no object ever holds it.
    """

    __slots__ = ("_key_source", "header", "scheme")

    def __init__(
        self,
        key_source: Callable[[], str | None],
        *,
        header: str = "Authorization",
        scheme: str = "Bearer ",
    ) -> None:
        self._key_source = key_source
        self.header = header
        self.scheme = scheme

    @classmethod
    def bearer(cls, key_source: Callable[[], str | None]) -> Auth:
        return cls(key_source, header="Authorization", scheme="Bearer ")

    @classmethod
    def api_key_header(cls, key_source: Callable[[], str | None], header: str = "X-API-KEY"
                       ) -> Auth:
        return cls(key_source, header=header, scheme="")

    def headers(self, *, provider_id: str, title: str) -> dict[str, str]:
        """The auth header, or ProviderError(MISSING_KEY) when there is no key."""
        try:
            key = (self._key_source() or "").strip()
        except KeyUnavailable as exc:
            raise ProviderError(ErrorCode.MISSING_KEY, str(exc)) from None
        if not key:
            raise ProviderError(
                ErrorCode.MISSING_KEY,
                f"No API key for {title}. Add one in Settings or with "
                f"`restyle-cli keys set --provider {provider_id}`.",
            )
        register_secret(key)
        if not key.isascii() or not key.isprintable() or any(c.isspace() for c in key):
            raise ProviderError(
                ErrorCode.AUTH_FAILED,
                f"The API key for {title} contains spaces or characters that cannot be sent; "
                "paste it again in Settings.",
            )
        return {self.header: f"{self.scheme}{key}"}

    def __repr__(self) -> str:
        return f"Auth(header={self.header!r}, scheme={self.scheme!r})"


# -- the retry engine shared by ApiClient and UrlSourceLoader -----------------------------------
@dataclass
class _Failure:
    """One failed attempt: the error to raise if we stop here, and whether to try again."""

    error: ProviderError
    retryable: bool
    cause: BaseException | None = None
    #: The server's requested wait (Retry-After); None -> our own backoff.
    wait: float | None = None


class _BodyTooLarge(Exception):
    def __init__(self, size: int | None) -> None:
        super().__init__(size)
        self.size = size


class _Truncated(Exception):
    def __init__(self, received: int, expected: int | None, cause: BaseException | None) -> None:
        super().__init__(received, expected)
        self.received = received
        self.expected = expected
        self.cause = cause


class _HttpBase:
    """Owns one lazily created httpx.AsyncClient, the retry loop and the request log."""

    def __init__(
        self,
        *,
        title: str,
        timeouts: Timeouts,
        max_retries: int,
        retry_after_ceiling: float,
        transport: httpx.AsyncBaseTransport | None,
        sleep: Sleep | None,
        rng: random.Random | None,
        clock: Callable[[], float],
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self.title = title
        self.timeouts = timeouts
        self.max_retries = max_retries
        self.retry_after_ceiling = retry_after_ceiling
        self._transport = transport
        self._sleep: Sleep = sleep or asyncio.sleep
        self._rng = rng or random.Random()
        self._clock = clock
        self._client_instance: httpx.AsyncClient | None = None
        self._sync_instance: httpx.Client | None = None
        self._sync_lock = threading.Lock()

    # lifecycle ---------------------------------------------------------------------------
    def _client(self) -> httpx.AsyncClient:
        if self._client_instance is None or self._client_instance.is_closed:
            self._client_instance = httpx.AsyncClient(
                transport=self._transport,
                verify=_ssl_context_now(),
                headers={"User-Agent": USER_AGENT},
                follow_redirects=False,  # redirects are followed by hand: see _send
                timeout=self.timeouts.for_kind("api"),
            )
        return self._client_instance

    def _sync_client(self) -> httpx.Client | None:
        """The blocking client result downloads run on in a worker thread (see `_Transfer`),
        or None when the injected transport only works on an event loop (ASGITransport)."""
        transport = self._transport
        if transport is not None and not isinstance(transport, httpx.BaseTransport):
            return None
        with self._sync_lock:
            if self._sync_instance is None or self._sync_instance.is_closed:
                self._sync_instance = httpx.Client(
                    transport=transport,
                    verify=_ssl_context_now(),
                    headers={"User-Agent": USER_AGENT},
                    follow_redirects=False,
                    timeout=self.timeouts.for_kind("download"),
                )
            return self._sync_instance

    async def aclose(self) -> None:
        client, self._client_instance = self._client_instance, None
        with self._sync_lock:
            sync, self._sync_instance = self._sync_instance, None
        if sync is not None:
            sync.close()
        if client is not None:
            await client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # retry loop ------------------------------------------------------------------------
    def backoff(self, retry: int) -> float:
        """Wait before retry number `retry` (0-based): 0.5 s x 2^n, capped at 8 s, minus up to
        25 % jitter."""
        base = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** min(retry, 32)))
        return base * (1.0 - JITTER * self._rng.random())

    async def _with_retries(
        self, attempt: Callable[[int], Awaitable[T | _Failure]], max_retries: int | None = None
    ) -> T:
        limit = self.max_retries if max_retries is None else max_retries
        number = 0
        while True:
            number += 1
            outcome = await attempt(number)
            if not isinstance(outcome, _Failure):
                return outcome
            if not outcome.retryable or number > limit:
                raise outcome.error from outcome.cause
            if outcome.wait is not None and outcome.wait > self.retry_after_ceiling:
                raise self._wait_too_long(outcome.error, outcome.wait) from outcome.cause
            wait = outcome.wait if outcome.wait is not None else self.backoff(number - 1)
            log.debug("retrying in %.2f s (attempt %d failed: %s)", wait, number,
                      outcome.error.code)
            await self._sleep(wait)  # cancellation propagates from here

    def _wait_too_long(self, error: ProviderError, wait: float) -> ProviderError:
        code = ErrorCode.RATE_LIMITED if error.http_status in (429, None) else error.code
        return ProviderError(
            code,
            f"{self.title} asks to wait {human_duration(wait)}; try again later.",
            provider_code=error.provider_code,
            http_status=error.http_status,
            retry_after=wait,
        )

    # sending ---------------------------------------------------------------------------
    async def _send(
        self,
        method: str,
        url: httpx.URL,
        *,
        kind: Kind,
        headers: Mapping[str, str],
        stream: bool,
        attempt: int,
        auth_for: AuthFor | None = None,
        **body: Any,
    ) -> httpx.Response:
        """Send one attempt. GET and HEAD follow redirects by hand so the auth header is worked
        out afresh for every hop by `auth_for(url)` (httpx only strips `Authorization` on a
        cross-origin redirect, not `X-API-KEY`)."""
        if self._client_instance is None and self._transport is None:
            await shared_ssl_context()  # built in a thread, not on a window's event loop
        client = self._client()
        timeout = self.timeouts.for_kind(kind)
        for _hop in range(MAX_REDIRECTS + 1):
            all_headers = {**headers, **(auth_for(url) if auth_for else {})}
            request = client.build_request(method, url, headers=all_headers, timeout=timeout,
                                           **body)
            started = time.monotonic()
            try:
                response = await client.send(request, stream=stream)
            except httpx.HTTPError as exc:
                _log_attempt(request, url, type(exc).__name__, attempt, started)
                raise
            _log_attempt(request, url, response.status_code, attempt, started)
            if not (response.is_redirect and method in ("GET", "HEAD")):
                return response
            url = response.url.join(response.headers["location"])
            await response.aclose()
        raise self._too_many_redirects(url)

    def _send_blocking(self, client: httpx.Client, url: httpx.URL, *, headers: Mapping[str, str],
                       attempt: int, auth_for: AuthFor | None) -> httpx.Response:
        """`_send` for a streamed GET on the blocking client, in a download's worker thread."""
        timeout = self.timeouts.for_kind("download")
        for _hop in range(MAX_REDIRECTS + 1):
            all_headers = {**headers, **(auth_for(url) if auth_for else {})}
            request = client.build_request("GET", url, headers=all_headers, timeout=timeout)
            started = time.monotonic()
            try:
                response = client.send(request, stream=True)
            except httpx.HTTPError as exc:
                _log_attempt(request, url, type(exc).__name__, attempt, started)
                raise
            _log_attempt(request, url, response.status_code, attempt, started)
            if not response.is_redirect:
                return response
            url = response.url.join(response.headers["location"])
            response.close()
        raise self._too_many_redirects(url)

    def _too_many_redirects(self, url: httpx.URL) -> ProviderError:
        return ProviderError(
            ErrorCode.PROVIDER_UNAVAILABLE,
            f"{self.title} redirected more than {MAX_REDIRECTS} times "
            f"(last to {display_url(url)}); try again later.",
        )

    @staticmethod
    async def _read_limited(response: httpx.Response, max_bytes: int,
                            sink: ResultSink | None = None) -> bytes:
        """The body of a streamed response, refusing more than `max_bytes` and noticing a body
        shorter than its Content-Length. With a `sink` the chunks go there (and b"" is
        returned); that is the event-loop path, for transports with no blocking side."""
        expected = _expected_length(response, max_bytes)
        target = sink if sink is not None else MemorySink()
        size = 0
        # Closed here, not by the garbage collector: a body refused half way would otherwise
        # be finalised later, on whatever loop (or none) is running then.
        body = response.aiter_bytes()
        try:
            async for chunk in body:
                size += len(chunk)
                if size > max_bytes:
                    raise _BodyTooLarge(None)
                target.write(chunk)
        except _UNKNOWN as exc:
            raise _Truncated(max(size, response.num_bytes_downloaded), expected, exc) from exc
        finally:
            await body.aclose()
        _check_complete(response, size, expected)
        return b"" if sink is not None else target.getvalue()  # type: ignore[union-attr]

    @staticmethod
    def _stream_blocking(response: httpx.Response, max_bytes: int, sink: ResultSink,
                         transfer: _Transfer) -> None:
        """`_read_limited` in a download's worker thread: each chunk straight into `sink`
        (a file, hashed as written), none of them through the event loop or joined in
        memory. Stops between chunks once the job is cancelled."""
        expected = _expected_length(response, max_bytes)
        size = 0
        body = response.iter_bytes()
        try:
            for chunk in body:
                if transfer.stopped.is_set():
                    raise _Stopped
                size += len(chunk)
                if size > max_bytes:
                    raise _BodyTooLarge(None)
                sink.write(chunk)
        except _UNKNOWN as exc:
            raise _Truncated(max(size, response.num_bytes_downloaded), expected, exc) from exc
        finally:
            body.close()
        _check_complete(response, size, expected)

    # describing failures ---------------------------------------------------------------
    def _connect_clause(self, exc: httpx.HTTPError, timeout: httpx.Timeout) -> str:
        """Why a connection could not be made, as a clause: 'connection refused'."""
        if isinstance(exc, httpx.ConnectTimeout):
            return f"no answer within {_seconds(timeout.connect)}"
        if isinstance(exc, httpx.PoolTimeout):
            return f"no free connection within {_seconds(timeout.pool)}"
        chain = _chain(exc)
        lowered = " | ".join(str(e) for e in chain).lower()
        if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in lowered:
            return "connection refused"
        if any(isinstance(e, socket.gaierror) for e in chain) or _is_dns_failure(lowered) or (
            "name resolution" in lowered
        ):
            return "the host name could not be resolved"
        if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain) or (
            "certificate" in lowered
        ):
            return "its TLS certificate could not be verified"
        if "unreachable" in lowered:
            return "the network is unreachable"
        text = str(exc)
        return clip(text, 120) if text else type(exc).__name__


def _expected_length(response: httpx.Response, max_bytes: int) -> int | None:
    """The announced Content-Length; _BodyTooLarge at once when it is over `max_bytes`."""
    raw_length = response.headers.get("content-length")
    if raw_length and raw_length.strip().isdigit():
        expected = int(raw_length)
        if expected > max_bytes:
            raise _BodyTooLarge(expected)
        return expected
    return None


def _check_complete(response: httpx.Response, size: int, expected: int | None) -> None:
    """_Truncated when fewer bytes came than the Content-Length announced."""
    # Content-Length counts the body as sent: with a Content-Encoding (gzip) compare the
    # wire bytes, otherwise the bytes we got (a transport may hand over a body in memory).
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    received = size if encoding in ("", "identity") else response.num_bytes_downloaded
    if expected is not None and received < expected:
        raise _Truncated(received, expected, None)


def _log_attempt(request: httpx.Request, url: httpx.URL, outcome: int | str, attempt: int,
                 started: float) -> None:
    if not log.isEnabledFor(logging.DEBUG):
        return  # the redacted URL and headers cost more than the request's own bookkeeping
    log.debug("%s %s -> %s (attempt %d, %.0f ms) headers=%s", request.method, display_url(url),
              outcome, attempt, (time.monotonic() - started) * 1000,
              redact_headers(dict(request.headers)))


class _Stopped(Exception):
    """A blocking download given up because its job was cancelled (nobody awaits it now)."""


class _Transfer:
    """A blocking download attempt's link back to the event loop: a flag that stops it
    between chunks, and the connection to shut down so that a read blocked on a silent server
    ends at once rather than at the read timeout."""

    def __init__(self) -> None:
        self.stopped = threading.Event()
        self._lock = threading.Lock()
        self._stream: Any = None

    def attach(self, response: httpx.Response) -> None:
        with self._lock:
            self._stream = response.extensions.get("network_stream")
        if self.stopped.is_set():
            self._interrupt()

    def stop(self) -> None:
        self.stopped.set()
        self._interrupt()

    def _interrupt(self) -> None:
        with self._lock:
            stream = self._stream
        if stream is None:
            return
        try:
            sock = stream.get_extra_info("socket")
        except Exception:  # a transport without sockets (in-process)
            return
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


_executor_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
#: Download attempts run at once at most; more wait their turn. A thread waiting on a slow
#: link holds nothing, but when data arrives faster than it can be written (a fast CDN, a
#: local server) each thread's per-chunk work takes the GIL: measured on 2 cores with twenty
#: 40 MB downloads, 32 threads stalled a 5 ms timer on the loop to p99 110-270 ms, 8 threads
#: to p99 20-35 ms, for the same total time. A separate pool, so downloads never fill
#: asyncio's default executor.
DOWNLOAD_THREADS = 8


def _download_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=DOWNLOAD_THREADS,
                                           thread_name_prefix="restyle-download")
        return _executor


async def _run_blocking(fn: Callable[[_Transfer], T]) -> T:
    """Run one blocking download attempt in the download pool; a cancelled caller stops it."""
    transfer = _Transfer()
    future = asyncio.get_running_loop().run_in_executor(_download_executor(), fn, transfer)
    try:
        return await future
    except asyncio.CancelledError:
        transfer.stop()
        raise


def _media_type(response: httpx.Response) -> str | None:
    media = response.headers.get("content-type", "").split(";", 1)[0].strip()
    return media.lower() or None


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes: httpx hides "connection refused" two levels down."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _is_dns_failure(lowered: str) -> bool:
    """A name that does not exist (a typo in the base URL): retrying will not help."""
    return any(
        s in lowered
        for s in ("name or service not known", "nodename nor servname", "getaddrinfo failed",
                  "no address associated")
    )


def _final_connect_error(exc: httpx.HTTPError) -> bool:
    """Connection failures that retrying cannot fix: an unknown host name, a bad certificate."""
    chain = _chain(exc)
    lowered = " | ".join(str(e) for e in chain).lower()
    return (_is_dns_failure(lowered) or "certificate_verify_failed" in lowered
            or any(isinstance(e, ssl.SSLCertVerificationError) for e in chain))


def _looks_like_html(response: httpx.Response, text: str) -> bool:
    ctype = response.headers.get("content-type", "").lower()
    head = text.lstrip()[:15].lower()
    return "html" in ctype or head.startswith(("<!doctype", "<html", "<?xml", "<head", "<body"))


_ssl_lock = threading.Lock()
_ssl_context: ssl.SSLContext | None = None


def _ssl_context_now() -> ssl.SSLContext:
    """One TLS context for every client. Building it reads the CA bundle (about 60 ms), so it
    is made once, and `shared_ssl_context` makes it in a worker thread before the first use."""
    global _ssl_context
    with _ssl_lock:
        if _ssl_context is None:
            _ssl_context = httpx.create_ssl_context()
        return _ssl_context


async def shared_ssl_context() -> ssl.SSLContext:
    if _ssl_context is not None:
        return _ssl_context
    return await asyncio.to_thread(_ssl_context_now)


#: Strings longer than this (base64 images) are escaped and encoded in slices of this size.
#: Each slice is one C call holding the GIL: 1 MB took 6.5 ms on 2 shared cores (a late frame
#: for the window), 128 KB 0.8 ms.
_SLICE = 1 << 17
#: Strings at least this long are taken out of the one `json.dumps` of the body and written on
#: their own: as they are when they need no escaping (base64), else escaped a slice at a time.
_BIG = 1 << 12


#: What JSON escapes in ASCII text: control characters, the quote and the backslash.
_JSON_ESCAPED = bytes(range(0x20)) + b'"\\'


def _plain_json_bytes(text: str) -> bytes | None:
    """`text` as the bytes JSON writes between its quotes when it needs no escaping (ASCII with
    no quote, backslash or control character: base64 and most ids), else None. Base64 made
    here (`Base64Text`) is known to qualify; other text is checked by `bytes.translate`, a C
    loop about four times as fast as the JSON encoder's scan."""
    if isinstance(text, Base64Text):
        return text.encode("ascii")
    if not text.isascii():
        return None
    data = text.encode("ascii")
    return data if len(data.translate(None, _JSON_ESCAPED)) == len(data) else None


def _encode_json(body: Any) -> bytes:
    """JSON as httpx writes it for `json=`: compact, UTF-8, no NaN. Blocking: run it in a
    worker thread (`post_json` does).

    Strings of `_BIG` characters or more (base64 images) are left out of the dumps (a
    placeholder marks their place). One that needs no escaping, as base64 never does, is
    written as its ASCII bytes: a copy, instead of the encoder scanning megabytes character by
    character (about 4 ms a megabyte). Any other is escaped and encoded a slice of `_SLICE` at
    a time: a worker thread still holds the GIL while it encodes, and one `json.dumps` of a
    20 MB string would hold it for one long C call, stalling the window's thread. The bytes are
    the same as one `json.dumps` would give."""
    big: list[str] = []
    marker = f"\x00restyle-json-{uuid.uuid4().hex}-"

    def swap(value: Any) -> Any:
        if isinstance(value, str):
            if len(value) < _BIG:
                return value
            big.append(value)
            return f"{marker}{len(big) - 1}"
        if isinstance(value, Mapping):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [swap(v) for v in value]
        return value

    skeleton = _json.dumps(swap(body), ensure_ascii=False, separators=(",", ":"),
                           allow_nan=False)
    if not big:
        return skeleton.encode("utf-8")
    quoted_marker = _json.dumps(marker, ensure_ascii=False)[:-1]  # the opening quote kept
    parts: list[bytes] = []
    rest = skeleton
    for index, text in enumerate(big):
        placeholder = f"{quoted_marker}{index}\""
        head, found, rest = rest.partition(placeholder)
        if not found:  # cannot happen: every big string was swapped for its placeholder
            raise AssertionError("a JSON placeholder went missing")
        parts.append(head.encode("utf-8"))
        parts.append(b'"')
        plain = _plain_json_bytes(text)
        if plain is not None:
            parts.append(plain)
        else:
            for start in range(0, len(text), _SLICE):
                parts.append(_json.dumps(text[start:start + _SLICE],
                                         ensure_ascii=False)[1:-1].encode("utf-8"))
        parts.append(b'"')
    parts.append(rest.encode("utf-8"))
    return b"".join(parts)


def _parse_json(response: httpx.Response) -> tuple[bool, Any]:
    """(ok, value); an empty body is valid and parses to None."""
    if not response.content.strip():
        return True, None
    try:
        return True, _json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return False, None


def _says_credits(code: str | None, message: str | None, text: str) -> bool:
    blob = " ".join(p for p in (code, message) if p) or text[:2000]
    return bool(_CREDIT_WORDS.search(blob)) and not _RATE_WORDS.search(blob)


#: Paths an ApiClient remembers as URLs at most (a few per job followed at once).
_REMEMBERED_PATHS = 256


# -- the API client ---------------------------------------------------------------------------
class ApiClient(_HttpBase):
    """An HTTP client for one provider's API, applying the house HTTP policy.

    `max_retries` counts retries after the first attempt (4 -> at most 5 attempts).
    `extract_error(status, parsed_json_or_None, text)` returns the provider's (code, message)
    from an error body; `default_extract_error` handles the common shapes.
    """

    def __init__(
        self,
        provider_id: str,
        title: str,
        base_url: str | None,
        *,
        auth: Auth | None = None,
        timeouts: Timeouts | None = None,
        max_retries: int = 4,
        retry_after_ceiling: float = 120.0,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep | None = None,
        rng: random.Random | None = None,
        extract_error: ErrorExtractor | None = None,
        clock: Callable[[], float] = time.time,
        max_body_bytes: int = Limits().api_body_max_bytes,
        max_download_bytes: int = Limits().result_max_bytes,
    ) -> None:
        super().__init__(
            title=title, timeouts=timeouts or Timeouts(), max_retries=max_retries,
            retry_after_ceiling=retry_after_ceiling, transport=transport, sleep=sleep, rng=rng,
            clock=clock,
        )
        #: The largest API answer read (Limits.api_body_max_bytes); larger ones are refused.
        self.max_body_bytes = max_body_bytes
        #: The largest result file downloaded (Limits.result_max_bytes).
        self.max_download_bytes = max_download_bytes
        self.provider_id = provider_id
        self.base_url = (base_url or "").strip() or None
        self.auth = auth
        self._extract_error = extract_error or default_extract_error
        self._base: httpx.URL | None = None
        #: Paths turned into URLs (`url`), with the base they were made from.
        self._paths: dict[str, tuple[httpx.URL, httpx.URL]] = {}

    def __repr__(self) -> str:
        base = display_url(self.base_url) if self._valid_base() else self.base_url
        return f"ApiClient(provider={self.provider_id!r}, base_url={base!r}, auth={self.auth!r})"

    # URLs ------------------------------------------------------------------------------
    def _valid_base(self) -> bool:
        return self.base_url is not None and self.base_url.lower().startswith(
            ("http://", "https://")
        )

    def _require_base(self) -> httpx.URL:
        if self._base is not None:
            return self._base
        if not self.base_url:
            env = f"RESTYLE_{self.provider_id.upper()}_BASE_URL"
            raise ProviderError(
                ErrorCode.NOT_CONFIGURED,
                f"{self.title} needs a base URL: set it in Settings, with --base-url or {env}.",
            )
        bad = ProviderError(
            ErrorCode.NOT_CONFIGURED,
            f"The base URL of {self.title} must be a web address starting with http:// or "
            f"https:// (got {clip(self.base_url, 80)!r}).",
        )
        if not self._valid_base():
            raise bad
        try:
            base = httpx.URL(self.base_url)
        except httpx.InvalidURL:
            raise bad from None
        if not base.host:
            raise bad
        self._base = base
        return base

    def url(self, url_or_path: str) -> httpx.URL:
        """An absolute URL: absolute ones as given, paths appended to the base URL's path.
        Paths are remembered (httpx parses and checks every URL it builds, about 0.2 ms): a
        job's submit path and status path come back at every call and poll."""
        made = self._paths.get(url_or_path)
        if made is not None and made[0] is self._base:
            return made[1]
        if url_or_path.lower().startswith(("http://", "https://")):
            try:
                return httpx.URL(url_or_path)
            except httpx.InvalidURL:
                raise ProviderError(
                    ErrorCode.PROVIDER_UNAVAILABLE,
                    f"{self.title} gave an address that is not a valid URL: "
                    f"{clip(url_or_path, 80)!r}.",
                ) from None
        base = self._require_base()
        path = base.path.rstrip("/") + "/" + url_or_path.lstrip("/")
        if "?" in path:
            path, query = path.split("?", 1)
            url = base.copy_with(path=path, query=query.encode())
        else:
            url = base.copy_with(path=path, query=None)
        if len(self._paths) >= _REMEMBERED_PATHS:
            self._paths.pop(next(iter(self._paths)))
        self._paths[url_or_path] = (base, url)
        return url

    def same_origin(self, url: httpx.URL) -> bool:
        """True when `url` is on the base URL's scheme, host and port: only there is the key
        sent (result links often live on a CDN that must never see it)."""
        try:
            base = self._require_base()
        except ProviderError:
            return False
        return _origin(url) == _origin(base)

    def _auth_for_call(self, url: httpx.URL) -> AuthFor:
        """Per-call auth: the key is read once, now, before any network traffic (a missing key
        fails fast; a key changed in Settings applies to the next call), and sent only to the
        base URL's origin, redirects included."""
        cached: Mapping[str, str] | None = None

        def auth_for(target: httpx.URL) -> Mapping[str, str]:
            nonlocal cached
            if self.auth is None or not self.same_origin(target):
                return {}
            if cached is None:
                cached = self.auth.headers(provider_id=self.provider_id, title=self.title)
            return cached

        auth_for(url)
        return auth_for

    # requests --------------------------------------------------------------------------
    async def request(
        self,
        method: str,
        url_or_path: str,
        *,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Any = None,
        content: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        kind: Kind = "api",
        idempotency_key: str | None = None,
        expect_json: bool = True,
        max_retries: int | None = None,
    ) -> httpx.Response:
        """Send a request under the retry policy and return the 2xx response (body read).

        Files must be given as bytes (`{"image": ("a.png", data, "image/png")}`), not open
        file objects, so a retry can send them again. Raises ProviderError for everything else.
        """
        method = method.upper()
        self._require_base()
        url = self.url(url_or_path)
        if params:
            # httpx 0.28 replaces a URL's query with `params`; merge them instead.
            url = url.copy_merge_params(dict(params))
        self.timeouts.for_kind(kind)  # reject an unknown kind before any traffic
        auth_for = self._auth_for_call(url)
        extra: dict[str, str] = {}
        if expect_json:
            extra["Accept"] = "application/json"
        if idempotency_key:
            extra["Idempotency-Key"] = idempotency_key
        extra.update(headers or {})
        idempotent = method in IDEMPOTENT_METHODS
        repeatable = idempotent or bool(idempotency_key)
        if json is not None and content is None:
            # Encoded once, in a worker thread, and the same bytes sent on every attempt.
            content = await asyncio.to_thread(_encode_json, json)
            json = None
            if not any(k.lower() == "content-type" for k in extra):
                extra["Content-Type"] = "application/json"
        body = {"json": json, "data": data, "files": files, "content": content}

        async def attempt(number: int) -> httpx.Response | _Failure:
            try:
                response = await self._send(method, url, kind=kind, headers=extra, stream=True,
                                            attempt=number, auth_for=auth_for, **body)
            except httpx.HTTPError as exc:
                return self._transport_failure(exc, url, kind, idempotent, repeatable)
            try:
                await self._read_body(response)
            except _Truncated as cut:
                if isinstance(cut.cause, httpx.HTTPError):
                    return self._transport_failure(cut.cause, url, kind, idempotent, repeatable)
                return self._transport_failure(
                    httpx.RemoteProtocolError("the answer was shorter than announced"), url,
                    kind, idempotent, repeatable)
            finally:
                await response.aclose()
            if response.is_success:
                if expect_json and not _parse_json(response)[0]:
                    error = self._malformed(response)
                    if not idempotent:
                        # A 2xx to a POST: the job was very likely created, its id unreadable.
                        error = error.rephrased(
                            error.code,
                            f"{self.title} answered {_reason(response.status_code)} but the "
                            "answer could not be read; it may have created the job. Check your "
                            f"{self.title} account before sending it again.")
                        error.unknown_outcome = True
                    raise error
                return response
            return self._status_failure(response, url, idempotent, repeatable)

        return await self._with_retries(attempt, max_retries)

    async def _read_body(self, response: httpx.Response) -> None:
        """Read a streamed answer into `response` (so .content, .text and .json() work), at
        most `max_body_bytes` of it: a huge or endless answer is refused, not held in memory."""
        try:
            data = await self._read_limited(response, self.max_body_bytes)
        except _BodyTooLarge as big:
            size = f" ({human_bytes(big.size)})" if big.size is not None else ""
            raise ProviderError(
                ErrorCode.PROVIDER_UNAVAILABLE,
                f"{self.title} sent an answer larger than {human_bytes(self.max_body_bytes)}"
                f"{size}; Restyle does not read it (the limit is "
                f"{setting_name('api_body_max_bytes')} in settings.json).",
                http_status=response.status_code,
            ) from None
        # httpx keeps a read body here; reading it again from the closed stream is not possible.
        response._content = data

    def expect_object(self, body: Any, what: str) -> dict[str, Any]:
        """`body` as a dict; otherwise PROVIDER_UNAVAILABLE saying `what` was not an object."""
        if not isinstance(body, Mapping):
            raise ProviderError(
                ErrorCode.PROVIDER_UNAVAILABLE,
                f"{self.title} sent {what} that is not a JSON object; try again later.",
            )
        return dict(body)

    async def get_json(self, path: str, **kw: Any) -> Any:
        """GET and return the parsed JSON body (None for an empty one)."""
        return _parse_json(await self.request("GET", path, **kw))[1]

    async def post_json(self, path: str, body: Any, **kw: Any) -> Any:
        """POST `body` as JSON and return the parsed JSON answer (None for an empty one).

        The body is encoded once, in a worker thread and in slices (`_encode_json`): with
        base64 images inside it is megabytes, and encoding it on the event loop, or in one
        long call holding the GIL, would stall the window for tens of milliseconds.
        """
        content = await asyncio.to_thread(_encode_json, body)
        headers = {"Content-Type": "application/json", **(kw.pop("headers", None) or {})}
        return _parse_json(await self.request("POST", path, content=content, headers=headers,
                                              **kw))[1]

    async def delete(self, path: str, **kw: Any) -> Any:
        """DELETE; returns the parsed JSON answer when there is one, else None."""
        kw.setdefault("expect_json", False)
        ok, value = _parse_json(await self.request("DELETE", path, **kw))
        return value if ok else None

    async def download(
        self, url: str, *, max_bytes: int | None = None
    ) -> tuple[bytes, str | None]:
        """Fetch a result into memory: (bytes, media type without parameters, or None).

        For small files (a before image); results go to a file with `download_into`, which
        this calls with a MemorySink, so the policy below is the same for both."""
        sink = MemorySink()
        media = await self.download_into(url, sink, max_bytes=max_bytes)
        return sink.getvalue(), media

    async def download_into(self, url: str, sink: ResultSink, *, max_bytes: int | None = None
                            ) -> str | None:
        """Download a result into `sink` and return its media type (None when not given).

        `url` is usually absolute and often on another host (a CDN): the key goes only to the
        base URL's origin. Retries connection failures, 408/429/5xx and bodies cut short (the
        sink is reset for each attempt that gets an answer). 403/404/410 mean the link has
        expired: RESULT_UNAVAILABLE, not retried. Over `max_bytes` (default
        `max_download_bytes`): ResultRefused.

        Each attempt runs on a blocking client in a worker thread: the body goes from the
        socket to the sink chunk by chunk, so a 40 MB result costs the event loop nothing but
        the start and the end, and is never held in memory. A transport that only works on an
        event loop (httpx.ASGITransport, in tests) is read on the loop instead.
        """
        target = self.url(url)
        auth_for = self._auth_for_call(target)
        accept = {"Accept": "*/*"}
        limit = self.max_download_bytes if max_bytes is None else max_bytes
        client = self._sync_client()

        def blocking_attempt(number: int, transfer: _Transfer) -> str | _Failure | None:
            assert client is not None
            try:
                response = self._send_blocking(client, target, headers=accept, attempt=number,
                                               auth_for=auth_for)
            except httpx.HTTPError as exc:
                return self._transport_failure(exc, target, "download", True, True)
            try:
                transfer.attach(response)
                if not response.is_success:
                    try:
                        response.read()
                    except httpx.HTTPError as exc:
                        return self._transport_failure(exc, target, "download", True, True)
                    return self._download_status_failure(response, target)
                sink.reset()
                try:
                    self._stream_blocking(response, limit, sink, transfer)
                except (_BodyTooLarge, _Truncated) as exc:
                    return self._download_body_failure(exc, response, target, limit)
                return _media_type(response)
            finally:
                response.close()

        async def loop_attempt(number: int) -> str | _Failure | None:
            try:
                response = await self._send("GET", target, kind="download", headers=accept,
                                            stream=True, attempt=number, auth_for=auth_for)
            except httpx.HTTPError as exc:
                return self._transport_failure(exc, target, "download", True, True)
            try:
                if not response.is_success:
                    try:
                        await response.aread()
                    except httpx.HTTPError as exc:
                        return self._transport_failure(exc, target, "download", True, True)
                    return self._download_status_failure(response, target)
                sink.reset()
                try:
                    await self._read_limited(response, limit, sink)
                except (_BodyTooLarge, _Truncated) as exc:
                    return self._download_body_failure(exc, response, target, limit)
                return _media_type(response)
            finally:
                await response.aclose()

        async def attempt(number: int) -> str | _Failure | None:
            if client is None:
                return await loop_attempt(number)
            return await _run_blocking(functools.partial(blocking_attempt, number))

        return await self._with_retries(attempt)

    def _download_body_failure(self, exc: _BodyTooLarge | _Truncated, response: httpx.Response,
                               target: httpx.URL, limit: int) -> _Failure:
        """A result body over the limit (ResultRefused, raised) or cut short (retried)."""
        if isinstance(exc, _BodyTooLarge):
            raise ResultRefused(
                ErrorCode.RESULT_UNAVAILABLE,
                f"The result at {display_url(target)} is larger than the "
                f"{human_bytes(limit)} Restyle downloads "
                f"({setting_name('result_max_bytes')} in settings.json).",
                http_status=response.status_code,
            ) from None
        of = f" of {exc.expected}" if exc.expected is not None else ""
        return _Failure(
            ProviderError(
                ErrorCode.RESULT_UNAVAILABLE,
                f"The download of the result from {_host_port(target)} kept "
                f"breaking off (got {exc.received}{of} bytes); try again later.",
                http_status=response.status_code,
            ),
            retryable=True,
            cause=exc.cause,
        )

    # failure mapping -------------------------------------------------------------------
    def _malformed(self, response: httpx.Response) -> ProviderError:
        text = response.text
        if _looks_like_html(response, text):
            what = "an HTML page instead of JSON"
            hint = f"check the base URL ({display_url(self._require_base())})."
        else:
            what = "not valid JSON"
            hint = "the service may have changed or be having trouble; try again later."
        return ProviderError(
            ErrorCode.PROVIDER_UNAVAILABLE,
            f"{self.title} sent a malformed answer ({_reason(response.status_code)}, {what}); "
            f"{hint}",
            http_status=response.status_code,
        )

    def _transport_failure(
        self, exc: httpx.HTTPError, url: httpx.URL, kind: Kind, idempotent: bool,
        repeatable: bool,
    ) -> _Failure:
        timeout = self.timeouts.for_kind(kind)
        where = _host_port(url)
        if isinstance(exc, httpx.PoolTimeout):
            return _Failure(ProviderError(
                ErrorCode.NETWORK,
                f"Too many requests to {self.title} at once: no connection became free within "
                f"{_seconds(timeout.pool)}; try again.",
            ), retryable=True, cause=exc)
        if isinstance(exc, _NEVER_SENT):
            clause = self._connect_clause(exc, timeout)
            return _Failure(ProviderError(
                ErrorCode.NETWORK,
                f"Could not connect to {where}: {clause}. Check the base URL and your network.",
            ), retryable=not _final_connect_error(exc), cause=exc)
        if isinstance(exc, _UNKNOWN):
            timed_out = isinstance(exc, (httpx.ReadTimeout, httpx.WriteTimeout))
            if not idempotent:
                # POST/PATCH: the service may have created the job; a blind retry could create
                # and bill a second one. An idempotency key makes the retry safe.
                what = ("did not answer in time" if timed_out
                        else "closed the connection before answering")
                unknown = ProviderError(
                    ErrorCode.NETWORK,
                    f"{self.title} {what}; the job may or may not have been created. Look at "
                    f"your {self.title} account before submitting it again.",
                    unknown_outcome=True,
                )
                return _Failure(unknown, retryable=repeatable, cause=exc)
            if isinstance(exc, httpx.ReadTimeout):
                message = (f"{self.title} did not answer within {_seconds(timeout.read)} "
                           f"({where}); try again later.")
            elif isinstance(exc, httpx.WriteTimeout):
                message = (f"Sending to {self.title} stalled for {_seconds(timeout.write)} "
                           f"({where}); check your network and try again.")
            else:
                message = (f"The connection to {where} broke off before {self.title} answered; "
                           "try again later.")
            return _Failure(ProviderError(ErrorCode.NETWORK, message), retryable=True, cause=exc)
        if isinstance(exc, httpx.UnsupportedProtocol):
            return _Failure(ProviderError(
                ErrorCode.NOT_CONFIGURED,
                f"Cannot reach {display_url(url)}: the address must start with http:// or "
                "https://.",
            ), retryable=False, cause=exc)
        if isinstance(exc, httpx.DecodingError):
            return _Failure(ProviderError(
                ErrorCode.PROVIDER_UNAVAILABLE,
                f"{self.title} sent an answer that could not be decoded; try again later.",
            ), retryable=idempotent, cause=exc)
        reason = clip(str(exc), 120) or type(exc).__name__
        return _Failure(ProviderError(
            ErrorCode.NETWORK, f"Talking to {self.title} ({where}) failed: {reason}.",
        ), retryable=False, cause=exc)

    def _provider_details(self, response: httpx.Response
                          ) -> tuple[str | None, str | None, bool, str]:
        """(provider code, provider message, body is a page, raw text) of an error answer."""
        text = response.text
        ok, body = _parse_json(response)
        if not ok:
            body = None
        try:
            code, message = self._extract_error(response.status_code, body, text)
        except Exception:  # a provider hook must not hide the real error
            log.exception("extract_error failed for %s", self.provider_id)
            code, message = None, None
        page = body is None and bool(text.strip()) and _looks_like_html(response, text)
        if body is None and not page and message is None and text.strip():
            message = text  # a short plain-text error, e.g. "upstream connect error"
        if body is not None:
            log.debug("error body: %s", clip(_json.dumps(redact_mapping(body), default=str), 500))
        elif text:
            log.debug("error body (%s): %s", "page" if page else "text", clip(text, 300))
        return (clip(code, 64) if code else None, clip(message) if message else None, page, text)

    def map_status(self, response: httpx.Response, *, retry_after: float | None = None
                   ) -> ProviderError:
        """The ProviderError for a non-2xx answer (see the table in the module docstring)."""
        status = response.status_code
        pcode, pmsg, page, text = self._provider_details(response)
        title = self.title
        detail = _reason(status) + (f": {_sentence(pmsg)}" if pmsg else "")
        kw: dict[str, Any] = {"provider_code": pcode, "http_status": status}
        if status == 402 or (status in (403, 429) and _says_credits(pcode, pmsg, text)):
            return ProviderError(
                ErrorCode.INSUFFICIENT_CREDITS,
                f"{title} says the account is out of credits ({detail}). Top up the account, "
                "then try again.", **kw,
            )
        if status == 401:
            return ProviderError(
                ErrorCode.AUTH_FAILED,
                f"{title} rejected the API key (HTTP 401"
                + (f": {_sentence(pmsg)}" if pmsg else "") + "). Check the key in Settings.",
                **kw,
            )
        if status == 403:
            return ProviderError(
                ErrorCode.FORBIDDEN,
                f"{title} refused the request ({detail}). The key may not have access to this "
                "feature or plan.", **kw,
            )
        if status == 429:
            when = (f"in {human_duration(retry_after)}" if retry_after is not None
                    else "in a moment")
            return ProviderError(
                ErrorCode.RATE_LIMITED,
                f"{title} is limiting the request rate ({detail}); try again {when}.",
                retry_after=retry_after, **kw,
            )
        if page:
            base = display_url(self._base) if self._base is not None else "the base URL"
            hint = ("the service may be down, try again later." if status >= 500
                    else f"check the base URL ({base}).")
            code = _status_code(status)
            return ProviderError(
                code,
                f"{title} answered with an unexpected page ({_reason(status)}); {hint}",
                retry_after=retry_after, **kw,
            )
        if 300 <= status < 400:
            target = response.headers.get("location")
            to = f" to {display_url(response.url.join(target))}" if target else ""
            return ProviderError(
                ErrorCode.NOT_CONFIGURED,
                f"{title} answered with a redirect{to} ({_reason(status)}); check the base URL "
                "(http:// or https://?).", **kw,
            )
        code = _status_code(status)
        sentences = {
            ErrorCode.INVALID_INPUT: f"{title} rejected the request ({detail}).",
            ErrorCode.NOT_FOUND: f"{title} could not find what was asked for ({detail}).",
            ErrorCode.CONFLICT: f"{title} reported a conflict ({detail}).",
            ErrorCode.NETWORK: f"{title} did not receive the request in time ({detail}); "
                               "check your network and try again.",
            ErrorCode.PROVIDER_UNAVAILABLE: f"{title} is having trouble ({detail}); try again "
                                            "later.",
        }
        return ProviderError(code, sentences[code], retry_after=retry_after, **kw)

    def _status_failure(self, response: httpx.Response, url: httpx.URL, idempotent: bool,
                        repeatable: bool) -> _Failure:
        status = response.status_code
        wait = parse_retry_after(response.headers, now=self._clock())
        error = self.map_status(response, retry_after=wait)
        if error.code == ErrorCode.INSUFFICIENT_CREDITS:
            return _Failure(error, retryable=False, wait=wait)
        retryable = status in (RETRY_STATUSES if repeatable else REJECTED_STATUSES)
        if not idempotent and status >= 500 and status not in REJECTED_STATUSES:
            # A 500/502/504 after a POST was received does not prove nothing was created:
            # never "try again later", which would invite a second paid job.
            error = error.rephrased(
                error.code,
                f"{self.title} answered {_reason(status)} after receiving the request; it may "
                f"have created the job. Check your {self.title} account before sending it "
                "again.")
            error.unknown_outcome = True
        return _Failure(error, retryable=retryable, wait=wait)

    def _download_status_failure(self, response: httpx.Response, url: httpx.URL) -> _Failure:
        status = response.status_code
        foreign = not self.same_origin(url)
        if status in RESULT_GONE_STATUSES or (status == 401 and foreign):
            pcode = self._provider_details(response)[0]
            return _Failure(ProviderError(
                ErrorCode.RESULT_UNAVAILABLE,
                f"The result link has expired or was removed ({_reason(status)}).",
                provider_code=pcode, http_status=status,
            ), retryable=False)
        return self._status_failure(response, url, True, True)


def _status_code(status: int) -> ErrorCode:
    if status == 404:
        return ErrorCode.NOT_FOUND
    if status == 409:
        return ErrorCode.CONFLICT
    if status == 408:
        return ErrorCode.NETWORK
    if status >= 500:
        return ErrorCode.PROVIDER_UNAVAILABLE
    if 400 <= status < 500:
        return ErrorCode.INVALID_INPUT
    return ErrorCode.PROVIDER_UNAVAILABLE


# -- user-given input URLs --------------------------------------------------------------------
class UrlSourceLoader(_HttpBase):
    """Downloads an input image the user named by URL (SRC on the command line).

    No key is ever sent. Retries what is safe for a GET; 4xx, pages and oversized files fail
    with INVALID_INPUT, network trouble with NETWORK.
    """

    def __init__(
        self,
        *,
        limits: Limits | None = None,
        max_bytes: int | None = None,
        timeouts: Timeouts | None = None,
        max_retries: int = 3,
        retry_after_ceiling: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            title="The server", timeouts=timeouts or Timeouts(), max_retries=max_retries,
            retry_after_ceiling=retry_after_ceiling, transport=transport, sleep=sleep, rng=rng,
            clock=clock,
        )
        #: The input limits: size (`url_input_max_bytes`, or `max_bytes` when given) and total
        #: time (`url_input_timeout_s`); the engine's Preparer borrows them too.
        self.limits = limits or Limits()
        self.max_bytes = self.limits.url_input_max_bytes if max_bytes is None else max_bytes

    def __repr__(self) -> str:
        return f"UrlSourceLoader(max_bytes={self.max_bytes})"

    async def __call__(self, url: str) -> bytes:
        """The bytes at `url`, within the size limit and the total time limit (retries and a
        server that sends a byte now and then included)."""
        total = self.limits.url_input_timeout_s
        try:
            async with asyncio.timeout(total):
                return await self._download(url)
        except TimeoutError:
            raise ProviderError(
                ErrorCode.NETWORK,
                f"Could not download {display_url(url) if _parsable(url) else clip(url, 100)}: "
                f"it took longer than {human_duration(total)} in all "
                f"({setting_name('url_input_timeout_s')} in settings.json); try again later, or "
                "save the image and give the file.",
            ) from None

    async def _download(self, url: str) -> bytes:
        try:
            if not url.lower().startswith(("http://", "https://")):
                raise httpx.InvalidURL("not http(s)")
            target = httpx.URL(url)
            if not target.host:
                raise httpx.InvalidURL("no host")
        except httpx.InvalidURL:
            raise ProviderError(
                ErrorCode.INVALID_INPUT,
                f"Could not download {clip(redact_url(url), 100)}: it is not a valid http(s) "
                "address.",
            ) from None
        shown = display_url(target)

        def fail(code: ErrorCode, why: str, *, retryable: bool = False,
                 cause: BaseException | None = None, status: int | None = None,
                 wait: float | None = None) -> _Failure:
            return _Failure(
                ProviderError(code, f"Could not download {shown}: {why}", http_status=status,
                              retry_after=wait),
                retryable=retryable, cause=cause, wait=wait,
            )

        async def attempt(number: int) -> bytes | _Failure:
            timeout = self.timeouts.for_kind("download")
            try:
                response = await self._send("GET", target, kind="download",
                                            headers={"Accept": "image/*, */*;q=0.5"},
                                            stream=True, attempt=number)
            except httpx.HTTPError as exc:
                if isinstance(exc, _NEVER_SENT):
                    clause = self._connect_clause(exc, timeout)
                    return fail(ErrorCode.NETWORK,
                                f"could not connect to {_host_port(target)} ({clause}).",
                                retryable=not _final_connect_error(exc), cause=exc)
                if isinstance(exc, httpx.ReadTimeout):
                    return fail(ErrorCode.NETWORK,
                                f"no answer within {_seconds(timeout.read)}; try again later.",
                                retryable=True, cause=exc)
                if isinstance(exc, _UNKNOWN):
                    return fail(ErrorCode.NETWORK, "the connection broke off; try again later.",
                                retryable=True, cause=exc)
                return fail(ErrorCode.NETWORK, f"{clip(str(exc), 120) or type(exc).__name__}.",
                            cause=exc)
            try:
                status = response.status_code
                if not response.is_success:
                    wait = parse_retry_after(response.headers, now=self._clock())
                    retryable = status in RETRY_STATUSES
                    if retryable and wait is not None and wait > self.retry_after_ceiling:
                        return fail(ErrorCode.NETWORK,
                                    f"the server asks to wait {human_duration(wait)}; try "
                                    "again later.", status=status, wait=wait)
                    code = ErrorCode.NETWORK if retryable else ErrorCode.INVALID_INPUT
                    tail = "; try again later." if retryable else "."
                    return fail(code, f"{_reason(status)}{tail}", retryable=retryable,
                                status=status, wait=wait)
                ctype = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
                if ctype.startswith("text/") or _JSON_TYPES.search(ctype) or ctype in (
                    "application/xml", "application/xhtml+xml", "application/javascript",
                ):
                    return fail(ErrorCode.INVALID_INPUT,
                                f"it is a {ctype} document, not an image.", status=status)
                try:
                    return await self._read_limited(response, self.max_bytes)
                except _BodyTooLarge:
                    return fail(ErrorCode.INVALID_INPUT,
                                f"it is larger than {human_bytes(self.max_bytes)}.",
                                status=status)
                except _Truncated as cut:
                    return fail(ErrorCode.NETWORK,
                                "the download kept breaking off; try again later.",
                                retryable=True, cause=cut.cause, status=status)
            finally:
                await response.aclose()

        return await self._with_retries(attempt)


def _parsable(url: str) -> bool:
    try:
        httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return False
    return True
