"""Measure the real window on a screen of a given size, as a first start lays it out.

Run as `python -m tests.ui.layout_probe HOME` under `QT_QPA_PLATFORM=offscreen:configfile=...`
(a screen of any size; add QT_SCALE_FACTOR=2 for a 2x one): it opens the window on a fresh
folder, fills the try-on inputs with the samples, puts eight jobs in the queue (the last one
failed with a long sentence, shown in the result panel) and prints what a person would see as
JSON: queue rows in view, the pictures' share of the width, whether the side panel scrolls on
its own with Generate in view, and whether the result panel wraps instead of overflowing.
tests/ui/test_screen_sizes.py runs it for a laptop and a 2x screen.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QApplication, QScrollArea


def _jobs() -> list:  # type: ignore[type-arg]
    from desktop.core.model import ErrorCode, Job, JobError, JobSpec, JobState, Output

    now = time.time()
    jobs = []
    for i in range(7):
        jobs.append(Job(
            id=f"{i:032x}", spec=JobSpec("local", "upscale", {"image": ["/x.png"]},
                                         {"factor": 2}),
            state=JobState.SUCCEEDED, created_at=now - 100 + i, updated_at=now - 90 + i,
            started_at=now - 100 + i, finished_at=now - 99 + i,
            outputs=(Output(0, "0" * 64, "image/png", 10, 100, 100, label="Upscaled"),)))
    sentence = ("FitInView could not make the try-on: The garment could not be separated from "
                "its background: the photo shows several overlapping items on a patterned "
                "surface. Photograph the garment alone, flat, on a plain light background, "
                "then try again. [garment_not_detected].")
    jobs.append(Job(
        id="f" * 32, spec=JobSpec("fitinview", "tryon", {}, {"output_size": "1K"}),
        state=JobState.FAILED, created_at=now, updated_at=now, started_at=now - 5,
        finished_at=now, remote_id="job_000167ef94e1",
        error=JobError(ErrorCode.JOB_FAILED, sentence, "garment_not_detected")))
    return jobs


async def measure(home: Path) -> dict[str, object]:
    from desktop.app import create_main_window
    from desktop.ui.screen_fit import history_tabbed

    window = create_main_window(home)
    window.show()
    await window.start()
    window.task_selector.select_key("tryon")
    window.provider_selector.set_checked(["local"])
    await window.workbench.load_samples()
    jobs = _jobs()
    for job in jobs:
        window.job_queue.update_job(job)
    window.job_queue.select_job(jobs[-1].id)
    window.result_panel.show_job(jobs[-1])
    for _ in range(20):
        await asyncio.sleep(0.05)
    queue = window.job_queue.list_view
    viewport: QRect = queue.viewport().rect()
    model = queue.model()
    rows_in_view = sum(1 for row in range(model.rowCount())
                       if viewport.contains(queue.visualRect(model.index(row, 0))))
    # A long form (staging with Advanced unfolded) scrolls on its own; Generate stays in view.
    window.task_selector.select_key("staging")
    window.params_form.set_advanced_open(True)
    for _ in range(10):
        await asyncio.sleep(0.05)
    side = window.findChild(QScrollArea, "inputsScroll")
    assert side is not None
    button = window.generate_button
    top_left = button.mapTo(window, QPoint(0, 0))
    generate_in_view = window.rect().contains(QRect(top_left, button.size()))
    panel = window.result_panel.findChild(QScrollArea, "resultPanelScroll")
    assert panel is not None
    content = panel.widget()
    overflow = max(0, content.minimumSizeHint().width() - panel.viewport().width())
    screen = window.screen()
    area = screen.availableGeometry()
    result = {
        "screen": [area.width(), area.height()],
        "dpr": screen.devicePixelRatio(),
        "window": [window.width(), window.height()],
        "queue_rows_in_view": rows_in_view,
        "queue_rows": model.rowCount(),
        "history_tabbed": history_tabbed(window),
        "compare_share": round(window.compare_view.width() / window.width(), 3),
        "compare_height_share": round(window.compare_view.height() / window.height(), 3),
        "side_scrolls": side.verticalScrollBar().maximum() > 0,
        "generate_in_view": generate_in_view,
        "result_panel_overflow": overflow,
        "details_button": window.result_panel.details_button.isVisible(),
    }
    window.close()
    await window.aclose()
    return result


def main() -> int:
    import qasync

    home = Path(sys.argv[1])
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    found = loop.run_until_complete(measure(home))
    loop.close()
    print(json.dumps(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
