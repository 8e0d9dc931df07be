"""The journal's sync bookkeeping (migration 007_sync): state, changed rows, row versions, inbox, links.

Raw SQL over the storage's connection, so sync/ needs no peewee. The tables are adapter extensions
(README, deviations table), local_only: nothing reads them for export, share or sync content.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

# The tables whose changes the 007 triggers record (core.outbound.SYNC_ENTITIES).
WATCHED = ("reflections", "tensions", "mirrorbacks", "engine_runs", "engine_feedback", "evolution_events")
_NOW_MS = "CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER)"


@dataclass(frozen=True)
class Change:
    entity: str
    row_id: str
    deleted: bool
    changed_ms: int
    edits: int
    attempt_hlc: str | None
    attempt_edits: int | None


@dataclass(frozen=True)
class Known:
    version: int
    hlc: str
    deleted: bool


@dataclass(frozen=True)
class InboxRow:
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


@dataclass(frozen=True)
class IdentityKey:
    identity_key: str
    reflections: int
    tensions: int
    answered: bool
    made_identity: str | None
    identity_id: str | None


class SyncJournal:
    """Sync's books in one journal; every method runs on the storage's thread."""

    def __init__(self, storage: Any) -> None:
        self.storage = storage
        self.db = storage.db

    def _sql(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.db.execute_sql(sql, tuple(params))

    # -- state ---------------------------------------------------------------------------------
    def state(self) -> dict[str, str]:
        return {k: v for k, v in self._sql("SELECT key, value FROM sync_state").fetchall()}

    def set_state(self, **values: str | int | None) -> None:
        with self.storage.transaction():
            for key, value in values.items():
                if value is None:
                    self._sql("DELETE FROM sync_state WHERE key = ?", (key,))
                else:
                    self._sql("INSERT INTO sync_state (key, value) VALUES (?, ?) "
                              "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, str(value)))

    def enable(self, **values: str | int | None) -> None:
        """Start recording changes and queue every existing row of the watched tables, in one transaction."""
        with self.storage.transaction():
            self.set_state(enabled="1", **values)
            for table in WATCHED:
                self._sql(f"INSERT OR IGNORE INTO sync_changes (entity, row_id, deleted, changed_ms) "
                          f"SELECT '{table}', id, 0, {_NOW_MS} FROM {table}")

    def disable(self) -> None:
        """Stop syncing: forget the books; the journal's own rows stay as they are."""
        with self.storage.transaction():
            for table in ("sync_state", "sync_changes", "sync_rows", "sync_inbox", "sync_identity_links",
                          "sync_identity_keys"):
                self._sql(f"DELETE FROM {table}")

    # -- outgoing ------------------------------------------------------------------------------
    def pending(self, limit: int, after: tuple[str, str] = ("", "")) -> list[Change]:
        rows = self._sql("SELECT entity, row_id, deleted, changed_ms, edits, attempt_hlc, attempt_edits FROM sync_changes "
                         "WHERE (entity, row_id) > (?, ?) ORDER BY entity, row_id LIMIT ?", (*after, limit)).fetchall()
        return [Change(r[0], r[1], bool(r[2]), int(r[3]), int(r[4]), r[5], r[6]) for r in rows]

    def pending_count(self) -> int:
        return int(self._sql("SELECT count(*) FROM sync_changes").fetchone()[0])

    def change(self, entity: str, row_id: str) -> Change | None:
        r = self._sql("SELECT entity, row_id, deleted, changed_ms, edits, attempt_hlc, attempt_edits FROM sync_changes "
                      "WHERE entity = ? AND row_id = ?", (entity, row_id)).fetchone()
        return None if r is None else Change(r[0], r[1], bool(r[2]), int(r[3]), int(r[4]), r[5], r[6])

    def changes_many(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Change]:
        return {(entity, r[1]): Change(r[0], r[1], bool(r[2]), int(r[3]), int(r[4]), r[5], r[6])
                for entity, r in self._rows_for_keys(
                    "SELECT entity, row_id, deleted, changed_ms, edits, attempt_hlc, attempt_edits FROM sync_changes", keys)}

    def _rows_for_keys(self, select: str, keys: Sequence[tuple[str, str]]) -> Iterator[tuple[str, Any]]:
        """(entity, row) of ``select ... WHERE entity = ? AND row_id IN (...)`` for every key, 500 ids a statement."""
        by_entity: dict[str, list[str]] = {}
        for entity, row_id in keys:
            by_entity.setdefault(entity, []).append(row_id)
        for entity, ids in by_entity.items():
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                marks = ",".join("?" * len(chunk))
                for r in self._sql(f"{select} WHERE entity = ? AND row_id IN ({marks})", (entity, *chunk)).fetchall():
                    yield entity, r

    def mark_changed(self, entity: str, row_id: str) -> None:
        """Queue a row sync wrote itself (a conflict copy), which the triggers do not see while applying."""
        self._sql(f"INSERT INTO sync_changes (entity, row_id, deleted, changed_ms) VALUES (?, ?, 0, {_NOW_MS}) "
                  "ON CONFLICT (entity, row_id) DO UPDATE SET edits = sync_changes.edits + 1", (entity, row_id))

    def drop_changes(self, keys: Sequence[tuple[str, str]]) -> None:
        for entity, row_id in keys:
            self._sql("DELETE FROM sync_changes WHERE entity = ? AND row_id = ?", (entity, row_id))

    def mark_attempts(self, attempts: Sequence[tuple[str, str, str, int]]) -> None:
        """Record (entity, id, hlc, edits) before sending, so a push whose answer is lost is recognised."""
        with self.storage.transaction():
            for entity, row_id, hlc, edits in attempts:
                self._sql("UPDATE sync_changes SET attempt_hlc = ?, attempt_edits = ? WHERE entity = ? AND row_id = ?",
                          (hlc, edits, entity, row_id))

    def mark_sent(self, sent: Sequence[tuple[str, str, int, str, bool]]) -> None:
        """(entity, id, version, hlc, deleted) are on the server: remember the version, clear unchanged rows."""
        with self.storage.transaction():
            for entity, row_id, version, hlc, deleted in sent:
                self.set_known(entity, row_id, version, hlc, deleted)
                self._sql("DELETE FROM sync_changes WHERE entity = ? AND row_id = ? AND edits = attempt_edits",
                          (entity, row_id))

    # -- versions ------------------------------------------------------------------------------
    def known(self, entity: str, row_id: str) -> Known | None:
        r = self._sql("SELECT version, hlc, deleted FROM sync_rows WHERE entity = ? AND row_id = ?",
                      (entity, row_id)).fetchone()
        return None if r is None else Known(int(r[0]), r[1], bool(r[2]))

    def known_many(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Known]:
        return {(entity, r[0]): Known(int(r[1]), r[2], bool(r[3]))
                for entity, r in self._rows_for_keys("SELECT row_id, version, hlc, deleted FROM sync_rows", keys)}

    def set_known(self, entity: str, row_id: str, version: int, hlc: str, deleted: bool) -> None:
        self._sql("INSERT INTO sync_rows (entity, row_id, version, hlc, deleted) VALUES (?, ?, ?, ?, ?) "
                  "ON CONFLICT (entity, row_id) DO UPDATE SET version = excluded.version, hlc = excluded.hlc, "
                  "deleted = excluded.deleted", (entity, row_id, version, hlc, int(deleted)))

    # -- incoming ------------------------------------------------------------------------------
    def add_to_inbox(self, rows: Sequence[Any], cursor: int | None) -> None:
        """Keep pulled rows and move the cursor past them, in one transaction (a crash loses neither)."""
        with self.storage.transaction():
            for r in rows:
                self._sql("INSERT OR REPLACE INTO sync_inbox (seq, entity, row_id, version, hlc, device, format, kind, "
                          "payload, tag) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          (r.seq, r.entity, r.row_id, r.version, r.hlc, r.device, r.format, r.kind, r.payload, r.tag))
            if cursor is not None:
                self.set_state(cursor=cursor)

    def inbox_order(self, max_format: int) -> list[int]:
        """Seqs of the rows waiting to be applied, reflections before what refers to them; newer formats wait."""
        order = " ".join(f"WHEN '{e}' THEN {i}" for i, e in enumerate(WATCHED))
        return [int(r[0]) for r in self._sql(f"SELECT seq FROM sync_inbox WHERE format <= ? "
                                             f"ORDER BY CASE entity {order} ELSE 99 END, seq", (max_format,)).fetchall()]

    def inbox_rows(self, seqs: Sequence[int]) -> list[InboxRow]:
        if not seqs:
            return []
        marks = ",".join("?" * len(seqs))
        found = {int(r[0]): r for r in self._sql(
            f"SELECT seq, entity, row_id, version, hlc, device, format, kind, payload, tag FROM sync_inbox "
            f"WHERE seq IN ({marks})", tuple(seqs)).fetchall()}
        return [InboxRow(r[0], r[1], r[2], int(r[3]), r[4], r[5], int(r[6]), r[7],
                         None if r[8] is None else bytes(r[8]), bytes(r[9])) for r in (found[s] for s in seqs if s in found)]

    def inbox_counts(self, max_format: int) -> tuple[int, int]:
        """(rows waiting, of which from a newer Mirror)."""
        r = self._sql("SELECT count(*), coalesce(sum(format > ?), 0) FROM sync_inbox", (max_format,)).fetchone()
        return int(r[0]), int(r[1])

    def newest_format(self) -> int:
        return int(self._sql("SELECT coalesce(max(format), 0) FROM sync_inbox").fetchone()[0])

    def remove_from_inbox(self, seqs: Sequence[int]) -> None:
        for seq in seqs:
            self._sql("DELETE FROM sync_inbox WHERE seq = ?", (seq,))

    def exists(self, table: str, row_id: str) -> bool:
        """Whether a row of a watched table is in the journal (one indexed look-up)."""
        if table not in WATCHED:
            raise ValueError(table)
        return self._sql(f"SELECT 1 FROM {table} WHERE id = ?", (row_id,)).fetchone() is not None

    @contextlib.contextmanager
    def applying(self) -> Iterator[None]:
        """One transaction in which the change triggers stay quiet (pulled rows are not sent back)."""
        with self.storage.transaction():
            self._sql("INSERT OR IGNORE INTO sync_applying (id) VALUES (1)")
            yield
            self._sql("DELETE FROM sync_applying")

    # -- identity links ------------------------------------------------------------------------
    def links(self) -> dict[str, str]:
        return {k: v for k, v in self._sql("SELECT identity_key, identity_id FROM sync_identity_links").fetchall()}

    def link(self, identity_key: str, identity_id: str) -> None:
        self._sql("INSERT INTO sync_identity_links (identity_key, identity_id) VALUES (?, ?) "
                  "ON CONFLICT (identity_key) DO UPDATE SET identity_id = excluded.identity_id", (identity_key, identity_id))

    def identity_keys(self) -> dict[str, IdentityKey]:
        """Every other device's identity key seen here (migration 010), with its counts and link."""
        rows = self._sql("SELECT k.identity_key, k.reflections, k.tensions, k.answered, k.made_identity, l.identity_id "
                         "FROM sync_identity_keys k LEFT JOIN sync_identity_links l ON l.identity_key = k.identity_key "
                         "UNION ALL SELECT l.identity_key, 0, 0, 1, NULL, l.identity_id FROM sync_identity_links l "
                         "WHERE l.identity_key NOT IN (SELECT identity_key FROM sync_identity_keys)").fetchall()
        return {r[0]: IdentityKey(r[0], int(r[1]), int(r[2]), bool(r[3]), r[4], r[5]) for r in rows}

    def note_identity_key(self, identity_key: str, *, made_identity: str | None = None) -> None:
        self._sql("INSERT INTO sync_identity_keys (identity_key, made_identity) VALUES (?, ?) "
                  "ON CONFLICT (identity_key) DO UPDATE SET made_identity = coalesce(excluded.made_identity, made_identity)",
                  (identity_key, made_identity))

    def count_identity_rows(self, counts: dict[tuple[str, str], int]) -> None:
        """Add (identity key, 'reflections' | 'tensions') -> n newly received rows."""
        for (identity_key, entity), n in counts.items():
            if entity not in ("reflections", "tensions"):
                raise ValueError(entity)
            self.note_identity_key(identity_key)
            self._sql(f"UPDATE sync_identity_keys SET {entity} = {entity} + ? WHERE identity_key = ?", (n, identity_key))

    def answer_identity(self, identity_key: str) -> None:
        """The person chose where this key's rows go: never asked again."""
        self.note_identity_key(identity_key)
        self._sql("UPDATE sync_identity_keys SET answered = 1, made_identity = NULL WHERE identity_key = ?", (identity_key,))

    def move_identity(self, from_id: str, to_id: str) -> int:
        """Move reflections and tensions to another identity (a link chosen after the first sync)."""
        n = self._sql("UPDATE reflections SET identity_id = ? WHERE identity_id = ?", (to_id, from_id)).rowcount
        self._sql("UPDATE tensions SET identity_id = ? WHERE identity_id = ?", (to_id, from_id))
        return int(n)
