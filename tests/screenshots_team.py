"""Screenshots of team mode (`python -m tests.screenshots OUT --only team`): a window on a team
database (a throwaway PostgreSQL server, tests/pg_cluster.py) showing a job another desk ran
and the review another desk just made, "Team history: <database> on <host>" in the status bar;
then the same window while the server has cut its change feed ("Lost the team database;
reconnecting…") and once it is back; Generate sent to the workers and the job a worker did;
review mode showing a teammate's review as it arrives. Kept in docs/screenshots/team/."""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import QApplication, QScrollArea

from desktop.ui.main_window import MainWindow
from tests.screenshots import Camera, settle, until

SAMPLES = Path(__file__).resolve().parents[1] / "resources" / "samples"


async def _run_jobs(home: Path, reviewer: str, plans: list[tuple[str, dict[str, list[str]],
                                                             dict[str, object]]]) -> list[str]:
    """Real local jobs run by a desk without a window (its engine, its RESTYLE_HOME)."""
    from desktop.config import save_settings
    from desktop.core.model import JobSpec
    from desktop.core.reviews import ReviewSettings
    from desktop.services import Services

    services = Services.open(home)
    save_settings(services.paths, replace(services.settings, review=ReviewSettings(reviewer)))
    engine = services.engine("restyle-cli run")
    jobs = [await engine.submit(JobSpec("local", task, inputs, params))
            for task, inputs, params in plans]
    for job in jobs:
        await engine.wait(job.id)
    await engine.aclose()
    await services.aclose()
    services.close()
    return [job.id for job in jobs]


def frame(window: MainWindow) -> None:
    """What the shots are about in view: the History tab in front (on a small screen it
    shares its place with the Jobs list), the result panel tall enough, scrolled to the
    reviews."""
    w = window
    w.history_dock.show()
    w.history_dock.raise_()
    total = sum(w.centre_splitter.sizes())
    w.centre_splitter.setSizes([int(total * 0.5), total - int(total * 0.5)])
    scroll = w.result_panel.findChild(QScrollArea, "resultPanelScroll")
    if scroll is not None:
        scroll.ensureWidgetVisible(w.result_panel.review_editor.others)


async def team_scenario(app: QApplication, out: Path, stack: ExitStack,
                        size: tuple[int, int]) -> None:
    import psycopg

    from desktop.config import ASSETS_DIR_ENV, DATABASE_URL_ENV
    from desktop.core.reviews import Review, Verdict
    from desktop.core.store import History, changes
    from desktop.core.store.changes import FeedStatus
    from desktop.core.store.reviews import ReviewStore
    from tests.pg_cluster import PgCluster
    from tests.ui.team_support import desk_window

    cluster = PgCluster().start()
    stack.callback(cluster.stop)
    url = cluster.create_database("studio")
    root = Path(tempfile.mkdtemp(prefix="restyle-team-shots-"))
    os.environ[DATABASE_URL_ENV] = url
    os.environ[ASSETS_DIR_ENV] = str(root / "shared-assets")
    stack.callback(os.environ.pop, DATABASE_URL_ENV, None)
    stack.callback(os.environ.pop, ASSETS_DIR_ENV, None)
    # A longer wait before the feed connects again, so "reconnecting…" can be photographed.
    changes.RECONNECT_DELAYS = (6.0, 6.0)
    stack.callback(setattr, changes, "RECONNECT_DELAYS", (0.2, 0.5, 1.0, 2.0, 5.0))
    person, room = str(SAMPLES / "person.png"), str(SAMPLES / "room.jpg")
    tshirt, jacket = str(SAMPLES / "garment-tshirt.png"), str(SAMPLES / "garment-jacket.png")

    # Sam's desk ran a few jobs earlier.
    sam = await _run_jobs(root / "desk-sam", "sam", [
        ("upscale", {"image": [room]}, {"factor": 2}),
        ("recolor", {"image": [person]}, {"color": "crimson", "seed": "0.5,0.4"}),
        ("tryon", {"person": [person], "garment": [tshirt]}, {}),
    ])
    # Ben's window: the team history, sam's try-on shown.
    window = desk_window(root / "desk-ben", "ben")
    window.resize(*size)
    window.show()
    await window.start()
    team = window.workbench.team
    assert team.feed is not None and team.feed.wait_listening(10)
    await window.workbench.show_job(sam[-1])
    await window.workbench.reviews.idle()
    window.history_panel.select_job(sam[-1])
    await settle(1.0)

    # While ben looks: cleo reviews the try-on on her desk, and sam runs another one.
    other = History(url)
    stack.callback(other.close)
    ReviewStore(other).save(Review(sam[-1], 0, "cleo", Verdict.FAIL, 2,
                                   ("garment shape changed",), "sleeve too short"))
    editor = window.result_panel.review_editor
    await until(lambda: "cleo: Fail" in editor.others.text(), 5)
    fresh = await _run_jobs(root / "desk-sam", "sam", [
        ("tryon", {"person": [person], "garment": [jacket]}, {}),
    ])
    await until(lambda: fresh[0] in window.history_panel.job_ids_loaded(), 5)
    await settle(1.5)  # thumbnails
    frame(window)
    await settle(0.5)
    camera = Camera(out, first=300)
    camera.shoot(window, "team-review-and-job-from-other-desks")

    # The server cuts the change feed: the status bar says so until it is back; then what
    # changed meanwhile (dora's review of the new try-on) is read again.
    await window.workbench.show_job(fresh[0])
    window.history_panel.select_job(fresh[0])
    await window.workbench.reviews.idle()
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (team.feed.backend_pid,))
    await until(lambda: team.status == FeedStatus.LOST, 5)
    ReviewStore(other).save(Review(fresh[0], 0, "dora", Verdict.PASS, 4))
    frame(window)
    await settle(0.6)
    camera.shoot(window, "team-reconnecting")
    await until(lambda: team.status == FeedStatus.BACK, 15)
    await until(lambda: "dora: Pass" in editor.others.text(), 5)
    frame(window)
    await settle(1.0)
    camera.shoot(window, "team-back-with-what-changed-meanwhile")

    # Generate in team mode: the job waits in the team's queue, then a worker runs it.
    from desktop.core.model import JobState
    from tests.team.support import clean_env, start_worker, stop_workers

    wb = window.workbench
    assert window.task_selector.select_key("tryon")
    window.provider_selector.set_checked(["local"])
    await window.panes["person"].add_sources([person])
    await window.panes["garment"].add_sources([jacket])
    [queued] = await wb.generate()
    window.queue_dock.show()
    window.queue_dock.raise_()
    await settle(0.8)
    camera.shoot(window, "team-generate-sent-to-the-workers")
    worker = start_worker(0, root, clean_env(RESTYLE_DATABASE_URL=url,
                                             RESTYLE_ASSETS_DIR=str(root / "shared-assets")),
                          queue="default", concurrency=2, provider="local", limit=2)
    try:
        await until(lambda: (j := window.job_queue.job(queued.id)) is not None
                    and j.state == JobState.SUCCEEDED, 60)
    finally:
        stop_workers([worker])
    await wb.show_job(queued.id)
    await settle(1.0)
    camera.shoot(window, "team-job-done-by-a-worker")

    # Review mode over the team's try-ons: a teammate's review of the output shown arrives
    # while ben reviews it.
    jobs = [j for j in (other.get(sam[-1]), other.get(fresh[0])) if j is not None]
    mode = await wb.reviews.start_review_mode(jobs)
    assert mode is not None
    await mode.settle()
    ReviewStore(other).save(Review(sam[-1], 0, "eli", Verdict.PASS, 3, (),
                                   "fits; colour a touch dark"))
    await until(lambda: "eli: Pass" in mode.editor.others.text(), 5)
    await settle(1.0)
    camera.shoot(window, "team-review-mode-with-a-teammates-review")
    mode.leave()
    await settle(0.3)
    started = time.monotonic()
    window.close()
    await window.aclose()
    print(f"closed in {time.monotonic() - started:.2f} s")
