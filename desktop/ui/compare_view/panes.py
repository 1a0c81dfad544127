"""Zoom, the panes on screen, the video page and the pyramids (a mixin of CompareView).

See view.py's docstring for the coordinates and what "100 %" means.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QPointF, QSize, QSizeF
from PySide6.QtGui import QImage

from desktop.ui.compare_view.grid_page import GridPage
from desktop.ui.compare_view.model import PYRAMID_FROM_SIDE, CompareItem, Side, usable
from desktop.ui.compare_view.strip import OutputStrip
from desktop.ui.image_canvas import ImageCanvas, build_pyramid, display_format
from desktop.ui.video_view import VideoView

if TYPE_CHECKING:
    from desktop.ui.compare_view.view import CompareView

    _Base = CompareView
else:
    _Base = object


class Panes(_Base):  # type: ignore[misc,valid-type]
    def zoom_fit(self) -> None:
        self._state.fit()

    def zoom_actual(self) -> None:
        """100 %: one image pixel per physical screen pixel (see the module docstring)."""
        self._state.set_scale(1.0 / self._main_canvas().devicePixelRatioF())

    def zoom(self) -> float:
        return self._state.scale

    def set_zoom(self, factor: float, anchor: QPointF | None = None) -> None:
        """Set the scale (image px -> widget px). `anchor` is an after-image point that keeps
        its place on screen (default: the view centre)."""
        self._state.set_scale(factor, anchor)

    def view_center(self) -> QPointF:
        return QPointF(self._state.center)

    def set_view_center(self, point: QPointF) -> None:
        self._state.set_center(point)

    def zoom_percent(self) -> int:
        return round(self._state.scale * self._main_canvas().devicePixelRatioF() * 100)

    def _reference_size(self) -> QSize:
        if self.is_grid():
            for item in self._grid_items:
                if usable(item.image) is not None:
                    return item.image.size()
        item = self.current_item()
        after = usable(item.image) if item is not None else None
        if after is not None:
            return after.size()
        return self._before.size() if self._before is not None else QSize()

    def _sync_viewport(self) -> None:
        self._state.set_viewport(QSizeF(self._main_canvas().size()))

    def _on_view_changed(self) -> None:
        self._update_zoom_label()
        self._update_status()
        self.viewChanged.emit()

    # ------------------------------------------------------------------ panes

    def canvases(self) -> list[ImageCanvas]:
        """The panes on screen: the grid's cells, or the pair's panes ([A, B] side by side,
        [combined] otherwise)."""
        if self.is_grid():
            if self._grid_page.showing_pair():
                return self._grid_page.pair.canvases()
            return self._grid_page.cells()
        return self._pair_page.canvases()

    def grid_page(self) -> GridPage:
        return self._grid_page

    def strip(self) -> OutputStrip:
        return self._strip

    def status_text(self) -> str:
        return self._status.text()

    def wipe_position(self) -> float:
        """Divider position as a fraction of the pane's width (0 = all B, 1 = all A)."""
        return self._wipe_canvas().divider()

    def set_wipe_position(self, fraction: float) -> None:
        self._wipe_canvas().set_divider(fraction)

    def _wipe_canvas(self) -> ImageCanvas:
        return self._grid_page.pair.right if self.is_grid() else self._after_canvas

    def _main_canvas(self) -> ImageCanvas:
        """The pane "fit" fits into: the grid's first cell, else the last pane shown (the
        after pane side by side, the single pane of the other modes)."""
        shown = self.canvases()
        if not shown:
            return self._after_canvas
        if self.is_grid() and not self._grid_page.showing_pair():
            return shown[0]
        return shown[-1]

    def video_view(self) -> VideoView:
        """The page that plays a video result (made on first use)."""
        if self._video is None:
            self._video = VideoView(self._stack)
            self._stack.addWidget(self._video)
        return self._video

    def is_showing_video(self) -> bool:
        return self._video is not None and self._stack.currentWidget() is self._video

    def _show_video(self, item: CompareItem) -> None:
        view = self.video_view()
        view.set_video(Path(item.video), " · ".join(t for t in (item.title, item.label) if t),
                       item.image)
        self._stack.setCurrentWidget(view)
        self.setFocusProxy(view)

    # ----- pictures prepared for drawing (display format, pyramids), in a worker

    def _drawn(self, image: QImage | None) -> QImage | None:
        """The copy of a picture the panes draw: in the display format once the worker made
        it (decoded pictures are RGBA8888, which Qt scales several times slower), else the
        picture itself. Analysis and the public methods keep using the pictures given."""
        if image is None:
            return None
        return self._display.get(image.cacheKey(), image)

    def _drawn_side(self, side: Side) -> Side:
        return Side(self._drawn(side.image), side.name, side.note)

    def _prepare(self, image: QImage) -> None:
        """Make the display copy and the pyramid of a picture shown, once, in a worker."""
        key = image.cacheKey()
        if key in self._display or key in self._pyramid_pending:
            return
        small = max(image.width(), image.height()) < PYRAMID_FROM_SIDE
        fast = image.format() in (QImage.Format.Format_RGB32,
                                  QImage.Format.Format_ARGB32_Premultiplied)
        if key in self._pyramids or (small and fast):
            self._display[key] = image  # already fast (and a result comes with its pyramid)
            self._prune_pictures()  # as the worker path does: copies of pictures gone go too
            return
        self._pyramid_pending.add(key)
        self._tasks.spawn(self._prepare_in_worker(key, image, small))

    async def _prepare_in_worker(self, key: int, image: QImage, small: bool) -> None:
        def work() -> tuple[QImage, list[QImage]]:
            shown = display_format(image)
            return shown, [] if small else build_pyramid(shown)

        try:
            shown, levels = await asyncio.to_thread(work)
        finally:
            self._pyramid_pending.discard(key)
        if not shiboken6.isValid(self):
            return
        self._display[key] = shown
        self._pyramids[shown.cacheKey()] = levels
        self._prune_pictures()
        self._refresh()

    def _prune_pictures(self) -> None:
        """Drop display copies and pyramids of pictures no longer in the view (the pyramid
        dict is shared by the panes)."""
        models = {image.cacheKey() for image in self._model_images()}
        for key in [k for k in self._display if k not in models]:
            del self._display[key]
        keep = models | {image.cacheKey() for image in self._display.values()}
        keep |= {image.cacheKey() for image in self._analysis.result_images()}
        for key in [k for k in self._pyramids if k not in keep]:
            del self._pyramids[key]

    def _model_images(self) -> list[QImage]:
        """Every picture the view was given (the before, the outputs, the grid's results)."""
        found = [self._before] + [usable(item.image) for item in self._items + self._grid_items]
        return [image for image in found if image is not None]
