//! What can go wrong in the store: [`StoreError`], and [`StoreResult`] that carries it.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Locked(String),
    /// A worker's liveness lock is not held (its connection was lost): it must not claim work
    /// until the lock is taken again (see [`Store::claim_ops_alive`](super::Store::claim_ops_alive)).
    #[error("the worker's liveness lock is not held")]
    LockLost,
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// Whether the database could not be reached or could not store anything (a pool timeout, a
    /// lost connection, a server shutting down or starting, a full disk): a passing state, answered
    /// as unavailable rather than as a fault of the portal.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::LockLost => true,
            StoreError::Database(e) => match e {
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed => true,
                sqlx::Error::Database(db) => {
                    let code = db.code().unwrap_or_default();
                    // PostgreSQL: connection exceptions (08…), shutdown and startup (57P…).
                    code.starts_with("08") || code.starts_with("57P")
                    // SQLite: SQLITE_FULL (the disk or the file's size limit).
                    || code == "13"
                }
                _ => false,
            },
            _ => false,
        }
    }

    /// Whether the database's disk is full (SQLite).
    pub fn is_disk_full(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(db)) if db.code().as_deref() == Some("13"))
    }
}
