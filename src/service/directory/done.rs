//! An operation Graph carried out: the request's membership time, the audit events that say
//! so (with the read-back that verified the change), the revocation of sign-in sessions a
//! removal calls for, and that revocation done.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::attempt::Attempt;
use super::{record, record_unattached};
use crate::domain::{AuditAction, Request, RequestStatus};
use crate::error::AppResult;
use crate::graph::MemberChange;
use crate::service::Portal;
use crate::store::{DirectoryOp, NewDirectoryOp, OpKind, OpOutcome, StoreTx};

impl Portal {
    /// Graph added or removed the membership (or found it so already): the request's
    /// membership time, its audit event and the read-back's, and, once a closed grant's
    /// membership is gone, the revocation of its sessions where the package asks for it.
    pub(super) async fn membership_changed(
        &self,
        tx: &mut dyn StoreTx,
        op: &DirectoryOp,
        attempt: &Attempt,
        change: &MemberChange,
        request: Option<Request>,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        tx.finish_op(op.id, OpOutcome::Done, now, None).await?;
        if let Some(mut r) = request {
            let (action, due_at) = match op.kind {
                OpKind::Add => {
                    r.added_at.get_or_insert(now);
                    (AuditAction::MembershipAdded, r.starts_at)
                }
                _ => {
                    r.removed_at = Some(now);
                    (AuditAction::MembershipRemoved, r.ends_at)
                }
            };
            tx.update_request(&r, now).await?;
            if let Some(due) = due_at {
                self.metrics.lag(op.kind, (now - due).num_milliseconds());
            }
            let read_back = &attempt.read_back;
            let details = json!({
                "group_id": op.group_id,
                "directory_op": op.id,
                "attempts": op.attempts,
                "throttled": op.throttled,
                "already_in_effect": matches!(change, MemberChange::AlreadyMember | MemberChange::NotMember),
                "graph_ms": attempt.graph_ms,
                "delay_ms": due_at.map(|d| (now - d).num_milliseconds()),
                "verified": read_back.as_ref().is_some_and(|rb| rb.member_seen.is_some()),
            });
            record(&self.outbox, &mut *tx, action, &r, now, details).await?;
            if let Some(rb) = read_back {
                let details = json!({
                    "group_id": op.group_id,
                    "directory_op": op.id,
                    "operation": op.kind.as_str(),
                    "member_seen": rb.member_seen,
                    "reads": rb.reads,
                    "read_error": rb.error,
                });
                let verified = AuditAction::MembershipVerified;
                record(&self.outbox, &mut *tx, verified, &r, now, details).await?;
            }
            // The membership is gone: end the sessions obtained through it, if asked.
            let revoke = op.kind == OpKind::Remove
                && r.status != RequestStatus::Active
                && self
                    .package(&r.package)
                    .is_some_and(|p| p.revoke_sessions_on_end);
            if revoke {
                let revocation = NewDirectoryOp::for_grant(&r, OpKind::RevokeSessions, now);
                tx.enqueue_op(&revocation, now).await?;
                self.wake.worker.notify_one();
            }
        } else if op.kind != OpKind::RevokeSessions {
            // No request (an access review's removal of a standing member): the change is
            // still the audit trail's to know, with its read-back.
            let action = match op.kind {
                OpKind::Add => AuditAction::MembershipAdded,
                _ => AuditAction::MembershipRemoved,
            };
            let read_back = attempt.read_back.as_ref();
            let details = json!({
                "group_id": op.group_id,
                "directory_op": op.id,
                "attempts": op.attempts,
                "throttled": op.throttled,
                "already_in_effect": matches!(change, MemberChange::AlreadyMember | MemberChange::NotMember),
                "graph_ms": attempt.graph_ms,
                "verified": read_back.is_some_and(|rb| rb.member_seen.is_some()),
                "member_seen": read_back.and_then(|rb| rb.member_seen),
            });
            record_unattached(&self.outbox, &mut *tx, action, op, now, details).await?;
        }
        tracing::info!(op = op.id, kind = op.kind.as_str(), group = %op.group_id, user = %op.user_id, ?change, "directory operation done");
        Ok(())
    }

    /// Graph revoked the user's sign-in sessions: the audit event that says so.
    pub(super) async fn sessions_revoked(
        &self,
        tx: &mut dyn StoreTx,
        op: &DirectoryOp,
        attempt: &Attempt,
        change: &MemberChange,
        request: Option<Request>,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        tx.finish_op(op.id, OpOutcome::Done, now, None).await?;
        if let Some(r) = request {
            let details = json!({
                "directory_op": op.id,
                "attempts": op.attempts,
                "throttled": op.throttled,
                "graph_ms": attempt.graph_ms,
            });
            let action = AuditAction::SessionsRevoked;
            record(&self.outbox, &mut *tx, action, &r, now, details).await?;
        }
        tracing::info!(op = op.id, user = %op.user_id, ?change, "sign-in sessions revoked");
        Ok(())
    }
}
