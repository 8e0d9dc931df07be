-- Migration: 005_writing.sql
-- Version: 1.4.0
-- Date: 2026-12-03
-- Description: Templates, writing settings and per-day summaries for the calendar, On This Day and statistics (adapter extension, not spec tables)
--
-- Issue 16. templates: the person's own templates (built-ins live in code), one per name without
-- case; they travel in bundles. writing_settings: the journal's time zone, day start and reminder
-- (JSON per key). The summaries count reflections per local day, per local hour and per tag for
-- each identity ('' = Anonymous; writing_days also '*' = everyone, so "All" reads as few rows as one
-- identity), kept exact by the trigger below on every insert, update and
-- delete, so a month, On This Day and the statistics read a few thousand small rows instead of
-- 100,000 reflections. "Local" is defined by writing_zone: from starts_at on, a reflection's local
-- hour is created_at + hour_shift minutes and its day created_at + day_shift minutes (the day start
-- subtracted). Mirror (core/writing.py) fills writing_zone from the person's time zone and rebuilds
-- the summaries when the zone or the day start changes; this migration starts them in UTC.
-- Words are metadata.word_count, or for rows without one the count of space-separated runs. A row
-- whose count falls to 0 stays (readers skip it): removing it would cost a search per deleted row.

-- Forward migration

CREATE TABLE templates (
    id         TEXT PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 64),
    name       TEXT NOT NULL CHECK (char_length(btrim(name)) BETWEEN 1 AND 80),
    body       TEXT NOT NULL CHECK (char_length(btrim(body, E' \t\r\n')) > 0 AND octet_length(body) <= 65536),
    created_at TIMESTAMPTZ NOT NULL CHECK (isfinite(created_at)),
    updated_at TIMESTAMPTZ NOT NULL CHECK (isfinite(updated_at)),
    metadata   JSONB CHECK (metadata IS NULL OR jsonb_typeof(metadata) = 'object')
);

CREATE UNIQUE INDEX idx_templates_name ON templates (lower(btrim(name)));

CREATE TABLE writing_settings (
    key        TEXT PRIMARY KEY CHECK (char_length(key) BETWEEN 1 AND 64),
    value      JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL CHECK (isfinite(updated_at))
);

CREATE TABLE writing_zone (
    starts_at  TIMESTAMPTZ PRIMARY KEY,
    hour_shift INTEGER NOT NULL CHECK (hour_shift BETWEEN -1440 AND 1440),
    day_shift  INTEGER NOT NULL CHECK (day_shift BETWEEN -1860 AND 1440)
);

CREATE TABLE writing_days (
    identity_key TEXT NOT NULL,
    day          DATE NOT NULL,
    reflections  INTEGER NOT NULL,
    words        BIGINT NOT NULL,
    PRIMARY KEY (identity_key, day)
);

CREATE TABLE writing_hours (
    identity_key TEXT NOT NULL,
    hour         INTEGER NOT NULL,
    reflections  INTEGER NOT NULL,
    PRIMARY KEY (identity_key, hour)
);

CREATE TABLE writing_tags (
    identity_key TEXT NOT NULL,
    tag          TEXT NOT NULL,
    reflections  INTEGER NOT NULL,
    PRIMARY KEY (identity_key, tag)
);

INSERT INTO writing_zone (starts_at, hour_shift, day_shift) VALUES ('-infinity', 0, 0);
INSERT INTO writing_settings (key, value, updated_at) VALUES ('summary', '{"zone":"UTC","day_start_hour":0}', now());

CREATE FUNCTION mirror_writing_words(content TEXT, metadata JSONB) RETURNS BIGINT LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(metadata -> 'word_count') = 'number' THEN greatest(floor((metadata ->> 'word_count')::numeric), 0)::bigint
                ELSE char_length(btrim(content)) - char_length(replace(btrim(content), ' ', '')) + 1 END
$$;

CREATE FUNCTION mirror_writing_tags(metadata JSONB) RETURNS SETOF TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT DISTINCT lower(e #>> '{}') FROM jsonb_array_elements(
        CASE WHEN jsonb_typeof(metadata -> 'tags') = 'array' THEN metadata -> 'tags' ELSE '[]'::jsonb END) AS e
    WHERE jsonb_typeof(e) = 'string' AND char_length(e #>> '{}') > 0
$$;

CREATE FUNCTION mirror_writing_shift(instant TIMESTAMPTZ, for_day BOOLEAN) RETURNS INTEGER LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN for_day THEN day_shift ELSE hour_shift END FROM writing_zone
    WHERE starts_at <= instant ORDER BY starts_at DESC LIMIT 1
$$;

INSERT INTO writing_days (identity_key, day, reflections, words)
SELECT coalesce(identity_id, ''), (created_at AT TIME ZONE 'UTC')::date, count(*), sum(mirror_writing_words(content, metadata))
FROM reflections GROUP BY 1, 2;

INSERT INTO writing_days (identity_key, day, reflections, words)
SELECT '*', day, sum(reflections), sum(words) FROM writing_days GROUP BY day;

INSERT INTO writing_hours (identity_key, hour, reflections)
SELECT coalesce(identity_id, ''), extract(hour FROM created_at AT TIME ZONE 'UTC')::int, count(*) FROM reflections GROUP BY 1, 2;

INSERT INTO writing_tags (identity_key, tag, reflections)
SELECT coalesce(r.identity_id, ''), t.tag, count(*) FROM reflections r, mirror_writing_tags(r.metadata) AS t(tag) GROUP BY 1, 2;

CREATE FUNCTION mirror_writing_summary() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    local_ts TIMESTAMP;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        local_ts := OLD.created_at AT TIME ZONE 'UTC';
        UPDATE writing_days SET reflections = reflections - 1, words = words - mirror_writing_words(OLD.content, OLD.metadata)
        WHERE identity_key IN (coalesce(OLD.identity_id, ''), '*')
          AND day = (local_ts + make_interval(mins => mirror_writing_shift(OLD.created_at, TRUE)))::date;
        UPDATE writing_hours SET reflections = reflections - 1
        WHERE identity_key = coalesce(OLD.identity_id, '')
          AND hour = extract(hour FROM local_ts + make_interval(mins => mirror_writing_shift(OLD.created_at, FALSE)))::int;
        UPDATE writing_tags SET reflections = reflections - 1
        WHERE identity_key = coalesce(OLD.identity_id, '') AND tag IN (SELECT mirror_writing_tags(OLD.metadata));
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        local_ts := NEW.created_at AT TIME ZONE 'UTC';
        INSERT INTO writing_days (identity_key, day, reflections, words)
        SELECT k, (local_ts + make_interval(mins => mirror_writing_shift(NEW.created_at, TRUE)))::date,
               1, mirror_writing_words(NEW.content, NEW.metadata)
        FROM unnest(ARRAY[coalesce(NEW.identity_id, ''), '*']) AS k
        ON CONFLICT (identity_key, day) DO UPDATE
            SET reflections = writing_days.reflections + 1, words = writing_days.words + excluded.words;
        INSERT INTO writing_hours (identity_key, hour, reflections)
        VALUES (coalesce(NEW.identity_id, ''),
                extract(hour FROM local_ts + make_interval(mins => mirror_writing_shift(NEW.created_at, FALSE)))::int, 1)
        ON CONFLICT (identity_key, hour) DO UPDATE SET reflections = writing_hours.reflections + 1;
        INSERT INTO writing_tags (identity_key, tag, reflections)
        SELECT coalesce(NEW.identity_id, ''), t.tag, 1 FROM mirror_writing_tags(NEW.metadata) AS t(tag)
        ON CONFLICT (identity_key, tag) DO UPDATE SET reflections = writing_tags.reflections + 1;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER writing_summary_insert_delete AFTER INSERT OR DELETE ON reflections
FOR EACH ROW EXECUTE FUNCTION mirror_writing_summary();

CREATE TRIGGER writing_summary_update AFTER UPDATE OF identity_id, created_at, content, metadata ON reflections
FOR EACH ROW EXECUTE FUNCTION mirror_writing_summary();

-- ROLLBACK:
-- DROP TRIGGER IF EXISTS writing_summary_update ON reflections;
-- DROP TRIGGER IF EXISTS writing_summary_insert_delete ON reflections;
-- DROP FUNCTION IF EXISTS mirror_writing_summary();
-- DROP FUNCTION IF EXISTS mirror_writing_shift(TIMESTAMPTZ, BOOLEAN);
-- DROP FUNCTION IF EXISTS mirror_writing_tags(JSONB);
-- DROP FUNCTION IF EXISTS mirror_writing_words(TEXT, JSONB);
-- DROP TABLE IF EXISTS writing_tags;
-- DROP TABLE IF EXISTS writing_hours;
-- DROP TABLE IF EXISTS writing_days;
-- DROP TABLE IF EXISTS writing_zone;
-- DROP TABLE IF EXISTS writing_settings;
-- DROP TABLE IF EXISTS templates;
