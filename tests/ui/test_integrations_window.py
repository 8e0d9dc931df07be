"""Issue 14 in the window: File → Integrations…, the poller's QThread, and the day's calendar beside its reflections.

Real journals in tmp_path, the real window and executor, a real iCalendar sample (tests/data/ics) and
an Obsidian-like folder made here; nothing is mocked but the remove confirmation's click.
"""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialogButtonBox, QLabel

from mirror_desktop.app import open_journal
from mirror_desktop.core import models as m
from mirror_desktop.core.enums import IntegrationStatus
from mirror_desktop.core.integrations import NEEDS_REAUTH, IntegrationService
from mirror_desktop.paths import AppPaths
from mirror_desktop.storage.journal import SQLiteStorage
from mirror_desktop.ui.integrations.dialog import ID_ROLE, IntegrationFormDialog, IntegrationsDialog
from mirror_desktop.ui.journal.models.threads import DayItemsRole
from mirror_desktop.ui.main_window import MainWindow
from mirror_desktop.workers.executor import DatabaseExecutor

from test_gui_thread_db import Guard, GuardedStorage, guard  # noqa: F401 - the fixture, reused
from ui_helpers import seed

DATA = Path(__file__).resolve().parents[1] / "data" / "ics"
WOMENS_DAY = datetime(2022, 3, 8, 12, 0, tzinfo=UTC)  # a day example.ics has an all-day event on


def with_storage(data_dir: Path, fn: Any) -> Any:
    storage = SQLiteStorage(AppPaths.resolve(data_dir).database)
    try:
        return fn(storage)
    finally:
        storage.close()


def seed_reflection_on(data_dir: Path, when: datetime, text: str = "A quiet day at home.") -> str:
    seed(data_dir, lambda s: s.storage.reflections.count())  # the journal exists and is migrated
    return str(with_storage(data_dir, lambda s: s.reflections.create(m.Reflection(content=text, created_at=when)).id))


def integrations(data_dir: Path) -> list[m.Integration]:
    return with_storage(data_dir, lambda s: list(s.integrations.list()))


def open_dialog(qtbot: Any, window: MainWindow) -> IntegrationsDialog:
    window.show_integrations()
    dialog = window.integrations_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.isVisible(), timeout=5000)
    return dialog


def fill_form(form: IntegrationFormDialog, provider: str, **fields: Any) -> None:
    form.provider.setCurrentIndex(form.provider.findData(provider))
    for key, value in fields.items():
        widget = getattr(form, key)
        if hasattr(widget, "setValue"):
            widget.setValue(value)
        else:
            widget.setText(str(value))


def add_via_dialog(qtbot: Any, window: MainWindow, dialog: IntegrationsDialog, provider: str, **fields: Any) -> str:
    """Add… → fill the form → Add; waits for the first sync the add starts. Returns the integration id."""
    form = dialog.open_form(None)
    fill_form(form, provider, **fields)
    with qtbot.waitSignal(window.integrations.sync_finished, timeout=30000) as synced:
        with qtbot.waitSignal(window.integrations.integration_added, timeout=10000) as added:
            form.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    integ = added.args[0]
    assert synced.args[0].integration_id == integ.id
    qtbot.waitUntil(lambda: settled(dialog, integ.id), timeout=10000)
    return str(integ.id)


def settled(dialog: IntegrationsDialog, integration_id: str) -> bool:
    """The list shows the integration after a sync (synced, or failed with its sentence)."""
    v = dialog.views.get(integration_id)
    return v is not None and integration_id not in dialog.syncing and (
        v.integration.last_sync is not None or str(v.integration.status) != "active")


def row_of(dialog: IntegrationsDialog, integration_id: str) -> list[str]:
    """The row's cells as shown: source, type, status, last sync, items, in words."""
    for item in dialog.items():
        if item.data(0, ID_ROLE) == integration_id:
            return [item.text(c) for c in range(dialog.tree.columnCount())]
    raise AssertionError(f"{integration_id} is not listed")


@pytest.fixture
def calendar_file(tmp_path: Path) -> Path:
    cal = tmp_path / "holidays.ics"
    shutil.copy(DATA / "example.ics", cal)
    return cal


def test_add_a_calendar_file_test_connection_and_its_day_beside_the_reflection(qtbot, make_window, journal_dir: Path,
                                                                               calendar_file: Path) -> None:
    rid = seed_reflection_on(journal_dir, WOMENS_DAY)
    thread = seed(journal_dir, lambda s: s.create_thread("Spring", None))
    seed(journal_dir, lambda s: s.add_to_threads(rid, [thread.id]))
    w = make_window()
    assert w.integrations.poller.running  # started once the journal opened
    dialog = open_dialog(qtbot, w)
    assert dialog.empty.isVisible() and "No integrations yet" in dialog.empty.text()

    # Test connection runs off the GUI thread and writes nothing.
    form = dialog.open_form(None)
    fill_form(form, "ics_file", path=calendar_file, look_back=20000)
    assert form.path.isVisible() and not form.url.isVisible() and not form.password.isVisible()
    form.test_button.click()
    qtbot.waitUntil(lambda: form.test_result.text().startswith(("✓", "✗")), timeout=15000)
    assert form.test_result.text().startswith("✓") and "3 events" in form.test_result.text()
    assert integrations(journal_dir) == []
    form.reject()

    iid = add_via_dialog(qtbot, w, dialog, "ics_file", path=calendar_file, look_back=20000)
    source, provider, kind, status, _last, items, words = row_of(dialog, iid)
    assert (source, provider, kind, status, items) == ("holidays.ics", "Calendar file (.ics)", "Calendar", "Active", "3")
    assert words.startswith("Synced") and "3 items" in words
    assert str(calendar_file) in dialog.detail.text()
    dialog.accept()

    # The reflection's day: its all-day event in the side panel, beside the editor.
    with qtbot.waitSignal(w.day_items.day_shown, timeout=10000):
        w.journal.open_reflection(rid)
    qtbot.waitUntil(lambda: w.day_panel.isVisible(), timeout=5000)
    assert w.day_panel.texts() == ["All day  International Women's Day"]
    assert "Tuesday 8 March 2022" in w.day_panel.heading.text()
    # A new page is today's: no holiday of 2022 beside it.
    with qtbot.waitSignal(w.day_items.day_shown, timeout=10000):
        w.new_reflection()
    assert w.day_panel.texts() == [] and not w.day_panel.isVisible()

    # The thread timeline: the day's calendar on that reflection's row.
    with qtbot.waitSignal(w.day_items.timeline_days_shown, timeout=10000):
        w.journal.show_thread(thread.id)
    line = w.timeline_model.index(0, 0).data(DayItemsRole)
    assert "International Women's Day" in line


def test_pause_resume_sync_now_and_remove(qtbot, make_window, journal_dir: Path, calendar_file: Path) -> None:
    w = make_window()
    dialog = open_dialog(qtbot, w)
    iid = add_via_dialog(qtbot, w, dialog, "ics_file", path=calendar_file, look_back=20000)
    client = w.integrations

    dialog.select(iid)
    assert dialog.pause_button.text() == "Pause"
    with qtbot.waitSignal(dialog.list_shown, timeout=10000):
        dialog.pause_button.click()
    assert row_of(dialog, iid)[3] == "Paused" and "Resume to sync" in row_of(dialog, iid)[6]
    assert dialog.pause_button.text() == "Resume" and not dialog.sync_button.isEnabled()
    assert str(integrations(journal_dir)[0].status) == "paused"

    with qtbot.waitSignal(dialog.list_shown, timeout=10000):
        dialog.pause_button.click()
    assert row_of(dialog, iid)[3] == "Active" and dialog.sync_button.isEnabled()

    # Sync now: a new event in the file arrives without waiting for the daily schedule.
    text = calendar_file.read_text().replace("END:VCALENDAR", "BEGIN:VEVENT\r\nSUMMARY:Long walk\r\nDTSTART:20220308T170000Z\r\n"
                                             "DTEND:20220308T180000Z\r\nUID:walk-1@test\r\nEND:VEVENT\r\nEND:VCALENDAR")
    calendar_file.write_text(text)
    with qtbot.waitSignal(client.sync_finished, timeout=30000) as synced:
        dialog.sync_button.click()
    assert synced.args[0].added == 1
    qtbot.waitUntil(lambda: row_of(dialog, iid)[5] == "4", timeout=10000)

    # Remove asks first; a "no" keeps everything.
    asked: list[str] = []
    dialog.confirm = lambda t: asked.append(t) or False
    dialog.remove_button.click()
    assert asked and "4 items" in asked[0] and len(integrations(journal_dir)) == 1
    dialog.confirm = lambda t: True
    with qtbot.waitSignal(client.integration_removed, timeout=10000):
        dialog.remove_button.click()
    qtbot.waitUntil(lambda: dialog.empty.isVisible(), timeout=10000)
    assert integrations(journal_dir) == []
    assert with_storage(journal_dir, lambda s: s.integration_items.count()) == 0


def test_a_failing_source_shows_its_sentence_and_never_stops_the_others(qtbot, make_window, journal_dir: Path,
                                                                       tmp_path: Path, calendar_file: Path) -> None:
    w = make_window()
    dialog = open_dialog(qtbot, w)
    broken = tmp_path / "broken.ics"
    shutil.copy(DATA / "example.ics", broken)
    bad = add_via_dialog(qtbot, w, dialog, "ics_file", path=broken, look_back=20000)
    good = add_via_dialog(qtbot, w, dialog, "ics_file", path=calendar_file, look_back=20000)

    shutil.copy(DATA / "parsing_error.ics", broken)
    dialog.select(bad)
    with qtbot.waitSignal(w.integrations.sync_finished, timeout=30000) as failed:
        dialog.sync_button.click()
    assert failed.args[0].outcome == "error"
    qtbot.waitUntil(lambda: row_of(dialog, bad)[3] == "Error", timeout=10000)
    words = row_of(dialog, bad)[6]
    assert "broken.ics" in words or "EXDATE" in words
    assert words == failed.args[0].message  # the sentence itself, not a code
    assert row_of(dialog, bad)[5] == "3"  # the last good sync's items are kept
    assert words in dialog.detail.text()
    # The status bar says so too, and the window goes on.
    assert "could not sync" in w.sync_status.label.text()

    dialog.select(good)
    with qtbot.waitSignal(w.integrations.sync_finished, timeout=30000) as ok:
        dialog.sync_button.click()
    assert ok.args[0].integration_id == good and ok.args[0].ok
    assert row_of(dialog, good)[3] == "Active"


def test_a_notes_folder_becomes_reflections_in_the_list(qtbot, make_window, journal_dir: Path, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    (vault / ".obsidian").mkdir(parents=True)
    (vault / ".obsidian" / "app.json").write_text("{}")
    (vault / "Mornings.md").write_text("---\ntags: [sleep]\n---\nWoke before the alarm again.\n")
    (vault / "ideas").mkdir()
    (vault / "ideas" / "Garden.md").write_text("Plant the beans by the fence.\n")
    w = make_window()
    dialog = open_dialog(qtbot, w)
    form = dialog.open_form(None)
    fill_form(form, "obsidian", path=vault)
    assert form._rows["path"][0].text() == "Vault folder" and not form.look_back.isVisible()
    form.reject()
    with qtbot.waitSignal(w.list_model.first_page_loaded, timeout=30000):
        iid = add_via_dialog(qtbot, w, dialog, "obsidian", path=vault)
    assert row_of(dialog, iid)[:4] == ["vault", "Obsidian vault (Markdown folder)", "Notes", "Active"]
    assert row_of(dialog, iid)[5] == "2"
    qtbot.waitUntil(lambda: w.list_model.rowCount() == 2, timeout=10000)
    titles = {w.list_model.index(r, 0).data() for r in range(2)}
    assert any("Woke before the alarm" in t for t in titles) and any("Plant the beans" in t for t in titles)


def test_a_disconnected_integration_asks_for_its_password_again(qtbot, make_window, journal_dir: Path) -> None:
    seed(journal_dir, lambda s: s.storage.reflections.count())

    def imported(s: Any) -> str:
        integ = m.Integration(integration_type="calendar", status=IntegrationStatus.DISCONNECTED,
                              config={"provider": "ics_url", "url": "http://127.0.0.1:9/cal.ics", "username": "ana",
                                      "sync_frequency": "manual"},
                              metadata={NEEDS_REAUTH: True})
        return str(s.integrations.create(integ).id)

    iid = with_storage(journal_dir, imported)
    w = make_window()
    # The window says so without being asked.
    qtbot.waitUntil(lambda: w.sync_status.isVisible(), timeout=10000)
    assert w.sync_status.label.text() == "1 integration needs the password again (File → Integrations…)"
    dialog = open_dialog(qtbot, w)
    qtbot.waitUntil(lambda: iid in dialog.views, timeout=10000)
    assert dialog.notice.isVisible() and "credentials are entered again" in dialog.notice.text()
    assert row_of(dialog, iid)[3] == "Disconnected" and "imported bundle" in row_of(dialog, iid)[6]
    dialog.select(iid)
    assert dialog.pause_button.text() == "Reconnect…"
    dialog.pause_button.click()
    form = dialog.form_dialog
    assert form is not None and form.windowTitle() == "Reconnect integration" and form.password.isVisible()
    form.password.setText("s3cret")
    with qtbot.waitSignal(w.integrations.integration_updated, timeout=10000):
        form.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    (stored,) = integrations(journal_dir)
    assert str(stored.status) in ("active", "error")  # active again (a sync may already have failed on the URL)
    assert stored.config.get("credentials") == "keychain" and NEEDS_REAUTH not in (stored.metadata or {})
    assert "s3cret" not in str(stored.config) and "s3cret" not in str(stored.metadata)


def test_a_refused_form_keeps_the_dialog_open_with_the_sentence(qtbot, make_window, tmp_path: Path) -> None:
    w = make_window()
    dialog = open_dialog(qtbot, w)
    form = dialog.open_form(None)
    fill_form(form, "ics_file", path=tmp_path / "nowhere.ics")
    form.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    qtbot.waitUntil(lambda: form.error.isVisible(), timeout=10000)
    assert "nowhere.ics is not a file" in form.error.text() and form.isVisible()
    form.test_button.click()
    qtbot.waitUntil(lambda: form.test_result.text().startswith(("✓", "✗")), timeout=15000)
    assert form.test_result.text().startswith("✗")
    fill_form(form, "caldav", url="https://dav.example.org/cal/", username="ana")
    assert form.password.isVisible() and form.password_file.isVisible() and not form.path.isVisible()
    form.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    qtbot.waitUntil(lambda: "needs its password" in form.error.text(), timeout=10000)
    assert w.integrations.poller.running and integrations_of(w) == []


def integrations_of(w: MainWindow) -> list[m.Integration]:
    return integrations(w.paths.data_dir)


class HangingServer:
    """Accepts connections on 127.0.0.1 and never answers: a calendar server that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.accepted = threading.Event()
        self.conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            self.accepted.set()

    def close(self) -> None:
        self.sock.close()
        for c in self.conns:
            c.close()


@pytest.fixture
def hanging_server() -> Iterator[HangingServer]:
    server = HangingServer()
    yield server
    server.close()


def test_quitting_stops_the_poller_while_a_server_hangs(qtbot, make_window, journal_dir: Path,
                                                        hanging_server: HangingServer) -> None:
    seed(journal_dir, lambda s: s.storage.reflections.count())
    with_storage(journal_dir, lambda s: IntegrationService(s).add(
        "calendar", "ics_url", url=f"http://127.0.0.1:{hanging_server.port}/cal.ics", every="hourly"))
    w = make_window()
    with qtbot.waitSignal(w.integrations.sync_started, timeout=15000):
        pass
    qtbot.waitUntil(hanging_server.accepted.is_set, timeout=15000)
    qtbot.waitUntil(lambda: w.sync_status.isVisible() and "Syncing" in w.sync_status.label.text(), timeout=5000)
    poller = w.integrations.poller
    w.close()
    assert not poller.running  # close waited for the poller, which left the hanging fetch behind
    (integ,) = integrations(journal_dir)
    assert integ.last_sync is None and (integ.metadata or {}).get("last_error") is None  # nothing written


def test_integrations_never_touch_the_database_on_the_gui_thread(qtbot, guard: Guard, journal_dir: Path,  # noqa: F811
                                                                 calendar_file: Path) -> None:
    rid = seed_reflection_on(journal_dir, WOMENS_DAY)
    paths = AppPaths.resolve(journal_dir)
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    settings = QSettings(str(paths.settings_file), QSettings.Format.IniFormat)
    executor = DatabaseExecutor(lambda: GuardedStorage(open_journal(paths.database), guard))
    guard.armed = True
    window = MainWindow(executor, paths, settings)
    try:
        with qtbot.waitSignal(window.settled, timeout=15000):
            window.show()
            executor.start()
        dialog = open_dialog(qtbot, window)
        iid = add_via_dialog(qtbot, window, dialog, "ics_file", path=calendar_file, look_back=20000)
        dialog.select(iid)
        with qtbot.waitSignal(window.integrations.sync_finished, timeout=30000):
            dialog.sync_button.click()
        with qtbot.waitSignal(dialog.list_shown, timeout=10000):
            dialog.pause_button.click()
        with qtbot.waitSignal(window.day_items.day_shown, timeout=10000):
            window.journal.open_reflection(rid)
        assert window.day_panel.texts() == ["All day  International Women's Day"]
        window.close()
    finally:
        guard.armed = False
        window.close()
        window.deleteLater()
    assert guard.violations == []


def test_edit_points_an_integration_at_another_file_and_reads_it_again(qtbot, make_window, journal_dir: Path,
                                                                      tmp_path: Path, calendar_file: Path) -> None:
    w = make_window()
    assert not w.day_panel.isVisible()  # today has no holiday of 2022
    dialog = open_dialog(qtbot, w)
    iid = add_via_dialog(qtbot, w, dialog, "ics_file", path=calendar_file, look_back=20000)
    other = tmp_path / "new-york.ics"
    shutil.copy(DATA / "america_new_york.ics", other)
    dialog.select(iid)
    dialog.edit_button.click()
    form = dialog.form_dialog
    assert form is not None and form.windowTitle() == "Edit integration" and not form.provider.isEnabled()
    assert form.path.text() == str(calendar_file.resolve()) and form.look_back.value() == 20000
    form.path.setText(str(other))
    form.every.setCurrentIndex(form.every.findData("hourly"))
    with qtbot.waitSignal(w.integrations.sync_finished, timeout=30000):
        form.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    qtbot.waitUntil(lambda: row_of(dialog, iid)[0] == "new-york.ics" and row_of(dialog, iid)[5] == "1", timeout=10000)
    (stored,) = integrations(journal_dir)
    assert stored.config["sync_frequency"] == "hourly" and stored.config["path"] == str(other)
    assert "Every hour" in dialog.detail.text()


def test_a_calendar_that_belongs_to_an_identity_follows_the_switcher(qtbot, make_window, journal_dir: Path,
                                                                     calendar_file: Path) -> None:
    work = seed(journal_dir, lambda s: s.create_identity("Work self", "#4c7fd9"))
    home = seed(journal_dir, lambda s: s.create_identity("Home", "#d94c7f"))
    rid = seed_reflection_on(journal_dir, WOMENS_DAY)
    w = make_window()
    dialog = open_dialog(qtbot, w)
    qtbot.waitUntil(lambda: len(dialog.identities) == 2, timeout=10000)
    form = dialog.open_form(None)
    assert [form.identity.itemText(i) for i in range(form.identity.count())] == ["Every identity", "Home", "Work self"]
    form.reject()
    iid = add_via_dialog(qtbot, w, dialog, "ics_file", path=calendar_file, look_back=20000)
    dialog.select(iid)
    dialog.edit_button.click()
    form = dialog.form_dialog
    assert form is not None
    form.identity.setCurrentIndex(form.identity.findData(work.id))
    with qtbot.waitSignal(w.integrations.integration_updated, timeout=10000):
        form.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert integrations(journal_dir)[0].identity_id == work.id
    qtbot.waitUntil(lambda: "belongs to Work self" in dialog.detail.text(), timeout=10000)
    dialog.accept()

    with qtbot.waitSignal(w.day_items.day_shown, timeout=10000):
        w.journal.select_identity(home.id)
    with qtbot.waitSignal(w.day_items.day_shown, timeout=10000):
        w.journal.open_reflection(rid)
    assert w.day_panel.texts() == []  # Home's days show no Work calendar
    with qtbot.waitSignal(w.day_items.day_shown, timeout=10000):
        w.journal.select_identity(work.id)
    assert w.day_panel.texts() == ["All day  International Women's Day"]


def test_auto_reflect_in_the_form_makes_each_new_event_a_draft(qtbot, make_window, journal_dir: Path,
                                                               calendar_file: Path) -> None:
    """Issue 14, item 3: the add form's "Turn new events into drafts" (metadata.auto_reflect) — an event
    that arrives later becomes a draft reflection to write into; unticked in Edit, the next one does not."""
    w = make_window()
    dialog = open_dialog(qtbot, w)
    form = dialog.open_form(None)
    fill_form(form, "ics_file", path=calendar_file, look_back=20000)
    assert form.auto_reflect.isVisible() and not form.auto_reflect.isChecked()
    assert any("draft reflection" in lab.text() for lab in form.findChildren(QLabel) if lab.isVisible())
    form.provider.setCurrentIndex(form.provider.findData("obsidian"))
    assert not form.auto_reflect.isVisible()  # notes are reflections already
    form.provider.setCurrentIndex(form.provider.findData("ics_file"))
    form.auto_reflect.setChecked(True)
    with qtbot.waitSignal(w.integrations.sync_finished, timeout=30000) as synced:
        with qtbot.waitSignal(w.integrations.integration_added, timeout=10000) as added:
            form.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    iid = added.args[0].id
    assert synced.args[0].drafts == 3
    assert (integrations(journal_dir)[0].metadata or {}).get("auto_reflect") is True

    # A new event arrives: it becomes a draft holding its title and time, for this integration.
    calendar_file.write_text(calendar_file.read_text().replace(
        "END:VCALENDAR", "BEGIN:VEVENT\r\nSUMMARY:Dinner with Ana\r\nDTSTART:20220309T190000Z\r\n"
        "DTEND:20220309T210000Z\r\nUID:dinner-1@test\r\nEND:VEVENT\r\nEND:VCALENDAR"))
    qtbot.waitUntil(lambda: settled(dialog, iid), timeout=10000)
    dialog.select(iid)
    with qtbot.waitSignal(w.integrations.sync_finished, timeout=30000) as synced:
        dialog.sync_button.click()
    assert (synced.args[0].added, synced.args[0].drafts) == (1, 1)
    drafts = with_storage(journal_dir, lambda s: s.drafts.list())
    dinner = [d for d in drafts if "Dinner with Ana" in d.content]
    assert len(dinner) == 1 and dinner[0].metadata["external_id"].startswith("dinner-1@test")
    assert dinner[0].metadata["integration_id"] == iid

    # Edit: unticked, the next new event stays context only.
    qtbot.waitUntil(lambda: settled(dialog, iid), timeout=10000)
    edit = dialog.open_form(iid)
    assert edit.auto_reflect.isChecked()
    edit.auto_reflect.setChecked(False)
    with qtbot.waitSignal(w.integrations.integration_updated, timeout=10000):
        edit.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert (integrations(journal_dir)[0].metadata or {}).get("auto_reflect") is False


def test_cancel_sync_in_the_dialog_writes_nothing_and_says_so(qtbot, make_window, journal_dir: Path,
                                                             gated_calendar) -> None:
    source = gated_calendar("test_gated_window")
    seed(journal_dir, lambda s: s.storage.reflections.count())
    iid = with_storage(journal_dir, lambda s: IntegrationService(s).add("calendar", "test_gated_window",
                                                                        every="manual").id)
    w = make_window()
    dialog = open_dialog(qtbot, w)
    try:
        qtbot.waitUntil(lambda: iid in dialog.views, timeout=10000)
        dialog.select(iid)
        assert not dialog.cancel_button.isVisible()
        dialog.sync_button.click()
        qtbot.waitUntil(source.entered.is_set, timeout=15000)
        qtbot.waitUntil(lambda: dialog.cancel_button.isVisible(), timeout=5000)
        assert row_of(dialog, iid)[6] == "Syncing…"
        with qtbot.waitSignal(w.integrations.sync_finished, timeout=15000) as finished:
            dialog.cancel_button.click()
        assert finished.args[0].outcome == "cancelled"
        qtbot.waitUntil(lambda: row_of(dialog, iid)[6] == "Sync cancelled; nothing was changed.", timeout=10000)
        assert not dialog.cancel_button.isVisible()
        assert "Sync cancelled" in dialog.detail.text()
        assert "Sync cancelled; nothing was changed." in w.sync_status.label.text()  # the status bar too
    finally:
        source.gate.set()
    assert with_storage(journal_dir, lambda s: s.integration_items.count()) == 0
    assert integrations(journal_dir)[0].last_sync is None
