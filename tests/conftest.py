"""Shared fixtures: an isolated RESTYLE_HOME, an in-memory keyring, offscreen Qt."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import numpy  # noqa: F401 - see below
import pytest

# Restyle imports numpy on first use, possibly in a worker thread; pytest.approx peeks at
# sys.modules["numpy"] and would find it half-initialised while that thread imports it. Tests
# load it up front (the start-up test runs in a process of its own).

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A real keyring backend that keeps passwords in a dict."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.passwords[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError("not found") from None


@pytest.fixture(autouse=True)
def _hermetic_keyring() -> Iterator[None]:
    """No test touches the machine's real keyring: each starts with the fail backend (as on a
    headless machine) and `memory_keyring` swaps in a working one where a test needs it."""
    import keyring.backends.fail

    old = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(old)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    old = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(old)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    import keyring.backends.fail

    old = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(old)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh RESTYLE_HOME, with no provider variables leaking in from the environment."""
    for name in list(os.environ):
        if name.startswith("RESTYLE_"):
            monkeypatch.delenv(name)
    folder = tmp_path / "restyle-home"
    monkeypatch.setenv("RESTYLE_HOME", str(folder))
    return folder


@pytest.fixture(scope="session", autouse=True)
def _release_clipboard() -> Iterator[None]:
    """What the app does when it quits (desktop/ui/clipboard.py): a file a test copied is
    taken off the clipboard before Qt shuts down, else PySide6 crashes at exit."""
    yield
    import sys

    if "desktop.ui.clipboard" in sys.modules:
        sys.modules["desktop.ui.clipboard"].release()
