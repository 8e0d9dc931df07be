-- Migration: 012_index_purge.sql
-- Version: 1.11.0
-- Date: 2026-12-03
-- Description: SQLite's index merge after a deletion runs in small resumable steps (SQLite only)
--
-- Issue 18 follow-up: PostgreSQL's search index (a generated tsvector column with a GIN index) has no
-- segments left to merge after a deletion. This file only keeps the two dialects' schema versions in step.

-- Forward migration

SELECT 1;

-- ROLLBACK:
-- SELECT 1;
