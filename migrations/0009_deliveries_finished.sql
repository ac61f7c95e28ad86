-- Finished deliveries leave the hot table. `hookd.deliveries` holds only live work (`pending`,
-- `running`): the claim, the rescuer and vacuum touch a table the size of the backlog, not of the
-- retention period. A delivery that ends (succeeded, failed, cancelled) is deleted from it and
-- written, in the same statement, to `hookd.deliveries_finished`, which is partitioned by day of
-- `finished_at` and dropped a day at a time past retention, like the attempt history. A replay
-- moves a failed delivery back.
--
-- `hookd.delivery_log` shows both, for operators' SQL.

CREATE TABLE hookd.deliveries_finished (
    id              bigint NOT NULL,
    event_id        uuid NOT NULL,
    webhook_id      uuid NOT NULL,
    state           text NOT NULL
                    CONSTRAINT delivery_finished_state CHECK (state IN ('succeeded', 'failed', 'cancelled')),
    attempts        integer NOT NULL,
    attempt_base    integer NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    last_status     integer,
    last_error      text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL,
    PRIMARY KEY (id, finished_at)
) PARTITION BY RANGE (finished_at);
-- Replay reads failed deliveries only (by webhook and time, or by event): partial indexes, so a
-- success costs its heap row and the primary key entry, nothing more.
CREATE INDEX deliveries_finished_failed_by_webhook ON hookd.deliveries_finished (webhook_id, finished_at)
    WHERE state = 'failed';
CREATE INDEX deliveries_finished_failed_by_event ON hookd.deliveries_finished (event_id) WHERE state = 'failed';
CREATE TABLE hookd.deliveries_finished_default PARTITION OF hookd.deliveries_finished DEFAULT;

-- Deliveries finished before this migration become one partition ending with tomorrow, dropped
-- whole once retention passes it.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM hookd.deliveries WHERE state NOT IN ('pending', 'running')) THEN
        EXECUTE format(
            'CREATE TABLE hookd.deliveries_finished_before_0009 PARTITION OF hookd.deliveries_finished
             FOR VALUES FROM (MINVALUE) TO (%L)',
            greatest(date_trunc('day', now(), 'UTC') + interval '1 day',
                     (SELECT max(coalesce(finished_at, updated_at)) FROM hookd.deliveries
                      WHERE state NOT IN ('pending', 'running')) + interval '1 microsecond'));
        INSERT INTO hookd.deliveries_finished
            (id, event_id, webhook_id, state, attempts, attempt_base, next_attempt_at, last_status, last_error,
             created_at, updated_at, finished_at)
        SELECT id, event_id, webhook_id, state, attempts, attempt_base, next_attempt_at, last_status, last_error,
               created_at, updated_at, coalesce(finished_at, updated_at)
        FROM hookd.deliveries WHERE state NOT IN ('pending', 'running');
        DELETE FROM hookd.deliveries WHERE state NOT IN ('pending', 'running');
    END IF;
END
$$;

ALTER TABLE hookd.deliveries DROP CONSTRAINT delivery_state;
ALTER TABLE hookd.deliveries ADD CONSTRAINT delivery_state CHECK (state IN ('pending', 'running'));
ALTER TABLE hookd.deliveries DROP COLUMN finished_at;

CREATE VIEW hookd.delivery_log AS
SELECT id, event_id, webhook_id, state, attempts, attempt_base, next_attempt_at, locked_by, lease_expires_at,
       last_status, last_error, created_at, updated_at, NULL::timestamptz AS finished_at
FROM hookd.deliveries
UNION ALL
SELECT id, event_id, webhook_id, state, attempts, attempt_base, next_attempt_at, NULL, NULL,
       last_status, last_error, created_at, updated_at, finished_at
FROM hookd.deliveries_finished;

-- The column a table is range-partitioned by.
CREATE FUNCTION hookd.partition_key(parent regclass) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT a.attname FROM pg_partitioned_table p
    JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
    WHERE p.partrelid = parent
$$;

-- Day partitions for any table partitioned by a timestamptz range: `<table>_YYYYMMDD` (UTC days),
-- made `days` ahead from `first_day` where missing. Rows of such a day already caught by
-- `<table>_default` move into the new partition; a day covered by an older, wider partition
-- (one from MINVALUE, made by a migration) is skipped.
CREATE FUNCTION hookd.day_partitions_ensure(parent regclass, first_day date, days integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    base    text := (SELECT relname FROM pg_class WHERE oid = parent);
    key     text := hookd.partition_key(parent);
    day     date;
    name    text;
    lo      timestamptz;
    hi      timestamptz;
    created integer := 0;
BEGIN
    FOR i IN 0 .. days - 1 LOOP
        day := first_day + i;
        name := base || '_' || to_char(day, 'YYYYMMDD');
        CONTINUE WHEN to_regclass('hookd.' || name) IS NOT NULL;
        lo := day::timestamp AT TIME ZONE 'UTC';
        hi := (day + 1)::timestamp AT TIME ZONE 'UTC';
        CONTINUE WHEN EXISTS (
            SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = parent
              AND pg_get_expr(c.relpartbound, c.oid) LIKE 'FOR VALUES FROM (MINVALUE)%'
              AND (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz > lo);
        EXECUTE format('CREATE TABLE hookd.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name, parent);
        EXECUTE format('WITH moved AS (DELETE FROM hookd.%I WHERE %I >= %L AND %I < %L RETURNING *)
                        INSERT INTO hookd.%I SELECT * FROM moved', base || '_default', key, lo, key, hi, name);
        EXECUTE format('ALTER TABLE %s ATTACH PARTITION hookd.%I FOR VALUES FROM (%L) TO (%L)', parent, name, lo, hi);
        created := created + 1;
    END LOOP;
    RETURN created;
END
$$;

-- Drops every partition of `parent` whose rows all lie before `cutoff`, and deletes what its
-- DEFAULT partition caught from before then (normally nothing).
CREATE FUNCTION hookd.day_partitions_drop(parent regclass, cutoff timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    base    text := (SELECT relname FROM pg_class WHERE oid = parent);
    key     text := hookd.partition_key(parent);
    part    record;
    dropped integer := 0;
BEGIN
    FOR part IN
        SELECT c.oid::regclass AS name,
               (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz AS upper_bound
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = parent
    LOOP
        IF part.upper_bound IS NOT NULL AND part.upper_bound <= cutoff THEN
            EXECUTE format('DROP TABLE %s', part.name);
            dropped := dropped + 1;
        END IF;
    END LOOP;
    EXECUTE format('DELETE FROM hookd.%I WHERE %I < %L', base || '_default', key, cutoff);
    RETURN dropped;
END
$$;

-- The attempt history's own functions (0007) are these, for one table.
DROP FUNCTION hookd.attempts_ensure_partitions(date, integer);
DROP FUNCTION hookd.attempts_drop_partitions(timestamptz);

SELECT hookd.day_partitions_ensure('hookd.deliveries_finished', (now() AT TIME ZONE 'UTC')::date, 3);
