"""Virtual Staging AI's tools against its emulator, over real HTTP: past renders summarised,
more variations of a render as a job through the engine (one POST, only the new variations
downloaded, resumable without a second POST), and a render the account does not have refused
before anything is stored."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.core.assets import AssetStore
from desktop.core.engine import EnginePolicy, JobEngine
from desktop.core.model import InvalidInput, JobSpec, JobState
from desktop.core.provider_tools import RenderState, StagingTools
from desktop.core.store import History
from desktop.providers.virtualstaging import VirtualStagingProvider
from tests.emulators.kit import serve
from tests.emulators.virtualstaging import VirtualStagingEmulator
from tests.providers.test_virtualstaging import KEY, ROOM, job, make, until_done


@pytest.fixture
def emu() -> VirtualStagingEmulator:
    return VirtualStagingEmulator(api_key=KEY, job_delay=0.15, prefix="/v2")


@pytest.fixture
def base(emu: VirtualStagingEmulator) -> Iterator[str]:
    with serve(emu) as root:
        yield root + "/v2"


async def _fast_sleep(seconds: float) -> None:
    await asyncio.sleep(min(seconds, 0.03))


async def _render(p: VirtualStagingProvider, count: int) -> str:
    ref = await p.submit(job({"variation_count": count}))
    await until_done(p, ref)
    return ref.remote_id


def test_render_summaries_say_how_far_each_render_got(emu: VirtualStagingEmulator,
                                                      base: str) -> None:
    async def go() -> Any:
        p = make(base)
        assert isinstance(p, StagingTools)
        try:
            done = await _render(p, 2)
            emu.fail_next("Image too dark to stage")
            partly = await _render(p, 2)
            emu.fail_next("Image too dark to stage")
            failed = await _render(p, 1)
            running = (await p.submit(job({"variation_count": 1}))).remote_id
            page = await p.render_summaries(limit=10)
            first = await p.render_summaries(limit=2)
            rest = await p.render_summaries(limit=2, cursor=first.next_cursor)
            return done, partly, failed, running, page, first, rest
        finally:
            await p.aclose()

    done, partly, failed, running, page, first, rest = asyncio.run(go())
    by_id = {s.id: s for s in page.items}
    assert [s.id for s in page.items] == [running, failed, partly, done]  # newest first
    assert by_id[done].state == RenderState.DONE and (by_id[done].done, by_id[done].total) == (
        2, 2)
    assert by_id[partly].state == RenderState.PARTLY_DONE and by_id[partly].failed == 1
    assert by_id[failed].state == RenderState.FAILED and by_id[failed].thumbnail_url is None
    assert by_id[running].state in (RenderState.QUEUED, RenderState.RUNNING)
    assert by_id[done].kinds == ("staging",)
    assert by_id[done].thumbnail_url == emu.renders[done].variations[0].result[
        "optimized_url"]  # type: ignore[index]
    assert by_id[done].created_at == emu.renders[done].created_at / 1000
    assert page.total_count == 4 and page.next_cursor is None
    assert [s.id for s in first.items + rest.items] == [running, failed, partly, done]
    # Each render was read with its variations.
    reads = [r for r in emu.requests_to("GET", "/v2/renders/")
             if r.query.get("include_variations") == "true"]
    assert {r.path.rsplit("/", 1)[-1] for r in reads} >= {done, partly, failed, running}


def _engine(tmp_path: Path, base: str, history: History | None = None
            ) -> tuple[JobEngine, History, AssetStore]:
    history = history or History(tmp_path / "history.sqlite3")
    assets = AssetStore(tmp_path / "assets")
    engine = JobEngine(history, assets, lambda _pid: make(base),
                       policy=EnginePolicy(jitter=0.0), sleep=_fast_sleep)
    return engine, history, assets


def test_more_variations_run_as_a_job_and_download_only_the_new_ones(
        tmp_path: Path, emu: VirtualStagingEmulator, base: str) -> None:
    async def go() -> Any:
        p = make(base)
        try:
            render_id = await _render(p, 2)
        finally:
            await p.aclose()
        engine, history, _assets = _engine(tmp_path, base)
        try:
            done = await engine.run(JobSpec("virtualstaging", "variations", {},
                                            {"render_id": render_id, "variation_count": 2,
                                             "style": "luxury", "room_type": "bed"}))
        finally:
            await engine.aclose()
        return render_id, done, history

    render_id, done, history = asyncio.run(go())
    try:
        assert done.state == JobState.SUCCEEDED, done.error
        assert done.remote_id == render_id and len(done.outputs) == 2
        posts = emu.requests_to("POST", f"/v2/renders/{render_id}/variations")
        assert len(posts) == 1
        assert posts[0].json() == {"config": {"type": "staging", "add_furniture": {
            "room_type": "bed", "style": "luxury"}}, "variation_count": 2,
            "wait_for_completion": False}
        new = [v for v in emu.renders[render_id].variations][2:]
        assert done.remote_data["variations"] == [v.id for v in new]
        assert history.get(done.id) is not None  # in the history like any job
        assert [o.label for o in done.outputs] == ["staging variation 1",
                                                   "staging variation 2"]
    finally:
        history.close()


def test_a_variations_job_left_running_is_resumed_without_a_second_post(
        tmp_path: Path, emu: VirtualStagingEmulator, base: str) -> None:
    emu.job_delay = 1.0

    async def go() -> Any:
        p = make(base)
        try:
            render_id = (await p.submit(job({"variation_count": 1}))).remote_id
        finally:
            await p.aclose()
        engine, history, _ = _engine(tmp_path, base)
        spec = JobSpec("virtualstaging", "variations", {},
                       {"render_id": render_id, "type": "enhancement"})
        started = await engine.submit(spec)
        for _ in range(200):
            current = engine.get(started.id)
            if current is not None and current.remote_id:
                break
            await asyncio.sleep(0.02)
        await engine.aclose()  # Restyle quits while the variation is being made
        emu.job_delay = 0.1
        second, _, _ = _engine(tmp_path, base, history)
        try:
            report = await second.resume()
            finished = [await second.wait(j.id) for j in report.resumed]
        finally:
            await second.aclose()
        return render_id, finished, history

    render_id, finished, history = asyncio.run(go())
    try:
        assert [j.state for j in finished] == [JobState.SUCCEEDED]
        assert len(finished[0].outputs) == 1
        assert len(emu.requests_to("POST", f"/v2/renders/{render_id}/variations")) == 1
        assert [v.type for v in emu.renders[render_id].variations] == ["staging",
                                                                       "enhancement"]
    finally:
        history.close()


def test_a_render_the_account_does_not_have_is_refused_before_storing(
        tmp_path: Path, emu: VirtualStagingEmulator, base: str) -> None:
    async def go() -> Any:
        engine, history, _ = _engine(tmp_path, base)
        try:
            with pytest.raises(InvalidInput) as caught:
                await engine.prepare(JobSpec("virtualstaging", "variations", {},
                                             {"render_id": "rnd_nope"}))
            with pytest.raises(InvalidInput) as bad_id:
                await engine.prepare(JobSpec("virtualstaging", "variations", {},
                                             {"render_id": "../user"}))
            with pytest.raises(InvalidInput) as sky:
                await engine.prepare(JobSpec("virtualstaging", "variations", {},
                                             {"render_id": "rnd_nope", "sky": "golden"}))
            return caught.value, bad_id.value, sky.value, history
        finally:
            await engine.aclose()

    caught, bad_id, sky, history = asyncio.run(go())
    try:
        assert str(caught) == ("Virtual Staging AI has no render 'rnd_nope' on this account; "
                               "choose one of your past renders.")
        assert "'../user' is not a valid render id" in str(bad_id)
        assert "'sky' applies only to type day-to-dusk" in str(sky)
        assert history.list() == []
        assert emu.requests_to("POST", "/v2/renders") == []
    finally:
        history.close()


def test_new_variations_are_told_apart_without_ids_in_the_answer() -> None:
    variations = [{"id": "var_1"}, {"id": "var_2"}, {"id": "var_3"}]
    added = VirtualStagingProvider._added
    assert added(variations, {"variations": ["var_3"]}) == [{"id": "var_3"}]
    assert added(variations, {"before": ["var_1"]}) == [{"id": "var_2"}, {"id": "var_3"}]
    assert added(variations, {"before": []}) == variations


def test_analysis_and_compatibility_are_core_data(emu: VirtualStagingEmulator,
                                                  base: str) -> None:
    async def go() -> Any:
        p = make(base)
        try:
            return (await p.analyze(ROOM),
                    await p.multi_view_compatibility(ROOM, emu.result_url(ROOM, "image/png")))
        finally:
            await p.aclose()

    found, same = asyncio.run(go())
    assert type(found).__module__ == "desktop.core.provider_tools.staging"
    assert type(same).__module__ == "desktop.core.provider_tools.staging"
    assert found.percentage_masked == 37.5 and same.compatible
