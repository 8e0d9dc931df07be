-- Migration: 001_core.sql
-- Version: 1.0.0
-- Date: 2025-12-08
-- Description: Core Mirror OS schema: the spec's 14 tables, constraints, indexes and full-text search
--
-- Conventions (SQLite adapter, see README "Spec deviations and adapter extensions"):
--   * ids are TEXT (UUIDs); timestamps are ISO 8601 TEXT in UTC, e.g. 2025-12-08T15:30:00.000Z;
--   * JSON fields are TEXT holding valid JSON; booleans are INTEGER 0/1;
--   * reflections_fts is an FTS5 index over reflections.content (an adapter extension, not a spec
--     table), kept in step by triggers, with secure-delete on so deleted words leave the index,
--     and prefix indexes for prefix* queries.
-- Needs SQLite 3.45 or newer (JSON functions usable in CHECK constraints with trusted_schema=OFF).

-- Forward migration

CREATE TABLE identities (
    id          TEXT PRIMARY KEY NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
    created_at  TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(created_at) IS NOT NULL),
    updated_at  TEXT NOT NULL CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(updated_at) IS NOT NULL),
    metadata    TEXT CHECK (metadata IS NULL OR (json_valid(metadata) AND json_type(metadata) = 'object'))
);

CREATE TABLE reflections (
    id           TEXT PRIMARY KEY NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
    identity_id  TEXT REFERENCES identities (id) ON DELETE RESTRICT,
    content      TEXT NOT NULL CHECK (length(trim(content, ' ' || char(9, 10, 13))) > 0),
    content_type TEXT CHECK (content_type IS NULL OR content_type IN ('text', 'markdown', 'audio_transcript')),
    visibility   TEXT NOT NULL DEFAULT 'local_only'
                 CHECK (visibility IN ('local_only', 'sync_summary', 'sync_full_private', 'sync_full_public')),
    created_at   TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(created_at) IS NOT NULL),
    source       TEXT CHECK (source IS NULL OR source IN ('direct', 'import', 'integration')),
    metadata     TEXT CHECK (metadata IS NULL OR (json_valid(metadata) AND json_type(metadata) = 'object')),
    -- Spec 2: an anonymous reflection never leaves the device.
    CHECK (identity_id IS NOT NULL OR visibility = 'local_only')
);

CREATE TABLE mirrorbacks (
    id             TEXT PRIMARY KEY NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
    reflection_id  TEXT NOT NULL REFERENCES reflections (id) ON DELETE CASCADE,
    content        TEXT NOT NULL CHECK (length(trim(content)) > 0),
    engine_version TEXT NOT NULL CHECK (length(engine_version) > 0),
    created_at     TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(created_at) IS NOT NULL),
    metadata       TEXT CHECK (metadata IS NULL OR (json_valid(metadata) AND json_type(metadata) = 'object'))
);

CREATE TABLE threads (
    id          TEXT PRIMARY KEY NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
    identity_id TEXT REFERENCES identities (id) ON DELETE SET NULL,
    title       TEXT,
    started_at  TEXT NOT NULL CHECK (started_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(started_at) IS NOT NULL),
    last_active TEXT NOT NULL CHECK (last_active GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(last_active) IS NOT NULL),
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'archived')),
    metadata    TEXT CHECK (metadata IS NULL OR (json_valid(metadata) AND json_type(metadata) = 'object'))
);

CREATE TABLE thread_reflections (
    thread_id     TEXT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    reflection_id TEXT NOT NULL REFERENCES reflections (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL CHECK (typeof(position) = 'integer' AND position >= 0),
    added_at      TEXT NOT NULL CHECK (added_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(added_at) IS NOT NULL),
    PRIMARY KEY (thread_id, reflection_id),
    UNIQUE (thread_id, position)
);

CREATE TABLE tensions (
    id          TEXT PRIMARY KEY NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
    identity_id TEXT REFERENCES identities (id) ON DELETE SET NULL,
    name        TEXT NOT NULL CHECK (length(trim(name)) > 0 AND length(name) <= 100),
    axis_a      TEXT NOT NULL CHECK (length(trim(axis_a)) > 0),
    axis_b      TEXT NOT NULL CHECK (length(trim(axis_b)) > 0),
    position    REAL CHECK (position IS NULL OR (typeof(position) IN ('real', 'integer') AND position BETWEEN -1.0 AND 1.0)),
    intensity   REAL CHECK (intensity IS NULL OR (typeof(intensity) IN ('real', 'integer') AND intensity BETWEEN 0.0 AND 1.0)),
    origin      TEXT NOT NULL CHECK (origin IN ('system_seed', 'llm_suggested', 'user_created')),
    sync_mode   TEXT NOT NULL DEFAULT 'local_only' CHECK (sync_mode IN ('local_only', 'share_anonymized', 'share_full')),
    created_at  TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(created_at) IS NOT NULL),
    updated_at  TEXT NOT NULL CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(updated_at) IS NOT NULL),
    metadata    TEXT CHECK (metadata IS NULL OR (json_valid(metadata) AND json_type(metadata) = 'object'))
);

CREATE TABLE axes (
    id          TEXT PRIMARY KEY NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
    identity_id TEXT REFERENCES identities (id) ON DELETE SET NULL,
    name        TEXT NOT NULL CHECK (length(trim(name)) > 0),
    description TEXT,
    category    TEXT,
    created_at  TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(created_at) IS NOT NULL),
    metadata    TEXT CHECK (metadata IS NULL OR (json_valid(metadata) AND json_type(metadata) = 'object'))
);

CREATE TABLE engine_runs (
    id                TEXT PRIMARY KEY NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
    reflection_id     TEXT REFERENCES reflections (id) ON DELETE SET NULL,
    config_version    TEXT NOT NULL CHECK (
                          config_version GLOB '[0-9]*.[0-9]*.[0-9]*'
                          AND NOT config_version GLOB '*[^0-9.]*'
                          AND NOT config_version GLOB '*..*'
                          AND NOT config_version GLOB '*.'
                          AND length(config_version) - length(replace(config_version, '.', '')) = 2),
    engine_mode       TEXT NOT NULL CHECK (engine_mode IN ('local_llm', 'remote_llm', 'manual')),
    model_name        TEXT,
    patterns          TEXT CHECK (patterns IS NULL OR (json_valid(patterns) AND json_type(patterns) = 'array')),
    tensions_surfaced TEXT CHECK (tensions_surfaced IS NULL OR (json_valid(tensions_surfaced) AND json_type(tensions_surfaced) = 'array')),
    mirrorback_length INTEGER CHECK (mirrorback_length IS NULL OR mirrorback_length >= 0),
    duration_ms       INTEGER CHECK (duration_ms IS NULL OR (typeof(duration_ms) = 'integer' AND duration_ms > 0)),
    flags             TEXT CHECK (flags IS NULL OR (json_valid(flags) AND json_type(flags) = 'object')),
    timestamp         TEXT NOT NULL CHECK (timestamp GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(timestamp) IS NOT NULL),
    sync_allowed      INTEGER NOT NULL DEFAULT 0 CHECK (sync_allowed IN (0, 1))
);

CREATE TABLE engine_feedback (
    id            TEXT PRIMARY KEY NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
    engine_run_id TEXT NOT NULL REFERENCES engine_runs (id) ON DELETE CASCADE,
    rating        INTEGER CHECK (rating IS NULL OR (typeof(rating) = 'integer' AND rating BETWEEN 1 AND 5)),
    flags         TEXT CHECK (flags IS NULL OR (json_valid(flags) AND json_type(flags) = 'array')),
    notes         TEXT,
    timestamp     TEXT NOT NULL CHECK (timestamp GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(timestamp) IS NOT NULL),
    sync_allowed  INTEGER NOT NULL DEFAULT 0 CHECK (sync_allowed IN (0, 1)),
    -- Spec 9: at least one of rating, flags or notes.
    CHECK (rating IS NOT NULL OR (flags IS NOT NULL AND flags <> '[]') OR (notes IS NOT NULL AND length(trim(notes)) > 0))
);

CREATE TABLE evolution_proposals (
    id            TEXT PRIMARY KEY NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
    proposal_type TEXT NOT NULL CHECK (proposal_type IN ('prompt_adjustment', 'pattern_detection', 'tension_heuristic',
                                                         'constitutional_amendment', 'safety_refinement', 'performance_optimization')),
    status        TEXT NOT NULL DEFAULT 'draft'
                  CHECK (status IN ('draft', 'testing', 'review', 'voting', 'approved', 'applied', 'rejected')),
    from_version  TEXT,
    to_version    TEXT,
    title         TEXT NOT NULL CHECK (length(trim(title)) > 0),
    description   TEXT NOT NULL CHECK (length(trim(description)) > 0),
    changes       TEXT NOT NULL CHECK (json_valid(changes)),
    evidence      TEXT CHECK (evidence IS NULL OR json_valid(evidence)),
    test_results  TEXT CHECK (test_results IS NULL OR json_valid(test_results)),
    vote_results  TEXT CHECK (vote_results IS NULL OR json_valid(vote_results)),
    created_at    TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(created_at) IS NOT NULL),
    approved_at   TEXT CHECK (approved_at IS NULL OR (approved_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(approved_at) IS NOT NULL)),
    applied_at    TEXT CHECK (applied_at IS NULL OR (applied_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(applied_at) IS NOT NULL)),
    metadata      TEXT CHECK (metadata IS NULL OR (json_valid(metadata) AND json_type(metadata) = 'object'))
);

CREATE TABLE evolution_history (
    id           TEXT PRIMARY KEY NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
    evolution_id TEXT NOT NULL CHECK (length(evolution_id) > 0),
    event_type   TEXT NOT NULL CHECK (event_type IN ('upgrade', 'downgrade', 'fork', 'rollback', 'merge', 'hotfix')),
    from_version TEXT,
    to_version   TEXT,
    applied_at   TEXT NOT NULL CHECK (applied_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(applied_at) IS NOT NULL),
    applied_by   TEXT,
    reversible   INTEGER NOT NULL DEFAULT 1 CHECK (reversible IN (0, 1)),
    metadata     TEXT CHECK (metadata IS NULL OR (json_valid(metadata) AND json_type(metadata) = 'object'))
);

CREATE TABLE evolution_events (
    id               TEXT PRIMARY KEY NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
    event_type       TEXT NOT NULL CHECK (event_type IN ('installation', 'deletion', 'fork', 'regression', 'integration_add',
                                                         'integration_remove', 'upgrade', 'downgrade', 'config_change',
                                                         'export', 'import')),
    from_version     TEXT,
    to_version       TEXT,
    event_data       TEXT NOT NULL CHECK (json_valid(event_data) AND json_type(event_data) = 'object'),
    timestamp        TEXT NOT NULL CHECK (timestamp GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(timestamp) IS NOT NULL),
    mirror_signature TEXT,
    sync_allowed     INTEGER NOT NULL DEFAULT 0 CHECK (sync_allowed IN (0, 1))
);

CREATE TABLE integrations (
    id               TEXT PRIMARY KEY NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
    identity_id      TEXT REFERENCES identities (id) ON DELETE SET NULL,
    integration_type TEXT NOT NULL CHECK (integration_type IN ('calendar', 'notes', 'email', 'health', 'journal',
                                                               'tasks', 'music', 'location', 'custom')),
    status           TEXT NOT NULL DEFAULT 'paused' CHECK (status IN ('active', 'paused', 'disconnected', 'error')),
    config           TEXT NOT NULL CHECK (json_valid(config) AND json_type(config) = 'object'),
    connected_at     TEXT NOT NULL CHECK (connected_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(connected_at) IS NOT NULL),
    last_sync        TEXT CHECK (last_sync IS NULL OR (last_sync GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(last_sync) IS NOT NULL)),
    metadata         TEXT CHECK (metadata IS NULL OR (json_valid(metadata) AND json_type(metadata) = 'object'))
);

CREATE TABLE schema_version (
    id          INTEGER PRIMARY KEY,
    version     TEXT NOT NULL CHECK (
                    version GLOB '[0-9]*.[0-9]*.[0-9]*'
                    AND NOT version GLOB '*[^0-9.]*'
                    AND NOT version GLOB '*..*'
                    AND NOT version GLOB '*.'
                    AND length(version) - length(replace(version, '.', '')) = 2),
    description TEXT,
    applied_at  TEXT NOT NULL CHECK (applied_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(applied_at) IS NOT NULL),
    checksum    TEXT
);

-- Spec 10: proposal status changes only along the flow; rejected from testing, review, voting.
CREATE TRIGGER evolution_proposals_status_flow
BEFORE UPDATE OF status ON evolution_proposals
FOR EACH ROW WHEN NEW.status <> OLD.status AND NOT (
       (OLD.status = 'draft'    AND NEW.status = 'testing')
    OR (OLD.status = 'testing'  AND NEW.status IN ('review', 'rejected'))
    OR (OLD.status = 'review'   AND NEW.status IN ('voting', 'rejected'))
    OR (OLD.status = 'voting'   AND NEW.status IN ('approved', 'rejected'))
    OR (OLD.status = 'approved' AND NEW.status = 'applied'))
BEGIN
    SELECT RAISE(ABORT, 'evolution_proposals.status: invalid status transition');
END;

-- Spec 11: evolution history is immutable (inserts only).
CREATE TRIGGER evolution_history_no_update
BEFORE UPDATE ON evolution_history
BEGIN
    SELECT RAISE(ABORT, 'evolution_history is append-only: rows cannot be updated');
END;

CREATE TRIGGER evolution_history_no_delete
BEFORE DELETE ON evolution_history
BEGIN
    SELECT RAISE(ABORT, 'evolution_history is append-only: rows cannot be deleted');
END;

-- Full-text search over reflections (adapter extension).
CREATE VIRTUAL TABLE reflections_fts USING fts5 (
    content,
    content = 'reflections',
    content_rowid = 'rowid',
    tokenize = 'porter unicode61 remove_diacritics 2',
    -- Prefix indexes keep prefix* queries under the 50 ms search budget at 100,000 entries
    -- (about 40% more index; see BENCHMARKS.md).
    prefix = '2 3 4 5 6'
);
INSERT INTO reflections_fts (reflections_fts, rank) VALUES ('secure-delete', 1);

CREATE TRIGGER reflections_fts_insert AFTER INSERT ON reflections
BEGIN
    INSERT INTO reflections_fts (rowid, content) VALUES (NEW.rowid, NEW.content);
END;

CREATE TRIGGER reflections_fts_delete AFTER DELETE ON reflections
BEGIN
    INSERT INTO reflections_fts (reflections_fts, rowid, content) VALUES ('delete', OLD.rowid, OLD.content);
END;

CREATE TRIGGER reflections_fts_update AFTER UPDATE OF content ON reflections
BEGIN
    INSERT INTO reflections_fts (reflections_fts, rowid, content) VALUES ('delete', OLD.rowid, OLD.content);
    INSERT INTO reflections_fts (rowid, content) VALUES (NEW.rowid, NEW.content);
END;

-- Indexes for the queries the app makes.
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
-- DROP TRIGGER IF EXISTS reflections_fts_update;
-- DROP TRIGGER IF EXISTS reflections_fts_delete;
-- DROP TRIGGER IF EXISTS reflections_fts_insert;
-- DROP TABLE IF EXISTS reflections_fts;
-- DROP TRIGGER IF EXISTS evolution_history_no_delete;
-- DROP TRIGGER IF EXISTS evolution_history_no_update;
-- DROP TRIGGER IF EXISTS evolution_proposals_status_flow;
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
