"""The status-bar line for sync between devices: hidden until sync is on, then the last sync in a few words."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QWidget

from mirror_desktop.workers.sync import SyncClient


class SyncLine(QLabel):
    """"Synced 10:42: 3 sent, 2 received" / "Syncing…" / "Sync failed (File → Sync… says why)"."""

    def __init__(self, client: SyncClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncLine")
        self.hide()
        client.status_loaded.connect(self._status)
        client.sync_started.connect(lambda: self._say("Syncing with your other devices…"))
        client.sync_finished.connect(self._finished)
        client.sync_failed.connect(lambda msg: self._say("Sync failed (File → Sync… says why)", msg))
        client.left.connect(self.hide)

    def _say(self, text: str, tip: str | None = None) -> None:
        self.setText(text)
        self.setToolTip(tip or text)
        self.show()

    def _status(self, status: dict[str, Any]) -> None:
        if not status.get("enabled"):
            self.hide()
        elif not self.isVisible():
            last = str(status.get("last_sync") or "")
            self._say(f"Sync on; last {last[11:16]} UTC" if last else "Sync on; not synced yet")

    def _finished(self, report: Any) -> None:
        from datetime import datetime

        text = f"Synced {datetime.now().strftime('%H:%M')}: {report.pushed} sent, {report.pulled} received"
        if report.conflicts:
            text += f", {report.conflicts} kept as conflict copies"
        if getattr(report, "unlinked", None):
            # A sync nobody started never opens a dialog: say where to choose instead (issue 18, item 4).
            text += "; choose where your other devices' identities go in File → Sync…"
        self._say(text, report.summary())
