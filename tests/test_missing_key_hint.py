"""The "no key" sentence gives the way that works on this machine: `keys set` where a system
keyring can keep the key, the RESTYLE_<ID>_API_KEY environment variable where none can
(headless Linux, or only a file backend Restyle refuses), in the CLI, in the window's
sentences (the same text) and when a provider finds no key at request time."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from desktop import cli
from desktop.core.model import ErrorCode
from desktop.providers.base import KeyUnavailable, ProviderError
from desktop.providers.http import Auth
from desktop.services import Services
from desktop.ui.job_words import plain, short_sentence
from tests.conftest import MemoryKeyring

ROOT = Path(__file__).resolve().parents[1]
PERSON = str(ROOT / "resources" / "samples" / "person.png")
SHIRT = str(ROOT / "resources" / "samples" / "garment-tshirt.png")


@pytest.fixture
def services(home: Path) -> Iterator[Services]:
    opened = Services.open(home)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def plaintext_keyring(tmp_path: Path) -> Iterator[Path]:
    """Only a keyring that keeps keys in a plain file, which Restyle refuses."""
    from keyrings.alt.file import PlaintextKeyring

    old = keyring.get_keyring()
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring_pass.cfg")  # type: ignore[misc]
    keyring.set_keyring(backend)
    try:
        yield tmp_path / "keyring_pass.cfg"
    finally:
        keyring.set_keyring(old)


def test_without_a_keyring_the_sentence_names_the_variable_not_keys_set(
        services: Services) -> None:
    # conftest gives every test keyring's fail backend, as on a headless machine.
    problem = services.readiness("fitinview").problem
    assert problem == (
        "No API key for FitInView. This machine has no system keyring Restyle can keep one in, "
        "so set RESTYLE_FITINVIEW_API_KEY in the environment (a key entered in Settings lasts "
        "until Restyle closes).")
    assert "keys set" not in problem
    # The window shows the same text: whole in tooltips and settings, first sentence in rows.
    assert plain(problem) == problem
    assert short_sentence(problem) == "No API key for FitInView."


def test_with_a_keyring_the_sentence_offers_keys_set(services: Services,
                                                    memory_keyring: MemoryKeyring) -> None:
    problem = services.readiness("virtualstaging").problem
    assert "`restyle-cli keys set --provider virtualstaging`" in problem
    assert "RESTYLE_VIRTUALSTAGING_API_KEY" in problem
    assert "no system keyring" not in problem


def test_a_refused_file_keyring_counts_as_none(services: Services,
                                               plaintext_keyring: Path) -> None:
    problem = services.readiness("fitinview").problem
    assert "set RESTYLE_FITINVIEW_API_KEY in the environment" in problem
    assert "keys set" not in problem
    assert not plaintext_keyring.exists()


def test_restyle_cli_says_it_and_exits_3(home: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    code = cli.main(["run", "--provider", "fitinview", "--task", "tryon", "--person", PERSON,
                     "--garment", SHIRT], stdin=io.StringIO())
    err = capsys.readouterr().err
    assert code == 3
    assert "set RESTYLE_FITINVIEW_API_KEY in the environment" in err and "keys set" not in err


def test_a_provider_reading_the_key_at_request_time_says_it_too(
        services: Services) -> None:
    """A job already accepted whose key is gone (resume on another machine): the provider's
    own sentence would recommend `keys set`; the key source gives the one that works."""
    source = services.provider_config("tryonapi").key_source
    with pytest.raises(KeyUnavailable, match="set RESTYLE_TRYONAPI_API_KEY in the environment"):
        source()
    auth = Auth.bearer(source)
    with pytest.raises(ProviderError) as caught:
        auth.headers(provider_id="tryonapi", title="TryonAPI")
    assert caught.value.code == ErrorCode.MISSING_KEY
    assert "keys set" not in caught.value.message
    assert "RESTYLE_TRYONAPI_API_KEY" in caught.value.message


def test_with_a_keyring_the_request_time_sentence_is_the_provider_s(
        services: Services, memory_keyring: MemoryKeyring) -> None:
    source = services.provider_config("tryonapi").key_source
    assert source() is None
    with pytest.raises(ProviderError) as caught:
        Auth.bearer(source).headers(provider_id="tryonapi", title="TryonAPI")
    assert "`restyle-cli keys set --provider tryonapi`" in caught.value.message


def test_a_key_in_the_environment_or_the_session_is_used_without_a_keyring(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESTYLE_FITINVIEW_API_KEY", "fiv-env-123")
    assert services.provider_config("fitinview").key_source() == "fiv-env-123"
    assert services.readiness("fitinview").ready
    services.secrets.set("tryonapi", "toa-session-456")  # the window's Settings, no keyring
    assert services.provider_config("tryonapi").key_source() == "toa-session-456"
