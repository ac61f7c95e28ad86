-- Event ids that hookd makes are UUIDv7: the first 48 bits are the Unix time in milliseconds,
-- the rest random, so ids made one after another sort together. Every index keyed by event id
-- (`outbox.event_id`, `(event_id, webhook_id)` on deliveries, the attempts by event) then grows
-- at its right edge instead of at a random leaf: the pages a fan-out, a claim and a finish touch
-- stay few and in memory however long the backlog, where random (v4) ids spread them over the
-- whole index. Producers may still give their own ids, of any version.
--
-- PostgreSQL 18 has uuidv7(); this is the same layout for the versions before it: a random v4
-- with its first 6 bytes replaced by the time and its version nibble turned from 4 (0100) into
-- 7 (0111) by setting bits 52 and 53.
CREATE FUNCTION hookd.uuid_v7() RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
    SELECT encode(
        set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid())
                    PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                    FROM 1 FOR 6),
            52, 1), 53, 1),
        'hex')::uuid
$$;

ALTER TABLE hookd.outbox ALTER COLUMN event_id SET DEFAULT hookd.uuid_v7();
