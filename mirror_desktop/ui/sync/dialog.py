"""File → Sync…: the server, the passphrase, this device's name, identity links, Sync now, what went and came.

Every action goes through the SyncClient (workers/sync.py), which runs it on the sync thread; the
dialog only shows what comes back, errors as the one sentence the service wrote.
"""

from __future__ import annotations

import platform
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mirror_desktop.core.validation import MIN_PASSPHRASE_LENGTH
from mirror_desktop.workers.sync import SyncClient

INTRO = ("Mirror sends what each reflection's visibility allows to a PostgreSQL server that you or a host run, "
         "and your other devices fetch it from there. Private reflections travel encrypted with a key made from "
         "your sync passphrase; the server never reads them, and the passphrase never leaves this computer.")
KINDS = {"sealed": ("row encrypted", "rows encrypted"), "clear": ("public row in clear", "public rows in clear"),
         "anonymized": ("anonymised tension position", "anonymised tension positions"),
         "summary": ("summary of counts", "summaries of counts"), "tombstone": ("deletion", "deletions")}
ENTITIES = {"reflections": ("reflection", "reflections"), "mirrorbacks": ("mirrorback", "mirrorbacks"),
            "tensions": ("tension", "tensions"), "engine_runs": ("engine run", "engine runs"),
            "engine_feedback": ("feedback", "feedback"), "evolution_events": ("event", "events"),
            "deleted": ("deletion", "deletions")}


def _counts(counts: dict[str, int], names: dict[str, tuple[str, str]]) -> str:
    return ", ".join(f"{n} {names.get(k, (k, k))[n != 1]}" for k, n in sorted(counts.items())) or "nothing"


def describe_report(report: Any) -> str:
    """What a sync sent and received, in words."""
    text = f"Sent {_counts(report.sent, KINDS)}; received {_counts(report.received, ENTITIES)}."
    if report.conflicts:
        text += (f" {report.conflicts} reflection{'s were' if report.conflicts > 1 else ' was'} edited on two devices: "
                 "both texts are kept, the other as a linked copy.")
    if report.warnings:
        text += " " + " ".join(report.warnings)
    return text


class SyncDialog(QDialog):
    """Set up, watch and leave sync; link other devices' identities to this journal's."""

    def __init__(self, client: SyncClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sync between your devices")
        self.setObjectName("syncDialog")
        self.client = client
        self.ask_dialog: QDialog | None = None
        self.resize(560, 520)
        lay = QVBoxLayout(self)
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        lay.addWidget(intro)

        # -- setting up -------------------------------------------------------------------
        self.setup_box = QGroupBox("Set up this device")
        form = QFormLayout(self.setup_box)
        self.server_edit = QLineEdit()
        self.server_edit.setPlaceholderText("postgresql://you@host/mirror")
        self.server_edit.setToolTip("The server as your own PostgreSQL role: each person on a server has one, "
                                    "and sees only their own rows.")
        self.passphrase_edit = QLineEdit()
        self.passphrase_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase_edit.setPlaceholderText(f"at least {MIN_PASSPHRASE_LENGTH} characters; the same on every device")
        self.device_edit = QLineEdit(platform.node())
        form.addRow("Server:", self.server_edit)
        form.addRow("Sync passphrase:", self.passphrase_edit)
        form.addRow("This device's name:", self.device_edit)
        self.setup_button = QPushButton("Set up")
        self.setup_button.setDefault(True)
        form.addRow("", self.setup_button)
        lay.addWidget(self.setup_box)

        # -- syncing ------------------------------------------------------------------------
        self.status_box = QGroupBox("Syncing")
        sform = QFormLayout(self.status_box)
        self.server_label = QLabel()
        self.device_label = QLabel()
        self.last_label = QLabel()
        self.pending_label = QLabel()
        self.report_label = QLabel()
        for w in (self.server_label, self.device_label, self.last_label, self.pending_label, self.report_label):
            w.setWordWrap(True)
            w.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        sform.addRow("Server:", self.server_label)
        sform.addRow("This device:", self.device_label)
        sform.addRow("Last sync:", self.last_label)
        sform.addRow("Waiting to send:", self.pending_label)
        sform.addRow("Sent and received:", self.report_label)
        buttons = QHBoxLayout()
        self.sync_button = QPushButton("Sync now")
        self.leave_button = QPushButton("Stop syncing on this device")
        self.leave_button.setToolTip("This device stops syncing; its journal stays as it is, and the other devices keep theirs.")
        buttons.addWidget(self.sync_button)
        buttons.addStretch(1)
        buttons.addWidget(self.leave_button)
        sform.addRow(buttons)
        lay.addWidget(self.status_box)

        self.links_box = QGroupBox("Identities from your other devices")
        self.links_form = QFormLayout(self.links_box)
        lay.addWidget(self.links_box)

        self.error_label = QLabel()
        self.error_label.setObjectName("syncError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b3261e;")
        self.error_label.hide()
        lay.addWidget(self.error_label)
        lay.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        lay.addWidget(close)

        self.setup_button.clicked.connect(self._set_up)
        self.sync_button.clicked.connect(self._sync_now)
        self.leave_button.clicked.connect(self._leave)
        client.status_loaded.connect(self._show_status)
        client.sync_started.connect(self._started)
        client.sync_finished.connect(self._finished)
        client.sync_failed.connect(self._error)
        client.set_up.connect(self._was_set_up)
        self.status_box.hide()
        self.links_box.hide()
        if client.status:
            self._show_status(client.status)
        if client.last_report is not None:
            self._finished(client.last_report)
        client.load_status()

    # -- actions -------------------------------------------------------------------------------
    def _set_up(self) -> None:
        server, passphrase = self.server_edit.text().strip(), self.passphrase_edit.text()
        if not server:
            self._error("Give the server's address, for example postgresql://you@host/mirror.")
            return
        if not passphrase:
            self._error("Type the sync passphrase (the same one on each of your devices).")
            return
        self.error_label.hide()
        self.setup_button.setEnabled(False)
        self.setup_button.setText("Setting up…")
        self.client.setup(server, passphrase, self.device_edit.text().strip(), self._setup_failed, sync_after=False)

    def _setup_failed(self, message: str) -> None:
        self.setup_button.setEnabled(True)
        self.setup_button.setText("Set up")
        self._error(message)

    def _clear_secret(self) -> None:
        self.passphrase_edit.clear()
        self.setup_button.setEnabled(True)
        self.setup_button.setText("Set up")

    def _was_set_up(self, _result: object) -> None:
        self._clear_secret()
        self._sync_now()  # the first sync: other devices' identities are asked about before anything lands

    def _sync_now(self) -> None:
        """A sync the person starts: first ask, once, where other devices' new identities go (issue 18, item 4)."""
        self.error_label.hide()
        self._started()
        self.client.ask_identities(self._ask, self._error)

    def _ask(self, data: dict[str, Any]) -> None:
        if not data.get("questions"):
            self.client.sync_now()
            return
        from mirror_desktop.ui.sync.ask import IdentityAskDialog

        ask = IdentityAskDialog(data["questions"], data.get("identities") or [], self)
        self.ask_dialog = ask

        def stored(_result: object) -> None:
            ask.accept()
            self.client.sync_now()
        ask.answered.connect(lambda answers: self.client.answer_identities(answers, stored, ask.show_error))
        ask.rejected.connect(self.client.sync_now)  # "Not now": the sync goes on, nothing is held back
        ask.open()

    def _leave(self) -> None:
        self.client.leave(self._error)

    # -- what comes back -----------------------------------------------------------------------
    def _show_status(self, status: dict[str, Any]) -> None:
        on = bool(status.get("enabled"))
        self.setup_box.setVisible(not on)
        self.status_box.setVisible(on)
        if not on:
            self.links_box.hide()
            return
        self.server_label.setText(f"{status.get('server')} (account {status.get('account')})")
        device = str(status.get("device") or "")
        if status.get("key_kept") == "session":
            device += " — no keychain on this computer: the sync key is kept until Mirror quits"
        self.device_label.setText(device)
        last = str(status.get("last_sync") or "")
        self.last_label.setText(f"{last[:10]} {last[11:16]} UTC" if last else "not yet")
        pending = int(status.get("pending_changes") or 0)
        waiting = f"{pending} change{'s' if pending != 1 else ''} to check and send"
        if status.get("newer_format_rows"):
            waiting += (f"; {status['newer_format_rows']} received from a newer Mirror wait for an update")
        self.pending_label.setText(waiting)
        if status.get("last_error") and not self.error_label.isVisible():
            self._error(str(status["last_error"]))
        self.client.identity_links(self._show_links)

    def _show_links(self, data: dict[str, Any]) -> None:
        while self.links_form.rowCount():
            self.links_form.removeRow(0)
        links = data.get("links") or []
        self.links_box.setVisible(bool(links))
        for link in links:
            combo = QComboBox()
            for ident_id, name in data.get("identities") or []:
                combo.addItem(name, ident_id)
            combo.setCurrentIndex(max(combo.findData(link["identity_id"]), 0))
            combo.setToolTip("Reflections written under this identity on your other devices land in the one chosen here.")
            key = link["identity_key"]
            combo.activated.connect(lambda _i, c=combo, k=key: self.client.link_identity(k, c.currentData()))
            self.links_form.addRow(f"Identity {key[:6]}…:", combo)

    def _started(self) -> None:
        self.sync_button.setEnabled(False)
        self.sync_button.setText("Syncing…")

    def _finished(self, report: Any) -> None:
        self.sync_button.setEnabled(True)
        self.sync_button.setText("Sync now")
        self.report_label.setText(describe_report(report))
        self.error_label.hide()

    def _error(self, message: str) -> None:
        self.sync_button.setEnabled(True)
        self.sync_button.setText("Sync now")
        self.error_label.setText(message)
        self.error_label.show()
