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
    // session lock for as long as it lives, so a lock we can take means nobody holds it. Except
    // just after the server (re)started: a restart drops every session lock, and live workers
    // need a moment to take theirs again (see `keep_worker_lock`); until then only running out
    // frees a lease.
    "(o.lease_until IS NULL OR o.lease_until <= $1 \
     OR CASE WHEN pg_postmaster_start_time() > clock_timestamp() - interval '10 seconds' THEN false \
     ELSE pg_try_advisory_xact_lock(1246184263, hashtext(o.lease_owner)) END)"
);
// NOTIFY is transactional: the other replicas hear of the work when (and only if) it commits.
super::writes::impl_store_tx!(PgTx, Postgres, |w| Some(match w {
    crate::store::Work::Directory => "SELECT pg_notify('jitgate_work', 'directory')",
    crate::store::Work::Deadline => "SELECT pg_notify('jitgate_work', 'deadline')",
}));
super::reviews::review_store!(PgStore, PgTx, Postgres);

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

/// Whether `$1`'s worker lock is free, asked in a claim's transaction (see `claim_rows`): taking
/// it there means the worker's own lock connection no longer holds it.
const OWNER_LOCK_FREE: &str = "SELECT pg_try_advisory_xact_lock(1246184263, hashtext($1))";

/// How often a worker checks that its lock's connection is still there.
const LOCK_CHECK: std::time::Duration = std::time::Duration::from_secs(1);

impl PgStore {
    const OWNER_LOCK_FREE: Option<&'static str> = Some(OWNER_LOCK_FREE);

    pub async fn connect(url: &str) -> anyhow::Result<PgStore> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(super::ACQUIRE_TIMEOUT)
            .after_release(|conn, _| Box::pin(super::reusable(conn)))
            .connect(url)
            .await?;
        let sessions = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(super::ACQUIRE_TIMEOUT)
            .after_release(|conn, _| Box::pin(super::reusable(conn)))
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
        let conn = take_worker_lock(&self.pool, owner).await?;
        let (ask, asks) = tokio::sync::mpsc::channel(1);
        let task = tokio::spawn(keep_worker_lock(
            self.pool.clone(),
            owner.to_string(),
            conn,
            asks,
        ));
        Ok(crate::store::WorkerLock::kept(ask, task))
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

/// Takes `owner`'s worker lock on a connection of its own, outside the pool: it closes (and the
/// lock goes) with the keeper, or with the process.
async fn take_worker_lock(pool: &PgPool, owner: &str) -> StoreResult<PgConnection> {
    use sqlx::Connection;
    let mut conn = pool.acquire().await?.detach();
    sqlx::query("SELECT pg_advisory_lock(1246184263, hashtext($1))")
        .bind(owner)
        .execute(&mut conn)
        .await?;
    conn.ping().await?;
    Ok(conn)
}

/// Keeps `owner`'s lock: checks its connection every [`LOCK_CHECK`] and whenever asked, and when
/// it is gone (a database restart, a dropped connection) takes the lock again on a new one,
/// retrying until the database answers. An ask is answered once the lock is held.
async fn keep_worker_lock(
    pool: PgPool,
    owner: String,
    mut conn: PgConnection,
    mut asks: tokio::sync::mpsc::Receiver<tokio::sync::oneshot::Sender<()>>,
) {
    use sqlx::Connection;
    loop {
        let asked = tokio::select! {
            a = asks.recv() => match a {
                Some(a) => Some(a),
                None => return,
            },
            _ = tokio::time::sleep(LOCK_CHECK) => None,
        };
        let alive = matches!(
            tokio::time::timeout(super::ACQUIRE_TIMEOUT, conn.ping()).await,
            Ok(Ok(()))
        );
        if !alive {
            tracing::warn!(
                worker = %owner,
                "the worker's database connection was lost; taking its liveness lock again"
            );
            conn = loop {
                match take_worker_lock(&pool, &owner).await {
                    Ok(c) => break c,
                    Err(e) => {
                        tracing::debug!(error = %e, "taking the worker's liveness lock failed; retrying");
                        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                    }
                }
            };
            tracing::info!(worker = %owner, "the worker's liveness lock is held again");
        }
        if let Some(a) = asked {
            let _ = a.send(());
        }
    }
}
