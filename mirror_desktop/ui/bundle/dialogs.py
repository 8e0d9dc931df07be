"""File → Export… and File → Import…: dialogs, progress with Cancel, and a summary (issue 5, item 5).

``BundleController`` is all the window needs: it remembers the last folder, asks for a passphrase
(with confirmation and a strength hint; optionally remembered in the OS keychain, or for this
session only when there is none), runs the work through workers.bundles.BundlesClient, and
reports counts or one sentence at the end. Widgets hold no business rules: they collect choices.
"""

from __future__ import annotations

import math
import string
from pathlib import Path
from typing import Any
from collections.abc import Callable

from PySide6.QtCore import QObject, QSettings, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup, QCheckBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
    QLineEdit, QMessageBox, QProgressDialog, QPushButton, QRadioButton, QVBoxLayout, QWidget,
)

from mirror_desktop.core.validation import MIN_PASSPHRASE_LENGTH
from mirror_desktop.ui.format import plural
from mirror_desktop.workers.bundles import BundlesClient, looks_encrypted, sentence
from mirror_desktop.workers.tasks import BackgroundTask

LAST_EXPORT_DIR = "bundle/last_export_dir"
LAST_IMPORT_DIR = "bundle/last_import_dir"


def passphrase_strength(text: str) -> tuple[int, str]:
    """(0..4, hint) from a rough entropy estimate; a hint, not a gate beyond the minimum length."""
    if not text:
        return 0, "Choose a passphrase: several unrelated words are strong and easy to remember."
    pools = [string.ascii_lowercase, string.ascii_uppercase, string.digits]
    size = sum(len(p) for p in pools if any(c in p for c in text))
    if any(not c.isascii() or c in string.punctuation or c == " " for c in text):
        size += 33
    bits = len(text) * math.log2(max(size, 2))
    words = len(text.split())
    if words >= 4:
        bits = max(bits, words * 11.0)
    if len(set(text)) <= 2:
        bits = min(bits, 10.0)
    if len(text) < MIN_PASSPHRASE_LENGTH:
        return 0, f"Too short: use at least {MIN_PASSPHRASE_LENGTH} characters."
    if bits < 40:
        return 1, "Weak: add more words or characters."
    if bits < 60:
        return 2, "Fair: one or two more words would make it strong."
    if bits < 80:
        return 3, "Strong."
    return 4, "Very strong."


def _folder_row(edit: QLineEdit, browse: Callable[[], None], parent: QWidget) -> QWidget:
    row = QWidget(parent)
    lay = QHBoxLayout(row)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(edit, 1)
    button = QPushButton("Browse…", row)
    button.clicked.connect(browse)
    lay.addWidget(button)
    return row


class PassphraseFields(QWidget):
    """Passphrase (+ confirmation), strength hint, and the remember option.

    Signals:
        validity_changed(bool): whether the fields hold a usable passphrase.
    """

    validity_changed = Signal(bool)

    def __init__(self, *, confirm: bool, has_keychain: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.confirm_needed = confirm
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.passphrase = QLineEdit(self)
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setObjectName("passphrase")
        form.addRow("Passphrase:", self.passphrase)
        self.confirm = QLineEdit(self)
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm.setObjectName("confirm")
        if confirm:
            form.addRow("Repeat:", self.confirm)
        else:
            self.confirm.hide()  # outside the form it sat at the top left, over the "Passphrase:" label
        self.hint = QLabel(self)
        self.hint.setWordWrap(True)
        # Room for the longest hint from the start: a hint growing from one line to two while typing made
        # the whole dialog jump under the person's cursor (issue 11).
        self.hint.setMinimumHeight(2 * self.hint.fontMetrics().lineSpacing())
        form.addRow("", self.hint)
        self.remember = QCheckBox(self)
        self.has_keychain = has_keychain
        self.remember.setText("Remember it in this computer's keychain" if has_keychain
                              else "No keychain is available here: remember it for this session only")
        form.addRow("", self.remember)
        self.passphrase.textChanged.connect(self._update)
        self.confirm.textChanged.connect(self._update)
        self._update()

    def text(self) -> str:
        return self.passphrase.text()

    def valid(self) -> bool:
        text = self.passphrase.text()
        if not self.confirm_needed:
            return bool(text)
        return len(text) >= MIN_PASSPHRASE_LENGTH and text == self.confirm.text()

    @Slot()
    def _update(self) -> None:
        if self.confirm_needed:
            score, hint = passphrase_strength(self.passphrase.text())
            if self.confirm.text() and self.confirm.text() != self.passphrase.text():
                hint = "The two passphrases differ."
            self.hint.setText(hint)
        self.validity_changed.emit(self.valid())


class ExportDialog(QDialog):
    """Where to export, encrypted or not, share-only or everything."""

    def __init__(self, folder: str, *, has_keychain: bool, remembered: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export journal")
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.folder = QLineEdit(folder, self)
        form.addRow("Folder:", _folder_row(self.folder, self._browse, self))
        lay.addLayout(form)
        self.encrypt = QCheckBox("Encrypt with a passphrase (recommended)", self)
        self.encrypt.setChecked(True)
        lay.addWidget(self.encrypt)
        self.fields = PassphraseFields(confirm=True, has_keychain=has_keychain, parent=self)
        if remembered:
            self.fields.passphrase.setText(remembered)
            self.fields.confirm.setText(remembered)
        lay.addWidget(self.fields)
        self.share = QCheckBox("Share copy: only what your visibility settings allow to leave this device", self)
        lay.addWidget(self.share)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.encrypt.toggled.connect(self._update)
        self.fields.validity_changed.connect(self._update)
        self.folder.textChanged.connect(self._update)
        self._update()

    @Slot()
    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Export into", self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    @Slot()
    def _update(self) -> None:
        self.fields.setEnabled(self.encrypt.isChecked())
        ok = bool(self.folder.text().strip()) and Path(self.folder.text()).expanduser().is_dir()
        ok = ok and (not self.encrypt.isChecked() or self.fields.valid())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def choices(self) -> dict[str, Any]:
        return {"folder": Path(self.folder.text()).expanduser(),
                "passphrase": self.fields.text() if self.encrypt.isChecked() else None,
                "share": self.share.isChecked(),
                "remember": self.encrypt.isChecked() and self.fields.remember.isChecked()}


class ImportDialog(QDialog):
    """Which bundle, merge or replace, and its passphrase when it is encrypted."""

    def __init__(self, folder: str, *, has_keychain: bool, remembered: str | None = None,
                 parent: QWidget | None = None, bundle: Path | None = None, mode: str = "merge",
                 problem: str = "", empty: bool = False) -> None:
        super().__init__(parent)
        self.setWindowTitle("Restore from a bundle" if empty else "Import bundle")
        self._folder = folder
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.file = QLineEdit(self)
        form.addRow("Bundle:", _folder_row(self.file, self._browse, self))
        lay.addLayout(form)
        self.merge = QRadioButton("Merge: add what is new, keep everything here (duplicates skipped)", self)
        self.replace = QRadioButton(
            "Restore: this journal holds nothing yet, so it becomes a copy of the bundle" if empty else
            "Replace: make this journal the bundle's (the current one is kept as a rollback file)", self)
        (self.replace if mode == "replace" else self.merge).setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.merge)
        group.addButton(self.replace)
        lay.addWidget(self.merge)
        lay.addWidget(self.replace)
        self.fields = PassphraseFields(confirm=False, has_keychain=has_keychain, parent=self)
        if remembered and not problem:
            self.fields.passphrase.setText(remembered)
        lay.addWidget(self.fields)
        # After a failed try (a wrong passphrase …) the dialog comes back with the file and the choice
        # kept and the reason above the buttons (issue 11: it closed and forgot the path).
        self.problem = QLabel(problem, self)
        self.problem.setObjectName("problem")
        self.problem.setWordWrap(True)
        self.problem.setVisible(bool(problem))
        lay.addWidget(self.problem)
        if bundle is not None:
            self.file.setText(str(bundle))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Import")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.file.textChanged.connect(self._update)
        self.fields.validity_changed.connect(self._update)
        self._update()

    @Slot()
    def _browse(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Import bundle", self._folder,
                                                "Mirror bundles (*.zip *.age);;All files (*)")
        if chosen:
            self.file.setText(chosen)

    def encrypted(self) -> bool:
        return looks_encrypted(Path(self.file.text()).expanduser())

    @Slot()
    def _update(self) -> None:
        path = Path(self.file.text()).expanduser()
        needs = self.encrypted()
        self.fields.setVisible(needs)
        ok = path.is_file() and (not needs or self.fields.valid())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def choices(self) -> dict[str, Any]:
        needs = self.encrypted()
        return {"bundle": Path(self.file.text()).expanduser(),
                "passphrase": self.fields.text() if needs else None,
                "mode": "replace" if self.replace.isChecked() else "merge",
                "remember": needs and self.fields.remember.isChecked()}


def export_summary(result: Any) -> str:
    c = result.record_counts
    kind = "encrypted" if result.encrypted else "unencrypted"
    share = " share copy" if result.sanitized else ""
    return (f"Exported an {kind}{share} bundle with {plural(c.get('reflections', 0), 'reflection')}, "
            f"{plural(c.get('tensions', 0), 'tension')} and {plural(c.get('threads', 0), 'thread')} "
            f"to {result.path}.")


def import_summary(result: Any) -> str:
    """The same words the CLI prints (ImportResult.summary: issue 11 found "Merged 27 new rows …" jargon)."""
    return str(result.summary())


class BundleController(QObject):
    """Glue between the File menu, the dialogs and the progress window; the work goes through BundlesClient.

    Signals:
        export_finished(object): payload is the ExportResult.
        import_finished(object): payload is the ImportResult; the journal changed, views should reload.
        bundle_failed(str): one sentence; nothing was changed.
    """

    export_finished = Signal(object)
    import_finished = Signal(object)
    bundle_failed = Signal(str)

    def __init__(self, window: QWidget | None, settings: QSettings, client: BundlesClient,
                 *, interactive: bool = True) -> None:
        super().__init__(window)
        self.window = window
        self.settings = settings
        self.client = client
        self.store = client.store
        self.runner = client.tasks
        self.interactive = interactive  # tests switch message boxes off
        self.progress: QProgressDialog | None = None
        self.job: BackgroundTask | None = None
        self._pending: dict[str, Any] = {}
        self._keychain = False
        self._empty = False  # a journal with nothing but its default tensions: an import restores it

    # -- export ----------------------------------------------------------------------------
    @Slot()
    def export_requested(self) -> None:
        self.client.probe_keychain(self._open_export_dialog)

    def _open_export_dialog(self, has_keychain: bool, remembered: str | None) -> None:
        folder = str(self.settings.value(LAST_EXPORT_DIR, str(Path.home())))
        dlg = ExportDialog(folder, has_keychain=has_keychain, remembered=remembered, parent=self.window)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        self.start_export(**dlg.choices())

    def start_export(self, folder: Path, passphrase: str | None, share: bool = False,
                     remember: bool = False) -> BackgroundTask:
        self.settings.setValue(LAST_EXPORT_DIR, str(folder))
        if remember and passphrase:
            self.client.remember(passphrase)
        return self._run(lambda wire: self.client.export(folder, passphrase=passphrase, share=share, connect=wire),
                         "Exporting…", self._exported)

    @Slot(object)
    def _exported(self, result: Any) -> None:
        self._close_progress()
        self.export_finished.emit(result)
        self._inform("Export finished", export_summary(result))

    # -- import ----------------------------------------------------------------------------
    @Slot()
    def import_requested(self) -> None:
        def empty_known(empty: bool) -> None:
            self._empty = empty
            self.client.probe_keychain(self._open_import_dialog)

        self.client.journal_is_empty(empty_known)

    def _open_import_dialog(self, has_keychain: bool, remembered: str | None, problem: str = "") -> None:
        folder = str(self.settings.value(LAST_IMPORT_DIR, str(Path.home())))
        last = self._pending.get("import") or {}
        self._keychain = has_keychain
        mode = last.get("mode", "merge") if problem else ("replace" if self._empty else "merge")
        dlg = ImportDialog(folder, has_keychain=has_keychain, remembered=remembered, parent=self.window,
                           bundle=last.get("bundle") if problem else None, mode=mode, problem=problem,
                           empty=self._empty)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        self.start_import(**dlg.choices())

    def start_import(self, bundle: Path, passphrase: str | None, mode: str = "merge",
                     remember: bool = False, allow_slow_passphrase: bool = False) -> BackgroundTask:
        self.settings.setValue(LAST_IMPORT_DIR, str(Path(bundle).parent))
        if remember and passphrase:
            self.client.remember(passphrase)
        self._pending["mode"] = mode
        self._pending["import"] = {"bundle": Path(bundle), "mode": mode, "preparing": True, "passphrase": passphrase}
        return self._run(lambda wire: self.client.prepare_import(Path(bundle), passphrase=passphrase, connect=wire,
                                                                 allow_slow_passphrase=allow_slow_passphrase),
                         "Importing…", self._prepared)

    @Slot(object)
    def _prepared(self, prepared: Any) -> None:
        self._pending.get("import", {})["preparing"] = False
        # Checks passed and the staged journal is ready; the swap or merge runs on the executor,
        # after every job already queued there (typing is saved first).
        if self.progress is not None:
            self.progress.setLabelText("Finishing…")
            self.progress.setCancelButton(None)  # past the point where cancelling helps
        self.client.commit_import(prepared, self._pending.get("mode", "merge"), self._imported, self._failed)

    def _imported(self, result: Any) -> None:
        self._close_progress()
        self.import_finished.emit(result)
        self._inform("Import finished", import_summary(result))

    # -- shared ----------------------------------------------------------------------------
    def _run(self, start: Callable[[Callable[[BackgroundTask], None]], BackgroundTask], label: str,
             on_finished: Callable[[Any], None]) -> BackgroundTask:
        if self.interactive:
            self.progress = QProgressDialog(label, "Cancel", 0, 100, self.window)
            self.progress.setWindowModality(Qt.WindowModality.WindowModal)
            self.progress.setMinimumDuration(300)

        def wire(job: BackgroundTask) -> None:
            if self.progress is not None:
                # Direct: the job's thread runs the task without an event loop, so a queued call would
                # arrive only after the task ended; cancel() only sets a threading.Event.
                self.progress.canceled.connect(job.cancel, Qt.ConnectionType.DirectConnection)
                job.progress_changed.connect(self._progress_changed)
            job.finished.connect(on_finished)
            job.failed.connect(self._failed)
            job.cancelled.connect(self._cancelled)

        self.job = start(wire)
        return self.job

    @Slot(int, str)
    def _progress_changed(self, percent: int, message: str) -> None:
        if self.progress is not None:
            self.progress.setValue(percent)
            if message:
                self.progress.setLabelText(message + "…")

    @Slot(object)
    def _failed(self, exc: BaseException) -> None:
        text = sentence(exc)
        self._close_progress()
        self.bundle_failed.emit(text)
        last = self._pending.get("import") or {}
        slow = getattr(exc, "log2_n", None)  # SlowPassphraseCheck: more scrypt work than Mirror's own bundles ask
        if slow is not None and last.get("preparing") and self.ask_slow_passphrase(text):
            last["preparing"] = False
            self.start_import(last["bundle"], last.get("passphrase"), last["mode"], allow_slow_passphrase=True)
            return
        if self.interactive and last.get("preparing"):
            # Nothing was changed yet: ask again with the same file and choice, the reason shown in the dialog.
            last["preparing"] = False
            self._open_import_dialog(self._keychain, None, problem=text)
        elif self.interactive:
            QMessageBox.warning(self.window, "Mirror", text)

    def ask_slow_passphrase(self, sentence: str) -> bool:
        """The bundle's passphrase check costs more than Mirror's own (issue 11): open it only on a yes."""
        if not self.interactive:
            return False
        answer = QMessageBox.question(self.window, "A slow passphrase check",
                                      f"{sentence}\n\nOpen it anyway?",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    @Slot()
    def _cancelled(self) -> None:
        self._pending.get("import", {})["preparing"] = False
        self._close_progress()

    def _close_progress(self) -> None:
        if self.progress is not None:
            self.progress.reset()
            self.progress.deleteLater()
            self.progress = None

    def _inform(self, title: str, text: str) -> None:
        if self.interactive:
            QMessageBox.information(self.window, title, text)

    def shutdown(self) -> None:
        """Cancel running jobs and wait for their threads (call before the executor shuts down)."""
        self.client.shutdown()
