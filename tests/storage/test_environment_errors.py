"""Database failures the environment causes become one sentence; bugs are left to surface."""

from __future__ import annotations

import peewee
import pytest

from mirror_desktop.storage.database import environment_error, sqlite_module


@pytest.mark.parametrize("exc, needle", [
    (peewee.OperationalError("database is locked"), "busy"),
    (peewee.OperationalError("database or disk is full"), "disk is full"),
    (peewee.OperationalError("attempt to write a readonly database"), "read-only"),
    (peewee.DatabaseError("database disk image is malformed"), "damaged"),
    (sqlite_module().OperationalError("disk I/O error"), "disk I/O error"),
])
def test_environment_failures_are_one_sentence(exc: Exception, needle: str) -> None:
    err = environment_error(exc)
    assert err is not None and needle in str(err)
    assert "\n" not in str(err) and str(err).endswith(".")


@pytest.mark.parametrize("exc", [
    peewee.IntegrityError("CHECK constraint failed"),
    peewee.ProgrammingError("syntax error"),
    sqlite_module().IntegrityError("UNIQUE constraint failed"),
    ValueError("not a database error"),
])
def test_bugs_are_not_disguised(exc: Exception) -> None:
    assert environment_error(exc) is None
