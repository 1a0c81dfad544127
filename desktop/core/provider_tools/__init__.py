"""Provider tools beyond running a job: what a service keeps for the account (past renders,
recolour tasks, remote jobs) and its one-shot checks (furniture analysis, multi-view
compatibility), as plain data, with the sentences that tell people what they mean.

Each family is a Protocol the provider adapter implements (`StagingTools`, `RecolorTools`,
`RemoteJobList`); the window and restyle-cli reach an adapter through the engine's provider
instance and `isinstance(provider, Protocol)`, so neither imports a provider module
(docs/ARCHITECTURE.md, "Provider tools"). Anything paid runs as a job through the engine (a
staging render's extra variations are the `variations` task of Virtual Staging AI; bulk staging is a
batch), so it is recorded, never sent twice and lands in the history. `imports.py` (not
imported here: it needs the engine and the history) matches a job list against the history.
"""

from desktop.core.provider_tools.recolor import (
    BaseTask,
    BaseTaskList,
    RecolorTask,
    RecolorTaskPage,
    RecolorTools,
)
from desktop.core.provider_tools.remote_jobs import (
    RemoteJobList,
    RemoteJobPage,
    RemoteJobSummary,
)
from desktop.core.provider_tools.staging import (
    Compatibility,
    FurnitureAnalysis,
    RenderPage,
    RenderState,
    RenderSummary,
    StagingTools,
    analysis_words,
    compatibility_words,
    photos_sentence,
    render_state_words,
)

__all__ = [
    "BaseTask",
    "BaseTaskList",
    "Compatibility",
    "FurnitureAnalysis",
    "RecolorTask",
    "RecolorTaskPage",
    "RecolorTools",
    "RemoteJobList",
    "RemoteJobPage",
    "RemoteJobSummary",
    "RenderPage",
    "RenderState",
    "RenderSummary",
    "StagingTools",
    "analysis_words",
    "compatibility_words",
    "photos_sentence",
    "render_state_words",
]
