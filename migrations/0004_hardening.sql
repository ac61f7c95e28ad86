-- Hardening found by adversarial testing.

-- Counter updates that could not take a webhook's row lock (an admin transaction holding it) wait
-- here instead of stalling the recording of every other result; the rescuer folds them in.
CREATE TABLE hookd.webhook_counts_deferred (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id  uuid NOT NULL,
    delivered   bigint NOT NULL,
    failed_at   timestamptz
);

-- Producers cannot insert a row as already fanned out (it would never be delivered); the payload
-- limit fails closed when its setting is missing or not a number.
CREATE OR REPLACE FUNCTION hookd.outbox_check_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    max_text   text;
    size_bytes bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.fanned_out_at := NULL;
        NEW.webhook_count := NULL;
    END IF;
    IF NEW.payload IS NULL OR jsonb_typeof(NEW.payload) <> 'object' THEN
        RAISE EXCEPTION 'hookd.outbox: payload must be a JSON object, got %',
                coalesce(jsonb_typeof(NEW.payload), 'NULL')
            USING ERRCODE = 'check_violation', COLUMN = 'payload',
                  HINT = 'wrap the value in an object, e.g. {"value": ...}';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM hookd.event_types WHERE slug = NEW.event_type) THEN
        RAISE EXCEPTION 'hookd.outbox: event_type % is not in the catalog (hookd.event_types)',
                coalesce(quote_literal(NEW.event_type), 'NULL')
            USING ERRCODE = 'foreign_key_violation', COLUMN = 'event_type',
                  HINT = 'list types with `hookd events list`; add one with `hookd events add`';
    END IF;
    SELECT value INTO max_text FROM hookd.settings WHERE name = 'max_payload_bytes';
    IF max_text IS NULL OR max_text !~ '^[0-9]{1,18}$' THEN
        RAISE EXCEPTION 'hookd.outbox: setting max_payload_bytes is missing or not a number (%)',
                coalesce(quote_literal(max_text), 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'run `hookd migrate` to restore it';
    END IF;
    size_bytes := octet_length(NEW.payload::text);
    IF size_bytes > max_text::bigint THEN
        RAISE EXCEPTION 'hookd.outbox: payload is % bytes, larger than the limit of % bytes',
                size_bytes, max_text
            USING ERRCODE = 'program_limit_exceeded', COLUMN = 'payload',
                  HINT = 'send a smaller payload (an id the receiver can fetch), or raise max_payload_bytes';
    END IF;
    RETURN NEW;
END
$$;

-- Sample payloads are decoded by hookd's tools; JSON nested deeper than they decode is refused at
-- the door instead of breaking the catalog listing later.
CREATE FUNCTION hookd.jsonb_depth(value jsonb) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    WITH RECURSIVE walk(node, depth) AS (
        SELECT value, 1
        UNION ALL
        SELECT child.value, walk.depth + 1
        FROM walk,
             LATERAL (SELECT v FROM jsonb_each(CASE WHEN jsonb_typeof(walk.node) = 'object' THEN walk.node END) AS e(k, v)
                      UNION ALL
                      SELECT v FROM jsonb_array_elements(CASE WHEN jsonb_typeof(walk.node) = 'array' THEN walk.node END) AS a(v)) AS child(value)
        WHERE walk.depth < 100
    )
    SELECT max(depth) FROM walk
$$;

ALTER TABLE hookd.event_types
    ADD CONSTRAINT event_type_sample_depth CHECK (hookd.jsonb_depth(sample_payload) <= 64);

-- When each attempt row was written (ids are taken in this order, give or take a transaction):
-- lets `hookd tail` start a little in the past without trusting started_at, which for a slow
-- request is long before the row exists.
ALTER TABLE hookd.attempts ADD COLUMN recorded_at timestamptz NOT NULL DEFAULT clock_timestamp();
