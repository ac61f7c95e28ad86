-- Secret rotation: a new secret signs at once, and the one it replaced keeps signing beside it
-- (a second `v1,` signature in `webhook-signature`) until previous_secret_expires_at, so receivers
-- can switch over without dropping a delivery. After that the previous secret is ignored; the next
-- rotation overwrites it.
ALTER TABLE hookd.webhooks
    ADD COLUMN previous_secret            text,
    ADD COLUMN previous_secret_expires_at timestamptz;
