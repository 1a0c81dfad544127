"""The compare view: pictures compared in six modes, in a pair or a multi-provider grid, with a
loupe, a pixel inspector and a timed blink (see view.py for the coordinates and the zoom).

One job per module: model.py (modes, items, the sides of a pair), actions.py (every mode and
tool as a `compare.<name>` action with its keys), toolbar.py, pair_pane.py (a pair in any mode),
grid_page.py (cells, the selection frame, the grid's pair pane), strip.py (a job's outputs),
analysis.py and pixels.py (difference and structure pictures in a worker), tools.py (loupe,
inspector, blink), status.py (the figures line), help.py (the keys), presenting.py (model ->
widgets) and view.py (the widget and its public interface).
"""

from desktop.ui.compare_view.model import (
    BEFORE_CELL,
    MODE_TITLES,
    CompareItem,
    CompareMode,
    Side,
    cell_name,
)
from desktop.ui.compare_view.view import CompareView

__all__ = [
    "BEFORE_CELL",
    "MODE_TITLES",
    "CompareItem",
    "CompareMode",
    "CompareView",
    "Side",
    "cell_name",
]
