"""The main window's layout: inputs and task choice on the left, the compare view and result
panel in the centre, the job queue and the history as docks; menus, actions and shortcuts.

The window holds widgets only; `desktop.ui.workbench.Workbench` wires them to the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.core.assets import AssetStore
from desktop.core.store import History
from desktop.ui.compare_view import CompareView
from desktop.ui.history_view import HistoryPanel
from desktop.ui.input_pane import InputPane
from desktop.ui.job_queue import JobQueueView
from desktop.ui.params_form import ParamsForm
from desktop.ui.previews import PreviewLoader
from desktop.ui.rankings_panel import RankingsPanel
from desktop.ui.result_panel import ResultPanel
from desktop.ui.task_picker import ProviderSelector, TaskSelector

#: Input roles in the order their panes appear, with the pane's objectName and title.
PANE_ROLES: tuple[tuple[str, str, str], ...] = (
    ("person", "personPane", "Person"),
    ("garment", "garmentPane", "Garments"),
    ("room", "roomPane", "Room"),
    ("image", "imagePane", "Image"),
)


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


class MainWindow(QMainWindow):
    """Widgets, docks, menus and shortcuts of the Restyle window."""

    def __init__(self, *, history: History, assets: AssetStore, loader: PreviewLoader,
                 provider_titles: Mapping[str, str], task_titles: Mapping[str, str]) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("Restyle")
        self.resize(1360, 860)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks
                            | QMainWindow.DockOption.AllowTabbedDocks)

        # -- left: task, providers, inputs, parameters, generate ---------------------------
        self.preview_loader = loader
        self.task_selector = TaskSelector()
        self.provider_selector = ProviderSelector()
        self.panes: dict[str, InputPane] = {}
        for role, name, title in PANE_ROLES:
            pane = InputPane(role, title, loader)
            pane.setObjectName(name)
            pane.setAccessibleName(f"{title} input")
            self.panes[role] = pane
        self.params_provider = QComboBox()
        self.params_provider.setObjectName("paramsProviderSelector")
        self.params_provider.setAccessibleName("Parameters for provider")
        self.params_provider.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.params_provider.setToolTip("Each ticked provider has its own parameters")
        self.params_form = ParamsForm()
        self.cost_label = QLabel("")
        self.cost_label.setObjectName("costLabel")
        self.cost_label.setWordWrap(True)
        self.problem_label = QLabel("")
        self.problem_label.setObjectName("problemLabel")
        self.problem_label.setWordWrap(True)
        self.problem_label.setTextFormat(Qt.TextFormat.RichText)
        self.problem_label.setOpenExternalLinks(False)
        self.problem_label.setAccessibleName("Why Generate is unavailable")
        self.generate_button = QPushButton("Generate")
        self.generate_button.setObjectName("generateButton")
        self.generate_button.setAccessibleName("Generate")
        self.generate_button.setToolTip("Run the task with each ticked provider (Ctrl+Enter)")
        self.generate_button.setDefault(True)
        self.generate_button.setMinimumHeight(34)
        self.samples_button = QPushButton("Try with samples")
        self.samples_button.setObjectName("samplesButton")
        self.samples_button.setAccessibleName("Try with sample images")
        self.samples_button.setToolTip("Fill the inputs with the sample person, garments and room")

        left = QWidget()
        left.setObjectName("inputsPanel")
        col = QVBoxLayout(left)
        col.setContentsMargins(10, 10, 10, 10)
        col.setSpacing(8)
        col.addWidget(_heading("Task"))
        col.addWidget(self.task_selector)
        col.addWidget(_heading("Providers"))
        col.addWidget(self.provider_selector)
        self.inputs_heading = _heading("Inputs")
        col.addWidget(self.inputs_heading)
        for pane in self.panes.values():
            col.addWidget(pane)
        col.addWidget(self.samples_button)
        self._inputs_column = col
        params_row = QHBoxLayout()
        params_row.addWidget(_heading("Parameters"))
        params_row.addStretch(1)
        params_row.addWidget(self.params_provider)
        col.addLayout(params_row)
        col.addWidget(self.params_form)
        col.addStretch(1)
        scroll = QScrollArea()
        scroll.setObjectName("inputsScroll")
        scroll.setWidgetResizable(True)
        scroll.setWidget(left)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        footer = QWidget()
        foot = QVBoxLayout(footer)
        foot.setContentsMargins(10, 4, 10, 10)
        foot.addWidget(self.cost_label)
        foot.addWidget(self.problem_label)
        self.new_batch_button = QPushButton("New batch…")
        self.new_batch_button.setObjectName("newBatchButton")
        self.new_batch_button.setToolTip("Run the task over many images, garments or settings "
                                         "(Ctrl+B)")
        self.new_batch_button.setMinimumHeight(34)
        run_row = QHBoxLayout()
        run_row.addWidget(self.generate_button, 1)
        run_row.addWidget(self.new_batch_button)
        foot.addLayout(run_row)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.setSpacing(0)
        side_layout.addWidget(scroll, 1)
        side_layout.addWidget(footer)
        side.setMinimumWidth(320)

        # -- centre: compare view over the result panel --------------------------------------
        self.compare_view = CompareView()
        self.compare_view.set_placeholder(
            "Drop images on the left (or press “Try with samples”), then Generate.\n"
            "Results appear here, before and after.")
        self.result_panel = ResultPanel(provider_titles)
        self.centre_splitter = QSplitter(Qt.Orientation.Vertical)
        self.centre_splitter.setObjectName("centreSplitter")
        self.centre_splitter.addWidget(self.compare_view)
        self.centre_splitter.addWidget(self.result_panel)
        self.centre_splitter.setStretchFactor(0, 5)
        self.centre_splitter.setStretchFactor(1, 1)
        self.main_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.main_splitter.setObjectName("mainSplitter")
        self.main_splitter.addWidget(side)
        self.main_splitter.addWidget(self.centre_splitter)
        self.main_splitter.setStretchFactor(0, 0)
        self.main_splitter.setStretchFactor(1, 1)
        self.main_splitter.setSizes([360, 1000])
        self.setCentralWidget(self.main_splitter)

        # -- docks ---------------------------------------------------------------------------
        self.job_queue = JobQueueView(
            provider_titles,
            {(pid, task): title for pid in provider_titles for task, title in task_titles.items()})
        self.queue_dock = QDockWidget("Jobs", self)
        self.queue_dock.setObjectName("queueDock")
        self.queue_dock.setWidget(self.job_queue)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.queue_dock)
        self.history_panel = HistoryPanel(history, assets, provider_titles, task_titles)
        self.history_dock = QDockWidget("History", self)
        self.history_dock.setObjectName("historyDock")
        self.history_dock.setWidget(self.history_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.history_dock)
        self.resizeDocks([self.queue_dock, self.history_dock], [380, 380],
                         Qt.Orientation.Horizontal)
        self.rankings_panel = RankingsPanel(provider_titles, task_titles)
        self.rankings_dock = QDockWidget("Rankings", self)
        self.rankings_dock.setObjectName("rankingsDock")
        self.rankings_dock.setWidget(self.rankings_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.rankings_dock)
        self.tabifyDockWidget(self.history_dock, self.rankings_dock)
        self.rankings_dock.hide()  # View > Rankings

        # -- status bar ------------------------------------------------------------------------
        self.credits_label = QLabel("")
        self.credits_label.setObjectName("creditsLabel")
        self.running_label = QLabel("")
        self.running_label.setObjectName("runningLabel")
        self.statusBar().addPermanentWidget(self.running_label)
        self.statusBar().addPermanentWidget(self.credits_label)
        self.statusBar().setSizeGripEnabled(True)

        self._build_actions()

    # -- menus and shortcuts -------------------------------------------------------------------
    def _action(self, text: str, name: str, shortcut: QKeySequence | str | None = None,
                *extra: QKeySequence | str) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        keys = [QKeySequence(k) for k in (shortcut, *extra) if k is not None]
        if keys:
            action.setShortcuts(keys)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        std = QKeySequence.StandardKey
        self.open_action = self._action("&Open image…", "openAction", QKeySequence(std.Open))
        self.paste_action = self._action("&Paste image", "pasteAction")
        self.paste_action.setShortcut(QKeySequence(std.Paste))
        self.paste_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.samples_action = self._action("Try with &samples", "samplesAction")
        # Any image files side by side or as a grid (compare_files.py wires it).
        self.compare_files_action = self._action("Co&mpare files…", "fileCompareFiles",
                                                 "Ctrl+Shift+O")
        self.compare_files_action.setToolTip("Compare image files, not jobs: the first is the "
                                             "before (Ctrl+Shift+O)")
        self.save_action = self._action("&Save result as…", "saveAction", QKeySequence(std.Save))
        self.save_pair_action = self._action("Save &before/after image…", "savePairAction",
                                             "Ctrl+Shift+S")
        self.copy_action = self._action("&Copy result image", "copyResultAction",
                                        "Ctrl+Shift+C")
        # Exports people hand on (export_workflows wires them).
        self.export_action = self._action("&Export…", "exportAction", "Ctrl+E")
        self.export_listing_action = self._action("Export for listin&g…", "exportListingAction")
        self.lookbook_action = self._action("Loo&kbook…", "lookbookAction")
        self.report_action = self._action("&Report…", "reportAction")
        self.save_bundle_action = self._action("Save as b&undle…", "saveBundleAction")
        self.import_bundle_action = self._action("&Import bundle…", "importBundleAction")
        self.settings_action = self._action("Se&ttings…", "settingsAction", "Ctrl+,")
        self.quit_action = self._action("&Quit", "quitAction", QKeySequence(std.Quit))
        self.generate_action = self._action("&Generate", "generateAction", "Ctrl+Return",
                                            "Ctrl+Enter")
        self.new_batch_action = self._action("New &batch…", "newBatchAction", "Ctrl+B")
        self.find_action = self._action("&Find in history", "findAction", QKeySequence(std.Find))
        self.fullscreen_action = self._action("&Full screen", "fullScreenAction", "F11")
        self.fullscreen_action.setCheckable(True)
        self.clear_inputs_action = self._action("C&lear inputs", "clearInputsAction")
        self.review_mode_action = self._action("&Review mode", "reviewModeAction", "Ctrl+Shift+R")
        self.arena_action = self._action("&Blind comparison", "arenaAction")

        file_menu = self.menuBar().addMenu("&File")
        for action in (self.open_action, self.paste_action, self.samples_action,
                       self.clear_inputs_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.compare_files_action)
        file_menu.addSeparator()
        for action in (self.save_action, self.save_pair_action, self.copy_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        for action in (self.export_action, self.export_listing_action, self.lookbook_action,
                       self.report_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.save_bundle_action)
        file_menu.addAction(self.import_bundle_action)
        file_menu.addSeparator()
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        run_menu = self.menuBar().addMenu("&Run")
        run_menu.addAction(self.generate_action)
        run_menu.addAction(self.new_batch_action)
        view_menu = self.view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(self.queue_dock.toggleViewAction())
        view_menu.addAction(self.history_dock.toggleViewAction())
        view_menu.addAction(self.find_action)
        view_menu.addSeparator()
        view_menu.addAction(self.review_mode_action)
        view_menu.addAction(self.arena_action)
        view_menu.addAction(self.rankings_dock.toggleViewAction())
        view_menu.addSeparator()
        view_menu.addAction(self.fullscreen_action)
        self.fullscreen_action.toggled.connect(self._set_full_screen)

    def _set_full_screen(self, on: bool) -> None:
        if on:
            self.showFullScreen()
        else:
            self.showNormal()

    def ensure_pane(self, role: str, title: str) -> InputPane:
        """The pane of `role`; one is made, below the others, for a role a task names at run
        time (a saved workflow's own image inputs). It stays, hidden, when the task changes,
        so its images are not lost."""
        pane = self.panes.get(role)
        if pane is None:
            pane = InputPane(role, title, self.preview_loader)
            pane.setObjectName(f"inputPane_{role}")
            pane.setAccessibleName(f"{title} input")
            pane.hide()
            self.panes[role] = pane
            column = self._inputs_column
            column.insertWidget(column.indexOf(self.samples_button), pane)
        return pane

    def visible_panes(self) -> list[InputPane]:
        return [p for p in self.panes.values() if not p.isHidden()]

    def set_status(self, text: str, timeout_ms: int = 8000) -> None:
        self.statusBar().showMessage(text, timeout_ms)


def window_settings_path(config_dir: Path) -> Path:
    """Where geometry, splitters and the last task and providers are kept (QSettings INI)."""
    return config_dir / "window.ini"

