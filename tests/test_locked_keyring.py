"""A locked keyring while a paid job is followed: the job waits (never fails) with a sentence
saying what to do, and is collected once the keyring opens."""

from __future__ import annotations

import time
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors

from desktop.core.assets import AssetStore
from desktop.core.engine import EnginePolicy, JobEngine
from desktop.core.model import ErrorCode, Job, JobSpec, JobState
from desktop.core.store import History
from desktop.providers.fitinview import FitInViewProvider
from desktop.secrets import SecretStore
from tests.emulators.fitinview import FitInViewEmulator
from tests.emulators.kit import serve
from tests.fakes import png_bytes
from tests.support import Sleeps, run

SUBMIT = "/api/v1/tryon"


class LockableKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.locked = False

    def get_password(self, service: str, username: str) -> str | None:
        if self.locked:
            raise keyring.errors.KeyringLocked("locked")
        return self.key if (service, username) == ("restyle", "fitinview") else None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("read-only in this test")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.PasswordDeleteError("read-only in this test")


def test_a_locked_keyring_makes_an_accepted_job_wait_not_fail(tmp_path: Path) -> None:
    emu = FitInViewEmulator(job_delay=0.5)  # still running when the keyring locks
    backend = LockableKeyring(emu.api_key)
    old = keyring.get_keyring()
    keyring.set_keyring(backend)
    person, garment = tmp_path / "person.png", tmp_path / "garment.png"
    person.write_bytes(png_bytes((200, 150, 120), (96, 128)))
    garment.write_bytes(png_bytes((20, 160, 60), (64, 64)))
    history = History(tmp_path / "history.sqlite3")
    assets = AssetStore(tmp_path / "assets")
    secrets = SecretStore(environ={})
    policy = EnginePolicy(jitter=0.0, poll_intervals={"fitinview": 0.02})
    spec = JobSpec(provider="fitinview", task="tryon",
                   inputs={"person": [str(person)], "garment": [str(garment)]})
    try:
        with serve(emu) as base:
            def engine() -> JobEngine:
                provider = FitInViewProvider(base, secrets.key_source("fitinview"),
                                             sleep=Sleeps())
                return JobEngine(history, assets, lambda _pid: provider, policy=policy)

            async def submit_then_lock() -> Job:
                first = engine()
                job = await first.submit(spec)
                deadline = time.monotonic() + 10
                while not (first.get(job.id) or job).remote_id:
                    assert time.monotonic() < deadline
                    await _tick()
                backend.locked = True  # the session locks while the job runs
                final = await first.wait(job.id)
                await first.aclose()
                return final

            waiting = run(submit_then_lock())
            assert waiting.state == JobState.NEEDS_ATTENTION and waiting.remote_id
            assert waiting.error is not None and waiting.error.code == ErrorCode.MISSING_KEY
            assert "keyring is locked" in waiting.error.message
            assert "Unlock it" in waiting.error.message

            async def resume(expect: JobState) -> Job:
                second = engine()
                await second.resume()
                final = await second.wait(waiting.id)
                await second.aclose()
                assert final.state == expect
                return final

            run(resume(JobState.NEEDS_ATTENTION))  # still locked: still waiting, not failed
            backend.locked = False
            final = run(resume(JobState.SUCCEEDED))
            assert len(final.outputs) == 1
            assert len(emu.requests_to("POST", SUBMIT)) == 1
    finally:
        keyring.set_keyring(old)


async def _tick() -> None:
    import asyncio

    await asyncio.sleep(0.01)
