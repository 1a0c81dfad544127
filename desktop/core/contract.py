"""The contract every provider implements, and the data that crosses it.

It lives in core because the engine drives it and imports flow `ui -> core <- providers`;
provider modules import it through `desktop.providers.base`.

The engine prepares inputs (validated, normalised, encoded once), calls `submit`, persists the
returned `RemoteRef`, then calls `poll` until a terminal `RemoteStatus`, and fetches every
output into a `ResultSink` (`fetch_into`: a temporary file in the asset store, hashed as it is
written, so a large result never crosses the event loop or sits in memory whole). A provider
never sees the history store or Qt.
"""

from __future__ import annotations

import asyncio
import base64
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, Self

from desktop.core.limits import Limits
from desktop.core.model import ErrorCode, OutputKind, TaskSpec
from desktop.core.redaction import redact_text


class ResultSink(Protocol):
    """Where a downloaded result goes (`Provider.fetch_into`), written chunk by chunk.

    Writes are blocking (a file): they happen in a worker thread, never on the event loop. A
    download that starts over (a retry, a re-signed link) calls `reset` first."""

    @property
    def size(self) -> int:
        """Bytes written since the last reset."""

    def write(self, chunk: bytes) -> None:
        """Append `chunk`."""

    def reset(self) -> None:
        """Forget everything written so far."""


class MemorySink:
    """A ResultSink in memory, for callers that want the bytes (`fetch`, small downloads)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._size = 0

    @property
    def size(self) -> int:
        return self._size

    def write(self, chunk: bytes) -> None:
        self._chunks.append(bytes(chunk))
        self._size += len(chunk)

    def reset(self) -> None:
        self._chunks.clear()
        self._size = 0

    def getvalue(self) -> bytes:
        """The bytes written, joined once (the chunks are then dropped)."""
        data = self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)
        self._chunks = [data] if data else []
        return data


def deliver(sink: ResultSink, data: bytes) -> None:
    """Write bytes already in memory (an inline result) into `sink` from the start."""
    sink.reset()
    if data:
        sink.write(data)


class ProviderError(Exception):
    """A failure mapped into the common taxonomy, with the provider's own code kept.

    `message` is a sentence for the user (what failed, why, what to do); it never contains a key:
    adapters quote providers' own words through `clip`, and the message and provider code are
    redacted here once more, so no adapter can hand a key or a signed link to a log line, the
    history or the screen by forgetting to.
    `retry_after` is the provider's requested wait in seconds, when it gave one.
    `unknown_outcome` is True when a request may have reached the provider and had an effect
    we could not observe (read timeout, dropped connection after sending).
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        provider_code: str | None = None,
        http_status: int | None = None,
        retry_after: float | None = None,
        unknown_outcome: bool = False,
    ) -> None:
        message = redact_text(message)
        super().__init__(message)
        self.code = code
        self.message = message
        self.provider_code = redact_text(provider_code) if provider_code else provider_code
        self.http_status = http_status
        self.retry_after = retry_after
        self.unknown_outcome = unknown_outcome

    def rephrased(self, code: ErrorCode, message: str) -> ProviderError:
        """The same failure told better: a provider's own sentence (and, where it knows more,
        a sharper code), keeping the provider's code, HTTP status, Retry-After and outcome."""
        return ProviderError(code, message, provider_code=self.provider_code,
                             http_status=self.http_status, retry_after=self.retry_after,
                             unknown_outcome=self.unknown_outcome)

    def __repr__(self) -> str:
        return (
            f"ProviderError({self.code!s}, {self.message!r}, provider_code={self.provider_code!r},"
            f" http_status={self.http_status!r})"
        )


class ResultRefused(ProviderError):
    """A result Restyle will not take as it is set up (over a size limit): downloading it
    again cannot help, changing the setting the sentence names can."""


class KeyUnavailable(Exception):
    """A provider's key exists, perhaps, but cannot be read now (a locked keyring, one that
    does not answer). Raised by a `ProviderConfig.key_source`; the message is a sentence for
    the user saying what to do. Providers turn it into ProviderError(MISSING_KEY), so a job
    waits for the key instead of failing."""


@dataclass(frozen=True)
class InputLimits:
    """What a provider accepts; the engine downscales and re-encodes inputs to fit."""

    max_side: int = 4096
    max_bytes: int = 10 * 1024 * 1024
    min_side: int = 64
    #: Encodings the provider accepts, in order of preference.
    formats: tuple[str, ...] = ("image/jpeg", "image/png")


#: Bytes encoded by one base64 call (a multiple of 3, so the pieces join into one encoding).
#: One call holds the GIL throughout: 3 MB took 12 ms on 2 shared cores, a stall of the
#: window's thread while a worker prepares a request; 192 KB pieces hold it about 0.5 ms.
BASE64_PIECE = 3 << 16


def base64_text(data: bytes, piece: int = BASE64_PIECE) -> str:
    """`base64.b64encode(data).decode("ascii")`, encoded a piece at a time so that other
    threads (the window's) get the GIL between pieces."""
    if len(data) <= piece:
        return base64.b64encode(data).decode("ascii")
    view = memoryview(data)
    return "".join(base64.b64encode(view[start:start + piece]).decode("ascii")
                   for start in range(0, len(data), piece))


class Base64Text(str):
    """Text made by base64-encoding bytes here, so it holds only `A-Z a-z 0-9 + / =`: a JSON
    encoder may write it as it is, without scanning megabytes for characters to escape
    (desktop/providers/http.py `_encode_json`). Anything made from it (a slice, a join) is a
    plain str again."""

    __slots__ = ()


class Base64Memo:
    """The base64 text of recently sent bytes objects, by identity, bounded by its size.

    The engine's input cache hands every job that sends the same photo the same bytes object,
    so its base64 (megabytes for a large photo) is computed once, not once per job and
    attempt. An entry holds a reference to its bytes object, so that object's id cannot be
    reused by other bytes while the entry lives; bytes are immutable, so the text stays right.
    Thread-safe: providers encode in worker threads."""

    def __init__(self, max_chars: int = 16 << 20) -> None:
        self.max_chars = max_chars
        self._lock = threading.Lock()
        self._entries: dict[int, tuple[bytes, Base64Text]] = {}
        self._chars = 0

    def encode(self, data: bytes) -> Base64Text:
        key = id(data)
        with self._lock:
            found = self._entries.pop(key, None)
            if found is not None and found[0] is data:
                self._entries[key] = found  # most recently used last
                return found[1]
            if found is not None:  # cannot happen while the entry pins its bytes
                self._chars -= len(found[1])
        text = Base64Text(base64_text(data))
        if len(text) > self.max_chars:
            return text
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._chars -= len(old[1])
            self._entries[key] = (data, text)
            self._chars += len(text)
            while self._chars > self.max_chars:
                oldest = next(iter(self._entries))
                self._chars -= len(self._entries.pop(oldest)[1])
        return text

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._chars = 0


#: The one memo every PreparedInput.base64() uses.
BASE64_MEMO = Base64Memo()


@dataclass(frozen=True)
class PreparedInput:
    """An input image after validation and normalisation: the exact bytes to send."""

    role: str
    data: bytes
    mime: str
    width: int
    height: int
    sha256: str
    #: The http(s) URL the user gave, if any (some providers prefer a public URL to bytes).
    source_url: str | None = None
    filename: str = "image"

    def base64(self) -> str:
        """The data as base64 text, computed once per bytes object (`BASE64_MEMO`): every
        job that sends the same prepared photo shares one encoding."""
        return BASE64_MEMO.encode(self.data)

    def data_uri(self) -> str:
        return f"data:{self.mime};base64,{self.base64()}"


@dataclass(frozen=True)
class PreparedJob:
    """Everything a provider needs to submit one job."""

    job_id: str
    task: str
    inputs: dict[str, list[PreparedInput]]
    params: dict[str, Any]

    def first(self, role: str) -> PreparedInput:
        return self.inputs[role][0]


@dataclass(frozen=True)
class RemoteRef:
    """What `submit` returns: the provider's id for the job and anything needed to poll it."""

    remote_id: str
    data: dict[str, Any] = field(default_factory=dict)
    cost_credits: float | None = None


class RemoteState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in (RemoteState.SUCCEEDED, RemoteState.FAILED, RemoteState.CANCELLED)


@dataclass(frozen=True)
class RemoteOutput:
    """A result as the provider hands it out: a URL to download, or bytes already in hand."""

    url: str | None = None
    data: bytes | None = None
    mime: str | None = None
    kind: OutputKind = OutputKind.IMAGE
    label: str = ""
    #: Provider-specific fields fetch() may need (never secrets).
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RemoteStatus:
    state: RemoteState
    progress: float | None = None
    outputs: tuple[RemoteOutput, ...] = ()
    error: ProviderError | None = None
    #: Seconds the provider suggests before the next poll (Retry-After, an eta, ...).
    poll_after: float | None = None
    cost_credits: float | None = None
    #: A line for the user; often the provider's own words, so it is redacted on the way in.
    message: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", redact_text(self.message))


@dataclass(frozen=True)
class AccountInfo:
    """The account as the provider reports it; fields it does not report stay None."""

    provider: str
    credits: float | None = None
    plan: str | None = None
    limits: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    purchase_url: str | None = None
    message: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", redact_text(self.message))

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "credits": self.credits,
            "plan": self.plan,
            "limits": self.limits,
            "details": self.details,
            "purchase_url": self.purchase_url,
            "message": self.message,
        }


@dataclass(frozen=True)
class TaskVariant:
    """A named variant of a task that the service itself defines (a VistoureAI saved
    workflow): run it as task `task_id` with `params[param] = value`; `Provider.variant_task`
    describes its inputs and parameters."""

    task_id: str
    value: str
    title: str
    param: str


@dataclass(frozen=True)
class ProviderConfig:
    """How the application configures a provider instance. The key is read through a callable
    at request time so it is never held in a repr or copied into settings."""

    base_url: str | None = None
    key_source: Callable[[], str | None] = lambda: None
    extra: dict[str, Any] = field(default_factory=dict)
    #: Size and time limits from settings (the API answer cap reaches the HTTP client).
    limits: Limits = field(default_factory=Limits)


class Provider(ABC):
    """A generative image service, local or remote.

    Class attributes describe it as data; the async methods do the work. Optional operations
    (`cancel`, `delete`, `account`, `list_remote`, `reconcile`) say whether they exist through
    the `supports_*` flags so callers can offer them or not without trying.
    """

    id: str = ""
    title: str = ""
    #: False for the offline provider: no API key is ever asked for.
    needs_key: bool = True
    #: True when a base URL must be configured before the provider can be used.
    needs_base_url: bool = False
    default_base_url: str | None = None
    #: Seconds between polls before any slowdown.
    poll_interval: float = 2.0
    limits: InputLimits = InputLimits()
    supports_cancel: bool = False
    supports_account: bool = False
    supports_reconcile: bool = False
    #: True when the provider takes a public URL in place of uploaded bytes.
    accepts_urls: bool = False
    #: True when submitting the same job twice costs nothing and creates no duplicate
    #: (the offline provider): a job it forgot across a restart is simply run again.
    resubmit_safe: bool = False

    @classmethod
    def from_config(cls, config: ProviderConfig) -> Self:
        """Build an instance from the application's settings; remote providers override."""
        return cls()

    @property
    def account_url(self) -> str | None:
        """Where a user can look at their jobs and charges on the provider's site, when known:
        named in sentences about jobs whose submit may or may not have landed."""
        return None

    @property
    @abstractmethod
    def tasks(self) -> tuple[TaskSpec, ...]:
        """The tasks this provider can run."""

    def task(self, task_id: str) -> TaskSpec | None:
        return next((t for t in self.tasks if t.id == task_id), None)

    @abstractmethod
    async def submit(self, job: PreparedJob) -> RemoteRef:
        """Start the job. Must not be retried by the caller: retries are the provider's own."""

    @abstractmethod
    async def poll(self, ref: RemoteRef) -> RemoteStatus:
        """Report the job's state. Safe to call any number of times."""

    @abstractmethod
    async def fetch(self, output: RemoteOutput) -> bytes:
        """Return the bytes of one output (downloading it if needed)."""

    async def fetch_into(self, output: RemoteOutput, sink: ResultSink) -> None:
        """Write the bytes of one output into `sink` (the engine's way to collect a result).

        Remote providers stream the download into the sink from a worker thread
        (`ApiClient.download_into`); this default fetches the whole output, then writes it
        in a worker thread (the sink's writes are blocking file I/O)."""
        data = await self.fetch(output)
        await asyncio.to_thread(deliver, sink, data)

    async def cancel(self, ref: RemoteRef) -> None:
        raise ProviderError(ErrorCode.INVALID_INPUT, f"{self.title} cannot cancel a job.")

    async def account(self) -> AccountInfo:
        raise ProviderError(ErrorCode.INVALID_INPUT, f"{self.title} has no account to show.")

    async def check(  # noqa: B027 - optional hook, every parameter is acceptable by default
        self, task: TaskSpec, params: dict[str, Any], inputs: dict[str, list[PreparedInput]]
    ) -> None:
        """Reject what this provider cannot run before anything is stored or sent.

        The engine calls this once `task.validate` has coerced `params` (defaults filled in)
        and every input is read and normalised (`inputs`, so points can be checked against
        image sizes). Rules that are not data on the TaskSpec go here: values that are valid
        alone but not together, limits the service documents, a workflow's own inputs. Raise
        InvalidInput with a sentence naming the parameter and what is allowed. It may read
        from the service (GET) but never create anything there; when such a read fails for
        a reason other than the parameter (network, key), let `submit` report it. The
        default accepts everything."""

    async def image_params(self, task: TaskSpec, params: Mapping[str, Any]) -> dict[str, str]:
        """Which of `params` carry an image, as {parameter name: input role}.

        The engine reads a local file path or http(s) address given in such a parameter as
        that role's input (decoded, checked against the limits, stored with the job) and
        drops the parameter, so a path is never sent as text; inline data the service takes
        as it is (base64, a data: URI) stays a parameter. Called before `task.validate`. It
        may read from the service (a saved workflow's manifest); when that read fails, it
        returns what it knows and `submit` reports the failure. None by default."""
        return {}

    def estimate_cost(self, task: str, params: dict[str, Any]) -> float | None:
        """Credits a run of `task` with `params` will cost, when the provider says so."""
        return None

    async def task_variants(self) -> list[TaskVariant]:
        """Variants discovered from the service (saved workflows); none by default."""
        return []

    async def variant_task(self, variant: TaskVariant) -> TaskSpec:
        """The TaskSpec of one variant, its parameters built from the service's description."""
        task = self.task(variant.task_id)
        if task is None:
            raise ProviderError(ErrorCode.INVALID_INPUT,
                                f"{self.title} has no task '{variant.task_id}'.")
        return task

    async def reference_image(self, task: str, params: dict[str, Any]) -> bytes | None:
        """The "before" of a job that uploads no image (vtryon recolours one of its own
        results): the provider's copy of what the result should be compared with."""
        return None

    async def reconcile(self, job: PreparedJob) -> RemoteRef | None:
        """After a submit with an unknown outcome, find the job the provider may have created."""
        return None

    async def warm_up(self) -> None:  # noqa: B027 - optional hook, nothing to prepare by default
        """Prepare what the first job would otherwise wait for (worker processes, ...)."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release network clients and other resources."""
