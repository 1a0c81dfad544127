"""API keys: keyring, environment override, session-only fallback, timeouts, redaction."""

from __future__ import annotations

import base64
import logging
import threading
from pathlib import Path

import keyring
import keyring.backend
import pytest

from desktop.config import save_settings
from desktop.core.redaction import redact_headers, redact_mapping, redact_text
from desktop.logs import setup_logging, teardown_logging
from desktop.secrets import KeySource, SecretStore
from desktop.services import Services
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


def user_dirs(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOME and the XDG folders into `root`: where keyring's own file backends,
    platformdirs and anything else "per user" would write a leaked key."""
    for name in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        folder = root / name.lower()
        folder.mkdir(parents=True)
        monkeypatch.setenv(name, str(folder))
    return root


def leak_forms(secret: str) -> list[bytes]:
    """The secret as bytes, in hex, and in base64 at each of the three alignments it can have
    inside a longer encoded text (keyrings.alt's "plaintext" file holds base64)."""
    raw = secret.encode()
    forms = [raw, raw.hex().encode()]
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + raw)
        skip = 4 if pad else 0  # the characters that also encode the padding
        usable = (len(raw) + pad) // 3 * 4  # complete groups only
        forms.append(encoded[skip:usable])
    return forms


def files_holding(root: Path, secret: str) -> list[Path]:
    """Files under `root` that hold `secret` in any of its `leak_forms`."""
    forms = leak_forms(secret)
    return [p for p in root.rglob("*")
            if p.is_file() and any(form in p.read_bytes() for form in forms)]


def test_no_keyring_keeps_key_for_session_only(no_keyring: None, home: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    user_dirs(tmp_path / "user", monkeypatch)
    services = Services.open(secrets=SecretStore(environ={}))
    logs = setup_logging(services.paths.log_file, level=logging.DEBUG)
    try:
        store = services.secrets
        assert store.keyring_available() is False
        before = store.status("vistoure")
        assert not before.present and "no system keyring" in before.message
        status = store.set("vistoure", "vk-abcdef-SESSION")
        assert status.source == KeySource.SESSION and "this session only" in status.message
        assert store.get("vistoure") == "vk-abcdef-SESSION"
        assert store.status("vistoure").source == KeySource.SESSION
        logging.getLogger("desktop.test").info("set a key for %s", "vistoure")
        save_settings(services.paths, services.settings)  # as the window saves on OK
    finally:
        teardown_logging(logs)
        services.close()
    # A new session has nothing, even once a working keyring is there to ask.
    assert SecretStore(environ={}).get("vistoure") is None
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    assert SecretStore(environ={}).get("vistoure") is None and memory.passwords == {}
    # Nothing was written anywhere a key could leak to: Restyle's folders (settings, history,
    # log), keyring's file backends' folder, the user's config and data folders.
    assert services.paths.settings_file.is_file() and services.paths.log_file.is_file()
    assert files_holding(tmp_path, "vk-abcdef-SESSION") == []


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


# -- keyring backends that keep keys in a file of their own --------------------------------------
@pytest.fixture
def no_terminal_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    """keyrings.alt's EncryptedKeyring asks for its password with getpass: fail loudly if
    anything gets that far instead of hanging."""
    import getpass

    def refuse(prompt: str = "") -> str:
        raise AssertionError(f"a keyring prompted on the terminal: {prompt!r}")

    monkeypatch.setattr(getpass, "getpass", refuse)


def plaintext_keyring(folder: Path) -> keyring.backend.KeyringBackend:
    from keyrings.alt.file import PlaintextKeyring

    backend = PlaintextKeyring()
    backend.file_path = str(folder / "keyring_pass.cfg")  # type: ignore[misc]
    return backend


@pytest.fixture
def encrypted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_terminal_prompt: None
              ) -> keyring.backend.KeyringBackend:
    """keyrings.alt's real EncryptedKeyring, viable as it is with pycryptodome installed. The
    crypto library itself is left out (Restyle has no other use for it): it is only looked
    up, never used, because nothing in the backend may be called."""
    from keyrings.alt.file import EncryptedKeyring

    monkeypatch.setattr(EncryptedKeyring, "_get_crypto_impl", staticmethod(dict))
    backend = EncryptedKeyring()
    backend.file_path = str(tmp_path / "crypted_pass.cfg")  # type: ignore[misc]
    assert backend.priority > 0
    return backend


def test_leak_forms_find_a_key_in_keyrings_alt_plaintext_file(tmp_path: Path) -> None:
    """The check below must see through keyrings.alt's base64 (it stores no raw bytes)."""
    backend = plaintext_keyring(tmp_path)
    for n, secret in enumerate(["k-ALIGN-0x", "k-ALIGN-01y", "k-ALIGN-012z"]):
        backend.set_password("restyle", f"p{n}", secret)
        assert secret.encode() not in (tmp_path / "keyring_pass.cfg").read_bytes()
        assert files_holding(tmp_path, secret) == [tmp_path / "keyring_pass.cfg"]


def test_a_plaintext_file_keyring_is_refused(tmp_path: Path, home: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    user_dirs(tmp_path / "user", monkeypatch)
    backend = plaintext_keyring(tmp_path)
    keyring.set_keyring(backend)
    store = SecretStore(environ={})
    assert store.keyring_available() is False
    before = store.status("fitinview")
    why = (f"The keyring backend keyrings.alt.file.PlaintextKeyring stores keys unencrypted in "
           f"{tmp_path / 'keyring_pass.cfg'}; Restyle does not use it")
    assert not before.present and before.message.startswith(f"No key. {why}, so a key can only")
    assert before.refusal == why[0].lower() + why[1:]
    status = store.set("fitinview", "fk-PLAINTEXT-SECRET-1")
    assert status.source == KeySource.SESSION and status.keyring_available is False
    assert status.message == (f"{why}. The key is kept for this session only and forgotten "
                              "when Restyle closes.")
    assert "system keyring" not in store.status("fitinview").message
    assert store.get("fitinview") == "fk-PLAINTEXT-SECRET-1"
    assert SecretStore(environ={}).get("fitinview") is None
    assert files_holding(tmp_path, "fk-PLAINTEXT-SECRET-1") == []


def test_an_encrypted_file_keyring_is_refused_without_prompting(
        tmp_path: Path, encrypted: keyring.backend.KeyringBackend) -> None:
    keyring.set_keyring(encrypted)
    store = SecretStore(environ={})
    status = store.set("vistoure", "vk-ENCRYPTED-SECRET-2")
    assert status.source == KeySource.SESSION
    assert status.message.startswith(
        "The keyring backend keyrings.alt.file.EncryptedKeyring stores keys encrypted in its "
        f"own file {tmp_path / 'crypted_pass.cfg'} instead of the system keychain; Restyle "
        "does not use it.")
    assert "Stored in" not in store.status("vistoure").message
    assert store.delete("vistoure") is True  # the session key; the file is not touched
    assert not any(tmp_path.iterdir())


class CustomFileKeyring(MemoryKeyring):
    """A third-party backend that tells where its file is and nothing about encryption."""

    file_path = "/srv/keys.db"


def test_a_file_keyring_of_unknown_kind_is_refused() -> None:
    keyring.set_keyring(CustomFileKeyring())
    status = SecretStore(environ={}).status("vtryon")
    assert status.refusal == ("the keyring backend tests.test_secrets.CustomFileKeyring stores "
                              "keys in its own file /srv/keys.db instead of the system keychain;"
                              " Restyle does not use it")


def test_the_chainer_is_looked_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       encrypted: keyring.backend.KeyringBackend) -> None:
    """keyring's chainer wraps every viable backend: the file ones in it are passed over, the
    key goes to (and is read from) the system keyring alone."""
    from keyring.backends.chainer import ChainerBackend

    plain, memory = plaintext_keyring(tmp_path), MemoryKeyring()
    plain.set_password("restyle", "tryonapi", "tk-OLD-PLAINTEXT-3")  # left by an older setup
    chain = [plain, encrypted, memory]
    monkeypatch.setattr(ChainerBackend, "backends", chain)
    keyring.set_keyring(ChainerBackend())
    store = SecretStore(environ={})
    assert store.keyring_available() is True
    assert store.get("tryonapi") is None  # the plaintext copy is not used
    status = store.set("tryonapi", "tk-NEW-SECRET-3")
    assert status.source == KeySource.KEYRING and status.backend == "tests.conftest.MemoryKeyring"
    assert status.message == "Stored in the system keyring (service 'restyle', entry 'tryonapi')."
    assert memory.passwords == {("restyle", "tryonapi"): "tk-NEW-SECRET-3"}
    assert files_holding(tmp_path, "tk-NEW-SECRET-3") == []
    assert store.get("tryonapi") == "tk-NEW-SECRET-3"
    # Deleting removes the key from the keyring and the copy an older setup left in the file.
    assert store.delete("tryonapi") is True
    assert memory.passwords == {} and files_holding(tmp_path, "tk-OLD-PLAINTEXT-3") == []


def test_a_chainer_of_file_keyrings_only_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        encrypted: keyring.backend.KeyringBackend) -> None:
    from keyring.backends.chainer import ChainerBackend

    monkeypatch.setattr(ChainerBackend, "backends", [plaintext_keyring(tmp_path), encrypted])
    keyring.set_keyring(ChainerBackend())
    status = SecretStore(environ={}).set("fitinview", "fk-CHAIN-SECRET-4")
    assert status.source == KeySource.SESSION
    assert "PlaintextKeyring stores keys unencrypted" in status.message
    assert "EncryptedKeyring stores keys encrypted" in status.message
    assert files_holding(tmp_path, "fk-CHAIN-SECRET-4") == []


def test_setting_a_key_while_the_environment_variable_is_set(
        memory_keyring: MemoryKeyring) -> None:
    store = SecretStore(environ={"RESTYLE_TRYONAPI_API_KEY": "from-env-999"})
    status = store.set("tryonapi", "from-keyring-111")
    assert memory_keyring.passwords == {("restyle", "tryonapi"): "from-keyring-111"}
    assert status.source == KeySource.ENV
    assert status.message == (
        "Stored in the system keyring (service 'restyle', entry 'tryonapi'). The environment "
        "variable RESTYLE_TRYONAPI_API_KEY is set, so its key is used instead while it is set.")
    assert store.get("tryonapi") == "from-env-999"
