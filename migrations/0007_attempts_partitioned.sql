-- The attempt history, partitioned by day of started_at, so retention drops whole days
-- (`DROP TABLE` of a partition: no bulk DELETE, no vacuum debt) and the hot partition stays small.
-- Partitions are created a few days ahead by the worker's cleaner (hookd.attempts_ensure_partitions);
-- a DEFAULT partition catches any row whose day has no partition yet, so an insert never fails.

DROP VIEW hookd.attempt_log;
ALTER TABLE hookd.attempts RENAME TO attempts_before_partitioning;
ALTER TABLE hookd.attempts_before_partitioning ALTER COLUMN id DROP IDENTITY;
ALTER TABLE hookd.attempts_before_partitioning DROP CONSTRAINT attempts_pkey;
DROP TRIGGER attempts_append_only ON hookd.attempts_before_partitioning;
DROP INDEX hookd.attempts_by_webhook, hookd.attempts_by_event, hookd.attempts_by_time;

CREATE TABLE hookd.attempts (LIKE hookd.attempts_before_partitioning INCLUDING DEFAULTS)
    PARTITION BY RANGE (started_at);
CREATE SEQUENCE hookd.attempts_id_seq OWNED BY hookd.attempts.id;
SELECT setval('hookd.attempts_id_seq', coalesce((SELECT max(id) FROM hookd.attempts_before_partitioning), 0) + 1, false);
ALTER TABLE hookd.attempts ALTER COLUMN id SET DEFAULT nextval('hookd.attempts_id_seq');
ALTER TABLE hookd.attempts ADD PRIMARY KEY (id, started_at);
CREATE INDEX attempts_by_webhook ON hookd.attempts (webhook_id, started_at DESC);
CREATE INDEX attempts_by_event ON hookd.attempts (event_id);
CREATE INDEX attempts_by_recorded ON hookd.attempts (recorded_at);
CREATE TRIGGER attempts_append_only
    BEFORE UPDATE ON hookd.attempts
    FOR EACH ROW EXECUTE FUNCTION hookd.attempts_append_only();
CREATE TABLE hookd.attempts_default PARTITION OF hookd.attempts DEFAULT;

-- History recorded before partitioning becomes one partition ending with today, dropped whole
-- once retention passes it; an empty one is simply dropped.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM hookd.attempts_before_partitioning) THEN
        EXECUTE format(
            'ALTER TABLE hookd.attempts ATTACH PARTITION hookd.attempts_before_partitioning FOR VALUES FROM (MINVALUE) TO (%L)',
            greatest(date_trunc('day', now()) + interval '1 day',
                     (SELECT max(started_at) FROM hookd.attempts_before_partitioning) + interval '1 microsecond'));
    ELSE
        DROP TABLE hookd.attempts_before_partitioning;
    END IF;
END
$$;

CREATE VIEW hookd.attempt_log AS
SELECT a.event_id,
       a.event_type,
       a.webhook_id,
       w.name                                   AS webhook_name,
       a.url,
       a.attempt,
       a.started_at,
       a.duration_ms,
       a.status_code,
       a.error,
       a.test,
       a.id                                     AS attempt_id,
       a.delivery_id,
       a.worker,
       a.error_detail,
       a.body_truncated,
       a.response_headers,
       left(encode(a.response_body, 'escape'), 500) AS response_excerpt,
       (a.status_code BETWEEN 200 AND 299 AND a.error IS NULL) AS succeeded
FROM hookd.attempts a
LEFT JOIN hookd.webhooks w ON w.id = a.webhook_id;

-- Creates the daily partitions (UTC days) for `days` days from `first_day` that do not exist yet.
-- Rows of that day already caught by the DEFAULT partition move into the new one. A day already
-- covered by an older, wider partition is skipped.
CREATE FUNCTION hookd.attempts_ensure_partitions(first_day date, days integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    day     date;
    name    text;
    lo      timestamptz;
    hi      timestamptz;
    created integer := 0;
BEGIN
    FOR i IN 0 .. days - 1 LOOP
        day := first_day + i;
        name := 'attempts_' || to_char(day, 'YYYYMMDD');
        CONTINUE WHEN to_regclass('hookd.' || name) IS NOT NULL;
        lo := day::timestamp AT TIME ZONE 'UTC';
        hi := (day + 1)::timestamp AT TIME ZONE 'UTC';
        CONTINUE WHEN EXISTS (
            SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'hookd.attempts'::regclass
              AND pg_get_expr(c.relpartbound, c.oid) LIKE 'FOR VALUES FROM (MINVALUE)%'
              AND (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz > lo);
        EXECUTE format('CREATE TABLE hookd.%I (LIKE hookd.attempts INCLUDING DEFAULTS)', name);
        EXECUTE format('WITH moved AS (DELETE FROM hookd.attempts_default WHERE started_at >= %L AND started_at < %L RETURNING *)
                        INSERT INTO hookd.%I SELECT * FROM moved', lo, hi, name);
        EXECUTE format('ALTER TABLE hookd.attempts ATTACH PARTITION hookd.%I FOR VALUES FROM (%L) TO (%L)', name, lo, hi);
        created := created + 1;
    END LOOP;
    RETURN created;
END
$$;

-- Drops every partition (the DEFAULT one excepted) whose rows all started before `cutoff`.
CREATE FUNCTION hookd.attempts_drop_partitions(cutoff timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    part    record;
    dropped integer := 0;
BEGIN
    FOR part IN
        SELECT c.oid::regclass AS name,
               (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz AS upper_bound
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'hookd.attempts'::regclass
    LOOP
        IF part.upper_bound IS NOT NULL AND part.upper_bound <= cutoff THEN
            EXECUTE format('DROP TABLE %s', part.name);
            dropped := dropped + 1;
        END IF;
    END LOOP;
    RETURN dropped;
END
$$;

SELECT hookd.attempts_ensure_partitions((now() AT TIME ZONE 'UTC')::date, 3);
