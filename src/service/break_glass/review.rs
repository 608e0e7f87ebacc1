//! Reviewing break-glass: one of the package's approvers (never the person who used it) finds
//! the use "justified" or "not justified", with a comment, once; and the reads of a use and of
//! those still waiting for a review.

use serde_json::json;

use crate::auth::Principal;
use crate::domain::break_glass::{
    BreakGlassUse, Review, ReviewRefused, Verdict, check_review_comment, check_reviewer,
};
use crate::domain::policy::Stage;
use crate::domain::{AuditAction, Request, RequestId, Role};
use crate::error::{AppError, AppResult};
use crate::service::policy::Ask;
use crate::service::{Portal, event};

/// A use of break-glass waiting for its review, with its grant (for the operations page).
#[derive(Debug, Clone)]
pub struct BreakGlassEntry {
    pub used: BreakGlassUse,
    pub request: Option<Request>,
    /// Its review is late.
    pub overdue: bool,
}

impl Portal {
    /// The break-glass use of request `id` (none when it was asked for the usual way), for
    /// whoever may see the request.
    pub async fn break_glass_of(
        &self,
        who: &Principal,
        id: &RequestId,
    ) -> AppResult<Option<BreakGlassUse>> {
        self.get_visible(who, id).await?;
        Ok(self.store.break_glass_use(id.as_str()).await?)
    }

    /// Whether `who` may review request `r`'s break-glass use `used` now (for the page's form).
    pub fn may_review_break_glass(
        &self,
        who: &Principal,
        r: &Request,
        used: &BreakGlassUse,
    ) -> bool {
        let approver = self
            .package(&r.package)
            .is_some_and(|p| self.is_package_approver(who, p));
        check_reviewer(used, &who.user.id, approver).is_ok()
    }

    /// Records `who`'s review of request `id`'s break-glass use: `verdict` with `comment`.
    #[tracing::instrument(skip_all, fields(user = %who.user.id, request = %id))]
    pub async fn review_break_glass(
        &self,
        who: &Principal,
        id: &RequestId,
        verdict: Verdict,
        comment: &str,
    ) -> AppResult<(Request, BreakGlassUse)> {
        self.require_portal_reach(who, "Reviewing break-glass access")?;
        let comment = check_review_comment(comment).map_err(|f| AppError::invalid(vec![f]))?;
        let r = self.get_visible(who, id).await.map_err(|e| match e {
            AppError::Forbidden(_) => AppError::Forbidden(ReviewRefused::NotAnApprover.to_string()),
            other => other,
        })?;
        let Some(mut used) = self.store.break_glass_use(id.as_str()).await? else {
            return Err(AppError::Conflict(
                "This request was not taken with break-glass: there is nothing to review.".into(),
            ));
        };
        let pkg = self.configured_package(&r)?;
        check_reviewer(&used, &who.user.id, self.is_package_approver(who, pkg)).map_err(
            |e| match e {
                ReviewRefused::AlreadyReviewed => AppError::Conflict(e.to_string()),
                _ => AppError::Forbidden(e.to_string()),
            },
        )?;
        // A review is a decision: from where decisions may come.
        self.check_outer(&Ask::on(Stage::Denial, pkg, Some(who), &r))
            .await?;
        let now = self.now();
        let review = Review {
            reviewer: who.user.clone(),
            verdict,
            comment,
            at: now,
        };
        let mut tx = self.store.begin().await?;
        if !tx.review_break_glass(&r.id, &review).await? {
            return Err(AppError::Conflict(
                ReviewRefused::AlreadyReviewed.to_string(),
            ));
        }
        let e = event(
            Some(who),
            AuditAction::BreakGlassReviewed,
            &r,
            now,
            json!({
                "verdict": verdict.as_str(),
                "comment": review.comment,
                "used_at": used.used_at,
                "review_due": used.review_due,
                "late": used.overdue(now),
            }),
        );
        self.outbox.record(&mut *tx, e, Some(&r)).await?;
        tx.commit().await?;
        self.notify();
        tracing::info!(request = %r.id, verdict = verdict.as_str(), "break-glass reviewed");
        used.review = Some(review);
        Ok((r, used))
    }

    /// The break-glass uses `who` may review now (of the packages they approve, never their
    /// own), the first due first: for the approvals page and queue.
    pub async fn break_glass_to_review(&self, who: &Principal) -> AppResult<Vec<BreakGlassEntry>> {
        if who.requests_only() {
            return Ok(Vec::new());
        }
        let now = self.now();
        let mut out = Vec::new();
        for used in self.store.unreviewed_break_glass(200).await? {
            let mine = self
                .package(&used.package)
                .is_some_and(|p| self.is_package_approver(who, p));
            if !mine || check_reviewer(&used, &who.user.id, true).is_err() {
                continue;
            }
            let request = self.store.get_request(&used.request_id).await?;
            out.push(BreakGlassEntry {
                overdue: used.overdue(now),
                used,
                request,
            });
        }
        Ok(out)
    }

    /// Break-glass uses waiting for a review, the first due first, with their grants: for
    /// admins and auditors.
    pub async fn unreviewed_break_glass(&self, who: &Principal) -> AppResult<Vec<BreakGlassEntry>> {
        self.require_any(
            who,
            &[Role::Admin, Role::Auditor],
            "Break-glass awaiting review",
        )?;
        let now = self.now();
        let mut out = Vec::new();
        for used in self.store.unreviewed_break_glass(200).await? {
            let request = self.store.get_request(&used.request_id).await?;
            out.push(BreakGlassEntry {
                overdue: used.overdue(now),
                used,
                request,
            });
        }
        Ok(out)
    }
}
