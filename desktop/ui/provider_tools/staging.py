"""Virtual staging in the window: the account's past renders (picture, state, date), and more
variations of one of them (a job of the provider's `variations` task, confirmed with what it
costs in photos of the plan)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.model import TaskSpec
from desktop.core.provider_tools import (
    RenderState,
    RenderSummary,
    StagingTools,
    photos_sentence,
    render_state_words,
)
from desktop.ui.params_form import ParamsForm
from desktop.ui.provider_tools.base import EXPECTED, ToolDialog, picture_table
from desktop.ui.provider_tools.thumbs import Thumbnails, placeholder

#: Renders listed at a time ("Show more" reads the next page).
PAGE = 20
RENDER_PARAM = "render_id"


def when(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    return dt.datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M")


class RendersDialog(ToolDialog):
    """Past renders, newest first. Browsing: "Add variations…" for the selected render.
    Picking (the form's Choose… for a render): "Use this render"."""

    addRequested = Signal(object)  # RenderSummary
    picked = Signal(object)  # RenderSummary

    def __init__(self, provider: StagingTools, thumbs: Thumbnails, *, picking: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(f"{provider.title}: past renders", "rendersDialog", parent)
        self.provider = provider
        self.thumbs = thumbs
        self.picking = picking
        self._cursor: str | None = None
        self._renders: list[RenderSummary] = []
        self.table = picture_table(["Picture", "Render", "Made", "State", "Variations",
                                    "Types"], "rendersTable")
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.itemDoubleClicked.connect(lambda *_a: self._act())
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("rendersRefresh")
        self.refresh_button.clicked.connect(lambda: self.run(self.load()))
        self.more_button = QPushButton("Show more")
        self.more_button.setObjectName("rendersMore")
        self.more_button.setEnabled(False)
        self.more_button.clicked.connect(lambda: self.run(self.load(more=True)))
        self.act_button = QPushButton("Use this render" if picking else "Add variations…")
        self.act_button.setObjectName("rendersUse" if picking else "rendersAddVariations")
        self.act_button.setToolTip(
            "Fill the form with this render" if picking else
            "Make more variations of the selected render (each counts as a photo of your "
            "plan; you are asked first)")
        self.act_button.setEnabled(False)
        self.act_button.setDefault(True)
        self.act_button.clicked.connect(self._act)
        close = QPushButton("Close")
        close.setObjectName("rendersClose")
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.more_button)
        buttons.addStretch(1)
        buttons.addWidget(self.act_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        intro = QLabel("Renders made on this account, newest first: from Restyle and from "
                       "anywhere else the key was used.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.resize(820, 560)

    def begin(self) -> None:
        self.run(self.load())

    def renders(self) -> list[RenderSummary]:
        return list(self._renders)

    def selected(self) -> RenderSummary | None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        return self._renders[min(rows)] if rows else None

    def select(self, render_id: str) -> bool:
        for row, render in enumerate(self._renders):
            if render.id == render_id:
                self.table.selectRow(row)
                return True
        return False

    async def load(self, *, more: bool = False, keep: str = "") -> None:
        """The first page (or, `more`, the next one). `keep` selects that render again once
        the list is read (after its new variations were made)."""
        self.say("Loading your renders…")
        self.refresh_button.setEnabled(False)
        self.more_button.setEnabled(False)
        try:
            page = await self.provider.render_summaries(
                limit=PAGE, cursor=self._cursor if more else None)
        except EXPECTED as exc:
            self.fail("Could not list your renders", exc)
            return
        finally:
            self.refresh_button.setEnabled(True)
        if not more:
            self._renders = []
            self.table.setRowCount(0)
        for render in page.items:
            self._add_row(render)
        self._cursor = page.next_cursor
        self.more_button.setEnabled(page.next_cursor is not None)
        if not self._renders:
            self.say("No renders on this account yet. Stage a room (task Staging, provider "
                     f"{self.provider.title}) and it appears here.")
        else:
            total = f" of {page.total_count}" if page.total_count else ""
            self.say(f"{len(self._renders)}{total} renders.")
        if keep and self.select(keep):
            self.say(f"Render {keep} now has {self.selected().total} variations; the new ones "
                     "are in the history.")  # type: ignore[union-attr]
        self._selection_changed()

    def _add_row(self, render: RenderSummary) -> None:
        row = self.table.rowCount()
        self._renders.append(render)
        self.table.insertRow(row)
        picture = QTableWidgetItem(placeholder(self.thumbs.size, "Loading…"), "")
        self.table.setItem(row, 0, picture)
        counts = f"{render.done} of {render.total} ready"
        if render.failed:
            counts += f", {render.failed} failed"
        for col, text in enumerate((render.id, when(render.created_at),
                                    render_state_words(render.state), counts,
                                    ", ".join(render.kinds) or "–"), start=1):
            item = QTableWidgetItem(text)
            item.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, col, item)
        self.run(self._picture(render.id, render.thumbnail_url))

    async def _picture(self, render_id: str, url: str | None) -> None:
        icon, why = await self.thumbs.icon(url, self.provider.download)
        for row, render in enumerate(self._renders):
            item = self.table.item(row, 0)
            if render.id == render_id and item is not None:
                item.setIcon(icon)
                item.setToolTip(why)

    def _selection_changed(self) -> None:
        render = self.selected()
        usable = render is not None and (not self.picking or render.state != RenderState.EMPTY)
        self.act_button.setEnabled(usable)

    def _act(self) -> None:
        render = self.selected()
        if render is None or not self.act_button.isEnabled():
            return
        if self.picking:
            self.picked.emit(render)
            self.accept()
        else:
            self.addRequested.emit(render)


class VariationsDialog(ToolDialog):
    """The new variations' settings, what they cost, and a question before they are sent.
    `request` holds the job's parameters once confirmed."""

    def __init__(self, provider_title: str, task: TaskSpec, render: RenderSummary,
                 values: Mapping[str, Any] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(f"More variations of render {render.id}", "variationsDialog", parent)
        self.provider_title = provider_title
        self.render = render
        self.request: dict[str, Any] | None = None
        self.limits: dict[str, Any] = {}
        self.confirmation: QMessageBox | None = None
        self.form = ParamsForm()
        # The download choice keeps its default (the full-quality result) here.
        self.form.set_task(task, {**dict(values or {}), RENDER_PARAM: render.id},
                           hidden=(RENDER_PARAM, "result"))
        self.form.changed.connect(self._refresh)
        self.cost = QLabel("")
        self.cost.setObjectName("variationsCost")
        self.cost.setWordWrap(True)
        head = QLabel(f"Render {render.id}, made {when(render.created_at)}: "
                      f"{render.done} of {render.total} variations ready. The new ones are "
                      "downloaded into the history as a job of their own.")
        head.setWordWrap(True)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        self.buttons = QDialogButtonBox()
        self.add_button = self.buttons.addButton("Add variations",
                                                 QDialogButtonBox.ButtonRole.AcceptRole)
        self.add_button.setObjectName("variationsAdd")
        cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName("variationsCancel")
        self.add_button.clicked.connect(self._ask)
        cancel.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.cost)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.resize(520, 480)
        self._refresh()

    def set_limits(self, limits: Mapping[str, Any]) -> None:
        """The account's photo limits (kind -> {limit, used}), for the cost sentence."""
        self.limits = dict(limits)
        self._refresh()

    def count(self) -> int:
        value = self.form.values().get("variation_count")
        return int(value) if isinstance(value, int) else 1

    def cost_sentence(self) -> str:
        values = self.form.values()
        return photos_sentence(self.count(), str(values.get("type") or "staging"), self.limits,
                               self.provider_title)

    def _refresh(self) -> None:
        self.cost.setText(self.cost_sentence())
        errors = self.form.errors()
        self.add_button.setEnabled(not errors)
        count = self.count()
        self.add_button.setText(f"Add {count} variation" + ("" if count == 1 else "s"))

    def _ask(self) -> None:
        """Paid: ask first, with what it costs."""
        if self.form.errors():
            return
        count = self.count()
        box = QMessageBox(QMessageBox.Icon.Question, "Add variations?",
                          f"Add {count} variation{'' if count == 1 else 's'} to render "
                          f"{self.render.id}?", QMessageBox.StandardButton.NoButton, self)
        box.setObjectName("variationsConfirm")
        box.setInformativeText(self.cost_sentence())
        yes = box.addButton("Add and pay", QMessageBox.ButtonRole.AcceptRole)
        yes.setObjectName("variationsConfirmAdd")
        no = box.addButton(QMessageBox.StandardButton.Cancel)
        no.setObjectName("variationsConfirmCancel")
        box.setDefaultButton(no)
        self.confirmation = box

        def answered(*_args: object) -> None:
            self.confirmation = None
            if box.clickedButton() is yes:
                self.request = self.form.values()
                self.accept()

        box.finished.connect(answered)
        box.open()
