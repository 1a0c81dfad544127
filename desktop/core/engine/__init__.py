"""The job engine: prepares, submits, polls, downloads and keeps every step in history.

`JobEngine` (runner.py) composes the parts: `policy` (limits and schedules), `preparing`
(inputs checked and encoded before anything is stored), `collecting` (results verified and
stored).
"""

from desktop.core.engine.policy import EnginePolicy
from desktop.core.engine.preparing import MAX_INPUT_FILE_BYTES, PreparedSpec, SourceLoader
from desktop.core.engine.runner import JobEngine, Observer, ProviderFactory

__all__ = [
    "MAX_INPUT_FILE_BYTES",
    "EnginePolicy",
    "JobEngine",
    "Observer",
    "PreparedSpec",
    "ProviderFactory",
    "SourceLoader",
]
