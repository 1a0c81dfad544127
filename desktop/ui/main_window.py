"""The main window. The full window (panes, forms, compare view, docks) comes with its own
issue; this one shows what the foundation offers: recent jobs from history."""

from __future__ import annotations

import time

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
            "Your job history, newest first. Run jobs with restyle-cli; they appear here the "
            "next time Restyle starts.",
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
            created = time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created_at))
            self.history_list.addItem(
                f"{created}   {job.provider} / {job.task}   {job.state}   {outputs}"
                f"   {job.id[:12]}"
            )
