"""An emulator of the FitInView Try-On API (OpenAPI 3.1), as the document describes it.

- Bearer auth: a missing or unknown key -> 401 `{"detail": ...}`; a revoked key -> 403. Keys
  starting `fiv_test_` are test keys: no charge, a stock image, `test_mode: true`.
- `POST /api/v1/tryon`: schema checks -> 422 (FastAPI's `HTTPValidationError`), business rules
  (person URL and base64 both or neither, 1-3 garments in total, metadata limits, bad base64,
  unreachable URL) -> 400, too few credits -> 402, `Idempotency-Key` replayed for the same body,
  409 for another body. `wait=true` blocks for the job (capped at `sync_timeout`).
- Jobs go queued -> running -> succeeded|failed over `job_delay`; results are PNGs derived from
  the inputs and served under expiring URLs, signed afresh on every poll.
- `GET /api/v1/tryon` lists jobs newest first with `cursor`, `limit` and `status_filter`.
- `GET /api/v1/account`, `POST /api/v1/credits/purchase` (Stripe SPT, emulated by token text).
- A per-key rate limit with `X-RateLimit-Limit/Remaining/Reset` on every answer and `Retry-After`
  on a 429.

Where the document is silent (job error codes, pack sizes, refunds) the emulator's choices are
attributes a test can change.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import io
import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from PIL import Image
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.emulators.kit import Emulator, Receive, Scope, Send, derive_image

COSTS = {"1K": 8, "2K": 12, "4K": 20}
SIDES = {"1K": 1024, "2K": 2048, "4K": 4096}
STATUSES = ("queued", "running", "succeeded", "failed")
#: Not documented: the emulator's choice of failed-job codes.
JOB_ERROR_CODES = {
    "no_person_detected": "No person could be found in the person photo.",
    "garment_unreadable": "A garment image could not be understood.",
    "content_policy": "The request was blocked by the content policy.",
    "model_error": "The try-on model failed; credits were refunded.",
}
#: Not documented: credits per pack.
PACKS = {"demo": 50, "starter": 500, "pro": 2500, "scale": 10000, "enterprise": 50000}
_FIELD_LIMITS = {"person_url": 2000, "person_image_b64": 14_000_000, "style_hint": 500,
                 "prompt": 1000, "negative_prompt": 500, "webhook_url": 2000}


@dataclass
class EmuJob:
    job_id: str
    key: str
    created: float
    created_at: str
    request: dict[str, Any]
    inputs: list[bytes]
    cost: int
    test_mode: bool
    seed: int
    error: tuple[str, str] | None = None
    result: bytes | None = None
    completed_at: str | None = None

    def status(self, emu: FitInViewEmulator) -> str:
        age = time.monotonic() - self.created
        if age < emu.job_delay / 2:
            return "queued"
        if age < emu.job_delay:
            return "running"
        return "failed" if self.error else "succeeded"


@dataclass
class Account:
    name: str
    credits: int
    revoked: bool = False
    total_calls: int = 0
    calls: list[float] = field(default_factory=list)


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _detail(status: int, text: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": text}, status_code=status, headers=headers)


def _invalid(loc: list[Any], msg: str, kind: str) -> JSONResponse:
    return JSONResponse({"detail": [{"loc": loc, "msg": msg, "type": kind}]}, status_code=422)


class _LostResponse(Response):
    """The job was created, then the connection broke before the answer arrived."""

    def __init__(self) -> None:
        super().__init__(b"")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", b"200")]})
        await send({"type": "http.response.body", "body": b'{"job_id": "job_', "more_body": False})


class FitInViewEmulator(Emulator):
    default_key = "fiv_live_emulator"
    test_key = "fiv_test_emulator"

    def __init__(self, *, api_key: str | None = None, job_delay: float = 0.2,
                 url_ttl: float = 300.0, credits: int = 1000, rate_limit_per_min: int = 600,
                 max_result_side: int = 256, sync_timeout: float = 90.0) -> None:
        super().__init__(api_key=api_key, job_delay=job_delay, url_ttl=url_ttl)
        self.accounts: dict[str, Account] = {
            self.api_key: Account("Emulator live key", credits),
            self.test_key: Account("Emulator test key", 0),
        }
        self.rate_limit_per_min = rate_limit_per_min
        self.max_result_side = max_result_side
        self.sync_timeout = sync_timeout
        self.jobs: dict[str, EmuJob] = {}
        self.order: list[str] = []  # oldest first
        self.idempotency: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        self.failures: list[tuple[str, str]] = []
        self.lose_submit_responses = 0
        self.allow_http_urls = True
        self.used_tokens: set[str] = set()
        self.webhook_urls: list[str] = []
        self._counter = itertools.count(1)
        self._state_lock = threading.Lock()
        self.stock_image = _stock_png()

    # -- scripting ---------------------------------------------------------------------------
    def fail_next(self, code: str, message: str | None = None) -> None:
        """The next submitted job fails with `code` (a JOB_ERROR_CODES key or any text)."""
        self.failures.append((code, message or JOB_ERROR_CODES.get(code, "The job failed.")))

    def revoke(self, key: str | None = None) -> None:
        self.accounts[key or self.api_key].revoked = True

    def routes(self) -> list[Route]:
        return [
            Route("/api/v1/tryon", self.submit, methods=["POST"]),
            Route("/api/v1/tryon", self.list_jobs, methods=["GET"]),
            Route("/api/v1/tryon/{job_id}", self.get_job, methods=["GET"]),
            Route("/api/v1/account", self.account, methods=["GET"]),
            Route("/api/v1/credits/purchase", self.purchase, methods=["POST"]),
        ]

    # -- auth and rate limit -----------------------------------------------------------------
    def _authorize(self, request: Request) -> tuple[Account | None, str, Response | None]:
        header = request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        account = self.accounts.get(key.strip()) if scheme.lower() == "bearer" else None
        if account is None:
            return None, "", _detail(401, "Invalid or missing API key")
        if account.revoked:
            return None, "", _detail(403, "API key revoked")
        now = time.monotonic()
        with self._state_lock:
            account.calls = [t for t in account.calls if now - t < 60.0]
            if len(account.calls) >= self.rate_limit_per_min:
                retry = max(1, round(60.0 - (now - account.calls[0])))
                return None, "", _detail(429, "Rate limit exceeded", {
                    **self._limit_headers(account, now), "Retry-After": str(retry)})
            account.calls.append(now)
        return account, key.strip(), None

    def _limit_headers(self, account: Account, now: float) -> dict[str, str]:
        reset = 60.0 - (now - account.calls[0]) if account.calls else 60.0
        return {
            "X-RateLimit-Limit": str(self.rate_limit_per_min),
            "X-RateLimit-Remaining": str(max(0, self.rate_limit_per_min - len(account.calls))),
            "X-RateLimit-Reset": str(max(0, round(reset))),
        }

    def _reply(self, account: Account, body: Any, status: int = 200) -> JSONResponse:
        return JSONResponse(body, status_code=status,
                            headers=self._limit_headers(account, time.monotonic()))

    # -- submit ------------------------------------------------------------------------------
    async def submit(self, request: Request) -> Response:
        account, key, denied = self._authorize(request)
        if denied is not None or account is None:
            return denied  # type: ignore[return-value]
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            return _invalid(["body"], "JSON decode error", "json_invalid")
        if not isinstance(body, dict):
            return _invalid(["body"], "Input should be a valid dictionary", "dict_type")
        problem = _schema_errors(body)
        if problem is not None:
            return problem
        idem = request.headers.get("idempotency-key")
        if idem is not None and len(idem) > 200:
            return _invalid(["header", "Idempotency-Key"],
                            "String should have at most 200 characters", "string_too_long")
        digest = hashlib.sha256(raw).hexdigest()
        if idem:
            with self._state_lock:
                seen = self.idempotency.get((key, idem))
            if seen is not None:
                if seen[0] != digest:
                    return _detail(409, "Idempotency-Key reused with a different request body")
                return self._reply(account, seen[1])
        rule = _rule_errors(body)
        if rule:
            return _detail(400, rule)
        try:
            inputs = await self._inputs(body)
        except ValueError as exc:
            return _detail(400, str(exc))
        size = body.get("output_size", "1K")
        test_mode = key.startswith("fiv_test_")
        cost = 0 if test_mode else COSTS[size]
        with self._state_lock:
            if account.credits < cost:
                return _detail(402, f"Insufficient credits: a {size} try-on costs {cost} "
                                    f"credits, {account.credits} remaining")
            account.credits -= cost
            account.total_calls += 1
            job_id = f"job_{next(self._counter):04d}{secrets.token_hex(4)}"
            seed = body.get("seed")
            job = EmuJob(
                job_id=job_id, key=key, created=time.monotonic(), created_at=_now_iso(),
                request=body, inputs=inputs, cost=cost, test_mode=test_mode,
                seed=seed if isinstance(seed, int) else secrets.randbelow(2**31),
                error=self.failures.pop(0) if self.failures else None,
            )
            self.jobs[job_id] = job
            self.order.append(job_id)
            if body.get("webhook_url"):
                self.webhook_urls.append(body["webhook_url"])
        if body.get("wait", True):
            await asyncio.sleep(min(self.job_delay, self.sync_timeout))
        answer = self._submit_answer(job, account, body.get("wait", True))
        if idem:
            with self._state_lock:
                self.idempotency[(key, idem)] = (digest, answer)
        if self.lose_submit_responses > 0:
            self.lose_submit_responses -= 1
            return _LostResponse()
        return self._reply(account, answer)

    def _submit_answer(self, job: EmuJob, account: Account, wait: bool) -> dict[str, Any]:
        status = job.status(self)
        answer: dict[str, Any] = {
            "job_id": job.job_id, "status": status, "result_url": None,
            "cost_credits": job.cost, "credits_remaining": account.credits,
            "seed": job.seed, "metadata": job.request.get("metadata"),
            "test_mode": job.test_mode, "error_code": None, "error_message": None,
            "message": None,
        }
        if wait and status == "succeeded":
            answer["result_url"] = self.result_url(self._result(job), "image/png")
        elif wait and status == "failed" and job.error:
            answer["error_code"], answer["error_message"] = job.error
        elif wait:
            answer["message"] = "Still running after the sync timeout; poll the job id."
        return answer

    async def _inputs(self, body: dict[str, Any]) -> list[bytes]:
        """Person first, then garments (URLs, then base64), as bytes that decode as images."""
        blobs: list[bytes] = []
        if body.get("person_url"):
            blobs.append(await self._fetch(body["person_url"], "person_url"))
        else:
            blobs.append(_decode(body["person_image_b64"], "person_image_b64"))
        for i, url in enumerate(body.get("garment_urls") or []):
            blobs.append(await self._fetch(url, f"garment_urls[{i}]"))
        for i, text in enumerate(body.get("garment_images_b64") or []):
            blobs.append(_decode(text, f"garment_images_b64[{i}]"))
        for blob in blobs:
            try:
                Image.open(io.BytesIO(blob)).verify()
            except Exception:
                raise ValueError("An input is not a readable image") from None
        return blobs

    async def _fetch(self, url: str, where: str) -> bytes:
        lowered = url.lower()
        if not (lowered.startswith("https://")
                or (self.allow_http_urls and lowered.startswith("http://"))):
            raise ValueError(f"{where}: blocked URL (only https URLs are fetched)")
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(url)
        except httpx.HTTPError:
            raise ValueError(f"{where}: the URL could not be fetched") from None
        if response.status_code != 200:
            raise ValueError(f"{where}: fetching the URL gave HTTP {response.status_code}")
        return response.content

    def _result(self, job: EmuJob) -> bytes:
        if job.result is None:
            if job.test_mode:
                job.result = self.stock_image
            else:
                first = Image.open(io.BytesIO(job.inputs[0]))
                side = min(SIDES[job.request.get("output_size", "1K")], self.max_result_side)
                scale = side / max(first.size)
                size = (max(1, round(first.width * scale)), max(1, round(first.height * scale)))
                job.result = derive_image(job.inputs, job.job_id, size=size)
        return job.result

    # -- status and list ---------------------------------------------------------------------
    def _status(self, job: EmuJob) -> dict[str, Any]:
        status = job.status(self)
        out: dict[str, Any] = {
            "job_id": job.job_id, "status": status, "result_url": None, "result_width": None,
            "result_height": None, "result_bytes": None, "result_content_type": None,
            "seed": job.seed, "metadata": job.request.get("metadata"), "error_code": None,
            "error_message": None, "cost_credits": job.cost, "duration_ms": None,
            "created_at": job.created_at, "completed_at": None,
        }
        if status in ("succeeded", "failed"):
            job.completed_at = job.completed_at or _now_iso()
            out["completed_at"] = job.completed_at
            out["duration_ms"] = round(self.job_delay * 1000)
        if status == "succeeded":
            data = self._result(job)
            with Image.open(io.BytesIO(data)) as img:
                out["result_width"], out["result_height"] = img.size
            out.update(result_url=self.result_url(data, "image/png"), result_bytes=len(data),
                       result_content_type="image/png")
        elif status == "failed" and job.error:
            out["error_code"], out["error_message"] = job.error
        return out

    async def get_job(self, request: Request) -> Response:
        account, key, denied = self._authorize(request)
        if denied is not None or account is None:
            return denied  # type: ignore[return-value]
        job = self.jobs.get(request.path_params["job_id"])
        if job is None or job.key != key:
            return _detail(404, "Job not found")
        return self._reply(account, self._status(job))

    async def list_jobs(self, request: Request) -> Response:
        account, key, denied = self._authorize(request)
        if denied is not None or account is None:
            return denied  # type: ignore[return-value]
        raw_limit = request.query_params.get("limit", "20")
        try:
            limit = int(raw_limit)
        except ValueError:
            return _invalid(["query", "limit"], "Input should be a valid integer", "int_parsing")
        # The parameter is `status_filter`; the description says `?status=`: accept both.
        wanted = request.query_params.get("status_filter") or request.query_params.get("status")
        if wanted is not None and wanted not in STATUSES:
            return _invalid(["query", "status_filter"],
                            "Input should be 'queued', 'running', 'succeeded' or 'failed'",
                            "enum")
        mine = [self.jobs[j] for j in reversed(self.order) if self.jobs[j].key == key]
        if wanted:
            mine = [j for j in mine if j.status(self) == wanted]
        start = 0
        cursor = request.query_params.get("cursor")
        if cursor:
            try:
                start = int(base64.urlsafe_b64decode(cursor.encode()).decode())
            except (ValueError, binascii.Error):
                return _detail(400, "Invalid cursor")
        page = mine[start:start + max(1, limit)]
        end = start + len(page)
        next_cursor = (base64.urlsafe_b64encode(str(end).encode()).decode()
                       if end < len(mine) else None)
        return self._reply(account, {"jobs": [self._status(j) for j in page],
                                     "next_cursor": next_cursor})

    # -- account -----------------------------------------------------------------------------
    async def account(self, request: Request) -> Response:
        account, _key, denied = self._authorize(request)
        if denied is not None or account is None:
            return denied  # type: ignore[return-value]
        return self._reply(account, {
            "name": account.name, "credits_remaining": account.credits,
            "rate_limit_per_min": self.rate_limit_per_min, "total_calls": account.total_calls,
            "tryon_cost_credits": dict(COSTS),
        })

    async def purchase(self, request: Request) -> Response:
        """Token text decides the emulated Stripe outcome: `spt_declined*` -> 402,
        `spt_action*` -> requires_action (no credits yet), anything else -> succeeded."""
        account, _key, denied = self._authorize(request)
        if denied is not None or account is None:
            return denied  # type: ignore[return-value]
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _invalid(["body"], "JSON decode error", "json_invalid")
        if not isinstance(body, dict):
            return _invalid(["body"], "Input should be a valid dictionary", "dict_type")
        for name in ("pack_slug", "shared_payment_granted_token"):
            if not isinstance(body.get(name), str):
                return _invalid(["body", name], "Field required", "missing")
        token, slug = body["shared_payment_granted_token"], body["pack_slug"]
        if not 4 <= len(token) <= 200:
            return _invalid(["body", "shared_payment_granted_token"],
                            "String should have 4 to 200 characters", "string_too_short")
        if slug not in PACKS:
            return _detail(400, f"Unknown pack slug '{slug}'")
        if not token.startswith("spt_"):
            return _detail(400, "Invalid shared payment token")
        if token in self.used_tokens:
            return _detail(409, "PaymentIntent already processed for this token")
        if token.startswith("spt_declined"):
            return _detail(402, "Payment failed: card declined")
        self.used_tokens.add(token)
        pending = token.startswith("spt_action")
        added = 0 if pending else PACKS[slug]
        with self._state_lock:
            account.credits += added
        return self._reply(account, {
            "payment_intent_id": f"pi_{secrets.token_hex(6)}",
            "status": "requires_action" if pending else "succeeded", "pack_slug": slug,
            "credits_added": added, "credits_remaining": account.credits,
            "next_action": {"type": "use_stripe_sdk"} if pending else None,
        })


def _schema_errors(body: dict[str, Any]) -> JSONResponse | None:
    """What FastAPI/pydantic would refuse with 422 for TryOnRequest."""
    for name, limit in _FIELD_LIMITS.items():
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            return _invalid(["body", name], "Input should be a valid string", "string_type")
        if len(value) > limit:
            return _invalid(["body", name], f"String should have at most {limit} characters",
                            "string_too_long")
    for name in ("garment_urls", "garment_images_b64"):
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return _invalid(["body", name], "Input should be a valid list of strings",
                            "list_type")
        if len(value) > 3:
            return _invalid(["body", name], "List should have at most 3 items after validation",
                            "too_long")
    size = body.get("output_size", "1K")
    if size not in COSTS:
        return _invalid(["body", "output_size"], "Input should be '1K', '2K' or '4K'", "enum")
    if "wait" in body and not isinstance(body["wait"], bool):
        return _invalid(["body", "wait"], "Input should be a valid boolean", "bool_type")
    seed = body.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)
                             or not 0 <= seed <= 2147483647):
        return _invalid(["body", "seed"], "Input should be an integer from 0 to 2147483647",
                        "int_range")
    meta = body.get("metadata")
    if meta is not None and not isinstance(meta, dict):
        return _invalid(["body", "metadata"], "Input should be a valid dictionary", "dict_type")
    return None


def _rule_errors(body: dict[str, Any]) -> str:
    """The documented rules beyond the schema (answered with 400)."""
    has_url, has_b64 = bool(body.get("person_url")), bool(body.get("person_image_b64"))
    if has_url and has_b64:
        return "Provide either person_url or person_image_b64, not both"
    if not has_url and not has_b64:
        return "Provide person_url or person_image_b64"
    total = len(body.get("garment_urls") or []) + len(body.get("garment_images_b64") or [])
    if not 1 <= total <= 3:
        return f"Provide 1-3 garments in total (got {total})"
    meta = body.get("metadata") or {}
    if len(meta) > 8:
        return "metadata may have at most 8 keys"
    for k, v in meta.items():
        if len(str(k)) > 256 or len(str(v)) > 256:
            return "metadata keys and values may be at most 256 characters"
    return ""


def _decode(text: str, where: str) -> bytes:
    if text.startswith("data:"):
        raise ValueError(f"{where}: base64 must not have a data: prefix")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where}: malformed base64") from None
    if len(data) > 10 * 1024 * 1024:
        raise ValueError(f"{where}: image larger than 10 MB")
    return data


def _stock_png() -> bytes:
    """The fixed picture test keys get back."""
    img = Image.new("RGB", (96, 128), (128, 128, 128))
    img.paste(Image.new("RGB", (48, 64), (250, 200, 0)), (24, 32))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()
