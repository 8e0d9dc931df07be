"""The question asked once, at the first sync the person starts that brings other devices' identities.

Identities never sync (spec): a reflection from another device carries its identity as an opaque key.
This dialog lists each key this device has not been told about, with how many reflections (and
tensions) it carries, and asks where they go: one of this journal's identities, or a new identity
whose name the person can edit. The answer goes through the SyncClient; keys answered are never asked
again. "Not now" lets the sync go on: the rows land in an identity made for them ("From another
device"), nothing is held back, and the question comes again at the next sync the person starts.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

NEW = "__new__"
INTRO = ("This sync brings reflections written under identities of your other devices. Identities never leave "
         "a device, so Mirror knows each one here only by a key. Choose once where each one's reflections go on "
         "this computer (File → Sync… can change it later).")


def _carries(q: dict[str, Any]) -> str:
    n, t = int(q.get("reflections") or 0), int(q.get("tensions") or 0)
    text = f"{n} reflection{'s' if n != 1 else ''}"
    if t:
        text += f" and {t} tension{'s' if t != 1 else ''}"
    return text


class IdentityAskDialog(QDialog):
    """One row per incoming identity key: what it carries, and a choice of where it goes.

    Signals:
        answered(list): "Use these" with every new name filled in; payload is ``answers()``. The owner sends
            it to the sync thread and closes the dialog when it is stored (or shows the sentence why not).
    """

    answered = Signal(list)

    def __init__(self, questions: list[dict[str, Any]], identities: list[tuple[str, str]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Identities from your other devices")
        self.setObjectName("syncIdentityAsk")
        self.questions = questions
        lay = QVBoxLayout(self)
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        lay.addWidget(intro)
        grid = QGridLayout()
        grid.setColumnStretch(2, 1)
        for col, title in enumerate(("From your other devices", "Goes to", "Name of the new identity")):
            head = QLabel(f"<b>{title}</b>")
            grid.addWidget(head, 0, col)
        taken = {name.casefold() for _id, name in identities}
        self.combos: list[QComboBox] = []
        self.names: list[QLineEdit] = []
        for row, q in enumerate(questions, start=1):
            label = QLabel(f"Identity {q['identity_key'][:8]}…\n{_carries(q)}")
            label.setToolTip(f"Key {q['identity_key']}: an opaque stand-in; the identity's name never left its device.")
            combo = QComboBox()
            combo.addItem("A new identity", NEW)
            for ident_id, name in identities:
                if ident_id != q.get("identity_id"):  # the identity sync made for it is "a new identity"
                    combo.addItem(name, ident_id)
            name_edit = QLineEdit(str(q.get("name") or self._free_name(taken)))
            taken.add(name_edit.text().casefold())
            name_edit.setPlaceholderText("a name for the new identity")
            combo.currentIndexChanged.connect(lambda _i, c=combo, e=name_edit: e.setEnabled(c.currentData() == NEW))
            grid.addWidget(label, row, 0)
            grid.addWidget(combo, row, 1)
            grid.addWidget(name_edit, row, 2)
            self.combos.append(combo)
            self.names.append(name_edit)
        lay.addLayout(grid)
        self.error_label = QLabel()
        self.error_label.setObjectName("syncAskError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b3261e;")
        self.error_label.hide()
        lay.addWidget(self.error_label)
        lay.addStretch(1)
        buttons = QDialogButtonBox()
        self.ok_button = buttons.addButton("Use these", QDialogButtonBox.ButtonRole.AcceptRole)
        self.later_button = buttons.addButton("Not now", QDialogButtonBox.ButtonRole.RejectRole)
        self.later_button.setToolTip("The sync goes on: these reflections land in an identity made for them, and "
                                     "Mirror asks again at the next sync you start.")
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.resize(620, 130 + 48 * len(questions))

    @staticmethod
    def _free_name(taken: set[str]) -> str:
        name, n = "From another device", 1
        while name.casefold() in taken:
            n += 1
            name = f"From another device {n}"
        return name

    def answers(self) -> list[dict[str, Any]]:
        out = []
        for q, combo, edit in zip(self.questions, self.combos, self.names, strict=True):
            if combo.currentData() == NEW:
                out.append({"identity_key": q["identity_key"], "name": edit.text().strip()})
            else:
                out.append({"identity_key": q["identity_key"], "identity_id": combo.currentData()})
        return out

    def _check(self) -> None:
        for a in self.answers():
            if "name" in a and not a["name"]:
                self.show_error("Each new identity needs a name; type one or choose one of yours.")
                return
        self.error_label.hide()
        self.answered.emit(self.answers())

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()
