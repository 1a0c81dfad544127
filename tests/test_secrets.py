"""API keys: keyring, environment override, session-only fallback, timeouts, redaction."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import keyring
import keyring.backend
import pytest

from desktop.core.redaction import redact_headers, redact_mapping, redact_text
from desktop.logs import setup_logging, teardown_logging
from desktop.secrets import KeySource, SecretStore
from tests.conftest import MemoryKeyring


def test_keyring_round_trip(memory_keyring: MemoryKeyring) -> None:
    store = SecretStore(environ={})
    assert store.get("fitinview") is None
    status = store.set("fitinview", "  fk-live-123456  ")
    assert status.source == KeySource.KEYRING and "keyring" in status.message
    assert memory_keyring.passwords == {("restyle", "fitinview"): "fk-live-123456"}
    assert store.get("fitinview") == "fk-live-123456"
    assert store.delete("fitinview") is True
    assert store.get("fitinview") is None
    assert store.delete("fitinview") is False


def test_environment_overrides_keyring(memory_keyring: MemoryKeyring) -> None:
    store = SecretStore(environ={"RESTYLE_TRYONAPI_API_KEY": "from-env-999"})
    store.set("tryonapi", "from-keyring-111")
    assert store.get("tryonapi") == "from-env-999"
    assert store.status("tryonapi").source == KeySource.ENV


def test_no_keyring_keeps_key_for_session_only(no_keyring: None, tmp_path: Path) -> None:
    store = SecretStore(environ={})
    assert store.keyring_available() is False
    before = store.status("vistoure")
    assert not before.present and "no system keyring" in before.message
    status = store.set("vistoure", "vk-abcdef")
    assert status.source == KeySource.SESSION and "this session only" in status.message
    assert store.get("vistoure") == "vk-abcdef"
    assert SecretStore(environ={}).get("vistoure") is None  # a new session has nothing
    assert not any(tmp_path.rglob("*"))  # and nothing was written anywhere


class HangingKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(10)
        return "late"

    def set_password(self, service: str, username: str, password: str) -> None:
        self.release.wait(10)

    def delete_password(self, service: str, username: str) -> None:
        self.release.wait(10)


def test_hanging_keyring_times_out() -> None:
    old = keyring.get_keyring()
    backend = HangingKeyring()
    keyring.set_keyring(backend)
    try:
        store = SecretStore(environ={}, timeout=0.2)
        assert store.get("fitinview") is None
        status = store.set("fitinview", "k-123456")
        assert status.source == KeySource.SESSION  # kept for the session, not lost
        assert store.get("fitinview") == "k-123456"
    finally:
        backend.release.set()
        keyring.set_keyring(old)


def test_redaction_of_text_headers_and_bodies(memory_keyring: MemoryKeyring) -> None:
    store = SecretStore(environ={})
    store.set("fitinview", "sk-live-SECRET-42")
    assert "SECRET" not in redact_text("request failed for key sk-live-SECRET-42")
    assert redact_text("Authorization: Bearer abc.def") == "Authorization: Bearer [REDACTED]"
    assert "xyz" not in redact_text('{"api_key": "xyz", "n": 1}')
    assert redact_headers({"X-API-KEY": "v", "Accept": "a"}) == {"X-API-KEY": "[REDACTED]",
                                                                "Accept": "a"}
    assert redact_mapping({"nested": [{"apiKey": "v"}], "ok": 2}) == {
        "nested": [{"apiKey": "[REDACTED]"}], "ok": 2}


def test_log_file_never_holds_a_key(memory_keyring: MemoryKeyring, tmp_path: Path) -> None:
    store = SecretStore(environ={})
    store.set("tryonapi", "tk-VERY-SECRET-77")
    handler = setup_logging(tmp_path / "logs" / "restyle.log", level=logging.DEBUG)
    try:
        log = logging.getLogger("desktop.test")
        log.info("sending with %s", store.get("tryonapi"))
        log.info("headers: Authorization: Bearer tk-other-token")
        try:
            raise RuntimeError("failed with tk-VERY-SECRET-77")
        except RuntimeError:
            log.exception("boom")
    finally:
        teardown_logging(handler)
    text = (tmp_path / "logs" / "restyle.log").read_text()
    assert "sending with [REDACTED]" in text and "boom" in text
    assert "tk-VERY-SECRET-77" not in text and "tk-other-token" not in text


@pytest.mark.parametrize("name", ["Authorization", "x-api-key", "X-API-KEY", "api_key",
                                  "webhook_secret", "access_token"])
def test_sensitive_names(name: str) -> None:
    assert redact_mapping({name: "value"}) == {name: "[REDACTED]"}


def test_teardown_restores_logger_levels(tmp_path: Path) -> None:
    logger = logging.getLogger("restyle")
    before = logger.level
    setup = setup_logging(tmp_path / "restyle.log", level=logging.WARNING,
                          stderr_level=logging.ERROR)
    assert logger.level == logging.WARNING and len(logger.handlers) >= 2
    teardown_logging(setup)
    assert logger.level == before
    assert setup.file_handler not in logger.handlers
