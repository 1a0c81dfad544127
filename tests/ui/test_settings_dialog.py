"""The settings dialog driven offscreen: keys into the keyring (never into settings.json),
where the key lives, validation, connection tests against the FitInView emulator, the theme."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot

from desktop.config import load_settings
from desktop.connection_check import ConnectionResult
from desktop.general_settings import (
    DEFAULT_EXPORT_QUALITY,
    EXPORT_DIR,
    EXPORT_FORMAT,
    EXPORT_QUALITY,
    THEME,
    default_export_dir,
    general_setting,
)
from desktop.secrets import SERVICE, SecretStore
from desktop.services import Services
from desktop.ui.settings_dialog import (
    SESSION_ONLY_TEXT,
    STORED_KEY_PLACEHOLDER,
    SettingsDialog,
    backend_label,
    base_url_problem,
    provider_problem,
)
from desktop.ui.theme import apply_theme
from tests.conftest import MemoryKeyring
from tests.emulators.fitinview import FitInViewEmulator
from tests.emulators.kit import Fault, serve

GOOD_KEY = FitInViewEmulator.default_key
TYPED_KEY = "fiv_live_typed_0123456789"


@pytest.fixture
def services(home: Path) -> Iterator[Services]:
    svc = Services.open(home, secrets=SecretStore(timeout=2.0))
    try:
        yield svc
    finally:
        svc.close()


@pytest.fixture
def system_theme(qapp: QApplication) -> Iterator[QApplication]:
    """Hands the shared QApplication back in the system theme whatever a test applied."""
    try:
        yield qapp
    finally:
        apply_theme(qapp, "system")


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait on the qasync loop (so tasks and Qt events both run) until `condition` holds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        if loop.time() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def opened(qtbot: QtBot, services: Services, **kw: Any) -> SettingsDialog:
    dialog = SettingsDialog(services, **kw)
    qtbot.addWidget(dialog)
    dialog.show()
    await dialog.status_task
    return dialog


def settings_json(services: Services) -> dict[str, Any]:
    return json.loads(services.paths.settings_file.read_text(encoding="utf-8"))


def run(loop: asyncio.AbstractEventLoop, coro: Any) -> Any:
    return loop.run_until_complete(coro)


# -- keys and saving ----------------------------------------------------------------------------
def test_typed_key_goes_to_the_keyring_and_values_to_settings_json(
        qtbot: QtBot, loop: asyncio.AbstractEventLoop, services: Services,
        memory_keyring: MemoryKeyring, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    saved: list[bool] = []

    async def body() -> None:
        dialog = await opened(qtbot, services)
        dialog.settingsSaved.connect(lambda: saved.append(True))
        dialog.show_provider("fitinview")
        page = dialog.pages["fitinview"]
        assert page.key_field.echoMode() == QLineEdit.EchoMode.Password
        qtbot.keyClicks(page.key_field, TYPED_KEY)
        page.base_url.setText("https://eu.api.fitinview.com")
        page.concurrency.setValue(5)
        page.deadline.setValue(30.0)
        assert await dialog.save() is True
        data = settings_json(services)
        assert data["providers"]["fitinview"]["base_url"] == "https://eu.api.fitinview.com"
        assert data["providers"]["fitinview"]["concurrency"] == 5
        assert data["providers"]["fitinview"]["deadline_s"] == 1800.0
        assert TYPED_KEY not in services.paths.settings_file.read_text(encoding="utf-8")
        assert memory_keyring.passwords[(SERVICE, "fitinview")] == TYPED_KEY
        # services.settings is the new object; the field is empty again and says a key exists
        assert services.settings.provider("fitinview").concurrency == 5
        assert services.settings == load_settings(services.paths)
        assert page.key_field.text() == ""
        assert page.key_field.placeholderText() == STORED_KEY_PLACEHOLDER
        assert dialog.key_location_text("fitinview") == (
            "Stored in the system keyring (MemoryKeyring).")
        assert dialog.readiness_mark("fitinview") == "✓"
        assert "✓" in dialog.page_list.item(2).text()

    run(loop, body())
    assert saved == [True]
    assert TYPED_KEY not in caplog.text


def test_save_button_saves_and_closes(qtbot: QtBot, loop: asyncio.AbstractEventLoop,
                                      services: Services, memory_keyring: MemoryKeyring,
                                      qapp: QApplication) -> None:
    # As in the app: closing the only window must not quit (and stop the qasync loop).
    quits = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)

    async def body() -> None:
        dialog = await opened(qtbot, services, initial_provider="vtryon")
        page = dialog.pages["vtryon"]
        qtbot.keyClicks(page.base_url, "https://vtryon.example.com")
        qtbot.keyClicks(page.key_field, "vt-key")
        assert dialog.save_button.isDefault()
        qtbot.keyClick(page.key_field, Qt.Key.Key_Return)  # Enter presses the default button
        await until(lambda: not dialog.isVisible())
        assert dialog.result() == SettingsDialog.DialogCode.Accepted

    try:
        run(loop, body())
    finally:
        qapp.setQuitOnLastWindowClosed(quits)
    assert settings_json(services)["providers"]["vtryon"]["base_url"] == (
        "https://vtryon.example.com")
    assert memory_keyring.passwords[(SERVICE, "vtryon")] == "vt-key"


def test_stored_key_is_never_shown_and_remove_key_deletes_it_on_save(
        qtbot: QtBot, loop: asyncio.AbstractEventLoop, services: Services,
        memory_keyring: MemoryKeyring) -> None:
    services.secrets.set("fitinview", GOOD_KEY)

    async def body() -> None:
        dialog = await opened(qtbot, services, initial_provider="fitinview")
        page = dialog.pages["fitinview"]
        assert page.key_field.text() == ""
        assert page.key_field.placeholderText() == STORED_KEY_PLACEHOLDER
        assert page.remove_key.isEnabled()
        qtbot.mouseClick(page.show_key, Qt.MouseButton.LeftButton)
        assert page.key_field.echoMode() == QLineEdit.EchoMode.Normal
        assert page.key_field.text() == ""  # showing reveals only what was typed
        qtbot.mouseClick(page.remove_key, Qt.MouseButton.LeftButton)
        assert (SERVICE, "fitinview") in memory_keyring.passwords  # nothing until Save
        await dialog.refresh_status()  # a status refresh keeps the pending removal
        assert page.remove_pending and not page.remove_key.isEnabled()
        assert await dialog.save()
        assert (SERVICE, "fitinview") not in memory_keyring.passwords
        assert page.key_field.placeholderText() == "Paste the API key"
        assert dialog.readiness_mark("fitinview") == "needs key"

    run(loop, body())


def test_key_location_with_a_keyring(qtbot: QtBot, loop: asyncio.AbstractEventLoop,
                                     services: Services, memory_keyring: MemoryKeyring) -> None:
    dialog = run(loop, opened(qtbot, services))
    assert dialog.key_location_text("fitinview") == (
        "No key stored; a key you enter is kept in the system keyring (MemoryKeyring).")
    assert dialog.pages["fitinview"].key_location.text() == dialog.key_location_text(
        "fitinview")


def test_without_a_keyring_the_key_lasts_this_session(
        qtbot: QtBot, loop: asyncio.AbstractEventLoop, services: Services,
        no_keyring: None) -> None:
    async def body() -> None:
        dialog = await opened(qtbot, services, initial_provider="fitinview")
        assert dialog.key_location_text("fitinview") == SESSION_ONLY_TEXT
        assert dialog.pages["fitinview"].key_location.text() == SESSION_ONLY_TEXT
        qtbot.keyClicks(dialog.pages["fitinview"].key_field, TYPED_KEY)
        assert await dialog.save()
        assert services.secrets.get("fitinview") == TYPED_KEY  # for this session
        assert dialog.key_location_text("fitinview") == SESSION_ONLY_TEXT
        assert dialog.pages["fitinview"].key_field.placeholderText() == STORED_KEY_PLACEHOLDER

    run(loop, body())
    assert TYPED_KEY not in services.paths.settings_file.read_text(encoding="utf-8")
    # a new process (a new store) has no key: nothing was written anywhere
    assert SecretStore().get("fitinview") is None


def test_environment_key_and_base_url_override(
        qtbot: QtBot, loop: asyncio.AbstractEventLoop, services: Services,
        memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESTYLE_FITINVIEW_API_KEY", "from-env")
    monkeypatch.setenv("RESTYLE_FITINVIEW_BASE_URL", "http://127.0.0.1:8123")
    dialog = run(loop, opened(qtbot, services))
    page = dialog.pages["fitinview"]
    assert dialog.key_location_text("fitinview") == (
        "Set by RESTYLE_FITINVIEW_API_KEY in the environment; it overrides the keyring.")
    assert page.key_field.placeholderText() == "(set by RESTYLE_FITINVIEW_API_KEY)"
    assert "RESTYLE_FITINVIEW_BASE_URL is set" in page.base_url_note.text()
    assert "http://127.0.0.1:8123" in page.base_url_note.text()
    assert page.base_url.text() == ""  # the environment's value is not copied into settings
    assert dialog.effective_base_url("fitinview") == "http://127.0.0.1:8123"
    assert run(loop, dialog.save())
    assert settings_json(services)["providers"].get("fitinview", {}).get("base_url") is None


# -- validation ---------------------------------------------------------------------------------
def test_invalid_base_url_is_refused_with_a_sentence(
        qtbot: QtBot, loop: asyncio.AbstractEventLoop, services: Services,
        memory_keyring: MemoryKeyring) -> None:
    async def body() -> None:
        dialog = await opened(qtbot, services)
        page = dialog.pages["tryonapi"]
        qtbot.keyClicks(page.key_field, "tk")
        page.base_url.setText("ftp://files.example.com")
        assert await dialog.save() is False
        assert dialog.problem_label.text() == (
            "The base URL of TryonAPI must be a web address starting with http:// or https:// "
            "followed by a host name, for example https://api.example.com.")
        assert dialog.current_provider() == "tryonapi"
        assert dialog.isVisible()

    run(loop, body())
    assert not services.paths.settings_file.exists()
    assert memory_keyring.passwords == {}  # nothing is written when anything is invalid


@pytest.mark.parametrize("url", ["https://api.example.com", "http://127.0.0.1:8000/v2",
                                 "HTTPS://Example.com/"])
def test_good_base_urls(url: str) -> None:
    assert base_url_problem("X", url) is None


@pytest.mark.parametrize("url", ["api.example.com", "ftp://x.org", "https://", "http:///path",
                                 "https://exa mple.com", "http://host:port"])
def test_bad_base_urls(url: str) -> None:
    assert base_url_problem("X", url) is not None


def test_concurrency_and_deadline_bounds() -> None:
    assert provider_problem("FitInView", "", 1, 10.0) is None
    assert provider_problem("FitInView", "", 16, 24 * 3600.0) is None
    assert provider_problem("FitInView", "", 17, 600.0) == (
        "FitInView can run 1 to 16 jobs at once (got 17).")
    assert provider_problem("FitInView", "", 2, 5.0) == (
        "The deadline for a FitInView job must be between 10 seconds and 24 hours (got 5 "
        "seconds).")
    assert provider_problem("FitInView", "", 2, 24 * 3600.0 + 1) is not None


def test_a_key_with_spaces_is_refused(qtbot: QtBot, loop: asyncio.AbstractEventLoop,
                                      services: Services, memory_keyring: MemoryKeyring) -> None:
    async def body() -> None:
        dialog = await opened(qtbot, services)
        qtbot.keyClicks(dialog.pages["vistoure"].key_field, "two words")
        assert await dialog.save() is False
        assert "contains spaces" in dialog.problem_label.text()
        assert "two words" not in dialog.problem_label.text()
        assert dialog.current_provider() == "vistoure"

    run(loop, body())
    assert memory_keyring.passwords == {}


def test_general_settings_are_saved(qtbot: QtBot, loop: asyncio.AbstractEventLoop,
                                    services: Services, tmp_path: Path,
                                    system_theme: QApplication) -> None:
    async def body() -> None:
        dialog = await opened(qtbot, services)
        general = dialog.general_page
        export = dialog.export_page
        assert export.export_dir.text() == default_export_dir()
        assert export.export_quality.value() == DEFAULT_EXPORT_QUALITY
        assert not export.export_quality.isEnabled()  # PNG is lossless
        export.export_dir.setText(str(tmp_path / "exports"))
        export.export_format.setCurrentIndex(export.export_format.findData("webp"))
        assert export.export_quality.isEnabled()
        export.export_quality.setValue(80)
        general.theme.setCurrentIndex(general.theme.findData("dark"))
        assert await dialog.save()

    run(loop, body())
    saved = load_settings(services.paths)
    assert general_setting(saved, EXPORT_DIR) == str(tmp_path / "exports")
    assert general_setting(saved, EXPORT_FORMAT) == "webp"
    assert general_setting(saved, EXPORT_QUALITY) == 80
    assert general_setting(saved, THEME) == "dark"
    # saving applied the theme
    assert system_theme.palette().color(QPalette.ColorRole.Window).lightness() < 100


def test_an_export_folder_that_is_a_file_is_refused(
        qtbot: QtBot, loop: asyncio.AbstractEventLoop, services: Services,
        tmp_path: Path) -> None:
    a_file = tmp_path / "not-a-folder.txt"
    a_file.write_text("x")

    async def body() -> None:
        dialog = await opened(qtbot, services, initial_provider="fitinview")
        dialog.export_page.export_dir.setText(str(a_file))
        assert await dialog.save() is False
        assert dialog.problem_label.text() == (
            f"The export folder {a_file} is a file, not a folder; choose a folder.")
        assert dialog.stack.currentWidget() is dialog.export_page

    run(loop, body())


def test_general_setting_defaults_for_missing_and_bad_values(services: Services) -> None:
    settings = services.settings
    assert general_setting(settings, EXPORT_FORMAT) == "png"
    assert general_setting(settings, THEME) == "system"
    bad = type(settings)(general={EXPORT_FORMAT: "bmp", EXPORT_QUALITY: 500, THEME: "pink",
                                  EXPORT_DIR: ""})
    assert general_setting(bad, EXPORT_FORMAT) == "png"
    assert general_setting(bad, EXPORT_QUALITY) == DEFAULT_EXPORT_QUALITY
    assert general_setting(bad, THEME) == "system"
    assert general_setting(bad, EXPORT_DIR) == default_export_dir()
    assert general_setting(type(settings)(general={EXPORT_FORMAT: "JPG"}), EXPORT_FORMAT) == (
        "jpeg")
    with pytest.raises(KeyError):
        general_setting(settings, "nope")


# -- connection test ----------------------------------------------------------------------------
def test_connection_with_a_typed_key_shows_credits_and_saves_nothing(
        qtbot: QtBot, loop: asyncio.AbstractEventLoop, services: Services,
        memory_keyring: MemoryKeyring, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    tested: list[tuple[str, ConnectionResult]] = []
    emu = FitInViewEmulator(credits=1250)
    emu.inject(Fault("slow", "GET", "/api/v1/account", delay=0.3))

    async def body(base: str) -> None:
        dialog = await opened(qtbot, services, initial_provider="fitinview")
        dialog.connectionTested.connect(lambda pid, result: tested.append((pid, result)))
        page = dialog.pages["fitinview"]
        qtbot.keyClicks(page.key_field, GOOD_KEY)
        page.base_url.setText(base)
        assert not page.credits_label.isVisible()
        qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
        await until(page.busy.isVisible)  # the emulator answers slowly: busy meanwhile
        assert not page.test_button.isEnabled()
        assert page.result_label.text() == "Testing the connection to FitInView…"
        await until(lambda: bool(tested))
        assert not page.busy.isVisible() and page.test_button.isEnabled()
        assert page.result_label.text() == "✓ Connected to FitInView: 1,250 credits left."
        assert page.credits_label.isVisible()
        assert page.credits_label.text().startswith("Credits: 1,250")
        assert "Buy credits" in page.credits_label.text()

    with serve(emu) as base:
        run(loop, body(base))
    assert tested[0][0] == "fitinview" and tested[0][1].credits == 1250
    assert tested[0][1].credits_text == "1,250 credits left"
    assert emu.requests[0].headers["authorization"] == f"Bearer {GOOD_KEY}"
    assert memory_keyring.passwords == {}  # a test saves nothing
    assert not services.paths.settings_file.exists()
    assert GOOD_KEY not in caplog.text


def test_connection_with_a_bad_key_shows_the_401_sentence(
        qtbot: QtBot, loop: asyncio.AbstractEventLoop, services: Services,
        memory_keyring: MemoryKeyring) -> None:
    async def body(base: str) -> None:
        dialog = await opened(qtbot, services, initial_provider="fitinview")
        page = dialog.pages["fitinview"]
        qtbot.keyClicks(page.key_field, "fiv_live_wrong")
        page.base_url.setText(base)
        result = await dialog.test_connection("fitinview")
        assert not result.ok
        assert page.result_label.text().startswith("✗ FitInView rejected the API key (HTTP 401")
        assert page.result_label.text().endswith("Check the key in Settings.")
        assert not page.credits_label.isVisible()

    with serve(FitInViewEmulator()) as base:
        run(loop, body(base))


def test_connection_uses_the_stored_key_when_none_is_typed(
        qtbot: QtBot, loop: asyncio.AbstractEventLoop, services: Services,
        memory_keyring: MemoryKeyring) -> None:
    services.secrets.set("fitinview", GOOD_KEY)

    async def body(base: str) -> None:
        dialog = await opened(qtbot, services, initial_provider="fitinview")
        dialog.pages["fitinview"].base_url.setText(base)
        result = await dialog.test_connection("fitinview")
        assert result.ok and result.credits == 40

    with serve(FitInViewEmulator(credits=40)) as base:
        run(loop, body(base))


def test_connection_with_a_bad_typed_base_url_needs_no_network(
        qtbot: QtBot, loop: asyncio.AbstractEventLoop, services: Services) -> None:
    async def body() -> None:
        dialog = await opened(qtbot, services, initial_provider="vistoure")
        page = dialog.pages["vistoure"]
        qtbot.keyClicks(page.key_field, "k")
        page.base_url.setText("vistoure.example.com")
        result = await dialog.test_connection("vistoure")
        assert not result.ok and "must be a web address" in result.message
        assert page.result_label.text() == f"✗ {result.message}"

    run(loop, body())


# -- pages and theme ----------------------------------------------------------------------------
def test_show_provider_selects_its_page(qtbot: QtBot, loop: asyncio.AbstractEventLoop,
                                        services: Services) -> None:
    dialog = run(loop, opened(qtbot, services, initial_provider="virtualstaging"))
    assert dialog.objectName() == "settingsDialog"
    assert dialog.stack.currentWidget() is dialog.pages["virtualstaging"]
    dialog.show_provider("fitinview")
    assert dialog.current_provider() == "fitinview"
    assert dialog.page_list.currentItem().text().startswith("FitInView")
    dialog.show_provider("no-such-provider")  # logged, nothing changes
    assert dialog.current_provider() == "fitinview"
    # the page list drives the stack from the keyboard too
    dialog.page_list.setFocus()
    qtbot.keyClick(dialog.page_list, Qt.Key.Key_Home)
    assert dialog.stack.currentWidget() is dialog.general_page
    marks = {pid: dialog.readiness_mark(pid) for pid in dialog.pages}
    assert marks["local"] == "✓"
    assert marks["fitinview"] == "needs key"
    assert marks["tryonapi"] == "needs base URL"


def test_every_control_has_an_accessible_name(qtbot: QtBot, loop: asyncio.AbstractEventLoop,
                                              services: Services) -> None:
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox

    dialog = run(loop, opened(qtbot, services))
    controls = dialog.findChildren(QLineEdit) + dialog.findChildren(QAbstractButton) + \
        dialog.findChildren(QComboBox) + dialog.findChildren(QAbstractSpinBox)
    unnamed = [w.objectName() or type(w).__name__ for w in controls
               if not w.accessibleName() and w.parent() is not None
               and not isinstance(w.parent(), (QLineEdit, QAbstractSpinBox, QComboBox))]
    assert unnamed == []


def test_dark_theme_darkens_the_palette(system_theme: QApplication) -> None:
    app = system_theme
    apply_theme(app, "light")
    assert app.palette().color(QPalette.ColorRole.Window).lightness() > 200
    apply_theme(app, "dark")
    assert app.style().name().lower() == "fusion"
    dark = app.palette().color(QPalette.ColorRole.Window).lightness()
    assert dark < 80
    assert app.palette().color(QPalette.ColorRole.WindowText).lightness() > 180
    apply_theme(app, "system")
    assert app.palette().color(QPalette.ColorRole.Window).lightness() > dark


def test_backend_labels() -> None:
    assert backend_label("keyring.backends.SecretService.Keyring") == "SecretService"
    assert backend_label("keyring.backends.macOS.Keyring") == "macOS Keychain"
    assert backend_label("keyring.backends.Windows.WinVaultKeyring") == (
        "Windows Credential Locker")
    assert backend_label("tests.conftest.MemoryKeyring") == "MemoryKeyring"


def test_a_plaintext_keyring_is_named_and_refused(
        qtbot: QtBot, loop: asyncio.AbstractEventLoop, services: Services,
        tmp_path: Path) -> None:
    from keyrings.alt.file import PlaintextKeyring

    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring_pass.cfg")  # type: ignore[misc]
    keyring.set_keyring(backend)
    expected = (f"The keyring backend keyrings.alt.file.PlaintextKeyring stores keys unencrypted "
                f"in {tmp_path / 'keyring_pass.cfg'}; Restyle does not use it: a key you enter "
                "lasts this session only.")

    async def body() -> None:
        dialog = await opened(qtbot, services, initial_provider="fitinview")
        assert dialog.pages["fitinview"].key_location.text() == expected
        qtbot.keyClicks(dialog.pages["fitinview"].key_field, TYPED_KEY)
        assert await dialog.save()
        assert services.secrets.get("fitinview") == TYPED_KEY  # for this session
        assert dialog.pages["fitinview"].key_location.text() == expected

    run(loop, body())
    assert not (tmp_path / "keyring_pass.cfg").exists()
