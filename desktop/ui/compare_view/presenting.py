"""Bringing the compare view's widgets in line with its model (a mixin of CompareView).

`_refresh` picks the page (placeholder, video, pair, grid cells or the grid's pair pane),
shows the pair in the mode, enables exactly the actions that act on what is shown (a disabled
one says why), re-hooks the tools and rewrites the status line. It keeps nothing of its own:
everything it reads lives on the view (view.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop.ui.compare_view import analysis
from desktop.ui.compare_view.model import CompareMode, Side, usable
from desktop.ui.compare_view.status import StatusFacts, status_text

if TYPE_CHECKING:
    from desktop.ui.compare_view.view import CompareView

    _Base = CompareView
else:
    _Base = object

PLACEHOLDER, VIDEO, PAIR, GRID, GRID_PAIR = "placeholder", "video", "pair", "grid", "grid pair"
ANALYSED = {CompareMode.DIFFERENCE: analysis.DIFFERENCE, CompareMode.STRUCTURE: analysis.STRUCTURE}


class Presenting(_Base):  # type: ignore[misc,valid-type]
    def _page(self) -> str:
        if self.is_grid():
            return GRID if self._mode == CompareMode.SIDE_BY_SIDE else GRID_PAIR
        item = self.current_item()
        if item is not None and item.video:
            return VIDEO
        if self._before is None and item is None:
            return PLACEHOLDER
        return PAIR

    def _refresh(self, *, new_content: bool = False) -> None:
        """Bring every child in line with the model (mode, images, grid, tools)."""
        reference = self._reference_size()
        if reference != self._state.reference:
            self._state.set_reference(reference, refit=new_content or
                                      not self._state.has_reference())
        page = self._page()
        focused = QApplication.focusWidget()
        had_focus = focused is not None and (focused is self or self.isAncestorOf(focused))
        if page == VIDEO:
            self._show_video(self.current_item())
        elif page == PLACEHOLDER:
            self._stack.setCurrentWidget(self._placeholder_label)
            self.setFocusProxy(None)
        elif page == PAIR:
            self._stack.setCurrentWidget(self._pair_page)
            self._present(self._pair_page)
            self.setFocusProxy(self._after_canvas)
        else:
            self._stack.setCurrentWidget(self._grid_page)
            self._present_grid(page)
        self._sync_viewport()
        if had_focus:
            self._keep_focus()
        self._update_actions(page)
        self._strip.setVisible(not self.is_grid() and len(self._items) >= 2)
        self._tools.follow()
        if self._tools.inspector.is_enabled():
            self._tools.inspector.refresh()  # the pictures under a locked pixel may change
        for image in self._model_images():
            self._prepare(image)
        self._update_zoom_label()
        self._update_accessible()
        self._update_status()

    def _keep_focus(self) -> None:
        """The keys go on acting on what is shown: focus that was on a pane now hidden (a grid
        cell when the pair pane opens, and back) moves to the pane shown instead."""
        focused = QApplication.focusWidget()
        if focused is not None and focused.isVisible() and self.isAncestorOf(focused):
            return
        target = self.focusProxy()
        if target is not None and target.isVisible():
            target.setFocus(Qt.FocusReason.OtherFocusReason)

    def _present(self, pane: Any) -> None:
        sides = self._sides()
        if sides is None or sides[0].image is None or sides[1].image is None:
            item = self.current_item()
            if self.is_grid() and sides is not None:
                pane.show_one(self._drawn_side(sides[1]), None)
            else:
                b = self._cell_or_output(item)
                pane.show_one(self._drawn_side(b) if b is not None else None,
                              self._drawn_side(self._cell(-1)) if b is None else None)
            return
        a, b = self._drawn_side(sides[0]), self._drawn_side(sides[1])
        kind = ANALYSED.get(self._mode)
        hint = "Blinking: B shows A in turn" if self.is_blinking() else "Space: show {other}"
        pane.show_pair(self._mode, a, b, showing_a=self._showing_a,
                       blend=self._toolbar.blend_opacity.value() / 100,
                       analysed=self._analysed(kind) if kind else None, toggle_hint=hint)

    def _cell_or_output(self, item: Any) -> Side | None:
        if item is None:
            return None
        return Side(usable(item.image), item.title or "After", item.label)

    def _present_grid(self, page: str) -> None:
        grid = self._grid_page
        a, b = self.pair()
        notes = [""] + [item.label for item in self._grid_items]
        grid.mark(self._selected, (a, b), notes)
        grid.set_images([self._drawn(self._cell(i).image)
                         for i in range(-1, len(self._grid_items))])
        if page == GRID_PAIR:
            grid.show_pair_page(self._cell(a).name, self._cell(b).name)
            self._present(grid.pair)
            self.setFocusProxy(grid.pair.right)
        else:
            grid.show_cells()
            cells = grid.cells()
            index = self._selected + 1
            self.setFocusProxy(cells[index] if 0 <= index < len(cells) else None)

    def _update_actions(self, page: str) -> None:
        acts = self._actions
        shown = page in (PAIR, GRID, GRID_PAIR)
        ready = self._pair_ready()
        grid = self.is_grid()
        if page == VIDEO:
            why = "a video result plays on its own"
        elif not shown:
            why = "there is nothing to compare yet"
        elif grid:
            why = "the two cells compared need pictures: select another cell"
        elif self._before is None:
            why = "there is no before image to compare with"
        else:
            why = "this result has no picture"
        for mode in CompareMode:
            enabled = ready or (grid and mode == CompareMode.SIDE_BY_SIDE)
            acts.set_state(mode.value, enabled, why)
        self._check_mode()
        acts.set_state("grid", page == GRID_PAIR,
                       "the grid is already shown" if page == GRID else
                       "only in a grid of several results")
        acts.set_state("swap", ready, why)
        acts.set_state("flip", ready and self._mode == CompareMode.TOGGLE,
                       why if not ready else "only in toggle mode (3)")
        wipe = ready and self._mode == CompareMode.WIPE and page != GRID
        acts.set_state("wipe_left", wipe, why if not ready else "only in wipe mode (2)")
        acts.set_state("wipe_right", wipe, why if not ready else "only in wipe mode (2)")
        steps = len(self._grid_items) + 1 if grid else len(self._items)
        acts.set_state("previous", shown and steps >= 2,
                       "there is only one output" if shown else why)
        acts.set_state("next", shown and steps >= 2,
                       "there is only one output" if shown else why)
        for name in ("cell_up", "cell_down"):
            acts.set_state(name, page == GRID, "only in the grid's side by side view")
        panes = shown and any(c.image() is not None for c in self.canvases())
        acts.set_state("loupe", panes, why)
        acts.set_state("inspector", panes, why)
        loupe_on = panes and self._tools.loupe.is_enabled()
        acts.set_state("loupe_smaller", loupe_on, "the loupe is off (L)")
        acts.set_state("loupe_larger", loupe_on, "the loupe is off (L)")
        acts.set_state("blink", ready, why)
        zoom = self._state.has_reference() and page != VIDEO
        for name in ("fit", "actual", "zoom_in", "zoom_out"):
            acts.set_state(name, zoom, why)
        acts.set_state("help", True)
        self._toolbar.show_options(difference=ready and self._mode == CompareMode.DIFFERENCE,
                                   blend=ready and self._mode == CompareMode.BLEND,
                                   structure=ready and self._mode == CompareMode.STRUCTURE)
        offer = self._mask_provider is not None and ready and \
            self._mode == CompareMode.STRUCTURE
        self._toolbar.ask_mask.setVisible(offer)
        if self._mask_provider is not None:
            self._toolbar.ask_mask.setText(f"Use {self._mask_provider}'s furniture mask")

    def _update_zoom_label(self) -> None:
        self._toolbar.zoom_label.setText(f"{self.zoom_percent()} %" if
                                         self._state.has_reference() and
                                         not self.is_showing_video() else "")

    def _update_accessible(self) -> None:
        self._after_canvas.setAccessibleDescription(
            f"{self._mode.value.replace('_', ' ')}, zoom {self.zoom_percent()} percent")

    def _status_facts(self) -> StatusFacts:
        page = self._page()
        facts = StatusFacts(left_out=self._left_out if self.is_grid() else 0)
        if page in (PLACEHOLDER, VIDEO) or not self._state.has_reference():
            return facts
        facts.zoom_percent = self.zoom_percent()
        sides = self._sides()
        if sides is not None:
            facts.pair = (sides[0].name, sides[1].name)
        kind = ANALYSED.get(self._mode)
        if kind and self._pair_ready() and page != GRID:
            found = self._found(kind)
            if found is None:
                facts.pending = ("Computing the difference…" if kind == analysis.DIFFERENCE
                                 else "Checking the structure…") \
                    if self._analysis.is_running() else ""
            elif kind == analysis.DIFFERENCE:
                facts.difference = found.fraction
            else:
                facts.structure = found.fraction
                facts.structure_source = (f"{self._mask_source or 'the service'}'s furniture "
                                          "mask") if found.source == "service" else ""
        facts.inspector = self._tools.inspector_text()
        facts.loupe_factor = self._tools.loupe_factor()
        facts.blink_ms = self._tools.blink_interval()
        return facts

    def _update_status(self) -> None:
        if not hasattr(self, "_status"):
            return  # the view is still being built
        text = status_text(self._status_facts())
        if self._status.text() != text:
            self._status.setText(text)
            self._status.setToolTip(text)
