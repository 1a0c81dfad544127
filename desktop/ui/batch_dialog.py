"""The New batch dialog: a matrix from what the window holds and what the user adds, with a
live plan (jobs, credits and money per provider, what a budget keeps out and why, what cannot
run and why). Nothing is sent from here: Start hands a confirmed `BatchRequest` to the batch
controller, which stores and runs it.

The dialog is opened with `open()` and awaited by its caller; its own question before a paid
batch starts is a QMessageBox opened the same way (a nested `exec()` inside a coroutine would
re-enter the qasync loop).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QMouseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.batches import BatchItem, ItemState, Matrix, Plan
from desktop.core.model import ParamSpec, ParamType, TaskSpec
from desktop.ui.batch_inputs import ImageList
from desktop.ui.batch_recipe import (
    GARMENT,
    Recipe,
    axis_params,
    check_axes,
    max_garments,
    primary_role,
)
from desktop.ui.batch_words import (
    ROW_NOUNS,
    budget_sentence,
    credits_text,
    headline,
    kept_out,
    money_text,
    plural,
    provider_lines,
    refused_sentences,
    total_sentence,
)
from desktop.ui.previews import PreviewLoader
from desktop.ui.tasks import TaskSet

log = logging.getLogger(__name__)

#: The plan is made again this long after the last change.
PLAN_DELAY_MS = 150

Planner = Callable[[Matrix, float | None], Awaitable[tuple[list[BatchItem], Plan]]]


@dataclass(frozen=True)
class ProviderChoice:
    id: str
    title: str
    ready: bool = True
    problem: str = ""
    #: Running a job there costs nothing (the offline provider).
    free: bool = False


@dataclass(frozen=True)
class BatchContext:
    """What the window holds when the dialog opens."""

    task_id: str
    task_title: str
    providers: tuple[ProviderChoice, ...]
    ticked: tuple[str, ...]
    tasks: Mapping[str, TaskSpec]
    base_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    hidden: tuple[str, ...] = ()
    #: The input panes' images by role (every image, also those a provider would not use).
    inputs: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchRequest:
    """A confirmed batch: the controller stores it and runs it."""

    name: str
    matrix: Matrix
    items: list[BatchItem]
    plan: Plan
    budget: float | None


class _StayOpenMenu(QMenu):
    """A menu of check boxes that stays open while values are ticked."""

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        action = self.activeAction()
        if action is not None and action.isCheckable() and action.isEnabled():
            action.trigger()
            event.accept()
            return
        super().mouseReleaseEvent(event)


class MultiChoice(QPushButton):
    """Several values of a choice (or a yes/no) parameter; none ticked: the form's value."""

    changed = Signal()

    def __init__(self, spec: ParamSpec, base: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self._base = base
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setStyleSheet("text-align: left; padding: 4px 8px;")
        menu = _StayOpenMenu(self)
        choices: Sequence[Any] = ((True, False) if spec.type == ParamType.BOOLEAN
                                  else spec.choices)
        self._actions: list[tuple[QAction, Any]] = []
        for value in choices:
            action = QAction(spec.choice_title(value), menu)
            action.setCheckable(True)
            action.toggled.connect(self._toggled)
            menu.addAction(action)
            self._actions.append((action, value))
        self.setMenu(menu)
        self._update_text()

    def values(self) -> list[Any]:
        return [value for action, value in self._actions if action.isChecked()]

    def set_values(self, values: Sequence[Any]) -> None:
        wanted = list(values)
        for action, value in self._actions:
            action.blockSignals(True)
            action.setChecked(value in wanted)
            action.blockSignals(False)
        self._toggled()

    def _toggled(self, *_args: object) -> None:
        self._update_text()
        self.changed.emit()

    def _update_text(self) -> None:
        chosen = self.values()
        if chosen:
            text = ", ".join(self.spec.choice_title(v) for v in chosen)
            if len(chosen) > 1:
                text = f"{len(chosen)} values: {text}"
        else:
            text = (f"As in the form ({self.spec.choice_title(self._base)})"
                    if self._base is not None
                    else "As in the form")
        self.setText(text)
        self.setToolTip(text)
        self.setAccessibleName(f"{self.spec.title or self.spec.name}: {text}")


class BatchDialog(QDialog):
    """See the module docstring. `request` holds the confirmed batch after `accepted`."""

    planned = Signal()  # a plan (or the reason there is none) is on screen

    def __init__(self, context: BatchContext, loader: PreviewLoader, planner: Planner,
                 parent: QWidget | None = None, *, provider_titles: Mapping[str, str]
                 | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("batchDialog")
        self.setWindowTitle("New batch")
        self.context = context
        self._planner = planner
        self._titles = dict(provider_titles or {p.id: p.title for p in context.providers})
        self._free = {p.id for p in context.providers if p.free}
        self._tasks = TaskSet("New batch", self._on_task_error)
        self._generation = 0
        self._plan: tuple[Recipe, list[BatchItem], Plan] | None = None
        self._confirm: QMessageBox | None = None
        self.request: BatchRequest | None = None
        tasks = [context.tasks[p] for p in context.ticked if p in context.tasks] or \
            list(context.tasks.values())
        self.role = primary_role(tasks)
        self.takes_garments = max_garments(context.tasks.values()) > 0 and self.role != GARMENT
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PLAN_DELAY_MS)
        self._timer.timeout.connect(lambda: self._tasks.spawn(self._replan()))
        self._build(loader)
        self._fit_to_screen()

    # -- construction ----------------------------------------------------------------------------
    def _build(self, loader: PreviewLoader) -> None:
        ctx = self.context
        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        self.name_edit = QLineEdit(self)
        self.name_edit.setObjectName("batchName")
        self.name_edit.setAccessibleName("Batch name")
        self.name_edit.setPlaceholderText(f"{ctx.task_title} batch")
        name_label = QLabel("&Name:", self)
        name_label.setBuddy(self.name_edit)
        top.addWidget(name_label)
        top.addWidget(self.name_edit, 1)
        top.addSpacing(16)
        task = QLabel(f"Task: <b>{ctx.task_title}</b>", self)
        task.setObjectName("batchTask")
        top.addWidget(task)
        outer.addLayout(top)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setObjectName("batchSplitter")
        splitter.setChildrenCollapsible(False)
        outer.addWidget(splitter, 1)

        # left: providers, rows, garments, parameters
        left = QWidget()
        col = QVBoxLayout(left)
        col.setContentsMargins(0, 0, 8, 0)
        col.addWidget(_heading("Providers"))
        providers_row = QHBoxLayout()
        self.provider_boxes: dict[str, QCheckBox] = {}
        for choice in ctx.providers:
            box = QCheckBox(choice.title, left)
            box.setObjectName(f"batchProvider_{choice.id}")
            box.setChecked(choice.id in ctx.ticked and choice.ready)
            box.setEnabled(choice.ready)
            if choice.problem:
                box.setToolTip(choice.problem)
            box.toggled.connect(self.schedule_plan)
            providers_row.addWidget(box)
            self.provider_boxes[choice.id] = box
        providers_row.addStretch(1)
        col.addLayout(providers_row)

        nouns = ROW_NOUNS.get(self.role, ("image", "images"))
        row_title = {"person": "People (rows)", "room": "Rooms (rows)"}.get(
            self.role, "Images (rows)")
        self.rows_list = ImageList(row_title, f"{nouns[0]} photos" if self.role != "image"
                                   else "images", loader, left)
        self.rows_list.setObjectName("batchRows")
        self.rows_list.changed.connect(self.schedule_plan)
        col.addWidget(self.rows_list)

        self.garments_list = ImageList("Garments (columns)", "garments", loader, left)
        self.garments_list.setObjectName("batchGarments")
        self.garments_list.changed.connect(self.schedule_plan)
        self.per_job = QSpinBox(left)
        self.per_job.setObjectName("batchPerJob")
        self.per_job.setAccessibleName("Garments per job")
        self.per_job.setRange(1, 3)
        self.per_job.setSuffix(" per job")
        self.per_job.setToolTip("Garments worn together in one try-on (1-3); a provider that "
                                "takes fewer says so in the plan.")
        self.per_job.valueChanged.connect(self.schedule_plan)
        per_job_row = QHBoxLayout()
        per_job_row.addWidget(QLabel("Garments per job:", left))
        per_job_row.addWidget(self.per_job)
        per_job_row.addStretch(1)
        col.addWidget(self.garments_list)
        col.addLayout(per_job_row)
        for widget in (self.garments_list, self.per_job):
            widget.setVisible(self.takes_garments)
        per_job_row.itemAt(0).widget().setVisible(self.takes_garments)

        col.addWidget(_heading("Parameters with several values"))
        note = QLabel("Tick several values, or type a comma list: every combination becomes a "
                      "column. Left alone, a parameter keeps each provider's form value.", left)
        note.setWordWrap(True)
        note.setObjectName("batchAxesNote")
        self.axes_note = note
        col.addWidget(note)
        self.axes_box = QWidget(left)
        self.axes_form = QFormLayout(self.axes_box)
        self.axes_form.setContentsMargins(0, 0, 0, 0)
        self.axes_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        col.addWidget(self.axes_box)
        self.axis_editors: dict[str, MultiChoice | QLineEdit] = {}
        self.axis_errors = QLabel("", left)
        self.axis_errors.setObjectName("batchAxisErrors")
        self.axis_errors.setWordWrap(True)
        self.axis_errors.setStyleSheet("color: #d23c32;")
        self.axis_errors.hide()
        col.addWidget(self.axis_errors)
        self._axis_specs: list[ParamSpec] = []
        self._axes_key: tuple[tuple[str, ...], tuple[str, ...]] | None = None
        self._build_axes()
        col.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(left)
        splitter.addWidget(scroll)

        # right: the plan
        right = QWidget()
        plan = QVBoxLayout(right)
        plan.setContentsMargins(8, 0, 0, 0)
        plan.addWidget(_heading("Plan"))
        self.headline = _wrapping("", right, "batchHeadline")
        font = self.headline.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.headline.setFont(font)
        plan.addWidget(self.headline)
        self.problems = _wrapping("", right, "batchProblems")
        plan.addWidget(self.problems)
        self.table = QTableWidget(0, 4, right)
        self.table.setObjectName("batchPlanTable")
        self.table.setAccessibleName("Jobs and cost per provider")
        self.table.setHorizontalHeaderLabels(["Provider", "Jobs", "Credits", "Money"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        plan.addWidget(self.table)
        self.total = _wrapping("", right, "batchTotal")
        plan.addWidget(self.total)

        budget_row = QHBoxLayout()
        self.budget_on = QCheckBox("&Budget:", right)
        self.budget_on.setObjectName("batchBudgetOn")
        self.budget_on.setToolTip("Never spend more than this on the batch: jobs that would go "
                                  "over it are not sent.")
        self.budget = QDoubleSpinBox(right)
        self.budget.setObjectName("batchBudget")
        self.budget.setAccessibleName("Budget in credits")
        self.budget.setRange(0, 1_000_000)
        self.budget.setDecimals(1)
        self.budget.setSuffix(" credits")
        self.budget.setValue(100)
        self.budget.setEnabled(False)
        self.budget_on.toggled.connect(self.budget.setEnabled)
        self.budget_on.toggled.connect(self.schedule_plan)
        self.budget.valueChanged.connect(self.schedule_plan)
        budget_row.addWidget(self.budget_on)
        budget_row.addWidget(self.budget)
        budget_row.addStretch(1)
        plan.addLayout(budget_row)
        self.budget_effect = _wrapping("", right, "batchBudgetEffect")
        plan.addWidget(self.budget_effect)
        self.refused = _wrapping("", right, "batchRefused")
        plan.addWidget(self.refused)

        self.advanced_toggle = QToolButton(right)
        self.advanced_toggle.setObjectName("batchAdvancedToggle")
        self.advanced_toggle.setText("Advanced")
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_toggle.setAutoRaise(True)
        self.advanced_toggle.toggled.connect(self._toggle_advanced)
        plan.addWidget(self.advanced_toggle)
        self.advanced = QPlainTextEdit(right)
        self.advanced.setObjectName("batchAdvanced")
        self.advanced.setAccessibleName("Technical details of the plan")
        self.advanced.setReadOnly(True)
        self.advanced.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.advanced.hide()
        plan.addWidget(self.advanced, 1)
        plan.addStretch(0)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        buttons = QHBoxLayout()
        self.status = QLabel("", self)
        self.status.setObjectName("batchStatus")
        buttons.addWidget(self.status, 1)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("batchCancel")
        self.cancel_button.clicked.connect(self.reject)
        self.start_button = QPushButton("Start", self)
        self.start_button.setObjectName("batchStart")
        self.start_button.setDefault(True)
        self.start_button.setEnabled(False)
        self.start_button.clicked.connect(lambda: self._tasks.spawn(self.start()))
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.start_button)
        outer.addLayout(buttons)

    def _build_axes(self) -> None:
        ctx = self.context
        tasks = [ctx.tasks[p] for p in self.ticked() if p in ctx.tasks]
        specs = axis_params(tasks, ctx.hidden)
        key = (tuple(self.ticked()), tuple(s.name for s in specs))
        if key == self._axes_key:
            return
        self._axes_key = key
        kept = self.axis_texts()
        kept_choices = {n: e.values() for n, e in self.axis_editors.items()
                        if isinstance(e, MultiChoice)}
        while self.axes_form.rowCount():
            self.axes_form.removeRow(0)
        self.axis_editors = {}
        self._axis_specs = specs
        first = next(iter(tasks), None)
        base = dict(ctx.base_params.get(self.ticked()[0], {})) if self.ticked() else {}
        for spec in specs:
            current = base.get(spec.name, spec.default)
            editor: MultiChoice | QLineEdit
            if spec.type in (ParamType.CHOICE, ParamType.BOOLEAN):
                editor = MultiChoice(spec, current, self.axes_box)
                editor.set_values(kept_choices.get(spec.name, []))
                editor.changed.connect(self.schedule_plan)
            else:
                editor = QLineEdit(self.axes_box)
                editor.setPlaceholderText(
                    f"As in the form ({current})" if current not in (None, "")
                    else "As in the form")
                editor.setText(kept.get(spec.name, ""))
                editor.setToolTip("Several values separated by commas, e.g. 0.8, 1, 1.2")
                editor.textChanged.connect(self.schedule_plan)
            editor.setObjectName(f"batchAxis_{spec.name}")
            title = spec.title or spec.name
            editor.setAccessibleName(f"Values of {title}")
            self.axes_form.addRow(f"{title}:", editor)
            self.axis_editors[spec.name] = editor
        self.axes_note.setVisible(bool(specs))
        if not specs and first is not None:
            text = ("The ticked providers share no parameter that can take several values; "
                    "each keeps the values of its own form." if len(tasks) > 1 else
                    "This task has no parameter that can take several values.")
            note = QLabel(text, self.axes_box)
            note.setWordWrap(True)
            note.setObjectName("batchNoAxes")
            self.axes_form.addRow(note)

    def _fit_to_screen(self) -> None:
        screen = QGuiApplication.primaryScreen()
        area = screen.availableGeometry() if screen is not None else None
        width, height = 1120, 760
        if area is not None:
            width = min(width, area.width() - 40)
            height = min(height, area.height() - 60)
        self.resize(width, height)

    # -- values --------------------------------------------------------------------------------
    def ticked(self) -> list[str]:
        return [pid for pid, box in self.provider_boxes.items() if box.isChecked()]

    def axis_texts(self) -> dict[str, str]:
        return {n: e.text() for n, e in self.axis_editors.items() if isinstance(e, QLineEdit)}

    def set_axis(self, name: str, values: Sequence[Any] | str) -> None:
        """Give a parameter several values: a list for a choice, a comma list for text."""
        editor = self.axis_editors[name]
        if isinstance(editor, MultiChoice):
            editor.set_values(list(values))
        else:
            editor.setText(values if isinstance(values, str) else
                           ", ".join(str(v) for v in values))

    def recipe(self) -> tuple[Recipe, dict[str, str]]:
        """The matrix's recipe from the dialog, and a sentence per parameter list that is
        wrong."""
        ctx = self.context
        providers = tuple(self.ticked())
        values, errors = check_axes(self._axis_specs, self.axis_texts())
        for name, editor in self.axis_editors.items():
            if isinstance(editor, MultiChoice) and editor.values():
                values[name] = editor.values()
        fixed = {role: list(sources) for role, sources in ctx.inputs.items()
                 if role not in (self.role, GARMENT) and sources}
        recipe = Recipe(
            task=ctx.task_id, providers=providers, role=self.role,
            rows=tuple(self.rows_list.sources()),
            garments=tuple(self.garments_list.sources()) if self.takes_garments else (),
            per_job=self.per_job.value(), fixed_inputs=fixed,
            axes={s.name: values[s.name] for s in self._axis_specs if s.name in values},
            axis_titles={s.name: s.title or s.name for s in self._axis_specs},
            axis_choices={s.name: s.type == ParamType.CHOICE for s in self._axis_specs},
            provider_params={p: dict(ctx.base_params.get(p, {})) for p in providers})
        return recipe, errors

    def budget_credits(self) -> float | None:
        return self.budget.value() if self.budget_on.isChecked() else None

    def current_plan(self) -> tuple[Recipe, list[BatchItem], Plan] | None:
        return self._plan

    # -- planning --------------------------------------------------------------------------------
    async def load_inputs(self) -> None:
        """Fill the lists with the images the window's panes hold."""
        ctx = self.context
        loads = [self.rows_list.add_sources(list(ctx.inputs.get(self.role, [])))]
        if self.takes_garments:
            loads.append(self.garments_list.add_sources(list(ctx.inputs.get(GARMENT, []))))
        await asyncio.gather(*loads)
        self.schedule_plan()

    def begin(self) -> None:
        """Start filling the lists (the dialog is open by now)."""
        self._tasks.spawn(self.load_inputs())

    def schedule_plan(self, *_args: object) -> None:
        self._generation += 1
        self._plan = None
        self.start_button.setEnabled(False)
        self._timer.start()

    async def _replan(self) -> None:
        generation = self._generation
        self._build_axes()
        recipe, errors = self.recipe()
        self.axis_errors.setText("\n".join(errors.values()))
        self.axis_errors.setVisible(bool(errors))
        problems = recipe.problems(takes_garments=self.takes_garments)
        busy = self.rows_list.is_busy() or self.garments_list.is_busy()
        if busy:
            problems.insert(0, "Checking the images…")
        if problems or errors:
            self._show_plan(recipe, None, None, problems)
            return
        matrix = recipe.matrix()
        try:
            items, plan = await self._planner(matrix, self.budget_credits())
        except Exception as exc:  # a plan must never take the dialog down
            log.exception("Planning the batch failed")
            if generation == self._generation and shiboken6.isValid(self):
                self._show_plan(recipe, None, None, [f"The plan could not be made: {exc}"])
            return
        if generation != self._generation or not shiboken6.isValid(self):
            return  # something changed meanwhile: a newer plan is on its way
        self._plan = (recipe, items, plan)
        self._show_plan(recipe, items, plan, [])

    def _show_plan(self, recipe: Recipe, items: list[BatchItem] | None, plan: Plan | None,
                   problems: list[str]) -> None:
        self.problems.setText("\n".join(problems))
        self.problems.setVisible(bool(problems))
        for widget in (self.table, self.total, self.budget_effect, self.refused):
            widget.setVisible(plan is not None)
        if plan is None or items is None:
            self.headline.setText("")
            self.headline.hide()
            self.advanced.setPlainText("")
            self.start_button.setText("Start")
            self.start_button.setEnabled(False)
            self.planned.emit()
            return
        matrix = recipe.matrix()
        self.headline.setText(headline(matrix, recipe.shape(), self._titles))
        self.headline.show()
        lines = provider_lines(plan, self._titles, self._free)
        self.table.setRowCount(len(lines))
        for row, line in enumerate(lines):
            for column, text in enumerate((line.title, str(line.jobs), line.credits,
                                           line.money)):
                cell = QTableWidgetItem(text)
                if column:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, cell)
        self.table.setFixedHeight(self.table.horizontalHeader().height()
                                  + sum(self.table.rowHeight(r) for r in range(len(lines)))
                                  + 2 * self.table.frameWidth() + 2)
        self.total.setText(total_sentence(plan, self._free))
        budget = budget_sentence(plan, items)
        out = kept_out(items, matrix, self._titles, (ItemState.OVER_BUDGET,), limit=3)
        if out:
            budget += "\nKept out: " + "; ".join(out) + "."
        self.budget_effect.setText(budget)
        self.budget_effect.setVisible(bool(budget))
        refused = refused_sentences(items, self._titles)
        self.refused.setText("\n".join(refused))
        self.refused.setVisible(bool(refused))
        self.advanced.setPlainText(self._details(matrix, items, plan))
        self.start_button.setText(f"Start {plural(plan.jobs, ('job', 'jobs'))}"
                                  if plan.jobs else "Start")
        self.start_button.setEnabled(plan.jobs > 0)
        self.planned.emit()

    def _details(self, matrix: Matrix, items: list[BatchItem], plan: Plan) -> str:
        """Everything the plan knows, for people who want to check it."""
        columns = matrix.columns()
        cells = []
        for item in items:
            variant = columns[item.col][0] if item.col < len(columns) else None
            cells.append({
                "row": item.row, "col": item.col, "provider": item.provider,
                "variant": variant.title if variant else "",
                "inputs": item.spec.inputs, "params": item.spec.params,
                "expected_credits": item.expected_credits, "state": str(item.state),
                **({"note": item.note} if item.note else {})})
        data = {"task": matrix.task, "role": matrix.role, "providers": list(matrix.providers),
                "rows": len(matrix.rows), "variants": [v.to_dict() for v in matrix.variants],
                "provider_params": {p: dict(v) for p, v in matrix.provider_params.items()},
                "plan": plan.to_dict(), "cells": cells}
        return json.dumps(data, indent=2, ensure_ascii=False, default=str)

    def _toggle_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if shown
                                          else Qt.ArrowType.RightArrow)

    async def settled(self) -> None:
        """Wait until the plan on screen matches the dialog (tests, screenshots)."""
        while True:
            await self.rows_list.idle()
            await self.garments_list.idle()
            await self._tasks.join()
            if not self._timer.isActive() and not self.rows_list.is_busy() \
                    and not self.garments_list.is_busy():
                await self._tasks.join()
                if not self._timer.isActive():
                    return
            await asyncio.sleep(0.02)

    # -- start -----------------------------------------------------------------------------------
    async def start(self) -> bool:
        """Ask before a paid batch starts; then hand the request over and close."""
        found = self._plan
        if found is None or not found[2].jobs:
            return False
        recipe, items, plan = found
        paid = [r for r in plan.providers if r.jobs and r.provider not in self._free]
        if paid and not await self._confirm_start(recipe, plan):
            return False
        name = self.name_edit.text().strip() or self.name_edit.placeholderText()
        self.request = BatchRequest(name, recipe.matrix(), items, plan, self.budget_credits())
        self.accept()
        return True

    async def _confirm_start(self, recipe: Recipe, plan: Plan) -> bool:
        words = headline(recipe.matrix(), recipe.shape(), self._titles)
        text = f"Start {plural(plan.jobs, ('job', 'jobs'))}?"
        details = [words + "."]
        lines = []
        for row in plan.providers:
            if not row.jobs:
                continue
            title = self._titles.get(row.provider, row.provider)
            if row.provider in self._free:
                lines.append(f"{title}: {plural(row.jobs, ('job', 'jobs'))}, free.")
                continue
            cost = (f"about {credits_text(row.credits)} credits" if not row.unpriced
                    else "a price it does not publish")
            if row.money is not None:
                cost += f" (money {money_text(row.money)})"
            lines.append(f"{title}: {plural(row.jobs, ('job', 'jobs'))}, {cost}.")
        details.append("\n".join(lines))
        if plan.budget_credits is not None:
            kept = (f" {plural(plan.over_budget, ('job', 'jobs'))} stay out of it."
                    if plan.over_budget else "")
            details.append(f"The batch never spends more than "
                           f"{credits_text(plan.budget_credits)} credits.{kept}")
        if plan.refused:
            details.append(f"{plural(plan.refused, ('job', 'jobs'))} cannot run and are not "
                           "sent.")
        details.append("Jobs are sent a few at a time. You can pause or cancel the batch in the "
                       "Batches panel; jobs a provider has accepted still finish and may be "
                       "charged.")
        box = QMessageBox(QMessageBox.Icon.Question, "Start the batch", text, parent=self)
        box.setObjectName("batchConfirm")
        box.setInformativeText("\n\n".join(details))
        start = box.addButton("Start", QMessageBox.ButtonRole.AcceptRole)
        start.setObjectName("batchConfirmStart")
        back = box.addButton("Back", QMessageBox.ButtonRole.RejectRole)
        back.setObjectName("batchConfirmBack")
        box.setDefaultButton(back)
        box.setEscapeButton(back)
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def done(_result: int) -> None:
            if not answer.done():
                answer.set_result(box.clickedButton() is start)

        box.finished.connect(done)
        self._confirm = box
        box.open()
        try:
            return await answer
        finally:
            self._confirm = None
            box.deleteLater()

    def confirmation(self) -> QMessageBox | None:
        """The question before a paid batch starts, while it is open (tests, screenshots)."""
        return self._confirm

    def _on_task_error(self, exc: BaseException) -> None:
        self.status.setText(f"Something went wrong: {exc}. Details are in the log.")

    def done(self, result: int) -> None:
        self._timer.stop()
        if self._confirm is not None and shiboken6.isValid(self._confirm):
            self._confirm.reject()
        self._tasks.cancel_all()
        super().done(result)

    async def aclose(self) -> None:
        await self._tasks.aclose()
        await self.rows_list.aclose()
        await self.garments_list.aclose()


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


def _wrapping(text: str, parent: QWidget, name: str) -> QLabel:
    label = QLabel(text, parent)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label
