-- Migration: 004_attachments.sql
-- Version: 1.3.0
-- Date: 2026-12-03
-- Description: Files kept with reflections, by content hash (the spec's v2 attachments, as an adapter extension)
--
-- Issue 15: images pasted, dropped or picked into a reflection, and the photos imports bring. The
-- spec lists "Attachments table - files associated with reflections" among its v2 additions without
-- fields; this is Mirror's reading of it. One row per (reflection, file): the file's SHA-256 names
-- its bytes. A PostgreSQL journal has no folder beside it that every client shares, so the bytes
-- live in attachment_blobs (one row per distinct file, bytea) and travel with the database;
-- a blob is deleted in the same transaction as the last attachment row that names it.
-- mime_type is sniffed from the bytes, never the name. Rows go with their reflection (ON DELETE CASCADE).

-- Forward migration

CREATE TABLE attachment_blobs (
    sha256     TEXT PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    data       BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now() CHECK (isfinite(created_at))
);

CREATE TABLE attachments (
    id            TEXT PRIMARY KEY,
    reflection_id TEXT NOT NULL REFERENCES reflections (id) ON DELETE CASCADE,
    sha256        TEXT NOT NULL REFERENCES attachment_blobs (sha256) ON DELETE RESTRICT,
    mime_type     TEXT NOT NULL CHECK (char_length(mime_type) BETWEEN 3 AND 100 AND mime_type LIKE '%/%'),
    size_bytes    BIGINT NOT NULL CHECK (size_bytes > 0),
    filename      TEXT CHECK (filename IS NULL OR char_length(filename) BETWEEN 1 AND 255),
    created_at    TIMESTAMPTZ NOT NULL CHECK (isfinite(created_at)),
    metadata      JSONB CHECK (metadata IS NULL OR jsonb_typeof(metadata) = 'object'),
    UNIQUE (reflection_id, sha256)
);

CREATE INDEX idx_attachments_sha256 ON attachments (sha256);

-- ROLLBACK:
-- DROP TABLE IF EXISTS attachments;
-- DROP TABLE IF EXISTS attachment_blobs;
