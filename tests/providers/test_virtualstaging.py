"""Virtual Staging AI v2 adapter against its emulator, over real HTTP."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from PIL import Image

from desktop import cli
from desktop.core.assets import AssetStore
from desktop.core.engine import EnginePolicy, JobEngine
from desktop.core.model import ErrorCode, InvalidInput, JobSpec, JobState
from desktop.core.store import History
from desktop.providers import registry
from desktop.providers.base import (
    PreparedInput,
    PreparedJob,
    ProviderConfig,
    ProviderError,
    RemoteOutput,
    RemoteState,
)
from desktop.providers.http import Timeouts
from desktop.providers.virtualstaging import (
    DEFAULT_BASE_URL,
    MAX_ETA_WAIT,
    VirtualStagingProvider,
)
from tests.emulators.kit import Fault, serve
from tests.emulators.virtualstaging import VirtualStagingEmulator
from tests.fakes import png_bytes
from tests.refusals import refused_before_storing
from tests.support import assert_no_secret, leaky_words

T = TypeVar("T")
KEY = "vsai-SECRET-key-123"
ROOM = png_bytes((180, 170, 150), (320, 240))


@pytest.fixture
def emu() -> VirtualStagingEmulator:
    return VirtualStagingEmulator(api_key=KEY, job_delay=0.15, prefix="/v2")


@pytest.fixture
def base(emu: VirtualStagingEmulator) -> Iterator[str]:
    with serve(emu) as root:
        yield root + "/v2"


async def _no_sleep(_seconds: float) -> None:
    return None


def make(base: str, key: str | None = KEY, **kw: Any) -> VirtualStagingProvider:
    kw.setdefault("sleep", _no_sleep)
    return VirtualStagingProvider(base, lambda: key, **kw)


def run(provider: VirtualStagingProvider, fn: Callable[[VirtualStagingProvider], Awaitable[T]]
        ) -> T:
    async def main() -> T:
        try:
            return await fn(provider)
        finally:
            await provider.aclose()
    return asyncio.run(main())


def job(params: dict[str, Any] | None = None, *, data: bytes = ROOM,
        source_url: str | None = None) -> PreparedJob:
    room = PreparedInput("room", data, "image/png", 320, 240, "sha", source_url=source_url)
    return PreparedJob("local-1", "staging", {"room": [room]}, params or {})


async def until_done(p: VirtualStagingProvider, ref: Any) -> Any:
    for _ in range(200):
        status = await p.poll(ref)
        if status.state.terminal:
            return status
        await asyncio.sleep(0.03)
    raise AssertionError("the render never finished")


# -- the job contract --------------------------------------------------------------------------
def test_staging_render_with_two_variations(emu: VirtualStagingEmulator, base: str) -> None:
    async def go(p: VirtualStagingProvider) -> list[bytes]:
        ref = await p.submit(job({"room_type": "bed", "style": "scandinavian",
                                  "variation_count": 2}))
        status = await until_done(p, ref)
        assert status.state == RemoteState.SUCCEEDED and len(status.outputs) == 2
        return [await p.fetch(o) for o in status.outputs]

    first, second = run(make(base), go)
    assert first != second  # each variation is its own image
    for data in (first, second):
        assert Image.open(io.BytesIO(data)).size == (320, 240)
    [post] = emu.requests_to("POST", "/v2/renders")
    assert post.headers["authorization"] == f"Api-Key {KEY}"
    body = post.json()
    assert body["config"] == {"type": "staging",
                              "add_furniture": {"room_type": "bed", "style": "scandinavian"}}
    assert body["variation_count"] == 2 and body["wait_for_completion"] is False
    assert body["image_url"].startswith("data:image/png;base64,")
    polls = emu.requests_to("GET", "/v2/renders/")
    assert polls and all(r.query["include_variations"] == "true" for r in polls)
    downloads = emu.requests_to("GET", "/results/")
    assert len(downloads) == 2


@pytest.mark.parametrize(("params", "config"), [
    ({"type": "removal"}, {"type": "staging", "remove_furniture": {}}),
    ({"type": "day-to-dusk", "sky": "golden"}, {"type": "day-to-dusk", "sky": "golden"}),
    ({"type": "enhancement"}, {"type": "enhancement"}),
    ({"remove_furniture": True, "style": "coastal"},
     {"type": "staging", "remove_furniture": {},
      "add_furniture": {"room_type": "living", "style": "coastal"}}),
    ({"type": "enhancement", "config": {"strength": "high"}},
     {"type": "enhancement", "strength": "high"}),
])
def test_each_render_type_is_sent_and_accepted(emu: VirtualStagingEmulator, base: str,
                                               params: dict[str, Any],
                                               config: dict[str, Any]) -> None:
    async def go(p: VirtualStagingProvider) -> Any:
        return await until_done(p, await p.submit(job(params)))

    status = run(make(base), go)
    assert status.state == RemoteState.SUCCEEDED and len(status.outputs) == 1
    [post] = emu.requests_to("POST", "/v2/renders")
    assert post.json()["config"] == config
    kind = "removal" if params.get("type") == "removal" else config["type"]
    assert status.outputs[0].label == f"{kind} variation 1"


def test_multi_config_url_input_webhook_and_optimized_result(emu: VirtualStagingEmulator,
                                                             base: str) -> None:
    source = emu.result_url(ROOM, "image/png")  # a public URL the service can fetch
    configs = [
        {"type": "staging", "add_furniture": {"room_type": "living", "style": "modern"},
         "variation_count": 2},
        {"type": "day-to-dusk", "sky": "blue", "variation_count": 1},
    ]

    async def go(p: VirtualStagingProvider) -> Any:
        ref = await p.submit(job({"configs": configs, "webhook_url": "https://hooks.example/x",
                                  "result": "optimized_url"}, source_url=source))
        return await until_done(p, ref)

    status = run(make(base), go)
    body = emu.requests_to("POST", "/v2/renders")[0].json()
    assert body["image_url"] == source and body["configs"] == configs
    assert "config" not in body and "variation_count" not in body
    assert body["webhook_url"] == "https://hooks.example/x"
    assert [o.label for o in status.outputs] == ["staging variation 1", "staging variation 2",
                                                 "day-to-dusk variation 3"]
    render = next(iter(emu.renders.values()))
    assert [o.url for o in status.outputs] == [v.result["optimized_url"]  # type: ignore[index]
                                               for v in render.variations]


@pytest.mark.parametrize(("params", "needle"), [
    ({"variation_count": 0}, "variation_count"),
    ({"configs": []}, "configs"),
    ({"configs": [{"type": "staging", "add_furniture": {"room_type": "attic",
                                                        "style": "modern"},
                   "variation_count": 1}]}, "room_type"),
    ({"configs": [{"type": "day-to-dusk", "variation_count": 0}]}, "variation_count"),
    ({"configs": [{"type": "teleport", "variation_count": 1}]}, "type"),
    ({"type": "day-to-dusk", "sky": "green"}, "sky"),
    ({"config": [1, 2]}, "config"),
    ({"webhook_url": "ftp://x"}, "webhook_url"),
])
def test_bad_input_is_refused_before_any_request(emu: VirtualStagingEmulator, base: str,
                                                 params: dict[str, Any], needle: str) -> None:
    with pytest.raises((ProviderError, InvalidInput)) as caught:
        run(make(base), lambda p: p.submit(job(params)))
    error = caught.value
    if isinstance(error, ProviderError):
        assert error.code == ErrorCode.INVALID_INPUT
    assert needle in str(error)
    assert emu.requests == []


def test_eta_drives_the_poll_schedule() -> None:
    now = 1_000_000.0
    p = VirtualStagingProvider(DEFAULT_BASE_URL, clock=lambda: now)
    ms = now * 1000
    running = [{"id": "a", "status": "processing", "eta": ms + 12_000},
               {"id": "b", "status": "queued", "eta": ms + 30_000}]
    status = p.status_of({"id": "r", "eta": ms + 12_000}, running)
    assert status.state == RemoteState.RUNNING and status.poll_after == pytest.approx(12.0)
    queued = p.status_of({"id": "r", "eta": ms + 600_000}, [])
    assert queued.state == RemoteState.QUEUED and queued.poll_after == MAX_ETA_WAIT
    late = p.status_of({"id": "r", "eta": ms - 5_000},
                       [{"id": "a", "status": "processing", "eta": ms - 5_000}])
    assert late.poll_after is None  # past its eta: the engine's own schedule applies
    soon = p.status_of({"id": "r", "eta": None},
                       [{"id": "a", "status": "done", "result": {"url": "https://x/1.png"}},
                        {"id": "b", "status": "queued", "eta": ms + 100}])
    assert soon.poll_after == 1.0 and soon.progress == 0.5


def test_some_variations_fail_the_rest_are_kept(emu: VirtualStagingEmulator, base: str) -> None:
    emu.fail_next("Image too dark to stage")

    async def go(p: VirtualStagingProvider) -> Any:
        return await until_done(p, await p.submit(job({"variation_count": 3})))

    status = run(make(base), go)
    assert status.state == RemoteState.SUCCEEDED and len(status.outputs) == 2
    assert "1 of 3 variations did not finish (Image too dark to stage)" in status.message


# -- through the real engine -------------------------------------------------------------------
async def _fast_sleep(seconds: float) -> None:
    await asyncio.sleep(min(seconds, 0.03))


def run_engine(tmp_path: Path, base: str, params: dict[str, Any], key: str = KEY
               ) -> tuple[Any, History, AssetStore]:
    src = tmp_path / "room.png"
    src.write_bytes(ROOM)
    history = History(tmp_path / "history.sqlite3")
    assets = AssetStore(tmp_path / "assets")

    async def main() -> Any:
        engine = JobEngine(history, assets, lambda _pid: make(base, key),
                           policy=EnginePolicy(jitter=0.0), sleep=_fast_sleep)
        try:
            return await engine.run(JobSpec("virtualstaging", "staging",
                                            {"room": [str(src)]}, params))
        finally:
            await engine.aclose()

    return asyncio.run(main()), history, assets


def test_engine_downloads_every_variation(tmp_path: Path, emu: VirtualStagingEmulator,
                                          base: str) -> None:
    done, history, assets = run_engine(tmp_path, base, {"variation_count": "3",
                                                        "style": "luxury"})
    assert done.state == JobState.SUCCEEDED, done.error
    assert done.remote_id in emu.renders and len(done.outputs) == 3
    assert len({o.sha256 for o in done.outputs}) == 3
    for output in done.outputs:
        assert assets.path_for(output.sha256, output.mime).exists()
    assert history.get(done.id).outputs == done.outputs  # type: ignore[union-attr]
    assert len(emu.requests_to("POST", "/v2/renders")) == 1


def test_engine_reports_a_failed_render(tmp_path: Path, emu: VirtualStagingEmulator,
                                        base: str) -> None:
    emu.fail_next("No room detected in the photo", "No room detected in the photo")
    done, _history, _assets = run_engine(tmp_path, base, {"variation_count": 2})
    assert done.state == JobState.FAILED and done.outputs == ()
    assert done.error.code == ErrorCode.JOB_FAILED
    assert "All 2 variations failed" in done.error.message
    assert "No room detected in the photo" in done.error.message
    assert done.error.provider_code == "error"


def test_engine_out_of_photos_is_final(tmp_path: Path, base: str) -> None:
    emu_limited = VirtualStagingEmulator(api_key=KEY, job_delay=0.1, photo_limit=1)
    with serve(emu_limited) as root:
        done, _h, _a = run_engine(tmp_path, root, {"variation_count": 2})
    assert done.state == JobState.FAILED
    assert done.error.code == ErrorCode.INSUFFICIENT_CREDITS
    assert "Photo limit reached" in done.error.message
    assert len(emu_limited.requests_to("POST", "/renders")) == 1  # never retried
    assert emu_limited.renders == {}


# -- auth and faults ---------------------------------------------------------------------------
def test_wrong_and_missing_key(emu: VirtualStagingEmulator, base: str) -> None:
    with pytest.raises(ProviderError) as caught:
        run(make(base, key="wrong-key-0000"), lambda p: p.submit(job()))
    assert caught.value.code == ErrorCode.AUTH_FAILED and caught.value.http_status == 401
    assert "wrong-key-0000" not in caught.value.message
    assert "invalid API key" in caught.value.message
    count = len(emu.requests)
    with pytest.raises(ProviderError) as caught:
        run(make(base, key=None), lambda p: p.user())
    assert caught.value.code == ErrorCode.MISSING_KEY and len(emu.requests) == count


def test_lowercase_scheme_is_refused(emu: VirtualStagingEmulator, base: str) -> None:
    import httpx

    answer = httpx.get(base + "/user", headers={"Authorization": f"api-key {KEY}"})
    assert answer.status_code == 401 and "message" in answer.json()


def test_429_on_create_is_retried_after_retry_after(emu: VirtualStagingEmulator,
                                                    base: str) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    emu.inject(Fault("status", method="POST", path="/v2/renders", status=429,
                     body={"message": "Too many requests"}, headers={"Retry-After": "2"}))
    ref = run(make(base, sleep=sleep), lambda p: p.submit(job()))
    assert ref.remote_id in emu.renders and waits == [2.0]
    assert len(emu.requests_to("POST", "/v2/renders")) == 2


@pytest.mark.parametrize("fault", [
    Fault("status", method="POST", path="/v2/renders", status=500,
          body={"message": "Unexpected server error"}),
    Fault("status", method="POST", path="/v2/renders", status=502, body={"message": "bad"}),
    Fault("drop", method="POST", path="/v2/renders"),
])
def test_create_with_unknown_outcome_is_never_sent_twice(emu: VirtualStagingEmulator, base: str,
                                                         fault: Fault) -> None:
    emu.inject(fault)
    with pytest.raises(ProviderError) as caught:
        run(make(base), lambda p: p.submit(job()))
    assert caught.value.unknown_outcome
    assert caught.value.code in (ErrorCode.PROVIDER_UNAVAILABLE, ErrorCode.NETWORK)
    assert len(emu.requests_to("POST", "/v2/renders")) == 1


def test_503_on_create_is_retried(emu: VirtualStagingEmulator, base: str) -> None:
    emu.inject(Fault("status", method="POST", path="/v2/renders", status=503, times=2))
    ref = run(make(base), lambda p: p.submit(job()))
    assert ref.remote_id and len(emu.requests_to("POST", "/v2/renders")) == 3


@pytest.mark.parametrize("fault", [
    Fault("html", method="GET", path="/v2/renders/"),
    Fault("status", method="GET", path="/v2/renders/", status=500),
    Fault("status", method="GET", path="/v2/renders/", status=503, times=2),
    Fault("slow", method="GET", path="/v2/renders/", delay=1.0),
    Fault("drop", method="GET", path="/v2/renders/"),
    Fault("status", method="GET", path="/v2/renders/", status=429,
          body={"message": "Too many requests"}, headers={"Retry-After": "1"}),
])
def test_poll_faults_are_retried(emu: VirtualStagingEmulator, base: str, fault: Fault) -> None:
    async def go(p: VirtualStagingProvider) -> Any:
        ref = await p.submit(job())
        emu.inject(fault)
        return await until_done(p, ref)

    status = run(make(base, timeouts=Timeouts(read=0.3)), go)
    # poll() raising would have ended until_done: the fault was absorbed by retries.
    assert status.state == RemoteState.SUCCEEDED and emu.faults == []
    assert len(emu.requests_to("GET", "/v2/renders/")) >= fault.times + 1


def test_poll_faults_surface_when_they_persist(emu: VirtualStagingEmulator, base: str) -> None:
    async def go(p: VirtualStagingProvider) -> list[ProviderError]:
        ref = await p.submit(job())
        errors = []
        for fault in (Fault("html", method="GET", path="/v2/renders/", times=5),
                      Fault("malformed_json", method="GET", path="/v2/renders/"),
                      Fault("slow", method="GET", path="/v2/renders/", delay=1.0, times=5)):
            emu.inject(fault)
            with pytest.raises(ProviderError) as caught:
                await p.poll(ref)
            errors.append(caught.value)
            emu.faults.clear()
        return errors

    html, malformed, slow = run(make(base, max_retries=2, timeouts=Timeouts(read=0.3)), go)
    assert html.code == ErrorCode.PROVIDER_UNAVAILABLE and "unexpected page" in html.message
    assert malformed.code == ErrorCode.PROVIDER_UNAVAILABLE and "malformed" in malformed.message
    assert slow.code == ErrorCode.NETWORK and "did not answer" in slow.message


def test_unknown_render_is_not_found(emu: VirtualStagingEmulator, base: str) -> None:
    from desktop.providers.base import RemoteRef

    with pytest.raises(ProviderError) as caught:
        run(make(base), lambda p: p.poll(RemoteRef("rnd_99999")))
    assert caught.value.code == ErrorCode.NOT_FOUND and "Render not found" in caught.value.message


def test_expired_and_truncated_results(emu: VirtualStagingEmulator, base: str) -> None:
    async def go(p: VirtualStagingProvider) -> tuple[list[RemoteOutput], bytes]:
        status = await until_done(p, await p.submit(job({"variation_count": 2})))
        emu.inject(Fault("truncate", path="/results/"))
        data = await p.fetch(status.outputs[0])  # cut once, fetched again
        return list(status.outputs), data

    outputs, data = run(make(base), go)
    assert Image.open(io.BytesIO(data)).format == "PNG"
    assert len(emu.requests_to("GET", "/results/")) == 2

    emu.inject(Fault("truncate", path="/results/", times=10))
    with pytest.raises(ProviderError) as caught:
        run(make(base, max_retries=2), lambda p: p.fetch(outputs[1]))
    assert caught.value.code == ErrorCode.RESULT_UNAVAILABLE and "breaking off" in (
        caught.value.message)
    emu.faults.clear()

    emu.results.expire_all()
    with pytest.raises(ProviderError) as caught:
        run(make(base), lambda p: p.fetch(outputs[0]))
    assert caught.value.code == ErrorCode.RESULT_UNAVAILABLE and "expired" in (
        caught.value.message)


# -- the rest of the API -----------------------------------------------------------------------
def test_status_user_and_account(emu: VirtualStagingEmulator, base: str) -> None:
    emu.photos_used["staging"] = 7

    async def go(p: VirtualStagingProvider) -> Any:
        return await p.api_status(), await p.user(), await p.account()

    up, user, account = run(make(base), go)
    assert up is True and user["photoLimit"] == {"staging": 100, "imageEditing": 100}
    assert account.credits == 93.0 and account.limits["staging"] == {"limit": 100, "used": 7}
    assert account.details == {"email": "agent@example.com", "uid": "uid_1"}
    assert "staging: 7 of 100 photos used" in account.message and account.purchase_url
    assert [r.path for r in emu.requests] == ["/v2/status", "/v2/user", "/v2/user"]


def test_list_get_and_variations(emu: VirtualStagingEmulator, base: str) -> None:
    async def go(p: VirtualStagingProvider) -> dict[str, Any]:
        ids = [(await p.submit(job({"variation_count": 2}))).remote_id for _ in range(3)]
        newest = await p.list_renders(limit=2)
        rest = await p.list_renders(limit=2, cursor=newest.next_cursor)
        oldest = await p.list_renders(limit=1, order="asc")
        render = await p.get_render(ids[0])
        with_vars = await p.get_render(ids[0], include_variations=True, variations_limit=1,
                                       variations_order="desc")
        variation = await p.get_variation(ids[0], with_vars["variations"]["items"][0]["id"])
        with pytest.raises(InvalidInput):
            await p.list_renders(limit=101)
        with pytest.raises(InvalidInput):
            await p.list_renders(order="sideways")
        return {"ids": ids, "newest": newest, "rest": rest, "oldest": oldest,
                "render": render, "with_vars": with_vars, "variation": variation}

    got = run(make(base), go)
    ids = got["ids"]
    assert [r["id"] for r in got["newest"].items] == [ids[2], ids[1]]
    assert got["newest"].total_count == 3 and got["newest"].next_cursor == ids[1]
    assert [r["id"] for r in got["rest"].items] == [ids[0]] and got["rest"].next_cursor is None
    assert [r["id"] for r in got["oldest"].items] == [ids[0]]
    assert "variations" not in got["render"]
    page = got["with_vars"]["variations"]
    assert page["total_count"] == 2 and len(page["items"]) == 1 and page["next_cursor"]
    assert got["variation"]["render_id"] == ids[0]
    assert got["variation"]["id"] == page["items"][0]["id"]
    sent = emu.requests_to("GET", "/v2/renders")
    assert sent[1].query["cursor"] == ids[1] and sent[2].query["order"] == "asc"


def test_poll_follows_the_variation_cursor(emu: VirtualStagingEmulator, base: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import desktop.providers.virtualstaging as module

    monkeypatch.setattr(module, "VARIATIONS_PAGE", 2)

    async def go(p: VirtualStagingProvider) -> Any:
        return await until_done(p, await p.submit(job({"variation_count": 5})))

    status = run(make(base), go)
    assert len(status.outputs) == 5
    last = [r for r in emu.requests_to("GET", "/v2/renders/")][-3:]
    assert [r.query.get("variations_cursor") is not None for r in last] == [False, True, True]


def test_add_and_bulk(emu: VirtualStagingEmulator, base: str) -> None:
    staging = {"type": "staging", "add_furniture": {"room_type": "dining", "style": "industrial"}}
    image = emu.result_url(ROOM, "image/png")

    async def go(p: VirtualStagingProvider) -> dict[str, Any]:
        render_id = (await p.submit(job())).remote_id
        added = await p.add_variations(render_id, {"type": "day-to-dusk", "sky": "dusk"},
                                       variation_count=2)
        bulk = await p.bulk_renders([
            {"image_url": image, "config": staging, "variation_count": 1},
            {"image_url": image, "configs": [dict(staging, variation_count=2)]},
        ], webhook_url="https://hooks.example/bulk")
        more = await p.bulk_variations([
            {"render_id": render_id, "config": {"type": "enhancement"}, "variation_count": 1},
        ])
        done = await p.add_variations(render_id, {"type": "enhancement"},
                                      wait_for_completion=True)
        with pytest.raises(InvalidInput):
            await p.bulk_variations([{"config": staging}])
        with pytest.raises(InvalidInput):
            await p.bulk_renders([{"image_url": "not a url", "config": staging}])
        return {"id": render_id, "added": added, "bulk": bulk, "more": more, "done": done}

    got = run(make(base), go)
    render = emu.renders[got["id"]]
    assert [v.type for v in render.variations] == ["staging", "day-to-dusk", "day-to-dusk",
                                                   "enhancement", "enhancement"]
    assert got["added"]["total_count"] == 2
    assert [len(r["variations"]["items"]) for r in got["bulk"]["items"]] == [1, 2]
    assert got["more"]["items"][0]["render_id"] == got["id"]
    assert got["done"]["items"][0]["status"] == "done"
    body = emu.requests_to("POST", "/v2/renders/bulk")[0].json()
    assert body["webhook_url"] == "https://hooks.example/bulk" and len(body["renders"]) == 2
    assert emu.requests_to("POST", "/v2/renders/variations/bulk")[0].json()["variations"] == [
        {"render_id": got["id"], "config": {"type": "enhancement"}, "variation_count": 1}]
    assert len(emu.requests_to("POST", "/v2/renders/variations/bulk")) == 1  # bad one not sent


def test_forbidden_without_a_limit_stays_forbidden(emu: VirtualStagingEmulator,
                                                   base: str) -> None:
    emu.inject(Fault("status", method="POST", path="/v2/renders", status=403,
                     body={"message": "API access needs an enterprise plan"}))
    with pytest.raises(ProviderError) as caught:
        run(make(base), lambda p: p.submit(job()))
    assert caught.value.code == ErrorCode.FORBIDDEN and caught.value.http_status == 403
    assert "enterprise plan" in caught.value.message
    assert len(emu.requests_to("POST", "/v2/renders")) == 1


def test_add_variations_out_of_photos(emu: VirtualStagingEmulator, base: str) -> None:
    async def go(p: VirtualStagingProvider) -> None:
        render_id = (await p.submit(job())).remote_id
        emu.photo_limit["imageEditing"] = 0
        await p.add_variations(render_id, {"type": "enhancement"})

    with pytest.raises(ProviderError) as caught:
        run(make(base), go)
    assert caught.value.code == ErrorCode.INSUFFICIENT_CREDITS
    assert len(emu.requests_to("POST", "/v2/renders/")) == 1


def test_analyze_and_multi_view(emu: VirtualStagingEmulator, base: str) -> None:
    other = png_bytes((90, 90, 90), (200, 100))

    async def go(p: VirtualStagingProvider) -> dict[str, Any]:
        analysis = await p.analyze(ROOM, webhook_url="https://hooks.example/a")
        mask = await p.download(analysis.result_url or "")
        same = await p.multi_view_compatibility(ROOM, emu.result_url(ROOM, "image/png"))
        differ = await p.multi_view_compatibility(ROOM, other)
        with pytest.raises(InvalidInput):
            await p.analyze(b"GIF89a not supported")
        return {"analysis": analysis, "mask": mask, "same": same, "differ": differ}

    got = run(make(base), go)
    assert got["analysis"].percentage_masked == 37.5 and got["analysis"].status == "done"
    assert Image.open(io.BytesIO(got["mask"])).size == (320, 240)
    assert got["same"].compatible and not got["same"].hard_rejected
    assert not got["differ"].compatible and got["differ"].hard_rejected
    assert "dimensions" in (got["differ"].rejection_reason or "")
    sent = emu.requests_to("POST", "/v2/analyze")
    assert len(sent) == 1 and sent[0].json()["webhook_url"] == "https://hooks.example/a"
    assert len(emu.requests_to("POST", "/v2/multi-view-compatibility")[0].json()[
        "image_urls"]) == 2


def test_webhook_secret_set_and_removed_never_logged(emu: VirtualStagingEmulator, base: str,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    secret = "whsec_Very-Private_42"
    caplog.set_level(logging.DEBUG)

    async def go(p: VirtualStagingProvider) -> tuple[str, str]:
        with pytest.raises(InvalidInput):
            await p.set_webhook_secret("has spaces!")
        emu.inject(Fault("status", method="POST", path="/v2/user/webhook-secret", status=400,
                         body={"message": f"bad secret {secret}"}))
        with pytest.raises(ProviderError) as caught:
            await p.set_webhook_secret(secret)
        assert secret not in caught.value.message
        return await p.set_webhook_secret(secret), await p.remove_webhook_secret()

    set_message, removed = run(make(base), go)
    assert set_message == "Webhook secret updated successfully"
    assert removed == "Webhook secret removed successfully" and emu.webhook_secret is None
    posts = emu.requests_to("POST", "/v2/user/webhook-secret")
    assert len(posts) == 2 and posts[1].json() == {"webhook_secret": secret}
    assert len(emu.requests_to("DELETE", "/v2/user/webhook-secret")) == 1
    assert caplog.records and secret not in caplog.text and KEY not in caplog.text


def test_from_config_defaults_and_extra_choices() -> None:
    p = VirtualStagingProvider.from_config(ProviderConfig(
        extra={"room_types": "attic, garage", "styles": ["japandi"], "max_variation_count": 4}))
    assert p.client.base_url == DEFAULT_BASE_URL
    task = p.task("staging")
    assert task is not None
    assert {"attic", "garage", "living"} <= set(task.param("room_type").choices)  # type: ignore[union-attr]
    assert "japandi" in task.param("style").choices  # type: ignore[union-attr]
    assert task.param("variation_count").maximum == 4  # type: ignore[union-attr]
    with pytest.raises(InvalidInput):
        task.validate({"room": ["x"]}, {"variation_count": "5"})
    assert p.build_config({"type": "staging", "room_type": "attic", "style": "japandi"})[
        "add_furniture"] == {"room_type": "attic", "style": "japandi"}


# -- the command line --------------------------------------------------------------------------
def test_cli_run_writes_every_variation(home: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    emu = VirtualStagingEmulator(job_delay=0.1)
    src = tmp_path / "empty-room.png"
    src.write_bytes(ROOM)
    out_dir = tmp_path / "staged"
    monkeypatch.setitem(registry.PROVIDER_CLASSES, "virtualstaging", VirtualStagingProvider)
    with serve(emu) as root:
        monkeypatch.setenv("RESTYLE_VIRTUALSTAGING_BASE_URL", root)
        monkeypatch.setenv("RESTYLE_VIRTUALSTAGING_API_KEY", emu.api_key)
        code = cli.main(["run", "--provider", "virtualstaging", "--task", "staging", "--room",
                         str(src), "--param", "variation_count=2", "--param", "style=farmhouse",
                         "--out", str(out_dir), "--json"], stdin=io.StringIO(""))
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert data["status"] == "succeeded" and data["remote_id"] in emu.renders
    assert len(data["outputs"]) == 2
    for output in data["outputs"]:
        with Image.open(output["path"]) as img:
            assert img.size == (320, 240)
        assert Path(output["path"]).parent == out_dir
    body = emu.requests_to("POST", "/renders")[0].json()
    assert body["config"]["add_furniture"]["style"] == "farmhouse"


def test_provider_words_never_carry_the_key_or_tokens() -> None:
    """A failed variation's words (in a partial success and in a failure), a refused render
    and a webhook confirmation are redacted: the key, a `token=` pair and a signed link never
    reach a RemoteStatus, a ProviderError or a returned message."""
    key = "vsai-LEAK-0005"
    said = leaky_words(key)
    leaky = VirtualStagingEmulator(api_key=key, job_delay=0.05, prefix="/v2")
    leaky.inject(
        Fault("status", "POST", "/v2/renders", status=400, body={"message": said}),
        Fault("status", "POST", "/v2/user/webhook-secret", status=200, body={"message": said}),
    )
    leaky.fail_next(said)  # one of the two variations

    async def go(p: VirtualStagingProvider) -> tuple[ProviderError, Any, Any, str]:
        with pytest.raises(ProviderError) as refused:
            await p.submit(job({"variation_count": 1}))
        partial = await until_done(p, await p.submit(job({"variation_count": 2})))
        leaky.fail_next(said)  # the only variation
        failed = await until_done(p, await p.submit(job({"variation_count": 1})))
        return refused.value, partial, failed, await p.set_webhook_secret("hook_1")

    with serve(leaky) as root:
        refused, partial, failed, confirmed = run(make(root + "/v2", key), go)
    assert partial.state == RemoteState.SUCCEEDED and "Done for key [REDACTED]" in partial.message
    assert failed.state == RemoteState.FAILED and failed.error is not None
    assert "Done for key [REDACTED]" in failed.error.message
    assert "Done for key [REDACTED]" in confirmed
    for text in (refused.message, refused.provider_code, partial.message, failed.error.message,
                 failed.error.provider_code, confirmed):
        assert_no_secret(text, key)


# -- every parameter checked before a job row is written ---------------------------------------
_STAGING = {"type": "staging", "add_furniture": {"room_type": "living", "style": "modern"}}


@pytest.mark.parametrize(("params", "needle"), [
    ({"configs": [dict(_STAGING, variation_count=6), dict(_STAGING, variation_count=5)]},
     "Parameter 'configs' asks for 11 variations in all; at most 10"),
    ({"configs": [{"type": "staging", "add_furniture": {"room_type": "attic",
                                                        "style": "modern"},
                   "variation_count": 1}]}, "configs[0]: room_type must be one of"),
    ({"configs": {"type": "enhancement"}}, "Parameter 'configs' must be a non-empty JSON list"),
    ({"configs": [{"type": "teleport", "variation_count": 1}]}, "configs[0]: 'type' must be"),
    ({"configs": [{"type": "enhancement", "sky": "blue", "variation_count": 1}]},
     "configs[0]: 'sky' does not apply to a enhancement config"),
    ({"config": {"type": "bogus"}}, "Parameter 'config': 'type' must be one of"),
    ({"config": {"add_furniture": {"room_type": "attic", "style": "modern"}}},
     "Parameter 'config': room_type must be one of"),
    ({"config": {"sky": "golden"}}, "Parameter 'config': 'sky' does not apply to a staging"),
    ({"type": "day-to-dusk", "config": {"add_furniture": {"room_type": "bed",
                                                          "style": "modern"}}},
     "'add_furniture' does not apply to a day-to-dusk config"),
    ({"type": "day-to-dusk", "config": {"sky": "purple"}}, "sky must be one of: dusk"),
    ({"config": [1, 2]}, "Parameter 'config' must be a JSON object"),
    ({"sky": "golden"}, "Parameter 'sky' applies only to type day-to-dusk (type is staging)"),
    ({"type": "day-to-dusk", "room_type": "bed"},
     "Parameter 'room_type' applies only to type staging (type is day-to-dusk)"),
    ({"type": "enhancement", "style": "luxury"}, "Parameter 'style' applies only to type"),
    ({"type": "enhancement", "remove_furniture": True},
     "Parameter 'remove_furniture' applies only to type staging or removal"),
    ({"style": "luxury", "configs": [dict(_STAGING, variation_count=1)]},
     "Parameter 'style' does not apply when 'configs' is given"),
    ({"variation_count": 3, "configs": [dict(_STAGING, variation_count=1)]},
     "Parameter 'variation_count' does not apply when 'configs' is given"),
    ({"webhook_url": "hooks.example/x"}, "Parameter 'webhook_url' must be an http(s) URL"),
], ids=["configs_total", "configs_room_type", "configs_not_list", "configs_type",
        "configs_field", "config_type", "config_room_type", "config_sky_on_staging",
        "config_furniture_on_dusk", "config_sky_value", "config_list", "sky_on_staging",
        "room_type_on_dusk", "style_on_enhancement", "remove_on_enhancement",
        "style_with_configs", "count_with_configs", "webhook"])
def test_bad_parameters_are_refused_before_a_job_is_stored(tmp_path: Path,
                                                           emu: VirtualStagingEmulator,
                                                           base: str, params: dict[str, Any],
                                                           needle: str) -> None:
    src = tmp_path / "room.png"
    src.write_bytes(ROOM)
    spec = JobSpec("virtualstaging", "staging", {"room": [str(src)]}, params)
    message = refused_before_storing(tmp_path, make(base), spec, emu)
    assert needle in message, message
    assert emu.requests == []


def test_parameters_at_their_defaults_and_matching_types_still_run(
        tmp_path: Path, emu: VirtualStagingEmulator, base: str) -> None:
    """The form always sends every choice (at its default): that must not count as set."""
    done, _history, _assets = run_engine(tmp_path, base, {
        "type": "day-to-dusk", "sky": "golden", "room_type": "living", "style": "modern",
        "remove_furniture": False, "variation_count": 1})
    assert done.state == JobState.SUCCEEDED, done.error
    configs = [dict(_STAGING, variation_count=6), {"type": "enhancement", "variation_count": 4}]
    (tmp_path / "b").mkdir()
    many, _h, _a = run_engine(tmp_path / "b", base, {
        "configs": configs, "type": "staging", "sky": "dusk", "variation_count": 1})
    assert many.state == JobState.SUCCEEDED, many.error
    assert len(many.outputs) == 10
