//! Extensions of live grants: asked for by the requester, decided like requests (or granted at
//! once where the package allows self-extension, until a one-shot package's first sign-in caps
//! the grant), both behind the package's step-up where it has one, moving the end in the same
//! transaction that records the decision. The membership stays in place throughout: nothing is
//! removed and added again.

use serde_json::json;

use super::requests::Deciding;
use super::{Portal, event};
use crate::auth::Principal;
use crate::domain::extension::{
    Extension, ExtensionRefused, ExtensionStatus, one_shot_cap, takes_effect_at_once,
    validate_extension,
};
use crate::domain::limits::AskKind;
use crate::domain::policy::Stage;
use crate::domain::request::DecisionRefused;
use crate::domain::{Approval, AuditAction, Decision, Request, RequestId};
use crate::error::{AppError, AppResult};
use crate::service::policy::{Ask, Taking};
use crate::store::StoreTx;

/// What a requester sends to extend a grant.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ExtendInput {
    pub minutes: i64,
    pub justification: String,
}

/// A pending extension with the grant it extends, as an approver sees it.
pub struct ExtensionEntry {
    pub request: Request,
    pub extension: Extension,
    /// `who` may decide it now.
    pub may_decide: bool,
}

impl Portal {
    /// The requester asks for `input.minutes` more. Self-extending packages grant it at once,
    /// except once a one-shot package's first sign-in caps the grant: then it waits for an
    /// approver, like any other.
    #[tracing::instrument(skip_all, fields(user = %who.user.id, request = %id))]
    pub async fn extend(
        &self,
        who: &Principal,
        id: &RequestId,
        input: ExtendInput,
    ) -> AppResult<(Request, Extension)> {
        let now = self.now();
        self.rules_for_extension(who, id).await?;
        let (mut tx, mut r) = self.begin_change(id).await?;
        if !self.may_view(who, &r) {
            return Err(AppError::Forbidden("You may not see this request.".into()));
        }
        let pkg = self.configured_package(&r)?;
        let waiting = tx.pending_extension(&r.id).await?.is_some();
        let (minutes, justification) = validate_extension(
            &r,
            pkg,
            &who.user.id,
            input.minutes,
            &input.justification,
            waiting,
            now,
        )
        .map_err(|e| match e {
            ExtensionRefused::NotYours => AppError::Forbidden(e.to_string()),
            ExtensionRefused::NotActive(_) | ExtensionRefused::AlreadyAsked => {
                AppError::Conflict(e.to_string())
            }
            ExtensionRefused::Invalid(fields) => AppError::invalid(fields),
        })?;
        self.require_step_up(who, pkg)?;
        let mut tx = self
            .within_ask_limit(tx, who, &r.requester, pkg, AskKind::Extension, Some(&r))
            .await?;
        // A grant running when an access review revoked its holder ends as planned, no later.
        let whose = format!("{}'s", r.requester.name);
        self.refuse_if_revoked(&mut *tx, pkg, &r.requester.id, &whose)
            .await?;
        let ask = Ask::on(Stage::Extension, pkg, Some(who), &r);
        let more = Taking::More(chrono::Duration::minutes(minutes));
        if let Some(refusal) = self.quota_refusal(&mut *tx, &ask, more).await? {
            self.record_refusal(&mut *tx, &ask, &refusal).await?;
            tx.commit().await?;
            return Err(AppError::refused(refusal));
        }
        let mut x = Extension {
            id: format!("x-{}", uuid::Uuid::new_v4().simple()),
            request_id: r.id.clone(),
            minutes,
            justification: justification.clone(),
            status: ExtensionStatus::Pending,
            requested_at: now,
            ends_before: r.ends_at.unwrap_or(now),
            ends_after: None,
            decided_at: None,
            approvals: Vec::new(),
        };
        tx.insert_extension(&x, now).await.map_err(|e| match e {
            crate::store::StoreError::Conflict(_) => {
                AppError::Conflict(ExtensionRefused::AlreadyAsked.to_string())
            }
            other => other.into(),
        })?;
        let cap = cap_of(&mut *tx, &r, pkg).await?;
        // A break-glass grant was never approved by a person: its extensions always are.
        let at_once = takes_effect_at_once(pkg, cap) && !r.is_break_glass();
        let mut details = json!({"extension": x.id, "minutes": minutes, "justification": justification, "ends_at": r.ends_at, "self_extend": at_once});
        if let Some(cap) = cap {
            // Why a self-extending package asks its approvers this time.
            details["one_shot_end"] = json!(cap);
        }
        let asked = event(Some(who), AuditAction::ExtensionRequested, &r, now, details);
        self.outbox.record(&mut *tx, asked, Some(&r)).await?;
        if at_once {
            // Nobody needs to be asked: grant it at once.
            x.grant(&mut r, now);
            tx.update_extension(&x, now).await?;
            tx.update_request(&r, now).await?;
            let e = event(
                Some(who),
                AuditAction::ExtensionApproved,
                &r,
                now,
                json!({"extension": x.id, "minutes": minutes, "self_extend": true, "final": true, "ends_before": x.ends_before, "ends_at": r.ends_at}),
            );
            self.outbox.record(&mut *tx, e, Some(&r)).await?;
        }
        tx.commit().await?;
        self.notify();
        tracing::info!(request = %r.id, extension = %x.id, minutes, status = x.status.as_str(), "extension asked");
        Ok((r, x))
    }

    /// An approver decides the extension waiting on grant `id`. An approval that completes the
    /// approvals needed moves the end (past a one-shot end: lifting it, as the event records);
    /// after the end, nothing can be decided (it lapses when the grant closes).
    #[tracing::instrument(skip_all, fields(user = %who.user.id, request = %id, decision = decision.as_str()))]
    pub async fn decide_extension(
        &self,
        who: &Principal,
        id: &RequestId,
        decision: Decision,
        comment: Option<String>,
    ) -> AppResult<(Request, Extension)> {
        if decision == Decision::Approve {
            self.rules_for_decision(who, id, Stage::Extension).await?;
        }
        let Deciding {
            comment,
            now,
            mut tx,
            mut r,
            pkg,
        } = self
            .begin_decision(who, id, decision, comment.as_deref())
            .await?;
        let mut x = tx.pending_extension(&r.id).await?.ok_or_else(|| {
            AppError::Conflict("No extension of this grant is waiting for a decision.".into())
        })?;
        x.check_decider(
            &r,
            &who.user.id,
            self.is_package_approver(who, pkg),
            pkg,
            now,
        )
        .map_err(|e| match e {
            DecisionRefused::Invalid(m) => AppError::Conflict(m),
            other => other.into(),
        })?;
        if decision == Decision::Approve {
            self.require_step_up(who, pkg)?;
        }
        let approval = Approval {
            approver: who.user.clone(),
            decision,
            comment: comment.clone(),
            at: now,
        };
        let moved = x.decide(&mut r, approval, pkg, now);
        tx.update_extension(&x, now).await?;
        if moved {
            tx.update_request(&r, now).await?;
        }
        let action = match decision {
            Decision::Approve => AuditAction::ExtensionApproved,
            Decision::Deny => AuditAction::ExtensionDenied,
        };
        let mut details = json!({
            "extension": x.id,
            "minutes": x.minutes,
            "comment": comment,
            "approvals": x.approval_count(),
            "approvals_required": pkg.approvals_required,
            "final": x.status != ExtensionStatus::Pending,
            "ends_before": x.ends_before,
            "ends_at": r.ends_at,
        });
        if let Some(cap) = cap_of(&mut *tx, &r, pkg).await? {
            details["one_shot_end"] = json!(cap);
            details["lifts_one_shot_end"] = json!(x.lifts(Some(cap)));
        }
        let e = event(Some(who), action, &r, now, details);
        self.outbox.record(&mut *tx, e, Some(&r)).await?;
        tx.commit().await?;
        self.notify();
        tracing::info!(request = %r.id, extension = %x.id, status = x.status.as_str(), "extension decided");
        Ok((r, x))
    }

    /// How many requests and extensions wait for `who`'s decision (the approvals badge).
    pub async fn decisions_waiting(&self, who: &Principal) -> AppResult<usize> {
        let requests = self.decision_queue(who).await?.len();
        let extensions = self
            .extension_queue(who)
            .await?
            .iter()
            .filter(|e| e.may_decide)
            .count();
        Ok(requests + extensions)
    }

    /// The extensions asked for grant `id`, oldest first, for whoever may see the grant.
    pub async fn extensions(&self, who: &Principal, id: &RequestId) -> AppResult<Vec<Extension>> {
        let r = self.get_visible(who, id).await?;
        Ok(self.store.extensions_for(&r.id).await?)
    }

    /// Pending extensions `who` may see on the approvals page (approvers, and managers of
    /// requesters where packages let them decide), oldest first.
    pub async fn extension_queue(&self, who: &Principal) -> AppResult<Vec<ExtensionEntry>> {
        let mut out = Vec::new();
        if who.requests_only() {
            return Ok(out);
        }
        for x in self.store.pending_extensions().await? {
            let Some(r) = self.store.get_request(&x.request_id).await? else {
                continue;
            };
            let Some(pkg) = self.package(&r.package) else {
                continue;
            };
            let may = x
                .check_decider(
                    &r,
                    &who.user.id,
                    self.is_package_approver(who, pkg),
                    pkg,
                    self.now(),
                )
                .is_ok();
            if may || (self.may_view(who, &r) && r.requester.id != who.user.id) {
                out.push(ExtensionEntry {
                    request: r,
                    extension: x,
                    may_decide: may,
                });
            }
        }
        Ok(out)
    }
}

/// The one-shot end capping grant `r` (see [`one_shot_cap`]): only for one-shot packages, read
/// in the transaction that changes the grant.
async fn cap_of(
    tx: &mut dyn StoreTx,
    r: &Request,
    pkg: &crate::domain::Package,
) -> AppResult<Option<chrono::DateTime<chrono::Utc>>> {
    if pkg.end_after_first_sign_in.is_none() {
        return Ok(None);
    }
    Ok(one_shot_cap(pkg, tx.first_sign_in_at(&r.id).await?))
}
