//! Transitions shared by people and the scheduler: opening and closing the access window.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::event;
use super::notify::Outbox;
use crate::auth::Principal;
use crate::domain::extension::ExtensionStatus;
use crate::domain::{AuditAction, Request, RequestStatus, Transition};
use crate::error::AppResult;
use crate::store::{NewDirectoryOp, OpKind, StoreTx};

/// The access window opens: queue the membership addition.
pub(crate) async fn open_window(
    outbox: &Outbox,
    tx: &mut dyn StoreTx,
    r: &Request,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let op = NewDirectoryOp::for_grant(r, OpKind::Add, now);
    let op_id = tx.enqueue_op(&op, now).await?;
    let e = event(
        None,
        AuditAction::GrantActivated,
        r,
        now,
        json!({"group_id": r.group_id, "starts_at": r.starts_at, "ends_at": r.ends_at, "directory_op": op_id}),
    );
    outbox.record(tx, e, Some(r)).await?;
    Ok(())
}

/// Closes a grant (expire, end, revoke, fail) or cancels an approved one that has not started.
/// The membership is removed only when no other active grant of the user's for the group remains.
pub(crate) async fn close(
    outbox: &Outbox,
    tx: &mut dyn StoreTx,
    r: &mut Request,
    transition: Transition,
    actor: Option<&Principal>,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let was_active = r.status == RequestStatus::Active;
    r.status = r.status.apply(transition)?;
    if reason.is_some() {
        r.close_reason = reason.clone();
    }
    if was_active && r.ends_at.is_none_or(|end| end > now) {
        r.ends_at = Some(now);
    }
    tx.update_request(r, now).await?;

    let mut details = json!({"reason": reason});
    if was_active {
        let others = tx
            .count_other_active_grants(&r.requester.id, &r.group_id, &r.id)
            .await?;
        if others == 0 {
            let op = NewDirectoryOp::for_grant(r, OpKind::Remove, now);
            details["directory_op"] = json!(tx.enqueue_op(&op, now).await?);
        } else {
            details["membership_kept"] =
                json!(format!("{others} other active grant(s) for the same group"));
        }
    }
    let action = match transition {
        Transition::Expire => AuditAction::GrantExpired,
        Transition::End => AuditAction::GrantEnded,
        Transition::Revoke => AuditAction::GrantRevoked,
        Transition::Fail => AuditAction::GrantFailed,
        Transition::Cancel => AuditAction::RequestCancelled,
        Transition::TimeOut => AuditAction::RequestTimedOut,
        Transition::Deny => AuditAction::RequestDenied,
        Transition::Approve { .. } | Transition::Start => AuditAction::GrantActivated,
    };
    outbox
        .record(tx, event(actor, action, r, now, details), Some(r))
        .await?;
    if was_active && let Some(mut x) = tx.pending_extension(&r.id).await? {
        // The grant ended before its extension was decided: the extension lapses.
        x.status = ExtensionStatus::Lapsed;
        x.decided_at = Some(now);
        tx.update_extension(&x, now).await?;
        let e = event(
            None,
            AuditAction::ExtensionLapsed,
            r,
            now,
            json!({"extension": x.id, "minutes": x.minutes}),
        );
        outbox.record(tx, e, Some(r)).await?;
    }
    Ok(())
}
