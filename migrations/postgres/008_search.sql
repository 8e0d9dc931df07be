-- Migration: 008_search.sql
-- Version: 1.7.0
-- Date: 2026-12-03
-- Description: Search identity filter (SQLite puts identities into its FTS5 index; PostgreSQL needs no change)
--
-- Issue 12: on SQLite, migration 008 adds each reflection's identity to the full-text index so an
-- identity filter runs inside FTS5. PostgreSQL's search already filters by identity beside its GIN
-- full-text index (the planner combines the tsvector match with idx_reflections_identity_created),
-- so this file only keeps the two dialects' schema versions in step; it changes nothing.

-- Forward migration

SELECT 1;

-- ROLLBACK:
-- SELECT 1;
