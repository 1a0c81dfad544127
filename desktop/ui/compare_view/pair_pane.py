"""Two synced panes that show a pair of pictures, A and B, in any mode.

Side by side uses both panes; every other mode one large pane: wipe (A left of the divider),
toggle (A or B), blend (B over A at an opacity), difference and structure (the worker's
picture). The pane labels always name the two pictures compared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QHBoxLayout, QWidget

from desktop.ui.compare_view.model import CompareMode, Side
from desktop.ui.image_canvas import ImageCanvas

NO_RESULT = ("This result has no image to show: it is empty or could not be decoded. Open it "
             "from history or run the job again.")


@dataclass(frozen=True)
class Analysed:
    """What the difference or structure worker has for the pair now."""

    image: QImage | None  # None while computing or after a failure
    headline: str  # "Difference · 4.2 % changed"
    message: str  # "Computing difference…" or the failure's sentence ("" once shown)


class PairPane(QWidget):
    def __init__(self, make_canvas: Callable[[QWidget, str, str], ImageCanvas],
                 names: tuple[str, str], parent: QWidget) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        self.left = make_canvas(self, names[0], "First picture of the pair")
        self.right = make_canvas(self, names[1], "Second picture of the pair")
        layout.addWidget(self.left, 1)
        layout.addWidget(self.right, 1)

    def canvases(self) -> list[ImageCanvas]:
        return [c for c in (self.left, self.right) if not c.isHidden()]

    def _reset(self) -> None:
        right = self.right
        right.set_wipe_before(None)
        right.set_blend(None, 0.0)
        right.set_message("")

    def show_one(self, side: Side | None, fallback: Side | None) -> None:
        """Only one picture: the before alone (no result yet), or a result without before."""
        self._reset()
        self.left.hide()
        shown = side if side is not None else fallback
        self.right.set_image(shown.image if shown is not None else None)
        if side is None and fallback is not None:
            self.right.set_labels(f"{fallback.name} · no result yet")
        elif side is not None:
            self.right.set_labels(side.name, side.note)
            if side.image is None:
                self.right.set_message(NO_RESULT)
        _title(self.right, shown.name if shown is not None else "")

    def show_pair(self, mode: CompareMode, a: Side, b: Side, *, showing_a: bool,
                  blend: float, analysed: Analysed | None, toggle_hint: str) -> None:
        self._reset()
        left, right = self.left, self.right
        left.setVisible(mode == CompareMode.SIDE_BY_SIDE)
        versus = f"{a.name} vs {b.name}"
        if mode == CompareMode.SIDE_BY_SIDE:
            left.set_image(a.image)
            left.set_labels(a.name, a.note)
            _title(left, a.name)
            right.set_image(b.image)
            right.set_labels(b.name, b.note)
            _title(right, b.name)
        elif mode == CompareMode.WIPE:
            right.set_image(b.image)
            right.set_wipe_before(a.image)
            right.set_labels(a.name, b.name)
            _title(right, "")  # the inspector names the side under the cursor
        elif mode == CompareMode.TOGGLE:
            shown, other = (a, b) if showing_a else (b, a)
            right.set_image(shown.image)
            right.set_labels(shown.name, toggle_hint.format(other=other.name))
            _title(right, shown.name)
        elif mode == CompareMode.BLEND:
            right.set_image(a.image)
            right.set_blend(b.image, blend)
            right.set_labels(a.name, f"{b.name} over it at {round(blend * 100)} %")
            _title(right, f"Blend of {versus}")
        else:
            assert analysed is not None
            right.set_image(analysed.image if analysed.image is not None else b.image)
            right.set_labels(analysed.headline, versus)
            right.set_message(analysed.message)
            _title(right, f"{mode.value.title()} of {versus}")


def _title(canvas: ImageCanvas, text: str) -> None:
    """What the pixel inspector calls the pane (its labels when empty)."""
    canvas.set_title(text)
