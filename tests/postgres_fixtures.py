"""PostgreSQL for the tests: a throwaway server the suite starts itself, and a fresh database per test.

The server is initdb + pg_ctl in a temp dir on a free loopback port (through ``runuser -u postgres``
when running as root), or MIRROR_TEST_POSTGRES_DSN when set. Without PostgreSQL the cases that need
it skip with a reason — except under MIRROR_REQUIRE_POSTGRES=1 (set by CI), where they fail.
Registered for the whole suite in tests/conftest.py.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_BIN_DIRS = ["/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin",
               "/usr/lib/postgresql/14/bin"]


def _pg_bin() -> Path | None:
    for d in PG_BIN_DIRS:
        if (Path(d) / "initdb").exists():
            return Path(d)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """A throwaway PostgreSQL cluster for the test session."""

    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.root: Path | None = None
        self.port = 0
        self.as_root = os.geteuid() == 0

    def _run(self, *cmd: str) -> subprocess.CompletedProcess[str]:
        full = list(cmd)
        if self.as_root:
            full = ["runuser", "-u", "postgres", "--", *full]
        return subprocess.run(full, capture_output=True, text=True, timeout=60)

    def start(self) -> str:
        assert self.bin is not None
        self.root = Path(tempfile.mkdtemp(prefix="mirror-pg-", dir="/tmp"))
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
        data = self.root / "data"
        r = self._run(str(self.bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                      "--locale=C")
        if r.returncode != 0:
            raise RuntimeError(f"initdb failed: {r.stderr.strip()}")
        self.port = _free_port()
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        r = self._run(str(self.bin / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(self.root / "log"), "-w", "start")
        if r.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {r.stderr.strip()} {r.stdout.strip()}")
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        if self.root is None:
            return
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def _require_postgres() -> bool:
    return os.environ.get("MIRROR_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def postgres_admin_dsn() -> Iterator[str]:
    dsn = os.environ.get("MIRROR_TEST_POSTGRES_DSN")
    if dsn:
        yield dsn
        return
    server = PostgresServer()
    if server.bin is None:
        if _require_postgres():
            pytest.fail("PostgreSQL binaries (initdb, pg_ctl) are not installed, and MIRROR_REQUIRE_POSTGRES=1.")
        pytest.skip("PostgreSQL is not installed here (no initdb); install postgresql or set MIRROR_TEST_POSTGRES_DSN.")
    try:
        dsn = server.start()
    except Exception as exc:  # noqa: BLE001
        server.stop()
        if _require_postgres():
            pytest.fail(f"Could not start PostgreSQL: {exc}")
        pytest.skip(f"Could not start PostgreSQL: {exc}")
    try:
        yield dsn
    finally:
        server.stop()


@pytest.fixture
def postgres_dsn(postgres_admin_dsn: str) -> Iterator[str]:
    """A fresh, empty database per test."""
    import psycopg

    name = "mirror_test_" + uuid.uuid4().hex[:12]
    with psycopg.connect(postgres_admin_dsn, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    base = postgres_admin_dsn.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(postgres_admin_dsn, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


