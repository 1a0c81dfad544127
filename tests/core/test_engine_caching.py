"""Work the engine does once instead of once per job: inputs normalised once per content
(NormalizedCache), base64 once per bytes object (Base64Memo), and the history's rows of a job
written again only when they change; and the state changes that share one write."""

from __future__ import annotations

import base64
import hashlib
import io
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from desktop.core import contract, imaging
from desktop.core.assets import AssetStore
from desktop.core.contract import Base64Memo, Base64Text, PreparedInput
from desktop.core.engine import EnginePolicy, JobEngine
from desktop.core.engine.input_cache import NormalizedCache
from desktop.core.imaging import ImageError
from desktop.core.model import EventKind, Job, JobEvent, JobSpec, JobState
from desktop.core.store import History
from desktop.providers.base import RemoteOutput, RemoteState, RemoteStatus
from tests.fakes import FakeBackend, factory, png_bytes
from tests.support import run

FAST = EnginePolicy(jitter=0.0, poll_backoff_base=0.01, poll_backoff_cap=0.02,
                    download_backoff_base=0.01, download_backoff_cap=0.02)
LIMITS: dict[str, Any] = {"max_side": 512, "max_bytes": 1_000_000, "min_side": 8}


def jpeg(size: tuple[int, int], color: tuple[int, int, int] = (90, 120, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG", quality=90)
    return buf.getvalue()


class Counting:
    """imaging.normalize, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, data: bytes, name: str, **limits: Any) -> imaging.EncodedImage:
        self.calls += 1
        return imaging.normalize(data, name, **limits)


# -- NormalizedCache --------------------------------------------------------------------------
def test_the_same_bytes_and_limits_are_normalised_once() -> None:
    counting = Counting()
    cache = NormalizedCache(normalize=counting)
    data = png_bytes((1, 2, 3))
    first = cache.normalize_and_hash(data, "a.png", **LIMITS)
    copy = bytes(bytearray(data))  # equal bytes, another object
    again = cache.normalize_and_hash(copy, "b.png", **LIMITS)
    assert counting.calls == 1 and (cache.hits, cache.misses) == (1, 1)
    assert again is first
    encoded, digest = first
    assert encoded.data is data  # sent as it is: the same object, hashed once
    assert digest == hashlib.sha256(data).hexdigest()


def test_other_bytes_or_other_limits_are_normalised_again() -> None:
    counting = Counting()
    cache = NormalizedCache(normalize=counting)
    big = jpeg((800, 400))
    small = cache.normalize_and_hash(big, "p.jpg", **LIMITS)[0]
    wider = cache.normalize_and_hash(big, "p.jpg", **{**LIMITS, "max_side": 1024})[0]
    other = cache.normalize_and_hash(jpeg((800, 400), (1, 1, 1)), "q.jpg", **LIMITS)[0]
    assert counting.calls == 3 and cache.hits == 0
    assert (small.width, small.height) == (512, 256)
    assert (wider.width, wider.height) == (800, 400)
    assert other.data != small.data


def test_a_re_encoded_input_carries_the_hash_of_what_is_sent() -> None:
    cache = NormalizedCache()
    encoded, digest = cache.normalize_and_hash(jpeg((900, 300)), "wide.jpg", **LIMITS)
    assert (encoded.width, encoded.height) == (512, 171)
    assert digest == hashlib.sha256(encoded.data).hexdigest()
    assert cache.normalize_and_hash(jpeg((900, 300)), "wide.jpg", **LIMITS)[1] == digest


def test_a_refused_image_is_not_remembered() -> None:
    counting = Counting()
    cache = NormalizedCache(normalize=counting)
    for _ in range(2):
        with pytest.raises(ImageError, match=r"tiny\.png is only 4x4 pixels"):
            cache.normalize_and_hash(png_bytes(size=(4, 4)), "tiny.png", **LIMITS)
    assert counting.calls == 2 and len(cache) == 0


def test_the_cache_is_bounded_by_the_bytes_it_holds() -> None:
    def fixed(data: bytes, name: str, **limits: Any) -> imaging.EncodedImage:
        return imaging.EncodedImage(data * 10, "image/png", 1, 1)  # 100 bytes each

    cache = NormalizedCache(max_bytes=350, normalize=fixed)
    images = [bytes([i]) * 10 for i in range(5)]
    for data in images:
        cache.normalize_and_hash(data, "x.png", **LIMITS)
    assert len(cache) == 3 and cache._bytes == 300  # the two least recently used went first
    cache.normalize_and_hash(images[0], "x.png", **LIMITS)
    assert cache.misses == 6 and cache.hits == 0
    cache.normalize_and_hash(images[4], "x.png", **LIMITS)
    assert cache.hits == 1
    huge = NormalizedCache(max_bytes=50, normalize=fixed)
    huge.normalize_and_hash(images[0], "x.png", **LIMITS)
    assert len(huge) == 0  # larger than the whole cache: not kept


# -- Base64Memo -------------------------------------------------------------------------------
def test_base64_is_computed_once_per_bytes_object(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = base64.b64encode

    def counting(data: bytes) -> bytes:
        calls.append(len(data))
        return real(data)

    monkeypatch.setattr(contract.base64, "b64encode", counting)
    memo = Base64Memo()
    data = b"\x00\xff photo bytes" * 1000
    first = memo.encode(data)
    assert memo.encode(data) is first and len(calls) == 1
    assert isinstance(first, Base64Text) and first == real(data).decode("ascii")
    other = bytes(bytearray(data))  # equal content, another object: encoded on its own, equal text
    assert memo.encode(other) == first and len(calls) == 2


def test_base64_memo_is_bounded() -> None:
    memo = Base64Memo(max_chars=100)
    blobs = [bytes([i]) * 30 for i in range(5)]  # 40 characters each
    texts = [memo.encode(b) for b in blobs]
    assert texts == [base64.b64encode(b).decode() for b in blobs]
    assert memo._chars <= 100 and len(memo._entries) == 2
    assert memo.encode(b"y" * 300) == base64.b64encode(b"y" * 300).decode()  # too big to keep
    assert len(memo._entries) == 2


def test_prepared_inputs_share_the_memo() -> None:
    data = png_bytes((9, 9, 9))
    one = PreparedInput("image", data, "image/png", 64, 48, "x")
    two = PreparedInput("other", data, "image/png", 64, 48, "x")
    assert one.base64() is two.base64()
    assert one.data_uri() == "data:image/png;base64," + base64.b64encode(data).decode()


# -- the engine -------------------------------------------------------------------------------
class Env:
    def __init__(self, tmp: Path) -> None:
        self.history = History(tmp / "history.sqlite3")
        self.assets = AssetStore(tmp / "assets")
        self.input = tmp / "in.png"
        self.input.write_bytes(png_bytes((0, 0, 255)))
        self.path = tmp / "history.sqlite3"

    def engine(self, backend: FakeBackend) -> JobEngine:
        return JobEngine(self.history, self.assets, factory(backend), policy=FAST)

    def spec(self) -> JobSpec:
        return JobSpec(provider="fake", task="echo", inputs={"image": [str(self.input)]})


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return Env(tmp_path)


def test_jobs_sending_the_same_file_normalise_it_once(env: Env) -> None:
    async def main() -> tuple[list[Job], JobEngine]:
        engine = env.engine(FakeBackend())
        jobs = [await engine.run(env.spec()) for _ in range(3)]
        await engine.aclose()
        return jobs, engine

    jobs, engine = run(main())
    assert [j.state for j in jobs] == [JobState.SUCCEEDED] * 3
    cache = engine._preparer.cache
    assert (cache.misses, cache.hits) == (1, 2)
    sha = hashlib.sha256(env.input.read_bytes()).hexdigest()
    assert all(j.inputs == {"image": [sha]} for j in jobs)


def test_a_changed_file_is_prepared_anew(env: Env) -> None:
    async def main() -> list[Job]:
        engine = env.engine(FakeBackend())
        first = await engine.run(env.spec())
        env.input.write_bytes(png_bytes((0, 255, 0)))
        second = await engine.run(env.spec())
        await engine.aclose()
        return [first, second]

    first, second = run(main())
    assert first.inputs["image"] != second.inputs["image"]
    assert second.inputs["image"] == [hashlib.sha256(env.input.read_bytes()).hexdigest()]


def statements_per_save(env: Env) -> list[str]:
    """Trace the SQL the history runs (History's connection is private: hook it)."""
    seen: list[str] = []
    env.history._conn.set_trace_callback(seen.append)
    return seen


def test_rows_of_inputs_and_outputs_are_written_only_when_they_change(env: Env) -> None:
    seen = statements_per_save(env)
    backend = FakeBackend(outputs=2)

    async def main() -> Job:
        engine = env.engine(backend)
        job = await engine.run(env.spec())
        await engine.aclose()
        return job

    job = run(main())
    env.history._conn.set_trace_callback(None)
    upserts = [s for s in seen if "INSERT INTO jobs" in s]
    rewrites = [s for s in seen if s.startswith("DELETE FROM job_inputs")]
    assert len(upserts) == 8  # queued, preparing, submitting, running, its progress,
    # downloading, result 1, succeeded with result 2. The rows of inputs and outputs are
    # written at the first save, when the inputs come (submitting) and with each result.
    assert len(rewrites) == 4
    stored = env.history.get(job.id)
    assert stored is not None and stored.state == JobState.SUCCEEDED
    assert stored.inputs == job.inputs and len(stored.outputs) == 2
    assert [o.position for o in stored.outputs] == [0, 1]


def test_the_last_result_is_stored_with_the_success(env: Env) -> None:
    backend = FakeBackend(outputs=2, script=[
        RemoteStatus(RemoteState.RUNNING, progress=0.4, message="Rendering."),
        RemoteStatus(RemoteState.SUCCEEDED)])
    events: list[JobEvent] = []
    stored_at_event: list[Job | None] = []

    async def main() -> Job:
        engine = env.engine(backend)

        def observe(event: JobEvent) -> None:
            events.append(event)
            stored_at_event.append(env.history.get(event.job.id))

        engine.subscribe(observe)
        job = await engine.run(env.spec())
        await engine.aclose()
        return job

    job = run(main())
    assert job.state == JobState.SUCCEEDED and len(job.outputs) == 2
    progress = [e for e in events if e.kind == EventKind.PROGRESS]
    assert [e.message for e in progress if e.message.startswith("Downloaded")] == [
        "Downloaded result 1 of 2."]
    succeeded = events[-1]
    assert succeeded.job.state == JobState.SUCCEEDED and len(succeeded.job.outputs) == 2
    # What observers hear is stored already, outputs included.
    for event, stored in zip(events, stored_at_event, strict=True):
        assert stored is not None
        assert (stored.state, stored.outputs, stored.inputs) == (
            event.job.state, event.job.outputs, event.job.inputs)


def test_a_succeeded_polls_progress_and_message_come_with_the_download(env: Env) -> None:
    backend = FakeBackend(script=[
        RemoteStatus(RemoteState.RUNNING, progress=0.25, message="Queued remotely."),
        RemoteStatus(RemoteState.SUCCEEDED, progress=1.0, message="Rendered.", outputs=(
            RemoteOutput(url="https://cdn.example/r/0.png", extra={"data": png_bytes()},
                         label="variation 1"),)),
    ])
    events: list[JobEvent] = []

    async def main() -> Job:
        engine = env.engine(backend)
        engine.subscribe(events.append)
        job = await engine.run(env.spec())
        await engine.aclose()
        return job

    job = run(main())
    assert job.state == JobState.SUCCEEDED
    downloading = [e.job for e in events if e.job.state == JobState.DOWNLOADING]
    assert downloading[0].progress == 1.0 and downloading[0].note == "Rendered."
    # No separate progress write between the verdict and the download's start.
    assert not [e for e in events if e.job.state == JobState.RUNNING and e.job.progress == 1.0]
    assert [e.job.progress for e in events if e.kind == EventKind.PROGRESS
            and e.job.state == JobState.RUNNING] == [0.25]


async def _one_finished_job(env: Env) -> Job:
    engine = env.engine(FakeBackend())
    job = await engine.run(env.spec())
    await engine.aclose()
    return job


def test_save_job_without_links_keeps_the_rows(env: Env) -> None:
    job = run(_one_finished_job(env))
    env.history.save_job(job.evolve(note="changed", inputs={}, outputs=()), links=False)
    stored = env.history.get(job.id)
    assert stored is not None and stored.note == "changed"
    assert stored.inputs == job.inputs and stored.outputs == job.outputs
    env.history.save_job(job.evolve(inputs={}, outputs=()))
    cleared = env.history.get(job.id)
    assert cleared is not None and cleared.inputs == {} and cleared.outputs == ()


def test_control_reads_who_owns_a_job(env: Env) -> None:
    job = run(_one_finished_job(env))
    assert env.history.control("missing") is None
    control = env.history.control(job.id)
    assert control is not None
    assert (control.owner, control.state, control.cancel_requested) == (
        None, JobState.SUCCEEDED, False)
    with sqlite3.connect(env.path) as conn:
        conn.execute("UPDATE jobs SET owner = 'h|1|n|x', state = 'running',"
                     " cancel_requested = 1 WHERE id = ?", (job.id,))
    control = env.history.control(job.id)
    assert control == ("h|1|n|x", JobState.RUNNING, True)


def test_the_engine_forgets_the_rows_of_a_job_it_has_let_go(env: Env) -> None:
    """What was last stored is kept only while the engine holds the job: a long session does
    not keep one entry for every job it ever ran."""
    async def main() -> tuple[Job, int]:
        engine = env.engine(FakeBackend())
        job = await engine.run(env.spec())
        remembered = len(engine._stored_links)
        await engine.aclose()
        return job, remembered

    job, remembered = run(main())
    assert job.state == JobState.SUCCEEDED
    assert remembered == 0
