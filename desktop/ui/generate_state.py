"""Whether Generate can run now, and what the form says under it: the button's enabled state
and text, the expected cost, and the problems in sentences (with a link to the settings where
one would fix it). Recomputed on the next turn of the loop after anything it reads changes
(`schedule`), once however many changes came together."""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer

from desktop.ui.inputs_controller import missing_input

if TYPE_CHECKING:
    from desktop.ui.workbench import Workbench

log = logging.getLogger(__name__)


class GenerateState(QObject):
    def __init__(self, wb: Workbench) -> None:
        super().__init__(wb)
        self.wb = wb
        #: Why the last Generate was refused before anything was stored (a bad file), with
        #: what was refused: shown under the form while the inputs and the form are the same.
        self._refusal: tuple[str, Any] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh)

    def schedule(self) -> None:
        self._timer.start()

    def refused(self, sentence: str) -> None:
        """Generate was refused for what the form asks now: say so until the form changes."""
        self._refusal = (sentence, self.asked())

    def problems(self) -> list[str]:
        """Why Generate cannot run now, as sentences (rich text links to settings)."""
        wb = self.wb
        entry = wb.current_entry()
        if entry is None:
            return ["Choose a task."]
        ticked = wb.ticked()
        if not ticked:
            return ["Tick at least one provider."]
        found: list[str] = []
        blocked = wb.readiness.form_problems()
        for pid in ticked:
            if pid in blocked:
                found.append(html.escape(blocked[pid])
                             + f' <a href="settings:{pid}">Open settings</a>')
        if any(p.is_busy() for p in wb.window.visible_panes()):
            found.append("Loading images…")
        inputs = wb.inputs()
        for pid in ticked:
            task = wb.task_for(pid)
            if task is None:
                found.append(f"Loading the {wb.providers[pid].title} workflow…")
                continue
            for slot in task.inputs:
                count = len(inputs.get(slot.role, []))
                if count < slot.min_count:
                    found.append(missing_input(slot))
        form = wb.window.params_form
        if form.errors():
            found.extend(html.escape(m) for m in form.errors().values())
        for pid in ticked:
            if pid == wb.form_provider:
                continue
            task = wb.task_for(pid)
            if task is None:
                continue
            for message in task.param_errors(wb.params_for(pid)):
                found.append(f"{html.escape(wb.providers[pid].title)}: {html.escape(message)}")
        return list(dict.fromkeys(found))

    def refresh(self) -> None:
        wb = self.wb
        problems = self.problems()
        w = wb.window
        w.generate_button.setEnabled(not problems)
        w.generate_action.setEnabled(not problems)
        refused = self._refusal is not None and self._refusal[1] == self.asked()
        shown = problems[:4] or ([html.escape(self._refusal[0])] if refused and self._refusal
                                 else [])
        w.problem_label.setText("<br>".join(shown))
        w.problem_label.setVisible(bool(shown))
        ticked = wb.ticked()
        w.generate_button.setText("Generate" if len(ticked) <= 1
                                  else f"Generate with {len(ticked)} providers")
        costs = []
        entry = wb.current_entry()
        for pid in ticked:
            if entry is None:
                break
            try:
                cost = wb.providers[pid].estimate_cost(entry.task_id, wb.params_for(pid))
            except Exception:  # an estimate must never break the form
                log.exception("Cost estimate of %s failed", pid)
                cost = None
            if cost is not None:
                costs.append(f"{wb.providers[pid].title}: {cost:g} credits")
        w.cost_label.setText("Expected cost: " + "; ".join(costs) if costs else "")
        w.cost_label.setVisible(bool(costs))

    def asked(self) -> tuple[Any, ...]:
        """What Generate would run now: task, inputs and each ticked provider's values."""
        wb = self.wb
        entry = wb.current_entry()
        return (entry.key if entry else "", wb.inputs(),
                {pid: wb.params_for(pid) for pid in wb.ticked()})

    def on_problem_link(self, link: str) -> None:
        if link.startswith("settings:"):
            self.wb.open_settings(link.split(":", 1)[1])
