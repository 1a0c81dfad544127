"""The input panes: which show for the ticked providers' tasks and how many images each holds,
panes a saved workflow names at run time, the samples, and Open / Paste into the pane the user
means."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication

from desktop.config import sample_inputs
from desktop.core.model import InputRole, TaskSpec
from desktop.ui.input_pane import InputPane
from desktop.ui.main_window import PANE_ROLES
from desktop.ui.role_words import role_kind

if TYPE_CHECKING:
    from desktop.ui.workbench import Workbench

#: The roles the window has panes for from the start (the others come from workflows).
PANE_ROLE_IDS = frozenset(role for role, _name, _title in PANE_ROLES)


class InputsController:
    """Lays out the panes for the current task and fills them (samples, Open, Paste)."""

    def __init__(self, wb: Workbench) -> None:
        self.wb = wb
        self.window = wb.window

    def attach(self) -> None:
        w, spawn = self.window, self.wb.spawn
        w.samples_button.clicked.connect(lambda: spawn(self.load_samples()))
        w.samples_action.triggered.connect(lambda: spawn(self.load_samples()))
        w.clear_inputs_action.triggered.connect(self.clear_inputs)
        w.open_action.triggered.connect(self.open_image)
        w.paste_action.triggered.connect(self.paste)

    # -- layout ---------------------------------------------------------------------------------
    def layout_panes(self) -> None:
        """Show the panes the ticked providers' tasks take, each holding as many images as the
        most generous of them takes (each job takes its first N); the strictest limits warn."""
        wb = self.wb
        tasks = [(pid, t) for pid in wb.ticked() if (t := wb.task_for(pid)) is not None]
        roles: dict[str, int] = {}
        titles: dict[str, str] = {}
        for pid, task in tasks:
            for slot in task.inputs:
                if slot.max_count <= 0:
                    continue
                if slot.max_count > roles.get(slot.role, 0):
                    roles[slot.role] = slot.max_count
                    titles[slot.role] = slot.title
                    if slot.role in self.window.panes:
                        self.window.panes[slot.role].set_count_title(wb.providers[pid].title)
        self._task_panes(tasks, titles)
        for role, pane in self.window.panes.items():
            if role in roles:
                pane.set_max_count(roles[role])
                pane.set_title(titles[role])
                limiting = min(tasks, key=lambda pt: wb.providers[pt[0]].limits.max_side)
                provider = wb.providers[limiting[0]]
                pane.set_limits(provider.limits)
                pane.set_provider_title(provider.title)
            pane.setVisible(role in roles)
        self.window.inputs_heading.setVisible(bool(roles))
        wb.choice.refresh_note()

    def _task_panes(self, tasks: list[tuple[str, TaskSpec]], titles: dict[str, str]) -> None:
        """Panes for the roles a task names at run time (a saved workflow's own image inputs,
        "Garment image (User Garment)"), and a workflow's mandatory inputs marked: the
        manifest tells them from optional ones, which the workflow fills itself when empty."""
        for role, title in titles.items():
            if role not in self.window.panes:
                pane = self.window.ensure_pane(role, title)
                pane.set_nouns("image", "images")
                pane.changed.connect(self.wb.schedule_refresh)
                pane.busyChanged.connect(self.wb.schedule_refresh)
            if role not in PANE_ROLE_IDS:
                helps = [s.help for _pid, task in tasks for s in task.inputs if s.role == role]
                self.window.panes[role].set_help(helps[0] if helps else "")
        entry = self.wb.current_entry()
        workflow = entry is not None and entry.variant is not None
        required = {slot.role for _pid, task in tasks for slot in task.inputs
                    if slot.min_count > 0}
        for role, pane in self.window.panes.items():
            pane.set_required(workflow and role in required)

    # -- filling ----------------------------------------------------------------------------
    async def load_samples(self) -> None:
        samples = await asyncio.to_thread(sample_inputs)
        if not samples:
            self.window.set_status("The sample images are missing from this installation.")
            return
        for role, pane in self.window.panes.items():
            kind = role if role in samples else _sample_role(role, pane.is_required())
            if pane.isHidden() or kind not in samples:
                continue
            pane.clear()
            paths = [str(p) for p in samples[kind]][: min(2, pane.max_count())]
            await pane.add_sources(paths)
        self.window.set_status("Sample images loaded. Press Generate (Ctrl+Enter).")

    def clear_inputs(self) -> None:
        for pane in self.window.panes.values():
            pane.clear()

    def target_pane(self) -> InputPane | None:
        """The pane with the focus, else the first empty visible one, else the first."""
        focus = QApplication.focusWidget()
        for pane in self.window.visible_panes():
            if focus is not None and (focus is pane or pane.isAncestorOf(focus)):
                return pane
        visible = self.window.visible_panes()
        empty = [p for p in visible if not p.sources()]
        return (empty or visible or [None])[0]

    def open_image(self) -> None:
        pane = self.target_pane()
        if pane is not None:
            pane.browse()

    def paste(self) -> None:
        pane = self.target_pane()
        if pane is not None:
            pane.paste()


def missing_input(slot: InputRole) -> str:
    """"Add a person image." for the usual roles; "Add the Garment image (User Garment)."
    for a role a workflow names."""
    if slot.role not in PANE_ROLE_IDS:
        return f"Add the {slot.title}."
    what = slot.title.lower()
    return (f"Add {'a' if slot.min_count == 1 else slot.min_count} {what} image"
            + ("" if slot.min_count == 1 else "s") + ".")


def _sample_role(role: str, required: bool) -> str | None:
    """The sample kind for a workflow's required image input; None for an optional one (the
    workflow's own default stays) and for a name that says nothing."""
    return role_kind(role) if required else None
