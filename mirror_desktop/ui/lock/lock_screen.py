"""The lock screen: shown instead of the journal when it is encrypted and no key is at hand.

It knows nothing of keys or files: it asks for a passphrase, says why the last try failed, and
shows that it is working (deriving a key takes about a second, off the GUI thread).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget


class LockScreen(QWidget):
    """Signals:
        unlock_requested(str): the person entered a passphrase (never empty).
    """

    unlock_requested = Signal(str)

    def __init__(self, journal_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lockScreen")
        self.setWindowTitle("Mirror — locked")
        outer = QVBoxLayout(self)
        outer.addStretch(2)
        box = QWidget()
        box.setFixedWidth(440)  # a fixed width lets the wrapped sentences take the height they need
        lay = QVBoxLayout(box)
        lay.setSpacing(10)
        title = QLabel("This journal is locked")
        title.setObjectName("lockTitle")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        title.setFont(font)
        lay.addWidget(title)
        where = QLabel(f"{journal_name} is encrypted. Enter its passphrase to open it.")
        where.setWordWrap(True)
        lay.addWidget(where)
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setPlaceholderText("Passphrase")
        self.passphrase.setAccessibleName("Passphrase")
        self.passphrase.returnPressed.connect(self._submit)
        lay.addWidget(self.passphrase)
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self._submit)
        lay.addWidget(self.unlock_button, 0, Qt.AlignmentFlag.AlignRight)
        self.message = QLabel("")
        self.message.setObjectName("lockMessage")
        self.message.setWordWrap(True)
        # Room for a three-line sentence from the start: the box does not grow under a centred layout.
        self.message.setMinimumHeight(self.message.fontMetrics().lineSpacing() * 3 + 4)
        self.message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        lay.addWidget(self.message)
        outer.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(3)

    def _submit(self) -> None:
        text = self.passphrase.text()
        if not text:
            self.show_error("Enter the journal's passphrase first.")
            return
        self.set_busy(True)
        self.unlock_requested.emit(text)

    def set_busy(self, busy: bool) -> None:
        self.passphrase.setEnabled(not busy)
        self.unlock_button.setEnabled(not busy)
        if busy:
            self.message.setText("Unlocking…")

    def show_error(self, sentence: str) -> None:
        self.set_busy(False)
        self.message.setText(sentence)
        self.passphrase.selectAll()
        self.passphrase.setFocus()
