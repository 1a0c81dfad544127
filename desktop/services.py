"""Composition shared by the CLI and the window: paths, settings, secrets, history, engine.

Only the entry points (cli/, app.py) build a `Services`; core and providers receive the
pieces they need.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from desktop.config import Paths, Settings, env_name, load_settings, resolve_paths
from desktop.core.assets import AssetStore
from desktop.core.batch_runner import BatchRunner
from desktop.core.engine import JobEngine
from desktop.core.engine.base import SlotGate
from desktop.core.model import ErrorCode
from desktop.core.store import History
from desktop.core.store.batches import BatchStore
from desktop.core.store.postgres import is_postgres_url
from desktop.core.store.reviews import ReviewStore
from desktop.providers.base import KeyUnavailable, Provider, ProviderConfig
from desktop.providers.http import UrlSourceLoader
from desktop.providers.local import workers as local_workers
from desktop.providers.registry import PROVIDER_CLASSES, create_provider, provider_class
from desktop.secrets import SecretStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Readiness:
    """Whether a provider can be used now; `problem` is a sentence for the user."""

    provider: str
    ready: bool
    problem: str = ""
    code: ErrorCode | None = None


@dataclass
class Services:
    paths: Paths
    settings: Settings
    secrets: SecretStore
    history: History
    assets: AssetStore
    #: Base URLs given for this run only (--base-url); they beat settings and the environment.
    base_url_overrides: dict[str, str] = field(default_factory=dict)
    _url_loader: UrlSourceLoader | None = None

    @classmethod
    def open(cls, home: str | os.PathLike[str] | Path | None = None, *,
             secrets: SecretStore | None = None) -> Services:
        paths = resolve_paths(home)
        paths.ensure()
        settings = load_settings(paths)
        limits = settings.limits
        return cls(
            paths=paths,
            settings=settings,
            secrets=secrets or SecretStore(),
            history=History(settings.database_url or paths.database),
            assets=AssetStore(settings.shared_assets_dir or paths.assets_dir,
                              max_pixels=max(limits.result_max_pixels,
                                             limits.input_max_pixels),
                              shared=settings.shared_assets_dir is not None),
        )

    def provider_ids(self) -> list[str]:
        """Every registered provider, the offline one first."""
        return list(PROVIDER_CLASSES)

    def provider_class(self, provider_id: str) -> type[Provider]:
        """A provider's class: what it is and needs (title, key, base URL) without an instance.
        The window asks here rather than importing the registry (ui stays out of providers)."""
        return provider_class(provider_id)

    def base_url(self, provider_id: str) -> str | None:
        if provider_id in self.base_url_overrides:
            return self.base_url_overrides[provider_id]
        configured = self.settings.provider(provider_id).base_url
        return configured or provider_class(provider_id).default_base_url

    def provider_config(self, provider_id: str) -> ProviderConfig:
        return ProviderConfig(
            base_url=self.base_url(provider_id),
            key_source=self._key_source(provider_id),
            extra=dict(self.settings.provider(provider_id).extra),
            limits=self.settings.limits,
        )

    def create_provider(self, provider_id: str) -> Provider:
        return create_provider(provider_id, self.provider_config(provider_id))

    def readiness(self, provider_id: str) -> Readiness:
        """Checks that need no network: a known provider, a base URL, a key."""
        try:
            cls = provider_class(provider_id)
        except KeyError:
            known = ", ".join(PROVIDER_CLASSES)
            return Readiness(provider_id, False,
                             f"There is no provider '{provider_id}' (known: {known}).",
                             ErrorCode.INVALID_INPUT)
        if cls.needs_base_url and not self.base_url(provider_id):
            return Readiness(
                provider_id, False,
                f"{cls.title} needs a base URL: set it in Settings, with --base-url, or in "
                f"{env_name(provider_id, 'BASE_URL')}.",
                ErrorCode.NOT_CONFIGURED,
            )
        if cls.needs_key and not self.secrets.get(provider_id):
            return Readiness(provider_id, False, self.missing_key_sentence(provider_id),
                             ErrorCode.MISSING_KEY)
        return Readiness(provider_id, True)

    def missing_key_sentence(self, provider_id: str) -> str:
        """What to do about a missing key, in the ways that work on this machine: where there
        is no system keyring Restyle can use (headless Linux, or only a file backend it
        refuses), `keys set` cannot keep a key, so the environment variable is the way."""
        title = provider_class(provider_id).title
        env = env_name(provider_id, "API_KEY")
        if self.secrets.keyring_available():
            return (f"No API key for {title}. Add one in Settings, with `restyle-cli keys set "
                    f"--provider {provider_id}`, or in {env}.")
        return (f"No API key for {title}. This machine has no system keyring Restyle can keep "
                f"one in, so set {env} in the environment (a key entered in Settings lasts "
                "until Restyle closes).")

    def _key_source(self, provider_id: str) -> Callable[[], str | None]:
        """The key a provider reads at request time; with no key and no usable keyring,
        KeyUnavailable with `missing_key_sentence` (the provider's own "no key" sentence would
        recommend `keys set`, which cannot work here)."""
        read = self.secrets.key_source(provider_id)

        def source() -> str | None:
            key = read()
            if not key and not self.secrets.keyring_available():
                raise KeyUnavailable(self.missing_key_sentence(provider_id))
            return key

        return source

    def url_loader(self) -> UrlSourceLoader:
        if self._url_loader is None:
            self._url_loader = UrlSourceLoader(limits=self.settings.limits)
        return self._url_loader

    def engine(self, label: str = "Restyle") -> JobEngine:
        """A job engine on this history; `label` names this process to others that find its
        jobs running ("restyle-cli run", "the Restyle window")."""
        policy = self.settings.engine_policy(list(PROVIDER_CLASSES))
        return JobEngine(self.history, self.assets, self.create_provider, policy=policy,
                         load_url=self.url_loader(), label=label, limits=self.settings.limits,
                         slot_gate=self._team_slots())

    def _team_slots(self) -> SlotGate | None:
        """In team mode the jobs a desk runs itself (`restyle-cli run`, a batch without
        --remote) count toward each provider's limit for the whole team as the workers' do,
        waiting their turn for a slot."""
        url = self.settings.database_url
        if not url or not is_postgres_url(url):
            return None
        from desktop.team.slots import TeamSlots  # psycopg: team mode only

        return TeamSlots(url, give_up_s=None)

    def review_store(self) -> ReviewStore:
        return ReviewStore(self.history)

    def batch_store(self) -> BatchStore:
        return BatchStore(self.history)

    def batch_runner(self, engine: JobEngine) -> BatchRunner:
        """Runs batches on `engine`, with the money per credit the settings give."""
        return BatchRunner(engine, self.batch_store(),
                           prices=self.settings.prices(list(PROVIDER_CLASSES)))

    async def aclose(self) -> None:
        """Close the URL loader and stop the local provider's worker processes (and wait for
        them: a closed window leaves no process behind)."""
        if self._url_loader is not None:
            await self._url_loader.aclose()
            self._url_loader = None
        await asyncio.to_thread(local_workers.shutdown)

    def close(self) -> None:
        """Close the history and stop the worker processes if aclose has not (a window whose
        loop could not run its close)."""
        self.history.close()
        local_workers.shutdown()
