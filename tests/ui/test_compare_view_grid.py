"""The compare view's grid through real events: every mode on a 3-provider grid, the selected
cell's frame, pairs of cells, keys acting on what is shown."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QSpinBox, QToolButton

from desktop.ui.compare_view import CompareItem, CompareMode, CompareView
from tests.ui.compare_kit import (
    BEFORE_COLOUR,
    CELL_COLOURS,
    fill_grid,
    focus,
    open_view,
    rendered,
    same_colour,
    solid,
    until,
    with_rect,
)

MODE_KEYS = {CompareMode.SIDE_BY_SIDE: Qt.Key.Key_1, CompareMode.WIPE: Qt.Key.Key_2,
             CompareMode.TOGGLE: Qt.Key.Key_3, CompareMode.DIFFERENCE: Qt.Key.Key_4,
             CompareMode.BLEND: Qt.Key.Key_5, CompareMode.STRUCTURE: Qt.Key.Key_6}



@pytest.fixture
def view(qtbot, loop: asyncio.AbstractEventLoop) -> Iterator[CompareView]:  # type: ignore[no-untyped-def]
    yield from open_view(qtbot)


@pytest.fixture
def grid(view: CompareView) -> CompareView:
    return fill_grid(view)

def button(compare: CompareView, name: str) -> QToolButton:
    found = compare.findChild(QToolButton, name)
    assert found is not None
    return found


def test_every_mode_works_in_a_three_provider_grid(qtbot, grid: CompareView,  # type: ignore[no-untyped-def]
                                                   loop: asyncio.AbstractEventLoop) -> None:
    cells = grid.canvases()
    assert len(cells) == 4 and grid.selected_cell() == 0 and grid.pair() == (-1, 0)
    assert [c.labels()[0] for c in cells] == [
        "Before", "FitInView · Variation 1", "TryonAPI · Variation 1", "Local · Variation 1"]
    grid.set_zoom(1.5, QPointF(150, 100))
    zoom, centre = grid.zoom(), grid.view_center()
    focus(qtbot, grid)
    for mode in (CompareMode.WIPE, CompareMode.TOGGLE, CompareMode.BLEND,
                 CompareMode.DIFFERENCE, CompareMode.STRUCTURE):
        qtbot.keyClick(grid.canvases()[-1], MODE_KEYS[mode])
        assert grid.mode() == mode
        [pane] = grid.canvases()  # the pair in one large pane of the grid page
        assert pane.isVisible() and grid.grid_page().isVisible()
        assert grid.grid_page().back_button.isVisible()
        # the pane's labels name both pictures compared
        labels = " ".join(pane.labels())
        assert "Before" in labels or mode == CompareMode.TOGGLE
        assert "FitInView · Variation 1" in labels
        assert grid.zoom() == pytest.approx(zoom)
        if mode in (CompareMode.DIFFERENCE, CompareMode.STRUCTURE):
            loop.run_until_complete(until(lambda p=pane: p.message() == ""))
            figure = "Changed area" if mode == CompareMode.DIFFERENCE else "Structural change"
            assert figure in grid.status_text()
        assert "Before vs FitInView · Variation 1" in grid.status_text()
        qtbot.keyClick(pane, Qt.Key.Key_Escape)  # back to the grid
        assert grid.mode() == CompareMode.SIDE_BY_SIDE and len(grid.canvases()) == 4
        assert grid.zoom() == pytest.approx(zoom)
        assert abs(grid.view_center().x() - centre.x()) < 0.01
        focus(qtbot, grid)
    # what each shows at the centre, in the pair pane
    spot = QPointF(200, 150)
    grid.set_mode(CompareMode.TOGGLE)
    [pane] = grid.canvases()
    assert same_colour(rendered(pane, spot), CELL_COLOURS[0])
    qtbot.keyClick(pane, Qt.Key.Key_Space)
    assert same_colour(rendered(pane, spot), BEFORE_COLOUR)
    grid.set_mode(CompareMode.WIPE)
    grid.set_wipe_position(0.5)
    shot = pane.grab().toImage()
    middle = pane.height() // 2
    assert same_colour(shot.pixelColor(pane.width() // 4, middle), BEFORE_COLOUR)
    assert same_colour(shot.pixelColor(pane.width() * 3 // 4, middle), CELL_COLOURS[0])


def test_provider_against_provider_difference(qtbot, view: CompareView,  # type: ignore[no-untyped-def]
                                              loop: asyncio.AbstractEventLoop) -> None:
    """Two cells that differ in a known rectangle: Ctrl+click picks them; the changed area is
    exactly that rectangle."""
    base = solid(160, 100, QColor(90, 120, 150))
    changed = QRect(30, 20, 40, 30)
    items = [CompareItem(base, "A", provider="FitInView", variation="Variation 1"),
             CompareItem(with_rect(base, changed, QColor(250, 250, 0)), "B",
                         provider="TryonAPI", variation="Variation 1"),
             CompareItem(solid(160, 100, QColor(10, 10, 10)), "C", provider="Local")]
    view.set_before(solid(160, 100, QColor(200, 200, 200)))
    view.set_grid(items)
    cells = view.canvases()
    qtbot.mouseClick(cells[1], Qt.MouseButton.LeftButton, pos=QPoint(20, 20))
    assert view.selected_cell() == 0
    qtbot.mouseClick(cells[2], Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier,
                     QPoint(20, 20))
    assert view.pair() == (0, 1)
    assert "FitInView · Variation 1 vs TryonAPI · Variation 1" in view.status_text()
    # the pair's cells are tagged A and B
    assert cells[1].labels()[1].startswith("A") and cells[2].labels()[1].startswith("B")
    view.set_mode(CompareMode.DIFFERENCE)
    loop.run_until_complete(until(lambda: view.difference_image() is not None))
    diff = view.difference_image()
    assert diff is not None
    hits = {(x, y) for y in range(100) for x in range(160)
            if not diff.pixelColor(x, y).red() == diff.pixelColor(x, y).green()
            == diff.pixelColor(x, y).blue()}
    assert hits == {(x, y) for x in range(30, 70) for y in range(20, 50)}
    assert view.difference_fraction() == pytest.approx(1200 / 16000)
    assert "Changed area 7.5 %" in view.status_text()
    [pane] = view.canvases()
    assert "FitInView · Variation 1 vs TryonAPI · Variation 1" in pane.labels()[1]
    # swapping keeps the figure, names B first
    view.swap()
    assert view.pair() == (1, 0)
    loop.run_until_complete(until(lambda: view.difference_image() is not None))
    assert "TryonAPI · Variation 1 vs FitInView · Variation 1" in view.status_text()


def test_selected_cell_has_a_highlight_frame_and_arrows_move_it(qtbot, grid: CompareView) -> None:  # type: ignore[no-untyped-def]
    frames = grid.grid_page().frames()
    highlight = grid.palette().color(QPalette.ColorRole.Highlight)

    def framed(index: int) -> bool:
        shot = frames[index].grab().toImage()
        edges = [shot.pixelColor(1, shot.height() // 2), shot.pixelColor(shot.width() // 2, 1),
                 shot.pixelColor(shot.width() - 2, shot.height() // 2),
                 shot.pixelColor(shot.width() // 2, shot.height() - 2)]
        return all(same_colour(colour, highlight, 0) for colour in edges)

    assert [framed(i) for i in range(4)] == [False, True, False, False]
    assert "selected" in frames[1].canvas.accessibleDescription()
    assert "FitInView · Variation 1" in grid.grid_page().accessibleDescription()
    activated: list[int] = []
    grid.gridCellActivated.connect(activated.append)
    focus(qtbot, grid)
    qtbot.keyClick(grid.canvases()[1], Qt.Key.Key_Right)
    assert grid.selected_cell() == 1 and activated == [1]
    assert [framed(i) for i in range(4)] == [False, False, True, False]
    qtbot.keyClick(grid.canvases()[2], Qt.Key.Key_Left)
    assert grid.selected_cell() == 0
    qtbot.keyClick(grid.canvases()[1], Qt.Key.Key_Down)  # 2 columns: below the 2nd, the 4th
    assert grid.selected_cell() == 2
    assert [framed(i) for i in range(4)] == [False, False, False, True]
    assert "selected" not in frames[1].canvas.accessibleDescription()
    qtbot.mouseClick(grid.canvases()[0], Qt.MouseButton.LeftButton, pos=QPoint(30, 30))
    assert grid.selected_cell() == -1 and framed(0)
    assert grid.pair() == (-1, 0)  # the before selected: compared with the first result


def test_keys_in_the_grid_act_on_what_is_shown(qtbot, grid: CompareView) -> None:  # type: ignore[no-untyped-def]
    focus(qtbot, grid)
    cell = grid.canvases()[1]
    # side by side of the grid: no wipe divider, no flip, no hidden settings
    assert not grid.action("wipe_right").isEnabled()
    assert "only in wipe mode" in grid.action("wipe_right").toolTip()
    assert not grid.action("grid").isEnabled()
    assert "already shown" in grid.action("grid").toolTip()
    qtbot.keyClick(cell, Qt.Key.Key_Space)
    assert not grid.toggle_showing_before()
    spin = grid.findChild(QSpinBox, "compareThreshold")
    assert spin is not None and spin.isHidden()
    grid.select_cell(2)  # the last cell: Qt alone would pass the focus to the wrong widget
    cell = grid.canvases()[3]
    cell.setFocus()
    qtbot.waitUntil(cell.hasFocus)
    qtbot.keyClick(cell, Qt.Key.Key_4)
    assert grid.mode() == CompareMode.DIFFERENCE and not spin.isHidden()
    [pane] = grid.canvases()
    assert pane.isVisible()  # the mode changed is the one shown
    assert pane.hasFocus()  # the keys follow what is shown: the focus left the hidden cell
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    assert grid.mode() == CompareMode.SIDE_BY_SIDE and spin.isHidden()
    assert grid.canvases()[3].hasFocus()  # back on the selected cell
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Left)
    assert grid.selected_cell() == 1
    # a cell whose result has no picture: the pair modes cannot be chosen, and say why
    broken = [CompareItem(solid(400, 300, QColor(1, 2, 3)), "ok", provider="A"),
              CompareItem(solid(0, 0, QColor(0, 0, 0)), "broken", provider="B")]
    grid.set_grid(broken)
    grid.select_cell(1)
    assert not grid.action("wipe").isEnabled() and not button(grid, "compareModeWipe").isEnabled()
    assert "need pictures" in grid.action("wipe").toolTip()
    qtbot.keyClick(grid.canvases()[2], Qt.Key.Key_2)
    assert grid.mode() == CompareMode.SIDE_BY_SIDE


def test_more_than_eight_results_are_left_out_and_said(grid: CompareView) -> None:
    items = [CompareItem(solid(120, 90, QColor(20 * i, 40, 90)), f"P{i}", provider=f"P{i}")
             for i in range(11)]
    grid.set_grid(items)
    assert len(grid.canvases()) == CompareView.MAX_GRID_CELLS
    assert "3 more results left out" in grid.status_text()
    status = grid.findChild(QLabel, "compareStatus")
    assert status is not None and status.isVisible() and status.text() == grid.status_text()
