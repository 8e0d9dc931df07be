-- Migration: 012_index_purge.sql
-- Version: 1.11.0
-- Date: 2026-12-03
-- Description: The index merge that takes a deleted reflection's earlier words away runs in small resumable steps (adapter extension)
--
-- Migration 010 left the words of a reflection's earlier versions in older FTS5 segments until a
-- merge, and purge_deleted ran 'optimize' when a deleted row had such edits: at 100,000 entries one
-- transaction of ~4 s on the write lane, during which every save waited. The merge now runs as
-- FTS5 incremental 'merge' steps of ~50 ms, each its own transaction (Storage.purge_step):
--   * reflections_fts_purge holds the merge in progress (one row at most): started when a deleted
--     row had plain edits, with a 'merge' of negative size (every segment joins one merge, as
--     'optimize' would), continued with positive ones until FTS5 reports nothing left to merge.
--     A purge a crash interrupted is found here and finished at the next open (or close).
--   * reflections_fts_edited.merging: the rows whose edits the merge in progress covers (all the
--     rows noted when it started). An edit after the start puts new segments beside the merge, so
--     the update trigger clears the flag; finishing removes only the covered rows.

-- Forward migration

ALTER TABLE reflections_fts_edited ADD COLUMN merging INTEGER NOT NULL DEFAULT 0;

CREATE TABLE reflections_fts_purge (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    started_at TEXT NOT NULL,
    steps      INTEGER NOT NULL DEFAULT 0 CHECK (steps >= 0)
);

DROP TRIGGER IF EXISTS reflections_fts_update;

CREATE TRIGGER reflections_fts_update AFTER UPDATE OF content, identity_id ON reflections
BEGIN
    INSERT INTO reflections_fts (reflections_fts, rowid, content, identity_key) VALUES ('delete', OLD.rowid, OLD.content,
        CASE WHEN OLD.identity_id IS NULL THEN 'i00000000000000000000000000000000' ELSE 'i' || replace(OLD.identity_id, '-', '') END);
    INSERT INTO reflections_fts (rowid, content, identity_key) VALUES (NEW.rowid, NEW.content,
        CASE WHEN NEW.identity_id IS NULL THEN 'i00000000000000000000000000000000' ELSE 'i' || replace(NEW.identity_id, '-', '') END);
    INSERT INTO reflections_fts_edited (rid) VALUES (OLD.rowid) ON CONFLICT (rid) DO UPDATE SET merging = 0;
END;

-- ROLLBACK:
-- DROP TRIGGER IF EXISTS reflections_fts_update;
-- CREATE TRIGGER reflections_fts_update AFTER UPDATE OF content, identity_id ON reflections
-- BEGIN
--     INSERT INTO reflections_fts (reflections_fts, rowid, content, identity_key) VALUES ('delete', OLD.rowid, OLD.content,
--         CASE WHEN OLD.identity_id IS NULL THEN 'i00000000000000000000000000000000' ELSE 'i' || replace(OLD.identity_id, '-', '') END);
--     INSERT INTO reflections_fts (rowid, content, identity_key) VALUES (NEW.rowid, NEW.content,
--         CASE WHEN NEW.identity_id IS NULL THEN 'i00000000000000000000000000000000' ELSE 'i' || replace(NEW.identity_id, '-', '') END);
--     INSERT OR IGNORE INTO reflections_fts_edited (rid) VALUES (OLD.rowid);
-- END;
-- INSERT INTO reflections_fts (reflections_fts) VALUES ('optimize');
-- DELETE FROM reflections_fts_edited WHERE deleted = 1 OR merging = 1;
-- DROP TABLE IF EXISTS reflections_fts_purge;
-- ALTER TABLE reflections_fts_edited DROP COLUMN merging;
