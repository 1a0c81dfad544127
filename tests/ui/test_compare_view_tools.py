"""Blend, blink, loupe, inspector, structure check, status line and the keys help of the compare
view, through real events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QPushButton, QSlider, QSpinBox

from desktop.ui.compare_view import CompareItem, CompareMode, CompareView
from desktop.ui.compare_view.help import ShortcutsHelp
from tests.core.compare_scenes import WALL_RECOLOURED, Room, draw_room
from tests.ui.compare_kit import (
    from_array,
    hover,
    open_view,
    rendered,
    same_colour,
    solid,
    until,
    with_rect,
)

A = QColor(200, 40, 40)
B = QColor(40, 60, 200)



@pytest.fixture
def view(qtbot, loop: asyncio.AbstractEventLoop) -> Iterator[CompareView]:  # type: ignore[no-untyped-def]
    yield from open_view(qtbot)

def pair(compare: CompareView, a: QImage | None = None, b: QImage | None = None) -> None:
    compare.set_before(a if a is not None else solid(200, 150, A))
    compare.set_outputs([CompareItem(b if b is not None else solid(400, 300, B),
                                  "FitInView · Variation 2", "x2")])


def mix(opacity: float) -> QColor:
    return QColor(*(round(a * (1 - opacity) + b * opacity) for a, b in
                    ((A.red(), B.red()), (A.green(), B.green()), (A.blue(), B.blue()))))


def test_blend_at_0_50_and_100_percent(qtbot, view: CompareView) -> None:  # type: ignore[no-untyped-def]
    pair(view)
    view.set_mode(CompareMode.BLEND)
    slider = view.findChild(QSlider, "compareBlendOpacity")
    assert slider is not None and slider.isVisible()
    [pane] = view.canvases()
    spot = QPointF(200, 150)
    for percent in (0, 50, 100):
        slider.setFocus()
        slider.setValue(percent)
        assert same_colour(rendered(pane, spot), mix(percent / 100), 2), percent
        assert f"at {percent} %" in pane.labels()[1]
    # the keyboard moves the slider too (a page step is 10 %)
    slider.setValue(50)
    qtbot.keyClick(slider, Qt.Key.Key_PageUp)
    assert slider.value() == 60
    assert same_colour(rendered(pane, spot), mix(0.6), 2)
    view.set_mode(CompareMode.WIPE)
    assert not slider.isVisible() and pane.blend()[0] is None


def test_blink_flips_the_shown_image_at_the_interval(qtbot, view: CompareView,  # type: ignore[no-untyped-def]
                                                     loop: asyncio.AbstractEventLoop) -> None:
    pair(view)
    spin = view.findChild(QSpinBox, "compareBlinkInterval")
    assert spin is not None and spin.value() == 500
    spin.setValue(100)
    view.activateWindow()
    view.canvases()[-1].setFocus()
    qtbot.waitUntil(lambda: view.canvases()[-1].hasFocus())
    qtbot.keyClick(view.canvases()[-1], Qt.Key.Key_B)
    assert view.is_blinking() and view.mode() == CompareMode.TOGGLE
    assert "Blink every 100 ms" in view.status_text()
    [pane] = view.canvases()
    spot = QPointF(200, 150)
    seen: list[bool] = []  # True: A shown

    async def watch() -> None:
        end = time.monotonic() + 1.05
        while time.monotonic() < end:
            colour = rendered(pane, spot)
            shows_a = same_colour(colour, A)
            assert shows_a or same_colour(colour, B)
            if not seen or seen[-1] != shows_a:
                seen.append(shows_a)
            await asyncio.sleep(0.01)

    loop.run_until_complete(watch())
    flips = len(seen) - 1
    assert 7 <= flips <= 12, seen  # ten flips in a second at 100 ms, give or take the load
    qtbot.keyClick(pane, Qt.Key.Key_B)
    assert not view.is_blinking()
    settled = same_colour(rendered(pane, spot), A)
    loop.run_until_complete(asyncio.sleep(0.3))
    assert same_colour(rendered(pane, spot), A) == settled  # stopped: no more flips
    assert "Blink" not in view.status_text()


def test_loupe_magnifies_in_every_pane_at_the_same_spot(qtbot, view: CompareView) -> None:  # type: ignore[no-untyped-def]
    red_dot = with_rect(solid(400, 300, B), QRectF(100, 75, 4, 4).toRect(), A)
    pair(view, solid(400, 300, QColor(250, 250, 250)), red_dot)
    left, right = view.canvases()
    scale = view.zoom()
    view.activateWindow()
    right.setFocus()
    qtbot.keyClick(right, Qt.Key.Key_L)
    assert view.action("loupe").isChecked()
    hover(right, QPointF(102, 77))
    centre = right.map_from_image(QPointF(102, 77))
    # 5 image px right and down (off the crosshair's lines): blue without the loupe
    beside = centre + QPointF(5 * scale, 5 * scale)
    shot = right.grab().toImage()
    # at factor 4 that point shows 1.25 image px off the centre: inside the red square
    assert same_colour(shot.pixelColor(int(beside.x()), int(beside.y())), A, 6)
    assert "Loupe 4x" in view.status_text()
    qtbot.keyClick(right, Qt.Key.Key_BracketRight)
    assert view.tools().loupe.factor() == 5 and "Loupe 5x" in view.status_text()
    # the other pane has a loupe at the same reference point, showing its own picture
    other = left.grab().toImage()
    spot = left.map_from_image(QPointF(102, 77))
    assert same_colour(other.pixelColor(int(spot.x() + 8), int(spot.y() + 8)),
                       QColor(250, 250, 250), 6)
    qtbot.keyClick(right, Qt.Key.Key_L)
    shot = right.grab().toImage()
    assert same_colour(shot.pixelColor(int(beside.x()), int(beside.y())), B, 6)


def test_inspector_reads_each_pane_at_a_known_pixel(qtbot, view: CompareView) -> None:  # type: ignore[no-untyped-def]
    before = with_rect(solid(400, 300, QColor(10, 20, 30)), QRectF(50, 40, 1, 1).toRect(),
                       QColor(170, 187, 204))
    after = solid(400, 300, QColor(10, 20, 30))
    pair(view, before, after)
    left, right = view.canvases()
    view.activateWindow()
    right.setFocus()
    qtbot.keyClick(right, Qt.Key.Key_I)
    hover(left, QPointF(50.5, 40.5))
    text = view.status_text()
    assert "x 50, y 40" in text
    assert "Before #AABBCC (170, 187, 204)" in text
    assert "FitInView · Variation 2 #0A141E (10, 20, 30) ≠" in text
    hover(left, QPointF(200.5, 100.5))
    assert "#AABBCC" not in view.status_text() and "≠" not in view.status_text()
    qtbot.keyClick(right, Qt.Key.Key_I)
    assert "x 200" not in view.status_text()


def test_structure_check_tells_a_changed_room_from_added_furniture(
        view: CompareView, loop: asyncio.AbstractEventLoop) -> None:
    room = from_array(draw_room(Room()))
    furnished = from_array(draw_room(Room(furniture=True)))
    repainted = from_array(draw_room(Room(furniture=True, wall=WALL_RECOLOURED)))

    def structural(staged: QImage) -> float:
        view.set_before(room)
        view.set_outputs([CompareItem(staged, "Virtual Staging AI · staging")])
        view.set_mode(CompareMode.STRUCTURE)
        loop.run_until_complete(until(lambda: view.structure_fraction() is not None))
        text = view.status_text()
        assert "Structural change" in text and "(estimated locally)" in text
        [pane] = view.canvases()
        assert "outside the furniture" in pane.labels()[0]
        return float(text.split("Structural change ")[1].split(" %")[0])

    furniture_only = structural(furnished)
    wall = structural(repainted)
    assert wall > 5 * max(furniture_only, 1.0), (wall, furniture_only)


def test_the_service_mask_button_and_its_source_in_the_status(
        qtbot, view: CompareView, loop: asyncio.AbstractEventLoop) -> None:  # type: ignore[no-untyped-def]
    room = from_array(draw_room(Room()))
    view.set_before(room)
    view.set_outputs([CompareItem(from_array(draw_room(Room(furniture=True))), "staged")])
    view.set_mode(CompareMode.STRUCTURE)
    ask = view.findChild(QPushButton, "compareAskMask")
    assert ask is not None and ask.isHidden()  # no provider offered a mask
    view.set_mask_provider("Virtual Staging AI")
    assert ask.isVisible() and ask.text() == "Use Virtual Staging AI's furniture mask"
    with qtbot.waitSignal(view.furnitureMaskWanted):
        qtbot.mouseClick(ask, Qt.MouseButton.LeftButton)
    mask = QImage(room.size(), QImage.Format.Format_Grayscale8)
    mask.fill(0)
    view.set_furniture_mask(mask, "Virtual Staging AI")
    loop.run_until_complete(until(lambda: view.structure_fraction() is not None))
    assert "(Virtual Staging AI's furniture mask)" in view.status_text()
    view.set_mode(CompareMode.WIPE)
    assert ask.isHidden()


def test_status_line_says_zoom_and_pair(view: CompareView) -> None:
    pair(view)
    view.zoom_actual()
    text = view.status_text()
    assert text.startswith(f"Zoom {view.zoom_percent()} %")
    assert "Before vs FitInView · Variation 2" in text
    view.swap()
    assert "FitInView · Variation 2 vs Before" in view.status_text()


def test_help_lists_every_key_and_opens_with_f1_and_question_mark(qtbot, view: CompareView) -> None:  # type: ignore[no-untyped-def]
    pair(view)
    view.activateWindow()
    view.canvases()[-1].setFocus()
    qtbot.waitUntil(lambda: view.canvases()[-1].hasFocus())
    qtbot.keyClick(view.canvases()[-1], Qt.Key.Key_F1)
    help_window = view.findChild(ShortcutsHelp, "compareShortcutsHelp")
    assert help_window is not None and help_window.isVisible() and not help_window.isModal()
    rows = help_window.rows()
    actions = [a for a in view.actions() if a.objectName().startswith("compare.")]
    assert len(actions) >= 25
    listed = {does.split(": ")[0]: key for key, does in rows}
    for action in actions:
        if not action.shortcuts() and action.objectName() != "compare.flip":
            continue
        # one row per action: its text, and exactly its keys
        assert action.text() in listed, action.objectName()
        if action.shortcuts():
            assert listed[action.text()] == " or ".join(
                s.toString(s.SequenceFormat.NativeText) for s in action.shortcuts())
    assert listed["Flip"] == "Space"  # read by the view itself, listed through its action
    help_window.close()
    qtbot.keyClick(view.canvases()[-1], Qt.Key.Key_Question)
    assert help_window.isVisible()
    # remapped keys show as they are now
    view.remap_keys({"2": "Alt+2"})
    assert any(k.startswith("Alt+2") for k, _d in help_window.rows())
    help_window.close()
    QApplication.processEvents()


def test_every_action_is_named_and_a_disabled_one_says_why(view: CompareView) -> None:
    names = ["side_by_side", "wipe", "toggle", "blend", "difference", "structure", "loupe",
             "inspector", "blink", "fit", "actual", "zoom_in", "zoom_out", "next", "previous",
             "swap", "help", "grid"]
    for name in names:
        assert view.action(name).objectName() == f"compare.{name}"
    assert [view.action(n).shortcut().toString() for n in ("blend", "structure", "loupe",
                                                           "inspector", "blink")] == \
        ["5", "6", "L", "I", "B"]
    assert not view.action("wipe").isEnabled()
    assert "Unavailable now: there is nothing to compare yet" in view.action("wipe").toolTip()
    pair(view)
    assert view.action("wipe").isEnabled() and "Unavailable" not in view.action("wipe").toolTip()
    assert not view.action("next").isEnabled()
    assert "only one output" in view.action("next").toolTip()


@pytest.mark.parametrize("mode", list(CompareMode))
def test_each_mode_shows_both_names(view: CompareView, mode: CompareMode,
                                    loop: asyncio.AbstractEventLoop) -> None:
    pair(view)
    view.set_mode(mode)
    loop.run_until_complete(until(lambda: all(c.message() == "" for c in view.canvases())))
    labels = " ".join(" ".join(c.labels()) for c in view.canvases())
    assert "FitInView · Variation 2" in labels
    assert "Before" in labels or mode == CompareMode.TOGGLE


def test_a_failed_difference_is_a_sentence_in_the_pane(
        view: CompareView, loop: asyncio.AbstractEventLoop,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop.ui.compare_view import analysis

    def broken(*_args: object, **_kwargs: object) -> None:
        raise ValueError("Cannot compare the before image: it has no pixels.")

    monkeypatch.setattr(analysis, "difference", broken)
    pair(view)
    view.set_mode(CompareMode.DIFFERENCE)
    [pane] = view.canvases()
    loop.run_until_complete(until(lambda: pane.message().startswith("Could not")))
    assert pane.message() == ("Could not compute the difference (Cannot compare the before "
                              "image: it has no pixels.). Compare the images in another mode.")
    assert "Traceback" not in view.status_text()
    view.set_mode(CompareMode.WIPE)
    assert pane.message() == ""


def test_a_newer_request_stops_the_older_one(loop: asyncio.AbstractEventLoop) -> None:
    from desktop.ui.compare_view.analysis import DIFFERENCE, PairAnalysis, Request
    from desktop.ui.tasks import TaskSet

    tasks = TaskSet("test")
    analysis = PairAnalysis(tasks, {})
    a = solid(3000, 2000, QColor(10, 10, 10))
    b = with_rect(a, QRectF(0, 0, 1500, 2000).toRect(), QColor(40, 40, 40))
    older = Request(DIFFERENCE, a, b, threshold=24)
    newer = Request(DIFFERENCE, a, b, threshold=50)
    analysis.request(older)
    analysis.request(newer)
    loop.run_until_complete(until(lambda: not analysis.is_running()))
    loop.run_until_complete(tasks.join())
    assert analysis.result(older) is None  # stopped, never finished
    found = analysis.result(newer)
    assert found is not None and found.fraction == 0.0  # a change of 30 is under 50


def test_decoded_pictures_are_drawn_from_a_fast_copy_made_in_a_worker(
        view: CompareView, loop: asyncio.AbstractEventLoop) -> None:
    """Pictures arrive as RGBA8888 (desktop/ui/qimages.py), which Qt scales slowly: the panes
    draw a display-format copy, the view's own methods keep returning what they were given."""
    before = solid(1200, 800, A).convertToFormat(QImage.Format.Format_RGBA8888)
    after = solid(1200, 800, B).convertToFormat(QImage.Format.Format_RGBA8888)
    pair(view, before, after)
    left, right = view.canvases()
    loop.run_until_complete(until(
        lambda: left.image() is not None and right.image() is not None
        and left.image().format() == QImage.Format.Format_RGB32
        and right.image().format() == QImage.Format.Format_RGB32))
    assert view.before_image() is before and view.current_item().image is after  # type: ignore[union-attr]
    assert same_colour(rendered(left, QPointF(600, 400)), A)
    assert same_colour(rendered(right, QPointF(600, 400)), B)


def test_display_copies_of_pictures_no_longer_shown_are_let_go(
        view: CompareView, loop: asyncio.AbstractEventLoop) -> None:
    """Small pictures already in a fast format skip the worker; showing job after job must not
    keep every earlier one alive through the display copies."""
    earlier: list[tuple[int, int]] = []
    for _ in range(6):
        before, after = solid(300, 200, A), solid(300, 200, B)  # RGB32, under the pyramid size
        pair(view, before, after)
        loop.run_until_complete(until(lambda: view.canvases()[0].image() is not None))
        earlier.append((before.cacheKey(), after.cacheKey()))
        del before, after
    kept = set(view._display)
    assert not kept & {key for pair_keys in earlier[:-1] for key in pair_keys}
    assert set(earlier[-1]) <= kept
