"""`restyle FILE...` in the window: the files go to the input panes the way a drop puts them
there (`InputPane.add_sources`: decoded in worker threads, the same sentences for a missing,
damaged or too large file), by the rules of desktop/ui/open_plan.py; `--compare` files go to the
compare view. The first window's own arguments and those a second `restyle` hands over (see
desktop/single_instance.py) both come here.

The status line says what was opened where, then one sentence per file that was not (the
panes keep theirs too); the log says the same, which is what tests and support read.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QGuiApplication

from desktop.core.catalog import GROUP_COMMON
from desktop.open_request import OpenRequest
from desktop.ui.open_plan import Slot, TaskChoice, choose_task, distribute, noun, slots_for

if TYPE_CHECKING:
    from desktop.ui.workbench import Workbench

log = logging.getLogger(__name__)

#: How long the status line keeps what was opened (as for Compare files).
STATUS_MS = 30_000


class OpenFiles:
    """Opens requests in the window, one at a time (each sees the panes the last one filled)."""

    def __init__(self, workbench: Workbench) -> None:
        self.wb = workbench
        self.window = workbench.window
        self._lock = asyncio.Lock()

    def bring_to_front(self) -> None:
        """Show the window above the others (as far as the window manager lets a program)."""
        window = self.window
        if window.isMinimized():
            window.showNormal()
        window.show()
        if QGuiApplication.platformName() != "offscreen":  # it has no stacking ("no raise()")
            window.raise_()
        window.activateWindow()

    async def open(self, request: OpenRequest) -> str:
        """Open what `request` names; the sentence the status line shows (also returned)."""
        async with self._lock:
            sentences = list(request.notes)
            if request.files:
                sentences += await self._to_panes(list(request.files), request.role)
            text = " ".join(s for s in sentences if s)
            if text:
                self.window.set_status(text, STATUS_MS)
            if request.compare:  # it says in the status line what it showed or not
                await self.wb.compare_files.compare(*[Path(p) for p in request.compare])
            return text

    # -- the panes ----------------------------------------------------------------------------
    def slots(self) -> list[Slot]:
        """The current task's visible panes, in the order its inputs come."""
        order: list[str] = []
        for pid in self.wb.ticked():
            task = self.wb.task_for(pid)
            for slot in task.inputs if task is not None else ():
                if slot.max_count > 0 and slot.role not in order:
                    order.append(slot.role)
        panes = self.window.panes
        return [Slot(role, panes[role].max_count(), len(panes[role].sources()))
                for role in order if role in panes and not panes[role].isHidden()]

    def tasks(self) -> list[TaskChoice]:
        """The selector's tasks (not saved workflows) with their providers' input roles."""
        choices = []
        for entry in self.window.task_selector.entries():
            if entry.variant is not None:
                continue
            roles: list[str] = []
            for pid in entry.providers:
                task = self.wb.providers[pid].task(entry.task_id)
                for slot in task.inputs if task is not None else ():
                    if slot.max_count > 0 and slot.role not in roles:
                        roles.append(slot.role)
            choices.append(TaskChoice(entry.key, entry.title, tuple(roles),
                                      entry.group == GROUP_COMMON))
        return choices

    def _current_title(self) -> str:
        entry = self.wb.current_entry()
        return f"The current task, {entry.title}," if entry is not None else "The current task"

    async def _to_panes(self, files: list[str], kind: str | None) -> list[str]:
        sentences: list[str] = []
        slots = slots_for(kind, self.slots())
        if kind is not None and not slots:
            choice, why = choose_task(kind, self._current_title(), self.tasks())
            if choice is None:
                log.info("Open files: %s", why)
                return [why]
            self.window.task_selector.select_key(choice.key)  # lays the panes out now
            slots = slots_for(kind, self.slots())
            sentences.append(f"Switched to {choice.title}, the task that takes {noun(kind)}.")
            log.info("Open files: switched to %s for %s", choice.key, kind)
        if not slots:
            why = ("The current task shows no input panes, so the files were not opened; "
                   "tick a provider and open them again.")
            log.info("Open files: %s", why)
            return [why]
        plan = distribute(files, slots)
        panes = [(self.window.panes[role], share) for role, share in plan]
        await asyncio.gather(*(pane.add_sources(share) for pane, share in panes))
        opened: list[str] = []
        problems: list[str] = []
        count = 0
        for pane, share in panes:
            held = {p.source for p in pane.all_previews()}
            names = [Path(f).name or f for f in share if f in held]
            count += len(names)
            if names:
                opened.append(f"{_and(names)} in {pane.title()}")
            problems.extend(pane.error_text().splitlines())
        log.info("Open files: %d of %d opened%s", count, len(files),
                 "".join(f"; {text}" for text in opened))
        for text in problems:
            log.info("Open files: %s", text)
        if opened:
            sentences.append(f"Opened {'; '.join(opened)}.")
        elif not problems:
            sentences.append("No file was opened.")
        return sentences + problems


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"

