"""FitInView Try-On API (OpenAPI 3.1, https://api.fitinview.com, `Authorization: Bearer`).

A job is submitted with `wait=false` and polled at `GET /api/v1/tryon/{job_id}`. Every submit
carries an `Idempotency-Key` derived from the local job id, so the HTTP layer may repeat it after
a dropped connection without creating a second (billed) job, and the same local job always sends
the same key. The local job id also travels in `metadata`, which the service echoes on every job:
after a submit whose outcome is unknown, `reconcile` walks the job list (newest first, cursor by
cursor) and finds the job by that id.

The document is silent on some points; the values used are settings (see `FitInViewProvider`
arguments) and listed in the README: poll interval, input pixel limits, which URL inputs are sent
as URLs, the credit purchase page, and the meaning of the failed-job `error_code` values.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Self, Unpack

import httpx

from desktop.core.model import ErrorCode, InputRole, InvalidInput, ParamSpec, ParamType, TaskSpec
from desktop.core.provider_tools import RemoteJobPage, RemoteJobSummary
from desktop.providers.base import (
    AccountInfo,
    InputLimits,
    PreparedInput,
    PreparedJob,
    ProviderConfig,
    ProviderError,
    RemoteOutput,
    RemoteRef,
    RemoteState,
    RemoteStatus,
    ResultSink,
)
from desktop.providers.http import ApiClient, Auth, clip
from desktop.providers.remote import ClientOptions, RemoteProvider

DEFAULT_BASE_URL = "https://api.fitinview.com"
SUBMIT_PATH = "/api/v1/tryon"
ACCOUNT_PATH = "/api/v1/account"
PURCHASE_PATH = "/api/v1/credits/purchase"
#: Where credits are bought: the document names only its developer page (an assumption).
DEFAULT_PURCHASE_URL = "https://fitinview.com/developers"

OUTPUT_SIZES = ("1K", "2K", "4K")
#: "Cost: 1K=8 credits, 2K=12, 4K=20" (TryOnRequest.output_size); the account's
#: `tryon_cost_credits` replaces this table once fetched.
DOCUMENTED_COSTS: dict[str, int] = {"1K": 8, "2K": 12, "4K": 20}
JOB_STATUSES = ("queued", "running", "succeeded", "failed")
PACK_SLUGS = ("demo", "starter", "pro", "scale", "enterprise")

#: The metadata key that carries Restyle's local job id.
METADATA_JOB_KEY = "restyle_job_id"
METADATA_MAX_KEYS = 8
METADATA_MAX_CHARS = 256
MAX_B64_CHARS = 14_000_000
MAX_URL_CHARS = 2000
_TEXT_LIMITS = {"prompt": 1000, "negative_prompt": 500, "style_hint": 500}
_KEY_NAMESPACE = uuid.UUID("6f1f64a4-3c4e-4bd7-9a57-5d0f3b1c8e21")

UrlPolicy = Literal["https", "any", "never"]

_COST_HELP = "a larger one costs more credits (1K=8, 2K=12, 4K=20, or your account's prices)."

TASKS: tuple[TaskSpec, ...] = (
    TaskSpec(
        id="tryon",
        title="Virtual try-on",
        inputs=(
            InputRole("person", "Person", 1, 1,
                      help="The person photo (sent as its public https URL when it has one)."),
            InputRole("garment", "Garment", 1, 3,
                      help="One to three garment images; URLs and files may be mixed."),
        ),
        params=(
            ParamSpec("output_size", ParamType.CHOICE, title="Output size", default="1K",
                      choices=OUTPUT_SIZES,
                      choice_titles=(("1K", "1K (standard)"), ("2K", "2K (sharper)"),
                                     ("4K", "4K (sharpest)")),
                      help="The result's resolution: " + _COST_HELP),
            ParamSpec("prompt", ParamType.STRING, title="Instructions",
                      max_length=_TEXT_LIMITS["prompt"],
                      placeholder="e.g. tuck the shirt in, sleeves rolled up",
                      help="Your own words for the try-on, added to the service's; safety and "
                           "identity rules still apply."),
            ParamSpec("negative_prompt", ParamType.STRING, title="Avoid",
                      max_length=_TEXT_LIMITS["negative_prompt"],
                      placeholder="e.g. logos, wrinkles",
                      help="What the result should not show."),
            ParamSpec("style_hint", ParamType.STRING, title="Style hint (deprecated)",
                      max_length=_TEXT_LIMITS["style_hint"], advanced=True,
                      help="A short style direction; deprecated and ignored when Instructions "
                           "are set."),
            ParamSpec("seed", ParamType.INTEGER, title="Seed", minimum=0, maximum=2147483647,
                      advanced=True,
                      help="The same seed gives a similar result again; the one used is "
                           "reported back."),
            ParamSpec("metadata", ParamType.JSON, title="Metadata (JSON)", advanced=True,
                      placeholder='{"client": "spring look-book"}',
                      help="Your own key/value pairs (at most 7, 256 characters each), "
                           f"returned unchanged; Restyle adds '{METADATA_JOB_KEY}'."),
            ParamSpec("webhook_url", ParamType.STRING, title="Webhook URL",
                      max_length=MAX_URL_CHARS, advanced=True, placeholder="https://…",
                      help="An HTTPS address told when the job ends; Restyle does not need "
                           "it."),
        ),
        note="FitInView dresses the person in one to three garments in one picture.",
    ),
)


@dataclass(frozen=True)
class RemoteJob:
    """One job as the job list or the status endpoint reports it."""

    job_id: str
    status: str
    metadata: dict[str, Any] = field(default_factory=dict)
    result_url: str | None = None
    cost_credits: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    created_at: str | None = None
    completed_at: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RemoteJob:
        meta = data.get("metadata")
        cost = data.get("cost_credits")
        return cls(
            job_id=str(data.get("job_id") or ""),
            status=str(data.get("status") or ""),
            metadata=dict(meta) if isinstance(meta, Mapping) else {},
            result_url=_opt_str(data.get("result_url")),
            cost_credits=cost if isinstance(cost, int) and not isinstance(cost, bool) else None,
            error_code=_opt_str(data.get("error_code")),
            error_message=_opt_str(data.get("error_message")),
            created_at=_opt_str(data.get("created_at")),
            completed_at=_opt_str(data.get("completed_at")),
            raw=dict(data),
        )


@dataclass(frozen=True)
class JobPage:
    jobs: tuple[RemoteJob, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class Purchase:
    """The answer to a credit purchase with a Stripe Shared Payment Token."""

    payment_intent_id: str
    status: str
    pack_slug: str
    credits_added: int
    credits_remaining: int
    next_action: dict[str, Any] | None = None


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def check_params(params: Mapping[str, Any]) -> None:
    """The rules of TryOnRequest that are not data on the ParamSpecs: the webhook address and
    the metadata object (at most 8 keys, one of them Restyle's, 256 characters each, flat).
    Raises InvalidInput with a sentence naming the parameter."""
    _webhook(params)
    given = params.get("metadata")
    if given is None:
        return
    if not isinstance(given, Mapping):
        raise InvalidInput("Parameter 'metadata' must be a JSON object of key/value pairs.")
    if METADATA_JOB_KEY in given:
        raise InvalidInput(
            f"Parameter 'metadata' must not use the key '{METADATA_JOB_KEY}': Restyle sets it "
            "to the job's id so the job can be found again."
        )
    if len(given) > METADATA_MAX_KEYS - 1:
        raise InvalidInput(
            f"Parameter 'metadata' has {len(given)} keys; FitInView takes {METADATA_MAX_KEYS} "
            f"and Restyle uses one ('{METADATA_JOB_KEY}'), so at most {METADATA_MAX_KEYS - 1}."
        )
    for key, value in given.items():
        if isinstance(value, (dict, list)):
            raise InvalidInput(
                f"Metadata '{clip(str(key), 40)}' must be text or a number, not a list or an "
                "object."
            )
        if len(str(key)) > METADATA_MAX_CHARS or len(str(value)) > METADATA_MAX_CHARS:
            raise InvalidInput(
                f"Metadata '{clip(str(key), 40)}' is longer than {METADATA_MAX_CHARS} "
                "characters (keys and values)."
            )


def _webhook(params: Mapping[str, Any]) -> str | None:
    """The webhook address to send (None when not set); InvalidInput when it is no URL."""
    webhook = params.get("webhook_url")
    if webhook is None or not str(webhook).strip():
        return None
    webhook = str(webhook).strip()
    if not webhook.lower().startswith(("https://", "http://")) or len(webhook) > MAX_URL_CHARS:
        raise InvalidInput(
            f"Parameter 'webhook_url' must be an http(s):// address of at most "
            f"{MAX_URL_CHARS} characters (got {clip(webhook, 40)!r})."
        )
    return webhook


class _FitInViewClient(ApiClient):
    """ApiClient that keeps the latest `X-RateLimit-*` headers the API sent (ApiClient does not
    expose the headers of a 429), so a rate-limit message and the account view can show them.
    A response hook, not a wrapping transport, so httpx keeps honouring proxy settings."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rate_limit_headers: dict[str, str] = {}

    def _client(self) -> httpx.AsyncClient:
        client = super()._client()
        hooks = client.event_hooks
        if self._remember_limits not in hooks["response"]:
            hooks["response"] = [*hooks["response"], self._remember_limits]
            client.event_hooks = hooks
        return client

    async def _remember_limits(self, response: httpx.Response) -> None:
        found = {k.lower(): v for k, v in response.headers.items()
                 if k.lower().startswith("x-ratelimit-")}
        if found:
            self.rate_limit_headers = found


class FitInViewProvider(RemoteProvider):
    """FitInView virtual try-on: person + 1-3 garments -> one PNG."""

    id = "fitinview"
    title = "FitInView"
    needs_key = True
    needs_base_url = False
    default_base_url = DEFAULT_BASE_URL
    #: Not documented; a try-on takes tens of seconds.
    poll_interval = 2.0
    #: "Max ~10 MB decoded" per base64 image; pixel limits are not documented.
    limits = InputLimits(max_side=4096, max_bytes=10 * 1024 * 1024, min_side=64,
                         formats=("image/jpeg", "image/png"))
    supports_cancel = False
    supports_account = True
    supports_reconcile = True
    accepts_urls = True

    def __init__(
        self,
        base_url: str | None = DEFAULT_BASE_URL,
        key_source: Callable[[], str | None] = lambda: None,
        *,
        url_inputs: UrlPolicy = "https",
        purchase_url: str = DEFAULT_PURCHASE_URL,
        reconcile_pages: int = 10,
        page_size: int = 20,
        **options: Unpack[ClientOptions],
    ) -> None:
        if url_inputs not in ("https", "any", "never"):
            raise ValueError("url_inputs must be 'https', 'any' or 'never'")
        self.client = _FitInViewClient(
            self.id, self.title, base_url or DEFAULT_BASE_URL, auth=Auth.bearer(key_source),
            **options,
        )
        self.url_inputs: UrlPolicy = url_inputs
        self.purchase_url = purchase_url
        self.reconcile_pages = max(1, reconcile_pages)
        self.page_size = max(1, page_size)
        self._costs: dict[str, int] = dict(DOCUMENTED_COSTS)

    @property
    def account_url(self) -> str | None:
        """The developer dashboard: jobs, charges and credits."""
        return self.purchase_url

    @classmethod
    def from_config(cls, config: ProviderConfig) -> Self:
        extra = config.extra or {}
        policy = str(extra.get("url_inputs", "https"))
        return cls(
            config.base_url or DEFAULT_BASE_URL, config.key_source,
            url_inputs=policy if policy in ("https", "any", "never") else "https",  # type: ignore[arg-type]
            purchase_url=str(extra.get("purchase_url") or DEFAULT_PURCHASE_URL),
            **cls.client_options(config),
        )

    @property
    def tasks(self) -> tuple[TaskSpec, ...]:
        return TASKS

    # -- costs -------------------------------------------------------------------------------
    def cost_for(self, output_size: str = "1K") -> int | None:
        """Credits one try-on of this size costs (documented prices until `account` ran)."""
        return self._costs.get(output_size)

    def estimate_cost(self, task: str, params: dict[str, Any]) -> float | None:
        if task != "tryon":
            return None
        cost = self.cost_for(str(params.get("output_size") or "1K"))
        return float(cost) if cost is not None else None

    # -- submit ------------------------------------------------------------------------------
    @staticmethod
    def idempotency_key(job: PreparedJob) -> str:
        """The same key for every attempt of one local job, and only for that job."""
        return str(uuid.uuid5(_KEY_NAMESPACE, job.job_id))

    def _image_field(self, item: PreparedInput) -> tuple[str, str]:
        """('url', the URL) when the input may go as its public URL, else ('b64', data)."""
        url = item.source_url
        if url and self.url_inputs != "never" and len(url) <= MAX_URL_CHARS and (
            url.lower().startswith("https://")
            or (self.url_inputs == "any" and url.lower().startswith("http://"))
        ):
            return "url", url
        encoded = item.base64()
        if len(encoded) > MAX_B64_CHARS:
            raise ProviderError(
                ErrorCode.INVALID_INPUT,
                f"The {item.role} image {item.filename} is too large for {self.title} "
                f"(at most about 10 MB); use a smaller image.",
            )
        return "b64", encoded

    def build_request(self, job: PreparedJob) -> dict[str, Any]:
        """The JSON body for `job`, after every check that needs no network."""
        task = self.task(job.task)
        if task is None:
            raise ProviderError(
                ErrorCode.INVALID_INPUT,
                f"{self.title} has no task '{job.task}' (it has: tryon).",
            )
        try:
            # Again here: a resumed job's spec comes back from storage.
            params = task.validate(
                {role: [i.sha256 for i in items] for role, items in job.inputs.items()},
                job.params,
            )
        except InvalidInput as exc:
            raise ProviderError(ErrorCode.INVALID_INPUT, str(exc)) from None
        body: dict[str, Any] = {"wait": False,
                                "output_size": params.get("output_size", "1K")}
        kind, value = self._image_field(job.first("person"))
        body["person_url" if kind == "url" else "person_image_b64"] = value
        urls: list[str] = []
        blobs: list[str] = []
        for item in job.inputs["garment"]:
            kind, value = self._image_field(item)
            (urls if kind == "url" else blobs).append(value)
        if urls:
            body["garment_urls"] = urls
        if blobs:
            body["garment_images_b64"] = blobs
        for name in _TEXT_LIMITS:  # lengths: checked by the ParamSpecs (task.validate)
            text = params.get(name)
            if text is not None and str(text).strip():
                body[name] = text
        if params.get("seed") is not None:
            body["seed"] = params["seed"]
        try:
            check_params(params)
        except InvalidInput as exc:
            raise ProviderError(ErrorCode.INVALID_INPUT, str(exc)) from None
        webhook = _webhook(params)
        if webhook is not None:
            body["webhook_url"] = webhook
        meta = dict(params.get("metadata") or {})
        meta[METADATA_JOB_KEY] = job.job_id
        body["metadata"] = meta
        return body

    async def check(self, task: TaskSpec, params: dict[str, Any],
                    inputs: dict[str, list[PreparedInput]]) -> None:
        check_params(params)

    async def submit(self, job: PreparedJob) -> RemoteRef:
        # base64 of megabytes of images: off the event loop, which may be a window's.
        body = await asyncio.to_thread(self.build_request, job)
        key = self.idempotency_key(job)
        try:
            data = await self.client.post_json(SUBMIT_PATH, body, idempotency_key=key)
        except ProviderError as exc:
            raise self._submit_error(exc) from None
        if not isinstance(data, Mapping) or not isinstance(data.get("job_id"), str):
            raise ProviderError(
                ErrorCode.PROVIDER_UNAVAILABLE,
                f"{self.title} accepted the job but its answer has no job id; Restyle looks "
                "for the job in the job list.",
                unknown_outcome=True,
            )
        test_mode = data.get("test_mode") is True
        ref_data: dict[str, Any] = {"idempotency_key": key,
                                    "output_size": body["output_size"]}
        if test_mode:
            ref_data["test_mode"] = True
        if isinstance(data.get("credits_remaining"), int):
            ref_data["credits_remaining"] = data["credits_remaining"]
        if isinstance(data.get("seed"), int):
            ref_data["seed"] = data["seed"]
        cost = data.get("cost_credits")
        return RemoteRef(str(data["job_id"]), data=ref_data,
                         cost_credits=float(cost) if isinstance(cost, (int, float)) else None)

    def _submit_error(self, exc: ProviderError) -> ProviderError:
        """Sharper sentences for what a submit answer means at FitInView."""
        said = f" ({exc.message})" if exc.message else ""
        if exc.code == ErrorCode.CONFLICT and exc.http_status == 409:
            return exc.rephrased(
                ErrorCode.CONFLICT,
                f"{self.title} already has a job with this idempotency key but a different "
                f"request: the job's inputs changed after it was first sent. Run it as a new "
                f"job.{said}",
            )
        if exc.code == ErrorCode.INSUFFICIENT_CREDITS:
            return exc.rephrased(
                ErrorCode.INSUFFICIENT_CREDITS,
                f"{self.title} has too few credits for this output size. Buy credits at "
                f"{self.purchase_url} or choose a smaller output_size.{said}",
            )
        if exc.code == ErrorCode.PROVIDER_UNAVAILABLE and exc.http_status is not None and (
                200 <= exc.http_status < 300):
            # A 2xx we could not read: the job was very likely created; find it by metadata.
            exc.unknown_outcome = True
        return self._common_error(exc)

    def _common_error(self, exc: ProviderError) -> ProviderError:
        if exc.code == ErrorCode.FORBIDDEN and exc.http_status == 403:
            return exc.rephrased(
                ErrorCode.FORBIDDEN,
                f"{self.title} says this account is not eligible (for example the key was "
                f"revoked){': ' + exc.message if exc.message else '.'} Contact FitInView or "
                "create a new key.",
            )
        if exc.code == ErrorCode.RATE_LIMITED:
            extra = self._rate_limit_sentence()
            if extra:
                return exc.rephrased(
                    exc.code,
                    f"{exc.message} {extra}",
                )
        return exc

    def rate_limit(self) -> dict[str, str]:
        """The latest `X-RateLimit-*` headers, names without the prefix (limit, remaining,
        reset)."""
        return {k.removeprefix("x-ratelimit-"): v
                for k, v in self.client.rate_limit_headers.items()}

    def _rate_limit_sentence(self) -> str:
        info = self.rate_limit()
        if not info:
            return ""
        parts = []
        if "limit" in info:
            parts.append(f"limit {info['limit']} requests")
        if "remaining" in info:
            parts.append(f"{info['remaining']} left")
        reset = info.get("reset")
        if reset:
            try:
                value = float(reset)
            except ValueError:
                parts.append(f"resets at {reset}")
            else:
                # A Unix time or a number of seconds: the document does not say which.
                seconds = value - time.time() if value > 1e9 else value
                parts.append(f"resets in {max(0, round(seconds))} s")
        return ("Rate limit: " + ", ".join(parts) + ".") if parts else ""

    # -- poll and fetch ----------------------------------------------------------------------
    async def get_job(self, job_id: str) -> RemoteJob:
        """`GET /api/v1/tryon/{job_id}`: the job with a freshly signed result URL."""
        try:
            data = await self.client.get_json(f"{SUBMIT_PATH}/{_path_id(job_id)}")
        except ProviderError as exc:
            if exc.code == ErrorCode.NOT_FOUND:
                raise exc.rephrased(
                    ErrorCode.NOT_FOUND,
                    f"{self.title} has no job {clip(job_id, 60)} for this key (it may belong to "
                    "another key or have been removed).",
                ) from None
            raise self._common_error(exc) from None
        if not isinstance(data, Mapping) or data.get("status") not in JOB_STATUSES:
            raise ProviderError(
                ErrorCode.PROVIDER_UNAVAILABLE,
                f"{self.title} sent a job status Restyle does not understand; trying again.",
            )
        return RemoteJob.from_json(data)

    async def poll(self, ref: RemoteRef) -> RemoteStatus:
        remote = await self.get_job(ref.remote_id)
        test_mode = bool(ref.data.get("test_mode"))
        note = "Test mode: no charge, stock image." if test_mode else ""
        cost = float(remote.cost_credits) if remote.cost_credits is not None else None
        if remote.status == "queued":
            return RemoteStatus(RemoteState.QUEUED, progress=0.0, cost_credits=cost,
                                message=note or f"Waiting in the {self.title} queue.")
        if remote.status == "running":
            return RemoteStatus(RemoteState.RUNNING, cost_credits=cost,
                                message=note or f"{self.title} is generating the try-on.")
        if remote.status == "failed":
            return RemoteStatus(RemoteState.FAILED, cost_credits=cost, message=note,
                                error=self.job_error(remote))
        if not remote.result_url:
            return RemoteStatus(RemoteState.FAILED, cost_credits=cost, error=ProviderError(
                ErrorCode.RESULT_UNAVAILABLE,
                f"{self.title} reports the job succeeded but gives no result link; run it "
                "again.",
            ))
        label = "FitInView try-on" + (" (test mode: stock image)" if test_mode else "")
        output = RemoteOutput(url=remote.result_url, mime="image/png", label=label,
                              extra={"job_id": remote.job_id})
        return RemoteStatus(RemoteState.SUCCEEDED, progress=1.0, outputs=(output,),
                            cost_credits=cost, message=note)

    def job_error(self, remote: RemoteJob) -> ProviderError:
        """A failed job as a ProviderError. The document lists no job error codes, so the
        provider's code and message are kept as they are under JOB_FAILED."""
        why = remote.error_message or "no reason given"
        pcode = clip(remote.error_code, 64) if remote.error_code else None
        code = f" [{pcode}]" if pcode else ""
        return ProviderError(
            ErrorCode.JOB_FAILED,
            f"{self.title} could not make the try-on: {clip(why)}{code}.",
            provider_code=pcode,
        )

    async def fetch_into(self, output: RemoteOutput, sink: ResultSink) -> None:
        """Download the PNG. A link that has expired is signed again through the job's status
        (the document: "regenerated on every call") and tried once more."""
        if output.data is not None:
            await self.deliver(sink, output.data)
            return
        if not output.url:
            raise ProviderError(ErrorCode.RESULT_UNAVAILABLE,
                                f"{self.title} gave no result to download.")
        try:
            await self.client.download_into(output.url, sink)
            return
        except ProviderError as exc:
            job_id = output.extra.get("job_id")
            if exc.code != ErrorCode.RESULT_UNAVAILABLE or not isinstance(job_id, str) or (
                    exc.http_status not in (401, 403, 404, 410)):
                raise
        fresh = await self.get_job(job_id)
        if fresh.status != "succeeded" or not fresh.result_url or fresh.result_url == output.url:
            raise ProviderError(
                ErrorCode.RESULT_UNAVAILABLE,
                f"The {self.title} result link has expired and no new one is available; run "
                "the job again.",
            )
        await self.client.download_into(fresh.result_url, sink)

    # -- the job list and reconciliation -----------------------------------------------------
    async def list_jobs(self, *, status: str | None = None, cursor: str | None = None,
                        limit: int | None = None) -> JobPage:
        """One page of this key's jobs, newest first (`GET /api/v1/tryon`)."""
        if status is not None and status not in JOB_STATUSES:
            raise ProviderError(ErrorCode.INVALID_INPUT,
                                f"Status must be one of {', '.join(JOB_STATUSES)}.")
        query: dict[str, Any] = {"limit": limit or self.page_size}
        if cursor:
            query["cursor"] = cursor
        if status:
            query["status_filter"] = status
        try:
            data = await self.client.get_json(SUBMIT_PATH, params=query)
        except ProviderError as exc:
            raise self._common_error(exc) from None
        if not isinstance(data, Mapping) or not isinstance(data.get("jobs"), list):
            raise ProviderError(ErrorCode.PROVIDER_UNAVAILABLE,
                                f"{self.title} sent a job list Restyle does not understand.")
        jobs = tuple(RemoteJob.from_json(j) for j in data["jobs"] if isinstance(j, Mapping))
        return JobPage(jobs, _opt_str(data.get("next_cursor")))

    # -- tools: the job list as plain data, for imports (desktop/core/provider_tools) --------
    #: An imported job is recorded as a try-on.
    import_task = "tryon"

    async def remote_jobs(self, *, status: str | None = None, cursor: str | None = None,
                          limit: int | None = None) -> RemoteJobPage:
        """One page of the account's jobs, newest first, as plain data."""
        page = await self.list_jobs(status=status, cursor=cursor, limit=limit)
        return RemoteJobPage(tuple(remote_summary(j) for j in page.jobs if j.job_id),
                             page.next_cursor)

    async def remote_job(self, remote_id: str) -> RemoteJobSummary:
        return remote_summary(await self.get_job(remote_id))

    async def find_job(self, local_job_id: str, *, status: str | None = None
                       ) -> RemoteJob | None:
        """The newest job whose metadata carries `local_job_id`, within `reconcile_pages`."""
        cursor: str | None = None
        for _ in range(self.reconcile_pages):
            page = await self.list_jobs(status=status, cursor=cursor)
            for remote in page.jobs:
                if remote.metadata.get(METADATA_JOB_KEY) == local_job_id:
                    return remote
            if not page.next_cursor or page.next_cursor == cursor:
                return None
            cursor = page.next_cursor
        return None

    async def reconcile(self, job: PreparedJob) -> RemoteRef | None:
        remote = await self.find_job(job.job_id)
        if remote is None or not remote.job_id:
            return None
        data: dict[str, Any] = {"idempotency_key": self.idempotency_key(job),
                                "reconciled": True}
        return RemoteRef(remote.job_id, data=data,
                         cost_credits=float(remote.cost_credits)
                         if remote.cost_credits is not None else None)

    # -- account -----------------------------------------------------------------------------
    async def account(self) -> AccountInfo:
        try:
            data = await self.client.get_json(ACCOUNT_PATH)
        except ProviderError as exc:
            raise self._common_error(exc) from None
        if not isinstance(data, Mapping):
            raise ProviderError(ErrorCode.PROVIDER_UNAVAILABLE,
                                f"{self.title} sent an account answer Restyle does not "
                                "understand.")
        costs = data.get("tryon_cost_credits")
        if isinstance(costs, Mapping):
            self._costs.update({str(k): int(v) for k, v in costs.items()
                                if isinstance(v, (int, float)) and not isinstance(v, bool)})
        limits: dict[str, Any] = {}
        if isinstance(data.get("rate_limit_per_min"), int):
            limits["rate_limit_per_min"] = data["rate_limit_per_min"]
        for size in OUTPUT_SIZES:
            if size in self._costs:
                limits[f"cost_{size}"] = self._costs[size]
        details: dict[str, Any] = {}
        if isinstance(data.get("total_calls"), int):
            details["total_calls"] = data["total_calls"]
        window = self.rate_limit()
        if "remaining" in window:
            details["rate_limit_remaining"] = window["remaining"]
        credits = data.get("credits_remaining")
        name = _opt_str(data.get("name"))
        cheapest = min(self._costs.values()) if self._costs else None
        message = ""
        if isinstance(credits, int) and cheapest is not None and credits < cheapest:
            message = (f"Not enough credits for a try-on ({cheapest} needed); buy credits at "
                       f"{self.purchase_url}.")
        return AccountInfo(
            provider=self.id,
            credits=float(credits) if isinstance(credits, (int, float)) else None,
            plan=name, limits=limits, details=details, purchase_url=self.purchase_url,
            message=message,
        )

    async def purchase_credits(self, pack_slug: str, shared_payment_token: str) -> Purchase:
        """`POST /api/v1/credits/purchase` with a Stripe Shared Payment Token. The window links
        to the vendor's site instead; this exists for agents and scripts."""
        if pack_slug not in PACK_SLUGS:
            raise ProviderError(ErrorCode.INVALID_INPUT,
                                f"Pack must be one of {', '.join(PACK_SLUGS)}.")
        if not 4 <= len(shared_payment_token) <= 200:
            raise ProviderError(ErrorCode.INVALID_INPUT,
                                "The shared payment token must be 4 to 200 characters long.")
        try:
            data = await self.client.post_json(PURCHASE_PATH, {
                "pack_slug": pack_slug, "shared_payment_granted_token": shared_payment_token,
            }, max_retries=0)
        except ProviderError as exc:
            if exc.http_status == 402:
                raise exc.rephrased(
                    ErrorCode.INSUFFICIENT_CREDITS,
                    f"The payment for the {pack_slug} pack failed"
                    f"{': ' + exc.message if exc.message else ''}",
                ) from None
            if exc.http_status == 409:
                raise exc.rephrased(
                    ErrorCode.CONFLICT,
                    "This payment token was already used; credits were granted for it then.",
                ) from None
            raise self._common_error(exc) from None
        if not isinstance(data, Mapping):
            raise ProviderError(ErrorCode.PROVIDER_UNAVAILABLE,
                                f"{self.title} sent a purchase answer Restyle does not "
                                "understand.")
        action = data.get("next_action")
        return Purchase(
            payment_intent_id=str(data.get("payment_intent_id", "")),
            status=str(data.get("status", "")),
            pack_slug=str(data.get("pack_slug", pack_slug)),
            credits_added=int(data.get("credits_added") or 0),
            credits_remaining=int(data.get("credits_remaining") or 0),
            next_action=dict(action) if isinstance(action, Mapping) else None,
        )


def remote_summary(remote: RemoteJob) -> RemoteJobSummary:
    """A listed job as plain data: the local id its metadata carries, and the seed (kept on an
    imported job's parameters)."""
    local = remote.metadata.get(METADATA_JOB_KEY)
    seed = remote.raw.get("seed")
    error = None
    if remote.status == "failed":
        error = clip(remote.error_message or remote.error_code or "no reason given")
    return RemoteJobSummary(
        remote_id=remote.job_id, status=remote.status,
        cost_credits=float(remote.cost_credits) if remote.cost_credits is not None else None,
        created_at=remote.created_at, completed_at=remote.completed_at,
        local_job_id=local if isinstance(local, str) and local else None,
        error_message=error,
        params={"seed": seed} if isinstance(seed, int) and not isinstance(seed, bool) else {})


def _path_id(job_id: str) -> str:
    """A job id safe to put in a path (documented as `^job_[a-zA-Z0-9]+$`)."""
    if not job_id or "/" in job_id or "?" in job_id or "#" in job_id:
        raise ProviderError(ErrorCode.INVALID_INPUT,
                            f"'{clip(job_id, 40)}' is not a FitInView job id.")
    return job_id

