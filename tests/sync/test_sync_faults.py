"""Faults: one sentence each, nothing lost, nothing leaked, the journal intact.

Tampered, swapped and replayed rows; a row from a newer Mirror; clocks far apart; two syncs of one
journal at once; a connection dropped before or after the server took a push; LISTEN/NOTIFY.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg
import pytest

from mirror_desktop.sync import hlc, service
from mirror_desktop.sync.errors import ServerUnreachable, SyncBusy, SyncError
from mirror_desktop.sync.server import Listener

from .conftest import PASSPHRASE, Device


def _pair(alice: str, devices: Callable[[str], Device], n: int = 2) -> tuple[Device, Device, list[str]]:
    a, b = devices("a"), devices("b")
    me = a.identity("Me")
    ids = [a.write(f"entry {i}", me) for i in range(n)]
    for d in (a, b):
        d.sync.setup(alice, PASSPHRASE)
    a.sync.sync_now()
    return a, b, ids


def test_tampered_and_swapped_rows_are_refused(alice: str, sync_server: str, devices: Callable[[str], Device]) -> None:
    a, b, ids = _pair(alice, devices)
    with psycopg.connect(sync_server) as con:
        # flip a byte of one ciphertext, and give the other row the first row's (valid) ciphertext
        con.execute("UPDATE mirror_sync.rows SET payload = overlay(payload placing '\\x00'::bytea from 20 for 1) "
                    "WHERE row_id = %s", (ids[0],))
        con.execute("UPDATE mirror_sync.rows SET payload = (SELECT payload FROM mirror_sync.rows WHERE row_id = %s) "
                    "WHERE row_id = %s", (ids[0], ids[1]))
    report = b.sync.sync_now()
    assert report.refused == 2 and report.pulled == 0
    assert any("integrity check" in w for w in report.warnings)
    assert b.storage.reflections.count() == 0


def test_a_replayed_older_row_is_refused(alice: str, sync_server: str, devices: Callable[[str], Device]) -> None:
    a, b, ids = _pair(alice, devices)
    b.sync.sync_now()
    with psycopg.connect(sync_server) as con:
        old = con.execute("SELECT version, hlc, payload, tag FROM mirror_sync.rows WHERE row_id = %s", (ids[0],)).fetchone()
    r = a.storage.reflections.get(ids[0])
    a.journal.save_reflection("entry 0, the newer text", reflection_id=ids[0], identity_id=r.identity_id,
                              visibility="sync_full_private")
    a.sync.sync_now()
    b.sync.sync_now()
    assert b.storage.reflections.get(ids[0]).content == "entry 0, the newer text"
    # the server puts the old row back, with its old version (its tag binds the version), as a new change
    with psycopg.connect(sync_server) as con:
        con.execute("UPDATE mirror_sync.rows SET version = %s, hlc = %s, payload = %s, tag = %s, "
                    "seq = nextval('mirror_sync.rows_seq_seq') WHERE row_id = %s", (*old, ids[0]))
    report = b.sync.sync_now()
    assert report.refused == 1
    assert b.storage.reflections.get(ids[0]).content == "entry 0, the newer text"


def test_a_row_from_a_newer_mirror_waits(alice: str, sync_server: str, devices: Callable[[str], Device]) -> None:
    a, b, ids = _pair(alice, devices)
    with psycopg.connect(sync_server) as con:
        con.execute("UPDATE mirror_sync.rows SET format = 2 WHERE row_id = %s", (ids[0],))
    report = b.sync.sync_now()
    assert report.pulled == 1 and report.waiting == 1
    assert any("newer Mirror" in w and "update Mirror" in w for w in report.warnings)
    assert b.sync.status()["newer_format_rows"] == 1
    assert {r.content for r in b.storage.reflections.iter_all()} == {"entry 1"}


def test_clocks_far_apart_still_order_edits(alice: str, devices: Callable[[str], Device],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    a, b, ids = _pair(alice, devices, n=1)
    real = hlc.now_ms
    monkeypatch.setattr(hlc, "now_ms", lambda: real() + 5 * 3_600_000)  # a's clock runs five hours ahead
    r = a.storage.reflections.get(ids[0])
    a.journal.save_reflection("edited by the fast clock", reflection_id=ids[0], identity_id=r.identity_id,
                              visibility="sync_full_private")
    # the journal's own clock (SQLite's now, in the change record) runs as far ahead
    a.storage.db.execute_sql("UPDATE sync_changes SET changed_ms = changed_ms + ?", (5 * 3_600_000,))
    a.sync.sync_now()
    monkeypatch.setattr(hlc, "now_ms", real)
    report = b.sync.sync_now()
    assert any("hours ahead" in w for w in report.warnings)
    # b's next edit is still later than a's, though b's wall clock is hours behind
    rb = b.storage.reflections.get(ids[0])
    b.journal.save_reflection("edited after, by the slow clock", reflection_id=ids[0], identity_id=rb.identity_id,
                              visibility="sync_full_private")
    b.sync.sync_now()
    a.sync.sync_now()
    assert a.storage.reflections.get(ids[0]).content == "edited after, by the slow clock"


def test_two_syncs_of_one_journal_at_once(alice: str, devices: Callable[[str], Device],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    a, b, _ids = _pair(alice, devices)
    started, release = threading.Event(), threading.Event()

    def hold(step: str) -> None:
        if step == "pull":
            started.set()
            release.wait(10)

    monkeypatch.setattr(service, "FAULT_HOOK", hold)
    from mirror_desktop.storage.journal import SQLiteStorage
    from mirror_desktop.sync.service import SyncService

    results: list[object] = []

    def first() -> None:
        st = SQLiteStorage(b.path)
        try:
            results.append(SyncService(st).sync_now())
        finally:
            st.close()

    t = threading.Thread(target=first)
    t.start()
    assert started.wait(10)
    with pytest.raises(SyncBusy, match="Another sync of this journal is running"):
        b.sync.sync_now()
    release.set()
    t.join(30)
    assert results and results[0].pulled == 2  # type: ignore[attr-defined]


@pytest.mark.parametrize("step", ["before-push", "after-push", "apply", "pull"])
def test_a_dropped_connection_loses_nothing_and_converges(alice: str, sync_server: str, step: str,
                                                          devices: Callable[[str], Device],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    a, b, ids = _pair(alice, devices, n=3)
    bid = b.identity("Desk")
    b.write("typed on b", bid)
    fired = []

    def drop(at: str) -> None:
        if at == step and not fired:
            fired.append(at)
            raise ServerUnreachable("Could not reach the sync server (connection dropped); nothing was lost.")

    monkeypatch.setattr(service, "FAULT_HOOK", drop)
    with pytest.raises(ServerUnreachable):
        b.sync.sync_now()
    assert fired and b.sync.status()["last_error"].startswith("Could not reach")
    monkeypatch.setattr(service, "FAULT_HOOK", None)
    b.sync.sync_now()
    a.sync.sync_now()
    expected = {"entry 0", "entry 1", "entry 2", "typed on b"}
    assert [sorted(d.texts()) for d in (a, b)] == [sorted(expected)] * 2
    assert a.storage.reflections.count() == b.storage.reflections.count() == 4
    with psycopg.connect(sync_server) as con:
        assert con.execute("SELECT count(*) FROM mirror_sync.rows WHERE entity = 'reflections'").fetchone()[0] == 4


def test_notify_wakes_a_listening_device(alice: str, devices: Callable[[str], Device]) -> None:
    a, b, _ids = _pair(alice, devices, n=0)
    listener = Listener(alice)
    try:
        assert listener.wait(0.2) is False
        a.write("wake up", a.storage.identities.list()[0].id)
        a.sync.sync_now()
        assert listener.wait(5) is True
    finally:
        listener.close()
    assert b.sync.sync_now().pulled == 1


def test_a_full_server_disk_is_one_sentence_and_keeps_the_changes(alice: str, sync_server: str,
                                                                   devices: Callable[[str], Device]) -> None:
    """The server refuses writes as a full disk does (SQLSTATE 53100, raised by a trigger here)."""
    a, _b, _ids = _pair(alice, devices, n=1)
    with psycopg.connect(sync_server, autocommit=True) as con:
        con.execute("CREATE FUNCTION mirror_sync.full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    "RAISE EXCEPTION 'could not extend file' USING ERRCODE = 'disk_full'; END $$")
        con.execute("CREATE TRIGGER disk_full BEFORE INSERT OR UPDATE ON mirror_sync.rows "
                    "FOR EACH ROW EXECUTE FUNCTION mirror_sync.full()")
    a.write("typed while the server is full", a.storage.identities.list()[0].id)
    with pytest.raises(SyncError, match="out of disk space"):
        a.sync.sync_now()
    assert a.sync.status()["pending_changes"] == 1
    with psycopg.connect(sync_server, autocommit=True) as con:
        con.execute("DROP TRIGGER disk_full ON mirror_sync.rows")
    assert a.sync.sync_now().pushed == 1
