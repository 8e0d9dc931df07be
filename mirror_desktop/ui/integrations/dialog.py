"""File → Integrations…: the list of calendars and notes Mirror reads, and the form to add or edit one.

The dialog renders what IntegrationsClient reports and sends intents back to it (add, edit, pause,
resume, Sync now, remove); the rules — what a config needs, where a password goes — are the
service's, and its sentences are shown as they come. "Test connection" runs off the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mirror_desktop.core import models as m
from mirror_desktop.ui import format as fmt
from mirror_desktop.ui.theme import named
from mirror_desktop.workers.integrations import PROVIDERS, IntegrationForm, IntegrationsClient

PROVIDER_LABELS = {p: label for p, _t, label in PROVIDERS}
TYPE_LABELS = {"calendar": "Calendar", "notes": "Notes"}
STATUS_LABELS = {"active": "Active", "paused": "Paused", "error": "Error", "disconnected": "Disconnected"}
FREQUENCY_LABELS = {"hourly": "Every hour", "daily": "Every day", "manual": "Only when I press Sync now"}
# Which fields each provider's form shows (the connector validates them; this keeps the form short).
FIELDS = {
    "ics_file": ("path", "look_back", "auto_reflect"),
    "ics_url": ("url", "username", "password", "look_back", "auto_reflect"),
    "caldav": ("url", "username", "password", "calendar", "look_back", "auto_reflect"),
    "obsidian": ("path",),
}
AUTO_REFLECT_TEXT = "Each new event becomes a draft reflection waiting for you to write into it."
CANCELLED_WORDS = "Sync cancelled; nothing was changed."
ID_ROLE = Qt.ItemDataRole.UserRole + 1
WORDS = 6  # the "In words" column
PROBLEM_COLOR = "#c0392b"  # a status that needs the person: readable on the light and the dark theme


def last_sync_text(when: datetime | None) -> str:
    return "never" if when is None else fmt.short_date(when)


def source_name(config: dict[str, Any]) -> str:
    """A short name for the source: the file's or folder's name, or the address's host and last part."""
    if config.get("path"):
        return Path(str(config["path"])).name or str(config["path"])
    url = str(config.get("url") or "")
    parts = urlsplit(url)
    tail = parts.path.rstrip("/").rsplit("/", 1)[-1]
    return f"{parts.hostname or url}{f' · {tail}' if tail else ''}"


def status_words(integ: m.Integration, items: int, core_text: str) -> str:
    """The service's sentence, except a healthy row, which reads better in the person's own clock."""
    if str(integ.status) == "active" and integ.last_sync is not None and not (integ.metadata or {}).get("last_error"):
        return f"Synced {fmt.short_date(integ.last_sync).lower()}; {fmt.plural(items, 'item')}."
    return core_text


class IntegrationFormDialog(QDialog):
    """Add or edit one integration: a form per provider, Test connection, and Save.

    The form submits through the client itself and stays open with the service's sentence when the
    config is refused; it closes once the change has landed.
    """

    def __init__(self, client: IntegrationsClient, integration: m.Integration | None = None,
                 parent: QWidget | None = None, *, reconnect: bool = False,
                 identities: list[m.Identity] | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.integration = integration
        self.closed = False
        config = dict(integration.config or {}) if integration else {}
        provider = str(config.get("provider") or "ics_file")
        self.setWindowTitle("Reconnect integration" if reconnect else "Edit integration" if integration else "Add integration")
        self.setMinimumWidth(520)
        lay = QVBoxLayout(self)

        self.intro = named(QLabel(""), "muted")
        self.intro.setWordWrap(True)
        lay.addWidget(self.intro)
        if reconnect:
            self.intro.setText("This integration has no usable password (an imported bundle never carries one). "
                               "Enter it again to sync.")
        else:
            self.intro.setText("Mirror only reads this source; it never writes to it. Passwords go to the "
                               "system keychain, never into the journal.")

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.provider = QComboBox()
        for p, _t, label in PROVIDERS:
            self.provider.addItem(label, p)
        self.provider.setCurrentIndex(max(self.provider.findData(provider), 0))
        self.provider.setEnabled(integration is None)
        form.addRow("Source", self.provider)

        self.path = QLineEdit(str(config.get("path") or ""))
        self.browse = QPushButton("Browse…")
        self.browse.setAutoDefault(False)
        path_row = QWidget()
        pl = QHBoxLayout(path_row)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.addWidget(self.path, 1)
        pl.addWidget(self.browse)
        self.url = QLineEdit(str(config.get("url") or ""))
        self.url.setPlaceholderText("https://")
        self.username = QLineEdit(str(config.get("username") or ""))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        if integration is not None and not reconnect:
            self.password.setPlaceholderText("Leave empty to keep the stored password")
        self.password_file = QLineEdit()
        self.password_file.setPlaceholderText("Or a file whose first line is the password")
        self.calendar = QLineEdit(str(config.get("calendar") or ""))
        self.calendar.setPlaceholderText("Optional: the calendar's name (all calendars when empty)")
        self.look_back = QSpinBox()
        self.look_back.setRange(0, 36500)
        self.look_back.setValue(int(config.get("look_back_days") or 7))
        self.look_back.setSuffix(" days")
        self.look_back.setToolTip("How far back Mirror reads events (it also reads two weeks ahead)")
        self.every = QComboBox()
        for key, label in FREQUENCY_LABELS.items():
            self.every.addItem(label, key)
        self.every.setCurrentIndex(max(self.every.findData(str(config.get("sync_frequency") or "daily")), 0))
        # metadata.auto_reflect (issue 14, item 3): calendar events are context unless the person asks.
        self.auto_reflect = QCheckBox("Turn new events into drafts")
        self.auto_reflect.setChecked(bool((integration.metadata or {}).get("auto_reflect")) if integration else False)
        auto_help = named(QLabel(AUTO_REFLECT_TEXT), "muted")
        auto_help.setWordWrap(True)
        auto_row = QWidget()
        al = QVBoxLayout(auto_row)
        al.setContentsMargins(0, 0, 0, 0)
        al.setSpacing(2)
        al.addWidget(self.auto_reflect)
        al.addWidget(auto_help)
        self._rows: dict[str, tuple[QLabel, QWidget]] = {}
        for key, label, widget in (("path", "File", path_row), ("url", "Address", self.url),
                                   ("username", "User name", self.username), ("password", "Password", self.password),
                                   ("password_file", "Password file", self.password_file),
                                   ("calendar", "Calendar", self.calendar), ("look_back", "Look back", self.look_back),
                                   ("auto_reflect", "Drafts", auto_row)):
            lab = QLabel(label)
            form.addRow(lab, widget)
            self._rows[key] = (lab, widget)
        form.addRow("Sync", self.every)
        self.identity = QComboBox()
        self.identity.addItem("Every identity", None)
        for ident in identities or []:
            self.identity.addItem(ident.name, ident.id)
        self.identity.setCurrentIndex(max(self.identity.findData(integration.identity_id), 0) if integration else 0)
        self.identity.setToolTip("Whose source this is: its events show beside that identity's reflections only")
        form.addRow("Belongs to", self.identity)
        lay.addLayout(form)

        test_row = QHBoxLayout()
        self.test_button = QPushButton("Test connection")
        self.test_button.setAutoDefault(False)
        self.test_result = QLabel("")
        self.test_result.setWordWrap(True)
        self.test_result.setTextFormat(Qt.TextFormat.PlainText)
        test_row.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignTop)
        test_row.addWidget(self.test_result, 1)
        lay.addLayout(test_row)

        self.error = named(QLabel(""), "errorText")
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.hide()
        lay.addWidget(self.error)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText("Reconnect" if reconnect else
                                                                          "Save" if integration else "Add")
        lay.addWidget(self.buttons)

        self.provider.currentIndexChanged.connect(self._provider_changed)
        self.browse.clicked.connect(self._browse)
        self.test_button.clicked.connect(self.test_connection)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self._provider_changed()
        if reconnect:
            self.password.setFocus()

    # -- the form --------------------------------------------------------------------------
    def provider_key(self) -> str:
        return str(self.provider.currentData())

    def _provider_changed(self, *_: Any) -> None:
        shown = set(FIELDS.get(self.provider_key(), ()))
        if "password" in shown:
            shown.add("password_file")
        for key, (label, widget) in self._rows.items():
            label.setVisible(key in shown)
            widget.setVisible(key in shown)
        self._rows["path"][0].setText("Vault folder" if self.provider_key() == "obsidian" else "Calendar file")
        self.test_result.setText("")
        self.adjustSize()

    def _browse(self) -> None:
        if self.provider_key() == "obsidian":
            chosen = QFileDialog.getExistingDirectory(self, "Choose the vault's folder", self.path.text())
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, "Choose a calendar file", self.path.text(),
                                                    "Calendar files (*.ics);;All files (*)")
        if chosen:
            self.path.setText(chosen)

    def form(self) -> IntegrationForm:
        shown = set(FIELDS.get(self.provider_key(), ()))

        def text(key: str, widget: QLineEdit) -> str | None:
            return widget.text().strip() if key in shown else None

        return IntegrationForm(
            provider=self.provider_key(), path=text("path", self.path) or None, url=text("url", self.url) or None,
            username=text("username", self.username), password=self.password.text() or None if "password" in shown else None,
            password_file=(self.password_file.text().strip() or None) if "password" in shown else None,
            every=str(self.every.currentData()), calendar=text("calendar", self.calendar),
            identity_id=self.identity.currentData(),
            look_back_days=self.look_back.value() if "look_back" in shown else None,
            auto_reflect=self.auto_reflect.isChecked() if "auto_reflect" in shown else None)

    # -- actions ---------------------------------------------------------------------------
    def test_connection(self) -> None:
        self.test_button.setEnabled(False)
        self.test_result.setText("Testing…")
        self.client.test_connection(self.form(), self._tested, self._test_failed, stored=self.integration)

    def done(self, result: int) -> None:  # noqa: D401 - Qt override
        self.closed = True  # answers still in flight (a test, a save) find the dialog gone and do nothing
        super().done(result)

    def _tested(self, text: str) -> None:
        if self.closed:
            return
        self.test_button.setEnabled(True)
        self.test_result.setText(f"✓ {text}")

    def _test_failed(self, text: str) -> None:
        if self.closed:
            return
        self.test_button.setEnabled(True)
        self.test_result.setText(f"✗ {text}")

    def submit(self) -> None:
        self.error.hide()
        self.buttons.setEnabled(False)
        if self.integration is None:
            self.client.add(self.form(), self._landed, self._refused)
        else:
            self.client.update(self.integration.id, self.form(), self._landed, self._refused)

    def _landed(self, _integration: m.Integration) -> None:
        if self.closed:
            return
        self.buttons.setEnabled(True)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        from mirror_desktop.workers.base import sentence

        if self.closed:
            return
        self.buttons.setEnabled(True)
        self.error.setText(sentence(exc))
        self.error.show()


class IntegrationsDialog(QDialog):
    """The integrations, each with its type, source, status, last sync, items and status in words.

    Signals:
        list_shown(int): the list was (re)loaded; payload is how many integrations it shows.
    """

    list_shown = Signal(int)

    def __init__(self, client: IntegrationsClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.closed = False
        self.setWindowTitle("Integrations")
        self.resize(960, 440)
        self.views: dict[str, Any] = {}
        self.syncing: set[str] = set()
        # The last sync's outcome in words when it wrote nothing (cancelled): the stored status cannot say it.
        self.outcome_words: dict[str, str] = {}
        self.form_dialog: IntegrationFormDialog | None = None
        self.identities: list[m.Identity] = []
        # Asks before removing; tests replace it (a modal box would wait for a click).
        self.confirm: Callable[[str], bool] = self._confirm
        lay = QVBoxLayout(self)
        intro = named(QLabel("Calendars and notes Mirror reads, never writes. A day's events appear beside "
                             "that day's reflections; notes become reflections."), "muted")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.notice = named(QLabel(""), "banner")
        self.notice.setWordWrap(True)
        self.notice.hide()
        lay.addWidget(self.notice)

        self.tree = QTreeWidget()
        self.tree.setColumnCount(7)
        self.tree.setHeaderLabels(["Source", "Provider", "Type", "Status", "Last sync", "Items", "In words"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setStretchLastSection(True)
        for col in range(6):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        lay.addWidget(self.tree, 1)
        self.empty = named(QLabel("No integrations yet. Press Add… to read a calendar file, a calendar "
                                  "subscription, a CalDAV calendar or an Obsidian vault."), "emptyState")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.empty)

        self.detail = QLabel("")
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.detail)

        row = QHBoxLayout()
        self.add_button = QPushButton("Add…")
        self.edit_button = QPushButton("Edit…")
        self.pause_button = QPushButton("Pause")
        self.sync_button = QPushButton("Sync now")
        # Shown while the selected integration syncs: a cancelled sync writes nothing (rolled back).
        self.cancel_button = QPushButton("Cancel sync")
        self.cancel_button.setToolTip("Stop this sync; nothing it read is kept")
        self.cancel_button.hide()
        self.remove_button = QPushButton("Remove…")
        self.close_button = QPushButton("Close")
        for b in (self.add_button, self.edit_button, self.pause_button, self.sync_button, self.cancel_button,
                  self.remove_button):
            b.setAutoDefault(False)
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(self.close_button)
        lay.addLayout(row)

        self.add_button.clicked.connect(lambda: self.open_form(None))
        self.edit_button.clicked.connect(lambda: self.open_form(self.selected_id()))
        self.pause_button.clicked.connect(self.toggle_pause)
        self.sync_button.clicked.connect(self.sync_selected)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        self.close_button.clicked.connect(self.accept)
        self.tree.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.tree.itemDoubleClicked.connect(lambda *_: self.open_form(self.selected_id()))
        for sig in (client.integration_added, client.integration_updated, client.integration_removed):
            sig.connect(self.reload)
        client.sync_started.connect(self._sync_started)
        client.sync_finished.connect(self._sync_finished)
        client.operation_failed.connect(self._failed)
        self._update_buttons()
        self.client.identities(self._identities_loaded)
        self.reload()

    # -- the list --------------------------------------------------------------------------
    def reload(self, *_: Any) -> None:
        self.client.load(self._shown)

    def _identities_loaded(self, identities: list[m.Identity]) -> None:
        if not self.closed:
            self.identities = identities

    def done(self, result: int) -> None:  # noqa: D401 - Qt override
        self.closed = True  # a list still loading finds the dialog gone
        super().done(result)

    def _shown(self, views: list[Any]) -> None:
        if self.closed:
            return
        keep = self.selected_id()
        self.views = {v.integration.id: v for v in views}
        self.tree.clear()
        for v in views:
            self.tree.addTopLevelItem(self._item(v))
        if keep is None and views:
            keep = views[0].integration.id
        if keep is not None:
            self.select(keep)
        self.tree.setVisible(bool(views))
        self.empty.setVisible(not views)
        waiting = [v for v in views if str(v.integration.status) == "disconnected"]
        if waiting:
            self.notice.setText(f"{fmt.plural(len(waiting), 'integration')} cannot sync until "
                                f"{'its' if len(waiting) == 1 else 'their'} credentials are entered again: "
                                "select it and press Reconnect… below.")
        self.notice.setVisible(bool(waiting))
        self._update_buttons()
        self.list_shown.emit(len(views))

    def _item(self, v: Any) -> QTreeWidgetItem:
        info = v.to_json()
        integ = v.integration
        status = str(integ.status)
        provider = str(info.get("provider") or "")
        where = str((integ.config or {}).get("path") or info["config"].get("url") or "")
        words = "Syncing…" if integ.id in self.syncing else self.outcome_words.get(integ.id) or status_words(
            integ, v.items, str(info["status_text"]))
        item = QTreeWidgetItem([source_name(info["config"]), PROVIDER_LABELS.get(provider, provider),
                                TYPE_LABELS.get(str(integ.integration_type), str(integ.integration_type)),
                                STATUS_LABELS.get(status, status), last_sync_text(integ.last_sync),
                                str(v.items), words])
        item.setData(0, ID_ROLE, integ.id)
        item.setToolTip(0, where)
        item.setToolTip(WORDS, words)
        if status in ("error", "disconnected"):
            item.setForeground(3, QBrush(QColor(PROBLEM_COLOR)))
        return item

    def row_texts(self) -> list[list[str]]:
        """Each row's cells as shown (the tests read the list as a person would)."""
        return [[item.text(c) for c in range(self.tree.columnCount())] for item in self.items()]

    def items(self) -> list[QTreeWidgetItem]:
        found = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return [item for item in found if item is not None]

    def selected_id(self) -> str | None:
        item = self.tree.currentItem()
        return None if item is None else str(item.data(0, ID_ROLE))

    def select(self, integration_id: str) -> None:
        for item in self.items():
            if item.data(0, ID_ROLE) == integration_id:
                self.tree.setCurrentItem(item)

    def _update_buttons(self) -> None:
        iid = self.selected_id()
        v = self.views.get(iid) if iid else None
        for b in (self.edit_button, self.pause_button, self.sync_button, self.remove_button):
            b.setEnabled(v is not None)
        self.cancel_button.setVisible(iid is not None and iid in self.syncing)
        self.cancel_button.setEnabled(True)
        if v is None:
            self.detail.setText("")
            return
        status = str(v.integration.status)
        self.pause_button.setText("Reconnect…" if status == "disconnected" else "Resume" if status == "paused" else "Pause")
        self.sync_button.setEnabled(status not in ("paused", "disconnected") and iid not in self.syncing)
        info = v.to_json()
        config = info["config"]
        where = str(config.get("path") or config.get("url") or "")
        next_sync = "only when you press Sync now" if config.get("sync_frequency") == "manual" else (
            fmt.short_date(v.next_sync) if v.next_sync else "not scheduled")
        words = self.outcome_words.get(iid or "") or status_words(v.integration, v.items, str(info["status_text"]))
        owner = next((i.name for i in self.identities if i.id == v.integration.identity_id), None)
        whose = f" · belongs to {owner}" if owner else ""
        self.detail.setText(f"{where}\n{FREQUENCY_LABELS.get(str(config.get('sync_frequency')), '')}"
                            f" · next sync: {next_sync}{whose}\n{words}")

    # -- intents ---------------------------------------------------------------------------
    def open_form(self, integration_id: str | None, *, reconnect: bool = False) -> IntegrationFormDialog:
        integ = self.views[integration_id].integration if integration_id in self.views else None
        dialog = IntegrationFormDialog(self.client, integ, self, reconnect=reconnect, identities=self.identities)
        dialog.finished.connect(dialog.deleteLater)
        self.form_dialog = dialog
        dialog.open()
        return dialog

    def toggle_pause(self) -> None:
        iid = self.selected_id()
        if iid is None or iid not in self.views:
            return
        status = str(self.views[iid].integration.status)
        if status == "disconnected":
            self.open_form(iid, reconnect=True)
        elif status == "paused":
            self.client.resume(iid, on_error=self._refused_resume)
        else:
            self.client.pause(iid)

    def _refused_resume(self, exc: BaseException) -> None:
        # Resume refused for want of a password: ask for it, as the sentence says.
        iid = self.selected_id()
        self._failed(str(exc))
        if iid is not None:
            self.open_form(iid, reconnect=True)

    def sync_selected(self) -> None:
        iid = self.selected_id()
        if iid is not None:
            self.syncing.add(iid)
            self.outcome_words.pop(iid, None)
            self._update_buttons()
            self.client.sync_now(iid)

    def cancel_selected(self) -> None:
        iid = self.selected_id()
        if iid is not None and iid in self.syncing:
            self.cancel_button.setEnabled(False)  # once: the poller answers with a "cancelled" report
            for item in self.items():
                if item.data(0, ID_ROLE) == iid:
                    item.setText(WORDS, "Cancelling…")
            self.client.cancel_sync(iid)

    def remove_selected(self) -> None:
        iid = self.selected_id()
        if iid is None or iid not in self.views:
            return
        v = self.views[iid]
        label = PROVIDER_LABELS.get(str((v.integration.config or {}).get("provider")), "integration")
        text = (f"Remove this {label.lower()} and the {fmt.plural(v.items, 'item')} Mirror read from it? "
                "Reflections made from its notes stay in your journal; the source itself is not touched.")
        if self.confirm(text):
            self.client.remove(iid)

    def _confirm(self, text: str) -> bool:
        answer = QMessageBox.question(self, "Remove integration", text,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                                      QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def _sync_started(self, integration_id: str) -> None:
        self.syncing.add(integration_id)
        self.outcome_words.pop(integration_id, None)
        for item in self.items():
            if item.data(0, ID_ROLE) == integration_id:
                item.setText(WORDS, "Syncing…")
        self._update_buttons()

    def _sync_finished(self, report: Any) -> None:
        self.syncing.discard(report.integration_id)
        if report.outcome == "cancelled":
            self.outcome_words[report.integration_id] = report.message or CANCELLED_WORDS
        else:
            self.outcome_words.pop(report.integration_id, None)
        self.reload()

    def _failed(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.show()
