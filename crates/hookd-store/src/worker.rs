//! Live `hookd serve` processes. A heartbeat row lets the rescuer take back the leases of a
//! process that died without waiting for each lease to expire.

use crate::{Result, Store};

impl Store {
    /// Registers this process, or refreshes its heartbeat.
    pub async fn worker_heartbeat(&self, worker: &str, hostname: &str, pid: u32) -> Result<()> {
        sqlx::query(
            "INSERT INTO hookd.workers (id, hostname, pid) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()",
        )
        .bind(worker)
        .bind(hostname)
        .bind(pid as i32)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Removes this process on a clean shutdown, and rows of processes long gone.
    pub async fn worker_deregister(&self, worker: &str) -> Result<()> {
        sqlx::query("DELETE FROM hookd.workers WHERE id = $1 OR heartbeat_at < now() - interval '1 day'")
            .bind(worker)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
