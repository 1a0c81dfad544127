"""The offline provider (the default): real pixel operations, no key, no network."""

from desktop.providers.local.provider import TASKS, LocalProvider

__all__ = ["TASKS", "LocalProvider"]
