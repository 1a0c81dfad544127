"""The provider contract (docs/ARCHITECTURE.md, "Provider contract"), as provider modules
import it.

The definitions live in `desktop.core.contract` so the engine can use them without importing
from providers (imports flow `ui -> core <- providers`).
"""

from desktop.core.contract import (
    AccountInfo,
    InputLimits,
    KeyUnavailable,
    MemorySink,
    PreparedInput,
    PreparedJob,
    Provider,
    ProviderConfig,
    ProviderError,
    RemoteOutput,
    RemoteRef,
    RemoteState,
    RemoteStatus,
    ResultRefused,
    ResultSink,
    TaskVariant,
)

__all__ = [
    "AccountInfo",
    "InputLimits",
    "KeyUnavailable",
    "MemorySink",
    "PreparedInput",
    "PreparedJob",
    "Provider",
    "ProviderConfig",
    "ProviderError",
    "RemoteOutput",
    "RemoteRef",
    "RemoteState",
    "RemoteStatus",
    "ResultRefused",
    "ResultSink",
    "TaskVariant",
]
