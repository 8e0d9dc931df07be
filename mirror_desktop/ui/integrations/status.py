"""The status-bar line while an integration syncs: what is syncing, with progress over a round (issue 14, item 7)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from mirror_desktop.workers.integrations import IntegrationsClient


class _WholeLabel(QLabel):
    """A status line the status bar may not squeeze into a fragment: it keeps room for its sentence (up to
    a width the window can spare) and shows the whole sentence as a tooltip."""

    MAX_WIDTH = 520

    def setText(self, text: str) -> None:  # noqa: N802 - Qt override
        super().setText(text)
        self.setToolTip(text)
        self.setMinimumWidth(min(self.sizeHint().width(), self.MAX_WIDTH))


class SyncStatus(QWidget):
    """"Syncing Calendar file (.ics) (2 of 3)…" and a bar; hidden when no sync runs, a short result after."""

    def __init__(self, client: IntegrationsClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 12, 0)  # apart from the journal's counts beside it
        self.label = _WholeLabel()
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(120)
        self.bar.setTextVisible(False)
        lay.addWidget(self.label)
        lay.addWidget(self.bar)
        self.names: dict[str, str] = {}
        self.running: str | None = None
        self._step = ""
        self.hide()
        client.sync_started.connect(self._started)
        client.sync_progressed.connect(self._progressed)
        client.sync_finished.connect(self._finished)

    def check_credentials(self) -> None:
        """After opening or importing a journal: say when integrations wait for their password (spec import step 8)."""
        self.client.load(self._credentials_checked)

    def _credentials_checked(self, views: list[Any]) -> None:
        self._names_loaded(views)
        waiting = sum(1 for v in views if str(v.integration.status) == "disconnected")
        if waiting and self.running is None:
            self.bar.hide()
            self.label.setText(f"{waiting} integration{'s' if waiting > 1 else ''} need{'' if waiting > 1 else 's'} "
                               "the password again (File → Integrations…)")
            self.show()

    def _started(self, integration_id: str) -> None:
        self.running = integration_id
        if integration_id not in self.names:
            self.client.load(self._names_loaded)
        self._show()

    def _names_loaded(self, views: list[Any]) -> None:
        from mirror_desktop.ui.integrations.dialog import source_name  # the dialog's module loads on first use

        for v in views:
            self.names[v.integration.id] = source_name(dict(v.integration.config or {}))
        if self.running is not None:
            self._show()

    def _progressed(self, integration_id: str, percent: int, step: str) -> None:
        self.running = integration_id
        self._step = step
        if percent < 0:
            self.bar.setRange(0, 0)  # busy: one long sync has no count to show
        else:
            self.bar.setRange(0, 100)
            self.bar.setValue(percent)
        self._show()

    def _show(self) -> None:
        name = self.names.get(self.running or "") or "an integration"
        self.label.setText(f"Syncing {name}{f' ({self._step})' if self._step else ''}…")
        self.bar.show()
        self.show()

    def _finished(self, report: Any) -> None:
        self.running = None
        self._step = ""
        self.bar.hide()
        name = self.names.get(report.integration_id) or "An integration"  # a source with no name yet
        if report.outcome in ("ok", "not_modified"):
            self.label.setText(f"{name} synced: {report.summary()}.")
        elif report.outcome in ("error", "disconnected"):
            self.label.setText(f"{name} could not sync (File → Integrations… says why)")
        elif report.outcome == "cancelled" and report.message.startswith("Sync cancelled"):
            self.label.setText(f"{name}: {report.message}")  # the person's Cancel, not a quit
        else:
            self.hide()
            return
        QTimer.singleShot(8000, self, self._hide_if_idle)

    def _hide_if_idle(self) -> None:
        if self.running is None:
            self.hide()
