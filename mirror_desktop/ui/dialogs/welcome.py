"""WelcomeDialog: the first run says where the journal lives and that nothing leaves without consent.

Shown once, when a journal has no identities and no reflections (issue 7, item 4). It asks for the
name of the first identity and returns it; creating the identity is the caller's job (through the
executor), since widgets hold no SQL (STYLE.md, habit 5).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QVBoxLayout, QWidget)

from mirror_desktop.ui.icon import app_icon

DEFAULT_IDENTITY = "Personal"


def welcome_sentences(data_dir: Path | str) -> list[str]:
    """The three sentences (kept here so tests and translators read the same text)."""
    return [
        f"Your journal lives in one file on this computer, in the folder {data_dir}.",
        "Nothing you write leaves this machine unless you choose to share it, entry by entry.",
        "Give a name to the part of you that is writing; you can add others, like a work self, later.",
    ]


class WelcomeDialog(QDialog):
    """First-run welcome; ``exec()`` returns Accepted with :meth:`identity_name` set, or Rejected."""

    def __init__(self, data_dir: Path | str, parent: QWidget | None = None,
                 default_name: str = DEFAULT_IDENTITY) -> None:
        super().__init__(parent)
        self.setObjectName("welcomeDialog")
        self.setWindowTitle("Welcome to Mirror")
        self.setWindowIcon(app_icon())
        self.setMinimumWidth(520)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(28, 24, 28, 20)
        outer.setSpacing(14)

        head = QHBoxLayout()
        head.setSpacing(14)
        logo = QLabel()
        logo.setPixmap(app_icon().pixmap(56, 56))
        logo.setFixedSize(56, 56)
        head.addWidget(logo, 0, Qt.AlignmentFlag.AlignVCenter)
        title = QLabel("Welcome to Mirror")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setWeight(QFont.Weight.DemiBold)
        title.setFont(font)
        title.setObjectName("viewTitle")
        head.addWidget(title, 1, Qt.AlignmentFlag.AlignVCenter)
        outer.addLayout(head)

        # Three sentences (issue 7); the folder is set apart on its own line so a long path never
        # breaks the sentence in the middle of a word.
        where, consent, identity = welcome_sentences(data_dir)
        text = QVBoxLayout()
        text.setSpacing(10)
        self.where_label = QLabel(where.replace(f" {data_dir}.", ":"))
        self.folder_label = QLabel(str(data_dir))
        self.folder_label.setObjectName("welcomeFolder")
        mono = QFont(self.folder_label.font())
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setFamilies(["Menlo", "Consolas", "DejaVu Sans Mono", "monospace"])
        self.folder_label.setFont(mono)
        self.folder_label.setContentsMargins(14, 0, 0, 0)
        self.consent_label = QLabel(consent)
        self.identity_label = QLabel(identity)
        for label in (self.where_label, self.folder_label, self.consent_label, self.identity_label):
            label.setWordWrap(label is not self.folder_label)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            text.addWidget(label)
        outer.addLayout(text)
        outer.addSpacing(2)

        row = QHBoxLayout()
        name_label = QLabel("Your first &identity:")
        self.name_edit = QLineEdit(default_name)
        self.name_edit.setObjectName("identityName")
        self.name_edit.setPlaceholderText("for example: Personal, Work self")
        self.name_edit.setMaxLength(80)
        self.name_edit.selectAll()
        name_label.setBuddy(self.name_edit)
        row.addWidget(name_label)
        row.addWidget(self.name_edit, 1)
        outer.addLayout(row)
        outer.addSpacing(6)

        self.buttons = QDialogButtonBox()
        self.start_button = QPushButton("Start writing")
        self.start_button.setDefault(True)
        self.buttons.addButton(self.start_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.later_button = self.buttons.addButton("Not now", QDialogButtonBox.ButtonRole.RejectRole)
        # Someone moving from another computer starts from their bundle, not from a new identity (issue 11).
        self.restore_button = self.buttons.addButton("Restore from a bundle…", QDialogButtonBox.ButtonRole.ActionRole)
        self.restore_button.setToolTip("Open a bundle exported from Mirror: this journal becomes a copy of it.")
        self.restore_button.clicked.connect(self._restore)
        self.restore_chosen = False
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        outer.addWidget(self.buttons)
        self.name_edit.textChanged.connect(self._name_changed)
        self.name_edit.setFocus()
        # Word-wrapped labels make Qt's default size too tall; size to the text at our width.
        self.resize(560, outer.totalHeightForWidth(560))

    def _restore(self) -> None:
        self.restore_chosen = True
        self.reject()

    def _name_changed(self, text: str) -> None:
        self.start_button.setEnabled(bool(text.strip()))

    def identity_name(self) -> str:
        """The name typed, trimmed (never empty while "Start writing" is enabled)."""
        return " ".join(self.name_edit.text().split())


def ask_first_identity(data_dir: Path | str, parent: QWidget | None = None) -> str | None:
    """Show the welcome; the first identity's name, or None if the person chose "Not now"."""
    dialog = WelcomeDialog(data_dir, parent)
    try:
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.identity_name():
            return dialog.identity_name()
        return None
    finally:
        dialog.deleteLater()
