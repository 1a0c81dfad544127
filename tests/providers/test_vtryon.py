"""vtryon Recolor adapter against its emulator over real HTTP: what goes over the wire, the
before image, list and delete, every fault of the house list, full jobs through the JobEngine
and the CLI."""

from __future__ import annotations

import asyncio
import io
import json
import logging
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
    PreparedJob,
    ProviderConfig,
    ProviderError,
    RemoteOutput,
    RemoteRef,
    RemoteState,
)
from desktop.providers.vtryon import VtryonProvider, check_color_changes, extract_error
from tests.emulators.kit import Fault, serve
from tests.emulators.vtryon import SEED_MODEL_TASK_ID, SEED_POSE_ID, VtryonEmulator
from tests.refusals import refused_before_storing
from tests.support import (
    LEAKED_TOKEN,
    Sleeps,
    assert_no_secret,
    assert_request_log_is_clean,
    leaky_words,
    remote_provider,
    run,
)

KEY = VtryonEmulator.default_key
CREATE = "/v4/models/multipose-image-recolor/"
TASKS = "/v2/models/multipose-tasks/"
CHANGES = [{"target": "blouse", "color": "royal blue"}, {"target": "lehenga", "color": "#112233"}]


def provider(base: str | None, key: str | None = KEY, *, sleeps: Sleeps | None = None,
             read: float = 5.0, **kw: Any) -> VtryonProvider:
    return remote_provider(VtryonProvider, base, key, sleeps=sleeps, read=read, **kw)


def params(emu: VtryonEmulator, **over: Any) -> dict[str, Any]:
    return {"pose_image_generation_id": emu.seeded_pose_id,
            "models_image_generation_task_id": emu.seeded_model_task_id,
            "color_changes": CHANGES, **over}


def job(emu: VtryonEmulator, **over: Any) -> PreparedJob:
    task = over.pop("task", "recolor")
    return PreparedJob(job_id="local-1", task=task, inputs={}, params=params(emu, **over))


async def until_done(p: VtryonProvider, ref: RemoteRef, limit: int = 300) -> Any:
    states = []
    for _ in range(limit):
        status = await p.poll(ref)
        states.append(status.state)
        if status.state.terminal:
            return status
        await asyncio.sleep(0.01)
    raise AssertionError(f"the task never finished: {states[-3:]}")


async def submit_and_collect(p: VtryonProvider, pjob: PreparedJob
                             ) -> tuple[RemoteRef, Any, bytes | None]:
    try:
        ref = await p.submit(pjob)
        status = await until_done(p, ref)
        data = await p.fetch(status.outputs[0]) if status.outputs else None
        return ref, status, data
    finally:
        await p.aclose()


# -- happy paths -------------------------------------------------------------------------------
def test_submit_poll_fetch_over_the_wire() -> None:
    emu = VtryonEmulator(job_delay=0.1)
    with serve(emu) as base:
        ref, status, data = run(submit_and_collect(provider(base), job(emu,
                                                                         image_quality="4k")))
    assert status.state == RemoteState.SUCCEEDED and status.progress == 1.0
    assert data == emu.expected_result(ref.remote_id)
    assert data != emu.pose_image(emu.seeded_pose_id)
    assert ref.data == {"pose_image_generation_id": emu.seeded_pose_id}
    [post] = emu.requests_to("POST", CREATE)
    assert post.headers["x-api-key"] == KEY and "authorization" not in post.headers
    assert "idempotency-key" not in post.headers
    assert post.json() == {"pose_image_generation_id": emu.seeded_pose_id,
                           "models_image_generation_task_id": emu.seeded_model_task_id,
                           "color_changes": CHANGES, "image_quality": "4k"}
    polls = emu.requests_to("GET", TASKS)
    assert len(polls) >= 2 and all(r.path == f"{TASKS}{ref.remote_id}/" for r in polls)
    assert len(emu.requests_to("GET", "/results/")) == 1


def test_statuses_pass_through_queued_and_processing() -> None:
    emu = VtryonEmulator(job_delay=1.0, waiting_status="pending")

    async def main() -> list[RemoteState]:
        p = provider(base)
        try:
            ref = await p.submit(job(emu))
            seen = []
            for _ in range(400):
                status = await p.poll(ref)
                if not seen or seen[-1] != status.state:
                    seen.append(status.state)
                if status.state.terminal:
                    return seen
                await asyncio.sleep(0.01)
            return seen
        finally:
            await p.aclose()

    with serve(emu) as base:
        seen = run(main())
    assert seen == [RemoteState.QUEUED, RemoteState.RUNNING, RemoteState.SUCCEEDED]


def test_default_quality_is_2k_and_results_differ_per_task() -> None:
    emu = VtryonEmulator(job_delay=0.0)
    with serve(emu) as base:
        ref1, _, one = run(submit_and_collect(provider(base), job(emu)))
        ref2, _, two = run(submit_and_collect(provider(base), job(
            emu, color_changes=[{"target": "blouse", "color": "red"}])))
    assert [r.json()["image_quality"] for r in emu.requests_to("POST", CREATE)] == ["2k", "2k"]
    assert one == emu.expected_result(ref1.remote_id)
    assert two == emu.expected_result(ref2.remote_id) and one != two


def test_before_image_is_the_base_pose_result() -> None:
    emu = VtryonEmulator()
    pending_id, _ = emu.seed_pose_task(status="processing")
    failed_id, _ = emu.seed_pose_task(status="failed")

    async def main() -> tuple[bytes, list[ProviderError]]:
        p = provider(base)
        errors = []
        try:
            before = await p.before_image(emu.seeded_pose_id)
            for bad in (pending_id, failed_id, 4242):
                try:
                    await p.before_image(bad)
                except ProviderError as exc:
                    errors.append(exc)
            return before, errors
        finally:
            await p.aclose()

    with serve(emu) as base:
        before, errors = run(main())
    assert before == emu.pose_image(emu.seeded_pose_id)
    with Image.open(io.BytesIO(before)) as img:
        assert img.size == (96, 128)
    assert [r.path for r in emu.requests_to("GET", TASKS)] == [
        f"{TASKS}{task}/" for task in (emu.seeded_pose_id, pending_id, failed_id, 4242)]
    assert len(emu.requests_to("GET", "/results/")) == 1  # only the finished one downloads
    assert [e.code for e in errors] == [ErrorCode.RESULT_UNAVAILABLE,
                                        ErrorCode.RESULT_UNAVAILABLE, ErrorCode.NOT_FOUND]
    assert "still processing" in errors[0].message and "failed" in errors[1].message
    assert "no task 4242" in errors[2].message


def test_seeding_and_a_custom_base_image() -> None:
    seeded = VtryonEmulator()
    assert (seeded.seeded_pose_id, seeded.seeded_model_task_id) == (SEED_POSE_ID,
                                                                    SEED_MODEL_TASK_ID)
    assert seeded.tasks[SEED_POSE_ID].kind == "pose"
    emu = VtryonEmulator(job_delay=0.0, seed=False)
    assert emu.tasks == {}
    own = Image.new("RGB", (64, 80), (10, 200, 30))
    buf = io.BytesIO()
    own.save(buf, "PNG")
    pose_id, model_id = emu.seed_pose_task(buf.getvalue(), task_id=936)
    with serve(emu) as base:
        ref, status, data = run(submit_and_collect(provider(base), PreparedJob(
            "l", "recolor", {}, {"pose_image_generation_id": pose_id,
                                 "models_image_generation_task_id": model_id,
                                 "color_changes": CHANGES})))
    assert pose_id == 936 and status.state == RemoteState.SUCCEEDED
    assert data == emu.expected_result(ref.remote_id)
    with Image.open(io.BytesIO(data or b"")) as img:
        assert img.size == (64, 80)


def test_list_pages_and_delete() -> None:
    emu = VtryonEmulator(job_delay=0.0)

    async def main() -> tuple[Any, ...]:
        p = provider(base)
        try:
            ids = [(await p.submit(job(emu))).remote_id for _ in range(3)]
            first = await p.list_tasks(page=1, page_size=2)
            second = await p.list_tasks(page=2, page_size=2)
            detail = await p.delete(ids[0])
            after = await p.list_tasks()
            with pytest.raises(ProviderError) as gone:
                await p.poll(RemoteRef(ids[0]))
            with pytest.raises(ProviderError) as again:
                await p.delete(RemoteRef(ids[0]))
            with pytest.raises(ProviderError) as bad_page:
                await p.list_tasks(page=0)
            return ids, first, second, detail, after, gone.value, again.value, bad_page.value
        finally:
            await p.aclose()

    with serve(emu) as base:
        ids, first, second, detail, after, gone, again, bad_page = run(main())
    assert first.count == 3 and first.has_next and len(first.results) == 2
    assert [str(r["id"]) for r in first.results + second.results] == list(reversed(ids))
    assert not second.has_next and second.previous is not None
    assert first.results[0]["status"] in ("queued", "processing", "completed")
    assert detail == "Deleted successfully"
    assert after.count == 2 and ids[0] not in [str(r["id"]) for r in after.results]
    assert gone.code == ErrorCode.NOT_FOUND and again.code == ErrorCode.NOT_FOUND
    assert bad_page.code == ErrorCode.INVALID_INPUT
    lists = emu.requests_to("GET", CREATE)
    assert [r.query for r in lists] == [{"page": "1", "page_size": "2"},
                                        {"page": "2", "page_size": "2"},
                                        {"page": "1", "page_size": "10"}]
    assert [r.path for r in emu.requests_to("DELETE", TASKS)] == [f"{TASKS}{ids[0]}/"] * 2
    assert all(r.headers["x-api-key"] == KEY for r in emu.requests)


# -- validation before any network call -------------------------------------------------------
@pytest.mark.parametrize(("over", "needle"), [
    ({"task": "tryon"}, "no task 'tryon'"),
    ({"color_changes": []}, "non-empty list"),
    ({"color_changes": "blouse=red"}, "must be JSON"),
    ({"color_changes": '{"target": "blouse", "color": "red"}'}, "non-empty list"),
    ({"color_changes": [{"target": "blouse"}]}, "needs a 'color'"),
    ({"color_changes": [{"color": "red"}]}, "needs a 'target'"),
    ({"color_changes": [{"target": "a", "color": "#12345"}]}, "not a hex colour"),
    ({"color_changes": [{"target": "a", "color": "red", "shade": 2}]}, "unknown field"),
    ({"color_changes": ["red"]}, "must be an object"),
    ({"image_quality": "8k"}, "must be one of: 2k, 4k"),
    ({"pose_image_generation_id": 0}, "at least 1"),
    ({"models_image_generation_task_id": "abc"}, "whole number"),
    ({"seed": 1}, "no parameter 'seed'"),
])
def test_bad_input_is_refused_before_any_request(over: dict[str, Any], needle: str) -> None:
    emu = VtryonEmulator()

    async def main() -> None:
        p = provider(base)
        try:
            await p.submit(job(emu, **over))
        finally:
            await p.aclose()

    with serve(emu) as base, pytest.raises((ProviderError, InvalidInput)) as caught:
        run(main())
    exc = caught.value
    if isinstance(exc, ProviderError):
        assert exc.code == ErrorCode.INVALID_INPUT, exc
    assert needle in str(exc)
    assert emu.requests == []


def test_missing_params_and_image_inputs_are_refused() -> None:
    p = provider("https://x.test")
    spec = p.task("recolor")
    assert spec is not None and spec.inputs == ()
    with pytest.raises(InvalidInput, match="needs the parameter 'color_changes'"):
        spec.validate({}, {"pose_image_generation_id": 1, "models_image_generation_task_id": 2})
    with pytest.raises(InvalidInput, match="takes no 'person' input"):
        spec.validate({"person": ["a.png"]}, {})
    assert check_color_changes([{"target": " blouse ", "color": " #abc "}]) == [
        {"target": "blouse", "color": "#abc"}]


def test_missing_key_and_base_url_send_nothing() -> None:
    emu = VtryonEmulator()
    with serve(emu) as base:
        with pytest.raises(ProviderError) as no_key:
            run(submit_and_collect(provider(base, key=None), job(emu)))
        with pytest.raises(ProviderError) as no_base:
            run(submit_and_collect(provider(None), job(emu)))
    assert no_key.value.code == ErrorCode.MISSING_KEY
    assert no_base.value.code == ErrorCode.NOT_CONFIGURED
    assert "RESTYLE_VTRYON_BASE_URL" in no_base.value.message
    assert emu.requests == []


def test_from_config_and_class_data() -> None:
    p = VtryonProvider.from_config(ProviderConfig(base_url="https://x.test",
                                                  key_source=lambda: "abc"))
    assert p.client.base_url == "https://x.test" and "abc" not in repr(p)
    assert (p.id, p.needs_key, p.needs_base_url, p.default_base_url) == (
        "vtryon", True, True, None)
    assert not (p.accepts_urls or p.supports_cancel or p.supports_reconcile
                or p.supports_account)
    [task] = p.tasks
    assert task.id == "recolor" and task.inputs == ()
    assert {s.name: s.required for s in task.params} == {
        "pose_image_generation_id": True, "models_image_generation_task_id": True,
        "color_changes": True, "image_quality": False}
    quality = task.param("image_quality")
    assert quality is not None and quality.choices == ("2k", "4k") and quality.default == "2k"


def test_error_extraction_reads_field_errors() -> None:
    assert extract_error(400, {"image_quality": ['"8k" is not a valid choice.']}, "") == (
        None, 'image_quality: "8k" is not a valid choice.')
    assert extract_error(401, {"detail": "Invalid API key."}, "") == (None, "Invalid API key.")


def test_emulator_validates_as_documented() -> None:
    emu = VtryonEmulator()
    other_pose, other_model = emu.seed_pose_task()
    auth = {"x-api-key": KEY}
    good = {"pose_image_generation_id": emu.seeded_pose_id,
            "models_image_generation_task_id": emu.seeded_model_task_id,
            "color_changes": CHANGES}
    with serve(emu) as base, httpx.Client(base_url=base) as client:
        missing_key = client.post(CREATE, json=good)
        assert missing_key.status_code == 401 and "not provided" in missing_key.json()["detail"]
        wrong = client.post(CREATE, json=good, headers={"x-api-key": "nope"})
        assert wrong.status_code == 401 and wrong.json() == {"detail": "Invalid API key."}
        assert client.get(CREATE).status_code == 401
        assert client.get(f"{TASKS}{emu.seeded_pose_id}/").status_code == 401
        assert client.delete(f"{TASKS}{emu.seeded_pose_id}/").status_code == 401
        for name in ("pose_image_generation_id", "models_image_generation_task_id",
                     "color_changes"):
            body = {k: v for k, v in good.items() if k != name}
            answer = client.post(CREATE, json=body, headers=auth)
            assert answer.status_code == 400
            assert answer.json() == {name: ["This field is required."]}
        cases = [
            ({"image_quality": "8k"}, "image_quality"),
            ({"pose_image_generation_id": 7}, "pose_image_generation_id"),
            ({"pose_image_generation_id": "x"}, "pose_image_generation_id"),
            ({"models_image_generation_task_id": 1}, "models_image_generation_task_id"),
            ({"models_image_generation_task_id": other_model},
             "models_image_generation_task_id"),
            ({"color_changes": [{"target": "blouse"}]}, "color_changes"),
        ]
        for over, name in cases:
            answer = client.post(CREATE, json={**good, **over}, headers=auth)
            assert answer.status_code == 400 and name in answer.json(), over
        assert client.post(CREATE, content=b"{", headers=auth).status_code == 400
        ok = client.post(CREATE, json=good, headers=auth)
        assert ok.status_code == 200 and ok.json()["status"] == "queued"
        assert set(ok.json()) == {"id", "status", "created_at"}
        assert client.get(f"{TASKS}999999/", headers=auth).status_code == 404
        assert client.get(CREATE, params={"page": 5}, headers=auth).status_code == 404
        pose = client.get(f"{TASKS}{other_pose}/", headers=auth).json()
        assert pose["status"] == "completed" and pose["result_url"].startswith(base)
    assert len([t for t in emu.tasks.values() if t.kind == "recolor"]) == 1


# -- submit faults -----------------------------------------------------------------------------
def test_wrong_key_is_auth_failed() -> None:
    emu = VtryonEmulator()
    with serve(emu) as base, pytest.raises(ProviderError) as caught:
        run(submit_and_collect(provider(base, key="vt-WRONG-123456"), job(emu)))
    assert caught.value.code == ErrorCode.AUTH_FAILED and caught.value.http_status == 401
    assert "Invalid API key" in caught.value.message
    assert "vt-WRONG-123456" not in caught.value.message
    assert len(emu.requests_to("POST", CREATE)) == 1


def test_server_side_validation_message_reaches_the_user() -> None:
    emu = VtryonEmulator()
    with serve(emu) as base, pytest.raises(ProviderError) as caught:
        run(submit_and_collect(provider(base), job(emu, pose_image_generation_id=4242)))
    assert caught.value.code == ErrorCode.INVALID_INPUT and caught.value.http_status == 400
    assert 'pose_image_generation_id: Invalid pk "4242"' in caught.value.message
    assert len(emu.requests_to("POST", CREATE)) == 1


def test_out_of_credits_is_final() -> None:
    emu = VtryonEmulator(credits=1, job_delay=0.0)
    sleeps = Sleeps()
    with serve(emu) as base:
        run(submit_and_collect(provider(base, sleeps=sleeps), job(emu)))  # the last credit
        with pytest.raises(ProviderError) as caught:
            run(submit_and_collect(provider(base, sleeps=sleeps), job(emu)))
        emu.credits = None
        emu.inject(Fault("status", method="POST", path=CREATE, status=429, times=5,
                         body={"detail": "Insufficient credits for this request."}))
        with pytest.raises(ProviderError) as as_429:
            run(submit_and_collect(provider(base, sleeps=sleeps), job(emu)))
    assert caught.value.code == ErrorCode.INSUFFICIENT_CREDITS
    assert caught.value.http_status == 402 and "Insufficient credits" in caught.value.message
    assert as_429.value.code == ErrorCode.INSUFFICIENT_CREDITS
    assert len(emu.requests_to("POST", CREATE)) == 3 and sleeps.waits == []


def test_rate_limit_on_submit_waits_and_retries() -> None:
    emu = VtryonEmulator(job_delay=0.0)
    emu.inject(Fault("status", method="POST", path=CREATE, status=429,
                     body={"detail": "Request was throttled."}, headers={"Retry-After": "3"}))
    sleeps = Sleeps()
    with serve(emu) as base:
        _, status, _ = run(submit_and_collect(provider(base, sleeps=sleeps), job(emu)))
    assert status.state == RemoteState.SUCCEEDED
    assert sleeps.waits == [3.0] and len(emu.requests_to("POST", CREATE)) == 2


def test_rate_limit_beyond_retries_says_when() -> None:
    emu = VtryonEmulator()
    emu.inject(Fault("status", method="POST", path=CREATE, status=429, times=10,
                     body={"detail": "Request was throttled."}, headers={"Retry-After": "2"}))
    with serve(emu) as base, pytest.raises(ProviderError) as caught:
        run(submit_and_collect(provider(base, max_retries=2), job(emu)))
    assert caught.value.code == ErrorCode.RATE_LIMITED and caught.value.retry_after == 2.0
    assert len(emu.requests_to("POST", CREATE)) == 3


def test_503_on_submit_is_retried() -> None:
    emu = VtryonEmulator(job_delay=0.0)
    emu.inject(Fault("status", method="POST", path=CREATE, status=503))
    sleeps = Sleeps()
    with serve(emu) as base:
        _, status, _ = run(submit_and_collect(provider(base, sleeps=sleeps), job(emu)))
    assert status.state == RemoteState.SUCCEEDED and len(sleeps.waits) == 1
    assert len(emu.requests_to("POST", CREATE)) == 2


@pytest.mark.parametrize(("fault", "code"), [
    (Fault("status", method="POST", path=CREATE, status=500,
           body={"detail": "Server error"}), ErrorCode.PROVIDER_UNAVAILABLE),
    (Fault("status", method="POST", path=CREATE, status=502), ErrorCode.PROVIDER_UNAVAILABLE),
    (Fault("html", method="POST", path=CREATE), ErrorCode.PROVIDER_UNAVAILABLE),
    (Fault("drop", method="POST", path=CREATE), ErrorCode.NETWORK),
    (Fault("slow", method="POST", path=CREATE, delay=1.5), ErrorCode.NETWORK),
], ids=["500", "502", "502-html", "drop", "slow"])
def test_unknown_outcome_of_submit_is_never_repeated(fault: Fault, code: ErrorCode) -> None:
    emu = VtryonEmulator()
    emu.inject(fault)
    sleeps = Sleeps()
    with serve(emu) as base, pytest.raises(ProviderError) as caught:
        run(submit_and_collect(provider(base, sleeps=sleeps, read=0.3), job(emu)))
    assert caught.value.code == code, caught.value
    assert caught.value.unknown_outcome, caught.value
    assert len(emu.requests_to("POST", CREATE)) == 1 and sleeps.waits == []
    assert emu.requests_to("GET", TASKS) == []


def test_malformed_submit_answer_is_not_repeated() -> None:
    emu = VtryonEmulator()
    emu.inject(Fault("malformed_json", method="POST", path=CREATE))
    with serve(emu) as base, pytest.raises(ProviderError) as caught:
        run(submit_and_collect(provider(base), job(emu)))
    assert caught.value.code == ErrorCode.PROVIDER_UNAVAILABLE
    assert caught.value.unknown_outcome  # a 2xx: the job may well exist
    assert "may have created the job" in caught.value.message
    assert "try again" not in caught.value.message
    assert len(emu.requests_to("POST", CREATE)) == 1


def test_answer_without_an_id_is_an_unknown_outcome() -> None:
    emu = VtryonEmulator()
    emu.inject(Fault("status", method="POST", path=CREATE, status=200,
                     body={"status": "queued"}))
    with serve(emu) as base, pytest.raises(ProviderError) as caught:
        run(submit_and_collect(provider(base), job(emu)))
    assert caught.value.unknown_outcome and "no task id" in caught.value.message


# -- poll faults -------------------------------------------------------------------------------
@pytest.mark.parametrize("fault", [
    Fault("status", method="GET", path=TASKS, status=500),
    Fault("status", method="GET", path=TASKS, status=502),
    Fault("status", method="GET", path=TASKS, status=503),
    Fault("html", method="GET", path=TASKS),
    Fault("status", method="GET", path=TASKS, status=429, headers={"Retry-After": "1"},
          body={"detail": "Request was throttled."}),
    Fault("drop", method="GET", path=TASKS),
    Fault("slow", method="GET", path=TASKS, delay=1.5),
], ids=["500", "502", "503", "502-html", "429", "drop", "slow"])
def test_poll_faults_are_retried(fault: Fault) -> None:
    emu = VtryonEmulator(job_delay=0.0)
    emu.inject(fault)
    sleeps = Sleeps()
    with serve(emu) as base:
        ref, status, data = run(submit_and_collect(provider(base, sleeps=sleeps, read=0.3),
                                                   job(emu)))
    assert status.state == RemoteState.SUCCEEDED
    assert data == emu.expected_result(ref.remote_id)
    assert len(emu.requests_to("GET", TASKS)) == 2 and len(sleeps.waits) == 1
    if fault.status == 429:
        assert sleeps.waits == [1.0]


def test_malformed_status_is_a_transient_error() -> None:
    emu = VtryonEmulator(job_delay=0.0)

    async def main() -> tuple[ProviderError, Any]:
        p = provider(base)
        try:
            ref = await p.submit(job(emu))
            emu.inject(Fault("malformed_json", method="GET", path=TASKS))
            with pytest.raises(ProviderError) as caught:
                await p.poll(ref)
            return caught.value, await p.poll(ref)
        finally:
            await p.aclose()

    with serve(emu) as base:
        error, status = run(main())
    assert error.code == ErrorCode.PROVIDER_UNAVAILABLE and "malformed" in error.message
    assert status.state == RemoteState.SUCCEEDED


@pytest.mark.parametrize(("message", "code"), [
    ("Garment 'lehenga' not found in image", "TARGET_NOT_FOUND"),
    ("Colour could not be applied", None),
])
def test_failed_task_keeps_the_providers_words(message: str, code: str | None) -> None:
    emu = VtryonEmulator(job_delay=0.0)
    emu.fail_next(message, code)
    with serve(emu) as base:
        ref, status, data = run(submit_and_collect(provider(base), job(emu)))
    assert status.state == RemoteState.FAILED and data is None
    assert status.error.code == ErrorCode.JOB_FAILED
    assert status.error.provider_code == code
    assert message in status.error.message and f"task {ref.remote_id}" in status.error.message


def test_completed_without_a_result_url_is_result_unavailable() -> None:
    emu = VtryonEmulator(job_delay=0.0)
    emu.omit_result_url = True
    with serve(emu) as base:
        _, status, _ = run(submit_and_collect(provider(base), job(emu)))
    assert status.state == RemoteState.FAILED
    assert status.error.code == ErrorCode.RESULT_UNAVAILABLE


def test_unknown_status_is_transient() -> None:
    emu = VtryonEmulator(job_delay=0.0)
    pose_id, _ = emu.seed_pose_task(status="exploded")

    async def main() -> ProviderError:
        p = provider(base)
        try:
            with pytest.raises(ProviderError) as caught:
                await p.poll(RemoteRef(str(pose_id)))
            return caught.value
        finally:
            await p.aclose()

    with serve(emu) as base:
        error = run(main())
    assert error.code == ErrorCode.PROVIDER_UNAVAILABLE and "exploded" in error.message


# -- downloads ---------------------------------------------------------------------------------
def test_expired_result_url_is_result_unavailable_and_not_retried() -> None:
    emu = VtryonEmulator(job_delay=0.0)

    async def main() -> ProviderError:
        p = provider(base)
        try:
            status = await until_done(p, await p.submit(job(emu)))
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
    emu = VtryonEmulator(job_delay=0.0)
    emu.inject(Fault("truncate", method="GET", path="/results/"))
    with serve(emu) as base:
        ref, _, data = run(submit_and_collect(provider(base), job(emu)))
        assert data == emu.expected_result(ref.remote_id)
        assert len(emu.requests_to("GET", "/results/")) == 2
        emu.inject(Fault("truncate", method="GET", path="/results/", times=10))
        with pytest.raises(ProviderError) as caught:
            run(submit_and_collect(provider(base, max_retries=2), job(emu)))
    assert caught.value.code == ErrorCode.RESULT_UNAVAILABLE
    assert "breaking off" in caught.value.message


def test_fetch_without_anything_to_fetch() -> None:
    with pytest.raises(ProviderError) as caught:
        run(provider("https://x.test").fetch(RemoteOutput()))
    assert caught.value.code == ErrorCode.RESULT_UNAVAILABLE


# -- whole jobs through the engine -------------------------------------------------------------
def engine_run(tmp_path: Path, emu: VtryonEmulator, base: str, **kw: Any) -> Job:
    history = History(tmp_path / "history.sqlite3")
    assets = AssetStore(tmp_path / "assets")
    p = provider(base, **kw)
    policy = EnginePolicy(jitter=0.0, poll_intervals={"vtryon": 0.02},
                          poll_backoff_base=0.01, poll_backoff_cap=0.02,
                          download_backoff_base=0.01, download_backoff_cap=0.02)
    spec_params = {**params(emu), "color_changes": json.dumps(CHANGES)}

    async def main() -> Job:
        engine = JobEngine(history, assets, lambda _pid: p, policy=policy)
        try:
            return await engine.run(JobSpec(provider="vtryon", task="recolor",
                                            params=spec_params))
        finally:
            await engine.aclose()

    return run(main())


def test_engine_runs_a_job_to_a_stored_result(tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    emu = VtryonEmulator(job_delay=0.05)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="restyle.http")
    with serve(emu) as base:
        done = engine_run(tmp_path, emu, base)
    assert done.state == JobState.SUCCEEDED, done.error
    assert done.remote_id is not None and int(done.remote_id) in emu.tasks
    [output] = done.outputs
    stored = AssetStore(tmp_path / "assets").path_for(output.sha256, output.mime).read_bytes()
    assert stored == emu.expected_result(done.remote_id)
    assert (output.width, output.height) == (96, 128)
    assert emu.requests_to("POST", CREATE)[0].json()["color_changes"] == CHANGES
    assert_request_log_is_clean(caplog.records, KEY, CREATE)
    assert KEY not in caplog.text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_engine_records_a_failed_job(tmp_path: Path) -> None:
    emu = VtryonEmulator(job_delay=0.0)
    emu.fail_next("Garment 'blouse' not found in image", "TARGET_NOT_FOUND")
    with serve(emu) as base:
        done = engine_run(tmp_path, emu, base)
    assert done.state == JobState.FAILED and done.outputs == ()
    assert done.error is not None and done.error.code == ErrorCode.JOB_FAILED
    assert done.error.provider_code == "TARGET_NOT_FOUND"
    assert "Garment 'blouse' not found" in done.error.message


def test_engine_never_resubmits_after_an_unknown_outcome(tmp_path: Path) -> None:
    emu = VtryonEmulator(job_delay=0.0)
    emu.inject(Fault("drop", method="POST", path=CREATE))
    with serve(emu) as base:
        done = engine_run(tmp_path, emu, base)
    assert done.state == JobState.NEEDS_ATTENTION and done.remote_id is None
    assert done.error is not None and done.error.code == ErrorCode.UNKNOWN_OUTCOME
    assert len(emu.requests_to("POST", CREATE)) == 1


def test_engine_reports_an_expired_result_link(tmp_path: Path) -> None:
    emu = VtryonEmulator(job_delay=0.0, url_ttl=0.0)
    with serve(emu) as base:
        done = engine_run(tmp_path, emu, base)
    # The paid job is kept, waiting: the links are asked for again, never the job.
    assert done.state == JobState.NEEDS_ATTENTION and done.remote_id
    assert done.error is not None and done.error.code == ErrorCode.RESULT_UNAVAILABLE


# -- the CLI -----------------------------------------------------------------------------------
def test_cli_run_writes_a_real_output(home: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.PROVIDER_CLASSES, "vtryon", VtryonProvider)
    emu = VtryonEmulator(job_delay=0.0)
    out_dir = tmp_path / "out"
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_VTRYON_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_VTRYON_API_KEY", KEY)
        code = cli.main([
            "run", "--provider", "vtryon", "--task", "recolor",
            "--param", f"pose_image_generation_id={emu.seeded_pose_id}",
            "--param", f"models_image_generation_task_id={emu.seeded_model_task_id}",
            "--param", f"color_changes={json.dumps(CHANGES)}",
            "--param", "image_quality=4k", "--out", str(out_dir), "--json"],
            stdin=io.StringIO(""))
    out, _ = capsys.readouterr()
    assert code == 0, out
    data = json.loads(out)
    assert data["status"] == "succeeded"
    path = Path(data["outputs"][0]["path"])
    assert path.parent == out_dir
    assert path.read_bytes() == emu.expected_result(data["remote_id"])
    with Image.open(path) as img:
        assert img.size == (96, 128)
    assert emu.requests_to("POST", CREATE)[0].json()["image_quality"] == "4k"
    assert KEY not in out


def test_provider_words_never_carry_the_key_or_tokens() -> None:
    """A failed task's error and code and a refused create (Django REST framework's field
    errors) are redacted: the key, a `token=` pair and a signed link never reach a
    RemoteStatus or ProviderError."""
    key = "vtryon-LEAK-0004"
    said = leaky_words(key)
    emu = VtryonEmulator(api_key=key, job_delay=0.0)
    emu.inject(Fault("status", "POST", CREATE, status=400, body={"color_changes": [said]}))
    emu.fail_next(said, f"token={LEAKED_TOKEN}")

    async def main() -> tuple[ProviderError, Any]:
        p = provider(base, key)
        try:
            with pytest.raises(ProviderError) as refused:
                await p.submit(job(emu))
            return refused.value, await until_done(p, await p.submit(job(emu)))
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
def _recolor_spec(emu: VtryonEmulator, **over: Any) -> JobSpec:
    return JobSpec(provider="vtryon", task="recolor", params=params(emu, **over))


@pytest.mark.parametrize(("changes", "needle"), [
    ([{"target": "blouse", "color": "red", "shade": "dark"}], "unknown field(s): shade"),
    ([{"target": "blouse", "color": "rgb(0, 0, 255)"}],
     "'rgb(0, 0, 255)'; vtryon takes a hex colour such as #1f4e9c or a colour name"),
    ([{"target": "blouse", "color": "1f4e9c"}], "such as #1f4e9c"),
    ([{"target": "blouse", "color": "navy"}, {"target": "skirt", "color": "hsl(0,100%,50%)"}],
     "item 2 has the colour"),
], ids=["unknown_field", "css_function", "hex_without_hash", "second_item"])
def test_colour_changes_the_service_does_not_take_are_refused_before_storing(
        tmp_path: Path, changes: list[dict[str, str]], needle: str) -> None:
    emu = VtryonEmulator()
    with serve(emu) as base:
        message = refused_before_storing(tmp_path, provider(base),
                                         _recolor_spec(emu, color_changes=changes), emu)
    assert needle in message and "Parameter 'color_changes'" in message, message
    assert emu.requests == []  # refused before the base task is even looked up


@pytest.mark.parametrize(("status", "needle"), [
    (None, "vtryon has no task 4242; give the ID of a finished multipose (pose) task"),
    ("processing", "the base pose task 4242 is still processing"),
    ("queued", "the base pose task 4242 is still queued"),
    ("failed", "the base pose task 4242 failed"),
])
def test_a_base_pose_task_that_cannot_be_recoloured_is_refused_before_storing(
        tmp_path: Path, status: str | None, needle: str) -> None:
    emu = VtryonEmulator()
    model_id = emu.seeded_model_task_id
    if status is not None:
        _pose, model_id = emu.seed_pose_task(status=status, task_id=4242)
    with serve(emu) as base:
        message = refused_before_storing(tmp_path, provider(base), _recolor_spec(
            emu, pose_image_generation_id=4242, models_image_generation_task_id=model_id), emu)
    assert needle in message and "Parameter 'pose_image_generation_id'" in message, message
    assert [r.method for r in emu.requests] == ["GET", "GET"]  # prepare, then submit's prepare


def test_a_base_task_that_cannot_be_read_is_left_to_submit(tmp_path: Path) -> None:
    """A wrong key is no parameter problem: the job is stored and fails as auth_failed (exit 3
    on the command line), as it did before the check existed."""
    emu = VtryonEmulator(job_delay=0.0)
    with serve(emu) as base:
        done = engine_run(tmp_path, emu, base, key="wrong-key")
    assert done.state == JobState.FAILED and done.error is not None
    assert done.error.code == ErrorCode.AUTH_FAILED
    assert History(tmp_path / "history.sqlite3").count() == 1
