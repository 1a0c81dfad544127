"""vtryon in the window: the base pose task picked by its picture (the recolour form's
Choose…), and the account's recolour tasks, listed and deleted (after asking)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIntValidator
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.model import ErrorCode
from desktop.core.provider_tools import BaseTask, RecolorTask, RecolorTools
from desktop.core.provider_tools.remote_jobs import parse_time
from desktop.ui.provider_tools.base import EXPECTED, ToolDialog, picture_table
from desktop.ui.provider_tools.staging import when
from desktop.ui.provider_tools.thumbs import ICON_SIZE, Thumbnails, placeholder

#: Recolour tasks listed at a time.
PAGE = 20
ROLE = Qt.ItemDataRole.UserRole


def _base_text(task: BaseTask) -> str:
    model = f"model {task.model_task_id}" if task.model_task_id is not None else "model ?"
    used = (f"{task.recolours} recolour" + ("" if task.recolours == 1 else "s")
            if task.recolours else "looked up")
    return f"Pose task {task.pose_id}\n{model} · {used}\n{task.status_words()}"


class BaseTaskPicker(ToolDialog):
    """The base pose tasks of the account's recolour tasks, with their pictures; a task looked
    up by its number joins them. `picked` carries (pose id, model task id or None)."""

    picked = Signal(int, object)

    def __init__(self, provider: RecolorTools, thumbs: Thumbnails, *,
                 current: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(f"{provider.title}: choose the base pose task", "baseTaskPicker",
                         parent)
        self.provider = provider
        self.thumbs = thumbs
        self.current = current
        self._tasks: dict[int, BaseTask] = {}
        self.list = QListWidget()
        self.list.setObjectName("baseTaskList")
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(ICON_SIZE, ICON_SIZE))
        self.list.setGridSize(QSize(ICON_SIZE + 90, ICON_SIZE + 70))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setWordWrap(True)
        self.list.setUniformItemSizes(True)
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.list.itemDoubleClicked.connect(lambda *_a: self._use())
        self.number = QLineEdit()
        self.number.setObjectName("baseTaskNumber")
        self.number.setPlaceholderText("e.g. 936")
        self.number.setValidator(QIntValidator(1, 2_000_000_000, self))
        self.number.setAccessibleName("Pose task number to look up")
        self.number.returnPressed.connect(lambda: self.run(self.look_up()))
        self.lookup_button = QPushButton("Look up")
        self.lookup_button.setObjectName("baseTaskLookup")
        self.lookup_button.clicked.connect(lambda: self.run(self.look_up()))
        self.model = QLineEdit()
        self.model.setObjectName("baseTaskModel")
        self.model.setValidator(QIntValidator(1, 2_000_000_000, self))
        self.model.setPlaceholderText("its model task number")
        self.model.setAccessibleName("Model task number")
        self.model.setToolTip("The model task the pose task was made from: filled in when "
                              "vtryon says it; otherwise type it")
        self.model.textChanged.connect(self._selection_changed)
        self.use_button = QPushButton("Use this task")
        self.use_button.setObjectName("baseTaskUse")
        self.use_button.setEnabled(False)
        self.use_button.clicked.connect(self._use)
        cancel = QPushButton("Cancel")
        cancel.setObjectName("baseTaskCancel")
        cancel.clicked.connect(self.reject)
        # Enter in the number field looks a task up; it must never press "Use this task"
        # for the task selected before (a dialog presses its default button on Enter).
        for button in (self.lookup_button, self.use_button, cancel):
            button.setAutoDefault(False)
        intro = QLabel("A recolour starts from a finished pose task of your vtryon account. "
                       "These are the pose tasks your recolour tasks used; look up another by "
                       "its number.")
        intro.setWordWrap(True)
        lookup = QHBoxLayout()
        lookup.addWidget(QLabel("Pose task number:"))
        lookup.addWidget(self.number)
        lookup.addWidget(self.lookup_button)
        lookup.addSpacing(16)
        lookup.addWidget(QLabel("Model task:"))
        lookup.addWidget(self.model)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.use_button)
        buttons.addWidget(cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addLayout(lookup)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.resize(760, 540)

    def begin(self) -> None:
        self.run(self.load())

    def tasks(self) -> list[BaseTask]:
        return [self._tasks[self.list.item(i).data(ROLE)] for i in range(self.list.count())]

    def selected(self) -> BaseTask | None:
        items = self.list.selectedItems()
        return self._tasks.get(items[0].data(ROLE)) if items else None

    def select(self, pose_id: int) -> bool:
        for i in range(self.list.count()):
            if self.list.item(i).data(ROLE) == pose_id:
                self.list.setCurrentRow(i)
                return True
        return False

    async def load(self) -> None:
        self.say("Loading the base tasks of your recolour tasks…")
        try:
            found = await self.provider.base_tasks()
        except EXPECTED as exc:
            self.fail("Could not list your recolour tasks", exc)
            return
        for task in found.tasks:
            self._put(task)
        if found.tasks:
            self.say(f"{len(found.tasks)} base task{'' if len(found.tasks) == 1 else 's'}, "
                     "the most recently recoloured first. Grey ones cannot be recoloured.")
        elif found.unnamed:
            self.say("vtryon's recolour list does not say which base tasks its recolour "
                     "tasks used: look the pose task up by its number.")
        else:
            self.say("No recolour tasks yet, so there is nothing to pick from: look a "
                     "finished pose task up by its number.")
        if self.current is not None and not self.select(self.current):
            self.number.setText(str(self.current))

    async def look_up(self) -> None:
        text = self.number.text().strip()
        if not text:
            self.say("Type a pose task number first.", problem=True)
            return
        self.lookup_button.setEnabled(False)
        self.say(f"Looking up pose task {text}…")
        try:
            task = await self.provider.base_task(int(text))
        except EXPECTED as exc:
            code = getattr(exc, "code", None)
            if code == ErrorCode.NOT_FOUND:
                self.say(f"vtryon has no task {text} on this account.", problem=True)
            else:
                self.fail(f"Could not look up task {text}", exc)
            return
        finally:
            self.lookup_button.setEnabled(True)
        known = self._tasks.get(task.pose_id)
        if known is not None:
            task = BaseTask(task.pose_id, task.model_task_id or known.model_task_id,
                            task.status, task.result_url, task.created_at, known.recolours)
        self._put(task, first=True)
        self.select(task.pose_id)
        self.say(f"Pose task {task.pose_id}: {task.status_words()}.",
                 problem=not task.usable)

    def _put(self, task: BaseTask, *, first: bool = False) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(ROLE) == task.pose_id:
                self.list.takeItem(i)
                break
        self._tasks[task.pose_id] = task
        item = QListWidgetItem(placeholder(self.thumbs.size, "Loading…"), _base_text(task))
        item.setData(ROLE, task.pose_id)
        item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        if not task.usable:
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            item.setToolTip(f"Pose task {task.pose_id}: {task.status_words()}")
        if first:
            self.list.insertItem(0, item)
        else:
            self.list.addItem(item)
        self.run(self._picture(task))

    async def _picture(self, task: BaseTask) -> None:
        icon, why = await self.thumbs.icon(task.result_url, self.provider.download)
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(ROLE) == task.pose_id:
                item.setIcon(icon)
                if why and task.usable:
                    item.setToolTip(why)

    def _selection_changed(self, *_args: object) -> None:
        task = self.selected()
        if task is not None and self.sender() is self.list:
            self.model.setText(str(task.model_task_id) if task.model_task_id else "")
        self.use_button.setEnabled(task is not None and task.usable)

    def model_task(self) -> int | None:
        text = self.model.text().strip()
        return int(text) if text.isdigit() else None

    def _use(self) -> None:
        task = self.selected()
        if task is None or not task.usable:
            return
        self.picked.emit(task.pose_id, self.model_task())
        self.accept()


class RecolourTasksDialog(ToolDialog):
    """The account's recolour tasks, newest first; Delete… asks first."""

    def __init__(self, provider: RecolorTools, thumbs: Thumbnails,
                 parent: QWidget | None = None) -> None:
        super().__init__(f"{provider.title}: recolour tasks", "recolourTasksDialog", parent)
        self.provider = provider
        self.thumbs = thumbs
        self._page = 0
        self._tasks: list[RecolorTask] = []
        self.question: QMessageBox | None = None
        self.table = picture_table(["Picture", "Task", "Status", "Made", "Base pose task",
                                    "Colours"], "recolourTable")
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("recolourRefresh")
        self.refresh_button.clicked.connect(lambda: self.run(self.load()))
        self.more_button = QPushButton("Show more")
        self.more_button.setObjectName("recolourMore")
        self.more_button.setEnabled(False)
        self.more_button.clicked.connect(lambda: self.run(self.load(more=True)))
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setObjectName("recolourDelete")
        self.delete_button.setToolTip("Delete the selected recolour task at vtryon for good "
                                      "(you are asked first)")
        self.delete_button.setEnabled(False)
        self.delete_button.clicked.connect(self.ask_delete)
        close = QPushButton("Close")
        close.setObjectName("recolourClose")
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.more_button)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.resize(860, 560)

    def begin(self) -> None:
        self.run(self.load())

    def tasks(self) -> list[RecolorTask]:
        return list(self._tasks)

    def selected(self) -> RecolorTask | None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        return self._tasks[min(rows)] if rows else None

    def select(self, task_id: str) -> bool:
        for row, task in enumerate(self._tasks):
            if task.id == task_id:
                self.table.selectRow(row)
                return True
        return False

    async def load(self, *, more: bool = False) -> None:
        page_number = self._page + 1 if more else 1
        self.say("Loading your recolour tasks…")
        self.refresh_button.setEnabled(False)
        self.more_button.setEnabled(False)
        try:
            page = await self.provider.recolor_tasks(page_number, PAGE)
        except EXPECTED as exc:
            self.fail("Could not list your recolour tasks", exc)
            return
        finally:
            self.refresh_button.setEnabled(True)
        if not more:
            self._tasks = []
            self.table.setRowCount(0)
        self._page = page_number
        for task in page.items:
            self._add_row(task)
        self.more_button.setEnabled(page.has_next)
        self.say(f"{len(self._tasks)} of {page.count} recolour tasks." if self._tasks
                 else "No recolour tasks on this account yet.")
        self._selection_changed()

    def _add_row(self, task: RecolorTask) -> None:
        row = self.table.rowCount()
        self._tasks.append(task)
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(placeholder(self.thumbs.size, "Loading…"),
                                                    ""))
        colours = "\n".join(f"{t}: {c}" for t, c in task.colours) or "–"
        base = str(task.pose_id) if task.pose_id is not None else "–"
        for col, text in enumerate((task.id, task.status.capitalize() or "?",
                                    when(parse_time(task.created_at)), base, colours),
                                   start=1):
            self.table.setItem(row, col, QTableWidgetItem(text))
        self.run(self._picture(task))

    async def _picture(self, task: RecolorTask) -> None:
        icon, why = await self.thumbs.icon(task.result_url, self.provider.download)
        for row, known in enumerate(self._tasks):
            item = self.table.item(row, 0)
            if known.id == task.id and item is not None:
                item.setIcon(icon)
                item.setToolTip(why)

    def _selection_changed(self) -> None:
        self.delete_button.setEnabled(self.selected() is not None)

    def ask_delete(self) -> None:
        task = self.selected()
        if task is None:
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "Delete the recolour task?",
                          f"Delete recolour task {task.id} at vtryon for good?",
                          QMessageBox.StandardButton.NoButton, self)
        box.setObjectName("recolourDeleteConfirm")
        box.setInformativeText("vtryon removes the task and its picture. Results already in "
                               "Restyle's history stay there.")
        yes = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        yes.setObjectName("recolourDeleteConfirmDelete")
        no = box.addButton(QMessageBox.StandardButton.Cancel)
        no.setObjectName("recolourDeleteConfirmCancel")
        box.setDefaultButton(no)
        self.question = box

        def answered(*_args: object) -> None:
            self.question = None
            if box.clickedButton() is yes:
                self.run(self.delete(task))

        box.finished.connect(answered)
        box.open()

    async def delete(self, task: RecolorTask) -> None:
        self.delete_button.setEnabled(False)
        self.say(f"Deleting recolour task {task.id}…")
        try:
            detail = await self.provider.delete(task.id)
        except EXPECTED as exc:
            self.fail(f"Recolour task {task.id} was not deleted", exc)
            self._selection_changed()
            return
        for row, known in enumerate(self._tasks):
            if known.id == task.id:
                self.table.removeRow(row)
                del self._tasks[row]
                break
        self.say(f"Recolour task {task.id} deleted ({detail.rstrip('.')}).")
        self._selection_changed()
