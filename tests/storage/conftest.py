"""Storage fixtures: the same test bodies run on a real SQLite file and a real PostgreSQL server.

The PostgreSQL fixtures (postgres_dsn …) come from tests/postgres_fixtures.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def journal_location(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, object]:
    """Keyword arguments for open_storage() pointing at an empty journal on ``backend``."""
    if backend == "postgres":
        return {"postgres_dsn": request.getfixturevalue("postgres_dsn")}
    return {"sqlite_path": tmp_path / "mirror_os.db"}


@pytest.fixture
def storage(journal_location: dict[str, object]) -> Iterator[object]:
    from mirror_desktop.storage.journal import open_storage

    s = open_storage(**journal_location)  # type: ignore[arg-type]
    try:
        yield s
    finally:
        s.close()
