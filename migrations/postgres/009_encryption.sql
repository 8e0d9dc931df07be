-- Migration: 009_encryption.sql
-- Version: 1.8.0
-- Date: 2026-12-03
-- Description: Attachment bytes inside an encrypted journal (SQLite only; PostgreSQL has attachment_blobs since 004)
--
-- Issue 19: SQLite gains the attachment_blobs table PostgreSQL already has (migration 004), for the
-- attachments of encrypted journals. This file only keeps the two dialects' schema versions in step.

-- Forward migration

SELECT 1;

-- ROLLBACK:
-- SELECT 1;
