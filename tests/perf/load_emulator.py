"""The FitInView emulator as a service under load, in a process of its own.

Run: python -m tests.perf.load_emulator RESULT_PNG JOB_DELAY
Prints `READY <base url> <api key>` once it listens; stops on SIGTERM/SIGINT.

Every succeeded job returns RESULT_PNG (a photo-like picture made once by the benchmark), tagged
with the job id so each result is a distinct file (tests/perf/kit.tagged_png). The request log
is served at `GET /_bench/requests` as `[[method, path, monotonic time], ...]`, so a benchmark
can check from the service's side how many jobs it really had in flight at once. The emulator
runs in its own process because a real service does not compete with the window for its GIL.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.emulators.fitinview import EmuJob, FitInViewEmulator
from tests.emulators.kit import ServerThread
from tests.perf.kit import tagged_png

LOG_PATH = "/_bench/requests"


class LoadEmulator(FitInViewEmulator):
    def __init__(self, result: bytes, job_delay: float) -> None:
        self.result_png = result
        super().__init__(job_delay=job_delay, credits=10**9, rate_limit_per_min=10**6,
                         url_ttl=3600.0)

    def routes(self) -> list[Route]:
        return [*super().routes(), Route(LOG_PATH, self.request_log, methods=["GET"])]

    def _result(self, job: EmuJob) -> bytes:
        if job.result is None:
            job.result = tagged_png(self.result_png, job.job_id)
        return job.result

    async def request_log(self, _request: Request) -> Response:
        return JSONResponse([[r.method, r.path, r.at] for r in list(self.requests)
                             if r.path != LOG_PATH])


def most_in_flight(log: list[list[object]]) -> int:
    """The most jobs the service had between their submit and the start of their result's
    download, from its request log."""
    events = sorted((float(at), 1 if method == "POST" else -1)  # type: ignore[arg-type]
                    for method, path, at in log
                    if (method == "POST" and path == "/api/v1/tryon")
                    or (method == "GET" and str(path).startswith("/results/")))
    level = most = 0
    for _at, step in events:
        level += step
        most = max(most, level)
    return most


def main(argv: list[str]) -> int:
    emulator = LoadEmulator(Path(argv[0]).read_bytes(), float(argv[1]))
    server = ServerThread(emulator.asgi)
    emulator.public_url = server.start()
    print(f"READY {emulator.public_url} {emulator.api_key}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
