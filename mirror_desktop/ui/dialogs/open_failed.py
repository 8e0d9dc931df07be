"""OpenFailedDialog: a journal that cannot be opened — one sentence and the person's choices.

Nothing is changed on disk: the choices are to quit or to open (or start) a journal elsewhere.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

QUIT = "quit"
CHOOSE = "choose"


def ask(sentence: str, parent: QWidget | None = None) -> str:
    """Show the failure; returns QUIT or CHOOSE."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Mirror cannot open this journal", sentence, parent=parent)
    box.setInformativeText("Nothing in it has been changed. You can quit, or open a journal in another folder.")
    choose = box.addButton("Choose another folder…", QMessageBox.ButtonRole.AcceptRole)
    quit_ = box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(quit_)
    box.setEscapeButton(quit_)
    box.exec()
    return CHOOSE if box.clickedButton() is choose else QUIT


def choose_folder(parent: QWidget | None = None, start: str = "") -> str | None:
    folder = QFileDialog.getExistingDirectory(parent, "Choose a folder for your journal", start)
    return folder or None
