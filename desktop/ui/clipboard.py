"""Copying files to the clipboard, and letting go of them before Qt shuts down.

PySide6 crashes at exit (a double free) when the clipboard still holds a QMimeData that Python
made: measured with PySide6 6.11 on the offscreen and xcb platforms, a three-line script that
sets one and exits dies with SIGSEGV. So whatever Restyle put there itself is cleared when the
application quits; a copied picture (setImage, made by Qt) is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtWidgets import QApplication

#: The file URLs Restyle last put on the clipboard (empty: none of its own is there).
_own: list[str] = []


def copy_files(paths: Sequence[Path], text: str = "") -> None:
    """Put files on the clipboard, as a file manager or a chat takes them."""
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    if text:
        data.setText(text)
    QApplication.clipboard().setMimeData(data)
    _own[:] = [u.toString() for u in data.urls()]


def release() -> None:
    """Clear the clipboard if it still holds files Restyle put there (at quit)."""
    app = QApplication.instance()
    if not _own or not isinstance(app, QApplication):
        return
    clipboard = app.clipboard()
    held = clipboard.mimeData()
    # Another program's copy since then is not Restyle's to clear.
    if held is not None and [u.toString() for u in held.urls()] == _own:
        clipboard.clear()
    _own.clear()
