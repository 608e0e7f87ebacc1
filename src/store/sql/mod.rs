//! The SQL behind both backends. The statements are the same for SQLite and PostgreSQL (both take
//! `$n` placeholders, `RETURNING`, partial indexes and `ON CONFLICT`), so one macro writes both
//! implementations; only connecting, beginning a write transaction and the migrations differ.
//!
//! - [`rows`]: what the queries read, and its conversion to domain types;
//! - [`filters`]: the WHERE clauses and pages of request and audit listings, and `IN` lists;
//! - [`reads`] and [`writes`]: the macros that write the [`Store`](super::Store) and
//!   [`StoreTx`](super::StoreTx) implementations for a backend; the reads, one file per thing
//!   read (requests, grants, the outboxes, the audit trail, the jobs' records), in a folder;
//! - [`asks`]: what a package's per-person limits count, read in the write transaction;
//! - [`reviews`] and [`review_rows`]: what access reviews keep (campaigns, items, overrides,
//!   revocations);
//! - [`pacing`]: decider e-mails about one person, sent at most once a minute;
//! - [`break_glass`]: break-glass grants and their reviews, as written and read;
//! - [`sqlite`] and [`postgres`]: the backends themselves (connecting, serializing writers,
//!   sessions, migrations).

mod asks;
mod break_glass;
mod filters;
mod pacing;
mod reads;
mod review_rows;
mod reviews;
mod rows;
mod writes;

mod postgres;
mod sqlite;

use super::{StoreError, StoreResult};

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

const REQUEST_COLS: &str = "id, package, group_id, requester_id, requester_name, requester_username, manager_id, \
     status, duration_minutes, justification, ticket, created_at, requested_start, timeout_at, starts_at, ends_at, \
     decided_at, added_at, removed_at, close_reason, ticket_url, asked_by_id, asked_by_name, asked_by_username";
const APPROVAL_COLS: &str =
    "request_id, approver_id, approver_name, approver_username, decision, comment, at";
const OP_COLS: &str = "id, request_id, kind, group_id, user_id, created_at, not_before, attempts, last_error, \
     lease_owner, lease_until, done_at, outcome, throttled";
const NOTIFICATION_COLS: &str = "id, dedupe_key, event, request_id, channel, audience, subject, body, created_at, \
     not_before, attempts, last_error, lease_owner, lease_until, done_at, outcome, pace_key";
const EXTENSION_COLS: &str = "id, request_id, minutes, justification, status, requested_at, ends_before, ends_after, decided_at, approvals";
const SIGN_IN_COLS: &str = "id, at, user_id, user_principal_name, app_id, app_name, ip_address, conditional_access, error_code, failure_reason, request_id, resource_id, to_portal";
const EVENT_COLS: &str = "seq, at, actor_id, actor_name, action, request_id, subject_id, details, client_ip, user_agent, prev_hash, hash";

/// Watches a member until `$3` (a later end already set is kept), for reason `$4`.
const WATCH_MEMBER: &str = "INSERT INTO member_watch (group_id, user_id, until, reason) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (group_id, user_id) DO UPDATE SET reason = excluded.reason, \
     until = CASE WHEN excluded.until > member_watch.until THEN excluded.until ELSE member_watch.until END";

/// An operation may be claimed only when no earlier unfinished operation exists for the same member.
const HEAD_OF_QUEUE: &str = "NOT EXISTS (SELECT 1 FROM directory_ops p WHERE p.group_id = o.group_id \
     AND p.user_id = o.user_id AND p.done_at IS NULL AND p.id < o.id)";

/// Requests joined with their approvals: `{JOINED_SELECT} <a SELECT of REQUEST_COLS>) r {JOINED_TAIL} ORDER BY ...`.
const JOINED_SELECT: &str = "SELECT r.*, a.approver_id AS a_approver_id, a.approver_name AS a_approver_name, \
     a.approver_username AS a_approver_username, a.decision AS a_decision, a.comment AS a_comment, a.at AS a_at FROM (";
const JOINED_TAIL: &str = "LEFT JOIN approvals a ON a.request_id = r.id";

/// How long a query waits for a pooled connection before giving up (the database is then
/// answered as unreachable: see [`StoreError::is_unavailable`](super::StoreError::is_unavailable)).
const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Whether a connection handed back may serve again: never one left inside a transaction (a
/// COMMIT or ROLLBACK that failed, e.g. on a full disk, leaves sqlx counting one open, and every
/// later BEGIN on it would fail), nor one that no longer answers. Such a connection is closed and
/// the pool opens a new one.
async fn reusable<C: sqlx::Connection>(conn: &mut C) -> Result<bool, sqlx::Error> {
    // The ping runs after a rollback a dropped transaction queued, so the count is settled.
    conn.ping().await?;
    if conn.is_in_transaction() {
        tracing::warn!("a database connection was left inside a transaction; closing it");
        return Ok(false);
    }
    Ok(true)
}

/// Runs `f` in a task of its own, to completion whatever becomes of the caller; its result is
/// dropped (for a transaction: rolled back) when nobody waits for it any more.
async fn uncancelled<T: Send + 'static>(
    f: impl std::future::Future<Output = Result<T, sqlx::Error>> + Send + 'static,
) -> StoreResult<T> {
    match tokio::spawn(f).await {
        Ok(r) => Ok(r?),
        Err(e) => Err(StoreError::Database(sqlx::Error::Protocol(format!(
            "beginning a transaction failed: {e}"
        )))),
    }
}

fn map_unique(e: sqlx::Error, what: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(what.to_string())
        }
        _ => StoreError::Database(e),
    }
}
