"""Memory: the window's resident set with a 10,000-job history while 100 large results are
opened in turn (each shown in the compare view as a user clicking through the history would),
beside the same window idle, in the same process and run.

Run: QT_QPA_PLATFORM=offscreen python -m tests.perf.bench_memory [--quick]

The home is a copy of the cached 10,000-job history plus 100 jobs whose output is a distinct
6000 x 4000 photo-like JPEG (the same picture with a comment naming the job, so every result is
its own file and decode). RSS is read from /proc after each result is shown and painted; the
plateau is the median of the last 20 readings, the peak is VmHWM. `--quick`: 200 jobs and 5
results of 600 x 400.
"""

from __future__ import annotations

import asyncio
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path

from tests.perf.kit import Row, cached_image, filled_home, hwm_mb, rss_mb


def tagged_jpeg(data: bytes, label: str) -> bytes:
    """The same JPEG with a COM segment after SOI: distinct bytes, the same pixels."""
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG")
    text = label.encode()
    return data[:2] + b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text + data[2:]


def add_results(home: Path, count: int, picture: bytes, width: int, height: int) -> list[str]:
    """`count` succeeded jobs, each with a distinct JPEG output; returns their ids."""
    from desktop.config import resolve_paths
    from desktop.core.assets import AssetStore
    from desktop.core.model import Job, JobSpec, JobState, Output
    from desktop.core.store import History

    paths = resolve_paths(home)
    history = History(paths.database)
    assets = AssetStore(paths.assets_dir)
    ids = []
    now = time.time()
    for i in range(count):
        asset = assets.put(tagged_jpeg(picture, f"result {i}"), "image/jpeg", width=width,
                           height=height)
        job_id = f"{10**9 + i:032x}"
        history.save_job(Job(id=job_id, spec=JobSpec("fitinview", "tryon", {}, {}),
                             state=JobState.SUCCEEDED, created_at=now + i, updated_at=now + i,
                             outputs=(Output(0, asset.sha256, asset.mime, asset.size, width,
                                             height),)), assets=[asset])
        ids.append(job_id)
    history.close()
    return ids


async def scenario(home: Path, ids: list[str]) -> dict[str, object]:
    from desktop.app import create_main_window

    window = create_main_window(home)
    window.resize(1500, 940)
    window.show()
    await window.start()
    await window.workbench.idle()
    await asyncio.sleep(1.0)  # the loop paints and settles (never processEvents in a task)
    idle = rss_mb()
    readings: list[float] = []
    took: list[float] = []
    for job_id in ids:
        start = time.perf_counter()
        shown = await window.workbench.show_job(job_id)
        if shown is None:
            raise RuntimeError(f"job {job_id} could not be shown")
        window.compare_view.repaint()  # painted now, with the new pictures
        await asyncio.sleep(0.01)
        took.append(time.perf_counter() - start)
        readings.append(rss_mb())
    peak = hwm_mb()
    window.close()
    await window.aclose()
    return {"idle": idle, "readings": readings, "peak": peak, "took": took}


def rows(quick: bool = False) -> list[Row]:
    import qasync
    from PySide6.QtWidgets import QApplication

    count, results, (width, height) = (200, 5, (600, 400)) if quick else (10_000, 100,
                                                                          (6000, 4000))
    picture = cached_image("photo", width, height, "JPEG", quality=92).read_bytes()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    with tempfile.TemporaryDirectory(prefix="restyle-memory-") as tmp:
        home = filled_home(count, Path(tmp) / "home")
        ids = add_results(home, results, picture, width, height)
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        try:
            got = loop.run_until_complete(scenario(home, ids))
        finally:
            loop.close()
    idle = float(got["idle"])  # type: ignore[arg-type]
    readings: list[float] = got["readings"]  # type: ignore[assignment]
    took: list[float] = got["took"]  # type: ignore[assignment]
    plateau = statistics.median(readings[-20:])
    middle = statistics.median(readings[len(readings) // 2 - 10: len(readings) // 2]
                               or readings[:1])
    what = (f"RSS, {count:,}-job history, {results} results of {width} x {height} opened in "
            "turn")
    note = f"opening one: median {statistics.median(took):.2f} s"
    return [
        Row(f"{what}: plateau", "< 400 MB (<= 3 x idle)", 3.0, plateau, idle, "MB",
            goal_max=400.0, note=f"median of the last 20 readings; {note}"),
        Row(f"{what}: peak", "< 400 MB (<= 3 x idle)", 3.0, float(got["peak"]),  # type: ignore[arg-type]
            idle, "MB", goal_max=400.0, note="VmHWM of the process"),
        Row(f"{what}: flat (the last 20 vs 10 halfway)", "<= 1.1 x", 1.1, plateau, middle, "MB",
            note="median readings"),
    ]


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    for row in rows("--quick" in args):
        print(f"{row.figure}: {row.measured:.0f} MB vs {row.baseline or 0:.0f} MB "
              f"{row.verdict()}; {row.note}")


if __name__ == "__main__":
    main()
