"""File → Encrypt journal…: a passphrase twice, a strength hint, "unlock at login", progress, and the honest note."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

SSD_NOTE = ("Mirror overwrites the old plaintext journal before removing it, but on an SSD or a copy-on-write "
            "file system (APFS, btrfs, ZFS) old blocks can survive until the drive reuses them, and backups made "
            "outside Mirror keep their words. Full-disk encryption covers those. If you forget the passphrase, "
            "no one can open the journal, Mirror included.")


def strength_hint(passphrase: str) -> str:
    """A rough hint, not a promise: length and variety count, words count most."""
    words = len(passphrase.split())
    kinds = sum(any(f(c) for c in passphrase) for f in (str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum()))
    if not passphrase:
        return ""
    if len(passphrase) < 10:
        return "Weak: use at least 10 characters, or a few words."
    if words >= 4 or len(passphrase) >= 20 or (len(passphrase) >= 14 and kinds >= 3):
        return "Strong."
    return "Fair: a few more words would make it much harder to guess."


class EncryptDialog(QDialog):
    """Signals:
        encrypt_requested(str, bool): (passphrase, keep in keychain) once both fields agree.
    """

    encrypt_requested = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Encrypt journal")
        self.setObjectName("encryptDialog")
        self.setMinimumWidth(480)
        lay = QVBoxLayout(self)
        intro = QLabel("Encrypt the journal, its search index, its drafts and its backups with a passphrase. "
                       "Mirror asks for it when the journal opens.")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        form = QFormLayout()
        self.first = QLineEdit()
        self.second = QLineEdit()
        for edit in (self.first, self.second):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.textChanged.connect(self._changed)
        form.addRow("Passphrase", self.first)
        form.addRow("Again", self.second)
        self.hint = QLabel("")
        self.hint.setObjectName("strengthHint")
        form.addRow("", self.hint)
        lay.addLayout(form)
        self.keep = QCheckBox("Keep the key in the keychain (unlock at login)")
        lay.addWidget(self.keep)
        note = QLabel(SSD_NOTE)
        note.setObjectName("ssdNote")
        note.setWordWrap(True)
        lay.addWidget(note)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.hide()
        lay.addWidget(self.progress)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.encrypt_button = self.buttons.addButton("Encrypt", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self._changed()

    def _changed(self) -> None:
        a, b = self.first.text(), self.second.text()
        self.hint.setText(strength_hint(a))
        ok = bool(a) and a == b
        self.encrypt_button.setEnabled(ok)
        self.status.setText("The two passphrases differ." if b and a != b else "")

    def _accept(self) -> None:
        if not self.encrypt_button.isEnabled():
            return
        for w in (self.first, self.second, self.keep, self.encrypt_button):
            w.setEnabled(False)
        self.progress.show()
        self.encrypt_requested.emit(self.first.text(), self.keep.isChecked())

    def set_progress(self, fraction: float, what: str) -> None:
        self.progress.setValue(int(fraction * 100))
        self.status.setText(what)

    def finished_with(self, sentence: str, ok: bool) -> None:
        self.progress.hide()
        self.status.setText(sentence)
        self.buttons.clear()
        self.buttons.addButton(QDialogButtonBox.StandardButton.Close if ok else QDialogButtonBox.StandardButton.Cancel)
        self.buttons.rejected.connect(self.accept if ok else self.reject)
