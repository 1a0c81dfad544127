"""The result panel's duration field tells a running job from one whose finish time is simply
not on record (older or imported history), instead of calling both "still running"."""

from __future__ import annotations

import time
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel

from desktop.core.model import Job, JobSpec, JobState
from desktop.ui.result_panel import ResultPanel


@pytest.mark.parametrize(("state", "finished", "expected"), [
    (JobState.RUNNING, False, "still running"),
    (JobState.DOWNLOADING, False, "still running"),
    (JobState.NEEDS_ATTENTION, False, "not finished"),
    (JobState.SUCCEEDED, False, "not recorded"),
    (JobState.FAILED, False, "not recorded"),
    (JobState.SUCCEEDED, True, "2 s"),
])
def test_the_duration_field_says_what_is_known(qtbot: Any, state: JobState, finished: bool,
                                               expected: str) -> None:
    panel = ResultPanel({"local": "On this computer"})
    qtbot.addWidget(panel)
    now = time.time()
    job = Job(id="d" * 32, spec=JobSpec("local", "upscale", {}, {}), state=state,
              created_at=now - 2, updated_at=now, finished_at=now if finished else None)
    panel.show_job(job)
    labels = [label.text() for label in panel.findChildren(QLabel)]
    assert expected in labels, labels
