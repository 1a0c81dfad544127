"""API keys: keyring first, an environment override, a session-only fallback, never a file.

keyring service `restyle`, one entry per provider id. `RESTYLE_<PROVIDER>_API_KEY` overrides
the stored key. When the machine has no usable keyring backend (headless Linux gives
`keyring.backends.fail.Keyring`, whose every call raises), a key set in this process is kept in
memory for this session only and the caller is told so. keyring calls run in a daemon thread
with a timeout, because a locked keyring can block forever waiting for a password prompt.

Backends that keep keys in a file of their own (keyrings.alt's `PlaintextKeyring` and
`EncryptedKeyring`, keyrings.cryptfile, anything with a `file_path`) are refused, alone or
inside keyring's chainer; see `refusal_reason` for why, and `choose_backends` for how.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from types import ModuleType
from typing import TYPE_CHECKING, TypeVar

from desktop.config import env_name
from desktop.core.contract import KeyUnavailable
from desktop.core.redaction import forget_secret, register_secret

if TYPE_CHECKING:
    import keyring
    import keyring.backend


def _keyring() -> ModuleType:
    """keyring and the parts of it used here, imported on first use: importing keyring costs
    tens of milliseconds (entry points), which the window's start-up need not pay."""
    import keyring
    import keyring.backend
    import keyring.backends.chainer
    import keyring.backends.fail
    import keyring.errors

    return keyring

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
    #: "module.Class" of the backend keys go to, or of the configured one when none is usable.
    backend: str
    message: str
    #: Why the configured keyring backend is not used (a sentence), "" when it is or when the
    #: machine simply has none.
    refusal: str = ""

    @property
    def present(self) -> bool:
        return self.source != KeySource.NONE


class KeyringUnavailable(Exception):
    """The keyring could not be used (no backend, locked, or it did not answer in time)."""


def _call_with_timeout(fn: Callable[[], T], timeout: float) -> T:
    """Run a keyring call in a daemon thread so a hung backend cannot hang Restyle's exit."""
    keyring = _keyring()
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
    keyring = _keyring()
    if isinstance(exc, keyring.errors.NoKeyringError):
        return "this machine has no system keyring"
    if isinstance(exc, keyring.errors.KeyringLocked):
        return "the system keyring is locked"
    return f"the system keyring failed ({type(exc).__name__})"


def _name(backend: keyring.backend.KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


#: Modules whose backends keep keys in a file of their own, for those without a `file_path`.
_FILE_MODULES = ("keyrings.alt.file", "keyrings.alt.file_base", "keyrings.alt.pyfs",
                 "keyrings.cryptfile")


def _storage_file(backend: keyring.backend.KeyringBackend) -> tuple[bool, str | None]:
    """(keeps keys in a file of its own, that file's path when the backend tells it)."""
    try:
        path = getattr(backend, "file_path", None)
    except Exception:  # a property that needs what is not installed still means "a file"
        return True, None
    if isinstance(path, (str, os.PathLike)) and str(path):
        return True, str(path)
    modules = [cls.__module__ for cls in type(backend).__mro__]
    return any(m == f or m.startswith(f + ".") for m in modules for f in _FILE_MODULES), None


def _encryption(backend: keyring.backend.KeyringBackend) -> str:
    """"plain", "encrypted" or "unknown", from the class names and its `scheme` text."""
    names = " ".join(cls.__name__ for cls in type(backend).__mro__).lower()
    scheme = getattr(type(backend), "scheme", None)
    text = scheme.lower() if isinstance(scheme, str) else ""
    # keyrings.alt spells PlaintextKeyring's scheme "no encyption".
    if "plaintext" in names or text.startswith(("no enc", "none", "plain")):
        return "plain"
    return "encrypted" if text else "unknown"


def refusal_reason(backend: keyring.backend.KeyringBackend) -> str | None:
    """Why Restyle will not keep keys in `backend` (a sentence), or None when it will.

    Backends that keep keys in a file of their own are refused, plaintext and encrypted alike:

    - a plaintext file (keyrings.alt's `PlaintextKeyring`) is the very thing Restyle promises
      not to write: anyone and anything that can read the user's files, backups included, has
      the key;
    - keyrings.alt's `EncryptedKeyring` asks for its master password with `getpass` on the
      process's terminal. The window has no terminal, so every read would hang until the
      keyring timeout and look like a locked keyring; in restyle-cli the prompt would come from
      a background thread, mixed with Restyle's own hidden key prompt. The file can also be
      copied and attacked offline, which a system keychain tied to the login prevents;
    - keyrings.alt's authors discourage its backends for production use;
    - one rule is one sentence a user can trust: a key is in the system keychain, or in
      `RESTYLE_<ID>_API_KEY`, or it lasts this session.
    """
    is_file, path = _storage_file(backend)
    if not is_file:
        return None
    name = _name(backend)
    where = path or "a file"
    kind = _encryption(backend)
    if kind == "plain":
        return (f"the keyring backend {name} stores keys unencrypted in {where}; Restyle does "
                "not use it")
    how = "encrypted " if kind == "encrypted" else ""
    return (f"the keyring backend {name} stores keys {how}in its own file {where} instead of the "
            "system keychain; Restyle does not use it")


@dataclass(frozen=True)
class KeyringChoice:
    """The keyring backends Restyle uses, best first, and why it refuses the configured one."""

    backends: tuple[keyring.backend.KeyringBackend, ...]
    #: "module.Class" of the backend used (the configured one when none is usable).
    name: str
    #: Why the configured backend (or every backend in the chain) is not used; "" otherwise.
    refusal: str = ""

    @property
    def usable(self) -> bool:
        return bool(self.backends)


def _priority(backend: keyring.backend.KeyringBackend) -> float:
    try:
        return float(getattr(backend, "priority", 1))
    except Exception:  # a classproperty that raises means "not viable here"
        return -1.0


def choose_backends(backend: keyring.backend.KeyringBackend | None = None) -> KeyringChoice:
    """The backends to use out of keyring's configured one (keyring.get_keyring() by default).

    The fail backend (headless machines) and backends of priority <= 0 give none. keyring's
    `ChainerBackend` wraps every viable backend; it is looked through, the file backends in it
    are dropped and the rest used in its order. A file backend on its own gives none, with the
    reason (`refusal_reason`)."""
    keyring = _keyring()
    backend = backend if backend is not None else keyring.get_keyring()
    name = _name(backend)
    if isinstance(backend, keyring.backends.fail.Keyring):
        return KeyringChoice((), name)
    if isinstance(backend, keyring.backends.chainer.ChainerBackend):
        members = [b for b in backend.backends
                   if not isinstance(b, keyring.backends.fail.Keyring) and _priority(b) > 0]
    else:
        members = [backend]
    reasons = [reason for b in members if (reason := refusal_reason(b))]
    trusted = tuple(b for b in members if refusal_reason(b) is None)
    if not trusted:
        return KeyringChoice((), name, "; ".join(reasons))
    if _priority(trusted[0]) <= 0:
        return KeyringChoice((), name)
    if reasons:
        log.info("Keyring: using %s; %s.", _name(trusted[0]), "; ".join(reasons))
    return KeyringChoice(trusted, _name(trusted[0]))


def _refused_backends(backend: keyring.backend.KeyringBackend | None = None
                      ) -> list[keyring.backend.KeyringBackend]:
    """The configured file backends Restyle refuses (to clean up after an older version)."""
    keyring = _keyring()
    backend = backend if backend is not None else keyring.get_keyring()
    members = (list(backend.backends)
               if isinstance(backend, keyring.backends.chainer.ChainerBackend) else [backend])
    return [b for b in members if refusal_reason(b) is not None]


def _get(backends: tuple[keyring.backend.KeyringBackend, ...], provider: str) -> str | None:
    for backend in backends:
        value = backend.get_password(SERVICE, provider)
        if value:
            return value
    return None


def _set(backends: tuple[keyring.backend.KeyringBackend, ...], provider: str, key: str) -> str:
    """Store in the first backend that can; returns its "module.Class"."""
    keyring = _keyring()
    for backend in backends:
        try:
            backend.set_password(SERVICE, provider, key)
        except NotImplementedError:
            continue
        return _name(backend)
    raise keyring.errors.PasswordSetError("no keyring backend could store the key")


def _delete(backends: list[keyring.backend.KeyringBackend], provider: str) -> bool:
    keyring = _keyring()
    removed = False
    for backend in backends:
        try:
            backend.delete_password(SERVICE, provider)
        except (keyring.errors.PasswordDeleteError, NotImplementedError):
            continue
        removed = True
    return removed


def _capital(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


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
    def choice(self) -> KeyringChoice:
        """The backends keys go to now (keyring's configuration can change while we run)."""
        return choose_backends()

    def backend_name(self) -> str:
        return self.choice().name

    def keyring_available(self) -> bool:
        """False for the fail backend (headless machines), any backend of priority <= 0, and
        backends that keep keys in a file of their own (see `refusal_reason`)."""
        return self.choice().usable

    def env_override(self, provider: str) -> str | None:
        """The name of RESTYLE_<ID>_API_KEY when it is set (its key wins over a stored one)."""
        name = env_name(provider, "API_KEY")
        return name if self._environ.get(name) else None

    # -- reading -----------------------------------------------------------------------------
    def get(self, provider: str, *, strict: bool = False) -> str | None:
        """The key to use now: environment, then this session's key, then the keyring.
        With `strict`, a keyring that cannot be read now (locked, not answering) raises
        KeyUnavailable with a sentence instead of looking like "no key"."""
        value = self._environ.get(env_name(provider, "API_KEY"))
        if value:
            register_secret(value)
            return value
        with self._lock:
            value = self._session.get(provider)
        if value:
            return value
        choice = self.choice()
        if not choice.usable:
            return None
        try:
            value = _call_with_timeout(lambda: _get(choice.backends, provider), self._timeout)
        except KeyringUnavailable as exc:
            log.warning("Could not read the %s key from the keyring: %s", provider, exc)
            if strict:
                raise KeyUnavailable(
                    f"The API key for {provider} could not be read: {exc}. Unlock it (or set "
                    f"{env_name(provider, 'API_KEY')}), then try again.") from None
            return None
        if value:
            register_secret(value)
        return value or None

    def key_source(self, provider: str) -> Callable[[], str | None]:
        """A callable for providers: reads the key at request time, never caches it in a repr.
        A keyring that cannot be read now raises KeyUnavailable, so a job waits for it."""
        return lambda: self.get(provider, strict=True)

    def status(self, provider: str) -> KeyStatus:
        choice = self.choice()
        available, backend, refusal = choice.usable, choice.name, choice.refusal
        env = env_name(provider, "API_KEY")
        if self._environ.get(env):
            return KeyStatus(provider, KeySource.ENV, available, backend,
                             f"Using the key from the environment variable {env}.", refusal)
        with self._lock:
            in_session = provider in self._session
        if in_session:
            if refusal:
                why = f"{_capital(refusal)}."
            elif not available:
                why = "There is no system keyring."
            else:
                why = "The system keyring could not store it."
            return KeyStatus(provider, KeySource.SESSION, available, backend,
                             f"A key is set for this session only: {why} It is forgotten when "
                             "Restyle closes.", refusal)
        if not available:
            why = (f"{_capital(refusal)}, so a key" if refusal
                   else "This machine has no system keyring, so a key")
            return KeyStatus(provider, KeySource.NONE, False, backend,
                             f"No key. {why} can only be kept for one session, or set in the "
                             f"environment variable {env}.", refusal)
        try:
            stored = _call_with_timeout(lambda: _get(choice.backends, provider), self._timeout)
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
        """Store the key in the keyring; without a usable one, keep it for this session only.

        The status returned says where the key went. When RESTYLE_<ID>_API_KEY is set its
        source is ENV (that key is the one used) and its message says both where the new key
        was put and that the environment variable wins while it is set."""
        key = key.strip()
        if not key:
            raise ValueError("The API key is empty.")
        register_secret(key)
        choice = self.choice()
        stored_in: str | None = None
        failure = ""
        if choice.usable:
            try:
                stored_in = _call_with_timeout(
                    lambda: _set(choice.backends, provider, key), self._timeout
                )
            except KeyringUnavailable as exc:
                failure = str(exc)
                log.warning("Could not store the %s key in the keyring: %s", provider, exc)
        env = self.env_override(provider)
        wins = (f" The environment variable {env} is set, so its key is used instead while it "
                "is set." if env else "")
        source = KeySource.ENV if wins else None
        if stored_in is not None:
            with self._lock:
                self._session.pop(provider, None)
            return KeyStatus(provider, source or KeySource.KEYRING, True, stored_in,
                             f"Stored in the system keyring (service '{SERVICE}', entry "
                             f"'{provider}').{wins}")
        with self._lock:
            self._session[provider] = key
        if choice.refusal:
            why = f"{_capital(choice.refusal)}."
        elif failure:
            why = f"The system keyring could not store it ({failure})."
        else:
            why = "There is no system keyring."
        return KeyStatus(provider, source or KeySource.SESSION, False, choice.name,
                         f"{why} The key is kept for this session only and forgotten when "
                         f"Restyle closes.{wins}", choice.refusal)

    def delete(self, provider: str) -> bool:
        """Remove the session key and the stored one, from every backend Restyle uses and from
        refused file backends an older version may have written to. True if anything was
        removed."""
        removed = False
        with self._lock:
            old = self._session.pop(provider, None)
        if old:
            forget_secret(old)
            removed = True
        choice = self.choice()
        targets = [*choice.backends, *_refused_backends()]
        if not targets:
            return removed
        try:
            removed = _call_with_timeout(lambda: _delete(targets, provider), self._timeout
                                         ) or removed
        except KeyringUnavailable as exc:
            log.info("No %s key removed from the keyring: %s", provider, exc)
        return removed
