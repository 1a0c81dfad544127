"""FitInView adapter against its emulator over real HTTP: the wire format, idempotent retries,
reconciliation through the job list, the account, every fault of the house list, whole jobs
through the JobEngine and the CLI."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from desktop import cli
from desktop.core.assets import AssetStore
from desktop.core.engine import EnginePolicy, JobEngine
from desktop.core.model import ErrorCode, Job, JobSpec, JobState
from desktop.core.store import History
from desktop.providers import registry
from desktop.providers.base import (
    PreparedInput,
    PreparedJob,
    ProviderConfig,
    ProviderError,
    RemoteOutput,
    RemoteRef,
    RemoteState,
    RemoteStatus,
)
from desktop.providers.fitinview import (
    DEFAULT_BASE_URL,
    DEFAULT_PURCHASE_URL,
    METADATA_JOB_KEY,
    FitInViewProvider,
)
from desktop.providers.http import UrlSourceLoader
from tests.emulators.fitinview import JOB_ERROR_CODES, FitInViewEmulator
from tests.emulators.kit import Fault, derive_image, serve
from tests.fakes import png_bytes
from tests.refusals import refused_before_storing
from tests.support import (
    LEAKED_TOKEN,
    Sleeps,
    assert_no_secret,
    leaky_words,
    remote_provider,
    run,
)

KEY = FitInViewEmulator.default_key
PERSON = png_bytes((200, 150, 120), (96, 128))
GARMENT = png_bytes((20, 160, 60), (64, 64))
GARMENT2 = png_bytes((30, 30, 200), (64, 64))
SUBMIT = "/api/v1/tryon"


def provider(base: str | None, key: str | None = KEY, *, sleeps: Sleeps | None = None,
             read: float = 5.0, **kw: Any) -> FitInViewProvider:
    return remote_provider(FitInViewProvider, base, key, sleeps=sleeps, read=read, **kw)


def item(role: str, data: bytes, url: str | None = None, n: int = 0) -> PreparedInput:
    return PreparedInput(role=role, data=data, mime="image/png", width=1, height=1,
                         sha256=f"{role}-{n}", source_url=url, filename=f"{role}{n}.png")


def job(job_id: str = "local-1", *, garments: list[bytes] | None = None,
        params: dict[str, Any] | None = None, **kw: Any) -> PreparedJob:
    inputs = kw.pop("inputs", None) or {
        "person": [item("person", PERSON)],
        "garment": [item("garment", g, n=i) for i, g in enumerate(garments or [GARMENT])],
    }
    return PreparedJob(job_id=job_id, task=kw.pop("task", "tryon"), inputs=inputs,
                       params=params or {})


async def until_done(p: FitInViewProvider, ref: RemoteRef, limit: int = 300) -> RemoteStatus:
    for _ in range(limit):
        status = await p.poll(ref)
        if status.state.terminal:
            return status
        await asyncio.sleep(0.01)
    raise AssertionError("the job never finished")


async def submit_and_collect(p: FitInViewProvider, pjob: PreparedJob | None = None
                             ) -> tuple[RemoteRef, RemoteStatus, bytes | None]:
    try:
        ref = await p.submit(pjob or job())
        status = await until_done(p, ref)
        data = await p.fetch(status.outputs[0]) if status.outputs else None
        return ref, status, data
    finally:
        await p.aclose()


def expect_error(coro: Awaitable[Any]) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        run(coro)
    return caught.value


async def closing(p: FitInViewProvider, coro: Awaitable[Any]) -> Any:
    try:
        return await coro
    finally:
        await p.aclose()


# -- happy paths -------------------------------------------------------------------------------
def test_submit_poll_fetch_over_the_wire() -> None:
    emu = FitInViewEmulator(job_delay=0.05)
    p = provider(None)
    with serve(emu) as base:
        p = provider(base)
        ref, status, data = run(submit_and_collect(p, job(params={"output_size": "2K"})))
    assert ref.remote_id.startswith("job_") and ref.cost_credits == 12
    assert ref.data["idempotency_key"] == FitInViewProvider.idempotency_key(job())
    assert status.state == RemoteState.SUCCEEDED and status.progress == 1.0
    assert status.cost_credits == 12 and status.outputs[0].mime == "image/png"
    # 2K is capped at the emulator's 256 px: the 96x128 person is scaled to 192x256.
    assert data == derive_image([PERSON, GARMENT], ref.remote_id, size=(192, 256))
    [post] = emu.requests_to("POST", SUBMIT)
    assert post.headers["authorization"] == f"Bearer {KEY}"
    assert post.headers["idempotency-key"] == ref.data["idempotency_key"]
    body = post.json()
    assert body == {
        "wait": False, "output_size": "2K",
        "person_image_b64": base64.b64encode(PERSON).decode(),
        "garment_images_b64": [base64.b64encode(GARMENT).decode()],
        "metadata": {METADATA_JOB_KEY: "local-1"},
    }
    polls = emu.requests_to("GET", f"{SUBMIT}/{ref.remote_id}")
    assert len(polls) >= 2  # queued/running first (job_delay), then succeeded
    assert len(emu.requests_to("GET", "/results/")) == 1
    assert emu.accounts[KEY].credits == 1000 - 12


def test_the_idempotency_key_belongs_to_the_local_job() -> None:
    a, b = FitInViewProvider.idempotency_key(job("a")), FitInViewProvider.idempotency_key(job("b"))
    assert a != b and a == FitInViewProvider.idempotency_key(job("a", garments=[GARMENT2]))
    assert len(a) <= 200


def test_url_inputs_are_sent_as_urls_and_garments_may_be_mixed() -> None:
    emu = FitInViewEmulator(job_delay=0.0)
    with serve(emu) as base:
        person_url = emu.result_url(PERSON, "image/png")
        garment_url = emu.result_url(GARMENT2, "image/png")
        pjob = job(inputs={
            "person": [item("person", PERSON, person_url)],
            "garment": [item("garment", GARMENT, n=0), item("garment", GARMENT2, garment_url, 1),
                        item("garment", GARMENT, n=2)],
        })
        ref, status, data = run(submit_and_collect(provider(base, url_inputs="any"), pjob))
        # The default sends only https URLs; an http one goes as base64.
        emu.requests.clear()
        run(closing(p := provider(base), p.submit(job("local-2", inputs=pjob.inputs))))
    assert status.state == RemoteState.SUCCEEDED
    first = emu.jobs[ref.remote_id].request
    assert first["person_url"] == person_url and "person_image_b64" not in first
    assert first["garment_urls"] == [garment_url]
    assert first["garment_images_b64"] == [base64.b64encode(GARMENT).decode()] * 2
    # The emulator fetched the URLs: person first, then URL garments, then base64 ones.
    assert data == derive_image([PERSON, GARMENT2, GARMENT, GARMENT], ref.remote_id,
                                size=(192, 256))
    second = emu.requests_to("POST", SUBMIT)[0].json()
    assert "person_url" not in second and "garment_urls" not in second
    assert len(second["garment_images_b64"]) == 3


def test_every_parameter_goes_over_the_wire() -> None:
    emu = FitInViewEmulator(job_delay=0.0)
    params = {"output_size": "4K", "prompt": "On a beach at golden hour", "negative_prompt":
              "hats", "seed": 1234, "metadata": {"order_id": "ord_42"},
              "webhook_url": "https://hooks.example/fiv", "style_hint": "casual"}
    with serve(emu) as base:
        ref, status, _ = run(submit_and_collect(provider(base), job(params=params)))
    body = emu.requests_to("POST", SUBMIT)[0].json()
    assert {k: body[k] for k in params if k != "metadata"} == {
        k: v for k, v in params.items() if k != "metadata"}
    assert body["metadata"] == {"order_id": "ord_42", METADATA_JOB_KEY: "local-1"}
    assert ref.data["seed"] == 1234 and ref.cost_credits == 20
    assert emu.webhook_urls == ["https://hooks.example/fiv"]
    assert status.state == RemoteState.SUCCEEDED


@pytest.mark.parametrize(("pjob", "needle"), [
    (job(garments=[GARMENT] * 4), "at most 3 garment"),
    (job(inputs={"person": [item("person", PERSON)]}), "1 garment"),
    (job(params={"output_size": "8K"}), "output_size"),
    (job(params={"seed": -1}), "seed"),
    (job(params={"prompt": "x" * 1001}), "at most 1000"),
    (job(params={"negative_prompt": "x" * 501}), "at most 500"),
    (job(params={"metadata": {f"k{i}": i for i in range(8)}}), "at most 7"),
    (job(params={"metadata": {"a": {"nested": 1}}}), "not a list or an object"),
    (job(params={"metadata": {"a": "x" * 257}}), "256"),
    (job(params={"metadata": "[1, 2]"}), "JSON object"),
    (job(params={"webhook_url": "ftp://x"}), "webhook_url"),
    (job(params={"colour": "red"}), "no parameter 'colour'"),
    (job(task="staging"), "no task 'staging'"),
])
def test_bad_input_is_refused_before_any_request(pjob: PreparedJob, needle: str) -> None:
    emu = FitInViewEmulator()
    with serve(emu) as base:
        err = expect_error(closing(p := provider(base), p.submit(pjob)))
    assert err.code == ErrorCode.INVALID_INPUT and needle in err.message, err.message
    assert emu.requests == []


def test_missing_key_sends_nothing_and_class_data() -> None:
    emu = FitInViewEmulator()
    with serve(emu) as base:
        err = expect_error(closing(p := provider(base, key=None), p.submit(job())))
    assert err.code == ErrorCode.MISSING_KEY and emu.requests == []
    assert FitInViewProvider.default_base_url == DEFAULT_BASE_URL == "https://api.fitinview.com"
    assert not FitInViewProvider.needs_base_url and FitInViewProvider.needs_key
    assert FitInViewProvider.accepts_urls and FitInViewProvider.supports_reconcile
    assert FitInViewProvider.supports_account and not FitInViewProvider.supports_cancel
    made = FitInViewProvider.from_config(ProviderConfig(key_source=lambda: "fiv_live_x",
                                                        extra={"url_inputs": "never"}))
    assert made.client.base_url == DEFAULT_BASE_URL and made.url_inputs == "never"
    assert "fiv_live_x" not in repr(made)
    task = made.task("tryon")
    assert task is not None and task.param("output_size").choices == ("1K", "2K", "4K")
    assert [(r.role, r.min_count, r.max_count) for r in task.inputs] == [
        ("person", 1, 1), ("garment", 1, 3)]


# -- the emulator follows the document ---------------------------------------------------------
def test_emulator_validates_as_documented() -> None:
    emu = FitInViewEmulator(job_delay=0.0)
    b64 = base64.b64encode(PERSON).decode()
    g64 = base64.b64encode(GARMENT).decode()
    auth = {"Authorization": f"Bearer {KEY}"}
    with serve(emu) as base, httpx.Client(base_url=base, headers=auth) as client:
        def post(body: dict[str, Any]) -> httpx.Response:
            return client.post(SUBMIT, json={"wait": False, **body})

        both = post({"person_url": "https://x/p.png", "person_image_b64": b64,
                     "garment_images_b64": [g64]})
        assert both.status_code == 400 and "not both" in both.json()["detail"]
        assert post({"garment_images_b64": [g64]}).status_code == 400
        assert post({"person_image_b64": b64}).status_code == 400  # no garment
        too_many = post({"person_image_b64": b64, "garment_images_b64": [g64] * 2,
                         "garment_urls": ["https://x/a.png"] * 2})
        assert too_many.status_code == 400 and "1-3" in too_many.json()["detail"]
        four = post({"person_image_b64": b64, "garment_urls": ["https://x/a.png"] * 4})
        assert four.status_code == 422 and four.json()["detail"][0]["loc"] == [
            "body", "garment_urls"]
        assert post({"person_image_b64": b64, "garment_images_b64": [g64],
                     "output_size": "8K"}).status_code == 422
        assert post({"person_image_b64": "%%%", "garment_images_b64": [g64]}).status_code == 400
        sync = client.post(SUBMIT, json={"person_image_b64": b64, "garment_images_b64": [g64]})
        assert sync.status_code == 200 and sync.json()["status"] == "succeeded"
        assert client.get(sync.json()["result_url"]).content[:8] == b"\x89PNG\r\n\x1a\n"
        assert client.get(f"{SUBMIT}/job_nope").status_code == 404
        assert client.get(SUBMIT, params={"status_filter": "done"}).status_code == 422
        for headers in ({"Authorization": ""}, {"Authorization": "Bearer wrong"},
                        {"Authorization": f"Basic {KEY}"}):
            answer = client.get("/api/v1/account", headers=headers)
            assert answer.status_code == 401 and answer.json() == {
                "detail": "Invalid or missing API key"}
        limits = client.get("/api/v1/account")
        assert limits.headers["x-ratelimit-limit"] == "600"
        assert int(limits.headers["x-ratelimit-remaining"]) < 600


# -- idempotency, unknown outcomes and reconciliation ------------------------------------------
def test_lost_answer_is_retried_with_the_same_key_and_creates_one_job() -> None:
    emu = FitInViewEmulator(job_delay=0.0)
    emu.lose_submit_responses = 1
    sleeps = Sleeps()
    with serve(emu) as base:
        ref, status, _ = run(submit_and_collect(provider(base, sleeps=sleeps)))
    posts = emu.requests_to("POST", SUBMIT)
    assert len(posts) == 2 and len(emu.jobs) == 1 and ref.remote_id in emu.jobs
    assert posts[0].headers["idempotency-key"] == posts[1].headers["idempotency-key"]
    assert posts[0].body == posts[1].body
    assert emu.accounts[KEY].credits == 1000 - 8  # charged once
    assert status.state == RemoteState.SUCCEEDED and len(sleeps.waits) == 1


@pytest.mark.parametrize("fault", [
    Fault("status", method="POST", path=SUBMIT, status=500, body={"detail": "boom"}),
    Fault("status", method="POST", path=SUBMIT, status=502, body={"detail": "bad gateway"}),
    Fault("status", method="POST", path=SUBMIT, status=503, body={"detail": "upstream busy"}),
    Fault("html", method="POST", path=SUBMIT),
    Fault("drop", method="POST", path=SUBMIT),
], ids=["500", "502", "503", "502-html", "drop"])
def test_server_errors_on_submit_are_retried_with_the_same_key(fault: Fault) -> None:
    emu = FitInViewEmulator(job_delay=0.0)
    emu.inject(fault)
    with serve(emu) as base:
        ref, status, _ = run(submit_and_collect(provider(base)))
    posts = emu.requests_to("POST", SUBMIT)
    assert len(posts) == 2 and len({p.headers["idempotency-key"] for p in posts}) == 1
    assert list(emu.jobs) == [ref.remote_id] and status.state == RemoteState.SUCCEEDED


def test_slow_submit_past_the_timeout_still_makes_one_job() -> None:
    emu = FitInViewEmulator(job_delay=0.0)
    emu.inject(Fault("slow", method="POST", path=SUBMIT, delay=1.0))

    async def main(base: str) -> RemoteRef:
        p = provider(base, read=0.3)
        try:
            ref = await p.submit(job())
            await asyncio.sleep(1.2)  # the first attempt completes on the server meanwhile
            return ref
        finally:
            await p.aclose()

    with serve(emu) as base:
        ref = run(main(base))
    assert len(emu.requests_to("POST", SUBMIT)) == 2
    assert list(emu.jobs) == [ref.remote_id]


def test_unknown_outcome_without_retries_is_reconciled_through_the_list() -> None:
    emu = FitInViewEmulator(job_delay=0.0)
    emu.lose_submit_responses = 1

    async def main(base: str) -> tuple[ProviderError, RemoteRef | None]:
        p = provider(base, max_retries=0)
        try:
            with pytest.raises(ProviderError) as caught:
                await p.submit(job("local-77"))
            return caught.value, await p.reconcile(job("local-77"))
        finally:
            await p.aclose()

    with serve(emu) as base:
        err, ref = run(main(base))
    assert err.unknown_outcome and err.code == ErrorCode.NETWORK
    assert "may or may not have been created" in err.message
    assert ref is not None and ref.remote_id in emu.jobs and ref.data["reconciled"] is True
    assert len(emu.requests_to("POST", SUBMIT)) == 1
    [listing] = [r for r in emu.requests_to("GET", SUBMIT) if r.path == SUBMIT]
    assert listing.query == {"limit": "20"}


@pytest.mark.parametrize("fault", [Fault("malformed_json", method="POST", path=SUBMIT),
                                   Fault("drop", method="POST", path=SUBMIT)],
                         ids=["malformed", "drop"])
def test_unknown_outcome_where_nothing_was_created_reconciles_to_none(fault: Fault) -> None:
    emu = FitInViewEmulator(job_delay=0.0)
    emu.inject(fault)

    async def main(base: str) -> tuple[ProviderError, RemoteRef | None]:
        p = provider(base, max_retries=0)
        try:
            with pytest.raises(ProviderError) as caught:
                await p.submit(job())
            return caught.value, await p.reconcile(job())
        finally:
            await p.aclose()

    with serve(emu) as base:
        err, ref = run(main(base))
    assert err.unknown_outcome and ref is None and emu.jobs == {}


def test_reconcile_follows_the_cursor_and_the_list_filters_by_status() -> None:
    emu = FitInViewEmulator(job_delay=30.0)

    async def main(base: str) -> tuple[RemoteRef | None, Any, Any, RemoteRef | None]:
        p = provider(base, page_size=3)
        try:
            await p.submit(job("wanted"))
            for i in range(7):
                await p.submit(job(f"other-{i}"))
            found = await p.reconcile(job("wanted"))
            queued = await p.list_jobs(status="queued", limit=50)
            failed = await p.list_jobs(status="failed")
            missing = await p.reconcile(job("never-sent"))
            return found, queued, failed, missing
        finally:
            await p.aclose()

    with serve(emu) as base:
        found, queued, failed, missing = run(main(base))
    first = emu.order[0]
    assert found is not None and found.remote_id == first
    assert len(queued.jobs) == 8 and queued.next_cursor is None
    assert [j.metadata[METADATA_JOB_KEY] for j in queued.jobs][-1] == "wanted"  # newest first
    assert failed.jobs == () and missing is None
    lists = [r.query for r in emu.requests_to("GET", SUBMIT) if r.path == SUBMIT]
    assert lists[0] == {"limit": "3"} and "cursor" in lists[1] and "cursor" in lists[2]
    assert {"limit": "50", "status_filter": "queued"} in lists
    assert {"limit": "3", "status_filter": "failed"} in lists


def test_reused_key_with_another_body_is_a_conflict() -> None:
    emu = FitInViewEmulator(job_delay=0.0)

    async def main(base: str) -> ProviderError:
        p = provider(base)
        try:
            await p.submit(job("same"))
            with pytest.raises(ProviderError) as caught:
                await p.submit(job("same", params={"output_size": "2K"}))
            return caught.value
        finally:
            await p.aclose()

    with serve(emu) as base:
        err = run(main(base))
    assert err.code == ErrorCode.CONFLICT and err.http_status == 409
    assert "different request" in err.message and "reused" in err.message
    assert len(emu.requests_to("POST", SUBMIT)) == 2 and len(emu.jobs) == 1


# -- account errors ----------------------------------------------------------------------------
def test_out_of_credits_is_final_and_links_to_the_purchase_page() -> None:
    emu = FitInViewEmulator(credits=10)
    with serve(emu) as base:
        err = expect_error(closing(p := provider(base), p.submit(job(params={
            "output_size": "2K"}))))
    assert err.code == ErrorCode.INSUFFICIENT_CREDITS and err.http_status == 402
    assert DEFAULT_PURCHASE_URL in err.message and "Insufficient credits" in err.message
    assert len(emu.requests_to("POST", SUBMIT)) == 1 and emu.jobs == {}


def test_wrong_key_and_revoked_key() -> None:
    emu = FitInViewEmulator()
    with serve(emu) as base:
        err = expect_error(closing(p := provider(base, key="fiv_live_wrong"), p.account()))
        assert err.code == ErrorCode.AUTH_FAILED and "Invalid or missing API key" in err.message
        emu.revoke()
        for call in ("submit", "account", "poll", "list_jobs"):
            p = provider(base)
            coros = {"submit": p.submit(job()), "account": p.account(),
                     "poll": p.poll(RemoteRef("job_x")), "list_jobs": p.list_jobs()}
            coro = coros.pop(call)
            for unused in coros.values():
                unused.close()
            err = expect_error(closing(p, coro))
            assert err.code == ErrorCode.FORBIDDEN, call
            assert "not eligible" in err.message and "revoked" in err.message
    assert len(emu.requests_to("POST", SUBMIT)) == 1  # 403 is not retried


def test_rate_limit_waits_for_retry_after_then_succeeds() -> None:
    emu = FitInViewEmulator(job_delay=0.0)
    emu.inject(Fault("status", method="POST", path=SUBMIT, status=429,
                     body={"detail": "Rate limit exceeded"},
                     headers={"Retry-After": "2", "X-RateLimit-Limit": "60",
                              "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2"}))
    sleeps = Sleeps()
    with serve(emu) as base:
        _ref, status, _ = run(submit_and_collect(provider(base, sleeps=sleeps)))
    assert sleeps.waits[0] == 2.0 and status.state == RemoteState.SUCCEEDED
    posts = emu.requests_to("POST", SUBMIT)
    assert len(posts) == 2 and posts[0].headers["idempotency-key"] == posts[1].headers[
        "idempotency-key"]


def test_rate_limit_beyond_retries_reports_the_window() -> None:
    emu = FitInViewEmulator(rate_limit_per_min=2)
    sleeps = Sleeps()
    with serve(emu) as base:
        err = expect_error(closing(p := provider(base, sleeps=sleeps, max_retries=1),
                                   _three_accounts(p)))
    assert err.code == ErrorCode.RATE_LIMITED and err.http_status == 429
    assert err.retry_after is not None and 0 < err.retry_after <= 60
    assert "Rate limit: limit 2 requests, 0 left" in err.message
    assert len(sleeps.waits) == 1 and sleeps.waits[0] == err.retry_after


async def _three_accounts(p: FitInViewProvider) -> None:
    for _ in range(3):
        await p.account()


# -- polling faults ----------------------------------------------------------------------------
@pytest.mark.parametrize("fault", [
    Fault("status", method="GET", path=f"{SUBMIT}/", status=500),
    Fault("status", method="GET", path=f"{SUBMIT}/", status=503, headers={"Retry-After": "1"}),
    Fault("html", method="GET", path=f"{SUBMIT}/"),
    Fault("drop", method="GET", path=f"{SUBMIT}/"),
    Fault("slow", method="GET", path=f"{SUBMIT}/", delay=1.0),
], ids=["500", "503", "502-html", "drop", "slow"])
def test_poll_faults_are_retried(fault: Fault) -> None:
    emu = FitInViewEmulator(job_delay=0.0)
    with serve(emu) as base:
        emu.inject(fault)
        ref, status, data = run(submit_and_collect(provider(base, read=0.3)))
    assert status.state == RemoteState.SUCCEEDED and data
    assert len(emu.requests_to("GET", f"{SUBMIT}/{ref.remote_id}")) == 2


def test_poll_faults_that_persist_end_in_clear_errors() -> None:
    emu = FitInViewEmulator(job_delay=0.0)
    with serve(emu) as base:
        emu.inject(Fault("html", method="GET", path=f"{SUBMIT}/", times=10))
        err = expect_error(closing(p := provider(base, max_retries=2),
                                   p.poll(RemoteRef("job_x"))))
        assert err.code == ErrorCode.PROVIDER_UNAVAILABLE and "unexpected page" in err.message
        emu.faults.clear()
        emu.inject(Fault("malformed_json", method="GET", path=f"{SUBMIT}/"))
        err = expect_error(closing(p := provider(base), p.poll(RemoteRef("job_x"))))
        assert err.code == ErrorCode.PROVIDER_UNAVAILABLE and "not valid JSON" in err.message
        emu.inject(Fault("slow", method="GET", path=f"{SUBMIT}/", delay=1.0, times=3))
        err = expect_error(closing(p := provider(base, read=0.2, max_retries=2),
                                   p.poll(RemoteRef("job_x"))))
        assert err.code == ErrorCode.NETWORK and "did not answer" in err.message
        err = expect_error(closing(p := provider(base), p.poll(RemoteRef("job_unknown"))))
        assert err.code == ErrorCode.NOT_FOUND and "job_unknown" in err.message


@pytest.mark.parametrize("code", sorted(JOB_ERROR_CODES))
def test_each_job_error_code_fails_the_job(code: str) -> None:
    emu = FitInViewEmulator(job_delay=0.0)
    emu.fail_next(code)
    with serve(emu) as base:
        _ref, status, data = run(submit_and_collect(provider(base)))
    assert status.state == RemoteState.FAILED and data is None and status.error is not None
    assert status.error.code == ErrorCode.JOB_FAILED and status.error.provider_code == code
    assert JOB_ERROR_CODES[code] in status.error.message and code in status.error.message


# -- results -----------------------------------------------------------------------------------
def test_expired_link_is_signed_again_through_the_status() -> None:
    emu = FitInViewEmulator(job_delay=0.0)

    async def main(base: str) -> tuple[bytes, RemoteRef]:
        p = provider(base)
        try:
            ref = await p.submit(job())
            status = await until_done(p, ref)
            emu.results.expire_all()
            return await p.fetch(status.outputs[0]), ref
        finally:
            await p.aclose()

    with serve(emu) as base:
        data, ref = run(main(base))
    assert data == emu.jobs[ref.remote_id].result
    downloads = emu.requests_to("GET", "/results/")
    assert len(downloads) == 2 and downloads[0].path != downloads[1].path


def test_expired_result_url_is_result_unavailable_and_not_retried() -> None:
    emu = FitInViewEmulator(job_delay=0.0, url_ttl=0.0)
    with serve(emu) as base:
        err = expect_error(submit_and_collect(provider(base)))
    assert err.code == ErrorCode.RESULT_UNAVAILABLE and "expired" in err.message
    assert len(emu.requests_to("GET", "/results/")) == 2  # the old link and the re-signed one


def test_truncated_download_is_retried_then_given_up() -> None:
    emu = FitInViewEmulator(job_delay=0.0)
    with serve(emu) as base:
        emu.inject(Fault("truncate", path="/results/"))
        _ref, _status, data = run(submit_and_collect(provider(base)))
        assert data is not None and data[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(emu.requests_to("GET", "/results/")) == 2
        emu.inject(Fault("truncate", path="/results/", times=10))
        err = expect_error(submit_and_collect(provider(base, max_retries=2)))
    assert err.code == ErrorCode.RESULT_UNAVAILABLE and "breaking off" in err.message


def test_fetch_without_anything_to_fetch() -> None:
    p = provider("https://x.test")
    err = expect_error(p.fetch(RemoteOutput()))
    assert err.code == ErrorCode.RESULT_UNAVAILABLE


def test_test_mode_is_shown_and_costs_nothing() -> None:
    emu = FitInViewEmulator(job_delay=0.0)
    with serve(emu) as base:
        ref, status, data = run(submit_and_collect(provider(base, key=emu.test_key)))
    assert ref.data["test_mode"] is True and ref.cost_credits == 0
    assert "Test mode" in status.message and "test mode" in status.outputs[0].label
    assert data == emu.stock_image


# -- account and purchase ----------------------------------------------------------------------
def test_account_shows_credits_limits_costs_and_the_purchase_link() -> None:
    emu = FitInViewEmulator(credits=7)
    with serve(emu) as base:
        p = provider(base, purchase_url="https://fitinview.example/buy")
        info = run(closing(p, p.account()))
    assert info.provider == "fitinview" and info.credits == 7.0
    assert info.plan == "Emulator live key"
    assert info.limits == {"rate_limit_per_min": 600, "cost_1K": 8, "cost_2K": 12,
                           "cost_4K": 20}
    assert info.details["total_calls"] == 0 and info.details["rate_limit_remaining"] == "599"
    assert info.purchase_url == "https://fitinview.example/buy"
    assert "Not enough credits" in info.message  # 7 < 8, the cheapest size
    assert p.cost_for("4K") == 20 and p.cost_for("8K") is None
    assert emu.requests_to("GET", "/api/v1/account")[0].headers["authorization"] == (
        f"Bearer {KEY}")


def test_purchase_credits_with_a_shared_payment_token() -> None:
    emu = FitInViewEmulator(credits=0)
    with serve(emu) as base:
        p = provider(base)
        bought = run(closing(p, p.purchase_credits("starter", "spt_good_1")))
        assert bought.status == "succeeded" and bought.credits_added == 500
        assert bought.credits_remaining == 500 and bought.payment_intent_id.startswith("pi_")
        pending = run(closing(p, p.purchase_credits("pro", "spt_action_1")))
        assert pending.status == "requires_action" and pending.next_action is not None
        err = expect_error(closing(p, p.purchase_credits("starter", "spt_good_1")))
        assert err.code == ErrorCode.CONFLICT
        err = expect_error(closing(p, p.purchase_credits("demo", "spt_declined")))
        assert err.http_status == 402 and "declined" in err.message
        before = len(emu.requests)
        err = expect_error(closing(p, p.purchase_credits("mega", "spt_x")))
        assert err.code == ErrorCode.INVALID_INPUT and len(emu.requests) == before
    body = emu.requests_to("POST", "/api/v1/credits/purchase")[0].json()
    assert body == {"pack_slug": "starter", "shared_payment_granted_token": "spt_good_1"}
    assert emu.accounts[KEY].credits == 500


# -- whole jobs through the engine -------------------------------------------------------------
def engine_run(tmp_path: Path, base: str, **kw: Any) -> Job:
    person, garment = tmp_path / "person.png", tmp_path / "garment.png"
    person.write_bytes(PERSON)
    garment.write_bytes(GARMENT)
    history = History(tmp_path / "history.sqlite3")
    assets = AssetStore(tmp_path / "assets")
    params = kw.pop("params", {})
    policy = kw.pop("policy", None) or EnginePolicy(
        jitter=0.0, poll_intervals={"fitinview": 0.02}, poll_backoff_base=0.01,
        poll_backoff_cap=0.02)
    p = provider(base, **kw)

    async def main() -> Job:
        engine = JobEngine(history, assets, lambda _pid: p, policy=policy,
                           load_url=UrlSourceLoader(sleep=Sleeps()))
        try:
            return await engine.run(JobSpec(provider="fitinview", task="tryon", inputs={
                "person": [str(person)], "garment": [str(garment)]}, params=params))
        finally:
            await engine.aclose()

    return run(main())


def engine_retry(tmp_path: Path, base: str, job_id: str) -> Job:
    """A new engine on the same history presses Retry on one job and waits for it."""
    history = History(tmp_path / "history.sqlite3")
    assets = AssetStore(tmp_path / "assets")
    p = provider(base)
    policy = EnginePolicy(jitter=0.0, poll_intervals={"fitinview": 0.02})

    async def main() -> Job:
        engine = JobEngine(history, assets, lambda _pid: p, policy=policy)
        try:
            report = await engine.retry(job_id)
            assert [j.id for j in report.resumed] == [job_id]
            return await engine.wait(job_id)
        finally:
            await engine.aclose()

    return run(main())


def test_engine_runs_a_job_to_a_stored_result(tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    emu = FitInViewEmulator(job_delay=0.05)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="restyle")
    with serve(emu) as base:
        done = engine_run(tmp_path, base, params={"seed": 7})
    assert any(r.name == "restyle.http" and "POST" in r.getMessage() for r in caplog.records)
    assert done.state == JobState.SUCCEEDED, done.error
    assert done.remote_id in emu.jobs and done.cost_credits == 8
    assert emu.jobs[done.remote_id].request["metadata"] == {METADATA_JOB_KEY: done.id}
    [output] = done.outputs
    stored = AssetStore(tmp_path / "assets").path_for(output.sha256, output.mime).read_bytes()
    assert stored == emu.jobs[done.remote_id].result
    assert KEY not in caplog.text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_engine_records_a_failed_job(tmp_path: Path) -> None:
    emu = FitInViewEmulator(job_delay=0.0)
    emu.fail_next("no_person_detected")
    with serve(emu) as base:
        done = engine_run(tmp_path, base)
    assert done.state == JobState.FAILED and done.outputs == ()
    assert done.error is not None and done.error.code == ErrorCode.JOB_FAILED
    assert done.error.provider_code == "no_person_detected"
    assert "No person could be found" in done.error.message


def test_engine_reconciles_a_lost_answer_and_never_submits_twice(tmp_path: Path) -> None:
    emu = FitInViewEmulator(job_delay=0.0)
    emu.lose_submit_responses = 1
    with serve(emu) as base:
        done = engine_run(tmp_path, base, max_retries=0)
    assert done.state == JobState.SUCCEEDED, done.error
    assert len(emu.requests_to("POST", SUBMIT)) == 1 and list(emu.jobs) == [done.remote_id]
    assert done.remote_data["reconciled"] is True


def test_engine_fails_a_submit_that_never_arrived(tmp_path: Path) -> None:
    """The answer was lost and the job list never shows the job: searched again until the
    settle time has passed (the service may still be creating it), then failed honestly."""
    emu = FitInViewEmulator(job_delay=0.0)
    emu.inject(Fault("drop", method="POST", path=SUBMIT))
    with serve(emu) as base:
        done = engine_run(tmp_path, base, max_retries=0, policy=EnginePolicy(
            jitter=0.0, poll_intervals={"fitinview": 0.02}, reconcile_settle_s=0.5))
    assert done.state == JobState.FAILED and done.remote_id is None
    assert done.error is not None and done.error.code == ErrorCode.NETWORK
    assert "no record of it, so nothing was created or charged" in done.error.message
    assert len(emu.requests_to("POST", SUBMIT)) == 1 and emu.jobs == {}
    assert len(emu.requests_to("GET", SUBMIT)) >= 2  # the list, searched more than once


def test_engine_out_of_credits(tmp_path: Path) -> None:
    emu = FitInViewEmulator(credits=0)
    with serve(emu) as base:
        done = engine_run(tmp_path, base)
    assert done.state == JobState.FAILED and done.error is not None
    assert done.error.code == ErrorCode.INSUFFICIENT_CREDITS
    assert len(emu.requests_to("POST", SUBMIT)) == 1


def test_engine_keeps_a_job_whose_result_links_keep_expiring(tmp_path: Path) -> None:
    """Every link expires at once: the download is tried again with links re-signed by a new
    status call, then the paid job waits (never failed); once links live, it is collected."""
    emu = FitInViewEmulator(job_delay=0.0, url_ttl=0.0)
    with serve(emu) as base:
        done = engine_run(tmp_path, base, policy=EnginePolicy(
            jitter=0.0, poll_intervals={"fitinview": 0.02}, download_backoff_base=0.01,
            download_backoff_cap=0.02, download_attempts=3))
        assert done.state == JobState.NEEDS_ATTENTION and done.remote_id
        assert done.error is not None and done.error.code == ErrorCode.RESULT_UNAVAILABLE
        assert "expired" in done.error.message and "Retry" in done.error.message
        downloads = [r for r in emu.requests if r.path.startswith("/results/")]
        assert len(downloads) == 6  # 3 attempts, each re-signing once inside fetch()
        status_calls = emu.requests_to("GET", f"{SUBMIT}/{done.remote_id}")
        assert len(status_calls) >= 3  # fresh links asked for between the downloads

        emu.results.ttl = 300.0
        final = engine_retry(tmp_path, base, done.id)
    assert final.state == JobState.SUCCEEDED and len(final.outputs) == 1
    assert len(emu.requests_to("POST", SUBMIT)) == 1


# -- the CLI -----------------------------------------------------------------------------------
@pytest.fixture
def logger_levels() -> Iterator[None]:
    """cli.main sets the `desktop` and `restyle` logger levels and leaves them set; restore
    them so later tests that capture DEBUG records still see them."""
    loggers = [logging.getLogger(name) for name in ("desktop", "restyle")]
    levels = [logger.level for logger in loggers]
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@pytest.mark.usefixtures("logger_levels")
def test_cli_run_writes_a_real_output(home: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.PROVIDER_CLASSES, "fitinview", FitInViewProvider)
    emu = FitInViewEmulator(job_delay=0.0)
    person, garment = tmp_path / "person.png", tmp_path / "garment.png"
    person.write_bytes(PERSON)
    garment.write_bytes(GARMENT)
    out_dir = tmp_path / "out"
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_FITINVIEW_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_FITINVIEW_API_KEY", KEY)
        code = cli.main(["run", "--provider", "fitinview", "--task", "tryon", "--person",
                         str(person), "--garment", str(garment), "--param", "output_size=2K",
                         "--param", "prompt=studio light", "--out", str(out_dir), "--json"])
        out = capsys.readouterr().out
        assert code == 0, out
        data = json.loads(out)
        account_code = cli.main(["account", "--provider", "fitinview", "--json"])
        account = json.loads(capsys.readouterr().out)
    assert data["status"] == "succeeded" and data["cost_credits"] == 12
    path = Path(data["outputs"][0]["path"])
    assert path.parent == out_dir
    assert path.read_bytes() == emu.jobs[data["remote_id"]].result
    body = emu.requests_to("POST", SUBMIT)[0].json()
    assert body["prompt"] == "studio light" and body["metadata"] == {
        METADATA_JOB_KEY: data["id"]}
    assert account_code == 0 and account["credits"] == 1000 - 12
    assert account["purchase_url"] == DEFAULT_PURCHASE_URL


def test_provider_words_never_carry_the_key_or_tokens() -> None:
    """A failed job's code and message and a refused submit's body are redacted: the key, a
    `token=` pair and a signed link never reach a RemoteStatus or ProviderError."""
    key = "fiv_live_LEAK_0002"
    said = leaky_words(key)
    emu = FitInViewEmulator(api_key=key, job_delay=0.0)
    emu.inject(Fault("status", "POST", SUBMIT, status=400,
                     body={"error": {"code": f"bad {key}", "message": said}}))
    emu.fail_next(f"token={LEAKED_TOKEN}", said)

    async def main() -> tuple[ProviderError, RemoteStatus]:
        p = provider(base, key)
        try:
            with pytest.raises(ProviderError) as refused:
                await p.submit(job("local-1"))
            return refused.value, await until_done(p, await p.submit(job("local-2")))
        finally:
            await p.aclose()

    with serve(emu) as base:
        refused, failed = run(main())
    assert refused.code == ErrorCode.INVALID_INPUT and "Done for key [REDACTED]" in refused.message
    assert failed.state == RemoteState.FAILED and failed.error is not None
    assert "Done for key [REDACTED]" in failed.error.message
    for text in (refused.message, refused.provider_code, failed.message, failed.error.message,
                 failed.error.provider_code):
        assert_no_secret(text, key)


# -- every parameter checked before a job row is written ---------------------------------------
def _tryon_spec(tmp_path: Path, **params: Any) -> JobSpec:
    person, garment = tmp_path / "person.png", tmp_path / "garment.png"
    person.write_bytes(PERSON)
    garment.write_bytes(GARMENT)
    return JobSpec(provider="fitinview", task="tryon",
                   inputs={"person": [str(person)], "garment": [str(garment)]}, params=params)


@pytest.mark.parametrize(("params", "needle"), [
    ({"prompt": "x" * 1001}, "Parameter 'prompt' must be at most 1000 characters long"),
    ({"negative_prompt": "x" * 501}, "'negative_prompt' must be at most 500 characters"),
    ({"style_hint": "x" * 501}, "'style_hint' must be at most 500 characters"),
    ({"metadata": {f"k{i}": i for i in range(8)}}, "has 8 keys; FitInView takes 8"),
    ({"metadata": {"a": {"nested": 1}}}, "Metadata 'a' must be text or a number"),
    ({"metadata": {"a": "x" * 257}}, "longer than 256 characters"),
    ({"metadata": {"k" * 257: 1}}, "longer than 256 characters"),
    ({"metadata": [1, 2]}, "'metadata' must be a JSON object"),
    ({"metadata": {METADATA_JOB_KEY: "mine"}}, "must not use the key 'restyle_job_id'"),
    ({"webhook_url": "ftp://hooks.example/x"}, "'webhook_url' must be an http(s):// address"),
    ({"webhook_url": "https://h.example/" + "x" * 2000}, "'webhook_url' must be at most 2000"),
], ids=["prompt", "negative_prompt", "style_hint", "metadata_keys", "metadata_nested",
        "metadata_long_value", "metadata_long_key", "metadata_list", "metadata_reserved",
        "webhook_scheme", "webhook_length"])
def test_bad_parameters_are_refused_before_a_job_is_stored(tmp_path: Path,
                                                           params: dict[str, Any],
                                                           needle: str) -> None:
    emu = FitInViewEmulator()
    with serve(emu) as base:
        message = refused_before_storing(tmp_path, provider(base), _tryon_spec(tmp_path, **params),
                                         emu)
    assert needle in message, message
    assert emu.requests == []  # these need no read at the service either


def test_text_limits_are_data_the_form_and_the_cli_show(home: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    task = FitInViewProvider().task("tryon")
    assert task is not None
    limits = {p.name: p.max_length for p in task.params if p.max_length is not None}
    assert limits == {"prompt": 1000, "negative_prompt": 500, "style_hint": 500,
                      "webhook_url": 2000}
    assert task.param_errors({"prompt": "x" * 1001}) == [
        "Parameter 'prompt' must be at most 1000 characters long (got 1001)."]
    assert cli.main(["providers", "--json"]) == 0
    [row] = [r for r in json.loads(capsys.readouterr().out) if r["id"] == "fitinview"]
    [tryon] = row["tasks"]
    assert {p["name"]: p["max_length"] for p in tryon["params"]}["prompt"] == 1000
    assert cli.main(["providers"]) == 0
    assert "text, at most 1,000 characters" in capsys.readouterr().out


def test_good_parameters_still_reach_the_service(tmp_path: Path) -> None:
    emu = FitInViewEmulator(job_delay=0.0)
    with serve(emu) as base:
        done = engine_run(tmp_path, base, params={
            "prompt": "x" * 1000, "metadata": {f"k{i}": "v" * 256 for i in range(7)},
            "webhook_url": "https://hooks.example/x"})
    assert done.state == JobState.SUCCEEDED, done.error
    body = emu.requests_to("POST", SUBMIT)[0].json()
    assert len(body["prompt"]) == 1000 and len(body["metadata"]) == 8
