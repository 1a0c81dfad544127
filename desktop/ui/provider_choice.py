"""Several providers at once: which are ticked for which task (remembered per task, across
restarts, in the window's QSettings), what each ticked provider takes of the panes' images,
and "Set up…" beside a provider that is not ready.

The panes keep every image dropped on them: a pane takes as many as the most generous ticked
provider, and each provider's job gets the first N its task accepts (`inputs_for`). A note under
the panes says so ("TryonAPI uses the first garment only"), so nothing is dropped silently, and
unticking a provider changes nothing in the panes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QLabel

from desktop.core.catalog import CatalogEntry
from desktop.core.model import TaskSpec

if TYPE_CHECKING:
    from desktop.ui.workbench import Workbench

#: The QSettings key of the ticked providers per task: a JSON object {task key: [ids]}.
SETTINGS_KEY = "providersByTask"
#: The key the window used before (one list for every task); read when a task has none.
LEGACY_KEY = "providers"

#: What one image of a role is called, and several.
ROLE_NOUNS: dict[str, tuple[str, str]] = {
    "person": ("person photo", "person photos"),
    "garment": ("garment", "garments"),
    "room": ("room photo", "room photos"),
    "image": ("image", "images"),
}


def _noun(role: str, count: int) -> str:
    one, several = ROLE_NOUNS.get(role, (f"{role} image", f"{role} images"))
    return one if count == 1 else several


def inputs_for(task: TaskSpec | None, inputs: Mapping[str, Sequence[str]]
               ) -> dict[str, list[str]]:
    """What one provider's job takes of the panes' images: the roles its task has, the first
    `max_count` of each (all of them when the task is not known yet)."""
    if task is None:
        return {role: list(sources) for role, sources in inputs.items() if sources}
    taken: dict[str, list[str]] = {}
    for slot in task.inputs:
        sources = list(inputs.get(slot.role, ()))[: max(0, slot.max_count)]
        if sources:
            taken[slot.role] = sources
    return taken


def usage_notes(tasks: Iterable[tuple[str, TaskSpec]], counts: Mapping[str, int]) -> list[str]:
    """Sentences for images a ticked provider leaves out: "TryonAPI uses the first garment
    only.", "Local (offline) uses the first 2 garments.", "FitInView does not use the room
    photo." `tasks` are (provider title, its task); `counts` the images each pane holds."""
    notes: list[str] = []
    for title, task in tasks:
        slots = {slot.role: slot for slot in task.inputs}
        for role, count in counts.items():
            if count <= 0:
                continue
            slot = slots.get(role)
            if slot is None or slot.max_count <= 0:
                notes.append(f"{title} does not use the {_noun(role, count)}.")
            elif slot.max_count < count:
                if slot.max_count == 1:
                    notes.append(f"{title} uses the first {_noun(role, 1)} only.")
                else:
                    notes.append(f"{title} uses the first {slot.max_count} "
                                 f"{_noun(role, slot.max_count)}.")
    return notes


class ProviderChoice:
    """See the module docstring. The workbench builds one and asks it which providers to tick
    for a task, what each job takes, and to refresh the note under the panes."""

    def __init__(self, wb: Workbench, settings: QSettings) -> None:
        self.wb = wb
        self.window = wb.window
        self.settings = settings
        self._entry_key = ""
        self.note_label = QLabel()
        self.note_label.setObjectName("inputsUsageNote")
        self.note_label.setAccessibleName("What each provider uses")
        self.note_label.setWordWrap(True)
        self.note_label.setTextFormat(Qt.TextFormat.PlainText)
        self.note_label.hide()

    def attach(self) -> None:
        w = self.window
        column = w.samples_button.parentWidget().layout()
        if column is not None:  # under the panes, above "Try with samples"
            column.insertWidget(column.indexOf(w.samples_button), self.note_label)  # type: ignore[attr-defined]
        w.provider_selector.setupRequested.connect(self.wb.open_settings)
        w.provider_selector.selectionChanged.connect(self._remember)
        for pane in w.panes.values():
            pane.changed.connect(self.refresh_note)
        # Rows, history and the result panel read a job's task: its settings and results in
        # plain words, and its description kept out of every row.
        for view in (w.job_queue, w.history_panel, w.result_panel):
            view.set_task_lookup(self.task_of)

    def task_of(self, provider_id: str, task_id: str) -> TaskSpec | None:
        """The description of a provider's task (the providers as set up now)."""
        provider = self.wb.providers.get(provider_id)
        return provider.task(task_id) if provider is not None else None

    # -- ticked providers per task ------------------------------------------------------------
    def _saved(self) -> dict[str, list[str]]:
        raw = self.settings.value(SETTINGS_KEY, "")
        try:
            found = json.loads(str(raw or "{}"))
        except ValueError:
            return {}
        if not isinstance(found, dict):
            return {}
        return {str(k): [str(p) for p in v] for k, v in found.items() if isinstance(v, list)}

    def initial_ticked(self, entry: CatalogEntry, problems: Mapping[str, str]) -> list[str]:
        """The providers to tick when `entry` is chosen: those ticked the last time it was,
        else those ticked now that can run it, else the list saved by an older Restyle, else
        the first ready one."""
        self._entry_key = ""  # set_providers' signal must not record the old task's ticks
        offered = entry.providers
        remembered = [p for p in self._saved().get(entry.key, []) if p in offered]
        if remembered:
            return remembered
        current = [p for p in self.window.provider_selector.checked() if p in offered]
        if current:
            return current
        legacy = str(self.settings.value(LEGACY_KEY, "") or "")
        older = [p for p in legacy.split(",") if p in offered]
        if older:
            return older
        ready = [p for p in offered if p not in problems]
        return (ready or list(offered))[:1]

    def entry_shown(self, entry: CatalogEntry) -> None:
        """The provider list now shows `entry`'s providers: ticks from here on are its own."""
        self._entry_key = entry.key
        self._remember()

    def _remember(self) -> None:
        if not self._entry_key:
            return
        ticked = self.window.provider_selector.checked()
        saved = self._saved()
        if saved.get(self._entry_key) == ticked:
            return
        saved[self._entry_key] = ticked
        self.settings.setValue(SETTINGS_KEY, json.dumps(saved, sort_keys=True))

    # -- what each provider takes ---------------------------------------------------------------
    def inputs_for(self, provider_id: str, inputs: Mapping[str, Sequence[str]]
                   ) -> dict[str, list[str]]:
        return inputs_for(self.wb.task_for(provider_id), inputs)

    def refresh_note(self, *_args: object) -> None:
        """Say which ticked provider leaves which of the panes' images out."""
        counts = {role: len(pane.sources()) for role, pane in self.window.panes.items()
                  if not pane.isHidden()}
        tasks = [(self.wb.providers[pid].title, task) for pid in self.wb.ticked()
                 if (task := self.wb.task_for(pid)) is not None]
        notes = usage_notes(tasks, counts) if len(tasks) > 1 else []
        text = " ".join(notes)
        if self.note_label.text() != text:
            self.note_label.setText(text)
        self.note_label.setVisible(bool(notes))


__all__ = ["ProviderChoice", "inputs_for", "usage_notes"]
