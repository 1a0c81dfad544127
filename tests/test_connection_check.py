"""The settings dialog's "test connection", without Qt: each provider's cheapest authenticated
call against its emulator over real HTTP, and the sentences a user reads."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop import connection_check
from desktop.connection_check import ConnectionResult, credits_text, format_number
from desktop.core.contract import Provider
from desktop.secrets import SecretStore
from desktop.services import Services
from tests.conftest import MemoryKeyring
from tests.emulators.fitinview import FitInViewEmulator
from tests.emulators.kit import serve
from tests.emulators.tryonapi import TryonApiEmulator
from tests.emulators.virtualstaging import VirtualStagingEmulator
from tests.emulators.vistoure import VistoureEmulator
from tests.emulators.vtryon import VtryonEmulator
from tests.support import run


@pytest.fixture
def services(home: Path) -> Iterator[Services]:
    svc = Services.open(home, secrets=SecretStore(timeout=2.0))
    try:
        yield svc
    finally:
        svc.close()


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[Provider]:
    """Every provider a connection test creates, to check that it was closed."""
    made: list[Provider] = []
    real = connection_check.create_provider

    def spy(provider_id: str, config: Any) -> Provider:
        provider = real(provider_id, config)
        made.append(provider)
        return provider

    monkeypatch.setattr(connection_check, "create_provider", spy)
    return made


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check(services: Services, provider_id: str, **kw: Any) -> ConnectionResult:
    return run(connection_check.test_connection(services, provider_id, **kw))


def assert_closed(made: list[Provider]) -> None:
    assert made, "no provider was created"
    for provider in made:
        client = provider.client  # type: ignore[attr-defined]
        assert client._client_instance is None, "the test client was left open"


def test_fitinview_good_key_reports_credits(services: Services, opened: list[Provider]) -> None:
    emu = FitInViewEmulator(credits=1250)
    with serve(emu) as base:
        result = check(services, "fitinview", key=FitInViewEmulator.default_key, base_url=base)
    assert result == ConnectionResult(
        True, "Connected to FitInView: 1,250 credits left.", credits=1250.0,
        purchase_url=result.purchase_url, credits_text="1,250 credits left")
    assert result.purchase_url and result.purchase_url.startswith("https://")
    assert [r.path for r in emu.requests] == ["/api/v1/account"]
    assert emu.requests[0].headers["authorization"] == f"Bearer {FitInViewEmulator.default_key}"
    assert_closed(opened)


def test_fitinview_low_credits_says_so(services: Services) -> None:
    with serve(FitInViewEmulator(credits=3)) as base:
        result = check(services, "fitinview", key=FitInViewEmulator.default_key, base_url=base)
    assert result.ok and result.credits == 3
    assert result.message.startswith("Connected to FitInView: 3 credits left. Not enough credits")


def test_fitinview_bad_key_is_the_401_sentence(services: Services,
                                               opened: list[Provider]) -> None:
    emu = FitInViewEmulator()
    with serve(emu) as base:
        result = check(services, "fitinview", key="fiv_live_wrong", base_url=base)
    assert not result.ok and result.credits is None
    assert result.message.startswith("FitInView rejected the API key (HTTP 401")
    assert result.message.endswith("Check the key in Settings.")
    assert "fiv_live_wrong" not in result.message
    assert len(emu.requests) == 1  # a 401 is not retried
    assert_closed(opened)


def test_closed_port_is_a_network_sentence(services: Services, opened: list[Provider]) -> None:
    port = closed_port()
    result = check(services, "fitinview", key="k", base_url=f"http://127.0.0.1:{port}")
    assert not result.ok
    assert result.message == (f"Could not connect to 127.0.0.1:{port}: connection refused. "
                              "Check the base URL and your network.")
    assert opened[0].client.max_retries == connection_check.TEST_RETRIES  # type: ignore[attr-defined]
    assert_closed(opened)


def test_stored_key_and_configured_base_url_are_used_when_none_is_typed(
        services: Services, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    services.secrets.set("fitinview", FitInViewEmulator.default_key)
    with serve(FitInViewEmulator(credits=40)) as base:
        monkeypatch.setenv("RESTYLE_FITINVIEW_BASE_URL", base)
        result = check(services, "fitinview")
    assert result.ok and result.credits == 40


def test_no_key_anywhere_needs_no_network(services: Services, opened: list[Provider]) -> None:
    result = check(services, "fitinview", base_url="http://127.0.0.1:9")
    assert not result.ok and opened == []
    assert result.message == ("There is no API key for FitInView to test: enter one first (or set "
                              "RESTYLE_FITINVIEW_API_KEY).")


def test_missing_base_url_is_a_sentence(services: Services) -> None:
    result = check(services, "tryonapi", key="k")
    assert not result.ok
    assert result.message.startswith("TryonAPI needs a base URL")


def test_tryonapi_404_for_an_unknown_job_means_the_key_works(services: Services,
                                                             opened: list[Provider]) -> None:
    emu = TryonApiEmulator()
    with serve(emu) as base:
        good = check(services, "tryonapi", key=TryonApiEmulator.default_key, base_url=base)
        bad = check(services, "tryonapi", key="wrong", base_url=base)
    assert good == ConnectionResult(True, "Connected to TryonAPI: the API key was accepted.")
    assert not bad.ok and bad.message.startswith("TryonAPI rejected the API key (HTTP 401")
    paths = [r.path for r in emu.requests]
    assert len(paths) == 2 and all(p.startswith("/api/v1/tryon/status/restyle-") for p in paths)
    assert_closed(opened)


def test_vtryon_lists_one_task(services: Services) -> None:
    emu = VtryonEmulator()
    with serve(emu) as base:
        good = check(services, "vtryon", key=VtryonEmulator.default_key, base_url=base)
        bad = check(services, "vtryon", key="wrong", base_url=base)
    assert good.ok and good.message == "Connected to vtryon: the API key was accepted."
    assert not bad.ok and "rejected the API key (HTTP 401" in bad.message
    assert emu.requests[0].query == {"page": "1", "page_size": "1"}


def test_vistoure_lists_workflows(services: Services) -> None:
    emu = VistoureEmulator()
    with serve(emu) as base:
        good = check(services, "vistoure", key=VistoureEmulator.default_key, base_url=base)
        bad = check(services, "vistoure", key="wrong", base_url=base)
    assert good.ok and good.message == "Connected to VistoureAI: the API key was accepted."
    assert not bad.ok and "rejected the API key (HTTP 401" in bad.message
    assert {r.path for r in emu.requests} == {"/api/v3/workflows"}


def test_virtualstaging_reports_photos_left(services: Services) -> None:
    emu = VirtualStagingEmulator(photo_limit=10)
    emu.photos_used["staging"] = 3
    with serve(emu) as base:
        result = check(services, "virtualstaging", key=VirtualStagingEmulator.default_key,
                       base_url=base)
    assert result.ok and result.credits == 7
    assert result.message == ("Connected to Virtual Staging AI: 7 staging photos left this "
                              "period.")


def test_local_needs_no_connection(services: Services) -> None:
    result = check(services, "local")
    assert result.ok and "nothing to connect to" in result.message


def test_unknown_provider(services: Services) -> None:
    assert not check(services, "nope").ok


def test_numbers_read_well() -> None:
    assert format_number(1250) == "1,250" and format_number(12.5) == "12.5"
    assert credits_text("fitinview", 1) == "1 credit left"
    assert credits_text("fitinview", 1250.0) == "1,250 credits left"
