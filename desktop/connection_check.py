""""Test connection": one cheap authenticated call per provider, answered with a sentence.

Shared by the settings dialog and (later) the CLI. The provider is built for the test alone,
with the key and base URL being tested (typed in the dialog, not yet saved), and closed after.

The cheapest authenticated call per provider (each costs no credits and creates nothing):

- fitinview: `GET /api/v1/account` (`account()`): the key's account, with credits left.
- virtualstaging: `GET <base>/user` (`account()`): the user, with photos left this period.
- vtryon: `GET /v4/models/multipose-image-recolor/?page=1&page_size=1` (`list_tasks`), a
  one-row page of the key's own tasks; vtryon has no account endpoint.
- vistoure: `GET /api/v3/workflows` (`list_workflows`): the saved workflows and templates.
- tryonapi: `GET /api/v1/tryon/status/<an id that cannot exist>` (`status`): the service checks
  the key first, so 401 means a rejected key and 404 ("no such job") means it was accepted.
  TryonAPI documents no account or list endpoint; this is the only read-only call it has.
- local: nothing to connect to.

A connection test gives up after one retry (the house policy allows four): a person waiting on
a button wants a quick answer, and "connection refused" is not going to change in 8 s.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from desktop.config import env_name
from desktop.core.contract import AccountInfo, Provider, ProviderConfig, ProviderError
from desktop.core.model import ErrorCode
from desktop.core.redaction import register_secret
from desktop.providers.registry import create_provider, provider_class
from desktop.services import Services

log = logging.getLogger(__name__)

#: Retries a connection test allows itself after the first attempt.
TEST_RETRIES = 1


@dataclass(frozen=True)
class ConnectionResult:
    """The outcome of a connection test; `message` is the sentence to show."""

    ok: bool
    message: str
    credits: float | None = None
    purchase_url: str | None = None
    #: "1,250 credits" / "7 staging photos this period", for a status bar; None without one.
    credits_text: str | None = None


def format_number(value: float) -> str:
    """1250 -> "1,250"; 12.5 -> "12.5"."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


#: How each provider's `AccountInfo.credits` is counted, for the sentence.
CREDIT_UNITS: dict[str, str] = {
    "virtualstaging": "staging photos left this period",  # AccountInfo: staging limit - used
}


def credits_text(provider_id: str, credits: float) -> str:
    """The balance in words: "1,250 credits left", "7 staging photos left this period"."""
    unit = CREDIT_UNITS.get(provider_id, "credits left")
    if unit == "credits left" and credits == 1:
        unit = "credit left"
    return f"{format_number(credits)} {unit}"


async def _tryonapi_probe(provider: Any) -> None:
    probe_id = f"restyle-connection-test-{uuid.uuid4().hex[:12]}"
    try:
        await provider.status(probe_id)
    except ProviderError as exc:
        if exc.http_status == 404:
            return  # the key passed; the job (as expected) does not exist
        raise


async def _vtryon_probe(provider: Any) -> None:
    await provider.list_tasks(page=1, page_size=1)


async def _vistoure_probe(provider: Any) -> None:
    await provider.list_workflows()


#: Providers without an account endpoint: the call that proves the key works.
PROBES: dict[str, Callable[[Any], Awaitable[None]]] = {
    "tryonapi": _tryonapi_probe,
    "vtryon": _vtryon_probe,
    "vistoure": _vistoure_probe,
}


def _limit_retries(provider: Provider) -> None:
    client = getattr(provider, "client", None)
    retries = getattr(client, "max_retries", None)
    if isinstance(retries, int):
        client.max_retries = min(retries, TEST_RETRIES)  # type: ignore[union-attr]


async def test_connection(
    services: Services,
    provider_id: str,
    *,
    key: str | None = None,
    base_url: str | None = None,
) -> ConnectionResult:
    """Try the provider's cheapest authenticated call with `key` and `base_url`.

    `key`/`base_url` of None (or blank) mean what Restyle would use now: the stored key
    (environment, session, keyring) and the configured base URL. Never raises for a provider
    failure: every outcome is a `ConnectionResult` whose message is a sentence for the user.
    """
    try:
        cls = provider_class(provider_id)
    except KeyError:
        return ConnectionResult(False, f"There is no provider '{provider_id}'.")
    title = cls.title
    if not cls.needs_key and not cls.needs_base_url:
        return ConnectionResult(True, f"{title} runs on this computer: there is nothing to "
                                      "connect to.")
    key = (key or "").strip() or None
    register_secret(key)
    if key is None and cls.needs_key:
        # SecretStore calls may block on a locked keyring: never on the caller's thread. The
        # key comes back through a list, not as the result: an executor may log results.
        found: list[str | None] = []
        await asyncio.to_thread(lambda: found.append(services.secrets.get(provider_id)))
        key = found[0]
        if not key:
            return ConnectionResult(
                False, f"There is no API key for {title} to test: enter one first (or set "
                       f"{env_name(provider_id, 'API_KEY')}).")
    url = (base_url or "").strip() or services.base_url(provider_id)
    tested_key = key
    config = ProviderConfig(base_url=url, key_source=lambda: tested_key,
                            extra=dict(services.settings.provider(provider_id).extra))
    try:
        provider = create_provider(provider_id, config)
    except (ValueError, TypeError) as exc:
        return ConnectionResult(False, f"{title} could not be set up for a test: {exc}")
    _limit_retries(provider)
    try:
        return await _check(provider, provider_id, title)
    except ProviderError as exc:
        return ConnectionResult(False, exc.message)
    except Exception as exc:  # a provider bug must still end in a sentence, not a traceback
        log.exception("Connection test of %s failed unexpectedly", provider_id)
        return ConnectionResult(
            False, f"Restyle could not test the connection to {title} "
                   f"({type(exc).__name__}); the log has the details.")
    finally:
        try:
            await provider.aclose()
        except Exception:
            log.warning("Closing the %s test client failed", provider_id, exc_info=True)


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test when imported


async def _check(provider: Provider, provider_id: str, title: str) -> ConnectionResult:
    probe = PROBES.get(provider_id)
    if probe is not None:
        await probe(provider)
        return ConnectionResult(True, f"Connected to {title}: the API key was accepted.")
    if provider.supports_account:
        account = await provider.account()
        return _account_result(provider_id, title, account)
    raise ProviderError(ErrorCode.INVALID_INPUT,
                        f"Restyle has no connection test for {title} yet.")


def _account_result(provider_id: str, title: str, account: AccountInfo) -> ConnectionResult:
    if account.credits is None:
        sentence = f"Connected to {title}."
        text = None
    else:
        text = credits_text(provider_id, account.credits)
        sentence = f"Connected to {title}: {text}."
    if account.message and account.credits is not None and _is_warning(account):
        sentence = f"{sentence} {account.message}"
    return ConnectionResult(True, sentence, credits=account.credits,
                            purchase_url=account.purchase_url, credits_text=text)


def _is_warning(account: AccountInfo) -> bool:
    """FitInView's message says when credits are too few for a run; worth adding."""
    return "not enough" in account.message.lower()
