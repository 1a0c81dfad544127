"""A list view whose changed rows repaint alone.

Qt 6's QListView answers every `dataChanged` by repainting its whole viewport (measured: one
changed row of thirty repaints all of them, while `update(index)` repaints that row), so a queue
of jobs reporting progress repainted every visible row at every event. The lists here never
change a row's size through `dataChanged` (history rows are uniform; the job queue announces a
new height with its delegate's `sizeHintChanged`), so a change only needs the changed rows'
rectangles repainted.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QListView


class RowRepaintListView(QListView):
    """A QListView that repaints only the visible rows a `dataChanged` names.

    With assistive technology active, Qt's own handler runs as well: it tells the screen
    reader what changed (and repaints the viewport, a price only paid then)."""

    #: How many rows dataChanged asked to repaint (tests count them).
    rows_repainted = 0

    def dataChanged(self, topLeft: QModelIndex | QPersistentModelIndex,
                    bottomRight: QModelIndex | QPersistentModelIndex,
                    roles: Sequence[int] = ()) -> None:
        if QAccessible.isActive():
            super().dataChanged(topLeft, bottomRight, list(roles))
            return
        model = self.model()
        if model is None or not topLeft.isValid() or not bottomRight.isValid():
            return
        viewport = self.viewport()
        visible = viewport.rect()
        root = self.rootIndex()
        column = self.modelColumn()
        for row in range(topLeft.row(), bottomRight.row() + 1):
            rect = self.visualRect(model.index(row, column, root))
            if rect.intersects(visible):
                self.rows_repainted += 1
                viewport.update(rect)


__all__ = ["RowRepaintListView"]
