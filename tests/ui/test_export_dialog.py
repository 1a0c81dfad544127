"""The window's exports: the export dialog (live example name, hostile templates, an export of
the history's selection with progress and a cancel mid-way, the listing preset), the History
and Batches entry points, provenance from the dialog (sidecar, C2PA), and the file-based
exports (report, lookbook, bundles and their import). Real window, real stored jobs, real
files."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from PySide6.QtCore import QItemSelectionModel

from desktop.app import RestyleWindow
from desktop.config import load_settings, save_settings
from desktop.core.exports import encode, provenance
from desktop.core.exports.bundle import write_bundle
from desktop.core.exports.composites import ListingLabel, label_box
from desktop.core.model import JobState
from desktop.general_settings import (
    C2PA_CERT,
    C2PA_KEY,
    EXPORT_DIR,
    LISTING_LABEL,
    LISTING_URL,
    general_setting,
)
from desktop.services import Services
from desktop.ui.export_dialog import ExportDialog
from desktop.ui.export_workflows import ExportWorkflows
from tests.ui.export_support import COLOURS, SIZE, room_png, staged_png, store_staging
from tests.ui.review_support import open_window, seed, until

__all__ = ["open_window"]


def workflows(window: RestyleWindow) -> ExportWorkflows:
    return window.workbench.export_workflows


async def loaded(dialog: ExportDialog) -> None:
    await until(lambda: dialog.jobs() is not None, what="the dialog's jobs")


async def finished(window: RestyleWindow) -> None:
    """Until the export that was started has ended (its progress lines also say "Wrote")."""
    await workflows(window).idle()
    dialog = workflows(window).dialog
    assert dialog is not None and not dialog.run_panel.running


def select_all(window: RestyleWindow) -> None:
    view = window.history_panel.view
    model = view.model()
    selection = view.selectionModel()
    for row in range(model.rowCount()):
        selection.select(model.index(row, 0), QItemSelectionModel.SelectionFlag.Select)


def decoded(path: Path) -> Image.Image:
    with Image.open(path) as img:
        img.load()
        return img.copy()


# -- the dialog's live example and hostile templates ------------------------------------------


def test_the_example_name_follows_the_template_and_hostile_ones_get_a_sentence(
        home: Path, open_window: Callable[[], RestyleWindow], loop: Any) -> None:
    seed(home, lambda s: [store_staging(s, "a1b2c3d4-0000-job", room="living room")])
    window = open_window()

    async def body() -> None:
        await window.workbench.show_job("a1b2c3d4-0000-job", 1)
        dialog = workflows(window).open_dialog()
        await loaded(dialog)
        assert dialog.choice().key == "shown"
        assert dialog.example.text() == (
            "Example: living room-virtualstaging-staging-a1b2c3d4-2.png")
        dialog.template.setText("{provider}/{input}-{n}")
        dialog.format.setCurrentIndex(dialog.format.findData("jpeg"))
        assert dialog.example.text() == "Example: virtualstaging/living room-001.jpg"
        assert dialog.export_button.isEnabled()

        dialog.template.setText("{input}-{secret_key}")
        assert dialog.example.text().startswith(
            "The file name template '{input}-{secret_key}' has an unknown field "
            "'{secret_key}'; known fields: {input}, {provider}")
        assert not dialog.export_button.isEnabled()
        assert dialog.summary.text() == dialog.example.text()
        dialog.template.setText("../../etc/{input}")
        assert dialog.example.text() == (
            "The file name template '../../etc/{input}' may not use '..': exports stay "
            "inside the chosen folder.")
        assert not dialog.export_button.isEnabled()
        dialog.template.setText("/abs/{input}")
        assert "is an absolute path" in dialog.example.text()
        dialog.template.setText("{input")
        assert "without its partner" in dialog.example.text()
        # Clicking a field inserts it where the cursor is.
        dialog.template.setText("x-")
        dialog.fields.linkActivated.emit("date")
        assert dialog.template.text() == "x-{date}"
        assert dialog.export_button.isEnabled()

    loop.run_until_complete(body())


# -- an export of the history's selection, progress, cancel -----------------------------------


def test_exporting_the_selection_shows_progress_and_a_cancel_leaves_only_whole_files(
        home: Path, tmp_path: Path, open_window: Callable[[], RestyleWindow], loop: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    seed(home, lambda s: [store_staging(s, f"job-{i}-0000000000", outputs=1, room=f"room-{i}",
                                        when=1_700_000_000 + i) for i in range(6)])
    window = open_window()
    out = tmp_path / "Listing 14"
    third_started = threading.Event()
    release = threading.Event()
    calls: list[int] = []
    real = encode.export_image

    def slow_third(*args: Any, **kwargs: Any) -> bytes:
        calls.append(1)
        if len(calls) == 3:  # the worker waits in the middle of the third file
            third_started.set()
            assert release.wait(20)
        return real(*args, **kwargs)

    monkeypatch.setattr(encode, "export_image", slow_third)

    async def body() -> None:
        await until(lambda: len(window.history_panel.job_ids_loaded()) == 6)
        select_all(window)
        window.history_panel.export_menu.actions()[0].trigger()  # History > Export > Export…
        dialog = workflows(window).dialog
        assert dialog is not None and dialog.isVisible()
        await loaded(dialog)
        assert dialog.choice().key == "selected"
        dialog.folder.setText(str(out))
        dialog.format.setCurrentIndex(dialog.format.findData("jpeg"))
        dialog.quality.setValue(90)
        assert dialog.summary.text() == (
            f"6 images from 6 jobs into {out}, JPEG 90 %.")
        dialog.export_button.click()
        await until(third_started.is_set, what="the third file")
        await until(lambda: dialog.run_panel.bar.value() == 2, what="progress 2 of 6")
        assert dialog.run_panel.bar.maximum() == 6
        assert dialog.run_panel.bar.isVisible()
        assert not dialog.export_button.isEnabled()
        assert dialog.run_panel.status.text().startswith("Wrote room-1-")
        dialog.run_panel.cancel_button.click()
        release.set()
        await until(lambda: not dialog.run_panel.running, what="the end of the export")
        await workflows(window).idle()

    loop.run_until_complete(body())
    files = sorted(out.iterdir())
    assert [f.name for f in files] == [
        f"room-{i}-virtualstaging-staging-job-{i}-00-1.jpg" for i in range(3)]
    for f in files:  # each complete: decodes whole, at the photo's size
        assert decoded(f).size == SIZE
    status = workflows(window).dialog.run_panel
    assert status.status.text() == (
        f"Cancelled: 3 files written into {out}, each complete; nothing after them.")
    assert status.show_folder.isVisible()
    opened: list[Path] = []
    workflows(window).open_folder = lambda p: opened.append(p) or True
    status.show_folder.click()
    assert opened == [out]
    # The folder and the template are remembered for the next export.
    saved = load_settings(window.workbench.services.paths)
    assert general_setting(saved, EXPORT_DIR) == str(out)


# -- Export for listing ------------------------------------------------------------------------


def test_export_for_listing_writes_each_original_before_its_labelled_staged_photo(
        home: Path, tmp_path: Path, open_window: Callable[[], RestyleWindow], loop: Any) -> None:
    def plan(services: Services) -> list[Any]:
        job = store_staging(services, "stage-0001-aaaa", outputs=3, room="14 Elm St living")
        settings = services.settings
        general = {**settings.general, LISTING_LABEL: "Virtually staged - Elm St",
                   LISTING_URL: "https://homes.example/{folder}/originals"}
        save_settings(services.paths, replace(settings, general=general))
        return [job]

    seed(home, plan)
    window = open_window()
    out = tmp_path / "Elm St"

    async def body() -> None:
        await window.workbench.show_job("stage-0001-aaaa")
        window.export_listing_action.trigger()
        dialog = workflows(window).dialog
        assert dialog is not None and dialog.windowTitle() == "Export for listing"
        await loaded(dialog)
        assert dialog.choice().key == "shown_job"
        assert dialog.mode.currentData() == "listing"
        assert dialog.all_outputs.isChecked() and not dialog.all_outputs.isEnabled()
        assert dialog.label_text.text() == "Virtually staged - Elm St"
        dialog.folder.setText(str(out))
        assert dialog.url.text() == "https://homes.example/Elm%20St/originals"
        dialog.qr.setChecked(True)
        assert dialog.summary.text() == (
            f"3 staged photos, each after its original (6 files), from 1 job into {out}, PNG.")
        dialog.export_button.click()
        await finished(window)

    loop.run_until_complete(body())
    names = sorted(p.name for p in out.iterdir())
    stem = "14 Elm St living-virtualstaging-staging-stage-00"
    assert names == [f"{stem}-{v}-{half}.png" for v in (1, 2, 3)
                     for half in ("1-original", "2-staged")]
    label = ListingLabel("Virtually staged - Elm St", url="https://homes.example/Elm%20St/"
                         "originals", qr=True)
    left, top, right, bottom = label_box(label, SIZE)
    for v in (1, 2, 3):
        original = (out / f"{stem}-{v}-1-original.png").read_bytes()
        assert original == room_png()  # the user's photo as it was, not re-encoded
        staged = decoded(out / f"{stem}-{v}-2-staged.png").convert("RGB")
        plain = Image.open(io.BytesIO(staged_png(COLOURS[v - 1]))).convert("RGB")
        assert staged.size == SIZE
        # The label changed its corner (a dark plate on the light photo) and nothing else.
        inside = [staged.getpixel((x, y)) for x in range(left + 4, right - 4, 7)
                  for y in range(top + 4, bottom - 4, 7)]
        assert sum(1 for p in inside if sum(p) < 200) > len(inside) // 3
        assert staged.crop((0, 0, SIZE[0], top - 2)).tobytes() == \
            plain.crop((0, 0, SIZE[0], top - 2)).tobytes()
        # The QR code on the label scans to where the original is published.
        codes = zxingcpp.read_barcodes(staged)
        assert [c.text for c in codes] == ["https://homes.example/Elm%20St/originals"]
        facts = provenance.read_back((out / f"{stem}-{v}-2-staged.png").read_bytes())
        assert facts["facts"]["job_id"] == "stage-0001-aaaa"
        assert facts["facts"]["output_position"] == v - 1


def test_a_batch_rows_export_menu_opens_the_dialog_on_that_batch(
        home: Path, open_window: Callable[[], RestyleWindow], loop: Any) -> None:
    window = open_window()
    panel = window.workbench.batches.panel
    panel.exportRequested.emit("b" * 32, "listing")
    dialog = workflows(window).dialog
    assert dialog is not None
    assert dialog.choice().key == f"batch:{'b' * 32}"
    assert dialog.choice().label.startswith("Batch “bbbbbbbb")
    assert dialog.mode.currentData() == "listing"
    loop.run_until_complete(loaded(dialog))
    assert dialog.summary.text() == "Nothing to export: choose jobs with a result."
    assert not dialog.export_button.isEnabled()
    assert "--batch " + "b" * 32 in dialog.advanced.toPlainText()


# -- provenance from the dialog ----------------------------------------------------------------


def test_sidecar_and_c2pa_from_the_dialog(home: Path, tmp_path: Path,
                                          open_window: Callable[[], RestyleWindow],
                                          loop: Any) -> None:
    from desktop.core.exports import c2pa_signing
    from tests.core.exports.certs import Pki

    pki = Pki.make(tmp_path / "pki")
    chain, key, _ = pki.issue("studio")

    def plan(services: Services) -> list[Any]:
        job = store_staging(services, "sign-0001-aaaa", outputs=2)
        general = {**services.settings.general, C2PA_CERT: str(chain), C2PA_KEY: str(key)}
        save_settings(services.paths, replace(services.settings, general=general))
        return [job]

    seed(home, plan)
    window = open_window()
    out = tmp_path / "signed"

    async def body() -> None:
        await window.workbench.show_job("sign-0001-aaaa", 1)
        dialog = workflows(window).open_dialog()
        await loaded(dialog)
        assert dialog.c2pa.isEnabled()
        assert dialog.c2pa_note.text() == "Signed with the certificate in studio.chain.pem."
        dialog.c2pa.setChecked(True)
        dialog.sidecar.setChecked(True)
        dialog.folder.setText(str(out))
        assert "--sidecar --c2pa" in dialog.advanced.toPlainText()
        dialog.export_button.click()
        await finished(window)
        assert dialog.run_panel.status.text() == f"Wrote 1 file (and 1 sidecar) into {out}."

    loop.run_until_complete(body())
    image = out / "room-1-virtualstaging-staging-sign-000-2.png"
    report = c2pa_signing.verify(image.read_bytes(), "png", trust_anchors_pem=pki.root_pem)
    assert report.signature_valid and report.trusted
    assert report.facts is not None and report.facts["output_position"] == 1
    assert ("room-1.png", "parentOf") in report.ingredients
    sidecar = json.loads((out / f"{image.name}.json").read_text())
    assert sidecar["job_id"] == "sign-0001-aaaa" and sidecar["output_position"] == 1
    assert sidecar["output_count"] == 2  # the job's own count, not the narrowed copy's
    assert sidecar["digital_source_type"] == provenance.COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA


def test_c2pa_is_off_with_the_reason_when_no_certificate_is_set_up(
        home: Path, open_window: Callable[[], RestyleWindow], loop: Any) -> None:
    seed(home, lambda s: [store_staging(s, "plain-0001-aaaa", outputs=1)])
    window = open_window()
    loop.run_until_complete(window.workbench.show_job("plain-0001-aaaa"))
    dialog = workflows(window).open_dialog()
    assert not dialog.c2pa.isEnabled()
    assert "C2PA signing is off: no certificate and private key are set up" in \
        dialog.c2pa_note.text()
    assert 'href="settings"' in dialog.c2pa_note.text()
    dialog.c2pa_note.linkActivated.emit("settings")
    settings = window.workbench._settings_dialog
    assert settings.stack.currentWidget() is settings.export_page
    settings.reject()
    # Set up meanwhile: the open dialog offers C2PA once the settings are saved.
    services = window.workbench.services
    services.settings = replace(services.settings, general={
        **services.settings.general, C2PA_CERT: "/certs/me.chain.pem",
        C2PA_KEY: "/certs/me.key.pem"})
    loop.run_until_complete(window.workbench.settings_changed())
    assert dialog.c2pa.isEnabled()
    assert dialog.c2pa_note.text() == "Signed with the certificate in me.chain.pem."


# -- report, lookbook, bundles -----------------------------------------------------------------


def test_report_of_the_selection_is_one_self_contained_html_file(
        home: Path, tmp_path: Path, open_window: Callable[[], RestyleWindow], loop: Any) -> None:
    seed(home, lambda s: [store_staging(s, f"rep-{i}-0000000000", outputs=2, room=f"room-{i}",
                                        when=1_700_000_000 + i) for i in range(3)])
    window = open_window()
    target = tmp_path / "qa report.html"

    async def body() -> list[Path]:
        await until(lambda: len(window.history_panel.job_ids_loaded()) == 3)
        select_all(window)
        scope = workflows(window).history_scope()
        assert scope is not None and scope.words == "the 3 jobs selected in the history"
        written = await workflows(window).make_report(target, scope)
        return written

    assert loop.run_until_complete(body()) == [target]
    page = target.read_text(encoding="utf-8")
    for i in range(3):
        assert f"rep-{i}-0000000000" in page
    assert "src=\"http" not in page and "href=\"http" not in page
    assert "data:image/" in page
    dialog = workflows(window).task_dialog("report")
    assert dialog is not None and dialog.panel.status.text() == (
        "Wrote qa report.html: 3 jobs (HTML).")
    assert dialog.panel.show_folder.isVisible()


def test_a_report_to_a_folder_that_cannot_be_written_is_a_sentence(
        home: Path, tmp_path: Path, open_window: Callable[[], RestyleWindow], loop: Any) -> None:
    seed(home, lambda s: [store_staging(s, "rep-x-0000000000", outputs=1)])
    window = open_window()
    blocker = tmp_path / "a-file"
    blocker.write_text("x")

    async def body() -> None:
        await until(lambda: len(window.history_panel.job_ids_loaded()) == 1)
        scope = workflows(window).history_scope()
        assert scope is not None
        assert await workflows(window).make_report(blocker / "r.html", scope) == []

    loop.run_until_complete(body())
    panel = workflows(window).task_dialog("report").panel
    assert panel.status.text().startswith("Could not save r.html in ")
    assert panel.status.property("ok") is False
    assert "Traceback" not in panel.status.text()


def test_save_as_bundle_then_import_bundle_adds_the_job_to_another_history(
        tmp_path: Path, home: Path, open_window: Callable[[], RestyleWindow], loop: Any) -> None:
    other = tmp_path / "other-home"
    services = Services.open(other)
    try:
        store_staging(services, "moved-0001-aaaa", outputs=2, room="far away room")
        bundle = tmp_path / "moved.zip"
        write_bundle(services.history.get("moved-0001-aaaa"), services.history,
                     services.assets, services.review_store(), bundle)
    finally:
        services.close()
    seed(home, lambda s: [store_staging(s, "here-0001-aaaa", outputs=1)])
    window = open_window()

    async def body() -> None:
        await until(lambda: len(window.history_panel.job_ids_loaded()) == 1)
        result = await workflows(window).import_bundle(bundle)
        assert result is not None and result.imported == ["moved-0001-aaaa"]
        await until(lambda: "moved-0001-aaaa" in window.history_panel.job_ids_loaded())
        assert window.history_panel.current_job_id() == "moved-0001-aaaa"
        # And back out: the imported job saved as a bundle holds its two results.
        window.history_panel.select_job("moved-0001-aaaa")
        scope = workflows(window).history_scope(selection_only=True)
        again = tmp_path / "again.zip"
        assert await workflows(window).save_bundle(again, scope) == [again]

    loop.run_until_complete(body())
    panel = workflows(window).task_dialog("import").panel
    assert panel.status.text() == ("Imported 1 job from moved.zip, with 0 reviews and 0 "
                                   "votes; the history shows them.")
    with zipfile.ZipFile(tmp_path / "again.zip") as zf:
        assert {"manifest.json", "job.json", "outputs/1.png", "outputs/2.png"} <= set(
            zf.namelist())


def test_import_bundle_refuses_a_file_that_is_not_one_with_the_cores_sentence(
        tmp_path: Path, home: Path, open_window: Callable[[], RestyleWindow], loop: Any) -> None:
    window = open_window()
    fake = tmp_path / "holiday.zip"
    with zipfile.ZipFile(fake, "w") as zf:
        zf.writestr("notes.txt", "not a bundle")

    async def body() -> None:
        assert await workflows(window).import_bundle(fake) is None

    loop.run_until_complete(body())
    panel = workflows(window).task_dialog("import").panel
    assert panel.status.text().startswith("holiday.zip cannot be imported: ")
    assert panel.status.property("ok") is False
    assert window.history_panel.job_ids_loaded() == []


def test_a_lookbook_of_try_ons_is_a_pdf_with_png_pages_beside_it(
        home: Path, tmp_path: Path, open_window: Callable[[], RestyleWindow], loop: Any) -> None:
    from tests.ui.review_support import store_job

    def plan(services: Services) -> list[Any]:
        job = store_job(services, "look-0001-aaaa", outputs=2)
        # a try-on needs a garment input as well
        garment = services.assets.put(staged_png((200, 40, 40), (64, 64)), "image/png",
                                      width=64, height=64)
        spec = replace(job.spec, inputs={**job.spec.inputs, "garment": ["/shop/red.png"]})
        job = replace(job, spec=spec, inputs={**job.inputs, "garment": [garment.sha256]})
        services.history.save_job(job, assets=[garment])
        store_staging(services, "stag-0001-aaaa", outputs=1)
        return [job]

    seed(home, plan)
    window = open_window()

    async def body() -> list[Path]:
        await until(lambda: len(window.history_panel.job_ids_loaded()) == 2)
        scope = workflows(window).history_scope()
        return await workflows(window).make_lookbook(tmp_path / "spring", scope)

    written = loop.run_until_complete(body())
    pdf = tmp_path / "spring.pdf"
    assert written == [pdf, tmp_path / "spring pages" / "lookbook-01.png"]
    assert pdf.read_bytes().startswith(b"%PDF")
    assert decoded(tmp_path / "spring pages" / "lookbook-01.png").size[0] > 1000
    text = workflows(window).task_dialog("lookbook").panel.status.text()
    assert text.startswith("Wrote spring.pdf (1 page, 1 person, 2 looks) and its pages as "
                           "PNG in “spring pages”. Left out 1: job stag-000")


def test_failed_jobs_are_left_out_with_the_reason(
        home: Path, tmp_path: Path, open_window: Callable[[], RestyleWindow], loop: Any) -> None:
    seed(home, lambda s: [store_staging(s, "good-0001-aaaa", outputs=1, when=1_700_000_000),
                          store_staging(s, "bad0-0001-aaaa", state=JobState.FAILED,
                                        when=1_700_000_001)])
    window = open_window()
    out = tmp_path / "mixed"

    async def body() -> None:
        await until(lambda: len(window.history_panel.job_ids_loaded()) == 2)
        dialog = workflows(window).open_dialog(initial="filtered")
        await loaded(dialog)
        dialog.folder.setText(str(out))
        assert dialog.summary.text() == (
            f"1 image from 1 job into {out}, PNG. 1 job left out (no finished image result).")
        dialog.export_button.click()
        await finished(window)
        assert dialog.run_panel.status.text() == (
            f"Wrote 1 file into {out}. Skipped 1: job bad0-000: it failed.")

    loop.run_until_complete(body())


def test_save_result_as_carries_what_made_it_too(
        home: Path, tmp_path: Path, open_window: Callable[[], RestyleWindow], loop: Any) -> None:
    seed(home, lambda s: [store_staging(s, "save-0001-aaaa", outputs=2)])
    window = open_window()

    async def body() -> tuple[Path | None, Path | None]:
        await window.workbench.show_job("save-0001-aaaa", 1)
        await until(lambda: window.compare_view.current_item() is not None)
        exports = window.workbench.exports
        return (await exports.export_to(tmp_path / "one.jpg", pair=False),
                await exports.export_to(tmp_path / "pair.webp", pair=True))

    one, pair = loop.run_until_complete(body())
    assert one is not None and pair is not None
    for path in (one, pair):
        facts = provenance.read_back(path.read_bytes())["facts"]
        assert (facts["job_id"], facts["output_position"]) == ("save-0001-aaaa", 1)
        assert facts["provider_title"] == "Virtual Staging AI"
