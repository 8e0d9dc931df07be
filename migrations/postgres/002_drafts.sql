-- Migration: 002_drafts.sql
-- Version: 1.1.0
-- Date: 2026-11-25
-- Description: Editor drafts for crash recovery (adapter extension, not a spec table)
--
-- The editor saves what is being typed here at most 2 s after the last keystroke, so a crash
-- loses nothing (shared/RELIABILITY.md, "typing lost in a crash"). A draft is removed once its
-- text is saved as a reflection. Drafts never leave the device: no export, share or sync reads them.

-- Forward migration

CREATE TABLE drafts (
    id            TEXT PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 64),
    reflection_id TEXT REFERENCES reflections (id) ON DELETE CASCADE,
    identity_id   TEXT REFERENCES identities (id) ON DELETE SET NULL,
    content       TEXT NOT NULL,
    metadata      JSONB CHECK (metadata IS NULL OR jsonb_typeof(metadata) = 'object'),
    updated_at    TIMESTAMPTZ NOT NULL CHECK (isfinite(updated_at))
);

CREATE INDEX idx_drafts_updated ON drafts (updated_at DESC);

-- ROLLBACK:
-- DROP TABLE IF EXISTS drafts;
