"""The service's furniture mask for the compare view's structure check.

When Virtual Staging AI is set up, the compare view offers its mask (`set_mask_provider`); when
the user asks for it (`furnitureMaskWanted`), the BEFORE image shown (the shown job's stored
input, or the first compared file) goes to the service's `/analyze`, the mask it links to is
downloaded and decoded in a worker, and handed to the view (`set_furniture_mask`), which then
tells structural changes (walls, windows, floors) from furniture with it instead of its local
estimate.

Masks are kept by the photo's sha256 in `<data>/furniture-masks/`, so the same photo is never
analysed twice. Virtual Staging AI's documentation does not say whether `/analyze` is billed,
so the first use asks once whether to go on. A failure (not set up, network, refused) is one
sentence in the status line; the view keeps its local estimate.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMessageBox

from desktop.core.contract import ProviderError
from desktop.core.files import atomic_write
from desktop.core.model import InvalidInput
from desktop.core.provider_tools import StagingTools
from desktop.ui.ask import answer
from desktop.ui.job_words import failure_sentence
from desktop.ui.qimages import qimage_from_bytes
from desktop.ui.tasks import TaskSet

if TYPE_CHECKING:
    from desktop.ui.workbench import Workbench

log = logging.getLogger(__name__)

STAGING = "virtualstaging"
STATUS_MS = 15_000
#: QSettings key: the user agreed that the analysis may use credits (asked once).
CONSENT_KEY = "compare/furnitureMaskConsent"
CONSENT_TEXT = ("This asks Virtual Staging AI to analyse the photo; it may use credits. "
                "Continue?")
#: The analysis and the download together (a slow service must not hang the check).
TIMEOUT_S = 120.0


class MaskUnavailable(Exception):
    """Why no service mask: the sentence the status line shows."""


class FurnitureMasks(QObject):
    """See the module docstring; the workbench holds one."""

    def __init__(self, workbench: Workbench) -> None:
        super().__init__(workbench)
        self.wb = workbench
        self.window = workbench.window
        self.folder = workbench.services.paths.data_dir / "furniture-masks"
        self._tasks = TaskSet("Furniture masks", self._on_task_error)
        #: The consent question while it is open (tests answer it here).
        self.question: QMessageBox | None = None
        self._running: asyncio.Task[None] | None = None

    # -- wiring ---------------------------------------------------------------------------------
    def attach(self) -> None:
        self.window.compare_view.furnitureMaskWanted.connect(self._on_wanted)

    def _on_task_error(self, exc: BaseException) -> None:
        self.window.set_status("The furniture mask failed unexpectedly; the local estimate is "
                               "used. Details are in the log.", STATUS_MS)

    async def idle(self) -> None:
        await self._tasks.join()

    async def aclose(self) -> None:
        if self.question is not None and shiboken6.isValid(self.question):
            self.question.reject()
        await self._tasks.aclose()

    def provider(self) -> StagingTools | None:
        provider = self.wb.providers.get(STAGING)
        return provider if isinstance(provider, StagingTools) else None

    async def refresh(self) -> bool:
        """Offer the service's mask in the view when Virtual Staging AI is set up (a key and
        an address), else not; called at start and after the settings change."""
        provider = self.provider()
        ready = provider is not None and (
            await asyncio.to_thread(self.wb.services.readiness, STAGING)).ready
        self.window.compare_view.set_mask_provider(provider.title if ready and provider
                                                   else None)
        return ready

    def _on_wanted(self) -> None:
        if self._running is not None and not self._running.done():
            return  # one analysis at a time: the button was pressed twice
        self._running = self._tasks.spawn(self.apply())

    # -- the mask -------------------------------------------------------------------------------
    async def apply(self) -> QImage | None:
        """Fetch (or reuse) the mask of the BEFORE image shown and give it to the view; a
        failure is a sentence and the view keeps its local estimate."""
        provider = self.provider()
        title = provider.title if provider is not None else "Virtual Staging AI"
        try:
            mask = await self.mask_for_before()
        except MaskUnavailable as exc:
            self.window.set_status(f"{exc} The structure check uses its local estimate.",
                                   STATUS_MS)
            return None
        if mask is None:  # the user chose not to ask the service
            self.window.set_status("The structure check uses its local estimate.", STATUS_MS)
            return None
        self.window.compare_view.set_furniture_mask(mask, title)
        self.window.set_status(f"The structure check uses {title}'s furniture mask.",
                               STATUS_MS)
        return mask

    async def before_source(self) -> tuple[str, Path]:
        """(sha256, file) of the before image the view shows."""
        results = self.wb.results
        if results.shown_files:
            path = results.shown_files[0]
            try:
                digest = await asyncio.to_thread(_file_sha256, path)
            except OSError as exc:
                raise MaskUnavailable(f"{path.name} cannot be read any more "
                                      f"({exc.strerror or exc}).") from None
            return digest, path
        job = results.shown_job
        found = await asyncio.to_thread(self.wb.images.before_path, job) if job else None
        if found is None:
            raise MaskUnavailable("There is no before photo to analyse: show a staging job "
                                  "or compare files first.")
        return found

    def cached_path(self, digest: str) -> Path:
        return self.folder / f"{digest}.mask"

    async def mask_for_before(self) -> QImage | None:
        """The mask of the before shown: from the cache, else from the service (after the
        one-time question); None when the user said no. MaskUnavailable says why not."""
        provider = self.provider()
        if provider is None:
            raise MaskUnavailable("Virtual Staging AI is not available in this Restyle.")
        digest, source = await self.before_source()
        cached = self.cached_path(digest)
        data = await asyncio.to_thread(_read_if_exists, cached)
        if data is None:
            if not (await asyncio.to_thread(self.wb.services.readiness, STAGING)).ready:
                raise MaskUnavailable(f"{provider.title} is not set up (Settings), so it "
                                      "cannot make a furniture mask.")
            if not await self._consent():
                return None
            data = await self._ask_service(provider, source)
            try:
                await asyncio.to_thread(atomic_write, cached, data)
            except OSError as exc:  # the mask still works this time
                log.warning("Could not keep the furniture mask in %s: %s", cached, exc)
        try:
            return await asyncio.to_thread(qimage_from_bytes, data, "the furniture mask",
                                           max_pixels=self.wb.images.max_pixels())
        except InvalidInput as exc:
            await asyncio.to_thread(cached.unlink, missing_ok=True)
            raise MaskUnavailable(f"{provider.title}'s furniture mask cannot be read "
                                  f"({exc}).") from None

    async def _ask_service(self, provider: StagingTools, source: Path) -> bytes:
        self.window.set_status(f"Asking {provider.title} for the furniture mask…", 0)
        try:
            async with asyncio.timeout(TIMEOUT_S):
                prepared = await self.wb.engine.prepare_input(STAGING, "room", str(source))
                analysis = await provider.analyze(prepared.source_url or prepared.data)
                if not analysis.result_url:
                    raise MaskUnavailable(f"{provider.title} analysed the photo but sent no "
                                          f"mask (it says “{analysis.status}”); try again "
                                          "later.")
                return await provider.download(analysis.result_url)
        except (ProviderError, InvalidInput, TimeoutError, OSError) as exc:
            raise MaskUnavailable(f"{provider.title} could not make the furniture mask: "
                                  f"{failure_sentence(exc)}") from None

    async def _consent(self) -> bool:
        """Ask once whether the analysis may use credits; remembered when the user agrees."""
        settings = self.wb.qsettings
        if str(settings.value(CONSENT_KEY, "")).lower() in ("true", "1"):
            return True
        box = QMessageBox(QMessageBox.Icon.Question, "Furniture mask", CONSENT_TEXT,
                          parent=self.window)
        box.setObjectName("furnitureMaskConsent")
        box.setInformativeText("Restyle keeps the mask, so the same photo is never analysed "
                               "twice. Without it the structure check uses a local estimate.")
        yes = box.addButton("Continue", QMessageBox.ButtonRole.AcceptRole)
        yes.setObjectName("furnitureMaskConsentYes")
        no = box.addButton("Use the local estimate", QMessageBox.ButtonRole.RejectRole)
        no.setObjectName("furnitureMaskConsentNo")
        box.setDefaultButton(yes)
        box.setEscapeButton(no)
        self.question = box
        try:
            agreed = await answer(box, yes)
        finally:
            self.question = None
        if agreed:
            settings.setValue(CONSENT_KEY, True)
            settings.sync()
        return agreed


def _file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _read_if_exists(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
