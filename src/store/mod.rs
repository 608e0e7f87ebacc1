//! Persistence: one trait, a SQLite and a PostgreSQL implementation (chosen by the URL scheme).
//!
//! Every state change goes through a [`StoreTx`], a unit of work that commits the request's new
//! state, the directory operations it implies (the outbox) and its audit events together. Write
//! transactions are serialized (SQLite `BEGIN IMMEDIATE`, PostgreSQL a transaction-scoped advisory
//! lock), which keeps the audit chain linear and makes "was that the user's last active grant?"
//! race-free across replicas.
//!
//! This file holds the two traits, [`Store`] and [`StoreTx`], and names everything the rest of
//! the crate uses as `store::…`. Beside it:
//! - `error`: [`StoreError`] and [`StoreResult`];
//! - `queries`: what the reads take and give back ([`RequestFilter`], [`AuditFilter`],
//!   [`GrantCount`], [`DueItem`]);
//! - `directory_ops` and [`notifications`]: the rows of the two outboxes;
//! - `replicas`: processes sharing one database ([`Work`], [`WorkerLock`], [`JobsLock`]);
//! - `reviews`: what access reviews keep ([`ReviewStore`], [`ReviewTx`]);
//! - [`session`]: browser sessions, on the same database, cached;
//! - `connect`: opening a store by URL, and [`POSTGRES_RUNTIME_GRANTS`];
//! - `millis`: times as the database keeps them;
//! - `sql`: the SQL behind both backends ([`SqliteStore`], [`PgStore`]).

mod connect;
mod directory_ops;
mod error;
mod millis;
pub mod notifications;
mod queries;
mod replicas;
mod reviews;
pub mod session;
mod sql;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::domain::{Approval, AuditEvent, NewAuditEvent, Request};

pub use connect::{POSTGRES_RUNTIME_GRANTS, connect, connect_keyed};
pub use directory_ops::{DirectoryOp, NewDirectoryOp, OpKind, OpOutcome};
pub use error::{StoreError, StoreResult};
pub(crate) use millis::{from_ms, ms};
pub use notifications::{NewNotification, Notification};
pub use queries::{AuditFilter, DueItem, DueKind, GrantCount, RequestFilter};
pub use replicas::{JobsLock, Work, WorkerLock};
pub use reviews::{NewReviewItem, ReviewStore, ReviewTx, Revocation, StandingOverride};
pub use session::AnySessionStore;
pub use sql::{PgStore, SqliteStore};

#[async_trait]
pub trait Store: ReviewStore + Send + Sync + 'static {
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
    /// As [`Store::claim_ops`], for a worker holding its lock ([`Store::hold_worker_lock`]):
    /// claims nothing and fails with [`StoreError::LockLost`] when `owner`'s lock is not held
    /// (its connection was lost), checked in the claim's transaction, so that a worker never
    /// takes work while other replicas would see its leases as abandoned.
    async fn claim_ops_alive(
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
    /// Conditional Access blocked; those to jitgate itself when `to_portal`, else those to
    /// anything else (the uses of the exemption).
    async fn recent_sign_ins(
        &self,
        since: DateTime<Utc>,
        user_id: Option<&str>,
        blocked_only: bool,
        to_portal: bool,
        limit: i64,
    ) -> StoreResult<Vec<crate::domain::sign_in::DeviceSignIn>>;
    /// The extensions asked for a grant, oldest first.
    async fn extensions_for(
        &self,
        request_id: &str,
    ) -> StoreResult<Vec<crate::domain::extension::Extension>>;
    /// Extensions waiting for a decision, oldest first (at most 1,000).
    async fn pending_extensions(&self) -> StoreResult<Vec<crate::domain::extension::Extension>>;

    /// The break-glass use of request `request_id`, with its review once made.
    async fn break_glass_use(
        &self,
        request_id: &str,
    ) -> StoreResult<Option<crate::domain::break_glass::BreakGlassUse>>;
    /// Break-glass uses not reviewed yet, the first due first, at most `limit`.
    async fn unreviewed_break_glass(
        &self,
        limit: i64,
    ) -> StoreResult<Vec<crate::domain::break_glass::BreakGlassUse>>;
    async fn count_unreviewed_break_glass(&self) -> StoreResult<i64>;

    /// Newest first.
    async fn list_events(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEvent>>;
    /// Oldest first, for verification and export.
    async fn events_after(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditEvent>>;

    async fn heartbeat(&self, name: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// The delta link of Graph's change tracking kept for `group_id` (lower case), if any.
    async fn delta_link(&self, group_id: &str) -> StoreResult<Option<String>>;
    /// Keeps `link` as `group_id`'s delta link; `None` forgets it (the next look starts over).
    async fn set_delta_link(
        &self,
        group_id: &str,
        link: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Watches `user_id` in `group_id` (both lower case) until `until` (or a later end already
    /// set), for `reason`.
    async fn watch_member(
        &self,
        group_id: &str,
        user_id: &str,
        until: DateTime<Utc>,
        reason: &str,
    ) -> StoreResult<()>;
    /// The members of `group_id` watched at `now`.
    async fn watched_members(&self, group_id: &str, now: DateTime<Utc>)
    -> StoreResult<Vec<String>>;
    /// Forgets the watches ended by `now`; returns how many.
    async fn end_watches(&self, now: DateTime<Utc>) -> StoreResult<u64>;
    async fn heartbeats(&self) -> StoreResult<Vec<(String, DateTime<Utc>)>>;
    /// The key kept under `name`, shared by every replica: `fresh` if there was none yet.
    async fn portal_key(&self, name: &str, fresh: &str) -> StoreResult<String>;

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

/// A grant's time, as the package's quotas count it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantSpan {
    pub request_id: String,
    /// The requester's name.
    pub name: String,
    pub starts_at: DateTime<Utc>,
    /// When it ends, or ended (early: when it was ended).
    pub ends_at: DateTime<Utc>,
}

#[async_trait]
pub trait StoreTx: ReviewTx + Send {
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
    /// When the first successful sign-in kept for a grant happened, if any.
    async fn first_sign_in_at(&mut self, request_id: &str) -> StoreResult<Option<DateTime<Utc>>>;
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
    /// [`Store::watch_member`], in this transaction.
    async fn watch_member(
        &mut self,
        group_id: &str,
        user_id: &str,
        until: DateTime<Utc>,
        reason: &str,
    ) -> StoreResult<()>;
    async fn append_event(&mut self, e: NewAuditEvent) -> StoreResult<AuditEvent>;
    /// When `requester_id` asked for `package` (a request made, or an extension asked for one
    /// of its grants) after `since`, oldest first: what the package's limits count. Read in
    /// the serialized write transaction that would add one more, so that no replica can
    /// overshoot a limit.
    async fn asks_since(
        &mut self,
        kind: crate::domain::limits::AskKind,
        requester_id: &str,
        package: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<DateTime<Utc>>>;
    /// The packages of the `request_refused` events about `subject_id` at or after `since`.
    /// The package's grants (of one requester, or everyone's) approved, running or over, that
    /// end after `ending_after`, the first to end first.
    async fn grant_spans(
        &mut self,
        package: &str,
        requester_id: Option<&str>,
        ending_after: DateTime<Utc>,
    ) -> StoreResult<Vec<GrantSpan>>;
    async fn refused_packages_since(
        &mut self,
        subject_id: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<String>>;
    /// When the last e-mail paced under `key` went out (see [`NewNotification::pace_key`]).
    async fn paced_sent_at(&mut self, key: &str) -> StoreResult<Option<DateTime<Utc>>>;
    async fn set_paced_sent_at(&mut self, key: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// Puts a claimed notification back until `until`, its lease freed and the attempt its
    /// claim counted given back: held, not failed.
    async fn hold_notification(&mut self, id: i64, until: DateTime<Utc>) -> StoreResult<()>;
    /// Leases to `owner` every unfinished notification paced under `key` that is due at `now`
    /// and not leased to another (an attempt counted for those not leased to `owner` yet),
    /// oldest first.
    async fn take_paced(
        &mut self,
        key: &str,
        now: DateTime<Utc>,
        owner: &str,
        lease: Duration,
    ) -> StoreResult<Vec<Notification>>;
    /// Records a use of break-glass (its request inserted before, in this transaction).
    async fn insert_break_glass(
        &mut self,
        u: &crate::domain::break_glass::BreakGlassUse,
    ) -> StoreResult<()>;
    /// When `requester_id` used break-glass for `package` after `since`, oldest first: what
    /// `break_glass_per_user` counts, read in the transaction that would add one more.
    async fn break_glass_since(
        &mut self,
        requester_id: &str,
        package: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<DateTime<Utc>>>;
    /// Records the review of request `request_id`'s break-glass use; `false` when it had been
    /// reviewed already (or there is none).
    async fn review_break_glass(
        &mut self,
        request_id: &str,
        r: &crate::domain::break_glass::Review,
    ) -> StoreResult<bool>;
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}
