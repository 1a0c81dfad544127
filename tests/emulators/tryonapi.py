"""An emulator of TryonAPI v1: multipart submit, status polling, expiring result URLs.

Endpoints (as documented): `POST /api/v1/tryon` (multipart `person_images` and
`garment_images`, one file each; 202 with `jobId` and `statusUrl`) and
`GET /api/v1/tryon/status/{jobId}` (`processing` -> `completed` | `failed`). Auth is
`Authorization: Bearer <key>`; a job is visible only to the key that created it (403 otherwise).

Where the document gives no body for an error, the emulator answers `{"error": "<sentence>"}`.
The multipart body is parsed with the standard library (`email`), so the emulator needs no
python-multipart.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import io
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from PIL import Image
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.emulators.kit import Emulator, derive_image

ResultMode = Literal["url", "base64", "both", "data_uri", "none", "result_image_url"]

ERROR_CODES = (
    "INVALID_PERSON_IMAGE", "INVALID_GARMENT_IMAGE", "VALIDATION_FAILED", "GENERATION_FAILED",
    "STORAGE_FAILED", "R2_FETCH_FAILED", "RESULT_UNAVAILABLE", "QUEUE_INVALID_INPUT_DATA",
    "CONSUMER_CONFIG_ERROR", "INVALID_SERVICE_PROVIDER", "QUEUE_PROCESSING_FAILED",
    "SERVICE_SPECIFIC_ERROR", "INTERNAL_ERROR",
)


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str
    data: bytes


@dataclass
class EmuJob:
    id: str
    key: str
    created: float
    created_at: str
    person: bytes
    garment: bytes
    fail_code: str | None = None
    fail_message: str = ""
    image: bytes | None = None
    image_url: str | None = None
    finished_at: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def parse_multipart(content_type: str, body: bytes) -> list[Part]:
    """The parts of a multipart/form-data body; ValueError when it is not one."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise ValueError("not multipart/form-data")
    raw = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    if not message.is_multipart():
        raise ValueError("no parts")
    parts: list[Part] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        parts.append(Part(name, part.get_filename(), part.get_content_type(),
                          payload if isinstance(payload, bytes) else b""))
    return parts


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


class TryonApiEmulator(Emulator):
    """TryonAPI over real HTTP. Knobs for tests:

    - `credits`: None for unlimited, else each accepted job costs one; at 0 -> 402;
    - `result_mode`: how a completed job hands out its image (`url`, `base64`, `both`,
      `data_uri`, `none` (completed without an image), `result_image_url` (the field name of
      the document's code examples));
    - `absolute_status_url`: answer with an absolute statusUrl instead of a path;
    - `fail_next(code, message)`: the next accepted job fails with that documented errorCode;
    - `add_key(key)`: another valid key (jobs stay private to the key that made them);
    - `max_active`: the most jobs it ever had at once between their creation and the first
      answer giving their verdict (a client's concurrency, as the service sees it).
    """

    default_key = "tryonapi-test-key"

    def __init__(self, *, api_key: str | None = None, job_delay: float = 0.2,
                 url_ttl: float = 300.0, credits: int | None = None,
                 result_mode: ResultMode = "url", absolute_status_url: bool = False) -> None:
        super().__init__(api_key=api_key, job_delay=job_delay, url_ttl=url_ttl)
        self.keys: set[str] = {self.api_key}
        self.credits = credits
        self.result_mode: ResultMode = result_mode
        self.absolute_status_url = absolute_status_url
        self.jobs: dict[str, EmuJob] = {}
        self._failures: list[tuple[str, str]] = []
        self.active = 0
        self.max_active = 0

    def routes(self) -> list[Route]:
        return [
            Route("/api/v1/tryon", self.submit, methods=["POST"]),
            Route("/api/v1/tryon/status/{job_id}", self.status, methods=["GET"]),
        ]

    # -- knobs -------------------------------------------------------------------------------
    def add_key(self, key: str) -> None:
        self.keys.add(key)

    def fail_next(self, code: str, message: str = "") -> None:
        self._failures.append((code, message or f"Injected failure {code}."))

    # -- auth --------------------------------------------------------------------------------
    def _key(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme != "Bearer" or token.strip() not in self.keys:
            return None
        return token.strip()

    # -- endpoints ---------------------------------------------------------------------------
    async def submit(self, request: Request) -> JSONResponse:
        key = self._key(request)
        if key is None:
            return _error(401, "Invalid or missing API key.")
        try:
            parts = parse_multipart(request.headers.get("content-type", ""),
                                    await request.body())
        except ValueError:
            return _error(400, "Request must be multipart/form-data with person_images and "
                               "garment_images files.")
        found: dict[str, list[Part]] = {}
        for part in parts:
            found.setdefault(part.name, []).append(part)
        images: dict[str, bytes] = {}
        for name in ("person_images", "garment_images"):
            items = found.get(name, [])
            if not items:
                return _error(400, f"Missing {name} file.")
            if len(items) > 1:
                return _error(400, f"Currently only one {name} file is supported.")
            part = items[0]
            if part.filename is None:
                return _error(400, f"{name} must be a file; public URLs are not currently "
                                   "supported.")
            try:
                with Image.open(io.BytesIO(part.data)) as img:
                    img.verify()
            except Exception:
                return _error(400, f"{name} is not a valid image (invalid format).")
            images[name] = part.data
        if self.credits is not None:
            if self.credits <= 0:
                return _error(402, "Insufficient credits.")
            self.credits -= 1
        job_id = str(uuid.uuid4())
        job = EmuJob(job_id, key, time.monotonic(), _now(), images["person_images"],
                     images["garment_images"])
        if self._failures:
            job.fail_code, job.fail_message = self._failures.pop(0)
        self.jobs[job_id] = job
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        status_url = f"/api/v1/tryon/status/{job_id}"
        if self.absolute_status_url:
            status_url = self.public_url + status_url
        return JSONResponse({"jobId": job_id, "statusUrl": status_url}, status_code=202)

    async def status(self, request: Request) -> JSONResponse:
        key = self._key(request)
        if key is None:
            return _error(401, "Invalid or missing API key.")
        job = self.jobs.get(request.path_params["job_id"])
        if job is None:
            return _error(404, "Job not found.")
        if job.key != key:
            return _error(403, "You do not have permission to access this job.")
        body: dict[str, Any] = {"jobId": job.id, "createdAt": job.created_at}
        if not self.ready(job.created):
            body.update(status="processing", message="Job is still processing.", result={},
                        updatedAt=job.created_at)
            return JSONResponse(body)
        if job.finished_at is None:  # the verdict, given for the first time
            self.active -= 1
        job.finished_at = job.finished_at or _now()
        body["updatedAt"] = job.finished_at
        if job.fail_code is not None:
            body.update(status="failed", error=job.fail_message, errorCode=job.fail_code,
                        result={"error": job.fail_message, "errorCode": job.fail_code,
                                "step": "tryon-generation"})
            return JSONResponse(body)
        if job.image is None:
            job.image = derive_image([job.person, job.garment], job.id)
        body.update(status="completed", result={"objectKey": f"results/{job.id}.png"})
        mode = self.result_mode
        if mode in ("url", "both", "result_image_url"):
            if job.image_url is None:  # signed once, like a stored object's link
                job.image_url = self.result_url(job.image, "image/png")
            body["resultImageUrl" if mode == "result_image_url" else "imageUrl"] = job.image_url
        if mode in ("base64", "both"):
            body["imageBase64"] = base64.b64encode(job.image).decode("ascii")
        if mode == "data_uri":
            body["imageBase64"] = "data:image/png;base64," + base64.b64encode(
                job.image).decode("ascii")
        return JSONResponse(body)
