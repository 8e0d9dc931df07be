-- Migration: 008_search.sql
-- Version: 1.7.0
-- Date: 2026-12-03
-- Description: The identity of each reflection inside its full-text index, so an identity filter runs in FTS5 (adapter extension)
--
-- Issue 12: a phrase searched with an identity filter at 100,000 reflections took 89 ms at p95,
-- because FTS5 knew nothing of identities and every match of the phrase in the journal was checked
-- against its row. reflections_fts gains a second indexed column, identity_key: one token per
-- identity ('i' and the identity id's 32 hex digits; 'i' and 32 zeros for entries without one), so
-- "phrase AND identity_key : token" is answered from the index alone. No word a person types is
-- such a token, the search keeps prefixes to the content column, and the identity
-- column's bm25 weight is 0, so ranks are what they were. The index reads its text through the
-- view reflections_fts_source (external content: nothing is stored twice). The index is rebuilt
-- from the reflections here, which takes about as long as an import's rebuild (BENCHMARKS.md).

-- Forward migration

DROP TRIGGER IF EXISTS reflections_fts_update;
DROP TRIGGER IF EXISTS reflections_fts_delete;
DROP TRIGGER IF EXISTS reflections_fts_insert;
DROP TABLE IF EXISTS reflections_fts;

CREATE VIEW reflections_fts_source AS
SELECT rowid AS rid, content,
       CASE WHEN identity_id IS NULL THEN 'i00000000000000000000000000000000' ELSE 'i' || replace(identity_id, '-', '') END AS identity_key
FROM reflections;

CREATE VIRTUAL TABLE reflections_fts USING fts5 (
    content,
    identity_key,
    content = 'reflections_fts_source',
    content_rowid = 'rid',
    tokenize = 'porter unicode61 remove_diacritics 2',
    -- Prefix indexes keep prefix* queries under the 50 ms search budget at 100,000 entries
    -- (about 40% more index; see BENCHMARKS.md).
    prefix = '2 3 4 5 6'
);
INSERT INTO reflections_fts (reflections_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO reflections_fts (reflections_fts, rank) VALUES ('rank', 'bm25(1.0, 0.0)');

CREATE TRIGGER reflections_fts_insert AFTER INSERT ON reflections
BEGIN
    INSERT INTO reflections_fts (rowid, content, identity_key) VALUES (NEW.rowid, NEW.content,
        CASE WHEN NEW.identity_id IS NULL THEN 'i00000000000000000000000000000000' ELSE 'i' || replace(NEW.identity_id, '-', '') END);
END;

CREATE TRIGGER reflections_fts_delete AFTER DELETE ON reflections
BEGIN
    INSERT INTO reflections_fts (reflections_fts, rowid, content, identity_key) VALUES ('delete', OLD.rowid, OLD.content,
        CASE WHEN OLD.identity_id IS NULL THEN 'i00000000000000000000000000000000' ELSE 'i' || replace(OLD.identity_id, '-', '') END);
END;

-- An identity deleted or made anonymous moves its reflections' tokens too (spec: identity_id SET NULL).
CREATE TRIGGER reflections_fts_update AFTER UPDATE OF content, identity_id ON reflections
BEGIN
    INSERT INTO reflections_fts (reflections_fts, rowid, content, identity_key) VALUES ('delete', OLD.rowid, OLD.content,
        CASE WHEN OLD.identity_id IS NULL THEN 'i00000000000000000000000000000000' ELSE 'i' || replace(OLD.identity_id, '-', '') END);
    INSERT INTO reflections_fts (rowid, content, identity_key) VALUES (NEW.rowid, NEW.content,
        CASE WHEN NEW.identity_id IS NULL THEN 'i00000000000000000000000000000000' ELSE 'i' || replace(NEW.identity_id, '-', '') END);
END;

INSERT INTO reflections_fts (reflections_fts) VALUES ('rebuild');

-- ROLLBACK:
-- DROP TRIGGER IF EXISTS reflections_fts_update;
-- DROP TRIGGER IF EXISTS reflections_fts_delete;
-- DROP TRIGGER IF EXISTS reflections_fts_insert;
-- DROP TABLE IF EXISTS reflections_fts;
-- DROP VIEW IF EXISTS reflections_fts_source;
-- CREATE VIRTUAL TABLE reflections_fts USING fts5 (
--     content,
--     content = 'reflections',
--     content_rowid = 'rowid',
--     tokenize = 'porter unicode61 remove_diacritics 2',
--     -- Prefix indexes keep prefix* queries under the 50 ms search budget at 100,000 entries
--     -- (about 40% more index; see BENCHMARKS.md).
--     prefix = '2 3 4 5 6'
-- );
-- INSERT INTO reflections_fts (reflections_fts, rank) VALUES ('secure-delete', 1);
-- CREATE TRIGGER reflections_fts_insert AFTER INSERT ON reflections
-- BEGIN
--     INSERT INTO reflections_fts (rowid, content) VALUES (NEW.rowid, NEW.content);
-- END;
-- CREATE TRIGGER reflections_fts_delete AFTER DELETE ON reflections
-- BEGIN
--     INSERT INTO reflections_fts (reflections_fts, rowid, content) VALUES ('delete', OLD.rowid, OLD.content);
-- END;
-- CREATE TRIGGER reflections_fts_update AFTER UPDATE OF content ON reflections
-- BEGIN
--     INSERT INTO reflections_fts (reflections_fts, rowid, content) VALUES ('delete', OLD.rowid, OLD.content);
--     INSERT INTO reflections_fts (rowid, content) VALUES (NEW.rowid, NEW.content);
-- END;
-- INSERT INTO reflections_fts (reflections_fts) VALUES ('rebuild');
