"""Any image files in the compare view, not only jobs: a vendor dashboard's output, a
photographer's edit. File > Compare files…, `restyle --compare A B [C...]` and
`RestyleWindow.compare_files(*paths)` all come here.

The first file is the reference ("before"), the others are compared with it: one other is the
pair view (side by side, wipe, …), more are a grid. Files are read and decoded in worker threads
with the window's image limits (size on disk, pixels; HEIC when pillow-heif is installed). A
file that cannot be shown is one sentence (its name, why, what to do) and the others still open;
when none can be shown, the view keeps what it showed.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog

from desktop.core.model import InvalidInput
from desktop.core.sources import read_file
from desktop.ui.compare_view import CompareItem
from desktop.ui.input_pane import IMAGE_FILTER
from desktop.ui.qimages import qimage_from_bytes

if TYPE_CHECKING:
    from desktop.ui.workbench import Workbench

log = logging.getLogger(__name__)

#: How long the status bar keeps the sentences about files that could not be opened.
STATUS_MS = 30_000


class FileRefused(Exception):
    """A file that cannot be compared; the message is the sentence the user reads."""


@dataclass(frozen=True)
class CompareOutcome:
    """What `compare` did: the files shown (the first is the before) and one sentence per file
    that could not be."""

    shown: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def sentence(self) -> str:
        return " ".join(self.problems)


def read_image(path: Path, *, max_bytes: int, max_pixels: int, timeout_s: float = 60.0,
               limit_setting: str = "input_max_bytes") -> QImage:
    """One file decoded for the view (worker thread); FileRefused says why not. The file is
    read like an input (`sources.read_file`: folders, pipes, devices, links, a file over
    `max_bytes` and a read slower than `timeout_s` are refused with a sentence)."""
    try:
        data = read_file(str(path), max_bytes=max_bytes, timeout_s=timeout_s,
                         limit_setting=limit_setting)
        return qimage_from_bytes(data, path.name or str(path), max_pixels=max_pixels)
    except InvalidInput as exc:  # a sentence naming the file and what to do
        raise FileRefused(str(exc)) from None
    except MemoryError:
        raise FileRefused(f"{path.name} is too large to open in memory; downscale it first.") \
            from None


class CompareFiles:
    """File > Compare files… and the `compare` coroutine, composed by the workbench."""

    def __init__(self, workbench: Workbench) -> None:
        self.wb = workbench
        self.window = workbench.window
        #: The open file dialog (tests reach it here).
        self.dialog: QFileDialog | None = None

    def attach(self) -> None:
        self.window.compare_files_action.triggered.connect(self.ask)

    def reader(self) -> Callable[[Path], QImage]:
        """read_image within the window's limits, for a worker: the largest file the window
        opens (as for inputs and results) and the input read timeout."""
        limits = self.wb.services.settings.limits
        by_result = limits.result_max_bytes > limits.input_max_bytes
        return functools.partial(
            read_image, max_bytes=max(limits.input_max_bytes, limits.result_max_bytes),
            max_pixels=self.wb.images.max_pixels(), timeout_s=limits.input_read_timeout_s,
            limit_setting="result_max_bytes" if by_result else "input_max_bytes")

    def ask(self) -> QFileDialog:
        """A (non-modal) dialog for two or more images; the first chosen is the before."""
        dialog = QFileDialog(self.window, "Compare files: choose two or more images (the first "
                             "is the before)")
        dialog.setObjectName("compareFilesDialog")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
        dialog.setNameFilter(IMAGE_FILTER)
        dialog.filesSelected.connect(
            lambda files: self.wb.spawn(self.compare(*[Path(f) for f in files])))
        self.dialog = dialog
        dialog.open()
        return dialog

    async def compare(self, *paths: str | Path) -> CompareOutcome:
        """Open the files in the compare view: the first is the before, the rest its cells."""
        files = [Path(p).expanduser() for p in paths]
        if not files:
            return CompareOutcome()
        read = self.reader()

        async def one(path: Path) -> QImage | str:
            try:
                return await asyncio.to_thread(read, path)
            except FileRefused as exc:
                return str(exc)

        decoded = await asyncio.gather(*(one(path) for path in files))
        shown = [(path, image) for path, image in zip(files, decoded, strict=True)
                 if isinstance(image, QImage)]
        problems = [text for text in decoded if isinstance(text, str)]
        outcome = CompareOutcome([path for path, _image in shown], problems)
        log.info("Compare files: %d of %d shown", len(shown), len(files))
        for text in problems:
            log.info("Compare files: %s", text)
        if shown:
            self._show(shown)
        if problems:
            lead = "" if shown else "Nothing to compare: "
            self.window.set_status(lead + outcome.sentence(), STATUS_MS)
        elif len(shown) == 1:
            self.window.set_status("Only one file was given: choose two or more to compare.",
                                   STATUS_MS)
        return outcome

    def _show(self, shown: list[tuple[Path, QImage]]) -> None:
        results = self.wb.results
        if len(shown) == 1:  # the others failed: the one that opened, on its own
            path, image = shown[0]
            results.show_files([path], QImage(), [CompareItem(image, path.name)])
            return
        (first, before), rest = shown[0], shown[1:]
        label = f"compared with {first.name}" if len(rest) == 1 else ""
        items = [CompareItem(image, path.name, label) for path, image in rest]
        results.show_files([path for path, _image in shown], before, items)
