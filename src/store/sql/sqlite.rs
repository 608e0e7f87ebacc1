//! SQLite: one file, WAL journal; writers serialized by `BEGIN IMMEDIATE`.

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection, SqlitePool};

use crate::store::session::AnySessionStore;
use crate::store::{JobsLock, StoreResult};

super::reads::impl_store!(
    SqliteStore,
    SqliteTx,
    Sqlite,
    SqliteConnection,
    "sqlite",
    "./migrations/sqlite",
    "(o.lease_until IS NULL OR o.lease_until <= $1)"
);
// One process per file: nobody else to tell about new work.
super::writes::impl_store_tx!(SqliteTx, Sqlite, |_| None::<&'static str>);
super::reviews::review_store!(SqliteStore, SqliteTx, Sqlite);

/// The embedded default: one file, WAL journal, fully synchronous commits.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The database file, unless in memory.
    file: Option<std::path::PathBuf>,
    /// Browser sessions have connections of their own (see [`SqliteStore::connect`]).
    sessions: SqlitePool,
    /// Keys the audit chain (see [`crate::domain::audit`]).
    chain_key: Option<crate::domain::audit::ChainKey>,
    /// Write transactions committed (see [`crate::store::Store::commits`]).
    commits: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl SqliteStore {
    /// One process, nothing to check (see `claim_rows`).
    const OWNER_LOCK_FREE: Option<&'static str> = None;

    pub async fn connect(url: &str) -> anyhow::Result<SqliteStore> {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(if in_memory {
                SqliteJournalMode::Memory
            } else {
                SqliteJournalMode::Wal
            })
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(std::time::Duration::from_secs(30))
            .foreign_keys(true);
        // Each connection to an in-memory database is a database of its own: keep one.
        let file = (!in_memory).then(|| opts.get_filename().to_path_buf());
        let pool = SqlitePoolOptions::new()
            .max_connections(if in_memory { 1 } else { 8 })
            .acquire_timeout(super::ACQUIRE_TIMEOUT)
            .after_release(|conn, _| Box::pin(super::reusable(conn)))
            .connect_with(opts.clone())
            .await?;
        // Sessions on connections of their own, so that page views never wait for a connection
        // behind grant transactions. Their commits need not reach the disk before the answer
        // (WAL, `synchronous = NORMAL`): a power cut can only lose the last sliding of an
        // inactivity expiry or a sign-in, never a grant. Writes are short either way, and rare:
        // a session is written when it changes or once a minute.
        let sessions = if in_memory {
            pool.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(4)
                .acquire_timeout(super::ACQUIRE_TIMEOUT)
                .after_release(|conn, _| Box::pin(super::reusable(conn)))
                .connect_with(opts.synchronous(SqliteSynchronous::Normal))
                .await?
        };
        Ok(SqliteStore {
            pool,
            file,
            sessions,
            chain_key: None,
            commits: Default::default(),
        })
    }

    async fn begin_serialized(&self) -> StoreResult<sqlx::Transaction<'static, Sqlite>> {
        // Run to completion even when the caller is cancelled (a client that hangs up while
        // BEGIN IMMEDIATE waits for the lock): cancelled inside `begin`, sqlx 0.8 can leave the
        // pooled connection inside a transaction, locking the database. Finished in its own
        // task, an unwanted transaction is dropped whole, and so rolled back.
        let pool = self.pool.clone();
        super::uncancelled(async move { pool.begin_with("BEGIN IMMEDIATE").await }).await
    }

    /// One process per database file runs the jobs: a lock on `<file>.jobs.lock`, freed by the
    /// operating system however the process ends.
    fn lock_jobs_impl(&self) -> StoreResult<JobsLock> {
        let Some(file) = &self.file else {
            return Ok(JobsLock::none());
        };
        let mut lock = file.clone().into_os_string();
        lock.push(".jobs.lock");
        JobsLock::file(std::path::Path::new(&lock), &file.display().to_string())
    }

    async fn hold_worker_lock_impl(&self, _owner: &str) -> StoreResult<crate::store::WorkerLock> {
        Ok(crate::store::WorkerLock::none())
    }

    async fn listen_impl(
        &self,
        _wake: &(dyn Fn(crate::store::Work) + Send + Sync),
    ) -> StoreResult<()> {
        std::future::pending().await
    }

    fn session_store_impl(&self) -> AnySessionStore {
        AnySessionStore::sqlite(tower_sessions_sqlx_store::SqliteStore::new(
            self.sessions.clone(),
        ))
    }
}
