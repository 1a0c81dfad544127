"""The settings dialog's "Export" page: where exports go and as what (folder, format, quality,
file name template), the listing label (text, corner, size, the originals' address, QR code),
and provenance (the JSON sidecar by default, the C2PA certificate chain and private key with a
Test that signs a small image and verifies it).

The key stays the user's file: the page keeps its path, never its contents. Saved with the
rest of `Settings.general` by the dialog.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpacerItem,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.config import Settings
from desktop.core.exports.composites import (
    CORNERS,
    MAX_LABEL_CHARS,
    MAX_LABEL_SIZE,
    MIN_LABEL_SIZE,
)
from desktop.core.exports.naming import Template, known_fields
from desktop.core.model import InvalidInput
from desktop.export_setup import C2paTest, original_url, test_c2pa
from desktop.general_settings import (
    C2PA_CERT,
    C2PA_KEY,
    CORNER_LABELS,
    EXPORT_DIR,
    EXPORT_FORMAT,
    EXPORT_FORMAT_LABELS,
    EXPORT_FORMATS,
    EXPORT_QUALITY,
    EXPORT_SIDECAR,
    EXPORT_TEMPLATE,
    LISTING_CORNER,
    LISTING_LABEL,
    LISTING_QR,
    LISTING_SIZE,
    LISTING_URL,
    LOSSY_FORMATS,
    MAX_EXPORT_QUALITY,
    MIN_EXPORT_QUALITY,
    general_setting,
)
from desktop.ui.tasks import TaskSet

_OK = "color: #2e9d44;"
_BAD = "color: #d23c32;"


def _section(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    font = QFont(label.font())
    font.setBold(True)
    label.setFont(font)
    return label


def _note(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    # Text at the top: a form row sized for a narrower width leaves its spare height below the
    # note, not between the note and the field it explains.
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setStyleSheet("color: palette(placeholder-text);")
    return label


def _column(*parts: QWidget | QHBoxLayout) -> QVBoxLayout:
    column = QVBoxLayout()
    column.setSpacing(2)
    for part in parts:
        if isinstance(part, QHBoxLayout):
            column.addLayout(part)
        else:
            column.addWidget(part)
    return column


class ExportSettingsPage(QScrollArea):
    """Export defaults; scrolls on a small screen."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("exportSettingsPage")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._tasks = TaskSet("Export settings")
        self._chooser: QFileDialog | None = None
        body = QWidget(self)
        self.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 8, 0)
        heading = QLabel("Export", body)
        font = QFont(heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        heading.setFont(font)
        layout.addWidget(heading)

        def setting(name: str) -> Any:
            return general_setting(settings, name)

        # One form for every section, so the fields line up under each other.
        form = QFormLayout()
        # Every field grows: a word-wrapped note as narrow as its minimum would be a column.
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        layout.addLayout(form)
        files = listing = c2pa = form
        self.export_dir = QLineEdit(str(setting(EXPORT_DIR)), body)
        self.export_dir.setObjectName("exportDirField")
        self.export_dir.setAccessibleName("Default export folder")
        self.browse_button = QPushButton("Browse…", body)
        self.browse_button.setObjectName("exportDirBrowse")
        self.browse_button.setAccessibleName("Choose the default export folder")
        self.browse_button.clicked.connect(
            lambda: self._choose(self.export_dir, "Choose the default export folder",
                                 folder=True))
        row = QHBoxLayout()
        row.addWidget(self.export_dir, 1)
        row.addWidget(self.browse_button)
        files.addRow(self._label("Export &folder:", self.export_dir), row)

        self.export_format = QComboBox(body)
        self.export_format.setObjectName("exportFormatCombo")
        self.export_format.setAccessibleName("Default export format")
        for fmt in EXPORT_FORMATS:
            self.export_format.addItem(EXPORT_FORMAT_LABELS[fmt], fmt)
        self.export_format.setCurrentIndex(EXPORT_FORMATS.index(setting(EXPORT_FORMAT)))
        self.export_quality = QSpinBox(body)
        self.export_quality.setObjectName("exportQualitySpin")
        self.export_quality.setAccessibleName("Export quality for JPEG and WebP")
        self.export_quality.setRange(MIN_EXPORT_QUALITY, MAX_EXPORT_QUALITY)
        self.export_quality.setValue(int(setting(EXPORT_QUALITY)))
        self.export_quality.setSuffix(" %")
        self.export_quality.setToolTip("JPEG and WebP quality, 1 (smallest) to 100 (best). "
                                       "PNG is lossless and ignores it.")
        fmt_row = QHBoxLayout()
        fmt_row.addWidget(self.export_format)
        quality_label = self._label("&Quality (JPEG, WebP):", self.export_quality)
        fmt_row.addSpacing(12)
        fmt_row.addWidget(quality_label)
        fmt_row.addWidget(self.export_quality)
        fmt_row.addStretch(1)
        files.addRow(self._label("F&ormat:", self.export_format), fmt_row)
        self.export_format.currentIndexChanged.connect(self._format_changed)
        self._format_changed()

        self.template = QLineEdit(str(setting(EXPORT_TEMPLATE)), body)
        self.template.setObjectName("exportTemplateField")
        self.template.setAccessibleName("Default file name template")
        self.template.setToolTip("Fields: " + known_fields() + ". A / makes subfolders.")
        self.template_note = _note("", body)
        self.template_note.setObjectName("exportTemplateNote")
        self.template.textChanged.connect(self._template_changed)
        files.addRow(self._label("File &names:", self.template),
                     _column(self.template, self.template_note))
        self._template_changed()

        # -- the listing label -------------------------------------------------------------
        form.addItem(QSpacerItem(0, 6))
        form.addRow(_section("Listing label (Export for listing)", body))
        self.label_text = QLineEdit(str(setting(LISTING_LABEL)), body)
        self.label_text.setObjectName("listingLabelField")
        self.label_text.setAccessibleName("Listing label text")
        self.label_text.setMaxLength(MAX_LABEL_CHARS)
        listing.addRow(self._label("&Label:", self.label_text), self.label_text)
        self.corner = QComboBox(body)
        self.corner.setObjectName("listingCornerCombo")
        self.corner.setAccessibleName("Listing label corner")
        for corner in CORNERS:
            self.corner.addItem(CORNER_LABELS[corner], corner)
        self.corner.setCurrentIndex(CORNERS.index(str(setting(LISTING_CORNER))))
        self.label_size = QDoubleSpinBox(body)
        self.label_size.setObjectName("listingSizeSpin")
        self.label_size.setAccessibleName("Listing label size, percent of the photo's "
                                          "shorter side")
        self.label_size.setRange(MIN_LABEL_SIZE * 100, MAX_LABEL_SIZE * 100)
        self.label_size.setDecimals(1)
        self.label_size.setSingleStep(0.5)
        self.label_size.setSuffix(" % of the shorter side")
        self.label_size.setValue(float(setting(LISTING_SIZE)))
        place = QHBoxLayout()
        place.addWidget(self.corner)
        place.addSpacing(12)
        place.addWidget(self._label("Si&ze:", self.label_size))
        place.addWidget(self.label_size)
        place.addStretch(1)
        listing.addRow(self._label("Co&rner:", self.corner), place)
        self.url = QLineEdit(str(setting(LISTING_URL)), body)
        self.url.setObjectName("listingUrlField")
        self.url.setAccessibleName("Address where the originals are published")
        self.url.setPlaceholderText("https://photos.example.com/{folder}")
        self.url_note = _note("", body)
        self.url_note.setObjectName("listingUrlNote")
        self.url.textChanged.connect(self._url_changed)
        self.qr = QCheckBox("Add a QR code of the address", body)
        self.qr.setObjectName("listingQrCheck")
        self.qr.setAccessibleName("Add a QR code of the originals' address to the label")
        self.qr.setChecked(bool(setting(LISTING_QR)))
        listing.addRow(self._label("&Originals at:", self.url),
                       _column(self.url, self.url_note, self.qr))
        self._url_changed()

        # -- provenance --------------------------------------------------------------------
        form.addItem(QSpacerItem(0, 6))
        form.addRow(_section("Provenance", body))
        form.addRow(_note("Every exported image carries what made it (provider, task, "
                          "settings, date, the IPTC digital source type) in its own "
                          "metadata.", body))
        self.sidecar = QCheckBox("Write a JSON sidecar beside each image by default", body)
        self.sidecar.setObjectName("exportSidecarCheck")
        self.sidecar.setAccessibleName("Write a JSON sidecar by default")
        self.sidecar.setChecked(bool(setting(EXPORT_SIDECAR)))
        form.addRow(self.sidecar)
        self.cert = QLineEdit(str(setting(C2PA_CERT)), body)
        self.cert.setObjectName("c2paCertField")
        self.cert.setAccessibleName("C2PA certificate chain, a PEM file")
        self.cert.setPlaceholderText("chain.pem: your certificate, then its CA's")
        self.key = QLineEdit(str(setting(C2PA_KEY)), body)
        self.key.setObjectName("c2paKeyField")
        self.key.setAccessibleName("C2PA private key, a PEM file")
        self.key.setPlaceholderText("key.pem: the certificate's private key, unencrypted")
        for field, name, title in ((self.cert, "c2paCertBrowse", "certificate chain"),
                                   (self.key, "c2paKeyBrowse", "private key")):
            button = QPushButton("Browse…", body)
            button.setObjectName(name)
            button.setAccessibleName(f"Choose the C2PA {title} file")
            button.clicked.connect(lambda _c=False, f=field, t=title: self._choose(
                f, f"Choose the C2PA {t} (PEM)", folder=False))
            row = QHBoxLayout()
            row.addWidget(field, 1)
            row.addWidget(button)
            label = "C2PA &certificate:" if field is self.cert else "C2PA private &key:"
            c2pa.addRow(self._label(label, field), row)
        self.test_button = QPushButton("Test", body)
        self.test_button.setObjectName("c2paTestButton")
        self.test_button.setAccessibleName("Test C2PA signing: sign a small image and "
                                           "verify it")
        self.test_button.clicked.connect(lambda: self._tasks.spawn(self.test()))
        self.test_busy = QProgressBar(body)
        self.test_busy.setRange(0, 0)
        self.test_busy.setTextVisible(False)
        self.test_busy.setFixedWidth(90)
        self.test_busy.hide()
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_busy)
        test_row.addStretch(1)
        self.test_result = QLabel("", body)
        self.test_result.setObjectName("c2paTestResult")
        self.test_result.setWordWrap(True)
        self.test_result.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        c2pa.addRow("", _column(test_row, self.test_result))
        layout.addWidget(_note("C2PA signs each export with your certificate (an S/MIME or "
                               "document-signing certificate from a certificate authority). "
                               "Restyle keeps only the two files' paths; the key stays in "
                               "your file.", body))
        layout.addStretch(1)

    def _label(self, text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text, self.widget())
        label.setBuddy(buddy)
        return label

    # -- live notes --------------------------------------------------------------------------
    def _format_changed(self) -> None:
        self.export_quality.setEnabled(self.export_format.currentData() in LOSSY_FORMATS)

    def _template_changed(self) -> None:
        problem = self.template_problem()
        if problem:
            self.template_note.setText(problem)
            self.template_note.setStyleSheet(_BAD)
        else:
            self.template_note.setText("Fields: " + known_fields() + "; / makes subfolders.")
            self.template_note.setStyleSheet("color: palette(placeholder-text);")

    def _url_changed(self) -> None:
        problem = self.url_problem()
        if problem:
            self.url_note.setText(problem)
            self.url_note.setStyleSheet(_BAD)
            return
        text = self.url.text().strip()
        example = original_url(text, Path("Listing 14")) if text else ""
        self.url_note.setText(
            f"Printed on each staged photo; exporting into “Listing 14” gives {example}"
            if example else "Where the unaltered originals will be published, printed on "
            "each staged photo. {folder} becomes the export folder's name, {date} today.")
        self.url_note.setStyleSheet("color: palette(placeholder-text);")

    def template_problem(self) -> str | None:
        try:
            Template.parse(self.template.text())
        except InvalidInput as exc:
            return str(exc)
        return None

    def url_problem(self) -> str | None:
        try:
            original_url(self.url.text(), Path("Listing 14"))
        except InvalidInput as exc:
            return str(exc)
        return None

    # -- choosing files ----------------------------------------------------------------------
    def _choose(self, field: QLineEdit, title: str, *, folder: bool) -> None:
        # open(), never exec(): a nested event loop would stall the qasync loop.
        start = field.text().strip()
        chooser = QFileDialog(self, title, str(Path(start).expanduser().parent) if start
                              and not folder else start)
        if folder:
            chooser.setFileMode(QFileDialog.FileMode.Directory)
            chooser.setOption(QFileDialog.Option.ShowDirsOnly, True)
        else:
            chooser.setFileMode(QFileDialog.FileMode.ExistingFile)
            chooser.setNameFilters(["PEM files (*.pem *.crt *.cer *.key)", "All files (*)"])
        chooser.fileSelected.connect(field.setText)
        chooser.finished.connect(chooser.deleteLater)
        self._chooser = chooser
        chooser.open()

    # -- the C2PA test -----------------------------------------------------------------------
    async def test(self) -> C2paTest:
        """Sign a small image with the files typed now (nothing is saved) and verify it."""
        cert, key = self.cert.text().strip(), self.key.text().strip()
        if not cert or not key:
            result = C2paTest(False, "Choose both the certificate chain and the private key "
                                     "(PEM files), then test.")
        else:
            self.test_button.setEnabled(False)
            self.test_busy.show()
            self.test_result.setStyleSheet("")
            self.test_result.setText("Signing and verifying a test image…")
            try:
                result = await asyncio.to_thread(test_c2pa, Path(cert), Path(key))
            finally:
                self.test_button.setEnabled(True)
                self.test_busy.hide()
        self.test_result.setText(("✓ " if result.ok else "✗ ") + result.message)
        self.test_result.setStyleSheet(_OK if result.ok else _BAD)
        self.test_result.setProperty("ok", result.ok)
        return result

    def cancel_tasks(self) -> None:
        self._tasks.cancel_all()

    # -- values ------------------------------------------------------------------------------
    def problem(self) -> tuple[str, QWidget] | None:
        """The first thing wrong (the folder is checked by the dialog, in a worker)."""
        if problem := self.template_problem():
            return problem, self.template
        if not self.label_text.text().strip():
            return ("The listing label's text is empty; write what it must say, such as "
                    "'Virtually staged'.", self.label_text)
        if problem := self.url_problem():
            return problem, self.url
        if bool(self.cert.text().strip()) != bool(self.key.text().strip()):
            missing = self.key if self.cert.text().strip() else self.cert
            return ("C2PA signing needs both files: the certificate chain and its private "
                    "key. Choose the other one, or clear both.", missing)
        return None

    def values(self) -> dict[str, Any]:
        return {
            EXPORT_DIR: self.export_dir.text().strip(),
            EXPORT_FORMAT: self.export_format.currentData(),
            EXPORT_QUALITY: self.export_quality.value(),
            EXPORT_TEMPLATE: self.template.text(),
            LISTING_LABEL: " ".join(self.label_text.text().split()),
            LISTING_CORNER: self.corner.currentData(),
            LISTING_SIZE: round(self.label_size.value(), 1),
            LISTING_URL: self.url.text().strip(),
            LISTING_QR: self.qr.isChecked(),
            EXPORT_SIDECAR: self.sidecar.isChecked(),
            C2PA_CERT: self.cert.text().strip(),
            C2PA_KEY: self.key.text().strip(),
        }
