"""Screenshots of the compare view (issue 12), run by `tests/screenshots.py --only compare`:
every mode and tool on a pair (an empty room and a staged one whose window moved), then on a
grid of three providers' results (the before, then each cell compared, two providers against
each other), the loupe and the inspector in the grid, the keys help and the service mask
offered in the structure mode.

The pictures are synthetic rooms (tests/core/compare_scenes.py), so the structure check has
something to find; they are handed to the window's compare view directly, no provider runs.
"""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from pathlib import Path

from PySide6.QtWidgets import QApplication

from tests.screenshots import Camera, settle, until


def _room_images() -> dict[str, object]:
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

    window.close()
    await window.aclose()
