"""A CalDAV calendar added in the window against a real Radicale server: the typed password reaches the keychain only.

Radicale is the integration suite's own fixture (tests/integrations/conftest.py): a real server on 127.0.0.1.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from integrations.conftest import Radicale, radicale, radicale_server  # noqa: E402, F401 - the fixtures, reused
from test_integrations_window import add_via_dialog, fill_form, integrations, open_dialog, row_of  # noqa: E402

pytest.importorskip("caldav")


def _event(uid: str, summary: str, start: datetime) -> str:
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Mirror tests//EN", "BEGIN:VEVENT", f"UID:{uid}",
                        f"DTSTAMP:{datetime.now(UTC):%Y%m%dT%H%M%SZ}", f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
                        f"DTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}", f"SUMMARY:{summary}",
                        "END:VEVENT", "END:VCALENDAR", ""])


def test_caldav_with_a_typed_password(qtbot: Any, make_window: Any, journal_dir: Path, radicale: Radicale,  # noqa: F811
                                      memory_keyring: Any) -> None:
    cal = radicale.client().principal().make_calendar(name="Work")
    today = datetime.now().astimezone().replace(hour=15, minute=0, second=0, microsecond=0)
    cal.save_event(_event("dentist", "Dentist", today.astimezone(UTC)))
    w = make_window()
    dialog = open_dialog(qtbot, w)

    form = dialog.open_form(None)
    fill_form(form, "caldav", url=radicale.url, username=radicale.username, password="wrong password")
    form.test_button.click()
    qtbot.waitUntil(lambda: form.test_result.text().startswith(("✓", "✗")), timeout=20000)
    assert form.test_result.text().startswith("✗")
    form.password.setText(radicale.password)
    form.test_button.click()
    qtbot.waitUntil(lambda: form.test_result.text().startswith("✓"), timeout=20000)
    assert "1 events in the sync window" in form.test_result.text()
    form.reject()

    iid = add_via_dialog(qtbot, w, dialog, "caldav", url=radicale.url, username=radicale.username,
                         password=radicale.password)
    row = row_of(dialog, iid)
    assert (row[1], row[2], row[3], row[5]) == ("CalDAV calendar", "Calendar", "Active", "1")
    (stored,) = integrations(journal_dir)
    assert stored.config.get("credentials") == "keychain" and "password_file" not in stored.config
    assert radicale.password not in str(stored.config) + str(stored.metadata)
    assert memory_keyring.get_password("mirror-desktop", f"integration:{iid}") == radicale.password
    secrets = w.paths.config_dir / "integration-passwords"
    assert not secrets.exists() or list(secrets.iterdir()) == []  # the keychain took it: no file left behind

    with qtbot.waitSignal(w.day_items.day_shown, timeout=10000):
        w.new_reflection()
    assert any(t.endswith("Dentist") for t in w.day_panel.texts())
