"""The shared assertion of the parameter-check tests: a spec refused before anything is stored.

`Preparer.prepare` runs `TaskSpec.validate` and `Provider.check` before `JobEngine.submit`
writes a job row, so a bad parameter must come back as InvalidInput from both `prepare` and
`submit`, leave the history empty and send nothing that creates work at the service (no POST
in the emulator's request log; a GET that reads a workflow or a task is allowed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.assets import AssetStore
from desktop.core.engine import EnginePolicy, JobEngine
from desktop.core.model import InvalidInput, JobSpec
from desktop.core.store import History
from desktop.providers.base import Provider
from tests.emulators.kit import Emulator
from tests.support import run


def refused_before_storing(tmp_path: Path, provider: Provider, spec: JobSpec,
                           emulator: Emulator | None = None) -> str:
    """The sentence `spec` is refused with; fails when anything was stored or POSTed."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    history = History(tmp_path / "refusal-history.sqlite3")
    engine = JobEngine(history, AssetStore(tmp_path / "refusal-assets"),
                       lambda _pid: provider, policy=EnginePolicy(jitter=0.0))

    async def main() -> tuple[str, str]:
        try:
            with pytest.raises(InvalidInput) as prepared:
                await engine.prepare(spec)
            with pytest.raises(InvalidInput) as submitted:
                await engine.submit(spec)
            return str(prepared.value), str(submitted.value)
        finally:
            await engine.aclose()

    prepared, submitted = run(main())
    assert prepared == submitted
    assert history.count() == 0, [j.error for j in history.list()]
    if emulator is not None:
        assert [r.path for r in emulator.requests if r.method == "POST"] == []
    return prepared
