"""File → Import from another app…: pick the app, the file or folder and the identity; see the dry run's
report first, then Import, with progress and Cancel (issue 15, item 5).

The dialog only collects choices and shows what the ImportingClient (workers/importing.py) reports:
the dry run runs on the executor's background lane and writes nothing; Import is enabled once a dry
run of exactly these choices found something to import. Cancel stops a running import, which then
rolls back whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox, QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit,
    QProgressBar, QPushButton, QVBoxLayout, QWidget,
)

from mirror_desktop.core import models as m
from mirror_desktop.core.importing import ImportReport
from mirror_desktop.ui.theme import named
from mirror_desktop.workers.base import sentence
from mirror_desktop.workers.importing import ImportingClient
from mirror_desktop.workers.tasks import BackgroundTask

APPS = (
    ("dayone", "Day One", "Day One's JSON export: the .zip it writes, or the folder it unpacks to"),
    ("jrnl", "jrnl", "jrnl's journal file (plain text), or what jrnl --export json wrote"),
    ("obsidian", "Obsidian / Markdown folder", "a vault or any folder of Markdown notes, read once"),
    ("rednotebook", "RedNotebook", "RedNotebook's data folder (2024-09.txt …) or a backup .zip"),
)


class ImportFromAppDialog(QDialog):
    """The import window.

    Signals:
        report_shown(object): a dry run or an import finished; payload is its ImportReport.
        failed(str): the dry run or the import was refused; payload is the one sentence shown.
    """

    report_shown = Signal(object)
    failed = Signal(str)

    def __init__(self, client: ImportingClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.task: BackgroundTask | None = None
        self.checked: tuple[Any, ...] | None = None  # the choices the last good dry run was made with
        self.running_dry = False
        self.setWindowTitle("Import from another app")
        self.resize(640, 480)
        lay = QVBoxLayout(self)
        intro = named(QLabel("Bring entries written in another journaling app. Each becomes a reflection on "
                             "its own date, kept on this computer only (local only). Importing the same file "
                             "again adds nothing."), "muted")
        intro.setWordWrap(True)
        lay.addWidget(intro)

        form = QFormLayout()
        self.app = QComboBox()
        for key, name, _hint in APPS:
            self.app.addItem(name, key)
        form.addRow("From", self.app)
        self.hint = named(QLabel(""), "muted")
        self.hint.setWordWrap(True)
        form.addRow("", self.hint)
        self.path = QLineEdit()
        self.path.setPlaceholderText("The export, journal file or folder")
        self.path.setClearButtonEnabled(True)
        row = QWidget()
        row_lay = QHBoxLayout(row)
        row_lay.setContentsMargins(0, 0, 0, 0)
        row_lay.addWidget(self.path, 1)
        self.file_button = QPushButton("File…")
        self.folder_button = QPushButton("Folder…")
        row_lay.addWidget(self.file_button)
        row_lay.addWidget(self.folder_button)
        form.addRow("File or folder", row)
        self.identity = QComboBox()
        self.identity.addItem("Anonymous", None)
        self.identity.setToolTip("Whose entries these are: they belong to that identity in Mirror")
        form.addRow("Belongs to", self.identity)
        self.time_format = QLineEdit()
        self.time_format.setPlaceholderText("Found on its own (jrnl's timeformat, e.g. %d.%m.%Y %H:%M)")
        self.time_format_label = QLabel("Time format")
        form.addRow(self.time_format_label, self.time_format)
        lay.addLayout(form)

        self.report = named(QPlainTextEdit(), "importReport")
        self.report.setReadOnly(True)
        self.report.setPlaceholderText("Check shows what would be imported, skipped and already present, "
                                       "before anything is written.")
        lay.addWidget(self.report, 1)
        self.status = named(QLabel(""), "muted")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        lay.addWidget(self.status)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.hide()
        lay.addWidget(self.progress)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.check_button = QPushButton("Check")
        self.check_button.setToolTip("A dry run: read everything and show the report, writing nothing")
        self.import_button = QPushButton("Import")
        self.import_button.setDefault(True)
        self.cancel_button = QPushButton("Close")
        for b in (self.check_button, self.import_button, self.cancel_button):
            buttons.addWidget(b)
        lay.addLayout(buttons)

        self.app.currentIndexChanged.connect(self._app_changed)
        for sig in (self.path.textChanged, self.time_format.textChanged):
            sig.connect(self._choices_changed)
        self.identity.currentIndexChanged.connect(self._choices_changed)
        self.file_button.clicked.connect(self._choose_file)
        self.folder_button.clicked.connect(self._choose_folder)
        self.check_button.clicked.connect(self.check)
        self.import_button.clicked.connect(self.start_import)
        self.cancel_button.clicked.connect(self.cancel_or_close)
        self._app_changed()
        self.client.identities(self._identities_loaded, lambda _exc: None)

    # -- choices -----------------------------------------------------------------------------
    def set_identities(self, identities: list[m.Identity]) -> None:
        current = self.identity.currentData()
        self.identity.blockSignals(True)
        self.identity.clear()
        self.identity.addItem("Anonymous", None)
        for ident in identities:
            self.identity.addItem(ident.name, ident.id)
        self.identity.setCurrentIndex(max(self.identity.findData(current), 0))
        self.identity.blockSignals(False)

    @Slot(object)
    def _identities_loaded(self, identities: list[m.Identity]) -> None:
        self.set_identities(identities)

    def choices(self) -> tuple[str, str, str | None, str]:
        return (str(self.app.currentData()), self.path.text().strip(), self.identity.currentData(),
                self.time_format.text().strip())

    def _app_changed(self) -> None:
        key = self.app.currentData()
        self.hint.setText(next(h for k, _n, h in APPS if k == key))
        jrnl = key == "jrnl"
        self.time_format.setVisible(jrnl)
        self.time_format_label.setVisible(jrnl)
        self._choices_changed()

    def _choices_changed(self) -> None:
        if self.task is None:
            self._update_buttons()

    def _update_buttons(self) -> None:
        busy = self.task is not None
        has_path = bool(self.path.text().strip())
        for w in (self.app, self.path, self.identity, self.time_format, self.file_button, self.folder_button):
            w.setEnabled(not busy)
        self.check_button.setEnabled(not busy and has_path)
        self.import_button.setEnabled(not busy and self.checked is not None and self.checked == self.choices())
        self.cancel_button.setText("Cancel" if busy else "Close")

    def _choose_file(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Choose the export or journal file", self.path.text())
        if chosen:
            self.path.setText(chosen)

    def _choose_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Choose the export, vault or data folder", self.path.text())
        if chosen:
            self.path.setText(chosen)

    # -- running -----------------------------------------------------------------------------
    def check(self) -> None:
        """The dry run: the report of what would happen, nothing written."""
        self._run(dry_run=True)

    def start_import(self) -> None:
        if self.checked is None or self.checked != self.choices():
            return
        self._run(dry_run=False)

    def _run(self, *, dry_run: bool) -> None:
        if self.task is not None:
            return
        app, path, identity_id, time_format = self.choices()
        if not path:
            return
        self.running_dry = dry_run
        self.checked = None if dry_run else self.checked
        self.status.setText("Reading…" if dry_run else "Importing…")
        self.progress.setValue(0)
        self.progress.show()
        self.task = self.client.start(app, Path(path), identity_id=identity_id, time_format=time_format or None,
                                      dry_run=dry_run, connect=self._wire)
        self._update_buttons()

    def _wire(self, task: BackgroundTask) -> None:
        task.progress_changed.connect(self._progressed)
        task.finished.connect(self._finished)
        task.failed.connect(self._failed)
        task.cancelled.connect(self._cancelled)

    @Slot(int, str)
    def _progressed(self, percent: int, message: str) -> None:
        self.progress.setValue(percent)
        if message:
            self.status.setText(message + "…" if message != "Done" else message)

    @Slot(object)
    def _finished(self, report: ImportReport) -> None:
        dry = self.running_dry
        self.task = None
        self.progress.hide()
        self.report.setPlainText("\n".join(report.lines()))
        if dry:
            self.checked = self.choices() if report.imported else None
            self.status.setText("Nothing was written. Press Import to import these entries." if report.imported
                                else "There is nothing new to import.")
        else:
            self.checked = None
            self.status.setText("Done. The entries are in your journal.")
        self._update_buttons()
        self.report_shown.emit(report)

    @Slot(object)
    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self.progress.hide()
        self.checked = None
        text = sentence(exc)
        self.report.setPlainText("")
        self.status.setText(text)
        self._update_buttons()
        self.failed.emit(text)

    @Slot()
    def _cancelled(self) -> None:
        self.task = None
        self.progress.hide()
        self.status.setText("Cancelled; nothing was imported.")
        self._update_buttons()

    def cancel_or_close(self) -> None:
        if self.task is not None:
            self.status.setText("Stopping…")
            self.task.cancel()
            return
        self.reject()

    def reject(self) -> None:
        if self.task is not None:
            self.task.cancel()  # the import rolls back; its thread ends on its own
        super().reject()
