-- Endpoint health (README "Endpoint health"): a 410 disables a webhook at once, failing without a
-- success for `disable_after` disables it too, and an optional per-webhook rate limit.
--
-- failing_since:        the start of the current run of failed real attempts (set by the first
--                       failure after a success, cleared by a success and on re-enabling).
-- disabled_attempt_id:  the attempt (hookd.attempts.id) whose response disabled the webhook, when
--                       one did (a 410): its status, headers and body stay in the audit.
-- max_rps:              requests per second to this webhook from each worker process; NULL for
--                       no limit.
ALTER TABLE hookd.webhooks
    ADD COLUMN failing_since       timestamptz,
    ADD COLUMN disabled_attempt_id bigint,
    ADD COLUMN max_rps             integer
        CONSTRAINT webhook_max_rps_range CHECK (max_rps BETWEEN 1 AND 10000);

-- What the recorder learnt about an endpoint whose webhook row it could not lock (an admin's open
-- transaction holds it): one row per attempt, folded in by the rescuer once the lock is gone, so a
-- 410 or a long run of failures still disables the webhook, only later.
CREATE TABLE hookd.webhook_health_deferred (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id  uuid NOT NULL,
    signal      text NOT NULL CONSTRAINT webhook_health_signal CHECK (signal IN ('ok', 'fail', 'gone')),
    started_at  timestamptz NOT NULL,
    attempt_id  bigint NOT NULL
);
CREATE INDEX webhook_health_deferred_by_webhook ON hookd.webhook_health_deferred (webhook_id);
