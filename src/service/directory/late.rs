//! An answer that came back after the worker lost the lease: recorded as a directory error,
//! and an addition that may have landed is followed by a removal so the group converges; the
//! member is watched by the drift check for a while.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::attempt::Attempt;
use super::record;
use crate::domain::AuditAction;
use crate::error::AppResult;
use crate::service::drift_watch::WATCH;
use crate::service::notify::Outbox;
use crate::store::{DirectoryOp, NewDirectoryOp, OpKind, StoreTx};

/// An answer that arrived after the lease ran out (another worker may have carried the
/// operation on meanwhile). It is recorded, and an addition that may have landed while the user
/// no longer has an active grant for the group is followed by a removal, so the group converges.
pub(super) async fn late_answer(
    outbox: &Outbox,
    tx: &mut dyn StoreTx,
    op: &DirectoryOp,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let outcome = match &attempt.result {
        Ok(change) => format!("{change:?}"),
        Err(e) => e.to_string(),
    };
    let mut details = json!({
        "group_id": op.group_id,
        "directory_op": op.id,
        "operation": op.kind.as_str(),
        "attempt": op.attempts,
        "error": format!("the lease ran out while Graph was called; its late answer: {outcome}"),
        "lease_lost": true,
    });
    if op.kind != OpKind::RevokeSessions && attempt.may_have_taken_effect() {
        let (group, user) = (
            op.group_id.to_ascii_lowercase(),
            op.user_id.to_ascii_lowercase(),
        );
        let reason = format!("{} answered after the lease ran out", op.kind.as_str());
        tx.watch_member(&group, &user, now + WATCH, &reason).await?;
    }
    if op.kind == OpKind::Add && attempt.may_have_taken_effect() {
        let active = tx
            .count_other_active_grants(&op.user_id, &op.group_id, "")
            .await?;
        if active == 0 {
            let removal = NewDirectoryOp {
                request_id: op.request_id.clone(),
                kind: OpKind::Remove,
                group_id: op.group_id.clone(),
                user_id: op.user_id.clone(),
                not_before: now,
            };
            details["follow_up_op"] = json!(tx.enqueue_op(&removal, now).await?);
        }
    }
    tracing::warn!(op = op.id, kind = op.kind.as_str(), %outcome, "lease lost while calling Graph; answer recorded");
    if let Some(r) = tx.get_request(&op.request_id).await? {
        record(outbox, tx, AuditAction::DirectoryError, &r, now, details).await?;
    }
    Ok(())
}
