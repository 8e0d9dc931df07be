-- Migration: 004_attachments.sql
-- Version: 1.3.0
-- Date: 2026-12-03
-- Description: Files kept with reflections, by content hash (the spec's v2 attachments, as an adapter extension)
--
-- Issue 15: images pasted, dropped or picked into a reflection, and the photos imports bring. The
-- spec lists "Attachments table - files associated with reflections" among its v2 additions without
-- fields; this is Mirror's reading of it. One row per (reflection, file): the file's SHA-256 names
-- its bytes, which live outside this table - on SQLite in a folder beside the journal file
-- (<journal stem>.attachments/<first two hex>/<sha256>), so the journal stays small and a file is
-- stored once however many reflections use it. mime_type is sniffed from the bytes, never the name.
-- Rows go with their reflection (ON DELETE CASCADE); the blob goes from disk when no row names it.

-- Forward migration

CREATE TABLE attachments (
    id            TEXT PRIMARY KEY,
    reflection_id TEXT NOT NULL REFERENCES reflections (id) ON DELETE CASCADE,
    sha256        TEXT NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
    mime_type     TEXT NOT NULL CHECK (length(mime_type) BETWEEN 3 AND 100 AND mime_type GLOB '*/*'),
    size_bytes    INTEGER NOT NULL CHECK (size_bytes > 0),
    filename      TEXT CHECK (filename IS NULL OR length(filename) BETWEEN 1 AND 255),
    created_at    TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(created_at) IS NOT NULL),
    metadata      TEXT CHECK (metadata IS NULL OR (json_valid(metadata) AND json_type(metadata) = 'object')),
    UNIQUE (reflection_id, sha256)
);

CREATE INDEX idx_attachments_sha256 ON attachments (sha256);

-- ROLLBACK:
-- DROP TABLE IF EXISTS attachments;
