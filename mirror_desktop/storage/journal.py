"""SQLiteStorage and PostgresStorage: the spec's repositories, search and migrations on each backend."""

from __future__ import annotations

import contextlib
import enum
import functools
import json
import logging
import threading
import time
from dataclasses import replace
from datetime import datetime
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, cast

import peewee

from mirror_desktop.core import models as m
from mirror_desktop.core.enums import ContentType, Source, Visibility
from mirror_desktop.core.errors import MirrorError, StorageError
from mirror_desktop.core.models import SearchFilters, SearchHit
from mirror_desktop.core.search_query import HL_END, HL_START, ParsedQuery, Term, cut_snippet, parse_query
from mirror_desktop.core.ports import MirrorStorage
from mirror_desktop.storage import backups
from mirror_desktop.storage.cipher import CIPHER_PRAGMAS, JournalKey
from mirror_desktop.storage.cipher import remember as remember_key
from mirror_desktop.storage.database import open_postgres, open_sqlite
from mirror_desktop.storage.migrations import MigrationRunner
from mirror_desktop.storage.models import ModelSet, build_models, parse_timestamp
from mirror_desktop.storage.repositories import (
    AttachmentRepository,
    HistoryRepository,
    IntegrationItemRepository,
    PeeweeRepository,
    ProposalRepository,
    ReflectionRepository,
    ThreadReflectionRepository,
)
from mirror_desktop.storage.writing import WritingStore

SPEC_TABLES = (
    "identities", "reflections", "mirrorbacks", "threads", "thread_reflections", "tensions", "axes",
    "engine_runs", "engine_feedback", "evolution_proposals", "evolution_history", "evolution_events",
    "integrations", "schema_version",
)
# The index merge after a deletion (purge_step, migration 012): FTS5 'merge' commands of this many
# pages each, repeated in one transaction for about this long; benchmarks/bench_edit.py --purge.
PURGE_MERGE_PAGES = 32
PURGE_STEP_SECONDS = 0.05
log = logging.getLogger(__name__)
# Ranking reads every candidate's statistics, which for a word found in most of 100,000 entries
# costs far more than the 50 ms budget. Terms with more matches than this are ranked among their
# RANK_WINDOW most recently written matches; rarer terms are ranked across the whole journal.
# (SQLite, issue 12: with filters, among the filtered rows of that window first; see _search_rows.)
RANK_WINDOW = 1000
# Related reflections (issue 12) look for a tension's poles among this many of each pole's most
# recent matches, so the cost is bounded by the matches read, never by ranking the whole journal.
MENTION_SCAN = 2000
# SQLite keeps the rarity probe's counts (a query's matches, up to RANK_WINDOW) for this many queries, per
# connection, until the index changes: a phrase's probe is about a tenth of its search at 10,000 entries.
PROBE_ANSWERS = 256
# How long a kept count is trusted without asking whether another connection has committed (_kept_count).
PROBE_RECHECK_S = 1.0
_REFLECTION_NAMES = ("id", "identity_id", "content", "content_type", "visibility", "created_at", "source", "metadata")
_REFLECTION_COLUMNS = ", ".join(f"r.{name}" for name in _REFLECTION_NAMES)


def _members(kind: type[enum.Enum]) -> dict[str | None, Any]:
    """Stored value -> member (a dict lookup, not Enum's call; None stays None). An unknown value (a future
    one the database allows) is not in it: callers keep it as text, as the repositories do."""
    members = _MEMBERS.get(kind)
    if members is None:
        members = _MEMBERS[kind] = {None: None, **{str(e.value): e for e in kind}}  # type: ignore[attr-defined]
    return members


_MEMBERS: dict[type[enum.Enum], dict[str | None, Any]] = {}
_JSON = json.JSONDecoder()


def _json_object(text: str) -> Any:
    """json.loads for a stored JSON column: raw_decode when the text is one value and nothing after it."""
    try:
        value, end = _JSON.raw_decode(text)
    except ValueError:
        return json.loads(text)  # leading whitespace; or invalid, which json.loads reports as before
    return value if end == len(text) else json.loads(text)


def _reflection_of_row(row: Sequence[Any]) -> m.Reflection:
    """The Reflection of a row that starts with ``_REFLECTION_COLUMNS``, each value converted once: peewee's
    model rows and a second pass through the repository cost as much as a rare word's search. Metadata is
    compact JSON, which raw_decode reads without json.loads' layers; an enum value the code does not know
    (a future one the database allows) stays text, as the repositories keep it."""
    rid, ident, content, ctype, vis, created, src, meta = row[:8]
    return m.Reflection(content, ident, _members(Visibility).get(vis, vis), _members(ContentType).get(ctype, ctype),
                        _members(Source).get(src, src), None if meta is None else _json_object(meta), rid,
                        cast(datetime, parse_timestamp(created)))


class PeeweeStorage(MirrorStorage):
    """What both backends share: models, repositories, transactions, migrations, counts."""

    dialect = ""

    def __init__(self, db: peewee.Database, *, migrate: bool = True, reader: bool = False) -> None:
        self.db = db
        self.reader = reader
        self.models: ModelSet = build_models(db, self.dialect)
        M = self.models
        self.identities = PeeweeRepository(self, M.Identity, m.Identity)
        self.reflections = ReflectionRepository(self, M.Reflection, m.Reflection)
        self.mirrorbacks = PeeweeRepository(self, M.Mirrorback, m.Mirrorback)
        self.threads = PeeweeRepository(self, M.Thread, m.Thread)
        self.thread_reflections = ThreadReflectionRepository(self, M.ThreadReflection, m.ThreadReflection)
        self.tensions = PeeweeRepository(self, M.Tension, m.Tension)
        self.axes = PeeweeRepository(self, M.Axis, m.Axis)
        self.engine_runs = PeeweeRepository(self, M.EngineRun, m.EngineRun)
        self.engine_feedback = PeeweeRepository(self, M.EngineFeedback, m.EngineFeedback)
        self.evolution_proposals = ProposalRepository(self, M.EvolutionProposal, m.EvolutionProposal)
        self.evolution_history = HistoryRepository(self, M.EvolutionHistory, m.EvolutionHistory)
        self.evolution_events = PeeweeRepository(self, M.EvolutionEvent, m.EvolutionEvent)
        self.integrations = PeeweeRepository(self, M.Integration, m.Integration)
        self.drafts = PeeweeRepository(self, M.Draft, m.Draft)
        self.integration_items = IntegrationItemRepository(self, M.IntegrationItem, m.IntegrationItem)
        self.attachments = AttachmentRepository(self, M.Attachment, m.Attachment)
        self.templates = PeeweeRepository(self, M.Template, m.Template)  # migration 005
        self.writing = WritingStore(self)  # migration 005: summaries and settings of issue 16
        try:
            self.runner = MigrationRunner(db, self.dialect, backup=self._backup_before_migration)
            self.runner.verify()
            if migrate and not reader:
                self.migrate()
        except BaseException:
            # A refused journal (too new, edited migration, failed migration) must not stay open:
            # callers drop the object, and an open handle keeps a staged import from being removed.
            db.close()
            raise

    # -- lifecycle -----------------------------------------------------------------------
    def open_reader(self) -> PeeweeStorage:
        """Another connection to the same journal that only reads (issue 12).

        The window's interactive reads (the list, search, opening a reflection, a timeline) run on
        readers so they never queue behind background jobs or a write: SQLite in WAL mode lets
        readers proceed while the one writer works, and each sees the last committed state;
        PostgreSQL gets a second, read-only session. Writes through a reader are refused. The
        connection belongs to the thread that opens it (SQLite's rule): open, use and close a reader
        on one thread. Migrations are never run from a reader.
        """
        raise NotImplementedError

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        return self.db.atomic()  # type: ignore[return-value]

    def migrate(self) -> list[str]:
        return self.runner.migrate()

    def schema_version(self) -> str:
        return self.runner.current_version()

    def close(self) -> None:
        # Unconditionally: this thread's connection may look closed (PySide drops a worker's
        # thread-locals between slot calls) while the database object still holds the journal lock.
        self.db.close()

    def counts(self) -> dict[str, int]:
        """Rows per spec table (adapter tables such as drafts are not counted)."""
        present = set(self.db.get_tables())
        return {t: int(self.db.execute_sql(f"SELECT count(*) FROM {t}").fetchone()[0])
                for t in SPEC_TABLES if t in present}

    def _backup_before_migration(self, from_version: str) -> None:
        """Backends that can copy themselves do so before any schema change."""

    # -- search --------------------------------------------------------------------------
    def _filter_sql(self, filters: SearchFilters | None) -> tuple[str, list[Any]]:
        f = filters or SearchFilters()
        p = self.db.param
        sql, params = [], []
        if f.anonymous_only:
            sql.append("r.identity_id IS NULL")
        elif f.identity_id is not None:
            sql.append(f"r.identity_id = {p}")
            params.append(f.identity_id)
        if f.thread_id is not None:
            sql.append(f"r.id IN (SELECT reflection_id FROM thread_reflections WHERE thread_id = {p})")
            params.append(f.thread_id)
        ts: Any = self.models.Reflection.created_at  # type: ignore[attr-defined]
        if f.since is not None:
            sql.append(f"r.created_at >= {p}")
            params.append(ts.db_value(f.since))
        if f.until is not None:
            sql.append(f"r.created_at < {p}")
            params.append(ts.db_value(f.until))
        if f.visibility is not None:
            sql.append(f"r.visibility = {p}")
            params.append(str(f.visibility))
        for tag in f.tags:
            sql.append(self._tag_sql)
            params.append(tag.lower())
        return "".join(f" AND {s}" for s in sql), params

    # "The reflection carries this tag", with the tag as the one parameter (lower case).
    _tag_sql = ""

    def search(self, query: str, filters: SearchFilters | None = None, *, limit: int = 50,
               offset: int = 0, ranks: bool = True) -> list[SearchHit]:
        parsed = parse_query(query)
        if parsed.empty:
            return []
        if parsed.tags:
            f = filters or SearchFilters()
            filters = replace(f, tags=(*f.tags, *parsed.tags))
        if not parsed.include:
            return self._tagged(filters, limit, offset, ranks)
        return self._to_hits(self._search_rows(parsed, filters, limit, offset, ranks), ranks)

    def _to_hits(self, rows: list[Any], ranks: bool) -> list[SearchHit]:
        repo = self.reflections
        return [SearchHit(repo.to_dc(r), r.snip or "", float(r.rank) if ranks else None) for r in rows]

    def _search_rows(self, parsed: ParsedQuery, filters: SearchFilters | None, limit: int,
                     offset: int, ranks: bool) -> list[Any]:
        raise NotImplementedError

    def _tagged(self, filters: SearchFilters | None, limit: int, offset: int, ranks: bool) -> list[SearchHit]:
        """A search of tags alone (``#sleep``): the tagged reflections, newest first, their opening as snippet
        (cut_snippet of a text without marks)."""
        where, params = self._filter_sql(filters)
        p = self.db.param
        R: Any = self.models.Reflection  # type: ignore[attr-defined]
        rows = R.raw(f"SELECT r.* FROM reflections r WHERE 1 = 1{where} ORDER BY r.created_at DESC, r.id DESC "
                     f"LIMIT {p} OFFSET {p}", *params, limit, offset)
        repo = self.reflections
        return [SearchHit(repo.to_dc(r), cut_snippet(r.content), 0.0 if ranks else None) for r in rows]

    # -- related reflections (issue 12) --------------------------------------------------------
    def recent_mentions(self, queries: Sequence[tuple[str, SearchFilters | None]], *, limit: int = 20,
                        scan: int = MENTION_SCAN) -> list[list[str]]:
        """For each (query, filters), the ids of up to ``limit`` reflections matching the query (the
        search syntax: stemmed words, "phrases") and the filters, newest first, in one statement.

        No ranking: each query reads at most its ``scan`` most recent matches (by rowid on SQLite,
        created_at on PostgreSQL), so a pole found in most of 100,000 entries costs what a rare one
        does. An empty or unusable query gives an empty list.
        """
        parts: list[str] = []
        params: list[Any] = []
        for i, (text, filters) in enumerate(queries):
            try:
                parsed = parse_query(text)
            except MirrorError:
                continue
            if parsed.empty:
                continue
            where, fparams = self._filter_sql(filters)
            sql, qparams = self._mention_sql(i, parsed, where)
            parts.append(f"SELECT * FROM ({sql}) AS m{i}")
            params += [*qparams, scan, *fparams, limit]
        out: list[list[str]] = [[] for _ in queries]
        if parts:
            for k, rid in self.db.execute_sql(" UNION ALL ".join(parts), params).fetchall():
                out[int(k)].append(str(rid))
        return out

    def _mention_sql(self, index: int, parsed: ParsedQuery, where: str) -> tuple[str, list[Any]]:
        """One query's newest matches: SQL selecting (index, reflection id), and its leading parameters."""
        raise NotImplementedError

    def surfaced_in(self, tension_ids: Sequence[str], *, scan_runs: int = 5000) -> dict[str, list[str]]:
        """Reflection ids whose engine run surfaced each tension, among the ``scan_runs`` most recent
        runs (newest run first, each reflection once per tension); one read for all tensions."""
        wanted: dict[str, list[str]] = {t: [] for t in tension_ids}
        if not wanted:
            return wanted
        p = self.db.param
        # A text match on the JSON narrows the rows in SQL (ids are UUIDs; LIKE's "_" can only widen
        # the match), and each candidate is then checked exactly below.
        likes = " OR ".join([f"CAST(tensions_surfaced AS TEXT) LIKE {p}"] * len(wanted))
        rows = self.db.execute_sql(
            "SELECT reflection_id, tensions_surfaced FROM (SELECT reflection_id, tensions_surfaced, timestamp "
            f"FROM engine_runs ORDER BY timestamp DESC LIMIT {p}) runs "
            f"WHERE reflection_id IS NOT NULL AND tensions_surfaced IS NOT NULL AND ({likes}) ORDER BY timestamp DESC",
            (scan_runs, *(f"%{t}%" for t in wanted))).fetchall()
        for rid, surfaced in rows:
            if isinstance(surfaced, str):  # SQLite hands back the JSON text
                surfaced = json.loads(surfaced)
            for t in surfaced or []:
                ids = wanted.get(t) if isinstance(t, str) else None
                if ids is not None and rid not in ids:
                    ids.append(rid)
        return wanted


# The token migration 008 indexes for entries without an identity: shaped like an identity's token
# (no word a person types), so only the identity filter ever matches it.
ANONYMOUS_TOKEN = "i" + "0" * 32


def identity_token(identity_id: str | None) -> str:
    """The token migration 008 indexes in reflections_fts.identity_key for an identity (None: anonymous)."""
    return ANONYMOUS_TOKEN if identity_id is None else "i" + identity_id.replace("-", "").replace('"', "")


def _fts_match(parsed: ParsedQuery, identity: str | None = None) -> str:
    """The MATCH expression of the person's query (``fts5_match``), plus ``identity`` as a token of the
    identity column. A prefix could reach identity tokens ("i0*"), so prefixes are kept to the content
    column; whole words cannot (no one types a 33-character identity token), and a column filter on
    them would make FTS5 read every match's position list."""

    def term(t: Term) -> str:
        quoted = '"' + " ".join(w.replace('"', "") for w in t.words) + '"'
        return f"content : {quoted} *" if t.kind == "prefix" else quoted

    expr = " ".join(term(t) for t in parsed.include)
    for t in parsed.exclude:
        expr = f"({expr}) NOT {term(t)}"
    if identity is not None:
        expr = f'({expr}) AND identity_key : "{identity}"'
    return expr


def _probe_match(parsed: ParsedQuery) -> str:
    """What the query includes, without its exclusions: a superset of its matches, for asking whether it has
    fewer than RANK_WINDOW of them. Phrases stay phrases: at 10,000 entries a phrase walks about as fast
    as its words ANDed, and one whose words are common but which is itself rarer than the window ("the
    old house": 1,437 entries hold the words, 818 the phrase) is then ranked by the one plain statement
    instead of the window's two (issue 12, item 4: 4.2 against raw FTS5's 2.9 ms)."""
    return _fts_match(ParsedQuery(parsed.include))


class _KeptCounts(threading.local):
    """The rarity probe's counts kept for one thread's connection, and what they were counted at (_kept_count)."""

    def __init__(self) -> None:
        self.con: Any = None
        self.version = self.changes = -1
        self.recheck = 0.0
        self.counts: dict[tuple[str, int], int] = {}


class SQLiteStorage(PeeweeStorage):
    """The default journal: one SQLite file (``mirror_os.db``) with WAL and FTS5."""

    dialect = "sqlite"
    _tag_sql = "EXISTS (SELECT 1 FROM json_each(r.metadata, '$.tags') WHERE lower(value) = ?)"

    def __init__(self, path: Path | str, *, migrate: bool = True, create: bool = True, readonly: bool = False,
                 reader: bool = False, keep_backups: int = backups.KEEP_BACKUPS,
                 key: JournalKey | None = None, purge_in_steps: bool = False) -> None:
        """``readonly``: read a journal that cannot be written; with ``migrate``, one needing an update is refused.
        ``reader``: an extra read-only connection to a journal another connection writes (issue 12).
        ``key``: an encrypted journal's key (storage/cipher.py); a new file made with one is encrypted.
        ``purge_in_steps``: purge_deleted leaves the index merge to the caller's purge_step calls (the window
        runs them as write-lane jobs of their own, so saves go between them)."""
        self.path = Path(path)
        self._probes = _KeptCounts()
        self.purge_in_steps = purge_in_steps
        self.readonly = readonly
        self.keep_backups = keep_backups
        if not readonly and not reader:
            from mirror_desktop.storage.cipher_convert import sweep_leftovers

            sweep_leftovers(self.path)  # what a killed encrypt/decrypt/rekey left (issue 19)
        db = open_sqlite(self.path, create=create, readonly=readonly, reader=reader, key=key)
        self.key: JournalKey | None = getattr(db, "journal_key", None)
        if self.key is not None:
            remember_key(self.key)  # copies of this journal (backups, export snapshots) keep its salt
        super().__init__(db, migrate=migrate and not readonly, reader=reader)
        if readonly and migrate and self.runner.needs_migration():
            self.db.close()
            raise StorageError(f"The journal {self.path} is read-only and needs an update this Mirror would have "
                               "to write; make it writable once, or open a copy.")
        if not readonly and not reader:
            self.settle_attachments()

    def settle_attachments(self) -> int:
        """Attachment bytes where this journal's kind keeps them: inside an encrypted one, in files beside a plain
        one (issue 19; storage/cipher_convert.settle_attachments)."""
        from mirror_desktop.storage.cipher_convert import settle_attachments

        return settle_attachments(self.db, self.path, self.key is not None)

    def open_reader(self) -> SQLiteStorage:
        return SQLiteStorage(self.path, migrate=False, create=False, reader=True, key=self.key)

    # Where an identity filter runs (migration 008): "always" — inside the MATCH (the app's); "fallback"
    # — a row filter over the newest matches, inside the MATCH only when those hold too few; "never" —
    # a row filter only (the search before 008). benchmarks/bench_search.py --identity-strategies times
    # the three in one run.
    identity_in_match = "always"

    @property
    def location(self) -> str:
        return str(self.path)

    def backup_to(self, target: Path) -> Path:
        """A consistent copy of the live journal, made with VACUUM INTO (never a file copy).

        An encrypted journal's copy keeps its key, salt and cipher settings (issue 19): VACUUM INTO
        would write SQLCipher's default settings, so it is an sqlcipher_export into a keyed file."""
        target = Path(target)
        if target.exists() and target.stat().st_size > 0:
            raise StorageError(f"{target} already exists; choose another backup name.")
        if self.key is not None:
            return self._export_copy(target, self.key.pragma_value(with_salt=True), CIPHER_PRAGMAS)
        # VACUUM INTO accepts an empty file: one created 0600 keeps the copy private from its first byte.
        self.db.execute_sql("VACUUM INTO ?", (str(target),))
        return target

    def plain_copy_to(self, target: Path) -> Path:
        """A consistent plain SQLite copy, for a bundle (which carries a plain file inside its own encryption).

        For an encrypted journal this is one ``sqlcipher_export`` pass into an unkeyed file, instead
        of an encrypted copy and a decryption after it. A plain journal is copied with VACUUM INTO."""
        if self.key is None:
            return self.backup_to(target)
        target = Path(target)
        if target.exists() and target.stat().st_size > 0:
            raise StorageError(f"{target} already exists; choose another backup name.")
        return self._export_copy(target, "''", ())

    def _export_copy(self, target: Path, key_literal: str, pragmas: Sequence[str]) -> Path:
        """sqlcipher_export into ``target`` inside one read transaction: a WAL snapshot, writers go on."""
        self.db.execute_sql(f"ATTACH DATABASE ? AS journal_copy KEY {key_literal}", (str(target),))
        try:
            for pragma in pragmas:
                self.db.execute_sql(pragma.replace("PRAGMA ", "PRAGMA journal_copy."))
            self.db.execute_sql("BEGIN")
            try:
                self.db.execute_sql("SELECT sqlcipher_export('journal_copy')").fetchall()
                version = int(self.db.execute_sql("PRAGMA main.user_version").fetchone()[0])
                self.db.execute_sql(f"PRAGMA journal_copy.user_version = {version}")
                self.db.execute_sql("COMMIT")
            except BaseException:
                self.db.execute_sql("ROLLBACK")
                raise
        finally:
            self.db.execute_sql("DETACH DATABASE journal_copy")
        return target

    def _backup_before_migration(self, from_version: str) -> None:
        # Bounded: each backup is a whole journal, deleted reflections included (issue 11, item 4).
        self.backup_to(backups.new_backup_file(self.path, from_version))
        backups.prune_backups(self.path, self.keep_backups)

    def backup_files(self) -> list[Path]:
        """Every older copy of this journal kept beside it (migration backups, import rollback files)."""
        return backups.all_copies(self.path)

    def purge_backups(self) -> m.BackupPurge:
        """Remove every older copy of this journal; the journal itself is untouched."""
        return backups.purge_backups(self.path)

    def purge_deleted(self) -> None:
        # secure_delete zeroes freed pages and FTS5 secure-delete drops a deleted row's index entries at
        # once; the checkpoint moves that into the main file and empties the WAL. Edits update the index
        # without secure-delete (migration 010: it cost up to 0.65 s an edit at 100,000 entries), so the
        # entries of a deleted row's earlier versions sit in older segments until a merge: purge_step
        # merges them away when a row deleted since the last merge had such edits. Each step is its own
        # short transaction (migration 012: one 'optimize' held the write lane ~4 s at 100,000 entries),
        # so writers of other processes go between the steps. With ``purge_in_steps`` (the window) the
        # steps are left to the caller, which runs them as separate write-lane jobs (workers/journal.py).
        if not self.purge_in_steps:
            while not self.purge_step():
                pass
        self.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def purge_pending(self) -> bool:
        """A deleted reflection's earlier words may still be in the index: purge_step has work to do."""
        if not self._fts_edits_tracked():
            return False
        return self.db.execute_sql(
            "SELECT EXISTS (SELECT 1 FROM reflections_fts_purge) OR EXISTS "
            "(SELECT 1 FROM reflections_fts_edited WHERE deleted = 1)").fetchone()[0] == 1

    def purge_step(self, seconds: float | None = None, pages: int | None = None) -> bool:
        """One bounded piece of the index merge a deletion needs; True once nothing is left to purge.

        Runs FTS5 incremental 'merge' commands of ``pages`` pages (PURGE_MERGE_PAGES) in one transaction
        until about ``seconds`` (PURGE_STEP_SECONDS) have passed. One command writes a whole term's doclist,
        so a step can run longer by the largest one (0.1-0.3 s at 100,000 entries). The merge in progress
        is kept in reflections_fts_purge and FTS5's own structure record, so a killed process's purge resumes.
        """
        if not self.purge_pending():
            return True
        seconds = PURGE_STEP_SECONDS if seconds is None else seconds
        pages = PURGE_MERGE_PAGES if pages is None else pages
        finished = False
        with self.transaction():
            started = self.db.execute_sql("SELECT 1 FROM reflections_fts_purge").fetchone() is not None
            size = pages
            if not started:
                # A negative size puts every segment into one merge, as 'optimize' would; later steps
                # continue it with positive sizes, so segments that saves add meanwhile stay out of it.
                self.db.execute_sql("UPDATE reflections_fts_edited SET merging = 1")
                self.db.execute_sql("INSERT INTO reflections_fts_purge (id, started_at) VALUES (1, ?)",
                                    (m.utc_now().isoformat(),))
                size = -pages
            con = self.db.connection()
            deadline = time.monotonic() + seconds
            while True:
                before = con.total_changes
                self.db.execute_sql("INSERT INTO reflections_fts (reflections_fts, rank) VALUES ('merge', ?)", (size,))
                size = pages
                if con.total_changes - before < 2:  # FTS5's sign that the merge found nothing left to do
                    finished = True
                    break
                if time.monotonic() >= deadline:
                    break
            if finished:
                # Rows edited after the merge started (merging = 0 again) wait for the next one.
                self.db.execute_sql("DELETE FROM reflections_fts_edited WHERE merging = 1")
                self.db.execute_sql("DELETE FROM reflections_fts_purge")
            else:
                self.db.execute_sql("UPDATE reflections_fts_purge SET steps = steps + 1")
        if not finished:
            return False
        self.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()  # the merged-away pages leave the WAL
        return not self.purge_pending()

    def close(self) -> None:
        # A purge left unfinished (a window closed mid-way, a process killed) ends at the next close.
        if not self.readonly and not self.reader and not self.db.is_closed():
            try:
                while not self.purge_step():
                    pass
            except Exception as exc:  # noqa: BLE001 - closing must not fail; the next open finishes it
                log.warning("the index purge stopped at close and resumes at the next open: %s", exc)
        super().close()

    def _fts_edits_tracked(self) -> bool:
        # reflections_fts_purge arrived with migration 012; a journal not yet migrated purges nothing here
        return self.db.execute_sql("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'reflections_fts_purge'"
                                   ).fetchone() is not None

    def _search_rows(self, parsed: ParsedQuery, filters: SearchFilters | None, limit: int,
                     offset: int, ranks: bool) -> list[Any]:
        match = _fts_match(parsed)
        where, params = self._filter_sql(filters)
        # A query with fewer than RANK_WINDOW matches is ranked across the whole journal anyway, so it is the
        # plain ranked FTS5 query itself, with every filter on the row, in one statement (issue 12, item 4:
        # never slower than that query at 10,000 entries; a rare word took 0.8 against 0.5 ms in two
        # statements, and 0.7 against 0.2 with an identity inside the MATCH). Whether it has that many is
        # counted of what it includes, without exclusions or ranking: a superset of the matches, so "fewer"
        # is never wrong (a count kept until the index changes: _kept_count). With fewer matches than
        # the window, the window's passes below would rank every match too: the two paths differ only in
        # the order of equal ranks.
        cap = RANK_WINDOW + offset
        probe = _probe_match(parsed) if parsed.exclude else match
        matches = self._kept_count(probe, cap)
        few_most = min(limit, cap - 1)
        tried_few = matches is None and offset == 0
        if tried_few:
            # Not counted since the index last changed: a rare word's page comes in the statement that counts
            # (to ``limit`` + 1 only); any other query gets no rows from it and is counted below.
            hits = self._ranked_with_snippets(match, limit, 0, where=where, params=params, few=True, ranks=ranks,
                                              unless_more_than=(probe, few_most))
            if hits:
                self._keep_count(probe, cap, few_most)  # "no more than that": enough for the choice below
                return hits
        if matches is None:
            # (The statements of a search go straight to the connection: peewee's logging and error wrapping
            # cost a few µs each, issue 12 item 4.)
            matches = int(self.db.connection().execute(
                f"SELECT count(*) FROM (SELECT 1 FROM reflections_fts WHERE reflections_fts MATCH ? LIMIT {int(cap)})",
                [probe]).fetchone()[0])
            self._keep_count(probe, cap, matches)
            if tried_few and matches <= few_most:
                return []  # that page was the statement above, and its filters left nothing of the few matches
        if matches < cap:
            return self._ranked_with_snippets(match, limit, offset, where=where, params=params, few=matches <= limit,
                                              ranks=ranks)
        f = filters or SearchFilters()
        # Migration 008 indexes each entry's identity as a token of its own column, so the identity
        # filter runs inside the MATCH: FTS5 skips the other identities' entries instead of each match
        # being checked against its row (issue 12: phrase + identity p95 89 ms at 100,000). Measured
        # against the row filter and a row filter first ("fallback"), every class was fastest this way
        # (BENCHMARKS.md, bench_search.py --identity-strategies).
        identity_match = match
        walk_where, walk_params = where, params
        if self.identity_in_match != "never" and (f.anonymous_only or f.identity_id is not None):
            identity_match = _fts_match(parsed, identity_token(None if f.anonymous_only else f.identity_id))
            walk_where, walk_params = self._filter_sql(replace(f, identity_id=None, anonymous_only=False))
            if self.identity_in_match == "always":
                match, where, params = identity_match, walk_where, walk_params
        bounds, bparams = "", []  # type: tuple[str, list[Any]]
        if f.since is not None or f.until is not None or f.thread_id is not None:
            # Dates and threads select few entries: their rowid range (from the created_at index or the
            # thread's rows, about 1 ms) lets FTS5 seek past every newer match instead of reading each.
            lo, hi = self.db.execute_sql(f"SELECT min(r.rowid), max(r.rowid) FROM reflections r WHERE 1 = 1{where}",
                                         params).fetchone()
            if lo is None:
                return []
            bounds, bparams = " AND reflections_fts.rowid BETWEEN ? AND ?", [lo, hi]
        # "CROSS JOIN" fixes the loop order (SQLite's planner otherwise walks an identity's rows by
        # index and re-runs the MATCH once per row: seconds at 10,000 entries, issue 12).
        join = " CROSS JOIN reflections r ON r.rowid = reflections_fts.rowid" if where else ""
        # Pass 1, ranking: bm25 over the RANK_WINDOW most recently written matches (that pass the
        # filters). FTS5 walks its doclists backwards and stops there, so a word found in every entry
        # costs what a word found in a thousand does; a rarer term is ranked across the whole journal.
        page: dict[int, float] = {}
        walked_all = False
        if where:
            # With filters, first rank the filtered rows among the RANK_WINDOW most recent matches
            # (bounded work whatever the filter). A phrase costs ~20 µs a match at 100,000 entries,
            # and an identity holding a sixth of the journal would otherwise walk six times the
            # window (issue 12: phrase + identity p95 250 ms). Every row of the window comes back
            # with a flag, so a term with fewer matches than the window is finished here.
            rows = self.db.execute_sql(
                f"SELECT hit.fid, hit.rank, CASE WHEN 1 = 1{where} THEN 1 ELSE 0 END FROM ("
                "SELECT reflections_fts.rowid AS fid, reflections_fts.rank AS rank FROM reflections_fts "
                f"WHERE reflections_fts MATCH ?{bounds} ORDER BY reflections_fts.rowid DESC LIMIT ?) hit "
                "CROSS JOIN reflections r ON r.rowid = hit.fid",
                [*params, match, *bparams, RANK_WINDOW + offset]).fetchall()
            walked_all = len(rows) < RANK_WINDOW + offset
            kept = sorted(((float(rank), -int(fid)) for fid, rank, ok in rows if ok))
            page = {-neg: rank for rank, neg in kept[offset:offset + limit]}
        if len(page) < limit and not walked_all:
            # Unfiltered: the window itself. Filtered (the window held less than a page): walk back
            # until a quarter window passes the filters, which keeps a selective filter's walk short.
            window = (max(RANK_WINDOW // 4, limit) if where else RANK_WINDOW) + offset
            match, where, params = identity_match, walk_where, walk_params
            join = " CROSS JOIN reflections r ON r.rowid = reflections_fts.rowid" if where else ""
            keep = where
            if where and f.visibility is None:
                # Date and thread filters have indexes: their rowids, read once from the index into a
                # list SQLite probes (with a Bloom filter), cost a third of looking up each match's row.
                keep = f" AND +reflections_fts.rowid IN (SELECT r.rowid FROM reflections r WHERE 1 = 1{where})"
            page = self._ranked_page(
                "SELECT fid, rank FROM (SELECT reflections_fts.rowid AS fid, reflections_fts.rank AS rank "
                f"FROM reflections_fts{join if keep is where else ''} WHERE reflections_fts MATCH ?{bounds}{keep} "
                "ORDER BY reflections_fts.rowid DESC LIMIT ?) ",
                [match, *bparams, *params, window], limit, offset)
        if not page:
            return []
        # Pass 2, snippets and rows for the page only, in one statement. FTS5 reads the page's rowid
        # range once; "+rowid IN" is checked on each row it yields (a plain "rowid IN" would make
        # FTS5 run the whole match again for every shown row: issue 12, ~120 of 147 ms at 10,000).
        marks = ", ".join("?" * len(page))
        cursor = self.db.execute_sql(
            f"SELECT {_REFLECTION_COLUMNS}, reflections_fts.rowid AS fts_rowid, "
            "highlight(reflections_fts, 0, ?, ?) AS marked, NULL "
            "FROM reflections_fts CROSS JOIN reflections r ON r.rowid = reflections_fts.rowid "
            f"WHERE reflections_fts MATCH ? AND reflections_fts.rowid BETWEEN ? AND ? AND +reflections_fts.rowid IN ({marks})",
            [HL_START, HL_END, match, min(page), max(page), *page])
        place = {rowid: i for i, rowid in enumerate(page)}  # FTS5 yields rowid order; the page is rank order
        return self._hits(sorted(cursor.fetchall(), key=lambda row: place[row[8]]), page, keep_rank=ranks)

    def _to_hits(self, rows: list[Any], ranks: bool) -> list[SearchHit]:
        return rows  # _search_rows makes the hits itself (_hits)

    def _hits(self, rows: Iterable[Sequence[Any]], ranks: dict[int, float] | None = None, *,
              keep_rank: bool = True) -> list[SearchHit]:
        """Rows of ``_REFLECTION_COLUMNS, fts_rowid, marked, rank`` as SearchHits that hold their row: the
        id, date, identity and text a results list shows are read now, the whole Reflection when first asked
        for (_reflection_of_row; issue 12, item 4: never slower than the raw FTS5 query, which leaves its rows
        as tuples). ``marked``: the text as FTS5's highlight() gives it, cut to the snippet here (cut_snippet).
        ``ranks``: rowid -> rank where the statement's rank column is NULL; ``keep_rank`` False: None."""
        out: list[SearchHit] = []
        add, hit, make, stamp, cut = out.append, SearchHit.stored, _reflection_of_row, parse_timestamp, cut_snippet
        for row in rows:
            rid, ident, content, _, _, created, _, _, fts_rowid, marked, rank = row
            add(hit(rid, stamp(created), ident, content, cut(marked) if marked else "",  # type: ignore[arg-type]  # created_at is NOT NULL
                    (float(rank) if ranks is None else ranks[fts_rowid]) if keep_rank else None, make, row))
        return out

    def _kept_count(self, match: str, cap: int) -> int | None:
        """How many matches ``match`` has (counted no further than ``cap``: FTS5 walks its doclists forwards and
        stops there, a third cheaper than walking back from the newest, nothing ranked), if counted since the
        index last changed; else None (issue 12, item 4: the same words searched again with another filter,
        another page, or by the next keystroke's refresh, skip the count).

        This connection's writes move total_changes, read at every search. Other connections' commits move
        PRAGMA data_version, a statement of its own (5 µs, a fortieth of a rare word's search), so it is read
        at most every PROBE_RECHECK_S. A count that much out of date only picks the statement: every one of
        them reads the index as it is now, so the hits are the same, apart from the order of equal ranks or,
        for a word that just passed RANK_WINDOW matches, being ranked among all of them for that second.
        Both counters belong to one connection, so the counts are kept per thread with the connection."""
        con: Any = self.db.connection()
        probes = self._probes
        now = time.monotonic()
        if probes.con is not con or probes.changes != con.total_changes or now >= probes.recheck:
            version = con.execute("PRAGMA data_version").fetchone()[0]
            if probes.con is not con or (probes.version, probes.changes) != (version, con.total_changes):
                probes.con, probes.version, probes.counts = con, version, {}
            probes.changes, probes.recheck = con.total_changes, now + PROBE_RECHECK_S
        return probes.counts.get((match, cap))

    def _keep_count(self, match: str, cap: int, count: int) -> None:
        counts = self._probes.counts
        if len(counts) >= PROBE_ANSWERS:
            counts.clear()
        counts[(match, cap)] = count

    def _ranked_with_snippets(self, match: str, limit: int, offset: int, *, where: str = "",
                              params: Sequence[Any] = (), few: bool = False, ranks: bool = True,
                              unless_more_than: tuple[str, int] | None = None) -> list[SearchHit]:
        """Ranking, snippets and rows of a query with fewer than RANK_WINDOW matches in one statement: the plain
        ranked FTS5 query with the filters on the row. ``ORDER BY rank`` is FTS5's own sort, which keeps each
        match's positions, so the rows shown are marked (highlight(), cut to snippets by _hits) without reading
        the index again. LIMIT and OFFSET are literal integers, which SQLite plans better than parameters. Equal
        ranks come in FTS5's order (the older entry first), the same on every page, so pages never overlap.

        ``few``: the query has no more matches than ``limit``, so marking each costs nothing wasted, and
        SQLite sorts them by bm25 itself, older first among equals as FTS5 does. FTS5's sort would prepare a
        statement of its own and compute bm25 a second time for the rank shown (the rank column is computed
        afresh, its statistics with it): a rare word took 0.18 ms against raw FTS5's 0.17, now 0.16. The
        arguments are the journal's rank setting (migration 008), so the ranks are the rank column's.
        """
        most = None if unless_more_than is None else unless_more_than[1]
        sql = self._ranked_sql(limit, offset, where, few, ranks, most)  # positional: a cheaper cache key
        guard = [] if unless_more_than is None else [unless_more_than[0]]
        rows = self.db.connection().execute(sql, [HL_START, HL_END, match, *params, *guard]).fetchall()
        return self._hits(rows, keep_rank=ranks)

    @staticmethod
    @functools.lru_cache(maxsize=64)
    def _ranked_sql(limit: int, offset: int, where: str, few: bool, ranks: bool = True,
                    guarded: int | None = None) -> str:
        """The statement of ``_ranked_with_snippets``; parameters: HL_START, HL_END, the MATCH, the filters'.
        ``guarded``: one more parameter, a MATCH whose matches are counted to ``guarded`` + 1 first; with more
        than ``guarded`` the LIMIT is 0, which SQLite tests before the statement's loop starts (15-25 µs then,
        against a 30 µs statement of its own for the count of a rare word: issue 12, item 4).
        ``ranks`` False: FTS5's sort still orders the rows, but the rank column is left out: FTS5 computes it
        afresh for the column, and for a phrase that means reading every match again (0.4 of 4 ms at 10,000)."""
        rows = str(int(limit)) if guarded is None else (
            f"(SELECT CASE WHEN count(*) <= {int(guarded)} THEN {int(limit)} ELSE 0 END FROM (SELECT 1 FROM "
            f"reflections_fts WHERE reflections_fts MATCH ? LIMIT {int(guarded) + 1}))")
        join = " CROSS JOIN reflections r ON r.rowid = reflections_fts.rowid"
        if few:
            # Sorted before the reflection's columns are read: the sorter holds rowid, marked text and rank,
            # not the row's other columns; the outer ORDER BY is the subquery's own, which SQLite does not redo.
            return (
                f"SELECT {_REFLECTION_COLUMNS}, hit.fid AS fts_rowid, hit.marked, hit.k AS hit_rank FROM ("
                "SELECT reflections_fts.rowid AS fid, highlight(reflections_fts, 0, ?, ?) AS marked, "
                f"bm25(reflections_fts, 1.0, 0.0) AS k FROM reflections_fts{join if where else ''} "
                f"WHERE reflections_fts MATCH ?{where} ORDER BY k, fid LIMIT {rows} OFFSET {int(offset)}) hit"
                " CROSS JOIN reflections r ON r.rowid = hit.fid ORDER BY hit.k, hit.fid")
        rank = "reflections_fts.rank" if ranks else "NULL"
        return (
            f"SELECT {_REFLECTION_COLUMNS}, reflections_fts.rowid AS fts_rowid, "
            f"highlight(reflections_fts, 0, ?, ?) AS marked, {rank} AS hit_rank "
            f"FROM reflections_fts{join} "
            f"WHERE reflections_fts MATCH ?{where} ORDER BY reflections_fts.rank LIMIT {rows} OFFSET {int(offset)}")

    def _ranked_page(self, window_sql: str, params: list[Any], limit: int, offset: int) -> dict[int, float]:
        """rowid -> rank of one page of ``window_sql``'s rows (fid, rank), best first. The sort happens
        in SQLite, so only the page comes back to Python; equal ranks put the newer entry first."""
        sql = f"{window_sql}ORDER BY rank, fid DESC LIMIT ? OFFSET ?"
        return {int(rowid): float(rank) for rowid, rank in self.db.execute_sql(sql, [*params, limit, offset]).fetchall()}

    def _mention_sql(self, index: int, parsed: ParsedQuery, where: str) -> tuple[str, list[Any]]:
        # FTS5 walks the doclist backwards and stops after ``scan`` rows; reflections are then read
        # by rowid only for those, and the filters applied to them.
        sql = (
            "SELECT ? AS k, r.id FROM (SELECT rowid AS rid FROM reflections_fts WHERE reflections_fts MATCH ? "
            f"ORDER BY rowid DESC LIMIT ?) hit CROSS JOIN reflections r ON r.rowid = hit.rid WHERE 1 = 1{where} "
            "ORDER BY hit.rid DESC LIMIT ?"
        )
        return sql, [index, _fts_match(parsed)]


class PostgresStorage(PeeweeStorage):
    """The platform journal on PostgreSQL, same spec and interface, tsvector search."""

    dialect = "postgres"
    _tag_sql = ("EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(r.metadata -> 'tags') = 'array' "
                "THEN r.metadata -> 'tags' ELSE '[]'::jsonb END) AS t(tag) WHERE lower(t.tag) = %s)")

    def __init__(self, dsn: str, *, migrate: bool = True, reader: bool = False) -> None:
        self.dsn = dsn
        super().__init__(open_postgres(dsn, reader=reader), migrate=migrate, reader=reader)

    def open_reader(self) -> PostgresStorage:
        return PostgresStorage(self.dsn, migrate=False, reader=True)

    @property
    def location(self) -> str:
        try:
            from psycopg.conninfo import conninfo_to_dict, make_conninfo

            params = conninfo_to_dict(self.dsn)
            params.pop("password", None)
            return make_conninfo(**params)  # type: ignore[arg-type]
        except Exception:
            return "postgresql"

    @staticmethod
    def _tsquery(term: Term) -> tuple[str, str]:
        if term.kind == "words":
            return "plainto_tsquery('english', %s)", " ".join(term.words)
        if term.kind == "phrase":
            return "phraseto_tsquery('english', %s)", " ".join(term.words)
        if term.kind == "prefix":
            # Only word characters reach to_tsquery, so the user's text is never tsquery syntax.
            return "to_tsquery('english', %s)", "".join(ch for ch in term.words[0] if ch.isalnum()) + ":*"
        return "plainto_tsquery('english', %s)", term.words[0]

    def _compile(self, terms: list[Term], negated: list[Term], *, words_only: bool = False) -> tuple[str, list[str]]:
        """A tsquery expression and its parameters; ``words_only`` turns phrases into their words."""
        parts, params = [], []
        for t in terms:
            sql, arg = self._tsquery(Term("word" if len(t.words) == 1 else "words", t.words)
                                     if words_only and t.kind == "phrase" else t)
            parts.append(sql)
            params.append(arg)
        for t in negated:
            sql, arg = self._tsquery(t)
            parts.append(f"!!{sql}")
            params.append(arg)
        return " && ".join(parts), params

    def _mention_sql(self, index: int, parsed: ParsedQuery, where: str) -> tuple[str, list[Any]]:
        query, qparams = self._compile(parsed.include, parsed.exclude)
        sql = (
            f"SELECT %s AS k, r.id FROM (SELECT id, identity_id, created_at, visibility FROM reflections "
            f"WHERE search_vector @@ {query} ORDER BY created_at DESC, id DESC LIMIT %s) r WHERE TRUE{where} "
            "ORDER BY r.created_at DESC, r.id DESC LIMIT %s"
        )
        return sql, [index, *qparams]

    def _search_rows(self, parsed: ParsedQuery, filters: SearchFilters | None, limit: int,
                     offset: int, ranks: bool) -> list[Any]:
        where, fparams = self._filter_sql(filters)  # (ts_rank costs nothing extra here: _to_hits drops it if unasked)
        has_phrase = any(t.kind == "phrase" for t in parsed.include)
        rows = self._windowed(parsed, where, fparams, limit, offset, words_first=has_phrase)
        if has_phrase and len(rows) < limit:
            # The recent word matches held too few of the phrase; look for the phrase itself.
            rows = self._windowed(parsed, where, fparams, limit, offset, words_first=False)
        return rows

    def _windowed(self, parsed: ParsedQuery, where: str, fparams: list[Any], limit: int, offset: int,
                  *, words_first: bool) -> list[Any]:
        """Rank the RANK_WINDOW most recent matches (see RANK_WINDOW); headlines only for rows returned.

        With ``words_first`` the window holds the most recent entries that contain all the words
        (exact from the GIN index) and the phrase is checked only inside it: the index stores no
        positions, so looking for a phrase across the journal rechecks every candidate from the heap.
        """
        query, qparams = self._compile(parsed.include, parsed.exclude)
        window_query, wparams = (self._compile(parsed.include, [], words_only=True) if words_first
                                 else (query, qparams))
        options = f"StartSel={HL_START}, StopSel={HL_END}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=\" … \""
        columns = _REFLECTION_COLUMNS.replace("r.", "c.")
        sql = (
            f"SELECT hit.*, ts_headline('english', hit.content, hit.q, %s) AS snip FROM ("
            f"  SELECT {columns}, ts_rank_cd(c.search_vector, q.q) AS rank, q.q"
            f"  FROM (SELECT {query} AS q) q, ("
            f"    SELECT {_REFLECTION_COLUMNS}, r.search_vector"
            f"    FROM reflections r, (SELECT {window_query} AS w) w"
            f"    WHERE r.search_vector @@ w.w{where}"
            "    ORDER BY r.created_at DESC LIMIT %s) c"
            "  WHERE c.search_vector @@ q.q"
            "  ORDER BY rank DESC, c.created_at DESC LIMIT %s OFFSET %s) hit "
            "ORDER BY hit.rank DESC, hit.created_at DESC"
        )
        args = [options, *qparams, *wparams, *fparams, RANK_WINDOW + offset, limit, offset]
        return list(self.models.Reflection.raw(sql, *args))


def open_storage(*, sqlite_path: Path | str | None = None, postgres_dsn: str | None = None,
                 migrate: bool = True, create: bool = True) -> PeeweeStorage:
    """Open a journal on SQLite (default) or PostgreSQL, migrating it unless ``migrate`` is False."""
    if postgres_dsn:
        return PostgresStorage(postgres_dsn, migrate=migrate)
    if sqlite_path is None:
        raise StorageError("No journal location was given; pass a data folder, a .db file or a PostgreSQL DSN.")
    return SQLiteStorage(sqlite_path, migrate=migrate, create=create)
