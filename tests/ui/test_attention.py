"""The window and jobs that wait for the user, run elsewhere, or were left by a Restyle that
stopped: Retry collects a job without a second submit, Abandon asks first and says it may be
charged, start-up leaves another process's job alone and says so, a job whose owner's lease ran
out is picked up by the timer, and closing waits for a submit on its way, saying so."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QToolButton

from desktop.app import RestyleWindow, create_main_window
from desktop.core.contract import PreparedJob
from desktop.core.engine.ledger import Owner
from desktop.core.model import ErrorCode, Job, JobError, JobSpec, JobState
from desktop.core.store import History
from desktop.ui.history_view import detail_text
from tests.conftest import MemoryKeyring
from tests.emulators.fitinview import FitInViewEmulator
from tests.emulators.kit import Fault, serve
from tests.emulators.tryonapi import TryonApiEmulator
from tests.ui.test_window import choose, finished, generate, image_file, until

#: Another Restyle, on another machine, that holds a job while its lease runs.
CLI = Owner("studio", 4242, "c0ffee", "restyle-cli run")
CLI_TEXT = "restyle-cli run (process 4242 on studio)"


@pytest.fixture
def make_window(home: Path, qtbot: Any, loop: asyncio.AbstractEventLoop
                ) -> Iterator[Callable[[], RestyleWindow]]:
    windows: list[RestyleWindow] = []

    def make() -> RestyleWindow:
        window = create_main_window(home)
        qtbot.addWidget(window)
        window.resize(1360, 860)
        windows.append(window)
        return window

    yield make
    for window in windows:
        loop.run_until_complete(window.aclose())


@pytest.fixture
def pictures(tmp_path: Path) -> tuple[Path, Path]:
    return (image_file(tmp_path / "person.png", (200, 150, 120), (300, 400)),
            image_file(tmp_path / "garment.png", (30, 60, 200), (200, 200)))


def tool_button(window: RestyleWindow, name: str) -> QToolButton:
    button = window.job_queue.findChild(QToolButton, name)
    assert button is not None, name
    return button


def detail(window: RestyleWindow, name: str) -> QLabel:
    label = window.job_queue.findChild(QLabel, name)
    assert label is not None, name
    return label


class StatusLog:
    """Every status bar message, in order."""

    def __init__(self, window: RestyleWindow) -> None:
        self.messages: list[str] = []
        window.statusBar().messageChanged.connect(self._got)

    def _got(self, text: str) -> None:
        if text:
            self.messages.append(text)

    def any(self, fragment: str) -> bool:
        return any(fragment in m for m in self.messages)


async def answer(window: RestyleWindow, button: str) -> str:
    """Wait for the abandon/cancel confirmation, press `button`'s object name, return its
    text (the question)."""
    attention = window.workbench.attention
    await until(lambda: attention.dialog() is not None, 5, "the confirmation")
    box = attention.dialog()
    assert box is not None and box.objectName() == "abandonConfirm"
    text = f"{box.text()}\n{box.informativeText()}"
    pressed = box.findChild(QPushButton, button)
    assert pressed is not None, button
    pressed.click()
    await until(lambda: attention.dialog() is None, 5, "the confirmation to close")
    return text


async def accepted_at_fitinview(window: RestyleWindow, pictures: tuple[Path, Path],
                                state: JobState, **fields: Any) -> Job:
    """A job FitInView has accepted (one real submit to the emulator), stored as `state`."""
    spec = JobSpec("fitinview", "tryon", {"person": [str(pictures[0])],
                                          "garment": [str(pictures[1])]})
    prepared = await window.engine.prepare(spec)
    job_id = uuid.uuid4().hex
    ref = await window.engine.provider("fitinview").submit(
        PreparedJob(job_id, "tryon", prepared.inputs, prepared.spec.params))
    now = time.time()
    return Job(id=job_id, spec=prepared.spec, state=state, created_at=now, updated_at=now,
               started_at=now, deadline_at=now + 600, remote_id=ref.remote_id,
               remote_data=ref.data, attempts=1, **fields)


def test_a_missing_key_waits_with_its_sentence_and_retry_collects_it_without_a_second_submit(
        make_window: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        pictures: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
        memory_keyring: MemoryKeyring) -> None:
    """On a machine with a keyring (without one the sentence names the environment variable:
    tests/test_readme_commands.py and tests/test_services.py)."""
    emu = FitInViewEmulator(job_delay=3.0)
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_FITINVIEW_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_FITINVIEW_API_KEY", emu.api_key)
        window = make_window()
        queue = window.job_queue
        status = StatusLog(window)

        async def body() -> Job:
            await window.start()
            choose(window, "tryon", ["fitinview"])
            await window.panes["person"].add_sources([str(pictures[0])])
            await window.panes["garment"].add_sources([str(pictures[1])])
            jobs = await generate(window)
            job_id = jobs[0].id
            await until(lambda: queue.job(job_id).state == JobState.RUNNING, 10, "accepted")
            monkeypatch.delenv("RESTYLE_FITINVIEW_API_KEY")  # the key is gone mid-way
            await until(lambda: queue.job(job_id).state == JobState.NEEDS_ATTENTION, 15,
                        "the job to wait for the user")
            await window.workbench.idle()
            waiting = queue.job(job_id)
            assert waiting is not None and waiting.error is not None
            assert waiting.error.code == ErrorCode.MISSING_KEY
            assert status.any("A FitInView job needs your attention. Checking this job at "
                              "FitInView failed: No API key for FitInView.")

            # The row: its state, in its own colour's words, and the first sentence.
            queue.select_job(job_id)
            lines = queue.row_text(job_id).splitlines()
            assert lines[1].startswith("Needs attention")
            assert lines[2].startswith("Checking this job at FitInView failed")
            assert "may be charged" not in lines[2]  # the row has the short form
            model = queue.list_view.model()
            tooltip = model.data(model.index(queue.job_ids().index(job_id), 0),
                                 Qt.ItemDataRole.ToolTipRole)
            assert "FitInView has accepted the job, so it may be charged" in tooltip
            assert "restyle-cli" not in tooltip  # the window says Retry, not the command
            # The detail: the whole sentence, what to do, and the way to the settings.
            full = detail(window, "jobDetailMessage").text()
            assert "may be charged" in full and "Retry collects the result" in full
            assert "key" in detail(window, "jobDetailAdvice").text()
            settings = queue.findChild(QPushButton, "openProviderSettingsButton")
            assert settings is not None and settings.isVisibleTo(queue)
            assert settings.text() == "Open FitInView settings"
            retry = tool_button(window, "retryJobButton")
            abandon = tool_button(window, "cancelJobButton")
            assert retry.isEnabled() and retry.text() == "Retry"
            assert abandon.isEnabled() and abandon.text() == "Abandon…"
            assert not tool_button(window, "removeJobButton").isEnabled()
            assert "1\u00a0needs attention" in queue.findChild(QLabel, "jobQueueCounts").text()
            assert window.running_label.text() == ""

            # The result panel says what it waits for, and that it may have cost money.
            await window.workbench.show_job(job_id)
            panel = window.result_panel
            charged = panel.findChild(QLabel, "mayBeChargedLabel")
            assert charged is not None and charged.isVisibleTo(panel)
            assert charged.text() == "FitInView may have charged for this job."
            fields = {label.accessibleName(): label.text()
                      for label in panel.findChildren(QLabel) if label.accessibleName()}
            assert fields["State"].startswith("Needs attention: Checking this job at FitInView")
            assert "restyle-cli" not in fields["State"] and "Add one in Settings." in \
                fields["State"]
            assert fields["Duration"] == "not finished"

            # The key is back: Retry collects the same job.
            monkeypatch.setenv("RESTYLE_FITINVIEW_API_KEY", emu.api_key)
            retry.click()
            return await finished(window, job_id, 30)

        job = loop.run_until_complete(body())
        assert job.state == JobState.SUCCEEDED and job.outputs
        assert len(emu.requests_to("POST", "/api/v1/tryon")) == 1  # never paid twice
    assert queue.row_text(job.id).splitlines()[1].startswith("Succeeded")
    loop.run_until_complete(window.workbench.idle())
    charged = window.result_panel.findChild(QLabel, "mayBeChargedLabel")
    assert charged is not None and not charged.isVisibleTo(window.result_panel)


def test_an_unknown_outcome_is_abandoned_only_after_asking(
        make_window: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        pictures: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    emu = TryonApiEmulator(job_delay=0.2)
    emu.inject(Fault("malformed_json", "POST", "/api/v1/tryon"))
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_TRYONAPI_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_TRYONAPI_API_KEY", emu.api_key)
        window = make_window()
        queue = window.job_queue

        async def body() -> tuple[Job, str, str]:
            await window.start()
            choose(window, "tryon", ["tryonapi"])
            await window.panes["person"].add_sources([str(pictures[0])])
            await window.panes["garment"].add_sources([str(pictures[1])])
            jobs = await generate(window)
            job_id = jobs[0].id
            await until(lambda: queue.job(job_id).state == JobState.NEEDS_ATTENTION, 15,
                        "the unknown outcome to wait")
            queue.select_job(job_id)
            assert queue.row_text(job_id).splitlines()[2].startswith(
                "TryonAPI did not confirm that it received this job")
            # TryonAPI has no job list: Retry cannot help; the advice says what can.
            assert not tool_button(window, "retryJobButton").isEnabled()
            assert "check your TryonAPI account" in detail(window, "jobDetailAdvice").text()

            abandon = tool_button(window, "cancelJobButton")
            abandon.click()
            kept = await answer(window, "abandonConfirmKeep")
            await window.workbench.attention.idle()
            stored = window.services.history.get(job_id)
            assert stored is not None and stored.state == JobState.NEEDS_ATTENTION
            assert queue.job(job_id).state == JobState.NEEDS_ATTENTION

            abandon.click()
            asked = await answer(window, "abandonConfirmYes")
            return await finished(window, job_id, 10), kept, asked

        job, kept, asked = loop.run_until_complete(body())
        assert len(emu.requests_to("POST", "/api/v1/tryon")) == 1
    for question in (kept, asked):
        assert "TryonAPI may have received this job, so it may be charged even if you " \
               "abandon it." in question
        assert "Restyle will stop looking for it." in question
    assert job.state == JobState.CANCELLED and job.error is not None
    assert "may have created this job before it was cancelled" in job.error.message
    assert "check your TryonAPI account" in job.error.message
    assert "check your TryonAPI account" in queue.row_text(job.id)


def test_start_up_leaves_a_job_of_a_live_restyle_alone_and_says_so(
        make_window: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop) -> None:
    window = make_window()
    status = StatusLog(window)
    now = time.time()
    running = Job(id="a" * 32, spec=JobSpec("fitinview", "tryon", {"person": ["p.png"]}),
                  state=JobState.RUNNING, created_at=now - 30, updated_at=now - 5,
                  started_at=now - 30, remote_id="fiv_remote_1", attempts=1)
    window.services.history.save_job(running, owner=CLI.encode(), lease_until=now + 600)
    window.engine.policy = dataclasses.replace(window.engine.policy, cancel_wait_s=0.3)

    async def body() -> str:
        await window.start()
        await window.history_panel.settle()
        assert status.any(f"1 job is being worked on by {CLI_TEXT}, left alone.")
        lines = window.job_queue.row_text(running.id).splitlines()
        assert lines[1].startswith("Running")
        assert lines[2] == f"Running in {CLI_TEXT}"
        history = window.history_panel
        assert running.id in history.job_ids_loaded()
        assert detail_text(history.model.job(running.id), history.model.own_owner) == \
            f"Running in {CLI_TEXT}"
        # Cancel here asks that process (and asks first: FitInView may charge for it).
        window.job_queue.select_job(running.id)
        cancel = tool_button(window, "cancelJobButton")
        assert cancel.text() == "Cancel…"
        cancel.click()
        question = await answer(window, "abandonConfirmYes")
        await window.workbench.attention.idle()
        return question

    question = loop.run_until_complete(body())
    assert f"{CLI_TEXT} is working on this job" in question
    stored = window.services.history.get(running.id)
    assert stored is not None and stored.state == JobState.RUNNING
    assert stored.owner == CLI.encode()  # still that process's job
    assert stored.cancel_requested
    assert status.any(f"Asked {CLI_TEXT} to cancel it.")
    assert f"Asked {CLI_TEXT} to cancel it." in window.job_queue.row_text(running.id)


def test_the_timer_picks_up_a_job_whose_owner_stopped(
        make_window: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        pictures: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    emu = FitInViewEmulator(job_delay=0.3)
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_FITINVIEW_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_FITINVIEW_API_KEY", emu.api_key)
        window = make_window()
        status = StatusLog(window)
        history = window.services.history

        async def body() -> tuple[Job, Job]:
            job = await accepted_at_fitinview(window, pictures, JobState.RUNNING)
            history.save_job(job, owner=CLI.encode(), lease_until=time.time() + 600)
            waiting = await accepted_at_fitinview(
                window, pictures, JobState.NEEDS_ATTENTION,
                error=JobError(ErrorCode.MISSING_KEY, "No API key for FitInView."))
            await window.start()
            # A job that waits for the user appears (a CLI left it so): only Retry takes it.
            history.save_job(waiting)
            assert window.job_queue.holder(job.id) == CLI_TEXT  # alive: left alone
            attention = window.workbench.attention
            assert attention.timer.isActive()
            assert attention.timer.interval() == 30_000
            attention.timer.setInterval(100)
            await asyncio.sleep(0.4)  # ticks while the owner lives change nothing
            assert history.get(job.id).owner == CLI.encode()
            # The CLI is killed: its lease runs out.
            history.save_job(history.get(job.id), owner=CLI.encode(),
                             lease_until=time.time() - 1)
            done = await finished(window, job.id, 20)
            await asyncio.sleep(0.3)  # more ticks
            return done, history.get(waiting.id)

        job, waiting = loop.run_until_complete(body())
        assert len(emu.requests_to("POST", "/api/v1/tryon")) == 2  # one for each, no more
        polled = {r.path.rsplit("/", 1)[-1] for r in emu.requests_to("GET", "/api/v1/tryon/")}
        assert waiting.remote_id not in polled
    assert job.state == JobState.SUCCEEDED and job.outputs
    assert waiting.state == JobState.NEEDS_ATTENTION and waiting.owner is None
    assert status.any(f"Picked up 1 job that {CLI_TEXT} left unfinished")
    assert window.job_queue.holder(job.id) == ""


def test_closing_while_a_submit_is_on_its_way_waits_for_the_answer_and_says_so(
        make_window: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        pictures: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, qtbot: Any,
        request: pytest.FixtureRequest) -> None:
    emu = FitInViewEmulator(job_delay=30.0)
    emu.inject(Fault("slow", "POST", "/api/v1/tryon", delay=1.5))
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_FITINVIEW_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_FITINVIEW_API_KEY", emu.api_key)
        window = make_window()
        status = StatusLog(window)
        # As in the application: closing the window is not quitting (the loop goes on).
        quits = QApplication.quitOnLastWindowClosed()
        QApplication.setQuitOnLastWindowClosed(False)
        request.addfinalizer(lambda: QApplication.setQuitOnLastWindowClosed(quits))
        window.show()
        qtbot.waitExposed(window)
        database = window.services.paths.data_dir / "history.sqlite3"

        async def body() -> str:
            await window.start()
            choose(window, "tryon", ["fitinview"])
            await window.panes["person"].add_sources([str(pictures[0])])
            await window.panes["garment"].add_sources([str(pictures[1])])
            jobs = await generate(window)
            job_id = jobs[0].id
            await until(lambda: window.job_queue.job(job_id).state == JobState.SUBMITTING, 5,
                        "the submit to be on its way")
            window.close()
            await asyncio.sleep(0.3)
            assert window.isVisible()  # still up, not frozen: it says what it waits for
            assert not window.generate_button.isEnabled()
            await until(lambda: status.any("Waiting up to 10 s for FitInView to confirm it "
                                           "received this job before stopping."), 5,
                        "the closing message")
            await until(lambda: not window.isVisible(), 15, "the window to close")
            return job_id

        job_id = loop.run_until_complete(body())
        assert len(emu.requests_to("POST", "/api/v1/tryon")) == 1
    history = History(database)
    try:
        job = history.get(job_id)
    finally:
        history.close()
    # The provider's answer was recorded: the job is resumable, not lost or called "not sent".
    assert job is not None and job.remote_id and job.state == JobState.RUNNING
    assert job.owner is None


def test_rerun_of_a_job_that_may_be_paid_collects_it_instead_of_paying_again(
        make_window: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        pictures: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    emu = FitInViewEmulator(job_delay=0.0)
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_FITINVIEW_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_FITINVIEW_API_KEY", emu.api_key)
        window = make_window()
        status = StatusLog(window)

        async def body() -> Job:
            await window.start()
            job = await accepted_at_fitinview(
                window, pictures, JobState.NEEDS_ATTENTION,
                error=JobError(ErrorCode.RESULT_UNAVAILABLE, "The result could not be read."))
            window.services.history.save_job(job)
            assert await window.workbench.actions.rerun(job.id) is None  # no new job
            await until(lambda: (window.services.history.get(job.id) or job).state
                        == JobState.SUCCEEDED, 15, "the waiting job to be collected")
            return window.services.history.get(job.id)  # type: ignore[return-value]

        final = loop.run_until_complete(body())
    assert final.state == JobState.SUCCEEDED and len(final.outputs) == 1
    assert len(emu.requests_to("POST", "/api/v1/tryon")) == 1  # never paid twice
    assert status.any("may already be paid for")
