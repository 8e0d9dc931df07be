"""Issue 17, item 5: the ``deletion`` event has triggers, and ``installation`` records the engine mode chosen.

Deleting a reflection or an identity, and purging the journal's older copies, are the places where Mirror
permanently removes something; each writes one signed ``deletion`` event with counts only. A new journal's
installation event carries the mode of the engine the person set up, not the default.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from mirror_desktop import cli
from mirror_desktop.core import lifecycle
from mirror_desktop.core.engine_settings import EngineSettings, EngineSettingsStore, make_config
from mirror_desktop.core.services import JournalService
from mirror_desktop.storage.journal import SQLiteStorage

SECRET = "the words that must never reach an event"


@pytest.fixture
def storage(tmp_path: Path):
    s = SQLiteStorage(tmp_path / "j" / "mirror_os.db")
    yield s
    s.close()


def deletions(storage) -> list[dict]:
    return [e.event_data for e in storage.evolution_events.list(event_type="deletion")]


def test_deleting_a_reflection_an_identity_and_backups_records_signed_deletions_without_content(storage) -> None:
    svc = JournalService(storage)
    work = svc.create_identity("Work")
    r = svc.save_reflection(SECRET, identity_id=work.id)
    assert deletions(storage) == []
    svc.delete_reflection(r.id)
    assert deletions(storage) == [{"what": "reflection", "count": 1}]
    svc.delete_reflection(r.id)   # nothing left to remove: nothing recorded
    svc.delete_identity(work.id)
    assert deletions(storage)[-1] == {"what": "identity", "count": 1}
    (storage.path.parent / "mirror_os.db.rollback-20260101_000000_000000").write_bytes(b"an older copy")
    assert len(storage.backup_files()) == 1
    svc.purge_backups()
    assert deletions(storage)[-1] == {"what": "backups", "count": 1}
    svc.purge_backups()   # nothing left: nothing recorded
    assert len(deletions(storage)) == 3
    events = storage.evolution_events.list(event_type="deletion")
    assert all(e.sync_allowed is False and e.mirror_signature for e in events)
    assert SECRET not in json.dumps([e.event_data for e in storage.evolution_events.list()])
    assert lifecycle.verify(storage).ok


def _events(data: Path, kind: str) -> list[dict]:
    con = sqlite3.connect(data / "mirror_os.db")
    try:
        return [json.loads(r[0]) for r in con.execute("SELECT event_data FROM evolution_events WHERE event_type = ?",
                                                      (kind,))]
    finally:
        con.close()


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("MIRROR_DATA_DIR", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    return tmp_path / "data"


def test_mirror_delete_records_a_deletion_event(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--data-dir", str(data), "reflect", "--json", SECRET]) == 0
    rid = json.loads(capsys.readouterr().out)["reflection_id"]
    assert cli.main(["--data-dir", str(data), "delete", rid]) == 0
    assert _events(data, "deletion") == [{"what": "reflection", "count": 1}]


@pytest.mark.parametrize("command", [["tension", "list"], ["reflect", "A first line"]])
def test_a_new_journal_records_the_engine_mode_the_person_chose(data: Path, command: list[str],
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    EngineSettingsStore(data / "config").save(EngineSettings(make_config(
        "ollama", base_url="http://127.0.0.1:9", model="llama3")))   # nothing listens: reflect falls back
    cli.main(["--data-dir", str(data), *command])
    capsys.readouterr()
    installs = [d for d in _events(data, "installation") if "platform" in d]
    assert [d["initial_mode"] for d in installs] == ["local_llm"]


def test_without_engine_settings_the_installation_says_manual(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--data-dir", str(data), "tension", "list"]) == 0
    capsys.readouterr()
    assert [d["initial_mode"] for d in _events(data, "installation") if "platform" in d] == ["manual"]


def test_import_from_and_export_to_record_their_events(data: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Spec 12's ``import`` ("Data imported") and ``export`` ("Data exported") for the other apps' formats too."""
    from tests.integrations.importing_helpers import dayone_entry, make_dayone

    export = make_dayone(tmp_path, [dayone_entry("A", SECRET), dayone_entry("B", "")])
    assert cli.main(["--data-dir", str(data), "import-from", "dayone", str(export), "--dry-run"]) == 0
    assert _events(data, "import") == []   # a dry run writes nothing, not even its record
    assert cli.main(["--data-dir", str(data), "import-from", "dayone", str(export)]) == 0
    assert _events(data, "import") == [{"kind": "import_from", "app": "dayone", "imported": 1, "skipped": 1,
                                        "already_present": 0, "attachments": 0}]
    assert cli.main(["--data-dir", str(data), "export-to", "markdown", "--out", str(tmp_path / "md")]) == 0
    capsys.readouterr()
    assert _events(data, "export") == [{"kind": "export_to", "format": "markdown", "reflections": 1, "attachments": 0}]
    con = sqlite3.connect(data / "mirror_os.db")
    try:
        assert SECRET not in json.dumps([r[0] for r in con.execute("SELECT event_data FROM evolution_events")])
    finally:
        con.close()


def _set_version(data: Path, version: str) -> None:
    s = SQLiteStorage(data / "mirror_os.db")
    try:
        s.writing.set_setting("app_version", version)
    finally:
        s.close()


def test_another_mirror_version_opening_the_journal_is_an_upgrade_or_downgrade(data: Path,
                                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Item 5: upgrade/downgrade for "app or schema version changes", here the app's."""
    from mirror_desktop import __version__

    assert cli.main(["--data-dir", str(data), "reflect", "A first line"]) == 0
    assert cli.main(["--data-dir", str(data), "list"]) == 0
    assert [e for e in _events(data, "upgrade") if e.get("kind") == "app"] == []   # same version: nothing
    _set_version(data, "0.0.1")   # as an older Mirror left it
    assert cli.main(["--data-dir", str(data), "list"]) == 0
    assert cli.main(["--data-dir", str(data), "list"]) == 0   # once, not on every open
    con = sqlite3.connect(data / "mirror_os.db")
    try:
        rows = con.execute("SELECT event_type, from_version, to_version FROM evolution_events "
                           "WHERE json_extract(event_data, '$.kind') = 'app'").fetchall()
    finally:
        con.close()
    assert rows == [("upgrade", "0.0.1", __version__)]
    _set_version(data, "99.0.0")
    assert cli.main(["--data-dir", str(data), "list"]) == 0
    capsys.readouterr()
    assert [e for e in _events(data, "downgrade") if e.get("kind") == "app"] == [{"kind": "app"}]


def test_a_journal_without_a_remembered_version_is_not_written_by_a_read(data: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    import hashlib

    assert cli.main(["--data-dir", str(data), "reflect", "A first line"]) == 0
    con = sqlite3.connect(data / "mirror_os.db")
    con.execute("DELETE FROM writing_settings WHERE key = 'app_version'")
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    before = hashlib.sha256((data / "mirror_os.db").read_bytes()).hexdigest()
    assert cli.main(["--data-dir", str(data), "list"]) == 0
    capsys.readouterr()
    assert hashlib.sha256((data / "mirror_os.db").read_bytes()).hexdigest() == before
