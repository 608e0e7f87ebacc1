//! The directory outbox, seen from the service: claiming queued operations, and what each
//! outcome means (membership times, audit events, retries, failing a grant and its safety
//! removal, converging after a lost lease). The worker only claims, calls Graph and hands the
//! answers back here.
//!
//! - `attempt.rs`: what the worker hands back for one operation ([`Attempt`], [`ReadBack`]).
//! - `claims.rs`: claiming due operations under a lease, renewing and freeing leases, the
//!   worker's liveness lock.
//! - `answers.rs`: recording a batch of answers in one transaction, each handed to the file
//!   that says what it means:
//!   - `done.rs`, a change made: membership times, audit events, the read-back's
//!     verification, and the revocation of sign-in sessions (queued after a removal, and done);
//!   - `failed.rs`, a change not made: retries, giving up, failing the grant;
//!   - `late.rs`, an answer after the lease ran out, and the removal that makes the group
//!     converge.
//!
//! Imports run one way: `answers.rs` uses `claims.rs`, `late.rs` and `attempt.rs`; `done.rs`,
//! `failed.rs` and `late.rs` use `attempt.rs`, and this file's `record` (an audit event by the
//! system about a request) and `record_unattached` (about an operation that belongs to no
//! request: an access review's removal of a standing member).

mod answers;
mod attempt;
mod claims;
mod done;
mod failed;
mod late;

pub use attempt::{Attempt, ReadBack};

use chrono::{DateTime, Utc};

use super::event;
use super::notify::Outbox;
use crate::domain::{AuditAction, NewAuditEvent, Request};
use crate::error::AppResult;
use crate::store::{DirectoryOp, StoreTx};

/// Appends the system's audit event `action` about `r`, with the notifications it calls for.
async fn record(
    outbox: &Outbox,
    tx: &mut dyn StoreTx,
    action: AuditAction,
    r: &Request,
    now: DateTime<Utc>,
    details: serde_json::Value,
) -> AppResult<()> {
    outbox
        .record(tx, event(None, action, r, now, details), Some(r))
        .await?;
    Ok(())
}

/// Appends the system's audit event `action` about `op`, an operation that belongs to no
/// request (its `request_id` names where it came from, such as `review:<campaign>:<item>`):
/// its subject is the member, and its details say where it came from.
async fn record_unattached(
    outbox: &Outbox,
    tx: &mut dyn StoreTx,
    action: AuditAction,
    op: &DirectoryOp,
    now: DateTime<Utc>,
    mut details: serde_json::Value,
) -> AppResult<()> {
    if let Some(d) = details.as_object_mut() {
        d.insert("origin".into(), serde_json::json!(op.request_id));
    }
    let e = NewAuditEvent {
        at: now,
        actor_id: "system".to_string(),
        actor_name: "jitgate".to_string(),
        action,
        request_id: None,
        subject_id: Some(op.user_id.to_ascii_lowercase()),
        details,
        client_ip: None,
        user_agent: None,
    };
    outbox.record(tx, e, None).await?;
    Ok(())
}
