"""WritingSettingsForm: when a day ends and the daily reminder, as rows of the Settings dialog.

The values live in the journal (WritingSettings, issue 16); the form shows them and reads them back,
refusing a time like 25:61 with one sentence before anything is stored.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QWidget

from mirror_desktop.core.errors import MirrorError
from mirror_desktop.core.writing import ReminderSettings, WritingSettings, parse_clock
from mirror_desktop.ui.theme import named
from mirror_desktop.ui.writing.reminders import DAY_NAMES


class WritingSettingsForm:
    """Adds its rows to a QFormLayout; ``value()`` is the WritingSettings, or raises MirrorError."""

    def __init__(self, form: QFormLayout, current: WritingSettings) -> None:
        self.current = current
        self.day_start = QComboBox()
        self.day_start.addItem("at midnight", 0)
        for h in range(1, 7):
            self.day_start.addItem(f"at {h}:00 (writing before then counts for the day before)", h)
        self.day_start.setCurrentIndex(max(self.day_start.findData(current.day_start_hour), 0))
        form.addRow("A new day starts:", self.day_start)
        self.remind = QCheckBox("Remind me to write, unless I already wrote that day")
        self.remind.setChecked(current.reminder.enabled)
        form.addRow("Reminder:", self.remind)
        row = QWidget()
        lay = QHBoxLayout(row)
        lay.setContentsMargins(0, 0, 0, 0)
        self.time = QLineEdit(current.reminder.time)
        self.time.setPlaceholderText("21:30")
        self.time.setMaximumWidth(70)
        self.time.setToolTip("Hours and minutes, 00:00 to 23:59")
        lay.addWidget(self.time)
        self.days: list[QCheckBox] = []
        for i, name in enumerate(DAY_NAMES):
            box = QCheckBox(name)
            box.setChecked(i in current.reminder.weekdays)
            self.days.append(box)
            lay.addWidget(box)
        lay.addStretch(1)
        form.addRow("At:", row)
        self.error = named(QLabel(""), "formError")
        self.error.setWordWrap(True)
        self.error.hide()
        form.addRow(self.error)
        self.remind.toggled.connect(self._enable)
        self._enable(self.remind.isChecked())

    def _enable(self, on: bool) -> None:
        self.time.setEnabled(on)
        for box in self.days:
            box.setEnabled(on)

    def value(self) -> WritingSettings:
        """The chosen settings; a bad time or no weekday raises MirrorError with the sentence to show."""
        clock = parse_clock(self.time.text())
        days = tuple(i for i, box in enumerate(self.days) if box.isChecked())
        if self.remind.isChecked() and not days:
            from mirror_desktop.core.errors import ValidationError

            raise ValidationError("writing", "reminder.weekdays", "at least one",
                                  "A reminder needs at least one day of the week; choose a day or turn it off.")
        reminder = ReminderSettings(self.remind.isChecked(), clock.strftime("%H:%M"), days or self.current.reminder.weekdays)
        return replace(self.current, day_start_hour=int(self.day_start.currentData()), reminder=reminder)

    def check(self) -> bool:
        try:
            self.value()
        except MirrorError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return False
        self.error.hide()
        return True
