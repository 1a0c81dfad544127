"""Screenshots of the real window on a real (virtual) X display, for a person to look at.

Run: xvfb-run -a -s "-screen 0 1600x1000x24" python -m tests.screenshots [OUTDIR]

It starts the FitInView, TryonAPI and Virtual Staging emulators on 127.0.0.1, fills a throw-away
RESTYLE_HOME, drives the window through the states issue 4 names and saves one PNG per state:
first start, a try-on result in each compare mode, a multi-provider grid, staging variations,
the queue with a failed and a rate-limited job, history with many jobs, settings, a bad file.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget

SIZE = (1500, 940)


async def until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise TimeoutError("the window did not reach the state to photograph")
        await asyncio.sleep(0.05)


async def settle(seconds: float = 0.4) -> None:
    await asyncio.sleep(seconds)
    QApplication.processEvents()


class Camera:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.count = 0

    def shoot(self, widget: QWidget, name: str) -> Path:
        self.count += 1
        path = self.out / f"{self.count:02d}-{name}.png"
        widget.grab().save(str(path))
        print(path)
        return path


async def fill_history(home: Path, samples: dict[str, list[Path]], count: int) -> None:
    """Real local jobs, so the history shows real thumbnails."""
    from desktop.core.model import JobSpec
    from desktop.services import Services

    services = Services.open(home)
    engine = services.engine()
    image = str(samples["image"][0])
    room = str(samples["room"][0])
    plans = [
        ("recolor", {"image": [image]}, {"color": "crimson", "seed": "0.5,0.4"}),
        ("recolor", {"image": [image]}, {"color": "#2a7fff", "seed": "0.5,0.4"}),
        ("upscale", {"image": [image]}, {"factor": 2}),
        ("reframe", {"image": [room]}, {"ratio": "16:9"}),
        ("background_removal", {"image": [image]}, {}),
        ("tryon", {"person": [image], "garment": [str(samples["garment"][0])]}, {}),
        ("tryon", {"person": [image], "garment": [str(samples["garment"][1])]}, {}),
    ]
    jobs = []
    for i in range(count):
        task, inputs, params = plans[i % len(plans)]
        jobs.append(await engine.submit(JobSpec("local", task, inputs, params)))
    for job in jobs:
        await engine.wait(job.id)
    await engine.aclose()
    await services.aclose()
    services.close()


async def scenario(app: QApplication, out: Path, stack: ExitStack) -> None:
    from desktop.app import create_main_window
    from desktop.config import sample_inputs
    from desktop.ui.compare_view import CompareMode
    from tests.emulators.fitinview import FitInViewEmulator
    from tests.emulators.kit import Fault, serve
    from tests.emulators.tryonapi import TryonApiEmulator
    from tests.emulators.virtualstaging import VirtualStagingEmulator

    camera = Camera(out)
    samples = sample_inputs()

    # 1. First start: an empty data folder, the offline provider, no key anywhere.
    fresh = create_main_window(Path(tempfile.mkdtemp(prefix="restyle-first-")))
    fresh.resize(*SIZE)
    fresh.show()
    await fresh.start()
    await settle(0.8)
    camera.shoot(fresh, "first-start")
    await fresh.workbench.load_samples()
    await settle()
    camera.shoot(fresh, "first-start-with-samples")
    fresh.close()
    await fresh.aclose()

    # Emulators stand in for the services; the window sees them through RESTYLE_* variables.
    fiv = FitInViewEmulator(job_delay=1.0)
    stage = VirtualStagingEmulator(job_delay=1.0)
    tryon = TryonApiEmulator(job_delay=1.0)
    for pid, emu, key in (("FITINVIEW", fiv, fiv.api_key), ("VIRTUALSTAGING", stage, stage.api_key),
                          ("TRYONAPI", tryon, "wrong-key-for-the-screenshot")):
        os.environ[f"RESTYLE_{pid}_BASE_URL"] = stack.enter_context(serve(emu))
        os.environ[f"RESTYLE_{pid}_API_KEY"] = key

    home = Path(tempfile.mkdtemp(prefix="restyle-shots-"))
    await fill_history(home, samples, 60)
    window = create_main_window(home)
    window.resize(*SIZE)
    window.show()
    await window.start()
    await settle(0.8)
    wb = window.workbench

    # 2. A try-on result in each compare mode (the offline preview: real pixels, no AI).
    window.task_selector.select_key("tryon")
    window.provider_selector.set_checked(["local"])
    await wb.load_samples()
    await until(lambda: window.generate_button.isEnabled())
    jobs = await wb.generate()
    await until(lambda: window.compare_view.current_item() is not None
                and wb._shown_job is not None and wb._shown_job.id == jobs[0].id)
    await settle(0.6)
    view = window.compare_view
    for mode in CompareMode:
        view.set_mode(mode)
        if mode == CompareMode.WIPE:
            view.set_wipe_position(0.55)
        await settle(0.8 if mode == CompareMode.DIFFERENCE else 0.4)
        camera.shoot(window, f"tryon-{mode.value}")
    view.set_mode(CompareMode.SIDE_BY_SIDE)
    view.set_zoom(2.5)
    await settle()
    camera.shoot(window, "tryon-side-by-side-zoomed")
    view.zoom_fit()

    # 3. Two providers over the same inputs: a synced grid.
    window.provider_selector.set_checked(["local", "fitinview"])
    await until(lambda: window.generate_button.isEnabled())
    await settle()
    camera.shoot(window, "two-providers-ticked")
    batch = await wb.generate()
    for job in batch:
        await until(lambda j=job: window.job_queue.job(j.id).state.terminal, 60)
    await until(view.is_grid, 20)
    await settle(0.6)
    camera.shoot(window, "grid-local-and-fitinview")

    # 4. Staging variations.
    window.task_selector.select_key("staging")
    window.provider_selector.set_checked(["virtualstaging"])
    await wb.load_samples()
    window.params_form.set_values({"variation_count": 3, "style": "scandinavian"})
    await until(lambda: window.generate_button.isEnabled())
    jobs = await wb.generate()
    await until(lambda: window.job_queue.job(jobs[0].id).state.terminal, 60)
    await until(lambda: view.strip().count() == 3, 20)
    view.set_current(1)
    await settle(0.6)
    camera.shoot(window, "staging-variations")

    # 5. The queue with a failed (wrong key) and a rate-limited job.
    fiv.inject(Fault("status", "GET", "/api/v1/tryon/", status=429,
                     headers={"Retry-After": "300"}, body={"error": {
                         "code": "rate_limited", "message": "Too many requests"}}, times=50))
    window.task_selector.select_key("tryon")
    window.provider_selector.set_checked(["fitinview", "tryonapi"])
    await wb.load_samples()
    await until(lambda: window.generate_button.isEnabled())
    jobs = await wb.generate()
    failed = next(j for j in jobs if j.provider == "tryonapi")
    limited = next(j for j in jobs if j.provider == "fitinview")
    await until(lambda: window.job_queue.job(failed.id).state.terminal, 60)
    await until(lambda: "Rate" in window.job_queue.row_text(limited.id)
                or "rate" in window.job_queue.row_text(limited.id), 60)
    window.queue_dock.raise_()
    window.job_queue.select_job(failed.id)
    await settle(1.2)
    camera.shoot(window, "queue-failed-and-rate-limited")
    camera.shoot(window.job_queue, "queue-panel")
    await wb.cancel(limited.id)

    # 6. History with many jobs.
    window.history_dock.raise_()
    await window.history_panel.reload()
    await settle(1.5)
    camera.shoot(window, "history-many-jobs")
    camera.shoot(window.history_panel, "history-panel")

    # 7. A bad file in a pane.
    bad = home / "holiday.jpg"
    bad.write_bytes(b"this is not an image at all")
    window.task_selector.select_key("upscale")
    window.provider_selector.set_checked(["local"])
    await window.panes["image"].add_sources([str(samples["image"][0])])
    await window.panes["image"].add_sources([str(bad)])
    await settle()
    camera.shoot(window, "bad-file")

    # 8. Settings.
    wb.open_settings(None)
    dialog = wb._settings_dialog
    await settle(1.0)
    camera.shoot(dialog, "settings-general")
    dialog.show_provider("fitinview")
    await settle(0.5)
    await dialog.test_connection("fitinview")
    await settle(0.5)
    camera.shoot(dialog, "settings-fitinview-tested")
    dialog.show_provider("tryonapi")
    await dialog.test_connection("tryonapi")
    await settle(0.5)
    camera.shoot(dialog, "settings-tryonapi-wrong-key")
    dialog.reject()

    window.close()
    await window.aclose()


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    for name in list(os.environ):
        if name.startswith("RESTYLE_"):
            del os.environ[name]
    import qasync

    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)  # as the app does: closing a window is not quitting
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with ExitStack() as stack:
        loop.run_until_complete(scenario(app, out, stack))
    loop.close()  # shuts qasync's worker threads down before Qt goes away
    return 0


if __name__ == "__main__":
    sys.exit(main())
