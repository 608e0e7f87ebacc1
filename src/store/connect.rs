//! Opening a store: the backend the database URL names, and the grants that let the portal run
//! on PostgreSQL as a role that cannot rewrite the audit trail.

use std::sync::Arc;

use super::Store;
use super::sql::{PgStore, SqliteStore};

/// What `jitgate migrate` prints on PostgreSQL: the grants that let the portal run as a role
/// that may add audit events but never change or remove one (migrations run as the owner).
pub const POSTGRES_RUNTIME_GRANTS: &str = "\
-- Run migrations as the database owner (as now), and the portal as a role of its own that may
-- add audit events but never change or remove them, even with the triggers' help removed:
--   CREATE ROLE jitgate_app LOGIN PASSWORD '...';
GRANT USAGE ON SCHEMA public, tower_sessions TO jitgate_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO jitgate_app;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM jitgate_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO jitgate_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA tower_sessions TO jitgate_app;
-- Apply again after each upgrade's `jitgate migrate`; then give the portal jitgate_app's URL.";

/// Connects to the database named by `url` (`sqlite:` or `postgres:`/`postgresql:`).
pub async fn connect(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    connect_keyed(url, None).await
}

/// As [`connect`], with the audit key that links the events appended (`[audit] key`).
pub async fn connect_keyed(
    url: &str,
    key: Option<crate::domain::audit::ChainKey>,
) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(
            SqliteStore::connect(url).await?.with_chain_key(key),
        ))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(PgStore::connect(url).await?.with_chain_key(key)))
    } else {
        anyhow::bail!("database.url must start with sqlite: or postgres:")
    }
}
