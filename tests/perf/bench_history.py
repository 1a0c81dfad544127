"""Benchmark: history queries at 10,000 jobs and engine overhead per job. Prints figures.

Run: python -m tests.perf.bench_history
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from desktop.core.assets import AssetStore
from desktop.core.engine import EnginePolicy, JobEngine
from desktop.core.model import Job, JobSpec, JobState
from desktop.core.store import History, JobFilter
from tests.fakes import FakeBackend, factory, png_bytes


def timed(fn, repeat: int = 20) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def bench_history(root: Path, count: int = 10_000) -> None:
    history = History(root / "history.sqlite3")
    start = time.perf_counter()
    for i in range(count):
        now = 1_700_000_000.0 + i
        history.save_job(Job(
            id=f"{i:032x}", spec=JobSpec("local" if i % 2 else "fitinview",
                                         "recolor" if i % 3 else "tryon",
                                         {"image": [f"/photos/shoot-{i % 97}/img{i}.jpg"]},
                                         {"color": f"#{i % 255:02x}3344"}),
            state=JobState.SUCCEEDED if i % 7 else JobState.FAILED,
            created_at=now, updated_at=now))
    insert_s = time.perf_counter() - start
    print(f"history: inserted {count} jobs in {insert_s:.2f} s "
          f"({insert_s / count * 1e6:.0f} us per save_job)")
    print(f"  first page of 100:          {timed(lambda: history.list(limit=100)):.2f} ms")
    print(f"  page at offset 9,000:       "
          f"{timed(lambda: history.list(limit=100, offset=9000)):.2f} ms")
    print(f"  count(all):                 {timed(lambda: history.count()):.2f} ms")
    print(f"  filter provider+state:      "
          f"{timed(lambda: history.list(JobFilter(provider='local', states=(JobState.FAILED,)), limit=100)):.2f} ms")  # noqa: E501
    print(f"  text search 'shoot-42':     "
          f"{timed(lambda: history.list(JobFilter(text='shoot-42'), limit=100)):.2f} ms")
    print(f"  unfinished():               {timed(lambda: history.unfinished()):.2f} ms")
    history.close()


def bench_engine(root: Path, jobs: int = 200) -> None:
    src = root / "in.png"
    src.write_bytes(png_bytes(size=(640, 480)))
    from desktop.core.model import ErrorCode  # noqa: F401  (keeps import cost out of timing)
    from desktop.providers.base import RemoteState, RemoteStatus

    backend = FakeBackend(script=[RemoteStatus(RemoteState.SUCCEEDED)])

    async def main() -> float:
        engine = JobEngine(History(root / "engine.sqlite3"), AssetStore(root / "assets"),
                           factory(backend), policy=EnginePolicy(global_limit=20,
                                                                 default_provider_limit=20))
        spec = JobSpec("fake", "echo", {"image": [str(src)]})
        prepared = await engine.prepare(spec)
        start = time.perf_counter()
        submitted = [await engine.submit(spec, prepared) for _ in range(jobs)]
        for job in submitted:
            await engine.wait(job.id)
        elapsed = time.perf_counter() - start
        await engine.aclose()
        return elapsed

    elapsed = asyncio.run(main())
    print(f"engine: {jobs} fake jobs (6 stored transitions each, 1 output) in {elapsed:.2f} s "
          f"= {elapsed / jobs * 1000:.1f} ms per job, 20 at once")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        bench_history(Path(tmp))
        bench_engine(Path(tmp))


if __name__ == "__main__":
    main()
