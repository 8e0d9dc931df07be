"""SQLiteStorage and PostgresStorage: the spec's repositories, search and migrations on each backend."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import peewee

from mirror_desktop.core import models as m
from mirror_desktop.core.errors import StorageError
from mirror_desktop.core.models import SearchFilters, SearchHit
from mirror_desktop.core.search_query import HL_END, HL_START, ParsedQuery, Term, fts5_match, parse_query
from mirror_desktop.core.ports import MirrorStorage
from mirror_desktop.storage import backups
from mirror_desktop.storage.database import open_postgres, open_sqlite
from mirror_desktop.storage.migrations import MigrationRunner
from mirror_desktop.storage.models import ModelSet, build_models
from mirror_desktop.storage.repositories import (
    HistoryRepository,
    IntegrationItemRepository,
    PeeweeRepository,
    ProposalRepository,
    ReflectionRepository,
    ThreadReflectionRepository,
)

SPEC_TABLES = (
    "identities", "reflections", "mirrorbacks", "threads", "thread_reflections", "tensions", "axes",
    "engine_runs", "engine_feedback", "evolution_proposals", "evolution_history", "evolution_events",
    "integrations", "schema_version",
)
SNIPPET_TOKENS = 24
# Ranking reads every candidate's statistics, which for a word found in most of 100,000 entries
# costs far more than the 50 ms budget. Terms with more matches than this are ranked among their
# RANK_WINDOW most recently written matches; rarer terms are ranked across the whole journal.
RANK_WINDOW = 1000
_REFLECTION_COLUMNS = "r.id, r.identity_id, r.content, r.content_type, r.visibility, r.created_at, r.source, r.metadata"


class PeeweeStorage(MirrorStorage):
    """What both backends share: models, repositories, transactions, migrations, counts."""

    dialect = ""

    def __init__(self, db: peewee.Database, *, migrate: bool = True) -> None:
        self.db = db
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
        try:
            self.runner = MigrationRunner(db, self.dialect, backup=self._backup_before_migration)
            self.runner.verify()
            if migrate:
                self.migrate()
        except BaseException:
            # A refused journal (too new, edited migration, failed migration) must not stay open:
            # callers drop the object, and an open handle keeps a staged import from being removed.
            db.close()
            raise

    # -- lifecycle -----------------------------------------------------------------------
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
        return "".join(f" AND {s}" for s in sql), params

    def search(self, query: str, filters: SearchFilters | None = None, *, limit: int = 50,
               offset: int = 0) -> list[SearchHit]:
        parsed = parse_query(query)
        if parsed.empty:
            return []
        rows = self._search_rows(parsed, filters, limit, offset)
        repo = self.reflections
        return [SearchHit(repo.to_dc(r), r.snip or "", float(r.rank)) for r in rows]

    def _search_rows(self, parsed: ParsedQuery, filters: SearchFilters | None, limit: int,
                     offset: int) -> list[Any]:
        raise NotImplementedError


class SQLiteStorage(PeeweeStorage):
    """The default journal: one SQLite file (``mirror_os.db``) with WAL and FTS5."""

    dialect = "sqlite"

    def __init__(self, path: Path | str, *, migrate: bool = True, create: bool = True, readonly: bool = False,
                 keep_backups: int = backups.KEEP_BACKUPS) -> None:
        """``readonly``: read a journal that cannot be written; with ``migrate``, one needing an update is refused."""
        self.path = Path(path)
        self.readonly = readonly
        self.keep_backups = keep_backups
        super().__init__(open_sqlite(self.path, create=create, readonly=readonly), migrate=migrate and not readonly)
        if readonly and migrate and self.runner.needs_migration():
            self.db.close()
            raise StorageError(f"The journal {self.path} is read-only and needs an update this Mirror would have "
                               "to write; make it writable once, or open a copy.")

    @property
    def location(self) -> str:
        return str(self.path)

    def backup_to(self, target: Path) -> Path:
        """A consistent copy of the live journal, made with VACUUM INTO (never a file copy)."""
        target = Path(target)
        if target.exists() and target.stat().st_size > 0:
            raise StorageError(f"{target} already exists; choose another backup name.")
        # VACUUM INTO accepts an empty file: one created 0600 keeps the copy private from its first byte.
        self.db.execute_sql("VACUUM INTO ?", (str(target),))
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
        # secure_delete zeroes freed pages and FTS5 secure-delete drops index entries at once;
        # the checkpoint moves that into the main file and empties the WAL.
        self.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def _search_rows(self, parsed: ParsedQuery, filters: SearchFilters | None, limit: int,
                     offset: int) -> list[Any]:
        match = fts5_match(parsed)
        where, params = self._filter_sql(filters)
        # Find the rowid of the RANK_WINDOW-th most recently written match: FTS5 walks its doclists
        # in rowid order without ranking, so this costs a few ms even for a word in every entry.
        floor = self.db.execute_sql(
            "SELECT rowid FROM reflections_fts WHERE reflections_fts MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
            (match, RANK_WINDOW + offset - 1),
        ).fetchone()
        ranked = self._ranked_rowids(match, where, params, limit, offset, floor[0] if floor else None)
        if floor is not None and where and len(ranked) < limit:
            # The filters left too few of the recent matches: rank every match instead.
            ranked = self._ranked_rowids(match, where, params, limit, offset, None)
        if not ranked:
            return []
        # Snippets only for the rows shown: building one re-tokenises the whole entry.
        marks = ", ".join("?" * len(ranked))
        sql = (
            f"SELECT {_REFLECTION_COLUMNS}, reflections_fts.rowid AS fts_rowid, "
            f"snippet(reflections_fts, 0, ?, ?, '…', {SNIPPET_TOKENS}) AS snip "
            "FROM reflections_fts JOIN reflections r ON r.rowid = reflections_fts.rowid "
            f"WHERE reflections_fts MATCH ? AND reflections_fts.rowid IN ({marks})"
        )
        rows = {r.fts_rowid: r for r in self.models.Reflection.raw(sql, HL_START, HL_END, match, *ranked)}
        out = []
        for rowid, rank in ranked.items():
            row = rows[rowid]
            row.rank = rank
            out.append(row)
        return out

    def _ranked_rowids(self, match: str, where: str, params: list[Any], limit: int, offset: int,
                       floor: int | None) -> dict[int, float]:
        """rowid → bm25 rank of the best matches, best first, among rowids ≥ ``floor`` if given."""
        window = " AND reflections_fts.rowid >= ?" if floor is not None else ""
        sql = (
            "SELECT reflections_fts.rowid, bm25(reflections_fts) AS rank "
            "FROM reflections_fts JOIN reflections r ON r.rowid = reflections_fts.rowid "
            f"WHERE reflections_fts MATCH ?{window}{where} "
            "ORDER BY rank, r.created_at DESC LIMIT ? OFFSET ?"
        )
        args = [match, *([floor] if floor is not None else []), *params, limit, offset]
        return {int(rowid): float(rank) for rowid, rank in self.db.execute_sql(sql, args).fetchall()}


class PostgresStorage(PeeweeStorage):
    """The platform journal on PostgreSQL, same spec and interface, tsvector search."""

    dialect = "postgres"

    def __init__(self, dsn: str, *, migrate: bool = True) -> None:
        self.dsn = dsn
        super().__init__(open_postgres(dsn), migrate=migrate)

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

    def _search_rows(self, parsed: ParsedQuery, filters: SearchFilters | None, limit: int,
                     offset: int) -> list[Any]:
        where, fparams = self._filter_sql(filters)
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
