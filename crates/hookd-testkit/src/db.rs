//! A fresh database per test, so tests are independent and can run in parallel.

use hookd_store::Store;

/// The server tests run against; `HOOKD_TEST_DATABASE_URL` points elsewhere (no database name).
pub fn server_url() -> String {
    std::env::var("HOOKD_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A migrated database of its own, dropped (with any connections left) when the value is dropped.
pub struct TestDb {
    pub name: String,
    pub url: String,
    pub store: Store,
}

impl TestDb {
    pub async fn new() -> Self {
        Self::with_payload_limit(256 * 1024).await
    }

    pub async fn with_payload_limit(max_payload_bytes: u64) -> Self {
        let name = format!("hookd_test_{}", uuid::Uuid::new_v4().simple());
        let url = format!("{}/{name}", server_url());
        let store = Store::connect(&url, 8).await.expect("test database server reachable");
        store.migrate().await.expect("migrations apply");
        store.settings_apply(max_payload_bytes).await.expect("settings written");
        Self { name, url, store }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (name, server) = (self.name.clone(), server_url());
        // Drop runs outside async context: a short-lived runtime on its own thread does the work.
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&format!("{server}/postgres")).await {
                    // `hookd demo` and `hookd bench` work in databases named after this one.
                    for db in [name.clone(), format!("{name}_demo"), format!("{name}_bench")] {
                        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)")).execute(&mut conn).await;
                    }
                }
            });
        });
        let _ = done.join();
    }
}
