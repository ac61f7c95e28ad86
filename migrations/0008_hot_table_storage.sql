-- The hot tables churn: every delivery is inserted, claimed and finished, every outbox row is
-- stamped. Vacuum them after a small fraction of changes (the default waits for 20 %), and leave
-- room on each page for the updates.
ALTER TABLE hookd.deliveries SET (
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_analyze_scale_factor = 0.02,
    autovacuum_vacuum_cost_delay = 1
);
ALTER TABLE hookd.outbox SET (
    fillfactor = 90,
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_analyze_scale_factor = 0.02,
    autovacuum_vacuum_cost_delay = 1
);
