-- hookd's schema. Producers touch only hookd.outbox (and hookd.event_types to add their own types);
-- everything else is written by hookd. The delivery state machine is drawn in docs/architecture.md.

CREATE SCHEMA IF NOT EXISTS hookd;

-- Settings the database itself must enforce, written by `hookd migrate`/`serve` from the config so
-- a producer's INSERT sees the same limits hookd was configured with.
CREATE TABLE hookd.settings (
    name  text PRIMARY KEY,
    value text NOT NULL
);
INSERT INTO hookd.settings (name, value) VALUES ('max_payload_bytes', '262144');

-- The event catalog: what producers may publish and what admins may subscribe to.
CREATE TABLE hookd.event_types (
    slug           text PRIMARY KEY
                   CONSTRAINT event_type_slug_format CHECK (slug ~ '^[a-z][a-z0-9_.-]{0,99}$'),
    name           text NOT NULL CONSTRAINT event_type_name_not_empty CHECK (btrim(name) <> ''),
    description    text NOT NULL DEFAULT '',
    sample_payload jsonb NOT NULL DEFAULT '{}'
                   CONSTRAINT event_type_sample_is_object CHECK (jsonb_typeof(sample_payload) = 'object'),
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- The outbox: producers INSERT here inside their own transaction. The fan-out stage stamps
-- fanned_out_at once it has created one delivery per subscribed webhook; rows stay as the event
-- record (payload, idempotency key) until retention removes them.
CREATE TABLE hookd.outbox (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id      uuid NOT NULL DEFAULT gen_random_uuid(),
    event_type    text NOT NULL,
    payload       jsonb NOT NULL,
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    created_at    timestamptz NOT NULL DEFAULT now(),
    fanned_out_at timestamptz,
    webhook_count integer,
    CONSTRAINT outbox_event_id_key UNIQUE (event_id)
);
-- Only rows still waiting for fan-out: stays tiny however long the outbox grows.
CREATE INDEX outbox_awaiting_fan_out ON hookd.outbox (id) WHERE fanned_out_at IS NULL;

-- A bad row fails the producer's INSERT with a message naming the problem, so nothing
-- undeliverable ever enters the queue.
CREATE FUNCTION hookd.outbox_check_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    max_bytes  bigint;
    size_bytes bigint;
BEGIN
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
    SELECT value::bigint INTO max_bytes FROM hookd.settings WHERE name = 'max_payload_bytes';
    size_bytes := octet_length(NEW.payload::text);
    IF size_bytes > max_bytes THEN
        RAISE EXCEPTION 'hookd.outbox: payload is % bytes, larger than the limit of % bytes',
                size_bytes, max_bytes
            USING ERRCODE = 'program_limit_exceeded', COLUMN = 'payload',
                  HINT = 'send a smaller payload (an id the receiver can fetch), or raise max_payload_bytes';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER outbox_check_row
    BEFORE INSERT OR UPDATE OF event_type, payload ON hookd.outbox
    FOR EACH ROW EXECUTE FUNCTION hookd.outbox_check_row();

-- A wake-up hint for idle workers: one per statement, and Postgres folds identical notifications
-- within a transaction, so a bulk insert costs one NOTIFY, not one per row.
CREATE FUNCTION hookd.outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hookd_outbox', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_notify
    AFTER INSERT ON hookd.outbox
    FOR EACH STATEMENT EXECUTE FUNCTION hookd.outbox_notify();

CREATE TABLE hookd.webhooks (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name            text NOT NULL CONSTRAINT webhook_name_not_empty CHECK (btrim(name) <> ''),
    url             text NOT NULL,
    -- Event type slugs, or '{*}' for every type.
    events          text[] NOT NULL CONSTRAINT webhook_events_not_empty CHECK (cardinality(events) > 0),
    active          boolean NOT NULL DEFAULT true,
    integration     text NOT NULL DEFAULT 'manual',
    secret          text NOT NULL,
    -- Successful real deliveries (test sends are not counted).
    event_count     bigint NOT NULL DEFAULT 0,
    last_failed_at  timestamptz,
    disabled_reason text,
    disabled_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- One row per (event, webhook). The hot part is only `pending` and `running` rows; see the
-- partial indexes. Leases: a claim sets lease_token (fresh from the sequence), locked_by and
-- lease_expires_at; every finish is fenced on lease_token, so a worker whose lease was taken away
-- cannot overwrite a newer result.
CREATE SEQUENCE hookd.lease_token_seq;

CREATE TABLE hookd.deliveries (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id         uuid NOT NULL,
    webhook_id       uuid NOT NULL,
    state            text NOT NULL DEFAULT 'pending'
                     CONSTRAINT delivery_state CHECK
                     (state IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
    -- Attempts started (claims); the bound on crash loops as well as on retries.
    attempts         integer NOT NULL DEFAULT 0,
    -- `attempts` when the delivery was last replayed: a replay starts the retry schedule afresh
    -- while attempt numbers keep counting up in the audit.
    attempt_base     integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_token      bigint,
    locked_by        text,
    lease_expires_at timestamptz,
    last_status      integer,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    CONSTRAINT delivery_once_per_webhook UNIQUE (event_id, webhook_id)
) WITH (fillfactor = 80);

CREATE INDEX deliveries_due ON hookd.deliveries (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX deliveries_leased ON hookd.deliveries (lease_expires_at) WHERE state = 'running';
CREATE INDEX deliveries_by_webhook ON hookd.deliveries (webhook_id, state);

-- The audit: one append-only row per HTTP attempt, real or test.
CREATE TABLE hookd.attempts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id      bigint,           -- NULL for a test send
    event_id         uuid NOT NULL,
    event_type       text NOT NULL,
    webhook_id       uuid,
    url              text NOT NULL,    -- where this attempt went, even if the webhook changed later
    attempt          integer NOT NULL,
    started_at       timestamptz NOT NULL,
    duration_ms      integer NOT NULL,
    status_code      integer,
    error            text,             -- error class: timeout, connect, dns, tls, redirect, ...
    error_detail     text,
    response_headers jsonb,
    response_body    bytea,            -- raw bytes, capped; any bytes at all
    body_truncated   boolean NOT NULL DEFAULT false,
    worker           text NOT NULL,
    test             boolean NOT NULL DEFAULT false
);

CREATE INDEX attempts_by_webhook ON hookd.attempts (webhook_id, started_at DESC);
CREATE INDEX attempts_by_event ON hookd.attempts (event_id);
CREATE INDEX attempts_by_time ON hookd.attempts (started_at);

CREATE FUNCTION hookd.attempts_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'hookd.attempts is append-only: an attempt, once recorded, is never changed'
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER attempts_append_only
    BEFORE UPDATE ON hookd.attempts
    FOR EACH ROW EXECUTE FUNCTION hookd.attempts_append_only();

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

-- One row per live `hookd serve` process; a stale heartbeat lets others take its leases back
-- without waiting for them to expire. UNLOGGED: after a Postgres crash every lease looks dead and
-- is redelivered, which at-least-once allows.
CREATE UNLOGGED TABLE hookd.workers (
    id           text PRIMARY KEY,
    hostname     text NOT NULL,
    pid          integer NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);
