"""Settings > Export: every field to settings.json "general" and back, refusals as sentences on
the page, the key kept as a path only, and the C2PA Test with a CA-issued pair made at test
time (and a self-signed one it refuses)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop.config import load_settings
from desktop.general_settings import (
    C2PA_CERT,
    C2PA_KEY,
    EXPORT_SIDECAR,
    EXPORT_TEMPLATE,
    LISTING_CORNER,
    LISTING_LABEL,
    LISTING_QR,
    LISTING_SIZE,
    LISTING_URL,
    general_setting,
)
from desktop.secrets import SecretStore
from desktop.services import Services
from desktop.ui.export_settings_page import ExportSettingsPage
from desktop.ui.settings_dialog import SettingsDialog
from tests.core.exports.certs import Pki


@pytest.fixture
def services(home: Path) -> Iterator[Services]:
    svc = Services.open(home, secrets=SecretStore(timeout=2.0))
    try:
        yield svc
    finally:
        svc.close()


async def opened(qtbot: QtBot, services: Services) -> SettingsDialog:
    dialog = SettingsDialog(services)
    qtbot.addWidget(dialog)
    dialog.show()
    await dialog.status_task
    return dialog


def export_page(dialog: SettingsDialog) -> ExportSettingsPage:
    titles = [dialog.page_list.item(i).text() for i in range(dialog.page_list.count())]
    dialog.page_list.setCurrentRow(titles.index("Export"))
    page = dialog.stack.currentWidget()
    assert isinstance(page, ExportSettingsPage) and page.objectName() == "exportSettingsPage"
    return page


def test_the_export_page_round_trips(qtbot: QtBot, loop: Any, services: Services,
                                     tmp_path: Path) -> None:
    pki = Pki.make(tmp_path / "pki")
    chain, key, _ = pki.issue("studio")

    async def first() -> None:
        dialog = await opened(qtbot, services)
        page = export_page(dialog)
        assert page.template.text() == "{input}-{provider}-{task}-{job}-{variation}"
        assert page.label_text.text() == "Virtually staged"
        assert page.corner.currentData() == "bottom-left"
        assert page.label_size.value() == 4.0
        assert not page.sidecar.isChecked() and not page.qr.isChecked()
        page.export_dir.setText(str(tmp_path / "exports"))
        page.template.setText("{date}/{input}-{n}")
        page.label_text.setText("  Virtually   staged, Elm St ")
        page.corner.setCurrentIndex(page.corner.findData("top-right"))
        page.label_size.setValue(6.5)
        page.url.setText("https://homes.example/{folder}")
        assert page.url_note.text() == ("Printed on each staged photo; exporting into "
                                        "“Listing 14” gives https://homes.example/Listing%2014")
        page.qr.setChecked(True)
        page.sidecar.setChecked(True)
        page.cert.setText(str(chain))
        page.key.setText(str(key))
        assert await dialog.save()

    loop.run_until_complete(first())
    saved = load_settings(services.paths)
    assert general_setting(saved, EXPORT_TEMPLATE) == "{date}/{input}-{n}"
    assert general_setting(saved, LISTING_LABEL) == "Virtually staged, Elm St"
    assert general_setting(saved, LISTING_CORNER) == "top-right"
    assert general_setting(saved, LISTING_SIZE) == 6.5
    assert general_setting(saved, LISTING_URL) == "https://homes.example/{folder}"
    assert general_setting(saved, LISTING_QR) is True
    assert general_setting(saved, EXPORT_SIDECAR) is True
    assert general_setting(saved, C2PA_CERT) == str(chain)
    assert general_setting(saved, C2PA_KEY) == str(key)
    text = services.paths.settings_file.read_text(encoding="utf-8")
    assert "PRIVATE KEY" not in text and key.read_text() not in text  # a path, never the key

    async def again() -> None:
        dialog = await opened(qtbot, services)
        page = export_page(dialog)
        assert page.template.text() == "{date}/{input}-{n}"
        assert page.label_text.text() == "Virtually staged, Elm St"
        assert page.corner.currentData() == "top-right"
        assert page.label_size.value() == 6.5
        assert page.url.text() == "https://homes.example/{folder}"
        assert page.qr.isChecked() and page.sidecar.isChecked()
        assert (page.cert.text(), page.key.text()) == (str(chain), str(key))
        assert page.export_dir.text() == str(tmp_path / "exports")

    loop.run_until_complete(again())


@pytest.mark.parametrize(("field", "value", "sentence"), [
    ("template", "{input}-{password}", "has an unknown field '{password}'"),
    ("url", "ftp://homes.example/x", "must start with https:// or http://"),
    ("url", "https://homes.example/{street}", "has an unknown field '{street}'"),
    ("label_text", "   ", "The listing label's text is empty"),
    ("cert", "/somewhere/chain.pem", "C2PA signing needs both files"),
])
def test_bad_values_are_refused_with_a_sentence_on_the_page(
        qtbot: QtBot, loop: Any, services: Services, field: str, value: str,
        sentence: str) -> None:
    async def body() -> None:
        dialog = await opened(qtbot, services)
        page = export_page(dialog)
        dialog.page_list.setCurrentRow(0)
        getattr(page, field).setText(value)
        assert await dialog.save() is False
        assert sentence in dialog.problem_label.text()
        assert dialog.stack.currentWidget() is page
        assert not services.paths.settings_file.exists()

    loop.run_until_complete(body())


def test_the_c2pa_test_signs_and_verifies_or_says_what_is_wrong(
        qtbot: QtBot, loop: Any, services: Services, tmp_path: Path) -> None:
    pki = Pki.make(tmp_path / "pki")
    chain, key, _ = pki.issue("studio")
    _other_chain, other_key, _ = pki.issue("someone else")

    async def body() -> None:
        dialog = await opened(qtbot, services)
        page = export_page(dialog)
        result = await page.test()
        assert not result.ok
        assert page.test_result.text() == ("✗ Choose both the certificate chain and the private "
                                           "key (PEM files), then test.")
        page.cert.setText(str(chain))
        page.key.setText(str(key))
        page.test_button.click()
        await page._tasks.join()
        assert page.test_result.property("ok") is True
        assert page.test_result.text().startswith(
            "✓ Signed and verified a test image as Restyle signer studio (ES256, certificate "
            "valid until ")
        page.key.setText(str(other_key))
        assert not (await page.test()).ok
        assert "does not belong to the certificate of Restyle signer studio" in \
            page.test_result.text()
        page.cert.setText(str(tmp_path / "pki" / "root.pem"))
        assert not (await page.test()).ok
        assert "it is self-signed" in page.test_result.text()
        page.cert.setText(str(tmp_path / "missing.pem"))
        assert not (await page.test()).ok
        assert "missing.pem could not be read: there is no such file" in \
            page.test_result.text()
        assert "Traceback" not in page.test_result.text()

    loop.run_until_complete(body())
    assert not services.paths.settings_file.exists() or json.loads(
        services.paths.settings_file.read_text()).get("general", {}).get(C2PA_KEY) is None


def test_export_settings_that_a_person_or_an_older_version_wrote_wrong_fall_back() -> None:
    from desktop.config import Settings

    wrong = Settings(general={
        EXPORT_TEMPLATE: "{input}-{secret}", LISTING_LABEL: " " * 3, LISTING_CORNER: "middle",
        LISTING_SIZE: 90, LISTING_URL: 12, LISTING_QR: "yes", EXPORT_SIDECAR: 1,
        C2PA_CERT: ["a"], C2PA_KEY: None})
    assert general_setting(wrong, EXPORT_TEMPLATE) == "{input}-{provider}-{task}-{job}-{variation}"
    assert general_setting(wrong, LISTING_LABEL) == "Virtually staged"
    assert general_setting(wrong, LISTING_CORNER) == "bottom-left"
    assert general_setting(wrong, LISTING_SIZE) == 4.0
    assert general_setting(wrong, LISTING_URL) == ""
    assert general_setting(wrong, LISTING_QR) is False
    assert general_setting(wrong, EXPORT_SIDECAR) is False
    assert general_setting(wrong, C2PA_CERT) == "" and general_setting(wrong, C2PA_KEY) == ""
    right = Settings(general={LISTING_SIZE: 7, LISTING_QR: True, LISTING_LABEL: " Staged  here ",
                              C2PA_KEY: " /keys/me.pem "})
    assert general_setting(right, LISTING_SIZE) == 7.0
    assert general_setting(right, LISTING_QR) is True
    assert general_setting(right, LISTING_LABEL) == "Staged here"
    assert general_setting(right, C2PA_KEY) == "/keys/me.pem"
