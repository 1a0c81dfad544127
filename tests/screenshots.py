"""Screenshots of the real window on a real (virtual) X display, for a person to look at.

Run: xvfb-run -a -s "-screen 0 1920x1080x24" python -m tests.screenshots [OUTDIR]
     [--size WIDTHxHEIGHT]
     [--only general|attention|batches|reviews|exports|forms|tools|workflows|compare|app
            |team]

It starts the FitInView, TryonAPI and Virtual Staging emulators on 127.0.0.1, fills a throw-away
RESTYLE_HOME, drives the window through the states issue 4 names and saves one PNG per state:
first start, a try-on result in each compare mode, a multi-provider grid, staging variations,
the queue with a failed and a rate-limited job, history with many jobs, settings, a bad file.
Then the states of issue 8: a job that needs attention (a missing key; an answer that never
came), the question before abandoning it, a job another Restyle runs (left alone), the history
filtered to "Needs attention", the result panel of a waiting job, and closing while a job is
being sent. Then the batches of issue 9: the New batch dialog with a plan and a budget, the
Batches panel mid-run, the results grid of a 3 x 4 try-on batch and of a staging batch. Then
the exports of issue 10 (tests/screenshots_exports.py): the export dialog, its listing preset,
progress and outcome, Settings > Export, a listing set, a lookbook page, the report. Then
issue 11's forms and words (`--only forms`): the staging form, day-to-dusk, Advanced unfolded,
two providers over two garments, "Set up…", a long error with its details window, the result
panel, a queue of more than six jobs and the history's rows. Then issue 11's provider tools
(`--only tools`). Then the VistoureAI workflows of issue 11 (tests/screenshots_workflows.py):
a workflow's image inputs as panes, per-node progress in the queue, the photo and video results,
a bad image parameter. Then issue 12's compare view (tests/screenshots_compare.py, `--only
compare`): every mode and tool on a pair and on a grid of three providers. Then team mode
(tests/screenshots_team.py, `--only team`): a window on a throwaway PostgreSQL server showing a
job and a review from other desks, and the feed cut and back. The
window is as large as the screen allows, up to --size (default 1500x940): run
it on a 1366x768 and a 1920x1080 screen to see both.
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

SIZE = [1500, 940]


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
    def __init__(self, out: Path, first: int = 0) -> None:
        self.out = out
        self.count = first

    def shoot(self, widget: QWidget, name: str) -> Path:
        self.count += 1
        path = self.out / f"{self.count:02d}-{name}.png"
        widget.grab().save(str(path))
        print(path)
        return path

    def shoot_screen(self, name: str) -> Path:
        """The whole screen: a dialog over its window, as the user sees both."""
        self.count += 1
        path = self.out / f"{self.count:02d}-{name}.png"
        screen = QApplication.primaryScreen()
        screen.grabWindow(0).save(str(path))
        print(path)
        return path


def window_size() -> tuple[int, int]:
    """SIZE, or less where the screen is smaller (a 1366x768 laptop)."""
    screen = QApplication.primaryScreen().availableGeometry()
    return min(SIZE[0], screen.width()), min(SIZE[1], screen.height() - 30)


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
    fresh.resize(*window_size())
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
    window.resize(*window_size())
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
                and wb.results.shown_job is not None and wb.results.shown_job.id == jobs[0].id)
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
    assert len(jobs) == 2, window.problem_label.text()
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
    await wb.engine.cancel(limited.id)

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


async def attention_scenario(app: QApplication, out: Path, stack: ExitStack) -> None:
    """Issue 8: jobs that wait for the user, a job another Restyle runs, closing while a job
    is being sent."""
    from desktop.app import create_main_window
    from desktop.config import sample_inputs
    from desktop.core.engine.ledger import Owner
    from desktop.core.model import Job, JobSpec, JobState
    from desktop.core.store import History
    from tests.emulators.fitinview import FitInViewEmulator
    from tests.emulators.kit import Fault, serve
    from tests.emulators.tryonapi import TryonApiEmulator

    camera = Camera(out, first=40)
    samples = sample_inputs()
    for name in list(os.environ):
        if name.startswith("RESTYLE_"):  # the other scenario's emulators are gone
            del os.environ[name]
    fiv = FitInViewEmulator(job_delay=4.0)
    tryon = TryonApiEmulator(job_delay=1.0)
    for pid, emu in (("FITINVIEW", fiv), ("TRYONAPI", tryon)):
        os.environ[f"RESTYLE_{pid}_BASE_URL"] = stack.enter_context(serve(emu))
        os.environ[f"RESTYLE_{pid}_API_KEY"] = emu.api_key
    home = Path(tempfile.mkdtemp(prefix="restyle-attention-"))
    await fill_history(home, samples, 8)

    # A job a `restyle-cli run` on another computer is working on, its lease alive.
    history = History(home / "data" / "history.sqlite3")
    now = time.time()
    person, garment = str(samples["person"][0]), str(samples["garment"][0])
    elsewhere = Job(id="e1" + "0" * 30, spec=JobSpec("fitinview", "tryon", {
        "person": [person], "garment": [garment]}), state=JobState.RUNNING,
        created_at=now - 95, updated_at=now - 3, started_at=now - 95,
        remote_id="fiv_job_7f3a", attempts=1, progress=0.4,
        note="Rendering the garment on the person")
    cli = Owner("studio-mac", 4242, "c0ffee", "restyle-cli run")
    history.save_job(elsewhere, owner=cli.encode(), lease_until=now + 3600)
    history.close()

    window = create_main_window(home)
    window.resize(*window_size())
    window.show()
    await window.start()
    await settle(0.8)
    wb = window.workbench
    queue = window.job_queue
    window.queue_dock.raise_()
    queue.select_job(elsewhere.id)
    await settle()
    camera.shoot(window, "start-up-job-left-alone")
    camera.shoot(queue, "queue-job-running-elsewhere")

    # A missing key: the key is removed while FitInView works on the job.
    window.task_selector.select_key("tryon")
    window.provider_selector.set_checked(["fitinview"])
    await wb.load_samples()
    await until(lambda: window.generate_button.isEnabled())
    missing = (await wb.generate())[0]
    await until(lambda: queue.job(missing.id).state == JobState.RUNNING)
    del os.environ["RESTYLE_FITINVIEW_API_KEY"]
    await until(lambda: queue.job(missing.id).state == JobState.NEEDS_ATTENTION, 30)
    queue.select_job(missing.id)
    await settle(0.8)
    camera.shoot(window, "queue-needs-attention-missing-key")
    camera.shoot(queue, "queue-panel-needs-attention-missing-key")

    # The result panel of that job.
    await wb.show_job(missing.id)
    await settle(0.6)
    camera.shoot(window, "result-panel-needs-attention")
    camera.shoot(window.result_panel, "result-panel-only")

    # An answer that never came, at a provider without a job list.
    tryon.inject(Fault("malformed_json", "POST", "/api/v1/tryon"))
    window.provider_selector.set_checked(["tryonapi"])
    await until(lambda: window.generate_button.isEnabled())
    lost = (await wb.generate())[0]
    await until(lambda: queue.job(lost.id).state == JobState.NEEDS_ATTENTION, 30)
    queue.select_job(lost.id)
    await settle(0.8)
    camera.shoot(window, "queue-unknown-outcome")
    camera.shoot(queue, "queue-panel-unknown-outcome")

    # Abandon… asks first.
    asking = wb.spawn(wb.attention.cancel(lost.id))
    await until(lambda: wb.attention.dialog() is not None)
    await settle(0.8)
    box = wb.attention.dialog()
    assert box is not None
    camera.shoot_screen("abandon-confirmation")
    camera.shoot(box, "abandon-confirmation-dialog")
    box.reject()  # Keep
    if asking is not None:
        await asking

    # The history filtered to jobs that need attention.
    window.history_dock.raise_()
    history_panel = window.history_panel
    history_panel.state_combo.setCurrentIndex(history_panel.state_combo.findText(
        "Needs attention"))
    await until(lambda: len(history_panel.job_ids_loaded()) == 2, 10)
    await settle(1.0)
    camera.shoot(window, "history-needs-attention")
    camera.shoot(history_panel, "history-panel-needs-attention")
    history_panel.state_combo.setCurrentIndex(history_panel.state_combo.findText("Unfinished"))
    await until(lambda: len(history_panel.job_ids_loaded()) == 3, 10)
    await settle(1.0)
    camera.shoot(history_panel, "history-panel-unfinished")

    # Closing while a job is being sent: the window stays up and says what it waits for.
    os.environ["RESTYLE_FITINVIEW_API_KEY"] = fiv.api_key
    await wb.settings_changed()
    fiv.inject(Fault("slow", "POST", "/api/v1/tryon", delay=3.0))
    window.provider_selector.set_checked(["fitinview"])
    await until(lambda: window.generate_button.isEnabled())
    sending = (await wb.generate())[0]
    await until(lambda: queue.job(sending.id).state == JobState.SUBMITTING)
    window.queue_dock.raise_()
    window.close()
    await until(lambda: "Waiting up to" in window.statusBar().currentMessage(), 10)
    await settle(0.3)
    camera.shoot(window, "closing-waits-for-a-job-being-sent")
    await until(lambda: not window.isVisible(), 20)


def _variant_images(folder: Path, source: Path, count: int, prefix: str) -> list[Path]:
    """`count` copies of a sample picture, each tinted a little differently."""
    from PIL import Image, ImageEnhance

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    tints = [(1.0, 1.0), (0.8, 1.15), (1.2, 0.9), (0.9, 0.75)]
    with Image.open(source) as original:
        base = original.convert("RGB")
    for i in range(count):
        colour, light = tints[i % len(tints)]
        img = ImageEnhance.Brightness(ImageEnhance.Color(base).enhance(colour)).enhance(light)
        path = folder / f"{prefix}-{i + 1}.png"
        img.save(path)
        paths.append(path)
    return paths


def _garment_images(folder: Path, samples: dict[str, list[Path]]) -> list[Path]:
    """Four garments: the two samples and two recoloured copies."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    paths = list(samples["garment"])
    for i, (source, swap) in enumerate(((samples["garment"][0], (2, 1, 0)),
                                        (samples["garment"][1], (1, 2, 0)))):
        with Image.open(source) as original:
            img = original.convert("RGBA")
        r, g, b, a = img.split()
        channels = (r, g, b)
        img = Image.merge("RGBA", (*[channels[c] for c in swap], a))
        path = folder / f"garment-recoloured-{i + 1}.png"
        img.save(path)
        paths.append(path)
    return paths


async def batches_scenario(app: QApplication, out: Path, stack: ExitStack) -> None:
    """Issue 9: the New batch dialog with a plan and a budget, the Batches panel mid-run, the
    results grid of a 3 x 4 try-on batch on the offline provider and of a staging batch with
    several settings."""
    from desktop.app import create_main_window
    from desktop.config import ProviderSettings, Settings, sample_inputs, save_settings
    from desktop.core.batches import BatchState
    from desktop.services import Services
    from tests.emulators.fitinview import FitInViewEmulator
    from tests.emulators.kit import serve
    from tests.emulators.virtualstaging import VirtualStagingEmulator

    # Only asyncio.sleep here: QApplication.processEvents() inside a coroutine can re-enter
    # the qasync loop and strand a task of the engine or the grid.
    camera = Camera(out, first=70)
    samples = sample_inputs()
    for name in list(os.environ):
        if name.startswith("RESTYLE_"):
            del os.environ[name]
    fiv = FitInViewEmulator(job_delay=4.0)
    stage = VirtualStagingEmulator(job_delay=1.0)
    for pid, emu in (("FITINVIEW", fiv), ("VIRTUALSTAGING", stage)):
        os.environ[f"RESTYLE_{pid}_BASE_URL"] = stack.enter_context(serve(emu))
        os.environ[f"RESTYLE_{pid}_API_KEY"] = emu.api_key
    home = Path(tempfile.mkdtemp(prefix="restyle-batches-"))
    services = Services.open(home)
    save_settings(services.paths, Settings(providers={
        "fitinview": ProviderSettings(price_per_credit=0.12)}))
    services.close()
    pictures = home / "pictures"
    persons = _variant_images(pictures / "people", samples["person"][0], 3, "person")
    clothes = _garment_images(pictures / "garments", samples)
    rooms = _variant_images(pictures / "rooms", samples["room"][0], 3, "room")

    window = create_main_window(home)
    window.resize(*window_size())
    window.show()
    await window.start()
    await asyncio.sleep(0.8)
    wb = window.workbench
    batches = wb.batches

    async def dialog_for(task: str, providers: list[str]):  # type: ignore[no-untyped-def]
        window.task_selector.select_key(task)
        window.provider_selector.set_checked(providers)
        await asyncio.sleep(0.3)
        window.new_batch_action.trigger()
        await until(lambda: batches.dialog() is not None)
        found = batches.dialog()
        assert found is not None
        await found.settled()
        return found

    # 1. The dialog: 3 people x 4 garments on FitInView and the offline provider, a budget.
    window.panes["person"].clear()
    await window.panes["person"].add_sources([str(persons[0])])
    dialog = await dialog_for("tryon", ["local", "fitinview"])
    await dialog.rows_list.add_sources([str(p) for p in persons])
    await dialog.garments_list.add_sources([str(g) for g in clothes])
    dialog.name_edit.setText("Spring looks")
    await dialog.settled()
    await asyncio.sleep(0.5)
    camera.shoot_screen("batch-dialog-plan")
    dialog.budget_on.setChecked(True)
    dialog.budget.setValue(60)
    dialog.advanced_toggle.setChecked(False)
    await dialog.settled()
    await asyncio.sleep(0.5)
    camera.shoot_screen("batch-dialog-budget")
    camera.shoot(dialog, "batch-dialog-budget-only")
    dialog.start_button.click()
    await until(lambda: dialog.confirmation() is not None)
    await asyncio.sleep(0.5)
    camera.shoot_screen("batch-dialog-confirm")
    box = dialog.confirmation()
    assert box is not None
    next(b for b in box.buttons() if b.objectName() == "batchConfirmStart").click()
    await until(lambda: batches.dialog() is None and bool(batches.panel.batch_ids()))
    spring = batches.panel.batch_ids()[0]

    # 2. The panel mid-run.
    await until(lambda: (p := batches.progress(spring)) is not None and p.done >= 6
                and p.running > 0, 120)
    batches.dock.raise_()
    await asyncio.sleep(1.0)
    camera.shoot(window, "batch-panel-mid-run")
    camera.shoot(batches.panel, "batch-panel-only")
    await batches.open_results(spring)
    await batches.grid.idle()
    await asyncio.sleep(0.8)
    camera.shoot(window, "batch-grid-mid-run")
    await batches.pause(spring)

    # 3. The grid of a 3 x 4 try-on batch on the offline provider.
    dialog = await dialog_for("tryon", ["local"])
    await dialog.rows_list.add_sources([str(p) for p in persons])
    await dialog.garments_list.add_sources([str(g) for g in clothes])
    dialog.name_edit.setText("Offline preview, 3 x 4")
    await dialog.settled()
    dialog.start_button.click()
    await until(lambda: batches.dialog() is None)
    local = batches.panel.batch_ids()[0]
    await until(lambda: (p := batches.progress(local)) is not None
                and p.state == BatchState.FINISHED, 180)
    await batches.open_results(local)
    await batches.grid.idle()
    await asyncio.sleep(1.0)
    camera.shoot(window, "batch-grid-tryon-local")
    camera.shoot(batches.grid, "batch-grid-tryon-local-only")
    batches.grid.select(1, 2)
    await batches.show_cell(1, 2)
    batches.grid.zoom_by(2.5)
    await batches.grid.idle()
    await asyncio.sleep(1.0)
    camera.shoot(window, "batch-grid-tryon-local-zoomed")
    batches.grid.zoom_fit()

    # 4. A staging batch: 3 rooms x (2 styles x 2 room types) on Virtual Staging.
    window.panes["room"].clear()
    await window.panes["room"].add_sources([str(rooms[0])])
    dialog = await dialog_for("staging", ["virtualstaging"])
    await dialog.rows_list.add_sources([str(r) for r in rooms])
    dialog.set_axis("style", ["scandinavian", "industrial"])
    dialog.set_axis("room_type", ["living", "dining"])
    dialog.set_axis("variation_count", "2")  # every job makes two pictures
    dialog.name_edit.setText("Listing 14 staging")
    await dialog.settled()
    await asyncio.sleep(0.5)
    camera.shoot_screen("batch-dialog-staging")
    dialog.start_button.click()
    await until(lambda: dialog.confirmation() is not None)
    next(b for b in dialog.confirmation().buttons()  # type: ignore[union-attr]
         if b.objectName() == "batchConfirmStart").click()
    await until(lambda: batches.dialog() is None)
    staging = batches.panel.batch_ids()[0]
    await until(lambda: (p := batches.progress(staging)) is not None
                and p.state == BatchState.FINISHED, 180)
    await batches.open_results(staging)
    await batches.grid.idle()
    await asyncio.sleep(1.0)
    camera.shoot(window, "batch-grid-staging")
    camera.shoot(batches.grid, "batch-grid-staging-only")

    # 5. Cancel… asks first.
    batches.dock.raise_()
    asking = wb.spawn(batches.cancel(spring))
    await until(lambda: batches.question() is not None)
    await asyncio.sleep(0.6)
    camera.shoot_screen("batch-cancel-question")
    question = batches.question()
    assert question is not None
    question.reject()
    if asking is not None:
        await asking
    await batches.resume(spring)
    await asyncio.sleep(0.5)

    window.close()
    await window.aclose()


async def reviews_scenario(app: QApplication, out: Path, stack: ExitStack) -> None:
    """Issue 9, reviews: a 2 x 2 try-on batch on three providers (the offline one and the
    FitInView and TryonAPI emulators), review mode with the tag list open, the blind
    comparison, the rankings panel over votes of two reviewers, the history's review filters,
    the result panel's review and the Review settings page."""
    import random
    from dataclasses import replace

    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from desktop.app import create_main_window
    from desktop.config import sample_inputs, save_settings
    from desktop.core.batches import Matrix, Variant
    from desktop.core.reviews import Review, ReviewSettings, Verdict, VoteOutcome
    from desktop.services import Services
    from tests.emulators.fitinview import FitInViewEmulator
    from tests.emulators.kit import serve
    from tests.emulators.tryonapi import TryonApiEmulator

    camera = Camera(out, first=90)
    samples = sample_inputs()
    for name in list(os.environ):
        if name.startswith("RESTYLE_"):
            del os.environ[name]
    for pid, emu in (("FITINVIEW", FitInViewEmulator(job_delay=0.3)),
                     ("TRYONAPI", TryonApiEmulator(job_delay=0.3))):
        os.environ[f"RESTYLE_{pid}_BASE_URL"] = stack.enter_context(serve(emu))
        os.environ[f"RESTYLE_{pid}_API_KEY"] = emu.api_key
    home = Path(tempfile.mkdtemp(prefix="restyle-reviews-"))
    pictures = home / "pictures"
    persons = _variant_images(pictures / "people", samples["person"][0], 2, "person")
    clothes = _garment_images(pictures / "garments", samples)[:2]

    # A real batch through the engine, then votes and reviews a colleague gave elsewhere.
    services = Services.open(home)
    save_settings(services.paths, replace(services.settings, review=ReviewSettings("Ana")))
    services = Services.open(home)
    engine = services.engine()
    runner = services.batch_runner(engine)
    matrix = Matrix(task="tryon", providers=("local", "fitinview", "tryonapi"), role="person",
                    rows=tuple(str(p) for p in persons),
                    variants=tuple(Variant(g.stem, {"garment": [str(g)]}) for g in clothes))
    items, _plan = runner.plan(matrix)
    batch = await runner.create("Client looks", matrix, items)
    await runner.run(batch.id)
    await engine.aclose()
    store = services.review_store()
    jobs = [j for i in services.batch_store().items(batch.id)
            if i.job_id and (j := services.history.get(i.job_id)) is not None and j.outputs]
    by_cell: dict[tuple[str, str], dict[str, str]] = {}
    for job in jobs:
        key = (job.spec.inputs["person"][0], job.spec.inputs["garment"][0])
        by_cell.setdefault(key, {})[job.provider] = job.id
    strength = {"fitinview": 2.0, "tryonapi": 1.2, "local": 0.3}
    rng = random.Random(7)
    for _round in range(6):
        for cell in by_cell.values():
            pids = sorted(cell)
            for a in range(len(pids)):
                for b in range(a + 1, len(pids)):
                    left, right = pids[a], pids[b]
                    p_left = strength[left] / (strength[left] + strength[right])
                    roll = rng.random()
                    outcome = (VoteOutcome.TIE if roll > 0.92 else
                               VoteOutcome.LEFT if rng.random() < p_left else VoteOutcome.RIGHT)
                    store.vote((cell[left], 0), (cell[right], 0), outcome,
                               rng.choice(["Ben", "Chloe"]))
    for job in jobs:
        good = job.provider != "local"
        store.save(Review(job.id, 0, "Ben", Verdict.PASS if good else Verdict.FAIL,
                          4 if good else 2, () if good else ("garment detail lost",)))
    services.close()

    window = create_main_window(home)
    window.resize(*window_size())
    window.show()
    await window.start()
    await settle(1.0)
    wb = window.workbench
    reviews = wb.reviews

    # 1. Review mode over the batch's jobs: pass with 4 stars, then a fail with tags.
    mode = await reviews.start_review_mode(jobs)
    assert mode is not None
    await mode.settle()
    await settle(0.8)
    QTest.keyClick(mode, Qt.Key.Key_P)
    QTest.keyClick(mode, Qt.Key.Key_4)
    await settle(0.3)
    camera.shoot(window, "review-mode-passed")
    QTest.keyClick(mode, Qt.Key.Key_Right)
    await mode.settle()
    QTest.keyClick(mode, Qt.Key.Key_F)
    QTest.keyClick(mode, Qt.Key.Key_T)
    await settle(0.5)
    camera.shoot(window, "review-mode-tags")
    QTest.keyClick(QApplication.focusWidget() or mode, Qt.Key.Key_Escape)  # the tag list
    await settle(0.3)
    if reviews.review_mode is not None:
        QTest.keyClick(reviews.review_mode, Qt.Key.Key_Escape)  # review mode
    await reviews.idle()
    await settle(0.5)

    # 2. The blind comparison.
    arena = await reviews.start_arena(jobs, seed=3)
    assert arena is not None
    await settle(1.2)
    camera.shoot(window, "arena-pair")
    QTest.keyClick(arena, Qt.Key.Key_A)
    await settle(0.8)
    camera.shoot(window, "arena-after-a-vote")
    if reviews.arena is not None:
        QTest.keyClick(reviews.arena, Qt.Key.Key_Escape)  # ends the session: the summary
        await settle(0.8)
        camera.shoot(window, "arena-session-summary")
    if reviews.arena is not None:
        QTest.keyClick(reviews.arena, Qt.Key.Key_Escape)
    await reviews.idle()
    await settle(0.5)

    # 3. The rankings panel.
    from PySide6.QtWidgets import QTabBar

    window.rankings_dock.show()
    for tabs in window.findChildren(QTabBar):  # click the dock's tab, as a person does
        for i in range(tabs.count()):
            if tabs.tabText(i) == "Rankings":
                tabs.setCurrentIndex(i)
    await settle(0.6)
    await reviews.refresh_rankings()
    await settle(0.8)
    camera.shoot(window, "rankings-panel")
    camera.shoot(window.rankings_panel, "rankings-panel-only")

    # 4. The history filtered to failed try-ons, and a result's review in the result panel.
    window.history_dock.show()
    window.history_dock.raise_()
    bar = window.history_panel.review_bar
    bar.verdict_combo.setCurrentIndex(max(0, bar.verdict_combo.findData("fail")))
    await settle(1.0)
    camera.shoot(window, "history-failed-reviews")
    bar.verdict_combo.setCurrentIndex(0)
    await settle(0.6)
    await wb.show_job(jobs[1].id)
    await reviews.idle()
    await settle(0.8)
    camera.shoot(window, "result-panel-review")

    # 5. Settings > Review.
    wb.open_settings(None)
    dialog = wb._settings_dialog
    await settle(0.6)
    dialog.page_list.setCurrentRow(dialog.page_list.count() - 1)
    await settle(0.5)
    camera.shoot(dialog, "settings-review")
    dialog.reject()

    window.close()
    await window.aclose()


async def forms_scenario(app: QApplication, out: Path, stack: ExitStack) -> None:
    """Issue 11: the forms in plain words (staging, day-to-dusk, Advanced unfolded), two
    providers over the same garments ("TryonAPI uses the first garment only"), "Set up…" of a
    provider that is not ready, queue rows and history rows without task descriptions, a long
    error and its details window, the result panel of a failure, and a queue of more than six
    jobs."""
    from PySide6.QtWidgets import QComboBox, QScrollArea

    from desktop.app import create_main_window
    from desktop.config import sample_inputs
    from tests.emulators.fitinview import FitInViewEmulator
    from tests.emulators.kit import serve
    from tests.emulators.tryonapi import TryonApiEmulator
    from tests.emulators.virtualstaging import VirtualStagingEmulator

    camera = Camera(out, first=120)
    samples = sample_inputs()
    for name in list(os.environ):
        if name.startswith("RESTYLE_"):
            del os.environ[name]
    fiv = FitInViewEmulator(job_delay=1.0)
    stage = VirtualStagingEmulator(job_delay=0.5)
    tryon = TryonApiEmulator(job_delay=0.5)
    for pid, emu, key in (("FITINVIEW", fiv, fiv.api_key), ("VIRTUALSTAGING", stage, stage.api_key),
                          ("TRYONAPI", tryon, tryon.api_key)):
        os.environ[f"RESTYLE_{pid}_BASE_URL"] = stack.enter_context(serve(emu))
        os.environ[f"RESTYLE_{pid}_API_KEY"] = key
    home = Path(tempfile.mkdtemp(prefix="restyle-forms-"))
    await fill_history(home, samples, 14)
    window = create_main_window(home)
    window.resize(*window_size())
    window.show()
    await window.start()
    await settle(0.8)
    wb = window.workbench
    form = window.params_form
    scroll = window.findChild(QScrollArea, "inputsScroll")
    assert scroll is not None

    # 1. Staging in plain words, Advanced folded; then day-to-dusk (the sky, no furniture).
    window.task_selector.select_key("staging")
    window.provider_selector.set_checked(["virtualstaging"])
    await wb.load_samples()
    await settle()
    scroll.ensureWidgetVisible(form, 0, 0)
    await settle()
    camera.shoot(window, "form-staging")
    kind = form.editor("type")
    assert isinstance(kind, QComboBox)
    kind.setCurrentIndex(kind.findData("day-to-dusk"))
    await settle()
    camera.shoot(window, "form-day-to-dusk")
    kind.setCurrentIndex(kind.findData("staging"))
    form.set_advanced_open(True)
    await settle()
    assert form.advanced_box is not None
    scroll.ensureWidgetVisible(form.advanced_box, 0, 0)
    await settle()
    camera.shoot(window, "form-staging-advanced-open")
    form.set_advanced_open(False)

    # 2. Two providers over two garments: TryonAPI takes the first; the form says so.
    window.task_selector.select_key("tryon")
    window.provider_selector.set_checked(["fitinview", "tryonapi"])
    await wb.load_samples()
    await until(lambda: window.generate_button.isEnabled())
    scroll.ensureWidgetVisible(wb.choice.note_label, 0, 40)
    await settle()
    camera.shoot(window, "form-two-providers-first-garment-only")

    # 3. Set up… beside a provider that is not ready opens its settings page.
    scroll.ensureWidgetVisible(window.provider_selector, 0, 0)
    button = window.provider_selector.setup_button("vistoure")
    assert button is not None and button.isVisible()
    button.click()
    await settle(1.0)
    dialog = wb._settings_dialog
    camera.shoot_screen("set-up-opens-the-providers-page")
    dialog.reject()
    await settle()

    # 4. A long failure: its row, the job's detail, the details window, the result panel.
    fiv.fail_next("garment_not_detected", "The garment could not be separated from its "
                  "background: the photo shows several overlapping items on a patterned "
                  "surface. Photograph the garment alone, flat, on a plain light background, "
                  "with the whole garment in the frame, then try again.")
    jobs = await wb.generate()
    for job in jobs:
        await until(lambda j=job: window.job_queue.job(j.id).state.terminal, 60)
    failed = next(j for j in jobs if j.provider == "fitinview")
    window.queue_dock.raise_()
    window.job_queue.select_job(failed.id)
    await settle(0.8)
    camera.shoot(window, "queue-long-error")
    details = window.job_queue.show_error_details()
    await settle(0.8)
    camera.shoot_screen("error-details-window")
    if details is not None:
        details.close()
    await wb.show_job(failed.id)
    await settle(0.6)
    camera.shoot(window, "result-panel-failed-with-details-button")
    done = next(j for j in jobs if j.provider == "tryonapi")
    await wb.show_job(done.id)
    await settle(0.6)
    camera.shoot(window, "result-panel-try-on-result")

    # 5. More than six jobs: the Jobs dock keeps six rows in view.
    window.task_selector.select_key("upscale")
    window.provider_selector.set_checked(["local"])
    await window.panes["image"].add_sources([str(samples["image"][0])])
    for _ in range(5):
        await until(lambda: window.generate_button.isEnabled())
        for job in await wb.generate():
            await until(lambda j=job: window.job_queue.job(j.id).state.terminal, 60)
    await settle(0.8)
    camera.shoot(window, "queue-more-than-six-jobs")

    # 6. History rows: settings by name, no task descriptions.
    window.history_dock.show()
    window.history_dock.raise_()
    await window.history_panel.reload()
    await settle(1.2)
    camera.shoot(window, "history-plain-settings")
    camera.shoot(window.history_panel, "history-panel-plain-settings")

    window.close()
    await window.aclose()


async def tools_scenario(app: QApplication, out: Path, stack: ExitStack) -> None:
    """Issue 11's provider tools (Tools menu): past renders and more variations with their
    cost and question, a folder staged as a batch, furniture analysis, the multi-view check
    (yes and no), the vtryon base task picker from the recolour form's Choose…, recolour tasks
    and the question before a delete, FitInView's jobs before and after an import, and a
    provider that is not set up."""
    from PySide6.QtWidgets import QPushButton

    from desktop.app import create_main_window
    from desktop.config import sample_inputs
    from tests.emulators.fitinview import FitInViewEmulator
    from tests.emulators.kit import serve
    from tests.emulators.virtualstaging import VirtualStagingEmulator
    from tests.emulators.vtryon import VtryonEmulator
    from tests.providers.test_fitinview import job as fitinview_job
    from tests.providers.test_fitinview import provider as fitinview_provider
    from tests.providers.test_vtryon import job as recolor_job
    from tests.providers.test_vtryon import provider as vtryon_provider

    camera = Camera(out, first=130)
    samples = sample_inputs()
    for name in list(os.environ):
        if name.startswith("RESTYLE_"):
            del os.environ[name]
    stage = VirtualStagingEmulator(job_delay=1.0)
    recolour = VtryonEmulator(job_delay=0.5)
    fiv = FitInViewEmulator(job_delay=0.5)
    bases = {}
    for pid, emu in (("VIRTUALSTAGING", stage), ("VTRYON", recolour), ("FITINVIEW", fiv)):
        bases[pid] = os.environ[f"RESTYLE_{pid}_BASE_URL"] = stack.enter_context(serve(emu))
        os.environ[f"RESTYLE_{pid}_API_KEY"] = emu.api_key
    home = Path(tempfile.mkdtemp(prefix="restyle-tools-"))
    room = samples["room"][0]
    rooms = _variant_images(home / "listing", room, 4, "room")
    other = _variant_images(home / "other", samples["person"][0], 1, "hall")[0]

    # What the accounts already hold: renders, recolours, try-ons made elsewhere.
    second_pose, second_model = recolour.seed_pose_task()
    p = vtryon_provider(bases["VTRYON"])
    await p.submit(recolor_job(recolour))
    await p.submit(recolor_job(recolour, color_changes=[{"target": "skirt", "color": "teal"}]))
    await p.submit(recolor_job(recolour, pose_image_generation_id=second_pose,
                               models_image_generation_task_id=second_model))
    await p.aclose()
    f = fitinview_provider(bases["FITINVIEW"])
    for n in range(3):
        await f.submit(fitinview_job(f"laptop-{n}"))
    await f.aclose()

    window = create_main_window(home)
    window.resize(*window_size())
    window.show()
    await window.start()
    await asyncio.sleep(0.8)
    wb = window.workbench
    tools = wb.tools

    async def opened(kind: str):  # type: ignore[no-untyped-def]
        await until(lambda: tools.dialog(kind) is not None)
        found = tools.dialog(kind)
        await until(lambda: "Loading" not in found.status.text(), 60)
        await found.settled()
        await asyncio.sleep(0.6)
        return found

    # Renders made from the window first: two staging jobs.
    window.task_selector.select_key("staging")
    window.provider_selector.set_checked(["virtualstaging"])
    await wb.load_samples()
    window.params_form.set_values({"variation_count": 2, "style": "scandinavian"})
    await until(lambda: window.generate_button.isEnabled())
    first = await wb.generate()
    await until(lambda: window.job_queue.job(first[0].id).state.terminal, 60)
    window.params_form.set_values({"variation_count": 1, "style": "industrial",
                                   "room_type": "dining"})
    second = await wb.generate()
    await until(lambda: window.job_queue.job(second[0].id).state.terminal, 60)
    await asyncio.sleep(0.8)

    # 1. The Tools menu.
    bar = window.menuBar()
    tools.menu.popup(bar.mapToGlobal(bar.actionGeometry(tools.menu.menuAction()).bottomLeft()))
    await asyncio.sleep(0.6)
    camera.shoot_screen("tools-menu")
    tools.menu.hide()

    # 2. Past renders, then more variations of one: the cost, then the question.
    tools.actions["toolsRendersAction"].trigger()
    renders = await opened("renders")
    camera.shoot_screen("tools-renders")
    camera.shoot(renders, "tools-renders-only")
    renders.table.selectRow(1)
    renders.act_button.click()
    await until(lambda: tools.dialog("variations") is not None)
    adding = tools.dialog("variations")
    await until(lambda: "left this period" in adding.cost.text(), 30)
    adding.form.set_values({"variation_count": 2, "style": "luxury"})
    await asyncio.sleep(0.5)
    camera.shoot_screen("tools-variations")
    camera.shoot(adding, "tools-variations-only")
    adding.add_button.click()
    await until(lambda: adding.confirmation is not None)
    await asyncio.sleep(0.5)
    camera.shoot_screen("tools-variations-confirm")
    box = adding.confirmation
    next(b for b in box.buttons() if b.objectName() == "variationsConfirmAdd").click()
    await until(lambda: any(window.job_queue.job(j).task == "variations"
                            and window.job_queue.job(j).state.terminal
                            for j in window.job_queue.job_ids()), 60)
    await asyncio.sleep(1.0)
    renders.raise_()
    camera.shoot_screen("tools-variations-done")
    renders.reject()
    await asyncio.sleep(0.3)

    # 3. Furniture analysis.
    tools.actions["toolsAnalysisAction"].trigger()
    analysis = await opened("analysis")
    await analysis.pane.add_sources([str(room)])
    await asyncio.sleep(0.3)
    camera.shoot_screen("tools-analysis-photo")
    analysis.run_button.click()
    await until(lambda: analysis.mask.isVisible(), 30)
    await asyncio.sleep(0.5)
    camera.shoot_screen("tools-analysis-verdict")
    camera.shoot(analysis, "tools-analysis-only")
    analysis.reject()

    # 4. Two photos staged together: yes, then no.
    tools.actions["toolsCompatibilityAction"].trigger()
    check = await opened("compatibility")
    await check.first.add_sources([str(rooms[0])])
    await check.second.add_sources([str(rooms[1])])
    check.run_button.click()
    await until(lambda: check.verdict.isVisible(), 30)
    await asyncio.sleep(0.5)
    camera.shoot_screen("tools-compatibility-yes")
    check.second.clear()
    await check.second.add_sources([str(other)])
    await asyncio.sleep(0.2)
    check.run_button.click()
    await until(lambda: check.verdict.isVisible() and check.verdict.text().startswith("No"),
                30)
    await asyncio.sleep(0.5)
    camera.shoot_screen("tools-compatibility-no")
    camera.shoot(check, "tools-compatibility-no-only")
    check.reject()

    # 5. A folder of photos staged as a batch: the New batch dialog, filled.
    tools.actions["toolsBulkStagingAction"].trigger()
    await until(lambda: tools.folder_dialog is not None)
    await asyncio.sleep(0.5)
    tools.folder_dialog.setDirectory(str(home / "listing"))
    await asyncio.sleep(0.5)
    camera.shoot_screen("tools-bulk-folder")
    tools.folder_dialog.accept()
    await until(lambda: wb.batches.dialog() is not None, 30)
    batch = wb.batches.dialog()
    await batch.settled()
    await asyncio.sleep(0.8)
    camera.shoot_screen("tools-bulk-batch-dialog")
    batch.reject()
    await asyncio.sleep(0.3)

    # 6. vtryon: the recolour form's Choose… and the picker.
    window.task_selector.select_key("recolor")
    window.provider_selector.set_checked(["vtryon"])
    await asyncio.sleep(0.5)
    camera.shoot(window, "tools-recolour-form-choose")
    buttons = [b for b in window.params_form.findChildren(
        QPushButton, "choose_pose_image_generation_id") if b.isVisible()]
    buttons[0].click()
    picker = await opened("base-task")
    picker.list.setCurrentRow(1)
    await asyncio.sleep(0.3)
    camera.shoot_screen("tools-base-task-picker")
    picker.number.setText("99999")
    picker.lookup_button.click()
    await until(lambda: picker.said_problem(), 30)
    await asyncio.sleep(0.3)
    camera.shoot(picker, "tools-base-task-picker-unknown-only")
    picker.use_button.click() if picker.use_button.isEnabled() else None
    await asyncio.sleep(0.5)
    camera.shoot(window, "tools-recolour-form-chosen")

    # 7. Recolour tasks and the question before a delete.
    tools.actions["toolsRecolourTasksAction"].trigger()
    recolours = await opened("recolour-tasks")
    camera.shoot_screen("tools-recolour-tasks")
    recolours.table.selectRow(0)
    recolours.delete_button.click()
    await until(lambda: recolours.question is not None)
    await asyncio.sleep(0.4)
    camera.shoot_screen("tools-recolour-delete-question")
    recolours.question.reject()
    recolours.reject()

    # 8. FitInView: jobs on the account, then two imported.
    tools.actions["toolsRemoteJobsAction"].trigger()
    remote = await opened("remote-jobs")
    camera.shoot_screen("tools-fitinview-jobs")
    remote.select([j.remote_id for j in remote.jobs()[:2]])
    await asyncio.sleep(0.3)
    remote.import_button.click()
    await until(lambda: "Imported" in remote.status.text(), 30)
    await until(lambda: sum(1 for j in window.job_queue.job_ids()
                            if window.job_queue.job(j).provider == "fitinview"
                            and window.job_queue.job(j).state.terminal) >= 2, 60)
    await asyncio.sleep(1.0)
    camera.shoot_screen("tools-fitinview-imported")
    camera.shoot(remote, "tools-fitinview-imported-only")
    remote.reject()
    window.history_dock.raise_()
    window.history_panel.search.setText("imported")  # the imports say so in their note
    await asyncio.sleep(1.5)
    camera.shoot(window, "tools-history-with-imports")
    window.history_panel.search.clear()

    # 9. A provider that is not set up.
    del os.environ["RESTYLE_VTRYON_API_KEY"]
    tools.actions["toolsRecolourTasksAction"].trigger()
    await until(lambda: tools.question is not None)
    await asyncio.sleep(0.4)
    camera.shoot_screen("tools-not-set-up")
    tools.question.reject()

    await tools.idle()
    window.close()
    await window.aclose()


def main() -> int:
    args = sys.argv[1:]
    only = ""
    if "--size" in args:
        at = args.index("--size")
        SIZE[:] = [int(v) for v in args[at + 1].lower().split("x")]
        del args[at:at + 2]
    if "--only" in args:
        at = args.index("--only")
        only = args[at + 1]
        del args[at:at + 2]
    out = Path(args[0] if args else "screenshots").resolve()
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
        if only in ("", "general"):
            loop.run_until_complete(scenario(app, out, stack))
    with ExitStack() as stack:
        if only in ("", "attention"):
            loop.run_until_complete(attention_scenario(app, out, stack))
    with ExitStack() as stack:
        if only in ("", "batches"):
            loop.run_until_complete(batches_scenario(app, out, stack))
    with ExitStack() as stack:
        if only in ("", "reviews"):
            loop.run_until_complete(reviews_scenario(app, out, stack))
    with ExitStack() as stack:
        if only in ("", "exports"):
            from tests.screenshots_exports import exports_scenario

            loop.run_until_complete(exports_scenario(app, out, stack, window_size()))
    with ExitStack() as stack:
        if only in ("", "forms"):
            loop.run_until_complete(forms_scenario(app, out, stack))
    with ExitStack() as stack:
        if only in ("", "tools"):
            loop.run_until_complete(tools_scenario(app, out, stack))
    with ExitStack() as stack:
        if only in ("", "workflows"):
            from tests.screenshots_workflows import workflows_scenario

            loop.run_until_complete(workflows_scenario(app, out, stack, window_size()))
    with ExitStack() as stack:
        if only in ("", "compare"):
            from tests.screenshots_compare import compare_scenario

            loop.run_until_complete(compare_scenario(app, out, stack, window_size()))
    with ExitStack() as stack:
        if only in ("", "app"):
            from tests.screenshots_app import app_scenario

            loop.run_until_complete(app_scenario(app, out, stack, window_size()))
    with ExitStack() as stack:
        if only in ("", "team"):
            from tests.screenshots_team import team_scenario

            loop.run_until_complete(team_scenario(app, out, stack, window_size()))
    loop.close()  # shuts qasync's worker threads down before Qt goes away
    return 0


if __name__ == "__main__":
    sys.exit(main())
