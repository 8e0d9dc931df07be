"""Render File → Integrations… and the day's calendar beside the editor, offscreen, through the real window.

    QT_QPA_PLATFORM=offscreen python docs/render_integrations.py

Writes docs/integrations.png, docs/integrations-syncing.png (a sync running, with Cancel sync),
docs/integrations-cancelled.png, docs/integration-form.png, docs/day-panel.png and
docs/timeline-calendar.png. The journal, the calendar files and the notes folder are made in a
temporary folder; one calendar is the iCalendar sample of tests/data/ics.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from mirror_desktop.core import models as m  # noqa: E402
from mirror_desktop.core.enums import IntegrationStatus  # noqa: E402
from mirror_desktop.core.integrations import NEEDS_REAUTH, IntegrationService  # noqa: E402
from mirror_desktop.core.services import JournalService  # noqa: E402
from mirror_desktop.integrations.sync import SyncReport  # noqa: E402
from mirror_desktop.paths import AppPaths  # noqa: E402
from mirror_desktop.storage.journal import SQLiteStorage  # noqa: E402
from mirror_desktop.ui.theme import apply_theme  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))
from render_common import open_window, wait_until  # noqa: E402
DAY = datetime(2022, 3, 8, 21, 10, tzinfo=UTC)
WORK_ICS = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Mirror//demo//EN\r
BEGIN:VEVENT\r
UID:standup@demo\r
SUMMARY:Team stand-up\r
DTSTART:20220308T093000Z\r
DTEND:20220308T094500Z\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:lunch@demo\r
SUMMARY:Lunch with Ana\r
DTSTART:20220308T123000Z\r
DTEND:20220308T133000Z\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:review@demo\r
SUMMARY:Quarterly review with the board\r
DTSTART:20220308T160000Z\r
DTEND:20220308T170000Z\r
END:VEVENT\r
END:VCALENDAR\r
"""
ENTRY = ("The review went better than I feared. I kept waiting for the hard question and it never came; "
         "lunch with Ana before it helped more than the slides did.")



def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme("light", app)
    with tempfile.TemporaryDirectory(prefix="mirror-demo-") as tmp:
        home = Path(tmp)
        cals = home / "Calendars"
        cals.mkdir()
        shutil.copy(ROOT / "tests" / "data" / "ics" / "example.ics", cals / "holidays.ics")
        (cals / "work.ics").write_text(WORK_ICS)
        vault = home / "Notes"
        (vault / "daily").mkdir(parents=True)
        (vault / "daily" / "2022-03-08.md").write_text("Slept badly before the review.\n")
        paths = AppPaths.resolve(home / "journal")
        paths.config_dir.mkdir(parents=True, exist_ok=True)
        s = SQLiteStorage(paths.database)
        svc = IntegrationService(s)
        rid = s.reflections.create(m.Reflection(content=ENTRY, created_at=DAY)).id
        before = s.reflections.create(m.Reflection(content="Before the review: the slides again, and again.",
                                                    created_at=DAY - timedelta(days=1))).id
        after = s.reflections.create(m.Reflection(content="A day later, calmer.", created_at=DAY + timedelta(days=1))).id
        journal = JournalService(s)
        thread = journal.create_thread("The review", None)
        for r in (before, rid, after):
            journal.add_to_threads(r, [thread.id])
        for name in ("holidays.ics", "work.ics"):
            svc.add("calendar", "ics_file", path=str(cals / name), look_back_days=20000)
        notes = svc.add("notes", "obsidian", path=str(vault), every="hourly")
        broken = svc.add("calendar", "ics_url", url="http://127.0.0.1:9/family.ics", every="hourly")
        paused = svc.add("calendar", "ics_file", path=str(cals / "holidays.ics"), every="manual")
        svc.pause(paused.id)
        s.integrations.create(m.Integration(
            integration_type="calendar", status=IntegrationStatus.DISCONNECTED, metadata={NEEDS_REAUTH: True},
            config={"provider": "caldav", "url": "https://dav.example.org/cal/", "username": "sam",
                    "sync_frequency": "hourly"}))
        s.close()

        finished: list[str] = []
        window, ex = open_window(
            paths, 1280, 800, lambda w: w.integrations.sync_finished.connect(lambda r: finished.append(r.integration_id)))
        wait_until(lambda: window.is_open and len(set(finished)) >= 4)
        window.show_integrations()
        dialog = window.integrations_dialog
        assert dialog is not None
        wait_until(lambda: len(dialog.views) == 6 and broken.id in dialog.views
                   and str(dialog.views[broken.id].integration.status) == "error")
        dialog.select(broken.id)
        app.processEvents()
        dialog.grab().save(str(ROOT / "docs" / "integrations.png"))
        # A sync running: the row says so and Cancel sync appears (the slot the poller's signal calls).
        dialog._sync_started(notes.id)
        dialog.select(notes.id)
        app.processEvents()
        dialog.grab().save(str(ROOT / "docs" / "integrations-syncing.png"))
        dialog._sync_finished(SyncReport(notes.id, "cancelled", "Sync cancelled; nothing was changed."))
        wait_until(lambda: any(item.text(6).startswith("Sync cancelled") for item in dialog.items()))
        app.processEvents()
        dialog.grab().save(str(ROOT / "docs" / "integrations-cancelled.png"))
        form = dialog.open_form(None)
        form.provider.setCurrentIndex(form.provider.findData("caldav"))
        form.url.setText("https://dav.example.org/calendars/sam/")
        form.username.setText("sam")
        form.password.setText("••••••••")
        form.auto_reflect.setChecked(True)
        app.processEvents()
        form.grab().save(str(ROOT / "docs" / "integration-form.png"))
        form.reject()
        dialog.accept()

        window.journal.open_reflection(rid)
        wait_until(lambda: window.day_panel.isVisible() and len(window.day_panel.items) >= 4)
        app.processEvents()
        window.editor_column.grab().save(str(ROOT / "docs" / "day-panel.png"))

        shown: list[int] = []
        window.day_items.timeline_days_shown.connect(shown.append)
        window.show_view("threads")
        window.journal.show_thread(thread.id)
        wait_until(lambda: bool(shown))
        app.processEvents()
        window.timeline.grab().save(str(ROOT / "docs" / "timeline-calendar.png"))
        window.close()
    for name in ("integrations.png", "integrations-syncing.png", "integrations-cancelled.png", "integration-form.png",
                 "day-panel.png", "timeline-calendar.png"):
        print(ROOT / "docs" / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
