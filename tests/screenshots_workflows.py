"""Screenshots of VistoureAI workflows (issue 11), run by `tests/screenshots.py --only
workflows`: a workflow's image inputs as panes (mandatory ones marked), the panes filled, the
per-node progress in the queue, the photo and the video results, the video without Qt
Multimedia (the system player offered), and a bad file in an image parameter refused under the
form."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import ExitStack
from pathlib import Path

from PySide6.QtWidgets import QApplication

from tests.screenshots import Camera, settle, until


async def workflows_scenario(app: QApplication, out: Path, stack: ExitStack,
                             size: tuple[int, int]) -> None:
    """`size` is the window's (screenshots.py's window_size(): this module sees another copy
    of its SIZE when it runs as __main__)."""
    from PIL import Image
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from desktop.app import create_main_window
    from desktop.ui.video_view import VideoView
    from tests.emulators.kit import serve
    from tests.emulators.vistoure import LOOKBOOK, VistoureEmulator

    camera = Camera(out, first=130)
    for name in list(os.environ):
        if name.startswith("RESTYLE_"):  # the other scenarios' emulators are gone
            del os.environ[name]
    emu = VistoureEmulator(job_delay=12.0)  # four nodes of three seconds: the queue shows them
    os.environ["RESTYLE_VISTOURE_BASE_URL"] = stack.enter_context(serve(emu))
    os.environ["RESTYLE_VISTOURE_API_KEY"] = emu.api_key
    home = Path(tempfile.mkdtemp(prefix="restyle-workflows-"))
    settings = home / "config" / "settings.json"  # polled often enough to see every node
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"providers": {"vistoure": {"poll_interval": 0.5}}}))
    window = create_main_window(home)
    window.resize(*size)
    window.show()
    await window.start()
    await until(lambda: window.task_selector.select_key(f"vistoure:workflow:{LOOKBOOK}"))
    window.provider_selector.set_checked(["vistoure"])
    await until(lambda: "Dress_Model.model_image" in window.panes
                and window.panes["Dress_Model.model_image"].isVisible())
    await settle(0.8)
    wb = window.workbench

    # 1. The workflow's image inputs as panes, two mandatory (marked) and one optional.
    camera.shoot(window, "workflow-panes")
    await wb.load_samples()
    await until(lambda: window.generate_button.isEnabled())
    await settle(0.6)
    camera.shoot(window, "workflow-panes-filled")

    # 2. Per-node progress in the queue while the run goes through its four nodes.
    jobs = await wb.generate()
    window.queue_dock.raise_()
    await until(lambda: "Node 2 of 4" in window.job_queue.row_text(jobs[0].id), 30)
    await settle(0.5)
    camera.shoot(window, "workflow-node-progress")
    camera.shoot(window.job_queue, "workflow-node-progress-queue")
    await until(lambda: window.job_queue.job(jobs[0].id).state.terminal, 60)
    await until(lambda: window.compare_view.strip().count() == 2, 20)
    await settle(0.8)

    # 3. The results: the photo against its before, then the video played in place.
    camera.shoot(window, "workflow-photo-result")
    view = window.compare_view
    view.set_current(1)
    await until(view.is_showing_video)
    player = view.video_view()
    if player.has_player():
        player.play()
        await until(lambda: player.position_ms() > 700, 10)
        player.pause()
    await settle(0.6)
    camera.shoot(window, "workflow-video-result")

    # 4. Without Qt Multimedia: the poster, the sentence, "Open in system player".
    fallback = VideoView(use_player=False)
    fallback.resize(view.size())
    fallback.set_video(player.path(), player.title_label.text(),
                       view.current_item().image if view.current_item() else None)
    fallback.show()
    await settle(0.6)
    camera.shoot(fallback, "workflow-video-without-qt-multimedia")
    fallback.close()

    # 5. A bad file named in an image parameter: refused with the sentence under the form.
    notes = home / "notes.jpg"
    notes.write_text("a shopping list, not a picture")
    good = home / "shirt.png"
    Image.new("RGB", (300, 300), (40, 70, 160)).save(good)
    assert window.task_selector.select_key("vistoure:virtual_model")
    window.provider_selector.set_checked(["vistoure"])
    await settle(0.4)
    extra = window.params_form.extra_rows()
    assert extra is not None
    QTest.mouseClick(extra.add_button, Qt.MouseButton.LeftButton)
    _n, _name, _value, name_edit, value_edit = extra.entries()[-1]
    QTest.keyClicks(name_edit, "garment_image")
    QTest.keyClicks(value_edit, str(notes))
    await until(lambda: window.generate_button.isEnabled())
    QTest.mouseClick(window.generate_button, Qt.MouseButton.LeftButton)
    await until(lambda: "names an image to read" in window.problem_label.text())
    await settle(0.6)
    camera.shoot(window, "image-parameter-bad-file")

    window.close()
    await window.aclose()
