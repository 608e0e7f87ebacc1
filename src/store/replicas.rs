//! Processes sharing one database: the [`Work`] a commit announces to every replica, the
//! [`WorkerLock`] that marks a worker alive and the [`JobsLock`] on the background jobs.

use super::error::{StoreError, StoreResult};

/// Keeps a worker marked alive (see [`Store::hold_worker_lock`](super::Store::hold_worker_lock)).
pub struct WorkerLock {
    _held: Option<Box<dyn std::any::Any + Send + Sync>>,
}

impl WorkerLock {
    pub fn none() -> WorkerLock {
        WorkerLock { _held: None }
    }

    pub fn holding(what: impl std::any::Any + Send + Sync) -> WorkerLock {
        WorkerLock {
            _held: Some(Box::new(what)),
        }
    }
}

/// Work a committed transaction brought, announced to every replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// A directory operation was queued.
    Directory,
    /// A deadline appeared or moved.
    Deadline,
}

/// Held while this process runs the background jobs; dropping it (or the process ending,
/// however it ends) lets another process take them.
pub struct JobsLock {
    _file: Option<std::fs::File>,
}

impl JobsLock {
    /// No lock needed (PostgreSQL, or an in-memory SQLite database no other process can open).
    pub fn none() -> JobsLock {
        JobsLock { _file: None }
    }

    /// An exclusive lock on `path` (created if missing), refused while another process holds it.
    pub fn file(path: &std::path::Path, database: &str) -> StoreResult<JobsLock> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| StoreError::Locked(format!("cannot open {}: {e}", path.display())))?;
        match file.try_lock() {
            Ok(()) => Ok(JobsLock { _file: Some(file) }),
            Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Locked(format!(
                "another jitgate process is already running the background jobs on {database}; \
                 SQLite allows one process per database file (use PostgreSQL to run replicas)"
            ))),
            Err(std::fs::TryLockError::Error(e)) => Err(StoreError::Locked(format!(
                "cannot lock {}: {e}",
                path.display()
            ))),
        }
    }
}
