//! Use cases on requests: create, decide, cancel, end, look up; and the deadlines that move them.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{Portal, event, lifecycle};
use crate::auth::Principal;
use crate::domain::request::{clean_comment, validate_new_request};
use crate::domain::{
    Approval, AuditAction, Decision, NewRequestInput, Package, Request, RequestId, RequestStatus,
    Role, Transition,
};
use crate::error::{AppError, AppResult};
use crate::store::{RequestFilter, StoreTx};

/// What an approver submits.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct DecisionInput {
    pub comment: Option<String>,
    /// Approvals only: shorten the requested duration.
    pub duration_minutes: Option<i64>,
}

/// What a decision starts from (see [`Portal::begin_decision`]).
pub(super) struct Deciding<'a> {
    /// The decider's comment, cleaned.
    pub(super) comment: Option<String>,
    pub(super) now: DateTime<Utc>,
    pub(super) tx: Box<dyn StoreTx>,
    /// The request, as read in `tx`.
    pub(super) r: Request,
    pub(super) pkg: &'a Package,
}

/// Which requests a listing shows, before the caller's visibility is applied.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub statuses: Vec<RequestStatus>,
    pub package: Option<String>,
    pub mine: bool,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl Portal {
    #[tracing::instrument(skip_all, fields(user = %who.user.id, package = %input.package))]
    pub async fn create_request(
        &self,
        who: &Principal,
        input: NewRequestInput,
    ) -> AppResult<Request> {
        let pkg = self.package(input.package.trim()).ok_or_else(|| {
            AppError::invalid_field(
                "package",
                format!("There is no package '{}'.", input.package.trim()),
            )
        })?;
        if !pkg.is_eligible(&who.raw_roles) {
            return Err(AppError::Forbidden(format!(
                "You are not eligible to request {}.",
                pkg.name
            )));
        }
        let now = self.now();
        let valid = validate_new_request(pkg, &input, now).map_err(AppError::invalid)?;

        let open = RequestFilter {
            statuses: vec![
                RequestStatus::Pending,
                RequestStatus::Approved,
                RequestStatus::Active,
            ],
            package: Some(pkg.id.clone()),
            requester_id: Some(who.user.id.clone()),
            ..Default::default()
        };
        if self.store.count_requests(&open).await? > 0 {
            return Err(open_conflict(&pkg.name));
        }

        let manager_id = if pkg.manager_may_approve {
            match self.directory.get_manager(&who.user.id).await {
                Ok(m) => m.map(|m| m.id),
                Err(e) => {
                    tracing::warn!(user = %who.user.id, error = %e, "could not look up the requester's manager");
                    None
                }
            }
        } else {
            None
        };

        let r = Request::pending(
            RequestId::new(),
            pkg,
            who.user.clone(),
            manager_id,
            valid,
            crate::domain::audit::truncate_millis(now),
        );
        let mut tx = self.store.begin().await?;
        tx.insert_request(&r).await.map_err(|e| match e {
            crate::store::StoreError::Conflict(_) => open_conflict(&pkg.name),
            other => other.into(),
        })?;
        self.outbox
            .record(
                &mut *tx,
                event(
                    Some(who),
                    AuditAction::RequestCreated,
                    &r,
                    now,
                    json!({
                        "package": r.package,
                        "group_id": r.group_id,
                        "duration_minutes": r.duration_minutes,
                        "justification": r.justification,
                        "ticket": r.ticket,
                        "requested_start": r.requested_start,
                        "manager_id": r.manager_id,
                    }),
                ),
                Some(&r),
            )
            .await?;
        tx.commit().await?;
        self.notify();
        tracing::info!(request = %r.id, package = %r.package, user = %r.requester.id, "request created");
        Ok(r)
    }

    #[tracing::instrument(skip_all, fields(user = %who.user.id, request = %id, decision = decision.as_str()))]
    pub async fn decide(
        &self,
        who: &Principal,
        id: &RequestId,
        decision: Decision,
        input: DecisionInput,
    ) -> AppResult<Request> {
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

    #[tracing::instrument(skip_all, fields(user = %who.user.id, request = %id))]
    pub async fn cancel(&self, who: &Principal, id: &RequestId) -> AppResult<Request> {
        let now = self.now();
        let (mut tx, mut r) = self.begin_change(id).await?;
        if r.requester.id != who.user.id {
            return Err(AppError::Forbidden(
                "Only the requester can cancel a request.".into(),
            ));
        }
        lifecycle::close(
            &self.outbox,
            &mut *tx,
            &mut r,
            Transition::Cancel,
            Some(who),
            None,
            now,
        )
        .await?;
        tx.commit().await?;
        self.notify();
        Ok(r)
    }

    /// The requester ends their own active grant; an admin ending someone else's revokes it.
    #[tracing::instrument(skip_all, fields(user = %who.user.id, request = %id))]
    pub async fn end(
        &self,
        who: &Principal,
        id: &RequestId,
        reason: Option<String>,
    ) -> AppResult<Request> {
        let reason = clean_comment(reason.as_deref(), false)
            .map_err(|f| AppError::invalid_field("reason", f.message))?;
        let now = self.now();
        let (mut tx, mut r) = self.begin_change(id).await?;
        let transition = if r.requester.id == who.user.id {
            Transition::End
        } else if self.has_role(who, Role::Admin) {
            if reason.is_none() {
                return Err(AppError::invalid_field(
                    "reason",
                    "Please give a reason for revoking this grant.",
                ));
            }
            Transition::Revoke
        } else {
            return Err(AppError::Forbidden(
                "Only the requester or an admin can end a grant.".into(),
            ));
        };
        lifecycle::close(
            &self.outbox,
            &mut *tx,
            &mut r,
            transition,
            Some(who),
            reason,
            now,
        )
        .await?;
        tx.commit().await?;
        self.notify();
        Ok(r)
    }

    pub async fn get_visible(&self, who: &Principal, id: &RequestId) -> AppResult<Request> {
        let r = self
            .store
            .get_request(id.as_str())
            .await?
            .ok_or_else(|| not_found(id))?;
        if !self.may_view(who, &r) {
            return Err(AppError::Forbidden("You may not see this request.".into()));
        }
        Ok(r)
    }

    /// The package `r` was asked for; 409 when it is no longer configured.
    pub(super) fn configured_package(&self, r: &Request) -> AppResult<&Package> {
        self.package(&r.package).ok_or_else(|| {
            AppError::Conflict(format!(
                "The package '{}' is no longer configured.",
                r.package
            ))
        })
    }

    /// Starts a decision by `who` on request `id`, or on the extension waiting on it: the
    /// comment checked (a denial needs one), a write transaction on the request, which `who`
    /// must be allowed to see, and its package still configured.
    pub(super) async fn begin_decision(
        &self,
        who: &Principal,
        id: &RequestId,
        decision: Decision,
        comment: Option<&str>,
    ) -> AppResult<Deciding<'_>> {
        let comment = clean_comment(comment, decision == Decision::Deny)
            .map_err(|f| AppError::invalid(vec![f]))?;
        let now = self.now();
        let (tx, r) = self.begin_change(id).await?;
        if !self.may_view(who, &r) {
            return Err(AppError::Forbidden(
                "You are not an approver for this request.".into(),
            ));
        }
        let pkg = self.configured_package(&r)?;
        Ok(Deciding {
            comment,
            now,
            tx,
            r,
            pkg,
        })
    }

    /// Starts a write transaction on request `id` (404 when there is none).
    pub(super) async fn begin_change(
        &self,
        id: &RequestId,
    ) -> AppResult<(Box<dyn StoreTx>, Request)> {
        let mut tx = self.store.begin().await?;
        let r = tx
            .get_request(id.as_str())
            .await?
            .ok_or_else(|| not_found(id))?;
        Ok((tx, r))
    }

    /// A request and its timeline (its audit events, oldest first), for whoever may see it.
    pub async fn timeline(
        &self,
        who: &Principal,
        id: &RequestId,
    ) -> AppResult<(Request, Vec<crate::domain::AuditEvent>)> {
        let r = self.get_visible(who, id).await?;
        let mut events = self
            .store
            .list_events(&crate::store::AuditFilter {
                request_id: Some(r.id.clone()),
                limit: Some(1000),
                ..Default::default()
            })
            .await?;
        events.reverse();
        Ok((r, events))
    }

    /// Own requests; approvers also those they may decide; auditors and admins everything.
    pub async fn list_visible(&self, who: &Principal, q: &ListQuery) -> AppResult<Vec<Request>> {
        let oversees = self.has_role(who, Role::Auditor) || self.has_role(who, Role::Admin);
        let sees_all = oversees || self.approves_anything(who);
        let mut f = RequestFilter {
            statuses: q.statuses.clone(),
            package: q.package.clone(),
            limit: q.limit,
            offset: q.offset,
            ..Default::default()
        };
        if q.mine {
            f.requester_id = Some(who.user.id.clone());
        } else if !sees_all {
            f.involving = Some(who.user.id.clone());
        }
        let mut list = self.list_requests_cached(&f).await?;
        if !oversees {
            // Approvers see the packages they approve for (and their own requests).
            list.retain(|r| self.may_view(who, r));
        }
        Ok(list)
    }

    /// Pending requests `who` may see, oldest first.
    pub(super) async fn pending_for(&self, who: &Principal) -> AppResult<Vec<Request>> {
        let q = ListQuery {
            statuses: vec![RequestStatus::Pending],
            limit: Some(1000),
            ..Default::default()
        };
        let mut all = self.list_visible(who, &q).await?;
        all.reverse();
        Ok(all)
    }

    /// Whether `r` waits for a decision by `who`: they may decide it and have not yet.
    pub fn awaits_decision_by(&self, who: &Principal, r: &Request) -> bool {
        self.may_decide(who, r) && !r.approvals.iter().any(|a| a.approver.id == who.user.id)
    }

    /// Pending requests `who` may decide now, oldest first.
    pub async fn decision_queue(&self, who: &Principal) -> AppResult<Vec<Request>> {
        let mut queue = self.pending_for(who).await?;
        queue.retain(|r| self.awaits_decision_by(who, r));
        Ok(queue)
    }
}

pub(super) fn not_found(id: impl std::fmt::Display) -> AppError {
    AppError::NotFound(format!("There is no request '{id}'."))
}

fn open_conflict(package: &str) -> AppError {
    AppError::Conflict(format!(
        "You already have an open request or an active grant for {package}."
    ))
}
