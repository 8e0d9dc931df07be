"""EngineSettingsDialog: choose who writes mirrorbacks — the offline rules engine, Ollama, or an OpenAI-compatible server.

Nothing here blocks the GUI thread: "Test connection" and saving (which may touch the keychain) run
as BackgroundTasks (workers.tasks) and report back through queued signals. A server
that is not this computer needs an explicit opt-in that says which text leaves the device (issue 6,
item 4); the API key goes to the keychain, or stays for this session only when none is available.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import QLocale, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mirror_desktop.core.engine_settings import (
    EngineConfigError,
    EngineSettings,
    EngineSettingsStore,
    check_connection,
    default_url,
    is_remote,
    crisis_countries,
    make_config,
)
from mirror_desktop.keychain import KeychainUnavailable
from mirror_desktop.workers.tasks import TaskRunner

KINDS = (("rules", "Built-in (offline)"), ("ollama", "Ollama"), ("openai", "OpenAI-compatible server"))
KEYCHAIN_TIMEOUT_MS = 10_000


def _country_name(code: str) -> str:
    """"Germany (DE)" in the person's language, from Qt's own territory names."""
    name = QLocale.territoryToString(QLocale.codeToTerritory(code))
    return f"{name} ({code})" if name else code


class EngineSettingsDialog(QDialog):
    """Engine kind, address, model, timeout, API key, remote opt-in, telemetry sharing; test and save.

    Signals:
        settings_saved(): engine.json (and the key) were written; the next Reflect uses them.
        connection_tested(bool, str): a test finished; payload is whether it answered and the sentence shown.
    """

    settings_saved = Signal()
    connection_tested = Signal(bool, str)

    def __init__(self, store: EngineSettingsStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.setWindowTitle("Mirrorback engine")
        self.tasks = TaskRunner("mirror-engine-settings", self)
        self._keychain_ok = True
        self._build()
        self._load(store.load())
        if store.problem:
            self.status.setText(store.problem)
        self._check_keychain()

    # -- construction ----------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        intro = QLabel("Mirror writes mirrorbacks with its built-in engine, on this computer, with no network. "
                       "You can use a local model instead (Ollama, llama.cpp, LM Studio), or a remote one if you choose.")
        intro.setWordWrap(True)
        root.addWidget(intro)
        form = QFormLayout()
        self.kind = QComboBox()
        for key, label in KINDS:
            self.kind.addItem(label, key)
        form.addRow("Engine", self.kind)
        self.url = QLineEdit()
        form.addRow("Address", self.url)
        self.model = QComboBox()
        self.model.setEditable(True)
        line = self.model.lineEdit()
        assert line is not None  # an editable combo box always has its line edit
        line.setPlaceholderText("e.g. llama3.1:8b")
        form.addRow("Model", self.model)
        self.timeout = QDoubleSpinBox()
        self.timeout.setRange(1, 600)
        self.timeout.setSuffix(" s")
        self.timeout.setDecimals(0)
        form.addRow("Timeout", self.timeout)
        key_row = QHBoxLayout()
        self.api_key = QLineEdit()
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText("only if the server needs one")
        key_row.addWidget(self.api_key, 1)
        self.session_only = QCheckBox("This session only")
        self.session_only.setToolTip("Keep the key in memory until Mirror quits; it is never written to disk")
        key_row.addWidget(self.session_only)
        form.addRow("API key", key_row)
        # Where the crisis reply's help lines come from (issue 13): the person's country, or international ones.
        self.country = QComboBox()
        self.country.addItem("International help lines", None)
        for code in sorted(crisis_countries(), key=_country_name):
            self.country.addItem(_country_name(code), code)
        self.country.setToolTip("If a reflection shows signs of crisis, Mirror answers with help lines for this country")
        form.addRow("Help lines", self.country)
        root.addLayout(form)
        self.keychain_note = QLabel()
        self.keychain_note.setWordWrap(True)
        self.keychain_note.hide()
        root.addWidget(self.keychain_note)
        self.remote_opt_in = QCheckBox()
        self.remote_opt_in.hide()
        root.addWidget(self.remote_opt_in)
        self.remote_note = QLabel()
        self.remote_note.setWordWrap(True)
        self.remote_note.hide()
        root.addWidget(self.remote_note)
        self.share = QCheckBox("Share engine telemetry: pattern names, counts, flags and timings — never your words")
        self.share.setToolTip("Marks engine runs as sync_allowed. Off by default; feedback notes never leave the device.")
        root.addWidget(self.share)
        test_row = QHBoxLayout()
        self.test_button = QPushButton("Test connection")
        test_row.addWidget(self.test_button)
        test_row.addStretch(1)
        root.addLayout(test_row)
        self.status = QLabel()
        self.status.setWordWrap(True)
        root.addWidget(self.status)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        root.addWidget(self.buttons)
        self.kind.currentIndexChanged.connect(self._update)
        self.url.textChanged.connect(self._update)
        self.test_button.clicked.connect(self.test_connection)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.resize(560, self.sizeHint().height())

    def _load(self, s: EngineSettings) -> None:
        c = s.config
        self.kind.setCurrentIndex(max(0, self.kind.findData(c.kind)))
        self.url.setText(c.base_url or "")
        self.model.setEditText(c.model or "")
        self.timeout.setValue(c.timeout_s)
        self.remote_opt_in.setChecked(c.remote_opt_in)
        self.country.setCurrentIndex(max(0, self.country.findData(c.crisis_country)))
        self.share.setChecked(s.share_telemetry)
        self._update()

    # -- state -----------------------------------------------------------------------------
    @property
    def selected_kind(self) -> str:
        return str(self.kind.currentData())

    def _effective_url(self) -> str:
        return (self.url.text().strip() or default_url(self.selected_kind)).rstrip("/")

    def is_remote(self) -> bool:
        return self.selected_kind != "rules" and is_remote(self._effective_url())

    @Slot()
    def _update(self) -> None:
        llm = self.selected_kind != "rules"
        for w in (self.url, self.model, self.timeout, self.api_key, self.test_button):
            w.setEnabled(llm)
        self.url.setPlaceholderText(default_url(self.selected_kind) or "not used by the built-in engine")
        remote = self.is_remote()
        host = urlsplit(self._effective_url()).hostname or "that server"
        self.remote_opt_in.setVisible(remote)
        self.remote_note.setVisible(remote)
        self.remote_opt_in.setText(f"Send reflections to {host}")
        self.remote_note.setText(
            f"{host} is not this computer. When you press Reflect, the text of that reflection (and the names "
            "of your tensions it touches) is sent there to be answered. Nothing else leaves the device: not "
            "other reflections, not your journal, not your feedback.")
        self.session_only.setEnabled(llm and self._keychain_ok)
        self.keychain_note.setVisible(llm and not self._keychain_ok)

    def _check_keychain(self) -> None:
        self.tasks.run(EngineSettingsStore.keychain_available, self._keychain_checked,
                       lambda _exc: self._keychain_checked(False))

    def _keychain_checked(self, ok: Any) -> None:
        self._keychain_ok = bool(ok)
        if not ok:
            self.session_only.setChecked(True)
            self.keychain_note.setText("No secure keychain is available on this computer, so an API key is kept "
                                       "for this session only and asked for again next time.")
        self._update()

    def config(self) -> Any:
        """The EngineConfig the form describes; raises EngineConfigError with one sentence."""
        kind = self.selected_kind
        return make_config(kind, base_url=self.url.text().strip() or None, model=self.model.currentText().strip() or None,
                           timeout_s=self.timeout.value(), remote_opt_in=self.remote_opt_in.isChecked() and self.is_remote(),
                           api_key_name=kind if kind != "rules" and (self.api_key.text() or self._has_saved_key()) else None,
                           crisis_country=self.country.currentData())

    def _has_saved_key(self) -> bool:
        return self.store.load().config.api_key_name == self.selected_kind

    @Slot()
    def test_connection(self) -> None:
        """Ask the configured server whether it answers and has the model (off the GUI thread)."""
        try:
            config = self.config()
            config.validate()
        except EngineConfigError as exc:
            self._tested(False, str(exc))
            return
        key = self.api_key.text() or None
        store = self.store
        self.test_button.setEnabled(False)
        self.status.setText("Testing…")

        def check() -> Any:
            api_key = key or store.api_key(config.api_key_name)
            return check_connection(config, api_key)

        self.tasks.run(check, lambda h: self._tested(h.ok, h.message, h.models),
                       lambda exc: self._tested(False, f"The test failed ({type(exc).__name__})."))

    def _tested(self, ok: bool, message: str, models: tuple[str, ...] = ()) -> None:
        self.test_button.setEnabled(self.selected_kind != "rules")
        self.status.setText(message)
        if models:
            current = self.model.currentText()
            self.model.clear()
            self.model.addItems(list(models))
            self.model.setEditText(current)
        self.connection_tested.emit(ok, message)

    @Slot()
    def save(self) -> None:
        """Validate, then write engine.json and the key in the background; close when both are done."""
        try:
            config = self.config()
            config.validate()
        except EngineConfigError as exc:
            self.status.setText(str(exc))
            return
        settings = EngineSettings(config, share_telemetry=self.share.isChecked())
        key, session_only, store = self.api_key.text(), self.session_only.isChecked(), self.store
        self.buttons.setEnabled(False)
        self.status.setText("Saving…")
        watchdog = QTimer(self)
        watchdog.setSingleShot(True)
        watchdog.timeout.connect(lambda: self.status.setText(
            "The keychain is not answering; the settings are not saved yet. Unlock the keychain, or tick "
            "“This session only”."))
        watchdog.start(KEYCHAIN_TIMEOUT_MS)

        def write() -> str:
            where = "unchanged"
            if key and config.kind != "rules":
                where = store.set_api_key(config.kind, key, session_only=session_only)
            store.save(settings)
            return where

        def saved(where: Any) -> None:
            watchdog.stop()
            self.buttons.setEnabled(True)
            self.settings_saved.emit()
            self.accept()

        def failed(exc: BaseException) -> None:
            watchdog.stop()
            self.buttons.setEnabled(True)
            if isinstance(exc, KeychainUnavailable):
                self.status.setText(f"{exc} Or tick “This session only”.")
            elif isinstance(exc, (EngineConfigError, OSError)):
                self.status.setText(str(exc) if isinstance(exc, EngineConfigError)
                                    else f"The settings could not be written ({exc.strerror}); check the folder's permissions.")
            else:
                self.status.setText(f"The settings could not be saved ({type(exc).__name__}).")

        self.tasks.run(write, saved, failed)

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Wait briefly for a test or save in flight (a hung keychain is abandoned, not waited for)."""
        return self.tasks.shutdown(timeout_ms)
