"""Fixtures for sync tests: the suite's PostgreSQL server with the sync schema, roles, device journals."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mirror_desktop.core.services import JournalService
from mirror_desktop.storage.journal import SQLiteStorage
from mirror_desktop.sync import crypto
from mirror_desktop.sync.server import SyncServer
from mirror_desktop.sync.service import SyncService

PASSPHRASE = "correct horse battery staple"


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crypto, "default_log2_n", 10)


@pytest.fixture
def sync_server(postgres_dsn: str) -> str:
    """The test database with the sync schema made by its owner (accounts are plain roles, not superusers)."""
    with SyncServer(postgres_dsn) as server:
        server.migrate()
    return postgres_dsn


@pytest.fixture
def make_role(sync_server: str) -> Iterator[Callable[[str], str]]:
    """A new login role on the server; returns the DSN to the test database as that role."""
    import psycopg

    made: list[str] = []

    def make(name: str) -> str:
        role = f"{name}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(sync_server, autocommit=True) as con:
            con.execute(f'CREATE ROLE "{role}" LOGIN')
        made.append(role)
        base, db = sync_server.rsplit("/", 1)
        host = base.split("@", 1)[1]
        return f"postgresql://{role}@{host}/{db}"

    yield make


@pytest.fixture
def alice(make_role: Callable[[str], str]) -> str:
    return make_role("alice")


class Device:
    """One device: its own SQLite journal, a JournalService to write through, and its SyncService."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.storage = SQLiteStorage(path)
        self.journal = JournalService(self.storage)
        self.sync = SyncService(self.storage)

    def identity(self, name: str) -> str:
        return self.journal.create_identity(name).id

    def write(self, text: str, identity_id: str, visibility: str = "sync_full_private", **kw: object) -> str:
        return self.journal.save_reflection(text, identity_id=identity_id, visibility=visibility, **kw).id  # type: ignore[arg-type]

    def texts(self) -> set[str]:
        return {r.content for r in self.storage.reflections.iter_all()}

    def close(self) -> None:
        self.storage.close()


@pytest.fixture
def devices(tmp_path: Path) -> Iterator[Callable[[str], Device]]:
    made: list[Device] = []

    def make(name: str) -> Device:
        d = Device(tmp_path / f"{name}.db")
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()
