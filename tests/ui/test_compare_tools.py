"""The compare tools (loupe, pixel inspector, blink, blend) over three synced ImageCanvas panes,
driven through real mouse and wheel events (offscreen) and checked on grabbed pixels."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRect, QSize, QSizeF, Qt
from PySide6.QtGui import QColor, QImage, QPaintEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QHBoxLayout, QWidget

from desktop.ui.compare_tools import LOUPE_DIAMETER, Blinker, Loupe, PixelInspector
from desktop.ui.compare_tools.inspector import DIFFERS
from desktop.ui.image_canvas import ImageCanvas, ViewState, display_format

REF_W, REF_H = 200, 150  # the reference (after) size; the before is half of it
PANE = QSize(300, 240)
RED = (255, 0, 0)
Rgb = tuple[int, int, int]


def pattern(x: int, y: int, blue: int) -> Rgb:
    """A colour unique to each pixel of a small window: any misplaced pixel shows."""
    return (x * 5) % 256, (y * 7) % 256, blue


def make_image(width: int, height: int, colour: Callable[[int, int], Rgb]) -> QImage:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    for y in range(height):
        for x in range(width):
            image.setPixelColor(x, y, QColor(*colour(x, y)))
    return image


def rgb_at(image: QImage, x: int, y: int) -> Rgb:
    colour = image.pixelColor(x, y)
    return colour.red(), colour.green(), colour.blue()


def near(a: Rgb, b: Rgb, tolerance: int = 1) -> bool:
    return all(abs(p - q) <= tolerance for p, q in zip(a, b, strict=True))


# The before: a half-size picture, drawn stretched 2x into the reference space.
def before_colour(x: int, y: int) -> Rgb:
    return pattern(x, y, 40)


# Provider A: exactly the stretched before, but one red pixel at (100, 75).
def provider_a_colour(x: int, y: int) -> Rgb:
    return RED if (x, y) == (100, 75) else before_colour(x // 2, y // 2)


# Provider B: the stretched before with blue 43 (3 off in one channel everywhere).
def provider_b_colour(x: int, y: int) -> Rgb:
    return pattern(x // 2, y // 2, 43)


def expected_ref(index: int, rx: int, ry: int) -> Rgb:
    """What pane `index` shows at reference pixel (rx, ry)."""
    if index == 0:
        return before_colour(rx // 2, ry // 2)
    return provider_a_colour(rx, ry) if index == 1 else provider_b_colour(rx, ry)


class Panes(QWidget):
    """Three panes side by side over one ViewState, as in the compare view."""

    def __init__(self) -> None:
        super().__init__()
        self.state = ViewState()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(20, 20, 20, 20)  # room to move the mouse off every pane
        layout.setSpacing(10)
        self.canvases = [ImageCanvas(self.state, self) for _ in range(3)]
        images = [make_image(REF_W // 2, REF_H // 2, before_colour),
                  make_image(REF_W, REF_H, provider_a_colour),
                  make_image(REF_W, REF_H, provider_b_colour)]
        for canvas, image, label in zip(self.canvases, images,
                                        ("Before", "Provider A", "Provider B"), strict=True):
            canvas.setFixedSize(PANE)
            canvas.set_image(image)
            canvas.set_labels(label)
            layout.addWidget(canvas)
        self.state.set_reference(QSize(REF_W, REF_H), refit=True)
        self.state.set_viewport(QSizeF(PANE))


@pytest.fixture
def panes(qtbot) -> Iterator[Panes]:  # type: ignore[no-untyped-def]
    widget = Panes()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    for canvas in widget.canvases:
        assert canvas.devicePixelRatioF() == 1.0  # pixel positions below assume it
    widget.state.set_scale(1.0)
    widget.state.set_center(QPointF(100.0, 75.0))
    yield widget


def widget_pos(canvas: ImageCanvas, ref: QPointF) -> QPoint:
    at = canvas.map_from_image(ref)
    return QPoint(math.floor(at.x()), math.floor(at.y()))


def hover(canvas: ImageCanvas, ref: QPointF) -> QPoint:
    """Move the mouse onto the reference point. Qt drops a move to where the mouse already
    is (a previous test's window stood in the same place), so it comes from a pixel away."""
    pos = widget_pos(canvas, ref)
    QTest.mouseMove(canvas, pos + QPoint(1, 1))
    QTest.mouseMove(canvas, pos)
    QApplication.processEvents()
    return pos


def leave_all(panes: Panes) -> None:
    QTest.mouseMove(panes, QPoint(5, 5))  # the margin around the panes
    QApplication.processEvents()


def grab(canvas: ImageCanvas) -> QImage:
    return canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


# ------------------------------------------------------------------ canvas hooks


def test_cursor_moved_reports_reference_points_and_none_on_leave(panes: Panes) -> None:
    seen: list[QPointF | None] = []
    canvas = panes.canvases[1]
    canvas.cursorMoved.connect(seen.append)
    pos = hover(canvas, QPointF(120.5, 80.5))
    assert seen and seen[-1] is not None
    assert seen[-1] == canvas.map_to_image(QPointF(pos))
    assert math.floor(seen[-1].x()) == 120 and math.floor(seen[-1].y()) == 80
    leave_all(panes)
    assert seen[-1] is None


def test_blend_draws_the_top_over_the_image_at_0_50_and_100_percent(qtbot) -> None:  # type: ignore[no-untyped-def]
    state = ViewState()
    canvas = ImageCanvas(state)
    qtbot.addWidget(canvas)
    canvas.resize(PANE)
    canvas.show()
    qtbot.waitExposed(canvas)
    base = QImage(REF_W, REF_H, QImage.Format.Format_RGB32)
    base.fill(QColor(200, 40, 40))
    top = QImage(REF_W // 4, REF_H // 4, QImage.Format.Format_RGB32)  # stretched 4x
    top.fill(QColor(40, 60, 200))
    canvas.set_image(base)
    state.set_reference(QSize(REF_W, REF_H), refit=True)
    state.set_viewport(QSizeF(canvas.size()))
    centre = QPointF(REF_W / 2, REF_H / 2)

    def shown() -> Rgb:
        at = widget_pos(canvas, centre)
        return rgb_at(grab(canvas), at.x(), at.y())

    for opacity, want in ((0.0, (200, 40, 40)), (0.5, (120, 50, 120)), (1.0, (40, 60, 200))):
        canvas.set_blend(top, opacity)
        assert canvas.blend() == (top, opacity)
        assert near(shown(), want, 2), (opacity, shown())
        assert canvas.sample(centre) is not None
        assert near(canvas.sample(centre), want, 1)  # type: ignore[arg-type]
    assert canvas.draws_at(centre) is top
    canvas.set_blend(None, 0.5)
    assert shown() == (200, 40, 40)
    assert canvas.draws_at(centre) is base


def test_sample_and_draws_at_read_each_side_of_a_wipe(panes: Panes) -> None:
    canvas = panes.canvases[1]
    before = panes.canvases[0].image()
    assert before is not None
    canvas.set_wipe_before(before)
    canvas.set_divider(0.5)
    left = canvas.map_to_image(QPointF(canvas.width() * 0.25, canvas.height() / 2))
    right = canvas.map_to_image(QPointF(canvas.width() * 0.75, canvas.height() / 2))
    assert canvas.draws_at(left) is before
    assert canvas.draws_at(right) is canvas.image()
    lx, ly = math.floor(left.x()), math.floor(left.y())
    rx, ry = math.floor(right.x()), math.floor(right.y())
    assert canvas.sample(left) == before_colour(lx // 2, ly // 2)
    assert canvas.sample(right) == provider_a_colour(rx, ry)
    assert canvas.sample(QPointF(-1, 10)) is None
    assert canvas.draws_at(QPointF(REF_W + 1, 10)) is None


def test_display_format_keeps_the_pixels_and_takes_a_fast_format() -> None:
    rgba = QImage(4, 3, QImage.Format.Format_RGBA8888)
    rgba.fill(QColor(10, 20, 30))
    opaque = display_format(rgba)
    assert opaque.format() == QImage.Format.Format_RGB32
    assert rgb_at(opaque, 2, 1) == (10, 20, 30)
    rgba.setPixelColor(1, 1, QColor(200, 100, 50, 128))
    clear = display_format(rgba)
    assert clear.format() == QImage.Format.Format_ARGB32_Premultiplied
    assert clear.pixelColor(1, 1).alpha() == 128
    assert display_format(opaque) is opaque


# ------------------------------------------------------------------ loupe


def loupe_spots(centre: QPointF, ref_point: QPointF, magnification: float,
                radius: float) -> list[tuple[QPoint, int, int]]:
    """Widget pixels inside the loupe (off its crosshair, ring and pill, and not within a
    pixel of a magnified pixel's edge) and the reference pixel each must show."""
    spots = []
    for dy in range(-70, 71, 7):
        for dx in range(-70, 71, 7):
            if abs(dx) < 4 or abs(dy) < 4 or math.hypot(dx, dy) > radius - 8:
                continue
            if dy > radius - 40 and abs(dx) < 30:  # the factor pill
                continue
            wx, wy = math.floor(centre.x()) + dx, math.floor(centre.y()) + dy
            rx = ref_point.x() + (wx + 0.5 - centre.x()) / magnification
            ry = ref_point.y() + (wy + 0.5 - centre.y()) / magnification
            margin = 0.4 / magnification  # 0.4 widget px: clearly one pixel's side
            if min(rx % 1, 1 - rx % 1) < margin or min(ry % 1, 1 - ry % 1) < margin:
                continue
            spots.append((QPoint(wx, wy), math.floor(rx), math.floor(ry)))
    return spots


@pytest.mark.parametrize("factor", [2, 8])
def test_loupe_magnifies_the_same_point_in_every_pane(panes: Panes, factor: int) -> None:
    loupe = Loupe(lambda: panes.canvases, panes)
    loupe.attach()
    loupe.set_factor(factor)
    loupe.set_enabled(True)
    hover(panes.canvases[2], QPointF(100.5, 75.5))  # the mouse is over the third pane only
    point = loupe.point()
    assert point is not None and math.floor(point.x()) == 100 and math.floor(point.y()) == 75
    magnification = panes.state.scale * factor
    for index, canvas in enumerate(panes.canvases):
        shot = grab(canvas)
        centre = canvas.map_from_image(point)
        spots = loupe_spots(centre, point, magnification, LOUPE_DIAMETER / 2)
        assert len(spots) > 40
        wrong = [(spot, rx, ry, rgb_at(shot, spot.x(), spot.y()), expected_ref(index, rx, ry))
                 for spot, rx, ry in spots
                 if not near(rgb_at(shot, spot.x(), spot.y()), expected_ref(index, rx, ry))]
        assert not wrong, (index, wrong[:5])
        # the centre pixel is the point's own pixel: the red one only in provider A's pane
        c = QPoint(math.floor(centre.x()), math.floor(centre.y()))
        assert (rgb_at(shot, c.x(), c.y()) == RED) == (index == 1)
        # outside the circle the pane is drawn unmagnified
        outside = QPoint(c.x() - 70, c.y() + 68)  # 97.6 px from the centre
        ref = canvas.map_to_image(QPointF(outside) + QPointF(0.5, 0.5))
        assert 0 <= ref.x() < REF_W and 0 <= ref.y() < REF_H
        assert near(rgb_at(shot, outside.x(), outside.y()),
                    expected_ref(index, math.floor(ref.x()), math.floor(ref.y())))


def test_loupe_disappears_when_the_mouse_leaves_every_pane(panes: Panes) -> None:
    plain = [grab(canvas) for canvas in panes.canvases]
    loupe = Loupe(lambda: panes.canvases, panes)
    loupe.attach()
    loupe.set_factor(8)
    loupe.set_enabled(True)
    hover(panes.canvases[0], QPointF(100.5, 75.5))
    assert all(grab(c) != p for c, p in zip(panes.canvases, plain, strict=True))
    leave_all(panes)
    assert loupe.point() is None
    assert all(grab(c) == p for c, p in zip(panes.canvases, plain, strict=True))
    hover(panes.canvases[1], QPointF(90.5, 70.5))
    loupe.set_enabled(False)
    assert all(grab(c) == p for c, p in zip(panes.canvases, plain, strict=True))


class PaintSpy(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.rects: list[QRect] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and isinstance(event, QPaintEvent):
            self.rects.append(event.rect())
        return False


def test_a_moving_loupe_repaints_only_its_old_and_new_rectangles(panes: Panes) -> None:
    loupe = Loupe(lambda: panes.canvases, panes)
    loupe.attach()
    loupe.set_enabled(True)
    hover(panes.canvases[1], QPointF(100.5, 75.5))
    spies = []
    for canvas in panes.canvases:
        spy = PaintSpy()
        canvas.installEventFilter(spy)
        spies.append(spy)
    hover(panes.canvases[1], QPointF(104.5, 77.5))
    QTest.qWait(50)
    for canvas, spy in zip(panes.canvases, spies, strict=True):
        assert spy.rects, "every pane repaints its loupe"
        for rect in spy.rects:
            assert rect.width() <= LOUPE_DIAMETER + 20 and rect.height() <= \
                LOUPE_DIAMETER + 20, (rect, canvas.rect())


def test_shift_wheel_changes_the_factor_and_the_plain_wheel_zooms(panes: Panes) -> None:
    loupe = Loupe(lambda: panes.canvases, panes)
    loupe.attach()
    loupe.set_enabled(True)
    canvas = panes.canvases[0]
    pos = QPointF(canvas.width() / 2, canvas.height() / 2)

    def wheel(modifiers: Qt.KeyboardModifier, notches: int) -> None:
        event = QWheelEvent(pos, canvas.mapToGlobal(pos), QPoint(0, 0),
                            QPoint(0, 120 * notches), Qt.MouseButton.NoButton, modifiers,
                            Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(canvas, event)

    scale = panes.state.scale
    wheel(Qt.KeyboardModifier.ShiftModifier, 1)
    assert loupe.factor() == 5 and panes.state.scale == scale
    wheel(Qt.KeyboardModifier.ShiftModifier, 9)
    assert loupe.factor() == 8  # clamped
    wheel(Qt.KeyboardModifier.ShiftModifier, -20)
    assert loupe.factor() == 2
    wheel(Qt.KeyboardModifier.NoModifier, 1)
    assert loupe.factor() == 2 and panes.state.scale > scale
    loupe.set_factor(12)
    assert loupe.factor() == 8


# ------------------------------------------------------------------ pixel inspector


def test_inspector_reads_every_pane_at_the_pixel_under_the_mouse(panes: Panes) -> None:
    inspector = PixelInspector(lambda: panes.canvases, panes)
    inspector.attach()
    inspector.set_enabled(True)
    hover(panes.canvases[2], QPointF(100.5, 75.5))
    assert inspector.point() == QPointF(100, 75)
    readings = inspector.readings()
    assert [r.title for r in readings] == ["Before", "Provider A", "Provider B"]
    before = before_colour(50, 37)  # the half-size before's own pixel under (100, 75)
    assert readings[0].rgb == before and not readings[0].differs
    assert readings[0].hex == "#{:02X}{:02X}{:02X}".format(*before)
    assert readings[1].rgb == RED and readings[1].hex == "#FF0000" and readings[1].differs
    assert readings[2].rgb == pattern(50, 37, 43) and readings[2].differs  # threshold 0
    text = inspector.text()
    assert text.startswith(f"x 100, y 75 · Before {readings[0].hex} ({before[0]}, "
                           f"{before[1]}, {before[2]}) · Provider A #FF0000 (255, 0, 0) ≠")
    assert text.endswith("≠")

    hover(panes.canvases[0], QPointF(31.5, 21.5))
    readings = inspector.readings()
    assert readings[0].rgb == before_colour(15, 10) == readings[1].rgb
    assert not readings[1].differs and readings[2].differs
    inspector.set_threshold(3)  # blue 40 vs 43: not more than 3
    assert not any(r.differs for r in inspector.readings())
    inspector.set_threshold(2)
    assert inspector.readings()[2].differs
    assert " ≠" not in inspector.text().split(" · Provider B")[0]

    hover(panes.canvases[1], QPointF(-3, 10))  # in the pane, off the image
    assert all(r.rgb is None and r.hex == "" for r in inspector.readings())
    leave_all(panes)
    assert inspector.point() is None and inspector.readings() == [] and inspector.text() == ""


def click(canvas: ImageCanvas, ref: QPointF) -> None:
    pos = widget_pos(canvas, ref)
    QTest.mouseMove(canvas, pos)
    QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    QApplication.processEvents()


def test_a_click_locks_the_inspector_another_moves_it_a_drag_does_not(panes: Panes) -> None:
    inspector = PixelInspector(lambda: panes.canvases, panes)
    inspector.attach()
    click(panes.canvases[0], QPointF(40.5, 30.5))  # disabled: a click does nothing
    assert not inspector.is_locked()
    inspector.set_enabled(True)
    click(panes.canvases[0], QPointF(40.5, 30.5))
    assert inspector.is_locked() and inspector.point() == QPointF(40, 30)
    hover(panes.canvases[2], QPointF(120.5, 90.5))
    assert inspector.point() == QPointF(40, 30)  # the mouse moved, the lock stayed
    click(panes.canvases[2], QPointF(100.5, 75.5))
    assert inspector.point() == QPointF(100, 75)
    assert inspector.readings()[1].rgb == RED

    canvas = panes.canvases[1]
    start = widget_pos(canvas, QPointF(60.5, 50.5))
    center = QPointF(panes.state.center)
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for step in range(1, 5):
        QTest.mouseMove(canvas, start + QPoint(6 * step, 4 * step))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       start + QPoint(24, 16))
    assert panes.state.center != center  # the drag panned
    assert inspector.point() == QPointF(100, 75)  # and did not move the lock

    inspector.lock(None)  # the compare view's Escape
    assert not inspector.is_locked()
    hover(panes.canvases[0], QPointF(10.5, 12.5))
    assert inspector.point() == QPointF(10, 12)


def colours_in(image: QImage, rect: QRect) -> set[Rgb]:
    rect = rect.intersected(image.rect())
    return {rgb_at(image, x, y) for y in range(rect.top(), rect.bottom() + 1)
            for x in range(rect.left(), rect.right() + 1)}


def test_inspector_paints_a_marker_and_a_pill_in_every_pane(panes: Panes) -> None:
    plain = [grab(canvas) for canvas in panes.canvases]
    inspector = PixelInspector(lambda: panes.canvases, panes)
    inspector.attach()
    inspector.set_enabled(True)
    inspector.lock(QPointF(100, 75))
    differs = (DIFFERS.red(), DIFFERS.green(), DIFFERS.blue())
    for index, canvas in enumerate(panes.canvases):
        shot = grab(canvas)
        marker = widget_pos(canvas, QPointF(100, 75))
        around = QRect(marker.x() - 8, marker.y() - 8, 150, 60)  # the marker and its pill
        changed = [(x, y) for y in range(around.top(), around.bottom())
                   for x in range(around.left(), around.right())
                   if rgb_at(shot, x, y) != rgb_at(plain[index], x, y)]
        assert len(changed) > 300, index
        has_highlight = any(near(c, differs, 12) for c in colours_in(shot, around))
        assert has_highlight == (index > 0), index  # both providers differ from the before
    inspector.set_enabled(False)
    assert all(grab(c) == p for c, p in zip(panes.canvases, plain, strict=True))


# ------------------------------------------------------------------ blink


def test_blink_flips_at_its_interval_alternately(qtbot) -> None:  # type: ignore[no-untyped-def]
    host = QWidget()
    qtbot.addWidget(host)
    blinker = Blinker(host, interval_ms=200)
    assert blinker.interval() == 200
    flips: list[tuple[float, bool]] = []
    blinker.flipped.connect(lambda b: flips.append((time.monotonic(), b)))
    started = time.monotonic()
    blinker.start()
    assert blinker.is_running() and not blinker.showing_b()
    qtbot.waitUntil(lambda: time.monotonic() - started >= 1.0 and len(flips) >= 4, timeout=5000)
    in_a_second = [b for t, b in flips if t - started <= 1.1]
    assert 4 <= len(in_a_second) <= 6, flips
    assert in_a_second[:4] == [True, False, True, False]
    assert blinker.showing_b() == flips[-1][1]
    blinker.stop()
    count = len(flips)
    QTest.qWait(450)
    assert len(flips) == count and not blinker.is_running()

    blinker.set_interval(10)
    assert blinker.interval() == 100
    blinker.set_interval(60_000)
    assert blinker.interval() == 5000
    if blinker.showing_b():
        blinker.start()  # a restart begins on the A side
        assert flips[-1][1] is False and not blinker.showing_b()
        blinker.stop()
