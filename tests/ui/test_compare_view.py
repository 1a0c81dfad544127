"""The compare view, driven through real mouse, wheel and key events (offscreen)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QColor, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication, QLabel, QToolButton

from desktop.ui.compare_view import (
    CompareItem,
    CompareMode,
    CompareView,
)
from desktop.ui.image_canvas import ImageCanvas
from tests.ui.compare_kit import BEFORE_COLOUR, rendered, same_colour, solid, until, with_rect

AFTER_COLOUR = QColor(40, 60, 200)


def close(a: QPointF, b: QPointF, tolerance: float = 0.01) -> bool:
    return abs(a.x() - b.x()) <= tolerance and abs(a.y() - b.y()) <= tolerance


def coloured(colour: QColor) -> bool:
    """A heat colour, not the dimmed grey of an unchanged pixel."""
    return not colour.red() == colour.green() == colour.blue()


def send_wheel(widget: ImageCanvas, pos: QPointF, notches: int) -> None:
    event = QWheelEvent(pos, widget.mapToGlobal(pos), QPoint(0, 0), QPoint(0, 120 * notches),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def drag(qtbot, widget: ImageCanvas, start: QPoint, end: QPoint, steps: int = 4) -> None:  # type: ignore[no-untyped-def]
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=start)
    for i in range(1, steps + 1):
        qtbot.mouseMove(widget, start + (end - start) * i / steps)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=end)


@pytest.fixture
def view(qtbot, loop: asyncio.AbstractEventLoop) -> Iterator[CompareView]:  # type: ignore[no-untyped-def]
    widget = CompareView()
    qtbot.addWidget(widget)
    widget.resize(900, 560)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    for task in list(widget._tasks):
        task.cancel()


def pair(view: CompareView, before_size: tuple[int, int] = (200, 150),
         after_size: tuple[int, int] = (400, 300)) -> None:
    """A 2x upscale: the before is half the after's size."""
    view.set_before(solid(*before_size, BEFORE_COLOUR))
    view.set_outputs([CompareItem(solid(*after_size, AFTER_COLOUR), "Local · upscale", "x2")])


def mode_button(view: CompareView, name: str) -> QToolButton:
    button = view.findChild(QToolButton, name)
    assert button is not None
    return button


def test_placeholder_until_there_is_something_to_compare(view: CompareView) -> None:
    label = view.findChild(QLabel, "comparePlaceholder")
    assert label is not None and label.isVisible()
    view.set_placeholder("Drop images on the left and press Generate")
    assert label.text() == "Drop images on the left and press Generate"
    assert not mode_button(view, "compareModeWipe").isEnabled()
    pair(view)
    assert not label.isVisible()
    assert mode_button(view, "compareModeWipe").isEnabled()
    view.clear()
    assert label.isVisible()
    assert view.before_image() is None and view.current_item() is None


def test_first_image_fits_and_the_before_is_drawn_in_the_after_space(
        view: CompareView) -> None:
    pair(view)
    before_pane, after_pane = view.canvases()
    area = after_pane.image_rect_in_widget()
    # the 400 x 300 after fills the pane's height or width and stays inside it
    width, height = after_pane.width(), after_pane.height()
    assert area.width() <= width + 0.5 and area.height() <= height + 0.5
    assert abs(area.width() - width) < 1 or abs(area.height() - height) < 1
    assert close(view.view_center(), QPointF(200, 150))
    # the 200 x 150 before is stretched onto the same 400 x 300 grid: its far corner lines up
    corner = QPointF(390, 290)
    assert same_colour(rendered(before_pane, corner), BEFORE_COLOUR)
    assert same_colour(rendered(after_pane, corner), AFTER_COLOUR)


def test_every_mode_switch_keeps_zoom_and_centre(qtbot, view: CompareView) -> None:  # type: ignore[no-untyped-def]
    pair(view)
    view.set_zoom(1.7, QPointF(120, 90))
    zoom, centre = view.zoom(), view.view_center()
    modes: list[str] = []
    view.modeChanged.connect(modes.append)
    for name, mode in [("compareModeWipe", CompareMode.WIPE),
                       ("compareModeToggle", CompareMode.TOGGLE),
                       ("compareModeDifference", CompareMode.DIFFERENCE),
                       ("compareModeSideBySide", CompareMode.SIDE_BY_SIDE)]:
        qtbot.mouseClick(mode_button(view, name), Qt.MouseButton.LeftButton)
        assert view.mode() == mode
        assert mode_button(view, name).isChecked()
        assert view.zoom() == pytest.approx(zoom)
        assert close(view.view_center(), centre)
    assert modes == ["wipe", "toggle", "difference", "side_by_side"]
    # the keys 1-4 do the same while the view has focus
    view.activateWindow()
    view.canvases()[-1].setFocus()
    qtbot.waitUntil(lambda: view.canvases()[-1].hasFocus())
    qtbot.keyClick(view.canvases()[-1], Qt.Key.Key_2)
    assert view.mode() == CompareMode.WIPE
    assert view.zoom() == pytest.approx(zoom) and close(view.view_center(), centre)


def test_wheel_zooms_around_the_cursor_in_both_panes(view: CompareView) -> None:
    pair(view)
    before_pane, after_pane = view.canvases()
    cursor = QPointF(after_pane.width() * 0.7, after_pane.height() * 0.3)
    under_cursor = after_pane.map_to_image(cursor)
    old_zoom = view.zoom()
    send_wheel(after_pane, cursor, 2)
    assert view.zoom() > old_zoom * 1.3
    assert close(after_pane.map_to_image(cursor), under_cursor)
    # the other pane shows the same region (panes differ by at most a pixel in width)
    assert close(before_pane.map_to_image(cursor), after_pane.map_to_image(cursor),
                 tolerance=1.0 / view.zoom())
    send_wheel(before_pane, cursor, -1)
    assert close(before_pane.map_to_image(cursor), under_cursor, tolerance=1.0 / view.zoom())


def test_drag_pans_both_side_by_side_panes_identically(qtbot, view: CompareView) -> None:  # type: ignore[no-untyped-def]
    pair(view)
    view.set_zoom(2.0)
    before_pane, after_pane = view.canvases()
    zoom, centre = view.zoom(), view.view_center()
    drag(qtbot, after_pane, QPoint(300, 250), QPoint(220, 190))
    assert close(view.view_center(), centre + QPointF(80, 60) / zoom)
    assert view.zoom() == pytest.approx(zoom)
    spot = QPointF(150, 120)
    assert close(before_pane.map_from_image(spot) - before_pane.widget_center(),
                 after_pane.map_from_image(spot) - after_pane.widget_center())
    # dragging the other pane moves both back
    drag(qtbot, before_pane, QPoint(220, 190), QPoint(300, 250))
    assert close(view.view_center(), centre)


def test_wipe_divider_follows_a_mouse_drag_and_shift_arrows(qtbot, view: CompareView) -> None:  # type: ignore[no-untyped-def]
    pair(view)
    view.set_mode(CompareMode.WIPE)
    [pane] = view.canvases()
    assert pane.is_wipe() and view.wipe_position() == pytest.approx(0.5)
    middle_y = pane.height() // 2
    centre = view.view_center()
    drag(qtbot, pane, QPoint(pane.width() // 2, middle_y), QPoint(pane.width() // 4, middle_y))
    assert view.wipe_position() == pytest.approx(0.25, abs=0.01)
    assert close(view.view_center(), centre)  # a divider drag is not a pan
    # before left of the divider, after right of it
    shot = pane.grab().toImage()
    assert same_colour(shot.pixelColor(pane.width() // 4 - 40, middle_y), BEFORE_COLOUR)
    assert same_colour(shot.pixelColor(pane.width() // 4 + 40, middle_y), AFTER_COLOUR)
    qtbot.keyClick(pane, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert view.wipe_position() == pytest.approx(0.30, abs=0.01)
    # a drag away from the divider pans instead
    drag(qtbot, pane, QPoint(pane.width() - 60, middle_y), QPoint(pane.width() - 100, middle_y))
    assert view.wipe_position() == pytest.approx(0.30, abs=0.01)
    assert not close(view.view_center(), centre)


def test_space_flips_toggle_and_holding_shows_before_until_release(qtbot,  # type: ignore[no-untyped-def]
                                                                   view: CompareView) -> None:
    pair(view)
    view.set_mode(CompareMode.TOGGLE)
    [pane] = view.canvases()
    spot = QPointF(200, 150)
    assert not view.toggle_showing_before()
    assert same_colour(rendered(pane, spot), AFTER_COLOUR)
    qtbot.keyClick(pane, Qt.Key.Key_Space)
    assert view.toggle_showing_before()
    assert same_colour(rendered(pane, spot), BEFORE_COLOUR)
    qtbot.keyClick(pane, Qt.Key.Key_Space)
    assert not view.toggle_showing_before()
    qtbot.keyPress(pane, Qt.Key.Key_Space)
    assert view.toggle_showing_before()
    time.sleep(0.3)
    qtbot.keyRelease(pane, Qt.Key.Key_Space)
    assert not view.toggle_showing_before()
    # Space means nothing outside toggle mode
    view.set_mode(CompareMode.SIDE_BY_SIDE)
    qtbot.keyClick(view.canvases()[-1], Qt.Key.Key_Space)
    assert not view.toggle_showing_before()


def test_difference_highlights_exactly_the_changed_rectangle(
        view: CompareView, loop: asyncio.AbstractEventLoop) -> None:
    base = QImage(160, 100, QImage.Format.Format_RGB32)
    for y in range(100):
        for x in range(160):
            base.setPixelColor(x, y, QColor(x, y * 2, 120))
    changed_rect = QRect(30, 20, 40, 30)
    after = with_rect(base, changed_rect, QColor(250, 250, 0))
    view.set_before(base)
    view.set_outputs([CompareItem(after, "Local · recolor")])
    view.set_mode(CompareMode.DIFFERENCE)
    [pane] = view.canvases()
    assert pane.message() == "Computing difference…"

    async def body() -> None:
        await until(lambda: view.difference_image() is not None)

    loop.run_until_complete(body())
    assert pane.message() == ""
    diff = view.difference_image()
    assert diff is not None and diff.size() == after.size()
    # a heat map: changed pixels in heat colours, the rest in grey
    hits = {(x, y) for y in range(100) for x in range(160) if coloured(diff.pixelColor(x, y))}
    assert hits == {(x, y) for x in range(30, 70) for y in range(20, 50)}
    outside = diff.pixelColor(100, 80)
    assert outside.red() == outside.green() == outside.blue()
    assert view.difference_fraction() == pytest.approx(1200 / 16000)
    # what is painted is that image
    assert same_colour(rendered(pane, QPointF(50.5, 35.5)), diff.pixelColor(50, 35))
    # cached per pair: leaving and coming back needs no new computation
    view.set_mode(CompareMode.WIPE)
    view.set_mode(CompareMode.DIFFERENCE)
    assert pane.message() == "" and view.difference_image() is diff


def test_difference_of_an_upscale_compares_in_the_after_space(
        view: CompareView, loop: asyncio.AbstractEventLoop) -> None:
    before = solid(100, 50, QColor(90, 90, 90))
    after = with_rect(solid(200, 100, QColor(90, 90, 90)), QRect(150, 0, 50, 100),
                      QColor(10, 200, 10))
    view.set_before(before)
    view.set_outputs([CompareItem(after, "upscale")])
    view.set_mode(CompareMode.DIFFERENCE)

    async def body() -> None:
        await until(lambda: view.difference_image() is not None)

    loop.run_until_complete(body())
    diff = view.difference_image()
    assert diff is not None
    assert coloured(diff.pixelColor(175, 50))
    grey = diff.pixelColor(60, 50)
    assert grey.red() == grey.green() == grey.blue()


def test_strip_for_three_outputs_click_and_keys(qtbot, view: CompareView,  # type: ignore[no-untyped-def]
                                                loop: asyncio.AbstractEventLoop) -> None:
    colours = [QColor(220, 30, 30), QColor(30, 220, 30), QColor(30, 30, 220)]
    view.set_before(solid(300, 200, QColor(128, 128, 128)))
    view.set_outputs([CompareItem(solid(300, 200, c), f"Variation {i + 1}")
                      for i, c in enumerate(colours)])
    strip = view.strip()
    assert strip.isVisible() and strip.count() == 3
    view.set_zoom(1.4, QPointF(100, 60))
    zoom, centre = view.zoom(), view.view_center()
    with qtbot.waitSignal(view.currentChanged) as signal:
        qtbot.mouseClick(strip.viewport(), Qt.MouseButton.LeftButton,
                         pos=strip.visualItemRect(strip.item(1)).center())
    assert signal.args == [1]
    assert view.current_index() == 1 and view.current_item().title == "Variation 2"  # type: ignore[union-attr]
    assert strip.currentRow() == 1
    assert view.zoom() == pytest.approx(zoom) and close(view.view_center(), centre)
    assert same_colour(rendered(view.canvases()[-1], QPointF(100, 60)), colours[1])
    with qtbot.waitSignal(view.currentChanged) as signal:
        qtbot.keyClick(view.canvases()[-1], Qt.Key.Key_Right)
    assert signal.args == [2] and strip.currentRow() == 2

    async def body() -> None:  # thumbnails are made in a worker
        def thumb_colour(row: int) -> QColor:
            icon = strip.item(row).icon()
            return icon.pixmap(strip.iconSize()).toImage().pixelColor(40, 30)
        await until(lambda: all(same_colour(thumb_colour(r), colours[r]) for r in range(3)))

    loop.run_until_complete(body())
    view.set_outputs([CompareItem(solid(300, 200, colours[0]), "Only one")])
    assert not strip.isVisible()


def test_new_job_of_the_same_size_keeps_the_view_another_size_refits(
        view: CompareView) -> None:
    pair(view)
    view.set_zoom(3.0, QPointF(50, 40))
    centre = view.view_center()
    view.set_outputs([CompareItem(solid(400, 300, QColor(1, 2, 3)), "re-run")])
    assert view.zoom() == pytest.approx(3.0) and close(view.view_center(), centre)
    view.set_outputs([CompareItem(solid(1600, 900, QColor(1, 2, 3)), "reframe 16:9")])
    assert close(view.view_center(), QPointF(800, 450))
    assert view.zoom() < 1.0


def test_fit_and_actual_size(qtbot, view: CompareView) -> None:  # type: ignore[no-untyped-def]
    pair(view, (1000, 750), (2000, 1500))
    fitted = view.zoom()
    qtbot.mouseClick(mode_button(view, "compareActual"), Qt.MouseButton.LeftButton)
    assert view.zoom() == pytest.approx(1.0 / view.devicePixelRatioF())
    label = view.findChild(QLabel, "compareZoomLabel")
    assert label is not None and label.text() == "100 %"
    qtbot.mouseClick(mode_button(view, "compareZoomIn"), Qt.MouseButton.LeftButton)
    assert view.zoom() > 1.0 / view.devicePixelRatioF()
    qtbot.mouseClick(mode_button(view, "compareFit"), Qt.MouseButton.LeftButton)
    assert view.zoom() == pytest.approx(fitted)


def test_grid_shows_before_and_each_result_synced(view: CompareView) -> None:
    view.set_before(solid(200, 150, BEFORE_COLOUR))
    results = [CompareItem(solid(400, 300, QColor(10 * i, 100, 100)), f"Provider {i}", "tryon")
               for i in range(3)]
    view.set_outputs(results)
    view.set_grid(results)
    cells = view.canvases()
    assert view.is_grid() and len(cells) == 4 and all(c.isVisible() for c in cells)
    assert [c.labels()[0] for c in cells] == ["Before", "Provider 0", "Provider 1", "Provider 2"]
    # every mode works in the grid now (issue 12): side by side is the N-way view
    assert mode_button(view, "compareModeWipe").isEnabled()
    assert mode_button(view, "compareModeDifference").isEnabled()
    assert mode_button(view, "compareModeSideBySide").isChecked()
    cursor = QPointF(cells[2].width() * 0.6, cells[2].height() * 0.4)
    send_wheel(cells[2], cursor, 2)
    for cell in cells:
        assert close(cell.map_to_image(cell.widget_center()), view.view_center())
        offset = cell.map_from_image(QPointF(120, 80)) - cell.widget_center()
        assert close(offset, cells[0].map_from_image(QPointF(120, 80)) - cells[0].widget_center())
    view.set_grid([])
    assert not view.is_grid() and len(view.canvases()) == 2
    assert mode_button(view, "compareModeWipe").isEnabled()


def test_an_empty_result_image_is_explained_in_the_pane(view: CompareView) -> None:
    view.set_before(solid(100, 100, BEFORE_COLOUR))
    view.set_outputs([CompareItem(QImage(), "Broken result")])
    [pane] = view.canvases()
    assert "could not be decoded" in pane.message()


def test_difference_threshold_control(view: CompareView, loop: asyncio.AbstractEventLoop) -> None:
    """A change of 40 per channel counts at the default threshold and not at 50."""
    from PySide6.QtWidgets import QSpinBox

    before = solid(100, 50, QColor(100, 100, 100))
    after = with_rect(before, QRect(0, 0, 50, 50), QColor(140, 140, 140))
    view.set_before(before)
    view.set_outputs([CompareItem(after, "recolor")])
    spin = view.findChild(QSpinBox, "compareThreshold")
    assert spin is not None and spin.isHidden()
    view.set_mode(CompareMode.DIFFERENCE)
    assert not spin.isHidden()

    async def fraction() -> float | None:
        await until(lambda: view.difference_image() is not None)
        return view.difference_fraction()

    assert loop.run_until_complete(fraction()) == pytest.approx(0.5)
    spin.setValue(50)
    assert loop.run_until_complete(fraction()) == pytest.approx(0.0)
    view.set_mode(CompareMode.WIPE)
    assert spin.isHidden()
