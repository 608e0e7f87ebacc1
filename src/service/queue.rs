//! The approvals queue: pending requests with what an approver needs to decide them.

use std::collections::HashMap;

use chrono::Duration;

use super::Portal;
use crate::auth::Principal;
use crate::domain::Request;
use crate::error::{AppError, AppResult};
use crate::store::GrantCount;

/// How far back the queue counts a requester's earlier grants.
pub const RECENT_GRANTS: Duration = Duration::days(30);

/// One pending request as an approver sees it.
pub struct QueueEntry {
    pub request: Request,
    /// The requester's grants in the last [`RECENT_GRANTS`], if any.
    pub recent: Option<GrantCount>,
    /// `who` made this request.
    pub own: bool,
    /// `who` has already approved it (more approvals are needed).
    pub already_approved: bool,
    /// `who` may decide it now.
    pub may_decide: bool,
    /// The requester's device-code sign-ins in the last [`RECENT_GRANTS`] (their past use of
    /// the exemption), as the sign-in log showed them; `None` when the log is not read.
    pub recent_sign_ins: Option<usize>,
    pub approvals_required: u32,
}

impl Portal {
    /// The pending requests `who` may see, oldest first, with their context. Only approvers, and
    /// people with a request to decide (a requester's manager), may look.
    pub async fn approval_queue(&self, who: &Principal) -> AppResult<Vec<QueueEntry>> {
        self.require_portal_reach(who, "The approvals queue")?;
        let is_approver = self.approves_anything(who);
        if !is_approver && !self.managers_may_approve() {
            return Err(forbidden());
        }
        let pending = self.pending_for(who).await?;
        let mut requesters: Vec<String> = pending.iter().map(|r| r.requester.id.clone()).collect();
        requesters.sort();
        requesters.dedup();
        let counts: HashMap<String, GrantCount> = self
            .store
            .grant_counts(&requesters, self.now() - RECENT_GRANTS)
            .await?
            .into_iter()
            .map(|c| (c.requester_id.clone(), c))
            .collect();
        let mut sign_ins: HashMap<String, usize> = HashMap::new();
        if self.settings.sign_ins.read {
            for id in &requesters {
                let n = self
                    .store
                    .recent_sign_ins(self.now() - RECENT_GRANTS, Some(id), false, false, 1000)
                    .await?
                    .iter()
                    .filter(|s| s.succeeded())
                    .count();
                sign_ins.insert(id.clone(), n);
            }
        }
        let entries: Vec<QueueEntry> = pending
            .into_iter()
            .map(|r| QueueEntry {
                recent_sign_ins: self
                    .settings
                    .sign_ins
                    .read
                    .then(|| sign_ins.get(&r.requester.id).copied().unwrap_or(0)),
                recent: counts.get(&r.requester.id).cloned(),
                own: r.requester.id == who.user.id,
                already_approved: r.approvals.iter().any(|a| a.approver.id == who.user.id),
                may_decide: self.awaits_decision_by(who, &r),
                approvals_required: self.package(&r.package).map_or(1, |p| p.approvals_required),
                request: r,
            })
            .collect();
        if !is_approver && !entries.iter().any(|e| e.may_decide) {
            return Err(forbidden());
        }
        Ok(entries)
    }
}

fn forbidden() -> AppError {
    AppError::Forbidden("This page is for approvers.".into())
}
