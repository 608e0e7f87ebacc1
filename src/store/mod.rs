//! Persistence: one trait, a SQLite and a PostgreSQL implementation (chosen by the URL scheme).
//!
//! Every state change goes through a [`StoreTx`], a unit of work that commits the request's new
//! state, the directory operations it implies (the outbox) and its audit events together. Write
//! transactions are serialized (SQLite `BEGIN IMMEDIATE`, PostgreSQL a transaction-scoped advisory
//! lock), which keeps the audit chain linear and makes "was that the user's last active grant?"
//! race-free across replicas.

pub mod notifications;
pub mod session;
mod sql;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::domain::{Approval, AuditEvent, NewAuditEvent, Request, RequestStatus};

pub use notifications::{NewNotification, Notification};
pub use session::AnySessionStore;
pub use sql::{PgStore, SqliteStore};

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
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    Add,
    Remove,
    /// Revoke the user's sign-in sessions (after a removal, when the package asks for it).
    RevokeSessions,
}

impl OpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Add => "add",
            OpKind::Remove => "remove",
            OpKind::RevokeSessions => "revoke_sessions",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpOutcome {
    /// Carried out (or found already in effect).
    Done,
    /// No longer needed when its turn came.
    Skipped,
    /// Gave up: the directory refused it for good.
    Failed,
}

impl OpOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            OpOutcome::Done => "done",
            OpOutcome::Skipped => "skipped",
            OpOutcome::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewDirectoryOp {
    pub request_id: String,
    pub kind: OpKind,
    pub group_id: String,
    pub user_id: String,
    pub not_before: DateTime<Utc>,
}

impl NewDirectoryOp {
    /// An operation of `kind` on grant `r`'s membership (its requester in its group), due `now`.
    pub fn for_grant(r: &Request, kind: OpKind, now: DateTime<Utc>) -> NewDirectoryOp {
        NewDirectoryOp {
            request_id: r.id.clone(),
            kind,
            group_id: r.group_id.clone(),
            user_id: r.requester.id.clone(),
            not_before: now,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DirectoryOp {
    pub id: i64,
    pub request_id: String,
    pub kind: OpKind,
    pub group_id: String,
    pub user_id: String,
    pub created_at: DateTime<Utc>,
    pub not_before: DateTime<Utc>,
    /// Attempts started so far, counting the one under way.
    pub attempts: i64,
    pub last_error: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub outcome: Option<OpOutcome>,
    /// Of the attempts, how many Graph throttled (429); they never count toward giving up.
    pub throttled: i64,
}

impl DirectoryOp {
    /// Attempts that failed or may fail for a reason other than throttling.
    pub fn counted_attempts(&self) -> i64 {
        self.attempts - self.throttled
    }
}

/// Which requests to list. Empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub statuses: Vec<RequestStatus>,
    pub package: Option<String>,
    pub requester_id: Option<String>,
    /// Requests this user made or may decide as the requester's manager.
    pub involving: Option<String>,
    /// Only these requests (empty: no filter).
    pub ids: Vec<String>,
    /// Leave the approvals out (lighter, for summaries).
    pub without_approvals: bool,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Which audit events to list, newest first. `before_seq` is the paging cursor.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub request_id: Option<String>,
    /// Events by or about this person (object id, or the actor's display name).
    pub person: Option<String>,
    /// Events of requests for this package.
    pub package: Option<String>,
    pub actor_id: Option<String>,
    pub subject_id: Option<String>,
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub before_seq: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantCount {
    pub requester_id: String,
    pub grants: i64,
    pub last_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueKind {
    /// An approved grant whose start time has come.
    Start,
    /// An active grant whose end time has come.
    Expire,
    /// A pending request nobody decided in time.
    TimeOut,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueItem {
    pub request_id: String,
    pub kind: DueKind,
    pub at: DateTime<Utc>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Closes every connection, once the process is done with the store: a connection a
    /// cancelled task left inside a transaction would otherwise keep the database locked.
    async fn close(&self);
    async fn migrate(&self) -> StoreResult<()>;
    async fn ping(&self) -> StoreResult<()>;
    /// Starts a serialized write transaction.
    async fn begin(&self) -> StoreResult<Box<dyn StoreTx>>;

    /// How many write transactions were committed through this store (and its clones) so far:
    /// a read cached at one count is still exact at the same count, as far as this process's
    /// own writes go. Every change to requests and approvals commits through [`StoreTx`].
    fn commits(&self) -> u64;

    async fn get_request(&self, id: &str) -> StoreResult<Option<Request>>;
    async fn list_requests(&self, filter: &RequestFilter) -> StoreResult<Vec<Request>>;
    async fn count_requests(&self, filter: &RequestFilter) -> StoreResult<i64>;
    /// Per requester: how many grants (active or ended) they had since `since`, and when the last was asked for.
    async fn grant_counts(
        &self,
        requester_ids: &[String],
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<GrantCount>>;

    /// Everything that has come due at `now`, oldest deadline first.
    async fn due(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<DueItem>>;
    /// The earliest deadline still ahead (or overdue): start, end or time-out.
    async fn next_deadline(&self) -> StoreResult<Option<DateTime<Utc>>>;

    /// Claims the next due directory operation under a lease (counting an attempt), keeping the
    /// operations of one (group, user) pair in order.
    async fn claim_op(
        &self,
        now: DateTime<Utc>,
        owner: &str,
        lease: Duration,
    ) -> StoreResult<Option<DirectoryOp>> {
        Ok(self.claim_ops(now, owner, lease, 1).await?.pop())
    }
    /// Claims up to `limit` due operations in one transaction, at most one per (group, user) pair
    /// (the oldest unfinished one), oldest due first.
    async fn claim_ops(
        &self,
        now: DateTime<Utc>,
        owner: &str,
        lease: Duration,
        limit: i64,
    ) -> StoreResult<Vec<DirectoryOp>>;
    /// Extends every lease `owner` holds on unfinished operations to `until`; returns how many.
    async fn renew_leases(&self, owner: &str, until: DateTime<Utc>) -> StoreResult<u64>;
    /// Frees every lease at once, of directory operations and notifications. Only for a single
    /// process starting up (SQLite), whose predecessor can no longer be working on anything.
    async fn release_all_leases(&self) -> StoreResult<u64>;
    /// When the next operation becomes claimable (its `not_before`, or its lease running out).
    async fn next_op_at(&self) -> StoreResult<Option<DateTime<Utc>>>;
    /// Members of `group_id` the outbox is busy with: an operation unfinished, or created or
    /// finished at or after `since`. Reconciliation leaves them to the outbox.
    async fn members_in_flux(
        &self,
        group_id: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<String>>;
    /// Takes (or keeps) the turn of the one-at-a-time job `name` for `owner` until `until`;
    /// `false` when another owner holds it past `now`.
    async fn take_turn(
        &self,
        name: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// How many operations are not carried out yet, and how many of them a worker holds a
    /// lease on at `now`.
    async fn op_counts(&self, now: DateTime<Utc>) -> StoreResult<(i64, i64)>;
    /// Operations not carried out yet, newest first, at most `limit`.
    async fn pending_ops(&self, limit: i64) -> StoreResult<Vec<DirectoryOp>>;

    /// Claims up to `limit` due notifications under a lease (counting an attempt), oldest due first.
    async fn claim_notifications(
        &self,
        now: DateTime<Utc>,
        owner: &str,
        lease: Duration,
        limit: i64,
    ) -> StoreResult<Vec<Notification>>;
    /// When the next notification becomes claimable (its `not_before`, or its lease running out).
    async fn next_notification_at(&self) -> StoreResult<Option<DateTime<Utc>>>;
    /// The notifications queued for a request, oldest first.
    async fn notifications_for(&self, request_id: &str) -> StoreResult<Vec<Notification>>;
    /// The device-code sign-ins tied to a grant, oldest first.
    async fn sign_ins_for(
        &self,
        request_id: &str,
    ) -> StoreResult<Vec<crate::domain::sign_in::DeviceSignIn>>;
    /// Device-code sign-ins at or after `since`, newest first: of one user, or only those
    /// Conditional Access blocked.
    async fn recent_sign_ins(
        &self,
        since: DateTime<Utc>,
        user_id: Option<&str>,
        blocked_only: bool,
        limit: i64,
    ) -> StoreResult<Vec<crate::domain::sign_in::DeviceSignIn>>;
    /// The extensions asked for a grant, oldest first.
    async fn extensions_for(
        &self,
        request_id: &str,
    ) -> StoreResult<Vec<crate::domain::extension::Extension>>;
    /// Extensions waiting for a decision, oldest first (at most 1,000).
    async fn pending_extensions(&self) -> StoreResult<Vec<crate::domain::extension::Extension>>;

    /// Newest first.
    async fn list_events(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEvent>>;
    /// Oldest first, for verification and export.
    async fn events_after(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditEvent>>;

    async fn heartbeat(&self, name: &str, at: DateTime<Utc>) -> StoreResult<()>;
    async fn heartbeats(&self) -> StoreResult<Vec<(String, DateTime<Utc>)>>;

    /// The tower-sessions store on the same database.
    fn session_store(&self) -> AnySessionStore;

    /// Calls `wake` with what kind of work other processes (replicas) committed, for as long as
    /// the connection lasts (PostgreSQL `LISTEN`); returns when it is lost. SQLite has no other
    /// processes to hear from: it never returns.
    async fn listen(&self, wake: &(dyn Fn(Work) + Send + Sync)) -> StoreResult<()>;

    /// Marks `owner` (a worker) alive for as long as the returned guard lives: on PostgreSQL a
    /// session-level advisory lock on a connection of its own, so that when the process dies
    /// (the connection drops) other replicas may take over its leases at once instead of
    /// waiting for them to run out. Nothing on SQLite (its one process frees leases at start).
    async fn hold_worker_lock(&self, owner: &str) -> StoreResult<WorkerLock>;

    /// Taken by the process that runs the background jobs. SQLite allows one such process per
    /// database file (a second is refused with a message naming the file); PostgreSQL any number.
    fn lock_jobs(&self) -> StoreResult<JobsLock>;
}

/// Keeps a worker marked alive (see [`Store::hold_worker_lock`]).
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

#[async_trait]
pub trait StoreTx: Send {
    async fn get_request(&mut self, id: &str) -> StoreResult<Option<Request>>;
    /// Fails with [`StoreError::Conflict`] when the user already has an open request for the package.
    async fn insert_request(&mut self, r: &Request) -> StoreResult<()>;
    /// Saves the request's mutable fields (status, window, duration, times, reason).
    async fn update_request(&mut self, r: &Request, now: DateTime<Utc>) -> StoreResult<()>;
    async fn insert_approval(&mut self, request_id: &str, a: &Approval) -> StoreResult<()>;
    /// Active grants of `user_id` in `group_id`, other than `except_request`.
    async fn count_other_active_grants(
        &mut self,
        user_id: &str,
        group_id: &str,
        except_request: &str,
    ) -> StoreResult<i64>;
    async fn enqueue_op(&mut self, op: &NewDirectoryOp, now: DateTime<Utc>) -> StoreResult<i64>;
    /// Keeps a sign-in read from the log; `false` when it was kept before.
    async fn insert_sign_in(
        &mut self,
        s: &crate::domain::sign_in::DeviceSignIn,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// The user's grant whose window (start to end) holds `at`, if any.
    async fn grant_covering(
        &mut self,
        user_id: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Request>>;
    /// Successful sign-ins kept for a grant.
    async fn count_sign_ins(&mut self, request_id: &str) -> StoreResult<i64>;
    /// The extension of a grant waiting for a decision, if any.
    async fn pending_extension(
        &mut self,
        request_id: &str,
    ) -> StoreResult<Option<crate::domain::extension::Extension>>;
    /// `Conflict` when one is already waiting for the grant.
    async fn insert_extension(
        &mut self,
        x: &crate::domain::extension::Extension,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn update_extension(
        &mut self,
        x: &crate::domain::extension::Extension,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Queues a notification; `None` when one with its `dedupe_key` was queued before.
    async fn enqueue_notification(
        &mut self,
        n: &NewNotification,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<i64>>;
    /// Marks a notification done (sent, or failed for good).
    async fn finish_notification(
        &mut self,
        id: i64,
        outcome: crate::domain::notification::NotificationOutcome,
        at: DateTime<Utc>,
        error: Option<&str>,
    ) -> StoreResult<()>;
    /// Releases the lease and schedules another attempt.
    async fn retry_notification(
        &mut self,
        id: i64,
        not_before: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()>;
    async fn get_op(&mut self, id: i64) -> StoreResult<Option<DirectoryOp>>;
    async fn finish_op(
        &mut self,
        id: i64,
        outcome: OpOutcome,
        at: DateTime<Utc>,
        error: Option<&str>,
    ) -> StoreResult<()>;
    /// Releases the lease and schedules another attempt; `throttled` when Graph answered 429.
    async fn retry_op(
        &mut self,
        id: i64,
        not_before: DateTime<Utc>,
        error: &str,
        throttled: bool,
    ) -> StoreResult<()>;
    async fn append_event(&mut self, e: NewAuditEvent) -> StoreResult<AuditEvent>;
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}

/// Connects to the database named by `url` (`sqlite:` or `postgres:`/`postgresql:`).
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

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(v: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(v).unwrap_or(DateTime::<Utc>::MIN_UTC)
}
