"""The settings dialog: general settings, and per provider the API key, base URL, concurrency,
deadline and a connection test.

Keys go to the keyring (or, on a machine without one, stay for this session) and never into
settings.json, a log line or a widget that shows them: a stored key is never read back into
the key field, whose placeholder only says that one exists. Every SecretStore call, the
settings file write and the connection test run off the GUI thread.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop import connection_check
from desktop.config import ProviderSettings, Settings, env_name, save_settings
from desktop.connection_check import CREDIT_UNITS, ConnectionResult, format_number
from desktop.core.contract import Provider
from desktop.core.model import ErrorCode
from desktop.core.redaction import register_secret
from desktop.general_settings import (
    EXPORT_DIR,
    THEME,
    THEME_LABELS,
    THEMES,
    general_setting,
)
from desktop.secrets import KeySource, KeyStatus
from desktop.services import Readiness, Services
from desktop.ui.export_settings_page import ExportSettingsPage
from desktop.ui.review_settings_page import ReviewSettingsPage
from desktop.ui.tasks import TaskSet
from desktop.ui.theme import apply_theme

log = logging.getLogger(__name__)

MIN_CONCURRENCY = 1
MAX_CONCURRENCY = 16
MIN_DEADLINE_S = 10.0
MAX_DEADLINE_S = 24 * 3600.0
STORED_KEY_PLACEHOLDER = "•••••• (a key is stored)"
REMOVE_PENDING_PLACEHOLDER = "(the stored key will be removed on Save)"
SESSION_ONLY_TEXT = "No keyring on this machine: the key lasts this session only."

#: Friendlier names for keyring backends ("module.Class" as SecretStore.backend_name gives).
_BACKEND_NAMES = {
    "macOS": "macOS Keychain",
    "Windows": "Windows Credential Locker",
    "kwallet": "KWallet",
    "SecretService": "SecretService",
    "libsecret": "libsecret",
}

__all__ = [
    "ConnectionResult",
    "SettingsDialog",
    "base_url_problem",
    "general_setting",
    "provider_problem",
]


# -- validation (plain functions, so the CLI and tests can use them) ---------------------------
def base_url_problem(title: str, text: str) -> str | None:
    """None when `text` is an http(s) address with a host, else the sentence to show."""
    problem = (f"The base URL of {title} must be a web address starting with http:// or "
               "https:// followed by a host name, for example https://api.example.com.")
    if any(c.isspace() for c in text):
        return problem
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return problem
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return problem
    return None


def provider_problem(title: str, base_url: str, concurrency: int, deadline_s: float
                     ) -> str | None:
    """The first thing wrong with a provider's values, as a sentence; None when all is well."""
    if base_url and (problem := base_url_problem(title, base_url)):
        return problem
    if not MIN_CONCURRENCY <= concurrency <= MAX_CONCURRENCY:
        return (f"{title} can run {MIN_CONCURRENCY} to {MAX_CONCURRENCY} jobs at once "
                f"(got {concurrency}).")
    if not MIN_DEADLINE_S <= deadline_s <= MAX_DEADLINE_S:
        return (f"The deadline for a {title} job must be between 10 seconds and 24 hours "
                f"(got {format_number(round(deadline_s, 1))} seconds).")
    return None


def key_problem(title: str, key: str) -> str | None:
    """A typed key that could never be sent (the HTTP layer would refuse it later)."""
    if not key.isascii() or not key.isprintable() or any(c.isspace() for c in key):
        return (f"The API key for {title} contains spaces or characters that cannot be sent; "
                "paste it again.")
    return None


def backend_label(backend_name: str) -> str:
    """"keyring.backends.SecretService.Keyring" -> "SecretService"."""
    module, _, cls = backend_name.rpartition(".")
    last = module.rpartition(".")[2]
    if last in _BACKEND_NAMES:
        return _BACKEND_NAMES[last]
    return last if cls == "Keyring" and last else cls


def _export_dir_problem(text: str) -> str | None:
    """Runs in a worker: it looks at the file system."""
    if not text.strip():
        return "Choose a default export folder."
    path = Path(text).expanduser()
    if not path.is_absolute():
        return (f"The export folder must be a full path, such as "
                f"{Path.home() / 'Pictures'} (got {text!r}).")
    if path.exists() and not path.is_dir():
        return f"The export folder {path} is a file, not a folder; choose a folder."
    return None


# -- pages --------------------------------------------------------------------------------------
def _heading(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * 1.35)
    font.setBold(True)
    label.setFont(font)
    return label


def _note(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setStyleSheet("color: palette(placeholder-text);")
    return label


def _with_note(field: QWidget | QHBoxLayout, note: QLabel) -> QVBoxLayout:
    """A field with its explanation underneath, both as wide as the form's field column (a
    word-wrapped label on its own form row shrinks to its narrowest width)."""
    column = QVBoxLayout()
    column.setSpacing(2)
    if isinstance(field, QHBoxLayout):
        column.addLayout(field)
    else:
        column.addWidget(field)
    column.addWidget(note)
    return column


class GeneralPage(QWidget):
    """The theme. (Export folder, format and quality are on the Export page.)"""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("generalSettingsPage")
        layout = QVBoxLayout(self)
        layout.addWidget(_heading("General", self))
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.theme = QComboBox(self)
        self.theme.setObjectName("themeCombo")
        self.theme.setAccessibleName("Theme")
        for theme in THEMES:
            self.theme.addItem(THEME_LABELS[theme], theme)
        self.theme.setCurrentIndex(THEMES.index(general_setting(settings, THEME)))
        theme_label = QLabel("&Theme:", self)
        theme_label.setBuddy(self.theme)
        form.addRow(theme_label, self.theme)
        layout.addLayout(form)
        layout.addWidget(_note("The theme applies when you save. Where exports go, as what, "
                               "and how they are labelled and signed: the Export page.", self))
        layout.addStretch(1)

    def values(self) -> dict[str, Any]:
        return {THEME: self.theme.currentData()}


class ProviderPage(QWidget):
    """One provider: key, base URL, concurrency, deadline, connection test."""

    def __init__(self, cls: type[Provider], settings: ProviderSettings,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.provider_id = cls.id
        self.cls = cls
        self.remove_pending = False
        self.key_status: KeyStatus | None = None
        pid = cls.id
        self.setObjectName(f"{pid}SettingsPage")
        layout = QVBoxLayout(self)
        layout.addWidget(_heading(cls.title, self))
        self.readiness_label = _note("", self)
        self.readiness_label.setObjectName(f"{pid}Readiness")
        layout.addWidget(self.readiness_label)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)

        self.key_field = QLineEdit(self)
        self.key_field.setObjectName(f"{pid}KeyField")
        self.key_field.setAccessibleName(f"{cls.title} API key")
        self.key_field.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_field.setPlaceholderText("Checking for a stored key…")
        self.key_field.textEdited.connect(self._key_edited)
        self.show_key = QPushButton("Show", self)
        self.show_key.setObjectName(f"{pid}ShowKey")
        self.show_key.setAccessibleName(f"Show the typed {cls.title} API key")
        self.show_key.setCheckable(True)
        self.show_key.toggled.connect(self._toggle_echo)
        self.remove_key = QPushButton("Remove key", self)
        self.remove_key.setObjectName(f"{pid}RemoveKey")
        self.remove_key.setAccessibleName(f"Remove the stored {cls.title} API key")
        self.remove_key.setEnabled(False)
        self.remove_key.clicked.connect(self._remove_clicked)
        self.key_location = _note("", self)
        self.key_location.setObjectName(f"{pid}KeyLocation")
        if cls.needs_key:
            key_row = QHBoxLayout()
            key_row.addWidget(self.key_field, 1)
            key_row.addWidget(self.show_key)
            key_row.addWidget(self.remove_key)
            form.addRow(self._label("API &key:", self.key_field),
                        _with_note(key_row, self.key_location))
        else:
            for widget in (self.key_field, self.show_key, self.remove_key, self.key_location):
                widget.hide()

        self.base_url = QLineEdit(settings.base_url or "", self)
        self.base_url.setObjectName(f"{pid}BaseUrl")
        self.base_url.setAccessibleName(f"{cls.title} base URL")
        self.base_url.setPlaceholderText(cls.default_base_url or "https://… (required)")
        self.base_url_note = _note("", self)
        self.base_url_note.setObjectName(f"{pid}BaseUrlNote")
        env_url = os.environ.get(env_name(pid, "BASE_URL"))
        if env_url:
            self.base_url_note.setText(
                f"{env_name(pid, 'BASE_URL')} is set: Restyle and Test connection use "
                f"{env_url} instead of this field.")
        elif cls.needs_base_url:
            self.base_url_note.setText(f"The address of your {cls.title} server; {cls.title} "
                                       "publishes no default.")
        else:
            self.base_url_note.setText("Leave empty for the default.")
        if cls.needs_key or cls.needs_base_url or cls.default_base_url:
            form.addRow(self._label("&Base URL:", self.base_url),
                        _with_note(self.base_url, self.base_url_note))
        else:
            self.base_url.hide()
            self.base_url_note.hide()

        self.concurrency = QSpinBox(self)
        self.concurrency.setObjectName(f"{pid}Concurrency")
        self.concurrency.setAccessibleName(f"{cls.title}: jobs at once")
        self.concurrency.setRange(MIN_CONCURRENCY, MAX_CONCURRENCY)
        self.concurrency.setValue(min(max(settings.concurrency, MIN_CONCURRENCY),
                                      MAX_CONCURRENCY))
        self.concurrency.setToolTip("How many jobs Restyle runs on this provider at the same "
                                    "time; more may hit its rate limit.")
        form.addRow(self._label("&Jobs at once:", self.concurrency), self.concurrency)

        self.deadline = QDoubleSpinBox(self)
        self.deadline.setObjectName(f"{pid}Deadline")
        self.deadline.setAccessibleName(f"{cls.title}: deadline per job in minutes")
        self.deadline.setDecimals(1)
        self.deadline.setRange(round(MIN_DEADLINE_S / 60, 1) + 0.1, MAX_DEADLINE_S / 60)
        self.deadline.setSingleStep(1.0)
        self.deadline.setSuffix(" min")
        self.deadline.setValue(settings.deadline_s / 60)
        self.deadline.setToolTip("A job still unfinished after this long is given up "
                                 "(10 seconds to 24 hours).")
        form.addRow(self._label("&Deadline per job:", self.deadline), self.deadline)

        self.price = QDoubleSpinBox(self)
        self.price.setObjectName(f"{pid}PricePerCredit")
        self.price.setAccessibleName(f"{cls.title}: price per credit")
        self.price.setDecimals(4)
        self.price.setRange(0, 100_000)
        self.price.setSpecialValueText("Not set")  # 0: no price, the plan shows credits only
        self.price.setValue(settings.price_per_credit or 0)
        self.price.setToolTip("What one credit costs you, in your currency: a batch's plan "
                              "then shows the money it will cost. Leave at 0 for none.")
        if cls.needs_key or cls.needs_base_url:
            form.addRow(self._label("&Price per credit:", self.price), self.price)
        else:
            self.price.hide()
        layout.addLayout(form)

        self.test_button = QPushButton("Test connection", self)
        self.test_button.setObjectName(f"{pid}TestConnection")
        self.test_button.setAccessibleName(f"Test the connection to {cls.title}")
        self.busy = QProgressBar(self)
        self.busy.setObjectName(f"{pid}TestBusy")
        self.busy.setAccessibleName("Testing the connection")
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setFixedWidth(90)
        self.busy.hide()
        self.result_label = QLabel("", self)
        self.result_label.setObjectName(f"{pid}TestResult")
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.credits_label = QLabel("", self)
        self.credits_label.setObjectName(f"{pid}Credits")
        self.credits_label.setTextFormat(Qt.TextFormat.RichText)
        self.credits_label.setOpenExternalLinks(True)
        self.credits_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextBrowserInteraction)
        self.credits_label.hide()
        if cls.needs_key or cls.needs_base_url:
            test_row = QHBoxLayout()
            test_row.addWidget(self.test_button)
            test_row.addWidget(self.busy)
            test_row.addStretch(1)
            layout.addSpacing(6)
            layout.addLayout(test_row)
            layout.addWidget(self.result_label)
            layout.addWidget(self.credits_label)
        else:
            for widget in (self.test_button, self.busy, self.result_label):
                widget.hide()
            layout.addWidget(_note(f"{cls.title} runs on this computer: it needs no key or "
                                   "address.", self))
        layout.addStretch(1)

    def _label(self, text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text, self)
        label.setBuddy(buddy)
        return label

    # -- values --------------------------------------------------------------------------------
    def typed_key(self) -> str:
        return self.key_field.text().strip()

    def typed_base_url(self) -> str:
        return self.base_url.text().strip()

    def deadline_s(self) -> float:
        return round(self.deadline.value() * 60, 1)

    def price_per_credit(self) -> float | None:
        return self.price.value() or None

    def problem(self) -> tuple[str, QWidget] | None:
        """The first invalid value with the widget to focus."""
        key = self.typed_key()
        if key and (text := key_problem(self.cls.title, key)):
            return text, self.key_field
        url = self.typed_base_url()
        if url and (text := base_url_problem(self.cls.title, url)):
            return text, self.base_url
        text = provider_problem(self.cls.title, "", self.concurrency.value(), self.deadline_s())
        if text:
            widget = (self.concurrency if "at once" in text else self.deadline)
            return text, widget
        return None

    # -- key state -----------------------------------------------------------------------------
    def set_key_status(self, status: KeyStatus | None, location: str) -> None:
        self.key_status = status
        self.key_location.setText(location)
        source = status.source if status is not None else None
        stored = source in (KeySource.KEYRING, KeySource.SESSION)
        self.remove_pending = self.remove_pending and stored
        if self.remove_pending:
            self.key_field.setPlaceholderText(REMOVE_PENDING_PLACEHOLDER)
        elif stored:
            self.key_field.setPlaceholderText(STORED_KEY_PLACEHOLDER)
        elif source == KeySource.ENV:
            self.key_field.setPlaceholderText(
                f"(set by {env_name(self.provider_id, 'API_KEY')})")
        else:
            self.key_field.setPlaceholderText("Paste the API key")
        self.remove_key.setEnabled(stored and not self.remove_pending)

    def _remove_clicked(self) -> None:
        self.remove_pending = True
        self.key_field.clear()
        self.key_field.setPlaceholderText(REMOVE_PENDING_PLACEHOLDER)
        self.remove_key.setEnabled(False)

    def _key_edited(self, text: str) -> None:
        if text and self.remove_pending:
            self.remove_pending = False  # a new key replaces the old one on Save

    def _toggle_echo(self, shown: bool) -> None:
        self.key_field.setEchoMode(QLineEdit.EchoMode.Normal if shown
                                   else QLineEdit.EchoMode.Password)
        self.show_key.setText("Hide" if shown else "Show")
        self.show_key.setAccessibleName(
            f"{'Hide' if shown else 'Show'} the typed {self.cls.title} API key")

    def set_readiness(self, readiness: Readiness) -> None:
        self.readiness_label.setText(_readiness_sentence(self.cls, readiness))

    # -- connection test -----------------------------------------------------------------------
    def set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.test_button.setEnabled(not busy)
        if busy:
            self.result_label.setStyleSheet("")
            self.result_label.setText(f"Testing the connection to {self.cls.title}…")
            self.credits_label.hide()

    def show_result(self, result: ConnectionResult) -> None:
        mark = "✓" if result.ok else "✗"
        self.result_label.setText(f"{mark} {result.message}")
        self.result_label.setProperty("ok", result.ok)
        self.result_label.setStyleSheet("color: #2e9d44;" if result.ok else "color: #d23c32;")
        self.result_label.setAccessibleDescription(result.message)
        if result.ok and result.credits is not None and self.cls.supports_account:
            if self.provider_id in CREDIT_UNITS:
                amount = result.credits_text or format_number(result.credits)
            else:
                amount = format_number(result.credits)
            text = f"Credits: {amount}"
            if result.purchase_url:
                text += f" · <a href=\"{result.purchase_url}\">Buy credits</a>"
            self.credits_label.setText(text)
            self.credits_label.show()
        else:
            self.credits_label.hide()


def _readiness_sentence(cls: type[Provider], readiness: Readiness) -> str:
    if readiness.ready:
        return f"Ready: {cls.title} can run jobs."
    if readiness.code == ErrorCode.MISSING_KEY:
        return f"Enter an API key to use {cls.title}."
    if readiness.code == ErrorCode.NOT_CONFIGURED:
        return f"Enter the base URL of your {cls.title} server to use it."
    return readiness.problem


def _readiness_mark(readiness: Readiness | None) -> str:
    if readiness is None:
        return ""
    if readiness.ready:
        return "✓"
    if readiness.code == ErrorCode.MISSING_KEY:
        return "needs key"
    if readiness.code == ErrorCode.NOT_CONFIGURED:
        return "needs base URL"
    return "not ready"


# -- the dialog ---------------------------------------------------------------------------------
class SettingsDialog(QDialog):
    """Settings for Restyle. Non-modal use: the window calls `.open()`."""

    #: After settings.json (and the keys) were written.
    settingsSaved = Signal()
    #: (provider id, ConnectionResult) after every connection test; `result.credits_text`
    #: is set when the provider reported its balance (for the status bar).
    connectionTested = Signal(str, object)

    def __init__(self, services: Services, parent: QWidget | None = None, *,
                 initial_provider: str | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        self.resize(880, 580)
        self._services = services
        self._tasks = TaskSet("Settings dialog")
        self._tests: dict[str, asyncio.Task[ConnectionResult]] = {}
        self._readiness: dict[str, Readiness] = {}
        self._saving = False

        self.page_list = QListWidget(self)
        self.page_list.setObjectName("settingsPageList")
        self.page_list.setAccessibleName("Settings pages")
        self.page_list.setFixedWidth(220)
        self.page_list.setSpacing(2)
        self.stack = QStackedWidget(self)
        self.stack.setObjectName("settingsPages")

        self.general_page = GeneralPage(services.settings, self)
        self._add_page("General", self.general_page)
        self.export_page = ExportSettingsPage(services.settings, self)
        self._add_page("Export", self.export_page)
        self.pages: dict[str, ProviderPage] = {}
        for pid in services.provider_ids():
            cls = services.provider_class(pid)
            page = ProviderPage(cls, services.settings.providers.get(pid, ProviderSettings()),
                                self)
            page.test_button.clicked.connect(
                lambda _=False, p=pid: self._tasks.spawn(self.test_connection(p)))
            self.pages[pid] = page
            self._add_page(cls.title, page)
            page.set_key_status(None, self.key_location_text(pid))
        self.review_page = ReviewSettingsPage(services.settings.review, self)
        self._add_page("Review", self.review_page)
        self.page_list.currentRowChanged.connect(self.stack.setCurrentIndex)

        self.problem_label = QLabel("", self)
        self.problem_label.setObjectName("settingsProblem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #d23c32;")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("settingsSave")
        self.save_button.setAccessibleName("Save settings")
        self.save_button.setDefault(True)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setObjectName("settingsCancel")
        self.cancel_button.setAccessibleName("Close without saving")
        self.save_button.clicked.connect(self._save_clicked)
        self.buttons.rejected.connect(self.reject)

        body = QHBoxLayout()
        body.addWidget(self.page_list)
        body.addWidget(self.stack, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.problem_label, 1)
        bottom.addWidget(self.buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addLayout(bottom)

        self.page_list.setCurrentRow(0)
        if initial_provider is not None:
            self.show_provider(initial_provider)
        self._status_task = self._tasks.spawn(self.refresh_status())

    @property
    def status_task(self) -> asyncio.Task[Any]:
        """The first read of key statuses and readiness (started by the constructor)."""
        return self._status_task

    def _add_page(self, title: str, page: QWidget) -> None:
        item = QListWidgetItem(title)
        item.setData(Qt.ItemDataRole.AccessibleTextRole, title)
        self.page_list.addItem(item)
        self.stack.addWidget(page)

    # -- tasks ---------------------------------------------------------------------------------

    def done(self, result: int) -> None:
        for task in self._tests.values():
            task.cancel()
        self.export_page.cancel_tasks()
        super().done(result)

    def show_export_page(self) -> None:
        self.page_list.setCurrentRow(self.stack.indexOf(self.export_page))

    # -- pages ---------------------------------------------------------------------------------
    def show_provider(self, provider_id: str) -> None:
        """Select that provider's page."""
        if provider_id not in self.pages:
            log.warning("No settings page for provider %r", provider_id)
            return
        self.page_list.setCurrentRow(self.stack.indexOf(self.pages[provider_id]))

    def current_provider(self) -> str | None:
        page = self.stack.currentWidget()
        return page.provider_id if isinstance(page, ProviderPage) else None

    def _page_item(self, provider_id: str) -> QListWidgetItem:
        return self.page_list.item(self.stack.indexOf(self.pages[provider_id]))

    def _show_problem(self, text: str, widget: QWidget | None = None,
                      provider_id: str | None = None) -> None:
        self.problem_label.setText(text)
        if provider_id is not None:
            self.show_provider(provider_id)
        elif widget is not None and widget.window() is self:
            page = next((p for p in (self.general_page, self.export_page)
                         if p.isAncestorOf(widget)), self.general_page)
            self.page_list.setCurrentRow(self.stack.indexOf(page))
        if widget is not None:
            widget.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- key state -----------------------------------------------------------------------------
    def key_location_text(self, provider_id: str) -> str:
        """Where the provider's key is (or would be) kept, as a sentence."""
        env = env_name(provider_id, "API_KEY")
        status = self.pages[provider_id].key_status if provider_id in self.pages else None
        if status is None:
            if os.environ.get(env):
                return f"Set by {env} in the environment; it overrides the keyring."
            return "Checking the system keyring…"
        if status.source == KeySource.ENV:
            return f"Set by {env} in the environment; it overrides the keyring."
        backend = backend_label(status.backend)
        if status.source == KeySource.KEYRING:
            return f"Stored in the system keyring ({backend})."
        if status.refusal:  # e.g. a plaintext file backend: say which, and that we refuse it
            why = status.refusal[:1].upper() + status.refusal[1:]
            return f"{why}: a key you enter lasts this session only."
        if not status.keyring_available:
            return SESSION_ONLY_TEXT
        if status.source == KeySource.SESSION:
            return ("The system keyring could not store the key: it lasts this session "
                    "only.")
        return f"No key stored; a key you enter is kept in the system keyring ({backend})."

    async def refresh_status(self) -> None:
        """Read every provider's key status and readiness (in workers) and show them."""
        secrets = self._services.secrets

        async def one(pid: str) -> tuple[str, KeyStatus | None, Readiness]:
            status = (await asyncio.to_thread(secrets.status, pid)
                      if self._services.provider_class(pid).needs_key else None)
            readiness = await asyncio.to_thread(self._services.readiness, pid)
            return pid, status, readiness

        for pid, status, readiness in await asyncio.gather(*(one(p) for p in self.pages)):
            page = self.pages[pid]
            page.key_status = status
            page.set_key_status(status, self.key_location_text(pid))
            self._set_readiness(pid, readiness)

    def _set_readiness(self, provider_id: str, readiness: Readiness) -> None:
        self._readiness[provider_id] = readiness
        cls = self._services.provider_class(provider_id)
        mark = _readiness_mark(readiness)
        item = self._page_item(provider_id)
        item.setText(f"{cls.title}  {mark}" if mark == "✓" else f"{cls.title} — {mark}")
        item.setToolTip(readiness.problem or f"{cls.title} is ready.")
        item.setData(Qt.ItemDataRole.AccessibleTextRole,
                     f"{cls.title}, {'ready' if readiness.ready else mark}")
        self.pages[provider_id].set_readiness(readiness)

    def readiness_mark(self, provider_id: str) -> str:
        """"✓", "needs key", "needs base URL", or "" before the status is known."""
        return _readiness_mark(self._readiness.get(provider_id))

    # -- connection test -----------------------------------------------------------------------
    def effective_base_url(self, provider_id: str) -> str | None:
        """The base URL a test uses: the environment's, else the typed one, else the default."""
        env = os.environ.get(env_name(provider_id, "BASE_URL"))
        typed = self.pages[provider_id].typed_base_url()
        return env or typed or self._services.provider_class(provider_id).default_base_url

    async def test_connection(self, provider_id: str) -> ConnectionResult:
        """Test with the key and base URL typed now (nothing is saved); show the sentence."""
        page = self.pages[provider_id]
        previous = self._tests.pop(provider_id, None)
        if previous is not None and not previous.done():
            previous.cancel()
        title = page.cls.title
        typed_url = page.typed_base_url()
        key = page.typed_key()
        problem = (base_url_problem(title, typed_url) if typed_url else None) or (
            key_problem(title, key) if key else None)
        if problem:
            result = ConnectionResult(False, problem)
            page.show_result(result)
            return result
        page.set_busy(True)
        task = asyncio.ensure_future(connection_check.test_connection(
            self._services, provider_id, key=key or None,
            base_url=self.effective_base_url(provider_id)))
        self._tests[provider_id] = task
        try:
            result = await task
        except asyncio.CancelledError:
            if self._tests.get(provider_id) is task:
                page.set_busy(False)
                page.result_label.setText("")
            raise
        finally:
            if self._tests.get(provider_id) is task:
                del self._tests[provider_id]
        page.set_busy(False)
        page.show_result(result)
        self.connectionTested.emit(provider_id, result)
        return result

    # -- saving --------------------------------------------------------------------------------
    def _save_clicked(self) -> None:
        if not self._saving:
            self._tasks.spawn(self._save_and_close())

    async def _save_and_close(self) -> None:
        if await self.save():
            self.accept()

    def _new_settings(self, general: dict[str, Any]) -> Settings:
        current = self._services.settings
        providers = dict(current.providers)
        for pid, page in self.pages.items():
            old = current.providers.get(pid)
            new = replace(old or ProviderSettings(), base_url=page.typed_base_url() or None,
                          concurrency=page.concurrency.value(), deadline_s=page.deadline_s(),
                          price_per_credit=page.price_per_credit())
            if old is not None or new != ProviderSettings():
                providers[pid] = new
        merged = {**current.general, **general}
        return replace(current, providers=providers, general=merged,
                       review=self.review_page.values())

    async def save(self) -> bool:
        """Validate, write keys and settings.json (in workers), update services.settings, emit
        settingsSaved. False (with the problem shown) when something is invalid or failed."""
        if self._saving:
            return False
        self._saving = True
        self.save_button.setEnabled(False)
        self.cancel_button.setEnabled(False)
        try:
            return await self._save()
        finally:
            self._saving = False
            self.save_button.setEnabled(True)
            self.cancel_button.setEnabled(True)

    async def _save(self) -> bool:
        self.problem_label.setText("")
        # The first status read must not land after (and overwrite) what saving shows.
        await asyncio.wait([self._status_task])
        for pid, page in self.pages.items():
            found = page.problem()
            if found is not None:
                self._show_problem(found[0], found[1], pid)
                return False
        if found_review := self.review_page.problem():
            self._show_problem(found_review[0])
            self.page_list.setCurrentRow(self.stack.indexOf(self.review_page))
            found_review[1].setFocus(Qt.FocusReason.OtherFocusReason)
            return False
        if found_export := self.export_page.problem():
            self._show_problem(*found_export)
            return False
        general = {**self.general_page.values(), **self.export_page.values()}
        problem = await asyncio.to_thread(_export_dir_problem, general[EXPORT_DIR])
        if problem:
            self._show_problem(problem, self.export_page.export_dir)
            return False
        general[EXPORT_DIR] = str(Path(general[EXPORT_DIR]).expanduser())
        new_settings = self._new_settings(general)

        secrets = self._services.secrets
        for pid, page in self.pages.items():
            key = page.typed_key()
            if key:
                register_secret(key)
                # A closure, not arguments: an executor may log its callables' arguments.
                status = await asyncio.to_thread(lambda p=pid, k=key: secrets.set(p, k))
            elif page.remove_pending:
                await asyncio.to_thread(secrets.delete, pid)
                status = await asyncio.to_thread(secrets.status, pid)
            else:
                continue
            page.remove_pending = False
            page.key_field.clear()
            page.set_key_status(status, "")
            page.key_location.setText(self.key_location_text(pid))

        try:
            await asyncio.to_thread(save_settings, self._services.paths, new_settings)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            self._show_problem(f"Restyle could not write the settings file "
                               f"{self._services.paths.settings_file} ({reason}). Check that "
                               "the folder is writable, then save again.")
            return False
        old_theme = general_setting(self._services.settings, THEME)
        self._services.settings = new_settings
        new_theme = general_setting(new_settings, THEME)
        app = QApplication.instance()
        if new_theme != old_theme and isinstance(app, QApplication):
            apply_theme(app, new_theme)
        for pid in self.pages:
            self._set_readiness(pid, await asyncio.to_thread(self._services.readiness, pid))
        self.settingsSaved.emit()
        return True
