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
    external_id    TEXT NOT NULL CHECK (char_length(external_id) BETWEEN 1 AND 1024),
    kind           TEXT NOT NULL CHECK (kind IN ('event', 'note')),
    title          TEXT,
    starts_at      TIMESTAMPTZ CHECK (isfinite(starts_at)),
    ends_at        TIMESTAMPTZ CHECK (isfinite(ends_at)),
    all_day        BOOLEAN NOT NULL DEFAULT FALSE,
    version        TEXT NOT NULL,
    state          TEXT NOT NULL DEFAULT 'present' CHECK (state IN ('present', 'deleted_upstream')),
    reflection_id  TEXT REFERENCES reflections (id) ON DELETE SET NULL,
    first_seen_at  TIMESTAMPTZ NOT NULL CHECK (isfinite(first_seen_at)),
    updated_at     TIMESTAMPTZ NOT NULL CHECK (isfinite(updated_at)),
    metadata       JSONB CHECK (metadata IS NULL OR jsonb_typeof(metadata) = 'object'),
    PRIMARY KEY (integration_id, external_id),
    CHECK (ends_at IS NULL OR starts_at IS NULL OR ends_at >= starts_at)
);

CREATE INDEX idx_integration_items_starts ON integration_items (starts_at);
CREATE INDEX idx_integration_items_reflection ON integration_items (reflection_id);

-- ROLLBACK:
-- DROP TABLE IF EXISTS integration_items;
