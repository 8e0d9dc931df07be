-- Migration: 010_sync_identities.sql
-- Version: 1.9.0
-- Date: 2026-12-03
-- Description: Other devices' identity keys with their counts and whether the person answered (adapter extension); SQLite also changes its FTS5 triggers
--
-- Issue 18: sync_identity_keys as in the SQLite migration (a PostgreSQL journal does not sync between
-- devices today; the table keeps the two schemas alike). PostgreSQL's search index (a generated
-- tsvector column) has no secure-delete setting to change.

-- Forward migration

CREATE TABLE sync_identity_keys (
    identity_key TEXT PRIMARY KEY NOT NULL,
    reflections  INTEGER NOT NULL DEFAULT 0 CHECK (reflections >= 0),
    tensions     INTEGER NOT NULL DEFAULT 0 CHECK (tensions >= 0),
    answered     INTEGER NOT NULL DEFAULT 0 CHECK (answered IN (0, 1)),
    -- the identity sync made for this key before the person answered (renamed, or removed when emptied)
    made_identity TEXT
);

-- ROLLBACK:
-- DROP TABLE IF EXISTS sync_identity_keys;
