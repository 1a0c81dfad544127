"""Team mode in the window: Generate and a batch go to the team's workers instead of running
here. The job is stored queued with its inputs in the shared folder, its id waits in the task
queue, a `restyle-cli worker` process runs it, and the window shows it succeed through the
change feed. Real PostgreSQL, a real worker process."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.app import RestyleWindow
from desktop.config import ASSETS_DIR_ENV, DATABASE_URL_ENV
from desktop.core.batches import BatchState
from desktop.core.model import JobState
from tests.processes import needs_proc
from tests.team.support import clean_env, query, start_worker, stop_workers
from tests.ui.batch_helpers import garments, open_dialog, people, progress_of
from tests.ui.team_support import desk_window
from tests.ui.test_window import choose, until

pytestmark = needs_proc


@pytest.fixture
def team_window(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str, qtbot: Any,
                loop: asyncio.AbstractEventLoop) -> Iterator[RestyleWindow]:
    for name in list(os.environ):
        if name.startswith("RESTYLE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv(DATABASE_URL_ENV, pg_url)
    monkeypatch.setenv(ASSETS_DIR_ENV, str(tmp_path / "shared-assets"))
    window = desk_window(tmp_path / "desk", "ana")
    qtbot.addWidget(window)
    window.resize(1360, 860)
    window.show()
    loop.run_until_complete(window.start())
    feed = window.workbench.team.feed
    assert feed is not None and feed.wait_listening(10)
    yield window
    loop.run_until_complete(window.aclose())


def queued_tasks(pg_url: str) -> int:
    """How many tasks wait in procrastinate's table (0 before the window made it)."""
    [(present,)] = query(pg_url, "SELECT to_regclass('procrastinate_jobs') IS NOT NULL")
    if not present:
        return 0
    return int(query(pg_url, "SELECT count(*) FROM procrastinate_jobs")[0][0])


def worker_env(tmp_path: Path, pg_url: str) -> dict[str, str]:
    return clean_env(RESTYLE_DATABASE_URL=pg_url,
                     RESTYLE_ASSETS_DIR=str(tmp_path / "shared-assets"))


def test_generate_sends_the_job_to_the_team_and_shows_it_finish(
        team_window: RestyleWindow, tmp_path: Path, pg_url: str,
        loop: asyncio.AbstractEventLoop) -> None:
    window = team_window
    [photo] = people(tmp_path / "people", 1)
    [shirt] = garments(tmp_path / "garments", [(200, 40, 40)])
    assert window.workbench.sender.team

    async def generate() -> str:
        choose(window, "tryon", ["local"])
        await window.panes["person"].add_sources([str(photo)])
        await window.panes["garment"].add_sources([str(shirt)])
        [job] = await window.workbench.generate()
        return job.id

    job_id = loop.run_until_complete(generate())
    assert "sent 1 job to the team's workers" in window.statusBar().currentMessage().lower()
    stored = window.services.history.get(job_id)
    assert stored is not None and stored.queue == "default" and stored.state == JobState.QUEUED
    assert stored.owner is None and stored.remote_id is None  # nothing ran here
    tasks = query(pg_url, "SELECT queue_name, args->>'job_id', status FROM procrastinate_jobs")
    assert tasks == [("default", job_id, "todo")]
    # Its inputs are in the shared folder, where a worker on another machine reads them.
    shared = tmp_path / "shared-assets"
    assert all(any(shared.rglob(sha + "*")) for shas in stored.inputs.values() for sha in shas)

    worker = start_worker(0, tmp_path, worker_env(tmp_path, pg_url), queue="default",
                          concurrency=2, provider="local", limit=2)
    try:
        loop.run_until_complete(until(
            lambda: (j := window.job_queue.job(job_id)) is not None
            and j.state == JobState.SUCCEEDED, 60, "the window to show the job succeed"))
    finally:
        codes = stop_workers([worker])
    assert codes == {0: 0}, worker.output()
    done = window.services.history.get(job_id)
    assert done is not None and done.state == JobState.SUCCEEDED and done.outputs
    assert "local" not in worker.output().lower() or "Traceback" not in worker.output()


def test_a_batch_from_the_window_waits_in_the_team_queue(
        team_window: RestyleWindow, tmp_path: Path, pg_url: str,
        loop: asyncio.AbstractEventLoop) -> None:
    window = team_window
    photos = people(tmp_path / "people", 2)
    shirt, jacket = garments(tmp_path / "garments", [(200, 40, 40), (40, 90, 50)])
    controller = window.workbench.batches

    async def start_batch() -> str:
        choose(window, "tryon", ["local"])
        await window.panes["person"].add_sources([str(photos[0])])
        await window.panes["garment"].add_sources([str(shirt)])
        dialog = await open_dialog(window)
        await dialog.rows_list.add_sources([str(photos[1])])
        await dialog.garments_list.add_sources([str(jacket)])
        await dialog.settled()
        dialog.start_button.click()
        await until(lambda: bool(controller.panel.batch_ids()), 10, "the batch")
        batch_id = controller.panel.batch_ids()[0]
        await until(lambda: queued_tasks(pg_url) == 4, 20, "four jobs in the team's queue")
        # The hand-over ends with the status line (and is then done: nothing of it is left
        # to run outside the loop).
        await until(lambda: "4 jobs sent to the team's workers"
                    in window.statusBar().currentMessage(), 10,
                    "the status to say where the jobs went")
        return batch_id

    batch_id = loop.run_until_complete(start_batch())
    assert query(pg_url, "SELECT count(*) FROM jobs WHERE queue = 'default' AND owner IS NULL"
                 " AND remote_id IS NULL") == [(4,)]
    # Paused in the window before a worker is there: the worker takes the tasks and holds
    # every job back; the window's Resume hands them to the workers again.
    loop.run_until_complete(controller.pause(batch_id))
    worker = start_worker(0, tmp_path, worker_env(tmp_path, pg_url), queue="default",
                          concurrency=4, provider="local", limit=4)
    try:
        loop.run_until_complete(until(lambda: queued_tasks(pg_url) == 0, 40,
                                      "the worker to take every task"))
        assert query(pg_url, "SELECT state, count(*) FROM jobs WHERE owner IS NULL AND"
                     " submitted_at IS NULL GROUP BY 1") == [("queued", 4)]

        async def resume() -> None:
            await controller.resume(batch_id)
            await until(lambda: "4 jobs sent to the team's workers"
                        in window.statusBar().currentMessage(), 10,
                        "the status to say the held jobs went to the workers again")
        loop.run_until_complete(resume())
        loop.run_until_complete(until(
            lambda: progress_of(window, batch_id).state == BatchState.FINISHED, 90,
            "the batch to finish on the worker"))
    finally:
        codes = stop_workers([worker])
    assert codes == {0: 0}, worker.output()
    assert query(pg_url, "SELECT state, count(*) FROM jobs GROUP BY 1") == [("succeeded", 4)]


def test_a_desk_without_the_providers_key_can_still_queue_its_jobs(
        team_window: RestyleWindow, tmp_path: Path, pg_url: str,
        loop: asyncio.AbstractEventLoop) -> None:
    """The workers send the jobs with their own keys: in team mode a missing key on the desk
    no longer keeps a provider out of the form (it still keeps the desk from its API)."""
    window = team_window
    assert window.services.secrets.get("fitinview") is None
    box = window.provider_selector.check_box("fitinview")
    assert box is not None and box.isEnabled()
    [photo] = people(tmp_path / "people", 1)
    [shirt] = garments(tmp_path / "garments", [(200, 40, 40)])

    async def generate() -> str:
        choose(window, "tryon", ["fitinview"])
        await window.panes["person"].add_sources([str(photo)])
        await window.panes["garment"].add_sources([str(shirt)])
        await until(lambda: window.generate_button.isEnabled(), 10,
                    "Generate enabled: " + window.problem_label.text())
        [job] = await window.workbench.generate()
        return job.id

    job_id = loop.run_until_complete(generate())
    stored = window.services.history.get(job_id)
    assert stored is not None and stored.provider == "fitinview"
    assert stored.queue == "default" and stored.state == JobState.QUEUED
    assert "fitinview" in window.workbench._problems  # its API stays closed to this desk
