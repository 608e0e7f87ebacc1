//! PostgreSQL: writers serialized across replicas by a transaction-scoped advisory lock.

use sqlx::postgres::PgPoolOptions;
use sqlx::{PgConnection, PgPool, Postgres};

use crate::store::StoreResult;
use crate::store::session::AnySessionStore;

super::reads::impl_store!(
    PgStore,
    PgTx,
    Postgres,
    PgConnection,
    "postgres",
    "./migrations/postgres",
    // A lease is free when it ran out, or when its owner's process is gone: the owner holds a
    // session lock for as long as it lives, so a lock we can take means nobody holds it.
    "(o.lease_until IS NULL OR o.lease_until <= $1 \
     OR pg_try_advisory_xact_lock(1246184263, hashtext(o.lease_owner)))"
);
// NOTIFY is transactional: the other replicas hear of the work when (and only if) it commits.
super::writes::impl_store_tx!(PgTx, Postgres, |w| Some(match w {
    crate::store::Work::Directory => "SELECT pg_notify('jitgate_work', 'directory')",
    crate::store::Work::Deadline => "SELECT pg_notify('jitgate_work', 'deadline')",
}));

/// Serializes writers across replicas; any constant will do, it only has to be the same everywhere.
const WRITE_LOCK: i64 = 0x006a_6974_6761_7465;

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Browser sessions have connections of their own, so that page views never wait for a
    /// connection behind grant transactions, nor hold one they need.
    sessions: PgPool,
    /// Keys the audit chain (see [`crate::domain::audit`]).
    chain_key: Option<crate::domain::audit::ChainKey>,
    /// Write transactions committed (see [`crate::store::Store::commits`]).
    commits: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl PgStore {
    pub async fn connect(url: &str) -> anyhow::Result<PgStore> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect(url)
            .await?;
        let sessions = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_lazy(url)?;
        Ok(PgStore {
            pool,
            sessions,
            chain_key: None,
            commits: Default::default(),
        })
    }

    async fn begin_serialized(&self) -> StoreResult<sqlx::Transaction<'static, Postgres>> {
        // In a task of its own, so that a cancelled caller cannot leave the connection inside a
        // transaction nothing rolls back (see the SQLite store).
        let pool = self.pool.clone();
        super::uncancelled(async move {
            let mut tx = pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(WRITE_LOCK)
                .execute(&mut *tx)
                .await?;
            Ok(tx)
        })
        .await
    }

    /// Replicas share the work through leases; nothing to lock.
    fn lock_jobs_impl(&self) -> StoreResult<crate::store::JobsLock> {
        Ok(crate::store::JobsLock::none())
    }

    async fn hold_worker_lock_impl(&self, owner: &str) -> StoreResult<crate::store::WorkerLock> {
        use sqlx::Connection;
        // A connection of its own, outside the pool: it closes (and the lock goes) with the
        // guard, or with the process.
        let mut conn = self.pool.acquire().await?.detach();
        sqlx::query("SELECT pg_advisory_lock(1246184263, hashtext($1))")
            .bind(owner)
            .execute(&mut conn)
            .await?;
        conn.ping().await?;
        Ok(crate::store::WorkerLock::holding(tokio::sync::Mutex::new(
            conn,
        )))
    }

    async fn listen_impl(
        &self,
        wake: &(dyn Fn(crate::store::Work) + Send + Sync),
    ) -> StoreResult<()> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool).await?;
        listener.listen("jitgate_work").await?;
        loop {
            let n = listener.recv().await?;
            wake(match n.payload() {
                "directory" => crate::store::Work::Directory,
                _ => crate::store::Work::Deadline,
            });
        }
    }

    fn session_store_impl(&self) -> AnySessionStore {
        AnySessionStore::postgres(
            tower_sessions_sqlx_store::PostgresStore::new(self.sessions.clone()),
            self.sessions.clone(),
        )
    }
}
