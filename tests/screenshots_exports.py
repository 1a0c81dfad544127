"""Screenshots of issue 10's exports (tests/screenshots.py --only exports): the export dialog
(normal and the listing preset), the progress mid-export, the finished status line, Settings
> Export with a C2PA Test passed, the listing set as written (the original and the labelled
staged photo), a lookbook page as written, and the HTML report rendered by headless
Chromium."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageEnhance
from PySide6.QtWidgets import QApplication, QWidget

from tests.screenshots import Camera, until

CHROMIUM = "/usr/bin/chromium"


def _staged(room: Image.Image, variation: int) -> bytes:
    """A 'staged' version of the sample room: warmer or cooler light, a sofa, a rug, a lamp."""
    tint = [(1.06, 1.0, 0.92), (0.95, 1.0, 1.06), (1.0, 1.04, 0.96)][variation % 3]
    r, g, b = (ImageEnhance.Brightness(band).enhance(f)
               for band, f in zip(room.convert("RGB").split(), tint, strict=True))
    img = Image.merge("RGB", (r, g, b))
    draw = ImageDraw.Draw(img)
    w, h = img.size
    sofa = [(88, 96, 120), (150, 110, 80), (70, 110, 90)][variation % 3]
    draw.rounded_rectangle((w * 0.22, h * 0.58, w * 0.62, h * 0.80), radius=int(h * 0.03),
                           fill=sofa)
    draw.rounded_rectangle((w * 0.24, h * 0.50, w * 0.60, h * 0.62), radius=int(h * 0.03),
                           fill=tuple(max(0, c - 25) for c in sofa))
    draw.ellipse((w * 0.15, h * 0.82, w * 0.70, h * 0.97), fill=(214, 200, 178))
    draw.rectangle((w * 0.74, h * 0.40, w * 0.75, h * 0.80), fill=(40, 40, 40))
    draw.ellipse((w * 0.70, h * 0.33, w * 0.79, h * 0.43), fill=(250, 236, 200))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _seed(home: Path, samples: dict[str, list[Path]]) -> list[str]:
    """Staging jobs on the sample room (stored as a staging service leaves them) and real
    try-ons of the offline provider, for the lookbook."""
    from desktop.core.model import Job, JobSpec, JobState, Output
    from desktop.services import Services

    services = Services.open(home)
    room_path = samples["room"][0]
    room_bytes = room_path.read_bytes()
    room = Image.open(io.BytesIO(room_bytes))
    photo = services.assets.put(room_bytes, "image/jpeg", width=room.width, height=room.height)
    ids = []
    now = time.time()
    for n, (name, outputs) in enumerate((("14 Elm St living room", 3),
                                         ("14 Elm St bedroom", 2), ("9 Oak Ave lounge", 1))):
        stored = []
        outs = []
        for i in range(outputs):
            asset = services.assets.put(_staged(room, n + i), "image/jpeg", width=room.width,
                                        height=room.height)
            stored.append(asset)
            outs.append(Output(i, asset.sha256, asset.mime, asset.size, room.width,
                               room.height, label=f"modern {i + 1}" if outputs > 1 else ""))
        job_id = f"{n + 1:02d}5e7a9c-0d1f-4b2a-9c3e-7f1a2b3c4d5e"
        spec = JobSpec("virtualstaging", "staging", {"room": [f"/photos/{name}.jpg"]},
                       {"style": "modern", "room_type": "living"})
        job = Job(job_id, spec, JobState.SUCCEEDED, now - 3600 + n * 60, now - 3600 + n * 60,
                  started_at=now - 3600 + n * 60, finished_at=now - 3590 + n * 60,
                  cost_credits=1.0, inputs={"room": [photo.sha256]}, outputs=tuple(outs))
        services.history.save_job(job, assets=[photo, *stored])
        ids.append(job_id)
    services.close()
    return ids


async def _tryons(home: Path, samples: dict[str, list[Path]]) -> None:
    from desktop.core.model import JobSpec
    from desktop.services import Services

    services = Services.open(home)
    engine = services.engine()
    jobs = [await engine.submit(JobSpec("local", "tryon", {
        "person": [str(samples["person"][0])], "garment": [str(garment)]}, {}))
        for garment in samples["garment"]]
    for job in jobs:
        await engine.wait(job.id)
    await engine.aclose()
    await services.aclose()
    services.close()


class ExportCamera(Camera):
    """Files named exports-NN-...png, so they sort together after the other scenarios'."""

    def next_path(self, name: str) -> Path:
        self.count += 1
        return self.out / f"exports-{self.count:02d}-{name}.png"

    def shoot(self, widget: QWidget, name: str) -> Path:
        path = self.next_path(name)
        widget.grab().save(str(path))
        print(path)
        return path

    def shoot_screen(self, name: str) -> Path:
        path = self.next_path(name)
        QApplication.primaryScreen().grabWindow(0).save(str(path))
        print(path)
        return path


def _save_image_file(path: Path, camera: ExportCamera, name: str,
                     max_side: int = 1600) -> Path:
    """A written export as a screenshot PNG (scaled down to look at, never up)."""
    target = camera.next_path(name)
    with Image.open(path) as img:
        img = img.convert("RGB")
        img.thumbnail((max_side, max_side))
        img.save(target)
    print(target)
    return target


async def exports_scenario(app: QApplication, out: Path, stack: ExitStack,
                           size: tuple[int, int]) -> None:
    """`size`: the window's (screenshots.window_size() of the running script)."""
    from desktop.app import create_main_window
    from desktop.config import sample_inputs, save_settings
    from desktop.core.exports import composites
    from desktop.general_settings import (
        C2PA_CERT,
        C2PA_KEY,
        LISTING_QR,
        LISTING_URL,
    )
    from desktop.ui.export_workflows import Scope
    from tests.core.exports.certs import Pki

    del stack
    camera = ExportCamera(out)
    samples = sample_inputs()
    home = Path(tempfile.mkdtemp(prefix="restyle-exports-"))
    ids = _seed(home, samples)
    await _tryons(home, samples)
    exports = Path(tempfile.mkdtemp(prefix="restyle-exported-"))
    pki = Pki.make(home / "pki")
    chain, key, _ = pki.issue("Ana Agent")

    window = create_main_window(home)
    window.resize(*size)
    window.show()
    await window.start()
    await asyncio.sleep(0.8)
    wb = window.workbench
    flows = wb.export_workflows
    services = wb.services
    services.settings = replace(services.settings, general={
        **services.settings.general, LISTING_URL: "https://homes.example.com/{folder}/originals",
        LISTING_QR: True})
    save_settings(services.paths, services.settings)
    await until(lambda: len(window.history_panel.job_ids_loaded()) >= 5)

    # 1. The export dialog: the history's selection, JPEG, a size limit, a sidecar.
    panel = window.history_panel
    selection = panel.view.selectionModel()
    from PySide6.QtCore import QItemSelectionModel

    for row in range(panel.model.rowCount()):
        job = panel.model.job_at(row)
        if job is not None and job.id in ids:
            selection.select(panel.model.index(row, 0), QItemSelectionModel.SelectionFlag.Select)
    await wb.show_job(ids[0], 1)
    dialog = flows.open_dialog(initial="selected")
    await until(lambda: dialog.jobs() is not None)
    dialog.folder.setText(str(exports / "Elm St web"))
    dialog.format.setCurrentIndex(dialog.format.findData("jpeg"))
    dialog.quality.setValue(88)
    dialog.limit_side.setChecked(True)
    dialog.all_outputs.setChecked(True)
    dialog.sidecar.setChecked(True)
    await asyncio.sleep(0.4)
    camera.shoot(dialog, "export-dialog")
    camera.shoot_screen("export-dialog-over-window")
    dialog.template.setText("{input}/../{secret}")
    await asyncio.sleep(0.2)
    camera.shoot(dialog, "export-dialog-hostile-template")
    dialog.close()

    # 2. Export for listing: the shown staging job, its three variations, label and QR code.
    await wb.show_job(ids[0])
    window.export_listing_action.trigger()
    dialog = flows.dialog
    assert dialog is not None
    await until(lambda: dialog.jobs() is not None)
    dialog.folder.setText(str(exports / "Listing 14 Elm St"))
    await asyncio.sleep(0.3)
    camera.shoot(dialog, "export-dialog-listing")
    dialog.advanced_toggle.setChecked(True)
    await asyncio.sleep(0.2)
    camera.shoot(dialog, "export-dialog-listing-advanced")
    dialog.advanced_toggle.setChecked(False)

    # 3. Mid-export: each labelled photo takes a moment longer, so the bar can be seen.
    real_draw = composites.draw_label

    def slow_draw(img: Any, label: Any) -> Any:
        time.sleep(0.8)
        return real_draw(img, label)

    composites.draw_label = slow_draw  # type: ignore[assignment]
    try:
        dialog.export_button.click()
        await until(lambda: dialog.run_panel.running and dialog.run_panel.bar.value() >= 1)
        await asyncio.sleep(0.2)
        camera.shoot(dialog, "export-progress")
        await flows.idle()
    finally:
        composites.draw_label = real_draw  # type: ignore[assignment]
    await asyncio.sleep(0.3)
    camera.shoot(dialog, "export-finished")
    listing = exports / "Listing 14 Elm St"
    written = sorted(listing.iterdir())
    originals = [p for p in written if "-1-original" in p.name]
    staged = [p for p in written if "-2-staged" in p.name]
    _save_image_file(originals[0], camera, "listing-set-1-original")
    _save_image_file(staged[0], camera, "listing-set-2-staged")
    dialog.close()

    # 4. Settings > Export with a C2PA certificate made for the occasion, tested.
    services.settings = replace(services.settings, general={
        **services.settings.general, C2PA_CERT: str(chain), C2PA_KEY: str(key)})
    settings = wb.open_settings(None)
    settings.show_export_page()
    await settings.status_task
    await settings.export_page.test()
    await asyncio.sleep(0.3)
    camera.shoot(settings, "settings-export")
    settings.export_page.verticalScrollBar().setValue(
        settings.export_page.verticalScrollBar().maximum())
    await asyncio.sleep(0.2)
    camera.shoot(settings, "settings-export-scrolled")
    settings.reject()

    # 5. A lookbook of the try-ons, and the report of everything, as written.
    everything = Scope("everything", filter=panel.job_filter())
    pages = await flows.make_lookbook(exports / "Spring lookbook.pdf", everything)
    await asyncio.sleep(0.3)  # the dialog fits its sentence on the next layout pass
    camera.shoot(flows.task_dialog("lookbook"), "lookbook-task-dialog")
    png_pages = [p for p in pages if p.suffix == ".png"]
    _save_image_file(png_pages[0], camera, "lookbook-page", max_side=1754)
    report = exports / "report.html"
    await flows.make_report(report, everything)
    await asyncio.sleep(0.3)
    camera.shoot(flows.task_dialog("report"), "report-task-dialog")
    for size in ((1366, 900), (1920, 1080)):
        _chromium(report, camera.next_path(f"report-chromium-{size[0]}"), size)

    window.close()
    await window.aclose()
    shutil.rmtree(exports, ignore_errors=True)


def _chromium(page: Path, target: Path, size: tuple[int, int]) -> None:
    """The report as a browser shows it: headless Chromium, no network."""
    if not os.path.exists(CHROMIUM):
        print(f"skipped {target.name}: no {CHROMIUM}")
        return
    profile = tempfile.mkdtemp(prefix="restyle-chromium-")
    try:
        subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                        f"--user-data-dir={profile}", "--hide-scrollbars",
                        f"--screenshot={target}", f"--window-size={size[0]},{size[1]}",
                        page.as_uri()], check=True, timeout=120, capture_output=True)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    print(target)
