-- The claim reads a webhook's own due rows, oldest first, for a webhook it already sends to: as
-- many as that webhook has free slots, so a webhook that can take few cannot fill the claim's
-- view of the queue and hide everyone else's work. The per-webhook index of pending rows gets
-- the queue's order as its trailing keys; cancelling a webhook's pending rows still reads it by
-- its leading key.
DROP INDEX hookd.deliveries_pending_by_webhook;
CREATE INDEX deliveries_pending_by_webhook ON hookd.deliveries (webhook_id, next_attempt_at, id)
    WHERE state = 'pending';
