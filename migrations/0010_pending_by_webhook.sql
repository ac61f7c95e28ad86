-- Cancelling a webhook's deliveries (disabled, deleted) is the one lookup of the hot table by
-- webhook, and it wants only the pending ones. A partial index gets no entry when a claim
-- turns a row `running`, which the full `(webhook_id, state)` index took on every claim.
DROP INDEX hookd.deliveries_by_webhook;
CREATE INDEX deliveries_pending_by_webhook ON hookd.deliveries (webhook_id) WHERE state = 'pending';
