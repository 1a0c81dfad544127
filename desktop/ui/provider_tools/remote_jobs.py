"""A provider's job list in the window (FitInView's): each job's state, cost and date, whether
the history has it, and "Import into history" for those it does not (the engine collects
their results like any job's; a job already known is never imported again)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.provider_tools import RemoteJobList, RemoteJobSummary
from desktop.core.provider_tools.imports import ImportReport
from desktop.core.provider_tools.remote_jobs import parse_time
from desktop.ui.provider_tools.base import EXPECTED, ToolDialog, picture_table
from desktop.ui.provider_tools.staging import when

#: Jobs listed at a time.
PAGE = 50

Known = Callable[[Sequence[RemoteJobSummary]], Awaitable[dict[str, str]]]
Importer = Callable[[Sequence[RemoteJobSummary]], Awaitable[ImportReport]]


class RemoteJobsDialog(ToolDialog):
    """The account's jobs, newest first; several may be selected and imported at once."""

    def __init__(self, provider: RemoteJobList, known: Known, importer: Importer,
                 parent: QWidget | None = None) -> None:
        super().__init__(f"{provider.title}: jobs on your account", "remoteJobsDialog", parent)
        self.provider = provider
        self._known_of = known
        self._import = importer
        self._cursor: str | None = None
        self._jobs: list[RemoteJobSummary] = []
        self.known: dict[str, str] = {}
        self.imported: dict[str, str] = {}
        self.table = picture_table(["Job", "State", "Cost", "Made", "In history"],
                                   "remoteJobsTable", pictures=False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("remoteJobsRefresh")
        self.refresh_button.clicked.connect(lambda: self.run(self.load()))
        self.more_button = QPushButton("Show more")
        self.more_button.setObjectName("remoteJobsMore")
        self.more_button.setEnabled(False)
        self.more_button.clicked.connect(lambda: self.run(self.load(more=True)))
        self.import_button = QPushButton("Import into history")
        self.import_button.setObjectName("remoteJobsImport")
        self.import_button.setToolTip("Record the selected jobs in Restyle's history and "
                                      "download their results (nothing is sent or charged)")
        self.import_button.setEnabled(False)
        self.import_button.setDefault(True)
        self.import_button.clicked.connect(lambda: self.run(self.import_selected()))
        close = QPushButton("Close")
        close.setObjectName("remoteJobsClose")
        close.clicked.connect(self.reject)
        intro = QLabel("Jobs made with this key, newest first: from Restyle on this or "
                       "another computer, or from any other program. Import the ones the "
                       "history does not have to keep and compare their results here.")
        intro.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.more_button)
        buttons.addStretch(1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.resize(820, 520)

    def begin(self) -> None:
        self.run(self.load())

    def jobs(self) -> list[RemoteJobSummary]:
        return list(self._jobs)

    def select(self, remote_ids: Sequence[str]) -> None:
        self.table.clearSelection()
        mode = self.table.selectionMode()
        for row, job in enumerate(self._jobs):
            if job.remote_id in remote_ids:
                for col in range(self.table.columnCount()):
                    item = self.table.item(row, col)
                    if item is not None:
                        item.setSelected(True)
        self.table.setSelectionMode(mode)

    def selected(self) -> list[RemoteJobSummary]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self._jobs[r] for r in rows]

    def importable(self) -> list[RemoteJobSummary]:
        return [j for j in self.selected() if j.remote_id not in self.known]

    async def load(self, *, more: bool = False) -> None:
        self.say("Loading the jobs of your account…")
        self.refresh_button.setEnabled(False)
        self.more_button.setEnabled(False)
        try:
            page = await self.provider.remote_jobs(cursor=self._cursor if more else None,
                                                   limit=PAGE)
            known = await self._known_of(page.jobs)
        except EXPECTED as exc:
            self.fail("Could not list the jobs of your account", exc)
            return
        finally:
            self.refresh_button.setEnabled(True)
        if not more:
            self._jobs = []
            self.table.setRowCount(0)
        self.known.update(known)
        for job in page.jobs:
            self._add_row(job)
        self._cursor = page.next_cursor
        self.more_button.setEnabled(page.next_cursor is not None)
        missing = sum(1 for j in self._jobs if j.remote_id not in self.known)
        if not self._jobs:
            self.say("No jobs on this account yet.")
        elif missing:
            self.say(f"{len(self._jobs)} jobs; {missing} not in the history: select them and "
                     "press Import into history.")
        else:
            self.say(f"{len(self._jobs)} jobs, all in the history.")
        self._selection_changed()

    def _history_words(self, job: RemoteJobSummary) -> str:
        if job.remote_id in self.imported:
            return "Imported"
        if job.remote_id in self.known:
            return "Yes"
        return "No"

    def _add_row(self, job: RemoteJobSummary) -> None:
        row = self.table.rowCount()
        self._jobs.append(job)
        self.table.insertRow(row)
        self._fill(row, job)

    def _fill(self, row: int, job: RemoteJobSummary) -> None:
        cost = f"{job.cost_credits:g} credits" if job.cost_credits is not None else "?"
        state = job.status_words()
        if job.error_message:
            state += f": {job.error_message}"
        cells = (job.remote_id, state, cost, when(parse_time(job.created_at)),
                 self._history_words(job))
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if col == 2:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if col == 4 and job.remote_id in self.known:
                item.setToolTip(f"Restyle job {self.known[job.remote_id]}")
            self.table.setItem(row, col, item)

    def _selection_changed(self) -> None:
        count = len(self.importable())
        self.import_button.setEnabled(count > 0)
        self.import_button.setText("Import into history" if count <= 1
                                   else f"Import {count} jobs into history")

    async def import_selected(self) -> ImportReport | None:
        wanted = self.importable()
        if not wanted:
            return None
        self.import_button.setEnabled(False)
        self.say(f"Importing {len(wanted)} job{'' if len(wanted) == 1 else 's'}…")
        try:
            report = await self._import(wanted)
        except EXPECTED as exc:
            self.fail("The import failed", exc)
            self._selection_changed()
            return None
        for job in report.imported:
            if job.remote_id:
                self.imported[job.remote_id] = job.id
                self.known[job.remote_id] = job.id
        self.known.update(report.known)
        for row, job in enumerate(self._jobs):
            self._fill(row, job)
        took = len(report.imported)
        words = [f"Imported {took} job{'' if took == 1 else 's'}: their results are being "
                 "downloaded into the history (see the Jobs panel)."]
        if report.known:
            words.append(f"{len(report.known)} already in the history, not imported again.")
        self.say(" ".join(words))
        self._selection_changed()
        return report
