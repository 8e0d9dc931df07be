-- Migration: 005_writing.sql
-- Version: 1.4.0
-- Date: 2026-12-03
-- Description: Templates, writing settings and per-day summaries for the calendar, On This Day and statistics (adapter extension, not spec tables)
--
-- Issue 16. templates: the person's own templates (built-ins live in code), one per name without
-- case; they travel in bundles. writing_settings: the journal's time zone, day start and reminder
-- (JSON per key). The summaries count reflections per local day, per local hour and per tag for
-- each identity ('' = Anonymous; writing_days also '*' = everyone, so "All" reads as few rows as one
-- identity), kept exact by the triggers below on every insert, update and
-- delete, so a month, On This Day and the statistics read a few thousand small rows instead of
-- 100,000 reflections. "Local" is defined by writing_zone: from starts_at on, a reflection's local
-- hour is created_at + hour_shift minutes and its day created_at + day_shift minutes (the day start
-- subtracted). Mirror (core/writing.py) fills writing_zone from the person's time zone and rebuilds
-- the summaries when the zone or the day start changes; this migration starts them in UTC.
-- Words are metadata.word_count, or for rows without one the count of space-separated runs. A row
-- whose count falls to 0 stays (readers skip it): removing it would cost a search per deleted row.

-- Forward migration

CREATE TABLE templates (
    id         TEXT PRIMARY KEY NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
    name       TEXT NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 80),
    body       TEXT NOT NULL CHECK (length(trim(body, ' ' || char(9, 10, 13))) > 0 AND length(CAST(body AS BLOB)) <= 65536),
    created_at TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(created_at) IS NOT NULL),
    updated_at TEXT NOT NULL CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(updated_at) IS NOT NULL),
    metadata   TEXT CHECK (metadata IS NULL OR (json_valid(metadata) AND json_type(metadata) = 'object'))
);

CREATE UNIQUE INDEX idx_templates_name ON templates (lower(trim(name)));

CREATE TABLE writing_settings (
    key        TEXT PRIMARY KEY NOT NULL CHECK (length(key) BETWEEN 1 AND 64),
    value      TEXT NOT NULL CHECK (json_valid(value)),
    updated_at TEXT NOT NULL CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' AND julianday(updated_at) IS NOT NULL)
);

CREATE TABLE writing_zone (
    starts_at  TEXT PRIMARY KEY NOT NULL,
    hour_shift INTEGER NOT NULL CHECK (hour_shift BETWEEN -1440 AND 1440),
    day_shift  INTEGER NOT NULL CHECK (day_shift BETWEEN -1860 AND 1440)
) WITHOUT ROWID;

CREATE TABLE writing_days (
    identity_key TEXT NOT NULL,
    day          TEXT NOT NULL,
    reflections  INTEGER NOT NULL,
    words        INTEGER NOT NULL,
    PRIMARY KEY (identity_key, day)
) WITHOUT ROWID;

CREATE TABLE writing_hours (
    identity_key TEXT NOT NULL,
    hour         INTEGER NOT NULL,
    reflections  INTEGER NOT NULL,
    PRIMARY KEY (identity_key, hour)
) WITHOUT ROWID;

CREATE TABLE writing_tags (
    identity_key TEXT NOT NULL,
    tag          TEXT NOT NULL,
    reflections  INTEGER NOT NULL,
    PRIMARY KEY (identity_key, tag)
) WITHOUT ROWID;

INSERT INTO writing_zone (starts_at, hour_shift, day_shift) VALUES ('0000-01-01T00:00:00.000Z', 0, 0);
INSERT INTO writing_settings (key, value, updated_at)
VALUES ('summary', '{"zone":"UTC","day_start_hour":0}', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

INSERT INTO writing_days (identity_key, day, reflections, words)
SELECT coalesce(identity_id, ''), date(created_at), count(*),
       sum(CASE WHEN json_type(metadata, '$.word_count') IN ('integer', 'real') THEN max(CAST(json_extract(metadata, '$.word_count') AS INTEGER), 0)
                ELSE length(trim(content)) - length(replace(trim(content), ' ', '')) + 1 END)
FROM reflections GROUP BY 1, 2;

INSERT INTO writing_days (identity_key, day, reflections, words)
SELECT '*', day, sum(reflections), sum(words) FROM writing_days GROUP BY day;

INSERT INTO writing_hours (identity_key, hour, reflections)
SELECT coalesce(identity_id, ''), CAST(strftime('%H', created_at) AS INTEGER), count(*) FROM reflections GROUP BY 1, 2;

INSERT INTO writing_tags (identity_key, tag, reflections)
SELECT k, tag, count(*) FROM (
    SELECT DISTINCT r.id, coalesce(r.identity_id, '') AS k, lower(t.value) AS tag
    FROM reflections r, json_each(r.metadata, '$.tags') t
    WHERE json_type(r.metadata, '$.tags') = 'array' AND t.type = 'text' AND length(t.value) > 0
) GROUP BY k, tag;

CREATE TRIGGER writing_summary_insert AFTER INSERT ON reflections
BEGIN
    INSERT INTO writing_days (identity_key, day, reflections, words)
    SELECT k.key,
           date(NEW.created_at, (SELECT printf('%+d minutes', day_shift) FROM writing_zone WHERE starts_at <= NEW.created_at ORDER BY starts_at DESC LIMIT 1)),
           1,
           CASE WHEN json_type(NEW.metadata, '$.word_count') IN ('integer', 'real') THEN max(CAST(json_extract(NEW.metadata, '$.word_count') AS INTEGER), 0)
                ELSE length(trim(NEW.content)) - length(replace(trim(NEW.content), ' ', '')) + 1 END
    FROM (SELECT coalesce(NEW.identity_id, '') AS key UNION ALL SELECT '*') AS k WHERE true
    ON CONFLICT (identity_key, day) DO UPDATE SET reflections = reflections + 1, words = words + excluded.words;
    INSERT INTO writing_hours (identity_key, hour, reflections)
    VALUES (coalesce(NEW.identity_id, ''),
            CAST(strftime('%H', NEW.created_at, (SELECT printf('%+d minutes', hour_shift) FROM writing_zone WHERE starts_at <= NEW.created_at ORDER BY starts_at DESC LIMIT 1)) AS INTEGER),
            1)
    ON CONFLICT (identity_key, hour) DO UPDATE SET reflections = reflections + 1;
    INSERT INTO writing_tags (identity_key, tag, reflections)
    SELECT DISTINCT coalesce(NEW.identity_id, ''), lower(t.value), 1 FROM json_each(NEW.metadata, '$.tags') t
    WHERE json_type(NEW.metadata, '$.tags') = 'array' AND t.type = 'text' AND length(t.value) > 0
    ON CONFLICT (identity_key, tag) DO UPDATE SET reflections = reflections + 1;
END;

CREATE TRIGGER writing_summary_delete AFTER DELETE ON reflections
BEGIN
    UPDATE writing_days SET reflections = reflections - 1,
        words = words - (CASE WHEN json_type(OLD.metadata, '$.word_count') IN ('integer', 'real') THEN max(CAST(json_extract(OLD.metadata, '$.word_count') AS INTEGER), 0)
                              ELSE length(trim(OLD.content)) - length(replace(trim(OLD.content), ' ', '')) + 1 END)
    WHERE identity_key IN (coalesce(OLD.identity_id, ''), '*')
      AND day = date(OLD.created_at, (SELECT printf('%+d minutes', day_shift) FROM writing_zone WHERE starts_at <= OLD.created_at ORDER BY starts_at DESC LIMIT 1));
    UPDATE writing_hours SET reflections = reflections - 1
    WHERE identity_key = coalesce(OLD.identity_id, '')
      AND hour = CAST(strftime('%H', OLD.created_at, (SELECT printf('%+d minutes', hour_shift) FROM writing_zone WHERE starts_at <= OLD.created_at ORDER BY starts_at DESC LIMIT 1)) AS INTEGER);
    UPDATE writing_tags SET reflections = reflections - 1
    WHERE identity_key = coalesce(OLD.identity_id, '') AND tag IN (
        SELECT lower(t.value) FROM json_each(OLD.metadata, '$.tags') t
        WHERE json_type(OLD.metadata, '$.tags') = 'array' AND t.type = 'text' AND length(t.value) > 0);
END;

CREATE TRIGGER writing_summary_update AFTER UPDATE OF identity_id, created_at, content, metadata ON reflections
BEGIN
    UPDATE writing_days SET reflections = reflections - 1,
        words = words - (CASE WHEN json_type(OLD.metadata, '$.word_count') IN ('integer', 'real') THEN max(CAST(json_extract(OLD.metadata, '$.word_count') AS INTEGER), 0)
                              ELSE length(trim(OLD.content)) - length(replace(trim(OLD.content), ' ', '')) + 1 END)
    WHERE identity_key IN (coalesce(OLD.identity_id, ''), '*')
      AND day = date(OLD.created_at, (SELECT printf('%+d minutes', day_shift) FROM writing_zone WHERE starts_at <= OLD.created_at ORDER BY starts_at DESC LIMIT 1));
    UPDATE writing_hours SET reflections = reflections - 1
    WHERE identity_key = coalesce(OLD.identity_id, '')
      AND hour = CAST(strftime('%H', OLD.created_at, (SELECT printf('%+d minutes', hour_shift) FROM writing_zone WHERE starts_at <= OLD.created_at ORDER BY starts_at DESC LIMIT 1)) AS INTEGER);
    UPDATE writing_tags SET reflections = reflections - 1
    WHERE identity_key = coalesce(OLD.identity_id, '') AND tag IN (
        SELECT lower(t.value) FROM json_each(OLD.metadata, '$.tags') t
        WHERE json_type(OLD.metadata, '$.tags') = 'array' AND t.type = 'text' AND length(t.value) > 0);
    INSERT INTO writing_days (identity_key, day, reflections, words)
    SELECT k.key,
           date(NEW.created_at, (SELECT printf('%+d minutes', day_shift) FROM writing_zone WHERE starts_at <= NEW.created_at ORDER BY starts_at DESC LIMIT 1)),
           1,
           CASE WHEN json_type(NEW.metadata, '$.word_count') IN ('integer', 'real') THEN max(CAST(json_extract(NEW.metadata, '$.word_count') AS INTEGER), 0)
                ELSE length(trim(NEW.content)) - length(replace(trim(NEW.content), ' ', '')) + 1 END
    FROM (SELECT coalesce(NEW.identity_id, '') AS key UNION ALL SELECT '*') AS k WHERE true
    ON CONFLICT (identity_key, day) DO UPDATE SET reflections = reflections + 1, words = words + excluded.words;
    INSERT INTO writing_hours (identity_key, hour, reflections)
    VALUES (coalesce(NEW.identity_id, ''),
            CAST(strftime('%H', NEW.created_at, (SELECT printf('%+d minutes', hour_shift) FROM writing_zone WHERE starts_at <= NEW.created_at ORDER BY starts_at DESC LIMIT 1)) AS INTEGER),
            1)
    ON CONFLICT (identity_key, hour) DO UPDATE SET reflections = reflections + 1;
    INSERT INTO writing_tags (identity_key, tag, reflections)
    SELECT DISTINCT coalesce(NEW.identity_id, ''), lower(t.value), 1 FROM json_each(NEW.metadata, '$.tags') t
    WHERE json_type(NEW.metadata, '$.tags') = 'array' AND t.type = 'text' AND length(t.value) > 0
    ON CONFLICT (identity_key, tag) DO UPDATE SET reflections = reflections + 1;
END;

-- ROLLBACK:
-- DROP TRIGGER IF EXISTS writing_summary_update;
-- DROP TRIGGER IF EXISTS writing_summary_delete;
-- DROP TRIGGER IF EXISTS writing_summary_insert;
-- DROP TABLE IF EXISTS writing_tags;
-- DROP TABLE IF EXISTS writing_hours;
-- DROP TABLE IF EXISTS writing_days;
-- DROP TABLE IF EXISTS writing_zone;
-- DROP TABLE IF EXISTS writing_settings;
-- DROP TABLE IF EXISTS templates;
