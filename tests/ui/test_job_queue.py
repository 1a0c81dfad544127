"""The job queue dock: rows, live times and countdowns, errors with what to do, actions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLabel, QPushButton, QToolButton

from desktop.core.model import ErrorCode, Job, JobError, JobSpec, JobState, Output
from desktop.ui.job_queue import JobQueueView, format_countdown, format_elapsed

T0 = 1_700_000_000.0

PROVIDERS = {"local": "Local", "fitinview": "FitInView", "vistoure": "VistoureAI",
             "tryonapi": "TryonAPI"}
TASKS = {("local", "recolor"): "Recolor", ("fitinview", "tryon"): "Try-on"}


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def make_job(job_id: str, state: JobState, *, provider: str = "local", task: str = "recolor",
             created: float = T0, started: float | None = None, finished: float | None = None,
             progress: float | None = None, error: JobError | None = None, note: str = "",
             outputs: int = 0) -> Job:
    return Job(
        id=job_id, spec=JobSpec(provider, task, {"image": ["/tmp/a.png"]}), state=state,
        created_at=created, updated_at=finished or created, started_at=started,
        finished_at=finished, progress=progress, error=error, note=note,
        outputs=tuple(Output(i, f"{i:064x}", "image/png", 10) for i in range(outputs)),
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue(qtbot, clock: Clock) -> Iterator[JobQueueView]:  # type: ignore[no-untyped-def]
    view = JobQueueView(PROVIDERS, TASKS, clock=clock)
    qtbot.addWidget(view)
    view.resize(420, 600)
    view.show()
    qtbot.waitExposed(view)
    yield view


def button(queue: JobQueueView, name: str) -> QToolButton:
    found = queue.findChild(QToolButton, name)
    assert found is not None, name
    return found


def counts_text(queue: JobQueueView) -> str:
    label = queue.findChild(QLabel, "jobQueueCounts")
    assert label is not None
    return label.text().replace("\u00a0", " ")


def test_formats() -> None:
    assert format_elapsed(12.9) == "0:12"
    assert format_elapsed(725) == "12:05"
    assert format_elapsed(3723) == "1:02:03"
    assert format_countdown(6.2) == "7 s"
    assert format_countdown(65) == "1 min 5 s"
    assert format_countdown(0.2) == "1 s"


def test_rows_newest_first_with_state_and_elapsed(queue: JobQueueView, clock: Clock) -> None:
    assert queue.objectName() == "jobQueue"
    done = make_job("a", JobState.SUCCEEDED, created=T0 - 100, started=T0 - 100,
                    finished=T0 - 55, note="Local preview (no AI)", outputs=2)
    queue.update_job(done)
    running = make_job("b", JobState.RUNNING, provider="fitinview", task="tryon",
                       created=T0 - 20, started=T0 - 12)
    queue.update_job(running)
    queued = make_job("c", JobState.QUEUED, task="upscale", created=T0 - 1)
    queue.update_job(queued)
    assert "Waiting to start." in queue.row_text("c")
    assert queue.job_ids() == ["c", "b", "a"]
    assert queue.job("b") == running

    assert queue.row_text("a").splitlines()[:2] == ["Local · Recolor",
                                                   "Succeeded · 2 results · 0:45"]
    assert "Local preview (no AI)" in queue.row_text("a")
    assert queue.row_text("b").splitlines()[:2] == ["FitInView · Try-on", "Running · 0:12"]
    # Unknown task ids get a readable title.
    assert queue.row_text("c").splitlines()[0] == "Local · Upscale"

    clock.now += 5
    queue.tick()
    assert "Running · 0:17" in queue.row_text("b")
    assert "0:45" in queue.row_text("a")  # a finished job shows its duration, not a clock
    assert counts_text(queue) == "1 running · 1 queued · 1 succeeded"

    # A job that started earlier but arrives later (resumed) is sorted by creation time.
    queue.update_job(make_job("old", JobState.RUNNING, created=T0 - 500, started=T0 - 500))
    assert queue.job_ids() == ["c", "b", "a", "old"]
    queue.update_job(running.evolve(state=JobState.DOWNLOADING))
    assert queue.job_ids() == ["c", "b", "a", "old"]
    assert queue.row_text("b").splitlines()[1].startswith("Downloading")


def test_progress_shows_percent(queue: JobQueueView) -> None:
    job = make_job("p", JobState.RUNNING, started=T0)
    queue.update_job(job)
    assert "%" not in queue.row_text("p")
    queue.update_job(job.evolve(progress=0.4, note="Rendering"), message="Rendering")
    lines = queue.row_text("p").splitlines()
    assert lines[1] == "Running · 0:00 · 40 %"
    assert lines[2] == "Rendering"


def test_rate_limit_countdown_ticks_down(queue: JobQueueView, clock: Clock) -> None:
    job = make_job("r", JobState.RUNNING, provider="fitinview", task="tryon", started=T0)
    queue.update_job(job)
    queue.update_job(job, message="FitInView is rate limiting requests. Checking again in 7 s.",
                     retry_at=clock.now + 7, error_code=ErrorCode.RATE_LIMITED)
    assert "Rate limited: next try in 7 s" in queue.row_text("r")
    assert queue.timer_active()

    clock.now += 3
    queue.tick()
    assert "Rate limited: next try in 4 s" in queue.row_text("r")
    # The detail area of the selected job counts down too, without the engine's stale "7 s".
    queue.select_job("r")
    detail = queue.findChild(QLabel, "jobDetailMessage")
    assert detail is not None
    assert "next try in 4 s" in detail.text()
    assert "FitInView is rate limiting requests." in detail.text()
    assert "Checking again in 7 s" not in detail.text()

    clock.now += 4
    queue.tick()
    assert "trying again now" in queue.row_text("r")
    # The next event without retry_at ends the wait.
    queue.update_job(job.evolve(progress=0.5), message="Working")
    assert "Rate limited" not in queue.row_text("r")
    assert "50 %" in queue.row_text("r")


def test_wait_line_disappears_when_engine_stays_silent(queue: JobQueueView,
                                                       clock: Clock) -> None:
    job = make_job("w", JobState.RUNNING, started=T0)
    queue.update_job(job, message="Service unavailable.", retry_at=clock.now + 2,
                     error_code=ErrorCode.PROVIDER_UNAVAILABLE)
    assert "Provider unavailable: next try in 2 s" in queue.row_text("w")
    clock.now += 10
    queue.tick()
    assert "Provider unavailable" not in queue.row_text("w")


def test_timer_runs_only_while_something_is_live(queue: JobQueueView, clock: Clock) -> None:
    assert not queue.timer_active()
    queue.update_job(make_job("f", JobState.SUCCEEDED, finished=T0 + 3))
    assert not queue.timer_active()
    job = make_job("l", JobState.RUNNING, started=T0)
    queue.update_job(job)
    assert queue.timer_active()
    queue.update_job(job.evolve(state=JobState.SUCCEEDED, finished_at=T0 + 4))
    queue.tick()
    assert not queue.timer_active()


def test_auth_failure_shows_message_and_settings_button(queue: JobQueueView, qtbot) -> None:  # type: ignore[no-untyped-def]
    message = ("FitInView refused the API key (401). Check the key in Settings > FitInView; "
               "keys start with 'fiv_'.")
    failed = make_job("x", JobState.FAILED, provider="fitinview", task="tryon",
                      started=T0, finished=T0 + 2,
                      error=JobError(ErrorCode.AUTH_FAILED, message, "invalid_api_key"))
    queue.update_job(failed)
    queue.update_job(make_job("y", JobState.RUNNING, started=T0))
    assert message in queue.row_text("x")
    settings = queue.findChild(QPushButton, "openProviderSettingsButton")
    assert settings is not None
    queue.select_job("y")
    assert settings.isHidden()

    with qtbot.waitSignal(queue.currentJobChanged) as changed:
        queue.select_job("x")
    assert changed.args == ["x"]
    assert queue.current_job_id() == "x"
    detail = queue.findChild(QLabel, "jobDetailMessage")
    assert detail is not None
    assert message in detail.text() and "Provider code: invalid_api_key" in detail.text()
    assert detail.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    advice = queue.findChild(QLabel, "jobDetailAdvice")
    assert advice is not None and "FitInView" in advice.text() and advice.isVisible()
    assert settings.isVisible()
    assert settings.text() == "Open FitInView settings"
    assert settings.accessibleName() == "Open FitInView settings"
    with qtbot.waitSignal(queue.settingsRequested) as blocker:
        qtbot.mouseClick(settings, Qt.MouseButton.LeftButton)
    assert blocker.args == ["fitinview"]


@pytest.mark.parametrize(("code", "settings_shown"), [
    (ErrorCode.INSUFFICIENT_CREDITS, True),
    (ErrorCode.MISSING_KEY, True),
    (ErrorCode.JOB_FAILED, False),
    (ErrorCode.PROVIDER_UNAVAILABLE, False),
    (ErrorCode.NETWORK, False),
])
def test_what_to_do_per_error(queue: JobQueueView, code: ErrorCode,
                              settings_shown: bool) -> None:
    job = make_job("e", JobState.FAILED, provider="vistoure", task="staging", finished=T0 + 1,
                   error=JobError(code, f"It failed: {code}."))
    queue.update_job(job)
    queue.select_job("e")
    settings = queue.findChild(QPushButton, "openProviderSettingsButton")
    assert settings is not None and settings.isVisible() is settings_shown
    assert button(queue, "retryJobButton").isEnabled()
    assert f"It failed: {code}." in queue.row_text("e")
    advice = queue.findChild(QLabel, "jobDetailAdvice")
    assert advice is not None and advice.text()
    if code == ErrorCode.INSUFFICIENT_CREDITS:
        assert "credits" in advice.text()
    if not settings_shown:
        assert "retry" in advice.text().lower()


def test_long_error_is_wrapped_in_row_and_whole_in_detail(queue: JobQueueView) -> None:
    message = "The provider said: " + " ".join(f"word{i}" for i in range(80)) + " END"
    queue.update_job(make_job("s", JobState.SUCCEEDED, finished=T0 + 1))
    short_height = queue.list_view.visualRect(queue.list_view.model().index(0, 0)).height()
    queue.update_job(make_job("long", JobState.TIMED_OUT, finished=T0 + 9,
                              error=JobError(ErrorCode.TIMED_OUT, message)))
    queue.select_job("long")
    detail = queue.findChild(QLabel, "jobDetailMessage")
    assert detail is not None and message in detail.text()

    def long_row_height() -> int:
        queue.list_view.doItemsLayout()
        return queue.list_view.visualRect(queue.list_view.model().index(0, 0)).height()

    assert long_row_height() > short_height
    assert message in queue.row_text("long")


def test_cancel_enabled_only_for_live_jobs(queue: JobQueueView, qtbot) -> None:  # type: ignore[no-untyped-def]
    queue.update_job(make_job("run", JobState.RUNNING, started=T0))
    queue.update_job(make_job("done", JobState.SUCCEEDED, finished=T0 + 1, created=T0 - 5))
    cancel = button(queue, "cancelJobButton")
    assert not cancel.isEnabled()  # nothing selected
    queue.select_job("run")
    assert cancel.isEnabled()
    assert not button(queue, "removeJobButton").isEnabled()
    assert not button(queue, "retryJobButton").isEnabled()
    with qtbot.waitSignal(queue.cancelRequested) as blocker:
        qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert blocker.args == ["run"]
    queue.select_job("done")
    assert not cancel.isEnabled()
    with qtbot.assertNotEmitted(queue.cancelRequested):
        qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    # A running job that ends while selected updates the buttons.
    queue.select_job("run")
    queue.update_job(make_job("run", JobState.CANCELLED, started=T0, finished=T0 + 2,
                              error=JobError(ErrorCode.CANCELLED, "Cancelled by you.")))
    assert not cancel.isEnabled()
    assert button(queue, "retryJobButton").isEnabled()
    assert "Cancelled by you." in queue.row_text("run")


def test_retry_open_remove_emit(queue: JobQueueView, qtbot) -> None:  # type: ignore[no-untyped-def]
    queue.update_job(make_job("ok", JobState.SUCCEEDED, finished=T0 + 1, outputs=1))
    queue.update_job(make_job("bad", JobState.FAILED, finished=T0 + 1, created=T0 + 1,
                              error=JobError(ErrorCode.JOB_FAILED, "The model crashed.")))
    queue.select_job("bad")
    assert not button(queue, "openResultButton").isEnabled()
    with qtbot.waitSignal(queue.retryRequested) as retried:
        qtbot.mouseClick(button(queue, "retryJobButton"), Qt.MouseButton.LeftButton)
    assert retried.args == ["bad"]

    queue.select_job("ok")
    assert button(queue, "retryJobButton").text() == "Run again"
    with qtbot.waitSignal(queue.openRequested) as opened:
        qtbot.mouseClick(button(queue, "openResultButton"), Qt.MouseButton.LeftButton)
    assert opened.args == ["ok"]

    # Double-click opens too.
    rect = queue.list_view.visualRect(queue.list_view.model().index(1, 0))
    viewport = queue.list_view.viewport()
    # QTest's double-click sends no press first; the view needs the press of a real one.
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    with qtbot.waitSignal(queue.openRequested) as opened:
        qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened.args == ["ok"]

    with qtbot.waitSignal(queue.removeRequested) as removed:
        qtbot.mouseClick(button(queue, "removeJobButton"), Qt.MouseButton.LeftButton)
    assert removed.args == ["ok"]
    assert queue.job_ids() == ["bad"]
    assert queue.job("ok") is None
    queue.remove_job("ok")  # the window may call it again: nothing happens


def test_keyboard_delete_enter_ctrl_r(queue: JobQueueView, qtbot) -> None:  # type: ignore[no-untyped-def]
    queue.update_job(make_job("live", JobState.RUNNING, started=T0, created=T0 + 1))
    queue.update_job(make_job("done", JobState.SUCCEEDED, finished=T0 + 1, outputs=1))
    queue.activateWindow()
    queue.list_view.setFocus()
    qtbot.waitUntil(queue.list_view.hasFocus)
    queue.select_job("done")

    with qtbot.waitSignal(queue.openRequested) as opened:
        qtbot.keyClick(queue.list_view, Qt.Key.Key_Return)
    assert opened.args == ["done"]
    with qtbot.waitSignal(queue.retryRequested) as retried:
        qtbot.keyClick(queue.list_view, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert retried.args == ["done"]

    queue.select_job("live")
    with qtbot.assertNotEmitted(queue.removeRequested):
        qtbot.keyClick(queue.list_view, Qt.Key.Key_Delete)
    assert queue.job_ids() == ["live", "done"]

    queue.select_job("done")
    with qtbot.waitSignal(queue.removeRequested) as removed:
        qtbot.keyClick(queue.list_view, Qt.Key.Key_Delete)
    assert removed.args == ["done"]
    assert queue.job_ids() == ["live"]
    # The selection moves to the remaining row.
    assert queue.current_job_id() == "live"


def test_context_menu_has_the_actions(queue: JobQueueView, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QApplication, QMenu

    queue.update_job(make_job("m", JobState.FAILED, provider="fitinview", finished=T0 + 1,
                              error=JobError(ErrorCode.INSUFFICIENT_CREDITS, "No credits left.")))
    rect = queue.list_view.visualRect(queue.list_view.model().index(0, 0))
    queue.list_view.customContextMenuRequested.emit(rect.center())
    menu = None

    def menu_shown() -> bool:
        nonlocal menu
        menu = next((w for w in QApplication.topLevelWidgets()
                     if isinstance(w, QMenu) and w.isVisible()), None)
        return menu is not None

    qtbot.waitUntil(menu_shown)
    assert menu is not None
    texts = [a.text() for a in menu.actions() if a.text()]
    assert texts == ["Open result", "Retry", "Cancel", "Remove", "Open FitInView settings"]
    assert queue.current_job_id() == "m"
    enabled = {a.text(): a.isEnabled() for a in menu.actions() if a.text()}
    assert enabled["Retry"] and enabled["Remove"] and not enabled["Cancel"]
    with qtbot.waitSignal(queue.settingsRequested) as blocker:
        menu.actions()[-1].trigger()
    assert blocker.args == ["fitinview"]
    menu.close()


def test_clear_finished_keeps_live_jobs(queue: JobQueueView, qtbot) -> None:  # type: ignore[no-untyped-def]
    queue.update_job(make_job("a", JobState.SUCCEEDED, finished=T0 + 1))
    queue.update_job(make_job("b", JobState.RUNNING, created=T0 + 1))
    queue.update_job(make_job("c", JobState.FAILED, created=T0 + 2, finished=T0 + 3,
                              error=JobError(ErrorCode.NETWORK, "No connection.")))
    queue.select_job("c")
    clear = queue.findChild(QPushButton, "clearFinishedButton")
    assert clear is not None and clear.isEnabled()
    removed: list[str] = []
    queue.removeRequested.connect(removed.append)
    current: list[str] = []
    queue.currentJobChanged.connect(current.append)
    qtbot.mouseClick(clear, Qt.MouseButton.LeftButton)
    assert queue.job_ids() == ["b"]
    assert sorted(removed) == ["a", "c"]
    assert not clear.isEnabled()
    assert counts_text(queue) == "1 running"
    # The selection moved to the job that stayed, and the window heard of it.
    assert queue.current_job_id() == current[-1] == "b"


def test_accessible_names(queue: JobQueueView) -> None:
    for child in [*queue.findChildren(QToolButton), *queue.findChildren(QPushButton)]:
        assert child.accessibleName(), child.objectName()
    assert queue.list_view.accessibleName() == "Jobs"


def test_many_jobs_many_updates(queue: JobQueueView, clock: Clock) -> None:
    jobs = [make_job(f"j{i:03d}", JobState.RUNNING, provider="fitinview", task="tryon",
                     created=T0 + i, started=T0 + i) for i in range(200)]
    for job in jobs:
        queue.update_job(job)
    queue.select_job("j150")
    for n in range(2000):
        job = jobs[(n * 7) % 200]
        clock.now += 0.01
        queue.update_job(job.evolve(progress=(n % 100) / 100), message=f"step {n}")
        if n % 250 == 0:
            queue.tick()
    # Finish half of them.
    for job in jobs[::2]:
        queue.update_job(job.evolve(state=JobState.SUCCEEDED, finished_at=clock.now))
    assert len(queue.job_ids()) == 200
    assert queue.job_ids()[0] == "j199"
    assert counts_text(queue) == "100 running · 100 succeeded"
    last = jobs[(1999 * 7) % 200]
    assert f"{99} %" in queue.row_text(last.id) and "step 1999" in queue.row_text(last.id)
    queue.list_view.viewport().repaint()
    assert queue.current_job_id() == "j150"


def test_empty_queue_and_point_outside_rows(queue: JobQueueView, qtbot) -> None:  # type: ignore[no-untyped-def]
    assert queue.job_ids() == []
    assert queue.current_job_id() == ""
    queue.list_view.viewport().repaint()  # paints the "No jobs yet" sentence
    # A right-click below the rows opens nothing and selects nothing.
    queue.list_view.customContextMenuRequested.emit(QPoint(5, 500))
    assert queue.current_job_id() == ""


UNKNOWN = ("TryonAPI did not confirm that it received this job (the connection broke off or "
           "timed out before it answered). It may have created the job and charged for it. "
           "TryonAPI offers no way to look it up, so check your TryonAPI account before running "
           "it again; then abandon this entry.")
MISSING = ("Checking this job at FitInView failed: No API key for FitInView. Add one in Settings"
           " or with `restyle-cli keys set --provider fitinview`. FitInView has accepted the "
           "job, so it may be charged. Restyle keeps it: once this is fixed, Retry (or "
           "`restyle-cli resume`) collects the result.")


def waiting_job(job_id: str, message: str, code: ErrorCode, *, provider: str = "fitinview",
                remote_id: str | None = "r1", created: float = T0) -> Job:
    return make_job(job_id, JobState.NEEDS_ATTENTION, provider=provider, task="tryon",
                    created=created, started=created, error=JobError(code, message)
                    ).evolve(remote_id=remote_id, updated_at=created + 42)


def test_a_job_that_needs_attention_offers_retry_and_abandon(queue: JobQueueView, qtbot,  # type: ignore[no-untyped-def]
                                                             clock: Clock) -> None:
    queue.update_job(waiting_job("w", MISSING, ErrorCode.MISSING_KEY))
    lines = queue.row_text("w").splitlines()
    # The state, a clock stopped where the job stopped, and the first sentence, plain.
    assert lines[1] == "Needs attention · 0:42"
    assert lines[2:] == ["Checking this job at FitInView failed: No API key for FitInView."]
    assert counts_text(queue) == "1 needs attention"
    assert not queue.timer_active()
    assert queue.running_count() == 0
    clock.now += 100
    queue.tick()
    assert queue.row_text("w").splitlines()[1] == "Needs attention · 0:42"
    model = queue.list_view.model()
    tooltip = model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    assert "FitInView has accepted the job, so it may be charged" in tooltip
    assert "restyle-cli" not in tooltip and "Retry collects the result." in tooltip

    queue.select_job("w")
    detail = queue.findChild(QLabel, "jobDetailMessage")
    advice = queue.findChild(QLabel, "jobDetailAdvice")
    assert detail is not None and advice is not None
    assert "so it may be charged" in detail.text() and "Add one in Settings." in detail.text()
    assert advice.text() == ("Set a working FitInView key in its settings, then press Retry to "
                             "collect the job.")
    settings = queue.findChild(QPushButton, "openProviderSettingsButton")
    assert settings is not None and settings.isVisible()

    retry, abandon = button(queue, "retryJobButton"), button(queue, "cancelJobButton")
    assert retry.isEnabled() and retry.text() == "Retry"
    assert abandon.isEnabled() and abandon.text() == "Abandon…"
    assert abandon.accessibleName() == "Abandon job"
    assert not button(queue, "removeJobButton").isEnabled()
    # Retry collects the job (never a new one); Abandon goes to the window, which asks.
    with qtbot.assertNotEmitted(queue.retryRequested), \
            qtbot.waitSignal(queue.collectRequested) as collected:
        qtbot.mouseClick(retry, Qt.MouseButton.LeftButton)
    assert collected.args == ["w"]
    with qtbot.waitSignal(queue.cancelRequested) as cancelled:
        qtbot.mouseClick(abandon, Qt.MouseButton.LeftButton)
    assert cancelled.args == ["w"]
    # "Clear finished" leaves it: it is not finished.
    queue.clear_finished()
    assert queue.job_ids() == ["w"]

    # Abandoned: an ordinary finished row again, with the words back.
    queue.update_job(make_job("w", JobState.CANCELLED, provider="fitinview", task="tryon",
                              started=T0, finished=T0 + 50, error=JobError(
                                  ErrorCode.CANCELLED, "Cancelled by you.")))
    assert abandon.text() == "Cancel" and not abandon.isEnabled()
    assert counts_text(queue) == "1 cancelled"


def test_an_unknown_outcome_without_a_job_list_cannot_be_retried(queue: JobQueueView) -> None:
    queue.set_provider_traits(free=["local"], cannot_look_up=["tryonapi"])
    queue.update_job(waiting_job("u", UNKNOWN, ErrorCode.UNKNOWN_OUTCOME,
                                 provider="tryonapi", remote_id=None))
    queue.select_job("u")
    assert queue.row_text("u").splitlines()[2].startswith("TryonAPI did not confirm")
    assert not button(queue, "retryJobButton").isEnabled()
    assert button(queue, "cancelJobButton").isEnabled()
    advice = queue.findChild(QLabel, "jobDetailAdvice")
    assert advice is not None and "check your TryonAPI account" in advice.text()
    settings = queue.findChild(QPushButton, "openProviderSettingsButton")
    assert settings is not None and settings.isHidden()
    # Where the provider has a job list, Retry looks the job up.
    queue.set_provider_traits(free=["local"], cannot_look_up=[])
    assert button(queue, "retryJobButton").isEnabled()


def test_cancel_says_it_asks_first_where_the_job_may_be_charged(queue: JobQueueView) -> None:
    queue.set_provider_traits(free=["local"])
    queue.update_job(make_job("paid", JobState.RUNNING, provider="fitinview", task="tryon",
                              started=T0).evolve(remote_id="r9"))
    queue.update_job(make_job("free", JobState.RUNNING, started=T0, created=T0 + 1
                              ).evolve(remote_id="l1"))
    cancel = button(queue, "cancelJobButton")
    queue.select_job("paid")
    assert cancel.text() == "Cancel…"
    queue.select_job("free")
    assert cancel.text() == "Cancel"


def test_a_job_another_restyle_runs_says_where(queue: JobQueueView) -> None:
    from desktop.core.engine.ledger import Owner

    mine, theirs = Owner("here", 1, "a", "the Restyle window"), Owner("studio", 4242, "b",
                                                                        "restyle-cli run")
    queue.set_own_owner(mine.encode())
    queue.update_job(make_job("o", JobState.RUNNING, started=T0).evolve(owner=mine.encode()))
    queue.update_job(make_job("t", JobState.RUNNING, started=T0, created=T0 + 1
                              ).evolve(owner=theirs.encode(), note="Rendering"))
    assert queue.holder("o") == "" and "Running in" not in queue.row_text("o")
    assert queue.holder("t") == "restyle-cli run (process 4242 on studio)"
    assert queue.row_text("t").splitlines()[2] == (
        "Running in restyle-cli run (process 4242 on studio)")
    queue.note_message("t", "Asked restyle-cli run (process 4242 on studio) to cancel it.")
    # A fresh look at the job (the window refreshes such rows) keeps what was said.
    queue.update_job(make_job("t", JobState.RUNNING, started=T0, created=T0 + 1
                              ).evolve(owner=theirs.encode()))
    assert queue.row_text("t").splitlines()[2] == (
        "Asked restyle-cli run (process 4242 on studio) to cancel it.")
    queue.select_job("t")
    assert button(queue, "cancelJobButton").text() == "Cancel…"
    detail = queue.findChild(QLabel, "jobDetailMessage")
    assert detail is not None
    assert "Running in restyle-cli run (process 4242 on studio)." in detail.text()
    # It ended there: an ordinary finished row.
    queue.update_job(make_job("t", JobState.SUCCEEDED, started=T0, created=T0 + 1,
                              finished=T0 + 9, outputs=1))
    assert queue.holder("t") == ""
