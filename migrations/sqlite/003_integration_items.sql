-- Migration: 003_integration_items.sql
-- Version: 1.2.0
-- Date: 2026-12-03
-- Description: Items fetched by integrations, keyed by (integration, external id) (adapter extension, not a spec table)
--
-- Issue 14: calendar events are context shown beside the day's writing, not reflections, and notes
-- need a record of what was last fetched so a re-sync updates instead of duplicating. One row per
-- item a source returned: its kind, title and times, an opaque version (ETag, content hash) that
-- tells a changed item from an unchanged one, whether the source still has it, and the reflection
-- a note became. Rows go with their integration; a reflection deleted in Mirror leaves the row.
-- Items are local_only: no export, share or sync reads them (bundles carry none; a re-sync refills).

-- Forward migration

CREATE TABLE integration_items (
    integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    external_id    TEXT NOT NULL CHECK (length(external_id) BETWEEN 1 AND 1024),
    kind           TEXT NOT NULL CHECK (kind IN ('event', 'note')),
    title          TEXT,
    starts_at      TEXT CHECK (starts_at IS NULL OR (starts_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(starts_at) IS NOT NULL)),
    ends_at        TEXT CHECK (ends_at IS NULL OR (ends_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(ends_at) IS NOT NULL)),
    all_day        INTEGER NOT NULL DEFAULT 0 CHECK (all_day IN (0, 1)),
    version        TEXT NOT NULL,
    state          TEXT NOT NULL DEFAULT 'present' CHECK (state IN ('present', 'deleted_upstream')),
    reflection_id  TEXT REFERENCES reflections (id) ON DELETE SET NULL,
    first_seen_at  TEXT NOT NULL CHECK (first_seen_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(first_seen_at) IS NOT NULL),
    updated_at     TEXT NOT NULL CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(updated_at) IS NOT NULL),
    metadata       TEXT CHECK (metadata IS NULL OR (json_valid(metadata) AND json_type(metadata) = 'object')),
    PRIMARY KEY (integration_id, external_id),
    CHECK (ends_at IS NULL OR starts_at IS NULL OR julianday(ends_at) >= julianday(starts_at))
);

CREATE INDEX idx_integration_items_starts ON integration_items (starts_at);
CREATE INDEX idx_integration_items_reflection ON integration_items (reflection_id);

-- ROLLBACK:
-- DROP TABLE IF EXISTS integration_items;
