"""What the compare view compares: its modes, its items and the two sides of a pair.

A *side* is one picture with the name the panes show for it ("Before", "FitInView ·
Variation 2"). Every mode but the grid's N-way side by side compares exactly two sides, A and
B: the before and the output shown, two cells of a grid, or either swapped.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from PySide6.QtCore import QSize
from PySide6.QtGui import QImage

HOLD_SECONDS = 0.25  # Space held longer than this shows the other image only while held
PYRAMID_FROM_SIDE = 1024  # images at least this large get pre-shrunk copies
THUMB_SIZE = QSize(112, 84)
WIPE_KEY_STEP = 0.05
BEFORE_CELL = -1  # the before image's index among the grid's cells
BEFORE_NAME = "Before"


class CompareMode(enum.StrEnum):
    SIDE_BY_SIDE = "side_by_side"
    WIPE = "wipe"
    TOGGLE = "toggle"
    BLEND = "blend"
    DIFFERENCE = "difference"
    STRUCTURE = "structure"


#: mode: (button text, key, object name of its toolbar button)
MODE_TITLES: dict[CompareMode, tuple[str, str, str]] = {
    CompareMode.SIDE_BY_SIDE: ("Side by side", "1", "compareModeSideBySide"),
    CompareMode.WIPE: ("Wipe", "2", "compareModeWipe"),
    CompareMode.TOGGLE: ("Toggle", "3", "compareModeToggle"),
    CompareMode.DIFFERENCE: ("Difference", "4", "compareModeDifference"),
    CompareMode.BLEND: ("Blend", "5", "compareModeBlend"),
    CompareMode.STRUCTURE: ("Structure", "6", "compareModeStructure"),
}

#: What each mode does, for its tooltip and the shortcuts help.
MODE_HINTS: dict[CompareMode, str] = {
    CompareMode.SIDE_BY_SIDE: "the two pictures next to each other (in a grid: every cell)",
    CompareMode.WIPE: "one picture left of a divider you drag, the other right of it",
    CompareMode.TOGGLE: "one picture at a time, Space flips",
    CompareMode.DIFFERENCE: "a heat map of what changed, with the changed area in percent",
    CompareMode.BLEND: "the second picture laid over the first at an opacity (onion skin)",
    CompareMode.STRUCTURE: "changes outside the furniture (walls, windows, floors) in percent",
}


@dataclass(frozen=True)
class CompareItem:
    image: QImage  # already decoded (the window decodes in a worker); a video's poster
    title: str  # e.g. "FitInView · tryon" or "Variation 2"
    label: str = ""  # output label from the provider, may be empty
    #: A video result: the stored file, played in place of the before/after pair.
    video: str = ""
    #: The job it came from ("" for a plain file compared with File > Compare files).
    job_id: str = ""
    #: The provider's title and the variation ("Variation 2"; "" for a single output), for
    #: the grid's labels.
    provider: str = ""
    variation: str = ""


@dataclass(frozen=True)
class Side:
    """One picture of a pair and the name its pane shows."""

    image: QImage | None
    name: str
    note: str = ""  # a second, smaller label (the provider's output label)


def usable(image: QImage | None) -> QImage | None:
    return image if image is not None and not image.isNull() else None


def cell_name(item: CompareItem) -> str:
    """A grid cell's label: "provider · variation", else the item's title."""
    if item.provider:
        return " · ".join(part for part in (item.provider, item.variation) if part)
    return item.title or item.variation or "Result"
