-- Migration: 009_encryption.sql
-- Version: 1.8.0
-- Date: 2026-12-03
-- Description: Attachment bytes inside an encrypted journal (attachment_blobs, as PostgreSQL has since 004)
--
-- Issue 19: an encrypted journal's attachments must be as unreadable as its text. A plain SQLite journal
-- keeps attachment files beside it (<journal stem>.attachments/, migration 004); an encrypted one keeps
-- the same bytes in this table, inside the SQLCipher file, one row per distinct file. `mirror encrypt`
-- moves the files in (and overwrites them), `mirror decrypt` moves them out again; a plain journal's
-- table stays empty. IF NOT EXISTS: a conversion of a journal not yet at 1.8.0 makes the table first.

-- Forward migration

CREATE TABLE IF NOT EXISTS attachment_blobs (
    sha256 TEXT PRIMARY KEY NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
    data   BLOB NOT NULL
);

-- ROLLBACK:
-- DROP TABLE IF EXISTS attachment_blobs;
