"""The main window. The full window (panes, forms, compare view, docks) comes with its own
issue; this one shows what the foundation offers: recent jobs from history."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QListWidget, QMainWindow, QVBoxLayout, QWidget

from desktop.core.model import Job


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("Restyle")
        self.resize(1100, 720)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        intro = QLabel(
            "Restyle is ready. Jobs run with restyle-cli appear below; the full workbench "
            "(drop panes, compare view) arrives in the next release.",
            central,
        )
        intro.setWordWrap(True)
        intro.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        layout.addWidget(intro)
        self.history_list = QListWidget(central)
        self.history_list.setObjectName("historyView")
        self.history_list.setAccessibleName("Job history")
        layout.addWidget(self.history_list, 1)
        self.setCentralWidget(central)

    def show_jobs(self, jobs: list[Job]) -> None:
        self.history_list.clear()
        for job in jobs:
            outputs = f"{len(job.outputs)} result" + ("" if len(job.outputs) == 1 else "s")
            self.history_list.addItem(
                f"{job.provider} / {job.task}   {job.state}   {outputs}   {job.id[:12]}"
            )
