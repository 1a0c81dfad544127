"""The difference and structure pictures of a pair, computed in a worker thread.

A request names the two pictures (A, B) and the settings. The result is a picture at B's size
(the heat map or the structure overlay) with its figures. Results are kept per request in a
small LRU cache (a 24 MP result is 96 MB); the per-pixel difference magnitude is cached apart,
so moving the threshold or the heat opacity redraws the heat map without comparing the pixels
again. A newer request stops an older one between two row chunks; a failure becomes a sentence
for the pane, never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from desktop.core.compare import (
    Cancelled,
    Difference,
    difference,
    heat_map,
    mask_from_image,
    structure_check,
    structure_overlay,
)
from desktop.ui.compare_view.model import PYRAMID_FROM_SIDE
from desktop.ui.compare_view.pixels import PixelArray, gray_array, to_qimage
from desktop.ui.image_canvas import build_pyramid
from desktop.ui.tasks import TaskSet

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

RESULT_CACHE_SIZE = 4
MAGNITUDE_CACHE_SIZE = 2
DIFFERENCE = "difference"
STRUCTURE = "structure"


@dataclass(frozen=True, eq=False)
class Request:
    kind: str  # DIFFERENCE or STRUCTURE
    a: QImage
    b: QImage
    threshold: int
    tolerance: int = 0
    opacity: float = 1.0  # the heat map's opacity (difference)
    mask: QImage | None = None  # a service's furniture mask for A (structure)

    def key(self) -> tuple[object, ...]:
        mask = self.mask.cacheKey() if self.mask is not None else 0
        return (self.kind, self.a.cacheKey(), self.b.cacheKey(), self.threshold,
                self.tolerance, round(self.opacity, 3), mask)

    def magnitude_key(self) -> tuple[int, int, int]:
        return (self.a.cacheKey(), self.b.cacheKey(), self.tolerance)


@dataclass(frozen=True)
class Result:
    image: QImage
    fraction: float  # changed area (difference) or structural change (structure), 0..1
    source: str = ""  # structure: "service" or "estimate"


def _difference_work(request: Request, magnitude: np.ndarray | None,
                     stop: threading.Event) -> tuple[Result, np.ndarray, list[QImage]]:
    import numpy as np

    size = request.b.size()
    after = PixelArray(request.b, size)
    if magnitude is None:
        before = PixelArray(request.a, size)
        found = difference(before.array, after.array, threshold=request.threshold,
                           tolerance=request.tolerance, cancelled=stop.is_set)
        del before
    else:
        changed = int(np.count_nonzero(magnitude > request.threshold))
        found = Difference(magnitude, changed / max(magnitude.size, 1), request.threshold,
                           request.tolerance)
    heat = heat_map(found, after.array, opacity=request.opacity, cancelled=stop.is_set)
    image = to_qimage(heat)
    return Result(image, found.changed_fraction), found.magnitude, _levels(image)


def _structure_work(request: Request, stop: threading.Event) -> tuple[Result, list[QImage]]:
    size = request.b.size()
    original = PixelArray(request.a, size)
    staged = PixelArray(request.b, size)
    mask = None
    if request.mask is not None:
        mask = mask_from_image(gray_array(request.mask), (size.height(), size.width()))
    check = structure_check(original.array, staged.array, furniture_mask=mask,
                            threshold=request.threshold, cancelled=stop.is_set)
    image = to_qimage(structure_overlay(check, staged.array, cancelled=stop.is_set))
    return Result(image, check.structural_fraction, check.source), _levels(image)


def _levels(image: QImage) -> list[QImage]:
    return build_pyramid(image) if max(image.width(), image.height()) >= PYRAMID_FROM_SIDE \
        else []


class PairAnalysis(QObject):
    """Runs one request at a time (see the module docstring); `ready` fires when a result or
    an error arrived."""

    ready = Signal()

    def __init__(self, tasks: TaskSet, pyramids: dict[int, list[QImage]],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._pyramids = pyramids
        self._results: OrderedDict[tuple[object, ...], Result] = OrderedDict()
        self._magnitudes: OrderedDict[tuple[int, int, int], np.ndarray] = OrderedDict()
        self._errors: dict[tuple[object, ...], str] = {}
        self._running: tuple[object, ...] | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop = threading.Event()

    def result(self, request: Request) -> Result | None:
        found = self._results.get(request.key())
        if found is not None:
            self._results.move_to_end(request.key())
        return found

    def error(self, request: Request) -> str:
        return self._errors.get(request.key(), "")

    def is_running(self) -> bool:
        return self._task is not None and not self._task.done()

    def result_images(self) -> list[QImage]:
        return [result.image for result in self._results.values()]

    def request(self, request: Request) -> None:
        """Start computing `request` unless it is done, failed or already running; a running
        older request is stopped."""
        key = request.key()
        if key in self._results or key in self._errors or \
                (key == self._running and self.is_running()):
            return
        self.cancel()
        self._stop = threading.Event()
        self._running = key
        self._task = self._tasks.spawn(self._run(request, self._stop))

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._stop.set()
            self._task.cancel()
        self._task = None
        self._running = None

    async def _run(self, request: Request, stop: threading.Event) -> None:
        key = request.key()
        try:
            if request.kind == DIFFERENCE:
                magnitude = self._magnitudes.get(request.magnitude_key())
                result, magnitude, levels = await asyncio.to_thread(
                    _difference_work, request, magnitude, stop)
                self._magnitudes[request.magnitude_key()] = magnitude
                self._magnitudes.move_to_end(request.magnitude_key())
                while len(self._magnitudes) > MAGNITUDE_CACHE_SIZE:
                    self._magnitudes.popitem(last=False)
            else:
                result, levels = await asyncio.to_thread(_structure_work, request, stop)
        except Cancelled:
            return
        except MemoryError:
            self._errors[key] = (f"Not enough memory to compute the {request.kind} of these "
                                 "images. Close other programs or compare them in another mode.")
        except Exception as exc:  # any failure becomes a sentence, never a traceback
            log.exception("%s failed", request.kind)
            self._errors[key] = (f"Could not compute the {request.kind} ({exc}). Compare the "
                                 "images in another mode.")
        else:
            self._results[key] = result
            self._pyramids[result.image.cacheKey()] = levels
            while len(self._results) > RESULT_CACHE_SIZE:
                _old, dropped = self._results.popitem(last=False)
                self._pyramids.pop(dropped.image.cacheKey(), None)
        if self._running == key:
            self._running = None
        if shiboken6.isValid(self):
            self.ready.emit()
