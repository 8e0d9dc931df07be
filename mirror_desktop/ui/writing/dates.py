"""DateDialog: set a reflection's date and time (backdating, issue 16 item 7), within the spec's rules.

The pickers cannot leave the allowed range (1900-01-01 up to now); what the core refuses anyway comes
back as one sentence under the pickers, and nothing changes until the person presses Set date.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import QDate, QDateTime, QTime
from PySide6.QtWidgets import QDateTimeEdit, QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from mirror_desktop.core.errors import MirrorError
from mirror_desktop.ui.theme import named

EARLIEST = QDate(1900, 1, 1)


def qdatetime(when: datetime) -> QDateTime:
    """Local wall-clock time as Qt shows it in the pickers."""
    local = when.astimezone()
    return QDateTime(QDate(local.year, local.month, local.day), QTime(local.hour, local.minute))


def check(when: datetime, now: datetime) -> str:
    """"" when ``when`` may be a reflection's date, else the sentence that says why not."""
    try:
        from mirror_desktop.core.writing import check_reflection_date

        check_reflection_date(when, now=now)
    except MirrorError as exc:
        return str(exc)
    except (ImportError, TypeError):
        if when > now + timedelta(minutes=5):
            return "A reflection cannot be dated in the future; choose today or an earlier day."
    return ""


class DateDialog(QDialog):
    """Pick a date and time for a reflection (local time)."""

    def __init__(self, current: datetime, now: datetime | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Date of this reflection")
        self.now = (now or datetime.now().astimezone()).astimezone()
        lay = QVBoxLayout(self)
        hint = named(QLabel("Write for a day you missed: the reflection is filed on the day you choose."), "muted")
        hint.setWordWrap(True)
        lay.addWidget(hint)
        self.edit = QDateTimeEdit()
        self.edit.setCalendarPopup(True)
        self.edit.setDisplayFormat("dddd d MMMM yyyy, HH:mm")
        self.edit.setMinimumDateTime(QDateTime(EARLIEST, QTime(0, 0)))
        self.edit.setMaximumDateTime(qdatetime(self.now))
        self.edit.setDateTime(qdatetime(current))
        lay.addWidget(self.edit)
        self.error = named(QLabel(""), "formError")
        self.error.setWordWrap(True)
        self.error.hide()
        lay.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.set_button = buttons.addButton("Set date", QDialogButtonBox.ButtonRole.AcceptRole)
        self.set_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def chosen(self) -> datetime:
        """The chosen local date and time, with the local zone."""
        d, t = self.edit.date(), self.edit.time()
        return datetime(d.year(), d.month(), d.day(), t.hour(), t.minute()).astimezone()

    def set_chosen(self, when: datetime) -> None:
        self.edit.setDateTime(qdatetime(when))

    def accept(self) -> None:
        problem = check(self.chosen(), self.now)
        if problem:
            self.error.setText(problem)
            self.error.show()
            return
        super().accept()
