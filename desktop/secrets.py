"""API keys: keyring first, an environment override, a session-only fallback, never a file.

keyring service `restyle`, one entry per provider id. `RESTYLE_<PROVIDER>_API_KEY` overrides
the stored key. When the machine has no usable keyring backend (headless Linux gives
`keyring.backends.fail.Keyring`, whose every call raises), a key set in this process is kept in
memory for this session only and the caller is told so. keyring calls run in a daemon thread
with a timeout, because a locked keyring can block forever waiting for a password prompt.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors

from desktop.config import env_name
from desktop.core.redaction import forget_secret, register_secret

log = logging.getLogger(__name__)

SERVICE = "restyle"
DEFAULT_TIMEOUT_S = 5.0

T = TypeVar("T")


class KeySource(StrEnum):
    ENV = "environment"
    KEYRING = "keyring"
    SESSION = "session"
    NONE = "none"


@dataclass(frozen=True)
class KeyStatus:
    provider: str
    source: KeySource
    keyring_available: bool
    backend: str
    message: str

    @property
    def present(self) -> bool:
        return self.source != KeySource.NONE


class KeyringUnavailable(Exception):
    """The keyring could not be used (no backend, locked, or it did not answer in time)."""


def _call_with_timeout(fn: Callable[[], T], timeout: float) -> T:
    """Run a keyring call in a daemon thread so a hung backend cannot hang Restyle's exit."""
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(fn())
        except BaseException as exc:  # handed to the caller's thread below
            error.append(exc)

    thread = threading.Thread(target=target, name="restyle-keyring", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise KeyringUnavailable(f"the system keyring did not answer within {timeout:g} s")
    if error:
        exc = error[0]
        if isinstance(exc, keyring.errors.KeyringError):
            raise KeyringUnavailable(_describe_keyring_error(exc)) from None
        raise KeyringUnavailable(f"the system keyring failed ({type(exc).__name__})") from None
    return result[0]


def _describe_keyring_error(exc: keyring.errors.KeyringError) -> str:
    if isinstance(exc, keyring.errors.NoKeyringError):
        return "this machine has no system keyring"
    if isinstance(exc, keyring.errors.KeyringLocked):
        return "the system keyring is locked"
    return f"the system keyring failed ({type(exc).__name__})"


class SecretStore:
    """Reads and writes API keys. Thread-safe; every keyring call is bounded by `timeout`."""

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        environ: dict[str, str] | None = None,
    ) -> None:
        self._timeout = timeout
        self._environ = environ if environ is not None else os.environ
        self._session: dict[str, str] = {}
        self._lock = threading.Lock()

    # -- backend -----------------------------------------------------------------------------
    def backend_name(self) -> str:
        backend = keyring.get_keyring()
        return f"{type(backend).__module__}.{type(backend).__name__}"

    def keyring_available(self) -> bool:
        """False for the fail backend (headless machines) and any backend of priority <= 0."""
        backend = keyring.get_keyring()
        if isinstance(backend, keyring.backends.fail.Keyring):
            return False
        try:
            return float(getattr(backend, "priority", 1)) > 0
        except Exception:
            return True

    # -- reading -----------------------------------------------------------------------------
    def get(self, provider: str) -> str | None:
        """The key to use now: environment, then this session's key, then the keyring."""
        value = self._environ.get(env_name(provider, "API_KEY"))
        if value:
            register_secret(value)
            return value
        with self._lock:
            value = self._session.get(provider)
        if value:
            return value
        if not self.keyring_available():
            return None
        try:
            value = _call_with_timeout(
                lambda: keyring.get_password(SERVICE, provider), self._timeout
            )
        except KeyringUnavailable as exc:
            log.warning("Could not read the %s key from the keyring: %s", provider, exc)
            return None
        if value:
            register_secret(value)
        return value or None

    def key_source(self, provider: str) -> Callable[[], str | None]:
        """A callable for providers: reads the key at request time, never caches it in a repr."""
        return lambda: self.get(provider)

    def status(self, provider: str) -> KeyStatus:
        available = self.keyring_available()
        backend = self.backend_name()
        env = env_name(provider, "API_KEY")
        if self._environ.get(env):
            return KeyStatus(provider, KeySource.ENV, available, backend,
                             f"Using the key from the environment variable {env}.")
        with self._lock:
            in_session = provider in self._session
        if in_session:
            return KeyStatus(provider, KeySource.SESSION, available, backend,
                             "A key is set for this session only (no system keyring); "
                             "it is forgotten when Restyle closes.")
        if not available:
            return KeyStatus(provider, KeySource.NONE, False, backend,
                             "No key. This machine has no system keyring, so a key can only be "
                             f"kept for one session, or set in the environment variable {env}.")
        try:
            stored = _call_with_timeout(
                lambda: keyring.get_password(SERVICE, provider), self._timeout
            )
        except KeyringUnavailable as exc:
            return KeyStatus(provider, KeySource.NONE, False, backend,
                             f"Could not read the keyring: {exc}.")
        if stored:
            register_secret(stored)
            return KeyStatus(provider, KeySource.KEYRING, True, backend,
                             f"Stored in the system keyring (service '{SERVICE}', "
                             f"entry '{provider}').")
        return KeyStatus(provider, KeySource.NONE, True, backend, "No key stored.")

    # -- writing -----------------------------------------------------------------------------
    def set(self, provider: str, key: str) -> KeyStatus:
        """Store the key in the keyring; without one, keep it for this session only."""
        key = key.strip()
        if not key:
            raise ValueError("The API key is empty.")
        register_secret(key)
        if self.keyring_available():
            try:
                _call_with_timeout(
                    lambda: keyring.set_password(SERVICE, provider, key), self._timeout
                )
            except KeyringUnavailable as exc:
                log.warning("Could not store the %s key in the keyring: %s", provider, exc)
            else:
                with self._lock:
                    self._session.pop(provider, None)
                return self.status(provider)
        with self._lock:
            self._session[provider] = key
        status = self.status(provider)
        if status.source == KeySource.ENV:
            return status
        return KeyStatus(provider, KeySource.SESSION, False, status.backend,
                         "No usable system keyring: the key is kept for this session only and "
                         "forgotten when Restyle closes.")

    def delete(self, provider: str) -> bool:
        """Remove the stored and session key. Returns True if anything was removed."""
        removed = False
        with self._lock:
            old = self._session.pop(provider, None)
        if old:
            forget_secret(old)
            removed = True
        if self.keyring_available():
            try:
                _call_with_timeout(
                    lambda: keyring.delete_password(SERVICE, provider), self._timeout
                )
                removed = True
            except KeyringUnavailable as exc:
                # delete_password raises PasswordDeleteError (a KeyringError) when absent.
                log.info("No %s key removed from the keyring: %s", provider, exc)
        return removed
