-- Migration: 010_sync_identities.sql
-- Version: 1.9.0
-- Date: 2026-12-03
-- Description: Edits update the full-text index without secure-delete (deletions keep it); other devices' identity keys with their counts and whether the person answered (adapter extensions)
--
-- Issue 18. Two changes:
--   * An edit of one reflection cost 60-650 ms at 100,000 entries (BENCHMARKS.md), almost all of it
--     FTS5 secure-delete rewriting the old text's doclists (every token and its five prefixes) at
--     commit; without it an edit costs about 1 ms. Edits now update the index plainly: the old
--     version's entries stay in an older index segment behind a delete marker (a search never finds
--     them) and the row's rowid is noted in reflections_fts_edited (no text). A deleted reflection
--     still leaves at once: the delete trigger turns secure-delete on for its own 'delete' (the
--     setting is read when the index flushes), and Storage.purge_deleted, which every deletion path
--     runs, merges the index ('optimize') when a deleted row had plain edits (deleted = 1 here), so the words of its
--     earlier versions leave the file too (the secure_delete pragma zeroes the freed pages).
--   * sync_identity_keys: each identity key another device's rows carried here, how many reflections
--     and tensions of it this device received, and whether the person answered where they go (asked
--     once, at the first sync that brings it). Keys are opaque HMACs; no identity metadata.

-- Forward migration

CREATE TABLE reflections_fts_edited (
    rid     INTEGER PRIMARY KEY,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);

CREATE TABLE sync_identity_keys (
    identity_key TEXT PRIMARY KEY NOT NULL,
    reflections  INTEGER NOT NULL DEFAULT 0 CHECK (reflections >= 0),
    tensions     INTEGER NOT NULL DEFAULT 0 CHECK (tensions >= 0),
    answered     INTEGER NOT NULL DEFAULT 0 CHECK (answered IN (0, 1)),
    -- the identity sync made for this key before the person answered (renamed, or removed when emptied)
    made_identity TEXT
);

-- Links made before 1.9.0 were chosen in File → Sync… or made by sync itself ("From another device"):
-- the first kind counts as answered, the second is asked once.
INSERT INTO sync_identity_keys (identity_key, answered, made_identity)
SELECT l.identity_key, CASE WHEN json_extract(i.metadata, '$.name') LIKE 'From another device%' THEN 0 ELSE 1 END,
       CASE WHEN json_extract(i.metadata, '$.name') LIKE 'From another device%' THEN l.identity_id END
FROM sync_identity_links l LEFT JOIN identities i ON i.id = l.identity_id;

INSERT INTO reflections_fts (reflections_fts, rank) VALUES ('secure-delete', 0);

DROP TRIGGER IF EXISTS reflections_fts_update;
DROP TRIGGER IF EXISTS reflections_fts_delete;

CREATE TRIGGER reflections_fts_delete AFTER DELETE ON reflections
BEGIN
    INSERT INTO reflections_fts (reflections_fts, rank) VALUES ('secure-delete', 1);
    INSERT INTO reflections_fts (reflections_fts, rowid, content, identity_key) VALUES ('delete', OLD.rowid, OLD.content,
        CASE WHEN OLD.identity_id IS NULL THEN 'i00000000000000000000000000000000' ELSE 'i' || replace(OLD.identity_id, '-', '') END);
    INSERT INTO reflections_fts (reflections_fts, rank) VALUES ('secure-delete', 0);
    UPDATE reflections_fts_edited SET deleted = 1 WHERE rid = OLD.rowid;
END;

-- An identity deleted or made anonymous moves its reflections' tokens too (spec: identity_id SET NULL).
CREATE TRIGGER reflections_fts_update AFTER UPDATE OF content, identity_id ON reflections
BEGIN
    INSERT INTO reflections_fts (reflections_fts, rowid, content, identity_key) VALUES ('delete', OLD.rowid, OLD.content,
        CASE WHEN OLD.identity_id IS NULL THEN 'i00000000000000000000000000000000' ELSE 'i' || replace(OLD.identity_id, '-', '') END);
    INSERT INTO reflections_fts (rowid, content, identity_key) VALUES (NEW.rowid, NEW.content,
        CASE WHEN NEW.identity_id IS NULL THEN 'i00000000000000000000000000000000' ELSE 'i' || replace(NEW.identity_id, '-', '') END);
    INSERT OR IGNORE INTO reflections_fts_edited (rid) VALUES (OLD.rowid);
END;

-- ROLLBACK:
-- DROP TRIGGER IF EXISTS reflections_fts_update;
-- DROP TRIGGER IF EXISTS reflections_fts_delete;
-- CREATE TRIGGER reflections_fts_delete AFTER DELETE ON reflections
-- BEGIN
--     INSERT INTO reflections_fts (reflections_fts, rowid, content, identity_key) VALUES ('delete', OLD.rowid, OLD.content,
--         CASE WHEN OLD.identity_id IS NULL THEN 'i00000000000000000000000000000000' ELSE 'i' || replace(OLD.identity_id, '-', '') END);
-- END;
-- CREATE TRIGGER reflections_fts_update AFTER UPDATE OF content, identity_id ON reflections
-- BEGIN
--     INSERT INTO reflections_fts (reflections_fts, rowid, content, identity_key) VALUES ('delete', OLD.rowid, OLD.content,
--         CASE WHEN OLD.identity_id IS NULL THEN 'i00000000000000000000000000000000' ELSE 'i' || replace(OLD.identity_id, '-', '') END);
--     INSERT INTO reflections_fts (rowid, content, identity_key) VALUES (NEW.rowid, NEW.content,
--         CASE WHEN NEW.identity_id IS NULL THEN 'i00000000000000000000000000000000' ELSE 'i' || replace(NEW.identity_id, '-', '') END);
-- END;
-- INSERT INTO reflections_fts (reflections_fts) VALUES ('optimize');
-- INSERT INTO reflections_fts (reflections_fts, rank) VALUES ('secure-delete', 1);
-- DROP TABLE IF EXISTS sync_identity_keys;
-- DROP TABLE IF EXISTS reflections_fts_edited;
