"""The export dialog: what to export (the shown result, all outputs of the shown job, the
history's selection or filter, a batch), where, as what, under which names, as composites or a
listing set, with which provenance; a plain-words summary, and the export's progress and
outcome at the bottom. Non-modal: the window's controller (export_workflows) loads the jobs
of each choice, runs the export in a worker and feeds the progress back.

The dialog only shows and asks. `request()` turns the form into an `ExportRequest` or a
sentence saying what to fix; the live example name and the summary come from the same core
functions the export uses (naming, files.plan), so what it shows is what gets written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.exports import encode
from desktop.core.exports.composites import (
    CORNERS,
    MAX_LABEL_CHARS,
    MAX_LABEL_SIZE,
    MIN_LABEL_SIZE,
    ListingLabel,
)
from desktop.core.exports.files import (
    MIN_MAX_SIDE,
    ORIGINAL_SUFFIX,
    STAGED_SUFFIX,
    ExportOptions,
    plan,
)
from desktop.core.exports.naming import FIELDS, Template, field_values
from desktop.core.model import InvalidInput, Job
from desktop.general_settings import (
    CORNER_LABELS,
    EXPORT_FORMAT_LABELS,
    EXPORT_FORMATS,
    LOSSY_FORMATS,
    MAX_EXPORT_QUALITY,
    MIN_EXPORT_QUALITY,
)
from desktop.ui.export_progress import ExportRunPanel
from desktop.ui.export_words import cli_command, summary

#: The kinds of export, in the order the menu lists them.
MODES: tuple[tuple[str, str], ...] = (
    ("none", "Images as they are"),
    ("side", "Before | after, side by side"),
    ("split", "Before | after, split"),
    ("listing", "Listing set: original, then labelled photo"),
)
_BAD = "color: #d23c32;"
_MUTED = "color: palette(placeholder-text);"


@dataclass(frozen=True)
class ExportChoice:
    """One answer to "what to export". `all_outputs` is fixed for the shown result (False)
    and the shown job (True), else None: the "All outputs of each job" box decides.
    `batch_id` names a batch choice (the CLI line uses --batch)."""

    key: str
    label: str
    all_outputs: bool | None = None
    batch_id: str | None = None


@dataclass(frozen=True)
class ExportDefaults:
    """Where the form starts: the settings' values, the listing label already made for the
    folder (its address from the settings' pattern)."""

    folder: Path
    format: str
    quality: int
    template: str
    label: ListingLabel
    url_pattern: str = ""
    sidecar: bool = False
    c2pa_ready: bool = False
    c2pa_note: str = ""


@dataclass(frozen=True)
class ExportRequest:
    choice: ExportChoice
    folder: Path
    options: ExportOptions
    sidecar: bool
    c2pa: bool
    jobs: tuple[Job, ...] = field(default=(), compare=False)


class ExportDialog(QDialog):
    """Signals: choiceChanged(key) (load that choice's jobs and call `set_jobs`),
    exportRequested (read `request()`), folderChanged(folder) (the listing address may follow
    it), settingsRequested (open Settings > Export), and the run panel's cancel and show
    folder."""

    choiceChanged = Signal(str)
    exportRequested = Signal()
    folderChanged = Signal(str)
    settingsRequested = Signal()

    def __init__(self, choices: Sequence[ExportChoice], defaults: ExportDefaults, *,
                 initial: str = "", listing: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export for listing" if listing else "Export")
        self.setAccessibleName("Export")
        self.setWindowModality(Qt.WindowModality.NonModal)
        self._choices = list(choices)
        self._defaults = defaults
        self._jobs: dict[str, list[Job]] = {}
        self._original_ext: dict[str, str] = {}
        self._url_edited = False
        self._chooser: QFileDialog | None = None

        self.scroll = QScrollArea(self)
        self.scroll.setObjectName("exportForm")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget(self.scroll)
        self.scroll.setWidget(body)
        columns = QGridLayout(body)
        columns.setContentsMargins(0, 0, 6, 0)
        columns.setHorizontalSpacing(18)
        left = QVBoxLayout()
        right = QVBoxLayout()
        columns.addLayout(left, 0, 0)
        columns.addLayout(right, 0, 1)
        columns.setColumnStretch(0, 1)
        columns.setColumnStretch(1, 1)
        self._build_what(body, left)
        self._build_files(body, left)
        left.addStretch(1)
        self._build_kind(body, right)
        self._build_provenance(body, right)
        right.addStretch(1)

        self.summary = QLabel("", self)
        self.summary.setObjectName("exportSummary")
        self.summary.setAccessibleName("What the export will write")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.summary.font()
        font.setBold(True)
        self.summary.setFont(font)
        self.advanced_toggle = QToolButton(self)
        self.advanced_toggle.setObjectName("exportAdvancedToggle")
        self.advanced_toggle.setAccessibleName("Show the advanced details")
        self.advanced_toggle.setText("Advanced")
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_toggle.setAutoRaise(True)
        self.advanced_toggle.toggled.connect(self._toggle_advanced)
        self.advanced = QPlainTextEdit(self)
        self.advanced.setObjectName("exportAdvanced")
        self.advanced.setAccessibleName("Advanced details: the same export on the command line")
        self.advanced.setReadOnly(True)
        self.advanced.setMaximumHeight(110)
        self.advanced.hide()
        self.run_panel = ExportRunPanel(self)
        self.export_button = QPushButton("Export", self)
        self.export_button.setObjectName("exportStart")
        self.export_button.setAccessibleName("Start the export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.exportRequested)
        self.close_button = QPushButton("Close", self)
        self.close_button.setObjectName("exportClose")
        self.close_button.setAccessibleName("Close the export dialog")
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.advanced_toggle)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.advanced)
        layout.addWidget(self.run_panel)
        layout.addLayout(buttons)

        self._connect()
        if listing:
            self.mode.setCurrentIndex(self.mode.findData("listing"))
            self.all_outputs.setChecked(True)
        index = self.what.findData(initial) if initial else 0
        self.what.setCurrentIndex(max(0, index))
        self._choice_changed()
        self._mode_changed()
        self.refresh()

    # -- construction ------------------------------------------------------------------------
    def _form(self, parent: QVBoxLayout, title: str) -> QFormLayout:
        if parent.count():
            parent.addSpacing(10)
        heading = QLabel(title)
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        parent.addWidget(heading)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        parent.addLayout(form)
        return form

    def _build_what(self, body: QWidget, column: QVBoxLayout) -> None:
        form = self._form(column, "What")
        self.what = QComboBox(body)
        self.what.setObjectName("exportWhatCombo")
        self.what.setAccessibleName("What to export")
        self.what.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.what.setMinimumContentsLength(20)
        for choice in self._choices:
            self.what.addItem(choice.label, choice.key)
        self.all_outputs = QCheckBox("All outputs of each job (every variation)", body)
        self.all_outputs.setObjectName("exportAllOutputsCheck")
        self.all_outputs.setAccessibleName("Export all outputs of each job")
        form.addRow(_buddy("E&xport:", self.what), _column(self.what, self.all_outputs))

    def _build_files(self, body: QWidget, column: QVBoxLayout) -> None:
        form = self._form(column, "Files")
        d = self._defaults
        self.folder = QLineEdit(str(d.folder), body)
        self.folder.setObjectName("exportFolderField")
        self.folder.setAccessibleName("Folder to export into")
        self.browse = QPushButton("Browse…", body)
        self.browse.setObjectName("exportFolderBrowse")
        self.browse.setAccessibleName("Choose the folder to export into")
        self.browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(self.browse)
        form.addRow(_buddy("&Folder:", self.folder), row)

        self.format = QComboBox(body)
        self.format.setObjectName("exportDialogFormat")
        self.format.setAccessibleName("File format")
        for fmt in EXPORT_FORMATS:
            self.format.addItem(EXPORT_FORMAT_LABELS[fmt], fmt)
        self.format.setCurrentIndex(max(0, self.format.findData(d.format)))
        self.quality = QSpinBox(body)
        self.quality.setObjectName("exportDialogQuality")
        self.quality.setAccessibleName("Quality for JPEG and WebP")
        self.quality.setRange(MIN_EXPORT_QUALITY, MAX_EXPORT_QUALITY)
        self.quality.setValue(d.quality)
        self.quality.setSuffix(" %")
        row = QHBoxLayout()
        row.addWidget(self.format)
        row.addSpacing(12)
        row.addWidget(_buddy("&Quality:", self.quality))
        row.addWidget(self.quality)
        row.addStretch(1)
        form.addRow(_buddy("F&ormat:", self.format), row)

        self.limit_side = QCheckBox("At most", body)
        self.limit_side.setObjectName("exportMaxSideCheck")
        self.limit_side.setAccessibleName("Limit the longer side")
        self.max_side = QSpinBox(body)
        self.max_side.setObjectName("exportMaxSideSpin")
        self.max_side.setAccessibleName("Longest side in pixels")
        self.max_side.setRange(MIN_MAX_SIDE, 16383)
        self.max_side.setValue(2048)
        self.max_side.setSingleStep(256)
        self.max_side.setSuffix(" px on the longer side")
        self.max_side.setEnabled(False)
        row = QHBoxLayout()
        row.addWidget(self.limit_side)
        row.addWidget(self.max_side, 1)
        form.addRow("Size:", row)

        self.template = QLineEdit(d.template, body)
        self.template.setObjectName("exportDialogTemplate")
        self.template.setAccessibleName("File name template")
        self.example = QLabel("", body)
        self.example.setObjectName("exportExampleName")
        self.example.setAccessibleName("Example file name")
        self.example.setWordWrap(True)
        self.example.setTextFormat(Qt.TextFormat.PlainText)
        self.example.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        links = " ".join(f'<a href="{name}">{{{name}}}</a>' for name in FIELDS)
        self.fields = QLabel(f"Insert: {links}", body)
        self.fields.setObjectName("exportFieldsLabel")
        self.fields.setAccessibleName("Fields for the file name template")
        self.fields.setWordWrap(True)
        self.fields.setTextFormat(Qt.TextFormat.RichText)
        self.fields.setToolTip("\n".join(f"{{{k}}}: {v}" for k, v in FIELDS.items())
                               + "\nA / in the template makes subfolders.")
        self.fields.linkActivated.connect(self._insert_field)
        form.addRow(_buddy("&Names:", self.template),
                    _column(self.template, self.example, self.fields))

        self.overwrite = QCheckBox("Replace files with the same name", body)
        self.overwrite.setObjectName("exportOverwriteCheck")
        self.overwrite.setAccessibleName("Replace files with the same name")
        self.overwrite.setToolTip("Off: a name that is taken gets a number, name (2).png")
        form.addRow("", self.overwrite)

    def _build_kind(self, body: QWidget, column: QVBoxLayout) -> None:
        form = self._form(column, "Picture")
        self.picture_form = form
        self.mode = QComboBox(body)
        self.mode.setObjectName("exportModeCombo")
        self.mode.setAccessibleName("Kind of export")
        for key, title in MODES:
            self.mode.addItem(title, key)
        self.mode.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.mode.setMinimumContentsLength(18)
        form.addRow(_buddy("&Make:", self.mode), self.mode)
        self.split = QSlider(Qt.Orientation.Horizontal, body)
        self.split.setObjectName("exportSplitSlider")
        self.split.setAccessibleName("Split position, percent of the width")
        self.split.setRange(5, 95)
        self.split.setValue(50)
        self.split_value = QLabel("50 %", body)
        self.split_value.setMinimumWidth(40)
        self.split_row = QWidget(body)
        row = QHBoxLayout(self.split_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.split, 1)
        row.addWidget(self.split_value)
        self.split_label = _buddy("&Split at:", self.split)
        form.addRow(self.split_label, self.split_row)
        self.caption = QCheckBox("Caption: provider, task and date under the picture", body)
        self.caption.setObjectName("exportCaptionCheck")
        self.caption.setAccessibleName("Add a caption")
        form.addRow("", self.caption)

        label = self._defaults.label
        self.listing_box = QWidget(body)
        self.listing_box.setObjectName("exportListingBox")
        listing = QFormLayout(self.listing_box)
        listing.setContentsMargins(0, 0, 0, 0)
        listing.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.label_text = QLineEdit(label.text, self.listing_box)
        self.label_text.setObjectName("exportLabelField")
        self.label_text.setAccessibleName("Label on each staged photo")
        self.label_text.setMaxLength(MAX_LABEL_CHARS)
        listing.addRow(_buddy("&Label:", self.label_text), self.label_text)
        self.corner = QComboBox(self.listing_box)
        self.corner.setObjectName("exportCornerCombo")
        self.corner.setAccessibleName("Corner of the label")
        for corner in CORNERS:
            self.corner.addItem(CORNER_LABELS[corner], corner)
        self.corner.setCurrentIndex(max(0, CORNERS.index(label.corner)))
        self.label_size = QDoubleSpinBox(self.listing_box)
        self.label_size.setObjectName("exportLabelSize")
        self.label_size.setAccessibleName("Label size, percent of the photo's shorter side")
        self.label_size.setRange(MIN_LABEL_SIZE * 100, MAX_LABEL_SIZE * 100)
        self.label_size.setDecimals(1)
        self.label_size.setSingleStep(0.5)
        self.label_size.setSuffix(" %")
        self.label_size.setValue(label.size * 100)
        self.label_size.setToolTip("Type size as a share of the photo's shorter side")
        row = QHBoxLayout()
        row.addWidget(self.corner, 1)
        row.addWidget(_buddy("Si&ze:", self.label_size))
        row.addWidget(self.label_size)
        listing.addRow(_buddy("Co&rner:", self.corner), row)
        self.url = QLineEdit(label.url or "", self.listing_box)
        self.url.setObjectName("exportUrlField")
        self.url.setAccessibleName("Address where the original is published")
        self.url.setPlaceholderText("https://… (optional)")
        self.url.setToolTip("Where the unaltered originals will be published; printed on the "
                            "label and, if you like, as a QR code")
        self.qr = QCheckBox("QR code", self.listing_box)
        self.qr.setObjectName("exportQrCheck")
        self.qr.setAccessibleName("Add a QR code of the original's address")
        self.qr.setChecked(label.qr)
        self.link = QCheckBox("Print the address", self.listing_box)
        self.link.setObjectName("exportLinkCheck")
        self.link.setAccessibleName("Print the original's address on the label")
        self.link.setChecked(label.link)
        row = QHBoxLayout()
        row.addWidget(self.qr)
        row.addWidget(self.link)
        row.addStretch(1)
        listing.addRow(_buddy("&Original at:", self.url), _column(self.url, row))
        self.listing_note = QLabel("Names sort each original (…-1-original) before its staged "
                                   "photo (…-2-staged); the label goes on the staged photo "
                                   "only.", self.listing_box)
        self.listing_note.setWordWrap(True)
        self.listing_note.setStyleSheet(_MUTED)
        listing.addRow(self.listing_note)
        column.addWidget(self.listing_box)

    def _build_provenance(self, body: QWidget, column: QVBoxLayout) -> None:
        form = self._form(column, "Provenance")
        d = self._defaults
        always = QLabel("What made each image (provider, task, settings, date, AI source "
                        "type) is always written into the file.", body)
        always.setObjectName("exportMetadataNote")
        always.setWordWrap(True)
        always.setStyleSheet(_MUTED)
        form.addRow(always)
        self.sidecar = QCheckBox("", body)
        self.sidecar.setObjectName("exportDialogSidecar")
        self.sidecar.setAccessibleName("Write a JSON sidecar beside each image")
        self.sidecar.setChecked(d.sidecar)
        form.addRow(self.sidecar)
        self.c2pa = QCheckBox("Sign with C2PA", body)
        self.c2pa.setObjectName("exportC2paCheck")
        self.c2pa.setAccessibleName("Sign each image with C2PA")
        self.c2pa.setEnabled(d.c2pa_ready)
        self.c2pa_note = QLabel(d.c2pa_note, body)
        self.c2pa_note.setObjectName("exportC2paNote")
        self.c2pa_note.setWordWrap(True)
        self.c2pa_note.setStyleSheet(_MUTED)
        self.c2pa_note.setTextFormat(Qt.TextFormat.RichText)
        self.c2pa_note.linkActivated.connect(lambda _l: self.settingsRequested.emit())
        form.addRow(self.c2pa)
        form.addRow(self.c2pa_note)

    def _connect(self) -> None:
        self.what.currentIndexChanged.connect(self._choice_changed)
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.limit_side.toggled.connect(self.max_side.setEnabled)
        self.split.valueChanged.connect(lambda v: self.split_value.setText(f"{v} %"))
        self.folder.textChanged.connect(lambda t: self.folderChanged.emit(t))
        self.url.textEdited.connect(self._url_typed)
        self.url.textChanged.connect(self._url_changed)
        for signal in (self.all_outputs.toggled, self.format.currentIndexChanged,
                       self.quality.valueChanged, self.limit_side.toggled,
                       self.max_side.valueChanged, self.template.textChanged,
                       self.split.valueChanged, self.caption.toggled, self.label_text.textChanged,
                       self.corner.currentIndexChanged, self.label_size.valueChanged,
                       self.url.textChanged, self.qr.toggled, self.link.toggled,
                       self.sidecar.toggled, self.c2pa.toggled, self.overwrite.toggled,
                       self.folder.textChanged):
            signal.connect(self.refresh)
        self._format_changed()
        self._url_changed()

    # -- reactions -----------------------------------------------------------------------------
    def choice(self) -> ExportChoice:
        key = self.what.currentData()
        return next((c for c in self._choices if c.key == key), self._choices[0])

    def _choice_changed(self) -> None:
        choice = self.choice()
        if choice.all_outputs is not None:
            self.all_outputs.setChecked(choice.all_outputs)
        self.all_outputs.setEnabled(choice.all_outputs is None)
        self.refresh()
        self.choiceChanged.emit(choice.key)

    def _mode_changed(self) -> None:
        mode = self.mode.currentData()
        listing = mode == "listing"
        self.split_row.setVisible(mode == "split")
        self.split_label.setVisible(mode == "split")
        self.caption.setVisible(not listing)
        self.listing_box.setVisible(listing)
        self.setWindowTitle("Export for listing" if listing else "Export")
        self.refresh()

    def _format_changed(self) -> None:
        fmt = str(self.format.currentData())
        self.quality.setEnabled(fmt in LOSSY_FORMATS)
        self.sidecar.setText(f"JSON sidecar beside each image "
                             f"(name{encode.EXTENSIONS.get(fmt, '.png')}.json)")

    def _url_typed(self, _text: str) -> None:
        self._url_edited = True

    def _url_changed(self) -> None:
        has_url = bool(self.url.text().strip())
        self.qr.setEnabled(has_url)
        self.link.setEnabled(has_url)

    def set_listing_url(self, url: str) -> None:
        """The address the settings' pattern makes for the folder (kept once typed over)."""
        if not self._url_edited:
            self.url.setText(url)

    def _insert_field(self, name: str) -> None:
        self.template.insert("{" + name + "}")
        self.template.setFocus(Qt.FocusReason.OtherFocusReason)

    def _toggle_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if shown
                                          else Qt.ArrowType.RightArrow)

    def _browse(self) -> None:
        # open(), never exec(): a nested event loop would stall the qasync loop.
        chooser = QFileDialog(self, "Choose the folder to export into", self.folder.text())
        chooser.setFileMode(QFileDialog.FileMode.Directory)
        chooser.setOption(QFileDialog.Option.ShowDirsOnly, True)
        chooser.fileSelected.connect(self.folder.setText)
        chooser.finished.connect(chooser.deleteLater)
        self._chooser = chooser
        chooser.open()

    # -- the jobs of a choice ----------------------------------------------------------------
    def set_jobs(self, key: str, jobs: Sequence[Job],
                 original_ext: Mapping[str, str] | None = None) -> None:
        """The jobs `key` stands for (loaded by the controller), and the file extension each
        job's original photo keeps in a listing set."""
        self._jobs[key] = list(jobs)
        self._original_ext.update(original_ext or {})
        self.refresh()

    def jobs(self) -> list[Job] | None:
        """The current choice's jobs, or None while they load."""
        return self._jobs.get(self.choice().key)

    # -- the form as options -----------------------------------------------------------------
    def options(self) -> ExportOptions:
        """The form as export options (not yet checked)."""
        mode = str(self.mode.currentData())
        url = self.url.text().strip() or None
        label = ListingLabel(text=self.label_text.text(), corner=str(self.corner.currentData()),
                             size=round(self.label_size.value(), 1) / 100, url=url,
                             qr=self.qr.isChecked() and url is not None,
                             link=self.link.isChecked() or not self.qr.isChecked())
        return ExportOptions(
            format=str(self.format.currentData()), quality=self.quality.value(),
            max_side=self.max_side.value() if self.limit_side.isChecked() else None,
            template=self.template.text(), all_outputs=self.all_outputs.isChecked(),
            composite=mode if mode in ("side", "split") else "none",
            split_at=self.split.value() / 100,
            caption=self.caption.isChecked() and mode != "listing",
            listing=mode == "listing", label=label, overwrite=self.overwrite.isChecked())

    def folder_path(self) -> Path | None:
        text = self.folder.text().strip()
        return Path(text).expanduser() if text else None

    def problem(self) -> str | None:
        """What stops the export, as a sentence (None: ready)."""
        try:
            self.options().checked()
        except InvalidInput as exc:
            return str(exc)
        folder = self.folder_path()
        if folder is None:
            return "Choose the folder to export into."
        if not folder.is_absolute():
            return (f"The folder must be a full path, such as {Path.home() / 'Pictures'} "
                    f"(got {self.folder.text().strip()}).")
        jobs = self.jobs()
        if jobs is None:
            return "Loading the jobs to export…"
        items, _skipped = plan(jobs, self.options())
        if not items:
            return "Nothing to export: none of these jobs has a finished image result."
        return None

    def request(self) -> ExportRequest | str:
        """The export to run, or the sentence saying what to fix."""
        problem = self.problem()
        if problem is not None:
            return problem
        folder = self.folder_path()
        assert folder is not None
        return ExportRequest(self.choice(), folder, self.options().checked(),
                             sidecar=self.sidecar.isChecked(),
                             c2pa=self.c2pa.isChecked() and self.c2pa.isEnabled(),
                             jobs=tuple(self.jobs() or ()))

    # -- the live example and summary --------------------------------------------------------
    def example_name(self) -> str:
        """The first file's name as the export would write it, or the template's problem."""
        options = self.options()
        try:
            template = Template.parse(options.template)
        except InvalidInput as exc:
            return str(exc)
        jobs = self.jobs() or []
        items, _skipped = plan(jobs, options)
        if not items:
            return "Example: (no job with a result to name yet)"
        first = items[0]
        stem = template.render(field_values(
            first.job, first.output.position, n=1, n_width=max(3, len(str(len(items))))))
        ext = encode.EXTENSIONS[options.format]
        if options.listing:
            original = self._original_ext.get(first.job.id, ext)
            return (f"Example: {stem}{ORIGINAL_SUFFIX}{original}, then "
                    f"{stem.name}{STAGED_SUFFIX}{ext}")
        return f"Example: {stem}{ext}"

    def refresh(self, *_args: object) -> None:
        """Update the example name, the summary, Advanced and the Export button."""
        if not hasattr(self, "summary"):
            return  # still being built
        example = self.example_name()
        bad_template = not example.startswith("Example:")
        self.example.setText(example)
        self.example.setStyleSheet(_BAD if bad_template else _MUTED)
        jobs = self.jobs()
        options = self.options()
        problem = self.problem()
        if jobs is None:
            self.summary.setText("Loading the jobs to export…")
        else:
            items, skipped = plan(jobs, options)
            text = summary(images=len(items), jobs=len({i.job.id for i in items}),
                           skipped=skipped, folder=self.folder_path(), options=options,
                           sidecar=self.sidecar.isChecked(),
                           c2pa=self.c2pa.isChecked() and self.c2pa.isEnabled())
            if problem and items:
                text = problem
            self.summary.setText(text)
        self.summary.setStyleSheet(_BAD if problem and jobs is not None else "")
        self.export_button.setEnabled(problem is None and not self.run_panel.running)
        choice = self.choice()
        folder = self.folder_path() or Path("…")
        try:
            command = cli_command(job_ids=[j.id for j in jobs or []], batch_id=choice.batch_id,
                                  folder=folder, options=options,
                                  sidecar=self.sidecar.isChecked(),
                                  c2pa=self.c2pa.isChecked() and self.c2pa.isEnabled())
        except (InvalidInput, ValueError):
            command = ""
        self.advanced.setPlainText(
            "The same export from a terminal:\n" + command
            + "\n\nMetadata: PNG text chunks and XMP; JPEG and WebP XMP and EXIF, with the IPTC "
              "digital source type. Sidecar schema restyle.provenance/1.")

    def set_c2pa(self, ready: bool, note: str) -> None:
        """Whether C2PA is set up in the settings, and the sentence under the box."""
        self.c2pa.setEnabled(ready)
        if not ready:
            self.c2pa.setChecked(False)
        self.c2pa_note.setText(note)
        self.refresh()

    # -- running -----------------------------------------------------------------------------
    def fit_to(self, available_width: int, available_height: int) -> None:
        """As large as the form needs (no empty band), within the space given."""
        body = self.scroll.widget()
        wanted_h = body.sizeHint().height() + 190
        wanted_w = max(body.sizeHint().width() + 40, 1000)
        self.resize(min(wanted_w, available_width), min(wanted_h, available_height))

    def set_running(self, running: bool) -> None:
        self.scroll.setEnabled(not running)
        self.export_button.setEnabled(not running and self.problem() is None)


def _buddy(text: str, widget: QWidget) -> QLabel:
    label = QLabel(text)
    label.setBuddy(widget)
    return label


def _column(*parts: QWidget | QHBoxLayout) -> QVBoxLayout:
    column = QVBoxLayout()
    column.setSpacing(3)
    for part in parts:
        if isinstance(part, QHBoxLayout):
            column.addLayout(part)
        else:
            column.addWidget(part)
    return column
