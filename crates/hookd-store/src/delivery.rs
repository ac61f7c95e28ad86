//! Deliveries: one per (event, webhook). Claimed under a lease, finished under a fence, rescued
//! when their worker dies, replayed when an operator asks. The state machine and the lease
//! protocol are in docs/architecture.md.

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::attempt::{attempt_insert_many, AttemptRecord};
use crate::{Result, Store};

/// A delivery a worker now holds: everything needed to send it, with the lease that fences it.
/// `Debug` leaves the secrets out.
#[derive(Clone, sqlx::FromRow)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub lease_token: i64,
    /// This attempt's number, counting from 1 over the delivery's whole life.
    pub attempt: i32,
    /// Attempts made since the last replay, this one included: the position in the retry schedule.
    pub schedule_attempt: i32,
    pub event_id: Uuid,
    pub event_type: String,
    /// The payload as stored, as text: the exact bytes sent and signed on every attempt.
    pub payload: String,
    pub occurred_at: DateTime<Utc>,
    /// The outbox row's id: increasing in insert order across the database, sent as
    /// `hookd-sequence` so receivers can order (ids are taken at insert, so a transaction that
    /// commits late can carry a lower one than an event already delivered).
    pub sequence: i64,
    pub webhook_id: Uuid,
    pub url: String,
    pub secret: String,
    /// The secret a rotation replaced, while its grace period lasts: it signs beside `secret`.
    pub previous_secret: Option<String>,
    /// The webhook's custom headers, sent with the request; left out of `Debug` (values are often
    /// credentials).
    pub headers: sqlx::types::Json<hookd_core::headers::CustomHeaders>,
    /// The webhook's rate limit (requests per second from each process), if it has one.
    pub max_rps: Option<i32>,
}

impl std::fmt::Debug for ClaimedDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimedDelivery")
            .field("id", &self.id)
            .field("lease_token", &self.lease_token)
            .field("attempt", &self.attempt)
            .field("event_id", &self.event_id)
            .field("event_type", &self.event_type)
            .field("webhook_id", &self.webhook_id)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// How many of one webhook's deliveries a claim may take: `per_webhook`, less what is already in
/// flight for the webhooks listed.
#[derive(Debug, Clone, Copy)]
pub struct WebhookSlots<'a> {
    pub per_webhook: i64,
    pub in_flight: &'a [(Uuid, i64)],
}

impl WebhookSlots<'_> {
    pub const UNLIMITED: WebhookSlots<'static> = WebhookSlots { per_webhook: i64::MAX, in_flight: &[] };
}

/// Where a delivery goes after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextState {
    Succeeded,
    RetryAt(DateTime<Utc>),
    Failed,
}

/// The result of one attempt on a claimed delivery.
#[derive(Debug, Clone)]
pub struct Finish {
    pub delivery_id: i64,
    pub lease_token: i64,
    pub next: NextState,
    pub attempt: AttemptRecord,
}

/// Finishes as the columns the batched finish takes them in: retries and endings go in separately,
/// so each part of the statement joins only its own rows (and the planner knows their number).
/// What differs between the two (when a retry is due, which state an ending reaches) is kept
/// beside them.
#[derive(Default)]
struct FinishColumns {
    ids: Vec<i64>,
    tokens: Vec<i64>,
    statuses: Vec<Option<i32>>,
    errors: Vec<Option<String>>,
}

impl FinishColumns {
    fn push(&mut self, finish: &Finish) {
        self.ids.push(finish.delivery_id);
        self.tokens.push(finish.lease_token);
        self.statuses.push(finish.attempt.status_code);
        self.errors.push(finish.attempt.error.clone());
    }
}

/// What the rescuer did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rescued {
    pub requeued: i64,
    pub failed: i64,
}

/// Writes the rows of a CTE named `ended` (deliveries just deleted from the hot table, with their
/// final `state`, `last_status` and `last_error`) to `hookd.deliveries_finished`: how every
/// delivery that ends leaves the hot table, in the statement that ends it.
macro_rules! archive_ended {
    () => {
        "archived AS (
             INSERT INTO hookd.deliveries_finished
                 (id, event_id, webhook_id, state, attempts, attempt_base, next_attempt_at, last_status, last_error,
                  created_at, updated_at, finished_at)
             SELECT id, event_id, webhook_id, state, attempts, attempt_base, next_attempt_at, last_status, last_error,
                    created_at, now(), now()
             FROM ended
         )"
    };
}

/// The claim (see [`Store::delivery_claim_batch`]). It finds due deliveries three ways, each
/// locking with SKIP LOCKED over more rows than it takes (so concurrent claimers take
/// successive rows instead of colliding), so that no webhook's backlog can hide another's work
/// and few rows are locked that the claim does not take:
/// - a webhook this worker already sends to (`busy`, with how many of its requests are in flight)
///   gets its free slots, at most an equal share of the batch (`busy_due`), in due order from its
///   own index, `deliveries_pending_by_webhook`. This is what a one-webhook drain claims (it
///   also reads the head, and walks, finding nothing else, when its free slots are fewer than the
///   batch).
/// - every other webhook's rows are taken from the `head` of the queue (by `deliveries_due`):
///   four batches deep, so concurrent claimers each find a slice, and no deeper, so a busy
///   webhook's backlog filling the head costs a bounded read. The head is read without locking;
///   only the idle webhooks' rows in it are locked (`head_idle`), at most `per_webhook` of each.
/// - when those two give less than a batch and the head is full (busy webhooks' backlogs fill
///   it, or one idle webhook's beyond its `per_webhook`), up to 32 webhooks with due rows are
///   walked, one index descent each, from a random point of the webhook ids (`$7`, wrapping round:
///   `hookd.webhooks_with_due_deliveries`, migration 0013); the idle ones (`walked_due`) share the
///   batch and give their first due rows (`deeper_idle`): a busy webhook's deep backlog cannot
///   starve the others, and a claim's walk stays short however many webhooks there are. (Behind
///   such a backlog, with more than 32 idle webhooks with due rows, each claim serves 32 of them,
///   chosen at random.)
///
/// The oldest of these, up to `limit`, are `due` (an idle webhook's at most `per_webhook`);
/// `judged` reads what sending each one takes. What can be sent is leased (`claimed`); the rest
/// ends as cancelled and leaves the hot table. MATERIALIZED keeps the planner from re-running a
/// LIMIT subquery per joined row, which could lock and update more than `limit` rows.
const CLAIM: &str = concat!(
    "WITH busy AS (
        SELECT * FROM unnest($4::uuid[], $5::bigint[]) AS b(webhook_id, in_flight)
    ), share AS (
        SELECT greatest(1, ceil($2::numeric / greatest(count(*), 1)))::bigint AS per_webhook
        FROM busy WHERE in_flight < $6
    ), busy_due AS MATERIALIZED (
        -- Ordered by webhook first, which only that index gives without a sort: the due index
        -- would walk every other webhook's rows to find this one's.
        SELECT d.* FROM busy CROSS JOIN share
        CROSS JOIN LATERAL (
            SELECT id, event_id, webhook_id, next_attempt_at FROM hookd.deliveries
            WHERE webhook_id = busy.webhook_id AND state = 'pending' AND next_attempt_at <= now()
            ORDER BY webhook_id, next_attempt_at, id
            LIMIT least(greatest($6 - busy.in_flight, 0), share.per_webhook)
            FOR NO KEY UPDATE SKIP LOCKED
        ) d
    ), head AS MATERIALIZED (
        SELECT id, webhook_id, next_attempt_at FROM hookd.deliveries
        WHERE state = 'pending' AND next_attempt_at <= now()
        ORDER BY next_attempt_at, id
        LIMIT $2 * 4
    ), head_idle AS MATERIALIZED (
        -- By primary key. Locking rechecks `state` on the row as it is now, so one another claim
        -- leased meanwhile is passed over, not counted against the limit. The recheck is written
        -- so that it does not match the partial indexes' `state = 'pending'`: the planner would
        -- otherwise read a whole partial index for these few ids. (For the same reason there is
        -- no condition on `next_attempt_at`: a row in the head was due; one that another worker
        -- sent and rescheduled within this statement's few milliseconds goes out early, which is
        -- harmless.)
        SELECT id, event_id, webhook_id, next_attempt_at FROM hookd.deliveries
        -- At most `per_webhook` of each idle webhook's rows: one webhook's rows first in the head
        -- must not take the places of the others' behind them.
        WHERE id = ANY (ARRAY(
                  SELECT id FROM (
                      SELECT id, row_number() OVER (PARTITION BY webhook_id ORDER BY next_attempt_at, id) AS rank
                      FROM head WHERE webhook_id <> ALL ($4::uuid[])
                  ) ranked
                  WHERE rank <= $6))
          AND coalesce(state, '') = 'pending'
        ORDER BY next_attempt_at, id
        LIMIT $2
        FOR NO KEY UPDATE SKIP LOCKED
    ), walked_due AS MATERIALIZED (
        -- Called only when the busy webhooks and the head fall short of a batch, and the head is
        -- full (so that there may be more beyond it); these conditions are checked first.
        SELECT walked.webhook_id FROM hookd.webhooks_with_due_deliveries($7, 32) AS walked(webhook_id)
        WHERE walked.webhook_id <> ALL ($4::uuid[])
          AND (SELECT count(*) FROM busy_due) + (SELECT count(*) FROM head_idle) < $2
          AND (SELECT count(*) FROM head) = $2 * 4
    ), deeper_idle AS MATERIALIZED (
        SELECT d.* FROM walked_due
        CROSS JOIN (SELECT ceil($2::numeric / greatest(count(*), 1))::bigint AS per_webhook FROM walked_due) share
        CROSS JOIN LATERAL (
            SELECT id, event_id, webhook_id, next_attempt_at FROM hookd.deliveries
            WHERE webhook_id = walked_due.webhook_id AND state = 'pending' AND next_attempt_at <= now()
            ORDER BY webhook_id, next_attempt_at, id
            LIMIT least($6, share.per_webhook)
            FOR NO KEY UPDATE SKIP LOCKED
        ) d
    ), idle_due AS (
        SELECT id, event_id, webhook_id, next_attempt_at FROM (
            SELECT idle.*, row_number() OVER (PARTITION BY idle.webhook_id ORDER BY idle.next_attempt_at, idle.id) AS rank
            -- UNION, not UNION ALL: a walked webhook's first rows may be in the head too.
            FROM (SELECT * FROM head_idle UNION SELECT * FROM deeper_idle) idle
        ) ranked
        WHERE ranked.rank <= $6
    ), due AS MATERIALIZED (
        SELECT id, event_id, webhook_id FROM (SELECT * FROM busy_due UNION ALL SELECT * FROM idle_due) found
        ORDER BY next_attempt_at, id
        LIMIT $2
    ), judged AS MATERIALIZED (
        SELECT due.id, o.event_id IS NOT NULL AND coalesce(w.active, false) AS sendable,
               CASE WHEN o.event_id IS NULL THEN 'event purged from the outbox'
                    ELSE 'webhook disabled or deleted' END AS unsendable_because,
               o.event_type, o.payload::text AS payload, o.occurred_at, o.id AS sequence,
               w.url, w.secret, w.headers, w.max_rps,
               CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END AS previous_secret
        FROM due
        LEFT JOIN hookd.outbox o ON o.event_id = due.event_id
        LEFT JOIN hookd.webhooks w ON w.id = due.webhook_id
    ), claimed AS (
        UPDATE hookd.deliveries d
        SET state = 'running', attempts = d.attempts + 1, lease_token = nextval('hookd.lease_token_seq'),
            locked_by = $1, lease_expires_at = now() + make_interval(secs => $3), updated_at = now()
        FROM judged j
        WHERE d.id = j.id AND j.sendable
        RETURNING d.id, d.lease_token, d.attempts AS attempt, d.attempts - d.attempt_base AS schedule_attempt,
                  d.event_id, j.event_type, j.payload, j.occurred_at, j.sequence,
                  d.webhook_id, j.url, j.secret, j.previous_secret, j.headers, j.max_rps
    ), ended AS (
        -- A delivery whose webhook was disabled or deleted after it was queued (or whose event
        -- is gone) is cancelled here rather than sent or left pending forever.
        DELETE FROM hookd.deliveries d USING judged j
        WHERE d.id = j.id AND NOT j.sendable
        RETURNING d.id, d.event_id, d.webhook_id, 'cancelled'::text AS state, d.attempts, d.attempt_base,
                  d.next_attempt_at, d.last_status, j.unsendable_because AS last_error, d.created_at
    ), ",
    archive_ended!(),
    "
    SELECT * FROM claimed"
);

/// The batched finish (see [`Store::delivery_finish_many`]): retries in `$1..$5`, the rest in
/// `$6..$10`. Each input row is fenced on its lease.
/// A retry stays in the hot table as `pending` (`retried`), unless its webhook was disabled or
/// deleted meanwhile; everything else ends (`ended`) and moves to `hookd.deliveries_finished`.
/// `finished` is both, with the state the attempt asked for, for the webhook counters.
const FINISH: &str = concat!(
    "WITH retry_input AS (
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::int[], $5::text[])
             AS i(id, token, retry_at, status, error)
     ), end_input AS (
         SELECT * FROM unnest($6::bigint[], $7::bigint[], $8::text[], $9::int[], $10::text[])
             AS i(id, token, state, status, error)
     ), retried AS (
         UPDATE hookd.deliveries d
         SET state = 'pending', next_attempt_at = i.retry_at,
             lease_token = NULL, locked_by = NULL, lease_expires_at = NULL,
             last_status = i.status, last_error = i.error, updated_at = now()
         FROM retry_input i
         WHERE d.id = i.id AND d.lease_token = i.token AND d.state = 'running'
           AND EXISTS (SELECT 1 FROM hookd.webhooks w WHERE w.id = d.webhook_id AND w.active)
         RETURNING d.id, d.webhook_id, 'pending'::text AS state
     ), ended AS (
         DELETE FROM hookd.deliveries d
         USING (SELECT id, token, state, status, error FROM end_input
                UNION ALL
                SELECT id, token, 'cancelled', status, error FROM retry_input) i
         WHERE d.id = i.id AND d.lease_token = i.token AND d.state = 'running'
           AND (i.state <> 'cancelled' OR NOT EXISTS (SELECT 1 FROM hookd.webhooks w WHERE w.id = d.webhook_id AND w.active))
         RETURNING d.id, d.event_id, d.webhook_id, i.state, d.attempts, d.attempt_base, d.next_attempt_at,
                   i.status AS last_status, i.error AS last_error, d.created_at,
                   CASE WHEN i.state = 'cancelled' THEN 'pending' ELSE i.state END AS asked
     ), ",
    archive_ended!(),
    ", finished AS (
         SELECT id, webhook_id, state FROM retried
         UNION ALL
         SELECT id, webhook_id, asked FROM ended
     ), totals AS (
         SELECT webhook_id,
                count(*) FILTER (WHERE state = 'succeeded') AS delivered,
                bool_or(state <> 'succeeded') AS failed
         FROM finished GROUP BY webhook_id
     ), lockable AS (
         -- An admin's open transaction on a webhook must not stall every other result:
         -- counters for a webhook whose row is locked are deferred, not waited for.
         SELECT w.id FROM hookd.webhooks w
         WHERE w.id IN (SELECT webhook_id FROM totals)
         FOR NO KEY UPDATE SKIP LOCKED
     ), counted AS (
         UPDATE hookd.webhooks w
         SET event_count = w.event_count + t.delivered,
             last_failed_at = CASE WHEN t.failed THEN now() ELSE w.last_failed_at END
         FROM totals t
         WHERE w.id = t.webhook_id AND w.id IN (SELECT id FROM lockable)
     ), deferred AS (
         INSERT INTO hookd.webhook_counts_deferred (webhook_id, delivered, failed_at)
         SELECT t.webhook_id, t.delivered, CASE WHEN t.failed THEN now() END
         FROM totals t
         WHERE t.webhook_id NOT IN (SELECT id FROM lockable)
           AND EXISTS (SELECT 1 FROM hookd.webhooks w WHERE w.id = t.webhook_id)
     )
     SELECT id FROM finished"
);

/// The claim's parameters for a look at it: one worker, `limit` rows, no webhook busy.
fn sample_claim(query: &str, limit: i64) -> sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments> {
    sqlx::query(query)
        .bind("sample")
        .bind(limit)
        .bind(30.0_f64)
        .bind(Vec::<Uuid>::new())
        .bind(Vec::<i64>::new())
        .bind(128_i64)
        .bind(Uuid::nil())
}

impl Store {
    /// Leases up to `limit` due deliveries for `worker`, skipping rows other workers hold and
    /// never taking more of one webhook's deliveries than this worker has free slots for it.
    /// Commits at once: no transaction stays open while the HTTP calls run.
    pub async fn delivery_claim_batch(
        &self,
        worker: &str,
        limit: i64,
        lease: Duration,
        slots: &WebhookSlots<'_>,
    ) -> Result<Vec<ClaimedDelivery>> {
        let (busy, in_flight): (Vec<Uuid>, Vec<i64>) = slots.in_flight.iter().copied().unzip();
        let claimed: Vec<ClaimedDelivery> = sqlx::query_as(CLAIM)
        .bind(worker)
        .bind(limit)
        .bind(lease.as_secs_f64())
        .bind(&busy)
        .bind(&in_flight)
        .bind(slots.per_webhook)
        .bind(Uuid::new_v4())
        .fetch_all(self.pool())
        .await?;
        claimed
            .into_iter()
            .map(|mut d: ClaimedDelivery| {
                // A secret that cannot be opened (no key, wrong key) leaves the delivery with none:
                // the sender then records the attempt as failed instead of the batch stalling.
                d.secret = self.open(&d.secret).unwrap_or_else(|e| {
                    tracing::error!(webhook_id = %d.webhook_id, error = %e, "cannot open the webhook's signing secret");
                    String::new()
                });
                d.previous_secret = d.previous_secret.as_deref().and_then(|s| self.open(s).ok());
                Ok(d)
            })
            .collect()
    }

    /// The plan Postgres chooses for the claim, as `EXPLAIN (COSTS OFF)` prints it, so a test or
    /// an operator can check that claims read the `deliveries_due` index. Nothing is claimed.
    pub async fn delivery_claim_plan(&self) -> Result<String> {
        let explain = format!("EXPLAIN (COSTS OFF) {CLAIM}");
        let lines: Vec<String> = sample_claim(&explain, 100)
            .try_map(|row: sqlx::postgres::PgRow| sqlx::Row::try_get(&row, 0))
            .fetch_all(self.pool())
            .await?;
        Ok(lines.join("\n"))
    }

    /// How long a claim of up to `limit` deliveries takes now: the claim itself, run in a
    /// transaction that is rolled back, so nothing is claimed. The benchmark samples it to show
    /// whether claims slow down as the tables age.
    pub async fn delivery_claim_probe(&self, limit: i64) -> Result<(usize, Duration)> {
        let mut tx = self.pool().begin().await?;
        let started = std::time::Instant::now();
        let rows = sample_claim(CLAIM, limit).fetch_all(&mut *tx).await?.len();
        let took = started.elapsed();
        tx.rollback().await?;
        Ok((rows, took))
    }

    /// Hands claimed deliveries back untouched (no attempt made): used when a webhook has no free
    /// slot after all, and on shutdown for work not yet started.
    pub async fn delivery_release_many(&self, leases: &[(i64, i64)]) -> Result<u64> {
        let (ids, tokens): (Vec<i64>, Vec<i64>) = leases.iter().copied().unzip();
        Ok(sqlx::query(
            "UPDATE hookd.deliveries d
             SET state = 'pending', attempts = d.attempts - 1, lease_token = NULL, locked_by = NULL,
                 lease_expires_at = NULL, updated_at = now()
             FROM unnest($1::bigint[], $2::bigint[]) AS r(id, token)
             WHERE d.id = r.id AND d.lease_token = r.token AND d.state = 'running'",
        )
        .bind(ids)
        .bind(tokens)
        .execute(self.pool())
        .await?
        .rows_affected())
    }

    /// Records a batch of attempts and moves their deliveries on, in one short transaction.
    ///
    /// Every attempt is recorded (it happened). The state change is fenced on the lease token: a
    /// finish whose lease was rescued meanwhile changes nothing, and its delivery id is returned
    /// as stale. A retry due for a webhook that was disabled meanwhile is cancelled instead.
    ///
    /// Endpoint health is judged in the same transaction ([`crate::health`]): a 410 disables its
    /// webhook, and so does a failure after failing without a success for `disable_after`
    /// (`None`: never).
    pub async fn delivery_finish_many(&self, finishes: &[Finish], disable_after: Option<Duration>) -> Result<Vec<i64>> {
        if finishes.is_empty() {
            return Ok(Vec::new());
        }
        let (mut retries, mut endings) = (FinishColumns::default(), FinishColumns::default());
        let (mut retry_at, mut end_states): (Vec<DateTime<Utc>>, Vec<&str>) = (Vec::new(), Vec::new());
        for f in finishes {
            match f.next {
                NextState::RetryAt(at) => {
                    retries.push(f);
                    retry_at.push(at);
                }
                NextState::Succeeded => {
                    endings.push(f);
                    end_states.push("succeeded");
                }
                NextState::Failed => {
                    endings.push(f);
                    end_states.push("failed");
                }
            }
        }
        let records: Vec<AttemptRecord> = finishes.iter().map(|f| f.attempt.clone()).collect();

        let mut tx = self.pool().begin().await?;
        let attempt_ids = attempt_insert_many(&mut tx, &records).await?;
        let applied: Vec<i64> = sqlx::query_scalar(FINISH)
            .bind(&retries.ids)
            .bind(&retries.tokens)
            .bind(&retry_at)
            .bind(&retries.statuses)
            .bind(&retries.errors)
            .bind(&endings.ids)
            .bind(&endings.tokens)
            .bind(&end_states)
            .bind(&endings.statuses)
            .bind(&endings.errors)
            .fetch_all(&mut *tx)
        .await?;
        crate::health::health_record(&mut tx, &records, &attempt_ids, disable_after).await?;
        tx.commit().await?;
        let applied: std::collections::HashSet<i64> = applied.into_iter().collect();
        let stale = finishes.iter().map(|f| f.delivery_id).filter(|id| !applied.contains(id)).collect();
        Ok(stale)
    }

    /// Takes back leases whose holder is gone: the lease expired, or the worker's heartbeat is
    /// older than `heartbeat_timeout`. A delivery that has used `max_attempts` claims is failed
    /// rather than requeued, so a row that crashes every worker that touches it cannot loop.
    pub async fn delivery_rescue_expired(&self, heartbeat_timeout: Duration, max_attempts: i32) -> Result<Rescued> {
        let (requeued, failed): (i64, i64) = sqlx::query_as(concat!(
            "WITH stale AS (
                 SELECT d.id FROM hookd.deliveries d
                 WHERE d.state = 'running'
                   AND (d.lease_expires_at < now()
                        OR NOT EXISTS (SELECT 1 FROM hookd.workers w
                                       WHERE w.id = d.locked_by
                                         AND w.heartbeat_at > now() - make_interval(secs => $1)))
                 LIMIT 1000
                 FOR NO KEY UPDATE SKIP LOCKED
             ), requeued AS (
                 UPDATE hookd.deliveries d
                 SET state = 'pending', last_error = 'lease_expired', next_attempt_at = now(),
                     lease_token = NULL, locked_by = NULL, lease_expires_at = NULL, updated_at = now()
                 FROM stale WHERE d.id = stale.id AND d.attempts - d.attempt_base < $2
                 RETURNING d.id
             ), ended AS (
                 DELETE FROM hookd.deliveries d USING stale
                 WHERE d.id = stale.id AND d.attempts - d.attempt_base >= $2
                 RETURNING d.id, d.event_id, d.webhook_id, 'failed'::text AS state, d.attempts, d.attempt_base,
                           d.next_attempt_at, d.last_status, 'lease_expired'::text AS last_error, d.created_at
             ), ",
            archive_ended!(),
            "
             SELECT (SELECT count(*) FROM requeued), (SELECT count(*) FROM ended)"
        ))
        .bind(heartbeat_timeout.as_secs_f64())
        .bind(max_attempts)
        .fetch_one(self.pool())
        .await?;
        Ok(Rescued { requeued, failed })
    }

    /// Applies counter updates that were deferred because their webhook row was locked. Returns
    /// how many deferred rows were folded in.
    pub async fn webhook_counts_fold(&self) -> Result<u64> {
        Ok(sqlx::query(
            "WITH lockable AS (
                 SELECT w.id FROM hookd.webhooks w
                 WHERE w.id IN (SELECT webhook_id FROM hookd.webhook_counts_deferred)
                 FOR NO KEY UPDATE SKIP LOCKED
             ), moved AS (
                 DELETE FROM hookd.webhook_counts_deferred d
                 WHERE d.webhook_id IN (SELECT id FROM lockable)
                 RETURNING d.webhook_id, d.delivered, d.failed_at
             ), sums AS (
                 SELECT webhook_id, sum(delivered) AS delivered, max(failed_at) AS failed_at
                 FROM moved GROUP BY webhook_id
             )
             UPDATE hookd.webhooks w
             SET event_count = w.event_count + sums.delivered,
                 last_failed_at = greatest(w.last_failed_at, sums.failed_at)
             FROM sums WHERE w.id = sums.webhook_id",
        )
        .execute(self.pool())
        .await?
        .rows_affected())
    }

    /// Puts failed deliveries back in the queue with a fresh retry schedule (they move back from
    /// `hookd.deliveries_finished`, keeping their id and attempt count). Returns how many. Only
    /// deliveries whose webhook still exists and is active: replaying to a disabled webhook would
    /// send to a receiver the admin switched off.
    pub async fn delivery_replay(&self, selector: &ReplaySelector) -> Result<u64> {
        let (delivery, webhook, since, event) = match selector {
            ReplaySelector::Webhook { id, since } => (None, Some(*id), *since, None),
            ReplaySelector::Event(event_id) => (None, None, None, Some(*event_id)),
            ReplaySelector::Delivery(id) => (Some(*id), None, None, None),
        };
        Ok(sqlx::query(
            "WITH revived AS (
                 DELETE FROM hookd.deliveries_finished f
                 WHERE f.state = 'failed'
                   AND EXISTS (SELECT 1 FROM hookd.webhooks w WHERE w.id = f.webhook_id AND w.active)
                   AND ($1::bigint IS NULL OR f.id = $1)
                   AND ($2::uuid IS NULL OR f.webhook_id = $2)
                   AND ($3::timestamptz IS NULL OR f.finished_at >= $3)
                   AND ($4::uuid IS NULL OR f.event_id = $4)
                 RETURNING f.*
             )
             INSERT INTO hookd.deliveries
                 (id, event_id, webhook_id, state, attempts, attempt_base, next_attempt_at, last_status, last_error,
                  created_at, updated_at)
             OVERRIDING SYSTEM VALUE
             SELECT id, event_id, webhook_id, 'pending', attempts, attempts, now(), last_status, last_error,
                    created_at, now()
             FROM revived",
        )
        .bind(delivery)
        .bind(webhook)
        .bind(since)
        .bind(event)
        .execute(self.pool())
        .await?
        .rows_affected())
    }

    /// Deliveries in each state, live and finished, for progress and health.
    pub async fn delivery_counts(&self) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as("SELECT state, count(*) FROM hookd.delivery_log GROUP BY state ORDER BY state")
            .fetch_all(self.pool())
            .await?)
    }

    pub async fn delivery_get(&self, id: i64) -> Result<Option<DeliveryRow>> {
        Ok(sqlx::query_as(
            "SELECT id, event_id, webhook_id, state, attempts, next_attempt_at, last_status, last_error, created_at, finished_at
             FROM hookd.delivery_log WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?)
    }
}

/// Cancels the pending deliveries of `webhooks` (disabled or deleted), moving them to the
/// finished ones as `cancelled` with `why` as their last error. Returns how many.
pub(crate) async fn delivery_cancel_pending(conn: &mut sqlx::PgConnection, webhooks: &[Uuid], why: &str) -> Result<u64> {
    Ok(sqlx::query_scalar::<_, i64>(concat!(
        "WITH ended AS (
             DELETE FROM hookd.deliveries d
             WHERE d.webhook_id = ANY ($1) AND d.state = 'pending'
             RETURNING d.id, d.event_id, d.webhook_id, 'cancelled'::text AS state, d.attempts, d.attempt_base,
                       d.next_attempt_at, d.last_status, $2::text AS last_error, d.created_at
         ), ",
        archive_ended!(),
        "
         SELECT count(*) FROM ended"
    ))
    .bind(webhooks)
    .bind(why)
    .fetch_one(conn)
    .await? as u64)
}

/// Which failed deliveries to replay.
#[derive(Debug, Clone)]
pub enum ReplaySelector {
    Webhook { id: Uuid, since: Option<DateTime<Utc>> },
    Event(Uuid),
    Delivery(i64),
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub event_id: Uuid,
    pub webhook_id: Uuid,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}
