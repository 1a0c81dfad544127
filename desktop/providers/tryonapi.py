"""TryonAPI: virtual try-on from one person photo and one garment photo.

The service (document "TryonAPI v1") takes both images as multipart files (`person_images`,
`garment_images`; it does not take URLs, so a URL input is downloaded by the engine and
uploaded), answers 202 with a `jobId` and a `statusUrl`, and is polled at that URL until the
status is `completed` (result in `imageUrl` or `imageBase64`) or `failed` (with an `errorCode`).

The submit carries no idempotency key, so it is never repeated after an unknown outcome (the
shared ApiClient retries a POST only on 429/503, which prove nothing was created). There is no
job list, so such a job cannot be reconciled: the user is told to look at the account.

Where the document is silent (input size limits, error body shape, absolute vs relative
`statusUrl`, the `invalid_input` status and `resultImageUrl` field of its code examples) the
choices are written next to the code that makes them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any, Unpack

import httpx

from desktop.core.imaging import sniff_mime
from desktop.core.model import ErrorCode, InputRole, TaskSpec
from desktop.providers.base import (
    InputLimits,
    PreparedJob,
    ProviderError,
    RemoteOutput,
    RemoteRef,
    RemoteState,
    RemoteStatus,
    ResultSink,
)
from desktop.providers.http import ApiClient, Auth, clip
from desktop.providers.remote import ClientOptions, RemoteProvider

SUBMIT_PATH = "/api/v1/tryon"
STATUS_PATH = "/api/v1/tryon/status/{job_id}"

TASKS: tuple[TaskSpec, ...] = (
    TaskSpec(
        id="tryon",
        title="Virtual try-on",
        inputs=(
            InputRole("person", "Person", 1, 1,
                      help="One photo of the person (uploaded as a file; the service does not "
                           "take public URLs)."),
            InputRole("garment", "Garment", 1, 1,
                      help="One garment photo (the service takes exactly one garment)."),
        ),
        note="TryonAPI takes one person and one garment image; it has no other settings.",
    ),
)

#: Every documented `errorCode` of a failed job: (our code, a sentence for the user).
ERROR_CODES: dict[str, tuple[ErrorCode, str]] = {
    "INVALID_PERSON_IMAGE": (
        ErrorCode.INVALID_INPUT,
        "TryonAPI could not use the person photo (invalid, unsuitable or unreadable). Try a "
        "clear, well-lit photo of one person."),
    "INVALID_GARMENT_IMAGE": (
        ErrorCode.INVALID_INPUT,
        "TryonAPI could not use the garment photo (invalid, unsuitable or unreadable). Try a "
        "clear photo of the garment alone."),
    "VALIDATION_FAILED": (
        ErrorCode.INVALID_INPUT,
        "TryonAPI rejected the input images during validation; check both photos."),
    "GENERATION_FAILED": (
        ErrorCode.JOB_FAILED,
        "TryonAPI could not generate the try-on image; try again or with other photos."),
    "STORAGE_FAILED": (
        ErrorCode.PROVIDER_UNAVAILABLE,
        "TryonAPI could not save the images on its side; try again later."),
    "R2_FETCH_FAILED": (
        ErrorCode.PROVIDER_UNAVAILABLE,
        "TryonAPI could not read the images back from its storage; try again later."),
    "RESULT_UNAVAILABLE": (
        ErrorCode.RESULT_UNAVAILABLE,
        "TryonAPI finished the job but could not provide the result image; run it again."),
    "QUEUE_INVALID_INPUT_DATA": (
        ErrorCode.JOB_FAILED,
        "TryonAPI's job queue received incomplete job data; run the job again."),
    "CONSUMER_CONFIG_ERROR": (
        ErrorCode.PROVIDER_UNAVAILABLE,
        "TryonAPI's processing service is misconfigured; contact TryonAPI support."),
    "INVALID_SERVICE_PROVIDER": (
        ErrorCode.PROVIDER_UNAVAILABLE,
        "TryonAPI is configured with an unsupported try-on engine; contact TryonAPI support."),
    "QUEUE_PROCESSING_FAILED": (
        ErrorCode.PROVIDER_UNAVAILABLE,
        "TryonAPI failed while processing the job from its queue; try again later."),
    "SERVICE_SPECIFIC_ERROR": (
        ErrorCode.JOB_FAILED,
        "The AI service behind TryonAPI reported an error."),
    "INTERNAL_ERROR": (
        ErrorCode.PROVIDER_UNAVAILABLE,
        "TryonAPI hit an internal error; try again later."),
}

_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
#: Statuses meaning "not finished". Only `processing` is documented; `queued`/`pending` are
#: accepted as the same thing in case the queue ever reports itself.
_WAITING = {"processing": RemoteState.RUNNING, "queued": RemoteState.QUEUED,
            "pending": RemoteState.QUEUED}
#: `invalid_input` appears only in the document's code examples, as a failure.
_FAILED = {"failed", "invalid_input"}


class TryonApiProvider(RemoteProvider):
    """TryonAPI (Bearer key; the base URL is the customer's own domain)."""

    id = "tryonapi"
    title = "TryonAPI"
    needs_key = True
    needs_base_url = True  # the document only shows https://your-domain.com
    default_base_url = None
    poll_interval = 2.0  # the document: "poll every 2-5 seconds"
    # The document gives no limits; these are conservative assumptions (see the README).
    limits = InputLimits(max_side=4096, max_bytes=10 * 1024 * 1024, min_side=64,
                         formats=("image/jpeg", "image/png"))
    supports_cancel = False
    supports_account = False
    supports_reconcile = False  # no job list to find a job after an unknown outcome
    accepts_urls = False

    def __init__(self, base_url: str | None = None,
                 key_source: Callable[[], str | None] = lambda: None,
                 **options: Unpack[ClientOptions]) -> None:
        self.client = ApiClient(self.id, self.title, base_url, auth=Auth.bearer(key_source),
                                **options)

    @property
    def tasks(self) -> tuple[TaskSpec, ...]:
        return TASKS

    # -- submit ------------------------------------------------------------------------------
    def _files(self, job: PreparedJob) -> dict[str, tuple[str, bytes, str]]:
        """The multipart files, after every check that needs no network."""
        task = self.task(job.task)
        if task is None:
            raise ProviderError(
                ErrorCode.INVALID_INPUT,
                f"{self.title} has no task '{job.task}' (it has: "
                f"{', '.join(t.id for t in TASKS)}).",
            )
        # Counts and params again: a resumed job's spec comes back from storage.
        task.validate({role: [i.sha256 for i in items] for role, items in job.inputs.items()},
                      job.params)
        files: dict[str, tuple[str, bytes, str]] = {}
        for role, field in (("person", "person_images"), ("garment", "garment_images")):
            item = job.inputs[role][0]
            if not item.data:
                raise ProviderError(ErrorCode.INVALID_INPUT,
                                    f"The {role} image is empty; choose another file.")
            if item.mime not in self.limits.formats:
                allowed = ", ".join(m.removeprefix("image/").upper()
                                    for m in self.limits.formats)
                raise ProviderError(
                    ErrorCode.INVALID_INPUT,
                    f"{self.title} takes {allowed} images; the {role} image is {item.mime}.",
                )
            if len(item.data) > self.limits.max_bytes:
                raise ProviderError(
                    ErrorCode.INVALID_INPUT,
                    f"The {role} image is larger than {self.title} accepts "
                    f"({len(item.data)} > {self.limits.max_bytes} bytes).",
                )
            files[field] = (f"{role}{_EXTENSIONS.get(item.mime, '')}", item.data, item.mime)
        return files

    async def submit(self, job: PreparedJob) -> RemoteRef:
        files = self._files(job)
        # No idempotency key exists for this endpoint: ApiClient will not repeat the POST after
        # an unknown outcome (read timeout, dropped connection, 500/502/504).
        response = await self.client.request(
            "POST", SUBMIT_PATH, files=files, kind="upload", expect_json=False,
            headers={"Accept": "application/json"},
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        job_id = _text(body.get("jobId")) if isinstance(body, Mapping) else None
        if job_id is None:
            raise ProviderError(
                ErrorCode.PROVIDER_UNAVAILABLE,
                f"{self.title} accepted the job (HTTP {response.status_code}) but its answer "
                "had no job id, so it cannot be followed. It may still run and be charged: "
                f"look at your {self.title} account before submitting it again.",
                http_status=response.status_code, unknown_outcome=True,
            )
        assert isinstance(body, Mapping)
        status_url = self._checked_status_url(_text(body.get("statusUrl")), job_id)
        return RemoteRef(job_id, data={"status_url": status_url})

    def _checked_status_url(self, given: str | None, job_id: str) -> str:
        """The statusUrl to follow. A path is kept as given; an absolute URL only when it is on
        the base URL's origin (the key must not go elsewhere); otherwise the documented path."""
        fallback = STATUS_PATH.format(job_id=job_id)
        if not given:
            return fallback
        if given.lower().startswith(("http://", "https://")):
            try:
                target = httpx.URL(given)
            except httpx.InvalidURL:
                return fallback
            return given if self.client.same_origin(target) else fallback
        return given if given.startswith("/") else fallback

    def _status_target(self, status_url: str) -> str:
        """Resolve a stored statusUrl. A path is origin-relative in the document's examples
        (`https://your-domain.com${statusUrl}`); when the base URL has a path of its own and
        the statusUrl already starts with it, it is not added twice."""
        if status_url.lower().startswith(("http://", "https://")):
            return status_url
        base = self.client.url("/")
        prefix = base.path.rstrip("/")
        if prefix and (status_url == prefix or status_url.startswith(prefix + "/")):
            return str(base.copy_with(path=status_url.split("?", 1)[0], query=None))
        return status_url

    # -- poll --------------------------------------------------------------------------------
    async def status(self, job_id: str, status_url: str | None = None) -> dict[str, Any]:
        """The raw status document of a job (GET statusUrl), with 403 and 404 explained."""
        target = self._status_target(status_url or STATUS_PATH.format(job_id=job_id))
        try:
            body = await self.client.get_json(target)
        except ProviderError as exc:
            if exc.http_status == 403 and exc.code == ErrorCode.FORBIDDEN:
                raise exc.rephrased(
                    ErrorCode.FORBIDDEN,
                    f"{self.title} will not show job {job_id}: it belongs to another API key "
                    "(HTTP 403). Use the key that submitted it.",
                ) from None
            if exc.http_status == 404:
                raise exc.rephrased(
                    ErrorCode.NOT_FOUND,
                    f"{self.title} has no job {job_id} (HTTP 404); it may have been removed, or "
                    "the base URL points at another server.",
                ) from None
            raise
        return self.client.expect_object(body, f"a status for job {job_id}")

    async def poll(self, ref: RemoteRef) -> RemoteStatus:
        body = await self.status(ref.remote_id, ref.data.get("status_url"))
        state = str(body.get("status") or "").strip().lower()
        message = _text(body.get("message")) or ""
        if state in _WAITING:
            return RemoteStatus(_WAITING[state], message=clip(message) if message else "")
        if state == "completed":
            return self._completed(ref.remote_id, body)
        if state in _FAILED:
            return RemoteStatus(RemoteState.FAILED, error=job_error(body),
                                message=clip(message) if message else "")
        raise ProviderError(
            ErrorCode.PROVIDER_UNAVAILABLE,
            f"{self.title} reported an unknown status {clip(state or 'none', 40)!r} for job "
            f"{ref.remote_id}; checking again.",
        )

    def _completed(self, job_id: str, body: Mapping[str, Any]) -> RemoteStatus:
        # `resultImageUrl` is what the document's code examples read; `imageUrl` is documented.
        url = _text(body.get("imageUrl")) or _text(body.get("resultImageUrl"))
        data, mime = _decode_base64(body.get("imageBase64"))
        if data is not None and mime is None and url is not None:
            data = None  # inline bytes that are no known image: the URL is the better bet
        if data is None and url is None:
            error = ProviderError(
                ErrorCode.RESULT_UNAVAILABLE,
                f"{self.title} marked job {job_id} completed but sent neither an image URL nor "
                "readable image data; run the job again.",
                provider_code="RESULT_UNAVAILABLE",
            )
            return RemoteStatus(RemoteState.FAILED, error=error)
        # Inline data is used first: it is in hand and cannot expire. The URL stays as a
        # fallback for fetch().
        output = RemoteOutput(url=url, data=data, mime=mime, label="Try-on",
                              extra={"job_id": job_id})
        message = _text(body.get("message"))
        return RemoteStatus(RemoteState.SUCCEEDED, progress=1.0, outputs=(output,),
                            message=clip(message) if message else "")

    async def fetch_into(self, output: RemoteOutput, sink: ResultSink) -> None:
        if output.data:
            await self.deliver(sink, output.data)
            return
        if not output.url:
            raise ProviderError(ErrorCode.RESULT_UNAVAILABLE,
                                f"{self.title} gave no result to download; run the job again.")
        await self.client.download_into(output.url, sink)



def job_error(body: Mapping[str, Any]) -> ProviderError:
    """The error of a failed job: the documented errorCode mapped, the provider's text kept."""
    result = body.get("result") if isinstance(body.get("result"), Mapping) else {}
    assert isinstance(result, Mapping)
    pcode = _text(body.get("errorCode")) or _text(result.get("errorCode"))
    detail = _text(body.get("error")) or _text(result.get("error")) or _text(
        result.get("message"))
    step = _text(result.get("step"))
    if pcode is not None and pcode.upper() in ERROR_CODES:
        code, sentence = ERROR_CODES[pcode.upper()]
    else:
        code = ErrorCode.JOB_FAILED
        sentence = "TryonAPI reported that the job failed" + (
            f" (code {clip(pcode, 64)})." if pcode else ".")
    extras = []
    if detail and detail.rstrip(". ").lower() not in sentence.lower():
        extras.append(f"TryonAPI said: {clip(detail).rstrip('.')}.")
    if step:
        extras.append(f"(Step: {clip(step, 60)}.)")
    return ProviderError(code, " ".join([sentence, *extras]),
                         provider_code=clip(pcode, 64) if pcode else None)


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _decode_base64(value: Any) -> tuple[bytes | None, str | None]:
    """Bytes and media type from `imageBase64` (plain base64 or a data: URI); (None, None) when
    absent or not decodable (then the URL, if any, is used)."""
    text = _text(value)
    if text is None:
        return None, None
    declared: str | None = None
    if text.startswith("data:"):
        head, _, text = text.partition(",")
        declared = head[5:].split(";", 1)[0] or None
    try:
        data = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None, None
    if not data:
        return None, None
    return data, sniff_mime(data) or declared
