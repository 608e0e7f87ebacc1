//! Reading requests: one request or its timeline for whoever may see it, the listings with
//! the caller's visibility applied, and what waits for the caller's decision.

use super::starting::not_found;
use crate::auth::Principal;
use crate::domain::{Request, RequestId, RequestStatus, Role};
use crate::error::{AppError, AppResult};
use crate::service::Portal;
use crate::store::RequestFilter;

/// Which requests a listing shows, before the caller's visibility is applied.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub statuses: Vec<RequestStatus>,
    pub package: Option<String>,
    pub mine: bool,
    /// Only the requests the caller asked for on others' behalf.
    pub asked_by_me: bool,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl Portal {
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

    /// Own requests (and those asked for on others' behalf); approvers also those they may
    /// decide; auditors and admins everything.
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
        } else if q.asked_by_me {
            f.asked_by_id = Some(who.user.id.clone());
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
    pub(in crate::service) async fn pending_for(&self, who: &Principal) -> AppResult<Vec<Request>> {
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
