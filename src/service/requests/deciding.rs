//! Deciding on a request: an approver's approval (which may shorten the duration, and opens
//! the access window when the last approval needed comes in and the start is now) or denial.

use serde_json::json;

use super::starting::Deciding;
use crate::auth::Principal;
use crate::domain::policy::Stage;
use crate::domain::{Approval, AuditAction, Decision, Request, RequestId, Transition};
use crate::error::{AppError, AppResult};
use crate::service::Portal;
use crate::service::event;
use crate::service::lifecycle;
use crate::service::policy::{Ask, Taking};

/// What an approver submits.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct DecisionInput {
    pub comment: Option<String>,
    /// Approvals only: shorten the requested duration.
    pub duration_minutes: Option<i64>,
}

impl Portal {
    #[tracing::instrument(skip_all, fields(user = %who.user.id, request = %id, decision = decision.as_str()))]
    pub async fn decide(
        &self,
        who: &Principal,
        id: &RequestId,
        decision: Decision,
        input: DecisionInput,
    ) -> AppResult<Request> {
        let stage = match decision {
            Decision::Approve => Stage::Approval,
            Decision::Deny => Stage::Denial,
        };
        let notes = self.rules_for_decision(who, id, stage).await?;
        let Deciding {
            comment,
            now,
            mut tx,
            mut r,
            pkg,
        } = self
            .begin_decision(who, id, decision, input.comment.as_deref())
            .await?;
        r.check_decider(&who.user.id, self.is_package_approver(who, pkg), pkg, now)?;
        if decision == Decision::Approve {
            self.require_step_up(who, pkg)?;
            // Revoked by an access review since asking: not approved until restored.
            let whose = format!("{}'s", r.requester.name);
            self.refuse_if_revoked(&mut *tx, pkg, &r.requester.id, &whose)
                .await?;
        }
        let approval = Approval {
            approver: who.user.clone(),
            decision,
            comment: comment.clone(),
            at: now,
        };
        match decision {
            Decision::Deny => {
                if input.duration_minutes.is_some() {
                    return Err(AppError::invalid_field(
                        "duration_minutes",
                        "Only an approval can change the duration.",
                    ));
                }
                r.status = r.status.apply(Transition::Deny)?;
                r.decided_at = Some(now);
                r.approvals.push(approval.clone());
                tx.insert_approval(&r.id, &approval).await?;
                tx.update_request(&r, now).await?;
                self.outbox
                    .record(
                        &mut *tx,
                        event(
                            Some(who),
                            AuditAction::RequestDenied,
                            &r,
                            now,
                            json!({"comment": comment}),
                        ),
                        Some(&r),
                    )
                    .await?;
            }
            Decision::Approve => {
                let requested = r.duration_minutes;
                let transition = r.approve(approval.clone(), pkg, input.duration_minutes, now)?;
                let start = r
                    .starts_at
                    .unwrap_or_else(|| r.requested_start.unwrap_or(now).max(now));
                let end = r
                    .ends_at
                    .unwrap_or(start + chrono::Duration::minutes(r.duration_minutes));
                let ask = Ask::on(Stage::Approval, pkg, Some(who), &r);
                if let Some(refusal) = self
                    .quota_refusal(&mut *tx, &ask, Taking::Grant { start, end })
                    .await?
                {
                    drop(tx);
                    return Err(self.refuse(&ask, refusal).await);
                }
                tx.insert_approval(&r.id, &approval).await?;
                tx.update_request(&r, now).await?;
                self.outbox.record(&mut *tx, event(
                    Some(who),
                    AuditAction::RequestApproved,
                    &r,
                    now,
                    json!({
                        "comment": comment,
                        "approvals": r.approval_count(),
                        "approvals_required": pkg.approvals_required,
                        "duration_minutes": r.duration_minutes,
                        "shortened_from": (r.duration_minutes != requested).then_some(requested),
                        "starts_at": r.starts_at,
                        "ends_at": r.ends_at,
                        "policy": notes,
                    }),
                ), Some(&r)).await?;
                if transition == Some(Transition::Approve { starts_now: true }) {
                    lifecycle::open_window(&self.outbox, &mut *tx, &r, now).await?;
                }
            }
        }
        tx.commit().await?;
        self.notify();
        tracing::info!(request = %r.id, decision = decision.as_str(), by = %who.user.id, status = %r.status, "request decided");
        Ok(r)
    }
}
