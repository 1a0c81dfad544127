"""The providers Restyle knows: one line per provider (docs/ARCHITECTURE.md, "Provider
contract")."""

from __future__ import annotations

from desktop.providers.base import Provider, ProviderConfig
from desktop.providers.fitinview import FitInViewProvider
from desktop.providers.local import LocalProvider
from desktop.providers.tryonapi import TryonApiProvider
from desktop.providers.virtualstaging import VirtualStagingProvider
from desktop.providers.vistoure import VistoureProvider
from desktop.providers.vtryon import VtryonProvider

PROVIDER_CLASSES: dict[str, type[Provider]] = {
    LocalProvider.id: LocalProvider,
    FitInViewProvider.id: FitInViewProvider,
    TryonApiProvider.id: TryonApiProvider,
    VtryonProvider.id: VtryonProvider,
    VistoureProvider.id: VistoureProvider,
    VirtualStagingProvider.id: VirtualStagingProvider,
}

DEFAULT_PROVIDER = LocalProvider.id


def provider_ids() -> list[str]:
    return list(PROVIDER_CLASSES)


def provider_class(provider_id: str) -> type[Provider]:
    """The class registered under `provider_id`; KeyError when there is none."""
    return PROVIDER_CLASSES[provider_id]


def create_provider(provider_id: str, config: ProviderConfig) -> Provider:
    return provider_class(provider_id).from_config(config)
