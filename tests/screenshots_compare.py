"""Screenshots of the compare view (issue 12), run by `tests/screenshots.py --only compare`:
every mode and tool on a pair (an empty room and a staged one whose window moved), then on a
grid of three providers' results (the before, then each cell compared, two providers against
each other), the loupe and the inspector in the grid, the keys help and the service mask
offered in the structure mode.

The pictures are synthetic rooms (tests/core/compare_scenes.py), so the structure check has
something to find; they are handed to the window's compare view directly, no provider runs.
"""

from __future__ import annotations

import asyncio
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from tests.screenshots import Camera, settle, until

if TYPE_CHECKING:
    from desktop.app import RestyleWindow


def _room_images() -> dict[str, QImage]:
    from PySide6.QtGui import QImage

    from tests.core.compare_scenes import WALL_RECOLOURED, Room, draw_room

    def image(room: Room) -> QImage:
        rgb = draw_room(room)
        height, width = rgb.shape[:2]
        return QImage(rgb.tobytes(), width, height, width * 3,
                      QImage.Format.Format_RGB888).copy()

    size = {"width": 1200, "height": 800, "noise_seed": None}  # flat: small PNGs
    return {
        "empty": image(Room(**size)),
        "staged": image(Room(**size, furniture=True)),
        "window_moved": image(Room(**size, furniture=True, window_x=0.30)),
        "repainted": image(Room(**size, furniture=True, wall=WALL_RECOLOURED)),
    }


def _hover(canvas: object, x: float, y: float) -> None:
    """A real mouse move over the reference point (x, y) of a pane."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QMouseEvent

    at = canvas.map_from_image(QPointF(x, y))  # type: ignore[attr-defined]
    event = QMouseEvent(QMouseEvent.Type.MouseMove, at, canvas.mapToGlobal(at),  # type: ignore[attr-defined]
                        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(canvas, event)  # type: ignore[arg-type]


async def compare_scenario(app: QApplication, out: Path, stack: ExitStack,
                           size: tuple[int, int]) -> None:
    """`size` is the window's (screenshots.py's window_size())."""
    from desktop.app import create_main_window
    from desktop.ui.compare_view import CompareItem, CompareMode

    camera = Camera(out, first=160)
    rooms = _room_images()
    window = create_main_window(Path(tempfile.mkdtemp(prefix="restyle-compare-")))
    window.resize(*size)
    window.show()
    await window.start()
    await settle(0.8)
    view = window.compare_view

    async def ready() -> None:
        await until(lambda: all(c.message() == "" for c in view.canvases()), 60)
        await settle(0.5)

    # 1. A pair: the empty room and a staging whose window moved, in every mode.
    view.set_before(rooms["empty"])  # type: ignore[arg-type]
    view.set_outputs([CompareItem(rooms["window_moved"], "Virtual Staging AI · staging",  # type: ignore[arg-type]
                                  provider="Virtual Staging AI", variation="Variation 1")])
    view.set_mask_provider("Virtual Staging AI")
    await settle(0.6)
    for mode in CompareMode:
        view.set_mode(mode)
        if mode == CompareMode.WIPE:
            view.set_wipe_position(0.45)
        await ready()
        camera.shoot(window, f"compare-pair-{mode.value}")
    view.set_mode(CompareMode.SIDE_BY_SIDE)
    view.action("loupe").trigger()
    view.set_zoom(view.zoom() * 1.6)
    await settle(0.3)
    _hover(view.canvases()[-1], 372, 250)  # the window's left edge: it moved
    await settle(0.3)
    camera.shoot(window, "compare-pair-loupe")
    view.action("loupe").trigger()
    view.action("inspector").trigger()
    _hover(view.canvases()[-1], 300, 280)
    await settle(0.3)
    camera.shoot(window, "compare-pair-inspector")
    view.action("inspector").trigger()
    view.zoom_fit()
    view.set_blink_interval(400)
    view.start_blink()
    await settle(0.5)
    camera.shoot(window, "compare-pair-blink")
    view.action("blink").trigger()
    help_window = view.show_shortcuts_help()
    await settle(0.5)
    camera.shoot_screen("compare-keys-help")
    help_window.close()

    # 2. Three providers over the same room: the grid, then each mode on a pair of cells.
    items = [CompareItem(rooms["staged"], "Virtual Staging AI · staging",  # type: ignore[arg-type]
                         provider="Virtual Staging AI", variation="Variation 1"),
             CompareItem(rooms["repainted"], "VistoureAI · staging",  # type: ignore[arg-type]
                         provider="VistoureAI", variation="Variation 2"),
             CompareItem(rooms["window_moved"], "Local · staging",  # type: ignore[arg-type]
                         provider="Local", variation="")]
    view.set_outputs(items)
    view.set_grid(items)
    view.select_cell(1)
    await settle(0.6)
    camera.shoot(window, "compare-grid-side-by-side")
    for mode in CompareMode:
        if mode == CompareMode.SIDE_BY_SIDE:
            continue
        view.set_mode(mode)
        await ready()
        camera.shoot(window, f"compare-grid-{mode.value}")
    view.set_mode(CompareMode.SIDE_BY_SIDE)
    view.set_pair(0, 1)  # two providers against each other
    view.set_mode(CompareMode.DIFFERENCE)
    await ready()
    camera.shoot(window, "compare-grid-provider-vs-provider-difference")
    view.set_mode(CompareMode.SIDE_BY_SIDE)
    view.select_cell(2)
    view.action("loupe").trigger()
    _hover(view.canvases()[1], 300, 260)
    await settle(0.3)
    camera.shoot(window, "compare-grid-loupe")
    view.action("loupe").trigger()
    view.action("inspector").trigger()
    _hover(view.canvases()[1], 300, 260)
    await settle(0.3)
    camera.shoot(window, "compare-grid-inspector")
    view.action("inspector").trigger()
    camera.shoot(view, "compare-view-only")

    # 3. Comparisons opened from history, from files, and the furniture mask's question.
    await _from_history_and_files(window, camera, rooms)

    window.close()
    await window.aclose()


def _png(image: QImage) -> bytes:
    from PySide6.QtCore import QBuffer, QIODevice

    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(buffer.data().data())


async def _from_history_and_files(window: RestyleWindow, camera: Camera,
                                  rooms: dict[str, QImage]) -> None:
    """Two staging jobs of the same room selected in history and opened as a grid; two files
    and a missing one compared; the one-time question before Virtual Staging AI's mask."""
    import time

    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    from desktop.core.model import Asset, Job, JobSpec, JobState, Output

    services = window.services

    def put(image: QImage) -> Asset:
        return services.assets.put(_png(image), "image/png", width=image.width(),
                                   height=image.height())

    room = put(rooms["empty"])
    now = time.time() - 600
    jobs = []
    for index, (provider, name) in enumerate((("virtualstaging", "staged"),
                                              ("vistoure", "repainted"))):
        result = put(rooms[name])
        job = Job(id=f"shot{index}".ljust(32, "0"), spec=JobSpec(provider, "staging"),
                  state=JobState.SUCCEEDED, created_at=now + index, updated_at=now + index,
                  inputs={"room": [room.sha256]},
                  outputs=(Output(0, result.sha256, result.mime, result.size,
                                  result.width, result.height),))
        services.history.save_job(job, assets=[room, result])
        jobs.append(job)
    window.history_dock.raise_()
    panel = window.history_panel
    await panel.reload()
    await settle(0.5)
    for index, job in enumerate(jobs):
        row = panel.model.index(panel.model.row_of(job.id))
        QTest.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.ControlModifier if index else
                         Qt.KeyboardModifier.NoModifier,
                         QPoint(panel.view.visualRect(row).center()))
    await settle(0.4)
    camera.shoot(window, "history-two-jobs-selected-compare")
    QTest.mouseClick(panel.compare_button, Qt.MouseButton.LeftButton)
    view = window.compare_view
    await until(view.is_grid, 20)
    await window.workbench.idle()
    await settle(0.6)
    camera.shoot(window, "compare-grid-from-history")

    folder = Path(tempfile.mkdtemp(prefix="restyle-compare-files-"))
    first, second = folder / "listing-original.png", folder / "photographer-edit.png"
    first.write_bytes(_png(rooms["empty"]))
    second.write_bytes(_png(rooms["repainted"]))
    await window.compare_files(first, second, folder / "dashboard-export.png")
    await settle(0.6)
    camera.shoot(window, "compare-files-one-missing")

    masks = window.workbench.masks
    asking = asyncio.ensure_future(masks._consent())
    await until(lambda: masks.question is not None and masks.question.isVisible(), 10)
    await settle(0.4)
    camera.shoot_screen("compare-furniture-mask-question")
    assert masks.question is not None
    masks.question.reject()
    await asking
