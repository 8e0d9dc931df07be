-- Migration: 001_sync.sql
-- Version: 1.0.0
-- Date: 2026-12-03
-- Description: The sync server's schema: one account per PostgreSQL role, sealed rows, row-level security
--
-- Issue 18: a PostgreSQL server relays changes between one person's devices; it is not a journal.
-- It lives in its own schema (mirror_sync), applied and checksummed by mirror_desktop/sync/server.py
-- the way the journal's migrations are. Every row belongs to the role that wrote it (account =
-- current_user), and row-level security (forced, so even the tables' owner is held to it) lets a
-- role see and change only its own rows: one server can host a household.
--
-- The server stores what core/outbound.py let out: private rows as ciphertext, public rows in clear,
-- anonymised aggregates, tombstones. Every row carries a tag made with the account's key (which never
-- reaches the server) over its account, entity, id, version, kind and format, so a server that edits,
-- swaps or replays a row is caught by the device that pulls it.

-- Forward migration

CREATE TABLE mirror_sync.accounts (
    account    TEXT PRIMARY KEY DEFAULT current_user,
    kdf        JSONB NOT NULL,
    key_check  BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE mirror_sync.rows (
    seq     BIGSERIAL PRIMARY KEY,
    account TEXT NOT NULL DEFAULT current_user,
    entity  TEXT NOT NULL CHECK (length(entity) BETWEEN 1 AND 64),
    row_id  TEXT NOT NULL CHECK (length(row_id) BETWEEN 1 AND 64),
    version INTEGER NOT NULL CHECK (version >= 1),
    hlc     TEXT NOT NULL,
    device  TEXT NOT NULL,
    format  INTEGER NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('sealed', 'clear', 'anonymized', 'summary', 'tombstone')),
    payload BYTEA,
    tag     BYTEA NOT NULL,
    UNIQUE (account, entity, row_id)
);

CREATE INDEX idx_sync_rows_account_seq ON mirror_sync.rows (account, seq);

ALTER TABLE mirror_sync.accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE mirror_sync.accounts FORCE ROW LEVEL SECURITY;
ALTER TABLE mirror_sync.rows ENABLE ROW LEVEL SECURITY;
ALTER TABLE mirror_sync.rows FORCE ROW LEVEL SECURITY;
CREATE POLICY own_account ON mirror_sync.accounts
    USING (account = current_user) WITH CHECK (account = current_user);
CREATE POLICY own_rows ON mirror_sync.rows
    USING (account = current_user) WITH CHECK (account = current_user);

-- Any role on the server may hold an account; the policies keep each to its own rows.
GRANT USAGE ON SCHEMA mirror_sync TO PUBLIC;
GRANT SELECT, INSERT, UPDATE ON mirror_sync.accounts TO PUBLIC;
GRANT SELECT, INSERT, UPDATE ON mirror_sync.rows TO PUBLIC;
GRANT USAGE, SELECT ON SEQUENCE mirror_sync.rows_seq_seq TO PUBLIC;
GRANT SELECT ON mirror_sync.schema_version TO PUBLIC;

-- An open window LISTENs on its account's channel and pulls within seconds; the notice carries
-- nothing but the wake-up (the channel is a hash of the role name, no content).
CREATE FUNCTION mirror_sync.notify_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('mirror_sync_' || md5(current_user), '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER rows_notify AFTER INSERT OR UPDATE ON mirror_sync.rows
    FOR EACH STATEMENT EXECUTE FUNCTION mirror_sync.notify_rows();

-- ROLLBACK:
-- DROP TRIGGER IF EXISTS rows_notify ON mirror_sync.rows;
-- DROP FUNCTION IF EXISTS mirror_sync.notify_rows();
-- DROP TABLE IF EXISTS mirror_sync.rows;
-- DROP TABLE IF EXISTS mirror_sync.accounts;
