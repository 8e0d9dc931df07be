"""Two and three devices sync through the real PostgreSQL server: both directions, incremental, idempotent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mirror_desktop.storage.migrations import load_migrations
from mirror_desktop.sync.errors import SyncUserError, WrongSyncPassphrase
from mirror_desktop.sync.server import SyncServer

from .conftest import PASSPHRASE, Device


def test_journal_migration_is_the_newest_or_older() -> None:
    versions = [m.version for m in load_migrations("sqlite")]
    assert "1.6.0" in versions and versions == [m.version for m in load_migrations("postgres")]


def test_two_devices_exchange_private_reflections(alice: str, devices: Callable[[str], Device]) -> None:
    a, b = devices("laptop"), devices("desktop")
    me = a.identity("Me")
    first = a.write("laptop words", me)
    a.sync.setup(alice, PASSPHRASE, device_name="laptop")
    b.sync.setup(alice, PASSPHRASE, device_name="desktop")
    ra = a.sync.sync_now()
    assert ra.pushed == 1 and ra.sent == {"sealed": 1}
    rb = b.sync.sync_now()
    assert rb.pulled == 1 and "laptop words" in b.texts()
    assert b.storage.reflections.get(first).visibility == "sync_full_private"  # same id on every device
    # the identity landed as a new local identity, its name never sent
    landed = b.storage.identities.get(b.storage.reflections.get(first).identity_id or "")
    assert landed.name != "Me"
    # the other way
    b.write("desktop words", landed.id)
    assert b.sync.sync_now().pushed == 1
    ra2 = a.sync.sync_now()
    assert ra2.pulled == 1 and "desktop words" in a.texts()
    # it lands in a's own identity: the key is the one a sent
    desk = next(r for r in a.storage.reflections.iter_all() if r.content == "desktop words")
    assert desk.identity_id == me
    # incremental and idempotent: nothing new means nothing moves
    again = a.sync.sync_now()
    assert (again.pushed, again.pulled, again.conflicts) == (0, 0, 0)
    assert b.sync.sync_now().pulled == 0
    assert a.storage.reflections.count() == b.storage.reflections.count() == 2


def test_wrong_passphrase_is_refused_at_setup_and_writes_nothing(alice: str, devices: Callable[[str], Device]) -> None:
    a, b = devices("a"), devices("b")
    a.sync.setup(alice, PASSPHRASE)
    b.write("typed before joining", b.identity("Me"))
    with pytest.raises(WrongSyncPassphrase, match="does not match"):
        b.sync.setup(alice, "not the passphrase at all")
    assert not b.sync.is_set_up()
    assert b.sync.status()["pending_changes"] == 0
    with pytest.raises(SyncUserError, match="not set up"):
        b.sync.sync_now()
    with SyncServer(alice) as server:
        assert server.counts()[0] == 0


def test_three_devices_converge_with_edits_and_deletions(alice: str, devices: Callable[[str], Device]) -> None:
    a, b, c = devices("a"), devices("b"), devices("c")
    me = a.identity("Me")
    ids = [a.write(f"entry {i}", me) for i in range(5)]
    for d in (a, b, c):
        d.sync.setup(alice, PASSPHRASE)
    a.sync.sync_now()
    b.sync.sync_now()
    c.sync.sync_now()
    b.journal.save_reflection("entry 1, edited on b", reflection_id=ids[1],
                              identity_id=b.storage.reflections.get(ids[1]).identity_id, visibility="sync_full_private")
    c.journal.delete_reflection(ids[2])
    for _ in range(2):
        for d in (a, b, c):
            d.sync.sync_now()
    expected = {"entry 0", "entry 1, edited on b", "entry 3", "entry 4"}
    assert a.texts() == b.texts() == c.texts() == expected


def test_identity_links_send_another_devices_identity_to_a_chosen_one(alice: str,
                                                                      devices: Callable[[str], Device]) -> None:
    a, b = devices("a"), devices("b")
    a_me = a.identity("Me")
    a.write("from the laptop", a_me)
    b_me = b.identity("Me on the desktop")
    for d in (a, b):
        d.sync.setup(alice, PASSPHRASE)
        d.sync.sync_now()
    links = b.sync.identity_links()
    assert len(links) == 1 and links[0]["name"] == "From another device"
    assert b.sync.link_identity(links[0]["identity_key"], b_me) == 1
    assert [i.id for i in b.storage.identities.list()] == [b_me]  # the stand-in identity went
    a.write("second from the laptop", a_me)
    a.sync.sync_now()
    b.sync.sync_now()
    assert {r.identity_id for r in b.storage.reflections.iter_all()} == {b_me}
    b.write("from the desktop, in my linked identity", b_me)
    b.sync.sync_now()
    a.sync.sync_now()
    assert {r.identity_id for r in a.storage.reflections.iter_all()} == {a_me}
    # the identity's name never left either device
    assert {i.name for i in a.storage.identities.list()} == {"Me"}


def test_a_password_in_the_address_goes_to_the_keychain_not_the_journal(make_role: Callable[[str], str],
                                                                         sync_server: str,
                                                                         devices: Callable[[str], Device]) -> None:
    import psycopg

    dsn = make_role("carol")
    role = dsn.split("//", 1)[1].split("@", 1)[0]
    with psycopg.connect(sync_server, autocommit=True) as con:
        con.execute(f"ALTER ROLE \"{role}\" PASSWORD 'hunter2-secret'")
    with_password = dsn.replace(f"{role}@", f"{role}:hunter2-secret@", 1)
    a = devices("a")
    a.sync.setup(with_password, PASSPHRASE)
    raw = a.path.read_bytes() + (a.path.parent / "a.db-wal").read_bytes()
    assert b"hunter2-secret" not in raw
    assert "hunter2-secret" not in str(a.sync.status())
    assert a.sync.sync_now().pushed == 0  # the password comes back from the keychain


def test_a_bundle_carries_no_sync_books(alice: str, devices: Callable[[str], Device], tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A journal restored from a bundle must not pose as the device that exported it, nor carry the server."""
    import sqlite3
    import zipfile

    from mirror_desktop.bundle.export import export_bundle
    from mirror_desktop.paths import AppPaths

    a, b = devices("a"), devices("b")
    a.write("synced", a.identity("Me"))
    for d in (a, b):
        d.sync.setup(alice, PASSPHRASE)
        d.sync.sync_now()
    out = tmp_path / "out"
    out.mkdir()
    result = export_bundle(b.storage, out, paths=AppPaths.resolve(tmp_path / "paths"))
    with zipfile.ZipFile(result.path) as zf:
        (tmp_path / "bundled.db").write_bytes(zf.read("mirror_os.db"))
    con = sqlite3.connect(tmp_path / "bundled.db")
    for table in ("sync_state", "sync_changes", "sync_rows", "sync_inbox", "sync_identity_links", "sync_identity_keys"):
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    assert con.execute("SELECT count(*) FROM reflections").fetchone()[0] == 1
    con.close()


def test_a_no_change_sync_reads_shared_reflections_through_their_index(alice: str,
                                                                       devices: Callable[[str], Device]) -> None:
    """The no-change sync cost 2.3 s at 100,000 reflections: sync_summary's query scanned the journal."""
    a = devices("a")
    me = a.identity("Me")
    a.write("private", me)
    a.sync.setup(alice, PASSPHRASE)
    a.sync.sync_now()
    seen: list[tuple[str, tuple]] = []
    real = a.storage.db.execute_sql

    def spy(sql: str, params: Any = (), *args: Any, **kw: Any) -> Any:
        seen.append((sql, tuple(params or ())))
        return real(sql, params, *args, **kw)

    a.storage.db.execute_sql = spy  # type: ignore[method-assign]
    try:
        a.storage.reflections.ids_with_visibility("sync_summary")
    finally:
        a.storage.db.execute_sql = real  # type: ignore[method-assign]
    sql, params = seen[-1]
    plan = " ".join(str(r[-1]) for r in real("EXPLAIN QUERY PLAN " + sql, params).fetchall())
    assert "idx_reflections_shared" in plan and "SCAN reflections" not in plan, plan
    assert a.sync.journal.state().get("summary_digest") == "none"  # nothing to summarise: not recomputed each sync
