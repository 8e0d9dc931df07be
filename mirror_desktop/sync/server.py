"""The sync server: the ``mirror_sync`` schema on PostgreSQL, its migrations, and the statements sync runs.

Its migrations live in migrations/sync_server/ and are applied like the journal's: in order, each
with its ``schema_version`` row (file checksum) in one transaction; a changed file or a schema newer
than this Mirror is refused. Every statement goes through ``_execute`` so a test can see every
byte that is sent (``trace``). Connection failures become one sentence (ServerUnreachable).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from mirror_desktop.resources import migrations_dir
from mirror_desktop.storage.migrations import MigrationFile, load_migrations, parse_version
from mirror_desktop.sync.errors import ServerUnreachable, SyncError, SyncUserError

SCHEMA = "mirror_sync"
CONNECT_TIMEOUT_S = 10
# Tests set this to a callable receiving (sql, params) for every statement sent to the server.
trace: Callable[[str, Any], None] | None = None


@dataclass(frozen=True)
class ServerRow:
    seq: int
    entity: str
    row_id: str
    version: int
    hlc: str
    device: str
    format: int
    kind: str
    payload: bytes | None
    tag: bytes


def safe_dsn(dsn: str) -> str:
    """The DSN without its password, for the journal and for messages."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "(an unreadable address)"
    params.pop("password", None)
    return psycopg.conninfo.make_conninfo(**params)  # type: ignore[arg-type]


def has_password(dsn: str) -> bool:
    """Whether the DSN carries a password (URL or key=value form): then it never goes into the journal."""
    try:
        return bool(psycopg.conninfo.conninfo_to_dict(dsn).get("password"))
    except psycopg.ProgrammingError:
        return False


def where(dsn: str) -> str:
    try:
        params = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "the sync server"
    host, port = params.get("host") or "localhost", params.get("port") or "5432"
    return f"the sync server {host}:{port}"


def _unreachable(dsn: str, exc: Exception) -> ServerUnreachable:
    detail = str(exc).strip().splitlines()[0].strip() if str(exc).strip() else type(exc).__name__
    return ServerUnreachable(f"Could not reach {where(dsn)} ({detail}); nothing was lost, "
                             "your changes stay here and go at the next sync.")


def _failure(dsn: str, exc: Exception) -> SyncError:
    """A server-side failure in one sentence: no room on the server, or the server out of reach."""
    if isinstance(exc, (psycopg.errors.DiskFull, psycopg.errors.InsufficientResources, psycopg.errors.OutOfMemory)):
        return SyncError(f"{where(dsn).capitalize()} is out of disk space or memory; nothing was lost, your "
                         "changes stay here and go when its owner makes room.")
    return _unreachable(dsn, exc)


class SyncServer:
    """One connection to the sync server as the account's own PostgreSQL role."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        try:
            self.con = psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True)
        except (psycopg.OperationalError, psycopg.ProgrammingError) as exc:
            raise _unreachable(dsn, exc) from None
        self.account = str(self._one("SELECT current_user")[0])

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.con.close()

    def __enter__(self) -> SyncServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _execute(self, sql: str, params: Any = None) -> psycopg.Cursor[Any]:
        if trace is not None:
            trace(sql, params)
        try:
            return self.con.execute(sql, params)
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise _failure(self.dsn, exc) from None

    def _one(self, sql: str, params: Any = None) -> Any:
        row = self._execute(sql, params).fetchone()
        assert row is not None  # an aggregate or a function call always returns a row
        return row

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        try:
            with self.con.transaction():
                yield
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise _failure(self.dsn, exc) from None

    # -- schema --------------------------------------------------------------------------------
    def migrations(self) -> list[MigrationFile]:
        return load_migrations("sync_server", migrations_dir("sync_server"))  # type: ignore[arg-type]

    def applied(self) -> list[tuple[str, str | None]]:
        exists = self._one("SELECT to_regclass('mirror_sync.schema_version')")[0]
        if exists is None:
            return []
        return [(r[0], r[1]) for r in self._execute(
            "SELECT version, checksum FROM mirror_sync.schema_version ORDER BY id").fetchall()]

    def migrate(self) -> list[str]:
        """Create or update the sync schema; refuse one newer than this Mirror or with changed files."""
        shipped = self.migrations()
        by_version = {m.version: m for m in shipped}
        applied = self.applied()
        newest = shipped[-1].version
        for version, checksum in applied:
            if parse_version(version) > parse_version(newest):
                raise SyncUserError(f"{where(self.dsn).capitalize()} runs sync schema {version}, newer than this "
                                    f"Mirror knows ({newest}); update Mirror on this device.")
            mig = by_version.get(version)
            if mig is None or (checksum and checksum != mig.checksum):
                raise SyncError(f"The sync schema on {where(self.dsn)} does not match this Mirror's "
                                f"(version {version}); update Mirror or ask the server's owner.")
        done = {v for v, _ in applied}
        todo = [m for m in shipped if m.version not in done]
        try:
            for mig in todo:
                with self.transaction():
                    self._execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
                    self._execute(
                        f"CREATE TABLE IF NOT EXISTS {SCHEMA}.schema_version (id SERIAL PRIMARY KEY, version TEXT NOT NULL, "
                        "description TEXT, applied_at TIMESTAMPTZ NOT NULL, checksum TEXT)")
                    with self.con.cursor() as cur:
                        if trace is not None:
                            trace(mig.forward_sql, None)
                        cur.execute(mig.forward_sql.encode())
                    self._execute(f"INSERT INTO {SCHEMA}.schema_version (version, description, applied_at, checksum) "
                                  "VALUES (%s, %s, %s, %s)", (mig.version, mig.description, datetime.now(UTC), mig.checksum))
        except psycopg.errors.InsufficientPrivilege:
            raise SyncUserError(f"{where(self.dsn).capitalize()} has no Mirror sync schema yet and this account may "
                                "not create it; ask the server's owner to run `mirror sync setup` once.") from None
        return [m.version for m in todo]

    def rollback(self) -> None:
        """Remove the sync schema (tests and the server's owner only)."""
        with self.transaction():
            self._execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")

    # -- the account ---------------------------------------------------------------------------
    def account_record(self) -> tuple[dict[str, Any], bytes] | None:
        row = self._execute(f"SELECT kdf, key_check FROM {SCHEMA}.accounts WHERE account = current_user").fetchone()
        return None if row is None else (dict(row[0]), bytes(row[1]))

    def create_account(self, kdf: dict[str, Any], key_check: bytes) -> bool:
        """Create this role's account; False when another device created it first."""
        cur = self._execute(f"INSERT INTO {SCHEMA}.accounts (kdf, key_check) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                            (Jsonb(kdf), key_check))
        return cur.rowcount == 1

    # -- rows ----------------------------------------------------------------------------------
    def push(self, device: str, rows: Sequence[tuple[str, str, int, str, str, bytes | None, bytes]],
             fmt: int) -> dict[tuple[str, str], int]:
        """Write rows (entity, id, version, hlc, kind, payload, tag) whose server version is ``version - 1``.

        One transaction, serialised per account (so ``seq`` grows in commit order and a puller's cursor
        never skips a row). Returns the (entity, id) accepted; the others changed on the server since
        this device last saw them (a conflict to pull first). Returns the accepted rows' seqs.
        """
        if not rows:
            return {}
        cols = list(zip(*rows, strict=True))
        with self.transaction():
            self._execute("SELECT pg_advisory_xact_lock(hashtext('mirror_sync:' || current_user))")
            cur = self._execute(
                f"INSERT INTO {SCHEMA}.rows (entity, row_id, version, hlc, device, format, kind, payload, tag) "
                "SELECT e, i, v, h, %s, %s, k, p, t FROM unnest(%s::text[], %s::text[], %s::int[], %s::text[], "
                "%s::text[], %s::bytea[], %s::bytea[]) AS u(e, i, v, h, k, p, t) "
                f"ON CONFLICT (account, entity, row_id) DO UPDATE SET seq = nextval('{SCHEMA}.rows_seq_seq'), "
                "version = EXCLUDED.version, hlc = EXCLUDED.hlc, device = EXCLUDED.device, format = EXCLUDED.format, "
                "kind = EXCLUDED.kind, payload = EXCLUDED.payload, tag = EXCLUDED.tag "
                f"WHERE {SCHEMA}.rows.version = EXCLUDED.version - 1 RETURNING entity, row_id, seq",
                (device, fmt, list(cols[0]), list(cols[1]), list(cols[2]), list(cols[3]), list(cols[4]),
                 list(cols[5]), list(cols[6])))
            return {(r[0], r[1]): int(r[2]) for r in cur.fetchall()}

    _COLUMNS = "seq, entity, row_id, version, hlc, device, format, kind, payload, tag"

    @staticmethod
    def _rows(cur: Any) -> list[ServerRow]:
        return [ServerRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7],
                          None if r[8] is None else bytes(r[8]), bytes(r[9])) for r in cur.fetchall()]

    def pull(self, after_seq: int, limit: int, device: str = "") -> list[ServerRow]:
        """Rows after ``after_seq`` written by other devices than ``device``, in seq order."""
        return self._rows(self._execute(
            f"SELECT {self._COLUMNS} FROM {SCHEMA}.rows WHERE account = current_user AND seq > %s AND device <> %s "
            "ORDER BY seq LIMIT %s", (after_seq, device, limit)))

    def fetch(self, keys: Sequence[tuple[str, str]]) -> list[ServerRow]:
        """The server's current rows for (entity, id) keys (a push found them changed since last seen)."""
        if not keys:
            return []
        return self._rows(self._execute(
            f"SELECT {self._COLUMNS} FROM {SCHEMA}.rows WHERE account = current_user AND (entity, row_id) IN "
            "(SELECT * FROM unnest(%s::text[], %s::text[])) ORDER BY seq", ([k[0] for k in keys], [k[1] for k in keys])))

    def counts(self) -> tuple[int, int]:
        """(rows, bytes) this account keeps on the server."""
        row = self._one(f"SELECT count(*), coalesce(sum(pg_column_size(r.*)), 0) FROM {SCHEMA}.rows r")
        return int(row[0]), int(row[1])

    # -- wake-ups ------------------------------------------------------------------------------
    def channel(self) -> str:
        import hashlib

        return "mirror_sync_" + hashlib.md5(self.account.encode(), usedforsecurity=False).hexdigest()


class Listener:
    """A second connection that LISTENs on the account's channel; ``wait`` returns True on a notice."""

    def __init__(self, dsn: str) -> None:
        with SyncServer(dsn) as probe:
            channel = probe.channel()
        try:
            self.con = psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True)
            self.con.execute(f'LISTEN "{channel}"')
        except (psycopg.OperationalError, psycopg.ProgrammingError) as exc:
            raise _unreachable(dsn, exc) from None
        self.dsn = dsn

    def wait(self, timeout: float) -> bool:
        try:
            for _ in self.con.notifies(timeout=timeout, stop_after=1):
                return True
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise _unreachable(self.dsn, exc) from None
        return False

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.con.close()
