-- Migration: 007_sync.sql
-- Version: 1.6.0
-- Date: 2026-12-03
-- Description: Sync bookkeeping between a person's devices: changed rows, row versions, inbox, state (adapter extension, not spec tables)
--
-- Issue 18: each device keeps its own journal and exchanges changes through a PostgreSQL server.
-- The spec tables are not altered; sync keeps its own books beside them:
--   * sync_changes: rows changed here since they were last sent (filled by triggers, only while sync
--     is set up, and never while a pulled change is being applied: sync_applying holds a row then,
--     inside the applying transaction, so a crash cannot leave it set);
--   * sync_rows: per synced row, the server version last seen and its hybrid logical clock;
--   * sync_inbox: rows pulled from the server and not yet applied (a row from a newer Mirror, or one
--     whose reflection has not arrived, waits here);
--   * sync_state: this device's id, server, cursor, clock and last sync (key/value);
--   * sync_identity_links: which local identity receives another device's (opaque) identity key.
-- All of it is local_only bookkeeping: no export, share or sync reads it.

-- Forward migration

CREATE TABLE sync_state (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE sync_applying (
    id INTEGER PRIMARY KEY
);

CREATE TABLE sync_changes (
    entity     TEXT NOT NULL,
    row_id     TEXT NOT NULL,
    deleted    INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    changed_ms INTEGER NOT NULL,
    edits      INTEGER NOT NULL DEFAULT 0,
    -- The clock and edit count of the last attempt to send it: a push that reached the server but
    -- whose local commit was lost is recognised as this device's own on the next pull.
    attempt_hlc   TEXT,
    attempt_edits INTEGER,
    PRIMARY KEY (entity, row_id)
);

CREATE TABLE sync_rows (
    entity  TEXT NOT NULL,
    row_id  TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 0),
    hlc     TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    PRIMARY KEY (entity, row_id)
);

CREATE TABLE sync_inbox (
    seq     INTEGER PRIMARY KEY,
    entity  TEXT NOT NULL,
    row_id  TEXT NOT NULL,
    version INTEGER NOT NULL,
    hlc     TEXT NOT NULL,
    device  TEXT NOT NULL,
    format  INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    payload BLOB,
    tag     BLOB NOT NULL
);

CREATE TABLE sync_identity_links (
    identity_key TEXT PRIMARY KEY NOT NULL,
    identity_id  TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE
);

CREATE TRIGGER sync_reflections_insert AFTER INSERT ON reflections
WHEN EXISTS (SELECT 1 FROM sync_state WHERE key = 'enabled') AND NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_changes (entity, row_id, deleted, changed_ms) VALUES ('reflections', NEW.id, 0, CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER))
    ON CONFLICT (entity, row_id) DO UPDATE SET deleted = excluded.deleted, changed_ms = excluded.changed_ms,
        edits = sync_changes.edits + 1;
END;

CREATE TRIGGER sync_reflections_update AFTER UPDATE ON reflections
WHEN EXISTS (SELECT 1 FROM sync_state WHERE key = 'enabled') AND NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_changes (entity, row_id, deleted, changed_ms) VALUES ('reflections', NEW.id, 0, CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER))
    ON CONFLICT (entity, row_id) DO UPDATE SET deleted = excluded.deleted, changed_ms = excluded.changed_ms,
        edits = sync_changes.edits + 1;
END;

CREATE TRIGGER sync_reflections_delete AFTER DELETE ON reflections
WHEN EXISTS (SELECT 1 FROM sync_state WHERE key = 'enabled') AND NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_changes (entity, row_id, deleted, changed_ms) VALUES ('reflections', OLD.id, 1, CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER))
    ON CONFLICT (entity, row_id) DO UPDATE SET deleted = excluded.deleted, changed_ms = excluded.changed_ms,
        edits = sync_changes.edits + 1;
END;

CREATE TRIGGER sync_mirrorbacks_insert AFTER INSERT ON mirrorbacks
WHEN EXISTS (SELECT 1 FROM sync_state WHERE key = 'enabled') AND NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_changes (entity, row_id, deleted, changed_ms) VALUES ('mirrorbacks', NEW.id, 0, CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER))
    ON CONFLICT (entity, row_id) DO UPDATE SET deleted = excluded.deleted, changed_ms = excluded.changed_ms,
        edits = sync_changes.edits + 1;
END;

CREATE TRIGGER sync_mirrorbacks_update AFTER UPDATE ON mirrorbacks
WHEN EXISTS (SELECT 1 FROM sync_state WHERE key = 'enabled') AND NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_changes (entity, row_id, deleted, changed_ms) VALUES ('mirrorbacks', NEW.id, 0, CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER))
    ON CONFLICT (entity, row_id) DO UPDATE SET deleted = excluded.deleted, changed_ms = excluded.changed_ms,
        edits = sync_changes.edits + 1;
END;

CREATE TRIGGER sync_mirrorbacks_delete AFTER DELETE ON mirrorbacks
WHEN EXISTS (SELECT 1 FROM sync_state WHERE key = 'enabled') AND NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_changes (entity, row_id, deleted, changed_ms) VALUES ('mirrorbacks', OLD.id, 1, CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER))
    ON CONFLICT (entity, row_id) DO UPDATE SET deleted = excluded.deleted, changed_ms = excluded.changed_ms,
        edits = sync_changes.edits + 1;
END;

CREATE TRIGGER sync_tensions_insert AFTER INSERT ON tensions
WHEN EXISTS (SELECT 1 FROM sync_state WHERE key = 'enabled') AND NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_changes (entity, row_id, deleted, changed_ms) VALUES ('tensions', NEW.id, 0, CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER))
    ON CONFLICT (entity, row_id) DO UPDATE SET deleted = excluded.deleted, changed_ms = excluded.changed_ms,
        edits = sync_changes.edits + 1;
END;

CREATE TRIGGER sync_tensions_update AFTER UPDATE ON tensions
WHEN EXISTS (SELECT 1 FROM sync_state WHERE key = 'enabled') AND NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_changes (entity, row_id, deleted, changed_ms) VALUES ('tensions', NEW.id, 0, CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER))
    ON CONFLICT (entity, row_id) DO UPDATE SET deleted = excluded.deleted, changed_ms = excluded.changed_ms,
        edits = sync_changes.edits + 1;
END;

CREATE TRIGGER sync_tensions_delete AFTER DELETE ON tensions
WHEN EXISTS (SELECT 1 FROM sync_state WHERE key = 'enabled') AND NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_changes (entity, row_id, deleted, changed_ms) VALUES ('tensions', OLD.id, 1, CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER))
    ON CONFLICT (entity, row_id) DO UPDATE SET deleted = excluded.deleted, changed_ms = excluded.changed_ms,
        edits = sync_changes.edits + 1;
END;

CREATE TRIGGER sync_engine_runs_insert AFTER INSERT ON engine_runs
WHEN EXISTS (SELECT 1 FROM sync_state WHERE key = 'enabled') AND NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_changes (entity, row_id, deleted, changed_ms) VALUES ('engine_runs', NEW.id, 0, CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER))
    ON CONFLICT (entity, row_id) DO UPDATE SET deleted = excluded.deleted, changed_ms = excluded.changed_ms,
        edits = sync_changes.edits + 1;
END;

CREATE TRIGGER sync_engine_runs_update AFTER UPDATE ON engine_runs
WHEN EXISTS (SELECT 1 FROM sync_state WHERE key = 'enabled') AND NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_changes (entity, row_id, deleted, changed_ms) VALUES ('engine_runs', NEW.id, 0, CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER))
    ON CONFLICT (entity, row_id) DO UPDATE SET deleted = excluded.deleted, changed_ms = excluded.changed_ms,
        edits = sync_changes.edits + 1;
END;

CREATE TRIGGER sync_engine_runs_delete AFTER DELETE ON engine_runs
WHEN EXISTS (SELECT 1 FROM sync_state WHERE key = 'enabled') AND NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_changes (entity, row_id, deleted, changed_ms) VALUES ('engine_runs', OLD.id, 1, CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER))
    ON CONFLICT (entity, row_id) DO UPDATE SET deleted = excluded.deleted, changed_ms = excluded.changed_ms,
        edits = sync_changes.edits + 1;
END;

CREATE TRIGGER sync_engine_feedback_insert AFTER INSERT ON engine_feedback
WHEN EXISTS (SELECT 1 FROM sync_state WHERE key = 'enabled') AND NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_changes (entity, row_id, deleted, changed_ms) VALUES ('engine_feedback', NEW.id, 0, CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER))
    ON CONFLICT (entity, row_id) DO UPDATE SET deleted = excluded.deleted, changed_ms = excluded.changed_ms,
        edits = sync_changes.edits + 1;
END;

CREATE TRIGGER sync_engine_feedback_update AFTER UPDATE ON engine_feedback
WHEN EXISTS (SELECT 1 FROM sync_state WHERE key = 'enabled') AND NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_changes (entity, row_id, deleted, changed_ms) VALUES ('engine_feedback', NEW.id, 0, CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER))
    ON CONFLICT (entity, row_id) DO UPDATE SET deleted = excluded.deleted, changed_ms = excluded.changed_ms,
        edits = sync_changes.edits + 1;
END;

CREATE TRIGGER sync_engine_feedback_delete AFTER DELETE ON engine_feedback
WHEN EXISTS (SELECT 1 FROM sync_state WHERE key = 'enabled') AND NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_changes (entity, row_id, deleted, changed_ms) VALUES ('engine_feedback', OLD.id, 1, CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER))
    ON CONFLICT (entity, row_id) DO UPDATE SET deleted = excluded.deleted, changed_ms = excluded.changed_ms,
        edits = sync_changes.edits + 1;
END;

CREATE TRIGGER sync_evolution_events_insert AFTER INSERT ON evolution_events
WHEN EXISTS (SELECT 1 FROM sync_state WHERE key = 'enabled') AND NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_changes (entity, row_id, deleted, changed_ms) VALUES ('evolution_events', NEW.id, 0, CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER))
    ON CONFLICT (entity, row_id) DO UPDATE SET deleted = excluded.deleted, changed_ms = excluded.changed_ms,
        edits = sync_changes.edits + 1;
END;

CREATE TRIGGER sync_evolution_events_update AFTER UPDATE ON evolution_events
WHEN EXISTS (SELECT 1 FROM sync_state WHERE key = 'enabled') AND NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_changes (entity, row_id, deleted, changed_ms) VALUES ('evolution_events', NEW.id, 0, CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER))
    ON CONFLICT (entity, row_id) DO UPDATE SET deleted = excluded.deleted, changed_ms = excluded.changed_ms,
        edits = sync_changes.edits + 1;
END;

CREATE TRIGGER sync_evolution_events_delete AFTER DELETE ON evolution_events
WHEN EXISTS (SELECT 1 FROM sync_state WHERE key = 'enabled') AND NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_changes (entity, row_id, deleted, changed_ms) VALUES ('evolution_events', OLD.id, 1, CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER))
    ON CONFLICT (entity, row_id) DO UPDATE SET deleted = excluded.deleted, changed_ms = excluded.changed_ms,
        edits = sync_changes.edits + 1;
END;

-- sync_summary's aggregate and the status read the few reflections that may leave without scanning
-- every row (a partial index: local_only, most of a journal, is not in it).
CREATE INDEX idx_reflections_shared ON reflections (visibility, identity_id) WHERE visibility <> 'local_only';

-- ROLLBACK:
-- DROP INDEX IF EXISTS idx_reflections_shared;
-- DROP TRIGGER IF EXISTS sync_reflections_insert;
-- DROP TRIGGER IF EXISTS sync_reflections_update;
-- DROP TRIGGER IF EXISTS sync_reflections_delete;
-- DROP TRIGGER IF EXISTS sync_mirrorbacks_insert;
-- DROP TRIGGER IF EXISTS sync_mirrorbacks_update;
-- DROP TRIGGER IF EXISTS sync_mirrorbacks_delete;
-- DROP TRIGGER IF EXISTS sync_tensions_insert;
-- DROP TRIGGER IF EXISTS sync_tensions_update;
-- DROP TRIGGER IF EXISTS sync_tensions_delete;
-- DROP TRIGGER IF EXISTS sync_engine_runs_insert;
-- DROP TRIGGER IF EXISTS sync_engine_runs_update;
-- DROP TRIGGER IF EXISTS sync_engine_runs_delete;
-- DROP TRIGGER IF EXISTS sync_engine_feedback_insert;
-- DROP TRIGGER IF EXISTS sync_engine_feedback_update;
-- DROP TRIGGER IF EXISTS sync_engine_feedback_delete;
-- DROP TRIGGER IF EXISTS sync_evolution_events_insert;
-- DROP TRIGGER IF EXISTS sync_evolution_events_update;
-- DROP TRIGGER IF EXISTS sync_evolution_events_delete;
-- DROP TABLE IF EXISTS sync_identity_links;
-- DROP TABLE IF EXISTS sync_inbox;
-- DROP TABLE IF EXISTS sync_rows;
-- DROP TABLE IF EXISTS sync_changes;
-- DROP TABLE IF EXISTS sync_applying;
-- DROP TABLE IF EXISTS sync_state;
