"""Attachment fixtures: the same test bodies on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def storage(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[object]:
    from mirror_desktop.storage.journal import open_storage

    if backend == "postgres":
        s = open_storage(postgres_dsn=request.getfixturevalue("postgres_dsn"))
    else:
        s = open_storage(sqlite_path=tmp_path / "mirror_os.db")
    try:
        yield s
    finally:
        s.close()
