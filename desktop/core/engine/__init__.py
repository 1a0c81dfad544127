"""The job engine: prepares, submits, polls, downloads and keeps every step in history.

`JobEngine` (runner.py: what callers use, and how a run ends) is built from: `base` (shared
state, the one way a job's state changes), `submitting` (a new job sent once), `polling`
(following an accepted job to the provider's verdict), `collecting` (results downloaded,
verified and stored), `ledger` (which process works on which job), `outcomes` (how runs end,
in sentences), `preparing` (inputs checked and encoded before anything is stored) and `policy`
(limits and schedules).
"""

from desktop.core.engine.policy import EnginePolicy
from desktop.core.engine.preparing import MAX_INPUT_FILE_BYTES, PreparedSpec, SourceLoader
from desktop.core.engine.runner import JobEngine, Observer, ProviderFactory, ResumeReport

__all__ = [
    "MAX_INPUT_FILE_BYTES",
    "EnginePolicy",
    "JobEngine",
    "Observer",
    "PreparedSpec",
    "ProviderFactory",
    "ResumeReport",
    "SourceLoader",
]
