"""Benchmark: repainting the compare panes with two synced 24 MP pictures (6000 x 4000).

Times N forced repaints (`ImageCanvas.repaint()` of every pane, offscreen) of each drawing
case, next to two baselines measured in the same run: a plain widget filling the same
rectangle, and a widget drawing a pre-scaled picture of its own size. Prints median and p95 per
case, the ratio of the median to the second baseline and a verdict for the goal "< 16 ms per
repaint" (one frame at 60 Hz). Every case repaints the whole window of PANES (1800 x 1000
logical px): side by side that is two panes of 900 x 1000, the one-pane modes (wipe, blend) one
pane of 1800 x 1000.

Run: QT_QPA_PLATFORM=offscreen python -m tests.perf.bench_compare_repaint [--quick]
     [--format display|rgba8888] [--repeats N]
`--quick` uses 600 x 400 pictures so CI can run it (tests/perf/test_bench_compare_repaint.py);
`--format rgba8888` draws the pictures as decoded (desktop/ui/qimages.py) instead of in
`display_format`, which is how the panes drew before it existed. Nothing here passes or fails
on time. Building the pictures and their pyramids takes a few seconds and about 600 MB.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
if __package__ in (None, ""):  # run as a file: make `desktop` importable
    sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QSize, QSizeF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QHBoxLayout, QWidget  # noqa: E402

from desktop.ui.compare_tools import Loupe, PixelInspector  # noqa: E402
from desktop.ui.image_canvas import (  # noqa: E402
    PYRAMID_MIN_SIDE,
    ImageCanvas,
    ViewState,
    build_pyramid,
    display_format,
)

FULL = QSize(6000, 4000)
QUICK = QSize(600, 400)
PANES = QSize(1800, 1000)
GOAL_MS = 16.0


# ------------------------------------------------------------------ pictures


def photo_like(size: QSize, seed: int) -> np.ndarray:
    """(H, W, 3) uint8: smooth noise over gradients, with fine grain (like a photo: no flat
    areas a scaler could skip through, detail at every scale)."""
    rng = np.random.default_rng(seed)
    w, h = size.width(), size.height()
    coarse = Image.fromarray(rng.integers(0, 256, (h // 40 + 2, w // 40 + 2, 3),
                                          dtype=np.uint8), "RGB")
    smooth = np.asarray(coarse.resize((w, h), Image.Resampling.BICUBIC), dtype=np.uint8)
    ramp = np.linspace(0, 90, w, dtype=np.uint8)[None, :, None]
    grain = rng.integers(0, 24, (h, 1 if w > 2000 else w, 1), dtype=np.uint8)
    out = smooth // 2 + ramp + grain
    return out


def decoded_qimage(pixels: np.ndarray) -> QImage:
    """An RGBA8888 QImage that owns its pixels, as desktop/ui/qimages.py decodes them."""
    h, w = pixels.shape[:2]
    rgba = np.empty((h, w, 4), dtype=np.uint8)
    rgba[..., :3] = pixels
    rgba[..., 3] = 255
    return QImage(rgba.data, w, h, w * 4, QImage.Format.Format_RGBA8888).copy()


def rgba_pyramid(image: QImage) -> list[QImage]:
    """The pyramid as it was built before display_format: halved copies, format unchanged."""
    levels: list[QImage] = []
    current = image
    while max(current.width(), current.height()) // 2 >= PYRAMID_MIN_SIDE:
        current = current.scaled(current.width() // 2, current.height() // 2,
                                 Qt.AspectRatioMode.IgnoreAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation) \
            .convertToFormat(QImage.Format.Format_RGBA8888)
        levels.append(current)
    return levels


# ------------------------------------------------------------------ widgets


class Filled(QWidget):
    """Baseline 1: a widget that only fills its rectangle."""

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(40, 40, 40))
        painter.end()


class Prescaled(QWidget):
    """Baseline 2: a widget drawing a picture already scaled to its own size (1:1)."""

    def __init__(self, image: QImage) -> None:
        super().__init__()
        self.image = image

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.drawImage(0, 0, self.image)
        painter.end()


class PaintCounter(QObject):
    """Counts paint events (the loupe case checks that its frames really painted)."""

    def __init__(self, count: list[int]) -> None:
        super().__init__()
        self.count = count

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count[0] += 1
        return False


class Host(QWidget):
    """`count` panes side by side over one ViewState, filling PANES."""

    def __init__(self, count: int, pyramids: dict[int, list[QImage]]) -> None:
        super().__init__()
        self.state = ViewState()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.canvases = [ImageCanvas(self.state, self) for _ in range(count)]
        for canvas in self.canvases:
            canvas.set_pyramids(pyramids)
            layout.addWidget(canvas)
        self.setFixedSize(PANES)

    def start(self, reference: QSize) -> None:
        self.state.set_reference(reference, refit=True)
        self.state.set_viewport(QSizeF(self.canvases[0].size()))

    def repaint_panes(self) -> None:
        """One frame: every pane repainted now (the host's own repaint() would leave its
        opaque children alone)."""
        for canvas in self.canvases:
            canvas.repaint()

    def reset(self) -> None:
        for canvas in self.canvases:
            canvas.set_wipe_before(None)
            canvas.set_blend(None, 0.0)
        self.state.fit()


# ------------------------------------------------------------------ timing


def hover(canvas: ImageCanvas, pos: QPoint) -> None:
    """A mouse move over `canvas`, sent to it directly (QTest.mouseMove does not reach a pane
    when several top-level windows stand in the same place offscreen)."""
    local = QPointF(pos)
    event = QMouseEvent(QEvent.Type.MouseMove, local, canvas.mapToGlobal(local),
                        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(canvas, event)


@dataclass
class Row:
    name: str
    times: list[float]  # ms

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def p95(self) -> float:
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(repeats: int, frame: Callable[[], None], before: Callable[[], None] | None = None
          ) -> list[float]:
    frame()  # warm up (first paint, glyph caches)
    times = []
    for _ in range(repeats):
        if before is not None:
            before()
        start = time.perf_counter()
        frame()
        times.append((time.perf_counter() - start) * 1000)
    return times


def verdict(row: Row) -> str:
    if row.p95 < GOAL_MS:
        return "ok"
    return "ok (p95 over)" if row.median < GOAL_MS else "MISS"


def run(quick: bool, fmt: str, repeats: int) -> list[Row]:
    size = QUICK if quick else FULL
    started = time.perf_counter()
    after_px = photo_like(size, 1)
    before_px = after_px.copy()
    h, w = before_px.shape[:2]
    before_px[h // 3: h // 2, w // 4: w // 2] //= 2  # a changed area
    after = decoded_qimage(after_px)
    before = decoded_qimage(before_px)
    del after_px, before_px
    if fmt == "display":
        after, before = display_format(after), display_format(before)
        pyramids = {image.cacheKey(): build_pyramid(image) for image in (after, before)}
    else:
        pyramids = {image.cacheKey(): rgba_pyramid(image) for image in (after, before)}
    print(f"pictures {size.width()} x {size.height()} ({fmt}: {after.format().name}), "
          f"pyramids {[lv.width() for lv in pyramids[after.cacheKey()]]}, built in "
          f"{time.perf_counter() - started:.1f} s; window {PANES.width()} x {PANES.height()}, "
          f"{repeats} repaints a case")

    filled = Filled()
    filled.setFixedSize(PANES)
    prescaled = Prescaled(after.scaled(PANES, Qt.AspectRatioMode.IgnoreAspectRatio,
                                       Qt.TransformationMode.SmoothTransformation)
                          .convertToFormat(QImage.Format.Format_RGB32))
    prescaled.setFixedSize(PANES)
    pair, single = Host(2, pyramids), Host(1, pyramids)
    widgets: list[QWidget] = [filled, prescaled, pair, single]
    for widget in widgets:
        widget.show()
    QApplication.processEvents()
    paints = [0]
    counter = PaintCounter(paints)
    for canvas in pair.canvases + single.canvases:
        canvas.installEventFilter(counter)
    pair.canvases[0].set_image(before)
    pair.canvases[1].set_image(after)
    single.canvases[0].set_image(after)
    pair.start(after.size())
    single.start(after.size())
    dpr = pair.devicePixelRatioF()
    rows = [Row("baseline: fill the rectangle", timed(repeats, filled.repaint)),
            Row("baseline: draw a pre-scaled picture", timed(repeats, prescaled.repaint))]

    def case(name: str, host: Host, setup: Callable[[], None],
             before_frame: Callable[[], None] | None = None,
             frame: Callable[[], None] | None = None) -> None:
        host.reset()
        setup()
        rows.append(Row(name, timed(repeats, frame or host.repaint_panes, before_frame)))
        host.reset()

    case("single picture, fitted", single, lambda: None)
    case("side by side, fitted", pair, lambda: None)
    case("side by side, 100 %", pair, lambda: pair.state.set_scale(1.0 / dpr))
    case("side by side, 400 %", pair, lambda: pair.state.set_scale(4.0 / dpr))
    case("wipe, fitted", single, lambda: single.canvases[0].set_wipe_before(before))
    case("wipe, 100 %", single, lambda: (single.canvases[0].set_wipe_before(before),
                                         single.state.set_scale(1.0 / dpr)))
    case("blend 50 %, fitted", single, lambda: single.canvases[0].set_blend(before, 0.5))
    case("blend 50 %, 100 %", single, lambda: (single.canvases[0].set_blend(before, 0.5),
                                               single.state.set_scale(1.0 / dpr)))

    loupe = Loupe(lambda: pair.canvases, pair)
    loupe.attach()
    loupe.set_factor(4)
    centre = QPoint(pair.canvases[1].width() // 2, pair.canvases[1].height() // 2)

    def loupe_on() -> None:
        loupe.set_enabled(True)
        hover(pair.canvases[1], centre)
        QApplication.processEvents()

    case("side by side, fitted, loupe 4x", pair, loupe_on)
    step = [0]

    def move_loupe() -> None:  # a real mouse move; the loupe repaints its rectangles only
        step[0] += 1
        hover(pair.canvases[1], centre + QPoint(step[0] % 40, step[0] % 25))
        QApplication.processEvents()  # the loupe's update(rect)s are painted here

    painted = paints[0]
    case("loupe following the mouse (its rectangles only)", pair, loupe_on, frame=move_loupe)
    # every move must have repainted both panes' loupe rectangles, or the figure means nothing
    assert paints[0] - painted >= 2 * repeats, "the loupe did not repaint on mouse moves"
    loupe.set_enabled(False)

    inspector = PixelInspector(lambda: pair.canvases, pair)
    inspector.attach()

    def inspector_on() -> None:
        inspector.set_enabled(True)
        inspector.lock(QPointF(after.width() / 3, after.height() / 3))

    case("side by side, fitted, inspector locked", pair, inspector_on)
    inspector.set_enabled(False)
    direction = [1.0]

    def pan() -> None:
        if abs(pair.state.center.x() - after.width() / 2) > after.width() / 4:
            direction[0] = -direction[0]
        pair.state.pan_widget(QPointF(9.0 * direction[0], 4.0 * direction[0]))

    case("side by side, 100 %, while panning", pair, lambda: pair.state.set_scale(1.0 / dpr),
         before_frame=pan)
    case("side by side, fitted, while panning", pair, lambda: pair.state.set_scale(
        pair.state.fit_scale() * 1.02), before_frame=pan)
    for widget in widgets:
        widget.close()
        widget.deleteLater()
    QApplication.processEvents()
    return rows


def table(rows: list[Row]) -> str:
    base = rows[1].median
    lines = [f"{'case':52s} {'median':>8s} {'p95':>8s} {'x base':>7s}  goal < {GOAL_MS:.0f} ms"]
    for row in rows:
        lines.append(f"{row.name:52s} {row.median:7.2f}  {row.p95:7.2f}  "
                     f"{row.median / base if base > 0 else 0:6.1f}  {verdict(row)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="600 x 400 pictures (CI)")
    parser.add_argument("--format", choices=("display", "rgba8888"), default="display")
    parser.add_argument("--repeats", type=int, default=0, help="repaints a case")
    args = parser.parse_args(argv)
    repeats = args.repeats or (10 if args.quick else 40)
    _app = QApplication.instance() or QApplication(sys.argv[:1])
    rows = run(args.quick, args.format, repeats)
    print(table(rows))
    return rows


if __name__ == "__main__":
    main()
