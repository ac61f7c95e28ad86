//! Figures about the database itself, for the benchmark and for operators.

use crate::{Result, Store};

impl Store {
    /// Transactions committed in this database so far (`pg_stat_database`).
    pub async fn stats_transactions_committed(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
            .fetch_one(self.pool())
            .await?)
    }

    /// Statements executed in this database so far, when `pg_stat_statements` is loaded
    /// (`shared_preload_libraries`); `None` otherwise.
    pub async fn stats_statements_executed(&self) -> Option<i64> {
        sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements").execute(self.pool()).await.ok()?;
        sqlx::query_scalar(
            "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .fetch_one(self.pool())
        .await
        .ok()
    }

    /// Live hookd worker processes.
    pub async fn stats_workers_alive(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM hookd.workers").fetch_one(self.pool()).await?)
    }
}
