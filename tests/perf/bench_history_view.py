"""Benchmark: the history panel at 10,000 and 100,000 jobs. Prints figures, asserts no time.

Run: QT_QPA_PLATFORM=offscreen python -m tests.perf.bench_history_view
"""

from __future__ import annotations

import asyncio
import io
import sys
import tempfile
import time
from pathlib import Path

import qasync
from PIL import Image
from PySide6.QtWidgets import QApplication

from desktop.core.assets import AssetStore
from desktop.core.model import Job, JobSpec, JobState, Output
from desktop.core.store import History
from desktop.ui.history_model import thumb_source
from desktop.ui.history_view import HistoryPanel

PROVIDERS = {"local": "Local", "fitinview": "FitInView", "vtryon": "vtryon"}
TASKS = {"recolor": "Recolor", "tryon": "Try-on", "staging": "Staging"}
WITH_OUTPUTS = 40


def fill(root: Path, count: int) -> tuple[History, AssetStore]:
    """`count` jobs saved one by one; the newest WITH_OUTPUTS have real 1024x768 PNG
    outputs."""
    history = History(root / "history.sqlite3")
    assets = AssetStore(root / "assets")
    now = time.time()
    start = time.perf_counter()
    for i in range(count):
        outputs: tuple[Output, ...] = ()
        stored = []
        if i >= count - WITH_OUTPUTS:
            buf = io.BytesIO()
            Image.new("RGB", (1024, 768), ((i * 37) % 256, (i * 91) % 256, 140)).save(buf, "PNG")
            asset = assets.put(buf.getvalue(), "image/png", width=1024, height=768)
            stored = [asset]
            outputs = (Output(0, asset.sha256, asset.mime, asset.size, 1024, 768),)
        history.save_job(Job(
            id=f"{i:032x}",
            spec=JobSpec(("local", "fitinview", "vtryon")[i % 3],
                         ("recolor", "tryon", "staging")[(i // 3) % 3],
                         {"image": [f"/photos/shoot-{i % 97}/img{i}.jpg"]},
                         {"color": f"#{i % 255:02x}3344"}),
            state=JobState.FAILED if i % 7 == 0 else JobState.SUCCEEDED,
            created_at=now - (count - i) * 30, updated_at=now, outputs=outputs), assets=stored)
    print(f"  filled {count:,} jobs in {time.perf_counter() - start:.1f} s")
    return history, assets


async def measure(history: History, assets: AssetStore, count: int) -> None:
    start = time.perf_counter()
    panel = HistoryPanel(history, assets, PROVIDERS, TASKS)
    panel.resize(420, 2000)  # tall enough for 20 rows below the filter bar
    built = time.perf_counter()
    await panel.reload()
    loaded = time.perf_counter()
    print(f"  build panel:               {(built - start) * 1000:7.1f} ms")
    print(f"  reload (count + 1st page): {(loaded - built) * 1000:7.1f} ms"
          f"  rows={panel.model.rowCount()} total={panel.total_count():,}")

    samples = []
    for _ in range(5):
        before = panel.model.rowCount()
        t0 = time.perf_counter()
        panel.model.fetchMore()
        await panel.settle()
        samples.append((time.perf_counter() - t0) * 1000)
        assert panel.model.rowCount() > before
    print(f"  fetchMore of a page:       {min(samples):7.1f} ms (min of 5;"
          f" max {max(samples):.1f} ms)")

    await panel.reload()
    panel.show()
    t0 = time.perf_counter()
    wanted = [s.sha256 for s in (thumb_source(j) for j in map(panel.model.job_at, range(20))
                                 if j is not None) if s is not None]
    while not all(panel.thumbnails.has(s) for s in wanted):
        await asyncio.sleep(0.005)
        if time.perf_counter() - t0 > 20:
            break
    have = sum(panel.thumbnails.has(s) for s in wanted)
    print(f"  first 20 thumbnails:       {(time.perf_counter() - t0) * 1000:7.1f} ms"
          f"  ({have}/{len(wanted)} made from 1024x768 PNGs, cold cache)")
    panel.hide()
    await panel.settle()
    panel.deleteLater()


def main() -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    for count in (10_000, 100_000):
        print(f"history panel at {count:,} jobs")
        with tempfile.TemporaryDirectory() as tmp:
            history, assets = fill(Path(tmp), count)
            loop.run_until_complete(measure(history, assets, count))
            history.close()
    loop.close()


if __name__ == "__main__":
    main()
