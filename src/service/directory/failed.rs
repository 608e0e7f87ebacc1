//! An operation Graph did not carry out: another attempt after a throttled answer (no audit
//! event), else a directory error in the audit trail and either another attempt or giving up
//! (never on a removal); an addition given up fails its grant, which queues the safety removal.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::attempt::Attempt;
use super::{record, record_unattached};
use crate::domain::{AuditAction, Request, RequestStatus, Transition};
use crate::error::AppResult;
use crate::graph::DirectoryError;
use crate::service::Portal;
use crate::service::drift_watch::WATCH;
use crate::service::lifecycle;
use crate::service::retry::{removal_retry_delay, retry_delay};
use crate::store::{DirectoryOp, OpKind, OpOutcome, StoreTx};

impl Portal {
    /// Records that `op` failed with `e` (Graph's error, or a change the read-back did not show).
    pub(super) async fn op_failed(
        &self,
        tx: &mut dyn StoreTx,
        op: &DirectoryOp,
        attempt: &Attempt,
        e: &DirectoryError,
        request: Option<Request>,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let message = e.to_string();
        if attempt.throttled() {
            // Routine under a burst: another attempt, no audit event, no warning.
            let retry_at = now + retry_delay(e, op.throttled + 1);
            tx.retry_op(op.id, retry_at, &message, true).await?;
            tracing::debug!(op = op.id, kind = op.kind.as_str(), %retry_at, "directory operation throttled");
            return Ok(());
        }
        // Removals are never given up; additions and revocations are, when refused for good or
        // out of (unthrottled) attempts.
        let give_up = op.kind != OpKind::Remove
            && (!e.is_retriable()
                || op.counted_attempts() >= self.settings.scheduler.max_add_attempts);
        let mut details = json!({
            "group_id": op.group_id,
            "directory_op": op.id,
            "operation": op.kind.as_str(),
            "attempt": op.attempts,
            "throttled": op.throttled,
            "error": message,
        });
        if give_up {
            self.metrics.given_up(op.kind);
            tx.finish_op(op.id, OpOutcome::Failed, now, Some(&message))
                .await?;
            details["final"] = json!(true);
        } else {
            let retry_at = now
                + if op.kind == OpKind::Remove {
                    removal_retry_delay(e, op.counted_attempts())
                } else {
                    retry_delay(e, op.counted_attempts())
                };
            tx.retry_op(op.id, retry_at, &message, false).await?;
            details["retry_at"] = json!(retry_at);
        }
        if op.kind != OpKind::RevokeSessions && attempt.may_have_taken_effect() {
            // Graph may still carry it out (a timeout, a 5xx after sending, a dropped
            // connection): the drift check reads the member back for a while.
            let (group, user) = (
                op.group_id.to_ascii_lowercase(),
                op.user_id.to_ascii_lowercase(),
            );
            let reason = format!("{} with an unknown outcome", op.kind.as_str());
            tx.watch_member(&group, &user, now + WATCH, &reason).await?;
        }
        tracing::warn!(op = op.id, kind = op.kind.as_str(), attempt = op.attempts, error = %message, give_up, "directory operation failed");
        if let Some(mut r) = request {
            let action = AuditAction::DirectoryError;
            record(&self.outbox, &mut *tx, action, &r, now, details).await?;
            if give_up
                && op.kind == OpKind::Add
                && matches!(r.status, RequestStatus::Active | RequestStatus::Approved)
            {
                // Graph's own words stay in the audit trail (for auditors and admins) and the log.
                let reason = format!(
                    "The directory did not add the membership (directory operation {}); an administrator can see why in the audit trail.",
                    op.id
                );
                lifecycle::close(
                    &self.outbox,
                    tx,
                    &mut r,
                    Transition::Fail,
                    None,
                    Some(reason),
                    now,
                )
                .await?;
            }
        } else {
            let action = AuditAction::DirectoryError;
            record_unattached(&self.outbox, &mut *tx, action, op, now, details).await?;
        }
        Ok(())
    }
}
