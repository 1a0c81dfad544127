"""200 FitInView jobs end to end through the job engine against a zero-latency emulator, input
preparation and HTTP included, beside a plain httpx script doing the same requests and the
same fsynced writes, in the same run: wall time and CPU time per job.

Run: python -m tests.perf.bench_engine [--quick]

Restyle's side: Services.open on a throw-away home (settings.json: 4 jobs at once, polling
every 50 ms), `engine.submit(spec)` for every job (each prepares its 1024 x 768 JPEG person and
512 x 512 PNG garment: read, check, normalise, hash, store), then `engine.wait`. The baseline
reads the same two files, base64-encodes them, POSTs the same body, polls the job, downloads
the result and writes it and a JSON record, each fsynced, 4 at once. The emulator (job delay
0, a 256 x 384 PNG result) runs in its own process, so its CPU is not counted; CPU is this
process's (all threads). Three runs each, alternating; medians. `--quick`: 10 jobs, one run.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.perf.kit import ROOT, Row, cache_dir, cached_image

AT_ONCE = 4


def _start_emulator(result_png: Path) -> tuple[subprocess.Popen[str], str, str]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.perf.load_emulator", str(result_png),
                             "0"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().split()
    if len(line) != 3 or line[0] != "READY":
        proc.kill()
        raise RuntimeError("The FitInView emulator process did not start.")
    return proc, line[1], line[2]


async def through_engine(home: Path, person: Path, garment: Path, jobs: int) -> None:
    from desktop.core.model import JobSpec, JobState
    from desktop.services import Services

    (home / "config").mkdir(parents=True)
    (home / "config" / "settings.json").write_text(json.dumps({
        "global_concurrency": AT_ONCE,
        "providers": {"fitinview": {"concurrency": AT_ONCE, "poll_interval": 0.05}}}))
    services = Services.open(home)
    engine = services.engine("benchmark")
    spec = JobSpec("fitinview", "tryon", {"person": [str(person)], "garment": [str(garment)]},
                   {})
    try:
        submitted = [await engine.submit(spec) for _ in range(jobs)]
        done = [await engine.wait(job.id) for job in submitted]
    finally:
        await engine.aclose()
        await services.aclose()
        services.close()
    failed = [j for j in done if j.state != JobState.SUCCEEDED]
    if failed:
        raise RuntimeError(f"{len(failed)} engine jobs did not succeed: {failed[0].error}")


def _fsynced(path: Path, data: bytes) -> None:
    with open(path, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


async def plain_httpx(folder: Path, base_url: str, key: str, person: Path, garment: Path,
                      jobs: int) -> None:
    folder.mkdir(parents=True)
    slots = asyncio.Semaphore(AT_ONCE)
    headers = {"Authorization": f"Bearer {key}"}

    async def one(client: httpx.AsyncClient, n: int) -> None:
        async with slots:
            body = {"wait": False, "output_size": "1K",
                    "person_image_b64": base64.b64encode(person.read_bytes()).decode(),
                    "garment_images_b64": [base64.b64encode(garment.read_bytes()).decode()],
                    "metadata": {"restyle_job_id": f"{n:032x}"}}
            answer = await client.post("/api/v1/tryon", json=body,
                                       headers={"Idempotency-Key": f"bench-{n}"})
            answer.raise_for_status()
            job_id = answer.json()["job_id"]
            while True:
                status = (await client.get(f"/api/v1/tryon/{job_id}")).json()
                if status["status"] == "succeeded":
                    break
                if status["status"] == "failed":
                    raise RuntimeError(f"baseline job failed: {status}")
                await asyncio.sleep(0.05)
            result = await client.get(status["result_url"])
            result.raise_for_status()
            _fsynced(folder / f"{n}.png", result.content)
            _fsynced(folder / f"{n}.json", json.dumps(status).encode())

    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as client:
        await asyncio.gather(*(one(client, n) for n in range(jobs)))


def _timed(run: object) -> tuple[float, float]:
    """Wall and CPU seconds of `asyncio.run(run)`."""
    wall, cpu = time.perf_counter(), time.process_time()
    asyncio.run(run)  # type: ignore[arg-type]
    return time.perf_counter() - wall, time.process_time() - cpu


def rows(quick: bool = False) -> list[Row]:
    jobs, runs = (10, 1) if quick else (200, 3)
    import desktop.services  # noqa: F401  (import time is start-up's figure, not this one's)
    person = cached_image("person", 1024, 768, "JPEG", quality=90)
    garment = cached_image("garment", 512, 512, "PNG")
    result = cached_image("result", 256, 384, "PNG", compress_level=6)
    for name in [n for n in os.environ if n.startswith("RESTYLE_")]:
        del os.environ[name]
    proc, base_url, key = _start_emulator(result)
    os.environ["RESTYLE_FITINVIEW_BASE_URL"] = base_url
    os.environ["RESTYLE_FITINVIEW_API_KEY"] = key
    engine_runs: list[tuple[float, float]] = []
    plain_runs: list[tuple[float, float]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="restyle-engine-", dir=cache_dir()) as tmp:
            for run in range(runs):
                plain_runs.append(_timed(plain_httpx(Path(tmp) / f"plain{run}", base_url, key,
                                                     person, garment, jobs)))
                engine_runs.append(_timed(through_engine(Path(tmp) / f"home{run}", person,
                                                         garment, jobs)))
    finally:
        proc.terminate()
        proc.wait(10)
    per_job = 1000 / jobs
    what = f"{jobs} FitInView jobs end to end through the engine, zero-latency emulator"
    note = (f"median of {runs} run(s), {AT_ONCE} at once; inputs prepared and sent over HTTP; "
            "baseline: plain httpx + fsynced writes")
    return [
        Row(f"{what}: wall per job", "<= 1.3 x a plain httpx script", 1.3,
            statistics.median(w for w, _ in engine_runs) * per_job,
            statistics.median(w for w, _ in plain_runs) * per_job, "ms", note=note),
        Row(f"{what}: CPU per job", "<= 1.3 x a plain httpx script", 1.3,
            statistics.median(c for _, c in engine_runs) * per_job,
            statistics.median(c for _, c in plain_runs) * per_job, "ms",
            note="this process, all threads (worker processes not counted)"),
    ]


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    for row in rows("--quick" in args):
        print(f"{row.figure}: {row.measured:.1f} ms vs {row.baseline:.1f} ms "
              f"({row.ratio or 0:.2f} x) {row.verdict()}")


if __name__ == "__main__":
    main()
