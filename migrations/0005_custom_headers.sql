-- Custom headers per webhook: sent with every attempt and test send, as a JSON object of
-- lower-case name -> value. hookd validates them on the way in (crates/hookd-core/src/headers.rs:
-- token names, no control bytes, reserved names refused) and again before sending.
ALTER TABLE hookd.webhooks
    ADD COLUMN headers jsonb NOT NULL DEFAULT '{}'
        CONSTRAINT webhook_headers_object CHECK (jsonb_typeof(headers) = 'object');
