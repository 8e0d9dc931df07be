-- Migration: 007_sync.sql
-- Version: 1.6.0
-- Date: 2026-12-03
-- Description: Sync bookkeeping between a person's devices (adapter extension, not spec tables)
--
-- Issue 18: the same tables as the SQLite journal's 007_sync so both dialects stay at one schema
-- version. A device that syncs keeps an SQLite journal; a PostgreSQL journal has these tables but no
-- change triggers, so `mirror sync setup` refuses it in one sentence (see mirror_desktop/sync).

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
    changed_ms BIGINT NOT NULL,
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
    seq     BIGINT PRIMARY KEY,
    entity  TEXT NOT NULL,
    row_id  TEXT NOT NULL,
    version INTEGER NOT NULL,
    hlc     TEXT NOT NULL,
    device  TEXT NOT NULL,
    format  INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    payload BYTEA,
    tag     BYTEA NOT NULL
);

CREATE TABLE sync_identity_links (
    identity_key TEXT PRIMARY KEY NOT NULL,
    identity_id  TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE
);

-- sync_summary's aggregate and the status read the few reflections that may leave without scanning
-- every row (a partial index: local_only, most of a journal, is not in it).
CREATE INDEX idx_reflections_shared ON reflections (visibility, identity_id) WHERE visibility <> 'local_only';

-- ROLLBACK:
-- DROP INDEX IF EXISTS idx_reflections_shared;
-- DROP TABLE IF EXISTS sync_identity_links;
-- DROP TABLE IF EXISTS sync_inbox;
-- DROP TABLE IF EXISTS sync_rows;
-- DROP TABLE IF EXISTS sync_changes;
-- DROP TABLE IF EXISTS sync_applying;
-- DROP TABLE IF EXISTS sync_state;
