"""Save and copy the shown result: File > Save result…, Save before/after…, Copy result. The
file dialog is non-blocking; encoding and writing run in a worker thread. A saved file carries
what made it (provenance metadata), as every export does; the larger exports (a selection,
listing sets, lookbooks, bundles) are export_workflows'."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QApplication, QFileDialog

from desktop.core.exports import encode
from desktop.core.model import InvalidInput, Job, Output, OutputKind
from desktop.general_settings import EXPORT_DIR, EXPORT_FORMAT, EXPORT_QUALITY, general_setting
from desktop.ui.clipboard import copy_files
from desktop.ui.job_words import failure_sentence

if TYPE_CHECKING:
    from desktop.services import Services
    from desktop.ui.main_window import MainWindow
    from desktop.ui.output_images import OutputImages
    from desktop.ui.result_presenter import ResultPresenter

_FILTERS = {"png": "PNG image (*.png)", "jpeg": "JPEG image (*.jpg *.jpeg)",
            "webp": "WebP image (*.webp)"}


class ExportController:
    """Writes the result the compare view shows (or before | after) where the user asks."""

    def __init__(self, window: MainWindow, services: Services, images: OutputImages,
                 results: ResultPresenter,
                 spawn: Callable[[Coroutine[Any, Any, Any]], object]) -> None:
        self.window = window
        self.services = services
        self.images = images
        self.results = results
        self._spawn = spawn
        self._file_dialog: QFileDialog | None = None

    def attach(self) -> None:
        w = self.window
        w.save_action.triggered.connect(lambda: self.ask_export(pair=False))
        w.save_pair_action.triggered.connect(lambda: self.ask_export(pair=True))
        w.copy_action.triggered.connect(self.copy_result)

    def _general(self, name: str) -> Any:
        """A general setting (export folder, format, quality) or its default."""
        return general_setting(self.services.settings, name)

    def ask_export(self, *, pair: bool) -> None:
        job = self.results.shown_job
        item = self.window.compare_view.current_item()
        if job is None or item is None:
            self.window.set_status("Show a result first: open a job from the queue or history.")
            return
        if item.video:  # a video is saved as the file it is
            if pair:
                self.window.set_status("A video has no before/after image; save the video "
                                       "with File > Save result….")
                return
            self._ask_video(job, Path(item.video))
            return
        if pair and self.window.compare_view.before_image() is None:
            self.window.set_status("This result has no before image to put beside it.")
            return
        fmt = str(self._general(EXPORT_FORMAT))
        folder = Path(str(self._general(EXPORT_DIR) or Path.home()))
        index = self.results.output_index()
        name = encode.suggested_name(job, index, fmt, suffix="-compare" if pair else "")
        dialog = QFileDialog(self.window, "Save before/after image" if pair else "Save result")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters(list(_FILTERS.values()))
        dialog.selectNameFilter(_FILTERS.get(fmt, _FILTERS["png"]))
        dialog.setDirectory(str(folder))
        dialog.selectFile(name)
        dialog.fileSelected.connect(
            lambda path: self._spawn(self.export_to(Path(path), pair=pair)))
        self._file_dialog = dialog
        dialog.open()

    def _ask_video(self, job: Job, stored: Path) -> None:
        """File > Save result for a video: a save dialog for its own kind of file."""
        folder = Path(str(self._general(EXPORT_DIR) or Path.home()))
        index = self.results.output_index()
        name = Path(encode.suggested_name(job, index, "png")).with_suffix(stored.suffix).name
        kind = stored.suffix.lstrip(".").upper() or "Video"
        dialog = QFileDialog(self.window, "Save video")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters([f"{kind} video (*{stored.suffix})", "All files (*)"])
        dialog.setDefaultSuffix(stored.suffix.lstrip("."))
        dialog.setDirectory(str(folder))
        dialog.selectFile(name)
        dialog.fileSelected.connect(
            lambda path: self._spawn(self.export_to(Path(path), pair=False)))
        self._file_dialog = dialog
        dialog.open()

    async def export_to(self, path: Path, *, pair: bool) -> Path | None:
        """Write the shown result (or before | after) to `path`, format from its extension;
        a video as the file it is."""
        from desktop.export_setup import stamping

        job = self.results.shown_job
        if job is None or not job.outputs:
            return None
        shown = [o for o in job.outputs if o.kind in (OutputKind.IMAGE, OutputKind.VIDEO)]
        if not shown:
            self.window.set_status("This job's result is not an image; there is nothing to "
                                   "save as one.", 15000)
            return None
        out = shown[min(self.results.output_index(), len(shown) - 1)]
        if out.kind == OutputKind.VIDEO:
            return await self._save_video(out, path, pair=pair)
        fmt = encode.format_for_path(path, str(self._general(EXPORT_FORMAT)))
        if path.suffix == "":
            path = path.with_suffix(encode.EXTENSIONS[fmt])
        quality = int(self._general(EXPORT_QUALITY))
        assets = self.services.assets
        max_pixels = self.images.max_pixels()
        before = await self.images.before_bytes(job) if pair else None

        def work() -> Path:
            after = assets.path_for(out.sha256, out.mime).read_bytes()
            if pair:
                if before is None:
                    raise InvalidInput("This result has no before image to put beside it.")
                data = encode.export_side_by_side(before, after, fmt, quality=quality,
                                                     max_pixels=max_pixels)
            else:
                data = encode.export_image(after, path.name, fmt, quality=quality,
                                              max_pixels=max_pixels)
            data = stamping(self.services, [job], sidecar=False, signer=None).stamp(
                data, fmt, job, out.position)
            return encode.write_export(path, data)

        try:
            written = await asyncio.to_thread(work)
        except (InvalidInput, OSError) as exc:
            self.window.set_status(f"Export failed: {failure_sentence(exc)}", 15000)
            return None
        self.window.set_status(f"Saved {written}.")
        return written

    async def _save_video(self, out: Output, path: Path, *, pair: bool) -> Path | None:
        if pair:
            self.window.set_status("A video has no before/after image; save the video with "
                                   "File > Save result….", 15000)
            return None
        stored = self.services.assets.path_for(out.sha256, out.mime)
        if path.suffix == "":
            path = path.with_suffix(stored.suffix)

        def work() -> Path:
            try:
                data = stored.read_bytes()
            except OSError as exc:
                raise InvalidInput(f"The stored video {stored.name} cannot be read "
                                   f"({exc.strerror or exc}); run the job again.") from None
            return encode.write_export(path, data)

        try:
            written = await asyncio.to_thread(work)
        except InvalidInput as exc:
            self.window.set_status(f"Export failed: {failure_sentence(exc)}", 15000)
            return None
        self.window.set_status(f"Saved {written}.")
        return written

    def copy_result(self) -> None:
        item = self.window.compare_view.current_item()
        if item is None:
            self.window.set_status("Show a result first: open a job from the queue or history.")
            return
        if item.video:  # the file, for a file manager or a chat to paste
            copy_files([Path(item.video)], text=item.video)
            self.window.set_status("The video file is copied to the clipboard.")
            return
        QApplication.clipboard().setImage(item.image)
        self.window.set_status("Result image copied to the clipboard.")
