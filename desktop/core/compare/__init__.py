"""Comparing two pictures without Qt: difference with a heat map and a misalignment tolerance,
and the structure check for virtual staging. Pure numpy and Pillow, row-chunked, cancellable
(see common.py); the compare view runs these in a worker thread."""

from desktop.core.compare.common import DEFAULT_THRESHOLD, MAX_TOLERANCE, Cancelled
from desktop.core.compare.difference import Difference, difference
from desktop.core.compare.heat import HEAT_STOPS, heat_legend, heat_map, heat_scale
from desktop.core.compare.masks import MASK_LEVEL, mask_from_image
from desktop.core.compare.structure import (
    FURNITURE_HORIZON,
    StructureCheck,
    structure_check,
    structure_overlay,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "FURNITURE_HORIZON",
    "HEAT_STOPS",
    "MASK_LEVEL",
    "MAX_TOLERANCE",
    "Cancelled",
    "Difference",
    "StructureCheck",
    "difference",
    "heat_legend",
    "heat_map",
    "heat_scale",
    "mask_from_image",
    "structure_check",
    "structure_overlay",
]
