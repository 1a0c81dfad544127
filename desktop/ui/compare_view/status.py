"""The line of figures under the compare view (objectName compareStatus).

The view gathers the facts; this module only words them, in a fixed order: zoom, the pair
compared, the mode's figure (changed area, structural change and its source), the tools (the
inspector's reading, the loupe factor, the blink interval), then what the grid left out.
"""

from __future__ import annotations

from dataclasses import dataclass

SEPARATOR = "  |  "

#: How the structure check's mask source reads in the status line.
ESTIMATE_SOURCE = "estimated locally"


@dataclass
class StatusFacts:
    zoom_percent: int | None = None
    pair: tuple[str, str] | None = None  # names of A and B
    difference: float | None = None  # changed area, 0..1
    structure: float | None = None  # structural change, 0..1
    structure_source: str = ""  # "estimated locally" or "<provider>'s furniture mask"
    pending: str = ""  # "computing the difference…"
    inspector: str = ""
    loupe_factor: int | None = None
    blink_ms: int | None = None
    left_out: int = 0


def status_text(facts: StatusFacts) -> str:
    parts: list[str] = []
    if facts.zoom_percent is not None:
        parts.append(f"Zoom {facts.zoom_percent} %")
    if facts.pair is not None:
        parts.append(f"{facts.pair[0]} vs {facts.pair[1]}")
    if facts.difference is not None:
        parts.append(f"Changed area {facts.difference * 100:.1f} %")
    if facts.structure is not None:
        parts.append(f"Structural change {facts.structure * 100:.1f} % "
                     f"({facts.structure_source or ESTIMATE_SOURCE})")
    if facts.pending:
        parts.append(facts.pending)
    if facts.inspector:
        parts.append(facts.inspector)
    if facts.loupe_factor is not None:
        parts.append(f"Loupe {facts.loupe_factor}x")
    if facts.blink_ms is not None:
        parts.append(f"Blink every {facts.blink_ms} ms")
    if facts.left_out:
        noun = "result" if facts.left_out == 1 else "results"
        parts.append(f"{facts.left_out} more {noun} left out (a grid shows 8)")
    return SEPARATOR.join(parts)
