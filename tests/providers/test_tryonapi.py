"""TryonAPI adapter against its emulator over real HTTP: what goes over the wire, every fault of
the house list, every documented errorCode, full jobs through the JobEngine and the CLI."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from desktop import cli
from desktop.core.assets import AssetStore
from desktop.core.engine import EnginePolicy, JobEngine
from desktop.core.model import ErrorCode, InvalidInput, Job, JobSpec, JobState
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
)
from desktop.providers.http import UrlSourceLoader
from desktop.providers.tryonapi import ERROR_CODES, TryonApiProvider
from tests.emulators.kit import Fault, derive_image, serve
from tests.emulators.tryonapi import ERROR_CODES as EMU_CODES
from tests.emulators.tryonapi import TryonApiEmulator, parse_multipart
from tests.fakes import png_bytes
from tests.support import (
    LEAKED_TOKEN,
    Sleeps,
    assert_no_secret,
    assert_request_log_is_clean,
    leaky_words,
    remote_provider,
    run,
)

KEY = TryonApiEmulator.default_key
PERSON = png_bytes((200, 150, 120), (96, 128))
GARMENT = png_bytes((20, 160, 60), (64, 64))
SUBMIT = "/api/v1/tryon"
STATUS = "/api/v1/tryon/status/"


def provider(base: str | None, key: str | None = KEY, *, sleeps: Sleeps | None = None,
             read: float = 5.0, **kw: Any) -> TryonApiProvider:
    return remote_provider(TryonApiProvider, base, key, sleeps=sleeps, read=read, **kw)


def item(role: str, data: bytes, mime: str = "image/png") -> PreparedInput:
    return PreparedInput(role=role, data=data, mime=mime, width=1, height=1,
                         sha256=f"{role}-sha", filename=f"{role}.png")


def job(person: bytes = PERSON, garment: bytes = GARMENT, **kw: Any) -> PreparedJob:
    inputs = kw.pop("inputs", {"person": [item("person", person)],
                               "garment": [item("garment", garment)]})
    return PreparedJob(job_id="local-1", task=kw.pop("task", "tryon"), inputs=inputs,
                       params=kw.pop("params", {}))


async def until_done(p: TryonApiProvider, ref: RemoteRef, limit: int = 200) -> Any:
    for _ in range(limit):
        status = await p.poll(ref)
        if status.state.terminal:
            return status
        await asyncio.sleep(0.01)
    raise AssertionError("the job never finished")


async def submit_and_collect(p: TryonApiProvider) -> tuple[RemoteRef, Any, bytes | None]:
    try:
        ref = await p.submit(job())
        status = await until_done(p, ref)
        data = await p.fetch(status.outputs[0]) if status.outputs else None
        return ref, status, data
    finally:
        await p.aclose()


# -- happy paths -------------------------------------------------------------------------------
def test_submit_poll_fetch_over_the_wire() -> None:
    emu = TryonApiEmulator(job_delay=0.05)
    with serve(emu) as base:
        ref, status, data = run(submit_and_collect(provider(base)))
    assert ref.data == {"status_url": f"{STATUS}{ref.remote_id}"}
    assert status.state == RemoteState.SUCCEEDED and status.progress == 1.0
    assert data == derive_image([PERSON, GARMENT], ref.remote_id)
    [post] = emu.requests_to("POST", SUBMIT)
    assert post.headers["authorization"] == f"Bearer {KEY}"
    assert "idempotency-key" not in post.headers
    parts = {p.name: p for p in parse_multipart(post.headers["content-type"], post.body)}
    assert set(parts) == {"person_images", "garment_images"}
    assert parts["person_images"].data == PERSON and parts["garment_images"].data == GARMENT
    assert parts["person_images"].filename == "person.png"
    assert parts["garment_images"].content_type == "image/png"
    polls = emu.requests_to("GET", STATUS)
    assert len(polls) >= 2  # "processing" first (job_delay), then "completed"
    assert all(r.path == f"{STATUS}{ref.remote_id}" for r in polls)
    assert len(emu.requests_to("GET", "/results/")) == 1


def test_processing_status_carries_the_message() -> None:
    emu = TryonApiEmulator(job_delay=30)

    async def main() -> Any:
        p = provider(base)
        try:
            return await p.poll(await p.submit(job()))
        finally:
            await p.aclose()

    with serve(emu) as base:
        status = run(main())
    assert status.state == RemoteState.RUNNING and status.message == "Job is still processing."


@pytest.mark.parametrize("mode", ["base64", "both", "data_uri", "result_image_url"])
def test_every_result_form_gives_the_image(mode: str) -> None:
    emu = TryonApiEmulator(job_delay=0.0, result_mode=mode)  # type: ignore[arg-type]
    with serve(emu) as base:
        ref, status, data = run(submit_and_collect(provider(base)))
    assert data == derive_image([PERSON, GARMENT], ref.remote_id)
    downloads = len(emu.requests_to("GET", "/results/"))
    # Inline data is used as is; only a URL-only answer is downloaded.
    assert downloads == (1 if mode == "result_image_url" else 0)
    if mode == "both":
        assert status.outputs[0].url is not None  # kept as a fallback


def test_unreadable_inline_data_falls_back_to_the_url() -> None:
    p = provider("https://x.test")
    url = "https://x.test/results/abc"
    for inline in ("!!! not base64 !!!", "aGVsbG8="):  # the second decodes to b"hello"
        [out] = p._completed("j1", {"status": "completed", "imageBase64": inline,
                                    "imageUrl": url}).outputs
        assert (out.data, out.url) == (None, url)
    status = p._completed("j2", {"status": "completed", "imageBase64": "!!!"})
    assert status.state == RemoteState.FAILED
    assert status.error is not None and status.error.code == ErrorCode.RESULT_UNAVAILABLE


def test_absolute_status_url_is_followed() -> None:
    emu = TryonApiEmulator(job_delay=0.0, absolute_status_url=True)
    with serve(emu) as base:
        ref, status, _ = run(submit_and_collect(provider(base)))
    assert ref.data["status_url"] == f"{base}{STATUS}{ref.remote_id}"
    assert status.state == RemoteState.SUCCEEDED


def test_status_url_resolution_without_network() -> None:
    p = provider("https://tryon.example.test/proxy")
    assert p._status_target("/api/v1/tryon/status/j1") == "/api/v1/tryon/status/j1"
    assert str(p.client.url(p._status_target("/api/v1/tryon/status/j1"))) == (
        "https://tryon.example.test/proxy/api/v1/tryon/status/j1")
    # A statusUrl that already carries the base path is not prefixed twice.
    assert p._status_target("/proxy/api/v1/tryon/status/j1") == (
        "https://tryon.example.test/proxy/api/v1/tryon/status/j1")
    # A statusUrl on another host would receive the key: the documented path is used instead.
    assert p._checked_status_url("https://evil.example/api/v1/tryon/status/j1", "j1") == (
        "/api/v1/tryon/status/j1")
    assert p._checked_status_url(None, "j2") == "/api/v1/tryon/status/j2"
    assert p._checked_status_url("https://tryon.example.test/s/j3", "j3") == (
        "https://tryon.example.test/s/j3")


# -- validation before any network call -------------------------------------------------------
@pytest.mark.parametrize(("pjob", "needle"), [
    (job(task="recolor"), "no task 'recolor'"),
    (job(inputs={"person": [item("person", PERSON)]}), "garment"),
    (job(inputs={"person": [item("person", PERSON)],
                 "garment": [item("garment", GARMENT), item("garment", GARMENT)]}),
     "at most 1 garment"),
    (job(params={"seed": 3}), "no parameter 'seed'"),
    (job(garment=b""), "garment image is empty"),
    (job(inputs={"person": [item("person", PERSON, "image/gif")],
                 "garment": [item("garment", GARMENT)]}), "image/gif"),
])
def test_bad_input_is_refused_before_any_request(pjob: PreparedJob, needle: str) -> None:
    emu = TryonApiEmulator()

    async def main() -> None:
        p = provider(base)
        try:
            await p.submit(pjob)
        finally:
            await p.aclose()

    with serve(emu) as base, pytest.raises((ProviderError, InvalidInput)) as caught:
        run(main())
    exc = caught.value
    if isinstance(exc, ProviderError):
        assert exc.code == ErrorCode.INVALID_INPUT, exc
    assert needle in str(exc)
    assert emu.requests == []


def test_missing_key_and_base_url_send_nothing() -> None:
    emu = TryonApiEmulator()
    with serve(emu) as base:
        with pytest.raises(ProviderError) as no_key:
            run(submit_and_collect(provider(base, key=None)))
        with pytest.raises(ProviderError) as no_base:
            run(submit_and_collect(provider(None)))
    assert no_key.value.code == ErrorCode.MISSING_KEY
    assert no_base.value.code == ErrorCode.NOT_CONFIGURED
    assert "RESTYLE_TRYONAPI_BASE_URL" in no_base.value.message
    assert emu.requests == []


def test_from_config_and_class_data() -> None:
    p = TryonApiProvider.from_config(ProviderConfig(base_url="https://x.test",
                                                    key_source=lambda: "abc"))
    assert p.client.base_url == "https://x.test" and "abc" not in repr(p)
    assert (p.id, p.needs_key, p.needs_base_url, p.default_base_url) == (
        "tryonapi", True, True, None)
    assert not (p.accepts_urls or p.supports_cancel or p.supports_reconcile)
    [task] = p.tasks
    assert [(r.role, r.min_count, r.max_count) for r in task.inputs] == [
        ("person", 1, 1), ("garment", 1, 1)]


def test_emulator_validates_as_documented() -> None:
    emu = TryonApiEmulator()
    auth = {"Authorization": f"Bearer {KEY}"}
    person = ("p.png", PERSON, "image/png")
    garment = ("g.png", GARMENT, "image/png")
    with serve(emu) as base, httpx.Client(base_url=base) as client:
        assert client.post(SUBMIT, files={"person_images": person,
                                          "garment_images": garment}).status_code == 401
        wrong = client.post(SUBMIT, headers={"Authorization": "Bearer nope"},
                            files={"person_images": person, "garment_images": garment})
        assert wrong.status_code == 401 and "API key" in wrong.json()["error"]
        missing = client.post(SUBMIT, headers=auth, files={"person_images": person})
        assert missing.status_code == 400 and "garment_images" in missing.json()["error"]
        as_url = client.post(SUBMIT, headers=auth, files={"person_images": person},
                             data={"garment_images": "https://example.com/g.png"})
        assert as_url.status_code == 400 and "URLs" in as_url.json()["error"]
        two = client.post(SUBMIT, headers=auth, files=[
            ("person_images", person), ("person_images", person),
            ("garment_images", garment)])
        assert two.status_code == 400 and "only one" in two.json()["error"]
        junk = client.post(SUBMIT, headers=auth, files={
            "person_images": ("p.png", b"not an image", "image/png"),
            "garment_images": garment})
        assert junk.status_code == 400 and "invalid format" in junk.json()["error"]
        assert client.post(SUBMIT, headers=auth, json={"a": 1}).status_code == 400
        ok = client.post(SUBMIT, headers=auth, files={"person_images": person,
                                                      "garment_images": garment})
        assert ok.status_code == 202
        status_url = ok.json()["statusUrl"]
        assert client.get(status_url).status_code == 401
        assert client.get(status_url, headers=auth).json()["status"] in ("processing",
                                                                          "completed")
        assert client.get(f"{STATUS}nope", headers=auth).status_code == 404
    assert len(emu.jobs) == 1
    assert set(EMU_CODES) == set(ERROR_CODES)  # the emulator knows every documented code


# -- submit faults -----------------------------------------------------------------------------
def test_wrong_key_is_auth_failed() -> None:
    emu = TryonApiEmulator()
    with serve(emu) as base, pytest.raises(ProviderError) as caught:
        run(submit_and_collect(provider(base, key="sk-WRONG-123456")))
    assert caught.value.code == ErrorCode.AUTH_FAILED and caught.value.http_status == 401
    assert "sk-WRONG-123456" not in caught.value.message
    assert len(emu.requests_to("POST", SUBMIT)) == 1


def test_out_of_credits_is_final() -> None:
    emu = TryonApiEmulator(credits=1)
    sleeps = Sleeps()
    with serve(emu) as base:
        run(submit_and_collect(provider(base, sleeps=sleeps)))  # uses the last credit
        with pytest.raises(ProviderError) as caught:
            run(submit_and_collect(provider(base, sleeps=sleeps)))
        emu.inject(Fault("status", method="POST", path=SUBMIT, status=429, times=5,
                         body={"error": "Insufficient credits for this request."}))
        emu.credits = None
        with pytest.raises(ProviderError) as as_429:
            run(submit_and_collect(provider(base, sleeps=sleeps)))
    assert caught.value.code == ErrorCode.INSUFFICIENT_CREDITS
    assert caught.value.http_status == 402 and "Insufficient credits" in caught.value.message
    assert as_429.value.code == ErrorCode.INSUFFICIENT_CREDITS
    assert len(emu.requests_to("POST", SUBMIT)) == 3 and sleeps.waits == []


def test_rate_limit_on_submit_waits_and_retries() -> None:
    emu = TryonApiEmulator(job_delay=0.0)
    emu.inject(Fault("status", method="POST", path=SUBMIT, status=429,
                     body={"error": "Too many requests"}, headers={"Retry-After": "3"}))
    sleeps = Sleeps()
    with serve(emu) as base:
        _, status, _ = run(submit_and_collect(provider(base, sleeps=sleeps)))
    assert status.state == RemoteState.SUCCEEDED
    assert sleeps.waits == [3.0] and len(emu.requests_to("POST", SUBMIT)) == 2


def test_rate_limit_beyond_retries_says_when() -> None:
    emu = TryonApiEmulator()
    emu.inject(Fault("status", method="POST", path=SUBMIT, status=429, times=10,
                     body={"error": "Too many requests"}, headers={"Retry-After": "2"}))
    with serve(emu) as base, pytest.raises(ProviderError) as caught:
        run(submit_and_collect(provider(base, max_retries=2)))
    assert caught.value.code == ErrorCode.RATE_LIMITED and caught.value.retry_after == 2.0
    assert len(emu.requests_to("POST", SUBMIT)) == 3


def test_503_on_submit_proves_nothing_was_created_and_is_retried() -> None:
    emu = TryonApiEmulator(job_delay=0.0)
    emu.inject(Fault("status", method="POST", path=SUBMIT, status=503))
    sleeps = Sleeps()
    with serve(emu) as base:
        _, status, _ = run(submit_and_collect(provider(base, sleeps=sleeps)))
    assert status.state == RemoteState.SUCCEEDED and len(sleeps.waits) == 1
    assert len(emu.requests_to("POST", SUBMIT)) == 2


@pytest.mark.parametrize(("fault", "code"), [
    (Fault("status", method="POST", path=SUBMIT, status=500,
           body={"error": "Unexpected server issue"}), ErrorCode.PROVIDER_UNAVAILABLE),
    (Fault("status", method="POST", path=SUBMIT, status=502), ErrorCode.PROVIDER_UNAVAILABLE),
    (Fault("html", method="POST", path=SUBMIT), ErrorCode.PROVIDER_UNAVAILABLE),
    (Fault("malformed_json", method="POST", path=SUBMIT), ErrorCode.PROVIDER_UNAVAILABLE),
    (Fault("drop", method="POST", path=SUBMIT), ErrorCode.NETWORK),
    (Fault("slow", method="POST", path=SUBMIT, delay=1.5), ErrorCode.NETWORK),
])
def test_unknown_outcome_of_submit_is_never_repeated(fault: Fault, code: ErrorCode) -> None:
    emu = TryonApiEmulator()
    emu.inject(replace(fault))  # a copy: the emulator uses its fault up
    sleeps = Sleeps()
    with serve(emu) as base, pytest.raises(ProviderError) as caught:
        run(submit_and_collect(provider(base, sleeps=sleeps, read=0.3)))
    assert caught.value.code == code, caught.value
    assert caught.value.unknown_outcome, caught.value
    assert len(emu.requests_to("POST", SUBMIT)) == 1 and sleeps.waits == []
    assert emu.requests_to("GET", STATUS) == []


# -- poll faults -------------------------------------------------------------------------------
@pytest.mark.parametrize("fault", [
    Fault("status", method="GET", path=STATUS, status=500),
    Fault("status", method="GET", path=STATUS, status=502),
    Fault("status", method="GET", path=STATUS, status=503),
    Fault("html", method="GET", path=STATUS),
    Fault("status", method="GET", path=STATUS, status=429, headers={"Retry-After": "1"},
          body={"error": "Too many requests"}),
    Fault("drop", method="GET", path=STATUS),
    Fault("slow", method="GET", path=STATUS, delay=1.5),
], ids=["500", "502", "503", "502-html", "429", "drop", "slow"])
def test_poll_faults_are_retried(fault: Fault) -> None:
    emu = TryonApiEmulator(job_delay=0.0)
    emu.inject(replace(fault))
    sleeps = Sleeps()
    with serve(emu) as base:
        ref, status, data = run(submit_and_collect(provider(base, sleeps=sleeps, read=0.3)))
    assert status.state == RemoteState.SUCCEEDED
    assert data == derive_image([PERSON, GARMENT], ref.remote_id)
    assert len(emu.requests_to("GET", STATUS)) == 2 and len(sleeps.waits) == 1
    if fault.status == 429:
        assert sleeps.waits == [1.0]


def test_malformed_status_is_a_transient_error() -> None:
    emu = TryonApiEmulator(job_delay=0.0)

    async def main() -> tuple[ProviderError, Any]:
        p = provider(base)
        try:
            ref = await p.submit(job())
            emu.inject(Fault("malformed_json", method="GET", path=STATUS))
            with pytest.raises(ProviderError) as caught:
                await p.poll(ref)
            return caught.value, await p.poll(ref)
        finally:
            await p.aclose()

    with serve(emu) as base:
        error, status = run(main())
    assert error.code == ErrorCode.PROVIDER_UNAVAILABLE and "malformed" in error.message
    assert status.state == RemoteState.SUCCEEDED


def test_job_of_another_key_is_forbidden_and_unknown_job_not_found() -> None:
    emu = TryonApiEmulator(job_delay=0.0)
    emu.add_key("second-key-0001")

    async def main() -> tuple[ProviderError, ProviderError]:
        owner, other = provider(base), provider(base, key="second-key-0001")
        try:
            ref = await owner.submit(job())
            with pytest.raises(ProviderError) as forbidden:
                await other.poll(ref)
            with pytest.raises(ProviderError) as missing:
                await owner.poll(RemoteRef("no-such-job", {}))
            return forbidden.value, missing.value
        finally:
            await owner.aclose()
            await other.aclose()

    with serve(emu) as base:
        forbidden, missing = run(main())
    assert forbidden.code == ErrorCode.FORBIDDEN and forbidden.http_status == 403
    assert "another API key" in forbidden.message
    assert missing.code == ErrorCode.NOT_FOUND and "no job no-such-job" in missing.message
    # Neither is retried.
    assert len(emu.requests_to("GET", STATUS)) == 2


@pytest.mark.parametrize("pcode", sorted(ERROR_CODES))
def test_each_documented_error_code(pcode: str) -> None:
    emu = TryonApiEmulator(job_delay=0.0)
    emu.fail_next(pcode, f"Upstream said {pcode.lower()}")
    with serve(emu) as base:
        _, status, data = run(submit_and_collect(provider(base)))
    assert status.state == RemoteState.FAILED and data is None
    error = status.error
    assert error.code == ERROR_CODES[pcode][0] and error.provider_code == pcode
    assert error.message.startswith(ERROR_CODES[pcode][1])
    assert f"Upstream said {pcode.lower()}" in error.message  # the provider's own words
    assert "tryon-generation" in error.message  # the failing step from `result`


def test_error_codes_map_to_expected_categories() -> None:
    codes = {k: v[0] for k, v in ERROR_CODES.items()}
    assert codes["INVALID_PERSON_IMAGE"] == codes["INVALID_GARMENT_IMAGE"] == (
        ErrorCode.INVALID_INPUT)
    assert codes["RESULT_UNAVAILABLE"] == ErrorCode.RESULT_UNAVAILABLE
    assert codes["GENERATION_FAILED"] == ErrorCode.JOB_FAILED
    assert codes["INTERNAL_ERROR"] == ErrorCode.PROVIDER_UNAVAILABLE


def test_unknown_error_code_keeps_the_providers_words() -> None:
    emu = TryonApiEmulator(job_delay=0.0)
    emu.fail_next("NEW_CODE_42", "Something new broke")
    with serve(emu) as base:
        _, status, _ = run(submit_and_collect(provider(base)))
    assert status.error.code == ErrorCode.JOB_FAILED
    assert status.error.provider_code == "NEW_CODE_42"
    assert "NEW_CODE_42" in status.error.message and "Something new broke" in status.error.message


def test_completed_without_an_image_is_result_unavailable() -> None:
    emu = TryonApiEmulator(job_delay=0.0, result_mode="none")
    with serve(emu) as base:
        _, status, _ = run(submit_and_collect(provider(base)))
    assert status.state == RemoteState.FAILED
    assert status.error.code == ErrorCode.RESULT_UNAVAILABLE


# -- downloads ---------------------------------------------------------------------------------
def test_expired_result_url_is_result_unavailable_and_not_retried() -> None:
    emu = TryonApiEmulator(job_delay=0.0)

    async def main() -> ProviderError:
        p = provider(base)
        try:
            status = await until_done(p, await p.submit(job()))
            emu.results.expire_all()
            with pytest.raises(ProviderError) as caught:
                await p.fetch(status.outputs[0])
            return caught.value
        finally:
            await p.aclose()

    with serve(emu) as base:
        error = run(main())
    assert error.code == ErrorCode.RESULT_UNAVAILABLE and error.http_status == 403
    assert len(emu.requests_to("GET", "/results/")) == 1


def test_truncated_download_is_retried_then_given_up() -> None:
    emu = TryonApiEmulator(job_delay=0.0)
    emu.inject(Fault("truncate", method="GET", path="/results/"))
    with serve(emu) as base:
        ref, _, data = run(submit_and_collect(provider(base)))
        assert data == derive_image([PERSON, GARMENT], ref.remote_id)
        assert len(emu.requests_to("GET", "/results/")) == 2
        emu.inject(Fault("truncate", method="GET", path="/results/", times=10))
        with pytest.raises(ProviderError) as caught:
            run(submit_and_collect(provider(base, max_retries=2)))
    assert caught.value.code == ErrorCode.RESULT_UNAVAILABLE
    assert "breaking off" in caught.value.message


def test_fetch_without_anything_to_fetch() -> None:
    p = provider("https://x.test")
    with pytest.raises(ProviderError) as caught:
        run(p.fetch(RemoteOutput()))
    assert caught.value.code == ErrorCode.RESULT_UNAVAILABLE


# -- whole jobs through the engine -------------------------------------------------------------
def engine_run(tmp_path: Path, emu: TryonApiEmulator, base: str, *,
               person_src: str | None = None, **kw: Any) -> Job:
    person, garment = tmp_path / "person.png", tmp_path / "garment.png"
    person.write_bytes(PERSON)
    garment.write_bytes(GARMENT)
    history = History(tmp_path / "history.sqlite3")
    assets = AssetStore(tmp_path / "assets")
    p = provider(base, **kw)
    policy = EnginePolicy(jitter=0.0, poll_intervals={"tryonapi": 0.02},
                          poll_backoff_base=0.01, poll_backoff_cap=0.02,
                          download_backoff_base=0.01, download_backoff_cap=0.02)

    async def main() -> Job:
        engine = JobEngine(history, assets, lambda _pid: p, policy=policy,
                           load_url=UrlSourceLoader(sleep=Sleeps()))
        try:
            return await engine.run(JobSpec(provider="tryonapi", task="tryon", inputs={
                "person": [person_src or str(person)], "garment": [str(garment)]}))
        finally:
            await engine.aclose()

    return run(main())


def test_engine_runs_a_job_to_a_stored_result(tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    emu = TryonApiEmulator(job_delay=0.05)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="restyle.http")
    with serve(emu) as base:
        done = engine_run(tmp_path, emu, base)
    assert done.state == JobState.SUCCEEDED, done.error
    assert done.remote_id in emu.jobs
    assert done.remote_data == {"status_url": f"{STATUS}{done.remote_id}"}
    [output] = done.outputs
    stored = AssetStore(tmp_path / "assets").path_for(output.sha256, output.mime).read_bytes()
    assert stored == derive_image([PERSON, GARMENT], done.remote_id)
    assert (output.width, output.height) == (96, 128)
    assert_request_log_is_clean(caplog.records, KEY, SUBMIT)
    assert KEY not in caplog.text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_engine_uploads_a_url_input_as_a_file(tmp_path: Path) -> None:
    emu = TryonApiEmulator(job_delay=0.0)
    with serve(emu) as base:
        person_url = emu.result_url(PERSON, "image/png")  # any http(s) address will do
        done = engine_run(tmp_path, emu, base, person_src=person_url)
    assert done.state == JobState.SUCCEEDED, done.error
    [post] = emu.requests_to("POST", SUBMIT)
    parts = {p.name: p for p in parse_multipart(post.headers["content-type"], post.body)}
    assert parts["person_images"].filename == "person.png"
    assert parts["person_images"].data == PERSON
    assert person_url.encode() not in post.body


def test_engine_records_a_failed_job(tmp_path: Path) -> None:
    emu = TryonApiEmulator(job_delay=0.0)
    emu.fail_next("INVALID_PERSON_IMAGE", "No person detected")
    with serve(emu) as base:
        done = engine_run(tmp_path, emu, base)
    assert done.state == JobState.FAILED and done.outputs == ()
    assert done.error is not None and done.error.code == ErrorCode.INVALID_INPUT
    assert done.error.provider_code == "INVALID_PERSON_IMAGE"
    assert "No person detected" in done.error.message


def test_engine_never_resubmits_after_an_unknown_outcome(tmp_path: Path) -> None:
    emu = TryonApiEmulator(job_delay=0.0)
    emu.inject(Fault("drop", method="POST", path=SUBMIT))
    with serve(emu) as base:
        done = engine_run(tmp_path, emu, base)
    assert done.state == JobState.NEEDS_ATTENTION and done.remote_id is None
    assert done.error is not None and done.error.code == ErrorCode.UNKNOWN_OUTCOME
    assert "may have created the job and charged for it" in done.error.message
    assert len(emu.requests_to("POST", SUBMIT)) == 1


def test_engine_reports_an_expired_result_link(tmp_path: Path) -> None:
    emu = TryonApiEmulator(job_delay=0.0, url_ttl=0.0)
    with serve(emu) as base:
        done = engine_run(tmp_path, emu, base)
    # The paid job is kept, waiting: the links are asked for again, never the job.
    assert done.state == JobState.NEEDS_ATTENTION and done.remote_id
    assert done.error is not None and done.error.code == ErrorCode.RESULT_UNAVAILABLE


# -- the CLI -----------------------------------------------------------------------------------
def test_cli_run_writes_a_real_output(home: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.PROVIDER_CLASSES, "tryonapi", TryonApiProvider)
    emu = TryonApiEmulator(job_delay=0.0)
    person, garment = tmp_path / "person.png", tmp_path / "garment.png"
    person.write_bytes(PERSON)
    garment.write_bytes(GARMENT)
    out_dir = tmp_path / "out"
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_TRYONAPI_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_TRYONAPI_API_KEY", KEY)
        code = cli.main(["run", "--provider", "tryonapi", "--task", "tryon", "--person",
                         str(person), "--garment", str(garment), "--out", str(out_dir),
                         "--json"], stdin=io.StringIO(""))
    out, _ = capsys.readouterr()
    assert code == 0, out
    data = json.loads(out)
    assert data["status"] == "succeeded" and data["remote_id"] in emu.jobs
    path = Path(data["outputs"][0]["path"])
    assert path.parent == out_dir
    assert path.read_bytes() == derive_image([PERSON, GARMENT], data["remote_id"])
    with Image.open(path) as img:
        assert img.size == (96, 128)
    assert KEY not in out


def test_provider_words_never_carry_the_key_or_tokens() -> None:
    """Every message TryonAPI's words reach (waiting, completed, failed, refused) is redacted:
    the key, a `token=` pair and a signed link never reach a RemoteStatus or ProviderError."""
    import base64

    key = "tk-LEAK-KEY-0001"
    said = leaky_words(key)
    emu = TryonApiEmulator(api_key=key, job_delay=0.0)
    done_body = {"jobId": "j1", "status": "completed", "message": said,
                 "imageBase64": base64.b64encode(PERSON).decode("ascii")}
    emu.inject(
        Fault("status", "GET", STATUS, status=200,
              body={"jobId": "j1", "status": "processing", "message": said}),
        Fault("status", "GET", STATUS, status=200, body=done_body),
        Fault("status", "POST", SUBMIT, status=400, body={"error": said, "errorCode": said}),
    )
    emu.fail_next(f"token={LEAKED_TOKEN}", said)

    async def main() -> tuple[Any, Any, ProviderError, Any]:
        p = provider(base, key)
        try:
            ref = RemoteRef("j1", data={"status_url": f"{STATUS}j1"})
            waiting, done = await p.poll(ref), await p.poll(ref)
            with pytest.raises(ProviderError) as refused:
                await p.submit(job())
            failed = await until_done(p, await p.submit(job()))
            return waiting, done, refused.value, failed
        finally:
            await p.aclose()

    with serve(emu) as base:
        waiting, done, refused, failed = run(main())
    assert waiting.state == RemoteState.RUNNING and "Done for key [REDACTED]" in waiting.message
    assert done.state == RemoteState.SUCCEEDED and "Done for key [REDACTED]" in done.message
    assert failed.state == RemoteState.FAILED and failed.error is not None
    for text in (waiting.message, done.message, refused.message, refused.provider_code,
                 failed.error.message, failed.error.provider_code):
        assert_no_secret(text, key)
