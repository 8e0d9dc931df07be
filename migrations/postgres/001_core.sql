-- Migration: 001_core.sql
-- Version: 1.0.0
-- Date: 2025-12-08
-- Description: Core Mirror OS schema: the spec's 14 tables, constraints, indexes and full-text search
--
-- Conventions (PostgreSQL adapter, see README "Spec deviations and adapter extensions"):
--   * ids are TEXT (UUIDs); timestamps are TIMESTAMPTZ (ISO 8601 by type); JSON fields are JSONB;
--   * reflections.search_vector is a generated tsvector column with a GIN index (an adapter
--     extension used by search; it is never part of the row the storage layer returns).

-- Forward migration

CREATE TABLE identities (
    id          TEXT PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 64),
    created_at  TIMESTAMPTZ NOT NULL CHECK (isfinite(created_at)),
    updated_at  TIMESTAMPTZ NOT NULL CHECK (isfinite(updated_at)),
    metadata    JSONB CHECK (metadata IS NULL OR jsonb_typeof(metadata) = 'object')
);

CREATE TABLE reflections (
    id            TEXT PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 64),
    identity_id   TEXT REFERENCES identities (id) ON DELETE RESTRICT,
    content       TEXT NOT NULL CHECK (char_length(btrim(content, E' \t\r\n')) > 0),
    content_type  TEXT CHECK (content_type IS NULL OR content_type IN ('text', 'markdown', 'audio_transcript')),
    visibility    TEXT NOT NULL DEFAULT 'local_only'
                  CHECK (visibility IN ('local_only', 'sync_summary', 'sync_full_private', 'sync_full_public')),
    created_at    TIMESTAMPTZ NOT NULL CHECK (isfinite(created_at)),
    source        TEXT CHECK (source IS NULL OR source IN ('direct', 'import', 'integration')),
    metadata      JSONB CHECK (metadata IS NULL OR jsonb_typeof(metadata) = 'object'),
    search_vector TSVECTOR GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
    -- Spec 2: an anonymous reflection never leaves the device.
    CONSTRAINT reflections_anonymous_local_only CHECK (identity_id IS NOT NULL OR visibility = 'local_only')
);

CREATE TABLE mirrorbacks (
    id             TEXT PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 64),
    reflection_id  TEXT NOT NULL REFERENCES reflections (id) ON DELETE CASCADE,
    content        TEXT NOT NULL CHECK (char_length(btrim(content)) > 0),
    engine_version TEXT NOT NULL CHECK (char_length(engine_version) > 0),
    created_at     TIMESTAMPTZ NOT NULL CHECK (isfinite(created_at)),
    metadata       JSONB CHECK (metadata IS NULL OR jsonb_typeof(metadata) = 'object')
);

CREATE TABLE threads (
    id          TEXT PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 64),
    identity_id TEXT REFERENCES identities (id) ON DELETE SET NULL,
    title       TEXT,
    started_at  TIMESTAMPTZ NOT NULL CHECK (isfinite(started_at)),
    last_active TIMESTAMPTZ NOT NULL CHECK (isfinite(last_active)),
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'archived')),
    metadata    JSONB CHECK (metadata IS NULL OR jsonb_typeof(metadata) = 'object')
);

CREATE TABLE thread_reflections (
    thread_id     TEXT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    reflection_id TEXT NOT NULL REFERENCES reflections (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL CHECK (position >= 0),
    added_at      TIMESTAMPTZ NOT NULL CHECK (isfinite(added_at)),
    PRIMARY KEY (thread_id, reflection_id),
    -- Deferrable so a reorder can permute positions inside one transaction.
    CONSTRAINT thread_reflections_position_unique UNIQUE (thread_id, position) DEFERRABLE INITIALLY IMMEDIATE
);

CREATE TABLE tensions (
    id          TEXT PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 64),
    identity_id TEXT REFERENCES identities (id) ON DELETE SET NULL,
    name        TEXT NOT NULL CHECK (char_length(btrim(name)) > 0 AND char_length(name) <= 100),
    axis_a      TEXT NOT NULL CHECK (char_length(btrim(axis_a)) > 0),
    axis_b      TEXT NOT NULL CHECK (char_length(btrim(axis_b)) > 0),
    position    DOUBLE PRECISION CHECK (position IS NULL OR position BETWEEN -1.0 AND 1.0),
    intensity   DOUBLE PRECISION CHECK (intensity IS NULL OR intensity BETWEEN 0.0 AND 1.0),
    origin      TEXT NOT NULL CHECK (origin IN ('system_seed', 'llm_suggested', 'user_created')),
    sync_mode   TEXT NOT NULL DEFAULT 'local_only' CHECK (sync_mode IN ('local_only', 'share_anonymized', 'share_full')),
    created_at  TIMESTAMPTZ NOT NULL CHECK (isfinite(created_at)),
    updated_at  TIMESTAMPTZ NOT NULL CHECK (isfinite(updated_at)),
    metadata    JSONB CHECK (metadata IS NULL OR jsonb_typeof(metadata) = 'object')
);

CREATE TABLE axes (
    id          TEXT PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 64),
    identity_id TEXT REFERENCES identities (id) ON DELETE SET NULL,
    name        TEXT NOT NULL CHECK (char_length(btrim(name)) > 0),
    description TEXT,
    category    TEXT,
    created_at  TIMESTAMPTZ NOT NULL CHECK (isfinite(created_at)),
    metadata    JSONB CHECK (metadata IS NULL OR jsonb_typeof(metadata) = 'object')
);

CREATE TABLE engine_runs (
    id                TEXT PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 64),
    reflection_id     TEXT REFERENCES reflections (id) ON DELETE SET NULL,
    config_version    TEXT NOT NULL CHECK (config_version ~ '^[0-9]+\.[0-9]+\.[0-9]+$'),
    engine_mode       TEXT NOT NULL CHECK (engine_mode IN ('local_llm', 'remote_llm', 'manual')),
    model_name        TEXT,
    patterns          JSONB CHECK (patterns IS NULL OR jsonb_typeof(patterns) = 'array'),
    tensions_surfaced JSONB CHECK (tensions_surfaced IS NULL OR jsonb_typeof(tensions_surfaced) = 'array'),
    mirrorback_length INTEGER CHECK (mirrorback_length IS NULL OR mirrorback_length >= 0),
    duration_ms       INTEGER CHECK (duration_ms IS NULL OR duration_ms > 0),
    flags             JSONB CHECK (flags IS NULL OR jsonb_typeof(flags) = 'object'),
    timestamp         TIMESTAMPTZ NOT NULL CHECK (isfinite(timestamp)),
    sync_allowed      BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE engine_feedback (
    id            TEXT PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 64),
    engine_run_id TEXT NOT NULL REFERENCES engine_runs (id) ON DELETE CASCADE,
    rating        INTEGER CHECK (rating IS NULL OR rating BETWEEN 1 AND 5),
    flags         JSONB CHECK (flags IS NULL OR jsonb_typeof(flags) = 'array'),
    notes         TEXT,
    timestamp     TIMESTAMPTZ NOT NULL CHECK (isfinite(timestamp)),
    sync_allowed  BOOLEAN NOT NULL DEFAULT FALSE,
    -- Spec 9: at least one of rating, flags or notes.
    CONSTRAINT engine_feedback_has_content CHECK (
        rating IS NOT NULL OR (flags IS NOT NULL AND flags <> '[]'::jsonb) OR (notes IS NOT NULL AND char_length(btrim(notes)) > 0))
);

CREATE TABLE evolution_proposals (
    id            TEXT PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 64),
    proposal_type TEXT NOT NULL CHECK (proposal_type IN ('prompt_adjustment', 'pattern_detection', 'tension_heuristic',
                                                         'constitutional_amendment', 'safety_refinement', 'performance_optimization')),
    status        TEXT NOT NULL DEFAULT 'draft'
                  CHECK (status IN ('draft', 'testing', 'review', 'voting', 'approved', 'applied', 'rejected')),
    from_version  TEXT,
    to_version    TEXT,
    title         TEXT NOT NULL CHECK (char_length(btrim(title)) > 0),
    description   TEXT NOT NULL CHECK (char_length(btrim(description)) > 0),
    changes       JSONB NOT NULL,
    evidence      JSONB,
    test_results  JSONB,
    vote_results  JSONB,
    created_at    TIMESTAMPTZ NOT NULL CHECK (isfinite(created_at)),
    approved_at   TIMESTAMPTZ CHECK (isfinite(approved_at)),
    applied_at    TIMESTAMPTZ CHECK (isfinite(applied_at)),
    metadata      JSONB CHECK (metadata IS NULL OR jsonb_typeof(metadata) = 'object')
);

CREATE TABLE evolution_history (
    id           TEXT PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 64),
    evolution_id TEXT NOT NULL CHECK (char_length(evolution_id) > 0),
    event_type   TEXT NOT NULL CHECK (event_type IN ('upgrade', 'downgrade', 'fork', 'rollback', 'merge', 'hotfix')),
    from_version TEXT,
    to_version   TEXT,
    applied_at   TIMESTAMPTZ NOT NULL CHECK (isfinite(applied_at)),
    applied_by   TEXT,
    reversible   BOOLEAN NOT NULL DEFAULT TRUE,
    metadata     JSONB CHECK (metadata IS NULL OR jsonb_typeof(metadata) = 'object')
);

CREATE TABLE evolution_events (
    id               TEXT PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 64),
    event_type       TEXT NOT NULL CHECK (event_type IN ('installation', 'deletion', 'fork', 'regression', 'integration_add',
                                                         'integration_remove', 'upgrade', 'downgrade', 'config_change',
                                                         'export', 'import')),
    from_version     TEXT,
    to_version       TEXT,
    event_data       JSONB NOT NULL CHECK (jsonb_typeof(event_data) = 'object'),
    timestamp        TIMESTAMPTZ NOT NULL CHECK (isfinite(timestamp)),
    mirror_signature TEXT,
    sync_allowed     BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE integrations (
    id               TEXT PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 64),
    identity_id      TEXT REFERENCES identities (id) ON DELETE SET NULL,
    integration_type TEXT NOT NULL CHECK (integration_type IN ('calendar', 'notes', 'email', 'health', 'journal',
                                                               'tasks', 'music', 'location', 'custom')),
    status           TEXT NOT NULL DEFAULT 'paused' CHECK (status IN ('active', 'paused', 'disconnected', 'error')),
    config           JSONB NOT NULL CHECK (jsonb_typeof(config) = 'object'),
    connected_at     TIMESTAMPTZ NOT NULL CHECK (isfinite(connected_at)),
    last_sync        TIMESTAMPTZ CHECK (isfinite(last_sync)),
    metadata         JSONB CHECK (metadata IS NULL OR jsonb_typeof(metadata) = 'object')
);

CREATE TABLE schema_version (
    id          SERIAL PRIMARY KEY,
    version     TEXT NOT NULL CHECK (version ~ '^[0-9]+\.[0-9]+\.[0-9]+$'),
    description TEXT,
    applied_at  TIMESTAMPTZ NOT NULL CHECK (isfinite(applied_at)),
    checksum    TEXT
);

-- Spec 10: proposal status changes only along the flow; rejected from testing, review, voting.
CREATE FUNCTION mirror_proposal_status_flow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> OLD.status AND NOT (
           (OLD.status = 'draft'    AND NEW.status = 'testing')
        OR (OLD.status = 'testing'  AND NEW.status IN ('review', 'rejected'))
        OR (OLD.status = 'review'   AND NEW.status IN ('voting', 'rejected'))
        OR (OLD.status = 'voting'   AND NEW.status IN ('approved', 'rejected'))
        OR (OLD.status = 'approved' AND NEW.status = 'applied')) THEN
        RAISE EXCEPTION 'evolution_proposals.status: invalid status transition from % to %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER evolution_proposals_status_flow
BEFORE UPDATE OF status ON evolution_proposals
FOR EACH ROW EXECUTE FUNCTION mirror_proposal_status_flow();

-- Spec 11: evolution history is immutable (inserts only), including TRUNCATE.
CREATE FUNCTION mirror_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'evolution_history is append-only: rows cannot be %d', lower(TG_OP)
        USING ERRCODE = 'check_violation';
END;
$$;

CREATE TRIGGER evolution_history_no_update_delete
BEFORE UPDATE OR DELETE ON evolution_history
FOR EACH ROW EXECUTE FUNCTION mirror_history_append_only();

CREATE TRIGGER evolution_history_no_truncate
BEFORE TRUNCATE ON evolution_history
FOR EACH STATEMENT EXECUTE FUNCTION mirror_history_append_only();

-- Indexes for the queries the app makes.
CREATE INDEX idx_reflections_search ON reflections USING GIN (search_vector);
CREATE INDEX idx_reflections_created ON reflections (created_at DESC, id DESC);
CREATE INDEX idx_reflections_identity_created ON reflections (identity_id, created_at DESC, id DESC);
CREATE INDEX idx_mirrorbacks_reflection ON mirrorbacks (reflection_id, created_at);
CREATE INDEX idx_threads_identity_active ON threads (identity_id, last_active DESC);
CREATE INDEX idx_thread_reflections_reflection ON thread_reflections (reflection_id);
CREATE INDEX idx_tensions_identity ON tensions (identity_id, name);
CREATE INDEX idx_axes_identity ON axes (identity_id, name);
CREATE INDEX idx_engine_runs_reflection ON engine_runs (reflection_id);
CREATE INDEX idx_engine_runs_timestamp ON engine_runs (timestamp);
CREATE INDEX idx_engine_feedback_run ON engine_feedback (engine_run_id);
CREATE INDEX idx_evolution_proposals_status ON evolution_proposals (status, created_at);
CREATE INDEX idx_evolution_history_applied ON evolution_history (applied_at);
CREATE INDEX idx_evolution_events_timestamp ON evolution_events (event_type, timestamp);
CREATE INDEX idx_integrations_identity ON integrations (identity_id, integration_type);

-- ROLLBACK:
-- DROP TABLE IF EXISTS schema_version;
-- DROP TABLE IF EXISTS integrations;
-- DROP TABLE IF EXISTS evolution_events;
-- DROP TABLE IF EXISTS evolution_history;
-- DROP TABLE IF EXISTS evolution_proposals;
-- DROP TABLE IF EXISTS engine_feedback;
-- DROP TABLE IF EXISTS engine_runs;
-- DROP TABLE IF EXISTS axes;
-- DROP TABLE IF EXISTS tensions;
-- DROP TABLE IF EXISTS thread_reflections;
-- DROP TABLE IF EXISTS threads;
-- DROP TABLE IF EXISTS mirrorbacks;
-- DROP TABLE IF EXISTS reflections;
-- DROP TABLE IF EXISTS identities;
-- DROP FUNCTION IF EXISTS mirror_history_append_only();
-- DROP FUNCTION IF EXISTS mirror_proposal_status_flow();
