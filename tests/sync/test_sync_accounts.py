"""Accounts on one server stay apart: row-level security holds each role to its own rows."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from mirror_desktop.sync.server import SyncServer

from .conftest import PASSPHRASE, Device


def test_two_accounts_cannot_read_or_overwrite_each_other(make_role: Callable[[str], str],
                                                          devices: Callable[[str], Device]) -> None:
    alice, bob = make_role("alice"), make_role("bob")
    a, b = devices("alice"), devices("bob")
    a.write("alice's own words", a.identity("Alice"))
    b.write("bob's own words", b.identity("Bob"))
    a.sync.setup(alice, PASSPHRASE)
    b.sync.setup(bob, "another household passphrase")
    a.sync.sync_now()
    b.sync.sync_now()
    assert b.texts() == {"bob's own words"} and a.texts() == {"alice's own words"}

    with psycopg.connect(bob, autocommit=True) as con:
        seen = con.execute("SELECT DISTINCT account FROM mirror_sync.rows").fetchall()
        assert [r[0] for r in seen] == [SyncServer(bob).account]
        assert con.execute("SELECT count(*) FROM mirror_sync.accounts").fetchone()[0] == 1
        # overwriting alice's rows changes nothing; writing rows in her name is refused
        cur = con.execute("UPDATE mirror_sync.rows SET payload = 'x', version = version + 1 "
                          "WHERE account <> current_user")
        assert cur.rowcount == 0
        alice_role = SyncServer(alice).account
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            con.execute("INSERT INTO mirror_sync.rows (account, entity, row_id, version, hlc, device, format, kind, tag) "
                        "VALUES (%s, 'reflections', 'r1', 1, 'h', 'd', 1, 'tombstone', 'x')", (alice_role,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            con.execute("DELETE FROM mirror_sync.rows")
    # alice's next sync sees her rows untouched
    assert a.sync.sync_now().refused == 0
    assert a.texts() == {"alice's own words"}


def test_a_second_device_of_another_role_cannot_join_an_account(make_role: Callable[[str], str],
                                                                devices: Callable[[str], Device]) -> None:
    """The passphrase alone joins nothing: the account is the PostgreSQL role, so bob's role sees an account of its own."""
    alice, bob = make_role("alice"), make_role("bob")
    a, b = devices("a"), devices("b")
    a.write("alice only", a.identity("Alice"))
    a.sync.setup(alice, PASSPHRASE)
    a.sync.sync_now()
    result = b.sync.setup(bob, PASSPHRASE)
    assert result["created_account"] is True
    b.sync.sync_now()
    assert b.texts() == set()
