"""ExportAsDialog: choose a format, a folder, an identity and a date range; the export runs off the GUI
thread (workers/exporting.py) with progress and Cancel, and ends in one sentence.

The rules (an empty or new folder, the range, one identity) are the export's own (exports/common.py):
the dialog only collects choices and shows the sentence a refusal carries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QSettings, Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDateEdit, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
    QLineEdit, QProgressBar, QPushButton, QVBoxLayout, QWidget,
)

from mirror_desktop.core import models as m
from mirror_desktop.core.errors import MirrorError
from mirror_desktop.workers.exporting import ExportsClient
from mirror_desktop.workers.tasks import BackgroundTask

LAST_FOLDER = "exporting/last_folder"
FORMATS = (("markdown", "Markdown folder (opens in Obsidian)"), ("pdf", "PDF book (printable)"),
           ("html", "One web page (HTML)"), ("json", "Day One (JSON)"))


def _sentence(exc: BaseException) -> str:
    if isinstance(exc, MirrorError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc} ({exc.filename or 'the folder'}); check the folder and the free space."
    return "The export failed unexpectedly; what it had written was removed. Please try again."


class ExportAsDialog(QDialog):
    """File → Export as…. ``identities`` fill the identity choice (Anonymous is always there)."""

    def __init__(self, client: ExportsClient, identities: list[m.Identity], settings: QSettings | None = None,
                 current_identity: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export as")
        self.client, self.settings = client, settings
        self.job: BackgroundTask | None = None
        self.result: Any = None
        lay = QVBoxLayout(self)
        intro = QLabel("Write one identity's reflections in another format, to take them anywhere. "
                       "Choose a new or empty folder.")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        form = QFormLayout()
        self.format_combo = QComboBox()
        for key, label in FORMATS:
            self.format_combo.addItem(label, key)
        form.addRow("Format", self.format_combo)
        self.folder_edit = QLineEdit(str(settings.value(LAST_FOLDER, "")) if settings is not None else "")
        self.folder_edit.setPlaceholderText("A new or empty folder")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        row = QWidget()
        rl = QHBoxLayout(row)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.folder_edit, 1)
        rl.addWidget(browse)
        form.addRow("Folder", row)
        self.identity_combo = QComboBox()
        for ident in sorted(identities, key=lambda i: i.name.lower()):
            self.identity_combo.addItem(ident.name, ident.id)
        self.identity_combo.addItem("Anonymous", "Anonymous")
        i = self.identity_combo.findData(current_identity) if current_identity else -1
        self.identity_combo.setCurrentIndex(max(i, 0))
        form.addRow("Identity", self.identity_combo)
        today = QDate.currentDate()
        self.since_check = QCheckBox("From")
        self.since_edit = QDateEdit(today.addYears(-1))
        self.until_check = QCheckBox("Until")
        self.until_edit = QDateEdit(today)
        for check, edit in ((self.since_check, self.since_edit), (self.until_check, self.until_edit)):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setEnabled(False)
            check.toggled.connect(edit.setEnabled)
        dates = QWidget()
        dl = QHBoxLayout(dates)
        dl.setContentsMargins(0, 0, 0, 0)
        for w in (self.since_check, self.since_edit, self.until_check, self.until_edit):
            dl.addWidget(w)
        dl.addStretch(1)
        form.addRow("Dates", dates)
        lay.addLayout(form)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.hide()
        lay.addWidget(self.progress)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.status)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton("Cancel export", QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button.hide()
        self.export_button.clicked.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.resize(560, self.sizeHint().height())

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export into", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def request(self) -> tuple[str, Path, str, Any, Any]:
        """(format, folder, identity id or "Anonymous", since, until) as the export takes them."""
        since = self.since_edit.date().toPython() if self.since_check.isChecked() else None
        until = self.until_edit.date().toPython() if self.until_check.isChecked() else None
        return (str(self.format_combo.currentData()), Path(self.folder_edit.text().strip()).expanduser(),
                str(self.identity_combo.currentData()), since, until)

    @Slot()
    def start(self) -> None:
        if not self.folder_edit.text().strip():
            self.status.setText("Choose the folder to export into: a new or empty one.")
            return
        req = self.request()
        if self.settings is not None:
            self.settings.setValue(LAST_FOLDER, self.folder_edit.text().strip())
        self.result = None
        self._busy(True)
        self.status.setText("Exporting…")

        def wire(job: BackgroundTask) -> None:
            # Direct: the task's thread has no event loop; cancel() only sets a threading.Event.
            self.cancel_button.clicked.connect(job.cancel, Qt.ConnectionType.DirectConnection)
            job.progress_changed.connect(self._progress)
            job.finished.connect(self._finished)
            job.failed.connect(self._failed)
            job.cancelled.connect(self._cancelled)

        self.job = self.client.export(*req, connect=wire)

    def _busy(self, on: bool) -> None:
        for w in (self.format_combo, self.folder_edit, self.identity_combo, self.since_check, self.until_check,
                  self.export_button):
            w.setEnabled(not on)
        self.since_edit.setEnabled(not on and self.since_check.isChecked())
        self.until_edit.setEnabled(not on and self.until_check.isChecked())
        self.cancel_button.setVisible(on)
        self.progress.setVisible(on)
        if on:
            self.progress.setValue(0)

    @Slot(int, str)
    def _progress(self, percent: int, message: str) -> None:
        self.progress.setValue(percent)
        if message:
            self.status.setText(message + "…")

    @Slot(object)
    def _finished(self, result: Any) -> None:
        self.result = result
        self._busy(False)
        self.status.setText(result.sentence())

    @Slot(object)
    def _failed(self, exc: BaseException) -> None:
        self._busy(False)
        self.status.setText(_sentence(exc))

    @Slot()
    def _cancelled(self) -> None:
        self._busy(False)
        self.status.setText("Export cancelled; what it had written was removed.")

    def reject(self) -> None:
        if self.job is not None and self.client.busy:
            self.job.cancel()
        super().reject()
