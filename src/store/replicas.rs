//! Processes sharing one database: the [`Work`] a commit announces to every replica, the
//! [`WorkerLock`] that marks a worker alive and the [`JobsLock`] on the background jobs.

use super::error::{StoreError, StoreResult};

/// Keeps a worker marked alive (see [`Store::hold_worker_lock`](super::Store::hold_worker_lock)):
/// on PostgreSQL a task that keeps the lock's connection, checks it every second and takes the
/// lock again on a new connection when it was lost (a database restart drops every session lock).
/// Dropping the guard ends the task and closes the connection, which frees the lock.
pub struct WorkerLock {
    keeper: Option<Keeper>,
}

struct Keeper {
    /// Asks the task to check the lock now; it answers once the lock is held.
    ask: tokio::sync::mpsc::Sender<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl WorkerLock {
    /// Nothing to hold (SQLite).
    pub fn none() -> WorkerLock {
        WorkerLock { keeper: None }
    }

    /// Kept by `task`, which answers the checks sent on `ask`.
    pub fn kept(
        ask: tokio::sync::mpsc::Sender<tokio::sync::oneshot::Sender<()>>,
        task: tokio::task::JoinHandle<()>,
    ) -> WorkerLock {
        WorkerLock {
            keeper: Some(Keeper { ask, task }),
        }
    }

    /// Returns once the lock is held, checked just now: taken again first if its connection was
    /// lost (waiting, while the database is unreachable, until it answers again).
    pub async fn confirm(&self) {
        let Some(k) = &self.keeper else {
            return;
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        if k.ask.send(tx).await.is_ok() {
            let _ = rx.await;
        }
    }
}

impl Drop for WorkerLock {
    fn drop(&mut self) {
        if let Some(k) = &self.keeper {
            k.task.abort();
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
