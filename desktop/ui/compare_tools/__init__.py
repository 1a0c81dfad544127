"""Tools over the compare view's image panes: the loupe, the pixel inspector and the timed
blink. Each hooks onto the panes through ImageCanvas's public hooks (cursorMoved, overlays,
paint_content, sample) and never subclasses them."""

from desktop.ui.compare_tools.blink import Blinker
from desktop.ui.compare_tools.inspector import PixelInspector, PixelReading
from desktop.ui.compare_tools.loupe import LOUPE_DIAMETER, Loupe

__all__ = ["LOUPE_DIAMETER", "Blinker", "Loupe", "PixelInspector", "PixelReading"]
